/**
 * Runs reconciles from a WorkQueue with bounded concurrency and an overall token-bucket rate limit.
 * A reconcile that throws is re-queued with the key's exponential backoff; one that succeeds resets it and
 * may ask to be re-queued after a delay.
 */
import type { Logger } from './logger.js';
import type { OperatorMetrics } from './metrics.js';
import type { WorkQueue } from './queue.js';
import type { TokenBucket } from './ratelimit.js';

export interface ReconcileResult {
  /** Reconcile again after this many ms even without an event (e.g. waiting on something outside the cluster). */
  requeueAfterMs?: number;
}

export type ReconcileFn = (key: string) => Promise<ReconcileResult | void>;

export interface WorkerPoolOptions {
  queue: WorkQueue;
  reconcile: ReconcileFn;
  concurrency: number;
  bucket?: TokenBucket;
  log: Logger;
  metrics?: OperatorMetrics;
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
        let result: 'success' | 'error' | 'requeue' = 'success';
        try {
          const r = await this.o.reconcile(key);
          queue.forget(key);
          if (r && r.requeueAfterMs !== undefined) {
            result = 'requeue';
            queue.addAfter(key, r.requeueAfterMs);
          }
        } catch (err) {
          result = 'error';
          const delay = queue.addRateLimited(key);
          metrics?.reconcileErrors.inc({ reason: errorReason(err) });
          log.warn('reconcile failed, retrying', { key, err, retryInMs: delay, attempt: queue.numRequeues(key) });
        } finally {
          const secs = (performance.now() - started) / 1000;
          metrics?.reconciles.inc({ result });
          metrics?.reconcileDuration.observe({ result }, secs);
        }
      } finally {
        queue.done(key);
      }
    }
  }
}

function errorReason(err: unknown): string {
  const code = (err as { statusCode?: number })?.statusCode;
  if (typeof code === 'number') return `http_${code}`;
  return (err as Error)?.name === 'ApiError' ? 'api' : 'internal';
}
