// Pins, access requests, notifications and the admin packs view, end to end: Chromium signs in through the REAL
// Keycloak's login form, the landing service runs on the REAL control plane under its shipped RBAC (rbac.yaml
// applied, the service uses the ServiceAccount's identity), approvals go through Keycloak's real Admin API with a
// client whose service account holds only realm-management "manage-users". Argo CD Applications are objects in
// the real API server (the CRD is installed); no Argo CD controller runs here, so their status is written by the
// test as Argo CD would.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import type KcAdminClient from '@keycloak/keycloak-admin-client';
import { CoreV1Api, CustomObjectsApi, KubernetesObjectApi, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import type { BrowserContext, Page } from 'playwright-core';
import { sharedControlPlane, freePort, type ControlPlane } from '../../harness/control-plane.js';
import { sharedKeycloak, type KeycloakInstance } from '../../harness/keycloak.js';
import { launchChromium, type LaunchedBrowser } from '../../harness/browser.js';
import { createRealm, createServiceAccountClient, masterAdmin } from '../keycloak/oidc-helpers.js';
import { landingAdminClient, LANDING_ADMIN_REALM_MANAGEMENT_ROLES, REALM_MANAGEMENT_CLIENT_ID } from '../../../components/identity/spec.js';
import { silentLogger } from '../../../operator/src/runtime/logger.js';
import { startLandingService, type LandingService } from '../../../packs/landing/src/service.js';
import { ACCESS_REQUEST_ANNOTATION, STATE_LABEL, userStateName } from '../../../packs/landing/src/features.js';
import { Apps, createNamespace, eventually, healthBackend, nebariApp, openSse, webAssets, type Obj } from './helpers.js';

const SHOTS = join(process.cwd(), 'test-results', 'landing');
const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const STATE_NS = 'nkp-landing';

describe('landing page: pins, access requests, notifications, packs view (real Keycloak, real API server, Chromium)', function () {
  this.timeout(300_000);
  let cp: ControlPlane;
  let kc: KeycloakInstance;
  let chrome: LaunchedBrowser;
  let svc: LandingService;
  let backend: Awaited<ReturnType<typeof healthBackend>>;
  let saKube: KubeConfig;
  let realm: string;
  let issuer: string;
  let passwords: Record<string, string>;
  let clientId: string;
  let clientSecret: string;
  let adminClient: { clientId: string; clientSecret: string };
  let ns: string;
  let packsNs: string;
  let port: number;
  const ids: Record<string, string> = {};
  const contexts: BrowserContext[] = [];
  const shipped = parse(readFileSync(join('packs', 'landing', 'manifests', 'nebariapp.yaml'), 'utf8')) as Obj;

  const kcAdmin = (): Promise<KcAdminClient> => masterAdmin(kc);

  const start = async (): Promise<LandingService> =>
    startLandingService({
      kubeConfig: saKube,
      oidc: { settings: { issuer, clientId, clientSecret, publicUrl: `http://127.0.0.1:${port}`, redirectPath: shipped.spec.auth.redirectURI, scopes: shipped.spec.auth.scopes, sessionTtlSeconds: 3600 } },
      staticDir: await webAssets(),
      log: silentLogger,
      port,
      resolver: () => `http://127.0.0.1:${backend.port}`,
      healthIntervalMs: () => 150,
      coalesceMs: 20,
      features: { stateNamespace: STATE_NS, adminGroups: ['admins'], keycloakAdmin: { issuer, ...adminClient }, packsNamespace: packsNs, packsProject: 'packs' },
    });

  before(async () => {
    mkdirSync(SHOTS, { recursive: true });
    [cp, kc, chrome, backend] = await Promise.all([sharedControlPlane(), sharedKeycloak(), launchChromium(), healthBackend()]);
    realm = `landing-f-${Date.now().toString(36)}`;
    passwords = await createRealm(kc, realm, ['alice', 'bob', 'carol']);
    issuer = `${kc.baseUrl}/realms/${realm}`;
    const admin = await kcAdmin();
    for (const [group, users] of [['admins', ['alice']], ['users', ['bob', 'carol']], ['data-team', []], ['analysts', []]] as const) {
      const { id: gid } = await admin.groups.create({ realm, name: group });
      for (const user of users) {
        const [u] = await admin.users.find({ realm, username: user, exact: true });
        await admin.users.addToGroup({ realm, id: u!.id!, groupId: gid });
      }
    }
    for (const u of ['alice', 'bob', 'carol']) ids[u] = (await admin.users.find({ realm, username: u, exact: true }))[0]!.id!;
    port = await freePort();
    const publicUrl = `http://127.0.0.1:${port}`;
    clientId = `${shipped.metadata.namespace}-${shipped.metadata.name}`;
    const { id } = await admin.clients.create({
      realm,
      clientId,
      publicClient: false,
      standardFlowEnabled: true,
      directAccessGrantsEnabled: true,
      redirectUris: [`${publicUrl}${shipped.spec.auth.redirectURI}`],
      webOrigins: [publicUrl],
      attributes: { 'pkce.code.challenge.method': 'S256', 'post.logout.redirect.uris': `${publicUrl}/` },
      protocolMappers: (shipped.spec.auth.keycloakConfig.protocolMappers as Obj[]).map((m) => ({ name: m.name, protocol: 'openid-connect', protocolMapper: m.protocolMapper, config: m.config })),
    });
    clientSecret = (await admin.clients.getClientSecret({ realm, id })).value!;
    // The landing admin client as the Identity component declares it: a service account with realm-management's
    // manage-users and nothing else.
    const spec = landingAdminClient();
    adminClient = { clientId: spec.clientId, clientSecret: await createServiceAccountClient(admin, realm, spec, LANDING_ADMIN_REALM_MANAGEMENT_ROLES, REALM_MANAGEMENT_CLIENT_ID) };

    // The shipped RBAC, and the service running as the landing ServiceAccount.
    const kube = cp.kubeConfig();
    await kube.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: STATE_NS } } }).catch((e: { code?: number }) => (e.code === 409 ? undefined : Promise.reject(e)));
    const objs = parseAllDocuments(readFileSync(join('packs', 'landing', 'manifests', 'rbac.yaml'), 'utf8')).map((d) => d.toJS() as KubernetesObject);
    const oapi = KubernetesObjectApi.makeApiClient(kube);
    for (const o of objs) await oapi.create(o).catch((e: { code?: number }) => (e.code === 409 ? undefined : Promise.reject(e)));
    saKube = await cp.userKubeConfig('system:serviceaccount:nkp-landing:landing', ['system:serviceaccounts', 'system:serviceaccounts:nkp-landing']);

    ns = await createNamespace(kube, 'landing-f');
    packsNs = await createNamespace(kube, 'landing-packs');
    const apps = new Apps(kube);
    const lp = (o: Obj): Obj => ({ landingPage: { enabled: true, ...o } });
    const requestable = (o: Obj): Obj => ({ ...o, metadata: { ...o.metadata, annotations: { [ACCESS_REQUEST_ANNOTATION]: 'true' } } });
    await Promise.all([
      apps.create(nebariApp(ns, 'docs', lp({ displayName: 'Docs', category: 'Help', healthCheck: { enabled: true, intervalSeconds: 10 } }))),
      apps.create(nebariApp(ns, 'wiki', lp({ displayName: 'Wiki', category: 'Help', priority: 50 }))),
      apps.create(requestable(nebariApp(ns, 'notebooks', { auth: { enabled: true, groups: ['data-team', 'analysts'] }, ...lp({ displayName: 'Notebooks', description: 'Team notebooks', category: 'Data Science', icon: 'jupyter' }) }))),
      apps.create(nebariApp(ns, 'vault', { auth: { enabled: true, groups: ['admins'] }, ...lp({ displayName: 'Secret Vault', category: 'Platform', healthCheck: { enabled: true, intervalSeconds: 10 } }) })),
    ]);
    svc = await start();
    await eventually(() => fetch(`${svc.url}/readyz`).then((r) => r.status), (s) => s === 200, 20_000, 'landing ready');
  });

  after(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await chrome?.close();
    await svc?.stop();
    await backend?.stop();
    if (kc && realm) await (await kcAdmin()).realms.del({ realm }).catch(() => undefined);
  });

  const token = async (user: string): Promise<string> => {
    const res = await fetch(`${issuer}/protocol/openid-connect/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'password', client_id: clientId, client_secret: clientSecret, username: user, password: passwords[user]!, scope: 'openid' }),
    });
    const body = (await res.json()) as { access_token?: string; error?: string };
    assert.ok(body.access_token, `token for ${user}: ${body.error}`);
    return body.access_token;
  };
  const api = async (t: string, path: string, body?: unknown): Promise<{ status: number; body: Obj; text: string }> => {
    const res = await fetch(`${svc.url}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { authorization: `Bearer ${t}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, text, body: text ? (JSON.parse(text) as Obj) : {} };
  };

  async function browserAs(user: string, colorScheme: 'light' | 'dark' = 'light'): Promise<Page> {
    const ctx = await chrome.browser.newContext({ viewport: { width: 1280, height: 900 }, colorScheme, reducedMotion: 'reduce' });
    contexts.push(ctx);
    const page = await ctx.newPage();
    page.on('pageerror', (e) => assert.fail(`pageerror: ${e.message}`));
    await page.goto(svc.url);
    await page.getByRole('link', { name: 'Sign in' }).click();
    await page.waitForURL((u) => u.href.startsWith(issuer));
    await page.fill('#username', user);
    await page.fill('#password', passwords[user]!);
    await page.click('#kc-login');
    await page.waitForURL((u) => u.href.startsWith(svc.url));
    await page.waitForSelector('text=Signed in as');
    await page.waitForSelector('body[data-ready="true"]');
    await page.waitForSelector('#notif-toggle:not([hidden])');
    return page;
  }

  async function axe(page: Page, label: string): Promise<void> {
    await page.evaluate(AXE_SOURCE);
    const result = await page.evaluate(async () => {
      const r = await (window as unknown as { axe: { run: (ctx: Document, o: object) => Promise<{ violations: Array<{ id: string; help: string; nodes: Array<{ target: string[] }> }> }> } }).axe.run(document, {
        runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'] },
      });
      return r.violations.map((v) => ({ id: v.id, help: v.help, targets: v.nodes.slice(0, 5).map((n) => n.target.join(' ')) }));
    });
    assert.deepEqual(result, [], `axe violations (${label}): ${JSON.stringify(result, null, 1)}`);
  }

  const sections = (page: Page): Promise<string[]> =>
    page.$$eval('#groups section.group', (ss, prefix) => ss.map((s) => `${s.querySelector('h2')?.textContent}: ${Array.from(s.querySelectorAll<HTMLAnchorElement>('a.card')).filter((a) => a.dataset.id!.startsWith(prefix)).map((a) => a.querySelector('.name')?.textContent).join(', ')}`), `${ns}/`);

  it('pins: pinned apps come first, survive a reload, a restart of the service, and follow the user to another browser', async () => {
    const page = await browserAs('bob');
    await page.waitForSelector(`a.card[data-id="${ns}/wiki"]`);
    assert.equal(await page.locator('section.group h2', { hasText: 'Pinned' }).count(), 0);
    await page.getByRole('button', { name: 'Pin Wiki' }).click();
    await page.waitForSelector(`button.pin[data-pin="${ns}/wiki"][aria-pressed="true"]`);
    assert.match((await sections(page))[0]!, /^Pinned: Wiki$/);
    // Stored in the cluster, as the user's ConfigMap.
    const cm = await cp.kubeConfig().makeApiClient(CoreV1Api).readNamespacedConfigMap({ name: userStateName(ids.bob!), namespace: STATE_NS });
    assert.equal(cm.metadata?.labels?.[STATE_LABEL], 'user');
    assert.deepEqual(JSON.parse(cm.data!['state.json']!).pins, [`${ns}/wiki`]);
    await page.reload();
    await page.waitForSelector(`#groups section.group:first-child a.card[data-id="${ns}/wiki"]`);
    await svc.stop();
    svc = await start();
    const other = await browserAs('bob');
    await other.waitForSelector(`#groups section.group:first-child a.card[data-id="${ns}/wiki"]`);
    assert.deepEqual((await api(await token('bob'), '/api/me/state')).body.pins, [`${ns}/wiki`]);
    await other.getByRole('button', { name: 'Unpin Wiki' }).click();
    await other.waitForSelector(`button.pin[data-pin="${ns}/wiki"][aria-pressed="false"]`);
    assert.ok(!(await sections(other)).some((s) => s.startsWith('Pinned')));
    // Bad input names the field and what is allowed; pinning an app you cannot see is refused the same as a missing one.
    const t = await token('bob');
    const bad = await api(t, '/api/me/pins', { app: 'Not An Id', pinned: true });
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.body, { error: 'app: must be an app id "<namespace>/<name>" (lower-case DNS names)', field: 'app' });
    assert.equal((await api(t, '/api/me/pins', { app: `${ns}/vault`, pinned: true })).status, 404);
    assert.equal((await api(t, '/api/me/pins', { app: `${ns}/wiki`, pinned: 'yes' })).body.field, 'pinned');
  });

  it('access request: bob asks, the admin approves into one of the app\'s groups via Keycloak, the app appears for bob live; recorded who/when', async () => {
    const bobPage = await browserAs('bob');
    const bobEvents = await openSse(`${svc.url}/api/events`, { authorization: `Bearer ${await token('bob')}` });
    const card = bobPage.locator(`#requestable li.req-card[data-id="${ns}/notebooks"]`);
    await card.waitFor();
    assert.equal(await bobPage.locator('#requestable').getByRole('link').count(), 0, 'a request card carries no link');
    await bobPage.getByRole('button', { name: 'Request access to Notebooks' }).click();
    await card.locator('text=Access requested').waitFor();

    const alicePage = await browserAs('alice');
    const row = alicePage.locator(`#admin-requests li[data-app="${ns}/notebooks"].status-pending`);
    await row.waitFor();
    assert.match((await row.textContent()) ?? '', /bob Test \(bob@example\.test\) asks for Notebooks/);
    assert.deepEqual(await row.locator('select option').allTextContents(), ['data-team', 'analysts']);
    await alicePage.screenshot({ path: join(SHOTS, 'admin-requests-light.png'), fullPage: true });
    await row.locator('select').selectOption('analysts');
    const t0 = Date.now();
    await alicePage.getByRole('button', { name: 'Approve bob Test for Notebooks' }).click();
    await alicePage.locator(`#admin-requests li[data-app="${ns}/notebooks"].status-approved`, { hasText: 'Approved into analysts by alice Test' }).waitFor();

    // Bob's open page (session issued before the approval) shows the app without a reload or a new sign-in.
    await bobPage.waitForSelector(`a.card[data-id="${ns}/notebooks"]`, { timeout: 15_000 });
    assert.equal(await bobPage.locator(`#requestable li[data-id="${ns}/notebooks"]`).count(), 0);
    await bobPage.waitForSelector('#notif-toggle[data-unread="1"]');
    await bobPage.click('#notif-toggle');
    await bobPage.locator('li.notif[data-kind="request-approved"]', { hasText: 'Your request for Notebooks was approved' }).waitFor();
    await bobEvents.waitFor((e) => e.event === 'apps' && e.data.includes(`"${ns}/notebooks"`) && e.data.includes('"url"'));
    bobEvents.close();

    // Keycloak really has the membership; the decision is stored with who and when.
    const groups = await (await kcAdmin()).users.listGroups({ realm, id: ids.bob! });
    assert.deepEqual(groups.map((g) => g.name).sort(), ['analysts', 'users']);
    const stored = (await api(await token('alice'), '/api/admin')).body.requests.find((r: Obj) => r.app === `${ns}/notebooks` && r.user.sub === ids.bob);
    assert.equal(stored.status, 'approved');
    assert.equal(stored.group, 'analysts');
    assert.deepEqual(stored.decidedBy, { sub: ids.alice, name: 'alice Test' });
    assert.ok(stored.decidedAt >= t0 - 1000 && stored.decidedAt <= Date.now());
    const cms = await cp.kubeConfig().makeApiClient(CoreV1Api).listNamespacedConfigMap({ namespace: STATE_NS, labelSelector: `${STATE_LABEL}=request` });
    const rec = cms.items.map((c) => JSON.parse(c.data!['request.json']!) as Obj).find((r) => r.id === stored.id);
    assert.equal(rec?.decidedBy.sub, ids.alice);
    // A fresh token now carries the group itself.
    assert.equal((await api(await token('bob'), '/api/apps')).body.groups.some((g: Obj) => g.apps.some((a: Obj) => a.id === `${ns}/notebooks`)), true);
  });

  it('refused: deciding your own request, a group the app does not list, non-admins deciding; a denial is recorded and told', async () => {
    const [ta, tc] = [await token('alice'), await token('carol')];
    // Alice (an admin, not in the app's groups) asks for herself and may not approve it.
    const own = await api(ta, '/api/requests', { app: `${ns}/notebooks`, reason: 'curious' });
    assert.equal(own.status, 201);
    const self = await api(ta, `/api/admin/requests/${own.body.id}`, { decision: 'approve', group: 'data-team' });
    assert.equal(self.status, 403);
    assert.deepEqual(self.body, { error: 'nobody can decide their own access request', field: 'actor' });

    const carolPage = await browserAs('carol');
    const cr = await api(tc, '/api/requests', { app: `${ns}/notebooks` });
    assert.equal(cr.status, 201);
    assert.equal((await api(tc, '/api/requests', { app: `${ns}/notebooks` })).status, 409, 'one pending request per app');
    assert.equal((await api(tc, '/api/requests', { app: `${ns}/vault` })).status, 404, 'an app that did not opt in cannot be requested');
    const byCarol = await api(tc, `/api/admin/requests/${cr.body.id}`, { decision: 'approve', group: 'data-team' });
    assert.equal(byCarol.status, 403);
    assert.equal((await api(tc, '/api/admin')).status, 403);
    const wrong = await api(ta, `/api/admin/requests/${cr.body.id}`, { decision: 'approve', group: 'admins' });
    assert.equal(wrong.status, 400);
    assert.deepEqual(wrong.body, { error: 'group: "admins" is not one of the app\'s groups; allowed: data-team, analysts', field: 'group' });
    const several = await api(ta, `/api/admin/requests/${cr.body.id}`, { decision: 'approve' });
    assert.equal(several.body.field, 'group');
    assert.equal((await api(ta, `/api/admin/requests/${cr.body.id}`, { decision: 'maybe' })).body.field, 'decision');

    const denied = await api(ta, `/api/admin/requests/${cr.body.id}`, { decision: 'deny' });
    assert.equal(denied.status, 200);
    assert.equal(denied.body.status, 'denied');
    assert.equal(denied.body.decidedBy.sub, ids.alice);
    assert.equal((await api(ta, `/api/admin/requests/${cr.body.id}`, { decision: 'approve', group: 'data-team' })).status, 409, 'decided once');
    await carolPage.waitForSelector('#notif-toggle[data-unread="1"]');
    await carolPage.click('#notif-toggle');
    await carolPage.locator('li.notif[data-kind="request-denied"]', { hasText: 'Your request for Notebooks was denied' }).waitFor();
    assert.equal(await carolPage.locator(`a.card[data-id="${ns}/notebooks"]`).count(), 0);
    const groups = await (await kcAdmin()).users.listGroups({ realm, id: ids.carol! });
    assert.deepEqual(groups.map((g) => g.name), ['users'], 'a denial changes nothing in Keycloak');
    // The admin client's token can manage users but not the realm (least privilege).
    const sat = await fetch(`${issuer}/protocol/openid-connect/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: adminClient.clientId, client_secret: adminClient.clientSecret }),
    }).then((r) => r.json() as Promise<{ access_token: string }>);
    const mk = await fetch(`${kc.baseUrl}/admin/realms/${realm}/clients`, { method: 'POST', headers: { authorization: `Bearer ${sat.access_token}`, 'content-type': 'application/json' }, body: JSON.stringify({ clientId: 'sneaky' }) });
    assert.equal(mk.status, 403);
  });

  it('notifications: an app going unhealthy and recovering reaches those who can see it, live; mark read; nothing private leaks', async () => {
    backend.status = 200;
    const bobPage = await browserAs('bob');
    const aliceT = await token('alice');
    const bobT = await token('bob');
    const bobEvents = await openSse(`${svc.url}/api/events`, { authorization: `Bearer ${bobT}` });
    const aliceEvents = await openSse(`${svc.url}/api/events`, { authorization: `Bearer ${aliceT}` });
    await bobPage.waitForSelector(`a.card[data-id="${ns}/docs"] .badge[data-health="healthy"]`);
    const before = Number(await bobPage.getAttribute('#notif-toggle', 'data-unread'));
    backend.status = 500;
    // More than before (not exactly one more): another notification of bob's may still arrive from the earlier cases.
    await bobPage.waitForFunction((n) => Number(document.querySelector('#notif-toggle')?.getAttribute('data-unread')) > n, before);
    await bobPage.click('#notif-toggle');
    await bobPage.locator('li.notif.unread[data-kind="app-unhealthy"]', { hasText: 'Docs is unhealthy' }).waitFor();
    backend.status = 200;
    await bobPage.locator('li.notif.unread[data-kind="app-recovered"]', { hasText: 'Docs has recovered' }).waitFor();
    await bobPage.screenshot({ path: join(SHOTS, 'notifications-light.png'), fullPage: true });
    await axe(bobPage, 'user with pins, requests and notifications, light');
    await bobPage.getByRole('button', { name: 'Mark read: Docs has recovered' }).click();
    await bobPage.locator('li.notif.read[data-kind="app-recovered"]').first().waitFor();
    // More than before (not exactly one more): another notification of bob's may still arrive from the earlier cases.
    await bobPage.waitForFunction((n) => Number(document.querySelector('#notif-toggle')?.getAttribute('data-unread')) > n, before);
    await bobPage.getByRole('button', { name: 'Mark all read' }).click();
    await bobPage.waitForSelector('#notif-toggle[data-unread="0"]');
    // The vault (admins only) flapped too: alice was told, bob never saw a byte of it.
    await aliceEvents.waitFor((e) => e.event === 'user' && e.data.includes('Secret Vault has recovered'));
    const bobText = bobEvents.events.map((e) => e.data).join('\n') + (await api(bobT, '/api/me/state')).text + (await api(bobT, '/api/apps')).text;
    for (const secret of ['Secret Vault', `${ns}/vault`, 'data-team', 'admins']) assert.ok(!bobText.includes(secret), `${secret} reached bob`);
    assert.ok(!bobEvents.events.some((e) => e.event === 'admin'), 'no admin events for a non-admin');
    bobEvents.close();
    aliceEvents.close();
    const anon = await fetch(`${svc.url}/api/apps`).then((r) => r.text());
    // By id: other files' apps on the shared control plane may be public and called Notebooks too.
    for (const secret of [`${ns}/notebooks`, `${ns}/vault`, 'Secret Vault', 'requestable']) assert.ok(!anon.includes(secret), `${secret} reached an anonymous visitor`);
    // Reads are durable: the read marks live in bob's ConfigMap.
    assert.equal((await api(bobT, '/api/me/state')).body.unread, 0);
    const dark = await browserAs('bob', 'dark');
    await dark.click('#notif-toggle');
    await dark.waitForSelector('li.notif.read');
    await axe(dark, 'user with notifications, dark');
  });

  it('admin packs view: Argo CD Applications of project packs with sync/health and their NebariApps\' conditions; absent for non-admins', async () => {
    const co = cp.kubeConfig().makeApiClient(CustomObjectsApi);
    const app = (name: string, project: string, nebariApps: string[]): Obj => ({
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'Application',
      metadata: { name, namespace: packsNs },
      spec: { project, source: { repoURL: 'https://git.example.com/gitops.git', path: name }, destination: { server: 'https://kubernetes.default.svc', namespace: ns } },
      status: { sync: { status: 'Synced' }, health: { status: name === 'notebooks-pack' ? 'Degraded' : 'Healthy' }, resources: nebariApps.map((n) => ({ group: 'reconcilers.nebari.dev', version: 'v1', kind: 'NebariApp', namespace: ns, name: n })) },
    });
    for (const a of [app('notebooks-pack', 'packs', ['notebooks']), app('docs-pack', 'packs', ['docs', 'wiki']), app('keycloak', 'foundation', [])]) {
      await co.createNamespacedCustomObject({ group: 'argoproj.io', version: 'v1alpha1', namespace: packsNs, plural: 'applications', body: a });
    }
    await new Apps(cp.kubeConfig()).setStatus(ns, 'notebooks', {
      observedGeneration: 1,
      conditions: [
        { type: 'RoutingReady', status: 'True', reason: 'HTTPRouteReady', message: 'route ready', lastTransitionTime: new Date().toISOString(), observedGeneration: 1 },
        { type: 'Ready', status: 'False', reason: 'CertificateNotReady', message: 'waiting for the certificate', lastTransitionTime: new Date().toISOString(), observedGeneration: 1 },
      ],
    });
    for (const scheme of ['light', 'dark'] as const) {
      const page = await browserAs('alice', scheme);
      await page.waitForSelector('#admin:not([hidden])');
      const row = page.locator('#packs-body tr[data-pack="notebooks-pack"]');
      await row.locator(`li[data-app="${ns}/notebooks"] .cond[data-type="Ready"][data-status="False"]`).waitFor();
      assert.deepEqual(await page.$$eval('#packs-body tr', (trs) => trs.map((t) => (t as HTMLElement).dataset.pack)).then((p) => p.filter((n) => n !== undefined && ['notebooks-pack', 'docs-pack', 'keycloak'].includes(n))), ['docs-pack', 'notebooks-pack']);
      assert.deepEqual(await row.locator('td').allTextContents().then((t) => t.slice(0, 3)), [ns, 'Synced', 'Degraded']);
      assert.equal(await row.locator('.cond[data-type="Ready"]').textContent(), 'Ready: CertificateNotReady');
      assert.deepEqual(await page.$$eval('#packs-body tr[data-pack="docs-pack"] li', (ls) => ls.map((l) => (l as HTMLElement).dataset.app)), [`${ns}/docs`, `${ns}/wiki`]);
      await page.screenshot({ path: join(SHOTS, `admin-packs-${scheme}.png`), fullPage: true });
      await axe(page, `admin view ${scheme}`);
    }
    const bob = await browserAs('bob');
    await bob.waitForSelector(`a.card[data-id="${ns}/docs"]`);
    assert.equal(await bob.locator('#admin').isHidden(), true);
    assert.ok(!(await bob.content()).includes('notebooks-pack'));
    const denied = await api(await token('bob'), '/api/admin');
    assert.equal(denied.status, 403);
    assert.ok(!denied.text.includes('notebooks-pack'));
    assert.equal((await fetch(`${svc.url}/api/admin`)).status, 401);
  });
});
