// Packs the documented way, through real Argo CD (test/harness/argocd.ts) and the root app-of-apps the platform
// program created with a real `pulumi up`: the stack's gitops repository (nkp:gitopsRepoUrl/gitopsRevision/
// gitopsPath) is a git daemon on loopback holding one pack (packs/template as a pack developer would copy it) and,
// under clusters/embedded/packs, the Applications that deploy it: project `packs`, namespace nkp-pack-apps, the
// same pack twice (staging and production values), plus two the `packs` AppProject must refuse, and the Helm pack
// packs/chat through the repository's example Application (examples/gitops).
// Then the rest of the seam: the operator (in process, with the real Keycloak) reconciles each deployment's NebariApp
// into Ready with the real Envoy Gateway and cert-manager controllers, the landing page shows its card to the pack's
// group, and removing the Application removes every child the operator made and the Keycloak client.
// Real: control plane, Pulumi engine + program, Argo CD's three components, Redis, git, kustomize, Keycloak, Envoy
// Gateway and cert-manager's controllers, the operator and landing page code (./../packs/platform-fixture.ts).
// Stood in for (named): the kubelet (kwok); the foundation's gateway configuration (the platform Gateways and the
// ClusterIssuer), which this file's parent Application cannot render because it serves no platform repository:
// ensureGateways() creates the operator tests' Gateways instead.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { parse, stringify } from 'yaml';
import { AppsV1Api, CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { startControlPlane, type ControlPlane } from '../../harness/control-plane.js';
import { createPulumiWorkspace, type PulumiResult, type PulumiWorkspace } from '../../harness/pulumi.js';
import { EMBEDDED_STACK, generatedSecrets, initEmbeddedStack, prepareEmbeddedProject, pulumiFailure, type EmbeddedProject } from '../../harness/embedded.js';
import { startArgoCD, startGitDaemon, writeRepo, type ArgoCDProcesses, type GitDaemon } from '../../harness/argocd.js';
import { repoRoot } from '../../harness/upstream.js';
import { sleep } from '../../harness/util.js';
import { NS } from '../../../components/cluster/namespaces.js';
import { APP_FINALIZER, PROJECT_PACKS, ROOT_APP_NAME } from '../../../components/argocd/spec.js';
import { sharedKeycloak } from '../../harness/keycloak.js';
import { startGatewayControllers, type GatewayControllers } from '../../harness/gateway-controllers.js';
import { childNames } from '../../../operator/src/desired/objects.js';
import { ROLE, ROLEBINDING, SECRET } from '../../../operator/src/reconciler-resources.js';
import type { KubeClient } from '../../../operator/src/runtime/kube.js';
import { CERTIFICATE_RT, HTTPROUTE_RT, LISTENERSET_RT, SECURITYPOLICY_RT, adminClient, ensureGateways, exists, waitForReason } from '../operator/helpers.js';
import { startPackPlatform, type PackPlatform } from '../packs/platform-fixture.js';

const GITOPS_PATH = 'clusters/embedded/packs';
const ENVS = { staging: 'my-pack.staging.example.com', production: 'my-pack.example.com' } as const;
const nsOf = (env: string) => `pack-my-pack-${env}`;
/** Destination of the example Application examples/gitops/clusters/example/packs/chat-staging.yaml. */
const CHAT_NS = 'pack-chat-staging';

interface App {
  metadata: { name: string; namespace: string };
  status?: { sync?: { status?: string }; health?: { status?: string }; conditions?: { type: string; message: string }[]; operationState?: { phase?: string; message?: string; syncResult?: unknown } };
}

/** A pack Application as packs/template/README.md documents it. */
function packApp(name: string, repoURL: string, revision: string, path: string, namespace: string, patches: object[] = []): string {
  return stringify({
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Application',
    metadata: { name, namespace: NS.packApps, finalizers: [APP_FINALIZER] },
    spec: {
      project: PROJECT_PACKS,
      source: { repoURL, targetRevision: revision, path, ...(patches.length ? { kustomize: { patches } } : {}) },
      destination: { server: 'https://kubernetes.default.svc', namespace },
      syncPolicy: { automated: { prune: true, selfHeal: true }, syncOptions: ['ServerSideApply=true'] },
    },
  });
}

describe('Argo CD: packs through the root app-of-apps into opted-in namespaces; the packs AppProject refuses what it must', function () {
  this.timeout(900_000);
  let cp: ControlPlane;
  let git: GitDaemon;
  let ws: PulumiWorkspace;
  let project: EmbeddedProject;
  let argo: ArgoCDProcesses;
  let work: string;
  let gitopsUrl: string;
  let packRevision: string;
  let gc: GatewayControllers;
  let c: KubeClient;
  let pp: PackPlatform;
  const files: Record<string, string> = {};
  /** The pack's group (packs/template's auth.groups) and a member of it; `other` is in no group. */
  const GROUP = 'my-pack-users';
  const [member, other] = ['erin', 'frank'];

  const pulumi = (args: string[], timeoutMs = 600_000): Promise<PulumiResult> => ws.run([...args, '--stack', EMBEDDED_STACK, '--non-interactive'], { cwd: project.dir, timeoutMs });
  const co = () => cp.kubeConfig().makeApiClient(CustomObjectsApi);
  const app = async (namespace: string, name: string): Promise<App> => (await co().getNamespacedCustomObject({ group: 'argoproj.io', version: 'v1alpha1', namespace, plural: 'applications', name })) as App;
  const show = (a: App | undefined) => JSON.stringify(a?.status ?? {}).slice(0, 1500);
  const until = async <T>(what: string, fn: () => Promise<T | undefined>, timeoutMs: number, explain: () => Promise<string>): Promise<T> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = await fn().catch(() => undefined);
      if (v !== undefined) return v;
      if (Date.now() > deadline) throw new Error(`${what} not reached within ${timeoutMs / 1000} s:\n${await explain()}\n--- controller log ---\n${argo?.log('argocd-application-controller', 20)}`);
      await sleep(250);
    }
  };

  before(async function () {
    this.timeout(900_000);
    cp = await startControlPlane({ nodes: 1 });
    git = await startGitDaemon();
    // Commit 1: the pack (packs/template copied as packs/my-pack), and a pack that carries a cluster-scoped object.
    const tpl = join(repoRoot, 'packs', 'template', 'manifests');
    for (const f of readdirSync(tpl)) files[`packs/my-pack/manifests/${f}`] = readFileSync(join(tpl, f), 'utf8');
    // A Helm pack too (packs/chat as shipped), deployed by the repository's example Application (examples/gitops).
    const chat = join(repoRoot, 'packs', 'chat');
    for (const f of readdirSync(chat, { recursive: true, withFileTypes: true })) {
      if (f.isFile()) files[`packs/chat/${relative(chat, join(f.parentPath, f.name))}`] = readFileSync(join(f.parentPath, f.name), 'utf8');
    }
    files['packs/cluster-wide/kustomization.yaml'] = stringify({ apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization', resources: ['clusterrole.yaml'] });
    files['packs/cluster-wide/clusterrole.yaml'] = stringify({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'cluster-wide-pack' }, rules: [] });
    const c1 = writeRepo(git, 'gitops', files, 'the pack');
    gitopsUrl = c1.url;
    packRevision = c1.revision;
    // Commit 2: the Applications the root app-of-apps reads.
    for (const [env, host] of Object.entries(ENVS)) {
      files[`${GITOPS_PATH}/my-pack-${env}.yaml`] = packApp(`my-pack-${env}`, gitopsUrl, packRevision, 'packs/my-pack/manifests', nsOf(env), [
        { target: { group: 'reconcilers.nebari.dev', kind: 'NebariApp', name: 'my-pack' }, patch: JSON.stringify([{ op: 'replace', path: '/spec/hostname', value: host }]) },
      ]);
    }
    const chatApp = parse(readFileSync(join(repoRoot, 'examples', 'gitops', 'clusters', 'example', 'packs', 'chat-staging.yaml'), 'utf8')) as { spec: { source: { repoURL: string; targetRevision: string }; destination: { namespace: string } } };
    chatApp.spec.source.repoURL = gitopsUrl;
    chatApp.spec.source.targetRevision = packRevision;
    files[`${GITOPS_PATH}/chat-staging.yaml`] = stringify(chatApp);
    files[`${GITOPS_PATH}/into-platform.yaml`] = packApp('into-platform', gitopsUrl, packRevision, 'packs/my-pack/manifests', NS.operator);
    files[`${GITOPS_PATH}/cluster-wide.yaml`] = packApp('cluster-wide', gitopsUrl, packRevision, 'packs/cluster-wide', 'pack-cluster-wide');
    const c2 = writeRepo(git, 'gitops', files, 'deploy my-pack to staging and production');

    // The opted-in pack namespaces (created by whoever owns them, labelled for the platform).
    const core = cp.kubeConfig().makeApiClient(CoreV1Api);
    for (const ns of [nsOf('staging'), nsOf('production'), 'pack-cluster-wide', CHAT_NS]) await core.createNamespace({ body: { metadata: { name: ns, labels: { 'nebari.dev/managed': 'true' } } } });

    ws = await createPulumiWorkspace();
    work = mkdtempSync(join(tmpdir(), 'nkp-argocd-packs-'));
    project = prepareEmbeddedProject(join(work, 'project'), cp.kubeconfigPath, { gitops: { url: gitopsUrl, revision: c2.revision, path: GITOPS_PATH } });
    await initEmbeddedStack(ws, project, generatedSecrets());
    const up = await pulumi(['up', '--yes']);
    if (up.code !== 0) throw pulumiFailure('pulumi up', up);
    argo = await startArgoCD({ kubeconfigPath: cp.kubeconfigPath });
    c = adminClient(cp);
    const [kc, controllers] = await Promise.all([sharedKeycloak(), startGatewayControllers({ kubeconfigPath: cp.kubeconfigPath })]);
    gc = controllers;
    await ensureGateways(c, { controllers: false });
    pp = await startPackPlatform(cp, kc, { name: 'argocd-packs', users: [member, other], watchNamespaces: [nsOf('staging'), nsOf('production')] });
  });
  after(async () => {
    await pp?.stop();
    await gc?.stop();
    await argo?.stop();
    await git?.stop();
    ws?.dispose();
    await cp?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('the root app-of-apps syncs the pack Applications; the pack is deployed twice, each with its own values, into its opted-in namespace', async () => {
    await until(
      'root app and both pack Applications Synced',
      async () => {
        const root = await app(NS.argocd, ROOT_APP_NAME);
        if (root.status?.sync?.status !== 'Synced') return undefined;
        for (const env of Object.keys(ENVS)) if ((await app(NS.packApps, `my-pack-${env}`)).status?.sync?.status !== 'Synced') return undefined;
        return true;
      },
      240_000,
      async () => `root: ${show(await app(NS.argocd, ROOT_APP_NAME).catch(() => undefined))}\nstaging: ${show(await app(NS.packApps, 'my-pack-staging').catch(() => undefined))}`,
    );
    const apps = cp.kubeConfig().makeApiClient(AppsV1Api);
    for (const [env, host] of Object.entries(ENVS)) {
      await apps.readNamespacedDeployment({ namespace: nsOf(env), name: 'my-pack' });
      const na = (await co().getNamespacedCustomObject({ group: 'reconcilers.nebari.dev', version: 'v1', namespace: nsOf(env), plural: 'nebariapps', name: 'my-pack' })) as { spec: { hostname: string } };
      assert.equal(na.spec.hostname, host, `${env} values`);
    }
  });

  it("the operator reconciles each deployment's NebariApp into Ready (routes, certificate, login); the landing page shows its card to the pack's group only", async () => {
    for (const [env, host] of Object.entries(ENVS)) {
      const ready = await waitForReason(c, nsOf(env), 'my-pack', 'Ready', 'Available', 'True', 120_000).catch(async (err: Error) => {
        throw new Error(`${env}: ${err.message}\n${JSON.stringify(((await co().getNamespacedCustomObject({ group: 'reconcilers.nebari.dev', version: 'v1', namespace: nsOf(env), plural: 'nebariapps', name: 'my-pack' })) as { status?: unknown }).status)}`);
      });
      for (const t of ['RoutingReady', 'TLSReady', 'AuthReady']) assert.equal(ready.status?.conditions?.find((x) => x.type === t)?.status, 'True', `${env} ${t}`);
      const route = (await c.get(HTTPROUTE_RT, nsOf(env), childNames(nsOf(env), 'my-pack').mainRoute)) as unknown as { spec: { hostnames: string[] } };
      assert.deepEqual(route.spec.hostnames, [host], `${env}: the route carries this deployment's values`);
      assert.equal((await pp.admin.clients.find({ realm: pp.realm, clientId: `${nsOf(env)}-my-pack` })).length, 1, `${env}: Keycloak client`);
    }
    await pp.addToGroup(member, GROUP);
    const mine = (ids: string[]) => ids.filter((x) => x.endsWith('/my-pack')).sort();
    const both = Object.keys(ENVS).map((env) => `${nsOf(env)}/my-pack`).sort();
    await until('both cards for the member', async () => (JSON.stringify(mine(await pp.cardsFor(member))) === JSON.stringify(both) ? true : undefined), 30_000, async () => JSON.stringify(await pp.cardsFor(member)));
    assert.deepEqual(mine(await pp.cardsFor(other)), [], 'no card outside the group');
    assert.ok(!(await pp.anonymous()).includes('/my-pack"'), 'no card for anonymous users');
  });

  it('a Helm pack arrives through its example Application: packs/chat rendered by the repo-server\'s Helm with the staging values', async () => {
    await until(
      'chat-staging Synced',
      async () => ((await app(NS.packApps, 'chat-staging')).status?.sync?.status === 'Synced' ? true : undefined),
      180_000,
      async () => `chat-staging: ${show(await app(NS.packApps, 'chat-staging').catch(() => undefined))}`,
    );
    const na = (await co().getNamespacedCustomObject({ group: 'reconcilers.nebari.dev', version: 'v1', namespace: CHAT_NS, plural: 'nebariapps', name: 'chat' })) as { spec: { hostname: string; auth: { groups: string[] }; landingPage: { displayName: string } } };
    assert.equal(na.spec.hostname, 'chat.staging.example.com');
    assert.deepEqual(na.spec.auth.groups, ['chat-users', 'chat-testers']);
    assert.equal(na.spec.landingPage.displayName, 'Chat assistant (staging)');
    const apps = cp.kubeConfig().makeApiClient(AppsV1Api);
    await apps.readNamespacedDeployment({ namespace: CHAT_NS, name: 'chat' });
  });

  it('the packs AppProject refuses a pack that targets a platform namespace, and one that carries a cluster-scoped kind', async () => {
    const refused = await until(
      'into-platform refused',
      async () => {
        const a = await app(NS.packApps, 'into-platform');
        return (a.status?.conditions ?? []).find((c) => c.type === 'InvalidSpecError') ? a : undefined;
      },
      120_000,
      async () => show(await app(NS.packApps, 'into-platform').catch(() => undefined)),
    );
    assert.match(refused.status!.conditions!.find((c) => c.type === 'InvalidSpecError')!.message, new RegExp(`${NS.operator}.*not permitted|do not match any of the allowed destinations in project '${PROJECT_PACKS}'`));
    const core = cp.kubeConfig().makeApiClient(CoreV1Api);
    assert.equal((await core.listNamespacedServiceAccount({ namespace: NS.operator })).items.some((s) => s.metadata!.name === 'my-pack'), false, 'nothing of the pack landed in nkp-operator');

    const clusterWide = await until(
      'cluster-wide refused',
      async () => {
        const a = await app(NS.packApps, 'cluster-wide');
        return /ClusterRole.*not permitted in project|not permitted in project.*ClusterRole/.test(JSON.stringify(a.status ?? {})) ? a : undefined;
      },
      120_000,
      async () => show(await app(NS.packApps, 'cluster-wide').catch(() => undefined)),
    );
    assert.notEqual(clusterWide.status?.sync?.status, 'Synced');
    const rbac = await co()
      .getClusterCustomObject({ group: 'rbac.authorization.k8s.io', version: 'v1', plural: 'clusterroles', name: 'cluster-wide-pack' })
      .then(() => true)
      .catch(() => false);
    assert.equal(rbac, false, 'the ClusterRole was not created');
  });

  it('removing a pack Application from the gitops repository (new pinned revision, pulumi up) removes that deployment of the pack, every child the operator made for it and its Keycloak client', async () => {
    delete files[`${GITOPS_PATH}/my-pack-production.yaml`];
    const c3 = writeRepo(git, 'gitops', { ...files, [`${GITOPS_PATH}/my-pack-production.yaml`]: null } as Record<string, string | null>, 'remove my-pack from production');
    const set = await ws.run(['config', 'set', 'gitopsRevision', c3.revision, '--stack', EMBEDDED_STACK, '--non-interactive'], { cwd: project.dir, timeoutMs: 60_000 });
    assert.equal(set.code, 0, set.stderr);
    const up = await pulumi(['up', '--yes']);
    if (up.code !== 0) throw pulumiFailure('pulumi up', up);
    const apps = cp.kubeConfig().makeApiClient(AppsV1Api);
    await until(
      'production Application and its Deployment gone',
      async () => {
        const gone = await app(NS.packApps, 'my-pack-production').then(
          () => false,
          () => true,
        );
        const depGone = await apps.readNamespacedDeployment({ namespace: nsOf('production'), name: 'my-pack' }).then(
          () => false,
          () => true,
        );
        return gone && depGone ? true : undefined;
      },
      180_000,
      async () => `root: ${show(await app(NS.argocd, ROOT_APP_NAME).catch(() => undefined))}`,
    );
    // Argo CD pruned the NebariApp; the operator's finalizer removed every child it made and the Keycloak client.
    const prod = nsOf('production');
    const names = childNames(prod, 'my-pack');
    await until(
      "production's operator children and Keycloak client gone",
      async () => {
        for (const [rt, name] of [[HTTPROUTE_RT, names.mainRoute], [HTTPROUTE_RT, names.publicRoute], [LISTENERSET_RT, names.listenerSet], [CERTIFICATE_RT, names.certificate], [SECURITYPOLICY_RT, names.securityPolicy], [SECRET, 'my-pack-oidc-client'], [ROLE, 'my-pack-oidc-client-reader'], [ROLEBINDING, 'my-pack-oidc-client-reader']] as const) {
          if (await exists(c, rt, prod, name)) return undefined;
        }
        return (await pp.admin.clients.find({ realm: pp.realm, clientId: `${prod}-my-pack` })).length === 0 ? true : undefined;
      },
      60_000,
      async () => 'children left',
    );
    assert.deepEqual((await pp.cardsFor(member)).filter((x) => x.endsWith('/my-pack')), [`${nsOf('staging')}/my-pack`], 'only the staging card is left');
    await apps.readNamespacedDeployment({ namespace: nsOf('staging'), name: 'my-pack' });
    assert.equal((await app(NS.packApps, 'my-pack-staging')).status?.sync?.status, 'Synced', 'staging stays');
    assert.ok(await exists(c, HTTPROUTE_RT, nsOf('staging'), childNames(nsOf('staging'), 'my-pack').mainRoute), "staging's route stays");
  });
});
