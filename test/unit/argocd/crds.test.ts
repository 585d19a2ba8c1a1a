// Argo CD's CRDs as one resource (components/argocd/crds.ts): the pure decisions. The provider against the real API
// server is test/integration/argocd/crds.test.ts; under the real engine, test/integration/engine/platform.test.ts.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { crdApplyBody, crdSetChanges, crdSetDigest, crdSetDrift, readLiveCrds, releaseCrds, subsetDrift, withoutLegacyManagers, type ArgoCDCrdsInputs } from '../../../components/argocd/crds.js';
import { parseManifest, type KubeObject } from '../../../components/argocd/manifests.js';
import { goModuleDir, versions } from '../../harness/upstream.js';

const release = (): KubeObject[] => parseManifest(readFileSync(join(goModuleDir(versions.crdSources['argocd']!.module, versions.crdSources['argocd']!.version), 'manifests', 'install.yaml'), 'utf8'), 'install.yaml');

describe("Argo CD's CRDs as one resource (pure)", () => {
    it('takes the three CRDs of the release, in its order, with only what is applied', () => {
        const crds = releaseCrds(release());
        assert.deepEqual(crds.map((c) => c.metadata.name), ['applications.argoproj.io', 'applicationsets.argoproj.io', 'appprojects.argoproj.io']);
        for (const c of crds) assert.deepEqual(Object.keys(c).sort(), ['apiVersion', 'kind', 'metadata', 'spec']);
        assert.deepEqual(crdApplyBody({ apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: 'x.y', uid: 'u', labels: { a: 'b' } }, spec: { group: 'y' }, status: { acceptedNames: {} } }), {
            apiVersion: 'apiextensions.k8s.io/v1',
            kind: 'CustomResourceDefinition',
            metadata: { name: 'x.y', labels: { a: 'b' } },
            spec: { group: 'y' },
        });
    });

    it('the digest follows the CRDs and nothing else', () => {
        const a = releaseCrds(release());
        const b = releaseCrds(release());
        assert.equal(crdSetDigest(a), crdSetDigest(b));
        assert.match(crdSetDigest(a), /^[0-9a-f]{64}$/);
        (b[2]!.metadata as { labels: Record<string, string> }).labels['x'] = 'y';
        assert.notEqual(crdSetDigest(a), crdSetDigest(b));
        const withOthers = [...release(), { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'extra' } }];
        assert.equal(crdSetDigest(releaseCrds(withOthers)), crdSetDigest(a), 'other objects of the manifest do not count');
    });

    it('drift: what the API server adds is not drift; a changed, missing or extra value is, with its path', () => {
        const desired = { spec: { group: 'g', versions: [{ name: 'v1', served: true }], names: { kind: 'K' } } };
        assert.deepEqual(subsetDrift(desired, { spec: { group: 'g', versions: [{ name: 'v1', served: true, storage: true }], names: { kind: 'K', listKind: 'KList' }, conversion: { strategy: 'None' } } }, ''), []);
        assert.deepEqual(subsetDrift(desired, { spec: { group: 'h', versions: [{ name: 'v1', served: false }], names: {} } }, ''), [
            'spec.group: "h", the release has "g"',
            'spec.versions[0].served: false, the release has true',
            'spec.names.kind: missing, the release has "K"',
        ]);
        assert.deepEqual(subsetDrift(desired, { spec: { group: 'g', versions: [{ name: 'v1', served: true }, { name: 'v2' }], names: { kind: 'K' } } }, ''), ['spec.versions: 2 items, the release has 1 items']);
        assert.deepEqual(subsetDrift(desired, { spec: 'x' }, ''), ['spec: "x", the release has an object']);
        assert.equal(subsetDrift({ a: [1, 2, 3, 4, 5, 6, 7] }, { a: [0, 0, 0, 0, 0, 0, 0] }, '', 5).length, 5, 'at most the limit');
    });

    it('the drift of a CRD set names each CRD: a missing one, an edited label', () => {
        const crds = releaseCrds(release());
        const live = new Map(crds.map((c) => [c.metadata.name, structuredClone(c)]));
        live.get('appprojects.argoproj.io')!.metadata['uid'] = 'server-side';
        assert.deepEqual(crdSetDrift(crds, live), [], 'in sync');
        (live.get('applications.argoproj.io')!.metadata as { labels: Record<string, string> }).labels['app.kubernetes.io/part-of'] = 'someone';
        live.delete('appprojects.argoproj.io');
        assert.deepEqual(crdSetDrift(crds, live), [
            'applications.argoproj.io: metadata.labels.app.kubernetes.io/part-of: "someone", the release has "argocd"',
            'appprojects.argoproj.io: missing from the cluster',
        ]);
    });

    it('a run applies again only when the release, the digest, the manifest path, the names or the cluster changed, or a refresh found drift', () => {
        const news: ArgoCDCrdsInputs = { release: 'v3.1.8', digest: 'd', names: ['a', 'b'], manifestsPath: '/m/install.yaml', kubeconfig: 'k' };
        assert.deepEqual(crdSetChanges({ ...news, drift: [] }, news), []);
        assert.deepEqual(crdSetChanges({ ...news, manifestsPath: '/elsewhere/install.yaml', drift: [] }, news), ['manifestsPath'], 'another machine: applied again, so its refresh can read the path the state holds');
        assert.deepEqual(crdSetChanges({ ...news, release: 'v3.1.7', digest: 'c', drift: [] }, news), ['release', 'digest']);
        assert.deepEqual(crdSetChanges({ ...news, kubeconfig: 'old', drift: [] }, news), ['kubeconfig']);
        assert.deepEqual(crdSetChanges({ ...news, names: ['a'], drift: [] }, news), ['names']);
        assert.deepEqual(crdSetChanges({ ...news, drift: ['a: missing from the cluster'] }, news), ['drift']);
        assert.deepEqual(crdSetChanges({}, news), ['release', 'digest', 'manifestsPath', 'kubeconfig', 'names']);
    });

    it('a kubeconfig without a current cluster is refused before any request, naming the resource', async () => {
        const kubeconfig = 'apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n';
        await assert.rejects(readLiveCrds(kubeconfig, ['applications.argoproj.io']), { message: "Argo CD's CRDs: the kubeconfig has no current cluster" });
    });

    it("a stack's former field manager (the Kubernetes provider's) is dropped, and only when present", () => {
        assert.equal(withoutLegacyManagers(undefined), undefined);
        assert.equal(withoutLegacyManagers([{ manager: 'nkp-argocd-crds' }, { manager: 'kube-apiserver' }]), undefined);
        assert.deepEqual(withoutLegacyManagers([{ manager: 'pulumi-kubernetes-1a2b' }, { manager: 'nkp-argocd-crds' }, { manager: 'kube-apiserver' }]), [{ manager: 'nkp-argocd-crds' }, { manager: 'kube-apiserver' }]);
    });
});
