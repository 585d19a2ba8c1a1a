// The real controllers read what the platform renders and what the operator writes (test/harness/gateway-controllers.ts):
// Envoy Gateway v1.9 and cert-manager's controllers as processes on the test control plane, the operator in-process,
// a real Keycloak. Stand-in, named: the Envoy proxies never run (no kubelet, no images), so what Envoy would do with
// a request is read from the configuration Envoy Gateway serves over xDS, and the authorization rule found there is
// evaluated on real tokens by `rbacAllows` below (a reading of Envoy's RBAC metadata matcher, not Envoy itself).
import { strict as assert } from 'node:assert';
import { X509Certificate, createPublicKey, verify as verifySignature } from 'node:crypto';
import { randomBytes } from 'node:crypto';
import { request as httpsRequest } from 'node:https';
import { readFileSync, writeFileSync } from 'node:fs';
import tls from 'node:tls';
import { sharedControlPlane, type ControlPlane } from '../../harness/control-plane.js';
import { CERT_MANAGER_NAMESPACE, ENVOY_GATEWAY_NAMESPACE, sharedGatewayControllers, type GatewayControllers, type XdsConfig } from '../../harness/gateway-controllers.js';
import { sharedKeycloak, type KeycloakInstance } from '../../harness/keycloak.js';
import { REPO_PATHS } from '../../../components/foundation/spec.js';
import { clientSecretName, type NebariApp } from '../../../operator/src/api/types.js';
import { ID_TOKEN_HEADER, JWT_PROVIDER_NAME } from '../../../operator/src/desired/children.js';
import { createKeycloakAuthProvisioner } from '../../../operator/src/keycloak/index.js';
import { Operator } from '../../../operator/src/reconciler-controller.js';
import { NEBARIAPP, SECRET } from '../../../operator/src/reconciler-resources.js';
import type { KubeClient, KubeObject as OpObject } from '../../../operator/src/runtime/kube.js';
import { silentLogger } from '../../../operator/src/runtime/logger.js';
import { OperatorMetrics } from '../../../operator/src/runtime/metrics.js';
import type { RawSecret } from '../../../operator/src/keycloak/credentials.js';
import { KubeApi, describeRejections, type KubeObject } from '../platform/kube-api.js';
import { renderSource, withDestinationNamespace } from '../platform/kustomize.js';
import { foundationChildren, stackObjects } from '../platform/pulumi-objects.js';
import {
  CERTIFICATE_RT,
  HTTPROUTE_RT,
  LISTENERSET_RT,
  SECURITYPOLICY_RT,
  adminClient,
  applyApp,
  condition,
  createSecret,
  createService,
  ensureNamespace,
  eventually,
  getApp,
  testSettings,
  type AnyObject,
} from '../operator/helpers.js';
import { createRealm, loginForCode, masterAdmin, tokenRequest } from '../keycloak/oidc-helpers.js';

/* eslint-disable @typescript-eslint/no-explicit-any -- statuses and xDS JSON are untyped; the tests index them freely */

const GATEWAYS = ENVOY_GATEWAY_NAMESPACE;
const ISSUER = 'selfsigned-ca';

type Cond = { type: string; status: string; reason?: string; message?: string };
const cond = (conds: Cond[] | undefined, type: string): Cond | undefined => (conds ?? []).find((c) => c.type === type);

/** The platform's gateway configuration (Application gateway-config) as the local stack renders it. */
async function platformGatewayObjects(api: KubeApi): Promise<{ objects: KubeObject[]; stack: KubeObject[] }> {
  const { objects } = await stackObjects('local');
  const app = foundationChildren(objects).find((o) => (o as any).spec.source.path === REPO_PATHS.gateway) as any;
  assert.ok(app, "the local stack's foundation parent carries the gateway-config Application");
  const rendered = renderSource(app.spec.source);
  const placed = await withDestinationNamespace(rendered, app.spec.destination.namespace, async (o) => (await api.resource(o.apiVersion, o.kind)).namespaced);
  return { objects: placed, stack: objects };
}

async function waitCondition(c: KubeClient, rt: typeof HTTPROUTE_RT, ns: string | undefined, name: string, pick: (o: AnyObject) => Cond | undefined, timeoutMs = 60_000): Promise<Cond> {
  return eventually(`${rt.kind} ${ns ?? ''}/${name} condition`, async () => {
    const o = (await c.get(rt, ns, name)) as AnyObject | undefined;
    const found = o ? pick(o) : undefined;
    return found && found.status === 'True' ? found : undefined;
  }, timeoutMs, 250);
}

/** Every route parent's Accepted and ResolvedRefs, every policy ancestor's Accepted: all True. */
function allAccepted(entries: Array<{ conditions?: Cond[] }> | undefined, types: string[]): boolean {
  return (entries ?? []).length > 0 && entries!.every((e) => types.every((t) => cond(e.conditions, t)?.status === 'True'));
}

describe('gateway controllers (integration): Envoy Gateway and cert-manager accept what the platform and the operator write', function () {
  this.timeout(600_000);
  let cp: ControlPlane;
  let gc: GatewayControllers;
  let api: KubeApi;
  let c: KubeClient;
  let caPem: string;
  const ns = `gwc-${randomBytes(3).toString('hex')}`;
  const backendNs = `gwc-be-${randomBytes(3).toString('hex')}`;

  before(async function () {
    this.timeout(1_800_000);
    [cp, gc] = await Promise.all([sharedControlPlane(), sharedGatewayControllers()]);
    api = new KubeApi(cp.kubeConfig());
    c = adminClient(cp);
    const { objects, stack } = await platformGatewayObjects(api);
    const namespaces = stack.filter((o) => o.kind === 'Namespace');
    assert.equal(describeRejections(await api.applyAll(namespaces, { fieldManager: 'pulumi-kubernetes', dryRun: false })), '');
    // the local CA key pair the program writes into cert-manager/nkp-ca (its LocalCA under mocks has no real key):
    // a real CA made here, in the Secret the rendered ClusterIssuer names
    const caDir = gc.trust.dir;
    caPem = readFileSync(gc.trust.caCert, 'utf8');
    await createSecretTyped(c, CERT_MANAGER_NAMESPACE, 'nkp-ca', 'kubernetes.io/tls', { 'tls.crt': caPem, 'tls.key': readFileSync(`${caDir}/ca.key`, 'utf8') });
    assert.equal(describeRejections(await api.applyAll(objects, { fieldManager: 'argocd-controller', dryRun: false })), '');
  });
  after(async () => c?.close());

  it('the platform GatewayClass and both Gateways (rendered by the program) are Accepted by Envoy Gateway', async () => {
    const gcCond = await waitCondition(c, { group: 'gateway.networking.k8s.io', version: 'v1', plural: 'gatewayclasses', kind: 'GatewayClass', namespaced: false }, undefined, 'nkp', (o) => cond(o.status?.conditions, 'Accepted'));
    assert.equal(gcCond.status, 'True');
    for (const name of ['public', 'internal']) {
      const accepted = await waitCondition(c, { group: 'gateway.networking.k8s.io', version: 'v1', plural: 'gateways', kind: 'Gateway', namespaced: true }, GATEWAYS, name, (o) => cond(o.status?.conditions, 'Accepted'));
      assert.equal(accepted.status, 'True', `Gateway ${name}: ${JSON.stringify(accepted)}`);
    }
  });

  it('cert-manager: the rendered local CA ClusterIssuer (selfsigned-ca) is Ready', async () => {
    const ready = await waitCondition(c, { group: 'cert-manager.io', version: 'v1', plural: 'clusterissuers', kind: 'ClusterIssuer', namespaced: false }, undefined, ISSUER, (o) => cond(o.status?.conditions, 'Ready'));
    assert.equal(ready.status, 'True');
  });

  describe('the operator\'s children for the contract\'s variants', function () {
    let op: Operator;
    const apps: Record<string, Partial<NebariApp['spec']> & Record<string, unknown>> = {
      'tls-on': { hostname: `tls-on.${ns}.nkp.localtest.me`, service: { name: 'web', port: 8080 }, routing: {} },
      'tls-off': { hostname: `tls-off.${ns}.nkp.localtest.me`, service: { name: 'web', port: 8080 }, routing: { tls: { enabled: false } } },
      internal: { hostname: `internal.${ns}.nkp.localtest.me`, service: { name: 'web', port: 8080 }, routing: {}, gateway: 'internal' },
      'cross-ns': { hostname: `cross.${ns}.nkp.localtest.me`, service: { name: 'backend', port: 9090, namespace: backendNs }, routing: {} },
      login: {
        hostname: `login.${ns}.nkp.localtest.me`,
        service: { name: 'web', port: 8080 },
        routing: { publicRoutes: [{ pathPrefix: '/health' }, { pathPrefix: '/static', pathType: 'PathPrefix' }] },
        auth: {
          enabled: true,
          provisionClient: false,
          clientSecretRef: 'login-client',
          forwardAccessToken: true,
          denyRedirect: [{ name: 'X-Requested-With', value: 'XMLHttpRequest' }],
          groups: ['lab-users'],
        },
      },
    };

    before(async function () {
      this.timeout(300_000);
      await ensureNamespace(c, ns, true);
      await ensureNamespace(c, backendNs, true);
      await createService(c, ns, 'web', 8080);
      await createService(c, backendNs, 'backend', 9090);
      await createSecret(c, ns, 'login-client', { 'client-id': 'login', 'client-secret': 'not-a-real-secret' });
      const settings = testSettings({
        PUBLIC_GATEWAY_NAME: 'public',
        PUBLIC_GATEWAY_NAMESPACE: GATEWAYS,
        INTERNAL_GATEWAY_NAME: 'internal',
        INTERNAL_GATEWAY_NAMESPACE: GATEWAYS,
        CLUSTER_ISSUER: ISSUER,
        OIDC_ISSUER_URL: 'https://keycloak.nkp.localtest.me/realms/nebari',
        WATCH_NAMESPACES: `${ns},${backendNs}`,
        POD_NAMESPACE: ns,
      });
      op = new Operator({ settings, kubeConfig: cp.kubeConfig(), metrics: new OperatorMetrics(), log: silentLogger, serveHttp: false });
      await op.start();
      for (const [name, spec] of Object.entries(apps)) await applyApp(c, ns, name, spec);
    });
    after(async function () {
      this.timeout(120_000);
      await deleteApps(c, ns, [...Object.keys(apps), 'broken']);
      await op?.stop();
    });

    for (const name of ['tls-on', 'tls-off', 'internal', 'cross-ns', 'login']) {
      it(`${name}: Ready, with every child accepted by the controller that serves it`, async () => {
        const app = await eventually(`${name} Ready`, async () => {
          const a = await getApp(c, ns, name);
          return condition(a, 'Ready')?.status === 'True' ? a : undefined;
        }, 180_000, 500).catch(async (err) => {
          throw new Error(`${(err as Error).message}\n${JSON.stringify((await getApp(c, ns, name))?.status?.conditions, null, 1)}`);
        });
        assert.match(condition(app, 'RoutingReady')!.message, /accepted by the gateway controller \(gateway\.envoyproxy\.io\/gatewayclass-controller\)/);
        const routes = (await c.list(HTTPROUTE_RT, ns)).items.filter((r) => r.metadata.name.startsWith(`${name}`)) as AnyObject[];
        assert.ok(routes.length >= 1);
        for (const r of routes) assert.ok(allAccepted(r.status?.parents, ['Accepted', 'ResolvedRefs']), `${r.metadata.name}: ${JSON.stringify(r.status)}`);
        if (apps[name]!.routing && (apps[name]!.routing as any).tls?.enabled !== false) {
          const ls = (await c.get(LISTENERSET_RT, ns, `${name}`)) as AnyObject | undefined ?? ((await c.list(LISTENERSET_RT, ns)).items.find((l) => l.metadata.name.startsWith(name)) as AnyObject);
          assert.equal(cond(ls.status?.conditions, 'Accepted')?.status, 'True', JSON.stringify(ls.status));
          const cert = (await c.list(CERTIFICATE_RT, ns)).items.find((x) => x.metadata.name.startsWith(name)) as AnyObject;
          assert.equal(cond(cert.status?.conditions, 'Ready')?.status, 'True', 'issued by the real cert-manager');
          assert.match(condition(app, 'TLSReady')!.message, /is ready/);
        }
        if ((apps[name] as any).auth) {
          const sp = (await c.list(SECURITYPOLICY_RT, ns)).items.find((x) => x.metadata.name.startsWith(name)) as AnyObject;
          assert.ok(allAccepted(sp.status?.ancestors, ['Accepted']), JSON.stringify(sp.status));
          assert.equal(condition(app, 'AuthReady')?.status, 'True');
        }
      });
    }

    it('cross-namespace: the ReferenceGrant is what resolves the backend (the route parent says ResolvedRefs=True)', async () => {
      const r = (await c.list(HTTPROUTE_RT, ns)).items.find((x) => x.metadata.name.startsWith('cross-ns')) as AnyObject;
      assert.equal(cond(r.status.parents[0].conditions, 'ResolvedRefs')?.status, 'True');
      const grants = await c.list({ group: 'gateway.networking.k8s.io', version: 'v1', plural: 'referencegrants', kind: 'ReferenceGrant', namespaced: true }, backendNs);
      assert.equal(grants.items.length, 1);
    });

    it('a broken one is refused: a generic-oidc issuer the controller cannot discover gives AuthReady=False with Envoy Gateway\'s reason', async () => {
      await applyApp(c, ns, 'broken', {
        hostname: `broken.${ns}.nkp.localtest.me`,
        service: { name: 'web', port: 8080 },
        routing: {},
        auth: { enabled: true, provider: 'generic-oidc', provisionClient: false, clientSecretRef: 'login-client', issuerURL: 'https://127.0.0.1:1/realms/none' },
      });
      const app = await eventually('broken AuthReady=False SecurityPolicyFailed', async () => {
        const a = await getApp(c, ns, 'broken');
        return condition(a, 'AuthReady')?.reason === 'SecurityPolicyFailed' ? a : undefined;
      }, 120_000, 500);
      const auth = condition(app, 'AuthReady')!;
      assert.equal(auth.status, 'False');
      const sp = (await c.list(SECURITYPOLICY_RT, ns)).items.find((x) => x.metadata.name.startsWith('broken')) as AnyObject;
      const refused = (sp.status.ancestors as any[]).map((a) => cond(a.conditions, 'Accepted')).find((x) => x?.status === 'False')!;
      assert.ok(refused, 'Envoy Gateway refused the policy');
      assert.ok(auth.message.includes(`Accepted=False (${refused.reason})`), auth.message);
      assert.equal(condition(app, 'Ready')?.status, 'False');
    });

    it('cert-manager issued each app\'s certificate from the local CA: exactly the app\'s hostname, chaining to the CA', async () => {
      const ca = new X509Certificate(caPem);
      for (const name of ['tls-on', 'internal', 'cross-ns', 'login']) {
        const cert = (await c.list(CERTIFICATE_RT, ns)).items.find((x) => x.metadata.name.startsWith(name)) as AnyObject;
        const secret = (await c.get(SECRET, ns, cert.spec.secretName)) as AnyObject;
        assert.equal(secret.type, 'kubernetes.io/tls');
        const leaf = new X509Certificate(Buffer.from(secret.data['tls.crt'], 'base64'));
        assert.equal(leaf.subjectAltName, `DNS:${apps[name]!.hostname}`);
        assert.ok(leaf.checkIssued(ca) && leaf.verify(ca.publicKey), `${name}: signed by the local CA`);
        assert.equal(Buffer.from(secret.data['ca.crt'], 'base64').toString('utf8').trim(), caPem.trim());
      }
    });
  });

  describe('login with groups: the Envoy configuration served, and real Keycloak tokens against its rule', function () {
    let kc: KeycloakInstance;
    let op: Operator;
    let issuer: string;
    let passwords: Record<string, string>;
    const appNs = `gwc-kc-${randomBytes(3).toString('hex')}`;
    const host = `lab.${appNs}.nkp.localtest.me`;
    let xds: XdsConfig;

    const defaultCAs = tls.getCACertificates('default');
    before(async function () {
      this.timeout(600_000);
      // this process's fetch (the login form, the token endpoint) trusts the HTTPS front, as Envoy Gateway does
      tls.setDefaultCACertificates([...defaultCAs, readFileSync(gc.trust.caCert, 'utf8')]);
      kc = await sharedKeycloak();
      const realm = `gwc-${randomBytes(3).toString('hex')}`;
      passwords = await createRealm(kc, realm, ['alice', 'bob']);
      // Envoy Gateway takes only https issuers: the realm is served through an HTTPS front (its frontendUrl)
      const front = await gc.httpsFront(kc.baseUrl);
      const admin = await masterAdmin(kc);
      await admin.realms.update({ realm }, { attributes: { frontendUrl: front } } as any);
      issuer = `${front}/realms/${realm}`;
      await ensureNamespace(c, appNs, true);
      await createService(c, appNs, 'lab', 8888);
      await createSecret(c, appNs, 'keycloak-admin', { username: kc.adminUsername, password: kc.adminPassword });
      const readSecret = async (ref: { namespace: string; name: string }): Promise<RawSecret | undefined> =>
        (await c.get<OpObject & RawSecret>(SECRET, ref.namespace, ref.name)) as RawSecret | undefined;
      const provisioner = createKeycloakAuthProvisioner({ url: kc.baseUrl, realm, adminSecret: { namespace: appNs, name: 'keycloak-admin' } }, issuer, readSecret);
      const settings = testSettings({
        PUBLIC_GATEWAY_NAME: 'public',
        PUBLIC_GATEWAY_NAMESPACE: GATEWAYS,
        INTERNAL_GATEWAY_NAME: 'internal',
        INTERNAL_GATEWAY_NAMESPACE: GATEWAYS,
        CLUSTER_ISSUER: ISSUER,
        OIDC_ISSUER_URL: issuer,
        WATCH_NAMESPACES: appNs,
        POD_NAMESPACE: appNs,
      });
      op = new Operator({ settings, kubeConfig: cp.kubeConfig(), metrics: new OperatorMetrics(), log: silentLogger, provisioner, serveHttp: false });
      await op.start();
      // the shipped pack template's shape: groups, default scopes
      await applyApp(c, appNs, 'lab', {
        hostname: host,
        service: { name: 'lab', port: 8888 },
        routing: {},
        auth: { enabled: true, groups: ['lab-users'], keycloakConfig: { groups: [{ name: 'lab-users', members: ['alice'] }] } },
      });
      await eventually('lab Ready', async () => condition(await getApp(c, appNs, 'lab'), 'Ready')?.status === 'True', 240_000, 500).catch(async (err) => {
        throw new Error(`${(err as Error).message}\n${JSON.stringify((await getApp(c, appNs, 'lab'))?.status?.conditions, null, 1)}`);
      });
      xds = await eventually('xDS with the app', async () => {
        const x = await gc.xds(`${GATEWAYS}/public`);
        return JSON.stringify(x).includes(host) && JSON.stringify(x).includes('envoy.filters.http.oauth2') ? x : undefined;
      }, 60_000, 1000);
      if (process.env.NKP_XDS_DUMP) writeFileSync(process.env.NKP_XDS_DUMP, JSON.stringify(xds, null, 1));
    });
    after(async function () {
      this.timeout(120_000);
      tls.setDefaultCACertificates(defaultCAs);
      // deleted while the operator runs (its finalizer removes the Keycloak client): nothing is left for other suites
      await deleteApps(c, appNs, ['lab']);
      await op?.stop();
    });

    it('the served configuration: OIDC filter (token cookies encrypted) before the JWT provider that reads the ID token it forwards, then the rule; the header never goes upstream', () => {
      // HTTPS listeners on one port share an Envoy listener: the app's filter chain is the one matching its SNI
      const chain = xds.listeners.flatMap((l: any) => l.filterChains ?? []).find((fc: any) => (fc.filterChainMatch?.serverNames ?? []).includes(host));
      assert.ok(chain, `a filter chain serving ${host}`);
      const hcm = findTyped(chain, 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager')[0];
      assert.deepEqual(
        hcm.httpFilters.map((f: any) => f.name),
        ['envoy.filters.http.oauth2', 'envoy.filters.http.jwt_authn', 'envoy.filters.http.rbac', 'envoy.filters.http.router'],
        'the OIDC filter runs first, so the JWT provider sees the header it writes',
      );
      const route = appRoute(xds, host);
      const oauth2 = route.typedPerFilterConfig['envoy.filters.http.oauth2'].config;
      assert.equal(oauth2.disableTokenEncryption, undefined, 'token cookies stay encrypted (Envoy Gateway default)');
      assert.deepEqual(oauth2.forwardIdToken, { header: ID_TOKEN_HEADER }, 'the OIDC filter forwards the ID token it decrypted');
      assert.deepEqual(oauth2.authScopes, ['openid', 'profile', 'email'], 'default scopes');
      const provider = findProvider(xds, issuer);
      assert.deepEqual(provider.fromHeaders, [{ name: ID_TOKEN_HEADER }], 'the JWT is read from that header, not from a (ciphertext) cookie');
      assert.equal(provider.fromCookies, undefined);
      assert.equal(provider.payloadInMetadata, JWT_PROVIDER_NAME);
      assert.ok(route.typedPerFilterConfig['envoy.filters.http.rbac'], 'the authorization applies to the app\'s route');
      assert.deepEqual(route.requestHeadersToRemove, [ID_TOKEN_HEADER], 'the route removes the header before the request goes upstream');
    });

    it('a member\'s real ID token (default scopes) carries the claim the rule reads and is allowed; a non-member\'s is denied by the same rule', async () => {
      const { rbac, payloadKey } = authorizationFor(xds, host, issuer);
      const secret = (await c.get(SECRET, appNs, clientSecretName('lab'))) as AnyObject;
      const id = Buffer.from(secret.data['client-id'], 'base64').toString();
      const clientSecret = Buffer.from(secret.data['client-secret'], 'base64').toString();
      const jwks = await httpsJson(findProvider(xds, issuer).remoteJwks.httpUri.uri, gc.trust.caCert);
      const tokenOf = async (user: string): Promise<string> => {
        const redirectUri = `https://${host}/oauth2/callback`;
        const code = await loginForCode(issuer, { clientId: id, redirectUri, username: user, password: passwords[user]!, scope: 'openid profile email' });
        assert.ok(code.code, `login of ${user}: ${JSON.stringify(code)}`);
        const t = await tokenRequest(issuer, { grant_type: 'authorization_code', code: code.code!, redirect_uri: redirectUri }, { id, secret: clientSecret });
        assert.equal(t.status, 200, JSON.stringify(t.body));
        return t.body.id_token!;
      };
      const alice = verifyJwt(await tokenOf('alice'), jwks, issuer);
      const bob = verifyJwt(await tokenOf('bob'), jwks, issuer);
      assert.deepEqual(alice.groups, ['lab-users'], 'the groups claim is in the ID token with the default scopes');
      assert.equal(rbacAllows(rbac, { [payloadKey]: alice }), true, 'member allowed');
      assert.equal(rbacAllows(rbac, { [payloadKey]: bob }), false, 'non-member denied');
      // negative controls: the rule bites on the claim itself, and nothing verified means nothing allowed
      assert.equal(rbacAllows(rbac, { [payloadKey]: { ...alice, groups: undefined } }), false, 'a token without the claim is denied');
      assert.equal(rbacAllows(rbac, {}), false, 'no verified token is denied');
    });
  });
});

/** Deletes NebariApps and waits until their finalizers (run by the operator under test) released them. */
async function deleteApps(c: KubeClient, namespace: string, names: string[]): Promise<void> {
  for (const n of names) await c.delete(NEBARIAPP, namespace, n).catch(() => undefined);
  await eventually('apps released', async () => (await Promise.all(names.map((n) => getApp(c, namespace, n)))).every((a) => a === undefined), 60_000, 250);
}

async function createSecretTyped(c: KubeClient, namespace: string, name: string, type: string, data: Record<string, string>): Promise<void> {
  await c.apply(SECRET, { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace }, type, stringData: data } as OpObject, 'nkp-test');
}

/** Every decoded typed config of the given type anywhere in the served configuration. */
function findTyped(x: unknown, type: string): any[] {
  const out: any[] = [];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') {
      if ((v as any)['@type'] === type) out.push(v);
      Object.values(v).forEach(walk);
    }
  };
  walk(x);
  return out;
}

function findProvider(xds: XdsConfig, issuer: string): any {
  for (const j of findTyped(xds, 'type.googleapis.com/envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication')) {
    for (const p of Object.values(j.providers ?? {}) as any[]) if (p.issuer === issuer) return p;
  }
  throw new Error(`no JWT provider for ${issuer}`);
}

/** The app's route (its virtual host on the HTTPS listener of its ListenerSet) in the served configuration. */
function appRoute(xds: XdsConfig, host: string): any {
  const vhosts = xds.routes.flatMap((r: any) => r.virtualHosts ?? []).filter((v: any) => (v.domains ?? []).includes(host));
  assert.equal(vhosts.length, 1, `one virtual host for ${host}`);
  const routes = vhosts[0].routes.filter((r: any) => r.typedPerFilterConfig);
  assert.ok(routes.length > 0, `a route for ${host} with per-route filter configs`);
  return routes[0];
}

/** The RBAC matcher on the app's route and the dynamic-metadata key its JWT provider writes the payload under. */
function authorizationFor(xds: XdsConfig, host: string, issuer: string): { rbac: any; payloadKey: string } {
  const payloadKey = findProvider(xds, issuer).payloadInMetadata as string;
  assert.ok(payloadKey, 'the JWT provider puts the verified payload into dynamic metadata');
  const rbac = appRoute(xds, host).typedPerFilterConfig['envoy.filters.http.rbac'];
  assert.ok(rbac?.rbac?.matcher, 'the app\'s route carries an RBAC matcher');
  return { rbac: rbac.rbac.matcher, payloadKey };
}

/**
 * Envoy's RBAC matcher (xds.type.matcher.v3.Matcher: a matcher list whose first matching predicate decides, else
 * on_no_match) evaluated on the JWT filter's dynamic metadata, for the shapes the rule uses: DynamicMetadataInput
 * under envoy.filters.http.jwt_authn with a path, Metadata input matchers with string/list/present/bool/or value
 * matchers, and/or/not predicates. A reading of the configuration, not Envoy itself (the named stand-in).
 */
export function rbacAllows(matcher: any, jwtMetadata: Record<string, unknown>): boolean {
  const matchString = (m: any, v: unknown): boolean =>
    typeof v === 'string' &&
    (m.exact !== undefined ? v === m.exact : m.prefix !== undefined ? v.startsWith(m.prefix) : m.suffix !== undefined ? v.endsWith(m.suffix) : m.safeRegex ? new RegExp(`^(?:${m.safeRegex.regex})$`).test(v) : false);
  const matchValue = (m: any, v: unknown): boolean => {
    if (m.stringMatch) return matchString(m.stringMatch, v);
    if (m.listMatch) return Array.isArray(v) && v.some((x) => matchValue(m.listMatch.oneOf, x));
    if (m.presentMatch) return v !== undefined;
    if (m.boolMatch !== undefined) return v === m.boolMatch;
    if (m.orMatch) return m.orMatch.valueMatchers.some((x: any) => matchValue(x, v));
    throw new Error(`unsupported value matcher ${JSON.stringify(m)}`);
  };
  const predicate = (p: any): boolean => {
    if (p.andMatcher) return p.andMatcher.predicate.every(predicate);
    if (p.orMatcher) return p.orMatcher.predicate.some(predicate);
    if (p.notMatcher) return !predicate(p.notMatcher);
    const sp = p.singlePredicate;
    const input = sp?.input?.typedConfig;
    if (input?.['@type'] !== 'type.googleapis.com/envoy.extensions.matching.common_inputs.network.v3.DynamicMetadataInput') throw new Error(`unsupported input ${JSON.stringify(sp?.input)}`);
    assert.equal(input.filter, 'envoy.filters.http.jwt_authn');
    let v: any = jwtMetadata;
    for (const seg of input.path) v = v?.[seg.key];
    const custom = sp.customMatch?.typedConfig;
    if (custom?.['@type'] !== 'type.googleapis.com/envoy.extensions.matching.input_matchers.metadata.v3.Metadata') throw new Error(`unsupported matcher ${JSON.stringify(sp.customMatch)}`);
    const r = matchValue(custom.value, v);
    return custom.invert ? !r : r;
  };
  const decide = (onMatch: any): boolean => {
    const a = onMatch?.action?.typedConfig;
    assert.equal(a?.['@type'], 'type.googleapis.com/envoy.config.rbac.v3.Action');
    return (a.action ?? 'ALLOW') === 'ALLOW';
  };
  for (const m of matcher.matcherList?.matchers ?? []) if (predicate(m.predicate)) return decide(m.onMatch);
  return matcher.onNoMatch ? decide(matcher.onNoMatch) : false;
}

function httpsJson(url: string, caFile: string): Promise<any> {
  return new Promise((resolve, reject) => {
    httpsRequest(url, { ca: readFileSync(caFile) }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (b: Buffer) => chunks.push(b));
      res.on('end', () => resolve(JSON.parse(Buffer.concat(chunks).toString('utf8'))));
    })
      .on('error', reject)
      .end();
  });
}

/** Verifies an RS256 JWT against a JWKS and the issuer (what Envoy's jwt_authn checks); returns the payload. */
function verifyJwt(token: string, jwks: { keys: any[] }, issuer: string): Record<string, any> {
  const [h, p, s] = token.split('.');
  const header = JSON.parse(Buffer.from(h!, 'base64url').toString());
  const key = jwks.keys.find((k) => k.kid === header.kid);
  assert.ok(key, 'the token is signed by a key of the provider\'s JWKS');
  assert.equal(header.alg, 'RS256');
  assert.ok(verifySignature('sha256', Buffer.from(`${h}.${p}`), createPublicKey({ key, format: 'jwk' }), Buffer.from(s!, 'base64url')), 'signature');
  const payload = JSON.parse(Buffer.from(p!, 'base64url').toString());
  assert.equal(payload.iss, issuer);
  return payload;
}
