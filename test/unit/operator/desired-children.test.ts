import assert from 'node:assert/strict';
import { desiredState, type KubeObject } from '../../../operator/src/desired/index.js';
import { OWNER_ANNOTATION, type NebariApp } from '../../../operator/src/api/types.js';
import { app, config, facts, NOW } from './fixtures.js';

type Any = any; // eslint-disable-line @typescript-eslint/no-explicit-any

function kids(a: NebariApp, f = facts(), c = config()): KubeObject[] {
  return desiredState(a, f, c, NOW).children;
}
function one(list: KubeObject[], kind: string, name?: string): Any {
  const found = list.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  assert.equal(found.length, 1, `expected one ${kind}${name ? ` ${name}` : ''}, got ${found.length}`);
  return found[0];
}
const kinds = (list: KubeObject[]) => list.map((o) => `${o.kind}/${o.metadata.name}`).sort();
const paths = (route: Any) => route.spec.rules.flatMap((r: Any) => r.matches.map((m: Any) => `${m.path.type} ${m.path.value}`));

describe('desired state: main HTTPRoute', () => {
  it('defaults to all paths: one PathPrefix "/" match, hostname, backend Service and port', () => {
    const r = one(kids(app()), 'HTTPRoute', 'jupyter-route');
    assert.deepEqual(r.spec.hostnames, ['jupyter.example.com']);
    assert.deepEqual(r.spec.rules, [
      { matches: [{ path: { type: 'PathPrefix', value: '/' } }], backendRefs: [{ group: '', kind: 'Service', name: 'hub', port: 8080, weight: 1 }] },
    ]);
  });

  it('uses routing.routes with pathType defaulting to PathPrefix', () => {
    const r = one(kids(app({ routing: { routes: [{ pathPrefix: '/a' }, { pathPrefix: '/b', pathType: 'Exact' }] } })), 'HTTPRoute', 'jupyter-route');
    assert.deepEqual(paths(r), ['PathPrefix /a', 'Exact /b']);
  });

  it('attaches to the app ListenerSet HTTPS listener with TLS', () => {
    const r = one(kids(app()), 'HTTPRoute', 'jupyter-route');
    assert.deepEqual(r.spec.parentRefs, [{ group: 'gateway.networking.k8s.io', kind: 'ListenerSet', name: 'jupyter', sectionName: 'https' }]);
  });

  it('attaches to the shared Gateway http listener without TLS, and picks the internal Gateway', () => {
    const r = one(kids(app({ routing: { tls: { enabled: false } } })), 'HTTPRoute', 'jupyter-route');
    assert.deepEqual(r.spec.parentRefs, [
      { group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'public', namespace: 'envoy-gateway-system', sectionName: 'http' },
    ]);
    const i = one(kids(app({ gateway: 'internal', routing: { tls: { enabled: false } } })), 'HTTPRoute', 'jupyter-route');
    assert.deepEqual(i.spec.parentRefs, [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'internal', namespace: 'envoy-gateway-system' }]);
  });

  it('merges routing.annotations, operator keys winning; labels map back to the app', () => {
    const r = one(kids(app({ routing: { annotations: { 'argocd.argoproj.io/tracking-id': 't', [OWNER_ANNOTATION]: 'evil/x' } } })), 'HTTPRoute', 'jupyter-route');
    assert.equal(r.metadata.annotations['argocd.argoproj.io/tracking-id'], 't');
    assert.equal(r.metadata.annotations[OWNER_ANNOTATION], 'data/jupyter');
    assert.deepEqual(r.metadata.labels, {
      'app.kubernetes.io/managed-by': 'nebari-operator',
      'reconcilers.nebari.dev/nebariapp-namespace': 'data',
      'reconcilers.nebari.dev/nebariapp-name': 'jupyter',
      'reconcilers.nebari.dev/component': 'route',
    });
    assert.deepEqual(r.metadata.ownerReferences, [
      { apiVersion: 'reconcilers.nebari.dev/v1', kind: 'NebariApp', name: 'jupyter', uid: 'uid-1', controller: true, blockOwnerDeletion: true },
    ]);
  });

  it('adds the OIDC callback and logout paths when auth is enforced on selected paths', () => {
    const r = one(kids(app({ routing: { routes: [{ pathPrefix: '/hub' }] }, auth: { enabled: true, redirectURI: '/hub/cb' } })), 'HTTPRoute', 'jupyter-route');
    assert.deepEqual(paths(r), ['PathPrefix /hub', 'Exact /hub/cb', 'Exact /oauth2/logout']);
  });

  it('folds publicRoutes into the main route when auth is not enforced at the gateway', () => {
    const list = kids(app({ routing: { routes: [{ pathPrefix: '/hub' }], publicRoutes: [{ pathPrefix: '/health' }] } }));
    assert.deepEqual(paths(one(list, 'HTTPRoute', 'jupyter-route')), ['PathPrefix /hub', 'Exact /health']);
    assert.equal(list.filter((o) => o.metadata.name === 'jupyter-public').length, 0);
  });

  it('splits more than 64 matches into several rules', () => {
    const routes = Array.from({ length: 64 }, (_, i) => ({ pathPrefix: `/r${i}` }));
    const r = one(kids(app({ routing: { routes, publicRoutes: [{ pathPrefix: '/x' }] } })), 'HTTPRoute', 'jupyter-route');
    assert.deepEqual(r.spec.rules.map((x: Any) => x.matches.length), [64, 1]);
  });

  it('names the backend namespace only for cross-namespace Services', () => {
    const r = one(kids(app({ service: { name: 'hub', port: 8080, namespace: 'shared' } })), 'HTTPRoute', 'jupyter-route');
    assert.equal(r.spec.rules[0].backendRefs[0].namespace, 'shared');
  });
});

describe('desired state: public HTTPRoute', () => {
  it('serves publicRoutes (pathType Exact by default) outside the policy when auth is enforced', () => {
    const list = kids(app({ routing: { publicRoutes: [{ pathPrefix: '/health' }, { pathPrefix: '/static', pathType: 'PathPrefix' }] }, auth: { enabled: true } }));
    const p = one(list, 'HTTPRoute', 'jupyter-public');
    assert.deepEqual(paths(p), ['Exact /health', 'PathPrefix /static']);
    assert.equal(p.metadata.labels['reconcilers.nebari.dev/component'], 'public-route');
    const sp = one(list, 'SecurityPolicy');
    assert.deepEqual(sp.spec.targetRefs, [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', name: 'jupyter-route' }]);
  });

  it('does not exist without publicRoutes', () => {
    assert.deepEqual(kinds(kids(app({ auth: { enabled: true } }))).filter((k) => k.includes('public')), []);
  });
});

describe('desired state: ReferenceGrant', () => {
  it('lets HTTPRoutes of the app namespace reach the Service, created in the backend namespace without owner reference', () => {
    const g = one(kids(app({ service: { name: 'hub', port: 8080, namespace: 'shared' } })), 'ReferenceGrant');
    assert.equal(g.metadata.namespace, 'shared');
    assert.equal(g.metadata.name, 'nebariapp-data.jupyter');
    assert.equal(g.metadata.ownerReferences, undefined);
    assert.equal(g.metadata.annotations[OWNER_ANNOTATION], 'data/jupyter');
    assert.deepEqual(g.spec, {
      from: [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', namespace: 'data' }],
      to: [{ group: '', kind: 'Service', name: 'hub' }],
    });
  });

  it('is not needed for a same-namespace Service', () => {
    assert.equal(kids(app()).filter((o) => o.kind === 'ReferenceGrant').length, 0);
    assert.equal(kids(app({ service: { name: 'hub', port: 8080, namespace: 'data' } })).filter((o) => o.kind === 'ReferenceGrant').length, 0);
  });
});

describe('desired state: TLS (ListenerSet + Certificate)', () => {
  it('creates a per-app ListenerSet on the shared Gateway and a Certificate from the ClusterIssuer', () => {
    const list = kids(app());
    const ls = one(list, 'ListenerSet');
    assert.equal(ls.apiVersion, 'gateway.networking.k8s.io/v1');
    assert.deepEqual(ls.spec, {
      parentRef: { group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'public', namespace: 'envoy-gateway-system' },
      listeners: [
        {
          name: 'https',
          hostname: 'jupyter.example.com',
          port: 443,
          protocol: 'HTTPS',
          tls: { mode: 'Terminate', certificateRefs: [{ group: '', kind: 'Secret', name: 'jupyter-nebariapp-tls' }] },
          allowedRoutes: { namespaces: { from: 'Same' } },
        },
      ],
    });
    const cert = one(list, 'Certificate');
    assert.equal(cert.metadata.name, 'jupyter-tls');
    assert.equal(cert.spec.secretName, 'jupyter-nebariapp-tls');
    assert.deepEqual(cert.spec.dnsNames, ['jupyter.example.com']);
    assert.deepEqual(cert.spec.issuerRef, { group: 'cert-manager.io', kind: 'ClusterIssuer', name: 'letsencrypt' });
    assert.equal(cert.spec.secretTemplate.labels['reconcilers.nebari.dev/nebariapp-name'], 'jupyter');
  });

  it('uses the configured HTTPS port and the internal Gateway', () => {
    const ls = one(kids(app({ gateway: 'internal' }), facts(), config({ httpsPort: 8443 })), 'ListenerSet');
    assert.equal(ls.spec.parentRef.name, 'internal');
    assert.equal(ls.spec.listeners[0].port, 8443);
  });

  it('has neither with TLS disabled nor without routing', () => {
    assert.deepEqual(kinds(kids(app({ routing: { tls: { enabled: false } } }))), ['HTTPRoute/jupyter-route']);
    const { routing: _r, ...noRouting } = app().spec;
    assert.deepEqual(kids({ ...app(), spec: noRouting }), []);
  });

  it('keeps the Certificate (not the ListenerSet or routes) while the Gateway is missing', () => {
    assert.deepEqual(kinds(kids(app(), facts({ gatewayFound: false }))), ['Certificate/jupyter-tls']);
  });
});

describe('desired state: SecurityPolicy', () => {
  const sp = (spec: Any, f = facts(), c = config()) => one(kids(app(spec), f, c), 'SecurityPolicy');

  it('configures OIDC with the one issuer, client credentials from the Secret, redirect URL, logout path, default scopes', () => {
    const p = sp({ auth: { enabled: true } });
    assert.equal(p.apiVersion, 'gateway.envoyproxy.io/v1alpha1');
    assert.deepEqual(p.spec.targetRefs, [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', name: 'jupyter-route' }]);
    const o = p.spec.oidc;
    // Keycloak's endpoints given explicitly: Envoy Gateway never needs the discovery document to accept the policy
    assert.deepEqual(o.provider, {
      issuer: 'https://auth.example.com/realms/nebari',
      authorizationEndpoint: 'https://auth.example.com/realms/nebari/protocol/openid-connect/auth',
      tokenEndpoint: 'https://auth.example.com/realms/nebari/protocol/openid-connect/token',
      endSessionEndpoint: 'https://auth.example.com/realms/nebari/protocol/openid-connect/logout',
    });
    assert.equal(o.forwardIDToken, undefined, 'no ID token forwarding without groups');
    assert.equal(o.disableTokenEncryption, undefined, 'token cookies stay encrypted (Envoy Gateway default)');
    assert.deepEqual(o.clientIDRef, { group: '', kind: 'Secret', name: 'jupyter-oidc-client' });
    assert.deepEqual(o.clientSecret, { group: '', kind: 'Secret', name: 'jupyter-oidc-client' });
    assert.equal(o.redirectURL, 'https://jupyter.example.com/oauth2/callback');
    assert.equal(o.logoutPath, '/oauth2/logout');
    assert.deepEqual(o.scopes, ['openid', 'profile', 'email']);
    assert.equal(o.forwardAccessToken, false);
    assert.equal(o.denyRedirect, undefined);
    assert.equal(p.spec.jwt, undefined);
    assert.equal(p.spec.authorization, undefined);
  });

  it('honours redirectURI, scopes, forwardAccessToken, denyRedirect (type Exact by default) and http without TLS', () => {
    const o = sp({
      routing: { tls: { enabled: false } },
      auth: { enabled: true, redirectURI: '/cb', scopes: ['openid', 'groups'], forwardAccessToken: true, denyRedirect: [{ name: 'X-Requested-With', value: 'XMLHttpRequest' }, { name: 'Accept', value: 'application/json', type: 'Prefix' }] },
    }).spec.oidc;
    assert.equal(o.redirectURL, 'http://jupyter.example.com/cb');
    assert.deepEqual(o.scopes, ['openid', 'groups']);
    assert.equal(o.forwardAccessToken, true);
    assert.deepEqual(o.denyRedirect, {
      headers: [
        { name: 'X-Requested-With', type: 'Exact', value: 'XMLHttpRequest' },
        { name: 'Accept', type: 'Prefix', value: 'application/json' },
      ],
    });
  });

  it('uses auth.clientSecretRef instead of the provisioned Secret', () => {
    const o = sp({ auth: { enabled: true, clientSecretRef: 'my-creds' } }).spec.oidc;
    assert.equal(o.clientSecret.name, 'my-creds');
    assert.equal(o.clientIDRef.name, 'my-creds');
  });

  it('uses the spec issuer for generic-oidc', () => {
    const o = sp({ auth: { enabled: true, provider: 'generic-oidc', issuerURL: 'https://idp.example.org', clientSecretRef: 'creds' } }).spec.oidc;
    assert.equal(o.provider.issuer, 'https://idp.example.org');
  });

  it('allows only auth.groups (groups claim of the ID token the OIDC filter forwards, decrypted, in a header), denying everyone else', () => {
    const p = sp({ auth: { enabled: true, groups: ['admins', 'Data Science'] } });
    assert.match(p.spec.oidc.cookieNames.idToken, /^IdToken-[0-9a-f]{8}$/);
    // the cookies stay encrypted; the JWT provider never reads them
    assert.equal(p.spec.oidc.disableTokenEncryption, undefined);
    assert.deepEqual(p.spec.oidc.forwardIDToken, { header: 'x-nebari-id-token' });
    assert.deepEqual(p.spec.jwt, {
      providers: [
        {
          name: 'nebari-oidc',
          issuer: 'https://auth.example.com/realms/nebari',
          remoteJWKS: { uri: 'https://auth.example.com/realms/nebari/protocol/openid-connect/certs' },
          extractFrom: { headers: [{ name: 'x-nebari-id-token' }] },
        },
      ],
    });
    assert.deepEqual(p.spec.authorization, {
      defaultAction: 'Deny',
      rules: [
        {
          name: 'allow-groups',
          action: 'Allow',
          principal: { jwt: { provider: 'nebari-oidc', claims: [{ name: 'groups', valueType: 'StringArray', values: ['admins', 'Data Science'] }] } },
        },
      ],
    });
  });

  it('takes the groups claim name and JWKS URI from the operator config, and discovered JWKS for generic-oidc', () => {
    const c = config({ oidc: { issuerURL: 'https://auth.example.com/realms/nebari', jwksURI: 'https://auth.example.com/jwks', groupsClaim: 'roles' } });
    const p = sp({ auth: { enabled: true, groups: ['a'] } }, facts(), c);
    assert.equal(p.spec.jwt.providers[0].remoteJWKS.uri, 'https://auth.example.com/jwks');
    assert.equal(p.spec.authorization.rules[0].principal.jwt.claims[0].name, 'roles');
    const g = sp(
      { auth: { enabled: true, provider: 'generic-oidc', issuerURL: 'https://idp.example.org', clientSecretRef: 'creds', groups: ['a'] } },
      facts({ genericJwksURI: 'https://idp.example.org/keys' }),
    );
    assert.equal(g.spec.jwt.providers[0].remoteJWKS.uri, 'https://idp.example.org/keys');
  });

  it('is absent when auth is disabled or not enforced at the gateway', () => {
    assert.equal(kids(app({ auth: { enabled: false } })).filter((o) => o.kind === 'SecurityPolicy').length, 0);
    assert.equal(kids(app({ auth: { enabled: true, enforceAtGateway: false } })).filter((o) => o.kind === 'SecurityPolicy').length, 0);
  });
});
