/**
 * Where the API server is and how to authenticate, without @kubernetes/client-node at run time: loading that
 * library costs the operator process about 40 MiB of memory for the one class it used (KubeConfig). Same order as
 * its loadFromDefault: $KUBECONFIG (first file), then ~/.kube/config, then the in-cluster service account. Supported
 * credentials: client certificate (file or data), bearer token (inline or tokenFile, re-read so rotated tokens are
 * picked up), CA (file or data) or insecure-skip-tls-verify. Exec and auth-provider plugins are refused by name.
 *
 * KubeAccess is the part of client-node's KubeConfig the KubeClient uses, so tests can still pass one.
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';
import { parse } from 'yaml';

export interface KubeAccess {
  getCurrentCluster(): { server: string } | null;
  applyToHTTPSOptions(opts: object): Promise<void>;
}

/** Resolved connection settings (pure result of a kubeconfig document or the in-cluster files). */
export interface KubeEndpoint {
  server: string;
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  token?: string;
  tokenFile?: string;
  insecure?: boolean;
  tlsServerName?: string;
}

export const IN_CLUSTER_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

type Doc = {
  'current-context'?: string;
  contexts?: { name: string; context?: { cluster?: string; user?: string } }[];
  clusters?: { name: string; cluster?: Record<string, unknown> }[];
  users?: { name: string; user?: Record<string, unknown> }[];
};

/** Pure: the endpoint of a parsed kubeconfig's current context (relative file paths resolve against `baseDir`). */
export function endpointFromKubeconfig(doc: Doc, where: string, baseDir: string, read: (p: string) => Buffer): KubeEndpoint {
  const ctxName = doc['current-context'];
  if (!ctxName) throw new Error(`kubeconfig ${where}: current-context is not set`);
  const ctx = doc.contexts?.find((c) => c.name === ctxName)?.context;
  if (!ctx) throw new Error(`kubeconfig ${where}: current-context "${ctxName}" is not among contexts`);
  const cluster = doc.clusters?.find((c) => c.name === ctx.cluster)?.cluster;
  if (!cluster || typeof cluster['server'] !== 'string') throw new Error(`kubeconfig ${where}: cluster "${ctx.cluster}" of context "${ctxName}" has no server`);
  const user = (ctx.user ? doc.users?.find((u) => u.name === ctx.user)?.user : undefined) ?? {};
  for (const plugin of ['exec', 'auth-provider']) {
    if (user[plugin]) throw new Error(`kubeconfig ${where}: user "${ctx.user}" uses ${plugin}, which nebari-operator does not support; use token, tokenFile or a client certificate`);
  }
  const file = (p: unknown) => read(isAbsolute(String(p)) ? String(p) : join(baseDir, String(p)));
  const data = (v: unknown) => Buffer.from(String(v), 'base64');
  const pick = (o: Record<string, unknown>, dataKey: string, fileKey: string): Buffer | undefined =>
    o[dataKey] ? data(o[dataKey]) : o[fileKey] ? file(o[fileKey]) : undefined;
  return {
    server: cluster['server'],
    ...optional('ca', pick(cluster, 'certificate-authority-data', 'certificate-authority')),
    ...optional('insecure', cluster['insecure-skip-tls-verify'] === true ? true : undefined),
    ...optional('tlsServerName', typeof cluster['tls-server-name'] === 'string' ? cluster['tls-server-name'] : undefined),
    ...optional('cert', pick(user, 'client-certificate-data', 'client-certificate')),
    ...optional('key', pick(user, 'client-key-data', 'client-key')),
    ...optional('token', typeof user['token'] === 'string' ? user['token'] : undefined),
    ...optional('tokenFile', typeof user['tokenFile'] === 'string' ? (isAbsolute(user['tokenFile']) ? user['tokenFile'] : join(baseDir, user['tokenFile'])) : undefined),
  };
}

function optional<K extends string, V>(key: K, value: V | undefined): { [k in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [k in K]?: V };
}

/** The endpoint as client-node's loadFromDefault would find it. */
export function loadEndpoint(env: NodeJS.ProcessEnv = process.env): KubeEndpoint {
  const read = (p: string) => readFileSync(p);
  const fromEnv = env['KUBECONFIG']?.split(':').find((p) => p.length > 0);
  const home = join(env['HOME'] ?? homedir(), '.kube', 'config');
  const path = fromEnv ?? (existsSync(home) ? home : undefined);
  if (path) return endpointFromKubeconfig(parse(readFileSync(path, 'utf8')) as Doc, path, dirname(path), read);
  const host = env['KUBERNETES_SERVICE_HOST'];
  if (host && existsSync(join(IN_CLUSTER_DIR, 'token'))) {
    const port = env['KUBERNETES_SERVICE_PORT'] ?? '443';
    return { server: `https://${host.includes(':') ? `[${host}]` : host}:${port}`, ca: read(join(IN_CLUSTER_DIR, 'ca.crt')), tokenFile: join(IN_CLUSTER_DIR, 'token') };
  }
  throw new Error('no Kubernetes credentials: set KUBECONFIG, provide ~/.kube/config, or run in a pod with a service account');
}

/** KubeAccess over a resolved endpoint; a token file is read again on every call (the client calls at most every 10 s). */
export class EndpointAccess implements KubeAccess {
  constructor(private readonly e: KubeEndpoint) {}

  getCurrentCluster(): { server: string } {
    return { server: this.e.server };
  }

  async applyToHTTPSOptions(opts: object): Promise<void> {
    const o = opts as { ca?: Buffer; cert?: Buffer; key?: Buffer; rejectUnauthorized?: boolean; servername?: string; headers?: Record<string, string> };
    if (this.e.ca) o.ca = this.e.ca;
    if (this.e.cert) o.cert = this.e.cert;
    if (this.e.key) o.key = this.e.key;
    if (this.e.insecure) o.rejectUnauthorized = false;
    if (this.e.tlsServerName) o.servername = this.e.tlsServerName;
    const token = this.e.tokenFile ? readFileSync(this.e.tokenFile, 'utf8').trim() : this.e.token;
    if (token) o.headers = { ...(o.headers ?? {}), authorization: `Bearer ${token}` };
  }
}
