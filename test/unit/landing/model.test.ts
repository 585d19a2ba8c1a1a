import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  canSee,
  entryFromApp,
  filterGroups,
  groupCards,
  healthTarget,
  resolveIcon,
  resolveUrl,
  safeHttpUrl,
  toCard,
  viewFor,
  UNCATEGORIZED,
  type Card,
  type Entry,
} from '../../../packs/landing/src/model.js';
import type { NebariAppLike } from '../../../packs/landing/src/contract.js';

function app(name: string, spec: NebariAppLike['spec'], extra: Partial<NebariAppLike> = {}): NebariAppLike {
  return {
    apiVersion: 'reconcilers.nebari.dev/v1',
    kind: 'NebariApp',
    metadata: { name, namespace: 'team', generation: 1 },
    spec: { hostname: `${name}.example.com`, service: { name, port: 8080 }, ...spec },
    ...extra,
  };
}

function entry(over: Partial<Entry>): Entry {
  return {
    id: 'ns/x',
    name: 'X',
    description: '',
    url: 'https://x.example.com/',
    icon: { kind: 'builtin', id: 'app' },
    category: 'Platform',
    priority: 100,
    visibility: 'public',
    requiredGroups: [],
    health: null,
    ...over,
  };
}

function card(over: Partial<Card>): Card {
  return toCard(entry(over as Partial<Entry>), null);
}

describe('landing model: URL resolution', () => {
  it('uses externalUrl when set', () => {
    const a = app('grafana', { routing: {}, landingPage: { enabled: true, displayName: 'G', externalUrl: 'https://dash.example.com/home' } });
    assert.equal(resolveUrl(a), 'https://dash.example.com/home');
  });
  it('defaults to https://hostname with routing and TLS on', () => {
    assert.equal(resolveUrl(app('a', { routing: {} })), 'https://a.example.com/');
    assert.equal(resolveUrl(app('a', { routing: { tls: { enabled: true } } })), 'https://a.example.com/');
  });
  it('uses http when routing.tls.enabled is false or routing is absent', () => {
    assert.equal(resolveUrl(app('a', { routing: { tls: { enabled: false } } })), 'http://a.example.com/');
    assert.equal(resolveUrl(app('a', {})), 'http://a.example.com/');
  });
  it('refuses non-http(s) and credential-bearing URLs', () => {
    assert.equal(safeHttpUrl('javascript:alert(1)'), null);
    assert.equal(safeHttpUrl('data:text/html,<script>alert(1)</script>'), null);
    assert.equal(safeHttpUrl('https://user:pw@example.com/'), null);
    assert.equal(safeHttpUrl('/relative'), null);
    assert.equal(safeHttpUrl('https://ok.example.com/x?y=1'), 'https://ok.example.com/x?y=1');
    const a = app('evil', { routing: {}, landingPage: { enabled: true, displayName: 'E', externalUrl: 'javascript:alert(1)' } });
    const r = entryFromApp(a);
    assert.equal(r.ok, false);
  });
  it('status.serviceDiscovery.url wins when the status is current; a bad status URL falls back to the spec', () => {
    const a = app('j', { routing: {}, landingPage: { enabled: true, displayName: 'J' } }, {
      status: { observedGeneration: 1, serviceDiscovery: { enabled: true, displayName: 'Jupyter', url: 'https://jupyter.example.com/hub', visibility: 'public' } },
    });
    const r = entryFromApp(a);
    assert.ok(r.ok);
    assert.equal(r.entry.url, 'https://jupyter.example.com/hub');
    assert.equal(r.entry.name, 'Jupyter');
    a.status!.serviceDiscovery!.url = 'javascript:alert(1)';
    const r2 = entryFromApp(a);
    assert.ok(r2.ok);
    assert.equal(r2.entry.url, 'https://j.example.com/');
  });
});

describe('landing model: which apps become cards', () => {
  it('skips apps without landingPage.enabled', () => {
    const r = entryFromApp(app('a', { landingPage: { enabled: false, displayName: 'A' } }));
    assert.deepEqual(r, { ok: false, reason: 'spec.landingPage.enabled is not true' });
    assert.equal(entryFromApp(app('b', {})).ok, false);
  });
  it('requires a displayName when enabled', () => {
    const r = entryFromApp(app('a', { landingPage: { enabled: true } }));
    assert.equal(r.ok, false);
    assert.match((r as { reason: string }).reason, /displayName/);
  });
  it('applies defaults: priority 100, category Other, generic icon', () => {
    const r = entryFromApp(app('a', { landingPage: { enabled: true, displayName: 'A' } }));
    assert.ok(r.ok);
    assert.equal(r.entry.priority, 100);
    assert.equal(r.entry.category, UNCATEGORIZED);
    assert.deepEqual(r.entry.icon, { kind: 'builtin', id: 'app' });
    assert.equal(r.entry.id, 'team/a');
  });
  it('spec fallback: auth disabled is public, auth enabled is private with auth.groups', () => {
    const pub = entryFromApp(app('a', { landingPage: { enabled: true, displayName: 'A' } }));
    assert.ok(pub.ok);
    assert.equal(pub.entry.visibility, 'public');
    const priv = entryFromApp(app('b', { auth: { enabled: true, groups: ['admins'] }, landingPage: { enabled: true, displayName: 'B' } }));
    assert.ok(priv.ok);
    assert.equal(priv.entry.visibility, 'private');
    assert.deepEqual(priv.entry.requiredGroups, ['admins']);
  });
  it('a stale status (older generation) is not trusted: the spec decides', () => {
    const a = app('s', { auth: { enabled: true, groups: ['ops'] }, landingPage: { enabled: true, displayName: 'S' } }, {
      status: { observedGeneration: 1, serviceDiscovery: { enabled: true, displayName: 'S', visibility: 'public', url: 'https://s.example.com' } },
    });
    a.metadata!.generation = 2;
    const r = entryFromApp(a);
    assert.ok(r.ok);
    assert.equal(r.entry.visibility, 'private');
    assert.deepEqual(r.entry.requiredGroups, ['ops']);
  });
  it('a current status with enabled false hides the app even if the spec enables it', () => {
    const a = app('h', { landingPage: { enabled: true, displayName: 'H' } }, { status: { observedGeneration: 1, serviceDiscovery: { enabled: false } } });
    assert.equal(entryFromApp(a).ok, false);
  });
  it('status without visibility is treated as private (fail closed)', () => {
    const a = app('p', { landingPage: { enabled: true, displayName: 'P' } }, { status: { observedGeneration: 1, serviceDiscovery: { enabled: true, displayName: 'P', url: 'https://p.example.com' } } });
    const r = entryFromApp(a);
    assert.ok(r.ok);
    assert.equal(r.entry.visibility, 'private');
  });
  it('clips overlong text and out-of-range priorities to defaults', () => {
    const r = entryFromApp(app('a', { landingPage: { enabled: true, displayName: 'x'.repeat(100), description: 'd'.repeat(400), priority: 5000 } }));
    assert.ok(r.ok);
    assert.equal(r.entry.name.length, 64);
    assert.equal(r.entry.description.length, 256);
    assert.equal(r.entry.priority, 100);
  });
});

describe('landing model: icons and health targets', () => {
  it('recognises built-in ids case-insensitively and https image URLs', () => {
    for (const id of ['jupyter', 'grafana', 'prometheus', 'keycloak', 'argocd', 'kubernetes']) {
      assert.deepEqual(resolveIcon(id.toUpperCase()), { kind: 'builtin', id });
    }
    assert.deepEqual(resolveIcon('https://cdn.example.com/i.png'), { kind: 'url', url: 'https://cdn.example.com/i.png' });
    assert.deepEqual(resolveIcon('javascript:alert(1)'), { kind: 'builtin', id: 'app' });
    assert.deepEqual(resolveIcon('nonsense'), { kind: 'builtin', id: 'app' });
    assert.deepEqual(resolveIcon('http://cdn.example.com/i.png'), { kind: 'builtin', id: 'app' }, 'plain-http images are not loaded (CSP)');
    assert.deepEqual(resolveIcon(undefined, 'https://a/l.png', 'https://a/d.png'), { kind: 'url', url: 'https://a/l.png', darkUrl: 'https://a/d.png' });
    // iconLight/iconDark take the same forms as icon: a built-in id there is used when nothing gives an image
    assert.deepEqual(resolveIcon(undefined, 'Grafana'), { kind: 'builtin', id: 'grafana' });
    assert.deepEqual(resolveIcon('nonsense', undefined, 'argocd'), { kind: 'builtin', id: 'argocd' });
    assert.deepEqual(resolveIcon(undefined, 'jupyter', 'https://a/d.png'), { kind: 'url', url: 'https://a/d.png' }, 'an image wins over a variant id');
  });
  it('health target: defaults, port override, cross-namespace service, disabled', () => {
    const a = app('a', { service: { name: 'svc', port: 80, namespace: 'other' }, landingPage: { enabled: true, displayName: 'A', healthCheck: { enabled: true } } });
    assert.deepEqual(healthTarget(a), { service: 'svc', namespace: 'other', port: 80, path: '/health', intervalSeconds: 30, timeoutSeconds: 5 });
    const b = app('b', { landingPage: { enabled: true, displayName: 'B', healthCheck: { enabled: true, port: 9000, path: '/ready', intervalSeconds: 10, timeoutSeconds: 2 } } });
    assert.deepEqual(healthTarget(b), { service: 'b', namespace: 'team', port: 9000, path: '/ready', intervalSeconds: 10, timeoutSeconds: 2 });
    assert.equal(healthTarget(app('c', { landingPage: { enabled: true, displayName: 'C', healthCheck: { enabled: false } } })), null);
    assert.equal(healthTarget(app('d', { landingPage: { enabled: true, displayName: 'D' } })), null);
  });
  it('cards of apps with a health check start as unknown; others carry null', () => {
    const e = entry({ health: { service: 's', namespace: 'n', port: 1, path: '/', intervalSeconds: 10, timeoutSeconds: 1 } });
    assert.equal(toCard(e, null).health, 'unknown');
    assert.equal(toCard(e, 'healthy').health, 'healthy');
    assert.equal(toCard(entry({}), 'healthy').health, null);
  });
});

describe('landing model: visibility', () => {
  const pub = entry({ visibility: 'public' });
  const anyUser = entry({ visibility: 'private', requiredGroups: [] });
  const admins = entry({ visibility: 'private', requiredGroups: ['admins', 'ops'] });
  it('public apps are shown to everyone', () => {
    assert.equal(canSee(pub, null), true);
    assert.equal(canSee(pub, { sub: 'u', groups: [] }), true);
  });
  it('private apps are never shown to anonymous users', () => {
    assert.equal(canSee(anyUser, null), false);
    assert.equal(canSee(admins, null), false);
  });
  it('private apps without requiredGroups are shown to every signed-in user', () => {
    assert.equal(canSee(anyUser, { sub: 'u', groups: [] }), true);
  });
  it('requiredGroups is any-of, case-sensitive, a leading "/" ignored', () => {
    assert.equal(canSee(admins, { sub: 'u', groups: ['ops'] }), true);
    assert.equal(canSee(admins, { sub: 'u', groups: ['/admins'] }), true);
    assert.equal(canSee(admins, { sub: 'u', groups: ['Admins'] }), false);
    assert.equal(canSee(admins, { sub: 'u', groups: ['users'] }), false);
    assert.equal(canSee(entry({ visibility: 'private', requiredGroups: ['/team/data'] }), { sub: 'u', groups: ['team/data'] }), true);
  });
  it('viewFor leaves out what the viewer may not see', () => {
    const es = [entry({ id: 'a/pub', name: 'Pub' }), entry({ id: 'a/adm', name: 'Adm', visibility: 'private', requiredGroups: ['admins'] })];
    const names = (v: Parameters<typeof viewFor>[1]) => viewFor(es, v, () => undefined).flatMap((g) => g.apps.map((c) => c.name));
    assert.deepEqual(names(null), ['Pub']);
    assert.deepEqual(names({ sub: 'u', groups: ['users'] }), ['Pub']);
    assert.deepEqual(names({ sub: 'u', groups: ['admins'] }), ['Adm', 'Pub']);
    const json = JSON.stringify(viewFor(es, { sub: 'u', groups: ['admins'] }, () => undefined));
    assert.ok(!json.includes('requiredGroups'), 'requiredGroups never leaves the server');
  });
  it('property: no private app reaches a viewer outside its groups', () => {
    const group = fc.constantFrom('a', 'b', 'c', '/a', 'B');
    fc.assert(
      fc.property(
        fc.array(fc.record({ priv: fc.boolean(), groups: fc.array(group, { maxLength: 3 }) }), { maxLength: 8 }),
        fc.option(fc.array(group, { maxLength: 3 }), { nil: null }),
        (apps, viewerGroups) => {
          const es = apps.map((a, i) => entry({ id: `n/${i}`, name: `n${i}`, visibility: a.priv ? 'private' : 'public', requiredGroups: a.groups }));
          const viewer = viewerGroups ? { sub: 'u', groups: viewerGroups } : null;
          const shown = new Set(viewFor(es, viewer, () => undefined).flatMap((g) => g.apps.map((c) => c.id)));
          for (const e of es) {
            const norm = (g: string) => g.replace(/^\//, '');
            const allowed =
              e.visibility === 'public' ||
              (viewer !== null && (e.requiredGroups.length === 0 || e.requiredGroups.some((g) => viewer.groups.map(norm).includes(norm(g)))));
            assert.equal(shown.has(e.id), allowed, `${e.id} ${JSON.stringify(e.requiredGroups)} viewer ${JSON.stringify(viewer)}`);
          }
        },
      ),
    );
  });
});

describe('landing model: grouping and ordering', () => {
  const cards = [
    card({ id: 'n/z', name: 'zeta', category: 'Monitoring', priority: 10 }),
    card({ id: 'n/g', name: 'Grafana', category: 'Monitoring', priority: 10 }),
    card({ id: 'n/p', name: 'Prometheus', category: 'Monitoring', priority: 5 }),
    card({ id: 'n/o', name: 'Misc', category: UNCATEGORIZED }),
    card({ id: 'n/j', name: 'Jupyter', category: 'Data Science' }),
    card({ id: 'n/a', name: 'ArgoCD', category: 'Platform', priority: 100 }),
    card({ id: 'n/k', name: 'argo', category: 'Platform', priority: 100 }),
  ];
  it('groups by category (alphabetical, Other last) and orders by priority then name', () => {
    const g = groupCards(cards);
    assert.deepEqual(g.map((x) => x.category), ['Data Science', 'Monitoring', 'Platform', 'Other']);
    assert.deepEqual(g[1]!.apps.map((c) => c.name), ['Prometheus', 'Grafana', 'zeta']);
    assert.deepEqual(g[2]!.apps.map((c) => c.name), ['argo', 'ArgoCD']);
  });
  it('equal names are ordered by id', () => {
    const g = groupCards([card({ id: 'b/x', name: 'Same' }), card({ id: 'a/x', name: 'Same' })]);
    assert.deepEqual(g[0]!.apps.map((c) => c.id), ['a/x', 'b/x']);
  });
  it('property: the result does not depend on the input order', () => {
    const arb = fc.array(
      fc.record({
        id: fc.uuid(),
        name: fc.string({ maxLength: 6 }),
        category: fc.constantFrom('A', 'b', 'B', UNCATEGORIZED, 'Ä'),
        priority: fc.integer({ min: 0, max: 3 }),
      }),
      { maxLength: 30 },
    );
    fc.assert(
      fc.property(arb, fc.integer(), (list, seed) => {
        const cs = list.map((c) => card(c));
        const shuffled = cs.map((c, i) => ({ c, k: Math.sin(seed + i) })).sort((a, b) => a.k - b.k).map((x) => x.c);
        assert.deepEqual(groupCards(shuffled), groupCards(cs));
      }),
    );
  });
  it('filter by text (all terms, any field) and by category', () => {
    const g = groupCards([
      card({ id: 'n/1', name: 'Grafana', description: 'Dashboards', category: 'Monitoring' }),
      card({ id: 'n/2', name: 'Jupyter', description: 'Notebooks for data', category: 'Data Science' }),
    ]);
    assert.deepEqual(filterGroups(g, 'DASH', '').flatMap((x) => x.apps.map((c) => c.name)), ['Grafana']);
    assert.deepEqual(filterGroups(g, 'notebooks data', '').flatMap((x) => x.apps.map((c) => c.name)), ['Jupyter']);
    assert.deepEqual(filterGroups(g, 'science', '').flatMap((x) => x.apps.map((c) => c.name)), ['Jupyter']);
    assert.deepEqual(filterGroups(g, '', 'Monitoring').map((x) => x.category), ['Monitoring']);
    assert.deepEqual(filterGroups(g, 'jupyter', 'Monitoring'), []);
  });
});
