// The Kubernetes objects the Pulumi program creates for each committed stack (cluster baseline: namespaces,
// ClusterRoles and bindings, NetworkPolicies, StorageClasses; ArgoCD's AppProjects and root Application; the
// foundation's Applications and Secrets), captured under Pulumi mocks and applied to the real kube-apiserver with
// server-side apply as Pulumi's Kubernetes provider does (enableServerSideApply): the local stack's namespaces for
// real (they are the destinations everything else lands in), everything else as a dry run so stacks do not clash.
import { strict as assert } from 'node:assert';
import { sharedControlPlane, type ControlPlane } from '../../harness/control-plane.js';
import { PLATFORM_NAMESPACE_NAMES } from '../../../components/cluster/namespaces.js';
import { SYNC_WAVES } from '../../../components/foundation/spec.js';
import { APP_FINALIZER, LAYER_LABEL } from '../../../components/argocd/spec.js';
import { settingsForStack, STACKS } from '../../../stacks/stack-files.js';
import { KubeApi, describeRejections, objectId } from './kube-api.js';
import { foundationChildren, objectTypeOf, stackObjects } from './pulumi-objects.js';

const FIELD_MANAGER = 'pulumi-kubernetes';

/**
 * Remote components are one recorded resource each under mocks, not objects: the Helm v4 Charts (ArgoCD's chart,
 * and on Hetzner the cloud-controller-manager and CSI charts) are rendered by the Kubernetes provider with Helm,
 * which does not run here. Named so a new remote component is noticed.
 */
const REMOTE = /^kubernetes:helm\.sh\/v4:Chart (argocd-chart|cloud-hcloud-ccm|cloud-hcloud-csi)$/;

/**
 * The one warning accepted, by exact text: the API server suggests finalizer names with a path, but Argo CD's
 * cascade-delete finalizer is this exact name (its controller looks for it on AppProjects and Applications).
 */
const ARGO_FINALIZER_WARNING = `299 - "metadata.finalizers: \\"${APP_FINALIZER}\\": prefer a domain-qualified finalizer name including a path (/) to avoid accidental conflicts with other finalizer writers"`;

describe('platform (integration): the Kubernetes objects Pulumi creates pass the real API server', function () {
    this.timeout(300_000);
    let cp: ControlPlane;
    let api: KubeApi;

    before(async function () {
        this.timeout(600_000);
        cp = await sharedControlPlane();
        api = new KubeApi(cp.kubeConfig());
        const namespaces = (await stackObjects('local')).objects.filter((o) => o.kind === 'Namespace');
        assert.equal(describeRejections(await api.applyAll(namespaces, { fieldManager: FIELD_MANAGER, dryRun: false })), '');
    });

    it('maps Pulumi type tokens to API versions and kinds', () => {
        assert.deepEqual(objectTypeOf('kubernetes:core/v1:Namespace'), { apiVersion: 'v1', kind: 'Namespace' });
        assert.deepEqual(objectTypeOf('kubernetes:rbac.authorization.k8s.io/v1:ClusterRole'), { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole' });
        assert.deepEqual(objectTypeOf('kubernetes:argoproj.io/v1alpha1:AppProject'), { apiVersion: 'argoproj.io/v1alpha1', kind: 'AppProject' });
        assert.equal(objectTypeOf('kubernetes:helm.sh/v4:Chart'), undefined);
        assert.equal(objectTypeOf('pulumi:providers:kubernetes'), undefined);
    });

    for (const stack of STACKS) {
        it(`${stack}: baseline, ArgoCD projects and apps, foundation Applications and Secrets: zero rejections`, async () => {
            const { objects, remote } = await stackObjects(stack);
            for (const r of remote) assert.match(r, REMOTE, `${r} is a remote component this test knows about`);

            const count = (kind: string) => objects.filter((o) => o.kind === kind).length;
            assert.deepEqual(objects.filter((o) => o.kind === 'Namespace').map((o) => o.metadata.name).sort(), [...PLATFORM_NAMESPACE_NAMES].sort());
            assert.ok(count('NetworkPolicy') > PLATFORM_NAMESPACE_NAMES.length, 'default-deny in every namespace plus the allows');
            assert.equal(count('ClusterRole'), 2);
            assert.equal(count('ClusterRoleBinding'), 2);
            // AWS adds the cloud add-ons (Load Balancer Controller, autoscaler, device plugin, ExternalDNS): their own
            // AppProject and one Application each (components/cloud/aws-addons.ts).
            const aws = settingsForStack(stack).cloud.provider === 'aws';
            const cloudApps = objects.filter((o) => o.kind === 'Application' && (o.metadata.labels as Record<string, string> | undefined)?.[LAYER_LABEL] === 'cloud');
            assert.equal(cloudApps.length > 0, aws, 'cloud add-on Applications on AWS only');
            assert.equal(count('AppProject'), aws ? 4 : 3);
            assert.equal(count('Application'), 2 + cloudApps.length, 'the foundation parent, the root app-of-apps and the cloud add-ons');
            const children = foundationChildren(objects);
            assert.deepEqual(children.map((a) => a.metadata.name).sort(), Object.keys(SYNC_WAVES).sort(), 'the parent carries every foundation Application');
            if (stack !== 'local') assert.ok(count('StorageClass') > 0, 'cloud stacks bring their storage classes');

            // The children too, as Argo CD would create them: the real Application CRD checks each.
            const results = await api.applyAll([...objects, ...children], { fieldManager: FIELD_MANAGER, dryRun: true });
            assert.equal(describeRejections(results), '', 'the API server rejected objects Pulumi would create');
            const warned = results
                .map((r) => ({ id: objectId(r.object), warnings: r.warnings.filter((w) => !(r.object.apiVersion.startsWith('argoproj.io/') && w === ARGO_FINALIZER_WARNING)) }))
                .filter((r) => r.warnings.length > 0)
                .map((r) => `${r.id}: ${r.warnings.join('; ')}`);
            assert.deepEqual(warned, [], 'no warnings but the Argo CD finalizer name');
        });
    }

    it('negative control: an AppProject the ArgoCD CRD forbids is rejected by the same path', async () => {
        const project = structuredClone((await stackObjects('local')).objects.find((o) => o.kind === 'AppProject')!) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
        project['spec'].destinations = 'everywhere';
        const r = await api.apply(project as never, { fieldManager: FIELD_MANAGER, dryRun: true });
        assert.ok(r.status >= 400, 'rejected');
        assert.match(r.message ?? '', /\.spec\.destinations: expected list/);
    });
});
