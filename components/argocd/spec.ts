/**
 * Pure helpers of the ArgoCD component: chart pin, Helm values, RBAC policy, AppProjects, the root app-of-apps
 * and the repository Secret, as plain objects.
 */
import { stringify } from 'yaml';
import { NS, PLATFORM_NAMESPACE_NAMES, packNamespaceClash } from '../cluster/namespaces.js';

/** The argo-cd Helm chart, pinned (chart 8.6.2 ships Argo CD v3.1.8). */
export const ARGOCD_CHART = { chart: 'argo-cd', version: '8.6.2', repo: 'https://argoproj.github.io/argo-helm', appVersion: 'v3.1.8' } as const;

export const IN_CLUSTER = 'https://kubernetes.default.svc';
export const OIDC_SECRET_NAME = 'argocd-oidc-client';
export const OIDC_SECRET_KEY = 'clientSecret';
export const OIDC_CLIENT_ID = 'argocd';
export const GITOPS_REPO_SECRET_NAME = 'gitops-repository';
export const PROJECT_FOUNDATION = 'foundation';
export const PROJECT_PACKS = 'packs';
/** Project of the root app-of-apps: may only put Application objects into the pack-apps namespace. */
export const PROJECT_PACK_CATALOG = 'pack-catalog';
export const ROOT_APP_NAME = 'packs';
export const APP_FINALIZER = 'resources-finalizer.argocd.argoproj.io';

/** The label of the platform layer an Application belongs to; the foundation's children carry LAYER_LABEL=foundation. */
export const LAYER_LABEL = 'nkp.nebari.dev/layer';
export const FOUNDATION_LAYER = 'foundation';
/** The layer of the cloud's in-cluster add-ons (components/cloud/aws-addons-plan.ts). */
export const CLOUD_LAYER = 'cloud';

/**
 * Health of a CloudNativePG Cluster (argocd-cm `resource.customizations.health.postgresql.cnpg.io_Cluster`), in
 * place of Argo CD v3.1.8's built-in check, which reads `status.phaseReason` without checking that a status exists:
 * a Cluster the CloudNativePG operator has not reported on yet (every new one, for a moment) then fails the whole
 * comparison of its Application with a ComparisonError, and the sync of the Keycloak database fails with it and is
 * retried, holding the foundation. This one says Progressing until the operator reports; a phase it reports maps as
 * CloudNativePG documents it (healthy, in progress, needing attention, needing a person); hibernation is Suspended.
 */
export const CNPG_CLUSTER_HEALTH_LUA = `local hs = { status = "Progressing", message = "waiting for the CloudNativePG operator to report on this cluster" }
local st = obj.status
if st == nil then return hs end
if st.conditions ~= nil then
  for _, c in ipairs(st.conditions) do
    if c.type == "cnpg.io/hibernation" and c.status == "True" then
      return { status = "Suspended", message = c.message or "hibernated" }
    end
  end
end
if st.phase == nil then return hs end
local attention = { ["Switchover in progress"] = true, ["Failing over"] = true, ["Waiting for user action"] = true,
  ["Cluster upgrade delayed"] = true, ["Primary instance is being restarted in-place"] = true,
  ["Primary instance is being restarted without a switchover"] = true, ["Applying configuration"] = true,
  ["Online upgrade in progress"] = true, ["Upgrading Postgres major version"] = true }
local stuck = { ["Unable to create required cluster objects"] = true, ["Cluster is unrecoverable and needs manual intervention"] = true,
  ["Cluster has incomplete or invalid image catalog"] = true, ["Cluster cannot proceed to reconciliation due to an unknown plugin being required"] = true }
local message = st.phase
if st.phaseReason ~= nil and st.phaseReason ~= "" then message = st.phase .. ": " .. st.phaseReason end
if st.phase == "Cluster in healthy state" then return { status = "Healthy", message = message } end
if stuck[st.phase] then return { status = "Suspended", message = message } end
if attention[st.phase] then return { status = "Degraded", message = message } end
return { status = "Progressing", message = message }
`;

/**
 * Health of an Application as its parent app-of-apps sees it (argocd-cm
 * `resource.customizations.health.argoproj.io_Application`). Argo CD has no built-in health for Applications, so
 * without it a parent's sync waves gate nothing. A child counts as Healthy only when it is Healthy and Synced: a
 * child Healthy with its manifests not yet applied (or failing to render) holds the next wave back. Only the
 * foundation's children are judged: every other Application (the packs the root app-of-apps syncs) stays Healthy as
 * Argo CD has it without this check, so one broken pack never holds back the sync of the others.
 */
export const APPLICATION_HEALTH_LUA = `-- Argo CD's Lua sandbox has no string library: error conditions are listed by name.
local errors = { ComparisonError = true, InvalidSpecError = true, SyncError = true, UnknownError = true }
local labels = obj.metadata.labels
if labels == nil or labels["${LAYER_LABEL}"] ~= "${FOUNDATION_LAYER}" then
  return { status = "Healthy", message = "" }
end
local hs = { status = "Progressing", message = "waiting for the Application's first sync" }
if obj.status == nil then return hs end
if obj.status.conditions ~= nil then
  for _, c in ipairs(obj.status.conditions) do
    if c.type ~= nil and errors[c.type] then
      hs.status = "Degraded"
      hs.message = c.type .. ": " .. (c.message or "")
      return hs
    end
  end
end
local health = obj.status.health
local sync = obj.status.sync
if health ~= nil and health.status ~= nil and health.status ~= "Healthy" then
  hs.status = health.status
  hs.message = health.message or ("the Application is " .. health.status)
  return hs
end
if sync == nil or sync.status ~= "Synced" then
  hs.message = "the Application is " .. ((sync ~= nil and sync.status) or "not synced yet")
  return hs
end
if health ~= nil and health.status == "Healthy" then
  hs.status = "Healthy"
  hs.message = ""
end
return hs
`;

/** Automated sync with prune and self-heal, server-side apply, and retries with back-off. */
export function syncPolicy(createNamespace = false) {
    return {
        automated: { prune: true, selfHeal: true },
        syncOptions: ['ServerSideApply=true', ...(createNamespace ? ['CreateNamespace=true'] : []), 'PruneLast=true'],
        retry: { limit: 10, backoff: { duration: '10s', factor: 2, maxDuration: '5m' } },
    };
}

export interface ApplicationSource {
    repoURL: string;
    targetRevision: string;
    chart?: string;
    path?: string;
    helm?: { releaseName?: string; valuesObject?: Record<string, unknown> };
    kustomize?: { images?: string[]; patches?: { target: Record<string, string>; patch: string }[] };
}

export interface ApplicationBody {
    apiVersion: 'argoproj.io/v1alpha1';
    kind: 'Application';
    metadata: { name: string; namespace: string; labels: Record<string, string>; annotations?: Record<string, string>; finalizers: string[] };
    spec: {
        project: string;
        source: ApplicationSource;
        destination: { server: string; namespace: string };
        syncPolicy: ReturnType<typeof syncPolicy>;
        ignoreDifferences?: unknown[];
    };
}

const FLOATING = /^(head|main|master|latest|stable|\*)$/i;

/** Throws unless a revision is exact: no HEAD, branch-like names, wildcards or ranges. */
export function assertPinnedRevision(app: string, rev: string): void {
    if (rev.trim() === '' || FLOATING.test(rev.trim()) || /[*^~<>]|(^|\.)x(\.|$)/i.test(rev)) {
        throw new Error(`Application ${app}: targetRevision "${rev}" is not pinned; allowed: an exact chart version or a git tag/commit`);
    }
}

/**
 * An Application the platform program owns (the foundation's children, the AWS add-ons): in the argocd namespace,
 * labelled part-of nkp with its layer ({@link LAYER_LABEL}), the resources finalizer (deleting it deletes what it
 * synced), a pinned source, and the platform's sync policy into an in-cluster namespace the baseline owns (never
 * created by Argo CD).
 */
export function platformApplication(a: {
    name: string;
    layer: string;
    project: string;
    source: ApplicationSource;
    namespace: string;
    annotations?: Record<string, string>;
    extra?: Partial<ApplicationBody['spec']>;
}): ApplicationBody {
    assertPinnedRevision(a.name, a.source.targetRevision);
    return {
        apiVersion: 'argoproj.io/v1alpha1',
        kind: 'Application',
        metadata: {
            name: a.name,
            namespace: NS.argocd,
            labels: { 'app.kubernetes.io/part-of': 'nkp', [LAYER_LABEL]: a.layer },
            ...(a.annotations ? { annotations: a.annotations } : {}),
            // deleting it deletes what it synced (a parent: its child Applications, and each child's finalizer theirs)
            finalizers: [APP_FINALIZER],
        },
        spec: {
            project: a.project,
            source: a.source,
            destination: { server: IN_CLUSTER, namespace: a.namespace },
            syncPolicy: syncPolicy(false),
            ...a.extra,
        },
    };
}

/** ArgoCD RBAC: admins get role:admin, viewers role:readonly; nobody else gets anything (policy.default empty). */
export function rbacPolicyCsv(adminGroups: readonly string[], viewerGroups: readonly string[]): string {
    const esc = (g: string) => {
        if (!/^[A-Za-z0-9._:/-]+$/.test(g)) throw new Error(`ArgoCD RBAC group "${g}" contains characters policy.csv cannot hold; allowed: letters, digits and . _ : / -`);
        return g;
    };
    return [...adminGroups.map((g) => `g, ${esc(g)}, role:admin`), ...viewerGroups.map((g) => `g, ${esc(g)}, role:readonly`)].join('\n') + '\n';
}

const resources = (cpu: string, memory: string, cpuLimit: string, memoryLimit: string) => ({ requests: { cpu, memory }, limits: { cpu: cpuLimit, memory: memoryLimit } });

export interface ArgoCDValuesInput {
    hostname: string;
    issuerURL: string;
    adminGroups: readonly string[];
    viewerGroups: readonly string[];
    ha: boolean;
    /** PEM of a CA ArgoCD must trust for the issuer (local clusters' CA); absent: the system trust store. */
    rootCA?: string;
}

/** A PEM certificate (one or more CERTIFICATE blocks), or an error saying what was given instead. */
export function assertPemCertificate(pem: string): string {
    if (!/^-----BEGIN CERTIFICATE-----\r?\n[\s\S]+?\r?\n-----END CERTIFICATE-----\s*$/.test(pem.trim() + '\n')) {
        throw new Error('ArgoCD oidc rootCA must be a PEM certificate (-----BEGIN CERTIFICATE----- ... -----END CERTIFICATE-----)');
    }
    return pem;
}

/** Helm values of the argo-cd chart. */
export function argocdValues(i: ArgoCDValuesInput): Record<string, unknown> {
    const replicas = i.ha ? 2 : 1;
    const oidcConfig = stringify({
        name: 'Keycloak',
        issuer: i.issuerURL,
        clientID: OIDC_CLIENT_ID,
        clientSecret: `$${OIDC_SECRET_NAME}:${OIDC_SECRET_KEY}`,
        requestedScopes: ['openid', 'profile', 'email'],
        requestedIDTokenClaims: { groups: { essential: true } },
        // The Keycloak client `argocd` requires PKCE (S256); Argo CD v3 sends a code challenge only with this set
        // (util/settings OIDCConfig.EnablePKCEAuthentication; util/oidc HandleLogin).
        enablePKCEAuthentication: true,
        ...(i.rootCA !== undefined ? { rootCA: assertPemCertificate(i.rootCA) } : {}),
    });
    return {
        global: { domain: i.hostname },
        crds: { install: true, keep: true },
        dex: { enabled: false },
        configs: {
            cm: {
                url: `https://${i.hostname}`,
                'oidc.config': oidcConfig,
                'admin.enabled': false,
                'users.anonymous.enabled': false,
                'exec.enabled': false,
                'application.resourceTrackingMethod': 'annotation',
                // The foundation's parent Application waits for each wave of child Applications (FOUNDATION_PARENT).
                'resource.customizations.health.argoproj.io_Application': APPLICATION_HEALTH_LUA,
                // The Keycloak database's Cluster, which the foundation's gate waits on (CNPG_CLUSTER_HEALTH_LUA).
                'resource.customizations.health.postgresql.cnpg.io_Cluster': CNPG_CLUSTER_HEALTH_LUA,
            },
            params: {
                // TLS ends at the gateway; the Service is ClusterIP only.
                'server.insecure': true,
                // Pack Applications live in their own namespace and can only use projects that list it.
                'application.namespaces': NS.packApps,
                // Diff against a server-side dry-run apply: fields the API server defaults from a CRD's schema (HTTPRoute
                // backendRefs group/kind/weight, matches, NebariApp defaults) are then no difference. Without it
                // Argo CD v3.1.8 keeps Gateways, HTTPRoutes and NebariApps OutOfSync right after syncing them.
                'controller.diff.server.side': true,
            },
            rbac: { 'policy.csv': rbacPolicyCsv(i.adminGroups, i.viewerGroups), 'policy.default': '', scopes: '[groups]' },
        },
        controller: { replicas: 1, resources: resources('250m', '512Mi', '2', '2Gi') },
        server: { replicas, resources: resources('50m', '128Mi', '500m', '512Mi'), service: { type: 'ClusterIP' } },
        repoServer: { replicas, resources: resources('100m', '256Mi', '1', '1Gi') },
        applicationSet: { replicas, resources: resources('50m', '128Mi', '500m', '512Mi') },
        notifications: { enabled: true, resources: resources('25m', '64Mi', '200m', '256Mi') },
        redis: { resources: resources('50m', '64Mi', '500m', '256Mi') },
        redisSecretInit: { resources: resources('10m', '32Mi', '100m', '64Mi') },
    };
}

export interface AppProjectBody {
    apiVersion: 'argoproj.io/v1alpha1';
    kind: 'AppProject';
    metadata: { name: string; namespace: string; labels: Record<string, string>; finalizers: string[] };
    spec: {
        description: string;
        sourceRepos: string[];
        destinations: { server: string; namespace: string }[];
        clusterResourceWhitelist: { group: string; kind: string }[];
        namespaceResourceWhitelist?: { group: string; kind: string }[];
        namespaceResourceBlacklist?: { group: string; kind: string }[];
        sourceNamespaces?: string[];
        orphanedResources?: { warn: boolean };
    };
}

function project(name: string, spec: AppProjectBody['spec']): AppProjectBody {
    return {
        apiVersion: 'argoproj.io/v1alpha1',
        kind: 'AppProject',
        metadata: { name, namespace: NS.argocd, labels: { 'app.kubernetes.io/part-of': 'nkp' }, finalizers: ['resources-finalizer.argocd.argoproj.io'] },
        spec,
    };
}

/** The foundation project: platform namespaces only, cluster-scoped resources allowed (CRDs, webhooks, issuers). */
export function foundationProject(sourceRepos: readonly string[]): AppProjectBody {
    return project(PROJECT_FOUNDATION, {
        description: 'Platform foundation (cert-manager, Envoy Gateway, Keycloak, telemetry, operator, landing page); managed by Pulumi',
        sourceRepos: [...new Set(sourceRepos)].sort(),
        destinations: PLATFORM_NAMESPACE_NAMES.filter((n) => n !== NS.packApps).map((namespace) => ({ server: IN_CLUSTER, namespace })),
        clusterResourceWhitelist: [{ group: '*', kind: '*' }],
    });
}

/** Refuse pack destinations that would reach a platform or system namespace, or everything. */
export function assertPackNamespaces(namespaces: readonly string[]): void {
    for (const ns of namespaces) {
        const clash = packNamespaceClash(ns);
        if (clash !== undefined) throw new Error(`packs AppProject destination "${ns}" would reach ${clash}; allowed: pack namespaces outside the platform and system namespaces`);
    }
}

/** The packs project: only the pack namespaces, no cluster-scoped resources, Applications only from nkp-pack-apps. */
export function packsProject(input: { namespaces: readonly string[]; gitopsRepoURL: string; sourceRepos: readonly string[] }): AppProjectBody {
    assertPackNamespaces(input.namespaces);
    return project(PROJECT_PACKS, {
        description: 'Software packs, deployed from the gitops repository into pack namespaces only',
        sourceRepos: [...new Set([input.gitopsRepoURL, ...input.sourceRepos])],
        destinations: input.namespaces.map((namespace) => ({ server: IN_CLUSTER, namespace })),
        clusterResourceWhitelist: [],
        namespaceResourceBlacklist: [
            { group: '', kind: 'ResourceQuota' },
            { group: '', kind: 'LimitRange' },
        ],
        sourceNamespaces: [NS.packApps],
        orphanedResources: { warn: true },
    });
}

/** The root app-of-apps' own project: it may only write Application objects into nkp-pack-apps. */
export function packCatalogProject(gitopsRepoURL: string): AppProjectBody {
    return project(PROJECT_PACK_CATALOG, {
        description: 'The root app-of-apps: reads pack Applications from the gitops repository into nkp-pack-apps',
        sourceRepos: [gitopsRepoURL],
        destinations: [{ server: IN_CLUSTER, namespace: NS.packApps }],
        clusterResourceWhitelist: [],
        namespaceResourceWhitelist: [{ group: 'argoproj.io', kind: 'Application' }],
    });
}

export interface GitopsSource {
    repoURL: string;
    revision: string;
    path: string;
}

/** The root Application: reads packs' Applications from the stack's gitops repository. */
export function rootApplication(src: GitopsSource) {
    return {
        apiVersion: 'argoproj.io/v1alpha1',
        kind: 'Application',
        metadata: {
            name: ROOT_APP_NAME,
            namespace: NS.argocd,
            labels: { 'app.kubernetes.io/part-of': 'nkp', 'nkp.nebari.dev/layer': 'packs' },
            finalizers: [APP_FINALIZER],
        },
        spec: {
            project: PROJECT_PACK_CATALOG,
            source: { repoURL: src.repoURL, targetRevision: src.revision, path: src.path, directory: { recurse: true } },
            destination: { server: IN_CLUSTER, namespace: NS.packApps },
            syncPolicy: syncPolicy(false),
        },
    };
}

export type RepoCredentials<T> = { kind: 'none' } | { kind: 'https'; username: T; password: T } | { kind: 'ssh'; sshPrivateKey: T };

/** stringData of the gitops repository Secret. */
export function repositorySecretData<T>(url: string, creds: RepoCredentials<T>): Record<string, string | T> {
    const base = { type: 'git', name: 'gitops', url };
    switch (creds.kind) {
        case 'none':
            return base;
        case 'https':
            return { ...base, username: creds.username, password: creds.password };
        case 'ssh':
            return { ...base, sshPrivateKey: creds.sshPrivateKey };
    }
}

