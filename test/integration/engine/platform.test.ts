// The platform program under the real Pulumi engine: `pulumi up` of the embedded stack, in a project directory,
// onto a real control plane with simulated nodes. Real: the CLI, the Kubernetes provider, our language host, the
// program (tsx), the LocalCA dynamic provider, the CrossGuard policy pack, the file backend and its lock, the
// API server, scheduler and controllers. Stood in for (named): the kubelet (kwok marks pods Running/Ready; no
// container runs) and, on destroy only, Argo CD's application controller removing its own finalizers
// (releaseArgoFinalizers; Argo CD's controllers do not run here yet).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { ApiextensionsV1Api, AppsV1Api, CoreV1Api, CustomObjectsApi, NetworkingV1Api, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import { startControlPlane, type ControlPlane } from '../../harness/control-plane.js';
import { createPulumiWorkspace, type PulumiResult, type PulumiWorkspace } from '../../harness/pulumi.js';
import { EMBEDDED_STACK, generatedSecrets, initEmbeddedStack, prepareEmbeddedProject, pulumiFailure, releaseArgoFinalizers, type EmbeddedProject } from '../../harness/embedded.js';
import { repoRoot } from '../../harness/upstream.js';
import { sleep } from '../../harness/util.js';
import { NS, PLATFORM_NAMESPACE_NAMES } from '../../../components/cluster/namespaces.js';
import { FOUNDATION_APP_NAMES, FOUNDATION_PARENT } from '../../../components/foundation/index.js';

const POLICY = join(repoRoot, 'policy');
const UP_TIMEOUT = 600_000;

describe('engine: pulumi up of the platform (embedded stack) with the real Pulumi engine', function () {
    this.timeout(UP_TIMEOUT * 2);
    let cp: ControlPlane;
    let ws: PulumiWorkspace;
    let project: EmbeddedProject;
    let work: string;
    const secrets = generatedSecrets();
    const outputs: string[] = [];
    const pulumi = async (args: string[], timeoutMs = UP_TIMEOUT): Promise<PulumiResult> => {
        const r = await ws.run([...args, '--stack', EMBEDDED_STACK, '--non-interactive'], { cwd: project.dir, timeoutMs });
        outputs.push(r.stdout, r.stderr);
        return r;
    };
    const ok = async (args: string[], timeoutMs?: number): Promise<PulumiResult> => {
        const r = await pulumi(args, timeoutMs);
        if (r.code !== 0) throw pulumiFailure(`pulumi ${args.join(' ')}`, r);
        return r;
    };

    before(async function () {
        this.timeout(600_000);
        cp = await startControlPlane({ nodes: 1 });
        ws = await createPulumiWorkspace();
        work = mkdtempSync(join(tmpdir(), 'nkp-engine-platform-'));
        project = prepareEmbeddedProject(join(work, 'project'), cp.kubeconfigPath);
        await initEmbeddedStack(ws, project, secrets);
    });
    after(async () => {
        ws?.dispose();
        await cp?.stop();
        if (work) rmSync(work, { recursive: true, force: true });
    });

    it('pulumi up --policy-pack policy/ creates the platform: baseline, Argo CD (Available), AppProjects, foundation Applications, the CA', async () => {
        const up = await ok(['up', '--yes', '--policy-pack', POLICY]);
        assert.doesNotMatch(up.stdout, /mandatory policy violation/i);
        const kc = cp.kubeConfig();
        const core = kc.makeApiClient(CoreV1Api);
        const names = (await core.listNamespace({ labelSelector: 'app.kubernetes.io/part-of=nkp' })).items.map((n) => n.metadata!.name!);
        for (const ns of PLATFORM_NAMESPACE_NAMES) assert.ok(names.includes(ns), `namespace ${ns}`);
        const apps = kc.makeApiClient(AppsV1Api);
        const deployments = (await apps.listNamespacedDeployment({ namespace: NS.argocd })).items;
        assert.deepEqual(deployments.map((d) => d.metadata!.name).sort(), ['argocd-applicationset-controller', 'argocd-notifications-controller', 'argocd-redis', 'argocd-repo-server', 'argocd-server']);
        for (const d of deployments) assert.equal(d.status?.availableReplicas, d.spec?.replicas, `${d.metadata!.name} available (its pods passed restricted Pod Security)`);
        const co = kc.makeApiClient(CustomObjectsApi);
        const list = async (plural: string) => ((await co.listNamespacedCustomObject({ group: 'argoproj.io', version: 'v1alpha1', namespace: NS.argocd, plural })) as { items: Array<{ metadata: { name: string } }> }).items.map((i) => i.metadata.name).sort();
        assert.deepEqual(await list('appprojects'), ['foundation', 'pack-catalog', 'packs']);
        assert.deepEqual(await list('applications'), [FOUNDATION_PARENT.name, 'packs'].sort(), 'Pulumi creates the foundation parent and the root app-of-apps; Argo CD creates the children');
        const parent = (await co.getNamespacedCustomObject({ group: 'argoproj.io', version: 'v1alpha1', namespace: NS.argocd, plural: 'applications', name: FOUNDATION_PARENT.name })) as { spec: { source: { helm: { valuesObject: { applications: { metadata: { name: string } }[] } } } } };
        assert.deepEqual(parent.spec.source.helm.valuesObject.applications.map((a) => a.metadata.name).sort(), [...FOUNDATION_APP_NAMES].sort());
        const caSecret = await core.readNamespacedSecret({ namespace: NS.certManager, name: 'nkp-ca' });
        const stackCa = JSON.parse((await ok(['stack', 'output', 'localCaCertificate', '--json'])).stdout) as string;
        assert.equal(Buffer.from(caSecret.data!['tls.crt']!, 'base64').toString(), stackCa, 'cert-manager signs with the CA the stack exports');
        // Kubernetes API sign-in (nkp:kubernetesOidc): a plain output, this cluster's address and CA, kubelogin against the realm.
        const shown = (await ok(['stack', 'output', 'kubeconfigOidc'])).stdout;
        assert.doesNotMatch(shown, /\[secret\]/, 'a kubeconfig without credentials is a plain output');
        const oidcKc = parse(JSON.parse((await ok(['stack', 'output', 'kubeconfigOidc', '--json'])).stdout) as string) as { clusters: { cluster: { server: string } }[]; users: { user: { exec: { command: string; args: string[] }; token?: string } }[] };
        assert.equal(oidcKc.clusters[0]!.cluster.server, cp.server);
        assert.equal(oidcKc.users[0]!.user.exec.command, 'kubectl');
        assert.ok(oidcKc.users[0]!.user.exec.args.includes('--oidc-issuer-url=https://keycloak.nkp.localtest.me/realms/nebari'), oidcKc.users[0]!.user.exec.args.join(' '));
        assert.equal(oidcKc.users[0]!.user.token, undefined);
        const flags = JSON.parse((await ok(['stack', 'output', 'kubeApiServerOidcFlags', '--json'])).stdout) as string[];
        assert.ok(flags.includes('--oidc-groups-prefix=oidc:'), flags.join(' '));
    });

    it('a second pulumi up --expect-no-changes succeeds', async () => {
        await ok(['up', '--yes', '--expect-no-changes', '--policy-pack', POLICY]);
    });

    it('drift: out-of-band changes fail preview --refresh --expect-no-changes with the difference; up --refresh repairs them', async () => {
        const kc = cp.kubeConfig();
        const net = kc.makeApiClient(NetworkingV1Api);
        const core = kc.makeApiClient(CoreV1Api);
        const policies = (await net.listNamespacedNetworkPolicy({ namespace: NS.landing })).items;
        const victim = policies.find((p) => p.metadata!.labels?.['app.kubernetes.io/part-of'] === 'nkp')!;
        assert.ok(victim, 'a baseline NetworkPolicy in nkp-landing');
        await net.deleteNamespacedNetworkPolicy({ namespace: NS.landing, name: victim.metadata!.name! });
        await core.patchNamespace({ name: NS.operator, body: [{ op: 'replace', path: '/metadata/labels/pod-security.kubernetes.io~1enforce', value: 'privileged' }] });
        await core.patchNamespacedConfigMap({ namespace: NS.operator, name: 'nkp-local-ca', body: [{ op: 'replace', path: '/data/ca.crt', value: 'tampered' }] });
        // Argo CD's CRDs are one dynamic resource (components/argocd/crds.ts): its refresh compares them with the release
        const ext = kc.makeApiClient(ApiextensionsV1Api);
        await ext.patchCustomResourceDefinition({ name: 'appprojects.argoproj.io', body: [{ op: 'replace', path: '/metadata/labels/app.kubernetes.io~1part-of', value: 'tampered-crd' }] });

        const plain = await pulumi(['preview', '--expect-no-changes']);
        assert.equal(plain.code, 0, 'a preview without --refresh compares with the state only: it cannot see drift');

        const drift = await pulumi(['preview', '--refresh', '--expect-no-changes', '--diff']);
        assert.notEqual(drift.code, 0, 'drift makes preview --refresh --expect-no-changes fail');
        const text = drift.stdout + drift.stderr;
        assert.match(text, /no changes were expected( for \w+)? but changes were proposed/, text.slice(-3000));
        assert.match(text, new RegExp(victim.metadata!.name!), 'names the deleted NetworkPolicy');
        assert.match(text, /pod-security\.kubernetes\.io\/enforce/, 'shows the edited label');
        assert.match(text, /tampered(?!-crd)/, 'shows the changed ConfigMap value');
        assert.match(text, /appprojects\.argoproj\.io: metadata\.labels\.app\.kubernetes\.io\/part-of: \\?"tampered-crd\\?", the release has \\?"argocd\\?"/, 'names the edited CRD and its label');

        await ok(['up', '--refresh', '--yes']);
        await net.readNamespacedNetworkPolicy({ namespace: NS.landing, name: victim.metadata!.name! });
        assert.equal((await core.readNamespace({ name: NS.operator })).metadata!.labels!['pod-security.kubernetes.io/enforce'], 'restricted');
        assert.match((await core.readNamespacedConfigMap({ namespace: NS.operator, name: 'nkp-local-ca' })).data!['ca.crt']!, /BEGIN CERTIFICATE/);
        assert.equal((await ext.readCustomResourceDefinition({ name: 'appprojects.argoproj.io' })).metadata!.labels!['app.kubernetes.io/part-of'], 'argocd');
        await ok(['preview', '--refresh', '--expect-no-changes', '--diff']);
    });

    it('the stack lock: a second up while one runs is refused and the state stays intact', async () => {
        const first = pulumi(['up', '--refresh', '--yes']);
        const lockDir = join(ws.backendDir, '.pulumi', 'locks');
        for (let i = 0; i < 600 && !(existsSync(lockDir) && readdirSync(lockDir, { recursive: true }).some((f) => String(f).endsWith('.json'))); i++) await sleep(100);
        const second = await pulumi(['up', '--yes']);
        assert.notEqual(second.code, 0);
        assert.match(second.stdout + second.stderr, /currently locked/i);
        const done = await first;
        assert.equal(done.code, 0, done.stderr);
        const state = JSON.parse((await ok(['stack', 'export'])).stdout) as { deployment: { resources: unknown[]; pending_operations?: unknown[] } };
        assert.ok(state.deployment.resources.length > 100);
        assert.equal((state.deployment.pending_operations ?? []).length, 0);
    });

    it('a run killed mid-way leaves a lock; pulumi cancel clears it, stack export/import clears pending operations, up converges', async () => {
        const lockDir = join(ws.backendDir, '.pulumi', 'locks');
        const hasLock = () => existsSync(lockDir) && readdirSync(lockDir, { recursive: true }).some((f) => String(f).endsWith('.json'));
        // A run that writes: the landing page's CA ConfigMap deleted out of band, so up --refresh recreates it.
        await cp.kubeConfig().makeApiClient(CoreV1Api).deleteNamespacedConfigMap({ namespace: NS.landing, name: 'nkp-local-ca' });
        const child = spawn(join(ws.binDir, 'pulumi'), ['up', '--refresh', '--yes', '--stack', EMBEDDED_STACK, '--non-interactive'], { cwd: project.dir, env: ws.env, detached: true, stdio: 'ignore' });
        for (let i = 0; i < 600 && !hasLock(); i++) await sleep(100);
        assert.ok(hasLock(), 'the run took the lock');
        process.kill(-child.pid!, 'SIGKILL');
        await new Promise((r) => child.once('exit', r));
        assert.ok(hasLock(), 'a killed run leaves its lock');
        const refused = await pulumi(['up', '--yes']);
        assert.match(refused.stdout + refused.stderr, /currently locked/i);

        await ok(['cancel', '--yes']);
        assert.ok(!hasLock(), 'pulumi cancel removed the lock');
        const exported = JSON.parse((await ok(['stack', 'export'])).stdout) as { deployment: { pending_operations?: unknown[] } };
        delete exported.deployment.pending_operations;
        const file = join(work, 'state.json');
        writeFileSync(file, JSON.stringify(exported));
        await ok(['stack', 'import', '--file', file]);
        await ok(['up', '--refresh', '--yes']);
        await ok(['preview', '--refresh', '--expect-no-changes']);
    });

    it('the policy pack stops an unsafe platform in the preview, before anything is created: a tampered Argo CD manifest running a privileged container', async () => {
        const tampered = join(work, 'tampered-install.yaml');
        type Doc = { kind?: string; metadata?: { name?: string }; spec?: { template?: { spec?: { containers?: Array<{ securityContext?: object }> } } } } | null;
        const docs = parseAllDocuments(readFileSync(project.argocdManifestsPath, 'utf8')).map((d) => d.toJS() as Doc);
        const server = docs.find((d) => d?.kind === 'Deployment' && d.metadata?.name === 'argocd-server')!;
        server.spec!.template!.spec!.containers![0]!.securityContext = { privileged: true };
        writeFileSync(tampered, docs.filter((d) => d !== null).map((d) => stringify(d)).join('---\n'));
        // Its own workspace (backend and state): a new stack of the same project onto the same cluster.
        const unsafe = prepareEmbeddedProject(join(work, 'unsafe'), cp.kubeconfigPath);
        writeFileSync(unsafe.stackFile, readFileSync(unsafe.stackFile, 'utf8').replace(unsafe.argocdManifestsPath, tampered));
        const core = cp.kubeConfig().makeApiClient(CoreV1Api);
        const before = (await core.listNamespace()).items.map((n) => n.metadata!.resourceVersion).sort();
        const uws = await createPulumiWorkspace();
        try {
            await initEmbeddedStack(uws, unsafe);
            const r = await uws.run(['up', '--yes', '--policy-pack', POLICY, '--stack', EMBEDDED_STACK, '--non-interactive'], { cwd: unsafe.dir, timeoutMs: UP_TIMEOUT });
            const text = r.stdout + r.stderr;
            assert.notEqual(r.code, 0, text.slice(-3000));
            assert.match(text, /\[mandatory\]\s+k8s-non-root\s+\(kubernetes:apps\/v1:Deployment: argocd-install:argocd\/argocd-server\)/, 'names the policy and the rendered child it stopped');
            const tail = text.slice(-4000);
            assert.match(text, /is privileged/, tail);
            assert.match(text, /Previewing update \(/, tail);
            assert.doesNotMatch(text, /^Updating \(/m, `stopped in the preview: the update never started:\n${tail}`);
            const state = JSON.parse((await uws.run(['stack', 'export', '--stack', EMBEDDED_STACK], { cwd: unsafe.dir })).stdout) as { deployment: { resources?: Array<{ type: string }> } };
            assert.deepEqual((state.deployment.resources ?? []).filter((x) => !x.type.startsWith('pulumi:')), [], 'nothing was created');
        } finally {
            uws.dispose();
        }
        assert.deepEqual((await core.listNamespace()).items.map((n) => n.metadata!.resourceVersion).sort(), before, 'no namespace was created or changed');
    });

    it('secrets never appear in plain text in the state, the CLI output or the stack outputs', async () => {
        const caKey = Buffer.from((await cp.kubeConfig().makeApiClient(CoreV1Api).readNamespacedSecret({ namespace: NS.certManager, name: 'nkp-ca' })).data!['tls.key']!, 'base64').toString();
        // the cluster's kubeconfig too: the Kubernetes provider and Argo CD's CRD resource hold it (both as secrets)
        const kubeconfigKey = /client-key-data: (\S+)/.exec(readFileSync(cp.kubeconfigPath, 'utf8'))![1]!.slice(0, 64);
        const needles = [...Object.values(secrets), caKey.split('\n')[1]!, kubeconfigKey];
        const stateFiles = readdirSync(join(ws.backendDir, '.pulumi'), { recursive: true }).map(String).filter((f) => f.endsWith('.json'));
        assert.ok(stateFiles.some((f) => f.startsWith('stacks')), 'the file backend wrote the stack');
        const haystacks = [
            ...stateFiles.map((f) => readFileSync(join(ws.backendDir, '.pulumi', f), 'utf8')),
            readFileSync(project.stackFile, 'utf8'),
            (await ok(['stack', 'export'])).stdout,
            (await ok(['stack', 'output', '--json'])).stdout,
            ...outputs,
        ];
        assert.ok(haystacks.join('').length > 100_000, 'the search covered the state and every CLI output');
        for (const needle of needles) {
            assert.ok(needle.length >= 16);
            for (const h of haystacks) assert.ok(!h.includes(needle), 'a secret value leaked');
        }
        assert.match((await ok(['stack', 'output', 'kubeconfig'])).stdout, /\[secret\]/);
        // Negative control: the same search finds a secret where it is expected, decrypted on request.
        const shown = (await ok(['config', 'get', 'keycloakAdminPassword'])).stdout;
        assert.ok(shown.includes(secrets.keycloakAdminPassword!), 'config get decrypts it: the needle is the real value');
    });

    it('pulumi destroy leaves no platform object behind', async () => {
        const kc = cp.kubeConfig();
        let done = false;
        const releasing = releaseArgoFinalizers(kc, () => done);
        try {
            await ok(['destroy', '--yes']);
        } finally {
            done = true;
            await releasing;
        }
        const core = kc.makeApiClient(CoreV1Api);
        for (let i = 0; i < 300 && (await core.listNamespace({ labelSelector: 'app.kubernetes.io/part-of=nkp' })).items.length > 0; i++) await sleep(200);
        assert.deepEqual((await core.listNamespace({ labelSelector: 'app.kubernetes.io/part-of=nkp' })).items.map((n) => n.metadata!.name), []);
        const co = kc.makeApiClient(CustomObjectsApi);
        assert.equal(((await co.listClusterCustomObject({ group: 'argoproj.io', version: 'v1alpha1', plural: 'applications' })) as { items: unknown[] }).items.length, 0);
        const rbac = (await kc.makeApiClient(RbacAuthorizationV1Api).listClusterRole()).items.filter((r) => r.metadata!.name!.startsWith('nkp:') || r.metadata!.name!.startsWith('argocd-'));
        assert.deepEqual(rbac.map((r) => r.metadata!.name), []);
        const state = JSON.parse((await ok(['stack', 'export'])).stdout) as { deployment: { resources?: Array<{ type: string }> } };
        assert.deepEqual((state.deployment.resources ?? []).filter((r) => !r.type.startsWith('pulumi:')), []);
    });
});
