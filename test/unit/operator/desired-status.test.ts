import assert from 'node:assert/strict';
import { desiredState, conditionEvents, hostnameHolder, hostnameClaim, operatorConfig } from '../../../operator/src/desired/index.js';
import { CONTRACT_REASONS, EXTRA_REASONS, REASONS, type NebariApp } from '../../../operator/src/api/types.js';
import { KEYCLOAK_REASONS } from '../../../operator/src/keycloak/errors.js';
import { app, config, facts, NOW } from './fixtures.js';

type Any = any; // eslint-disable-line @typescript-eslint/no-explicit-any

function conds(a: NebariApp, f = facts(), c = config()): Record<string, { status: string; reason: string; message: string }> {
  const out: Record<string, { status: string; reason: string; message: string }> = {};
  for (const x of desiredState(a, f, c, NOW).conditions) out[x.type] = { status: x.status, reason: x.reason, message: x.message };
  return out;
}
const summary = (a: NebariApp, f = facts(), c = config()) =>
  Object.fromEntries(Object.entries(conds(a, f, c)).map(([k, v]) => [k, `${v.status} ${v.reason}`]));

describe('desired state: conditions and reasons', () => {
  it('all ready: RoutingReady, TLSReady, Ready True (no AuthReady without auth)', () => {
    assert.deepEqual(summary(app()), { RoutingReady: 'True ReconcileSuccess', TLSReady: 'True Available', Ready: 'True Available' });
  });

  it('with auth: AuthReady joins and Ready needs it', () => {
    assert.deepEqual(summary(app({ auth: { enabled: true } })), {
      RoutingReady: 'True ReconcileSuccess',
      TLSReady: 'True Available',
      AuthReady: 'True Available',
      Ready: 'True Available',
    });
  });

  it('RoutingReady and AuthReady follow the gateway controller: pending until it reports, refused with its reason', () => {
    const withAuth = app({ auth: { enabled: true }, routing: { publicRoutes: [{ pathPrefix: '/health' }] } });
    // written but nothing reported yet (or only for an older generation): Reconciling, never True
    let c = conds(withAuth, facts({ mainRoute: { state: 'pending' }, securityPolicy: undefined }));
    assert.equal(`${c.RoutingReady!.status} ${c.RoutingReady!.reason}`, 'False Reconciling');
    assert.match(c.RoutingReady!.message, /HTTPRoute data\/jupyter-route written; waiting for the gateway controller to accept it/);
    assert.equal(`${c.AuthReady!.status} ${c.AuthReady!.reason}`, 'False Reconciling');
    // the public route counts too
    c = conds(withAuth, facts({ publicRoute: { state: 'refused', controller: 'gw-ctrl', condition: 'ResolvedRefs', reason: 'RefNotPermitted', message: 'no grant' } }));
    assert.equal(`${c.RoutingReady!.status} ${c.RoutingReady!.reason}`, 'False RouteNotAccepted');
    assert.match(c.RoutingReady!.message, /HTTPRoute data\/jupyter-public was refused: the gateway controller \(gw-ctrl\) reports ResolvedRefs=False \(RefNotPermitted\): no grant/);
    // the policy refused: AuthReady carries the controller's reason, Ready follows
    c = conds(withAuth, facts({ securityPolicy: { state: 'refused', controller: 'gw-ctrl', condition: 'Accepted', reason: 'Invalid', message: 'bad issuer' } }));
    assert.equal(`${c.AuthReady!.status} ${c.AuthReady!.reason}`, 'False SecurityPolicyFailed');
    assert.match(c.AuthReady!.message, /SecurityPolicy data\/jupyter was refused: the gateway controller \(gw-ctrl\) reports Accepted=False \(Invalid\): bad issuer/);
    assert.equal(c.Ready!.status, 'False');
    assert.equal(c.RoutingReady!.status, 'True');
    assert.match(c.RoutingReady!.message, /accepted by the gateway controller \(gateway\.envoyproxy\.io\/gatewayclass-controller\)/);
    // the per-app listener: nothing reported yet is not ready either
    c = conds(app(), facts({ listener: undefined }));
    assert.equal(`${c.TLSReady!.status} ${c.TLSReady!.reason}`, 'False ListenerNotReady');
  });

  it('NamespaceNotOptedIn: every condition False, nothing created', () => {
    const d = desiredState(app({ auth: { enabled: true } }), facts({ namespaceOptedIn: false }), config(), NOW);
    assert.deepEqual(d.children, []);
    assert.ok(d.conditions.every((c) => c.status === 'False' && c.reason === 'NamespaceNotOptedIn'));
    assert.match(d.conditions[0]!.message, /namespace data lacks label nebari.dev\/managed=true/);
  });

  it('ValidationFailed: names the field, nothing created', () => {
    const d = desiredState(app({ hostname: `${'a'.repeat(64)}.example.com` }), facts(), config(), NOW);
    assert.deepEqual(d.children, []);
    assert.equal(d.conditions.find((c) => c.type === 'Ready')?.reason, 'ValidationFailed');
    assert.match(d.conditions[0]!.message, /spec\.hostname: each DNS label must be at most 63 characters/);
    assert.equal(d.errors[0]?.field, 'spec.hostname');
  });

  it('Deleting: no children', () => {
    const d = desiredState(app({}, { deletionTimestamp: NOW }), facts(), config(), NOW);
    assert.deepEqual(d.children, []);
    assert.equal(d.conditions.at(-1)?.reason, 'Deleting');
  });

  it('ServiceNotFound, also for a Service without the named port (the original operator\'s reason, detail in the message): no routes (the certificate and listener stay)', () => {
    let d = desiredState(app(), facts({ service: { found: false } }), config(), NOW);
    assert.deepEqual(summary(app(), facts({ service: { found: false } })), { RoutingReady: 'False ServiceNotFound', TLSReady: 'True Available', Ready: 'False ServiceNotFound' });
    assert.deepEqual(d.children.map((c) => c.kind).sort(), ['Certificate', 'ListenerSet']);
    d = desiredState(app(), facts({ service: { found: true, ports: [80] } }), config(), NOW);
    assert.equal(d.conditions[0]!.reason, 'ServiceNotFound');
    assert.match(d.conditions[0]!.message, /^service hub does not expose port 8080 \(Service data\/hub has ports: 80\)$/);
    assert.deepEqual(d.children.map((c) => c.kind).sort(), ['Certificate', 'ListenerSet']);
  });

  it('GatewayNotFound', () => {
    assert.deepEqual(summary(app(), facts({ gatewayFound: false })), {
      RoutingReady: 'False GatewayNotFound',
      TLSReady: 'False GatewayNotFound',
      Ready: 'False GatewayNotFound',
    });
    assert.deepEqual(summary(app({ routing: { tls: { enabled: false } } }), facts({ gatewayFound: false })), {
      RoutingReady: 'False GatewayNotFound',
      TLSReady: 'True TLSDisabled',
      Ready: 'False GatewayNotFound',
    });
  });

  it('GatewayListenerConflict: the younger claim loses and creates nothing; the older keeps working', () => {
    const older = app({}, { name: 'first', creationTimestamp: '2026-01-01T00:00:00Z' });
    const younger = app({}, { name: 'second', creationTimestamp: '2026-02-01T00:00:00Z' });
    const claims = [hostnameClaim(older, true)!, hostnameClaim(younger, true)!];
    const lost = desiredState(younger, facts({ hostnameClaims: claims }), config(), NOW);
    assert.deepEqual(lost.children, []);
    assert.equal(lost.conditions[0]!.reason, 'GatewayListenerConflict');
    assert.equal(lost.conditions[1]!.reason, 'GatewayListenerConflict');
    assert.match(lost.conditions[0]!.message, /held by NebariApp data\/first/);
    const won = desiredState(older, facts({ hostnameClaims: claims }), config(), NOW);
    assert.equal(won.conditions.at(-1)!.status, 'True');
  });

  it('hostname ties are broken by namespace then name; apps without routing or opt-in claim nothing', () => {
    const t = '2026-01-01T00:00:00Z';
    const claims = [
      { namespace: 'b', name: 'a', hostname: 'h', creationTimestamp: t },
      { namespace: 'a', name: 'z', hostname: 'h', creationTimestamp: t },
      { namespace: 'a', name: 'y', hostname: 'h', creationTimestamp: t },
    ];
    assert.deepEqual(hostnameHolder('h', claims), claims[2]);
    const { routing: _r, ...noRouting } = app().spec;
    assert.equal(hostnameClaim({ ...app(), spec: noRouting }, true), undefined);
    assert.equal(hostnameClaim(app(), false), undefined);
    assert.equal(hostnameClaim(app({}, { deletionTimestamp: t }), true), undefined);
  });

  it('CertificateNotReady while cert-manager has not issued: one message on the way, the failure when one failed', () => {
    const pending = [facts({ certificate: undefined }), facts({ certificate: { ready: false } })].map((f) => conds(app(), f).TLSReady!);
    for (const c of pending) assert.equal(c.reason, 'CertificateNotReady');
    assert.equal(pending[0]!.message, pending[1]!.message, 'written and in progress read the same (no status write between them)');
    assert.match(pending[0]!.message, /not issued yet$/);
    const failed = conds(app(), facts({ certificate: { ready: false, message: 'The certificate request has failed to complete and will be retried: no CA' } })).TLSReady!;
    assert.equal(failed.reason, 'CertificateNotReady');
    assert.match(failed.message, /not issued yet; the last attempt failed: The certificate request has failed to complete and will be retried: no CA$/);
  });

  it('ListenerNotReady when the gateway rejects the listener', () => {
    const c = conds(app(), facts({ listener: { accepted: false, reason: 'HostnameConflict', message: 'conflict' } })).TLSReady!;
    assert.equal(c.reason, 'ListenerNotReady');
    assert.match(c.message, /HostnameConflict: conflict/);
  });

  it('no routing: RoutingReady and TLSReady True (RoutingDisabled), nothing created', () => {
    const { routing: _r, ...spec } = app().spec;
    assert.deepEqual(summary({ ...app(), spec }), { RoutingReady: 'True RoutingDisabled', TLSReady: 'True RoutingDisabled', Ready: 'True Available' });
  });

  it('TLS disabled: TLSReady True TLSDisabled', () => {
    assert.equal(conds(app({ routing: { tls: { enabled: false } } })).TLSReady!.reason, 'TLSDisabled');
  });

  it('routing.tls.secretName: no Certificate, the listener serves that Secret; UserProvidedSecretNotFound / InvalidType / Ready', () => {
    const user = app({ routing: { tls: { secretName: 'my-tls' } } });
    const d = desiredState(user, facts({ certificate: undefined, tlsSecret: { found: true, type: 'kubernetes.io/tls' } }), config(), NOW);
    assert.deepEqual(d.children.map((c) => c.kind).sort(), ['HTTPRoute', 'ListenerSet']);
    const ls = d.children.find((c) => c.kind === 'ListenerSet') as Any;
    assert.deepEqual(ls.spec.listeners[0].tls.certificateRefs, [{ group: '', kind: 'Secret', name: 'my-tls' }]);
    assert.equal(summary(user, facts({ tlsSecret: { found: true, type: 'kubernetes.io/tls' } })).TLSReady, 'True UserProvidedSecretReady');
    const missing = desiredState(user, facts({ tlsSecret: { found: false } }), config(), NOW);
    assert.deepEqual(missing.children.map((c) => c.kind).sort(), ['HTTPRoute', 'ListenerSet'], 'the listener is written and picks the Secret up once it exists');
    const tls = missing.conditions.find((c) => c.type === 'TLSReady')!;
    assert.equal(`${tls.status} ${tls.reason}`, 'False UserProvidedSecretNotFound');
    assert.match(tls.message, /Secret data\/my-tls \(routing\.tls\.secretName\) not found/);
    const opaque = conds(user, facts({ tlsSecret: { found: true, type: 'Opaque' } })).TLSReady!;
    assert.equal(opaque.reason, 'UserProvidedSecretInvalidType');
    assert.match(opaque.message, /is of type Opaque; it must be of type kubernetes\.io\/tls/);
    assert.equal(summary(app({ routing: { tls: { enabled: false, secretName: 'my-tls' } } })).TLSReady, 'True TLSDisabled', 'ignored without TLS');
  });

  it('no ClusterIssuer configured: ClusterIssuerNotConfigured and nothing routed, unless the app brings routing.tls.secretName or turns TLS off', () => {
    const none = config({ clusterIssuer: '' });
    const d = desiredState(app(), facts(), none, NOW);
    assert.deepEqual(d.children, []);
    assert.deepEqual(summary(app(), facts(), none), { RoutingReady: 'False ClusterIssuerNotConfigured', TLSReady: 'False ClusterIssuerNotConfigured', Ready: 'False ClusterIssuerNotConfigured' });
    assert.match(conds(app(), facts(), none).TLSReady!.message, /no cert-manager ClusterIssuer configured \(--cluster-issuer \/ CLUSTER_ISSUER\) and routing\.tls\.secretName is not set/);
    assert.equal(summary(app({ routing: { tls: { secretName: 'my-tls' } } }), facts({ tlsSecret: { found: true, type: 'kubernetes.io/tls' } }), none).Ready, 'True Available');
    assert.equal(summary(app({ routing: { tls: { enabled: false } } }), facts(), none).Ready, 'True Available');
  });

  it('generic-oidc with provisionClient left true and no clientSecretRef: ProvisioningNotSupported, no route without login', () => {
    const g = { enabled: true, provider: 'generic-oidc' as const, issuerURL: 'https://idp.example.org' };
    const d = desiredState(app({ auth: g }), facts({ clientSecret: { found: false } }), config(), NOW);
    const c = Object.fromEntries(d.conditions.map((x) => [x.type, x]));
    assert.equal(c['AuthReady']!.reason, 'ProvisioningNotSupported');
    assert.match(c['AuthReady']!.message, /set auth\.clientSecretRef/);
    assert.equal(c['RoutingReady']!.reason, 'AuthNotReady');
    assert.ok(!d.children.some((x) => x.kind === 'HTTPRoute'));
    assert.equal(conds(app({ auth: { ...g, provisionClient: false } }), facts({ clientSecret: { found: false } })).AuthReady!.reason, 'SecretNotFound');
    assert.equal(conds(app({ auth: { ...g, clientSecretRef: 'creds' } })).AuthReady!.reason, 'Available', 'a clientSecretRef is what generic-oidc needs');
  });

  it('SecretNotFound withholds the route so the app is never served without login (AuthNotReady)', () => {
    const d = desiredState(app({ auth: { enabled: true } }), facts({ clientSecret: { found: false } }), config(), NOW);
    assert.deepEqual(d.children.map((c) => c.kind).sort(), ['Certificate', 'ListenerSet']);
    const c = Object.fromEntries(d.conditions.map((x) => [x.type, x]));
    assert.equal(c['AuthReady']!.reason, 'SecretNotFound');
    assert.match(c['AuthReady']!.message, /Secret data\/jupyter-oidc-client not found yet: waiting for the OIDC client to be provisioned/);
    assert.equal(c['RoutingReady']!.reason, 'AuthNotReady');
    const ref = conds(app({ auth: { enabled: true, clientSecretRef: 'creds' } }), facts({ clientSecret: { found: false } }));
    assert.match(ref.AuthReady!.message, /Secret data\/creds \(auth.clientSecretRef\) not found/);
  });

  it('SecretKeyMissing, Failed provisioning, IssuerNotConfigured, no credentials', () => {
    assert.equal(conds(app({ auth: { enabled: true } }), facts({ clientSecret: { found: true, keys: ['client-id'] } })).AuthReady!.reason, 'SecretKeyMissing');
    const failed = conds(app({ auth: { enabled: true } }), facts({ clientSecret: { found: false }, provisioning: { ok: false, message: 'keycloak unreachable' } })).AuthReady!;
    assert.equal(failed.reason, 'Failed');
    assert.match(failed.message, /keycloak unreachable/);
    const noIssuer = config({ oidc: {} });
    assert.equal(conds(app({ auth: { enabled: true } }), facts(), noIssuer).AuthReady!.reason, 'IssuerNotConfigured');
    assert.equal(conds(app({ auth: { enabled: true, provisionClient: false } })).AuthReady!.reason, 'SecretNotFound');
    const genericGroups = app({ auth: { enabled: true, provider: 'generic-oidc', issuerURL: 'https://idp.example.org', clientSecretRef: 'c', groups: ['g'] } });
    assert.equal(conds(genericGroups).AuthReady!.reason, 'IssuerNotConfigured');
  });

  it('a failed provisioning carries its precise reason to AuthReady (Keycloak reasons are contract additions)', () => {
    for (const reason of ['KeycloakUnavailable', 'KeycloakUnauthorized', 'KeycloakClientConflict', 'KeycloakRequestRejected', 'ValidationFailed'] as const) {
      assert.equal(REASONS[reason], reason, `${reason} is a known reason`);
      // the Secret still exists from an earlier success: the failure wins over the Secret being present
      const c = conds(app({ auth: { enabled: true } }), facts({ provisioning: { ok: false, reason, message: `m-${reason}` } }));
      assert.deepEqual([c.AuthReady!.status, c.AuthReady!.reason], ['False', reason]);
      assert.match(c.AuthReady!.message, new RegExp(`OIDC client provisioning failed: m-${reason}`));
      // the route is withheld until login can be enforced: Ready names that, and carries the provisioning message
      assert.deepEqual([c.RoutingReady!.reason, c.Ready!.status, c.Ready!.reason], ['AuthNotReady', 'False', 'AuthNotReady']);
      assert.match(c.Ready!.message, new RegExp(`m-${reason}`));
    }
    assert.equal(KEYCLOAK_REASONS.unavailable, REASONS.KeycloakUnavailable);
    assert.deepEqual(new Set(Object.values(KEYCLOAK_REASONS)).size, 4);
    for (const r of Object.values(KEYCLOAK_REASONS)) assert.ok(Object.values(EXTRA_REASONS).includes(r as never), `${r} in EXTRA_REASONS`);
    // the contract's reasons are untouched
    assert.deepEqual(Object.keys(CONTRACT_REASONS), [
      'Available', 'Reconciling', 'ReconcileSuccess', 'ValidationSuccess', 'Failed', 'NamespaceNotOptedIn',
      'ServiceNotFound', 'SecretNotFound', 'GatewayNotFound', 'GatewayListenerConflict', 'CertificateNotReady',
    ]);
  });

  it('enforceAtGateway false: AuthReady True AppEnforcedAuth and the route is served', () => {
    const d = desiredState(app({ auth: { enabled: true, enforceAtGateway: false } }), facts(), config(), NOW);
    assert.equal(d.conditions.find((c) => c.type === 'AuthReady')!.reason, 'AppEnforcedAuth');
    assert.ok(d.children.some((c) => c.kind === 'HTTPRoute'));
  });

  it('AuthReady waits (Reconciling) when the route is blocked for another reason; Ready reports the first failure', () => {
    const c = conds(app({ auth: { enabled: true } }), facts({ service: { found: false } }));
    assert.equal(c.AuthReady!.reason, 'Reconciling');
    assert.equal(c.Ready!.reason, 'ServiceNotFound');
    assert.match(c.Ready!.message, /^RoutingReady: Service data\/hub not found/);
  });

  it('a backend namespace that did not opt in gets no ReferenceGrant', () => {
    const d = desiredState(app({ service: { name: 'hub', port: 8080, namespace: 'kube-system' } }), facts({ backendNamespaceOptedIn: false }), config(), NOW);
    assert.equal(d.conditions[0]!.reason, 'NamespaceNotOptedIn');
    assert.match(d.conditions[0]!.message, /backend namespace kube-system/);
    assert.ok(!d.children.some((c) => c.kind === 'ReferenceGrant' || c.kind === 'HTTPRoute'));
  });
});

describe('desired state: status fields', () => {
  it('observedGeneration, hostname, gatewayRef, clientSecretRef', () => {
    const s = desiredState(app({ gateway: 'internal', auth: { enabled: true } }), facts(), config(), NOW).status;
    assert.equal(s.observedGeneration, 3);
    assert.equal(s.hostname, 'jupyter.example.com');
    assert.deepEqual(s.gatewayRef, { name: 'internal', namespace: 'envoy-gateway-system' });
    assert.deepEqual(s.clientSecretRef, { name: 'jupyter-oidc-client', namespace: 'data' });
    assert.ok(s.conditions!.every((c) => c.observedGeneration === 3));
    const none = desiredState(app(), facts(), config(), NOW).status;
    assert.equal(none.clientSecretRef, undefined);
    const ref = desiredState(app({ auth: { enabled: true, clientSecretRef: 'creds' } }), facts(), config(), NOW).status;
    assert.deepEqual(ref.clientSecretRef, { name: 'creds', namespace: 'data' });
  });

  it('authConfigHash from provisioning, else kept from the observed status; dropped without provisioning', () => {
    const a = app({ auth: { enabled: true } });
    assert.equal(desiredState(a, facts({ provisioning: { ok: true, authConfigHash: 'h1' } }), config(), NOW).status.authConfigHash, 'h1');
    const withStatus = { ...a, status: { authConfigHash: 'h0' } };
    assert.equal(desiredState(withStatus, facts(), config(), NOW).status.authConfigHash, 'h0');
    const off = { ...app({ auth: { enabled: false } }), status: { authConfigHash: 'h0' } };
    assert.equal(desiredState(off, facts(), config(), NOW).status.authConfigHash, undefined);
  });

  it('keeps lastTransitionTime while a condition keeps its status', () => {
    const first = desiredState(app(), facts(), config(), '2026-01-01T00:00:00.123Z').status;
    assert.equal(first.conditions![0]!.lastTransitionTime, '2026-01-01T00:00:00Z');
    const again = desiredState({ ...app(), status: first }, facts(), config(), '2026-06-01T00:00:00Z').status;
    assert.deepEqual(again, first);
    const changed = desiredState({ ...app(), status: first }, facts({ service: { found: false } }), config(), '2026-06-01T00:00:00Z').status;
    assert.equal(changed.conditions![0]!.lastTransitionTime, '2026-06-01T00:00:00Z');
    assert.equal(changed.conditions![1]!.lastTransitionTime, '2026-01-01T00:00:00Z');
  });

  it('serviceDiscovery: defaults, https URL, public visibility', () => {
    assert.deepEqual(desiredState(app(), facts(), config(), NOW).status.serviceDiscovery, {
      enabled: false,
      url: 'https://jupyter.example.com',
      priority: 100,
      visibility: 'public',
    });
  });

  it('serviceDiscovery: every landingPage field, private with required groups when auth is on', () => {
    const a = app({
      auth: { enabled: true, groups: ['ds'] },
      landingPage: { enabled: true, displayName: 'JupyterHub', description: 'Notebooks', icon: 'jupyter', iconLight: 'https://i/l.svg', iconDark: 'https://i/d.svg', category: 'Data Science', priority: 7 },
    });
    assert.deepEqual(desiredState(a, facts(), config(), NOW).status.serviceDiscovery, {
      enabled: true,
      displayName: 'JupyterHub',
      description: 'Notebooks',
      url: 'https://jupyter.example.com',
      icon: 'jupyter',
      iconLight: 'https://i/l.svg',
      iconDark: 'https://i/d.svg',
      category: 'Data Science',
      priority: 7,
      visibility: 'private',
      requiredGroups: ['ds'],
    });
  });

  it('serviceDiscovery URL: externalUrl wins; http:// without TLS or without routing', () => {
    const url = (a: NebariApp) => (desiredState(a, facts(), config(), NOW).status.serviceDiscovery as Any).url;
    assert.equal(url(app({ landingPage: { externalUrl: 'https://x.example.com/lab' } })), 'https://x.example.com/lab');
    assert.equal(url(app({ routing: { tls: { enabled: false } } })), 'http://jupyter.example.com');
    const { routing: _r, ...spec } = app().spec;
    assert.equal(url({ ...app(), spec }), 'http://jupyter.example.com');
  });

  it('SecretKeyMissing names the missing key (facts hold Secret key names, never values)', () => {
    const s = JSON.stringify(desiredState(app({ auth: { enabled: true } }), facts({ clientSecret: { found: true, keys: ['client-id'] } }), config(), NOW).status);
    assert.match(s, /Secret data\/jupyter-oidc-client lacks key\(s\): client-secret/);
  });
});

describe('desired state: events and config', () => {
  it('conditionEvents reports changed conditions (Warning when not True)', () => {
    const before = desiredState(app(), facts(), config(), NOW).status.conditions;
    const after = desiredState(app(), facts({ service: { found: false } }), config(), NOW).status.conditions!;
    assert.deepEqual(conditionEvents(before, after).map((e) => `${e.type} ${e.reason}`), ['Warning ServiceNotFound', 'Warning ServiceNotFound']);
    assert.deepEqual(conditionEvents(after, after), []);
    // a change to Reconciling (children written, waiting for a controller) is progress, not an Event
    const pending = desiredState(app(), facts({ mainRoute: { state: 'pending' } }), config(), NOW).status.conditions!;
    assert.equal(pending.find((x) => x.type === 'Ready')!.reason, 'Reconciling');
    assert.deepEqual(conditionEvents(undefined, pending).map((e) => `${e.type} ${e.reason}`), ['Normal Available']);
    assert.deepEqual(conditionEvents(pending, before!).map((e) => `${e.type} ${e.reason}`), ['Normal ReconcileSuccess', 'Normal Available']);
  });

  it('operatorConfig fills defaults and names bad keys', () => {
    const c = config();
    assert.equal(c.httpsPort, 443);
    assert.equal(c.oidc.groupsClaim, 'groups');
    assert.equal(c.oidc.logoutPath, '/oauth2/logout');
    assert.throws(
      () => operatorConfig({ gateways: { public: { name: '', namespace: 'x' }, internal: { name: 'i', namespace: 'Bad_NS' } }, clusterIssuer: 'Bad_Issuer', httpsPort: 0 }),
      /gateways\.public\.name: required.*gateways\.internal\.namespace: required, a DNS-1123 label.*clusterIssuer: the name of a cert-manager ClusterIssuer \(a DNS-1123 name\), or empty for none.*httpsPort: must be an integer 1\.\.65535/,
    );
    assert.equal(config({ clusterIssuer: '' }).clusterIssuer, undefined, 'empty: no ClusterIssuer');
    assert.throws(() => config({ oidc: { issuerURL: 'auth.example.com' } }), /oidc\.issuerURL: must be an absolute http\(s\) URL/);
    assert.equal(config({ oidc: { issuerURL: 'https://a.example.com/realms/x/' } }).oidc.issuerURL, 'https://a.example.com/realms/x');
  });
});
