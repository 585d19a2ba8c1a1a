import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { NebariApp } from '../../../operator/src/api/types.js';
import {
  AuthSpecError,
  audienceScopeName,
  authConfigHash,
  canonicalJson,
  clientScopeNames,
  desiredKeycloak,
  wantsProvisioning,
} from '../../../operator/src/keycloak/desired.js';

function app(auth: NonNullable<NebariApp['spec']['auth']>, extra: Partial<NebariApp['spec']> = {}, meta: Partial<NebariApp['metadata']> = {}): NebariApp {
  return {
    apiVersion: 'reconcilers.nebari.dev/v1',
    kind: 'NebariApp',
    metadata: { namespace: 'data', name: 'jupyter', uid: 'u1', ...meta },
    spec: { hostname: 'jupyter.example.com', service: { name: 'jupyter', port: 8888 }, ...extra, auth: { enabled: true, ...auth } },
  };
}

describe('keycloak desired state', function () {
  it('confidential client: standard flow only, exact redirect URI, own origin, owner attribute, token exchange on', function () {
    const d = desiredKeycloak(app({}));
    assert.equal(d.owner, 'data/jupyter');
    assert.equal(d.clients.length, 1);
    const c = d.clients[0]!;
    assert.equal(c.clientId, 'data-jupyter');
    assert.equal(c.role, 'confidential');
    assert.equal(c.publicClient, false);
    assert.equal(c.standardFlowEnabled, true);
    assert.equal(c.implicitFlowEnabled, false);
    assert.equal(c.directAccessGrantsEnabled, false);
    assert.equal(c.serviceAccountsEnabled, false);
    assert.equal(c.fullScopeAllowed, false);
    assert.deepEqual(c.redirectUris, ['https://jupyter.example.com/oauth2/callback']);
    assert.deepEqual(c.webOrigins, ['https://jupyter.example.com']);
    assert.equal(c.attributes['post.logout.redirect.uris'], 'https://jupyter.example.com/*');
    assert.equal(c.attributes['nebari.dev/owner'], 'data/jupyter');
    assert.equal(c.attributes['standard.token.exchange.enabled'], 'true');
    // openid is the OIDC marker, not a client scope; defaults openid, profile, email
    assert.deepEqual(c.defaultClientScopes, ['email', 'profile']);
    assert.deepEqual(c.protocolMappers.map((m) => m.name), ['audience-self']);
    assert.equal(c.protocolMappers[0]!.config['included.client.audience'], 'data-jupyter');
    assert.equal(d.audienceScope, undefined);
    assert.deepEqual(d.groups, []);
  });

  it('uses auth.redirectURI and adds a groups claim mapper when the groups scope is asked for', function () {
    const d = desiredKeycloak(app({ redirectURI: '/hub/oauth_callback', scopes: ['openid', 'groups', 'groups'] }));
    const c = d.clients[0]!;
    assert.deepEqual(c.redirectUris, ['https://jupyter.example.com/hub/oauth_callback']);
    assert.deepEqual(c.defaultClientScopes, ['groups']);
    const g = c.protocolMappers.find((m) => m.name === 'groups');
    assert.equal(g?.protocolMapper, 'oidc-group-membership-mapper');
    assert.equal(g?.config['claim.name'], 'groups');
    assert.equal(g?.config['full.path'], 'false');
    assert.deepEqual(d.requestedScopes, ['groups']);
  });

  it('keycloakConfig mappers replace the default mappers (even an empty list); duplicates are refused', function () {
    const d = desiredKeycloak(
      app({
        scopes: ['openid', 'groups'],
        keycloakConfig: {
          protocolMappers: [
            { name: 'groups', protocolMapper: 'oidc-group-membership-mapper', config: { 'claim.name': 'roles', 'full.path': 'true' } },
            { name: 'dept', protocolMapper: 'oidc-usermodel-attribute-mapper', config: { 'user.attribute': 'dept' } },
          ],
        },
      }),
    );
    const names = d.clients[0]!.protocolMappers.map((m) => m.name);
    assert.deepEqual(names, ['dept', 'groups']);
    assert.equal(d.clients[0]!.protocolMappers.find((m) => m.name === 'groups')!.config['claim.name'], 'roles');
    assert.deepEqual(desiredKeycloak(app({ scopes: ['openid', 'groups'], keycloakConfig: { protocolMappers: [] } })).clients[0]!.protocolMappers, []);
    assert.deepEqual(desiredKeycloak(app({ scopes: ['openid', 'groups'], keycloakConfig: {} })).clients[0]!.protocolMappers.map((m) => m.name), ['audience-self', 'groups']);
    assert.throws(
      () =>
        desiredKeycloak(
          app({ keycloakConfig: { protocolMappers: [{ name: 'x', protocolMapper: 'a' }, { name: 'x', protocolMapper: 'b' }] } }),
        ),
      (err: unknown) => err instanceof AuthSpecError && err.field === 'spec.auth.keycloakConfig.protocolMappers[1].name',
    );
  });

  it('spaClient: public PKCE client on the app origin; deviceFlowClient: public device client without redirects', function () {
    const d = desiredKeycloak(app({ spaClient: { enabled: true }, deviceFlowClient: { enabled: true } }));
    assert.deepEqual(d.clients.map((c) => [c.role, c.clientId]), [
      ['confidential', 'data-jupyter'],
      ['spa', 'data-jupyter-spa'],
      ['device', 'data-jupyter-device'],
    ]);
    const spa = d.clients[1]!;
    assert.equal(spa.publicClient, true);
    assert.equal(spa.attributes['pkce.code.challenge.method'], 'S256');
    assert.deepEqual(spa.redirectUris, ['https://jupyter.example.com/*']);
    assert.deepEqual(spa.webOrigins, ['https://jupyter.example.com']);
    assert.equal(spa.directAccessGrantsEnabled, false);
    const dev = d.clients[2]!;
    assert.equal(dev.publicClient, true);
    assert.equal(dev.standardFlowEnabled, false);
    assert.equal(dev.attributes['oauth2.device.authorization.grant.enabled'], 'true');
    assert.deepEqual(dev.redirectUris, []);
    assert.deepEqual(dev.webOrigins, []);
    // override of the SPA id; equal to the confidential id is refused with the field named
    assert.equal(desiredKeycloak(app({ spaClient: { enabled: true, clientId: 'lab-web' } })).clients[1]!.clientId, 'lab-web');
    assert.throws(() => desiredKeycloak(app({ spaClient: { enabled: true, clientId: 'data-jupyter' } })), /spec\.auth\.spaClient\.clientId/);
    assert.throws(
      () => desiredKeycloak(app({ spaClient: { enabled: true, clientId: 'data-jupyter-device' }, deviceFlowClient: { enabled: true } })),
      /spec\.auth\.spaClient\.clientId: client ids must be unique/,
    );
  });

  it('token exchange: an audience client scope for this client', function () {
    const d = desiredKeycloak(app({ tokenExchange: { enabled: true } }));
    assert.equal(d.audienceScope?.name, audienceScopeName('data-jupyter'));
    assert.equal(d.audienceScope?.name, 'nebari-audience-data-jupyter');
    assert.equal(d.audienceScope?.protocolMappers[0]?.protocolMapper, 'oidc-audience-mapper');
    assert.equal(d.audienceScope?.protocolMappers[0]?.config['included.client.audience'], 'data-jupyter');
  });

  it('groups: auth.groups and keycloakConfig.groups merged, members unique and sorted; slashes refused', function () {
    const d = desiredKeycloak(
      app({
        groups: ['b-team', 'a-team'],
        keycloakConfig: { groups: [{ name: 'a-team', members: ['zoe', 'al', 'zoe'] }, { name: 'c-team' }] },
      }),
    );
    assert.deepEqual(d.groups, [
      { name: 'a-team', members: ['al', 'zoe'] },
      { name: 'b-team', members: [] },
      { name: 'c-team', members: [] },
    ]);
    assert.throws(() => desiredKeycloak(app({ groups: ['x/y'] })), /spec\.auth\.groups\[0\]: top-level group names cannot contain "\/"/);
    assert.throws(() => desiredKeycloak(app({ keycloakConfig: { groups: [{ name: 'a/b' }] } })), /spec\.auth\.keycloakConfig\.groups\[0\]\.name/);
  });

  it('bad hostname or redirect URI is refused naming the field', function () {
    assert.throws(() => desiredKeycloak(app({}, { hostname: 'Bad_Host' })), /spec\.hostname: must be a lower-case FQDN/);
    assert.throws(() => desiredKeycloak(app({ redirectURI: 'callback' })), /spec\.auth\.redirectURI: must be a path starting with "\/"/);
  });

  it('wantsProvisioning follows the contract', function () {
    assert.equal(wantsProvisioning(app({})), true);
    assert.equal(wantsProvisioning(app({ enabled: false })), false);
    assert.equal(wantsProvisioning(app({ provider: 'generic-oidc' })), false);
    assert.equal(wantsProvisioning(app({ provisionClient: false })), false);
    assert.equal(wantsProvisioning(app({ clientSecretRef: 'mine' })), false);
  });

  it('property: web origins are only the app origin, never "*"; redirect URIs stay on the hostname', function () {
    const label = fc.stringMatching(/^[a-z0-9]([-a-z0-9]{0,10}[a-z0-9])?$/);
    const host = fc.array(label, { minLength: 1, maxLength: 4 }).map((ls) => ls.join('.'));
    const path = fc.stringMatching(/^\/[A-Za-z0-9_\-./]{0,30}$/);
    fc.assert(
      fc.property(host, path, fc.boolean(), fc.boolean(), (h, p, spa, dev) => {
        const d = desiredKeycloak(app({ redirectURI: p, spaClient: { enabled: spa }, deviceFlowClient: { enabled: dev } }, { hostname: h }));
        for (const c of d.clients) {
          assert.ok(c.webOrigins.every((o) => o === `https://${h}`));
          assert.ok(!c.webOrigins.includes('*') && !c.webOrigins.includes('+'));
          assert.ok(c.redirectUris.every((u) => u.startsWith(`https://${h}/`)));
        }
      }),
    );
  });
});

describe('authConfigHash', function () {
  const base = app({ scopes: ['openid', 'profile', 'groups'], groups: ['a', 'b'] });

  it('is a SHA-256 hex digest, stable across calls, key order and list order', function () {
    const h = authConfigHash(base);
    assert.match(h, /^[0-9a-f]{64}$/);
    assert.equal(authConfigHash(base), h);
    const reordered = app({ groups: ['b', 'a'], scopes: ['groups', 'profile', 'openid'] });
    assert.equal(authConfigHash(reordered), h);
    // JSON key order of the object itself does not matter
    const shuffled = JSON.parse(JSON.stringify({ spec: base.spec, metadata: base.metadata, kind: base.kind, apiVersion: base.apiVersion })) as NebariApp;
    assert.equal(authConfigHash(shuffled), h);
  });

  it('the default scopes hash like the explicit defaults', function () {
    assert.equal(authConfigHash(app({})), authConfigHash(app({ scopes: ['openid', 'profile', 'email'] })));
  });

  it('changes when what is provisioned changes, not for unrelated fields', function () {
    const h = authConfigHash(base);
    assert.notEqual(authConfigHash(app({ scopes: ['openid', 'profile'], groups: ['a', 'b'] })), h);
    assert.notEqual(authConfigHash(app({ scopes: ['openid', 'profile', 'groups'], groups: ['a'] })), h);
    assert.notEqual(authConfigHash(app({ scopes: ['openid', 'profile', 'groups'], groups: ['a', 'b'] }, { hostname: 'other.example.com' })), h);
    assert.notEqual(authConfigHash(app({ scopes: ['openid', 'profile', 'groups'], groups: ['a', 'b'], spaClient: { enabled: true } })), h);
    assert.notEqual(authConfigHash(app({ scopes: ['openid', 'profile', 'groups'], groups: ['a', 'b'], tokenExchange: { enabled: true } })), h);
    assert.notEqual(authConfigHash(base, { realm: 'other' }), authConfigHash(base, { realm: 'nebari' }));
    assert.notEqual(authConfigHash(base, { issuerUrl: 'https://a/realms/x' }), authConfigHash(base, { issuerUrl: 'https://b/realms/x' }));
    assert.notEqual(authConfigHash(app({ scopes: ['openid', 'profile', 'groups'], groups: ['a', 'b'] }, { serviceAccountName: 'runner' })), h);
    // unrelated to Keycloak: routing, landing page, gateway enforcement
    assert.equal(authConfigHash(app({ scopes: ['openid', 'profile', 'groups'], groups: ['a', 'b'], enforceAtGateway: false })), h);
    assert.equal(
      authConfigHash(app({ scopes: ['openid', 'profile', 'groups'], groups: ['a', 'b'] }, { landingPage: { enabled: true, displayName: 'X' } })),
      h,
    );
  });

  it('canonicalJson sorts keys at every depth and drops undefined', function () {
    assert.equal(canonicalJson({ b: 1, a: { d: [2, { z: 1, y: undefined }], c: null } }), '{"a":{"c":null,"d":[2,{"z":1}]},"b":1}');
  });

  it('clientScopeNames drops openid and duplicates', function () {
    assert.deepEqual(clientScopeNames(app({ scopes: ['openid', 'x', 'x', 'a'] })), ['a', 'x']);
  });
});
