// The platform's core, running on this machine: a real Kubernetes control plane (the test harness's etcd +
// kube-apiserver + kube-controller-manager, with the upstream CRDs), the NebariApp operator (bundled, as shipped)
// and the landing page service (bundled, as shipped). Sample packs are declared as NebariApps; the operator turns
// them into routes, ListenerSets, Certificates and status; the landing page shows them.
//
//   npm run demo              run, print what happened, save a screenshot, tear everything down
//   npm run demo -- --serve   keep running until Ctrl-C and print the landing page URL
//
// Stand-ins (named, since they cannot run here): cert-manager's controller (the demo marks each Certificate
// Ready, as cert-manager would after issuing) and Envoy Gateway's data plane (routes are created and accepted by
// the API server, but no proxy serves them on this machine). AWS and Hetzner are not reached: `pulumi up` of a
// cloud stack is documented in README.md.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { freePort, startControlPlane, type ControlPlane } from '../test/harness/control-plane.js';
import { repoRoot } from '../test/harness/upstream.js';
import { buildServer, buildWeb } from '../packs/landing/build.js';
import { CHROMIUM_PATH, launchChromium } from '../test/harness/browser.js';

const serve = process.argv.includes('--serve');
const NS = 'demo-packs';
const GATEWAY_NS = 'envoy-gateway-system';

interface SampleApp {
  name: string;
  port: number;
  spec: Record<string, unknown>;
}

/** Sample packs as their authors would declare them (the NebariApp contract, ../shared/NEBARIAPP.md). */
const SAMPLES: SampleApp[] = [
  {
    name: 'jupyterhub',
    port: 8000,
    spec: {
      hostname: 'jupyter.demo.localtest.me',
      service: { name: 'jupyterhub', port: 8000 },
      routing: { routes: [{ pathPrefix: '/' }] },
      landingPage: { enabled: true, displayName: 'JupyterHub', description: 'Notebooks for data science', icon: 'jupyter', category: 'Data Science', priority: 10 },
    },
  },
  {
    name: 'grafana',
    port: 3000,
    spec: {
      hostname: 'grafana.demo.localtest.me',
      service: { name: 'grafana', port: 3000 },
      routing: {},
      landingPage: { enabled: true, displayName: 'Grafana', description: 'Dashboards and metrics', icon: 'grafana', category: 'Monitoring', priority: 20 },
    },
  },
  {
    name: 'prometheus',
    port: 9090,
    spec: {
      hostname: 'prometheus.demo.localtest.me',
      service: { name: 'prometheus', port: 9090 },
      gateway: 'internal',
      routing: { tls: { enabled: false } },
      landingPage: { enabled: true, displayName: 'Prometheus', description: 'Metrics queries', icon: 'prometheus', category: 'Monitoring', priority: 30 },
    },
  },
  {
    name: 'chat',
    port: 8080,
    spec: {
      hostname: 'chat.demo.localtest.me',
      service: { name: 'chat', port: 8080 },
      routing: {},
      landingPage: { enabled: true, displayName: 'Chat assistant', description: 'An LLM chat for everyone', category: 'AI', priority: 5 },
    },
  },
];

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function log(msg: string): void {
  process.stdout.write(`[demo] ${msg}\n`);
}

function startChild(name: string, args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const chunks: string[] = [];
  child.stdout!.on('data', (d: Buffer) => chunks.push(d.toString()));
  child.stderr!.on('data', (d: Buffer) => chunks.push(d.toString()));
  child.once('exit', (code, sig) => {
    if (code !== 0 && sig === null) {
      process.stderr.write(`[demo] ${name} exited with ${code}; its last output:\n${chunks.join('').split('\n').slice(-20).join('\n')}\n`);
    }
  });
  return child;
}

async function applyGateways(cp: ControlPlane): Promise<void> {
  const kc = cp.kubeConfig();
  const core = kc.makeApiClient(CoreV1Api);
  const co = kc.makeApiClient(CustomObjectsApi);
  await core.createNamespace({ body: { metadata: { name: GATEWAY_NS } } });
  // The platform's own Gateway manifests (GitOps-owned; the operator never edits them).
  const file = join(repoRoot, 'components/foundation/manifests/gateway/gateways.yaml');
  for (const doc of parseAllDocuments(readFileSync(file, 'utf8'))) {
    const obj = doc.toJS() as { kind: string; metadata: { namespace?: string }; spec: { infrastructure?: unknown } } | null;
    if (obj?.kind !== 'Gateway') continue;
    delete obj.spec.infrastructure; // EnvoyProxy parameters belong to the real data plane
    await co.createNamespacedCustomObject({ group: 'gateway.networking.k8s.io', version: 'v1', namespace: obj.metadata.namespace ?? GATEWAY_NS, plural: 'gateways', body: obj });
  }
}

async function declarePacks(cp: ControlPlane): Promise<void> {
  const kc = cp.kubeConfig();
  const core = kc.makeApiClient(CoreV1Api);
  const co = kc.makeApiClient(CustomObjectsApi);
  await core.createNamespace({ body: { metadata: { name: NS, labels: { 'nebari.dev/managed': 'true' } } } });
  for (const app of SAMPLES) {
    await core.createNamespacedService({
      namespace: NS,
      body: { metadata: { name: app.name }, spec: { selector: { app: app.name }, ports: [{ name: 'http', port: app.port }] } },
    });
    await co.createNamespacedCustomObject({
      group: 'reconcilers.nebari.dev',
      version: 'v1',
      namespace: NS,
      plural: 'nebariapps',
      body: { apiVersion: 'reconcilers.nebari.dev/v1', kind: 'NebariApp', metadata: { name: app.name }, spec: app.spec },
    });
  }
}

interface Cond {
  type: string;
  status: string;
  reason?: string;
}

/** Stand-in for cert-manager's controller: marks each Certificate Ready, as cert-manager would after issuing. */
async function issueCertificates(cp: ControlPlane): Promise<number> {
  const co = cp.kubeConfig().makeApiClient(CustomObjectsApi);
  const list = (await co.listNamespacedCustomObject({ group: 'cert-manager.io', version: 'v1', namespace: NS, plural: 'certificates' })) as {
    items: Array<{ metadata: { name: string }; status?: { conditions?: Cond[] } }>;
  };
  let issued = 0;
  for (const cert of list.items) {
    if (cert.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) continue;
    await co.patchNamespacedCustomObjectStatus({
      group: 'cert-manager.io',
      version: 'v1',
      namespace: NS,
      plural: 'certificates',
      name: cert.metadata.name,
      // A JSON patch (the client's default patch type).
      body: [{ op: 'add', path: '/status', value: { conditions: [{ type: 'Ready', status: 'True', reason: 'Ready', message: 'issued (demo stand-in for cert-manager)', lastTransitionTime: new Date().toISOString() }] } }],
    });
    issued++;
  }
  return issued;
}

async function appStatuses(cp: ControlPlane): Promise<Array<{ name: string; conditions: Cond[]; url?: string }>> {
  const co = cp.kubeConfig().makeApiClient(CustomObjectsApi);
  const list = (await co.listNamespacedCustomObject({ group: 'reconcilers.nebari.dev', version: 'v1', namespace: NS, plural: 'nebariapps' })) as {
    items: Array<{ metadata: { name: string }; status?: { conditions?: Cond[]; serviceDiscovery?: { url?: string } } }>;
  };
  return list.items.map((a) => ({ name: a.metadata.name, conditions: a.status?.conditions ?? [], url: a.status?.serviceDiscovery?.url }));
}

async function screenshot(url: string, file: string): Promise<boolean> {
  if (!existsSync(CHROMIUM_PATH)) return false;
  const launched = await launchChromium();
  try {
    const page = await launched.browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(url);
    await page.waitForFunction((n) => document.querySelectorAll('#groups a.card').length >= n, SAMPLES.length, { timeout: 20_000 });
    await page.screenshot({ path: file, fullPage: true });
    return true;
  } finally {
    await launched.close();
  }
}

async function main(): Promise<void> {
  const t0 = Date.now();
  const work = mkdtempSync(join(tmpdir(), 'nkp-demo-'));
  const children: ChildProcess[] = [];
  let cp: ControlPlane | undefined;
  const cleanup = async (): Promise<void> => {
    for (const c of children) c.kill('SIGTERM');
    await sleep(500);
    await cp?.stop();
    rmSync(work, { recursive: true, force: true });
  };
  process.once('SIGINT', () => void cleanup().then(() => process.exit(130)));
  try {
    log('starting the control plane (etcd, kube-apiserver, kube-controller-manager) with the platform CRDs ...');
    cp = await startControlPlane();
    log(`control plane ready at ${cp.server} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);

    log('bundling the operator and the landing page as they ship ...');
    execFileSync(process.execPath, [join(repoRoot, 'operator/build.mjs')], { stdio: 'ignore' });
    const web = await buildWeb(join(work, 'landing', 'web'));
    const server = await buildServer(join(work, 'landing', 'server.mjs'));

    await applyGateways(cp);
    const opMetrics = await freePort();
    children.push(
      startChild('operator', [join(repoRoot, 'operator/dist/operator.js')], {
        KUBECONFIG: cp.kubeconfigPath,
        LEADER_ELECTION: 'false',
        METRICS_ADDRESS: `127.0.0.1:${opMetrics}`,
        CLUSTER_ISSUER: 'selfsigned-ca',
        OIDC_ISSUER_URL: 'https://keycloak.demo.localtest.me/realms/nkp',
        LOG_LEVEL: 'warn',
      }),
    );
    const landingPort = await freePort();
    const landingMetrics = await freePort();
    children.push(
      startChild('landing', [server], {
        KUBECONFIG: cp.kubeconfigPath,
        HOST: '127.0.0.1',
        PORT: String(landingPort),
        METRICS_PORT: String(landingMetrics),
        STATIC_DIR: web,
        LOG_LEVEL: 'warn',
      }),
    );

    log(`declaring ${SAMPLES.length} sample packs (Services + NebariApps) in namespace ${NS} ...`);
    const tDeclare = Date.now();
    await declarePacks(cp);

    let ready: Awaited<ReturnType<typeof appStatuses>> = [];
    for (let i = 0; i < 120; i++) {
      await issueCertificates(cp);
      ready = await appStatuses(cp);
      if (ready.length === SAMPLES.length && ready.every((a) => a.conditions.some((c) => c.type === 'Ready' && c.status === 'True'))) break;
      await sleep(500);
    }
    log(`operator reconciled the packs in ${((Date.now() - tDeclare) / 1000).toFixed(1)} s:`);
    for (const a of ready) {
      const conds = a.conditions.map((c) => `${c.type}=${c.status}${c.status === 'True' ? '' : `(${c.reason})`}`).join(' ');
      log(`  ${a.name.padEnd(11)} ${conds}  ${a.url ?? ''}`);
    }
    const co = cp.kubeConfig().makeApiClient(CustomObjectsApi);
    for (const [plural, group, version] of [['httproutes', 'gateway.networking.k8s.io', 'v1'], ['listenersets', 'gateway.networking.k8s.io', 'v1'], ['certificates', 'cert-manager.io', 'v1']] as const) {
      const l = (await co.listNamespacedCustomObject({ group, version, namespace: NS, plural })) as { items: unknown[] };
      log(`  ${l.items.length} ${plural}.${group}`);
    }

    const base = `http://127.0.0.1:${landingPort}`;
    let cards: Array<{ name: string; category?: string; url: string }> = [];
    for (let i = 0; i < 40; i++) {
      try {
        const res = await fetch(`${base}/api/apps`);
        const body = (await res.json()) as { groups: Array<{ apps: typeof cards }> };
        cards = body.groups.flatMap((g) => g.apps);
        if (cards.length >= SAMPLES.length) break;
      } catch {
        /* not listening yet */
      }
      await sleep(250);
    }
    log(`landing page ${base} lists ${cards.length} cards for an anonymous user:`);
    for (const c of cards) log(`  [${c.category ?? 'Other'}] ${c.name} -> ${c.url}`);

    const outDir = join(repoRoot, 'test-results', 'demo');
    mkdirSync(outDir, { recursive: true });
    const shot = join(outDir, 'landing.png');
    if (await screenshot(base, shot)) log(`screenshot of the landing page: ${shot}`);

    const ok = ready.length === SAMPLES.length && ready.every((a) => a.conditions.some((c) => c.type === 'Ready' && c.status === 'True')) && cards.length === SAMPLES.length;
    if (serve) {
      log(`serving: open ${base} (Ctrl-C stops everything)`);
      await new Promise(() => undefined);
    }
    log(ok ? `done in ${((Date.now() - t0) / 1000).toFixed(1)} s` : 'FAILED: not every pack became Ready and visible');
    await cleanup();
    process.exit(ok ? 0 : 1);
  } catch (err) {
    process.stderr.write(`[demo] ${(err as Error).stack ?? String(err)}\n`);
    await cleanup();
    process.exit(1);
  }
}

await main();
