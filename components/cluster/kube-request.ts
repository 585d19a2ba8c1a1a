/**
 * Raw requests to a cluster's API with a kubeconfig's credentials (client certificates, token, exec plugins: the
 * client-node library applies them): JSON in, text out. For bodies that must reach the API server exactly as written:
 * client-node's typed APIs serialize objects through their models, which drop wire-format keys they do not model
 * (a CRD's `x-kubernetes-preserve-unknown-fields`, so the API server then prunes what it should keep).
 *
 * Runs in the program, in tests and, serialized with Argo CD's CRD provider (components/argocd/crds.ts), in Pulumi's
 * dynamic-provider process: built-in modules are default imports (module objects), which Pulumi's closure
 * serializer turns into require() calls.
 */
import http from 'node:http';
import https from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';

export interface KubeResponse {
    status: number;
    body: string;
    /** The API server's `Warning` headers. */
    warnings: string[];
}

export type KubeRequest = (method: string, path: string, body?: unknown, contentType?: string) => Promise<KubeResponse>;

/**
 * A requester for the kubeconfig's current cluster; `path` starts with `/` (e.g. `/api/v1/namespaces`). `what` names
 * the caller in the error thrown for a kubeconfig without a current cluster.
 */
export function kubeRequester(kc: KubeConfig, what?: string): KubeRequest {
    const server = kc.getCurrentCluster()?.server;
    if (server === undefined) throw new Error(`${what ? `${what}: ` : ''}the kubeconfig has no current cluster`);
    return async (method, path, body, contentType = 'application/json') => {
        const opts: https.RequestOptions = { method, headers: {} };
        await kc.applyToHTTPSOptions(opts);
        const payload = body === undefined ? undefined : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
        opts.headers = { ...(opts.headers as Record<string, string>), accept: 'application/json', ...(payload ? { 'content-type': contentType, 'content-length': String(payload.length) } : {}) };
        opts.timeout = 30_000;
        const url = `${server.replace(/\/$/, '')}${path}`;
        return new Promise((resolve, reject) => {
            const req = (url.startsWith('https:') ? https : http).request(url, opts, (res) => {
                const chunks: Buffer[] = [];
                res.on('data', (c: Buffer) => chunks.push(c));
                res.on('end', () => {
                    const w = res.headers['warning'];
                    resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), warnings: w === undefined ? [] : Array.isArray(w) ? w : [w] });
                });
            });
            req.on('error', reject);
            req.on('timeout', () => req.destroy(new Error(`${method} ${path} timed out`)));
            req.end(payload);
        });
    };
}
