// Argo CD's CRDs as one resource (components/argocd/crds.ts): the dynamic provider's create, read, diff and update
// against the real API server (its own control plane: the test deletes and edits Argo CD's CRDs). The same provider
// under the real Pulumi engine: test/integration/engine/platform.test.ts (first up, no-op up, drift, destroy).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startControlPlane, type ControlPlane } from '../../harness/control-plane.js';
import { argocdReleaseManifest } from '../../harness/embedded.js';
import { KubeApi } from '../platform/kube-api.js';
import { ARGOCD_CHART } from '../../../components/argocd/spec.js';
import { parseManifest } from '../../../components/argocd/manifests.js';
import { ARGOCD_CRDS_FIELD_MANAGER, argocdCrdsProvider, crdSetDigest, releaseCrds, type ArgoCDCrdsInputs, type ArgoCDCrdsOutputs } from '../../../components/argocd/crds.js';

const CRD_PATH = '/apis/apiextensions.k8s.io/v1/customresourcedefinitions';
const NAMES = ['applications.argoproj.io', 'applicationsets.argoproj.io', 'appprojects.argoproj.io'];

describe("Argo CD's CRDs as one dynamic resource, against the real API server", function () {
    this.timeout(180_000);
    let cp: ControlPlane;
    let api: KubeApi;
    let inputs: ArgoCDCrdsInputs;
    let dir: string;
    const crd = async (name: string) => {
        const r = await api.request('GET', `${CRD_PATH}/${name}`);
        return r.status === 404 ? undefined : (JSON.parse(r.body) as { metadata: { labels: Record<string, string>; managedFields: { manager: string }[] }; spec: { versions: { schema: { openAPIV3Schema: unknown } }[] } });
    };
    const p = argocdCrdsProvider as Required<typeof argocdCrdsProvider>;

    before(async () => {
        cp = await startControlPlane({ crds: false, controllerManager: false });
        api = new KubeApi(cp.kubeConfig());
        const manifestsPath = argocdReleaseManifest();
        const crds = releaseCrds(parseManifest(readFileSync(manifestsPath, 'utf8'), manifestsPath));
        inputs = { release: ARGOCD_CHART.appVersion, digest: crdSetDigest(crds), names: crds.map((c) => c.metadata.name), manifestsPath, kubeconfig: readFileSync(cp.kubeconfigPath, 'utf8') };
        dir = mkdtempSync(join(tmpdir(), 'nkp-argocd-crds-'));
    });
    after(async () => {
        await cp?.stop();
        if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it("create takes over CRDs a stack's Kubernetes provider applied (its field manager dropped) and leaves them Established, exactly as the release has them", async () => {
        // what a stack from before holds: the CRDs applied by the Kubernetes provider's server-side apply
        const first = releaseCrds(parseManifest(readFileSync(inputs.manifestsPath, 'utf8'), 'install.yaml'))[0]!;
        const r = await api.request('PATCH', `${CRD_PATH}/${first.metadata.name}?fieldManager=pulumi-kubernetes-6e1a2b3c&force=true`, first, 'application/apply-patch+yaml');
        assert.equal(r.status, 201, r.body);

        const created = await p.create(inputs);
        assert.deepEqual(created.outs, { ...inputs, drift: [] } satisfies ArgoCDCrdsOutputs);
        for (const name of NAMES) {
            const live = (await crd(name))!;
            assert.ok(live, name);
            const managers = live.metadata.managedFields.map((m) => m.manager);
            assert.ok(managers.includes(ARGOCD_CRDS_FIELD_MANAGER), `${name}: ${managers.join(', ')}`);
            assert.ok(!managers.some((m) => m.startsWith('pulumi-kubernetes')), `${name}: the former manager is gone: ${managers.join(', ')}`);
        }
        // the schema arrives whole: Application values are kept (x-kubernetes-preserve-unknown-fields), nothing pruned
        const app = (await crd('applications.argoproj.io'))!;
        const schema = app.spec.versions[0]!.schema.openAPIV3Schema as { properties: { spec: { properties: { source: { properties: { helm: { properties: { valuesObject: Record<string, unknown> } } } } } } } };
        assert.equal(schema.properties.spec.properties.source.properties.helm.properties.valuesObject['x-kubernetes-preserve-unknown-fields'], true);
        const ns = await api.request('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'argocd' } });
        assert.equal(ns.status, 201, ns.body);
        const values = { applications: [{ name: 'kept' }] };
        const made = await api.request('POST', '/apis/argoproj.io/v1alpha1/namespaces/argocd/applications', {
            apiVersion: 'argoproj.io/v1alpha1',
            kind: 'Application',
            metadata: { name: 'probe', namespace: 'argocd' },
            spec: { project: 'default', destination: { server: 'https://kubernetes.default.svc' }, source: { repoURL: 'https://git.example.test/x.git', path: '.', helm: { valuesObject: values } } },
        });
        assert.equal(made.status, 201, made.body);
        assert.deepEqual((JSON.parse(made.body) as { spec: { source: { helm: { valuesObject: unknown } } } }).spec.source.helm.valuesObject, values);
    });

    it('read finds no drift in what it applied; diff of the same inputs wants nothing', async () => {
        const read = await p.read('argocd-crds', { ...inputs, drift: [] });
        assert.deepEqual((read.props as ArgoCDCrdsOutputs).drift, []);
        assert.equal((await p.diff('argocd-crds', read.props as ArgoCDCrdsOutputs, inputs)).changes, false);
    });

    it('drift: an edited label and a deleted CRD are named by read; diff then wants an update, which restores both', async () => {
        const edit = await api.request('PATCH', `${CRD_PATH}/applications.argoproj.io`, [{ op: 'replace', path: '/metadata/labels/app.kubernetes.io~1part-of', value: 'someone' }], 'application/json-patch+json');
        assert.equal(edit.status, 200, edit.body);
        const del = await api.request('DELETE', `${CRD_PATH}/appprojects.argoproj.io`);
        assert.equal(del.status, 200, del.body);
        for (let i = 0; i < 100 && (await crd('appprojects.argoproj.io')) !== undefined; i++) await new Promise((r) => setTimeout(r, 100));

        const read = await p.read('argocd-crds', { ...inputs, drift: [] });
        const drift = (read.props as ArgoCDCrdsOutputs).drift;
        assert.deepEqual(drift, ['applications.argoproj.io: metadata.labels.app.kubernetes.io/part-of: "someone", the release has "argocd"', 'appprojects.argoproj.io: missing from the cluster']);
        assert.equal((await p.diff('argocd-crds', read.props as ArgoCDCrdsOutputs, inputs)).changes, true);

        const updated = await p.update('argocd-crds', read.props as ArgoCDCrdsOutputs, inputs);
        assert.deepEqual((updated.outs as ArgoCDCrdsOutputs).drift, []);
        assert.equal((await crd('applications.argoproj.io'))!.metadata.labels['app.kubernetes.io/part-of'], 'argocd');
        assert.ok(await crd('appprojects.argoproj.io'));
        assert.deepEqual(((await p.read('argocd-crds', { ...inputs, drift: [] })).props as ArgoCDCrdsOutputs).drift, []);
    });

    it('a release file that changed since the program read it, or is missing, is refused before anything is applied', async () => {
        const changed = join(dir, 'install.yaml');
        writeFileSync(changed, readFileSync(inputs.manifestsPath, 'utf8').replace('app.kubernetes.io/part-of: argocd', 'app.kubernetes.io/part-of: elsewhere'));
        await assert.rejects(p.update('argocd-crds', { ...inputs, drift: [] }, { ...inputs, manifestsPath: changed }), /changed since the program read it/);
        assert.equal((await crd('applications.argoproj.io'))!.metadata.labels['app.kubernetes.io/part-of'], 'argocd', 'nothing applied');
        await assert.rejects(p.read('argocd-crds', { ...inputs, manifestsPath: join(dir, 'nope.yaml'), drift: [] }), /cannot read the release manifest .*nope\.yaml .*argocdManifestsPath must point at Argo CD's install\.yaml/);
    });

    it('delete keeps the CRDs (deleting one would delete every Application)', async () => {
        await p.delete('argocd-crds', { ...inputs, drift: [] });
        for (const name of NAMES) assert.ok(await crd(name), name);
    });
});
