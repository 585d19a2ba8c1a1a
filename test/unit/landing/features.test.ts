// The pure decisions behind pins, access requests and notifications.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  InputError,
  checkDecision,
  checkNewRequest,
  effectiveGroups,
  emptyUserState,
  healthTransition,
  markRead,
  notificationsFor,
  parsePinInput,
  parseUserState,
  requestableFor,
  setPin,
  userStateName,
  type AccessRequest,
} from '../../../packs/landing/src/features.js';
import type { Entry } from '../../../packs/landing/src/model.js';

const entry = (over: Partial<Entry>): Entry => ({
  id: 'ns/x',
  name: 'X',
  description: '',
  url: 'https://x.example.com/',
  icon: { kind: 'builtin', id: 'app' },
  category: 'Platform',
  priority: 100,
  visibility: 'private',
  requiredGroups: ['data', 'ml'],
  health: null,
  requestable: true,
  ...over,
});
const req = (over: Partial<AccessRequest>): AccessRequest => ({ v: 1, id: '0123456789abcdef', app: 'ns/x', sub: 'bob', name: 'Bob', email: '', reason: '', createdAt: 1, status: 'pending', ...over });
const refused = (fn: () => unknown, status: number, field: string): void =>
  assert.throws(fn, (e: unknown) => e instanceof InputError && e.status === status && e.field === field && e.message.startsWith(field === 'actor' ? '' : field));

describe('landing features: pins and user state', () => {
  it('pin input names the field and what is allowed', () => {
    refused(() => parsePinInput({ app: '../etc', pinned: true }), 400, 'app');
    refused(() => parsePinInput({ app: 'ns/x', pinned: 1 }), 400, 'pinned');
    assert.deepEqual(parsePinInput({ app: 'ns/x', pinned: false }), { app: 'ns/x', pinned: false });
  });
  it('pinning is idempotent and keeps the pin order; unpinning removes', () => {
    let s = setPin(emptyUserState('u'), 'ns/a', true);
    s = setPin(setPin(s, 'ns/b', true), 'ns/a', true);
    assert.deepEqual(s.pins, ['ns/b', 'ns/a']);
    assert.deepEqual(setPin(s, 'ns/b', false).pins, ['ns/a']);
  });
  it('a stored state of another user or garbage reads as empty; names are DNS-safe for any sub', () => {
    assert.deepEqual(parseUserState(JSON.stringify({ sub: 'eve', pins: ['ns/a'] }), 'bob').pins, []);
    assert.deepEqual(parseUserState('{', 'bob'), emptyUserState('bob'));
    fc.assert(fc.property(fc.string(), (sub) => /^[a-z0-9-]{1,63}$/.test(userStateName(sub))));
  });
});

describe('landing features: access requests', () => {
  const admin = { sub: 'alice', groups: ['admins'] };
  it('only opted-in private apps the viewer cannot open are requestable; the card has no URL or groups', () => {
    const bob = { sub: 'bob', groups: ['users'] };
    const list = requestableFor([entry({}), entry({ id: 'ns/y', requestable: false }), entry({ id: 'ns/z', requiredGroups: ['users'] }), entry({ id: 'ns/p', visibility: 'public' })], bob);
    assert.deepEqual(list.map((c) => c.id), ['ns/x']);
    assert.deepEqual(Object.keys(list[0]!).sort(), ['category', 'description', 'icon', 'id', 'name']);
    assert.deepEqual(requestableFor([entry({})], null), []);
    refused(() => checkNewRequest(entry({ requestable: false }), bob, []), 404, 'app');
    refused(() => checkNewRequest(entry({}), bob, [req({})]), 409, 'app');
  });
  it('decisions: admins only, never your own, pending only, into a group the app lists', () => {
    const e = entry({});
    refused(() => checkDecision(req({}), e, { sub: 'carol', groups: ['users'] }, ['admins'], { decision: 'deny' }), 403, 'actor');
    refused(() => checkDecision(req({ sub: 'alice' }), e, admin, ['admins'], { decision: 'approve', group: 'data' }), 403, 'actor');
    refused(() => checkDecision(req({ status: 'denied' }), e, admin, ['admins'], { decision: 'approve', group: 'data' }), 409, 'status');
    refused(() => checkDecision(req({}), e, admin, ['admins'], { decision: 'approve', group: 'admins' }), 400, 'group');
    refused(() => checkDecision(req({}), e, admin, ['admins'], { decision: 'approve' }), 400, 'group');
    assert.deepEqual(checkDecision(req({}), e, admin, ['/admins'], { decision: 'approve', group: '/ml' }), { group: 'ml' });
    assert.deepEqual(checkDecision(req({}), entry({ requiredGroups: ['data'] }), admin, ['admins'], { decision: 'approve' }), { group: 'data' });
    assert.deepEqual(checkDecision(req({}), e, admin, ['admins'], { decision: 'deny' }), {});
  });
  it('approved groups widen only sessions issued before the decision, only for the requester', () => {
    const r = [req({ status: 'approved', group: 'data', decidedAt: 5000 }), req({ sub: 'eve', status: 'approved', group: 'ml', decidedAt: 5000 })];
    assert.deepEqual(effectiveGroups(['users'], 'bob', 4, r), ['users', 'data']);
    assert.deepEqual(effectiveGroups(['users'], 'bob', 6, r), ['users'], 'a newer token carries the truth');
    assert.deepEqual(effectiveGroups(['users'], 'bob', 4, [req({ status: 'denied', group: 'data', decidedAt: 5000 })]), ['users']);
  });
  it('nothing approved since the token: the token\'s own group list, never a changed copy of it', () => {
    const token = Object.freeze(['users', 'data']) as string[];
    assert.equal(effectiveGroups(token, 'bob', 6, [req({ status: 'approved', group: 'ml', decidedAt: 5000 })]), token, 'same array (its list key is remembered)');
    assert.equal(effectiveGroups(token, 'bob', 4, [req({ status: 'approved', group: '/data', decidedAt: 5000 })]), token, 'an approval into a group held already');
    const widened = effectiveGroups(token, 'bob', 4, [req({ status: 'approved', group: 'ml', decidedAt: 5000 })]);
    assert.deepEqual(widened, ['users', 'data', 'ml']);
    assert.deepEqual(token, ['users', 'data'], 'the token\'s list is left as it was');
  });
});

describe('landing features: notifications', () => {
  it('only known states flipping notify', () => {
    assert.equal(healthTransition('healthy', 'unhealthy'), 'unhealthy');
    assert.equal(healthTransition('unhealthy', 'healthy'), 'recovered');
    assert.equal(healthTransition(undefined, 'unhealthy'), null);
    assert.equal(healthTransition('unknown', 'unhealthy'), null);
  });
  it('health events of apps the viewer cannot see are dropped; read marks by id and by instant', () => {
    const apps = new Map([
      ['ns/pub', entry({ id: 'ns/pub', name: 'Pub', visibility: 'public', requiredGroups: [] })],
      ['ns/priv', entry({ id: 'ns/priv', name: 'Priv' })],
    ]);
    const health = [
      { app: 'ns/pub', state: 'unhealthy' as const, at: 10 },
      { app: 'ns/priv', state: 'unhealthy' as const, at: 11 },
      { app: 'ns/pub', state: 'recovered' as const, at: 12 },
    ];
    const bob = { sub: 'bob', groups: ['users'] };
    const reqs = [req({ app: 'ns/priv', status: 'denied', decidedAt: 13 })];
    let st = emptyUserState('bob');
    const n = notificationsFor(bob, (id) => apps.get(id), health, reqs, st);
    assert.deepEqual(n.map((x) => x.text), ['Your request for Priv was denied', 'Pub has recovered', 'Pub is unhealthy']);
    st = markRead(st, { ids: ['health:ns/pub:12'] }, 100);
    assert.deepEqual(notificationsFor(bob, (id) => apps.get(id), health, reqs, st).map((x) => x.read), [false, true, false]);
    st = markRead(st, { all: true }, 100);
    assert.ok(notificationsFor(bob, (id) => apps.get(id), health, reqs, st).every((x) => x.read));
  });
});

describe('landing view: pages', () => {
  it('pages cut the ordered cards into consecutive slices, regrouped under their categories', async () => {
    const { pageGroups } = await import('../../../packs/landing/src/view.js');
    const card = (id: string, category: string) => ({ id, name: id, description: '', url: 'https://x/', icon: { kind: 'builtin' as const, id: 'app' as const }, category, priority: 1, visibility: 'public' as const, health: null });
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 5 }), { maxLength: 6 }), fc.integer({ min: 1, max: 7 }), (sizes, limit) => {
        const groups = sizes.map((n, gi) => ({ category: `c${gi}`, apps: Array.from({ length: n }, (_, i) => card(`c${gi}-${i}`, `c${gi}`)) })).filter((g) => g.apps.length > 0);
        const flat = groups.flatMap((g) => g.apps.map((a) => a.id));
        const got: string[] = [];
        for (let off = 0; off < flat.length; off += limit) {
          const p = pageGroups(groups, off, limit);
          assert.equal(p.total, flat.length);
          assert.ok(p.groups.every((g) => g.apps.length > 0 && g.apps.every((a) => a.category === g.category)));
          got.push(...p.groups.flatMap((g) => g.apps.map((a) => a.id)));
        }
        assert.deepEqual(got, flat);
      }),
    );
  });
});
