// KeycloakProvisioner against a real Keycloak (test/harness/keycloak.ts): what it creates, that the credentials it
// returns work for a real login, updates, stable secrets and hashes, token exchange, removal, classified failures.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type KcAdminClient from '@keycloak/keycloak-admin-client';
import { sharedKeycloak, type KeycloakInstance } from '../../harness/keycloak.js';
import { KeycloakProvisioner, KeycloakError, OWNER_ATTRIBUTE, MANAGED_ATTRIBUTE, audienceScopeName } from '../../../operator/src/keycloak/index.js';
import {
  InMemorySecretStore,
  app,
  audiences,
  claims,
  createRealm,
  loginForCode,
  masterAdmin,
  pkcePair,
  tokenRequest,
} from './oidc-helpers.js';

const WRITE_OPS = /\.(create|update|del|add|addToGroup|addDefaultClientScope|addOptionalClientScope|delDefaultClientScope|delOptionalClientScope|addProtocolMapper|updateProtocolMapper|delProtocolMapper)/;

function writes(p: KeycloakProvisioner, since: Map<string, number>): string[] {
  const out: string[] = [];
  for (const [op, n] of p.calls) if (WRITE_OPS.test(op) && n > (since.get(op) ?? 0)) out.push(op);
  return out;
}

describe('keycloak provisioner (real Keycloak)', function () {
  this.timeout(300_000);
  let kc: KeycloakInstance;
  let admin: KcAdminClient;
  let realm: string;
  let passwords: Record<string, string>;
  let store: InMemorySecretStore;
  let p: KeycloakProvisioner;
  let issuer: string;

  before(async function () {
    kc = await sharedKeycloak();
    realm = `nkp-${randomBytes(4).toString('hex')}`;
    passwords = await createRealm(kc, realm, ['alice', 'bob']);
    admin = await masterAdmin(kc);
    store = new InMemorySecretStore({ username: kc.adminUsername, password: kc.adminPassword });
    p = new KeycloakProvisioner({ url: kc.baseUrl, realm, adminSecret: { namespace: 'nebari-system', name: 'keycloak-admin' }, readSecret: store.read });
    issuer = `${kc.baseUrl}/realms/${realm}`;
  });

  async function client(clientId: string) {
    await admin.auth({ grantType: 'password', clientId: 'admin-cli', username: kc.adminUsername, password: kc.adminPassword });
    const found = await admin.clients.find({ realm, clientId });
    return found[0];
  }

  const jupyter = app('data', 'jupyter', {
    scopes: ['openid', 'profile', 'email', 'groups'],
    groups: ['data-team'],
    keycloakConfig: {
      groups: [{ name: 'data-team', members: ['alice', 'nobody'] }, { name: 'data-admins' }],
      // given, these replace the operator's default mappers (its groups and self-audience mappers): the groups claim
      // comes from this list's own mapper, and the access token no longer names the client as an audience
      protocolMappers: [
        {
          name: 'member-of',
          protocolMapper: 'oidc-group-membership-mapper',
          config: { 'claim.name': 'groups', 'full.path': 'false', 'id.token.claim': 'true', 'access.token.claim': 'true' },
        },
        {
          name: 'team',
          protocolMapper: 'oidc-hardcoded-claim-mapper',
          config: { 'claim.name': 'team', 'claim.value': 'data', 'jsonType.label': 'String', 'id.token.claim': 'true', 'access.token.claim': 'true' },
        },
      ],
    },
  });

  it('creates the confidential client, scopes, mappers and groups as the spec says', async function () {
    const r = await p.ensureClients(jupyter);
    assert.equal(r.clientId, 'data-jupyter');
    assert.equal(r.issuerUrl, issuer);
    assert.ok(r.clientSecret.length >= 16);
    assert.equal(r.configHash, p.configHash(jupyter));
    assert.deepEqual(r.warnings, [`group "data-team": user "nobody" does not exist in realm ${realm}`]);
    assert.ok(!r.warnings.join(' ').includes(r.clientSecret));

    const c = await client('data-jupyter');
    assert.ok(c);
    assert.equal(c.publicClient, false);
    assert.equal(c.standardFlowEnabled, true);
    assert.equal(c.implicitFlowEnabled, false);
    assert.equal(c.directAccessGrantsEnabled, false);
    assert.equal(c.serviceAccountsEnabled, false);
    assert.deepEqual(c.redirectUris, ['https://jupyter.data.example.test/oauth2/callback']);
    assert.deepEqual(c.webOrigins, ['https://jupyter.data.example.test']);
    assert.equal(c.attributes?.['post.logout.redirect.uris'], 'https://jupyter.data.example.test/*');
    assert.equal(c.attributes?.[OWNER_ATTRIBUTE], 'data/jupyter');
    assert.equal(c.attributes?.['standard.token.exchange.enabled'], 'true');
    assert.deepEqual([...(c.defaultClientScopes ?? [])].sort(), ['acr', 'basic', 'email', 'groups', 'profile', 'web-origins']);
    assert.deepEqual(c.optionalClientScopes, []);
    const mappers = (c.protocolMappers ?? []).map((m) => `${m.name}:${m.protocolMapper}`).sort();
    assert.deepEqual(mappers, ['member-of:oidc-group-membership-mapper', 'team:oidc-hardcoded-claim-mapper'], 'keycloakConfig.protocolMappers replace the defaults');

    // `groups` did not exist in the realm: created and marked as managed by the operator.
    const groupsScope = await admin.clientScopes.findOneByName({ realm, name: 'groups' });
    assert.equal(groupsScope?.attributes?.[MANAGED_ATTRIBUTE], 'true');

    const groups = await admin.groups.find({ realm, briefRepresentation: false });
    assert.deepEqual(groups.map((g) => g.name).sort(), ['data-admins', 'data-team']);
    const team = groups.find((g) => g.name === 'data-team')!;
    const members = await admin.groups.listMembers({ realm, id: team.id! });
    assert.deepEqual(members.map((m) => m.username), ['alice']);
  });

  it('the returned credentials sign a user in through the real login form; tokens carry the given mappers only', async function () {
    const r = await p.ensureClients(jupyter);
    const redirectUri = 'https://jupyter.data.example.test/oauth2/callback';
    const login = await loginForCode(r.issuerUrl, { clientId: r.clientId, redirectUri, username: 'alice', password: passwords.alice! });
    assert.ok(login.code, `no code: ${login.status} ${login.page ?? ''}`);
    assert.ok(login.location!.startsWith(`${redirectUri}?`));
    const tok = await tokenRequest(r.issuerUrl, { grant_type: 'authorization_code', code: login.code!, redirect_uri: redirectUri }, { id: r.clientId, secret: r.clientSecret });
    assert.equal(tok.status, 200, JSON.stringify(tok.body.error));
    const id = claims(tok.body.id_token);
    assert.equal(id.iss, issuer);
    assert.deepEqual(id.groups, ['data-team']);
    assert.equal(id.team, 'data');
    assert.equal(id.preferred_username, 'alice');
    assert.ok(!audiences(tok.body.access_token).includes('data-jupyter'), 'no default self-audience mapper beside the given ones');

    // A wrong secret is refused, a foreign redirect URI is refused, the password grant is off.
    const bad = await tokenRequest(r.issuerUrl, { grant_type: 'authorization_code', code: 'x', redirect_uri: redirectUri }, { id: r.clientId, secret: 'wrong' });
    assert.equal(bad.status, 401);
    const foreign = await loginForCode(r.issuerUrl, { clientId: r.clientId, redirectUri: 'https://evil.example.test/cb', username: 'alice', password: passwords.alice! });
    assert.equal(foreign.code, undefined);
    assert.match(foreign.page ?? '', /Invalid parameter: redirect_uri/);
    const pw = await tokenRequest(r.issuerUrl, { grant_type: 'password', username: 'alice', password: passwords.alice! }, { id: r.clientId, secret: r.clientSecret });
    assert.equal(pw.status, 400);
    assert.equal(pw.body.error, 'unauthorized_client');
  });

  it('is idempotent: a second ensure keeps the secret and hash and writes nothing', async function () {
    const first = await p.ensureClients(jupyter);
    const before = new Map(p.calls);
    const callsBefore = p.apiCalls;
    const second = await p.ensureClients(jupyter);
    assert.equal(second.clientSecret, first.clientSecret);
    assert.equal(second.configHash, first.configHash);
    assert.deepEqual(writes(p, before), []);
    assert.ok(p.apiCalls - callsBefore <= 6, `steady-state ensure made ${p.apiCalls - callsBefore} calls`);
  });

  it('changing scopes, groups and mappers updates the client and releases what is no longer asked for', async function () {
    const before = await p.ensureClients(jupyter);
    const changed = app('data', 'jupyter', {
      scopes: ['openid', 'profile', 'nkp-notebooks'],
      groups: ['analysts'],
      keycloakConfig: { groups: [{ name: 'analysts', members: ['bob'] }] },
    });
    assert.notEqual(p.configHash(changed), before.configHash);
    const r = await p.ensureClients(changed);
    assert.equal(r.clientSecret, before.clientSecret, 'the client secret survives an update');
    assert.equal(r.configHash, p.configHash(changed));
    const c = await client('data-jupyter');
    assert.deepEqual([...(c!.defaultClientScopes ?? [])].sort(), ['acr', 'basic', 'nkp-notebooks', 'profile', 'web-origins']);
    // auth.groups is set, so the client carries its own groups mapper (the gateway's group rule reads that claim).
    assert.deepEqual((c!.protocolMappers ?? []).map((m) => m.name).sort(), ['audience-self', 'groups']);
    const groups = await admin.groups.find({ realm });
    assert.deepEqual(groups.map((g) => g.name).sort(), ['analysts'], 'groups only this app created and no longer lists are deleted');
    assert.equal(await admin.clientScopes.findOneByName({ realm, name: 'groups' }), undefined, 'the managed groups scope is released');
    assert.ok(await admin.clientScopes.findOneByName({ realm, name: 'nkp-notebooks' }));
    const analysts = groups[0]!;
    assert.deepEqual((await admin.groups.listMembers({ realm, id: analysts.id! })).map((m) => m.username), ['bob']);
    // bob logs in and gets the new scope's name in the token's scope.
    const redirectUri = 'https://jupyter.data.example.test/oauth2/callback';
    const login = await loginForCode(r.issuerUrl, { clientId: r.clientId, redirectUri, username: 'bob', password: passwords.bob! });
    const tok = await tokenRequest(r.issuerUrl, { grant_type: 'authorization_code', code: login.code!, redirect_uri: redirectUri }, { id: r.clientId, secret: r.clientSecret });
    assert.equal(tok.status, 200);
    assert.ok(String(claims(tok.body.access_token).scope).split(' ').includes('nkp-notebooks'));
    assert.deepEqual(claims(tok.body.id_token).groups, ['analysts'], 'the ID token carries the groups the gateway checks');
  });

  it('provisions a public PKCE client and a device-authorization client, and removes them when switched off', async function () {
    const web = app('data', 'dash', { spaClient: { enabled: true }, deviceFlowClient: { enabled: true } });
    const r = await p.ensureClients(web);
    assert.equal(r.spaClientId, 'data-dash-spa');
    assert.equal(r.deviceClientId, 'data-dash-device');
    const spa = await client('data-dash-spa');
    assert.equal(spa?.publicClient, true);
    assert.equal(spa?.attributes?.['pkce.code.challenge.method'], 'S256');
    assert.deepEqual(spa?.webOrigins, ['https://dash.data.example.test']);
    const redirectUri = 'https://dash.data.example.test/app/callback';
    // Without PKCE Keycloak refuses the public client.
    const noPkce = await loginForCode(r.issuerUrl, { clientId: 'data-dash-spa', redirectUri, username: 'alice', password: passwords.alice! });
    assert.equal(noPkce.code, undefined);
    assert.ok(noPkce.location === undefined || /error=invalid_request/.test(noPkce.location), noPkce.location);
    const { verifier, challenge } = pkcePair();
    const login = await loginForCode(r.issuerUrl, { clientId: 'data-dash-spa', redirectUri, username: 'alice', password: passwords.alice!, codeChallenge: challenge });
    assert.ok(login.code, login.page);
    const tok = await tokenRequest(r.issuerUrl, { grant_type: 'authorization_code', client_id: 'data-dash-spa', code: login.code!, redirect_uri: redirectUri, code_verifier: verifier });
    assert.equal(tok.status, 200, JSON.stringify(tok.body));

    const dev = await fetch(`${r.issuerUrl}/protocol/openid-connect/auth/device`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ client_id: 'data-dash-device', scope: 'openid' }),
    });
    assert.equal(dev.status, 200);
    const devBody = (await dev.json()) as { device_code?: string; user_code?: string; verification_uri?: string };
    assert.ok(devBody.device_code && devBody.user_code);
    assert.ok(devBody.verification_uri?.startsWith(r.issuerUrl));
    const pending = await tokenRequest(r.issuerUrl, { grant_type: 'urn:ietf:params:oauth:grant-type:device_code', client_id: 'data-dash-device', device_code: devBody.device_code });
    assert.equal(pending.body.error, 'authorization_pending');

    const off = await p.ensureClients(app('data', 'dash', {}));
    assert.equal(off.spaClientId, undefined);
    assert.equal(off.deviceClientId, undefined);
    assert.equal(await client('data-dash-spa'), undefined);
    assert.equal(await client('data-dash-device'), undefined);
  });

  it('token exchange: another NebariApp client exchanges its user token for this audience; others cannot be targeted', async function () {
    const caller = app('ml', 'chat', {});
    const target = app('ml', 'models', { tokenExchange: { enabled: true } });
    const plain = app('ml', 'plain', {});
    const rc = await p.ensureClients(caller);
    const rt = await p.ensureClients(target);
    await p.ensureClients(plain);
    const scopeName = audienceScopeName(rt.clientId);
    assert.ok((await client('ml-chat'))!.optionalClientScopes!.includes(scopeName), 'offered to the existing caller');
    // An app created after the target gets the offer at creation.
    await p.ensureClients(app('ml', 'late', {}));
    assert.ok((await client('ml-late'))!.optionalClientScopes!.includes(scopeName));

    const redirectUri = 'https://chat.ml.example.test/oauth2/callback';
    const login = await loginForCode(rc.issuerUrl, { clientId: rc.clientId, redirectUri, username: 'alice', password: passwords.alice! });
    const tok = await tokenRequest(rc.issuerUrl, { grant_type: 'authorization_code', code: login.code!, redirect_uri: redirectUri }, { id: rc.clientId, secret: rc.clientSecret });
    assert.equal(tok.status, 200);
    const exchange = (audience: string, scope?: string) =>
      tokenRequest(
        rc.issuerUrl,
        {
          grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
          subject_token: tok.body.access_token!,
          subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
          requested_token_type: 'urn:ietf:params:oauth:token-type:access_token',
          audience,
          ...(scope ? { scope } : {}),
        },
        { id: rc.clientId, secret: rc.clientSecret },
      );
    const ok = await exchange('ml-models', scopeName);
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.deepEqual(audiences(ok.body.access_token), ['ml-models']);
    assert.equal(claims(ok.body.access_token).preferred_username, 'alice');
    const denied = await exchange('ml-plain');
    assert.notEqual(denied.status, 200, 'an app without tokenExchange is no exchange target');

    // Switching token exchange off removes the audience scope (and with it every offer).
    await p.ensureClients(app('ml', 'models', {}));
    assert.equal(await admin.clientScopes.findOneByName({ realm, name: scopeName }), undefined);
    const after = await exchange('ml-models', scopeName);
    assert.notEqual(after.status, 200);
  });

  it('refuses to take over a client id it does not own (conflict)', async function () {
    await admin.auth({ grantType: 'password', clientId: 'admin-cli', username: kc.adminUsername, password: kc.adminPassword });
    await admin.clients.create({ realm, clientId: 'ops-grafana', publicClient: false });
    await assert.rejects(p.ensureClients(app('ops', 'grafana', {})), (err: unknown) => {
      assert.ok(err instanceof KeycloakError);
      assert.equal(err.kind, 'conflict');
      assert.equal(err.reason, 'KeycloakClientConflict');
      assert.match(err.message, /client id "ops-grafana" is taken by a client not managed by nebari-operator/);
      return true;
    });
    const c = await client('ops-grafana');
    assert.equal(c?.attributes?.[OWNER_ATTRIBUTE], undefined, 'the foreign client is untouched');
  });

  it('removeClients leaves nothing of the apps in the realm', async function () {
    // Two apps share a group and a created scope: the first removal keeps them, the last one deletes them.
    const a = app('team', 'a', { scopes: ['openid', 'shared-scope'], groups: ['shared'] });
    const b = app('team', 'b', { scopes: ['openid', 'shared-scope'], groups: ['shared'], tokenExchange: { enabled: true } });
    await p.ensureClients(a);
    await p.ensureClients(b);
    const ra = await p.removeClients(a);
    assert.deepEqual(ra.removedClients, ['team-a']);
    assert.deepEqual(ra.removedGroups, []);
    assert.ok(await admin.clientScopes.findOneByName({ realm, name: 'shared-scope' }), 'still used by team/b');

    const apps = [
      jupyter,
      b,
      app('data', 'dash', {}),
      app('ml', 'chat', {}),
      app('ml', 'models', {}),
      app('ml', 'plain', {}),
      app('ml', 'late', {}),
    ];
    for (const x of apps) await p.removeClients(x);
    await admin.auth({ grantType: 'password', clientId: 'admin-cli', username: kc.adminUsername, password: kc.adminPassword });
    const clients = await admin.clients.find({ realm });
    assert.deepEqual(clients.filter((c) => c.attributes?.[OWNER_ATTRIBUTE]).map((c) => c.clientId), []);
    assert.ok(clients.some((c) => c.clientId === 'ops-grafana'), 'clients of others stay');
    const scopes = await admin.clientScopes.find({ realm });
    assert.deepEqual(scopes.filter((s) => s.attributes?.[MANAGED_ATTRIBUTE]).map((s) => s.name), []);
    assert.deepEqual((await admin.groups.find({ realm })).map((g) => g.name), []);
    // Removing again is a no-op.
    const again = await p.removeClients(b);
    assert.deepEqual(again, { removedClients: [], removedScopes: [], removedGroups: [] });
  });

  it('wrong admin credentials give KeycloakUnauthorized; rotating the Secret recovers without a new provisioner', async function () {
    const bad = new InMemorySecretStore({ username: kc.adminUsername, password: 'not-the-password' });
    const q = new KeycloakProvisioner({ url: kc.baseUrl, realm, adminSecret: { namespace: 'nebari-system', name: 'keycloak-admin' }, readSecret: bad.read });
    const x = app('rot', 'app', {});
    await assert.rejects(q.ensureClients(x), (err: unknown) => {
      assert.ok(err instanceof KeycloakError);
      assert.equal(err.kind, 'unauthorized');
      assert.equal(err.reason, 'KeycloakUnauthorized');
      assert.ok(!err.message.includes('not-the-password'));
      return true;
    });
    bad.set({ username: kc.adminUsername, password: kc.adminPassword });
    // The cached credentials are re-read because the last token request was refused (no token held).
    const r = await q.ensureClients(x);
    assert.equal(r.clientId, 'rot-app');
    await q.removeClients(x);
  });

  it('a missing credentials Secret or key is named in the error', async function () {
    const q = new KeycloakProvisioner({ url: kc.baseUrl, realm, adminSecret: { namespace: 'nebari-system', name: 'nope' }, readSecret: async () => undefined });
    await assert.rejects(q.ensureClients(app('x', 'y', {})), /admin credentials Secret nebari-system\/nope not found/);
    const partial = new InMemorySecretStore({ username: 'admin' });
    const r = new KeycloakProvisioner({ url: kc.baseUrl, realm, adminSecret: { namespace: 'ns', name: 's' }, readSecret: partial.read });
    await assert.rejects(r.ensureClients(app('x', 'y', {})), /admin credentials Secret ns\/s: key password is missing or empty/);
  });
});
