// k8s-non-root exemptions (NON_ROOT_EXEMPTIONS, policy/README.md "Exemptions") for the workloads of the Helm charts
// the HetznerCloud component installs: the CSI node plugin must run privileged as root; the CSI controller and the
// cloud-controller-manager charts offer no container securityContext. Each exemption covers one object, only below
// the component's Helm v4 Chart (URN type chain and child name), only the named containers and checks.
// Stand-in (named): the charts cannot be fetched here (charts.hetzner.cloud is not reachable, and no registry this
// machine reaches serves them), so the objects are built in this file after the workloads hcloud-csi 2.19.0 and
// hcloud-cloud-controller-manager 1.30.0 render (container names, securityContext, resources placement; their
// templates read on GitHub), with the program's own values (csiValues, ccmValues) put where the templates put them.
import assert from 'node:assert/strict';
import { imagesPinned, nonRootContainers, nonRootExemptionFor, NON_ROOT_EXEMPTIONS, resourceLimits } from '../../../policy/policies/kubernetes.js';
import { ccmValues, csiValues, HCLOUD_CHART_RESOURCES } from '../../../components/cloud/hetzner-plan.js';
import { messages, resourceArgs, runResourcePolicy, type ResourceSpec } from './harness.js';

const CHART_PARENT = 'nkp:cloud:HetznerCloud$kubernetes:helm.sh/v4:Chart';
type Res = { requests?: Record<string, string>; limits?: Record<string, string> };
type C = { name: string; image: string; resources?: Res; securityContext?: Record<string, unknown> };

/** hcloud-csi's node DaemonSet with these per-container resources (chart default: none). */
function csiNode(resources: Partial<Record<'csiNodeDriverRegistrar' | 'livenessProbe' | 'hcloudCSIDriver', Res>> = {}, extra: C[] = []): ResourceSpec {
    const containers: C[] = [
        { name: 'csi-node-driver-registrar', image: 'registry.k8s.io/sig-storage/csi-node-driver-registrar:v2.15.0', resources: resources.csiNodeDriverRegistrar ?? {} },
        { name: 'liveness-probe', image: 'registry.k8s.io/sig-storage/livenessprobe:v2.17.0', resources: resources.livenessProbe ?? {} },
        { name: 'hcloud-csi-driver', image: 'docker.io/hetznercloud/hcloud-csi-driver:v2.19.0', securityContext: { privileged: true }, resources: resources.hcloudCSIDriver ?? {} },
        ...extra,
    ];
    return {
        type: 'kubernetes:apps/v1:DaemonSet',
        name: 'cloud-hcloud-csi:kube-system/hcloud-csi-node',
        parentType: CHART_PARENT,
        props: { apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'hcloud-csi-node', namespace: 'kube-system' }, spec: { template: { spec: { securityContext: { fsGroup: 1001 }, containers } } } },
    };
}

/** hcloud-csi's controller Deployment with the controller values (resources, podSecurityContext without `enabled`). */
function csiController(values: { resources?: Record<string, Res>; podSecurityContext?: Record<string, unknown> }): ResourceSpec {
    const r = values.resources ?? {};
    const names: [string, string, string][] = [
        ['hcloud-csi-driver', 'docker.io/hetznercloud/hcloud-csi-driver:v2.19.0', 'hcloudCSIDriver'],
        ['csi-attacher', 'registry.k8s.io/sig-storage/csi-attacher:v4.10.0', 'csiAttacher'],
        ['csi-resizer', 'registry.k8s.io/sig-storage/csi-resizer:v2.0.0', 'csiResizer'],
        ['csi-provisioner', 'registry.k8s.io/sig-storage/csi-provisioner:v6.1.0', 'csiProvisioner'],
        ['liveness-probe', 'registry.k8s.io/sig-storage/livenessprobe:v2.17.0', 'livenessProbe'],
    ];
    const { enabled: _e, ...pod } = values.podSecurityContext ?? { enabled: true, fsGroup: 1001 };
    return {
        type: 'kubernetes:apps/v1:Deployment',
        name: 'cloud-hcloud-csi:kube-system/hcloud-csi-controller',
        parentType: CHART_PARENT,
        props: {
            apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'hcloud-csi-controller', namespace: 'kube-system' },
            spec: { template: { spec: { securityContext: pod, containers: names.map(([name, image, key]) => ({ name, image, resources: r[key] ?? {} })) } } },
        },
    };
}

function ccm(resources: Res, securityContext?: Record<string, unknown>): ResourceSpec {
    return {
        type: 'kubernetes:apps/v1:Deployment',
        name: 'cloud-hcloud-ccm:kube-system/hcloud-cloud-controller-manager',
        parentType: CHART_PARENT,
        props: {
            apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'hcloud-cloud-controller-manager', namespace: 'kube-system' },
            spec: { template: { spec: { hostNetwork: true, containers: [{ name: 'hcloud-cloud-controller-manager', image: 'quay.io/syself/hetzner-cloud-controller-manager:v1.30.0', resources, ...(securityContext ? { securityContext } : {}) }] } } },
        },
    };
}

const ours = csiValues(true) as { controller: { resources: Record<string, Res>; podSecurityContext: Record<string, unknown> }; node: { resources: Record<string, Res> } };
const all = async (spec: ResourceSpec) => [...(await messages(runResourcePolicy(nonRootContainers, spec))), ...(await messages(runResourcePolicy(resourceLimits, spec))), ...(await messages(runResourcePolicy(imagesPinned, spec)))];

describe('policy exemptions: the Hetzner charts\' workloads (k8s-non-root)', () => {
    it('with the program\'s values every workload of both charts passes k8s-non-root, k8s-resource-limits and k8s-image-pinned', async () => {
        assert.deepEqual(await all(csiNode(ours.node.resources)), []);
        assert.deepEqual(await all(csiController(ours.controller)), []);
        assert.deepEqual(await all(ccm((ccmValues('fsn1') as { resources: Res }).resources)), []);
        assert.deepEqual(ours.node.resources, HCLOUD_CHART_RESOURCES.csiNode);
    });

    it('the exemptions waive nothing else: the charts\' defaults (no limits) fail k8s-resource-limits; the controller without the non-root pod fails k8s-non-root', async () => {
        const limits = await messages(runResourcePolicy(resourceLimits, csiNode()));
        assert.equal(limits.length, 3, limits.join('\n'));
        assert.ok(limits.every((m) => /has no resources\.limits\.cpu \/ memory/.test(m)));
        const root = await messages(runResourcePolicy(nonRootContainers, csiController({ resources: ours.controller.resources })));
        assert.equal(root.length, 5);
        assert.ok(root.every((m) => /may run as root/.test(m) && !/privilege escalation/.test(m)), root.join('\n'));
    });

    it('only the named containers and checks: a privileged sidecar, an extra container, a privileged CCM are refused', async () => {
        const privilegedSidecar = csiNode(ours.node.resources);
        const spec = (privilegedSidecar.props as { spec: { template: { spec: { containers: C[] } } } }).spec.template.spec;
        spec.containers[0]!.securityContext = { privileged: true };
        assert.deepEqual(await messages(runResourcePolicy(nonRootContainers, privilegedSidecar)), [
            'DaemonSet kube-system/hcloud-csi-node container "csi-node-driver-registrar" is privileged (remove securityContext.privileged).',
        ]);
        const extra = await messages(runResourcePolicy(nonRootContainers, csiNode(ours.node.resources, [{ name: 'debug', image: 'busybox:1.37', securityContext: { privileged: true } }])));
        assert.equal(extra.length, 1);
        assert.match(extra[0]!, /container "debug" may run as root .*; allows privilege escalation .*; is privileged/);
        const privilegedCcm = await messages(runResourcePolicy(nonRootContainers, ccm(HCLOUD_CHART_RESOURCES.ccm, { privileged: true })));
        assert.match(privilegedCcm.join('\n'), /"hcloud-cloud-controller-manager" is privileged/);
    });

    it('only that object below the component\'s chart: the same DaemonSet applied directly, under another component or chart, or in another namespace is refused', async () => {
        const base = csiNode(ours.node.resources);
        const variants: [string, ResourceSpec][] = [
            ['applied directly (no chart parent)', { ...base, parentType: undefined, name: 'hcloud-csi-node' }],
            ['below another component', { ...base, parentType: 'nkp:cloud:AwsCloud$kubernetes:helm.sh/v4:Chart' }],
            ['from another chart resource', { ...base, name: 'cloud-other:kube-system/hcloud-csi-node' }],
            ['in another namespace', { ...base, name: 'cloud-hcloud-csi:default/hcloud-csi-node', props: { ...base.props, metadata: { name: 'hcloud-csi-node', namespace: 'default' } } }],
            ['under another name', { ...base, props: { ...base.props, metadata: { name: 'csi-node', namespace: 'kube-system' } } }],
        ];
        for (const [why, spec] of variants) {
            assert.equal(nonRootExemptionFor(resourceArgs(spec)), undefined, why);
            const m = await messages(runResourcePolicy(nonRootContainers, spec));
            assert.ok(m.some((x) => /"hcloud-csi-driver" may run as root .*; allows privilege escalation .*; is privileged/.test(x)), `${why}: ${m.join('\n')}`);
        }
        assert.equal(nonRootExemptionFor(resourceArgs(base))?.id, 'hcloud-csi-node');
    });

    it('every exemption says why, names its containers and sits below the HetznerCloud component\'s chart', () => {
        assert.deepEqual(NON_ROOT_EXEMPTIONS.map((e) => e.id), ['hcloud-csi-node', 'hcloud-csi-controller', 'hcloud-cloud-controller-manager']);
        for (const e of NON_ROOT_EXEMPTIONS) {
            assert.ok(e.why.length > 40, e.id);
            assert.deepEqual([...e.parentTypes], ['nkp:cloud:HetznerCloud', 'kubernetes:helm.sh/v4:Chart']);
            assert.equal(e.namespace, 'kube-system');
            assert.ok(Object.keys(e.containers).length > 0);
        }
        const privileged = NON_ROOT_EXEMPTIONS.flatMap((e) => Object.entries(e.containers).filter(([, checks]) => checks.includes('privileged')).map(([c]) => `${e.id}/${c}`));
        assert.deepEqual(privileged, ['hcloud-csi-node/hcloud-csi-driver'], 'one privileged container in the whole platform');
    });
});
