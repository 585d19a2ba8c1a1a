/**
 * Argo CD's CustomResourceDefinitions, with the release's install manifest (`install.source: manifests`), as ONE
 * resource: a Node dynamic resource (`pulumi-nodejs:dynamic:Resource`, named `<argocd>-crds`) whose inputs are the
 * release, the digest of its CRDs and where the manifest is, not the CRDs themselves.
 *
 * Why not one Kubernetes resource per CRD: Argo CD's three CRDs are 430 KB of the release's 500 KB (applicationsets
 * alone 260 KB). As Kubernetes resources every byte crosses the engine's gRPC on every run, twice per `pulumi up`
 * (preview and update): the program encodes them and decodes their outputs, the CLI diffs and stores them, the
 * Kubernetes provider checks and diffs them, the policy pack decodes them for each policy. Measured on the embedded
 * stack with the real engine: a no-op `pulumi up --policy-pack` took 23.6 s with them and 12.0 s without
 * (README, "Figures"). Here a no-op run compares two digests.
 *
 * What Pulumi still does for them:
 * - create / update: server-side apply of every CRD (field manager {@link ARGOCD_CRDS_FIELD_MANAGER}, with force, the
 *   way the platform's Kubernetes objects take back fields changed out of band), then wait until each is Established.
 *   A stack whose CRDs were Kubernetes resources (before this) hands them over without a gap: the old resources are
 *   retained on delete, and the old field manager's entries are dropped so that fields a later release removes are
 *   pruned.
 * - refresh (`pulumi preview --refresh`, `pulumi up --refresh`): reads the live CRDs and compares them with the
 *   release (every label, annotation and spec value the release sets; what the API server adds is not drift). A
 *   difference becomes the `drift` output, so `preview --refresh --expect-no-changes` fails naming it and
 *   `up --refresh` re-applies.
 * - delete: nothing. They are kept, like the argo-cd chart's `crds.keep`: deleting a CRD deletes every Application.
 *
 * The kubeconfig (the same one the stack's Kubernetes provider uses) is an input and an output, both secret.
 */
// The default import (the module object itself) so that Pulumi's closure serializer, which runs crdSetDigest in the
// dynamic provider too, recognises the built-in module and emits require('crypto') for it.
import crypto from 'node:crypto';
import * as pulumi from '@pulumi/pulumi';
import { kubeRequester, type KubeRequest } from '../cluster/kube-request.js';
import type { KubeObject } from './manifests.js';

/** The field manager of the CRDs' server-side apply. */
export const ARGOCD_CRDS_FIELD_MANAGER = 'nkp-argocd-crds';
/** Field managers of a stack where the CRDs were Kubernetes resources: the Kubernetes provider's (`pulumi-kubernetes-<id>`). */
export const LEGACY_CRD_MANAGER = /^pulumi-kubernetes/;
/** At most this many differences are reported per CRD. */
export const CRD_DRIFT_LIMIT = 5;

/** Pure: what is applied of a CRD: apiVersion, kind, name, labels, annotations and spec (never a status). */
export function crdApplyBody(crd: KubeObject): KubeObject {
    const md = crd.metadata as { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
    return {
        apiVersion: crd.apiVersion,
        kind: crd.kind,
        metadata: { name: md.name, ...(md.labels ? { labels: md.labels } : {}), ...(md.annotations ? { annotations: md.annotations } : {}) },
        spec: crd['spec'],
    } as KubeObject;
}

/** Pure: the release's CRDs, in the manifest's order, as they are applied. */
export function releaseCrds(objects: readonly KubeObject[]): KubeObject[] {
    return objects.filter((o) => o.kind === 'CustomResourceDefinition').map(crdApplyBody);
}

/** Pure: sha256 of the CRDs as applied (hex): what a run compares instead of the CRDs. */
export function crdSetDigest(crds: readonly KubeObject[]): string {
    return crypto.createHash('sha256').update(JSON.stringify(crds)).digest('hex');
}

/**
 * Pure: where `live` differs from `desired`: every value `desired` sets must be in `live` as set (keys only `live` has
 * are the API server's defaults, not drift; lists must match element by element). At most `limit` differences.
 */
export function subsetDrift(desired: unknown, live: unknown, path: string, limit = CRD_DRIFT_LIMIT, out: string[] = []): string[] {
    if (out.length >= limit) return out;
    const show = (v: unknown) => (v === undefined ? 'missing' : JSON.stringify(v).slice(0, 80));
    if (Array.isArray(desired)) {
        if (!Array.isArray(live) || live.length !== desired.length) out.push(`${path}: ${Array.isArray(live) ? `${live.length} items` : show(live)}, the release has ${desired.length} items`);
        else desired.forEach((d, i) => subsetDrift(d, live[i], `${path}[${i}]`, limit, out));
    } else if (desired !== null && typeof desired === 'object') {
        if (live === null || typeof live !== 'object' || Array.isArray(live)) out.push(`${path}: ${show(live)}, the release has an object`);
        else for (const [k, v] of Object.entries(desired)) subsetDrift(v, (live as Record<string, unknown>)[k], path === '' ? k : `${path}.${k}`, limit, out);
    } else if (desired !== live) {
        out.push(`${path}: ${show(live)}, the release has ${show(desired)}`);
    }
    return out;
}

/** Pure: the drift of each CRD (`live` by name; a missing one is drift), one line each, in the release's order. */
export function crdSetDrift(desired: readonly KubeObject[], live: ReadonlyMap<string, KubeObject>): string[] {
    const out: string[] = [];
    for (const d of desired) {
        const name = d.metadata.name;
        const l = live.get(name);
        if (l === undefined) {
            out.push(`${name}: missing from the cluster`);
            continue;
        }
        const { labels, annotations } = d.metadata as { labels?: unknown; annotations?: unknown };
        const diffs = subsetDrift({ metadata: { ...(labels ? { labels } : {}), ...(annotations ? { annotations } : {}) }, spec: d['spec'] }, l, '');
        if (diffs.length > 0) out.push(`${name}: ${diffs.join('; ')}`);
    }
    return out;
}

/** Pure: managedFields without the entries of {@link LEGACY_CRD_MANAGER}; undefined when there are none to drop. */
export function withoutLegacyManagers(managedFields: readonly { manager?: string }[] | undefined): { manager?: string }[] | undefined {
    if (managedFields === undefined || !managedFields.some((m) => LEGACY_CRD_MANAGER.test(m.manager ?? ''))) return undefined;
    return managedFields.filter((m) => !LEGACY_CRD_MANAGER.test(m.manager ?? ''));
}

/** Inputs of the CRD set. */
export interface ArgoCDCrdsInputs {
    /** Argo CD's version (the release the CRDs come from). */
    release: string;
    /** {@link crdSetDigest} of the release's CRDs. */
    digest: string;
    /** Names of the CRDs, in the release's order. */
    names: string[];
    /**
     * Path of the release's install.yaml, read when applying and refreshing. A new path (another machine runs Pulumi)
     * applies again (idempotent), so that the state holds a path the next refresh on that machine can read.
     */
    manifestsPath: string;
    /** Kubeconfig of the cluster (secret). */
    kubeconfig: string;
}

/** Outputs: the inputs as applied, and what the last refresh found different in the cluster (empty when in sync). */
export interface ArgoCDCrdsOutputs extends ArgoCDCrdsInputs {
    drift: string[];
}

/** Pure: whether a run must apply the CRDs again, and why (the changed inputs; `drift` after a refresh found some). */
export function crdSetChanges(olds: Partial<ArgoCDCrdsOutputs>, news: ArgoCDCrdsInputs): string[] {
    const changed: string[] = [];
    for (const k of ['release', 'digest', 'manifestsPath', 'kubeconfig'] as const) if (olds[k] !== news[k]) changed.push(k);
    if (JSON.stringify(olds.names) !== JSON.stringify(news.names)) changed.push('names');
    if ((olds.drift ?? []).length > 0) changed.push('drift');
    return changed;
}

/**
 * The dynamic provider. Pulumi serializes these functions into the state and runs them in its dynamic-provider
 * process; libraries are loaded with `require` inside each call (the serialized code is CommonJS resolved from the
 * project's node_modules), and only create, update and read load them: a no-op run calls diff alone.
 */
export const argocdCrdsProvider: pulumi.dynamic.ResourceProvider = {
    async diff(_id: string, olds: ArgoCDCrdsOutputs, news: ArgoCDCrdsInputs) {
        return { changes: crdSetChanges(olds, news).length > 0, replaces: [], deleteBeforeReplace: false };
    },
    async create(inputs: ArgoCDCrdsInputs) {
        await applyCrdSet(inputs);
        return { id: `argocd-crds`, outs: { ...inputs, drift: [] } satisfies ArgoCDCrdsOutputs };
    },
    async update(_id: string, _olds: ArgoCDCrdsOutputs, news: ArgoCDCrdsInputs) {
        await applyCrdSet(news);
        return { outs: { ...news, drift: [] } satisfies ArgoCDCrdsOutputs };
    },
    async read(id: string, props: ArgoCDCrdsOutputs) {
        const desired = loadReleaseCrds(props);
        const live = await readLiveCrds(props.kubeconfig, desired.map((c) => c.metadata.name));
        return { id, props: { ...props, drift: crdSetDrift(desired, live) } satisfies ArgoCDCrdsOutputs };
    },
    // Kept on delete (the resource is also retainOnDelete): deleting a CRD deletes every Application in the cluster.
    async delete() {},
};

/** The release's CRDs from the install.yaml at `manifestsPath`, checked against the digest the program computed. */
export function loadReleaseCrds(inputs: Pick<ArgoCDCrdsInputs, 'manifestsPath' | 'digest'>): KubeObject[] {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const fs = require('node:fs') as typeof import('node:fs');
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { loadAll } = require('js-yaml') as typeof import('js-yaml');
    let text: string;
    try {
        text = fs.readFileSync(inputs.manifestsPath, 'utf8');
    } catch (e) {
        throw new Error(`Argo CD's CRDs: cannot read the release manifest ${inputs.manifestsPath} (${(e as Error).message}); argocdManifestsPath must point at Argo CD's install.yaml on the machine that runs Pulumi`);
    }
    const crds = releaseCrds((loadAll(text) as (KubeObject | null)[]).filter((o): o is KubeObject => o !== null && typeof o === 'object'));
    const digest = crdSetDigest(crds);
    if (digest !== inputs.digest) throw new Error(`Argo CD's CRDs: ${inputs.manifestsPath} changed since the program read it (digest ${digest.slice(0, 12)}, expected ${inputs.digest.slice(0, 12)}); run pulumi again`);
    return crds;
}

/** A requester for the kubeconfig's cluster (components/cluster/kube-request.ts: raw requests, so the CRDs arrive whole). */
function kubeClient(kubeconfig: string): KubeRequest {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const k8s = require('@kubernetes/client-node') as typeof import('@kubernetes/client-node');
    const kc = new k8s.KubeConfig();
    kc.loadFromString(kubeconfig);
    return kubeRequester(kc, "Argo CD's CRDs");
}

const CRD_PATH = '/apis/apiextensions.k8s.io/v1/customresourcedefinitions';

/** Server-side apply of the release's CRDs, then wait (up to 120 s) until each is Established; drops legacy managers. */
export async function applyCrdSet(inputs: ArgoCDCrdsInputs): Promise<void> {
    const crds = loadReleaseCrds(inputs);
    const request = kubeClient(inputs.kubeconfig);
    const fail = (what: string, r: { status: number; body: string }) => new Error(`Argo CD's CRDs: ${what} failed (${r.status}): ${r.body.slice(0, 500)}`);
    for (const crd of crds) {
        const r = await request('PATCH', `${CRD_PATH}/${crd.metadata.name}?fieldManager=${ARGOCD_CRDS_FIELD_MANAGER}&force=true`, crd, 'application/apply-patch+yaml');
        if (r.status !== 200 && r.status !== 201) throw fail(`applying ${crd.metadata.name}`, r);
    }
    const deadline = Date.now() + 120_000;
    for (const crd of crds) {
        for (;;) {
            if (Date.now() > deadline) throw new Error(`Argo CD's CRD ${crd.metadata.name} is not Established (or still has the Kubernetes provider's field manager) after 120 s`);
            const r = await request('GET', `${CRD_PATH}/${crd.metadata.name}`);
            if (r.status !== 200) throw fail(`reading ${crd.metadata.name}`, r);
            const live = JSON.parse(r.body) as { metadata: { resourceVersion?: string; managedFields?: { manager?: string }[] }; status?: { conditions?: { type: string; status: string }[] } };
            const kept = withoutLegacyManagers(live.metadata.managedFields);
            if (kept !== undefined) {
                const p = await request('PATCH', `${CRD_PATH}/${crd.metadata.name}`, { metadata: { resourceVersion: live.metadata.resourceVersion, managedFields: kept } }, 'application/merge-patch+json');
                if (p.status !== 200 && p.status !== 409) throw fail(`handing ${crd.metadata.name} over from the Kubernetes provider`, p);
                continue; // read again (a 409: someone wrote meanwhile)
            }
            if (live.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) break;
            await new Promise((res) => setTimeout(res, 250));
        }
    }
}

/** The live CRDs by name (a missing one is left out). */
export async function readLiveCrds(kubeconfig: string, names: readonly string[]): Promise<Map<string, KubeObject>> {
    const request = kubeClient(kubeconfig);
    const out = new Map<string, KubeObject>();
    for (const name of names) {
        const r = await request('GET', `${CRD_PATH}/${name}`);
        if (r.status === 200) out.set(name, JSON.parse(r.body) as KubeObject);
        else if (r.status !== 404) throw new Error(`Argo CD's CRDs: reading ${name} failed (${r.status}): ${r.body.slice(0, 500)}`);
    }
    return out;
}

class ArgoCDCrdsResource extends pulumi.dynamic.Resource {
    declare readonly digest: pulumi.Output<string>;
    declare readonly drift: pulumi.Output<string[]>;
    constructor(name: string, args: { [K in keyof ArgoCDCrdsInputs]: pulumi.Input<ArgoCDCrdsInputs[K]> }, opts: pulumi.CustomResourceOptions) {
        super(argocdCrdsProvider, name, { ...args, drift: undefined }, { ...opts, retainOnDelete: true, additionalSecretOutputs: ['kubeconfig'] });
    }
}

/** Argo CD's CRDs of `release` (the install.yaml's objects, read from `manifestsPath`) as one resource; see the file's header. */
export function argocdCrds(name: string, args: { release: string; objects: readonly KubeObject[]; manifestsPath: string; kubeconfig: pulumi.Input<string> }, opts: pulumi.CustomResourceOptions): pulumi.CustomResource {
    const crds = releaseCrds(args.objects);
    return new ArgoCDCrdsResource(
        name,
        { release: args.release, digest: crdSetDigest(crds), names: crds.map((c) => c.metadata.name), manifestsPath: args.manifestsPath, kubeconfig: pulumi.secret(args.kubeconfig) },
        opts,
    );
}
