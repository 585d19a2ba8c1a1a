/**
 * Argo CD from the pinned release's own install manifest (`manifests/install.yaml` of the release, e.g. from the
 * argo-cd v3 Go module or the release page), for clusters that cannot reach the argo-helm chart repository
 * (air-gapped installs, the embedded cluster). Pure: the release's objects in, the objects Pulumi applies out,
 * carrying the very settings the chart gets from {@link argocdValues} (one source of truth for both routes).
 */
// js-yaml, not the `yaml` package the rest of the repository uses: the release's install.yaml (1.4 MB) is parsed on
// every program run, and js-yaml does it in a quarter of the CPU time (0.16 s against 0.7 s here; both YAML 1.2).
import { loadAll } from 'js-yaml';
import { NS } from '../cluster/namespaces.js';
import { ARGOCD_CHART } from './spec.js';

/** A Kubernetes object as parsed from YAML. */
export interface KubeObject {
    apiVersion: string;
    kind: string;
    metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string>; [k: string]: unknown };
    [k: string]: unknown;
}

/** The Argo CD image of the pinned release: the manifest must run exactly it. */
export const ARGOCD_IMAGE = `quay.io/argoproj/argocd:${ARGOCD_CHART.appVersion}`;

/** Cluster-scoped kinds in the install manifest; every other object goes into the argocd namespace. */
const CLUSTER_SCOPED = new Set(['CustomResourceDefinition', 'ClusterRole', 'ClusterRoleBinding']);

/** Settings the manifests route takes from the chart values (configs.cm / params / rbac, replicas, resources). */
export interface ArgoCDChartLikeValues {
    configs: { cm: Record<string, unknown>; params: Record<string, unknown>; rbac: Record<string, unknown> };
    controller: { replicas: number; resources: object };
    server: { replicas: number; resources: object };
    repoServer: { replicas: number; resources: object };
    applicationSet: { replicas: number; resources: object };
    notifications: { enabled: boolean; resources: object };
    redis: { resources: object };
    redisSecretInit: { resources: object };
    dex: { enabled: boolean };
}

/** Workload name -> where its replicas and each container's resources come from in the values. */
function workloadSettings(v: ArgoCDChartLikeValues): Record<string, { replicas?: number; containers: Record<string, object> }> {
    const init = v.redisSecretInit.resources;
    return {
        'argocd-application-controller': { replicas: v.controller.replicas, containers: { 'argocd-application-controller': v.controller.resources } },
        'argocd-server': { replicas: v.server.replicas, containers: { 'argocd-server': v.server.resources } },
        'argocd-repo-server': { replicas: v.repoServer.replicas, containers: { 'argocd-repo-server': v.repoServer.resources, copyutil: init } },
        'argocd-applicationset-controller': { replicas: v.applicationSet.replicas, containers: { 'argocd-applicationset-controller': v.applicationSet.resources } },
        'argocd-notifications-controller': { containers: { 'argocd-notifications-controller': v.notifications.resources } },
        'argocd-redis': { containers: { redis: v.redis.resources, 'secret-init': init } },
    };
}

/** ConfigMap values are strings: booleans and numbers as the chart writes them. */
function stringData(o: Record<string, unknown>): Record<string, string> {
    return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]));
}

/** Name of Argo CD's main settings ConfigMap (read by name, and only with the part-of label below). */
export const ARGOCD_CM_NAME = 'argocd-cm';

/**
 * argocd-cm as its own object (metadata here, data from {@link argocdCmData}). The platform applies it apart from the chart or the
 * release manifest: it carries the issuer's CA (oidc.config rootCA), which on local clusters exists only once the
 * program has created the CA, and keeping that one value out of the install lets a preview of a new stack render
 * (and the policy pack check) every other object of Argo CD. Argo CD watches ConfigMaps labelled part-of=argocd.
 */
export const ARGOCD_CM_METADATA = {
    name: ARGOCD_CM_NAME,
    namespace: NS.argocd,
    labels: { 'app.kubernetes.io/name': ARGOCD_CM_NAME, 'app.kubernetes.io/part-of': 'argocd' },
} as const;

/** argocd-cm's data: the values' configs.cm as ConfigMap strings. */
export function argocdCmData(values: Pick<ArgoCDChartLikeValues, 'configs'>): Record<string, string> {
    return stringData(values.configs.cm);
}

/** The chart's values without argocd-cm (`configs.cm.create: false`): that ConfigMap is applied apart ({@link ARGOCD_CM_METADATA}). */
export function chartValuesWithoutCm<V extends { configs: object }>(values: V): V {
    return { ...values, configs: { ...values.configs, cm: { create: false } } };
}

/** Parse a multi-document manifest; empty documents are dropped; a YAML error names the source. */
export function parseManifest(text: string, source: string): KubeObject[] {
    let docs: unknown[];
    try {
        docs = loadAll(text);
    } catch (e) {
        throw new Error(`${source}: not valid YAML (${String((e as Error).message).split('\n')[0]})`);
    }
    const out: KubeObject[] = [];
    for (const doc of docs) {
        const o = doc as KubeObject | null | undefined;
        if (o === null || o === undefined) continue;
        if (typeof o.kind !== 'string' || typeof o.metadata?.name !== 'string') throw new Error(`${source}: a document without kind or metadata.name`);
        out.push(o);
    }
    return out;
}

/** Workloads of the install manifest the platform sizes (replicas and each container's requests/limits). */
export const ARGOCD_WORKLOADS = ['argocd-application-controller', 'argocd-server', 'argocd-repo-server', 'argocd-applicationset-controller', 'argocd-notifications-controller', 'argocd-redis', 'argocd-dex-server'] as const;

type PodSpec = { containers?: Container[]; initContainers?: Container[] };
const podOf = (o: KubeObject): PodSpec | undefined => (o['spec'] as { template?: { spec?: PodSpec } } | undefined)?.template?.spec;

/**
 * Pure: the manifest is the pinned release: every Argo CD container runs {@link ARGOCD_IMAGE} and every workload is
 * one the platform knows how to size. Throws an error naming the file and what it expected.
 */
export function assertArgocdRelease(objs: readonly KubeObject[], source: string): void {
    const images = new Set<string>();
    for (const o of objs) {
        const pod = podOf(o);
        if (pod === undefined) continue;
        if (!(ARGOCD_WORKLOADS as readonly string[]).includes(o.metadata.name)) {
            throw new Error(`${source}: workload ${o.kind}/${o.metadata.name} is not one of Argo CD ${ARGOCD_CHART.appVersion}'s (${ARGOCD_WORKLOADS.join(', ')}); argocdManifestsPath must be that release's install.yaml`);
        }
        for (const c of [...(pod.containers ?? []), ...(pod.initContainers ?? [])]) if (c.image.startsWith('quay.io/argoproj/argocd')) images.add(c.image);
    }
    const wrong = [...images].filter((i) => i !== ARGOCD_IMAGE);
    if (images.size === 0 || wrong.length > 0) {
        throw new Error(`${source}: argocdManifestsPath must be the install.yaml of Argo CD ${ARGOCD_CHART.appVersion} (runs ${ARGOCD_IMAGE}); it runs ${wrong.length > 0 ? wrong.join(', ') : 'no Argo CD image'}`);
    }
}

/**
 * The objects to apply from the release's install manifest (checked by {@link assertArgocdRelease}):
 * - Dex is left out when the values disable it (sign-in goes to Keycloak directly), notifications likewise;
 * - argocd-cmd-params-cm and argocd-rbac-cm carry the values' configs; argocd-cm is left out (applied apart, see
 *   {@link ARGOCD_CM_METADATA}); replicas and every container's
 *   requests/limits come from the values (the policy pack requires limits);
 * - namespaced objects go into the argocd namespace (the manifest leaves that to `kubectl -n`).
 * CRDs are returned apart: the caller keeps them on delete, like the chart's `crds.keep`.
 */
export function argocdManifestObjects(objs: readonly KubeObject[], values: ArgoCDChartLikeValues, source: string): { crds: KubeObject[]; objects: KubeObject[] } {
    assertArgocdRelease(objs, source);
    const crds: KubeObject[] = [];
    const objects: KubeObject[] = [];
    const settings = workloadSettings(values);
    const configs: Record<string, Record<string, unknown>> = { 'argocd-cmd-params-cm': values.configs.params, 'argocd-rbac-cm': values.configs.rbac };
    for (const original of objs) {
        const o = structuredClone(original) as KubeObject;
        const name = o.metadata.name;
        if (!values.dex.enabled && name.startsWith('argocd-dex-server')) continue;
        if (!values.notifications.enabled && name.startsWith('argocd-notifications')) continue;
        if (o.kind === 'ConfigMap' && name === ARGOCD_CM_NAME) continue;
        if (o.kind === 'CustomResourceDefinition') {
            crds.push(o);
            continue;
        }
        if (!CLUSTER_SCOPED.has(o.kind)) o.metadata.namespace = NS.argocd;
        if (o.kind === 'ConfigMap' && name in configs) o['data'] = stringData(configs[name]!);
        const pod = podOf(o);
        const s = settings[name];
        if (pod !== undefined && s !== undefined) {
            if (s.replicas !== undefined) (o['spec'] as { replicas?: number }).replicas = s.replicas;
            for (const c of [...(pod.containers ?? []), ...(pod.initContainers ?? [])]) {
                const r = s.containers[c.name];
                if (r === undefined) throw new Error(`${source}: container ${c.name} of ${o.kind}/${name} has no resources in the platform's Argo CD settings`);
                c.resources = structuredClone(r);
            }
        }
        objects.push(o);
    }
    return { crds, objects };
}

interface Container {
    name: string;
    image: string;
    resources?: object;
}
