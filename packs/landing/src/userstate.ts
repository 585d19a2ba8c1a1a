// Durable per-user state (pins, read marks) and access requests, kept in the cluster as labelled ConfigMaps in the
// landing page's own namespace: one `landing-user-<sha256(sub)>` per user, one `landing-request-<id>` per request.
// Why ConfigMaps: the state is small, per user, and must survive restarts and follow the user across browsers and
// replicas; the API server already stores, versions (optimistic concurrency) and watches it, so no database server
// is added, and the landing ServiceAccount needs nothing outside its own namespace (Role: configmaps get, list,
// watch, create, update). Every replica watches the labelled ConfigMaps, so a pin or a decision made on one
// replica reaches streams on the others.
import { randomBytes } from 'node:crypto';
import { CoreV1Api, makeInformer, type KubeConfig, type V1ConfigMap } from '@kubernetes/client-node';
import { RestartingInformer } from './restarting-informer.js';
import {
  REQUEST_KEY,
  STATE_LABEL,
  USER_STATE_KEY,
  emptyUserState,
  parseRequest,
  parseUserState,
  requestName,
  userStateName,
  type AccessRequest,
  type UserState,
} from './features.js';

export type StateChange = { kind: 'user'; sub: string } | { kind: 'request'; id: string; sub: string };

interface Versioned<T> {
  value: T;
  rv: string;
}

/** Is resourceVersion a newer than b? Numeric when both are (etcd revisions), else "different counts as newer". */
function newer(a: string, b: string | undefined): boolean {
  if (b === undefined) return true;
  if (/^\d+$/.test(a) && /^\d+$/.test(b)) return BigInt(a) >= BigInt(b);
  return a !== b;
}

/** In-memory view of the state ConfigMaps (fed by the informer and by our own writes). */
export class StateCache {
  readonly users = new Map<string, Versioned<UserState>>();
  readonly requests = new Map<string, Versioned<AccessRequest>>();
  /** Request ids by requester, so one user's requests are found without scanning everyone's. */
  private readonly bySub = new Map<string, Set<string>>();
  private readonly listeners = new Set<(c: StateChange) => void>();
  version = 0;

  onChange(l: (c: StateChange) => void): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  private emit(c: StateChange): void {
    this.version++;
    for (const l of [...this.listeners]) l(c);
  }

  user(sub: string): UserState {
    return this.users.get(sub)?.value ?? emptyUserState(sub);
  }

  allRequests(): Iterable<AccessRequest> {
    return Array.from(this.requests.values(), (v) => v.value);
  }

  /** The requests one user made. */
  requestsOf(sub: string): AccessRequest[] {
    const ids = this.bySub.get(sub);
    return ids ? Array.from(ids, (id) => this.requests.get(id)!.value) : [];
  }

  /** Folds one ConfigMap in; returns false when it is not ours or older than what we hold. */
  apply(cm: V1ConfigMap): boolean {
    const kind = cm.metadata?.labels?.[STATE_LABEL];
    const rv = cm.metadata?.resourceVersion ?? '';
    if (kind === 'user') {
      const sub = cm.metadata?.annotations?.[SUB_ANNOTATION];
      if (!sub || cm.metadata?.name !== userStateName(sub)) return false;
      if (!newer(rv, this.users.get(sub)?.rv)) return false;
      this.users.set(sub, { value: parseUserState(cm.data?.[USER_STATE_KEY], sub), rv });
      this.emit({ kind: 'user', sub });
      return true;
    }
    if (kind === 'request') {
      const r = parseRequest(cm.data?.[REQUEST_KEY]);
      if (!r || cm.metadata?.name !== requestName(r.id)) return false;
      if (!newer(rv, this.requests.get(r.id)?.rv)) return false;
      const prev = this.requests.get(r.id)?.value.sub;
      if (prev !== undefined && prev !== r.sub) this.unindex(r.id, prev);
      this.requests.set(r.id, { value: r, rv });
      let ids = this.bySub.get(r.sub);
      if (!ids) this.bySub.set(r.sub, (ids = new Set()));
      ids.add(r.id);
      this.emit({ kind: 'request', id: r.id, sub: r.sub });
      return true;
    }
    return false;
  }

  remove(cm: V1ConfigMap): void {
    const kind = cm.metadata?.labels?.[STATE_LABEL];
    if (kind === 'user') {
      const sub = cm.metadata?.annotations?.[SUB_ANNOTATION];
      if (sub && this.users.delete(sub)) this.emit({ kind: 'user', sub });
    } else if (kind === 'request') {
      const r = parseRequest(cm.data?.[REQUEST_KEY]);
      const held = r ? this.requests.get(r.id)?.value : undefined;
      if (r && held && this.requests.delete(r.id)) {
        this.unindex(r.id, held.sub);
        this.emit({ kind: 'request', id: r.id, sub: held.sub });
      }
    }
  }

  private unindex(id: string, sub: string): void {
    const ids = this.bySub.get(sub);
    ids?.delete(id);
    if (ids?.size === 0) this.bySub.delete(sub);
  }
}

/** The user's sub, kept as an annotation (the name is a hash of it). */
export const SUB_ANNOTATION = 'landing.nebari.dev/sub';

const isCode = (e: unknown, code: number): boolean => (e as { code?: number })?.code === code;

export class ClusterState {
  readonly cache = new StateCache();
  private informer: RestartingInformer<V1ConfigMap> | undefined;
  private readonly api: CoreV1Api;
  synced = false;

  constructor(
    private readonly kc: KubeConfig,
    readonly namespace: string,
    private readonly onError: (err: unknown) => void = () => undefined,
  ) {
    this.api = kc.makeApiClient(CoreV1Api);
  }

  async start(): Promise<void> {
    const path = `/api/v1/namespaces/${this.namespace}/configmaps`;
    const inf = makeInformer<V1ConfigMap>(
      this.kc,
      path,
      async () => {
        const res = await this.api.listNamespacedConfigMap({ namespace: this.namespace, labelSelector: STATE_LABEL });
        queueMicrotask(() => (this.synced = true));
        return res;
      },
      STATE_LABEL,
    );
    inf.on('add', (o) => this.cache.apply(o));
    inf.on('update', (o) => this.cache.apply(o));
    inf.on('delete', (o) => this.cache.remove(o));
    this.informer = new RestartingInformer(inf, 2000, this.onError);
    await this.informer.start();
  }

  async stop(): Promise<void> {
    await this.informer?.stop();
  }

  /** Read-modify-write of a user's state with optimistic concurrency (retried on conflict). */
  async updateUser(sub: string, change: (s: UserState) => UserState): Promise<UserState> {
    const name = userStateName(sub);
    for (let attempt = 0; attempt < 5; attempt++) {
      let cur = this.cache.users.get(sub);
      if (attempt > 0 || !cur) {
        try {
          const cm = await this.api.readNamespacedConfigMap({ name, namespace: this.namespace });
          cur = { value: parseUserState(cm.data?.[USER_STATE_KEY], sub), rv: cm.metadata?.resourceVersion ?? '' };
        } catch (e) {
          if (!isCode(e, 404)) throw e;
          cur = undefined;
        }
      }
      const next = change(cur?.value ?? emptyUserState(sub));
      const body: V1ConfigMap = {
        metadata: {
          name,
          namespace: this.namespace,
          labels: { [STATE_LABEL]: 'user', 'app.kubernetes.io/managed-by': 'nkp-landing' },
          annotations: { [SUB_ANNOTATION]: sub },
          ...(cur ? { resourceVersion: cur.rv } : {}),
        },
        data: { [USER_STATE_KEY]: JSON.stringify(next) },
      };
      try {
        const written = cur
          ? await this.api.replaceNamespacedConfigMap({ name, namespace: this.namespace, body })
          : await this.api.createNamespacedConfigMap({ namespace: this.namespace, body });
        this.cache.apply(written);
        return next;
      } catch (e) {
        if (isCode(e, 409) || isCode(e, 404)) continue;
        throw e;
      }
    }
    throw new Error(`user state ${name}: too many concurrent updates`);
  }

  async createRequest(r: Omit<AccessRequest, 'id' | 'v'>): Promise<AccessRequest> {
    const req: AccessRequest = { v: 1, id: randomBytes(8).toString('hex'), ...r };
    const written = await this.api.createNamespacedConfigMap({
      namespace: this.namespace,
      body: {
        metadata: { name: requestName(req.id), namespace: this.namespace, labels: { [STATE_LABEL]: 'request', 'app.kubernetes.io/managed-by': 'nkp-landing' } },
        data: { [REQUEST_KEY]: JSON.stringify(req) },
      },
    });
    this.cache.apply(written);
    return req;
  }

  /**
   * Writes a decision, only if the stored request is still pending at the version we read (two admins deciding at
   * once: the second gets a conflict instead of overwriting the first decision).
   */
  async writeDecision(next: AccessRequest, expectRv: string): Promise<void> {
    const name = requestName(next.id);
    const written = await this.api.replaceNamespacedConfigMap({
      name,
      namespace: this.namespace,
      body: {
        metadata: { name, namespace: this.namespace, resourceVersion: expectRv, labels: { [STATE_LABEL]: 'request', 'app.kubernetes.io/managed-by': 'nkp-landing' } },
        data: { [REQUEST_KEY]: JSON.stringify(next) },
      },
    });
    this.cache.apply(written);
  }

  /** The stored request and its version, read from the API server (not the cache) before a decision. */
  async readRequest(id: string): Promise<{ req: AccessRequest; rv: string } | null> {
    try {
      const cm = await this.api.readNamespacedConfigMap({ name: requestName(id), namespace: this.namespace });
      const req = parseRequest(cm.data?.[REQUEST_KEY]);
      return req && req.id === id ? { req, rv: cm.metadata?.resourceVersion ?? '' } : null;
    } catch (e) {
      if (isCode(e, 404)) return null;
      throw e;
    }
  }
}
