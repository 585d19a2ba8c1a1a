/* eslint-disable @typescript-eslint/no-explicit-any -- assertions walk untyped Kubernetes / Helm bodies recorded by the mocks */
import { strict as assert } from 'node:assert';
import { setupPulumiMocks, type RecordingMocks } from '../pulumi-mocks.js';
import {
    allNetworkPolicies,
    clusterRoles,
    namespaceMetadata,
    networkPolicies,
    oidcGroupSubjects,
    platformDataStorageClass,
    storageClasses,
    PLATFORM_VIEWER_ROLE,
} from '../../../components/cluster/baseline.js';
import fc from 'fast-check';
import { NS, PLATFORM_NAMESPACES, PLATFORM_NAMESPACE_NAMES, RESERVED_NAMESPACES, packNamespaceClash } from '../../../components/cluster/namespaces.js';

describe('cluster baseline: pure helpers', () => {
    it('labels every platform namespace part-of nkp with pod-security levels; only the landing namespace is NebariApp-managed', () => {
        for (const spec of PLATFORM_NAMESPACES) {
            const m = namespaceMetadata(spec);
            assert.equal(m.labels?.['app.kubernetes.io/part-of'], 'nkp');
            assert.equal(m.labels?.['pod-security.kubernetes.io/enforce'], spec.enforce);
            assert.equal(m.labels?.['pod-security.kubernetes.io/warn'], 'restricted');
            assert.equal(m.labels?.['nebari.dev/managed'], spec.name === NS.landing ? 'true' : undefined, spec.name);
        }
        const restricted = PLATFORM_NAMESPACES.filter((s) => s.enforce === 'restricted').map((s) => s.name);
        assert.ok(restricted.includes(NS.operator) && restricted.includes(NS.landing), 'our own workloads run restricted');
    });

    it('every platform namespace starts with a default-deny ingress policy selecting all pods', () => {
        for (const spec of PLATFORM_NAMESPACES) {
            const [first] = networkPolicies(spec);
            assert.equal(first!.metadata.name, 'default-deny-ingress');
            assert.deepEqual(first!.spec, { podSelector: {}, policyTypes: ['Ingress'] });
        }
        const namespacesWithDeny = new Set(allNetworkPolicies().filter((p) => p.metadata.name === 'default-deny-ingress').map((p) => p.metadata.namespace));
        assert.deepEqual([...namespacesWithDeny].sort(), [...PLATFORM_NAMESPACE_NAMES].sort());
    });

    it('gateway backends (argocd, keycloak, landing) accept traffic from the gateway namespace; others do not', () => {
        for (const spec of PLATFORM_NAMESPACES) {
            const p = networkPolicies(spec).find((x) => x.metadata.name === 'allow-from-gateway');
            const expected = [NS.argocd, NS.keycloak, NS.landing].includes(spec.name as never);
            assert.equal(p !== undefined, expected, spec.name);
            if (p) assert.deepEqual((p.spec.ingress as any[])[0].from[0].namespaceSelector.matchLabels, { 'kubernetes.io/metadata.name': NS.gateway });
        }
    });

    it('metrics scraping is allowed from the collector in the monitoring namespace everywhere else', () => {
        for (const spec of PLATFORM_NAMESPACES.filter((s) => s.name !== NS.monitoring)) {
            const p = networkPolicies(spec).find((x) => x.metadata.name === 'allow-metrics-scraping')!;
            const from = (p.spec.ingress as any[])[0].from[0];
            assert.equal(from.namespaceSelector.matchLabels['kubernetes.io/metadata.name'], NS.monitoring);
            assert.equal(from.podSelector.matchLabels['app.kubernetes.io/name'], 'opentelemetry-collector');
        }
    });

    it('the operator is egress-isolated: DNS to kube-dns, the API server by port, Keycloak; nothing else', () => {
        const ps = networkPolicies(PLATFORM_NAMESPACES.find((s) => s.name === NS.operator)!);
        const egress = ps.filter((p) => p.spec.policyTypes.includes('Egress'));
        assert.deepEqual(egress.map((p) => p.metadata.name), ['default-deny-egress', 'allow-dns-egress', 'allow-apiserver-egress', 'allow-egress-to-keycloak']);
        const dns = egress[1]!.spec.egress as any[];
        assert.deepEqual(dns[0].ports, [{ port: 53, protocol: 'UDP' }, { port: 53, protocol: 'TCP' }]);
        assert.equal(dns[0].to[0].podSelector.matchLabels['k8s-app'], 'kube-dns');
        assert.deepEqual((egress[2]!.spec.egress as any[])[0].ports.map((p: any) => p.port), [443, 6443]);
        // And Keycloak admits the operator on its HTTP port.
        const kc = networkPolicies(PLATFORM_NAMESPACES.find((s) => s.name === NS.keycloak)!).find((p) => p.metadata.name === 'allow-from-nkp-operator')!;
        assert.deepEqual((kc.spec.ingress as any[])[0].ports, [{ port: 8080, protocol: 'TCP' }]);
    });

    it('no allow rule opens every port to every source: open ingress always names ports and pods', () => {
        for (const p of allNetworkPolicies()) {
            for (const rule of (p.spec.ingress ?? []) as any[]) {
                if (rule.from === undefined) {
                    assert.ok(rule.ports?.length > 0, `${p.metadata.namespace}/${p.metadata.name} admits any source without ports`);
                    assert.ok(Object.keys(p.spec.podSelector.matchLabels ?? {}).length > 0, `${p.metadata.namespace}/${p.metadata.name} opens every pod`);
                }
            }
        }
    });

    it('binds OIDC groups with the API server prefix, de-duplicated', () => {
        assert.deepEqual(oidcGroupSubjects('oidc:', ['admins', 'admins', 'ops']).map((s) => s.name), ['oidc:admins', 'oidc:ops']);
        assert.deepEqual(oidcGroupSubjects('', ['viewers'])[0], { kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: 'viewers' });
    });

    it('platform-viewer is read-only and cannot read Secrets', () => {
        const viewer = clusterRoles().find((r) => r.name === PLATFORM_VIEWER_ROLE)!;
        for (const rule of viewer.rules) {
            assert.ok(rule.verbs.every((v) => ['get', 'list', 'watch'].includes(v)), JSON.stringify(rule));
            if (rule.apiGroups?.includes('')) assert.ok(!rule.resources!.includes('secrets') && !rule.resources!.includes('*'));
        }
    });

    it('adds a Retain StorageClass for AWS (encrypted gp3) and Hetzner, none for local clusters', () => {
        const aws = storageClasses('aws');
        assert.equal(aws.length, 1);
        assert.equal(aws[0]!.provisioner, 'ebs.csi.aws.com');
        assert.equal(aws[0]!.parameters?.encrypted, 'true');
        assert.equal(aws[0]!.reclaimPolicy, 'Retain');
        assert.equal(storageClasses('hetzner')[0]!.provisioner, 'csi.hetzner.cloud');
        assert.deepEqual(storageClasses('local'), []);
        assert.equal(platformDataStorageClass('local'), undefined);
        assert.equal(platformDataStorageClass('aws'), 'gp3-retain');
    });
});

describe('pack namespace rule (shared by config validation and the packs AppProject)', () => {
    const guarded = [...PLATFORM_NAMESPACE_NAMES, ...RESERVED_NAMESPACES];
    it('refuses every platform/system namespace, every glob prefix of one, and *', () => {
        fc.assert(
            fc.property(fc.constantFrom(...guarded), fc.nat(30), (ns, cut) => {
                const glob = `${ns.slice(0, Math.min(cut, ns.length))}*`;
                return packNamespaceClash(ns) !== undefined && packNamespaceClash(glob) !== undefined;
            }),
        );
        assert.equal(packNamespaceClash('*'), 'every namespace');
    });
    it('allows any name or glob that covers none of them', () => {
        fc.assert(
            fc.property(fc.stringMatching(/^[a-z][a-z0-9-]{0,20}[a-z0-9]$/), fc.boolean(), (name, glob) => {
                const pattern = glob ? `${name}-*` : name;
                const covers = guarded.some((g) => (glob ? g.startsWith(`${name}-`) : g === name));
                return (packNamespaceClash(pattern) === undefined) === !covers;
            }),
        );
    });
});

describe('ClusterBaseline component (Pulumi mocks)', () => {
    let mocks: RecordingMocks;
    let mod: typeof import('../../../components/cluster/index.js');
    let pulumi: typeof import('@pulumi/pulumi');
    before(async () => {
        mocks = await setupPulumiMocks();
        mod = await import('../../../components/cluster/index.js');
        pulumi = await import('@pulumi/pulumi');
    });
    beforeEach(() => mocks.reset());

    async function build(provider: 'aws' | 'hetzner' | 'local') {
        const b = new mod.ClusterBaseline('b', { provider, oidcGroupsPrefix: 'oidc:', adminGroups: ['admins'], viewerGroups: ['viewers', 'developers'], defaultStorageClass: 'local-path' });
        await mocks.settle();
        return b;
    }

    it('registers one component with every namespace, policy, role, binding and the provider\'s storage classes', async () => {
        const b = await build('aws');
        assert.equal(mocks.one('nkp:cluster:Baseline').name, 'b');
        const namespaces = mocks.ofType('kubernetes:core/v1:Namespace');
        assert.deepEqual(namespaces.map((n) => n.plain.metadata.name).sort(), [...PLATFORM_NAMESPACE_NAMES].sort());
        assert.equal(mocks.ofType('kubernetes:networking.k8s.io/v1:NetworkPolicy').length, allNetworkPolicies().length);
        assert.equal(b.networkPolicyCount, allNetworkPolicies().length);
        assert.equal(mocks.ofType('kubernetes:rbac.authorization.k8s.io/v1:ClusterRole').length, 2);
        const bindings = mocks.ofType('kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding');
        const admin = bindings.find((r) => r.plain.metadata.name === 'nkp:platform-admin')!;
        assert.deepEqual(admin.plain.subjects.map((s: any) => s.name), ['oidc:admins']);
        const viewer = bindings.find((r) => r.plain.metadata.name === 'nkp:platform-viewer')!;
        assert.deepEqual(viewer.plain.subjects.map((s: any) => s.name), ['oidc:viewers', 'oidc:developers']);
        assert.deepEqual(mocks.ofType('kubernetes:storage.k8s.io/v1:StorageClass').map((s) => s.plain.metadata.name), ['gp3-retain']);
        assert.equal(await new Promise((r) => b.dataStorageClass.apply(r)), 'gp3-retain');
    });

    it('a local cluster gets no extra StorageClass and platform data uses the cloud default', async () => {
        const b = await build('local');
        assert.equal(mocks.ofType('kubernetes:storage.k8s.io/v1:StorageClass').length, 0);
        assert.equal(await new Promise((r) => b.dataStorageClass.apply(r)), 'local-path');
        assert.equal(pulumi.Output.isInstance(b.dataStorageClass), true);
    });
});
