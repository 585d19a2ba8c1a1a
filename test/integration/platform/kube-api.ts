// A raw JSON client of the real kube-apiserver for the platform tests: discovery (kind -> resource), server-side
// apply (for real or dry-run), CRD installation. Raw on purpose: @kubernetes/client-node's typed models drop
// fields they do not know, which would hide exactly the mistakes these tests look for; here the API server sees
// every byte of the object and validates it with fieldValidation=Strict.
import type { KubeConfig } from '@kubernetes/client-node';
import { kubeRequester, type KubeRequest, type KubeResponse } from '../../../components/cluster/kube-request.js';

export interface KubeObject {
    apiVersion: string;
    kind: string;
    metadata: { name: string; namespace?: string; [k: string]: unknown };
    [k: string]: unknown;
}

/** Status, body and Warning headers (e.g. Pod Security admission warnings). */
export type ApiResponse = KubeResponse;

export interface ResourceInfo {
    plural: string;
    namespaced: boolean;
}

export interface ApplyResult {
    object: KubeObject;
    status: number;
    /** The API server's message when it rejected the object. */
    message?: string;
    warnings: string[];
}

/** `ns/Kind/name` or `Kind/name`, for messages. */
export const objectId = (o: KubeObject): string => `${o.metadata.namespace ? `${o.metadata.namespace}/` : ''}${o.kind}/${o.metadata.name}`;

export class KubeApi {
    private readonly discovery = new Map<string, Promise<Map<string, ResourceInfo>>>();
    private requester: KubeRequest | undefined;

    constructor(private readonly kc: KubeConfig) {}

    async request(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<ApiResponse> {
        this.requester ??= kubeRequester(this.kc);
        return this.requester(method, path, body, contentType);
    }

    private groupVersionPath(apiVersion: string): string {
        return apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
    }

    /** Resources of a group/version, by kind (re-read once when a kind is missing: CRDs may have just arrived). */
    async resource(apiVersion: string, kind: string): Promise<ResourceInfo> {
        const load = (): Promise<Map<string, ResourceInfo>> =>
            this.request('GET', this.groupVersionPath(apiVersion)).then((r) => {
                if (r.status !== 200) throw new Error(`discovery of ${apiVersion} failed (${r.status}): the API server does not serve it`);
                const list = JSON.parse(r.body) as { resources: { name: string; kind: string; namespaced: boolean }[] };
                return new Map(list.resources.filter((x) => !x.name.includes('/')).map((x) => [x.kind, { plural: x.name, namespaced: x.namespaced }]));
            });
        const cached = this.discovery.get(apiVersion);
        let found = cached ? (await cached.catch(() => new Map<string, ResourceInfo>())).get(kind) : undefined;
        if (found === undefined) {
            const fresh = load();
            this.discovery.set(apiVersion, fresh);
            fresh.catch(() => this.discovery.delete(apiVersion));
            found = (await fresh).get(kind);
        }
        if (found === undefined) throw new Error(`the API server serves no kind ${kind} in ${apiVersion}`);
        return found;
    }

    async objectPath(o: KubeObject): Promise<string> {
        const info = await this.resource(o.apiVersion, o.kind);
        if (info.namespaced && !o.metadata.namespace) throw new Error(`${o.kind}/${o.metadata.name} is namespaced but has no metadata.namespace`);
        const ns = info.namespaced ? `/namespaces/${encodeURIComponent(o.metadata.namespace!)}` : '';
        return `${this.groupVersionPath(o.apiVersion)}${ns}/${info.plural}/${encodeURIComponent(o.metadata.name)}`;
    }

    /**
     * Server-side apply (as ArgoCD's ServerSideApply=true and Pulumi's enableServerSideApply do), with strict field
     * validation: unknown or duplicate fields are rejections, not silently dropped.
     */
    async apply(o: KubeObject, opts: { fieldManager: string; dryRun: boolean }): Promise<ApplyResult> {
        let path: string;
        try {
            path = await this.objectPath(o);
        } catch (err) {
            return { object: o, status: 0, message: (err as Error).message, warnings: [] };
        }
        const q = new URLSearchParams({ fieldManager: opts.fieldManager, force: 'true', fieldValidation: 'Strict' });
        if (opts.dryRun) q.set('dryRun', 'All');
        const r = await this.request('PATCH', `${path}?${q}`, o, 'application/apply-patch+yaml');
        if (r.status >= 200 && r.status < 300) return { object: o, status: r.status, warnings: r.warnings };
        let message = r.body;
        try {
            message = (JSON.parse(r.body) as { message?: string }).message ?? r.body;
        } catch {
            /* not JSON: keep the body */
        }
        return { object: o, status: r.status, message, warnings: r.warnings };
    }

    /** Apply every object; the ones the API server rejected, each with its message. */
    async applyAll(objects: KubeObject[], opts: { fieldManager: string; dryRun: boolean }): Promise<ApplyResult[]> {
        const results: ApplyResult[] = [];
        for (const o of objects) results.push(await this.apply(o, opts));
        return results;
    }

    /** Create CRDs (existing ones are left as they are) and wait until each is Established. */
    async installCrds(crds: KubeObject[], timeoutMs = 60_000): Promise<void> {
        for (const crd of crds) {
            const r = await this.request('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', crd);
            if (r.status !== 201 && r.status !== 409) throw new Error(`installing CRD ${crd.metadata.name} failed (${r.status}): ${r.body.slice(0, 2000)}`);
        }
        const deadline = Date.now() + timeoutMs;
        for (const crd of crds) {
            for (;;) {
                const r = await this.request('GET', `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${crd.metadata.name}`);
                const conds = r.status === 200 ? ((JSON.parse(r.body) as { status?: { conditions?: { type: string; status: string }[] } }).status?.conditions ?? []) : [];
                if (conds.some((c) => c.type === 'Established' && c.status === 'True')) break;
                if (Date.now() > deadline) throw new Error(`CRD ${crd.metadata.name} not Established after ${timeoutMs / 1000} s`);
                await new Promise((res) => setTimeout(res, 200));
            }
        }
        this.discovery.clear();
    }
}

/** A one-line summary per rejection, for assertion messages. */
export function describeRejections(results: ApplyResult[]): string {
    return results
        .filter((r) => r.status < 200 || r.status >= 300)
        .map((r) => `${objectId(r.object)}: ${r.status} ${r.message ?? ''}`)
        .join('\n');
}
