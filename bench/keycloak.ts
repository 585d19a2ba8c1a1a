// Benchmark: 100 NebariApps with auth provisioned by KeycloakProvisioner.ensureClients against a real Keycloak
// (test/harness/keycloak.ts, started privately here and stopped at the end). Prints wall time and Admin API calls per
// app for the first provisioning, a steady-state re-provisioning (nothing to change), the hash check the reconciler
// uses to skip Keycloak entirely, and removal.
//
//   npx tsx bench/keycloak.ts [apps=100] [concurrency=4]
//
// With `operator` as first argument it measures the whole path instead: the operator (real reconciler) on a real
// control plane with the real Keycloak, 100 NebariApps applied at once until every one has AuthReady=True, then
// an idle period (Keycloak calls and Kubernetes writes while nothing changes), then deletion.
//
//   npx tsx bench/keycloak.ts operator [apps=100]
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import KcAdminClient from '@keycloak/keycloak-admin-client';
import type { NebariApp } from '../operator/src/api/types.js';
import { KeycloakProvisioner, type RawSecret } from '../operator/src/keycloak/index.js';
import { startKeycloak } from '../test/harness/keycloak.js';

const OPERATOR_MODE = process.argv[2] === 'operator';
const ARGS = OPERATOR_MODE ? process.argv.slice(3) : process.argv.slice(2);
const APPS = Number(ARGS[0] ?? 100);
const CONCURRENCY = Number(ARGS[1] ?? 4);

function appN(i: number): NebariApp {
  return {
    apiVersion: 'reconcilers.nebari.dev/v1',
    kind: 'NebariApp',
    metadata: { namespace: `team-${i % 10}`, name: `app-${i}`, uid: `uid-${i}` },
    spec: {
      hostname: `app-${i}.team-${i % 10}.example.test`,
      service: { name: `app-${i}`, port: 8080 },
      auth: {
        enabled: true,
        scopes: i % 2 === 0 ? ['openid', 'profile', 'email', 'groups'] : ['openid', 'profile', 'email'],
        groups: [`group-${i % 10}`],
        ...(i % 5 === 0 ? { spaClient: { enabled: true } } : {}),
        ...(i % 20 === 0 ? { tokenExchange: { enabled: true } } : {}),
      },
    },
  };
}

async function pool<T>(items: T[], n: number, fn: (x: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

async function phase(name: string, p: KeycloakProvisioner, run: () => Promise<void>): Promise<void> {
  const calls0 = p.apiCalls;
  const t0 = performance.now();
  await run();
  const ms = performance.now() - t0;
  const calls = p.apiCalls - calls0;
  console.log(
    `${name.padEnd(34)} wall ${(ms / 1000).toFixed(2).padStart(7)} s   ${(ms / APPS).toFixed(1).padStart(7)} ms/app   ` +
      `Admin API calls ${String(calls).padStart(5)}  (${(calls / APPS).toFixed(2)} per app)`,
  );
}

async function main(): Promise<void> {
  const t0 = performance.now();
  const kc = await startKeycloak();
  console.log(`Keycloak ${kc.baseUrl} ready in ${((performance.now() - t0) / 1000).toFixed(1)} s (server start ${kc.lastStartSeconds.toFixed(1)} s)`);
  try {
    const realm = `bench-${randomBytes(3).toString('hex')}`;
    const admin = new KcAdminClient({ baseUrl: kc.baseUrl, realmName: 'master' });
    await admin.auth({ grantType: 'password', clientId: 'admin-cli', username: kc.adminUsername, password: kc.adminPassword });
    await admin.realms.create({ realm, enabled: true });
    const secret: RawSecret = { metadata: { resourceVersion: '1' }, stringData: { username: kc.adminUsername, password: kc.adminPassword } };
    const p = new KeycloakProvisioner({ url: kc.baseUrl, realm, adminSecret: { namespace: 'bench', name: 'admin' }, readSecret: async () => secret });
    const apps = Array.from({ length: APPS }, (_, i) => appN(i));
    console.log(`${APPS} apps (10 namespaces, 10 groups, half with the groups scope, 20% with a SPA client, 5% token-exchange targets), concurrency ${CONCURRENCY}`);

    await phase('first provisioning (ensureClients)', p, () => pool(apps, CONCURRENCY, (a) => p.ensureClients(a)));
    const byOp = [...p.calls.entries()].sort((a, b) => b[1] - a[1]).map(([op, n]) => `${op}=${n}`).join(' ');
    console.log(`  calls by operation: ${byOp}`);
    await phase('steady state (ensureClients again)', p, () => pool(apps, CONCURRENCY, (a) => p.ensureClients(a)));
    const hashes = new Map<string, string>();
    await phase('hash check (reconciler skip path)', p, async () => {
      for (const a of apps) hashes.set(a.metadata.name, p.configHash(a));
    });
    await phase('removal (removeClients)', p, () => pool(apps, CONCURRENCY, (a) => p.removeClients(a)));
    await admin.auth({ grantType: 'password', clientId: 'admin-cli', username: kc.adminUsername, password: kc.adminPassword });
    const left = (await admin.clients.find({ realm })).filter((c) => c.attributes?.['nebari.dev/owner']).length;
    console.log(`clients left in the realm after removal: ${left}`);
  } finally {
    await kc.dispose();
  }
}

async function operatorMain(): Promise<void> {
  const { startControlPlane } = await import('../test/harness/control-plane.js');
  const h = await import('../test/integration/operator/helpers.js');
  const { Operator } = await import('../operator/src/reconciler-controller.js');
  const { NEBARIAPP, SECRET } = await import('../operator/src/reconciler-resources.js');
  const { OperatorMetrics } = await import('../operator/src/runtime/metrics.js');
  const { silentLogger } = await import('../operator/src/runtime/logger.js');
  const { createKeycloakAuthProvisioner } = await import('../operator/src/keycloak/index.js');
  const t0 = performance.now();
  const [cp, kc] = await Promise.all([startControlPlane(), startKeycloak()]);
  console.log(`control plane + Keycloak ready in ${((performance.now() - t0) / 1000).toFixed(1)} s (Keycloak server start ${kc.lastStartSeconds.toFixed(1)} s)`);
  let op: InstanceType<typeof Operator> | undefined;
  try {
    const realm = `bench-${randomBytes(3).toString('hex')}`;
    const admin = new KcAdminClient({ baseUrl: kc.baseUrl, realmName: 'master' });
    await admin.auth({ grantType: 'password', clientId: 'admin-cli', username: kc.adminUsername, password: kc.adminPassword });
    await admin.realms.create({ realm, enabled: true });
    const c = h.adminClient(cp);
    await h.ensureGateways(c);
    await h.ensureNamespace(c, 'bench-operator', false);
    await h.createSecret(c, 'bench-operator', 'keycloak-admin', { username: kc.adminUsername, password: kc.adminPassword });
    const namespaces = Array.from({ length: 10 }, (_, i) => `team-${i}`);
    for (const ns of namespaces) await h.ensureNamespace(c, ns, true);
    const apps = Array.from({ length: APPS }, (_, i) => appN(i));
    for (const a of apps) await h.createService(c, a.metadata.namespace, a.metadata.name);
    const auth = createKeycloakAuthProvisioner(
      { url: kc.baseUrl, realm, adminSecret: { namespace: 'bench-operator', name: 'keycloak-admin' } },
      `${kc.baseUrl}/realms/${realm}`,
      async (ref) => (await c.get(SECRET, ref.namespace, ref.name)) as RawSecret | undefined,
    );
    const metrics = new OperatorMetrics();
    const settings = h.testSettings({ OIDC_ISSUER_URL: `${kc.baseUrl}/realms/${realm}`, POD_NAMESPACE: 'bench-operator' });
    op = new Operator({ settings, kubeConfig: cp.kubeConfig(), metrics, log: silentLogger, provisioner: auth, serveHttp: false });
    await op.start();
    console.log(`${APPS} NebariApps with auth (no routing), applied at once; waiting for AuthReady=True on all`);
    const t1 = performance.now();
    await Promise.all(apps.map((a) => h.applyApp(c, a.metadata.namespace, a.metadata.name, a.spec as never)));
    await h.eventually(
      'all apps AuthReady',
      async () => {
        let ready = 0;
        for (const a of apps) {
          const got = await h.getApp(c, a.metadata.namespace, a.metadata.name);
          if (h.condition(got, 'AuthReady')?.status === 'True' && got?.status?.authConfigHash) ready++;
        }
        return ready === apps.length;
      },
      600_000,
      1000,
    );
    const ms = performance.now() - t1;
    console.log(
      `all AuthReady                      wall ${(ms / 1000).toFixed(2).padStart(7)} s   Keycloak Admin API calls ${auth.keycloak.apiCalls} (${(auth.keycloak.apiCalls / APPS).toFixed(2)} per app), provisioned ${auth.provisioned}, skipped ${auth.skipped}`,
    );
    const calls0 = auth.keycloak.apiCalls;
    const writes0 = metrics.writesByResource(['leases', 'events']);
    await new Promise((r) => setTimeout(r, 15_000));
    const writes1 = metrics.writesByResource(['leases', 'events']);
    const idleWrites = Object.keys(writes1).reduce((n, k) => n + (writes1[k]! - (writes0[k] ?? 0)), 0);
    console.log(`idle 15 s                          Keycloak Admin API calls ${auth.keycloak.apiCalls - calls0}, Kubernetes writes ${idleWrites}`);
    const t2 = performance.now();
    const calls2 = auth.keycloak.apiCalls;
    await Promise.all(apps.map((a) => c.delete(NEBARIAPP, a.metadata.namespace, a.metadata.name)));
    await h.eventually(
      'all apps gone',
      async () => {
        for (const a of apps) if (await h.getApp(c, a.metadata.namespace, a.metadata.name)) return false;
        return true;
      },
      600_000,
      1000,
    );
    console.log(
      `deletion (finalizer removes clients) wall ${((performance.now() - t2) / 1000).toFixed(2).padStart(5)} s   Keycloak Admin API calls ${auth.keycloak.apiCalls - calls2} (${((auth.keycloak.apiCalls - calls2) / APPS).toFixed(2)} per app)`,
    );
    await admin.auth({ grantType: 'password', clientId: 'admin-cli', username: kc.adminUsername, password: kc.adminPassword });
    const left = (await admin.clients.find({ realm })).filter((x) => x.attributes?.['nebari.dev/owner']).length;
    console.log(`clients left in the realm after deletion: ${left}`);
  } finally {
    await op?.stop();
    await cp.stop();
    await kc.dispose();
  }
}

(OPERATOR_MODE ? operatorMain() : main()).catch((err) => {
  console.error(err);
  process.exit(1);
});
