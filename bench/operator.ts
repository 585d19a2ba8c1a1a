// Benchmark: N NebariApps (default 1000) created at once against a private real control plane, reconciled by the
// bundled operator (operator/dist/operator.js, a child process, leader election on) until all are Ready. Prints
// wall time, the operator's API requests by verb, its peak memory (VmHWM), then its writes during an idle window.
// Real Envoy Gateway and cert-manager controllers run beside it (test/harness/gateway-controllers.ts): Ready means
// the routes were Accepted and each Certificate was issued by cert-manager from a CA ClusterIssuer.
//
// The operator runs with the image's Node flags (operator/src/node-flags.ts, the Dockerfile's ENTRYPOINT) unless
// --node-flags overrides them (comma-separated, empty for none); --heap-snapshot writes a V8 heap snapshot of the
// operator at all-Ready into the working directory, --cpu-prof a V8 CPU profile of the whole run (for profiling).
//
// Where the time goes: besides all-Ready it prints when every app's status said its route was written (the
// operator's part) and when Envoy Gateway had accepted every route (its part; RoutingReady follows it).
// --envoy-gateway=false runs without Envoy Gateway (cert-manager only) and stops at "every route written": the
// operator's own speed with the gateway controller's load off the machine, never an all-Ready figure.
// --eg-qps/--eg-burst set Envoy Gateway's Kubernetes client rate limit (default: its own, 50 QPS, burst 100).
// --routing=false creates the apps without `spec.routing` (no routes, TLS counts as disabled): the issue's side-by-side
// measurement against the Go operator ("routing and TLS off"); all-Ready then needs no gateway controller.
//
//   npx tsx bench/operator.ts [--apps=1000] [--namespaces=10] [--idle-seconds=300] [--tls=true] [--concurrency=16]
//                             [--node-flags=--max-semi-space-size=1,...] [--heap-snapshot] [--cpu-prof]
//                             [--envoy-gateway=true] [--eg-qps=50 --eg-burst=100] [--routing=true]
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { freePort, startControlPlane } from '../test/harness/control-plane.js';
import { API_VERSION, KIND } from '../operator/src/api/types.js';
import { NEBARIAPP } from '../operator/src/reconciler-resources.js';
import { MANAGED_BY_LABEL, MANAGED_BY_VALUE } from '../operator/src/api/types.js';
import { Informer, kubeListWatcher } from '../operator/src/runtime/informer.js';
import { KubeClient, type KubeObject } from '../operator/src/runtime/kube.js';
import { OPERATOR_NODE_ENV, OPERATOR_NODE_FLAGS } from '../operator/src/node-flags.js';
import { silentLogger } from '../operator/src/runtime/logger.js';
import { GW_NAMESPACE, HTTPROUTE_RT, createService, ensureGateways, ensureNamespace, testEnv } from '../test/integration/operator/helpers.js';
import { startGatewayControllers } from '../test/harness/gateway-controllers.js';

function arg(name: string, def: string): string {
  const a = process.argv.find((x) => x.startsWith(`--${name}=`));
  return a ? a.slice(name.length + 3) : def;
}
function intArg(name: string, def: number, min: number, max: number): number {
  const v = arg(name, String(def));
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`--${name}: "${v}" must be an integer from ${min} to ${max}`);
  return n;
}
const APPS = intArg('apps', 1000, 1, 100_000);
const NAMESPACES = intArg('namespaces', 10, 1, 1000);
const IDLE_SECONDS = intArg('idle-seconds', 300, 0, 86_400);
const CONCURRENCY = intArg('concurrency', 16, 1, 256);
const ROUTING = arg('routing', 'true') === 'true';
const TLS = ROUTING && arg('tls', 'true') === 'true';
const NODE_FLAGS_ARG = process.argv.find((x) => x.startsWith('--node-flags='));
const NODE_FLAGS = NODE_FLAGS_ARG === undefined ? [...OPERATOR_NODE_FLAGS] : NODE_FLAGS_ARG.slice('--node-flags='.length).split(',').filter(Boolean);
const HEAP_SNAPSHOT = process.argv.includes('--heap-snapshot');
const CPU_PROF = process.argv.includes('--cpu-prof');
const ENVOY_GATEWAY = arg('envoy-gateway', 'true') === 'true';
// all-Ready, except with routes and no gateway controller to accept them: then every route written
const ALL_READY = ENVOY_GATEWAY || !ROUTING;
const EG_QPS = intArg('eg-qps', 0, 0, 100_000);
const EG_BURST = intArg('eg-burst', 0, 0, 100_000);
if ((EG_QPS === 0) !== (EG_BURST === 0)) throw new Error('--eg-qps and --eg-burst go together');

const repo = join(import.meta.dirname, '..');
const bundle = join(repo, 'operator', 'dist', 'operator.js');

async function pool<T>(items: T[], parallel: number, fn: (t: T) => Promise<void>): Promise<void> {
  let i = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (i < items.length) await fn(items[i++]!);
    }),
  );
}

interface Sample {
  requests: Map<string, number>; // verb -> n
  writes: Map<string, number>; // resource -> n
  reconciles: number;
}
async function scrape(port: number): Promise<Sample> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const requests = new Map<string, number>();
  const writes = new Map<string, number>();
  let reconciles = 0;
  for (const line of text.split('\n')) {
    let m = /^nebari_operator_api_requests_total\{verb="([^"]+)",resource="([^"]+)",code="([^"]+)"\} (\d+)/.exec(line);
    if (m) requests.set(m[1]!, (requests.get(m[1]!) ?? 0) + Number(m[4]));
    m = /^nebari_operator_api_writes_total\{verb="([^"]+)",resource="([^"]+)"\} (\d+)/.exec(line);
    // keyed by resource, a subresource apart (`apply/status` on nebariapps -> nebariapps/status)
    const key = m ? (m[1]!.includes('/') ? `${m[2]}/${m[1]!.split('/')[1]}` : m[2]!) : '';
    if (m) writes.set(key, (writes.get(key) ?? 0) + Number(m[3]));
    m = /^nebari_operator_reconciles_total\{result="[^"]+"\} (\d+)/.exec(line);
    if (m) reconciles += Number(m[1]);
  }
  return { requests, writes, reconciles };
}
/** CPU seconds (user + system) the process has used so far. */
function cpuSeconds(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
}
/** The process and every descendant still running (from /proc: Envoy Gateway runs below unshare, sh and chroot). */
function withDescendants(roots: number[]): number[] {
  const parent = new Map<number, number>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const f = readFileSync(`/proc/${d}/stat`, 'utf8');
      parent.set(Number(d), Number(f.slice(f.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      /* gone */
    }
  }
  const out = new Set(roots);
  for (let grew = true; grew; ) {
    grew = false;
    for (const [pid, pp] of parent) {
      if (out.has(pp) && !out.has(pid)) {
        out.add(pid);
        grew = true;
      }
    }
  }
  return [...out];
}
/** CPU seconds used so far by these processes (those that ended meanwhile are left out: none should). */
function cpuOf(pids: number[]): number {
  let n = 0;
  for (const p of pids) {
    try {
      n += cpuSeconds(p);
    } catch {
      /* gone */
    }
  }
  return n;
}
function vmHWM(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}
const sum = (m: Map<string, number>, skip: string[] = []) => [...m].filter(([k]) => !skip.includes(k)).reduce((n, [, v]) => n + v, 0);

console.log(
  `bench/operator: ${APPS} NebariApps in ${NAMESPACES} namespaces, ${ROUTING ? '' : 'routing off, '}TLS ${TLS ? 'on' : 'off'} (real ${ENVOY_GATEWAY ? 'Envoy Gateway and ' : ''}cert-manager${ENVOY_GATEWAY || !ROUTING ? '' : '; NO gateway controller: stops when every route is written'}), operator concurrency ${CONCURRENCY}, idle window ${IDLE_SECONDS} s`,
);
if (ENVOY_GATEWAY) console.log(`Envoy Gateway's Kubernetes client rate limit: ${EG_QPS ? `${EG_QPS} QPS, burst ${EG_BURST}` : 'its default (50 QPS, burst 100)'}`);
console.log(`operator node flags: ${NODE_FLAGS.join(' ') || '(none)'}${NODE_FLAGS_ARG === undefined ? ` with ${Object.entries(OPERATOR_NODE_ENV).map(([k, v]) => `${k}=${v}`).join(' ')}` : ''}; load average at start: ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
execFileSync(process.execPath, [join(repo, 'operator', 'build.mjs')], { stdio: 'inherit' });
const cp = await startControlPlane();
// the real controllers: RoutingReady follows Envoy Gateway's route status, TLSReady cert-manager's issuance
const controllers = await startGatewayControllers({
  kubeconfigPath: cp.kubeconfigPath,
  envoyGateway: ENVOY_GATEWAY,
  ...(EG_QPS ? { envoyGatewayClientRateLimit: { qps: EG_QPS, burst: EG_BURST } } : {}),
});
const c = new KubeClient(cp.kubeConfig());
const port = await freePort();
const child = spawn(process.execPath, [...NODE_FLAGS, ...(HEAP_SNAPSHOT ? ['--heapsnapshot-signal=SIGUSR2'] : []), ...(CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.cwd()}`] : []), bundle], {
  env: {
    ...process.env,
    ...(NODE_FLAGS_ARG === undefined ? OPERATOR_NODE_ENV : {}),
    ...testEnv({
      KUBECONFIG: cp.kubeconfigPath,
      LEADER_ELECTION: 'true',
      POD_NAMESPACE: GW_NAMESPACE,
      POD_NAME: 'bench-operator',
      METRICS_ADDRESS: `127.0.0.1:${port}`,
      CONCURRENCY: String(CONCURRENCY),
      LOG_LEVEL: 'warn',
    }),
  },
  stdio: ['ignore', 'ignore', 'inherit'],
});
const stopAll = async () => {
  if (child.exitCode === null) {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
  await c.close();
  await controllers.stop();
  await cp.stop();
};
process.once('SIGINT', () => void stopAll().then(() => process.exit(130)));

try {
  await ensureGateways(c, { controllers: false });
  const namespaces = Array.from({ length: NAMESPACES }, (_, i) => `bench-${i}`);
  for (const ns of namespaces) {
    await ensureNamespace(c, ns, true);
    await createService(c, ns, 'web', 8080);
  }
  for (;;) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200 && /nebari_operator_leader 1/.test(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text())) break;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 200));
  }

  // readiness counter on a watch (this process's own client)
  const ready = new Set<string>();
  // the operator's own part: every app's status for its generation says its route is written (Reconciling: waiting
  // for the gateway controller) or already accepted; the rest of all-Ready is Envoy Gateway accepting the routes
  const written = new Set<string>();
  let allWrittenAt: number | undefined;
  const apps = new Informer<KubeObject>({ name: 'bench-apps', listWatcher: kubeListWatcher(c, NEBARIAPP), log: silentLogger });
  apps.on((type, o) => {
    const key = `${o.metadata.namespace}/${o.metadata.name}`;
    const st = (o as { status?: { conditions?: { type: string; status: string }[]; observedGeneration?: number } }).status;
    const ok = type !== 'delete' && st?.conditions?.some((x) => x.type === 'Ready' && x.status === 'True') && st.observedGeneration === o.metadata.generation;
    if (ok) ready.add(key);
    else ready.delete(key);
    const routing = (st as { conditions?: { type: string; status: string; reason: string }[] } | undefined)?.conditions?.find((x) => x.type === 'RoutingReady');
    if (type !== 'delete' && st?.observedGeneration === o.metadata.generation && (routing?.status === 'True' || routing?.reason === 'Reconciling')) written.add(key);
    if (allWrittenAt === undefined && written.size >= APPS) allWrittenAt = performance.now();
  });
  // Envoy Gateway's part: every route of the operator's accepted on its parent (what RoutingReady follows)
  const accepted = new Set<string>();
  let allAcceptedAt: number | undefined;
  const routes = new Informer<KubeObject>({ name: 'bench-routes', listWatcher: kubeListWatcher(c, HTTPROUTE_RT, { labelSelector: `${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE}` }), log: silentLogger });
  routes.on((type, o) => {
    const key = `${o.metadata.namespace}/${o.metadata.name}`;
    const parents = (o as { status?: { parents?: { conditions?: { type: string; status: string }[] }[] } }).status?.parents ?? [];
    if (type !== 'delete' && parents.length > 0 && parents.every((p) => p.conditions?.some((x) => x.type === 'Accepted' && x.status === 'True'))) accepted.add(key);
    else accepted.delete(key);
    if (allAcceptedAt === undefined && accepted.size >= APPS) allAcceptedAt = performance.now();
  });
  apps.start();
  routes.start();
  await Promise.all([apps.waitForSync(), routes.waitForSync()]);
  const before = await scrape(port);
  const cpu0 = cpuSeconds(child.pid!);
  // where the machine's CPU goes during the run: the control plane (API server, etcd, ...) and the controllers
  const cpPids = withDescendants(cp.pids());
  const ctlPids = withDescendants(controllers.pids());
  const cpCpu0 = cpuOf(cpPids);
  const ctlCpu0 = cpuOf(ctlPids);
  const benchCpu0 = process.cpuUsage();
  const t0 = performance.now();
  const specs = Array.from({ length: APPS }, (_, i) => ({ ns: namespaces[i % NAMESPACES]!, name: `app-${i}` }));
  await pool(specs, 32, async ({ ns, name }) => {
    await c.create(NEBARIAPP, {
      apiVersion: API_VERSION,
      kind: KIND,
      metadata: { name, namespace: ns },
      spec: {
        hostname: `${name}.${ns}.bench.example.test`,
        service: { name: 'web', port: 8080 },
        ...(ROUTING ? { routing: TLS ? {} : { tls: { enabled: false } } } : {}),
        landingPage: { enabled: true, displayName: name },
      },
    });
  });
  const created = performance.now() - t0;
  let lastPrint = 0;
    const done = () => (ALL_READY ? ready.size : written.size);
  while (done() < APPS) {
    await new Promise((r) => setTimeout(r, 100));
    if (performance.now() - lastPrint > 10_000) {
      lastPrint = performance.now();
      console.log(`  ... ${written.size}/${APPS} routes written, ${accepted.size} accepted, ${ready.size} Ready after ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    }
  }
  const wall = performance.now() - t0;
  const cpu = cpuSeconds(child.pid!) - cpu0;
  const cpCpu = cpuOf(cpPids) - cpCpu0;
  const ctlCpu = cpuOf(ctlPids) - ctlCpu0;
  const benchCpu = process.cpuUsage(benchCpu0);
  const after = await scrape(port);
  const peakMiB = vmHWM(child.pid!);

  console.log('');
  const secs = (t: number | undefined) => (t === undefined ? '?' : ((t - t0) / 1000).toFixed(2));
  if (!ROUTING) {
    console.log(`created ${APPS} NebariApps in ${(created / 1000).toFixed(2)} s; all Ready after ${(wall / 1000).toFixed(2)} s wall time (no routes)`);
  } else if (ENVOY_GATEWAY) {
    console.log(`created ${APPS} NebariApps in ${(created / 1000).toFixed(2)} s; all Ready after ${(wall / 1000).toFixed(2)} s wall time`);
    console.log(`  every route written and reported by the operator after ${secs(allWrittenAt)} s; every route accepted by Envoy Gateway after ${secs(allAcceptedAt)} s; then the operator's last status writes`);
  } else {
    console.log(`created ${APPS} NebariApps in ${(created / 1000).toFixed(2)} s; NO gateway controller: every route written and reported by the operator after ${(wall / 1000).toFixed(2)} s wall time (not an all-Ready figure)`);
  }
  console.log(`reconciles: ${after.reconciles - before.reconciles}; operator CPU time ${cpu.toFixed(1)} s (of ${(wall / 1000).toFixed(1)} s wall on ${cpus().length} cores)`);
  console.log(
    `CPU time of the others in the same window: control plane (kube-apiserver, etcd, kube-controller-manager) ${cpCpu.toFixed(1)} s, ${ENVOY_GATEWAY ? 'Envoy Gateway + ' : ''}cert-manager ${ctlCpu.toFixed(1)} s, this bench process (creates, watch, the harness's forwarding of Envoy Gateway's API traffic) ${((benchCpu.user + benchCpu.system) / 1e6).toFixed(1)} s`,
  );
  const END = ALL_READY ? 'all Ready' : 'all written';
  console.log(`operator API requests by verb (create -> ${END}):`);
  const verbs = [...new Set([...after.requests.keys()])].sort();
  for (const v of verbs) console.log(`  ${v.padEnd(14)} ${String((after.requests.get(v) ?? 0) - (before.requests.get(v) ?? 0)).padStart(8)}`);
  console.log(`  ${'total'.padEnd(14)} ${String(sum(after.requests) - sum(before.requests)).padStart(8)}`);
  console.log(`operator peak memory (VmHWM, whole process): ${peakMiB.toFixed(1)} MiB`);
  // where it goes: the V8 heap in use / reserved at all-Ready, from the operator's own default metrics
  const gauges = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const gauge = (name: string) => Number(new RegExp(`^nebari_operator_${name}(?:\\{[^}]*\\})? (\\S+)`, 'm').exec(gauges)?.[1] ?? NaN) / 2 ** 20;
  console.log(`  at ${END}: resident ${gauge('process_resident_memory_bytes').toFixed(1)} MiB, V8 heap used ${gauge('nodejs_heap_size_used_bytes').toFixed(1)} MiB of ${gauge('nodejs_heap_size_total_bytes').toFixed(1)} MiB reserved`);
  const children = !ROUTING ? 0 : TLS ? 3 : 1; // HTTPRoute (+ Certificate and ListenerSet with TLS); none without routing
  const statusWrites = ((after.writes.get('nebariapps/status') ?? 0) - (before.writes.get('nebariapps/status') ?? 0)) / APPS;
  const allWrites = (sum(after.writes, ['leases']) - sum(before.writes, ['leases'])) / APPS;
  console.log(`writes per app (create -> ${END}): status ${statusWrites.toFixed(2)} (target <= children + 1 = ${children + 1}); all kinds ${allWrites.toFixed(2)} (finalizer where needed, children, status, Events; Lease renewals apart)`);
  console.log(`load average at ${END}: ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  if (HEAP_SNAPSHOT) {
    const had = new Set(readdirSync('.').filter((f) => f.endsWith('.heapsnapshot')));
    child.kill('SIGUSR2');
    for (let i = 0; i < 600 && readdirSync('.').filter((f) => f.endsWith('.heapsnapshot') && !had.has(f)).length === 0; i++) await new Promise((r) => setTimeout(r, 200));
    await new Promise((r) => setTimeout(r, 3000));
    console.log(`heap snapshot: ${readdirSync('.').filter((f) => f.endsWith('.heapsnapshot') && !had.has(f)).join(', ')}`);
  }

  // let the tail of the burst (events of our own last writes) drain before the idle window
  let settledAt = await scrape(port);
  for (;;) {
    await new Promise((r) => setTimeout(r, 2000));
    const s = await scrape(port);
    if (s.reconciles === settledAt.reconciles) break;
    settledAt = s;
  }
  if (IDLE_SECONDS > 0) {
    console.log(`idle window: ${IDLE_SECONDS} s with nothing changing ...`);
    const idle0 = await scrape(port);
    await new Promise((r) => setTimeout(r, IDLE_SECONDS * 1000));
    const idle1 = await scrape(port);
    const w = (m: Map<string, number>, r: string) => m.get(r) ?? 0;
    const writes = sum(idle1.writes, ['leases']) - sum(idle0.writes, ['leases']);
    const leaseRenewals = w(idle1.writes, 'leases') - w(idle0.writes, 'leases');
    console.log(`writes during ${IDLE_SECONDS} s idle: ${writes} (leader Lease renewals, inherent to leader election, counted apart: ${leaseRenewals})`);
    console.log(`reconciles during idle: ${idle1.reconciles - idle0.reconciles}`);
  }
  await apps.stop();
  await routes.stop();
} finally {
  await stopAll();
}
