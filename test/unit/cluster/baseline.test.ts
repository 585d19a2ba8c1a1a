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
import { clusterNetwork } from '../../../components/cluster/network.js';

const LOCAL = clusterNetwork({ provider: 'local' });

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
            const [first] = networkPolicies(spec, LOCAL);
            assert.equal(first!.metadata.name, 'default-deny-ingress');
            assert.deepEqual(first!.spec, { podSelector: {}, policyTypes: ['Ingress'] });
        }
        const namespacesWithDeny = new Set(allNetworkPolicies(LOCAL).filter((p) => p.metadata.name === 'default-deny-ingress').map((p) => p.metadata.namespace));
        assert.deepEqual([...namespacesWithDeny].sort(), [...PLATFORM_NAMESPACE_NAMES].sort());
    });

    it('gateway backends (argocd, keycloak, landing) accept traffic from the gateway namespace; others do not', () => {
        for (const spec of PLATFORM_NAMESPACES) {
            const p = networkPolicies(spec, LOCAL).find((x) => x.metadata.name === 'allow-from-gateway');
            const expected = [NS.argocd, NS.keycloak, NS.landing].includes(spec.name as never);
            assert.equal(p !== undefined, expected, spec.name);
            if (p) assert.deepEqual((p.spec.ingress as any[])[0].from[0].namespaceSelector.matchLabels, { 'kubernetes.io/metadata.name': NS.gateway });
        }
    });

    it('metrics scraping is allowed from the collector in the monitoring namespace everywhere else', () => {
        for (const spec of PLATFORM_NAMESPACES.filter((s) => s.name !== NS.monitoring)) {
            const p = networkPolicies(spec, LOCAL).find((x) => x.metadata.name === 'allow-metrics-scraping')!;
            const from = (p.spec.ingress as any[])[0].from[0];
            assert.equal(from.namespaceSelector.matchLabels['kubernetes.io/metadata.name'], NS.monitoring);
            assert.equal(from.podSelector.matchLabels['app.kubernetes.io/name'], 'opentelemetry-collector');
        }
    });

    it('the operator is egress-isolated: DNS, the API server, the issuer, Keycloak, external HTTPS (generic-oidc); nothing else', () => {
        const ps = networkPolicies(PLATFORM_NAMESPACES.find((s) => s.name === NS.operator)!, LOCAL);
        const egress = ps.filter((p) => p.spec.policyTypes.includes('Egress'));
        assert.deepEqual(egress.map((p) => p.metadata.name), ['default-deny-egress', 'allow-dns-egress', 'allow-apiserver-egress', 'allow-oidc-issuer-egress', 'allow-egress-to-keycloak', 'allow-external-https-egress']);
        const dns = egress[1]!.spec.egress as any[];
        assert.deepEqual(dns[0].ports, [{ port: 53, protocol: 'UDP' }, { port: 53, protocol: 'TCP' }]);
        assert.equal(dns[0].to[0].podSelector.matchLabels['k8s-app'], 'kube-dns');
        const kcEgress = (egress[4]!.spec.egress as any[])[0];
        assert.deepEqual(kcEgress, { to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': NS.keycloak } } }], ports: [{ port: 8080, protocol: 'TCP' }] });
        assert.deepEqual((egress[5]!.spec.egress as any[])[0], { to: [{ ipBlock: { cidr: '0.0.0.0/0' } }], ports: [{ port: 443, protocol: 'TCP' }] });
        // And Keycloak admits the operator on its HTTP port.
        const kc = networkPolicies(PLATFORM_NAMESPACES.find((s) => s.name === NS.keycloak)!, LOCAL).find((p) => p.metadata.name === 'allow-from-nkp-operator')!;
        assert.deepEqual((kc.spec.ingress as any[])[0].ports, [{ port: 8080, protocol: 'TCP' }]);
    });

    it('the landing page egresses to DNS, the API server, the issuer, Keycloak and any port of pods in NebariApp namespaces; nothing else', () => {
        const ps = networkPolicies(PLATFORM_NAMESPACES.find((s) => s.name === NS.landing)!, LOCAL);
        const egress = ps.filter((p) => p.spec.policyTypes.includes('Egress'));
        assert.deepEqual(egress.map((p) => p.metadata.name), ['default-deny-egress', 'allow-dns-egress', 'allow-apiserver-egress', 'allow-oidc-issuer-egress', 'allow-egress-to-keycloak', 'allow-egress-to-app-backends']);
        const backends = (egress[5]!.spec.egress as any[])[0];
        assert.deepEqual(backends, { to: [{ namespaceSelector: { matchLabels: { 'nebari.dev/managed': 'true' } } }] }, 'every port of pods in opted-in namespaces, no ipBlock');
        assert.ok(!egress.some((p) => p.metadata.name === 'allow-external-https-egress'), 'the landing page talks only to the platform issuer');
    });

    it('only the operator and the landing page are egress-isolated', () => {
        const isolated = PLATFORM_NAMESPACES.filter((s) => networkPolicies(s, LOCAL).some((p) => p.metadata.name === 'default-deny-egress')).map((s) => s.name);
        assert.deepEqual(isolated.sort(), [NS.landing, NS.operator].sort());
    });

    describe('provider-dependent egress: the API server and the public OIDC issuer', () => {
        const rules = (net: ReturnType<typeof clusterNetwork>) => {
            const ps = networkPolicies(PLATFORM_NAMESPACES.find((s) => s.name === NS.landing)!, net);
            const one = (n: string) => (ps.find((p) => p.metadata.name === n)!.spec.egress as any[])[0];
            return { api: one('allow-apiserver-egress'), issuer: one('allow-oidc-issuer-egress') };
        };

        it('aws: the EKS control plane in the VPC on 443; the issuer (NLB, addresses unknown) on 443 outside the VPC', () => {
            const { api, issuer } = rules(clusterNetwork({ provider: 'aws', vpcCidr: '10.20.0.0/16' }));
            assert.deepEqual(api, { to: [{ ipBlock: { cidr: '10.20.0.0/16' } }], ports: [{ port: 443, protocol: 'TCP' }] });
            assert.deepEqual(issuer, { to: [{ ipBlock: { cidr: '0.0.0.0/0', except: ['10.20.0.0/16'] } }], ports: [{ port: 443, protocol: 'TCP' }] });
        });

        it('hetzner: the K3s servers in the private network on 6443; the issuer is exactly the gateway load balancer on 443', () => {
            const { api, issuer } = rules(clusterNetwork({ provider: 'hetzner', networkCidr: '10.10.0.0/16', gatewayLoadBalancerIp: '198.51.100.80' }));
            assert.deepEqual(api, { to: [{ ipBlock: { cidr: '10.10.0.0/16' } }], ports: [{ port: 6443, protocol: 'TCP' }] });
            assert.deepEqual(issuer, { to: [{ ipBlock: { cidr: '198.51.100.80/32' } }], ports: [{ port: 443, protocol: 'TCP' }] });
        });

        it('local: the API server on 6443; the issuer is the public Gateway\'s Envoy pods on their container ports (CoreDNS points the hostnames there)', () => {
            const { api, issuer } = rules(LOCAL);
            assert.deepEqual(api, { to: [{ ipBlock: { cidr: '0.0.0.0/0' } }], ports: [{ port: 6443, protocol: 'TCP' }] });
            assert.deepEqual(issuer.to, [
                {
                    namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': NS.gateway } },
                    podSelector: { matchLabels: { 'app.kubernetes.io/managed-by': 'envoy-gateway', 'app.kubernetes.io/component': 'proxy', 'gateway.envoyproxy.io/owning-gateway-name': 'public', 'gateway.envoyproxy.io/owning-gateway-namespace': NS.gateway } },
                },
            ]);
            assert.deepEqual(issuer.ports, [{ port: 10443, protocol: 'TCP' }, { port: 10080, protocol: 'TCP' }]);
            // The gateway namespace admits exactly those ports on the proxies.
            const open = networkPolicies(PLATFORM_NAMESPACES.find((s) => s.name === NS.gateway)!, LOCAL).find((p) => p.metadata.name === 'allow-open-ingress-0')!;
            assert.deepEqual((open.spec.ingress as any[])[0].ports.map((p: any) => p.port).sort(), [10080, 10443]);
        });

        it('names and number of policies do not depend on the provider', () => {
            const names = (net: ReturnType<typeof clusterNetwork>) => allNetworkPolicies(net).map((p) => `${p.metadata.namespace}/${p.metadata.name}`);
            const aws = names(clusterNetwork({ provider: 'aws', vpcCidr: '10.0.0.0/16' }));
            assert.deepEqual(names(LOCAL), aws);
            assert.deepEqual(names(clusterNetwork({ provider: 'hetzner', networkCidr: '10.10.0.0/16', gatewayLoadBalancerIp: '203.0.113.9' })), aws);
        });

        it('bad addresses fail naming the field', () => {
            assert.throws(() => clusterNetwork({ provider: 'aws', vpcCidr: '10.0.0.0' }), /vpcCidr "10.0.0.0" must be an IPv4 CIDR/);
            assert.throws(() => clusterNetwork({ provider: 'hetzner', networkCidr: '10.10.0.0/16', gatewayLoadBalancerIp: 'lb.example.com' }), /gatewayLoadBalancerIp "lb.example.com" must be an IPv4 address/);
        });
    });

    it('no allow rule opens every port to every source: open ingress always names ports and pods', () => {
        for (const p of allNetworkPolicies(LOCAL)) {
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

    async function build(provider: 'aws' | 'hetzner' | 'local', network?: import('../../../components/cluster/network.js').ClusterNetworkFacts<import('@pulumi/pulumi').Input<string>>) {
        const net = network ?? (provider === 'aws' ? { provider, vpcCidr: '10.0.0.0/16' } : provider === 'hetzner' ? { provider, networkCidr: '10.10.0.0/16', gatewayLoadBalancerIp: '198.51.100.80' } : { provider });
        const b = new mod.ClusterBaseline('b', { provider, oidcGroupsPrefix: 'oidc:', adminGroups: ['admins'], viewerGroups: ['viewers', 'developers'], defaultStorageClass: 'local-path', network: net });
        await mocks.settle();
        return b;
    }

    it('registers one component with every namespace, policy, role, binding and the provider\'s storage classes', async () => {
        const b = await build('aws');
        assert.equal(mocks.one('nkp:cluster:Baseline').name, 'b');
        const namespaces = mocks.ofType('kubernetes:core/v1:Namespace');
        assert.deepEqual(namespaces.map((n) => n.plain.metadata.name).sort(), [...PLATFORM_NAMESPACE_NAMES].sort());
        assert.equal(mocks.ofType('kubernetes:networking.k8s.io/v1:NetworkPolicy').length, allNetworkPolicies(LOCAL).length);
        assert.equal(b.networkPolicyCount, allNetworkPolicies(LOCAL).length);
        assert.equal(mocks.ofType('kubernetes:rbac.authorization.k8s.io/v1:ClusterRole').length, 2);
        const bindings = mocks.ofType('kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding');
        const admin = bindings.find((r) => r.plain.metadata.name === 'nkp:platform-admin')!;
        assert.deepEqual(admin.plain.subjects.map((s: any) => s.name), ['oidc:admins']);
        const viewer = bindings.find((r) => r.plain.metadata.name === 'nkp:platform-viewer')!;
        assert.deepEqual(viewer.plain.subjects.map((s: any) => s.name), ['oidc:viewers', 'oidc:developers']);
        assert.deepEqual(mocks.ofType('kubernetes:storage.k8s.io/v1:StorageClass').map((s) => s.plain.metadata.name), ['gp3-retain']);
        assert.equal(await new Promise((r) => b.dataStorageClass.apply(r)), 'gp3-retain');
    });

    it('hetzner: the issuer rule takes the load balancer address from an Output', async () => {
        await build('hetzner', { provider: 'hetzner', networkCidr: '10.10.0.0/16', gatewayLoadBalancerIp: pulumi.output('203.0.113.7') });
        const np = mocks.ofType('kubernetes:networking.k8s.io/v1:NetworkPolicy').find((r) => r.plain.metadata.namespace === NS.landing && r.plain.metadata.name === 'allow-oidc-issuer-egress')!;
        assert.deepEqual(np.plain.spec.egress[0].to, [{ ipBlock: { cidr: '203.0.113.7/32' } }]);
        const op = mocks.ofType('kubernetes:networking.k8s.io/v1:NetworkPolicy').find((r) => r.plain.metadata.namespace === NS.operator && r.plain.metadata.name === 'allow-apiserver-egress')!;
        assert.deepEqual(op.plain.spec.egress[0], { to: [{ ipBlock: { cidr: '10.10.0.0/16' } }], ports: [{ port: 6443, protocol: 'TCP' }] });
    });

    it('a network for another provider is refused at construction, naming both', () => {
        assert.throws(
            () => new mod.ClusterBaseline('bad', { provider: 'aws', oidcGroupsPrefix: '', adminGroups: ['a'], viewerGroups: [], defaultStorageClass: 'gp3', network: { provider: 'local' } }),
            /network.provider "local" must equal provider "aws"/,
        );
    });

    it('a local cluster gets no extra StorageClass and platform data uses the cloud default', async () => {
        const b = await build('local');
        assert.equal(mocks.ofType('kubernetes:storage.k8s.io/v1:StorageClass').length, 0);
        assert.equal(await new Promise((r) => b.dataStorageClass.apply(r)), 'local-path');
        assert.equal(pulumi.Output.isInstance(b.dataStorageClass), true);
    });
});
