// Benchmark: 100 NebariApps with auth provisioned by KeycloakProvisioner.ensureClients against a real Keycloak
// (test/harness/keycloak.ts, started privately here and stopped at the end). Prints wall time and Admin API calls per
// app for the first provisioning, a steady-state re-provisioning (nothing to change), the hash check the reconciler
// uses to skip Keycloak entirely, and removal.
//
//   npx tsx bench/keycloak.ts [apps=100] [concurrency=4]
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import KcAdminClient from '@keycloak/keycloak-admin-client';
import type { NebariApp } from '../operator/src/api/types.js';
import { KeycloakProvisioner, type RawSecret } from '../operator/src/keycloak/index.js';
import { startKeycloak } from '../test/harness/keycloak.js';

const APPS = Number(process.argv[2] ?? 100);
const CONCURRENCY = Number(process.argv[3] ?? 4);

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

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
