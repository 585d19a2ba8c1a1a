/**
 * Runs reconciles from a WorkQueue with bounded concurrency and an overall token-bucket rate limit.
 * What happens to a key after its reconcile is decided by retryDecision() (pure): a reconcile that throws is
 * re-queued with the key's error backoff; one that waits on an external system with the key's external backoff;
 * one that succeeds resets both and may ask to be re-queued after a delay.
 */
import type { Logger } from './logger.js';
import type { OperatorMetrics } from './metrics.js';
import type { RetryCause, WorkQueue } from './queue.js';
import type { TokenBucket } from './ratelimit.js';

export interface ReconcileResult {
  /** Reconcile again after this many ms even without an event. */
  requeueAfterMs?: number;
  /**
   * The reconcile completed but waits on a system outside the cluster (e.g. "keycloak"): retry after the key's
   * external backoff, which grows while the wait lasts and resets at the next reconcile that does not wait.
   */
  waitingOn?: string;
}

export type ReconcileOutcome = { threw: true } | { threw: false; result: ReconcileResult | void };

export interface RetryDecision {
  /** The metrics label of the outcome. */
  result: 'success' | 'error' | 'requeue';
  /** Backoffs of the key to reset. */
  reset: RetryCause[];
  /** Queue the key again: after its backoff for a cause, after a fixed delay, or not at all. */
  requeue: { backoff: RetryCause } | { afterMs: number } | undefined;
}

/** What to do with a key once its reconcile is over. */
export function retryDecision(o: ReconcileOutcome): RetryDecision {
  if (o.threw) return { result: 'error', reset: [], requeue: { backoff: 'error' } };
  const r = o.result ?? {};
  // the reconcile itself went through: errors are over; the external wait is over only when nothing waits
  if (r.waitingOn !== undefined) return { result: 'requeue', reset: ['error'], requeue: { backoff: 'external' } };
  if (r.requeueAfterMs !== undefined) return { result: 'requeue', reset: ['error', 'external'], requeue: { afterMs: r.requeueAfterMs } };
  return { result: 'success', reset: ['error', 'external'], requeue: undefined };
}

export type ReconcileFn = (key: string) => Promise<ReconcileResult | void>;

export interface WorkerPoolOptions {
  queue: WorkQueue;
  reconcile: ReconcileFn;
  concurrency: number;
  bucket?: TokenBucket;
  log: Logger;
  metrics?: OperatorMetrics;
  /**
   * Called when a key's reconcile and its retry decision are over, in the same synchronous step as the queue's
   * done(key): nothing can happen to the key between the two (the controller settles events it held back for it).
   */
  beforeDone?: (key: string) => void;
}

export class WorkerPool {
  private workers: Promise<void>[] = [];
  constructor(private readonly o: WorkerPoolOptions) {
    if (!(o.concurrency >= 1)) throw new Error(`concurrency must be >= 1, got ${o.concurrency}`);
  }

  start(): void {
    if (this.workers.length) return;
    for (let i = 0; i < this.o.concurrency; i++) this.workers.push(this.worker());
  }

  /** Resolves once every worker has finished its current reconcile after queue.shutdown(). */
  async drained(): Promise<void> {
    await Promise.all(this.workers);
  }

  private async worker(): Promise<void> {
    const { queue, log, metrics } = this.o;
    for (;;) {
      const key = await queue.get();
      if (key === undefined) return;
      try {
        if (this.o.bucket) await this.o.bucket.take();
        const started = performance.now();
        let outcome: ReconcileOutcome;
        let error: unknown;
        try {
          outcome = { threw: false, result: await this.o.reconcile(key) };
        } catch (err) {
          outcome = { threw: true };
          error = err;
        }
        const decision = retryDecision(outcome);
        const seconds = (performance.now() - started) / 1000;
        log.debug('reconciled', { key, result: decision.result, ms: Math.round(seconds * 1000) });
        metrics?.reconciles.inc({ result: decision.result });
        metrics?.reconcileDuration.observe({ result: decision.result }, seconds);
        for (const cause of decision.reset) queue.forget(key, cause);
        const rq = decision.requeue;
        if (rq && 'afterMs' in rq) queue.addAfter(key, rq.afterMs);
        else if (rq) {
          const delay = queue.addRateLimited(key, rq.backoff);
          const attempt = queue.numRequeues(key, rq.backoff);
          if (outcome.threw) {
            metrics?.reconcileErrors.inc({ reason: errorReason(error) });
            log.warn('reconcile failed, retrying', { key, err: error, retryInMs: delay, attempt });
          } else {
            log.info('waiting on an external system, retrying', { key, waitingOn: outcome.result?.waitingOn, retryInMs: delay, attempt });
          }
        }
      } finally {
        try {
          this.o.beforeDone?.(key);
        } finally {
          queue.done(key);
        }
      }
    }
  }
}

function errorReason(err: unknown): string {
  const code = (err as { statusCode?: number })?.statusCode;
  if (typeof code === 'number') return `http_${code}`;
  return (err as Error)?.name === 'ApiError' ? 'api' : 'internal';
}
