// The landing page with the REAL Keycloak (test/harness/keycloak.ts) as its issuer and the REAL control plane:
// users sign in through Keycloak's own login form in Chromium, group membership decides what they see, sign-out
// goes through Keycloak's end-session endpoint, and Keycloak access tokens work as Bearer tokens on the API
// thanks to the protocol mappers shipped in packs/landing/manifests/nebariapp.yaml (applied here as shipped).
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import type KcAdminClient from '@keycloak/keycloak-admin-client';
import type { Page } from 'playwright-core';
import { sharedControlPlane, freePort, type ControlPlane } from '../../harness/control-plane.js';
import { sharedKeycloak, type KeycloakInstance } from '../../harness/keycloak.js';
import { launchChromium, type LaunchedBrowser } from '../../harness/browser.js';
import { createRealm, masterAdmin } from '../keycloak/oidc-helpers.js';
import { silentLogger } from '../../../operator/src/runtime/logger.js';
import { startLandingService, type LandingService } from '../../../packs/landing/src/service.js';
import { Apps, createNamespace, nebariApp, webAssets, type Obj } from './helpers.js';

const SHOTS = join(process.cwd(), 'test-results', 'landing');

describe('landing page with the real Keycloak', function () {
  this.timeout(600_000);
  let cp: ControlPlane;
  let kc: KeycloakInstance;
  let admin: KcAdminClient;
  let svc: LandingService;
  let chrome: LaunchedBrowser;
  let realm: string;
  let issuer: string;
  let ns: string;
  let passwords: Record<string, string>;
  let clientSecret: string;
  const shipped = parse(readFileSync(join('packs', 'landing', 'manifests', 'nebariapp.yaml'), 'utf8')) as Obj;
  const clientId = `${shipped.metadata.namespace}-${shipped.metadata.name}`;

  before(async function () {
    [cp, kc] = await Promise.all([sharedControlPlane(), sharedKeycloak()]);
    realm = `landing-${Date.now().toString(36)}`;
    passwords = await createRealm(kc, realm, ['alice', 'bob']);
    admin = await masterAdmin(kc);
    issuer = `${kc.baseUrl}/realms/${realm}`;
    const port = await freePort();
    const publicUrl = `http://127.0.0.1:${port}`;

    // Groups: alice in admins, bob in users.
    for (const [group, user] of [['admins', 'alice'], ['users', 'bob']] as const) {
      const { id: gid } = await admin.groups.create({ realm, name: group });
      const [u] = await admin.users.find({ realm, username: user, exact: true });
      await admin.users.addToGroup({ realm, id: u!.id!, groupId: gid });
    }
    // The client as the operator would provision it for the landing NebariApp, with the shipped protocol mappers;
    // redirect URIs point at this test's loopback origin. Direct access grants only so the test can get a token.
    const { id } = await admin.clients.create({
      realm,
      clientId,
      enabled: true,
      publicClient: false,
      standardFlowEnabled: true,
      directAccessGrantsEnabled: true,
      redirectUris: [`${publicUrl}${shipped.spec.auth.redirectURI}`],
      webOrigins: [publicUrl],
      attributes: { 'pkce.code.challenge.method': 'S256', 'post.logout.redirect.uris': `${publicUrl}/` },
      protocolMappers: (shipped.spec.auth.keycloakConfig.protocolMappers as Obj[]).map((m) => ({ name: m.name, protocol: 'openid-connect', protocolMapper: m.protocolMapper, config: m.config })),
    });
    clientSecret = (await admin.clients.getClientSecret({ realm, id })).value!;

    svc = await startLandingService({
      kubeConfig: cp.kubeConfig(),
      oidc: {
        settings: { issuer, clientId, clientSecret, publicUrl, redirectPath: shipped.spec.auth.redirectURI, scopes: shipped.spec.auth.scopes, sessionTtlSeconds: 3600 },
      },
      staticDir: await webAssets(),
      log: silentLogger,
      port,
    });
    ns = await createNamespace(cp.kubeConfig(), 'landing-kc');
    const apps = new Apps(cp.kubeConfig());
    await apps.create(nebariApp(ns, 'docs', { landingPage: { enabled: true, displayName: 'Docs', category: 'Help' } }));
    await apps.create(nebariApp(ns, 'argocd', { auth: { enabled: true, groups: ['admins'] }, landingPage: { enabled: true, displayName: 'Argo CD (admins)', category: 'Platform', icon: 'argocd' } }));
    await apps.create(nebariApp(ns, 'notebooks', { auth: { enabled: true, groups: ['users', 'admins'] }, landingPage: { enabled: true, displayName: 'Notebooks (users)', category: 'Data Science', icon: 'jupyter' } }));
    chrome = await launchChromium();
    mkdirSync(SHOTS, { recursive: true });
  });

  after(async () => {
    await chrome?.close();
    await svc?.stop();
    if (admin && realm) await admin.realms.del({ realm }).catch(() => undefined);
  });

  const mine = (page: Page): Promise<string[]> =>
    page.$$eval(`a.card[data-id^="${ns}/"] .name`, (els) => els.map((e) => e.textContent ?? ''));

  async function waitMine(page: Page, want: string[]): Promise<void> {
    const end = Date.now() + 20_000;
    let got: string[] = [];
    while (Date.now() < end) {
      got = await mine(page);
      if (JSON.stringify(got) === JSON.stringify(want)) return;
      await page.waitForTimeout(100);
    }
    assert.deepEqual(got, want);
  }

  async function keycloakLogin(page: Page, user: string): Promise<void> {
    await page.getByRole('link', { name: 'Sign in' }).click();
    await page.waitForURL((u) => u.href.startsWith(issuer));
    await page.fill('#username', user);
    await page.fill('#password', passwords[user]!);
    await page.click('#kc-login');
    await page.waitForURL((u) => u.href.startsWith(svc.url));
    await page.waitForSelector(`text=Signed in as`);
  }

  it('a user of group "users" signs in through Keycloak, sees only what the groups allow, signs out through Keycloak', async () => {
    const ctx = await chrome.browser.newContext();
    const page = await ctx.newPage();
    await page.goto(svc.url);
    await waitMine(page, ['Docs']);
    await keycloakLogin(page, 'bob');
    await waitMine(page, ['Notebooks (users)', 'Docs']);
    assert.ok(!(await page.content()).includes('Argo CD'));
    const me = await page.evaluate(() => fetch('/api/me').then((r) => r.json()));
    assert.deepEqual(me.user.groups, ['users'], 'groups claim from the shipped group mapper, without the leading "/"');
    await page.getByRole('button', { name: 'Sign out' }).click();
    // Keycloak redirects straight back when it got id_token_hint; otherwise it asks for confirmation first.
    await page.waitForURL((u) => u.href.startsWith(svc.url) || u.href.startsWith(issuer));
    if (page.url().startsWith(issuer)) {
      await page.click('#kc-logout');
      await page.waitForURL((u) => u.href.startsWith(svc.url));
    }
    await page.waitForSelector('a:text("Sign in")');
    await waitMine(page, ['Docs']);
    // The Keycloak session is gone too: signing in asks for the password again.
    await page.getByRole('link', { name: 'Sign in' }).click();
    await page.waitForSelector('#username');
    await ctx.close();
  });

  it('an admin signs in through Keycloak and sees the admins-only app', async () => {
    const ctx = await chrome.browser.newContext();
    const page = await ctx.newPage();
    await page.goto(svc.url);
    await keycloakLogin(page, 'alice');
    await waitMine(page, ['Notebooks (users)', 'Docs', 'Argo CD (admins)']);
    await page.screenshot({ path: join(SHOTS, 'keycloak-admin.png'), fullPage: true });
    await ctx.close();
  });

  it('Keycloak access tokens work as Bearer on the API (shipped audience mapper); a token for another client does not', async () => {
    const token = async (user: string, client = clientId, secret = clientSecret): Promise<string> => {
      const res = await fetch(`${issuer}/protocol/openid-connect/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'password', client_id: client, client_secret: secret, username: user, password: passwords[user]!, scope: 'openid' }),
      });
      const body = (await res.json()) as { access_token?: string; error?: string };
      assert.ok(body.access_token, `token for ${user}: ${body.error}`);
      return body.access_token;
    };
    const list = async (t: string): Promise<{ status: number; text: string }> => {
      const r = await fetch(`${svc.url}/api/apps`, { headers: { authorization: `Bearer ${t}` } });
      return { status: r.status, text: await r.text() };
    };
    const a = await list(await token('alice'));
    assert.equal(a.status, 200);
    assert.ok(a.text.includes('Argo CD (admins)'));
    const b = await list(await token('bob'));
    assert.equal(b.status, 200);
    assert.ok(!b.text.includes('Argo CD (admins)'));
    assert.ok(b.text.includes('Notebooks (users)'));

    // A token Keycloak issued to a different client (no audience for the landing page) is refused.
    const { id } = await admin.clients.create({ realm, clientId: 'other-client', publicClient: false, directAccessGrantsEnabled: true, standardFlowEnabled: false });
    const otherSecret = (await admin.clients.getClientSecret({ realm, id })).value!;
    const other = await list(await token('alice', 'other-client', otherSecret));
    assert.equal(other.status, 401);
    assert.deepEqual(JSON.parse(other.text), { error: 'invalid_token', reason: 'audience' });
  });
});
