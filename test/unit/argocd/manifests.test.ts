/* eslint-disable @typescript-eslint/no-explicit-any -- assertions walk untyped Kubernetes objects */
// The air-gapped route: Argo CD from its release's install.yaml, read from the argo-cd Go module at the pinned
// version (the same file users download from the release page).
import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { setupPulumiMocks, type RecordingMocks } from '../pulumi-mocks.js';
import { ARGOCD_CHART, argocdValues } from '../../../components/argocd/spec.js';
import { ARGOCD_CM_METADATA, ARGOCD_CM_NAME, ARGOCD_IMAGE, argocdCmData, argocdManifestObjects, parseManifest, type ArgoCDChartLikeValues, type KubeObject } from '../../../components/argocd/manifests.js';
import { goModuleDir, versions } from '../../harness/upstream.js';

const releaseFile = (): string => join(goModuleDir(versions.crdSources['argocd']!.module, versions.crdSources['argocd']!.version), 'manifests', 'install.yaml');
const VALUES_INPUT = { hostname: 'argocd.example.com', issuerURL: 'https://keycloak.example.com/realms/nebari', adminGroups: ['admins'], viewerGroups: ['viewers'], ha: false };
const values = (ha = false) => argocdValues({ ...VALUES_INPUT, ha }) as unknown as ArgoCDChartLikeValues;
const containersOf = (o: any): any[] => [...(o.spec?.template?.spec?.containers ?? []), ...(o.spec?.template?.spec?.initContainers ?? [])];

describe('ArgoCD from the release install manifest (pure)', () => {
    let release: KubeObject[];
    before(() => {
        release = parseManifest(readFileSync(releaseFile(), 'utf8'), 'install.yaml');
    });

    it('the harness reads the same Argo CD release the platform pins', () => {
        assert.equal(versions.crdSources['argocd']!.version, ARGOCD_CHART.appVersion);
    });

    it('applies every release object but Dex and argocd-cm (applied apart), namespaced ones in argocd, CRDs apart', () => {
        const { crds, objects } = argocdManifestObjects(release, values(), 'install.yaml');
        assert.deepEqual(crds.map((c) => c.metadata.name).sort(), ['applications.argoproj.io', 'applicationsets.argoproj.io', 'appprojects.argoproj.io']);
        assert.ok(!objects.some((o) => o.metadata.name.includes('dex')), 'Dex is off: sign-in goes to Keycloak directly');
        assert.equal(objects.length + crds.length, release.length - release.filter((o) => o.metadata.name.includes('dex') || o.metadata.name === ARGOCD_CM_NAME).length);
        for (const o of objects) {
            const clusterScoped = ['ClusterRole', 'ClusterRoleBinding'].includes(o.kind);
            assert.equal(o.metadata.namespace, clusterScoped ? undefined : 'argocd', `${o.kind}/${o.metadata.name}`);
        }
    });

    it('carries the chart route\'s settings: params and RBAC as ConfigMap strings; argocd-cm (OIDC, admin off) is applied apart', () => {
        const { objects } = argocdManifestObjects(release, values(), 'install.yaml');
        const cm = (n: string) => objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === n)!['data'] as Record<string, string>;
        const v = argocdValues(VALUES_INPUT) as any;
        assert.ok(release.some((o) => o.kind === 'ConfigMap' && o.metadata.name === ARGOCD_CM_NAME), 'the release has its own argocd-cm');
        assert.ok(!objects.some((o) => o.metadata.name === ARGOCD_CM_NAME), 'left out: the platform applies argocd-cm itself (it holds the CA)');
        const own = argocdCmData(values());
        assert.equal(parse(own['oidc.config']).issuer, VALUES_INPUT.issuerURL);
        assert.equal(own['admin.enabled'], 'false');
        assert.equal(own['url'], 'https://argocd.example.com');
        const releaseCm = release.find((o) => o.kind === 'ConfigMap' && o.metadata.name === ARGOCD_CM_NAME)!;
        for (const [k, l] of Object.entries(releaseCm.metadata.labels ?? {})) assert.equal((ARGOCD_CM_METADATA.labels as Record<string, string>)[k], l, `label ${k} as the release sets it`);
        assert.equal(cm('argocd-cmd-params-cm')['server.insecure'], 'true');
        assert.equal(cm('argocd-cmd-params-cm')['application.namespaces'], v.configs.params['application.namespaces']);
        assert.equal(cm('argocd-rbac-cm')['policy.csv'], v.configs.rbac['policy.csv']);
        assert.equal(cm('argocd-rbac-cm')['policy.default'], '');
        for (const d of Object.values(own)) assert.equal(typeof d, 'string');
    });

    it('every container has the platform\'s requests and limits; replicas follow HA', () => {
        for (const ha of [false, true]) {
            const { objects } = argocdManifestObjects(release, values(ha), 'install.yaml');
            const workloads = objects.filter((o) => ['Deployment', 'StatefulSet'].includes(o.kind));
            assert.equal(workloads.length, 6);
            for (const w of workloads) {
                for (const c of containersOf(w)) assert.ok(c.resources?.limits?.cpu && c.resources?.limits?.memory && c.resources?.requests?.cpu, `${w.metadata.name}/${c.name}`);
            }
            const replicas = (n: string) => (workloads.find((w) => w.metadata.name === n)!['spec'] as any).replicas;
            assert.equal(replicas('argocd-server'), ha ? 2 : 1);
            assert.equal(replicas('argocd-repo-server'), ha ? 2 : 1);
            assert.equal(replicas('argocd-application-controller'), 1);
        }
    });

    it('does not change the release objects it was given', () => {
        const before = JSON.stringify(release);
        argocdManifestObjects(release, values(true), 'install.yaml');
        assert.equal(JSON.stringify(release), before);
    });

    it('refuses another release, naming the setting and the image it expects', () => {
        const other = parseManifest(readFileSync(releaseFile(), 'utf8').replaceAll(ARGOCD_IMAGE, 'quay.io/argoproj/argocd:v3.0.0'), 'old.yaml');
        assert.throws(() => argocdManifestObjects(other, values(), 'old.yaml'), (e: Error) => e.message.includes('old.yaml: argocdManifestsPath must be the install.yaml of Argo CD') && e.message.includes(ARGOCD_IMAGE) && e.message.includes('v3.0.0'));
        const stranger = [...release, { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'miner' }, spec: { template: { spec: { containers: [{ name: 'm', image: 'x/y:1' }] } } } }];
        assert.throws(() => argocdManifestObjects(stranger, values(), 'f.yaml'), /f\.yaml: workload Deployment\/miner is not one of Argo CD/);
        assert.throws(() => parseManifest('a: [', 'bad.yaml'), /bad\.yaml: not valid YAML/);
        assert.throws(() => parseManifest('kind: ConfigMap\n', 'nameless.yaml'), /nameless\.yaml: a document without kind or metadata\.name/);
    });
});

describe('ArgoCD component with install.source manifests (Pulumi mocks)', () => {
    let mocks: RecordingMocks;
    let mod: typeof import('../../../components/argocd/index.js');
    let dir: string;
    before(async () => {
        mocks = await setupPulumiMocks();
        mod = await import('../../../components/argocd/index.js');
        dir = mkdtempSync(join(tmpdir(), 'nkp-argocd-'));
    });
    after(() => rmSync(dir, { recursive: true, force: true }));
    beforeEach(() => mocks.reset());

    const args = (manifestsPath: string) => ({
        hostname: 'argocd.example.com',
        oidc: { issuerURL: 'https://keycloak.example.com/realms/nebari', clientSecret: 's', adminGroups: ['admins'], viewerGroups: ['viewers'] },
        gitops: { repoURL: 'https://git.example.com/gitops.git', revision: 'v2.0.0', path: 'packs', credentials: { kind: 'none' as const } },
        packs: { namespaces: ['pack-*'], sourceRepos: [] },
        foundationSourceRepos: ['https://charts.jetstack.io'],
        install: { source: 'manifests' as const, manifestsPath },
        kubeconfig: 'apiVersion: v1\nkind: Config\n',
    });

    it('registers each object of the release under the names and types a yaml/v2 ConfigGroup gives its children, and no Helm chart', async () => {
        new mod.ArgoCD('argocd', args(releaseFile()));
        await mocks.settle();
        assert.equal(mocks.ofType('kubernetes:helm.sh/v4:Chart').length, 0);
        assert.equal(mocks.ofType('kubernetes:yaml/v2:ConfigGroup').length, 0, 'no ConfigGroup (the SDK fetches its children back on every run)');
        const sts = mocks.one('kubernetes:apps/v1:StatefulSet', 'argocd-install:argocd/argocd-application-controller');
        assert.equal(sts.plain.metadata.namespace, 'argocd');
        assert.equal(sts.plain.spec.template.spec.containers[0].resources.limits.memory, '2Gi', 'the platform settings are applied');
        assert.equal(mocks.ofType('kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition').length, 0, 'no CRD crosses the engine as a Kubernetes resource');
        const crds = mocks.one('pulumi-nodejs:dynamic:Resource', 'argocd-crds');
        assert.deepEqual(crds.plain.names, ['applications.argoproj.io', 'applicationsets.argoproj.io', 'appprojects.argoproj.io']);
        assert.equal(crds.plain.release, 'v3.1.8');
        assert.match(crds.plain.digest, /^[0-9a-f]{64}$/);
        assert.equal(crds.plain.manifestsPath, releaseFile());
        const { __provider: _code, ...inputs } = crds.inputs;
        assert.ok(JSON.stringify(inputs).length < 1024, `the CRDs themselves are not inputs: ${JSON.stringify(inputs).slice(0, 300)}`);
        assert.ok(JSON.stringify(crds.inputs['kubeconfig']).includes('4dabf18193072939515e22adb298388d'), 'the kubeconfig is a secret input');
        assert.ok(mocks.ofType('kubernetes:core/v1:ServiceAccount').some((r) => r.name === 'argocd-install:argocd/argocd-server'), 'core objects get the core/v1 token');
    });

    it('type tokens: the core group is core/, every other group keeps its name', () => {
        assert.equal(mod.kubernetesTypeToken('v1', 'Service'), 'kubernetes:core/v1:Service');
        assert.equal(mod.kubernetesTypeToken('apps/v1', 'Deployment'), 'kubernetes:apps/v1:Deployment');
        assert.equal(mod.kubernetesTypeToken('rbac.authorization.k8s.io/v1', 'ClusterRole'), 'kubernetes:rbac.authorization.k8s.io/v1:ClusterRole');
    });

    it('a missing or foreign file stops it before anything is registered, naming the setting', async () => {
        assert.throws(() => new mod.ArgoCD('argocd', args(join(dir, 'nope.yaml'))), /install\.manifestsPath .*nope\.yaml does not exist/);
        const foreign = join(dir, 'foreign.yaml');
        writeFileSync(foreign, 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n');
        assert.throws(() => new mod.ArgoCD('argocd', args(foreign)), /argocdManifestsPath must be the install\.yaml of Argo CD/);
        assert.throws(() => new mod.ArgoCD('argocd', args('')), /install\.manifestsPath is required/);
        const { kubeconfig: _, ...withoutKubeconfig } = args(releaseFile());
        assert.throws(() => new mod.ArgoCD('argocd', withoutKubeconfig), /ArgoCD: kubeconfig is required with install\.source manifests/);
        await mocks.settle();
        assert.equal(mocks.resources.length, 0, 'nothing registered');
    });
});
