// Informer logic with a SCRIPTED list/watch source standing in for the API server (the real one is exercised by
// test/integration/operator: watches re-established after an API server restart). The stand-in lets a test force
// what a real server does rarely: 410 Gone, a failing watch, bookmarks.
import assert from 'node:assert/strict';
import { Informer, type ListWatcher } from '../../../operator/src/runtime/informer.js';
import { ApiError, type KubeObject, type WatchEvent } from '../../../operator/src/runtime/kube.js';
import { silentLogger } from '../../../operator/src/runtime/logger.js';

const obj = (name: string, rv: string, extra: Record<string, unknown> = {}): KubeObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'ns', resourceVersion: rv, managedFields: [{}] }, ...extra });

function untilAborted(signal: AbortSignal): Promise<void> {
  return new Promise<void>((r) => (signal.aborted ? r() : signal.addEventListener('abort', () => r(), { once: true })));
}

type Step = { events: WatchEvent[]; thenThrow?: unknown } ;

/** Scripted source: each list() returns the next listing, each watch() plays the next step. */
class Script implements ListWatcher<KubeObject> {
  lists: { items: KubeObject[]; resourceVersion: string }[] = [];
  steps: Step[] = [];
  watchRVs: string[] = [];
  listCalls = 0;
  async list() {
    this.listCalls++;
    const l = this.lists.shift();
    if (!l) throw new Error('no more lists');
    return l;
  }
  async *watch(rv: string, signal: AbortSignal) {
    this.watchRVs.push(rv);
    const s = this.steps.shift();
    if (!s) {
      // idle until aborted
      await untilAborted(signal);
      return;
    }
    for (const e of s.events) yield e;
    if (s.thenThrow) throw s.thenThrow;
  }
}

const settle = () => new Promise((r) => setTimeout(r, 30));

describe('operator runtime: Informer (scripted API stand-in)', () => {
  it('lists, then applies watch events to the cache and calls handlers; managedFields are dropped', async () => {
    const s = new Script();
    s.lists.push({ items: [obj('a', '1')], resourceVersion: '10' });
    s.steps.push({ events: [{ type: 'ADDED', object: obj('b', '11') }, { type: 'MODIFIED', object: obj('a', '12') }, { type: 'DELETED', object: obj('b', '13') }] });
    const seen: string[] = [];
    const inf = new Informer({ name: 't', listWatcher: s, log: silentLogger }).on((t, o) => seen.push(`${t}:${o.metadata.name}`));
    inf.start();
    await inf.waitForSync();
    await settle();
    assert.deepEqual(seen, ['add:a', 'add:b', 'update:a', 'delete:b']);
    assert.equal(inf.get('ns', 'a')?.metadata.resourceVersion, '12');
    assert.equal(inf.get('ns', 'b'), undefined);
    assert.equal(inf.get('ns', 'a')?.metadata.managedFields, undefined);
    assert.deepEqual(s.watchRVs, ['10', '13'], 'the next watch resumes from the last seen resourceVersion');
    await inf.stop();
  });

  it('410 Gone in the watch stream re-lists; objects deleted meanwhile produce delete events', async () => {
    const s = new Script();
    s.lists.push({ items: [obj('a', '1'), obj('b', '2')], resourceVersion: '10' });
    s.steps.push({ events: [{ type: 'ERROR', object: { code: 410, message: 'too old resource version' } as unknown as KubeObject }] });
    s.lists.push({ items: [obj('a', '30'), obj('c', '31')], resourceVersion: '40' });
    const seen: string[] = [];
    const inf = new Informer({ name: 't', listWatcher: s, log: silentLogger }).on((t, o) => seen.push(`${t}:${o.metadata.name}`));
    inf.start();
    await settle();
    assert.deepEqual(seen, ['add:a', 'add:b', 'update:a', 'add:c', 'delete:b']);
    assert.equal(inf.stats.relistsAfterGone, 1);
    assert.equal(s.listCalls, 2);
    assert.deepEqual(s.watchRVs, ['10', '40']);
    await inf.stop();
  });

  it('a 410 ApiError from starting the watch also re-lists', async () => {
    const s = new Script();
    s.lists.push({ items: [], resourceVersion: '5' });
    s.steps.push({ events: [], thenThrow: new ApiError(410, 'Expired', 'gone') });
    s.lists.push({ items: [obj('x', '9')], resourceVersion: '9' });
    const inf = new Informer({ name: 't', listWatcher: s, log: silentLogger });
    inf.start();
    await settle();
    assert.equal(inf.size, 1);
    assert.equal(inf.stats.relistsAfterGone, 1);
    await inf.stop();
  });

  it('a failing watch is restarted with backoff from the last resourceVersion, without re-listing', async () => {
    const s = new Script();
    s.lists.push({ items: [], resourceVersion: '1' });
    s.steps.push({ events: [{ type: 'ADDED', object: obj('a', '2') }], thenThrow: new Error('connection reset') });
    s.steps.push({ events: [], thenThrow: new Error('connection refused') });
    s.steps.push({ events: [{ type: 'BOOKMARK', object: { metadata: { name: '', resourceVersion: '50' } } as KubeObject }] });
    const inf = new Informer({ name: 't', listWatcher: s, log: silentLogger, backoffInitialMs: 20, backoffMaxMs: 100 });
    const t0 = Date.now();
    inf.start();
    for (let i = 0; i < 300 && s.watchRVs.length < 4; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(s.listCalls, 1, 'no re-list for a plain failure');
    assert.equal(inf.stats.failures, 2);
    assert.deepEqual(s.watchRVs.slice(0, 4), ['1', '2', '2', '50'], 'resumed from the last RV; bookmark advanced it');
    assert.ok(Date.now() - t0 >= 40, 'backed off between attempts');
    assert.equal(inf.size, 1);
    await inf.stop();
  });

  it('a failing initial list is retried until it succeeds; waitForSync resolves only then', async () => {
    let calls = 0;
    const lw: ListWatcher<KubeObject> = {
      list: async () => {
        if (++calls < 3) throw new Error('apiserver not ready');
        return { items: [obj('a', '1')], resourceVersion: '1' };
      },
      watch: async function* (_rv, signal) {
        yield* [];
        await untilAborted(signal);
      },
    };
    const inf = new Informer({ name: 't', listWatcher: lw, log: silentLogger, backoffInitialMs: 5, backoffMaxMs: 20 });
    inf.start();
    assert.equal(inf.hasSynced(), false);
    await inf.waitForSync();
    assert.equal(calls, 3);
    assert.equal(inf.size, 1);
    await inf.stop();
  });
});
