// The contract's newer fields and precise reasons (issue 13) against the real API server, with the real Envoy Gateway
// and cert-manager beside it: routing.tls.secretName (UserProvidedSecretNotFound / InvalidType / Ready),
// ClusterIssuerNotConfigured, ProvisioningNotSupported, the ValidationSuccess Event, landingPage.iconLight/iconDark in
// status.serviceDiscovery, and a child the API server rejects withholding only what would be unsafe without it.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { childNames } from '../../../operator/src/desired/objects.js';
import { SECRET } from '../../../operator/src/reconciler-resources.js';
import { EVENT } from '../../../operator/src/runtime/events.js';
import type { KubeClient, ResourceType } from '../../../operator/src/runtime/kube.js';
import {
  CERTIFICATE_RT,
  HTTPROUTE_RT,
  LISTENERSET_RT,
  SECURITYPOLICY_RT,
  applyApp,
  condition,
  createSecret,
  createService,
  ensureNamespace,
  eventually,
  exists,
  getApp,
  startOperator,
  uniqueName,
  useGatewayCluster,
  waitForReason,
  type AnyObject,
  type RunningOperator,
} from './helpers.js';

const VAP_RT: ResourceType = { group: 'admissionregistration.k8s.io', version: 'v1', plural: 'validatingadmissionpolicies', kind: 'ValidatingAdmissionPolicy', namespaced: false };
const VAPB_RT: ResourceType = { group: 'admissionregistration.k8s.io', version: 'v1', plural: 'validatingadmissionpolicybindings', kind: 'ValidatingAdmissionPolicyBinding', namespaced: false };

/** A self-signed certificate and key for `host` (PEM), as a pack would bring in its own TLS Secret. */
function selfSigned(host: string): { crt: string; key: string } {
  const dir = mkdtempSync(join(tmpdir(), 'nkp-tls-'));
  try {
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
      '-keyout', join(dir, 'tls.key'), '-out', join(dir, 'tls.crt'), '-subj', `/CN=${host}`, '-addext', `subjectAltName=DNS:${host}`,
    ], { stdio: 'ignore' });
    return { crt: readFileSync(join(dir, 'tls.crt'), 'utf8'), key: readFileSync(join(dir, 'tls.key'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('operator (integration): the contract refresh against a real API server', function () {
  this.timeout(120_000);
  const g = useGatewayCluster();
  let c: KubeClient;
  let run: RunningOperator;
  let noIssuer: RunningOperator;
  const p = uniqueName('ctr');
  const NS = { tls: `${p}-tls`, oidc: `${p}-oidc`, icons: `${p}-icons`, vap: `${p}-vap`, noIssuer: `${p}-noiss` };
  const vapName = `${p}-refuse-securitypolicies`;

  before(async function () {
    this.timeout(300_000);
    c = g.c;
    for (const ns of Object.values(NS)) {
      await ensureNamespace(c, ns, true);
      await createService(c, ns, 'web', 8080);
    }
    const watched = [NS.tls, NS.oidc, NS.icons, NS.vap];
    run = await startOperator(g.cp, { WATCH_NAMESPACES: watched.join(',') });
    // the same operator configured without a cert-manager ClusterIssuer
    noIssuer = await startOperator(g.cp, { WATCH_NAMESPACES: NS.noIssuer, CLUSTER_ISSUER: '' });
  });
  after(async () => {
    await run?.stop();
    await noIssuer?.stop();
    await c.delete(VAPB_RT, undefined, vapName).catch(() => undefined);
    await c.delete(VAP_RT, undefined, vapName).catch(() => undefined);
  });

  it('routing.tls.secretName: no Certificate; the listener serves the Secret; UserProvidedSecretNotFound, then InvalidType, then Ready', async () => {
    const ns = NS.tls;
    const host = `${ns}.example.test`;
    const names = childNames(ns, 'app');
    await applyApp(c, ns, 'app', { hostname: host, service: { name: 'web', port: 8080 }, routing: { tls: { secretName: 'app-cert' } } });
    let app = await waitForReason(c, ns, 'app', 'TLSReady', 'UserProvidedSecretNotFound', 'False');
    assert.match(condition(app, 'TLSReady')!.message, new RegExp(`Secret ${ns}/app-cert \\(routing.tls.secretName\\) not found`));
    const ls = (await c.get<AnyObject>(LISTENERSET_RT, ns, names.listenerSet))!;
    assert.deepEqual(ls.spec.listeners[0].tls.certificateRefs, [{ group: '', kind: 'Secret', name: 'app-cert' }], 'written before the Secret exists');
    assert.equal(await exists(c, CERTIFICATE_RT, ns, names.certificate), false, 'no cert-manager Certificate');

    // a Secret of the wrong type (the operator watches the Secret the app names: no resync needed)
    await createSecret(c, ns, 'app-cert', { 'tls.crt': 'x', 'tls.key': 'y' });
    app = await waitForReason(c, ns, 'app', 'TLSReady', 'UserProvidedSecretInvalidType', 'False');
    assert.match(condition(app, 'TLSReady')!.message, /is of type Opaque; it must be of type kubernetes\.io\/tls/);

    // the pack's real certificate: Envoy Gateway accepts the listener with it
    await c.delete(SECRET, ns, 'app-cert');
    await eventually('Opaque Secret gone', async () => !(await exists(c, SECRET, ns, 'app-cert')));
    const pem = selfSigned(host);
    await c.create(SECRET, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'app-cert', namespace: ns }, type: 'kubernetes.io/tls', stringData: { 'tls.crt': pem.crt, 'tls.key': pem.key } } as never);
    app = await waitForReason(c, ns, 'app', 'TLSReady', 'UserProvidedSecretReady', 'True', 60_000);
    // Envoy Gateway reports the listener and the route in two status writes: Ready follows the second
    app = await waitForReason(c, ns, 'app', 'Ready', 'Available', 'True');
    assert.equal(condition(app, 'TLSReady')?.reason, 'UserProvidedSecretReady');
    assert.equal(app.status?.serviceDiscovery?.url, `https://${host}`);

    // the CRD refuses a name that cannot be a Secret's, naming the field
    await assert.rejects(applyApp(c, ns, 'bad', { hostname: `bad.${host}`, service: { name: 'web', port: 8080 }, routing: { tls: { secretName: 'App_Cert' } } }), /spec\.routing\.tls\.secretName/);
  });

  it('an operator without a ClusterIssuer: ClusterIssuerNotConfigured and nothing routed; an app with its own TLS Secret is served', async () => {
    const ns = NS.noIssuer;
    await applyApp(c, ns, 'plain', { hostname: `plain.${ns}.example.test`, service: { name: 'web', port: 8080 }, routing: {} });
    const app = await waitForReason(c, ns, 'plain', 'TLSReady', 'ClusterIssuerNotConfigured', 'False');
    assert.equal(condition(app, 'RoutingReady')?.reason, 'ClusterIssuerNotConfigured');
    assert.match(condition(app, 'TLSReady')!.message, /no cert-manager ClusterIssuer configured \(--cluster-issuer \/ CLUSTER_ISSUER\)/);
    const names = childNames(ns, 'plain');
    for (const [rt, n] of [[CERTIFICATE_RT, names.certificate], [LISTENERSET_RT, names.listenerSet], [HTTPROUTE_RT, names.mainRoute]] as const) {
      assert.equal(await exists(c, rt, ns, n), false, `${rt.kind} ${n}`);
    }
    const host = `own.${ns}.example.test`;
    const pem = selfSigned(host);
    await c.create(SECRET, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'own-cert', namespace: ns }, type: 'kubernetes.io/tls', stringData: { 'tls.crt': pem.crt, 'tls.key': pem.key } } as never);
    await applyApp(c, ns, 'own', { hostname: host, service: { name: 'web', port: 8080 }, routing: { tls: { secretName: 'own-cert' } } });
    await waitForReason(c, ns, 'own', 'Ready', 'Available', 'True', 60_000);
  });

  it('generic-oidc with provisionClient left true: the API server accepts it, AuthReady=ProvisioningNotSupported, nothing served without login', async () => {
    const ns = NS.oidc;
    await applyApp(c, ns, 'app', {
      hostname: `${ns}.example.test`,
      service: { name: 'web', port: 8080 },
      routing: { tls: { enabled: false } },
      auth: { enabled: true, provider: 'generic-oidc', issuerURL: 'https://idp.example.test' },
    });
    const app = await waitForReason(c, ns, 'app', 'AuthReady', 'ProvisioningNotSupported', 'False');
    assert.match(condition(app, 'AuthReady')!.message, /set auth\.clientSecretRef/);
    assert.equal(condition(app, 'RoutingReady')?.reason, 'AuthNotReady');
    assert.equal(await exists(c, HTTPROUTE_RT, ns, childNames(ns, 'app').mainRoute), false);
  });

  it('ValidationSuccess: one Normal Event per valid generation; landingPage.iconLight/iconDark are mirrored in status.serviceDiscovery', async () => {
    const ns = NS.icons;
    const lp = { enabled: true, displayName: 'Notebooks', icon: 'jupyter', iconLight: 'https://icons.example.test/nb-light.svg', iconDark: 'jupyter' };
    await applyApp(c, ns, 'app', { hostname: `${ns}.example.test`, service: { name: 'web', port: 8080 }, routing: { tls: { enabled: false } }, landingPage: lp });
    let app = await waitForReason(c, ns, 'app', 'Ready', 'Available', 'True');
    assert.equal(app.status?.serviceDiscovery?.iconLight, lp.iconLight);
    assert.equal(app.status?.serviceDiscovery?.iconDark, 'jupyter');
    const validated = async (gen: number) =>
      (await c.list<AnyObject>(EVENT, ns)).items.filter((e) => e.reason === 'ValidationSuccess' && e.regarding?.name === 'app' && e.note === `spec generation ${gen} is valid`);
    const gen1 = app.metadata.generation!;
    await eventually('ValidationSuccess event', async () => (await validated(gen1)).length === 1);
    assert.equal((await validated(gen1))[0]!.type, 'Normal');

    await applyApp(c, ns, 'app', { hostname: `${ns}.example.test`, service: { name: 'web', port: 8080 }, routing: { tls: { enabled: false } }, landingPage: { ...lp, iconDark: 'https://icons.example.test/nb-dark.svg' } });
    app = await eventually('iconDark updated', async () => {
      const a = await getApp(c, ns, 'app');
      return a?.status?.observedGeneration === a?.metadata.generation && a?.status?.serviceDiscovery?.iconDark === 'https://icons.example.test/nb-dark.svg' ? a : undefined;
    });
    await eventually('one event for the new generation', async () => (await validated(app.metadata.generation!)).length === 1);
    assert.equal((await validated(gen1)).length, 1, 'none repeated for the old generation');
  });

  it('a SecurityPolicy the API server rejects (cluster admission policy): AuthReady=Failed; only the main route is withheld, the Certificate, listener and public route are still applied', async () => {
    const ns = NS.vap;
    await c.apply(
      VAP_RT,
      {
        apiVersion: 'admissionregistration.k8s.io/v1',
        kind: 'ValidatingAdmissionPolicy',
        metadata: { name: vapName },
        spec: {
          failurePolicy: 'Fail',
          matchConstraints: {
            resourceRules: [{ apiGroups: ['gateway.envoyproxy.io'], apiVersions: ['*'], operations: ['CREATE', 'UPDATE'], resources: ['securitypolicies'] }],
            namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': ns } },
          },
          validations: [{ expression: 'false', message: 'SecurityPolicies are refused here by cluster policy', reason: 'Invalid' }],
        },
      },
      'nkp-test',
    );
    await c.apply(VAPB_RT, { apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingAdmissionPolicyBinding', metadata: { name: vapName }, spec: { policyName: vapName, validationActions: ['Deny'] } }, 'nkp-test');
    // the policy is enforced once the API server has loaded it
    await eventually('admission policy in force', async () => {
      try {
        await c.apply(SECURITYPOLICY_RT, { apiVersion: 'gateway.envoyproxy.io/v1alpha1', kind: 'SecurityPolicy', metadata: { name: 'probe', namespace: ns }, spec: { targetRefs: [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', name: 'probe' }] } }, 'nkp-test');
        await c.delete(SECURITYPOLICY_RT, ns, 'probe');
        return false;
      } catch (err) {
        return /refused here by cluster policy/.test((err as Error).message);
      }
    }, 30_000, 500);

    await createSecret(c, ns, 'my-oidc', { 'client-id': 'my-client', 'client-secret': 'not-a-real-secret' });
    await applyApp(c, ns, 'app', {
      hostname: `${ns}.example.test`,
      service: { name: 'web', port: 8080 },
      routing: { publicRoutes: [{ pathPrefix: '/healthz' }] },
      auth: { enabled: true, clientSecretRef: 'my-oidc' },
    });
    const names = childNames(ns, 'app');
    const app = await waitForReason(c, ns, 'app', 'AuthReady', 'Failed', 'False');
    assert.match(condition(app, 'AuthReady')!.message, new RegExp(`SecurityPolicy ${ns}/${names.securityPolicy} was rejected by the API server: .*refused here by cluster policy`));
    assert.equal(condition(app, 'RoutingReady')?.reason, 'AuthNotReady');
    assert.match(condition(app, 'RoutingReady')!.message, /withheld so the app is never served without login/);
    // the children that are safe without the policy are still applied (the rejection does not stop the chain)
    await eventually('certificate, listener and public route applied', async () =>
      (await exists(c, CERTIFICATE_RT, ns, names.certificate)) && (await exists(c, LISTENERSET_RT, ns, names.listenerSet)) && (await exists(c, HTTPROUTE_RT, ns, names.publicRoute)),
    );
    assert.equal(await exists(c, HTTPROUTE_RT, ns, names.mainRoute), false, 'no main route without its policy');
    assert.equal(await exists(c, SECURITYPOLICY_RT, ns, names.securityPolicy), false);
    // the TLS side carries on as if nothing happened
    await waitForReason(c, ns, 'app', 'TLSReady', 'Available', 'True', 60_000);

    // the policy is lifted: the app recovers by itself (the rejected child is retried)
    await c.delete(VAPB_RT, undefined, vapName);
    await c.delete(VAP_RT, undefined, vapName);
    await eventually('main route with its policy', async () => (await exists(c, SECURITYPOLICY_RT, ns, names.securityPolicy)) && (await exists(c, HTTPROUTE_RT, ns, names.mainRoute)), 60_000, 500);
  });
});
