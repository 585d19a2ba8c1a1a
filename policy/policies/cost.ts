/**
 * Stack-level cost guard: the nodes a stack can scale to, and the machine types it uses, stay within limits the
 * platform owner sets in this policy's config.
 */
import type { PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import { configWithDefaults, describe, has, knownStrings, read, readOr, schemaWithDefaults, type Props } from "./util";

export const C = {
    eksNodeGroup: "aws:eks/nodeGroup:NodeGroup",
    eksManagedNodeGroup: "eks:index:ManagedNodeGroup",
    eksNodeGroupV2: "eks:index:NodeGroupV2",
    eksNodeGroupV1: "eks:index:NodeGroup",
    eksComponent: "eks:index:Cluster",
    hcloudServer: "hcloud:index/server:Server",
} as const;

export const costGuardDefaults = {
    /** Upper bound on the sum of every node group's maxSize plus every Hetzner server. */
    maxNodeInstances: 30,
    /** EC2 instance types node groups may use. */
    allowedInstanceTypes: [
        "t3.medium", "t3.large", "t3.xlarge", "t3a.medium", "t3a.large", "t3a.xlarge",
        "m6i.large", "m6i.xlarge", "m6i.2xlarge", "m7i.large", "m7i.xlarge", "m7i.2xlarge",
        "m6a.large", "m6a.xlarge", "m6a.2xlarge", "m7a.large", "m7a.xlarge", "m7a.2xlarge",
        "r6i.large", "r6i.xlarge", "r7i.large", "r7i.xlarge",
        "g5.xlarge", "g5.2xlarge", "g6.xlarge", "g6.2xlarge",
    ],
    /** Hetzner server types servers may use. */
    allowedServerTypes: [
        "cx22", "cx32", "cx42", "cx23", "cx33", "cx43",
        "cpx21", "cpx31", "cpx41", "cpx22", "cpx32", "cpx42",
        "cax21", "cax31", "cax41", "ccx13", "ccx23", "ccx33",
    ],
};

/** Max instances and instance types one node-running resource contributes; undefined for other resources. */
export function nodeCapacity(r: { type: string; props: Props }): { max: number | undefined; types: string[] } | undefined {
    const p = r.props;
    const num = (get: () => unknown, dflt: number | undefined): number | undefined => {
        const v = read(get);
        if (!v.known) return undefined;
        if (v.value === undefined || v.value === null) return dflt;
        const n = Number(v.value);
        return Number.isFinite(n) ? n : undefined;
    };
    switch (r.type) {
        case C.eksNodeGroup:
        case C.eksManagedNodeGroup: {
            const types = has(p, "instanceTypes") ? knownStrings(() => p["instanceTypes"]) : ["t3.medium"];
            return { max: num(() => p["scalingConfig"]?.["maxSize"], undefined), types };
        }
        case C.eksNodeGroupV2:
        case C.eksNodeGroupV1: {
            const t = readOr(() => p["instanceType"], undefined) ?? "t2.medium";
            return { max: num(() => p["maxSize"], 2), types: typeof t === "string" ? [t] : [] };
        }
        case C.eksComponent: {
            if (readOr(() => p["skipDefaultNodeGroup"], false) === true) return undefined;
            const opts = (readOr(() => p["nodeGroupOptions"], undefined) ?? {}) as Props;
            // @pulumi/eks defaults the default node group to t2.medium.
            const t = readOr(() => opts["instanceType"] ?? p["instanceType"], undefined) ?? "t2.medium";
            return { max: num(() => opts["maxSize"] ?? p["maxSize"], 2), types: typeof t === "string" ? [t] : [] };
        }
        case C.hcloudServer: {
            const t = readOr(() => p["serverType"], undefined);
            return { max: 1, types: typeof t === "string" ? [t] : [] };
        }
        default:
            return undefined;
    }
}

export const costGuard: StackValidationPolicy = {
    name: "cost-guard",
    description:
        "The stack can scale to at most maxNodeInstances nodes (sum of node group maxSize plus Hetzner servers), using only allowed instance and server types.",
    enforcementLevel: "mandatory",
    configSchema: schemaWithDefaults(costGuardDefaults, {
        maxNodeInstances: { type: "integer", minimum: 0, description: "upper bound on the stack's total node count at full scale" },
        allowedInstanceTypes: { type: "array", items: { type: "string", minLength: 1 }, description: "EC2 instance types node groups may use" },
        allowedServerTypes: { type: "array", items: { type: "string", minLength: 1 }, description: "Hetzner server types servers may use" },
    }),
    validateStack: (args, reportViolation) => {
        const cfg = configWithDefaults(args, costGuardDefaults);
        let total = 0;
        const contributors: PolicyResource[] = [];
        for (const r of args.resources) {
            const cap = nodeCapacity(r);
            if (!cap) continue;
            const hetzner = r.type === C.hcloudServer;
            const allowed = hetzner ? cfg.allowedServerTypes : cfg.allowedInstanceTypes;
            const bad = cap.types.filter((t) => !allowed.includes(t));
            if (bad.length > 0) {
                reportViolation(
                    `${describe(r)} uses ${hetzner ? "server type" : "instance type"}(s) ${bad.join(", ")}, not in this policy's ` +
                        `${hetzner ? "allowedServerTypes" : "allowedInstanceTypes"} (${allowed.join(", ")}): pick an allowed type or extend the list in the policy config.`,
                    r.urn,
                );
            }
            if (cap.max !== undefined) {
                total += cap.max;
                contributors.push(r);
            }
        }
        if (total > cfg.maxNodeInstances) {
            reportViolation(
                `The stack can scale to ${total} nodes (${contributors.map((r) => describe(r)).join(", ")}), over maxNodeInstances ${cfg.maxNodeInstances}: ` +
                    `lower node group maxSize or raise maxNodeInstances in the policy config.`,
            );
        }
    },
};

export const costPolicies = [costGuard];
