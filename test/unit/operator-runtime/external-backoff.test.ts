// Apps waiting on a system outside the cluster (Keycloak, OIDC discovery) are retried with a per-key exponential
// backoff with jitter, kept apart from the backoff of failing reconciles and reset once the app no longer waits.
import assert from 'node:assert/strict';
import { WorkQueue } from '../../../operator/src/runtime/queue.js';
import { backoffDelayMs } from '../../../operator/src/runtime/ratelimit.js';
import { retryDecision, WorkerPool, type ReconcileResult } from '../../../operator/src/runtime/workers.js';
import { createLogger } from '../../../operator/src/runtime/logger.js';
import { OperatorMetrics } from '../../../operator/src/runtime/metrics.js';

const tick = (ms = 0) => new Promise((r) => setTimeout(r, ms));

describe('operator runtime: retry decision after a reconcile (pure)', () => {
  it('a reconcile that threw: error backoff, nothing reset', () => {
    assert.deepEqual(retryDecision({ threw: true }), { result: 'error', reset: [], requeue: { backoff: 'error' } });
  });

  it('a reconcile waiting on Keycloak: external backoff, the error backoff reset, the external one kept', () => {
    assert.deepEqual(retryDecision({ threw: false, result: { waitingOn: 'keycloak' } }), { result: 'requeue', reset: ['error'], requeue: { backoff: 'external' } });
    // waiting wins over a fixed delay: the wait is what the key is retried for
    assert.deepEqual(retryDecision({ threw: false, result: { waitingOn: 'oidc-discovery', requeueAfterMs: 10 } }).requeue, { backoff: 'external' });
  });

  it('a reconcile that no longer waits resets both backoffs', () => {
    assert.deepEqual(retryDecision({ threw: false, result: undefined }), { result: 'success', reset: ['error', 'external'], requeue: undefined });
    assert.deepEqual(retryDecision({ threw: false, result: {} }), { result: 'success', reset: ['error', 'external'], requeue: undefined });
    assert.deepEqual(retryDecision({ threw: false, result: { requeueAfterMs: 250 } }), { result: 'requeue', reset: ['error', 'external'], requeue: { afterMs: 250 } });
  });
});

describe('operator runtime: backoffDelayMs (pure)', () => {
  const policy = { baseMs: 1000, maxMs: 300_000 };

  it('doubles from the base up to the cap without jitter', () => {
    assert.deepEqual(
      Array.from({ length: 11 }, (_, i) => backoffDelayMs(i, policy)),
      [1000, 2000, 4000, 8000, 16_000, 32_000, 64_000, 128_000, 256_000, 300_000, 300_000],
    );
    assert.equal(backoffDelayMs(10_000, policy), 300_000, 'huge attempt counts stay at the cap');
  });

  it('jitter spreads each delay by +-jitter and never exceeds the cap', () => {
    const j = { ...policy, jitter: 0.2 };
    assert.equal(backoffDelayMs(0, j, () => 0), 800, 'lowest: -20%');
    assert.equal(backoffDelayMs(0, j, () => 0.5), 1000, 'middle: none');
    assert.equal(backoffDelayMs(0, j, () => 0.999_999), 1200, 'highest: +20%');
    assert.equal(backoffDelayMs(20, j, () => 0.999_999), 300_000, 'capped after jitter');
    assert.equal(backoffDelayMs(20, j, () => 0), 240_000, 'below the cap by at most the jitter');
  });
});

describe('operator runtime: WorkQueue external backoff', () => {
  it('grows per key with jitter, independently of the error backoff, and forget resets what it names', () => {
    const q = new WorkQueue({ backoffBaseMs: 10, backoffMaxMs: 1000, externalBackoffBaseMs: 100, externalBackoffMaxMs: 500 });
    const ext = Array.from({ length: 5 }, () => q.addRateLimited('a', 'external'));
    const bases = [100, 200, 400, 500, 500];
    ext.forEach((d, i) => assert.ok(d >= bases[i]! * 0.8 && d <= Math.min(500, bases[i]! * 1.2), `retry ${i}: ${d} ms within 20% of ${bases[i]} ms, at most 500`));
    assert.equal(q.numRequeues('a', 'external'), 5);
    assert.equal(q.numRequeues('a'), 0, 'the error backoff is separate');
    assert.equal(q.addRateLimited('a'), 10);
    assert.ok(q.addRateLimited('b', 'external') <= 120, 'other keys start at the base');
    q.forget('a', 'error');
    assert.equal(q.numRequeues('a'), 0);
    assert.equal(q.numRequeues('a', 'external'), 5, 'forgetting errors keeps the external wait');
    q.forget('a');
    assert.equal(q.numRequeues('a', 'external'), 0, 'forget() without a cause resets both');
    q.shutdown();
  });

  it('defaults: 1 s doubling to 5 min with jitter', () => {
    const q = new WorkQueue();
    assert.equal(q.externalBackoff.baseMs, 1000);
    assert.equal(q.externalBackoff.maxMs, 300_000);
    assert.equal(q.externalBackoff.jitter, 0.2);
    q.shutdown();
  });
});

describe('operator runtime: WorkerPool retries apps waiting on an external system', () => {
  it('retries with growing delays while the app waits, resets after it converges, logs and counts requeues', async () => {
    const q = new WorkQueue({ externalBackoffBaseMs: 20, externalBackoffMaxMs: 200, externalBackoffJitter: 0 });
    const metrics = new OperatorMetrics();
    const times: number[] = [];
    let up = false;
    const logged: Record<string, unknown>[] = [];
    const log = createLogger({ level: 'info', write: (line) => void logged.push(JSON.parse(line) as Record<string, unknown>) });
    const pool = new WorkerPool({
      queue: q,
      concurrency: 1,
      log,
      metrics,
      reconcile: async (): Promise<ReconcileResult | void> => {
        times.push(Date.now());
        return up ? undefined : { waitingOn: 'keycloak' };
      },
    });
    pool.start();
    q.add('ns/app');
    for (let i = 0; i < 300 && times.length < 5; i++) await tick(5);
    assert.equal(q.numRequeues('ns/app', 'external'), times.length, 'one external retry per waiting reconcile');
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    assert.ok(gaps[0]! >= 15, `first retry after ~20 ms: ${gaps.join(',')}`);
    assert.ok(gaps[3]! >= 140, `fourth retry after ~160 ms (exponential): ${gaps.join(',')}`);
    const { time: _time, ...first } = logged[0]!;
    assert.deepEqual(first, { level: 'info', msg: 'waiting on an external system, retrying', key: 'ns/app', waitingOn: 'keycloak', retryInMs: 20, attempt: 1 });

    up = true; // Keycloak is back: the next retry converges and the backoff starts over
    const n = times.length;
    for (let i = 0; i < 300 && times.length === n; i++) await tick(5);
    await tick(10);
    assert.equal(q.numRequeues('ns/app', 'external'), 0, 'a reconcile that no longer waits resets the backoff');
    await tick(100);
    assert.equal(times.length, n + 1, 'and is not retried again');
    q.shutdown();
    await pool.drained();
    const text = await metrics.registry.metrics();
    assert.match(text, new RegExp(`nebari_operator_reconciles_total\\{result="requeue"\\} ${n}`));
    assert.match(text, /nebari_operator_reconciles_total\{result="success"\} 1/);
  });
});
