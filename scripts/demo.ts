// The main job: the platform deployed by the real Pulumi engine onto this machine's embedded cluster, then used.
//  1. The embedded cluster: the harness's real etcd, kube-apiserver, kube-controller-manager and kube-scheduler,
//     with simulated nodes (kwok stands in for the kubelet: pods are scheduled and reported Running/Ready, nothing
//     in them runs) and the upstream CRDs the foundation's charts would install.
//  2. `pulumi up --policy-pack policy/` of the `embedded` stack (stacks/Pulumi.embedded.yaml) with the real CLI,
//     Kubernetes provider and our language host: cluster baseline, Argo CD from its release manifest, AppProjects,
//     the foundation Applications, the local CA; then a second, no-op `pulumi up --expect-no-changes`.
//  3. The NebariApp operator and the landing page (bundled, as shipped; on a real cluster Argo CD delivers them)
//     reconcile sample packs into routes, ListenerSets, Certificates and status; the landing page shows them.
//
//   npm run demo              run, print what happened with timings, save a screenshot, tear everything down
//   npm run demo -- --serve   keep running until Ctrl-C; prints the landing page URL and how to run pulumi yourself
//
//     Envoy Gateway and cert-manager's controllers run as processes beside the cluster: routes, listeners and
//     policies are Accepted by the real gateway controller, certificates issued by real cert-manager from the CA
//     that `pulumi up` generated.
// Stand-ins (named, since they cannot run here): the kubelet (kwok), Argo CD's controllers (its Applications are
// created but nothing syncs them: the demo applies the gateway-config Application's rendered source as Argo CD
// would, and runs the operator and landing page as processes) and Envoy's data plane (no proxy serves traffic).
// AWS and Hetzner are not reached: `pulumi up` of a cloud stack is documented in README.md.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppsV1Api, CoreV1Api, CustomObjectsApi, NetworkingV1Api } from '@kubernetes/client-node';
import { freePort, startControlPlane, type ControlPlane } from '../test/harness/control-plane.js';
import { createPulumiWorkspace, type PulumiWorkspace } from '../test/harness/pulumi.js';
import { startGatewayControllers, type GatewayControllers } from '../test/harness/gateway-controllers.js';
import { KubeApi, describeRejections } from '../test/integration/platform/kube-api.js';
import { renderSource, withDestinationNamespace } from '../test/integration/platform/kustomize.js';
import { EMBEDDED_STACK, initEmbeddedStack, prepareEmbeddedProject, pulumiFailure, type EmbeddedProject } from '../test/harness/embedded.js';
import { repoRoot } from '../test/harness/upstream.js';
import { buildServer, buildWeb } from '../packs/landing/build.js';
import { CHROMIUM_PATH, launchChromium } from '../test/harness/browser.js';

const serve = process.argv.includes('--serve');
const NS = 'demo-packs';

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

const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

/** Step 2: the platform program under the real Pulumi engine, in a project directory beside the repository. */
async function deployPlatform(cp: ControlPlane, work: string): Promise<{ ws: PulumiWorkspace; project: EmbeddedProject }> {
  mkdirSync(join(work, 'state'), { recursive: true });
  const ws = await createPulumiWorkspace({ backendDir: join(work, 'state') });
  const project = prepareEmbeddedProject(join(work, 'project'), cp.kubeconfigPath);
  await initEmbeddedStack(ws, project);
  const run = async (args: string[]) => {
    const r = await ws.run([...args, '--stack', EMBEDDED_STACK, '--non-interactive'], { cwd: project.dir, timeoutMs: 900_000 });
    if (r.code !== 0) throw pulumiFailure(`pulumi ${args.join(' ')}`, r);
    return r;
  };
  log(`pulumi up --policy-pack policy/ (stack ${EMBEDDED_STACK}, project ${project.dir}) ...`);
  const up = await run(['up', '--yes', '--policy-pack', join(repoRoot, 'policy')]);
  const summary = up.stdout.slice(up.stdout.lastIndexOf('Resources:')).split('\n').slice(0, 3).map((l) => l.trim()).filter(Boolean).join(', ');
  log(`  first pulumi up: ${seconds(up.durationMs)} (${summary})`);
  const noop = await run(['up', '--yes', '--expect-no-changes', '--policy-pack', join(repoRoot, 'policy')]);
  log(`  second pulumi up --expect-no-changes: ${seconds(noop.durationMs)} (no changes)`);
  const outputs = JSON.parse((await run(['stack', 'output', '--json'])).stdout) as Record<string, unknown>;
  log('  stack outputs:');
  for (const [k, v] of Object.entries(outputs)) {
    const text = typeof v === 'string' ? v : JSON.stringify(v);
    log(`    ${k.padEnd(24)} ${k === 'localCaCertificate' ? `${text.split('\n')[0]} ... (${text.length} bytes)` : text}`);
  }
  return { ws, project };
}

/** What the platform program built, as the API server sees it. */
async function showPlatform(cp: ControlPlane): Promise<void> {
  const kc = cp.kubeConfig();
  const core = kc.makeApiClient(CoreV1Api);
  const appsApi = kc.makeApiClient(AppsV1Api);
  const net = kc.makeApiClient(NetworkingV1Api);
  const co = kc.makeApiClient(CustomObjectsApi);
  const namespaces = (await core.listNamespace({ labelSelector: 'app.kubernetes.io/part-of=nkp' })).items.map((n) => `${n.metadata!.name}(${n.metadata!.labels?.['pod-security.kubernetes.io/enforce'] ?? '-'})`);
  log(`  ${namespaces.length} platform namespaces with Pod Security levels: ${namespaces.join(' ')}`);
  log(`  ${(await net.listNetworkPolicyForAllNamespaces()).items.length} NetworkPolicies (default-deny + allows per namespace)`);
  const workloads = [...(await appsApi.listNamespacedDeployment({ namespace: 'argocd' })).items, ...(await appsApi.listNamespacedStatefulSet({ namespace: 'argocd' })).items];
  log(`  Argo CD ${workloads.map((w) => `${w.metadata!.name} ${w.status?.readyReplicas ?? 0}/${w.spec?.replicas}`).join(', ')} (pods Ready on the simulated node)`);
  for (const plural of ['appprojects', 'applications']) {
    const l = (await co.listNamespacedCustomObject({ group: 'argoproj.io', version: 'v1alpha1', namespace: 'argocd', plural })) as { items: Array<{ metadata: { name: string } }> };
    log(`  ${l.items.length} ${plural}: ${l.items.map((i) => i.metadata.name).join(', ')}`);
  }
}

/**
 * The gateway configuration as Argo CD would sync it (STAND-IN for Argo CD's sync, which does not run here): the
 * `gateway-config` child of the foundation parent Application that `pulumi up` created, rendered with the real kustomize from this repository at
 * its path, applied server-side. Envoy Gateway and cert-manager then accept the GatewayClass, the Gateways and the
 * local CA ClusterIssuer (whose Secret `pulumi up` wrote from the program's CA).
 */
async function syncGatewayConfig(cp: ControlPlane): Promise<number> {
  const co = cp.kubeConfig().makeApiClient(CustomObjectsApi);
  type App = { metadata: { name: string }; spec: { source: Parameters<typeof renderSource>[0]; destination: { namespace: string } } };
  const parent = (await co.getNamespacedCustomObject({ group: 'argoproj.io', version: 'v1alpha1', namespace: 'argocd', plural: 'applications', name: 'foundation' })) as { spec: { source: { helm: { valuesObject: { applications: App[] } } } } };
  const app = parent.spec.source.helm.valuesObject.applications.find((a) => a.metadata.name === 'gateway-config');
  if (app === undefined) throw new Error('the foundation parent Application carries no gateway-config child');
  const api = new KubeApi(cp.kubeConfig());
  const objects = await withDestinationNamespace(renderSource(app.spec.source), app.spec.destination.namespace, async (o) => (await api.resource(o.apiVersion, o.kind)).namespaced);
  const rejected = describeRejections(await api.applyAll(objects, { fieldManager: 'argocd-controller', dryRun: false }));
  if (rejected !== '') throw new Error(`gateway-config was refused:\n${rejected}`);
  return objects.length;
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
  let ws: PulumiWorkspace | undefined;
  let controllers: GatewayControllers | undefined;
  const cleanup = async (): Promise<void> => {
    for (const c of children) c.kill('SIGTERM');
    await sleep(500);
    ws?.dispose();
    await controllers?.stop();
    await cp?.stop();
    rmSync(work, { recursive: true, force: true });
  };
  process.once('SIGINT', () => void cleanup().then(() => process.exit(130)));
  try {
    log('starting the embedded cluster (etcd, kube-apiserver, controller-manager, scheduler, one simulated node) with the upstream CRDs ...');
    cp = await startControlPlane({ nodes: 1 });
    log(`embedded cluster ready at ${cp.server} (${seconds(Date.now() - t0)})`);

    const tPulumi = Date.now();
    const deployed = await deployPlatform(cp, work);
    ws = deployed.ws;
    await showPlatform(cp);
    log(`platform deployed by Pulumi in ${seconds(Date.now() - tPulumi)}`);

    log('bundling the operator and the landing page as they ship ...');
    execFileSync(process.execPath, [join(repoRoot, 'operator/build.mjs')], { stdio: 'ignore' });
    const web = await buildWeb(join(work, 'landing', 'web'));
    const server = await buildServer(join(work, 'landing', 'server.mjs'));

    log('starting Envoy Gateway and cert-manager\'s controllers (processes beside the cluster) ...');
    const tControllers = Date.now();
    controllers = await startGatewayControllers({ kubeconfigPath: cp.kubeconfigPath });
    const synced = await syncGatewayConfig(cp);
    log(`  controllers up and gateway-config (${synced} objects) applied as Argo CD would in ${seconds(Date.now() - tControllers)}`);
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
    for (let i = 0; i < 240; i++) {
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
      // The passphrase stays out of the terminal: the settings go to a file only this user can read.
      const envFile = join(work, 'pulumi.env');
      const keys = ['PATH', 'PULUMI_HOME', 'PULUMI_BACKEND_URL', 'PULUMI_CONFIG_PASSPHRASE', 'PULUMI_IGNORE_AMBIENT_PLUGINS', 'PULUMI_SKIP_UPDATE_CHECK', 'PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION'];
      writeFileSync(envFile, keys.map((k) => `export ${k}='${ws!.env[k]}'\n`).join('') + `export KUBECONFIG='${cp.kubeconfigPath}'\n`, { mode: 0o600 });
      log('run pulumi (and kubectl) yourself against the embedded cluster, e.g. drift detection:');
      log(`  source ${envFile} && cd ${deployed.project.dir} && pulumi preview --refresh --stack ${EMBEDDED_STACK}`);
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
