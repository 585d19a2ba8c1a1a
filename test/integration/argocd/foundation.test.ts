// Real Argo CD (repo-server, application controller, API server: test/harness/argocd.ts) syncing the foundation
// the platform program created with a real `pulumi up` of the embedded stack. Pulumi creates one parent Application
// (`foundation`): Argo CD renders the child Applications from this repository's chart (components/foundation/chart)
// at the pinned commit, served by a git daemon on loopback (nkp:platformRepoUrl / nkp:platformRevision), and syncs
// them wave by wave with the health check of Applications the program puts into argocd-cm. Argo CD reads argocd-cm,
// argocd-rbac-cm, argocd-cmd-params-cm, the AppProjects and the parent exactly as the program created them.
// Real: control plane, Pulumi engine + program, Argo CD's three components (v3.1.8), Redis, git, kustomize, Helm.
// Stood in for (named): the kubelet (kwok); the chart repositories (no internet): nkp:helmChartMirror points at a
// Helm repository on loopback serving a STAND-IN chart (one ConfigMap) under each pinned chart name and version
// (test/harness/helm-repo.ts). Why not the real charts: three (CloudNativePG, keycloakx, the collector) ship in no
// registry reachable here; cert-manager's and Envoy Gateway's ship in their Go modules, but their webhooks and
// controllers run as pods, which cannot run here (kwok), and the webhooks' failurePolicy Fail would refuse the
// gateway configuration's ClusterIssuers (their controllers run below as processes instead). CloudNativePG's CRDs, which the cloudnative-pg chart would install, come from its Go
// module. First nothing stands in for the CloudNativePG operator (its Postgres pods cannot run here), so the Keycloak
// database stays Progressing, which is what shows the waves holding the later Applications back. Then the gate is
// opened: cert-manager's and Envoy Gateway's REAL controllers start (test/harness/gateway-controllers.ts, with the
// gateway shim that issues the listeners' certificates), a STAND-IN for a load-balancer implementation gives
// LoadBalancer Services an address, the database is reported healthy (STAND-IN for the CloudNativePG operator's
// status), and the keycloakx stand-in chart carries the Service the real chart makes: every later wave, through the
// landing page, syncs in order. Why these two stand-ins: k3s's servicelb is a DaemonSet of pods and a cloud's
// controller needs the cloud; MetalLB's controller alone (address assignment, no speaker) could run as a process here
// and would replace this stand-in, not tried yet. CloudNativePG's operator could be built, but it reports a Cluster
// healthy only after reaching each Postgres instance's status endpoint on its pod IP, and no Postgres pod runs (kwok
// fakes pods, it runs no containers), so the real operator would never write that phase here either.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { startControlPlane, type ControlPlane } from '../../harness/control-plane.js';
import { createPulumiWorkspace, type PulumiResult, type PulumiWorkspace } from '../../harness/pulumi.js';
import { EMBEDDED_STACK, generatedSecrets, initEmbeddedStack, prepareEmbeddedProject, pulumiFailure, type EmbeddedProject } from '../../harness/embedded.js';
import { servePlatformRepo, startArgoCD, startGitDaemon, type ArgoCDProcesses, type GitDaemon } from '../../harness/argocd.js';
import { standInChart, startHelmRepository, type HelmRepository } from '../../harness/helm-repo.js';
import { sleep } from '../../harness/util.js';
import { startGatewayControllers, type GatewayControllers } from '../../harness/gateway-controllers.js';
import { KubeApi } from '../platform/kube-api.js';
import { cloudnativePgCrds } from '../platform/pulumi-objects.js';
import { NS } from '../../../components/cluster/namespaces.js';
import { CHARTS, FOUNDATION_PARENT, SYNC_WAVES, type FoundationAppName } from '../../../components/foundation/spec.js';

/** The Keycloak database: the first wave whose health needs what this test runs only later (the CloudNativePG operator's status). */
const HOLDING = 'keycloak-database' satisfies FoundationAppName;
const byWave = (names: readonly FoundationAppName[]) => [...names].sort((a, b) => SYNC_WAVES[a] - SYNC_WAVES[b]);
const UP_TO_HOLDING = byWave((Object.keys(SYNC_WAVES) as FoundationAppName[]).filter((n) => SYNC_WAVES[n] <= SYNC_WAVES[HOLDING]));
const AFTER_HOLDING = byWave((Object.keys(SYNC_WAVES) as FoundationAppName[]).filter((n) => SYNC_WAVES[n] > SYNC_WAVES[HOLDING]));

interface Application {
  metadata: { name: string; creationTimestamp?: string; annotations?: Record<string, string>; ownerReferences?: unknown[] };
  spec: { source: { repoURL: string; targetRevision: string; chart?: string; path?: string } };
  status?: {
    sync?: { status?: string; revision?: string };
    health?: { status?: string; message?: string };
    conditions?: { type: string; message: string }[];
    operationState?: { phase?: string; message?: string; startedAt?: string; finishedAt?: string };
    resources?: { kind: string; name: string; namespace?: string; status?: string; health?: { status?: string; message?: string } }[];
  };
}

describe('Argo CD v3.1.8 as processes syncs the foundation the platform program created, wave by wave', function () {
  this.timeout(900_000);
  let cp: ControlPlane;
  let git: GitDaemon;
  let charts: HelmRepository;
  let ws: PulumiWorkspace;
  let project: EmbeddedProject;
  let argo: ArgoCDProcesses;
  let gc: GatewayControllers | undefined;
  let work: string;
  let platform: { url: string; revision: string };
  let upStarted = 0;
  let argoStarted = 0;
  const figures: Record<string, string> = {};

  const pulumi = (args: string[], timeoutMs = 600_000): Promise<PulumiResult> => ws.run([...args, '--stack', EMBEDDED_STACK, '--non-interactive'], { cwd: project.dir, timeoutMs });
  const co = () => cp.kubeConfig().makeApiClient(CustomObjectsApi);
  const app = async (name: string): Promise<Application> => (await co().getNamespacedCustomObject({ group: 'argoproj.io', version: 'v1alpha1', namespace: NS.argocd, plural: 'applications', name })) as Application;
  const apps = async (): Promise<Map<string, Application>> =>
    new Map(((await co().listNamespacedCustomObject({ group: 'argoproj.io', version: 'v1alpha1', namespace: NS.argocd, plural: 'applications' })) as { items: Application[] }).items.map((a) => [a.metadata.name, a]));
  const describeApp = (a: Application): string =>
    `${a.metadata.name}: created=${a.metadata.creationTimestamp} sync=${a.status?.sync?.status} health=${a.status?.health?.status} ${a.status?.health?.message ?? ''} op=${a.status?.operationState?.phase} ${a.status?.operationState?.message ?? ''} finished=${a.status?.operationState?.finishedAt} conditions=${JSON.stringify(a.status?.conditions ?? [])}`;
  const until = async <T>(what: string, fn: () => Promise<T | undefined>, timeoutMs: number, explain: () => Promise<string>): Promise<T> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = await fn().catch(() => undefined);
      if (v !== undefined) return v;
      if (Date.now() > deadline) throw new Error(`${what} not reached within ${timeoutMs / 1000} s:\n${await explain()}\n--- controller log ---\n${argo?.log('argocd-application-controller', 30)}\n--- repo-server log ---\n${argo?.log('argocd-repo-server', 20)}`);
      await sleep(250);
    }
  };
  const explainApps = async (): Promise<string> => [...(await apps()).values()].map(describeApp).join('\n') + `\nchart repository requests: ${charts.requests().slice(-12).join(', ')}`;
  const settled = (a: Application | undefined): boolean => a?.status?.sync?.status === 'Synced' && a.status.operationState?.phase === 'Succeeded';

  before(async function () {
    this.timeout(900_000);
    cp = await startControlPlane({ nodes: 1 });
    await new KubeApi(cp.kubeConfig()).installCrds(cloudnativePgCrds() as never);
    git = await startGitDaemon();
    platform = servePlatformRepo(git);
    charts = await startHelmRepository();
    // The keycloakx stand-in also carries the Service the real chart makes (<fullnameOverride>-http, 80 -> 8080), the
    // backend of the gateway configuration's keycloak route.
    const keycloakService = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'keycloak-http' }, spec: { selector: { 'app.kubernetes.io/name': 'keycloak' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] } };
    for (const pin of Object.values(CHARTS)) charts.publish(standInChart(pin.chart, pin.version, pin === CHARTS.keycloak ? [keycloakService] : []));
    ws = await createPulumiWorkspace();
    work = mkdtempSync(join(tmpdir(), 'nkp-argocd-foundation-'));
    project = prepareEmbeddedProject(join(work, 'project'), cp.kubeconfigPath, { platformRepo: platform });
    await initEmbeddedStack(ws, project, generatedSecrets());
    const set = await pulumi(['config', 'set', 'nkp:helmChartMirror', charts.url]);
    if (set.code !== 0) throw pulumiFailure('pulumi config set nkp:helmChartMirror', set);
    upStarted = Date.now();
    const up = await pulumi(['up', '--yes']);
    if (up.code !== 0) throw pulumiFailure('pulumi up', up);
    figures['pulumi up'] = `${((Date.now() - upStarted) / 1000).toFixed(1)} s`;
    argoStarted = Date.now();
    argo = await startArgoCD({ kubeconfigPath: cp.kubeconfigPath });
    figures['Argo CD processes started'] = `${((Date.now() - argoStarted) / 1000).toFixed(1)} s`;
  });
  after(async () => {
    if (Object.keys(figures).length) process.stderr.write(`[argocd figures] ${JSON.stringify(figures)}\n`);
    await gc?.stop();
    await argo?.stop();
    await charts?.stop();
    await git?.stop();
    ws?.dispose();
    await cp?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('Pulumi creates only the parent; Argo CD renders the children from the chart at the pinned commit and syncs them wave by wave up to the Keycloak database', async () => {
    const before = await apps();
    assert.deepEqual([...before.keys()].filter((n) => n !== 'packs'), [FOUNDATION_PARENT.name], 'pulumi up created the parent only');
    const parent = before.get(FOUNDATION_PARENT.name)!;
    assert.deepEqual([parent.spec.source.repoURL, parent.spec.source.targetRevision, parent.spec.source.path], [platform.url, platform.revision, 'components/foundation/chart']);
    const reached = await until(
      `every Application up to ${HOLDING} Synced, ${HOLDING} applied`,
      async () => {
        const all = await apps();
        return UP_TO_HOLDING.every((n) => settled(all.get(n))) ? all : undefined;
      },
      240_000,
      explainApps,
    );
    figures[`Argo CD start -> waves up to ${HOLDING} synced`] = `${((Date.now() - argoStarted) / 1000).toFixed(1)} s`;
    for (const n of UP_TO_HOLDING) {
      const a = reached.get(n)!;
      assert.equal(a.metadata.annotations?.['argocd.argoproj.io/tracking-id'], `${FOUNDATION_PARENT.name}:argoproj.io/Application:${NS.argocd}/${n}`, `${n} is tracked as the parent's`);
      if (a.spec.source.chart !== undefined) {
        assert.equal(a.spec.source.repoURL, charts.url, `${n} reads the chart mirror`);
        assert.ok(charts.requests().some((r) => r.startsWith(`200 /charts/${a.spec.source.chart}-${a.spec.source.targetRevision}.tgz`)), `${n}'s chart was fetched from the mirror: ${charts.requests().join(', ')}`);
      } else assert.deepEqual([a.spec.source.repoURL, a.spec.source.targetRevision], [platform.url, platform.revision]);
    }
    // What the stand-in charts put on the cluster is on the real API server.
    const standIn = await cp.kubeConfig().makeApiClient(CoreV1Api).readNamespacedConfigMap({ namespace: NS.certManager, name: `${CHARTS.certManager.chart}-stand-in` });
    assert.match(standIn.metadata!.annotations?.['argocd.argoproj.io/tracking-id'] ?? '', /^cert-manager:/);
  });

  it('the waves hold: each wave was created only after every earlier wave was Synced and Healthy, and nothing after the still-Progressing Keycloak database exists', async () => {
    const held = await until(
      `the parent waiting for ${HOLDING}'s health`,
      async () => {
        const p = await app(FOUNDATION_PARENT.name);
        return p.status?.operationState?.phase === 'Running' && (p.status.operationState.message ?? '').includes(`waiting for healthy state of argoproj.io/Application/${HOLDING}`) ? p : undefined;
      },
      60_000,
      explainApps,
    );
    const all = await apps();
    const database = all.get(HOLDING)!;
    // Without the CloudNativePG operator the Cluster never reports a status: the platform's health check of
    // postgresql.cnpg.io Clusters (CNPG_CLUSTER_HEALTH_LUA) keeps the Keycloak database Progressing, and the gate
    // shut. Argo CD's built-in check failed there: the database's sync then failed with a ComparisonError and was
    // retried, and the first test above timed out (1 full suite in 4).
    assert.equal(database.status?.health?.status, 'Progressing', describeApp(database));
    await sleep(3000);
    const later = await apps();
    for (const n of AFTER_HOLDING) assert.ok(!later.has(n), `${n} (wave ${SYNC_WAVES[n]}) must wait for ${HOLDING} (wave ${SYNC_WAVES[HOLDING]}): ${held.status?.operationState?.message}`);
    // Ordering: a child of wave W was created no earlier than every earlier wave's sync finished (whole seconds).
    for (const n of UP_TO_HOLDING) {
      const created = Date.parse(all.get(n)!.metadata.creationTimestamp!);
      for (const earlier of UP_TO_HOLDING.filter((e) => SYNC_WAVES[e] < SYNC_WAVES[n])) {
        const finished = Date.parse(all.get(earlier)!.status!.operationState!.finishedAt!);
        assert.ok(created >= finished, `${n} (wave ${SYNC_WAVES[n]}) created at ${all.get(n)!.metadata.creationTimestamp}, before ${earlier} (wave ${SYNC_WAVES[earlier]}) finished its sync at ${all.get(earlier)!.status!.operationState!.finishedAt}`);
      }
    }
  });

  it('the gate opens: with the real cert-manager and Envoy Gateway controllers and the database reported healthy, every later wave syncs in order through the landing page, the gateway configuration Healthy', async () => {
    const opened = Date.now();
    gc = await startGatewayControllers({ kubeconfigPath: cp.kubeconfigPath });
    const core = cp.kubeConfig().makeApiClient(CoreV1Api);
    // STAND-IN for a load-balancer implementation (k3s's servicelb, a cloud's controller), whose pods cannot run
    // here: LoadBalancer Services get an address, which Envoy Gateway reports as the Gateway's.
    let lbStop = false;
    const lb = (async () => {
      while (!lbStop) {
        for (const svc of (await core.listServiceForAllNamespaces().catch(() => ({ items: [] }))).items) {
          if (svc.spec?.type !== 'LoadBalancer' || (svc.status?.loadBalancer?.ingress ?? []).length > 0) continue;
          await core.patchNamespacedServiceStatus({ name: svc.metadata!.name!, namespace: svc.metadata!.namespace!, body: [{ op: 'add', path: '/status/loadBalancer', value: { ingress: [{ ip: '127.0.0.2' }] } }] }).catch(() => undefined);
        }
        await sleep(500);
      }
    })();
    try {
      // STAND-IN for the CloudNativePG operator: the Keycloak database's Cluster reports the phase it would.
      const cluster = (await app(HOLDING)).status?.resources?.find((r) => r.kind === 'Cluster');
      assert.ok(cluster?.namespace, `the Keycloak database Application applied a CloudNativePG Cluster: ${describeApp(await app(HOLDING))}`);
      await co().patchNamespacedCustomObjectStatus({ group: 'postgresql.cnpg.io', version: 'v1', namespace: cluster.namespace, plural: 'clusters', name: cluster.name, body: [{ op: 'add', path: '/status', value: { phase: 'Cluster in healthy state', instances: 1, readyInstances: 1, conditions: [{ type: 'Ready', status: 'True', reason: 'ClusterIsReady', message: 'Cluster is Ready', lastTransitionTime: new Date().toISOString() }] } }] });
      const all = await until(
        'every foundation Application Synced, the gateway configuration Healthy',
        async () => {
          const m = await apps();
          return Object.keys(SYNC_WAVES).every((n) => settled(m.get(n))) && m.get('gateway-config')?.status?.health?.status === 'Healthy' ? m : undefined;
        },
        300_000,
        explainApps,
      );
      figures['gate opened -> every wave synced'] = `${((Date.now() - opened) / 1000).toFixed(1)} s`;
      const names = byWave(Object.keys(SYNC_WAVES) as FoundationAppName[]);
      for (const n of names) {
        const created = Date.parse(all.get(n)!.metadata.creationTimestamp!);
        for (const earlier of names.filter((e) => SYNC_WAVES[e] < SYNC_WAVES[n])) {
          const finished = Date.parse(all.get(earlier)!.status!.operationState!.finishedAt!);
          assert.ok(created >= finished, `${n} (wave ${SYNC_WAVES[n]}) created before ${earlier} (wave ${SYNC_WAVES[earlier]}) finished its sync`);
        }
      }
      for (const n of names.filter((x) => SYNC_WAVES[x] <= SYNC_WAVES['gateway-config'])) assert.equal(all.get(n)!.status?.health?.status, 'Healthy', describeApp(all.get(n)!));
      // The gateway configuration, served by the real controllers: issuer Ready, Gateways Programmed, listeners' certificates issued.
      const gw = (await co().getNamespacedCustomObject({ group: 'gateway.networking.k8s.io', version: 'v1', namespace: NS.gateway, plural: 'gateways', name: 'public' })) as { metadata: { annotations: Record<string, string> }; status?: { conditions?: { type: string; status: string }[]; listeners?: { name: string; conditions?: { type: string; status: string }[] }[] } };
      assert.equal(gw.metadata.annotations['cert-manager.io/cluster-issuer'], 'selfsigned-ca', "gateway-config's per-stack patch applied");
      assert.equal(gw.status?.conditions?.find((c) => c.type === 'Programmed')?.status, 'True');
      for (const l of gw.status?.listeners ?? []) assert.equal(l.conditions?.find((c) => c.type === 'ResolvedRefs')?.status, 'True', `listener ${l.name}: its certificate was issued`);
    } finally {
      lbStop = true;
      await lb;
    }
  });

  it('self-heal: Argo CD reverts a manual edit of a synced object and recreates a deleted one', async () => {
    const gwArgs = { group: 'gateway.networking.k8s.io', version: 'v1', namespace: NS.gateway, plural: 'gateways', name: 'public' };
    const edited = Date.now();
    await co().patchNamespacedCustomObject({ ...gwArgs, body: [{ op: 'replace', path: '/metadata/annotations/cert-manager.io~1cluster-issuer', value: 'tampered' }] });
    await until(
      'the edited Gateway annotation reverted',
      async () => (((await co().getNamespacedCustomObject(gwArgs)) as { metadata: { annotations: Record<string, string> } }).metadata.annotations['cert-manager.io/cluster-issuer'] === 'selfsigned-ca' ? true : undefined),
      60_000,
      async () => describeApp(await app(HOLDING)),
    );
    figures['self-heal of a manual edit'] = `${((Date.now() - edited) / 1000).toFixed(1)} s`;

    const routeArgs = { group: 'gateway.networking.k8s.io', version: 'v1', namespace: NS.argocd, plural: 'httproutes', name: 'argocd' };
    const uid = ((await co().getNamespacedCustomObject(routeArgs)) as { metadata: { uid: string } }).metadata.uid;
    const deleted = Date.now();
    await co().deleteNamespacedCustomObject(routeArgs);
    await until('the deleted HTTPRoute recreated', async () => (((await co().getNamespacedCustomObject(routeArgs)) as { metadata: { uid: string } }).metadata.uid !== uid ? true : undefined), 60_000, async () => describeApp(await app(HOLDING)));
    figures['self-heal of a deletion'] = `${((Date.now() - deleted) / 1000).toFixed(1)} s`;

  });

  it('ownership is clean: pulumi preview --refresh --expect-no-changes passes while Argo CD owns the children and what they applied', async () => {
    const r = await pulumi(['preview', '--refresh', '--expect-no-changes', '--diff']);
    assert.equal(r.code, 0, `Pulumi and Argo CD fight over an object:\n${r.stdout.slice(-6000)}\n${r.stderr.slice(-2000)}`);
  });

  it("argocd-server answers on loopback only; the Redis password is in no component's log", async () => {
    const res = await fetch(`${argo.serverUrl}/api/version`);
    assert.equal(res.status, 200);
    const v = (await res.json()) as { Version: string };
    assert.match(v.Version, /^v3\.1\.8/);
    assert.match(argo.serverUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
    const redisSecret = await cp.kubeConfig().makeApiClient(CoreV1Api).readNamespacedSecret({ namespace: NS.argocd, name: 'argocd-redis' });
    const password = Buffer.from(redisSecret.data!['auth']!, 'base64').toString();
    for (const c of ['argocd-repo-server', 'argocd-application-controller', 'argocd-server', 'redis'] as const) assert.ok(!argo.log(c, 100_000).includes(password), `${c}'s log carries the Redis password`);
  });
});
