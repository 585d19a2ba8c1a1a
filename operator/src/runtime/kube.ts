/**
 * Thin Kubernetes API client for the operator: credentials and cluster come from a KubeAccess (kubeconfig.ts at
 * run time; a @kubernetes/client-node KubeConfig in tests: same two methods), the transport
 * is one long-lived keep-alive node:https Agent (connection reuse; client-node's generated clients build a new agent
 * per call; the undici package cost the process about 29 MiB of memory for the same).
 * Every request is counted by verb and resource so idle writes can be measured.
 */
import { createHash } from 'node:crypto';
import type { KubeAccess } from './kubeconfig.js';
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { OperatorMetrics } from './metrics.js';

export interface ResourceType {
  group: string; // '' for the core group
  version: string;
  plural: string;
  kind: string;
  namespaced: boolean;
}

export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  ownerReferences?: OwnerReference[];
  deletionTimestamp?: string;
  creationTimestamp?: string;
  [k: string]: unknown;
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  [k: string]: unknown;
}

export interface WatchEvent<T extends KubeObject = KubeObject> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: T;
}

export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly reason: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export function isNotFound(err: unknown): boolean {
  return err instanceof ApiError && err.statusCode === 404;
}
export function isConflict(err: unknown): boolean {
  return err instanceof ApiError && err.statusCode === 409;
}
export function isGone(err: unknown): boolean {
  return err instanceof ApiError && err.statusCode === 410;
}

/**
 * The object itself is invalid for the server, so retrying the same object cannot help: 400/422 (schema, CEL rules,
 * strict field validation) and the 500 server-side apply answers for a field the type does not declare ("failed to
 * create typed patch object ... field not declared in schema"), whatever fieldValidation says.
 */
export function isInvalidObject(err: unknown): boolean {
  if (!(err instanceof ApiError)) return false;
  if (err.statusCode === 400 || err.statusCode === 422) return true;
  return err.statusCode === 500 && /failed to create typed patch object/.test(err.message);
}

export function apiVersionOf(rt: ResourceType): string {
  return rt.group ? `${rt.group}/${rt.version}` : rt.version;
}

/** Resource type from an object's apiVersion/kind, looked up in a registry of known types. */
export function resourcePath(rt: ResourceType, namespace?: string, name?: string, subresource?: string): string {
  const base = rt.group ? `/apis/${rt.group}/${rt.version}` : `/api/${rt.version}`;
  let p = base;
  if (rt.namespaced && namespace) p += `/namespaces/${encodeURIComponent(namespace)}`;
  p += `/${rt.plural}`;
  if (name) p += `/${encodeURIComponent(name)}`;
  if (subresource) p += `/${subresource}`;
  return p;
}

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  contentType?: string;
  signal?: AbortSignal;
  timeoutMs?: number;
  accept?: string;
}

interface AuthOptions {
  headers?: Record<string, string>;
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  rejectUnauthorized?: boolean;
  servername?: string;
}

interface Prepared {
  url: URL;
  headers: Record<string, string>;
  agent: HttpAgent | HttpsAgent;
}

/** One HTTP exchange on `agent`; resolves with the response once its headers arrived (the body is still to read). */
function send(p: Prepared, method: string, body: string | undefined, timeoutMs: number, signal?: AbortSignal): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = (p.url.protocol === 'http:' ? httpRequest : httpsRequest)(p.url, { method, headers: p.headers, agent: p.agent, signal });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`request to ${p.url.pathname} timed out after ${timeoutMs} ms`)));
    req.once('response', (res) => {
      // the socket timeout now guards the body too (a watch sets a longer one)
      resolve(res);
    });
    req.once('error', reject);
    req.end(body);
  });
}

async function readBody(res: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of res) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export interface KubeClientOptions {
  metrics?: OperatorMetrics;
  userAgent?: string;
  /** Per-request timeout for non-watch calls. */
  timeoutMs?: number;
}

export class KubeClient {
  private agent: HttpAgent | HttpsAgent | undefined;
  private agentKey = '';
  private auth: { o: AuthOptions; at: number; tlsKey: string } | undefined;
  private readonly timeoutMs: number;

  constructor(
    readonly kubeConfig: KubeAccess,
    private readonly opts: KubeClientOptions = {},
  ) {
    this.timeoutMs = opts.timeoutMs ?? 30_000;
  }

  get metrics(): OperatorMetrics | undefined {
    return this.opts.metrics;
  }

  private async prepare(path: string, query?: RequestOptions['query']): Promise<Prepared> {
    const cluster = this.kubeConfig.getCurrentCluster();
    if (!cluster) throw new Error('kubeconfig: no current cluster');
    // credentials and TLS material are re-read from the KubeConfig at most every 10 s (token files rotate
    // hourly; reading the CA file on every request would be synchronous file I/O per call)
    if (!this.auth || Date.now() - this.auth.at > 10_000) {
      const fresh: AuthOptions = {};
      await this.kubeConfig.applyToHTTPSOptions(fresh as never);
      const h = createHash('sha256');
      for (const b of [fresh.ca, fresh.cert, fresh.key]) h.update(b ?? '').update('|');
      h.update(`${fresh.rejectUnauthorized}|${fresh.servername}`);
      this.auth = { o: fresh, at: Date.now(), tlsKey: h.digest('hex') };
    }
    const o = this.auth.o;
    const key = this.auth.tlsKey;
    if (!this.agent || key !== this.agentKey) {
      const old = this.agent;
      const http = cluster.server.startsWith('http:');
      this.agent = http
        ? new HttpAgent({ keepAlive: true, keepAliveMsecs: 30_000 })
        : new HttpsAgent({ keepAlive: true, keepAliveMsecs: 30_000, ca: o.ca, cert: o.cert, key: o.key, rejectUnauthorized: o.rejectUnauthorized, servername: o.servername });
      this.agentKey = key;
      if (old) old.destroy();
    }
    const url = new URL(cluster.server.replace(/\/$/, '') + path);
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const headers: Record<string, string> = { accept: 'application/json', 'user-agent': this.opts.userAgent ?? 'nebari-operator' };
    for (const [k, v] of Object.entries(o.headers ?? {})) headers[k.toLowerCase()] = String(v);
    return { url, headers, agent: this.agent };
  }

  /** One API call; returns the parsed JSON body. Non-2xx responses throw ApiError. */
  async request<T = unknown>(verb: string, resource: string, method: string, path: string, ro: RequestOptions = {}): Promise<T> {
    const p = await this.prepare(path, ro.query);
    let body: string | undefined;
    if (ro.body !== undefined) {
      body = typeof ro.body === 'string' ? ro.body : JSON.stringify(ro.body);
      p.headers['content-type'] = ro.contentType ?? 'application/json';
    }
    if (ro.accept) p.headers.accept = ro.accept;
    const timeout = ro.timeoutMs ?? this.timeoutMs;
    let code: number | string = 'error';
    try {
      if (body !== undefined) p.headers['content-length'] = String(Buffer.byteLength(body));
      const res = await send(p, method, body, timeout, ro.signal);
      code = res.statusCode ?? 'error';
      const text = await readBody(res);
      const status = res.statusCode ?? 0;
      if (status < 200 || status >= 300) throw toApiError(status, text);
      return (text ? JSON.parse(text) : undefined) as T;
    } finally {
      this.opts.metrics?.recordRequest(verb, resource, code);
    }
  }

  async get<T extends KubeObject>(rt: ResourceType, namespace: string | undefined, name: string): Promise<T | undefined> {
    try {
      return await this.request<T>('get', rt.plural, 'GET', resourcePath(rt, namespace, name));
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /** Full list (paged), returning items and the list's resourceVersion to start a watch from. */
  async list<T extends KubeObject>(
    rt: ResourceType,
    namespace: string | undefined,
    o: { labelSelector?: string; fieldSelector?: string; signal?: AbortSignal; limit?: number; metadataOnly?: boolean } = {},
  ): Promise<{ items: T[]; resourceVersion: string }> {
    const items: T[] = [];
    let cont: string | undefined;
    let rv = '';
    do {
      const page = await this.request<{ items: T[]; metadata: { resourceVersion: string; continue?: string } }>(
        'list',
        rt.plural,
        'GET',
        resourcePath(rt, namespace),
        {
          query: { labelSelector: o.labelSelector, fieldSelector: o.fieldSelector, limit: o.limit ?? 500, continue: cont },
          signal: o.signal,
          timeoutMs: 60_000,
          accept: o.metadataOnly ? METADATA_LIST_ACCEPT : undefined,
        },
      );
      const kind = rt.kind;
      for (const it of page.items ?? []) {
        // list items carry no apiVersion/kind; fill them so cached objects are self-describing
        items.push({ ...it, apiVersion: apiVersionOf(rt), kind } as T);
      }
      cont = page.metadata?.continue || undefined;
      rv = page.metadata?.resourceVersion ?? rv;
    } while (cont);
    return { items, resourceVersion: rv };
  }

  /** A watch stream from `resourceVersion`. Ends when the server closes it or `signal` aborts. */
  async *watch<T extends KubeObject>(
    rt: ResourceType,
    namespace: string | undefined,
    o: { resourceVersion: string; labelSelector?: string; fieldSelector?: string; signal?: AbortSignal; timeoutSeconds?: number; metadataOnly?: boolean },
  ): AsyncGenerator<WatchEvent<T>> {
    const timeoutSeconds = o.timeoutSeconds ?? 300;
    const p = await this.prepare(resourcePath(rt, namespace), {
      watch: 1,
      resourceVersion: o.resourceVersion,
      allowWatchBookmarks: true,
      timeoutSeconds,
      labelSelector: o.labelSelector,
      fieldSelector: o.fieldSelector,
    });
    if (o.metadataOnly) p.headers.accept = METADATA_ACCEPT;
    const fill = (obj: KubeObject): void => {
      if (o.metadataOnly || !obj.apiVersion) {
        obj.apiVersion = apiVersionOf(rt);
        obj.kind = rt.kind;
      }
    };
    let code: number | string = 'error';
    let res: IncomingMessage;
    try {
      // the socket timeout covers the wait for headers and every silence in the body (bookmarks keep it busy)
      res = await send(p, 'GET', undefined, (timeoutSeconds + 60) * 1000, o.signal);
      code = res.statusCode ?? 'error';
    } finally {
      this.opts.metrics?.recordRequest('watch', rt.plural, code);
    }
    if (res.statusCode !== 200) throw toApiError(res.statusCode ?? 0, await readBody(res));
    let buf = '';
    // one streaming decoder for the whole response: a multi-byte character split between two chunks is kept whole
    // (decoding each chunk on its own turned both halves into U+FFFD)
    const decoder = new TextDecoder('utf-8');
    try {
      for await (const chunk of res) {
        buf += typeof chunk === 'string' ? chunk : decoder.decode(chunk as Uint8Array, { stream: true });
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl).trim();
          buf = buf.slice(nl + 1);
          if (!line) continue;
          const ev = JSON.parse(line) as WatchEvent<T>;
          if (ev.type !== 'ERROR' && ev.type !== 'BOOKMARK' && ev.object) fill(ev.object);
          yield ev;
        }
      }
    } finally {
      res.destroy();
    }
  }

  /**
   * Server-side apply of `obj` (must carry apiVersion, kind, metadata.name[, namespace]) with fieldValidation=Strict:
   * nothing the server would drop or merge is accepted with a mere warning (a duplicate field is a 400). A field the
   * type does not declare is refused by server-side apply whatever the setting (a 500, see isInvalidObject), which
   * the reconciler reports as a rejected child instead of retrying it. `force` takes over fields other managers
   * set: callers apply only objects they own (the reconciler checks the owner first).
   */
  async apply<T extends KubeObject>(rt: ResourceType, obj: KubeObject, fieldManager: string, o: { subresource?: string; force?: boolean } = {}): Promise<T> {
    return this.request<T>(o.subresource ? `apply/${o.subresource}` : 'apply', rt.plural, 'PATCH', resourcePath(rt, obj.metadata.namespace, obj.metadata.name, o.subresource), {
      query: { fieldManager, force: o.force ?? true, fieldValidation: 'Strict' },
      body: obj,
      contentType: 'application/apply-patch+yaml',
    });
  }

  async create<T extends KubeObject>(rt: ResourceType, obj: KubeObject): Promise<T> {
    return this.request<T>('create', rt.plural, 'POST', resourcePath(rt, obj.metadata.namespace), { body: obj });
  }

  async replace<T extends KubeObject>(rt: ResourceType, obj: KubeObject): Promise<T> {
    return this.request<T>('update', rt.plural, 'PUT', resourcePath(rt, obj.metadata.namespace, obj.metadata.name), { body: obj });
  }

  /** JSON patch (RFC 6902); with a `test` op it is an optimistic-concurrency write. */
  async jsonPatch<T extends KubeObject>(rt: ResourceType, namespace: string | undefined, name: string, ops: unknown[], subresource?: string): Promise<T> {
    return this.request<T>('patch', rt.plural, 'PATCH', resourcePath(rt, namespace, name, subresource), {
      body: ops,
      contentType: 'application/json-patch+json',
    });
  }

  /** Delete; a missing object is not an error (returns false). `uid` guards against deleting a re-created namesake. */
  async delete(rt: ResourceType, namespace: string | undefined, name: string, o: { uid?: string; propagationPolicy?: string } = {}): Promise<boolean> {
    const body: Record<string, unknown> = { apiVersion: 'v1', kind: 'DeleteOptions', propagationPolicy: o.propagationPolicy ?? 'Background' };
    if (o.uid) body.preconditions = { uid: o.uid };
    try {
      await this.request('delete', rt.plural, 'DELETE', resourcePath(rt, namespace, name), { body });
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      if (err instanceof ApiError && err.statusCode === 409 && o.uid) return false; // precondition failed: a different object now
      throw err;
    }
  }

  async close(): Promise<void> {
    const a = this.agent;
    this.agent = undefined;
    a?.destroy();
  }
}

const METADATA_ACCEPT = 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json';
const METADATA_LIST_ACCEPT = 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json';

function toApiError(statusCode: number, text: string): ApiError {
  try {
    const st = JSON.parse(text) as { reason?: string; message?: string; details?: unknown };
    return new ApiError(statusCode, st.reason ?? String(statusCode), st.message ?? text, st.details);
  } catch {
    return new ApiError(statusCode, String(statusCode), text.slice(0, 500));
  }
}
