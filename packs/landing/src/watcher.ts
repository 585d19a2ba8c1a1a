// Keeps the store in line with the NebariApps of every namespace: an informer (list + watch) from
// @kubernetes/client-node. The informer itself re-lists when the watch says 410 Gone; on any other failure it
// stops, and we start it again with capped exponential backoff.
import { CustomObjectsApi, makeInformer, type Informer, type KubeConfig, type KubernetesListObject, type KubernetesObject } from '@kubernetes/client-node';
import type { NebariAppLike } from './contract.js';
import { NEBARIAPP_GROUP, NEBARIAPP_PLURAL, NEBARIAPP_VERSION } from './contract.js';
import { entryFromApp } from './model.js';
import type { AppStore } from './store.js';

export interface WatcherEvents {
  onSkip?: (id: string, reason: string) => void;
  onError?: (err: unknown, restartInMs: number) => void;
  onSynced?: () => void;
}

type App = NebariAppLike & KubernetesObject;

/** The status conditions as the admin view shows them (strings only; anything else dropped). */
export function conditionsOf(obj: NebariAppLike): Array<{ type: string; status: string; reason: string; message: string }> {
  const list = Array.isArray(obj.status?.conditions) ? obj.status.conditions : [];
  const str = (v: unknown): string => (typeof v === 'string' ? v : '');
  return list.filter((c) => c && typeof c.type === 'string').map((c) => ({ type: str(c!.type), status: str(c!.status), reason: str(c!.reason), message: str(c!.message).slice(0, 500) }));
}

export class NebariAppWatcher {
  private informer: Informer<App> | undefined;
  private stopped = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private failures = 0;
  /** True once the first complete list has reached the store. */
  synced = false;
  restarts = 0;

  constructor(
    private readonly kc: KubeConfig,
    private readonly store: AppStore,
    private readonly events: WatcherEvents = {},
    private readonly backoff = { baseMs: 500, maxMs: 30_000 },
  ) {}

  private apply(obj: App): void {
    const id = `${obj.metadata?.namespace}/${obj.metadata?.name}`;
    this.store.setConditions(id, conditionsOf(obj));
    const r = entryFromApp(obj);
    if (r.ok) this.store.upsert(r.entry);
    else {
      if (this.store.get(id)) this.store.remove(id);
      this.events.onSkip?.(id, r.reason);
    }
  }

  async start(): Promise<void> {
    const api = this.kc.makeApiClient(CustomObjectsApi);
    const path = `/apis/${NEBARIAPP_GROUP}/${NEBARIAPP_VERSION}/${NEBARIAPP_PLURAL}`;
    const list = async (): Promise<KubernetesListObject<App>> => {
      const res = (await api.listClusterCustomObject({ group: NEBARIAPP_GROUP, version: NEBARIAPP_VERSION, plural: NEBARIAPP_PLURAL })) as KubernetesListObject<App>;
      // Mark synced after the informer has folded the list into the store (its callbacks run synchronously next).
      queueMicrotask(() => {
        this.failures = 0;
        if (!this.synced) {
          this.synced = true;
          this.events.onSynced?.();
        }
      });
      return res;
    };
    const inf = makeInformer<App>(this.kc, path, list);
    inf.on('add', (o) => this.apply(o));
    inf.on('update', (o) => this.apply(o));
    inf.on('delete', (o) => {
      const id = `${o.metadata?.namespace}/${o.metadata?.name}`;
      this.store.setConditions(id, undefined);
      this.store.remove(id);
    });
    inf.on('error', (err) => this.scheduleRestart(err));
    this.informer = inf;
    await inf.start().catch((e: unknown) => this.scheduleRestart(e));
  }

  private scheduleRestart(err: unknown): void {
    if (this.stopped) return;
    this.failures++;
    const delay = Math.min(this.backoff.maxMs, this.backoff.baseMs * 2 ** Math.min(this.failures - 1, 10));
    this.events.onError?.(err, delay);
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      if (this.stopped || !this.informer) return;
      this.restarts++;
      this.informer.start().catch((e: unknown) => this.scheduleRestart(e));
    }, delay);
    this.retryTimer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    await this.informer?.stop();
  }
}
