// The operator against a real kube-apiserver under failure and at rest: the API server restarted mid-run with
// no app left behind (Envoy Gateway restarted too when it shows its known bug of routes without status), and zero
// writes from the operator on an idle cluster (counted by its own API metrics, status writes included).
import assert from 'node:assert/strict';
import type { KubeClient } from '../../../operator/src/runtime/kube.js';
import {
  applyApp,
  condition,
  createSecret,
  createService,
  deleteApp,
  ensureNamespace,
  eventually,
  exists,
  getApp,
  GW_NAMESPACE,
  GW_PUBLIC,
  HTTPROUTE_RT,
  waitCertificateIssued,
  waitForReason,
  startOperator,
  uniqueName,
  useGatewayCluster,
  type RunningOperator,
  type AnyObject,
} from './helpers.js';
import { GATEWAY as GATEWAY_RT, NEBARIAPP } from '../../../operator/src/reconciler-resources.js';
import { childNames } from '../../../operator/src/desired/objects.js';
import { sharedGatewayControllers } from '../../harness/gateway-controllers.js';

async function allReady(c: KubeClient, ns: string, names: string[]): Promise<boolean> {
  const list = await c.list<AnyObject>(NEBARIAPP, ns);
  const ready = new Set(
    list.items
      .filter((a) => condition(a as never, 'Ready')?.status === 'True' && a.status?.observedGeneration === a.metadata.generation)
      .map((a) => a.metadata.name as string),
  );
  return names.every((n) => ready.has(n));
}

/**
 * Apps not Ready for their current generation, except (`waiting`) those whose main route exists without any status
 * from the gateway controller while the app reports exactly that (RoutingReady=False Reconciling): the operator did
 * its part and waits for Envoy Gateway.
 */
async function notReady(c: KubeClient, ns: string, names: string[]): Promise<{ behind: string[]; waiting: string[] }> {
  const apps = new Map((await c.list<AnyObject>(NEBARIAPP, ns)).items.map((a) => [a.metadata.name as string, a]));
  const routes = new Map((await c.list<AnyObject>(HTTPROUTE_RT, ns)).items.map((r) => [r.metadata.name as string, r]));
  const behind: string[] = [];
  const waiting: string[] = [];
  for (const n of names) {
    const a = apps.get(n);
    if (a && a.status?.observedGeneration === a.metadata.generation && condition(a as never, 'Ready')?.status === 'True') continue;
    const route = routes.get(childNames(ns, n).mainRoute);
    const unreported = route !== undefined && (route.status?.parents ?? []).length === 0;
    if (a && a.status?.observedGeneration === a.metadata.generation && unreported && condition(a as never, 'RoutingReady')?.reason === 'Reconciling') waiting.push(n);
    else behind.push(n);
  }
  return { behind, waiting };
}

/** The routes of `names` Envoy Gateway has written no status on, once that set stayed the same for `quietMs`. */
async function unreportedWhenQuiet(c: KubeClient, ns: string, names: string[], quietMs: number, timeoutMs: number): Promise<string[]> {
  const mains = new Set(names.map((n) => childNames(ns, n).mainRoute));
  const deadline = Date.now() + timeoutMs;
  let last = '';
  let since = Date.now();
  for (;;) {
    const now = (await c.list<AnyObject>(HTTPROUTE_RT, ns)).items
      .filter((r) => mains.has(r.metadata.name as string) && (r.status?.parents ?? []).length === 0)
      .map((r) => r.metadata.name as string)
      .sort();
    const key = now.join(',');
    if (key !== last) {
      last = key;
      since = Date.now();
    }
    if (now.length === 0 || Date.now() - since >= quietMs || Date.now() > deadline) return now;
    await new Promise((r) => setTimeout(r, 500));
  }
}

function countOf(run: RunningOperator): number {
  // sum of reconciles_total over results, from the operator's own registry
  const m = run.metrics.registry.getSingleMetric('nebari_operator_reconciles_total') as unknown as { hashMap: Record<string, { value: number }> };
  return Object.values(m.hashMap).reduce((n, v) => n + v.value, 0);
}

/** Wait until the operator has had nothing to do for `quietMs` (queue empty, no reconcile started). */
async function settle(run: RunningOperator, quietMs = 1500, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = countOf(run);
  let since = Date.now();
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    const n = countOf(run);
    if (n !== last || run.op.queue.depth() > 0 || run.op.queue.inFlight() > 0) {
      last = n;
      since = Date.now();
    } else if (Date.now() - since >= quietMs) return;
  }
  throw new Error('operator did not settle');
}

describe('operator (integration): resilience and idle behaviour against a real API server', function () {
  this.timeout(240_000);
  const suite = useGatewayCluster();

  it('zero writes while idle: a steady cluster, a full forced resync and a fresh operator instance write nothing', async () => {
    const { cp, c } = suite;
    const ns = uniqueName('idle');
    const be = uniqueName('idle-be');
    await ensureNamespace(c, ns, true);
    await ensureNamespace(c, be, true);
    await createService(c, ns, 'web', 8080);
    await createService(c, be, 'web', 8080);
    await createSecret(c, ns, 'oidc', { 'client-id': 'idle-client', 'client-secret': 'idle-secret-value' });
    const names: string[] = [];
    let run = await startOperator(cp, { WATCH_NAMESPACES: `${ns},${be}` });
    try {
      for (let i = 0; i < 4; i++) {
        names.push(`tls-${i}`);
        await applyApp(c, ns, `tls-${i}`, { hostname: `tls-${i}.${ns}.example.test`, service: { name: 'web', port: 8080 }, routing: {}, landingPage: { enabled: true, displayName: `App ${i}` } });
      }
      names.push('auth');
      await applyApp(c, ns, 'auth', {
        hostname: `auth.${ns}.example.test`,
        service: { name: 'web', port: 8080 },
        routing: { tls: { enabled: false }, publicRoutes: [{ pathPrefix: '/public' }] },
        auth: { enabled: true, clientSecretRef: 'oidc', groups: ['admins'] },
      });
      names.push('cross');
      await applyApp(c, ns, 'cross', { hostname: `cross.${ns}.example.test`, service: { name: 'web', port: 8080, namespace: be }, routing: { tls: { enabled: false } } });
      names.push('norouting');
      await applyApp(c, ns, 'norouting', { hostname: `nr.${ns}.example.test`, service: { name: 'web', port: 8080 } });
      for (let i = 0; i < 4; i++) {
        await waitCertificateIssued(c, ns, `tls-${i}-tls`); // by the real cert-manager
      }
      for (const n of names) await waitForReason(c, ns, n, 'Ready', 'Available', 'True', 60_000);
      await settle(run);

      const before = run.metrics.writeCount();
      const reconcilesBefore = countOf(run);
      await new Promise((r) => setTimeout(r, 5000)); // idle window
      assert.equal(run.metrics.writeCount() - before, 0, `writes while idle: ${JSON.stringify(run.metrics.writesByResource())}`);

      // an update of a watched object that changes nothing the operator reads (a Gateway's annotations; Envoy
      // Gateway's own status writes on it are the same to the operator) queues no reconcile at all
      await c.apply(GATEWAY_RT, { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', metadata: { name: GW_PUBLIC, namespace: GW_NAMESPACE, annotations: { 'nkp-test/touched': String(Date.now()) } } }, 'nkp-test-idle');
      await new Promise((r) => setTimeout(r, 2000));
      assert.equal(countOf(run), reconcilesBefore, 'a Gateway update the operator cannot see queued reconciles');

      // a forced resync (every app reconciled again with nothing changed) must not write either
      for (const n of names) run.op.queue.add(`${ns}/${n}`);
      await settle(run);
      assert.ok(countOf(run) - reconcilesBefore >= names.length, 'the resync reconciled every app');
      assert.equal(run.metrics.writeCount() - before, 0, `writes after a resync: ${JSON.stringify(run.metrics.writesByResource())}`);
    } finally {
      await run.stop();
    }

    // a fresh instance (cold caches, as after a restart or fail-over) reconciles everything and writes nothing
    run = await startOperator(cp, { WATCH_NAMESPACES: `${ns},${be}` });
    try {
      await settle(run);
      assert.ok(countOf(run) >= names.length, `fresh instance reconciled ${countOf(run)} times`);
      assert.equal(run.metrics.writeCount(), 0, `writes by a fresh instance: ${JSON.stringify(run.metrics.writesByResource())}`);
    } finally {
      await run.stop();
    }
  });

  it('API server restarted mid-run: watches recover and no app is left behind', async () => {
    const { cp, c } = suite;
    const ns = uniqueName('restart');
    await ensureNamespace(c, ns, true);
    await createService(c, ns, 'web', 8080);
    const run = await startOperator(cp, { WATCH_NAMESPACES: ns });
    try {
      const names: string[] = [];
      for (let i = 0; i < 15; i++) {
        names.push(`a${i}`);
        await applyApp(c, ns, `a${i}`, { hostname: `a${i}.${ns}.example.test`, service: { name: 'web', port: 8080 }, routing: { tls: { enabled: false } } });
      }
      // restart while those are being reconciled
      await cp.restartApiServer();
      // changes right after the restart: new apps, a deletion
      for (let i = 15; i < 25; i++) {
        names.push(`a${i}`);
        await applyApp(c, ns, `a${i}`, { hostname: `a${i}.${ns}.example.test`, service: { name: 'web', port: 8080 }, routing: { tls: { enabled: false } } });
      }
      await deleteApp(c, ns, 'a0');
      names.shift();
      // the operator's part: every app Ready, or its route written and the app waiting for the gateway controller
      let last = { behind: [] as string[], waiting: [] as string[] };
      try {
        await eventually('every app reconciled after the restart', async () => (last = await notReady(c, ns, names)).behind.length === 0, 90_000, 250);
      } catch (err) {
        throw new Error(`${(err as Error).message}; left behind: ${last.behind.join(', ')}`);
      }
      // Envoy Gateway sometimes never writes the status of routes created under watch churn (here: around the API
      // server restart) until it is restarted (envoyproxy/gateway#6898, #9536; its maintainers' workaround is a
      // restart). Only when routes are still without status after it has been quiet for 10 s is it restarted, as
      // they say; either way every app must then be Ready: an app whose route status the operator missed (the
      // gateway writes no status that is already there) still fails the test.
      const unreported = await unreportedWhenQuiet(c, ns, names, 10_000, 60_000);
      if (unreported.length > 0) {
        console.log(`      Envoy Gateway left ${unreported.length} of ${names.length} routes without status (envoyproxy/gateway#6898, #9536): restarting it (${unreported.join(', ')})`);
        await (await sharedGatewayControllers()).restartEnvoyGateway();
      }
      await eventually('every app Ready', () => allReady(c, ns, names), 90_000, 250).catch(async (err: Error) => {
        throw new Error(`${err.message}; not Ready: ${JSON.stringify(await notReady(c, ns, names))}`);
      });
      // a0 needs no finalizer (HTTP only, backend beside it): the garbage collector takes its route
      await eventually('deleted app gone, its route removed', async () => !(await getApp(c, ns, 'a0')) && !(await exists(c, HTTPROUTE_RT, ns, childNames(ns, 'a0').mainRoute)), 60_000);
      const stats = run.op.informerStats();
      const restarted = Object.values(stats).some((s) => s.watches > 1);
      assert.ok(restarted, `watches were re-established: ${JSON.stringify(stats)}`);
      assert.ok(run.op.ready(), 'operator ready again');
    } finally {
      await run.stop();
    }
  });
});
