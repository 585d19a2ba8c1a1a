/**
 * Kubernetes guardrails: default-deny NetworkPolicy in every platform namespace, pinned images, resource limits,
 * non-root containers without privilege escalation, LoadBalancer Services only in the gateway's namespace.
 */
import type { PolicyResource, ResourceValidationArgs, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import {
    configWithDefaults,
    describe,
    has,
    k8sName,
    k8sNamespace,
    knownArray,
    knownStrings,
    ofTypes,
    propertyDeps,
    read,
    readOr,
    schemaWithDefaults,
    type Props,
} from "./util";

export const K = {
    namespace: "kubernetes:core/v1:Namespace",
    networkPolicy: "kubernetes:networking.k8s.io/v1:NetworkPolicy",
    service: "kubernetes:core/v1:Service",
    pod: "kubernetes:core/v1:Pod",
    deployment: "kubernetes:apps/v1:Deployment",
    statefulSet: "kubernetes:apps/v1:StatefulSet",
    daemonSet: "kubernetes:apps/v1:DaemonSet",
    replicaSet: "kubernetes:apps/v1:ReplicaSet",
    job: "kubernetes:batch/v1:Job",
    cronJob: "kubernetes:batch/v1:CronJob",
} as const;

// ------------------------------------------------------------------ default-deny per platform namespace

export const defaultDenyDefaults = {
    /** Label that marks a platform namespace, and its value. */
    platformLabel: "app.kubernetes.io/part-of",
    platformLabelValue: "nkp",
};

/** True when a NetworkPolicy spec selects every pod and allows no ingress (a default-deny-ingress policy). */
export function isDefaultDenyIngress(spec: Props | undefined): boolean {
    if (!spec) return false;
    const sel = readOr(() => spec["podSelector"], undefined) as Props | undefined;
    if (sel === undefined) return false;
    const labels = readOr(() => sel["matchLabels"], undefined);
    const exprs = readOr(() => sel["matchExpressions"], undefined);
    const emptySelector =
        (labels === undefined || labels === null || Object.keys(labels as object).length === 0) &&
        (exprs === undefined || exprs === null || (Array.isArray(exprs) && exprs.length === 0));
    if (!emptySelector) return false;
    const types = read(() => spec["policyTypes"]);
    if (!types.known) return false;
    // Kubernetes defaults policyTypes to ["Ingress"] (plus Egress when egress rules exist).
    const ingressType = types.value === undefined || types.value === null || knownStrings(() => spec["policyTypes"]).includes("Ingress");
    const ingress = read(() => spec["ingress"]);
    const noRules = ingress.known && (ingress.value === undefined || ingress.value === null || (Array.isArray(ingress.value) && ingress.value.length === 0));
    return ingressType && noRules;
}

function inNamespace(np: PolicyResource, ns: PolicyResource): boolean {
    const name = k8sName(ns.props);
    if (name !== undefined && k8sNamespace(np.props) === name) return true;
    return propertyDeps(np, "metadata").includes(ns);
}

export const namespaceDefaultDeny: StackValidationPolicy = {
    name: "k8s-namespace-default-deny",
    description:
        "Every platform namespace (label app.kubernetes.io/part-of=nkp) has a default-deny ingress NetworkPolicy: empty podSelector, policyTypes [Ingress], no ingress rules.",
    enforcementLevel: "mandatory",
    configSchema: schemaWithDefaults(defaultDenyDefaults, {
        platformLabel: { type: "string", minLength: 1, description: "label key that marks a platform namespace" },
        platformLabelValue: { type: "string", minLength: 1, description: "value of that label" },
    }),
    validateStack: (args, reportViolation) => {
        const cfg = configWithDefaults(args, defaultDenyDefaults);
        const policies = ofTypes(args, K.networkPolicy);
        for (const ns of ofTypes(args, K.namespace)) {
            const labels = (readOr(() => ns.props["metadata"]?.["labels"], {}) ?? {}) as Record<string, unknown>;
            if (labels[cfg.platformLabel] !== cfg.platformLabelValue) continue;
            const ok = policies.some((np) => inNamespace(np, ns) && isDefaultDenyIngress(readOr(() => np.props["spec"], undefined) as Props | undefined));
            if (!ok) {
                reportViolation(
                    `Platform namespace "${k8sName(ns.props) ?? ns.name}" has no default-deny NetworkPolicy: ` +
                        `add one with podSelector {}, policyTypes ["Ingress"] and no ingress rules, then allow what the namespace needs explicitly.`,
                    ns.urn,
                );
            }
        }
    },
};

// ------------------------------------------------------------------ containers

/** Pod spec of a workload (Deployment/StatefulSet/DaemonSet/ReplicaSet/Job/CronJob/Pod), undefined for other types. */
export function podSpecOf(type: string, props: Props): Props | undefined {
    switch (type) {
        case K.pod:
            return readOr(() => props["spec"], undefined);
        case K.deployment:
        case K.statefulSet:
        case K.daemonSet:
        case K.replicaSet:
        case K.job:
            return readOr(() => props["spec"]?.["template"]?.["spec"], undefined);
        case K.cronJob:
            return readOr(() => props["spec"]?.["jobTemplate"]?.["spec"]?.["template"]?.["spec"], undefined);
        default:
            return undefined;
    }
}

export interface ContainerView {
    kind: "container" | "initContainer";
    name: string;
    c: Props;
}

export function containersOf(spec: Props): ContainerView[] {
    const out: ContainerView[] = [];
    for (const [key, kind] of [["initContainers", "initContainer"], ["containers", "container"]] as const) {
        for (const c of knownArray(() => spec[key]) as Props[]) {
            out.push({ kind, name: String(readOr(() => c["name"], "?")), c });
        }
    }
    return out;
}

function forEachContainer(args: ResourceValidationArgs, fn: (spec: Props, c: ContainerView) => void): void {
    const spec = podSpecOf(args.type, args.props);
    if (!spec) return;
    for (const c of containersOf(spec)) fn(spec, c);
}

export const imagePinnedDefaults = {
    /** Tags that float (never a pin). */
    forbiddenTags: ["latest"],
};

/** Why an image reference is not pinned, or undefined when it has a digest or an acceptable tag. */
export function imageUnpinnedReason(image: string, forbiddenTags: string[]): string | undefined {
    if (image.includes("@sha256:") || /@[a-z0-9]+:[a-f0-9]{32,}$/.test(image)) return undefined;
    const lastSlash = image.lastIndexOf("/");
    const lastPart = image.slice(lastSlash + 1);
    const colon = lastPart.lastIndexOf(":");
    if (colon === -1) return "has no tag (Kubernetes pulls :latest)";
    const tag = lastPart.slice(colon + 1);
    if (tag === "") return "has an empty tag";
    if (forbiddenTags.includes(tag)) return `uses the floating tag :${tag}`;
    return undefined;
}

export const imagesPinned: ResourceValidationPolicy = {
    name: "k8s-image-pinned",
    description: "Every container image is pinned to a version tag or a digest: no :latest and no missing tag.",
    enforcementLevel: "mandatory",
    configSchema: schemaWithDefaults(imagePinnedDefaults, {
        forbiddenTags: { type: "array", items: { type: "string", minLength: 1 }, description: "tags that never count as a pin" },
    }),
    validateResource: (args, reportViolation) => {
        const cfg = configWithDefaults(args, imagePinnedDefaults);
        forEachContainer(args, (_spec, c) => {
            const img = read(() => c.c["image"]);
            if (!img.known) return;
            if (typeof img.value !== "string" || img.value === "") {
                reportViolation(`${describe(args)} ${c.kind} "${c.name}" has no image.`);
                return;
            }
            const why = imageUnpinnedReason(img.value, cfg.forbiddenTags);
            if (why) {
                reportViolation(`${describe(args)} ${c.kind} "${c.name}" image "${img.value}" ${why}: pin a version tag or a @sha256 digest.`);
            }
        });
    },
};

export const resourceLimitsDefaults = {
    /** Resources every container must limit. */
    requiredLimits: ["cpu", "memory"],
};

export const resourceLimits: ResourceValidationPolicy = {
    name: "k8s-resource-limits",
    description: "Every container sets resource limits (cpu and memory by default) so one workload cannot starve a node.",
    enforcementLevel: "mandatory",
    configSchema: schemaWithDefaults(resourceLimitsDefaults, {
        requiredLimits: { type: "array", items: { type: "string", minLength: 1 }, description: "resource names every container must limit" },
    }),
    validateResource: (args, reportViolation) => {
        const cfg = configWithDefaults(args, resourceLimitsDefaults);
        forEachContainer(args, (_spec, c) => {
            const limits = read(() => c.c["resources"]?.["limits"]);
            if (!limits.known) return;
            const l = (limits.value ?? {}) as Props;
            const missing = cfg.requiredLimits.filter((k) => !has(l, k));
            if (missing.length > 0) {
                reportViolation(`${describe(args)} ${c.kind} "${c.name}" has no resources.limits.${missing.join(" / ")}: set a limit for each.`);
            }
        });
    },
};

/** Effective security setting: the container's securityContext wins over the pod's. */
function effective(spec: Props, c: Props, key: string): unknown {
    const own = read(() => c["securityContext"]?.[key]);
    if (!own.known) return "unknown";
    if (own.value !== undefined && own.value !== null) return own.value;
    return readOr(() => spec["securityContext"]?.[key], undefined);
}

/** What k8s-non-root checks of a container; an exemption names the ones a container is allowed to break. */
export type NonRootCheck = "root" | "escalation" | "privileged";

/**
 * An explicit, narrow exemption from k8s-non-root for a workload that a real component deploys and that cannot work
 * otherwise. It applies only to one object (kind, namespace, name), only when the engine registered it below the
 * given parent types (the URN's type chain ends with `parentTypes`) and its URN name ends with `urnNameSuffix` (a
 * Helm v4 Chart names its children `<chart resource>:<namespace>/<name>`), and only to the listed containers and
 * checks. Every other container of that object, every other check (and every other policy: limits, pinned images)
 * still applies.
 */
export interface NonRootExemption {
    id: string;
    why: string;
    type: string;
    namespace: string;
    name: string;
    parentTypes: readonly string[];
    urnNameSuffix: string;
    containers: Readonly<Record<string, readonly NonRootCheck[]>>;
}

export const NON_ROOT_EXEMPTIONS: readonly NonRootExemption[] = [
    {
        id: "hcloud-csi-node",
        why:
            "the Hetzner CSI node plugin mounts volumes for pods on the host (/var/lib/kubelet with Bidirectional mount propagation and /dev, which need a privileged container) and its sidecars register and probe the driver's socket in the kubelet's root-owned plugin directories",
        type: K.daemonSet,
        namespace: "kube-system",
        name: "hcloud-csi-node",
        parentTypes: ["nkp:cloud:HetznerCloud", "kubernetes:helm.sh/v4:Chart"],
        urnNameSuffix: "-hcloud-csi:kube-system/hcloud-csi-node",
        containers: {
            "hcloud-csi-driver": ["root", "escalation", "privileged"],
            "csi-node-driver-registrar": ["root", "escalation"],
            "liveness-probe": ["root", "escalation"],
        },
    },
    {
        id: "hcloud-csi-controller",
        why:
            "the Hetzner CSI controller chart sets no container securityContext (so no allowPrivilegeEscalation: false); the program runs its pod as a non-root user (controller.podSecurityContext, components/cloud/hetzner-plan.ts csiValues), so only the escalation check is waived",
        type: K.deployment,
        namespace: "kube-system",
        name: "hcloud-csi-controller",
        parentTypes: ["nkp:cloud:HetznerCloud", "kubernetes:helm.sh/v4:Chart"],
        urnNameSuffix: "-hcloud-csi:kube-system/hcloud-csi-controller",
        containers: { "hcloud-csi-driver": ["escalation"], "csi-attacher": ["escalation"], "csi-resizer": ["escalation"], "csi-provisioner": ["escalation"], "liveness-probe": ["escalation"] },
    },
    {
        id: "hcloud-cloud-controller-manager",
        why:
            "the Hetzner cloud-controller-manager chart (hcloud-cloud-controller-manager) offers no securityContext setting, so its one container runs as the image's user without allowPrivilegeEscalation: false; it is not privileged",
        type: K.deployment,
        namespace: "kube-system",
        name: "hcloud-cloud-controller-manager",
        parentTypes: ["nkp:cloud:HetznerCloud", "kubernetes:helm.sh/v4:Chart"],
        urnNameSuffix: "-hcloud-ccm:kube-system/hcloud-cloud-controller-manager",
        containers: { "hcloud-cloud-controller-manager": ["root", "escalation"] },
    },
];

/** The exemption covering this resource, if any (see {@link NonRootExemption} for what must match). */
export function nonRootExemptionFor(args: { type: string; urn: string; props: Props }, exemptions: readonly NonRootExemption[] = NON_ROOT_EXEMPTIONS): NonRootExemption | undefined {
    const [, , typeChain = "", ...nameParts] = args.urn.split("::");
    const urnName = nameParts.join("::");
    const parents = typeChain.split("$").slice(0, -1);
    return exemptions.find(
        (e) =>
            e.type === args.type &&
            k8sNamespace(args.props) === e.namespace &&
            k8sName(args.props) === e.name &&
            urnName.endsWith(e.urnNameSuffix) &&
            parents.length >= e.parentTypes.length &&
            e.parentTypes.every((t, i) => parents[parents.length - e.parentTypes.length + i] === t),
    );
}

export const nonRootContainers: ResourceValidationPolicy = {
    name: "k8s-non-root",
    description:
        "Every container runs as a non-root user (runAsNonRoot: true or a non-zero runAsUser), is not privileged and sets allowPrivilegeEscalation: false. Exempt (only the named containers and checks): the workloads of the Hetzner CSI and cloud-controller-manager charts the HetznerCloud component installs (NON_ROOT_EXEMPTIONS).",
    enforcementLevel: "mandatory",
    validateResource: (args, reportViolation) => {
        const exemption = nonRootExemptionFor(args);
        forEachContainer(args, (spec, c) => {
            const allowed = exemption?.containers[c.name] ?? [];
            const problems: string[] = [];
            const nonRoot = effective(spec, c.c, "runAsNonRoot");
            const user = effective(spec, c.c, "runAsUser");
            const rootOk = nonRoot === true || nonRoot === "unknown" || (typeof user === "number" && user > 0) || user === "unknown";
            if ((!rootOk || user === 0) && !allowed.includes("root")) problems.push("may run as root (set securityContext.runAsNonRoot: true, runAsUser > 0)");
            const privileged = readOr(() => c.c["securityContext"]?.["privileged"], false) === true;
            const esc = readOr(() => c.c["securityContext"]?.["allowPrivilegeEscalation"], false);
            if (esc !== false && !allowed.includes("escalation")) problems.push("allows privilege escalation (set securityContext.allowPrivilegeEscalation: false)");
            if (privileged && !allowed.includes("privileged")) problems.push("is privileged (remove securityContext.privileged)");
            if (problems.length > 0) reportViolation(`${describe(args)} ${c.kind} "${c.name}" ${problems.join("; ")}.`);
        });
    },
};

// ------------------------------------------------------------------ LoadBalancer Services

export const loadBalancerDefaults = {
    /** The only namespace whose Services may be of type LoadBalancer (the gateway's). */
    gatewayNamespace: "envoy-gateway-system",
};

export const noLoadBalancerOutsideGateway: ResourceValidationPolicy = {
    name: "k8s-loadbalancer-only-gateway",
    description:
        "Only the gateway's namespace (envoy-gateway-system by default) has Services of type LoadBalancer; everything else is reached through the gateway.",
    enforcementLevel: "mandatory",
    configSchema: schemaWithDefaults(loadBalancerDefaults, {
        gatewayNamespace: { type: "string", minLength: 1, description: "namespace allowed to have LoadBalancer Services" },
    }),
    validateResource: (args, reportViolation) => {
        if (args.type !== K.service) return;
        if (readOr(() => args.props["spec"]?.["type"], undefined) !== "LoadBalancer") return;
        const cfg = configWithDefaults(args, loadBalancerDefaults);
        const ns = read(() => args.props["metadata"]?.["namespace"]);
        if (!ns.known) return;
        const namespace = typeof ns.value === "string" && ns.value !== "" ? ns.value : "default";
        if (namespace !== cfg.gatewayNamespace) {
            reportViolation(
                `${describe(args)} is of type LoadBalancer in namespace "${namespace}": only "${cfg.gatewayNamespace}" may expose LoadBalancers; route it through the gateway (HTTPRoute/NebariApp) instead.`,
            );
        }
    },
};

export const kubernetesPolicies = [namespaceDefaultDeny, imagesPinned, resourceLimits, nonRootContainers, noLoadBalancerOutsideGateway];
