// Upstream identity provider, real on both sides: a second realm of the same real Keycloak plays the company's
// OIDC provider (Entra ID's shape: a confidential client for the platform's Keycloak and a `groups` claim holding
// group ids), the platform realm gets the identity provider and the group mappers exactly as the Identity component
// declares them (components/identity/spec.ts oidcIdentityProvider, upstreamGroupMappers; created through the Admin
// API as the Pulumi Keycloak provider would, whose plugin cannot run here), and users sign in through the broker the
// way a browser does: the platform's authorization endpoint with kc_idp_hint, the upstream's own login form, back
// through the broker endpoint (first broker login), to the platform client's redirect with a code. Driven with fetch
// and a cookie jar (Keycloak's login pages need no JavaScript), and once in Chromium from the platform's own login
// page (its "Company sign-in" button).
// Stand-ins (named): the upstream realm stands in for Entra ID / AD FS; its endpoints are http on loopback (the
// stack config accepts only https upstream URLs).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type KcAdminClient from '@keycloak/keycloak-admin-client';
import { launchChromium } from '../../harness/browser.js';
import { sharedKeycloak, type KeycloakInstance } from '../../harness/keycloak.js';
import { claims, createRealm, masterAdmin, pkcePair, tokenRequest } from './oidc-helpers.js';
import { KUBELOGIN_REDIRECT_URIS } from '../../../components/cloud/kube-oidc.js';
import { groupsMapper, kubernetesClient, oidcIdentityProvider, realmGroups, UPSTREAM_IDP_ALIAS, upstreamGroupMappers, type UpstreamGroupMapping } from '../../../components/identity/spec.js';

/** Cookies by path, as a browser keeps them for one host (both realms share the Keycloak host, each its own path). */
class PathCookieJar {
  private jar = new Map<string, { name: string; value: string; path: string }>();
  take(res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';').map((x) => x.trim());
      const i = pair!.indexOf('=');
      const name = pair!.slice(0, i);
      const value = pair!.slice(i + 1);
      const path = attrs.find((a) => /^path=/i.test(a))?.slice(5) ?? '/';
      const gone = attrs.some((a) => /^max-age=0$/i.test(a)) || attrs.some((a) => /^expires=/i.test(a) && Date.parse(a.slice(8)) < Date.now());
      const key = `${path}|${name}`;
      if (gone || value === '') this.jar.delete(key);
      else this.jar.set(key, { name, value, path });
    }
  }
  header(url: URL): string {
    return [...this.jar.values()].filter((c) => url.pathname.startsWith(c.path.replace(/\/$/, '')) || c.path === '/').map((c) => `${c.name}=${c.value}`).join('; ');
  }
}

const text = (html: string) => html.replace(/<(script|style)[^>]*>[\s\S]*?<\/\1>/gi, ' ').replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 600);
const decode = (s: string) => s.replace(/&amp;/g, '&').replace(/&#x3d;/gi, '=').replace(/&#61;/g, '=').replace(/&quot;/g, '"');

describe('upstream identity provider through the real Keycloak broker: upstream groups land in the platform groups', function () {
  this.timeout(300_000);
  let kc: KeycloakInstance;
  let admin: KcAdminClient;
  const id = randomBytes(3).toString('hex');
  const upstreamRealm = `entra-${id}`;
  const platformRealm = `platform-${id}`;
  let upstreamPasswords: Record<string, string>;
  let platformIssuer: string;
  let upstreamGroupIds: Record<string, string>;
  // Entra ID's groups claim carries group object ids; the upstream realm's groups are named like them.
  const ENTRA = { admins: randomUuid(), developers: randomUuid(), viewers: randomUuid(), other: randomUuid() };
  const MAPPINGS: UpstreamGroupMapping[] = [
    { upstream: ENTRA.admins, group: 'admins' },
    { upstream: ENTRA.developers, group: 'developers' },
    { upstream: ENTRA.viewers, group: 'viewers' },
  ];

  function randomUuid(): string {
    const h = randomBytes(16).toString('hex');
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }

  /** A browser's sign-in through the broker to the platform's kubectl client; returns the platform ID token's claims. */
  async function brokerSignIn(user: string): Promise<Record<string, unknown>> {
    const jar = new PathCookieJar();
    const { verifier, challenge } = pkcePair();
    const redirectUri = KUBELOGIN_REDIRECT_URIS[0];
    const state = randomBytes(8).toString('hex');
    const q = new URLSearchParams({ client_id: 'kubernetes', response_type: 'code', scope: 'openid', redirect_uri: redirectUri, state, code_challenge: challenge, code_challenge_method: 'S256', kc_idp_hint: UPSTREAM_IDP_ALIAS });
    let url = new URL(`${platformIssuer}/protocol/openid-connect/auth?${q}`);
    let init: RequestInit = {};
    let postedCredentials = false;
    const visited: string[] = [];
    for (let hop = 0; hop < 25; hop++) {
      visited.push(`${init.method ?? 'GET'} ${url.pathname}`);
      const res = await fetch(url, { ...init, redirect: 'manual', headers: { ...(init.headers as Record<string, string>), cookie: jar.header(url) } });
      jar.take(res);
      init = {};
      const location = res.headers.get('location');
      if (res.status >= 300 && res.status < 400 && location) {
        const next = new URL(location, url);
        if (next.href.startsWith(redirectUri)) {
          assert.equal(next.searchParams.get('state'), state);
          const code = next.searchParams.get('code');
          assert.ok(code, `a code for ${user}: ${next.href}`);
          const t = await tokenRequest(platformIssuer, { grant_type: 'authorization_code', code, redirect_uri: redirectUri, client_id: 'kubernetes', code_verifier: verifier });
          assert.equal(t.status, 200, JSON.stringify(t.body));
          return { ...claims(t.body.id_token), hops: visited };
        }
        url = next;
        continue;
      }
      const html = await res.text();
      const form = /<form[^>]*id="kc-form-login"[^>]*action="([^"]+)"/.exec(html) ?? /<form[^>]*action="([^"]+)"[^>]*id="kc-form-login"/.exec(html);
      if (res.status === 200 && form && !postedCredentials) {
        assert.ok(url.pathname.startsWith(`/realms/${upstreamRealm}/`), `the login form is the upstream's, not the platform's: ${url.pathname}`);
        postedCredentials = true;
        url = new URL(decode(form[1]!), url);
        init = { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ username: user, password: upstreamPasswords[user]!, credentialId: '' }) };
        continue;
      }
      throw new Error(`sign-in of ${user} stopped at ${res.status} ${url.pathname}: ${text(html)} (hops: ${visited.join(' -> ')})`);
    }
    throw new Error(`sign-in of ${user}: too many redirects (${visited.join(' -> ')})`);
  }

  before(async function () {
    this.timeout(300_000);
    kc = await sharedKeycloak();
    admin = await masterAdmin(kc);
    platformIssuer = `${kc.baseUrl}/realms/${platformRealm}`;
    const upstreamIssuer = `${kc.baseUrl}/realms/${upstreamRealm}`;

    // The upstream (Entra ID's stand-in): users in groups named by object id, a confidential client for the platform's Keycloak.
    upstreamPasswords = await createRealm(kc, upstreamRealm, ['alice', 'dave', 'vic', 'eve', 'olga']);
    admin.setConfig({ realmName: upstreamRealm });
    upstreamGroupIds = {};
    for (const [k, name] of Object.entries({ ...ENTRA, literal: 'admins' })) upstreamGroupIds[k] = (await admin.groups.create({ name })).id;
    const users = await admin.users.find({ max: 20 });
    const uid = (u: string) => users.find((x) => x.username === u)!.id!;
    await admin.users.addToGroup({ id: uid('alice'), groupId: upstreamGroupIds.admins! });
    await admin.users.addToGroup({ id: uid('dave'), groupId: upstreamGroupIds.developers! });
    await admin.users.addToGroup({ id: uid('vic'), groupId: upstreamGroupIds.viewers! });
    await admin.users.addToGroup({ id: uid('olga'), groupId: upstreamGroupIds.other! });
    // eve is in an upstream group literally called "admins": only configured values map, never names that happen to match.
    await admin.users.addToGroup({ id: uid('eve'), groupId: upstreamGroupIds.literal! });
    const brokerSecret = randomBytes(24).toString('hex');
    const m = groupsMapper();
    await admin.clients.create({
      clientId: 'nkp-keycloak',
      protocol: 'openid-connect',
      publicClient: false,
      secret: brokerSecret,
      standardFlowEnabled: true,
      directAccessGrantsEnabled: false,
      redirectUris: [`${platformIssuer}/broker/${UPSTREAM_IDP_ALIAS}/endpoint`],
      protocolMappers: [{ name: 'groups', protocol: 'openid-connect', protocolMapper: 'oidc-group-membership-mapper', config: { 'claim.name': 'groups', 'full.path': 'false', 'id.token.claim': 'true', 'access.token.claim': 'false', 'userinfo.token.claim': String(m.addToUserinfo) } }],
    });

    // The platform realm: its groups, the kubectl client with the groups mapper, the upstream provider and the mappers.
    await createRealm(kc, platformRealm, []);
    admin.setConfig({ realmName: platformRealm });
    for (const g of realmGroups([])) await admin.groups.create({ name: g });
    const k = kubernetesClient('kubernetes', KUBELOGIN_REDIRECT_URIS);
    await admin.clients.create({
      clientId: k.clientId,
      protocol: 'openid-connect',
      publicClient: true,
      standardFlowEnabled: k.standardFlowEnabled,
      directAccessGrantsEnabled: k.directAccessGrantsEnabled,
      fullScopeAllowed: k.fullScopeAllowed,
      redirectUris: k.validRedirectUris,
      webOrigins: k.webOrigins,
      attributes: { 'pkce.code.challenge.method': k.pkceCodeChallengeMethod },
      protocolMappers: [{ name: m.name, protocol: 'openid-connect', protocolMapper: 'oidc-group-membership-mapper', config: { 'claim.name': m.claimName, 'full.path': String(m.fullPath), 'id.token.claim': 'true', 'access.token.claim': 'true', 'userinfo.token.claim': 'true' } }],
    });
    // @pulumi/keycloak's oidc.IdentityProvider -> the Admin API representation it sends (top-level flags, the rest in config).
    const p = oidcIdentityProvider({
      type: 'oidc',
      issuer: upstreamIssuer,
      authorizationUrl: `${upstreamIssuer}/protocol/openid-connect/auth`,
      tokenUrl: `${upstreamIssuer}/protocol/openid-connect/token`,
      jwksUrl: `${upstreamIssuer}/protocol/openid-connect/certs`,
      clientId: 'nkp-keycloak',
    });
    await admin.identityProviders.create({
      alias: p.alias,
      displayName: p.displayName,
      providerId: p.providerId,
      enabled: true,
      trustEmail: p.trustEmail,
      storeToken: p.storeToken,
      config: {
        issuer: p.issuer,
        authorizationUrl: p.authorizationUrl,
        tokenUrl: p.tokenUrl,
        jwksUrl: p.jwksUrl,
        useJwksUrl: 'true',
        validateSignature: String(p.validateSignature),
        clientId: p.clientId,
        clientSecret: brokerSecret,
        clientAuthMethod: 'client_secret_post',
        defaultScope: p.defaultScopes,
        syncMode: p.syncMode,
        backchannelSupported: String(p.backchannelSupported),
        ...p.extraConfig,
      },
    });
    for (const mapper of upstreamGroupMappers(MAPPINGS, 'groups', realmGroups([]))) {
      await admin.identityProviders.createMapper({
        alias: p.alias,
        identityProviderMapper: { name: mapper.name, identityProviderAlias: mapper.identityProviderAlias, identityProviderMapper: mapper.identityProviderMapper, config: mapper.extraConfig },
      });
    }
  });

  after(async () => {
    if (!admin) return;
    for (const realm of [platformRealm, upstreamRealm]) await admin.realms.del({ realm }).catch(() => undefined);
  });

  it('members of the mapped upstream groups land in admins, developers and viewers (through the upstream\'s own login form)', async () => {
    const alice = await brokerSignIn('alice');
    assert.deepEqual(alice.groups, ['admins']);
    assert.equal(alice.preferred_username, 'alice', 'the upstream user name');
    assert.equal(alice.iss, platformIssuer, 'a platform token, not the upstream\'s');
    assert.ok((alice.hops as string[]).some((h) => h.includes(`/realms/${platformRealm}/broker/${UPSTREAM_IDP_ALIAS}/endpoint`)), 'through the broker endpoint');
    assert.deepEqual((await brokerSignIn('dave')).groups, ['developers']);
    assert.deepEqual((await brokerSignIn('vic')).groups, ['viewers']);
  });

  it('in Chromium: the platform\'s login page offers "Company sign-in", which leads to the upstream\'s form and back as a developer', async () => {
    const chrome = await launchChromium();
    try {
      const page = await (await chrome.browser.newContext()).newPage();
      // kubelogin's loopback listener: the browser's last hop is answered here, as kubelogin would (nothing listens on 8000)
      await page.route((u) => u.host === 'localhost:8000', (route) => route.fulfill({ status: 200, contentType: 'text/plain', body: 'signed in' }));
      const { verifier, challenge } = pkcePair();
      const state = randomBytes(8).toString('hex');
      const q = new URLSearchParams({ client_id: 'kubernetes', response_type: 'code', scope: 'openid', redirect_uri: KUBELOGIN_REDIRECT_URIS[0], state, code_challenge: challenge, code_challenge_method: 'S256' });
      await page.goto(`${platformIssuer}/protocol/openid-connect/auth?${q}`);
      const button = page.locator(`#social-${UPSTREAM_IDP_ALIAS}`);
      assert.match((await button.innerText()).trim(), /Company sign-in/, 'the platform realm\'s login page shows the upstream provider');
      await button.click();
      await page.waitForURL((u) => u.pathname.startsWith(`/realms/${upstreamRealm}/`), { timeout: 60_000 });
      await page.fill('#username', 'dave');
      await page.fill('#password', upstreamPasswords.dave!);
      const [back] = await Promise.all([page.waitForRequest((r) => r.url().startsWith(KUBELOGIN_REDIRECT_URIS[0]), { timeout: 60_000 }), page.click('#kc-login')]);
      const callback = new URL(back.url());
      assert.equal(callback.searchParams.get('state'), state);
      const t = await tokenRequest(platformIssuer, { grant_type: 'authorization_code', code: callback.searchParams.get('code')!, redirect_uri: KUBELOGIN_REDIRECT_URIS[0], client_id: 'kubernetes', code_verifier: verifier });
      assert.equal(t.status, 200, JSON.stringify(t.body));
      assert.deepEqual(claims(t.body.id_token).groups, ['developers']);
    } finally {
      await chrome.close();
    }
  });

  it('an unmapped upstream group gives no platform group, even one literally named admins', async () => {
    const olga = await brokerSignIn('olga');
    assert.deepEqual(olga.groups ?? [], []);
    const eve = await brokerSignIn('eve');
    assert.deepEqual(eve.groups ?? [], [], 'the upstream group named "admins" is not a mapped value');
  });

  it('every sign-in re-evaluates the claim (sync FORCE): moved upstream from admins to viewers, the next sign-in is a viewer only', async () => {
    assert.deepEqual((await brokerSignIn('alice')).groups, ['admins']);
    admin.setConfig({ realmName: upstreamRealm });
    const [alice] = await admin.users.find({ username: 'alice', exact: true });
    await admin.users.delFromGroup({ id: alice!.id!, groupId: upstreamGroupIds.admins! });
    await admin.users.addToGroup({ id: alice!.id!, groupId: upstreamGroupIds.viewers! });
    assert.deepEqual((await brokerSignIn('alice')).groups, ['viewers']);
    admin.setConfig({ realmName: platformRealm });
    const [platformAlice] = await admin.users.find({ username: 'alice', exact: true });
    assert.deepEqual((await admin.users.listGroups({ id: platformAlice!.id! })).map((g) => g.name), ['viewers'], 'the platform user\'s membership itself changed');
  });
});
