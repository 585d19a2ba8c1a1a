/**
 * Level-triggered work queue of string keys (`namespace/name`), the semantics of client-go's workqueue:
 * - a key waiting in the queue is stored once however often it is added (dedupe);
 * - a key being processed is never handed to a second worker; adding it meanwhile marks it dirty and it is
 *   queued again when the worker calls done(), so a change during a reconcile is never lost;
 * - addAfter() delays an add (the earliest pending delay wins); addRateLimited() delays by the key's
 *   exponential backoff, forget() resets it.
 * Each key has two backoffs: one for reconciles that failed ('error') and one for reconciles that completed but wait
 * on something outside the cluster, such as Keycloak ('external'). The second one has jitter, so apps waiting on the
 * same outage don't all retry at the same moment.
 */
import { KeyedBackoff } from './ratelimit.js';

/** Why a key is retried: its reconcile failed, or it waits on a system outside the cluster. */
export type RetryCause = 'error' | 'external';

export interface WorkQueueOptions {
  /** Failed reconciles: first retry delay and cap (defaults 500 ms, 5 min). */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** Reconciles waiting on an external system: first retry delay, cap and jitter (defaults 1 s, 5 min, 0.2). */
  externalBackoffBaseMs?: number;
  externalBackoffMaxMs?: number;
  externalBackoffJitter?: number;
}

export class WorkQueue {
  private readonly ready: string[] = [];
  private readonly dirty = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly delayed = new Map<string, { at: number; timer: NodeJS.Timeout }>();
  private readonly waiters: ((key: string | undefined) => void)[] = [];
  private down = false;
  readonly backoff: KeyedBackoff;
  readonly externalBackoff: KeyedBackoff;
  /** Called whenever depth may have changed (metrics). */
  onDepthChange: ((depth: number, inFlight: number) => void) | undefined;

  constructor(o: WorkQueueOptions = {}) {
    this.backoff = new KeyedBackoff(o.backoffBaseMs ?? 500, o.backoffMaxMs ?? 5 * 60_000);
    this.externalBackoff = new KeyedBackoff(o.externalBackoffBaseMs ?? 1000, o.externalBackoffMaxMs ?? 5 * 60_000, o.externalBackoffJitter ?? 0.2);
  }

  add(key: string): void {
    if (this.down || this.dirty.has(key)) return;
    this.dirty.add(key);
    if (!this.processing.has(key)) this.push(key);
    this.changed();
  }

  addAfter(key: string, ms: number): void {
    if (this.down) return;
    if (ms <= 0) return this.add(key);
    const at = Date.now() + ms;
    const existing = this.delayed.get(key);
    if (existing && existing.at <= at) return;
    if (existing) clearTimeout(existing.timer);
    const timer = setTimeout(() => {
      this.delayed.delete(key);
      this.add(key);
    }, ms);
    this.delayed.set(key, { at, timer });
    this.changed();
  }

  /** Re-queue after this key's exponential backoff for `cause`; returns the delay used. */
  addRateLimited(key: string, cause: RetryCause = 'error'): number {
    const ms = this.backoffFor(cause).next(key);
    this.addAfter(key, ms);
    return ms;
  }

  /** Reset the key's backoff for `cause`, or both without one. */
  forget(key: string, cause?: RetryCause): void {
    if (cause !== 'external') this.backoff.forget(key);
    if (cause !== 'error') this.externalBackoff.forget(key);
  }

  numRequeues(key: string, cause: RetryCause = 'error'): number {
    return this.backoffFor(cause).retries(key);
  }

  private backoffFor(cause: RetryCause): KeyedBackoff {
    return cause === 'external' ? this.externalBackoff : this.backoff;
  }

  /** Next key to process, waiting if none is ready; undefined once shut down. */
  get(): Promise<string | undefined> {
    const key = this.ready.shift();
    if (key !== undefined) return Promise.resolve(this.take(key));
    if (this.down) return Promise.resolve(undefined);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** The worker finished `key`; re-queues it if it was added while being processed. */
  done(key: string): void {
    this.processing.delete(key);
    if (this.dirty.has(key) && !this.down) this.push(key);
    this.changed();
  }

  isProcessing(key: string): boolean {
    return this.processing.has(key);
  }

  /** Keys waiting (ready, or dirty while processing) plus delayed keys not also waiting. */
  depth(): number {
    let n = this.dirty.size;
    for (const k of this.delayed.keys()) if (!this.dirty.has(k)) n++;
    return n;
  }

  inFlight(): number {
    return this.processing.size;
  }

  /** Stop handing out keys; waiting get() calls resolve undefined; delayed adds are dropped. */
  shutdown(): void {
    this.down = true;
    for (const { timer } of this.delayed.values()) clearTimeout(timer);
    this.delayed.clear();
    for (const w of this.waiters.splice(0)) w(undefined);
    this.changed();
  }

  get isShutDown(): boolean {
    return this.down;
  }

  private push(key: string): void {
    const w = this.waiters.shift();
    if (w) w(this.take(key));
    else this.ready.push(key);
  }

  private take(key: string): string {
    this.dirty.delete(key);
    this.processing.add(key);
    this.changed();
    return key;
  }

  private changed(): void {
    this.onDepthChange?.(this.depth(), this.processing.size);
  }
}
