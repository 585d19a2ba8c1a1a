// Argo CD single sign-on through the real Keycloak, in Chromium, with the OIDC and RBAC settings the platform
// renders: argocd-cm / argocd-rbac-cm / argocd-cmd-params-cm from argocdValues() (the function the ArgoCD component
// applies), the release's own workloads from its install.yaml (argocdManifestObjects), the AppProjects from the
// component's renderers, and Keycloak's `argocd` client from components/identity (argocdClient, groupsMapper:
// the exact arguments the Identity component gives the Keycloak provider; mapped here to Keycloak's admin REST
// representation, as that provider does). Argo CD runs as real processes (test/harness/argocd.ts).
// Stood in for (named): the Gateway's TLS termination in front of argocd-server (a Node HTTPS proxy on loopback
// with a throwaway certificate; Chromium ignores certificate errors for it), the kubelet (kwok), and the realm's
// own settings (a plain realm: this file checks the client, the groups claim and Argo CD's RBAC).
import assert from 'node:assert/strict';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type KcAdminClient from '@keycloak/keycloak-admin-client';
import type { BrowserContext } from 'playwright-core';
import { freePort, startControlPlane, type ControlPlane } from '../../harness/control-plane.js';
import { sharedKeycloak, type KeycloakInstance } from '../../harness/keycloak.js';
import { launchChromium, type LaunchedBrowser } from '../../harness/browser.js';
import { startArgoCD, type ArgoCDProcesses } from '../../harness/argocd.js';
import { argocdReleaseManifest } from '../../harness/embedded.js';
import { createPki } from '../../harness/pki.js';
import { sleep } from '../../harness/util.js';
import { createRealm, masterAdmin, providerClientRepresentation } from '../keycloak/oidc-helpers.js';
import { KubeApi, describeRejections, type KubeObject } from '../platform/kube-api.js';
import { NS } from '../../../components/cluster/namespaces.js';
import {
  ARGOCD_CM_METADATA,
  argocdCmData,
  argocdManifestObjects,
  argocdValues,
  foundationProject,
  OIDC_SECRET_KEY,
  OIDC_SECRET_NAME,
  parseManifest,
  type ArgoCDChartLikeValues,
} from '../../../components/argocd/index.js';
import { argocdClient, groupsMapper } from '../../../components/identity/spec.js';

const ADMIN_GROUPS = ['admins'];
const VIEWER_GROUPS = ['viewers', 'developers'];

describe('Argo CD SSO through the real Keycloak (Chromium), with the client and RBAC the platform renders', function () {
  this.timeout(600_000);
  let cp: ControlPlane;
  let kc: KeycloakInstance;
  let admin: KcAdminClient;
  let argo: ArgoCDProcesses;
  let chrome: LaunchedBrowser;
  let front: Server;
  let work: string;
  let argoUrl: string;
  let realm: string;
  let passwords: Record<string, string>;
  let api: KubeApi;
  const clientSecret = `s-${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}`;

  /** The platform's rendering of Argo CD's settings for this Keycloak and this URL. */
  const values = (issuerURL: string) => argocdValues({ hostname: new URL(argoUrl).host, issuerURL, adminGroups: ADMIN_GROUPS, viewerGroups: VIEWER_GROUPS, ha: false }) as unknown as ArgoCDChartLikeValues;
  const argocdCm = (v: ArgoCDChartLikeValues): KubeObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { ...ARGOCD_CM_METADATA, labels: { ...ARGOCD_CM_METADATA.labels } }, data: argocdCmData(v) }) as unknown as KubeObject;

  before(async function () {
    this.timeout(600_000);
    work = mkdtempSync(join(tmpdir(), 'nkp-argocd-sso-'));
    [cp, kc] = await Promise.all([startControlPlane({ nodes: 1 }), sharedKeycloak()]);
    api = new KubeApi(cp.kubeConfig());

    // TLS in front of argocd-server (the Gateway's job in a cluster): Argo CD's URL is https://localhost:<port>.
    const frontPort = await freePort();
    argoUrl = `https://localhost:${frontPort}`;

    // Keycloak: the realm's groups and users, and the argocd client exactly as the Identity component declares it.
    realm = `argocd-${Date.now().toString(36)}`;
    passwords = await createRealm(kc, realm, ['ada', 'vic', 'nora']);
    admin = await masterAdmin(kc);
    admin.setConfig({ realmName: realm });
    await admin.clients.create(providerClientRepresentation(argocdClient(argoUrl), { secret: clientSecret, groups: groupsMapper() }));
    const groupId = async (name: string) => (await admin.groups.create({ name })).id;
    const admins = await groupId('admins');
    const viewers = await groupId('viewers');
    const users = await admin.users.find({ max: 10 });
    const uid = (u: string) => users.find((x) => x.username === u)!.id!;
    await admin.users.addToGroup({ id: uid('ada'), groupId: admins });
    await admin.users.addToGroup({ id: uid('vic'), groupId: viewers });

    // Argo CD's objects as the platform renders them (the manifests route of the ArgoCD component).
    const issuer = `${kc.baseUrl}/realms/${realm}`;
    const v = values(issuer);
    const release = parseManifest(readFileSync(argocdReleaseManifest(), 'utf8'), 'install.yaml');
    const { crds, objects } = argocdManifestObjects(release, v, 'install.yaml');
    await api.installCrds(crds as never);
    const ns = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS.argocd } } as unknown as KubeObject;
    const oidcSecret = { apiVersion: 'v1', kind: 'Secret', metadata: { name: OIDC_SECRET_NAME, namespace: NS.argocd, labels: { 'app.kubernetes.io/part-of': 'argocd' } }, stringData: { [OIDC_SECRET_KEY]: clientSecret } } as unknown as KubeObject;
    const project = foundationProject([issuer]) as unknown as KubeObject;
    const applied = await api.applyAll([ns, ...(objects as unknown as KubeObject[]), argocdCm(v), oidcSecret, project], { fieldManager: 'nkp-test', dryRun: false });
    assert.equal(describeRejections(applied), '', 'the rendered objects apply');

    argo = await startArgoCD({ kubeconfigPath: cp.kubeconfigPath });
    const pki = createPki(mkdtempSync(join(work, 'pki-')));
    const target = new URL(argo.serverUrl);
    front = createServer({ cert: readFileSync(pki.serverCert), key: readFileSync(pki.serverKey) }, (req, res) => {
      const up = httpRequest({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      });
      up.on('error', () => res.destroy());
      req.pipe(up);
    });
    await new Promise<void>((r) => front.listen(frontPort, '127.0.0.1', r));
    chrome = await launchChromium();
  });
  after(async () => {
    await chrome?.close();
    await new Promise<void>((r) => (front ? front.close(() => r()) : r()));
    await argo?.stop();
    await cp?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  /** Sign in through Keycloak's own form; returns the browser context holding Argo CD's session cookie. */
  async function signIn(user: string): Promise<{ ctx: BrowserContext; landed: string }> {
    const ctx = await chrome.browser.newContext({ ignoreHTTPSErrors: true });
    const page = await ctx.newPage();
    await page.goto(`${argoUrl}/auth/login?return_url=${encodeURIComponent(`${argoUrl}/applications`)}`, { waitUntil: 'commit' });
    await page.waitForSelector('#username', { timeout: 60_000 });
    assert.ok(page.url().startsWith(`${kc.baseUrl}/realms/${realm}/`), `Argo CD sent the browser to Keycloak: ${page.url()}`);
    const auth = new URL(page.url());
    assert.equal(auth.searchParams.get('code_challenge_method'), 'S256', 'Argo CD sends a PKCE challenge');
    await page.fill('#username', user);
    await page.fill('#password', passwords[user]!);
    await Promise.all([page.waitForURL((u) => u.href.startsWith(`${argoUrl}/applications`), { waitUntil: 'commit', timeout: 60_000 }), page.click('#kc-login')]);
    return { ctx, landed: page.url() };
  }
  const get = async (ctx: BrowserContext, path: string) => {
    const r = await ctx.request.get(`${argoUrl}${path}`);
    return { status: r.status(), body: (await r.json().catch(() => ({}))) as Record<string, unknown> };
  };
  const canI = async (ctx: BrowserContext, action: string) => (await get(ctx, `/api/v1/account/can-i/applications/${action}/foundation/anything`)).body['value'];

  it('an admins member signs in through Keycloak (PKCE S256) and is admin', async () => {
    const { ctx } = await signIn('ada');
    const info = (await get(ctx, '/api/v1/session/userinfo')).body as { loggedIn: boolean; groups?: string[]; iss?: string };
    assert.equal(info.loggedIn, true);
    assert.deepEqual(info.groups, ['admins']);
    assert.equal(await canI(ctx, 'get'), 'yes');
    assert.equal(await canI(ctx, 'create'), 'yes');
    assert.equal(await canI(ctx, 'delete'), 'yes');
    const projects = await get(ctx, '/api/v1/projects');
    assert.equal(projects.status, 200);
    // argocd-server creates the project `default` itself; `foundation` is the platform's.
    assert.deepEqual(((projects.body['items'] as { metadata: { name: string } }[]) ?? []).map((p) => p.metadata.name).sort(), ['default', 'foundation']);
    await ctx.close();
  });

  it('a viewers member is read-only', async () => {
    const { ctx } = await signIn('vic');
    const info = (await get(ctx, '/api/v1/session/userinfo')).body as { loggedIn: boolean; groups?: string[] };
    assert.equal(info.loggedIn, true);
    assert.deepEqual(info.groups, ['viewers']);
    assert.equal(await canI(ctx, 'get'), 'yes');
    assert.equal(await canI(ctx, 'create'), 'no');
    assert.equal(await canI(ctx, 'sync'), 'no');
    assert.equal((await get(ctx, '/api/v1/projects/foundation')).status, 200);
    await ctx.close();
  });

  it('a user in neither group signs in and gets nothing (policy.default is empty)', async () => {
    const { ctx } = await signIn('nora');
    const info = (await get(ctx, '/api/v1/session/userinfo')).body as { loggedIn: boolean; groups?: string[] };
    assert.equal(info.loggedIn, true);
    assert.deepEqual(info.groups ?? [], []);
    assert.equal(await canI(ctx, 'get'), 'no');
    assert.equal((await get(ctx, '/api/v1/projects/foundation')).status, 403);
    const projects = await get(ctx, '/api/v1/projects');
    assert.deepEqual(projects.body['items'] ?? [], []);
    await ctx.close();
  });

  it('negative control: without enablePKCEAuthentication in oidc.config (the old rendering) Keycloak refuses the login', async () => {
    const v = values(`${kc.baseUrl}/realms/${realm}`);
    const oidc = v.configs.cm['oidc.config'] as string;
    assert.match(oidc, /enablePKCEAuthentication: true/);
    const old = { ...v, configs: { ...v.configs, cm: { ...v.configs.cm, 'oidc.config': oidc.replace(/^enablePKCEAuthentication: true\n/m, '') } } };
    const applied = await api.applyAll([argocdCm(old)], { fieldManager: 'nkp-test', dryRun: false });
    assert.equal(describeRejections(applied), '');
    try {
      const ctx = await chrome.browser.newContext({ ignoreHTTPSErrors: true });
      const page = await ctx.newPage();
      // argocd-server reloads its settings on the ConfigMap change: wait until its login stops sending a challenge.
      let url = '';
      for (let i = 0; i < 60; i++) {
        await page.goto(`${argoUrl}/auth/login?return_url=${encodeURIComponent(`${argoUrl}/applications`)}`, { waitUntil: 'commit' });
        await page.waitForLoadState('domcontentloaded');
        url = page.url();
        if (url.startsWith(kc.baseUrl) && !new URL(url).searchParams.has('code_challenge')) break;
        await sleep(1000);
      }
      assert.ok(!new URL(url).searchParams.has('code_challenge'), `no challenge sent: ${url}`);
      const text = await page.textContent('body');
      assert.match(text ?? '', /Missing parameter: code_challenge_method/, `Keycloak refuses the request: ${text?.slice(0, 300)}`);
      await ctx.close();
    } finally {
      await api.applyAll([argocdCm(values(`${kc.baseUrl}/realms/${realm}`))], { fieldManager: 'nkp-test', dryRun: false });
    }
  });
});
