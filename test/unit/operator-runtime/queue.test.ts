import assert from 'node:assert/strict';
import { WorkQueue } from '../../../operator/src/runtime/queue.js';
import { WorkerPool } from '../../../operator/src/runtime/workers.js';
import { TokenBucket, KeyedBackoff, Backoff } from '../../../operator/src/runtime/ratelimit.js';
import { silentLogger } from '../../../operator/src/runtime/logger.js';
import { OperatorMetrics } from '../../../operator/src/runtime/metrics.js';

const tick = (ms = 0) => new Promise((r) => setTimeout(r, ms));

describe('operator runtime: WorkQueue', () => {
  it('dedupes a key added many times while it waits', async () => {
    const q = new WorkQueue();
    for (let i = 0; i < 5; i++) q.add('ns/a');
    q.add('ns/b');
    assert.equal(q.depth(), 2);
    assert.equal(await q.get(), 'ns/a');
    assert.equal(await q.get(), 'ns/b');
    assert.equal(q.depth(), 0);
  });

  it('never hands a key being processed to a second worker, and re-queues it once if it changed meanwhile', async () => {
    const q = new WorkQueue();
    q.add('k');
    const first = await q.get();
    assert.equal(first, 'k');
    q.add('k'); // changed during the reconcile
    q.add('k');
    let second: string | undefined;
    void q.get().then((k) => (second = k));
    await tick(5);
    assert.equal(second, undefined, 'must not be handed out while processing');
    assert.equal(q.isProcessing('k'), true);
    q.done('k');
    await tick(1);
    assert.equal(second, 'k');
    q.done('k');
    assert.equal(q.depth(), 0);
  });

  it('a key done without a change is not re-queued', async () => {
    const q = new WorkQueue();
    q.add('k');
    await q.get();
    q.done('k');
    assert.equal(q.depth(), 0);
  });

  it('addAfter delays, the earliest delay wins, and the key arrives once', async () => {
    const q = new WorkQueue();
    q.addAfter('k', 200);
    q.addAfter('k', 20);
    q.addAfter('k', 500);
    const t0 = Date.now();
    assert.equal(await q.get(), 'k');
    const waited = Date.now() - t0;
    assert.ok(waited >= 15 && waited < 190, `waited ${waited}ms (the 20 ms delay wins over 200 and 500)`);
    q.done('k');
    await tick(250);
    assert.equal(q.depth(), 0);
    q.shutdown();
  });

  it('addRateLimited backs off exponentially per key and forget() resets', () => {
    const q = new WorkQueue({ backoffBaseMs: 10, backoffMaxMs: 70 });
    const delays = [q.addRateLimited('a'), q.addRateLimited('a'), q.addRateLimited('a'), q.addRateLimited('a')];
    assert.deepEqual(delays, [10, 20, 40, 70]);
    assert.equal(q.addRateLimited('b'), 10, 'other keys have their own backoff');
    q.forget('a');
    assert.equal(q.addRateLimited('a'), 10);
    q.shutdown();
  });

  it('shutdown wakes waiting workers with undefined and drops further adds', async () => {
    const q = new WorkQueue();
    const p = q.get();
    q.shutdown();
    assert.equal(await p, undefined);
    q.add('x');
    assert.equal(await q.get(), undefined);
  });
});

describe('operator runtime: WorkerPool', () => {
  it('runs keys with bounded concurrency and never two reconciles of one key at once', async () => {
    const q = new WorkQueue({ backoffBaseMs: 5 });
    let running = 0;
    let maxRunning = 0;
    const active = new Set<string>();
    let overlap = false;
    const seen: string[] = [];
    const pool = new WorkerPool({
      queue: q,
      concurrency: 3,
      log: silentLogger,
      reconcile: async (key) => {
        if (active.has(key)) overlap = true;
        active.add(key);
        running++;
        maxRunning = Math.max(maxRunning, running);
        seen.push(key);
        await tick(10);
        if (key === 'k0' && seen.filter((k) => k === 'k0').length === 1) q.add('k0'); // changes during its own reconcile
        running--;
        active.delete(key);
      },
    });
    for (let i = 0; i < 10; i++) q.add(`k${i}`);
    q.add('k1'); // still waiting: deduped
    pool.start();
    for (let i = 0; i < 300 && seen.length < 11; i++) await tick(10);
    await tick(30);
    q.shutdown();
    await pool.drained();
    assert.equal(overlap, false);
    assert.ok(maxRunning <= 3 && maxRunning >= 2, `max concurrency ${maxRunning}`);
    assert.equal(seen.filter((k) => k === 'k0').length, 2, 'k0 re-queued once after changing during reconcile');
    assert.equal(seen.filter((k) => k === 'k1').length, 1, 'k1 deduped');
    assert.equal(new Set(seen).size, 10);
  });

  it('beforeDone runs once per reconcile while the key still counts as processing, and may re-queue it', async () => {
    const q = new WorkQueue();
    const calls: string[] = [];
    let requeued = false;
    const pool = new WorkerPool({
      queue: q,
      concurrency: 1,
      log: silentLogger,
      reconcile: async (key) => {
        calls.push(`reconcile ${key}`);
        if (key === 'b') throw new Error('boom');
      },
      beforeDone: (key) => {
        calls.push(`beforeDone ${key} processing=${q.isProcessing(key)}`);
        // a held-back event that turned out not to be the reconcile's own: the key runs once more
        if (key === 'a' && !requeued) {
          requeued = true;
          q.add('a');
        }
      },
    });
    pool.start();
    q.add('a');
    for (let i = 0; i < 100 && calls.length < 4; i++) await tick(5);
    q.add('b');
    for (let i = 0; i < 100 && calls.length < 6; i++) await tick(5);
    q.shutdown();
    await pool.drained();
    assert.deepEqual(calls, [
      'reconcile a',
      'beforeDone a processing=true',
      'reconcile a',
      'beforeDone a processing=true',
      'reconcile b',
      'beforeDone b processing=true',
    ]);
  });

  it('retries a failing key with backoff, counts results in metrics, then succeeds', async () => {
    const q = new WorkQueue({ backoffBaseMs: 20, backoffMaxMs: 400 });
    const metrics = new OperatorMetrics();
    let calls = 0;
    const times: number[] = [];
    const pool = new WorkerPool({
      queue: q,
      concurrency: 1,
      log: silentLogger,
      metrics,
      reconcile: async () => {
        times.push(Date.now());
        if (++calls < 4) throw new Error('boom');
      },
    });
    pool.start();
    q.add('x');
    for (let i = 0; i < 300 && calls < 4; i++) await tick(10);
    await tick(20);
    q.shutdown();
    await pool.drained();
    assert.equal(calls, 4);
    assert.equal(q.numRequeues('x'), 0, 'success forgets the backoff');
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    assert.ok(gaps[0]! >= 15, `first retry after ~20 ms: ${gaps.join(',')}`);
    assert.ok(gaps[2]! >= 70, `third retry after ~80 ms (exponential): ${gaps.join(',')}`);
    const text = await metrics.registry.metrics();
    assert.match(text, /nebari_operator_reconciles_total\{result="error"\} 3/);
    assert.match(text, /nebari_operator_reconciles_total\{result="success"\} 1/);
  });

  it('requeueAfterMs from a successful reconcile schedules the key again', async () => {
    const q = new WorkQueue();
    let calls = 0;
    const pool = new WorkerPool({
      queue: q,
      concurrency: 1,
      log: silentLogger,
      reconcile: async () => (++calls === 1 ? { requeueAfterMs: 20 } : undefined),
    });
    pool.start();
    q.add('x');
    await tick(80);
    q.shutdown();
    await pool.drained();
    assert.equal(calls, 2);
  });

  it('the token bucket limits how fast reconciles start overall', async () => {
    const q = new WorkQueue();
    const starts: number[] = [];
    const pool = new WorkerPool({
      queue: q,
      concurrency: 8,
      log: silentLogger,
      bucket: new TokenBucket(50, 2),
      reconcile: async () => {
        starts.push(performance.now());
      },
    });
    pool.start();
    for (let i = 0; i < 7; i++) q.add(`k${i}`);
    for (let i = 0; i < 300 && starts.length < 7; i++) await tick(10);
    q.shutdown();
    await pool.drained();
    assert.equal(starts.length, 7);
    const span = starts[6]! - starts[0]!;
    // 2 immediately (burst), 5 more at 50/s = ~100 ms
    assert.ok(span >= 80, `7 reconciles took ${span.toFixed(0)}ms, expected >= ~100ms at 50/s burst 2`);
  });
});

describe('operator runtime: rate limit primitives', () => {
  it('TokenBucket refills continuously up to burst (injected clock)', () => {
    let t = 0;
    const b = new TokenBucket(10, 3, () => t);
    assert.equal(b.tryTake(), true);
    assert.equal(b.tryTake(), true);
    assert.equal(b.tryTake(), true);
    assert.equal(b.tryTake(), false);
    assert.equal(b.waitTime(), 100);
    t += 100;
    assert.equal(b.tryTake(), true);
    t += 10_000;
    let n = 0;
    while (b.tryTake()) n++;
    assert.equal(n, 3, 'never more than burst');
  });

  it('TokenBucket rejects nonsense settings', () => {
    assert.throws(() => new TokenBucket(0, 1), /ratePerSecond must be > 0/);
    assert.throws(() => new TokenBucket(1, 0), /burst must be >= 1/);
  });

  it('KeyedBackoff and Backoff cap at max', () => {
    const k = new KeyedBackoff(100, 1000);
    const seq = Array.from({ length: 6 }, () => k.next('a'));
    assert.deepEqual(seq, [100, 200, 400, 800, 1000, 1000]);
    const b = new Backoff(100, 1000, 0);
    assert.deepEqual(Array.from({ length: 6 }, () => b.next()), [100, 200, 400, 800, 1000, 1000]);
    b.reset();
    assert.equal(b.next(), 100);
  });
});
