/**
 * Supervised informer: list, then watch from the list's resourceVersion, keeping a cache of objects and calling
 * handlers on add/update/delete. The watch is restarted when it ends or fails (exponential backoff with jitter
 * on failures); a 410 Gone (resourceVersion too old) re-lists and reconciles the cache with the fresh list, so
 * objects deleted while disconnected produce delete events.
 */
import { isGone, type KubeClient, type KubeObject, type ResourceType, type WatchEvent } from './kube.js';
import type { Logger } from './logger.js';
import type { OperatorMetrics } from './metrics.js';
import { Backoff } from './ratelimit.js';

export interface ListWatcher<T extends KubeObject> {
  list(signal: AbortSignal): Promise<{ items: T[]; resourceVersion: string }>;
  watch(resourceVersion: string, signal: AbortSignal): AsyncIterable<WatchEvent<T>>;
}

export function kubeListWatcher<T extends KubeObject>(
  client: KubeClient,
  rt: ResourceType,
  o: { namespace?: string; labelSelector?: string; fieldSelector?: string; metadataOnly?: boolean; watchTimeoutSeconds?: number } = {},
): ListWatcher<T> {
  return {
    list: (signal) => client.list<T>(rt, o.namespace, { ...o, signal }),
    watch: (resourceVersion, signal) =>
      client.watch<T>(rt, o.namespace, { ...o, resourceVersion, signal, timeoutSeconds: o.watchTimeoutSeconds ?? jitterTimeout() }),
  };
}

/** 5..10 minutes like client-go, so many watches do not all expire together. */
function jitterTimeout(): number {
  return 300 + Math.floor(Math.random() * 300);
}

export type InformerEventType = 'add' | 'update' | 'delete';
export type InformerHandler<T> = (type: InformerEventType, obj: T, old?: T) => void;

export function objectKey(obj: KubeObject): string {
  return obj.metadata.namespace ? `${obj.metadata.namespace}/${obj.metadata.name}` : obj.metadata.name;
}

export interface InformerOptions<T extends KubeObject> {
  name: string;
  listWatcher: ListWatcher<T>;
  log: Logger;
  metrics?: OperatorMetrics;
  backoffInitialMs?: number;
  backoffMaxMs?: number;
  /** Applied to every object before caching; default drops metadata.managedFields to save memory. */
  transform?: (obj: T) => T;
}

export class Informer<T extends KubeObject = KubeObject> {
  readonly name: string;
  private readonly store = new Map<string, T>();
  private readonly handlers: InformerHandler<T>[] = [];
  private readonly backoff: Backoff;
  private readonly transform: (obj: T) => T;
  private abort: AbortController | undefined;
  private loop: Promise<void> | undefined;
  private synced = false;
  private syncWaiters: (() => void)[] = [];
  private resourceVersion = '';
  /** Counters visible to tests. */
  readonly stats = { lists: 0, watches: 0, relistsAfterGone: 0, failures: 0 };

  constructor(private readonly o: InformerOptions<T>) {
    this.name = o.name;
    this.backoff = new Backoff(o.backoffInitialMs ?? 200, o.backoffMaxMs ?? 30_000);
    this.transform = o.transform ?? stripManagedFields;
  }

  on(handler: InformerHandler<T>): this {
    this.handlers.push(handler);
    return this;
  }

  start(): void {
    if (this.loop) return;
    this.abort = new AbortController();
    this.loop = this.run(this.abort.signal);
  }

  async stop(): Promise<void> {
    this.abort?.abort();
    await this.loop;
    this.loop = undefined;
  }

  hasSynced(): boolean {
    return this.synced;
  }

  waitForSync(): Promise<void> {
    if (this.synced) return Promise.resolve();
    return new Promise((resolve) => this.syncWaiters.push(resolve));
  }

  get(namespace: string | undefined, name: string): T | undefined {
    return this.store.get(namespace ? `${namespace}/${name}` : name);
  }

  getByKey(key: string): T | undefined {
    return this.store.get(key);
  }

  list(): T[] {
    return [...this.store.values()];
  }

  get size(): number {
    return this.store.size;
  }

  private emit(type: InformerEventType, obj: T, old?: T): void {
    for (const h of this.handlers) {
      try {
        h(type, obj, old);
      } catch (err) {
        this.o.log.error('informer handler failed', { informer: this.name, err });
      }
    }
  }

  private replace(items: T[]): void {
    const seen = new Set<string>();
    for (const raw of items) {
      const obj = this.transform(raw);
      const key = objectKey(obj);
      seen.add(key);
      const old = this.store.get(key);
      this.store.set(key, obj);
      if (!old) this.emit('add', obj);
      else if (old.metadata.resourceVersion !== obj.metadata.resourceVersion) this.emit('update', obj, old);
    }
    for (const [key, old] of [...this.store]) {
      if (!seen.has(key)) {
        this.store.delete(key);
        this.emit('delete', old);
      }
    }
  }

  private applyEvent(ev: WatchEvent<T>): void {
    const obj = this.transform(ev.object);
    const key = objectKey(obj);
    const old = this.store.get(key);
    if (ev.type === 'DELETED') {
      this.store.delete(key);
      this.emit('delete', obj);
      return;
    }
    this.store.set(key, obj);
    if (old) this.emit('update', obj, old);
    else this.emit('add', obj);
  }

  private async run(signal: AbortSignal): Promise<void> {
    let needList = true;
    while (!signal.aborted) {
      const startedAt = Date.now();
      let events = 0;
      try {
        if (needList) {
          this.stats.lists++;
          const { items, resourceVersion } = await this.o.listWatcher.list(signal);
          this.replace(items);
          this.resourceVersion = resourceVersion;
          needList = false;
          if (!this.synced) {
            this.synced = true;
            for (const w of this.syncWaiters.splice(0)) w();
          }
        }
        this.stats.watches++;
        for await (const ev of this.o.listWatcher.watch(this.resourceVersion, signal)) {
          if (ev.type === 'ERROR') {
            const status = ev.object as unknown as { code?: number; message?: string };
            if (status.code === 410) {
              needList = true;
              this.stats.relistsAfterGone++;
              this.o.metrics?.informerRestarts.inc({ resource: this.name, cause: 'gone' });
              this.o.log.info('watch expired (410 Gone), re-listing', { informer: this.name });
              break;
            }
            throw new Error(`watch error ${status.code ?? ''}: ${status.message ?? 'unknown'}`);
          }
          events++;
          const rv = ev.object?.metadata?.resourceVersion;
          if (ev.type !== 'BOOKMARK') this.applyEvent(ev);
          if (rv) this.resourceVersion = rv;
        }
        if (!needList && !signal.aborted) {
          this.o.metrics?.informerRestarts.inc({ resource: this.name, cause: 'closed' });
          // a watch that closes at once without events is a failure in disguise (server going away): back off
          if (events === 0 && Date.now() - startedAt < 1000) await this.sleepBackoff(signal);
          else this.backoff.reset();
        } else {
          this.backoff.reset();
        }
      } catch (err) {
        if (signal.aborted) break;
        if (isGone(err)) {
          needList = true;
          this.stats.relistsAfterGone++;
          this.o.metrics?.informerRestarts.inc({ resource: this.name, cause: 'gone' });
          continue;
        }
        this.stats.failures++;
        this.o.metrics?.informerRestarts.inc({ resource: this.name, cause: 'error' });
        this.o.log.warn('list/watch failed, restarting', { informer: this.name, err, attempt: this.backoff.attempts + 1 });
        await this.sleepBackoff(signal);
      }
    }
  }

  private sleepBackoff(signal: AbortSignal): Promise<void> {
    const ms = this.backoff.next();
    return sleep(ms, signal);
  }
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

function stripManagedFields<T extends KubeObject>(obj: T): T {
  if (obj.metadata && 'managedFields' in obj.metadata) delete obj.metadata.managedFields;
  return obj;
}

/** Read side of a cache of objects, whether one informer or a group of per-namespace informers. */
export interface ObjectCache<T extends KubeObject = KubeObject> {
  readonly name: string;
  get(namespace: string | undefined, name: string): T | undefined;
  list(): T[];
  on(handler: InformerHandler<T>): this;
  hasSynced(): boolean;
}

/** Several informers of one resource (one per watched namespace) seen as one cache. */
export class InformerGroup<T extends KubeObject = KubeObject> implements ObjectCache<T> {
  constructor(
    readonly name: string,
    readonly informers: readonly Informer<T>[],
    /** namespace -> informer; undefined when one informer covers all namespaces. */
    private readonly byNamespace?: ReadonlyMap<string, Informer<T>>,
  ) {}

  get(namespace: string | undefined, name: string): T | undefined {
    if (this.byNamespace && namespace !== undefined) return this.byNamespace.get(namespace)?.get(namespace, name);
    for (const i of this.informers) {
      const o = i.get(namespace, name);
      if (o) return o;
    }
    return undefined;
  }

  list(): T[] {
    return this.informers.flatMap((i) => i.list());
  }

  on(handler: InformerHandler<T>): this {
    for (const i of this.informers) i.on(handler);
    return this;
  }

  hasSynced(): boolean {
    return this.informers.every((i) => i.hasSynced());
  }

  get size(): number {
    return this.informers.reduce((n, i) => n + i.size, 0);
  }
}

/**
 * Informers for single named objects (a field selector on metadata.name), started while something refers to them
 * and stopped when nothing does: the operator watches the few Secrets apps name (auth.clientSecretRef) without
 * watching every Secret of the cluster. `retain`/`release` count references per `namespace/name`.
 */
export class NamedObjectWatch<T extends KubeObject = KubeObject> implements ObjectCache<T> {
  private readonly watches = new Map<string, { informer: Informer<T>; refs: number }>();
  private readonly handlers: InformerHandler<T>[] = [];
  private running = false;

  constructor(
    readonly name: string,
    private readonly make: (namespace: string, name: string) => Informer<T>,
  ) {}

  /** Start watching (informers retained so far start now; later ones at once). */
  start(): void {
    this.running = true;
    for (const w of this.watches.values()) w.informer.start();
  }

  retain(namespace: string, name: string): void {
    const key = `${namespace}/${name}`;
    const w = this.watches.get(key);
    if (w) {
      w.refs++;
      return;
    }
    const informer = this.make(namespace, name);
    for (const h of this.handlers) informer.on(h);
    this.watches.set(key, { informer, refs: 1 });
    if (this.running) informer.start();
  }

  release(namespace: string, name: string): void {
    const key = `${namespace}/${name}`;
    const w = this.watches.get(key);
    if (!w || --w.refs > 0) return;
    this.watches.delete(key);
    void w.informer.stop();
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all([...this.watches.values()].map((w) => w.informer.stop()));
  }

  get(namespace: string | undefined, name: string): T | undefined {
    return this.watches.get(`${namespace}/${name}`)?.informer.get(namespace, name);
  }

  list(): T[] {
    return [...this.watches.values()].flatMap((w) => w.informer.list());
  }

  on(handler: InformerHandler<T>): this {
    this.handlers.push(handler);
    for (const w of this.watches.values()) w.informer.on(handler);
    return this;
  }

  hasSynced(): boolean {
    return [...this.watches.values()].every((w) => w.informer.hasSynced());
  }

  /** Resolves once every informer retained so far has synced. */
  async waitForSync(): Promise<void> {
    await Promise.all([...this.watches.values()].map((w) => w.informer.waitForSync()));
  }

  /** Number of named objects watched (tests, metrics). */
  get watched(): number {
    return this.watches.size;
  }
}

/** Several caches of one kind seen as one (the first that holds an object answers). */
export class UnionCache<T extends KubeObject = KubeObject> implements ObjectCache<T> {
  constructor(
    readonly name: string,
    private readonly caches: readonly ObjectCache<T>[],
  ) {}

  get(namespace: string | undefined, name: string): T | undefined {
    for (const c of this.caches) {
      const o = c.get(namespace, name);
      if (o) return o;
    }
    return undefined;
  }

  list(): T[] {
    const seen = new Map<string, T>();
    for (const c of this.caches) for (const o of c.list()) if (!seen.has(objectKey(o))) seen.set(objectKey(o), o);
    return [...seen.values()];
  }

  on(handler: InformerHandler<T>): this {
    for (const c of this.caches) c.on(handler);
    return this;
  }

  hasSynced(): boolean {
    return this.caches.every((c) => c.hasSynced());
  }
}
