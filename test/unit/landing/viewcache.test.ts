// The per-viewer list cache: which store change touches which list (pure), and the cache against a real AppStore:
// after any sequence of changes every cached list is byte-for-byte what a fresh build gives (nothing stale, nothing
// private), while lists a change cannot touch are kept (same ETag, no rebuild).
import assert from 'node:assert/strict';
import { gunzipSync } from 'node:zlib';
import fc from 'fast-check';
import { requestableFor } from '../../../packs/landing/src/features.js';
import { viewFor, type Entry, type Health, type Viewer } from '../../../packs/landing/src/model.js';
import { AppStore, type StoreChange } from '../../../packs/landing/src/store.js';
import { changeAffects, Encoded, MAX_CACHED_VIEWS, ViewCache, viewerKey } from '../../../packs/landing/src/viewcache.js';

const entry = (id: string, over: Partial<Entry> = {}): Entry => ({
  id,
  name: id.toUpperCase(),
  description: '',
  url: `https://${id.replace('/', '-')}.example.com/`,
  icon: { kind: 'builtin', id: 'app' },
  category: 'Platform',
  priority: 100,
  visibility: 'public',
  requiredGroups: [],
  health: null,
  ...over,
});
const target = { service: 's', namespace: 'ns', port: 80, path: '/', intervalSeconds: 10, timeoutSeconds: 1 };
const anon = null;
const data: Viewer = { sub: 'd', groups: ['/data'] };
const ops: Viewer = { sub: 'o', groups: ['ops'] };
const nobody: Viewer = { sub: 'n', groups: [] };

/** The list as the server builds it (server.ts), from the store as it is now. */
const builder = (store: AppStore, requests: boolean) => (v: Viewer | null) => {
  const groups = viewFor(store.all(), v, store.healthOf);
  return { groups, payload: v && requests ? { groups, requestable: requestableFor(store.all(), v) } : { groups } };
};

describe('landing view cache: which change touches which list', () => {
  const pub = entry('ns/pub');
  const priv = entry('ns/priv', { visibility: 'private', requiredGroups: ['data'] });
  const anyone = entry('ns/anyone', { visibility: 'private', requiredGroups: [] });
  const askable = entry('ns/ask', { visibility: 'private', requiredGroups: ['data'], requestable: true });
  const e = (before: Entry | undefined, after: Entry | undefined): StoreChange => ({ kind: 'entry', id: (before ?? after)!.id, before, after });

  it('keys viewers by their normalized group set', () => {
    assert.equal(viewerKey(null), 'anon');
    assert.equal(viewerKey({ sub: 'a', groups: ['/b', 'a', 'b'] }), viewerKey({ sub: 'z', groups: ['a', 'b'] }));
    assert.notEqual(viewerKey(nobody), viewerKey(null), 'signed in without groups is not anonymous');
    assert.notEqual(viewerKey(data), viewerKey(ops));
  });
  it('remembers the key of a frozen group list only; a mutable list is keyed as it is now', () => {
    const frozen = Object.freeze(['/data', 'ops']) as string[];
    assert.equal(viewerKey({ sub: 'a', groups: frozen }), viewerKey({ sub: 'b', groups: ['ops', 'data'] }));
    assert.equal(viewerKey({ sub: 'a', groups: frozen }), viewerKey({ sub: 'b', groups: ['ops', 'data'] }), 'the remembered key is the same');
    const mutable = ['data'];
    const before = viewerKey({ sub: 'c', groups: mutable });
    mutable.push('admins');
    assert.notEqual(viewerKey({ sub: 'c', groups: mutable }), before, 'a changed list gets its new key');
    assert.equal(viewerKey({ sub: 'c', groups: mutable }), viewerKey({ sub: 'd', groups: ['admins', 'data'] }));
  });
  it('a public app touches every list', () => {
    for (const v of [anon, data, ops, nobody]) assert.equal(changeAffects(e(undefined, pub), v, true), true);
  });
  it('a private app touches only the lists of those who see it, before or after the change', () => {
    assert.deepEqual([anon, data, ops, nobody].map((v) => changeAffects(e(undefined, priv), v, false)), [false, true, false, false]);
    assert.deepEqual([anon, data, ops, nobody].map((v) => changeAffects(e(undefined, anyone), v, false)), [false, true, true, true]);
    const madePublic = e(priv, { ...priv, visibility: 'public', requiredGroups: [] });
    assert.deepEqual([anon, data, ops].map((v) => changeAffects(madePublic, v, false)), [true, true, true]);
    const moved = e(priv, { ...priv, requiredGroups: ['ops'] });
    assert.deepEqual([anon, data, ops, nobody].map((v) => changeAffects(moved, v, false)), [false, true, true, false]);
    assert.deepEqual([anon, data, ops].map((v) => changeAffects(e(priv, undefined), v, false)), [false, true, false]);
  });
  it('a requestable app also touches the lists that offer it (when lists carry request cards)', () => {
    assert.deepEqual([anon, data, ops, nobody].map((v) => changeAffects(e(undefined, askable), v, true)), [false, true, true, true]);
    assert.deepEqual([anon, data, ops, nobody].map((v) => changeAffects(e(undefined, askable), v, false)), [false, true, false, false]);
  });
  it('a health result touches only the lists that show the app; a re-list touches all', () => {
    const probed = { ...priv, health: target };
    assert.deepEqual([anon, data, ops].map((v) => changeAffects({ kind: 'health', id: probed.id, entry: probed }, v, true)), [false, true, false]);
    for (const v of [anon, data]) assert.equal(changeAffects({ kind: 'all' }, v, true), true);
  });
});

describe('landing view cache on a real store', () => {
  it('builds a list once, keeps it across changes that cannot touch it, rebuilds after one that does', () => {
    const store = new AppStore();
    store.upsert(entry('ns/pub', { health: target }));
    store.upsert(entry('ns/priv', { visibility: 'private', requiredGroups: ['data'], health: target }));
    const cache = new ViewCache(store, true);
    const a1 = cache.get(anon);
    assert.equal(cache.get(anon), a1);
    assert.equal(cache.get({ sub: 'other', groups: [] }), cache.get(nobody), 'same key, same list');
    const d1 = cache.get(data);
    assert.equal(cache.builds, 3);

    store.setHealth('ns/priv', 'unhealthy');
    assert.equal(cache.get(anon), a1, 'a private app\'s health leaves the anonymous list alone');
    const d2 = cache.get(data);
    assert.notEqual(d2.etag, d1.etag);
    assert.equal(JSON.parse(d2.body.toString()).groups[0].apps.find((c: { id: string }) => c.id === 'ns/priv').health, 'unhealthy');

    store.setHealth('ns/priv', 'unhealthy');
    assert.equal(cache.get(data), d2, 'the same probe result again is no change');

    store.upsert(entry('ns/pub', { health: target, name: 'Renamed' }));
    const a2 = cache.get(anon);
    assert.notEqual(a2, a1);
    assert.match(a2.body.toString(), /Renamed/);
  });

  it('is bounded: the least recently used list goes first', () => {
    const store = new AppStore();
    store.upsert(entry('ns/pub'));
    const cache = new ViewCache(store, false, 3);
    const v = (g: string): Viewer => ({ sub: g, groups: [g] });
    const a = cache.get(v('a'));
    cache.get(v('b'));
    cache.get(v('c'));
    assert.equal(cache.get(v('a')), a, 'a used again');
    cache.get(v('d'));
    assert.equal(cache.size, 3);
    assert.equal(cache.get(v('a')), a, 'a kept');
    const builds = cache.builds;
    cache.get(v('b'));
    assert.equal(cache.builds, builds + 1, 'b (least recently used) was dropped');
    assert.ok(MAX_CACHED_VIEWS >= 16);
  });

  it('gzips a body once, off the event loop, and it decodes to the body', async () => {
    const enc = Encoded.json({ groups: Array.from({ length: 200 }, (_, i) => ({ category: `c${i}`, apps: [] })) });
    assert.equal(enc.gz, undefined);
    const [x, y] = await Promise.all([enc.gzipped(), enc.gzipped()]);
    assert.equal(x, y);
    assert.equal(enc.gz, x);
    assert.deepEqual(gunzipSync(x), enc.body);
    assert.ok(x.length < enc.body.length);
    assert.match(enc.etag, /^"[\w-]{22}"$/);
    assert.equal(Encoded.json(JSON.parse(enc.body.toString())).etag, enc.etag, 'the ETag is a function of the bytes');
  });

  it('property: after any sequence of changes every cached list equals a fresh build', () => {
    const GROUPS = ['data', 'ops', '/ml'];
    const ids = ['ns/a', 'ns/b', 'ns/c', 'ns/d', 'ns/e'];
    const viewers: Array<Viewer | null> = [null, { sub: 'x', groups: [] }, { sub: 'd', groups: ['data'] }, { sub: 'o', groups: ['ops', 'ml'] }, { sub: 'all', groups: GROUPS }];
    const entryArb = fc.record({
      id: fc.constantFrom(...ids),
      name: fc.constantFrom('A', 'b', 'C', 'a'),
      category: fc.constantFrom('Platform', 'Other', 'data', 'Data', 'Ünïcode "quoted"'),
      priority: fc.integer({ min: 0, max: 3 }),
      private: fc.boolean(),
      groups: fc.subarray(GROUPS),
      requestable: fc.boolean(),
      probed: fc.boolean(),
    });
    const op = fc.oneof(
      entryArb.map((x) => ({ kind: 'upsert' as const, x })),
      fc.constantFrom(...ids).map((id) => ({ kind: 'remove' as const, id })),
      fc.record({ id: fc.constantFrom(...ids), h: fc.constantFrom<Health>('healthy', 'unhealthy') }).map((x) => ({ kind: 'health' as const, ...x })),
      fc.constant({ kind: 'relist' as const }),
    );
    fc.assert(
      fc.property(fc.boolean(), fc.array(op, { maxLength: 40 }), (requests, ops) => {
        const store = new AppStore();
        const cache = new ViewCache(store, requests);
        // The reference: JSON.stringify of what viewFor/requestableFor give (the cache concatenates card bytes).
        const fresh = (v: Viewer | null) => Encoded.json(builder(store, requests)(v).payload);
        for (const o of ops) {
          const before = viewers.map((v) => cache.get(v));
          if (o.kind === 'upsert') {
            const { x } = o;
            store.upsert(entry(x.id, { name: x.name, category: x.category, priority: x.priority, visibility: x.private ? 'private' : 'public', requiredGroups: x.private ? x.groups : [], requestable: x.requestable, health: x.probed ? target : null }));
          } else if (o.kind === 'remove') store.remove(o.id);
          else if (o.kind === 'health') store.setHealth(o.id, o.h);
          else store.replaceAll([...store.all()]);
          viewers.forEach((v, i) => {
            const now = cache.get(v);
            assert.deepEqual(now.body.toString(), fresh(v).body.toString(), `list of ${viewerKey(v)} after ${JSON.stringify(o)}`);
            if (v === null && o.kind === 'health' && store.get(o.id)?.visibility === 'private') assert.equal(now, before[i], 'a private app\'s health does not rebuild the anonymous list');
          });
        }
      }),
      { numRuns: 300 },
    );
  });
});
