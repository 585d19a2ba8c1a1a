// Ownership and names against the real API server (issue 13): the operator never takes over or deletes an object
// it does not own (a pack's own HTTPRoute or SecurityPolicy under a child's name), reports it with the precise
// reason ResourceNotOwned, withholds only what would be unsafe without it, gives two apps distinct child names
// (x / x-public, a-b/c / a/b-c), and applies with fieldValidation=Strict.
import assert from 'node:assert/strict';
import { OWNER_ANNOTATION } from '../../../operator/src/api/types.js';
import { childNames } from '../../../operator/src/desired/objects.js';
import { isInvalidObject, type KubeClient } from '../../../operator/src/runtime/kube.js';
import {
  HTTPROUTE_RT,
  REFERENCEGRANT_RT,
  SECURITYPOLICY_RT,
  applyApp,
  condition,
  createSecret,
  createService,
  deleteApp,
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

describe('operator (integration): ownership and child names against a real API server', function () {
  this.timeout(120_000);
  const g = useGatewayCluster();
  let c: KubeClient;
  let run: RunningOperator;
  const p = uniqueName('own');
  const NS = { route: `${p}-route`, sp: `${p}-sp`, pair: `${p}-pair`, a: p, ab: `${p}-b`, be: `${p}-be` };

  before(async function () {
    this.timeout(300_000);
    c = g.c;
    for (const ns of Object.values(NS)) await ensureNamespace(c, ns, true);
    run = await startOperator(g.cp, { WATCH_NAMESPACES: Object.values(NS).join(',') });
  });
  after(async () => run?.stop());

  const packRoute = (ns: string, name: string) => ({
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name, namespace: ns, labels: { 'app.kubernetes.io/name': 'pack' } },
    spec: { hostnames: ['pack.example.test'], rules: [{ backendRefs: [{ name: 'pack', port: 9090 }] }] },
  });

  it("a pack's HTTPRoute under the main route's name: ResourceNotOwned, left as it is, not deleted with the app", async () => {
    const ns = NS.route;
    await createService(c, ns, 'web', 8080);
    const mine = childNames(ns, 'app').mainRoute;
    await c.apply(HTTPROUTE_RT, packRoute(ns, mine), 'pack-manager');
    await applyApp(c, ns, 'app', { hostname: `${ns}.example.test`, service: { name: 'web', port: 8080 }, routing: { tls: { enabled: false } } });
    const app = await waitForReason(c, ns, 'app', 'RoutingReady', 'ResourceNotOwned', 'False');
    assert.match(condition(app, 'RoutingReady')!.message, new RegExp(`HTTPRoute ${ns}/${mine} already exists and it was not created by nebari-operator`));
    assert.equal(condition(app, 'Ready')?.status, 'False');
    const route = (await c.get<AnyObject>(HTTPROUTE_RT, ns, mine))!;
    assert.deepEqual(route.spec.hostnames, ['pack.example.test'], 'not taken over');
    assert.equal(route.metadata.annotations?.[OWNER_ANNOTATION], undefined);
    assert.deepEqual(
      (route.metadata.managedFields as { manager: string }[]).map((m) => m.manager),
      ['pack-manager'],
      'the operator is no field manager of it',
    );
    await deleteApp(c, ns, 'app');
    await eventually('app gone', async () => !(await getApp(c, ns, 'app')));
    assert.ok(await exists(c, HTTPROUTE_RT, ns, mine), "the pack's route outlives the app");
  });

  it("a pack's SecurityPolicy under the policy's name: AuthReady=ResourceNotOwned, the main route is withheld (never served without login), the public route is still served", async () => {
    const ns = NS.sp;
    await createService(c, ns, 'web', 8080);
    await createSecret(c, ns, 'my-oidc', { 'client-id': 'my-client', 'client-secret': 'not-a-real-secret' });
    const names = childNames(ns, 'app');
    await c.apply(
      SECURITYPOLICY_RT,
      {
        apiVersion: 'gateway.envoyproxy.io/v1alpha1',
        kind: 'SecurityPolicy',
        metadata: { name: names.securityPolicy, namespace: ns },
        spec: { targetRefs: [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', name: 'pack' }], cors: { allowOrigins: ['https://pack.example.test'] } },
      },
      'pack-manager',
    );
    await applyApp(c, ns, 'app', {
      hostname: `${ns}.example.test`,
      service: { name: 'web', port: 8080 },
      routing: { tls: { enabled: false }, publicRoutes: [{ pathPrefix: '/healthz' }] },
      auth: { enabled: true, clientSecretRef: 'my-oidc' },
    });
    const app = await waitForReason(c, ns, 'app', 'AuthReady', 'ResourceNotOwned', 'False');
    assert.match(condition(app, 'AuthReady')!.message, new RegExp(`SecurityPolicy ${ns}/${names.securityPolicy} already exists`));
    assert.equal(condition(app, 'RoutingReady')?.reason, 'AuthNotReady');
    assert.match(condition(app, 'RoutingReady')!.message, /withheld so the app is never served without login/);
    await eventually('public route served', () => exists(c, HTTPROUTE_RT, ns, names.publicRoute));
    assert.equal(await exists(c, HTTPROUTE_RT, ns, names.mainRoute), false, 'no main route without our policy');
    const sp = (await c.get<AnyObject>(SECURITYPOLICY_RT, ns, names.securityPolicy))!;
    assert.equal(sp.spec.targetRefs[0].name, 'pack', 'the pack policy is untouched');
    assert.equal(sp.spec.oidc, undefined);

    // the pack removes its policy: the app takes the name and is served with login
    await c.delete(SECURITYPOLICY_RT, ns, names.securityPolicy);
    await eventually('own policy and main route', async () => {
      const own = await c.get<AnyObject>(SECURITYPOLICY_RT, ns, names.securityPolicy);
      return own?.metadata.annotations?.[OWNER_ANNOTATION] === `${ns}/app` && (await exists(c, HTTPROUTE_RT, ns, names.mainRoute));
    });
  });

  it('apps x and x-public in one namespace get distinct routes (the public route of x is not the main route of x-public)', async () => {
    const ns = NS.pair;
    await createService(c, ns, 'web', 8080);
    await createSecret(c, ns, 'my-oidc', { 'client-id': 'my-client', 'client-secret': 'not-a-real-secret' });
    const routing = { tls: { enabled: false }, publicRoutes: [{ pathPrefix: '/healthz' }] };
    await applyApp(c, ns, 'x', { hostname: `x.${ns}.example.test`, service: { name: 'web', port: 8080 }, routing, auth: { enabled: true, clientSecretRef: 'my-oidc' } });
    await applyApp(c, ns, 'x-public', { hostname: `xp.${ns}.example.test`, service: { name: 'web', port: 8080 }, routing: { tls: { enabled: false } } });
    const want: Record<string, string> = {
      [childNames(ns, 'x').mainRoute]: `${ns}/x`,
      [childNames(ns, 'x').publicRoute]: `${ns}/x`,
      [childNames(ns, 'x-public').mainRoute]: `${ns}/x-public`,
    };
    assert.equal(Object.keys(want).length, 3);
    await eventually('three routes, each with its own owner', async () => {
      const items = (await c.list<AnyObject>(HTTPROUTE_RT, ns)).items;
      return Object.entries(want).every(([n, owner]) => items.find((r) => r.metadata.name === n)?.metadata.annotations?.[OWNER_ANNOTATION] === owner);
    });
    for (const n of ['x', 'x-public']) assert.notEqual(condition(await getApp(c, ns, n), 'RoutingReady')?.reason, 'ResourceNotOwned');
  });

  it('apps a-b/c and a/b-c with backends in one namespace get distinct ReferenceGrants', async () => {
    await createService(c, NS.be, 'web', 8080);
    const spec = (ns: string) => ({ hostname: `${ns}.example.test`, service: { name: 'web', port: 8080, namespace: NS.be }, routing: { tls: { enabled: false } } });
    await applyApp(c, NS.ab, 'c', spec(NS.ab));
    await applyApp(c, NS.a, 'b-c', spec(NS.a));
    const g1 = childNames(NS.ab, 'c').referenceGrant;
    const g2 = childNames(NS.a, 'b-c').referenceGrant;
    assert.notEqual(g1, g2);
    await eventually('two grants', async () => {
      const a = await c.get<AnyObject>(REFERENCEGRANT_RT, NS.be, g1);
      const b = await c.get<AnyObject>(REFERENCEGRANT_RT, NS.be, g2);
      return a?.metadata.annotations?.[OWNER_ANNOTATION] === `${NS.ab}/c` && b?.metadata.annotations?.[OWNER_ANNOTATION] === `${NS.a}/b-c`;
    });
  });

  it('a field the server does not declare is refused, named, and classified as an invalid object (reported, not retried as a transient error)', async () => {
    const bad = packRoute(NS.route, 'strict-check');
    await assert.rejects(c.apply(HTTPROUTE_RT, { ...bad, spec: { ...bad.spec, hostnamez: ['typo.example.test'] } }, 'nkp-test'), (err: Error) => {
      assert.match(err.message, /hostnamez/);
      assert.equal(isInvalidObject(err), true, err.message);
      return true;
    });
    assert.equal(await exists(c, HTTPROUTE_RT, NS.route, 'strict-check'), false);
  });
});
