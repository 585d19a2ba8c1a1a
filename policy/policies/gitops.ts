/**
 * GitOps guardrails: ArgoCD Applications pin what they deploy and heal drift; the packs AppProject stays inside
 * the packs' own namespaces.
 */
import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import {
    configWithDefaults,
    describe,
    k8sName,
    knownArray,
    ofTypes,
    read,
    readOr,
    schemaWithDefaults,
    type Props,
} from "./util";

export const G = {
    application: "kubernetes:argoproj.io/v1alpha1:Application",
    appProject: "kubernetes:argoproj.io/v1alpha1:AppProject",
    namespace: "kubernetes:core/v1:Namespace",
} as const;

const SEMVER = /^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$/;
const COMMIT_SHA = /^[0-9a-f]{40}$/;

/**
 * Why a source's targetRevision is not a pin, or undefined when it is: charts need an exact version (semver,
 * optionally `v`-prefixed); git sources need a semver/`v` tag or a full 40-hex commit SHA.
 */
export function revisionUnpinnedReason(revision: unknown, isChart: boolean): string | undefined {
    if (revision === undefined || revision === null || revision === "") {
        return isChart ? "has no chart version (targetRevision empty: ArgoCD takes the newest)" : "has no targetRevision (ArgoCD follows HEAD)";
    }
    const r = String(revision).trim();
    if (SEMVER.test(r)) return undefined;
    if (!isChart && COMMIT_SHA.test(r)) return undefined;
    if (r === "HEAD") return "follows HEAD";
    if (isChart) return `uses the chart version range "${r}"`;
    return `tracks "${r}", a branch or moving ref`;
}

export const pinnedRevisionDefaults = {
    /**
     * Application names that may track a branch: the app-of-apps that reads the stack's own gitops repository,
     * whose branch is the desired state by design. Everything it deploys is checked where it is declared.
     */
    allowBranchTracking: [] as string[],
};

/**
 * The Applications a resource declares: the Application itself and, for an app-of-apps that carries its children
 * in its Helm values (`spec.source.helm.valuesObject.applications`, as the foundation's parent does), each child, so
 * the children are checked as strictly as if Pulumi created them. `label` names each for messages.
 */
export function declaredApplications(args: { type: string; name: string; props: Props }): { name: string; label: string; spec: Props }[] {
    if (args.type !== G.application) return [];
    const spec = readOr(() => args.props["spec"], undefined) as Props | undefined;
    if (!spec) return [];
    const own = { name: k8sName(args.props) ?? args.name, label: describe(args), spec };
    const children = knownArray(() => spec["source"]?.["helm"]?.["valuesObject"]?.["applications"]) as Props[];
    const nested = children
        .filter((c) => typeof c === "object" && c !== null && readOr(() => c["kind"], undefined) === "Application")
        .map((c) => {
            const name = String(readOr(() => c["metadata"]?.["name"], "?"));
            return { name, label: `Application ${name} (a child in ${own.label}'s values)`, spec: (readOr(() => c["spec"], {}) ?? {}) as Props };
        });
    return [own, ...nested];
}

export const applicationPinnedRevision: ResourceValidationPolicy = {
    name: "argocd-app-pinned-revision",
    description:
        "ArgoCD Applications (and the child Applications an app-of-apps carries in its values) pin what they deploy: charts to an exact version, git sources to a version tag or a 40-hex commit SHA (no HEAD, branches, ranges or *).",
    enforcementLevel: "mandatory",
    configSchema: schemaWithDefaults(pinnedRevisionDefaults, {
        allowBranchTracking: {
            type: "array",
            items: { type: "string", minLength: 1 },
            description: "Application names (metadata.name) allowed to track a branch, e.g. the gitops app-of-apps",
        },
    }),
    validateResource: (args, reportViolation) => {
        if (args.type !== G.application) return;
        const cfg = configWithDefaults(args, pinnedRevisionDefaults);
        for (const app of declaredApplications(args)) {
            const spec = app.spec;
            const single = readOr(() => spec["source"], undefined) as Props | undefined;
            const sources = single ? [single] : (knownArray(() => spec["sources"]) as Props[]);
            sources.forEach((src, i) => {
                const rev = read(() => src["targetRevision"]);
                if (!rev.known) return;
                const isChart = typeof readOr(() => src["chart"], undefined) === "string";
                const why = revisionUnpinnedReason(rev.value, isChart);
                if (!why) return;
                if (!isChart && cfg.allowBranchTracking.includes(app.name)) return;
                const where = single ? "source" : `sources[${i}]`;
                const what = isChart ? `chart "${String(readOr(() => src["chart"], ""))}"` : `repo ${String(readOr(() => src["repoURL"], "?"))}`;
                reportViolation(
                    `${app.label} ${where} (${what}) ${why}: pin ${isChart ? "an exact chart version" : "a release tag or a full commit SHA"} in targetRevision.`,
                );
            });
        }
    },
};

export const applicationSelfHeal: ResourceValidationPolicy = {
    name: "argocd-app-self-heal",
    description: "ArgoCD Applications (and the child Applications an app-of-apps carries in its values) sync automatically with selfHeal, so manual changes in the cluster are reverted.",
    enforcementLevel: "mandatory",
    validateResource: (args, reportViolation) => {
        if (args.type !== G.application) return;
        for (const app of declaredApplications(args)) {
            const automated = read(() => app.spec["syncPolicy"]?.["automated"]);
            if (!automated.known) continue;
            const a = automated.value as Props | undefined | null;
            if (!a || readOr(() => a["enabled"], true) === false) {
                reportViolation(`${app.label} has no automated sync: set spec.syncPolicy.automated with selfHeal: true.`);
                continue;
            }
            if (readOr(() => a["selfHeal"], true) !== true) {
                reportViolation(`${app.label} syncs automatically without selfHeal: set spec.syncPolicy.automated.selfHeal: true.`);
            }
        }
    },
};

// ------------------------------------------------------------------ packs AppProject

export const packsProjectDefaults = {
    /** Name of the AppProject that pack Applications use. */
    projectName: "packs",
    /** Namespaces packs may never deploy into, besides every namespace labelled as a platform namespace. */
    platformNamespaces: ["kube-system", "kube-public", "kube-node-lease", "default", "argocd", "cert-manager", "envoy-gateway-system", "keycloak"],
    /** Label that marks a platform namespace, and its value (the same as k8s-namespace-default-deny's). */
    platformLabel: "app.kubernetes.io/part-of",
    platformLabelValue: "nkp",
};

/** ArgoCD destination namespace patterns are globs (`*`, `?`): true when `pattern` matches `ns`. */
export function globMatches(pattern: string, ns: string): boolean {
    const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".")}$`);
    return re.test(ns);
}

export const packsProjectRestricted: StackValidationPolicy = {
    name: "argocd-packs-project-restricted",
    description:
        "The packs AppProject allows no cluster-scoped resources, no platform namespace and no '*' destination: packs stay in their own namespaces.",
    enforcementLevel: "mandatory",
    configSchema: schemaWithDefaults(packsProjectDefaults, {
        projectName: { type: "string", minLength: 1, description: "AppProject name used by packs" },
        platformNamespaces: { type: "array", items: { type: "string", minLength: 1 }, description: "namespaces packs may never target" },
        platformLabel: { type: "string", minLength: 1, description: "label key that marks a platform namespace" },
        platformLabelValue: { type: "string", minLength: 1, description: "value of that label" },
    }),
    validateStack: (args, reportViolation) => {
        const cfg = configWithDefaults(args, packsProjectDefaults);
        const platform = new Set(cfg.platformNamespaces);
        for (const ns of ofTypes(args, G.namespace)) {
            const labels = (readOr(() => ns.props["metadata"]?.["labels"], {}) ?? {}) as Record<string, unknown>;
            const n = k8sName(ns.props);
            if (n !== undefined && labels[cfg.platformLabel] === cfg.platformLabelValue) platform.add(n);
        }
        for (const p of ofTypes(args, G.appProject)) {
            if (k8sName(p.props) !== cfg.projectName) continue;
            const spec = (readOr(() => p.props["spec"], {}) ?? {}) as Props;
            const cluster = knownArray(() => spec["clusterResourceWhitelist"]) as Props[];
            if (cluster.length > 0) {
                const kinds = cluster.map((c) => `${String(readOr(() => c["group"], "")) || "core"}/${String(readOr(() => c["kind"], "?"))}`);
                reportViolation(
                    `AppProject "${cfg.projectName}" allows cluster-scoped resources (${kinds.join(", ")}): leave clusterResourceWhitelist empty.`,
                    p.urn,
                );
            }
            for (const d of knownArray(() => spec["destinations"]) as Props[]) {
                const nsPattern = readOr(() => d["namespace"], undefined);
                const server = readOr(() => d["server"], undefined);
                if (server === "*" || readOr(() => d["name"], undefined) === "*") {
                    reportViolation(`AppProject "${cfg.projectName}" allows destination cluster "*": name the in-cluster server.`, p.urn);
                }
                if (typeof nsPattern !== "string" || nsPattern.startsWith("!")) continue;
                if (nsPattern === "*" || nsPattern === "") {
                    reportViolation(`AppProject "${cfg.projectName}" allows destination namespace "${nsPattern}": list the packs' own namespaces.`, p.urn);
                    continue;
                }
                const hit = [...platform].filter((n) => globMatches(nsPattern, n)).sort();
                if (hit.length > 0) {
                    reportViolation(
                        `AppProject "${cfg.projectName}" destination namespace "${nsPattern}" reaches platform namespace(s) ${hit.join(", ")}: packs must stay out of them.`,
                        p.urn,
                    );
                }
            }
        }
    },
};

export const gitopsPolicies = [applicationPinnedRevision, applicationSelfHeal, packsProjectRestricted];
