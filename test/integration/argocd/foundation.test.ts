// Real Argo CD (repo-server, application controller, API server: test/harness/argocd.ts) syncing the foundation
// the platform program created with a real `pulumi up` of the embedded stack. The stack points the foundation
// Applications at a git daemon on loopback serving this repository at its HEAD commit (nkp:platformRepoUrl /
// nkp:platformRevision); Argo CD reads argocd-cm, argocd-rbac-cm, argocd-cmd-params-cm, the AppProjects and the
// Applications exactly as the program created them.
// Real: control plane, Pulumi engine + program, Argo CD's three components (v3.1.8), Redis, git, kustomize.
// Stood in for (named): the kubelet (kwok), the chart repositories (no internet: the chart-sourced Applications
// show their error; serving the charts that ship inside Go modules from git is not done yet), and CloudNativePG's
// CRDs, which the unreachable cloudnative-pg chart would install: the test installs them from CloudNativePG's Go
// module at the chart's appVersion before `pulumi up`.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppsV1Api, CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { startControlPlane, type ControlPlane } from '../../harness/control-plane.js';
import { createPulumiWorkspace, type PulumiResult, type PulumiWorkspace } from '../../harness/pulumi.js';
import { EMBEDDED_STACK, generatedSecrets, initEmbeddedStack, prepareEmbeddedProject, pulumiFailure, type EmbeddedProject } from '../../harness/embedded.js';
import { servePlatformRepo, startArgoCD, startGitDaemon, type ArgoCDProcesses, type GitDaemon } from '../../harness/argocd.js';
import { sleep } from '../../harness/util.js';
import { KubeApi } from '../platform/kube-api.js';
import { cloudnativePgCrds } from '../platform/pulumi-objects.js';
import { NS } from '../../../components/cluster/namespaces.js';
import { CHARTS, OPERATOR_DEPLOYMENT } from '../../../components/foundation/spec.js';

/** The foundation Applications whose source is this repository (kustomize), and the chart-sourced ones. */
const REPO_APPS = ['gateway-config', 'keycloak-database', 'nkp-operator', 'nkp-landing'] as const;
const CHART_APPS = { 'cert-manager': CHARTS.certManager, 'envoy-gateway': CHARTS.envoyGateway, 'cloudnative-pg': CHARTS.cloudnativePg, keycloak: CHARTS.keycloak, 'otel-collector': CHARTS.otelCollector } as const;

interface Application {
  metadata: { name: string; annotations?: Record<string, string> };
  spec: { source: { repoURL: string; targetRevision: string } };
  status?: {
    sync?: { status?: string; revision?: string };
    health?: { status?: string };
    conditions?: { type: string; message: string }[];
    operationState?: { phase?: string; message?: string };
    resources?: { kind: string; name: string; namespace?: string; status?: string }[];
  };
}

describe('Argo CD v3.1.8 as processes syncs the foundation the platform program created', function () {
  this.timeout(900_000);
  let cp: ControlPlane;
  let git: GitDaemon;
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
  const describeApp = (a: Application): string =>
    `${a.metadata.name}: sync=${a.status?.sync?.status} rev=${a.status?.sync?.revision} health=${a.status?.health?.status} op=${a.status?.operationState?.phase} ${a.status?.operationState?.message ?? ''} conditions=${JSON.stringify(a.status?.conditions ?? [])}`;
  const until = async <T>(what: string, fn: () => Promise<T | undefined>, timeoutMs: number, explain: () => Promise<string>): Promise<T> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = await fn().catch(() => undefined);
      if (v !== undefined) return v;
      if (Date.now() > deadline) throw new Error(`${what} not reached within ${timeoutMs / 1000} s:\n${await explain()}\n--- controller log ---\n${argo?.log('argocd-application-controller', 30)}\n--- repo-server log ---\n${argo?.log('argocd-repo-server', 20)}`);
      await sleep(250);
    }
  };
  const explainApps = async (): Promise<string> => (await Promise.all([...REPO_APPS, ...Object.keys(CHART_APPS)].map(async (n) => describeApp(await app(n).catch(() => ({ metadata: { name: n }, spec: {} }) as unknown as Application))))).join('\n');

  before(async function () {
    this.timeout(900_000);
    cp = await startControlPlane({ nodes: 1 });
    await new KubeApi(cp.kubeConfig()).installCrds(cloudnativePgCrds() as never);
    git = await startGitDaemon();
    platform = servePlatformRepo(git);
    ws = await createPulumiWorkspace();
    work = mkdtempSync(join(tmpdir(), 'nkp-argocd-foundation-'));
    project = prepareEmbeddedProject(join(work, 'project'), cp.kubeconfigPath, { platformRepo: platform });
    await initEmbeddedStack(ws, project, generatedSecrets());
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
    await git?.stop();
    ws?.dispose();
    await cp?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('the repository-sourced foundation Applications (gateway config, Keycloak database, operator, landing page) become Synced at the pinned commit', async () => {
    for (const n of REPO_APPS) {
      const a = await app(n);
      assert.equal(a.spec.source.repoURL, platform.url, `${n} reads the loopback git daemon the stack points at`);
      assert.equal(a.spec.source.targetRevision, platform.revision);
    }
    await until(
      'every repository-sourced Application Synced',
      async () => {
        const apps = await Promise.all(REPO_APPS.map(app));
        return apps.every((a) => a.status?.sync?.status === 'Synced' && a.status.sync.revision === platform.revision && a.status.operationState?.phase === 'Succeeded') ? apps : undefined;
      },
      240_000,
      explainApps,
    );
    figures['pulumi up start -> all repository-sourced Applications Synced'] = `${((Date.now() - upStarted) / 1000).toFixed(1)} s`;
    figures['Argo CD start -> all repository-sourced Applications Synced'] = `${((Date.now() - argoStarted) / 1000).toFixed(1)} s`;
    // What Argo CD applied is on the real API server, with Argo CD's tracking annotation.
    const kc = cp.kubeConfig();
    const dep = await kc.makeApiClient(AppsV1Api).readNamespacedDeployment({ namespace: NS.operator, name: OPERATOR_DEPLOYMENT.name });
    assert.match(dep.metadata!.annotations?.['argocd.argoproj.io/tracking-id'] ?? '', /^nkp-operator:apps\/Deployment:nkp-operator\/nebari-operator$/);
    const gw = (await co().getNamespacedCustomObject({ group: 'gateway.networking.k8s.io', version: 'v1', namespace: NS.gateway, plural: 'gateways', name: 'public' })) as { metadata: { annotations: Record<string, string> } };
    assert.equal(gw.metadata.annotations['cert-manager.io/cluster-issuer'], 'selfsigned-ca', "gateway-config's per-stack patch applied");
  });

  // The repo-server runs the Helm Argo CD bundles (scripts/build-helm.mjs); this machine reaches no chart repository,
  // so each chart-sourced Application fails on its own repository, and its status says so.
  it('the chart-sourced Applications fail visibly: each ComparisonError names its unreachable chart repository, none is Synced', async () => {
    const shown = await until(
      'a ComparisonError on every chart-sourced Application',
      async () => {
        const apps = await Promise.all(Object.keys(CHART_APPS).map(app));
        return apps.every((a) => (a.status?.conditions ?? []).some((c) => c.type === 'ComparisonError')) ? apps : undefined;
      },
      120_000,
      explainApps,
    );
    for (const a of shown) {
      const pin = CHART_APPS[a.metadata.name as keyof typeof CHART_APPS];
      const err = a.status!.conditions!.find((c) => c.type === 'ComparisonError')!.message;
      assert.notEqual(a.status?.sync?.status, 'Synced', describeApp(a));
      assert.match(err, /^Failed to load target state: failed to generate manifest for source 1 of 1: /, `${a.metadata.name}: ${err}`);
      assert.ok(err.includes(pin.repoURL.replace(/^https:\/\//, '')), `${a.metadata.name}'s error names its chart repository ${pin.repoURL}: ${err}`);
      assert.doesNotMatch(err, /executable file not found/, 'the repo-server has helm');
    }
  });

  it('self-heal: a manual edit and a deletion of synced objects are reverted by Argo CD', async () => {
    const kc = cp.kubeConfig();
    const apps = kc.makeApiClient(AppsV1Api);
    const core = kc.makeApiClient(CoreV1Api);
    const before = await apps.readNamespacedDeployment({ namespace: NS.operator, name: OPERATOR_DEPLOYMENT.name });
    const image = before.spec!.template.spec!.containers[0]!.image!;
    const edited = Date.now();
    await apps.patchNamespacedDeployment({ namespace: NS.operator, name: OPERATOR_DEPLOYMENT.name, body: [{ op: 'replace', path: '/spec/template/spec/containers/0/image', value: 'example.com/tampered:1' }] });
    await until(
      'the edited image reverted',
      async () => ((await apps.readNamespacedDeployment({ namespace: NS.operator, name: OPERATOR_DEPLOYMENT.name })).spec!.template.spec!.containers[0]!.image === image ? true : undefined),
      60_000,
      async () => describeApp(await app('nkp-operator')),
    );
    figures['self-heal of a manual edit'] = `${((Date.now() - edited) / 1000).toFixed(1)} s`;

    const svc = (await core.listNamespacedService({ namespace: NS.operator })).items.find((s) => s.metadata!.annotations?.['argocd.argoproj.io/tracking-id']?.startsWith('nkp-operator:'));
    assert.ok(svc, 'a Service synced by nkp-operator');
    const uid = svc.metadata!.uid;
    const deleted = Date.now();
    await core.deleteNamespacedService({ namespace: NS.operator, name: svc.metadata!.name! });
    await until(
      'the deleted Service recreated',
      async () => {
        const s = await core.readNamespacedService({ namespace: NS.operator, name: svc.metadata!.name! });
        return s.metadata!.uid !== uid ? true : undefined;
      },
      60_000,
      async () => describeApp(await app('nkp-operator')),
    );
    figures['self-heal of a deletion'] = `${((Date.now() - deleted) / 1000).toFixed(1)} s`;
    await until('nkp-operator Synced again', async () => ((await app('nkp-operator')).status?.sync?.status === 'Synced' ? true : undefined), 60_000, async () => describeApp(await app('nkp-operator')));
  });

  it('ownership is clean: pulumi preview --refresh --expect-no-changes passes while Argo CD owns what it applied', async () => {
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
