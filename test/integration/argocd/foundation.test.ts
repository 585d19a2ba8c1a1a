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
// gateway configuration of wave 30. CloudNativePG's CRDs, which the cloudnative-pg chart would install, come from its Go
// module. cert-manager's and Envoy Gateway's controllers are not started here, so the gateway configuration (wave
// 30) stays Progressing, which is what shows the waves holding the later Applications back.
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
import { KubeApi } from '../platform/kube-api.js';
import { cloudnativePgCrds } from '../platform/pulumi-objects.js';
import { NS } from '../../../components/cluster/namespaces.js';
import { CHARTS, FOUNDATION_PARENT, SYNC_WAVES, type FoundationAppName } from '../../../components/foundation/spec.js';

/** The gateway configuration: the first wave whose health needs a controller this test does not run. */
const HOLDING = 'gateway-config' satisfies FoundationAppName;
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
    for (const pin of Object.values(CHARTS)) charts.publish(standInChart(pin.chart, pin.version));
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
    await argo?.stop();
    await charts?.stop();
    await git?.stop();
    ws?.dispose();
    await cp?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('Pulumi creates only the parent; Argo CD renders the children from the chart at the pinned commit and syncs them wave by wave up to the gateway configuration', async () => {
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
    // What the stand-in charts and the gateway configuration put on the cluster is on the real API server.
    const standIn = await cp.kubeConfig().makeApiClient(CoreV1Api).readNamespacedConfigMap({ namespace: NS.certManager, name: `${CHARTS.certManager.chart}-stand-in` });
    assert.match(standIn.metadata!.annotations?.['argocd.argoproj.io/tracking-id'] ?? '', /^cert-manager:/);
    const gw = (await co().getNamespacedCustomObject({ group: 'gateway.networking.k8s.io', version: 'v1', namespace: NS.gateway, plural: 'gateways', name: 'public' })) as { metadata: { annotations: Record<string, string> } };
    assert.equal(gw.metadata.annotations['cert-manager.io/cluster-issuer'], 'selfsigned-ca', "gateway-config's per-stack patch applied");
  });

  it('the waves hold: each wave was created only after every earlier wave was Synced and Healthy, and nothing after the still-Progressing gateway configuration exists', async () => {
    const held = await until(
      `the parent waiting for ${HOLDING}'s health`,
      async () => {
        const p = await app(FOUNDATION_PARENT.name);
        return p.status?.operationState?.phase === 'Running' && /waiting for healthy state of argoproj\.io\/Application\/gateway-config/.test(p.status.operationState.message ?? '') ? p : undefined;
      },
      60_000,
      explainApps,
    );
    const all = await apps();
    const gateway = all.get(HOLDING)!;
    // Without cert-manager's and Envoy Gateway's controllers the ClusterIssuers and Gateways never report Ready:
    // Argo CD's own health checks of those kinds keep gateway-config Progressing, and the gate shut.
    assert.equal(gateway.status?.health?.status, 'Progressing', describeApp(gateway));
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
