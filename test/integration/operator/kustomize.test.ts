// operator/manifests rendered by the REAL kustomize (the version Argo CD bundles, built by
// test/integration/platform/kustomize.ts): the kustomization loads, including ../crd, and yields the generated
// CRD (byte-for-byte the schema's, plus the common labels) and every operator object in namespace nkp-operator.
import assert from 'node:assert/strict';
import { nebariAppCrd } from '../../../operator/src/api/crd.js';
import { renderSource } from '../platform/kustomize.js';

describe('operator manifests: kustomize build operator/manifests (real kustomize)', function () {
  this.timeout(600_000);

  it('renders the CRD from operator/crd and every manifest object', () => {
    const objects = renderSource({ repoURL: 'file://repo', targetRevision: 'HEAD', path: 'operator/manifests' });
    const ids = objects.map((o) => `${o.kind}/${o.metadata.name}`).sort();
    assert.deepEqual(ids, [
      'ClusterRole/nebari-operator',
      'ClusterRoleBinding/nebari-operator',
      'CustomResourceDefinition/nebariapps.reconcilers.nebari.dev',
      'Deployment/nebari-operator',
      'NetworkPolicy/nebari-operator',
      'PodDisruptionBudget/nebari-operator',
      'Role/nebari-operator-leader-election',
      'RoleBinding/nebari-operator-leader-election',
      'Service/nebari-operator-metrics',
      'ServiceAccount/nebari-operator',
    ]);
    const crd = objects.find((o) => o.kind === 'CustomResourceDefinition')!;
    const generated = nebariAppCrd() as { spec: unknown; metadata: { labels: Record<string, string> } };
    assert.deepEqual(crd.spec, generated.spec, 'the rendered CRD is the generated one');
    assert.deepEqual(crd.metadata.labels, generated.metadata.labels);
    assert.equal(crd.metadata.namespace, undefined, 'the CRD is cluster-scoped');
    for (const o of objects.filter((x) => x.kind !== 'CustomResourceDefinition' && !x.kind.startsWith('Cluster'))) {
      assert.equal(o.metadata.namespace, 'nkp-operator', `${o.kind}/${o.metadata.name}`);
    }
  });
});
