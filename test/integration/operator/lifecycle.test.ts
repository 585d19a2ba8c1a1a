// The operator against a real kube-apiserver: the life of NebariApps from creation to deletion.
// The real Envoy Gateway and cert-manager controllers run beside it (ensureGateways): Certificates are issued for real.
import assert from 'node:assert/strict';
import { sharedControlPlane, type ControlPlane } from '../../harness/control-plane.js';
import { FINALIZER } from '../../../operator/src/api/types.js';
import type { KubeClient, ResourceType } from '../../../operator/src/runtime/kube.js';
import { NEBARIAPP } from '../../../operator/src/reconciler-resources.js';
import { acceptanceFact, ROUTE_ACCEPTANCE } from '../../../operator/src/reconciler-facts.js';
import {
  CERTIFICATE_RT,
  HTTPROUTE_RT,
  LISTENERSET_RT,
  REFERENCEGRANT_RT,
  SECURITYPOLICY_RT,
  adminClient,
  applyApp,
  condition,
  createSecret,
  createService,
  deleteApp,
  ensureGateways,
  ensureNamespace,
  eventually,
  exists,
  getApp,
  waitCertificateIssued,
  setOptIn,
  startOperator,
  uniqueName,
  waitForReason,
  type RunningOperator,
  type AnyObject,
} from './helpers.js';

describe('operator (integration): NebariApp lifecycle against a real API server', function () {
  this.timeout(120_000);
  let cp: ControlPlane;
  let c: KubeClient;
  let run: RunningOperator;
  // every namespace this suite uses, known up front: the operator watches only these (other suites' NebariApps
  // on the shared control plane are never touched)
  const NS = Object.fromEntries(['life', 'upd', 'optin', 'drift', 'svc', 'conf-a', 'conf-b', 'norte', 'auth', 'oidc', 'kc', 'fin', 'fin-be', 'nofin'].map((n) => [n, uniqueName(n)])) as Record<string, string>;

  before(async function () {
    this.timeout(300_000);
    cp = await sharedControlPlane();
    c = adminClient(cp);
    await ensureGateways(c);
    run = await startOperator(cp, { WATCH_NAMESPACES: Object.values(NS).join(',') });
  });

  after(async () => {
    await run?.stop();
    await c?.close();
  });

  it('create: routes, ListenerSet and Certificate appear; Ready once cert-manager issued the Certificate; status mirrors the spec', async () => {
    const ns = NS['life'];
    await ensureNamespace(c, ns, true);
    await createService(c, ns, 'web', 8080);
    await applyApp(c, ns, 'app', {
      hostname: `${ns}.example.test`,
      service: { name: 'web', port: 8080 },
      routing: { routes: [{ pathPrefix: '/' }] },
      landingPage: { enabled: true, displayName: 'Web' },
    });
    // the real cert-manager issues within seconds: TLSReady follows its Ready condition, never ahead of it
    let app = await eventually('children created', async () => ((await exists(c, HTTPROUTE_RT, ns, 'app-route')) ? getApp(c, ns, 'app') : undefined));
    assert.ok(app!.metadata.finalizers?.includes(FINALIZER), 'finalizer added');
    const route = await c.get<AnyObject>(HTTPROUTE_RT, ns, 'app-route');
    assert.ok(route, 'HTTPRoute created');
    assert.deepEqual(route.spec.hostnames, [`${ns}.example.test`]);
    assert.equal(route.metadata.ownerReferences?.[0]?.uid, app.metadata.uid, 'controller owner reference to the NebariApp');
    assert.equal(route.metadata.ownerReferences?.[0]?.controller, true);
    assert.ok(await exists(c, LISTENERSET_RT, ns, 'app'), 'ListenerSet created');
    assert.ok(await exists(c, CERTIFICATE_RT, ns, 'app-tls'), 'Certificate created');

    app = await waitForReason(c, ns, 'app', 'Ready', 'Available', 'True');
    const cert = await waitCertificateIssued(c, ns, 'app-tls');
    assert.ok(await exists(c, { group: '', version: 'v1', plural: 'secrets', kind: 'Secret', namespaced: true }, ns, cert.spec.secretName), 'cert-manager wrote the TLS Secret');
    assert.match(condition(app, 'TLSReady')!.message, /Certificate .*app-tls is ready/);
    assert.equal(app.status?.hostname, `${ns}.example.test`);
    assert.deepEqual(app.status?.gatewayRef, { name: 'public-gw', namespace: 'nkp-test-gateways' });
    assert.equal(app.status?.serviceDiscovery?.url, `https://${ns}.example.test`);
    assert.equal(app.status?.serviceDiscovery?.visibility, 'public');
  });

  it('update: a spec change reaches the children and observedGeneration follows', async () => {
    const ns = NS['upd'];
    await ensureNamespace(c, ns, true);
    await createService(c, ns, 'web', 8080);
    await createService(c, ns, 'api', 9090);
    const spec = { hostname: `${ns}.example.test`, service: { name: 'web', port: 8080 }, routing: { tls: { enabled: false } } };
    await applyApp(c, ns, 'app', spec);
    await waitForReason(c, ns, 'app', 'Ready', 'Available', 'True');
    // every version of the app and of its route from here on, in the server's order (resourceVersions compare as
    // integers, KEP-5504): the app may say Ready for its new generation only after Envoy Gateway accepted the route
    // the operator wrote for it (its acceptance of the old route says nothing about the new one)
    const stop = new AbortController();
    const history: { kind: string; rv: bigint; obj: AnyObject }[] = [];
    const record = async (rt: ResourceType, name: string) => {
      const from = (await c.list<AnyObject>(rt, ns)).resourceVersion;
      for await (const ev of c.watch<AnyObject>(rt, ns, { resourceVersion: from, signal: stop.signal, fieldSelector: `metadata.name=${name}` })) {
        if (ev.type === 'ADDED' || ev.type === 'MODIFIED') history.push({ kind: rt.kind, rv: BigInt(ev.object.metadata.resourceVersion!), obj: ev.object });
      }
    };
    const watching = [record(NEBARIAPP, 'app'), record(HTTPROUTE_RT, 'app-route')].map((p) => p.catch(() => undefined));
    await new Promise((r) => setTimeout(r, 300)); // both watches open
    await applyApp(c, ns, 'app', { ...spec, service: { name: 'api', port: 9090 }, routing: { tls: { enabled: false }, routes: [{ pathPrefix: '/api' }] } });
    const route = await eventually('route to api:9090', async () => {
      const r = await c.get<AnyObject>(HTTPROUTE_RT, ns, 'app-route');
      return r?.spec.rules?.[0]?.backendRefs?.[0]?.name === 'api' ? r : undefined;
    });
    assert.equal(route.spec.rules[0].backendRefs[0].port, 9090);
    assert.equal(route.spec.rules[0].matches[0].path.value, '/api');
    const app = await waitForReason(c, ns, 'app', 'Ready', 'Available', 'True');
    assert.equal(app.status?.observedGeneration, app.metadata.generation);
    stop.abort();
    await Promise.all(watching);
    history.sort((a, b) => (a.rv < b.rv ? -1 : 1));
    const readyAgain = history.find((h) => h.kind === 'NebariApp' && h.obj.status?.observedGeneration === 2 && condition(h.obj as never, 'Ready')?.status === 'True');
    const accepted = history.find((h) => h.kind === 'HTTPRoute' && h.obj.metadata.generation === 2 && acceptanceFact(h.obj, 'parents', ROUTE_ACCEPTANCE)?.state === 'accepted');
    assert.ok(readyAgain && accepted, `versions seen: ${history.map((h) => `${h.kind}@${h.rv}`).join(', ')}`);
    assert.ok(accepted.rv < readyAgain.rv, `the app said Ready for generation 2 at ${readyAgain.rv}, before Envoy Gateway accepted the new route at ${accepted.rv}`);
    assert.equal(app.status?.serviceDiscovery?.url, `http://${ns}.example.test`);
  });

  it('a namespace opted in later: NamespaceNotOptedIn and nothing created, then everything once labelled', async () => {
    const ns = NS['optin'];
    await ensureNamespace(c, ns, false);
    await createService(c, ns, 'web', 8080);
    await applyApp(c, ns, 'app', { hostname: `${ns}.example.test`, service: { name: 'web', port: 8080 }, routing: {} });
    await waitForReason(c, ns, 'app', 'Ready', 'NamespaceNotOptedIn', 'False');
    assert.equal(await exists(c, HTTPROUTE_RT, ns, 'app-route'), false, 'no route in a namespace that did not opt in');
    assert.equal(await exists(c, CERTIFICATE_RT, ns, 'app-tls'), false);
    await setOptIn(c, ns, true);
    await waitForReason(c, ns, 'app', 'RoutingReady', 'ReconcileSuccess', 'True');
    assert.ok(await exists(c, HTTPROUTE_RT, ns, 'app-route'));
    // and opting out again removes what was created
    await setOptIn(c, ns, false);
    await waitForReason(c, ns, 'app', 'Ready', 'NamespaceNotOptedIn', 'False');
    await eventually('children removed after opt-out', async () => !(await exists(c, HTTPROUTE_RT, ns, 'app-route')) && !(await exists(c, CERTIFICATE_RT, ns, 'app-tls')));
  });

  it('drift: a child edited or deleted by someone else is put back (level-triggered)', async () => {
    const ns = NS['drift'];
    await ensureNamespace(c, ns, true);
    await createService(c, ns, 'web', 8080);
    await applyApp(c, ns, 'app', { hostname: `${ns}.example.test`, service: { name: 'web', port: 8080 }, routing: { tls: { enabled: false } } });
    await waitForReason(c, ns, 'app', 'Ready', 'Available', 'True');
    const route = (await c.get<AnyObject>(HTTPROUTE_RT, ns, 'app-route'))!;
    await c.replace(HTTPROUTE_RT, { ...route, spec: { ...route.spec, hostnames: ['evil.example.test'] } });
    await eventually('hostname restored', async () => (await c.get<AnyObject>(HTTPROUTE_RT, ns, 'app-route'))?.spec.hostnames[0] === `${ns}.example.test`);
    await c.delete(HTTPROUTE_RT, ns, 'app-route');
    await eventually('route re-created', async () => {
      const r = await c.get<AnyObject>(HTTPROUTE_RT, ns, 'app-route');
      return r !== undefined && r.metadata.uid !== route.metadata.uid;
    });
  });

  it('a Service appearing later: ServiceNotFound, then the app recovers by itself', async () => {
    const ns = NS['svc'];
    await ensureNamespace(c, ns, true);
    await applyApp(c, ns, 'app', { hostname: `${ns}.example.test`, service: { name: 'late', port: 8080 }, routing: { tls: { enabled: false } } });
    await waitForReason(c, ns, 'app', 'RoutingReady', 'ServiceNotFound', 'False');
    assert.equal(await exists(c, HTTPROUTE_RT, ns, 'app-route'), false);
    await createService(c, ns, 'late', 8080);
    await waitForReason(c, ns, 'app', 'Ready', 'Available', 'True');
    assert.ok(await exists(c, HTTPROUTE_RT, ns, 'app-route'));
  });

  it('a Service without the named port: ServiceNotFound saying which port (the original operator\'s reason), then Ready once it exposes it', async () => {
    const ns = NS['svc'];
    await ensureNamespace(c, ns, true);
    await createService(c, ns, 'web', 9090);
    await applyApp(c, ns, 'ported', { hostname: `ported.${ns}.example.test`, service: { name: 'web', port: 8080 }, routing: { tls: { enabled: false } } });
    const app = await waitForReason(c, ns, 'ported', 'RoutingReady', 'ServiceNotFound', 'False');
    assert.match(condition(app, 'RoutingReady')!.message, /^service web does not expose port 8080 \(Service .*\/web has ports: 9090\)$/);
    assert.equal(await exists(c, HTTPROUTE_RT, ns, 'ported-route'), false, 'no route to a port the Service lacks');
    await createService(c, ns, 'web', 8080);
    await waitForReason(c, ns, 'ported', 'Ready', 'Available', 'True');
    assert.ok(await exists(c, HTTPROUTE_RT, ns, 'ported-route'));
  });

  it('hostname conflict: the second app gets GatewayListenerConflict, the first keeps working, the second takes over when the first goes', async () => {
    const ns1 = NS['conf-a'];
    const ns2 = NS['conf-b'];
    const host = `${ns1}.shared.example.test`;
    for (const ns of [ns1, ns2]) {
      await ensureNamespace(c, ns, true);
      await createService(c, ns, 'web', 8080);
    }
    await applyApp(c, ns1, 'first', { hostname: host, service: { name: 'web', port: 8080 }, routing: { tls: { enabled: false } } });
    await waitForReason(c, ns1, 'first', 'Ready', 'Available', 'True');
    await new Promise((r) => setTimeout(r, 1100)); // creationTimestamp has second precision: make "first" strictly older
    await applyApp(c, ns2, 'second', { hostname: host, service: { name: 'web', port: 8080 }, routing: { tls: { enabled: false } } });
    const second = await waitForReason(c, ns2, 'second', 'RoutingReady', 'GatewayListenerConflict', 'False');
    assert.match(condition(second, 'RoutingReady')!.message, new RegExp(`${ns1}/first`));
    assert.equal(await exists(c, HTTPROUTE_RT, ns2, 'second-route'), false, 'the second app creates no route');
    const first = await getApp(c, ns1, 'first');
    assert.equal(condition(first, 'Ready')?.status, 'True', 'the first keeps working');
    assert.ok(await exists(c, HTTPROUTE_RT, ns1, 'first-route'));
    await deleteApp(c, ns1, 'first');
    await waitForReason(c, ns2, 'second', 'Ready', 'Available', 'True');
    assert.ok(await exists(c, HTTPROUTE_RT, ns2, 'second-route'), 'the hostname passes to the second app');
  });

  it('routing removed: routes, ListenerSet and Certificate are deleted; RoutingReady/TLSReady say RoutingDisabled', async () => {
    const ns = NS['norte'];
    await ensureNamespace(c, ns, true);
    await createService(c, ns, 'web', 8080);
    const base = { hostname: `${ns}.example.test`, service: { name: 'web', port: 8080 } };
    await applyApp(c, ns, 'app', { ...base, routing: {} });
    await eventually('children', async () => (await exists(c, HTTPROUTE_RT, ns, 'app-route')) && (await exists(c, CERTIFICATE_RT, ns, 'app-tls')));
    await applyApp(c, ns, 'app', base);
    const app = await waitForReason(c, ns, 'app', 'RoutingReady', 'RoutingDisabled', 'True');
    assert.equal(condition(app, 'TLSReady')?.reason, 'RoutingDisabled');
    await eventually('children gone', async () => {
      const left = [await exists(c, HTTPROUTE_RT, ns, 'app-route'), await exists(c, LISTENERSET_RT, ns, 'app'), await exists(c, CERTIFICATE_RT, ns, 'app-tls')];
      return left.every((x) => !x);
    });
  });

  it('auth toggled (clientSecretRef): SecurityPolicy and public route appear, then go when auth is disabled', async () => {
    const ns = NS['auth'];
    await ensureNamespace(c, ns, true);
    await createService(c, ns, 'web', 8080);
    const base = { hostname: `${ns}.example.test`, service: { name: 'web', port: 8080 } };
    const routing = { tls: { enabled: false }, publicRoutes: [{ pathPrefix: '/healthz' }] };
    await applyApp(c, ns, 'app', { ...base, routing, auth: { enabled: true, clientSecretRef: 'my-oidc' } });
    let app = await waitForReason(c, ns, 'app', 'AuthReady', 'SecretNotFound', 'False');
    assert.equal(await exists(c, HTTPROUTE_RT, ns, 'app-route'), false, 'no route without login while the Secret is missing');
    await createSecret(c, ns, 'my-oidc', { 'client-id': 'my-client', 'client-secret': 'not-a-real-secret' });
    app = await waitForReason(c, ns, 'app', 'Ready', 'Available', 'True');
    assert.deepEqual(app.status?.clientSecretRef, { name: 'my-oidc', namespace: ns });
    assert.equal(app.status?.serviceDiscovery?.visibility, 'private');
    const sp = await c.get<AnyObject>(SECURITYPOLICY_RT, ns, 'app');
    assert.ok(sp, 'SecurityPolicy created');
    assert.equal(sp.spec.oidc.provider.issuer, 'https://auth.example.test/realms/nebari');
    assert.equal(sp.spec.oidc.clientSecret.name, 'my-oidc');
    assert.ok(await exists(c, HTTPROUTE_RT, ns, 'app-public'), 'public route for publicRoutes');

    await applyApp(c, ns, 'app', { ...base, routing, auth: { enabled: false } });
    app = await eventually('AuthReady gone', async () => {
      const a = await getApp(c, ns, 'app');
      return a && !condition(a, 'AuthReady') && condition(a, 'Ready')?.status === 'True' ? a : undefined;
    });
    await eventually('SecurityPolicy and public route removed', async () => !(await exists(c, SECURITYPOLICY_RT, ns, 'app')) && !(await exists(c, HTTPROUTE_RT, ns, 'app-public')));
    assert.equal(app.status?.clientSecretRef, undefined);
    assert.ok(await exists(c, HTTPROUTE_RT, ns, 'app-route'), 'the main route stays');
  });

  it('generic-oidc: the issuer comes from the spec; Envoy Gateway refuses one it cannot discover (AuthReady says so); an http issuer is refused by the NebariApp CRD', async () => {
    const ns = NS['oidc'];
    await ensureNamespace(c, ns, true);
    await createService(c, ns, 'web', 8080);
    await createSecret(c, ns, 'idp-client', { 'client-id': 'generic', 'client-secret': 'generic-secret' });
    const base = { hostname: `${ns}.example.test`, service: { name: 'web', port: 8080 }, routing: { tls: { enabled: false } } };
    await applyApp(c, ns, 'app', { ...base, auth: { enabled: true, provider: 'generic-oidc', issuerURL: 'https://idp.example.test/realms/x', clientSecretRef: 'idp-client', forwardAccessToken: true } });
    // idp.example.test does not exist: the real Envoy Gateway cannot fetch its discovery document and refuses the
    // policy; the operator's AuthReady carries its reason instead of claiming login works
    let app = await waitForReason(c, ns, 'app', 'AuthReady', 'SecurityPolicyFailed', 'False', 60_000);
    assert.match(condition(app, 'AuthReady')!.message, /Accepted=False/);
    assert.equal(condition(app, 'Ready')?.status, 'False');
    const sp = (await c.get<AnyObject>(SECURITYPOLICY_RT, ns, 'app'))!;
    assert.equal(sp.spec.oidc.provider.issuer, 'https://idp.example.test/realms/x');
    assert.equal(sp.spec.oidc.forwardAccessToken, true);
    assert.equal(sp.spec.oidc.clientIDRef.name, 'idp-client');

    // Envoy Gateway's SecurityPolicy CRD requires an https issuer, and so does the NebariApp CRD: the API server
    // refuses an http issuer up front, naming the field, and the app keeps working as it was
    await assert.rejects(
      applyApp(c, ns, 'app', { ...base, auth: { enabled: true, provider: 'generic-oidc', issuerURL: 'http://idp.example.test', clientSecretRef: 'idp-client' } }),
      (err: unknown) => (err as { statusCode?: number }).statusCode === 422 && /spec\.auth\.issuerURL/.test((err as Error).message),
    );
    app = (await getApp(c, ns, 'app'))!;
    assert.equal(app?.spec.auth?.issuerURL, 'https://idp.example.test/realms/x');
    assert.equal(condition(app, 'AuthReady')?.reason, 'SecurityPolicyFailed');
    assert.ok(await exists(c, HTTPROUTE_RT, ns, 'app-route'), 'the route is still served');
  });

  it('provider keycloak with provisionClient but no provisioner configured: AuthReady=False, no route served without login', async () => {
    const ns = NS['kc'];
    await ensureNamespace(c, ns, true);
    await createService(c, ns, 'web', 8080);
    await applyApp(c, ns, 'app', { hostname: `${ns}.example.test`, service: { name: 'web', port: 8080 }, routing: { tls: { enabled: false } }, auth: { enabled: true } });
    const app = await waitForReason(c, ns, 'app', 'AuthReady', 'Failed', 'False');
    assert.match(condition(app, 'AuthReady')!.message, /provisioning/);
    assert.equal(condition(app, 'RoutingReady')?.status, 'False');
    assert.equal(await exists(c, HTTPROUTE_RT, ns, 'app-route'), false);
  });

  it('no finalizer where owner references clean up; added before the first child that needs it; no reconcile for the events of its own writes', async () => {
    const ns = NS['nofin'];
    await ensureNamespace(c, ns, true);
    await createService(c, ns, 'web', 8080);
    const echoes = async () => (await run.metrics.ownEchoes.get()).values[0]?.value ?? 0;
    const echoesBefore = await echoes();
    // HTTP only, backend in the app's namespace, no auth: the route carries a controller owner reference
    await applyApp(c, ns, 'plain', { hostname: `plain.${ns}.example.test`, service: { name: 'web', port: 8080 }, routing: { tls: { enabled: false } } });
    let app = await waitForReason(c, ns, 'plain', 'Ready', 'Available', 'True');
    assert.equal(app.metadata.finalizers, undefined, 'no finalizer: nothing the garbage collector cannot remove');
    const route = await c.get<AnyObject>(HTTPROUTE_RT, ns, 'plain-route');
    assert.equal(route?.metadata.ownerReferences?.[0]?.uid, app.metadata.uid);
    // the route's creation and the status write came back as watch events that queued no reconcile
    const seen = (await echoes()) - echoesBefore;
    assert.ok(seen >= 2, `own write events seen: ${seen}`);

    // TLS on: cert-manager's Secret has no owner reference, so the finalizer is written before the Certificate
    await applyApp(c, ns, 'plain', { hostname: `plain.${ns}.example.test`, service: { name: 'web', port: 8080 }, routing: { tls: { enabled: true } } });
    const cert = await waitCertificateIssued(c, ns, 'plain-tls');
    app = (await getApp(c, ns, 'plain'))!;
    assert.ok(app.metadata.finalizers?.includes(FINALIZER), 'finalizer added with the Certificate');
    await waitForReason(c, ns, 'plain', 'Ready', 'Available', 'True').catch(async (err: Error) => {
      const r = await c.get<AnyObject>(HTTPROUTE_RT, ns, 'plain-route');
      throw new Error(`${err.message}; route generation ${r?.metadata.generation}, parentRefs ${JSON.stringify(r?.spec.parentRefs)}, status ${JSON.stringify(r?.status)}`);
    });
    await deleteApp(c, ns, 'plain');
    await eventually('NebariApp gone (finalizer released)', async () => !(await getApp(c, ns, 'plain')));
    const SECRET_RT = { group: '', version: 'v1', plural: 'secrets', kind: 'Secret', namespaced: true };
    assert.equal(await exists(c, SECRET_RT, ns, cert.spec.secretName), false, "cert-manager's TLS Secret removed by the finalizer");

    // an app without the finalizer goes at once; the garbage collector takes its route (owner reference)
    await applyApp(c, ns, 'gc', { hostname: `gc.${ns}.example.test`, service: { name: 'web', port: 8080 }, routing: { tls: { enabled: false } } });
    await eventually('route of gc', () => exists(c, HTTPROUTE_RT, ns, 'gc-route'));
    assert.equal((await getApp(c, ns, 'gc'))?.metadata.finalizers, undefined);
    await deleteApp(c, ns, 'gc');
    assert.equal(await getApp(c, ns, 'gc'), undefined, 'deleted at once');
    await eventually('route removed by the garbage collector', async () => !(await exists(c, HTTPROUTE_RT, ns, 'gc-route')), 60_000);
  });

  it('delete with a cross-namespace backend: the finalizer removes the ReferenceGrant, owner references take the rest', async () => {
    const ns = NS['fin'];
    const backend = NS['fin-be'];
    await ensureNamespace(c, ns, true);
    await ensureNamespace(c, backend, true);
    await createService(c, backend, 'db-ui', 8080);
    await applyApp(c, ns, 'app', { hostname: `${ns}.example.test`, service: { name: 'db-ui', port: 8080, namespace: backend }, routing: { tls: { enabled: false } } });
    await waitForReason(c, ns, 'app', 'Ready', 'Available', 'True');
    const grants = await c.list<AnyObject>(REFERENCEGRANT_RT, backend);
    assert.equal(grants.items.length, 1, 'ReferenceGrant in the backend namespace');
    assert.equal(grants.items[0].metadata.ownerReferences, undefined, 'no cross-namespace owner reference');
    await deleteApp(c, ns, 'app');
    await eventually('NebariApp gone (finalizer released)', async () => !(await getApp(c, ns, 'app')));
    await eventually('ReferenceGrant removed', async () => (await c.list(REFERENCEGRANT_RT, backend)).items.length === 0);
    await eventually('HTTPRoute removed', async () => !(await exists(c, HTTPROUTE_RT, ns, 'app-route')), 60_000);
  });
});
