// The landing service against the REAL control plane (etcd + kube-apiserver with the NebariApp CRD): apps
// created, changed and deleted show up on the JSON API and in the per-user SSE stream; private apps never reach
// anyone outside their groups. Tokens come from the OIDC STAND-IN (oidc-standin.ts: a key the test controls).
import assert from 'node:assert/strict';
import { sharedControlPlane, type ControlPlane } from '../../harness/control-plane.js';
import type { LandingService } from '../../../packs/landing/src/service.js';
import { startOidcStandin, type OidcStandin, type StandinUser } from './oidc-standin.js';
import { Apps, type Obj, createNamespace, eventually, findApp, healthBackend, names, nebariApp, openSse, snapshot, startTestLanding } from './helpers.js';

const alice: StandinUser = { sub: 'alice', name: 'Alice', groups: ['admins'] };
const bob: StandinUser = { sub: 'bob', name: 'Bob', groups: ['users'] };

describe('landing service on a real control plane (API + SSE)', function () {
  this.timeout(180_000);
  let cp: ControlPlane;
  let issuer: OidcStandin;
  let svc: LandingService;
  let apps: Apps;
  let ns: string;
  let backend: Awaited<ReturnType<typeof healthBackend>>;

  before(async () => {
    cp = await sharedControlPlane();
    issuer = await startOidcStandin();
    backend = await healthBackend();
    svc = await startTestLanding(cp.kubeConfig(), issuer, backend.port, 200);
    apps = new Apps(cp.kubeConfig());
    ns = await createNamespace(cp.kubeConfig());
  });

  after(async () => {
    await svc?.stop();
    await issuer?.stop();
    await backend?.stop();
  });

  const getApps = async (token?: string, query = ''): Promise<{ status: number; body: Obj }> => {
    const res = await fetch(`${svc.url}/api/apps${query}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
    return { status: res.status, body: await res.json() };
  };
  const appNames = async (token?: string): Promise<string[]> => names((await getApps(token)).body.groups);
  const mine = (list: string[]): string[] => list.filter((n) => n.includes(`[${ns}]`));

  it('is ready once the informer has listed and the issuer is discovered', async () => {
    await eventually(() => fetch(`${svc.url}/readyz`).then((r) => r.status), (s) => s === 200, 15_000, 'readyz 200');
    assert.equal((await fetch(`${svc.url}/healthz`)).status, 200);
  });

  it('apps created, changed and deleted show up on the API and in the stream', async () => {
    const anon = await openSse(`${svc.url}/api/events`);
    try {
      assert.equal(anon.status, 200);
      await anon.waitFor((e) => e.event === 'apps');
      await apps.create(nebariApp(ns, 'grafana', { landingPage: { enabled: true, displayName: `Grafana [${ns}]`, category: 'Monitoring', icon: 'grafana', priority: 10 } }));
      await apps.create(nebariApp(ns, 'prom', { landingPage: { enabled: true, displayName: `Prometheus [${ns}]`, category: 'Monitoring', icon: 'prometheus', priority: 5 } }));
      await apps.create(nebariApp(ns, 'jupyter', { landingPage: { enabled: true, displayName: `JupyterHub [${ns}]`, category: 'Data Science', icon: 'jupyter' } }));
      await apps.create(nebariApp(ns, 'hidden', { landingPage: { enabled: false, displayName: `Hidden [${ns}]` } }));
      const want = [`Data Science: JupyterHub [${ns}]`, `Monitoring: Prometheus [${ns}]`, `Monitoring: Grafana [${ns}]`];
      await anon.waitFor((e) => JSON.stringify(mine(names(snapshot(e)))) === JSON.stringify(want));
      assert.deepEqual(mine(await appNames()), want, 'API: grouped by category, ordered by priority then name');

      await apps.update(ns, 'grafana', (o) => {
        o.spec.landingPage.displayName = `Dashboards [${ns}]`;
        o.spec.landingPage.priority = 1;
      });
      const changed = [`Data Science: JupyterHub [${ns}]`, `Monitoring: Dashboards [${ns}]`, `Monitoring: Prometheus [${ns}]`];
      await anon.waitFor((e) => JSON.stringify(mine(names(snapshot(e)))) === JSON.stringify(changed));
      assert.deepEqual(mine(await appNames()), changed);

      const mark = anon.events.length;
      await apps.delete(ns, 'prom');
      await anon.waitFor((e) => !mine(names(snapshot(e))).some((n) => n.includes('Prometheus')), 15_000, mark);
      assert.deepEqual(mine(await appNames()), [`Data Science: JupyterHub [${ns}]`, `Monitoring: Dashboards [${ns}]`]);

      await apps.update(ns, 'hidden', (o) => {
        o.spec.landingPage.enabled = true;
      });
      await anon.waitFor((e) => mine(names(snapshot(e))).includes(`Other: Hidden [${ns}]`));
      const card = findApp((await getApps()).body.groups, `${ns}/jupyter`);
      assert.equal(card?.url, `https://jupyter.${ns}.example.com/`);
      assert.deepEqual(card?.icon, { kind: 'builtin', id: 'jupyter' });
    } finally {
      anon.close();
    }
  });

  it('private apps reach only signed-in users of their groups: API and stream, never anonymous users', async () => {
    const adminToken = await issuer.mint(alice);
    const userToken = await issuer.mint(bob);
    const anon = await openSse(`${svc.url}/api/events`);
    const adminStream = await openSse(`${svc.url}/api/events`, { authorization: `Bearer ${adminToken}` });
    const userStream = await openSse(`${svc.url}/api/events`, { authorization: `Bearer ${userToken}` });
    try {
      await Promise.all([anon, adminStream, userStream].map((s) => s.waitFor((e) => e.event === 'apps')));
      const before = { anon: anon.events.length, user: userStream.events.length };
      await apps.create(nebariApp(ns, 'argocd', { auth: { enabled: true, groups: ['admins'] }, landingPage: { enabled: true, displayName: `Argo CD [${ns}]`, category: 'Platform', icon: 'argocd' } }));
      await apps.create(nebariApp(ns, 'anyuser', { auth: { enabled: true }, landingPage: { enabled: true, displayName: `Team wiki [${ns}]`, category: 'Platform' } }));
      await adminStream.waitFor((e) => mine(names(snapshot(e))).includes(`Platform: Argo CD [${ns}]`) && mine(names(snapshot(e))).includes(`Platform: Team wiki [${ns}]`));
      await userStream.waitFor((e) => mine(names(snapshot(e))).includes(`Platform: Team wiki [${ns}]`), 15_000, before.user);
      await new Promise((r) => setTimeout(r, 500));
      assert.equal(anon.events.length, before.anon, 'the anonymous stream got no event at all for private apps');
      for (const e of [...anon.events, ...userStream.events]) assert.ok(!e.data.includes('Argo CD'), 'Argo CD leaked into a stream');
      for (const e of anon.events) assert.ok(!e.data.includes('Team wiki'), 'a private app leaked to an anonymous stream');

      assert.ok(!JSON.stringify((await getApps()).body).includes('Argo CD'));
      assert.ok(!JSON.stringify((await getApps(userToken)).body).includes('Argo CD'));
      assert.ok(JSON.stringify((await getApps(userToken)).body).includes('Team wiki'));
      const adminView = (await getApps(adminToken)).body;
      assert.equal(findApp(adminView.groups, `${ns}/argocd`)?.visibility, 'private');
      assert.ok(!JSON.stringify(adminView).includes('requiredGroups'));
      assert.ok(!JSON.stringify((await getApps(undefined, '?q=argo')).body).includes('Argo CD'), 'search does not reveal private apps');

      const me = await (await fetch(`${svc.url}/api/me`, { headers: { authorization: `Bearer ${adminToken}` } })).json();
      assert.deepEqual(me, { authenticated: true, signInAvailable: true, user: { sub: 'alice', name: 'Alice', email: '', groups: ['admins'] } });
      assert.deepEqual(await (await fetch(`${svc.url}/api/me`)).json(), { authenticated: false, signInAvailable: true });
    } finally {
      anon.close();
      adminStream.close();
      userStream.close();
    }
  });

  it('refuses forged, expired, wrong-audience and wrong-issuer bearer tokens (401, nothing private)', async () => {
    const cases: Array<[string, string, string]> = [
      ['forged', await issuer.mint(alice, { foreignKey: true }), 'signature'],
      ['expired', await issuer.mint(alice, { expiresInSeconds: -120 }), 'expired'],
      ['wrong audience', await issuer.mint(alice, { audience: 'another-client' }), 'audience'],
      ['wrong issuer', await issuer.mint(alice, { issuer: 'http://127.0.0.1:1/realms/evil' }), 'issuer'],
      ['garbage', 'abc.def.ghi', 'malformed'],
    ];
    for (const [what, token, reason] of cases) {
      for (const path of ['/api/apps', '/api/me', '/api/events']) {
        const res = await fetch(`${svc.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
        const body = await res.text();
        assert.equal(res.status, 401, `${what} on ${path}`);
        assert.deepEqual(JSON.parse(body), { error: 'invalid_token', reason }, `${what} on ${path}`);
        assert.ok(!body.includes('Argo CD'));
      }
    }
  });

  it('a stream ends when the token that opened it expires', async () => {
    const short = await issuer.mint(alice, { expiresInSeconds: 2 });
    const s = await openSse(`${svc.url}/api/events`, { authorization: `Bearer ${short}` });
    assert.equal(s.status, 200);
    await s.waitFor((e) => e.event === 'apps');
    const t0 = Date.now();
    await Promise.race([s.ended, new Promise((_, reject) => setTimeout(() => reject(new Error('stream still open 15 s later')), 15_000))]);
    assert.ok(Date.now() - t0 < 2000 + 5000 + 1500, 'ends at expiry plus the clock tolerance');
    const again = await fetch(`${svc.url}/api/events`, { headers: { authorization: `Bearer ${short}` } });
    assert.equal(again.status, 401, 'reconnecting with the expired token is refused');
    await again.body?.cancel();
  });

  it('the operator-written status.serviceDiscovery is used once current', async () => {
    await apps.create(nebariApp(ns, 'kc', { landingPage: { enabled: true, displayName: `Keycloak [${ns}]`, category: 'Platform', icon: 'keycloak' } }));
    await eventually(appNames, (l) => mine(l).includes(`Platform: Keycloak [${ns}]`));
    const o = await apps.get(ns, 'kc');
    await apps.setStatus(ns, 'kc', {
      observedGeneration: o.metadata.generation,
      serviceDiscovery: { enabled: true, displayName: `Identity [${ns}]`, url: 'https://login.example.com/admin', icon: 'keycloak', category: 'Security', priority: 3, visibility: 'public', requiredGroups: [] },
    });
    const l = await eventually(appNames, (x) => mine(x).includes(`Security: Identity [${ns}]`));
    assert.ok(!mine(l).some((n) => n.includes('Keycloak [')));
    assert.equal(findApp((await getApps()).body.groups, `${ns}/kc`)?.url, 'https://login.example.com/admin');
  });

  it('health: the card follows the backend (healthy -> unhealthy -> healthy) live on the stream', async () => {
    backend.status = 200;
    const anon = await openSse(`${svc.url}/api/events`);
    try {
      await apps.create(nebariApp(ns, 'hc', { landingPage: { enabled: true, displayName: `Probed [${ns}]`, healthCheck: { enabled: true, path: '/health', intervalSeconds: 10, timeoutSeconds: 2 } } }));
      const health = (e: { data: string }) => findApp(snapshot(e as never), `${ns}/hc`)?.health;
      await anon.waitFor((e) => health(e) === 'healthy');
      let mark = anon.events.length;
      backend.status = 503;
      await anon.waitFor((e) => health(e) === 'unhealthy', 15_000, mark);
      mark = anon.events.length;
      backend.status = 204;
      await anon.waitFor((e) => health(e) === 'healthy', 15_000, mark);
      assert.ok(backend.hits >= 3, `backend probed ${backend.hits} times`);
      assert.equal(findApp((await getApps()).body.groups, `${ns}/jupyter`)?.health, null, 'no health check: no badge');
    } finally {
      anon.close();
    }
  });

  it('keeps watching across a kube-apiserver restart (informer restarted)', async () => {
    await cp.restartApiServer();
    await apps.create(nebariApp(ns, 'after-restart', { landingPage: { enabled: true, displayName: `After restart [${ns}]` } }));
    await eventually(appNames, (l) => mine(l).includes(`Other: After restart [${ns}]`), 60_000, 'app created after the restart is listed');
  });

  it('GET /api/apps?limit=&offset=: pages of the same ordered list, with next; bad values name the field', async () => {
    const token = await issuer.mint(alice);
    const all = names((await getApps(token)).body.groups);
    const got: string[] = [];
    let next: string | undefined = '/api/apps?limit=2';
    let pages = 0;
    while (next) {
      const { status, body } = await getApps(token, next.slice('/api/apps'.length));
      assert.equal(status, 200);
      assert.equal(body.total, all.length);
      got.push(...names(body.groups));
      next = body.next;
      pages++;
    }
    assert.deepEqual(got, all);
    assert.equal(pages, Math.ceil(all.length / 2));
    const bad = await getApps(token, '?limit=0');
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.body, { error: 'limit: "0" is not allowed; allowed: an integer 1..1000', field: 'limit' });
    assert.equal((await getApps(token, '?offset=-1')).body.field, 'offset');
    // The same bearer token again (answered from the verified-token cache) still sees exactly the same.
    assert.deepEqual(names((await getApps(token)).body.groups), all);
  });

  it('GET /api/apps: ETag revalidation (304) and gzip; a list not compressed yet goes out uncompressed, never held back', async () => {
    const { request } = await import('node:http');
    const { gunzipSync } = await import('node:zlib');
    const raw = (headers: Record<string, string>): Promise<{ status: number; headers: Record<string, unknown>; body: Buffer }> =>
      new Promise((resolve, reject) => {
        const req = request(`${svc.url}/api/apps`, { headers }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        });
        req.on('error', reject);
        req.end();
      });
    const plain = await raw({});
    assert.equal(plain.status, 200);
    const etag = String(plain.headers.etag);
    assert.match(etag, /^"[\w-]{22}"$/);
    // One Content-Length answer, never chunked (the framing cost the client and the server a write each).
    assert.equal(plain.headers['content-length'], String(plain.body.length));
    assert.equal(plain.headers['transfer-encoding'], undefined);
    assert.equal(plain.headers['content-type'], 'application/json; charset=utf-8');
    assert.match(String(plain.headers['content-security-policy']), /default-src 'none'/, 'the security headers as on every answer');
    // The list's first gzip-accepting request starts its compression in the thread pool and is answered with the
    // fresh list as it is; the answers after it are gzip.
    // A viewer of a group set no one asked for yet gets a list built for it.
    const fresh = { authorization: `Bearer ${await issuer.mint({ sub: 'gz', name: 'Gz', groups: [`gz-${Date.now()}`] })}`, 'accept-encoding': 'gzip' };
    const first = await raw(fresh);
    assert.equal(first.status, 200);
    assert.equal(first.headers['content-encoding'], undefined, 'not compressed yet: sent as it is');
    assert.equal(first.headers['content-length'], String(first.body.length));
    const later = await eventually(() => raw(fresh), (r) => r.headers['content-encoding'] === 'gzip', 5_000, 'a gzip answer');
    assert.deepEqual(gunzipSync(later.body), first.body, 'the same list, compressed');
    assert.equal(later.headers.etag, first.headers.etag);
    const gz = await eventually(() => raw({ 'accept-encoding': 'gzip' }), (r) => r.headers['content-encoding'] === 'gzip', 5_000, 'a gzip answer');
    assert.equal(gz.headers['content-length'], String(gz.body.length));
    assert.equal(gz.headers.vary, 'Authorization, Cookie, Accept-Encoding');
    assert.deepEqual(gunzipSync(gz.body), plain.body);
    const notModified = await raw({ 'if-none-match': etag });
    assert.equal(notModified.status, 304);
    assert.equal(notModified.headers.etag, etag);
    assert.equal(notModified.body.length, 0);
    const adminToken = await issuer.mint(alice);
    const admin = await raw({ 'if-none-match': etag, authorization: `Bearer ${adminToken}` });
    assert.equal(admin.status, 200, 'another view has another ETag');
    assert.notEqual(admin.headers.etag, etag);
  });

  it('GET /api/apps: a NebariApp edit reaches exactly the lists it touches; steady probe results rebuild nothing', async () => {
    const adminToken = await issuer.mint(alice);
    const get = async (headers: Record<string, string>): Promise<{ status: number; etag: string; text: string }> => {
      const res = await fetch(`${svc.url}/api/apps`, { headers });
      return { status: res.status, etag: String(res.headers.get('etag')), text: await res.text() };
    };
    const admin = { authorization: `Bearer ${adminToken}` };
    await apps.create(nebariApp(ns, 'inv-priv', { auth: { enabled: true, groups: ['admins'] }, landingPage: { enabled: true, displayName: `Secret ops [${ns}]`, category: 'Platform' } }));
    await apps.create(nebariApp(ns, 'inv-pub', { landingPage: { enabled: true, displayName: `Open docs [${ns}]`, category: 'Docs' } }));
    backend.status = 200;
    await apps.create(nebariApp(ns, 'inv-probed', { landingPage: { enabled: true, displayName: `Probed docs [${ns}]`, category: 'Docs', healthCheck: { enabled: true, path: '/health', intervalSeconds: 10, timeoutSeconds: 2 } } }));
    await eventually(() => get(admin), (r) => r.text.includes(`Secret ops [${ns}]`) && r.text.includes(`Open docs [${ns}]`) && findApp(JSON.parse(r.text).groups, `${ns}/inv-probed`)?.health === 'healthy');
    const anon0 = await get({});
    const admin0 = await get(admin);
    assert.ok(!anon0.text.includes('Secret ops'));

    // The public app's probes keep answering the same every 200 ms: no list is rebuilt.
    const builds = async (): Promise<number> => (await svc.metrics.viewBuilds.get()).values[0]?.value ?? 0;
    const hits = backend.hits;
    const b0 = await builds();
    for (let i = 0; i < 10; i++) {
      assert.equal((await get({ 'if-none-match': anon0.etag })).status, 304);
      assert.equal((await get({ ...admin, 'if-none-match': admin0.etag })).status, 304);
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(backend.hits >= hits + 3, `probes ran meanwhile (${backend.hits - hits})`);
    assert.equal(await builds(), b0, 'no list rebuilt while probe results stayed the same');

    // A private app changes: the admins' list changes, the anonymous one is the same list (same ETag, still 304).
    await apps.update(ns, 'inv-priv', (o) => {
      o.spec.landingPage.displayName = `Secret ops 2 [${ns}]`;
    });
    const admin1 = await eventually(() => get(admin), (r) => r.text.includes(`Secret ops 2 [${ns}]`));
    assert.notEqual(admin1.etag, admin0.etag);
    assert.equal((await get({ ...admin, 'if-none-match': admin0.etag })).status, 200, 'the old admin ETag no longer matches');
    const anon1 = await get({ 'if-none-match': anon0.etag });
    assert.equal(anon1.status, 304, 'the anonymous list was not touched by a private app');
    assert.ok(!(await get({})).text.includes('Secret ops'));

    // A public app changes: both lists change.
    await apps.update(ns, 'inv-pub', (o) => {
      o.spec.landingPage.displayName = `Open docs 2 [${ns}]`;
    });
    const anon2 = await eventually(() => get({}), (r) => r.text.includes(`Open docs 2 [${ns}]`));
    assert.notEqual(anon2.etag, anon0.etag);
    assert.equal((await get({ 'if-none-match': anon0.etag })).status, 200);
    assert.ok(!anon2.text.includes('Secret ops'));
    const admin2 = await get(admin);
    assert.ok(admin2.text.includes(`Open docs 2 [${ns}]`) && admin2.text.includes(`Secret ops 2 [${ns}]`));
    assert.notEqual(admin2.etag, admin1.etag);

    // Made private: it leaves the anonymous list.
    await apps.update(ns, 'inv-pub', (o) => {
      o.spec.auth = { enabled: true, groups: ['admins'] };
    });
    await eventually(() => get({}), (r) => !r.text.includes('Open docs'));
    assert.ok((await get(admin)).text.includes(`Open docs 2 [${ns}]`));
  });

  it('exports Prometheus metrics', async () => {
    const text = await svc.metrics.registry.metrics();
    assert.match(text, /landing_apps\{visibility="private"\} [1-9]/);
    assert.match(text, /landing_http_requests_total\{route="apps",method="GET",code="200"\} [1-9]/);
    assert.match(text, /landing_auth_total\{result="bearer_signature"\} [1-9]/);
    assert.match(text, /landing_health_probes_total\{result="unhealthy"\} [1-9]/);
  });
});
