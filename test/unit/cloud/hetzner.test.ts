/**
 * HetznerCloud: pure planners (validation, private IPs, firewall rules, K3s config + cloud-init, CCM/CSI values,
 * kubeconfig rewrite) tested directly, and the component tested under Pulumi mocks.
 *
 * Stand-in: the Hetzner Cloud API, the servers (SSH) and the Pulumi engine cannot be reached from here, so the
 * component runs against the recording Pulumi mocks in test/unit/pulumi-mocks.ts; the SSH command's output is a
 * K3s-shaped kubeconfig supplied by the mock. Helm v4 charts are remote components, one mocked resource each:
 * we assert the arguments passed to them.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parse as parseYaml } from 'yaml';
import { contains, parseIpv4Cidr } from '../../../components/cloud/cidr.js';
import {
    DEFAULT_CCM_CHART_VERSION,
    DEFAULT_CSI_CHART_VERSION,
    firewallRules,
    k3sConfig,
    k3sInstallScriptUrl,
    renderCloudInit,
    rewriteK3sKubeconfig,
    validateHetznerCloudArgs,
    validateK3sVersion,
    type ServerPlan,
} from '../../../components/cloud/hetzner-plan.js';
import type { HetznerCloudArgs } from '../../../components/cloud/hetzner.js';
import type * as pulumi from '@pulumi/pulumi';
import { isSecretMarker, outputIsSecret, outputValue, recordChildOptions, setupPulumiMocks, type RecordingMocks } from '../pulumi-mocks.js';

const TAGS = { environment: 'hetzner', owner: 'platform-team', costCentre: 'cc-1234' };
const TOKEN = 'mock-join-token-0123456789abcdefghijklmnopqrstuvwxyzABCD';
const HOST_PUB = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMockHostKey';
const K3S_KUBECONFIG = `apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: Q0E=
    server: https://127.0.0.1:6443
  name: default
contexts:
- context:
    cluster: default
    user: default
  name: default
current-context: default
kind: Config
preferences: {}
users:
- name: default
  user:
    client-certificate-data: Q0VSVA==
    client-key-data: S0VZ
`;

function baseArgs(over: Partial<HetznerCloudArgs> = {}): HetznerCloudArgs {
    return {
        clusterName: 'nkp-hetzner',
        tags: TAGS,
        location: 'fsn1',
        k3sVersion: 'v1.33.5+k3s1',
        controlPlane: { count: 1, serverType: 'cx32' },
        workerPools: [{ name: 'general', count: 2, serverType: 'cx42', labels: { pool: 'general' } }],
        adminCidrs: ['203.0.113.0/24', '2001:db8::/48'],
        sshPublicKey: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAdminKey admin',
        sshPrivateKey: '-----BEGIN OPENSSH PRIVATE KEY-----\nmock\n-----END OPENSSH PRIVATE KEY-----\n',
        hcloudToken: 'mock-hcloud-token',
        ...over,
    };
}

/** The K3s config file keys the tests read. */
interface K3sFileConfig {
    token?: string;
    server?: string;
    'node-ip'?: string;
    disable: string[];
    'kubelet-arg'?: string[];
    'tls-san': string[];
    'cluster-init'?: boolean;
    'disable-cloud-controller'?: boolean;
}

/** Parse rendered cloud-init: the document, the K3s config and the install script. */
function parseCloudInit(text: string) {
    assert.ok(text.startsWith('#cloud-config\n'), 'cloud-init header');
    const doc = parseYaml(text) as { write_files: { path: string; content: string; permissions: string }[]; runcmd: string[][]; ssh_keys?: Record<string, string> };
    const cfg = doc.write_files.find((f) => f.path === '/etc/rancher/k3s/config.yaml')!;
    const script = doc.write_files.find((f) => f.path === '/usr/local/sbin/nkp-install-k3s.sh')!;
    return { doc, cfgFile: cfg, config: parseYaml(cfg.content) as K3sFileConfig, script: script.content };
}

describe('cloud/hetzner: pure planners', () => {
    it('validateK3sVersion accepts pinned releases and refuses anything else, naming the field (property)', () => {
        fc.assert(fc.property(fc.nat(99), fc.nat(99), fc.integer({ min: 1, max: 9 }), (minor, patch, n) => {
            const v = `v1.${minor}.${patch}+k3s${n}`;
            assert.equal(validateK3sVersion(v), v);
            for (const bad of [`v1.${minor}.${patch}`, `1.${minor}.${patch}+k3s${n}`, `v1.${minor}+k3s${n}`, `v1.${minor}.${patch}-k3s${n}`, `v1.${minor}.${patch}+k3s`]) {
                assert.throws(() => validateK3sVersion(bad), /HetznerCloud: invalid k3sVersion: .*v1\.33\.5\+k3s1/);
            }
        }));
        for (const bad of ['stable', 'latest', '', 'v1.33.5+k3s1 ', 'v1.33.5+k3s1;rm -rf /']) assert.throws(() => validateK3sVersion(bad), /k3sVersion/);
    });

    it('server plan: 1 or 3 control planes + pools, distinct private IPs inside the subnet, never .0/.1/broadcast (property)', () => {
        fc.assert(fc.property(
            fc.constantFrom(1 as const, 3 as const),
            fc.array(fc.integer({ min: 0, max: 50 }), { maxLength: 4 }),
            (cp, counts) => {
                const plan = validateHetznerCloudArgs(baseArgs({
                    controlPlane: { count: cp, serverType: 'cx32' },
                    workerPools: counts.map((count, i) => ({ name: `p${i}`, count, serverType: 'cx42' })),
                }));
                const total = counts.reduce((a, b) => a + b, 0);
                assert.equal(plan.servers.length, cp + total);
                assert.equal(plan.servers.filter((s) => s.role === 'server').length, cp);
                assert.equal(plan.servers.filter((s) => s.init).length, 1);
                assert.equal(plan.highAvailability, cp === 3);
                const ips = plan.servers.map((s) => s.privateIp);
                assert.equal(new Set(ips).size, ips.length, 'distinct IPs');
                assert.equal(new Set(plan.servers.map((s) => s.name)).size, ips.length, 'distinct names');
                const subnet = parseIpv4Cidr(plan.subnetCidr)!;
                for (const ip of ips) {
                    assert.ok(contains(subnet, parseIpv4Cidr(`${ip}/32`)!), `${ip} in ${plan.subnetCidr}`);
                    assert.ok(!/\.(0|1|255)$/.test(ip), ip);
                }
                // the gateway LB targets workers when there are any, else the control planes
                const targets = plan.servers.filter((s) => s.gatewayTarget);
                assert.deepEqual(targets.map((s) => s.role).filter((r, i, a) => a.indexOf(r) === i), total > 0 ? ['agent'] : ['server']);
            }));
    });

    it('firewallRules: SSH and 6443 only from the admin CIDRs, nothing open to the internet (property)', () => {
        const cidr = fc.tuple(fc.integer({ min: 1, max: 223 }), fc.nat(255), fc.nat(255)).map(([a, b, c]) => `${a}.${b}.${c}.0/24`);
        fc.assert(fc.property(fc.array(cidr, { minLength: 1, maxLength: 5 }), (cidrs) => {
            const rules = firewallRules(cidrs);
            assert.ok(rules.every((r) => r.direction === 'in'));
            assert.deepEqual(rules.filter((r) => r.protocol === 'tcp').map((r) => r.port).sort(), ['22', '6443']);
            for (const r of rules) {
                assert.deepEqual(r.sourceIps, cidrs);
                assert.ok(!r.sourceIps.includes('0.0.0.0/0') && !r.sourceIps.includes('::/0'));
            }
        }));
    });

    const cpNode: ServerPlan = { name: 'c-cp-1', role: 'server', init: true, pool: 'cp', serverType: 'cx32', privateIp: '10.10.0.10', nodeLabels: { 'nkp.nebari.dev/pool': 'cp' }, gatewayTarget: false };
    const ctx = { k3sVersion: 'v1.33.5+k3s1', token: TOKEN, initServerIp: '10.10.0.10', tlsSans: ['198.51.100.10'], highAvailability: false };

    it('k3sConfig: servers disable traefik/servicelb/cloud controller, external cloud provider, private node IP', () => {
        const cfg = k3sConfig(cpNode, ctx);
        assert.deepEqual(cfg['disable'], ['traefik', 'servicelb', 'local-storage']);
        assert.equal(cfg['disable-cloud-controller'], true);
        assert.deepEqual(cfg['kubelet-arg'], ['cloud-provider=external']);
        assert.equal(cfg['node-ip'], '10.10.0.10');
        assert.deepEqual(cfg['tls-san'], ['10.10.0.10', '198.51.100.10']);
        assert.equal(cfg['token'], TOKEN);
        assert.equal(cfg['server'], undefined);
        assert.equal(cfg['cluster-init'], undefined, 'single server: no embedded etcd');
        assert.equal(k3sConfig(cpNode, { ...ctx, highAvailability: true })['cluster-init'], true);
        const joining = k3sConfig({ ...cpNode, name: 'c-cp-2', init: false, privateIp: '10.10.0.11' }, { ...ctx, highAvailability: true });
        assert.equal(joining['server'], 'https://10.10.0.10:6443');
        assert.equal(joining['cluster-init'], undefined);
        const agent = k3sConfig({ ...cpNode, name: 'c-w-1', role: 'agent', init: false, privateIp: '10.10.0.20', nodeLabels: { a: 'b' } }, ctx);
        assert.equal(agent['server'], 'https://10.10.0.10:6443');
        assert.deepEqual(agent['kubelet-arg'], ['cloud-provider=external']);
        assert.deepEqual(agent['node-label'], ['a=b']);
        assert.equal(agent['disable'], undefined);
    });

    it('k3sConfig: OIDC sign-in flags on servers only, with the configured prefixes', () => {
        const oidc = { issuerUrl: 'https://keycloak.example.com/realms/nkp', clientId: 'kubernetes', usernameClaim: 'email', usernamePrefix: 'oidc:', groupsClaim: 'groups', groupsPrefix: 'kc:' };
        assert.deepEqual(k3sConfig(cpNode, { ...ctx, apiServerOidc: oidc })['kube-apiserver-arg'], [
            'oidc-issuer-url=https://keycloak.example.com/realms/nkp', 'oidc-client-id=kubernetes', 'oidc-username-claim=email',
            'oidc-username-prefix=oidc:', 'oidc-groups-claim=groups', 'oidc-groups-prefix=kc:',
        ]);
        assert.equal(k3sConfig({ ...cpNode, role: 'agent', init: false }, { ...ctx, apiServerOidc: oidc })['kube-apiserver-arg'], undefined);
        assert.equal(k3sConfig(cpNode, ctx)['kube-apiserver-arg'], undefined);
        const plan = validateHetznerCloudArgs(baseArgs({ apiServerOidc: { issuerUrl: 'https://keycloak.example.com/realms/nkp', clientId: 'kubernetes' } }));
        assert.equal(plan.apiServerOidc!.groupsPrefix, 'oidc:');
        assert.equal(plan.apiServerOidc!.usernameClaim, 'preferred_username');
    });

    it('renderCloudInit: pinned K3s version and install script, token only in a 0600 config file (property)', () => {
        fc.assert(fc.property(fc.nat(99), fc.nat(99), fc.integer({ min: 1, max: 9 }), fc.constantFrom('server' as const, 'agent' as const), (minor, patch, n, role) => {
            const version = `v1.${minor}.${patch}+k3s${n}`;
            const text = renderCloudInit({ ...cpNode, role, init: role === 'server' }, { ...ctx, k3sVersion: version });
            const { cfgFile, config, script, doc } = parseCloudInit(text);
            assert.equal(cfgFile.permissions, '0600');
            assert.equal(config['token'], TOKEN);
            assert.ok(script.includes(`INSTALL_K3S_VERSION='${version}'`));
            assert.ok(script.includes(`INSTALL_K3S_EXEC='${role}'`));
            assert.ok(script.includes(k3sInstallScriptUrl(version)));
            assert.ok(!script.includes(TOKEN), 'the token never appears on a command line');
            assert.ok(!script.includes('get.k3s.io'), 'no floating install script');
            assert.deepEqual(doc.runcmd, [['/usr/local/sbin/nkp-install-k3s.sh']]);
        }));
        assert.equal(k3sInstallScriptUrl('v1.33.5+k3s1'), 'https://raw.githubusercontent.com/k3s-io/k3s/v1.33.5%2Bk3s1/install.sh');
    });

    it('renderCloudInit pins the SSH host key when given one', () => {
        const { doc } = parseCloudInit(renderCloudInit(cpNode, ctx, { ed25519Private: 'PRIV', ed25519Public: `${HOST_PUB}\n` }));
        assert.deepEqual(doc.ssh_keys, { ed25519_private: 'PRIV', ed25519_public: HOST_PUB });
    });

    it('rewriteK3sKubeconfig points at the public address and names everything after the cluster', () => {
        const out = parseYaml(rewriteK3sKubeconfig(K3S_KUBECONFIG, '198.51.100.10', 'nkp-hetzner'));
        assert.equal(out.clusters[0].cluster.server, 'https://198.51.100.10:6443');
        assert.equal(out.clusters[0].cluster['certificate-authority-data'], 'Q0E=');
        assert.equal(out['current-context'], 'nkp-hetzner');
        assert.deepEqual(out.contexts, [{ name: 'nkp-hetzner', context: { cluster: 'nkp-hetzner', user: 'nkp-hetzner-admin' } }]);
        assert.equal(out.users[0].user['client-key-data'], 'S0VZ');
        assert.throws(() => rewriteK3sKubeconfig('garbage: [', '1.2.3.4', 'x'));
        assert.throws(() => rewriteK3sKubeconfig('apiVersion: v1\nclusters: []\n', '1.2.3.4', 'x'), /not a single-cluster K3s kubeconfig/);
    });

    it('validateHetznerCloudArgs: defaults', () => {
        const plan = validateHetznerCloudArgs(baseArgs());
        assert.equal(plan.networkZone, 'eu-central');
        assert.equal(plan.networkCidr, '10.10.0.0/16');
        assert.equal(plan.subnetCidr, '10.10.0.0/24');
        assert.equal(plan.image, 'ubuntu-24.04');
        assert.equal(plan.loadBalancerType, 'lb11');
        assert.equal(plan.ccmChartVersion, DEFAULT_CCM_CHART_VERSION);
        assert.equal(plan.csiChartVersion, DEFAULT_CSI_CHART_VERSION);
        assert.equal(validateHetznerCloudArgs(baseArgs({ location: 'ash' })).networkZone, 'us-east');
    });

    const failures: [string, Partial<HetznerCloudArgs>, RegExp][] = [
        ['an unpinned K3s version', { k3sVersion: 'stable' }, /k3sVersion: "stable" is not a pinned K3s release/],
        ['a K3s version without the k3s suffix', { k3sVersion: 'v1.33.5' }, /k3sVersion/],
        ['2 control planes', { controlPlane: { count: 2 as 1, serverType: 'cx32' } }, /controlPlane\.count: 2 is not allowed; use one of 1, 3/],
        ['an empty admin CIDR list', { adminCidrs: [] }, /adminCidrs: a non-empty list/],
        ['SSH/API open to the IPv4 internet', { adminCidrs: ['0.0.0.0/0'] }, /adminCidrs\[0\]: 0\.0\.0\.0\/0 opens the entry point to the whole internet/],
        ['SSH/API open to the IPv6 internet', { adminCidrs: ['203.0.113.0/24', '::/0'] }, /adminCidrs\[1\]: ::\/0 opens/],
        ['an IPv6 admin CIDR broader than /32', { adminCidrs: ['2000::/3'] }, /adminCidrs\[0\]: 2000::\/3 is broader than \/32/],
        ['an admin CIDR broader than /8', { adminCidrs: ['128.0.0.0/2'] }, /adminCidrs\[0\]: 128\.0\.0\.0\/2 is broader than \/8/],
        ['a malformed admin CIDR', { adminCidrs: ['203.0.113.1/24'] }, /adminCidrs\[0\]/],
        ['a network overlapping the pod network', { networkCidr: '10.42.0.0/16' }, /networkCidr: 10\.42\.0\.0\/16 overlaps K3s/],
        ['a public network range', { networkCidr: '8.8.0.0/16' }, /networkCidr: 8\.8\.0\.0\/16 is not a private/],
        ['a subnet outside the network', { subnetCidr: '10.99.0.0/24' }, /subnetCidr: "10\.99\.0\.0\/24" must be an IPv4 network inside networkCidr/],
        ['a subnet too small for the workers', { subnetCidr: '10.10.0.0/28' }, /subnetCidr: 10\.10\.0\.0\/28 has room for 0 workers, 2 requested/],
        ['duplicate pool names', { workerPools: [{ name: 'a', count: 1, serverType: 'cx42' }, { name: 'a', count: 1, serverType: 'cx42' }] }, /workerPools\[1\]\.name: "a" is used twice/],
        ['too many servers in a pool', { workerPools: [{ name: 'a', count: 51, serverType: 'cx42' }] }, /workerPools\[0\]\.count: 51 is not allowed; use an integer from 0 to 50/],
        ['a negative pool count', { workerPools: [{ name: 'a', count: -1, serverType: 'cx42' }] }, /workerPools\[0\]\.count/],
        ['a bad node label', { workerPools: [{ name: 'a', count: 1, serverType: 'cx42', labels: { 'bad key!': 'x' } }] }, /workerPools\[0\]\.labels\.bad key!/],
        ['an owner that is not a valid label value', { tags: { ...TAGS, owner: 'someone@example.com' } }, /tags\.owner: label value "someone@example\.com" is not allowed/],
        ['a location/zone mismatch', { location: 'ash', networkZone: 'eu-central' }, /networkZone: "eu-central" does not contain location ash; use us-east/],
        ['an unknown location without zone', { location: 'xyz1' }, /networkZone: no default for location "xyz1"/],
        ['an unpinned chart version', { ccmChartVersion: 'latest' }, /ccmChartVersion: "latest" is not a pinned chart version/],
        ['a bad cluster name', { clusterName: 'NKP' }, /clusterName: "NKP" is not allowed/],
        ['a pool name whose server names would exceed 63 characters', { clusterName: 'c'.repeat(40), workerPools: [{ name: 'p'.repeat(20), count: 50, serverType: 'cx42' }] },
            /workerPools\[0\]\.name: "p{20}" is not allowed; .*at most 19 characters/],
        ['a protect that is not a boolean', { protect: 'no' as unknown as boolean }, /protect: "no" is not allowed; use true or false/],
        ['an unknown load balancer type', { loadBalancerType: 'lb99' }, /loadBalancerType: "lb99" is not allowed; use one of "lb11", "lb21", "lb31"/],
    ];
    for (const [what, over, message] of failures) {
        it(`validateHetznerCloudArgs refuses ${what}, naming the field`, () => {
            assert.throws(() => validateHetznerCloudArgs(baseArgs(over)), (e: Error) => {
                assert.match(e.message, /^HetznerCloud: invalid /);
                assert.match(e.message, message);
                return true;
            });
        });
    }
});

/** Deterministic numeric id per resource name (hcloud ids are numbers). */
function idOf(name: string): string {
    let h = 2166136261;
    for (const ch of name) h = Math.imul(h ^ ch.charCodeAt(0), 16777619) >>> 0;
    return String(1000 + (h % 1_000_000));
}

/** hcloud resource types that carry labels. */
const LABELLED = [
    'hcloud:index/network:Network', 'hcloud:index/firewall:Firewall', 'hcloud:index/sshKey:SshKey', 'hcloud:index/placementGroup:PlacementGroup',
    'hcloud:index/primaryIp:PrimaryIp', 'hcloud:index/server:Server', 'hcloud:index/loadBalancer:LoadBalancer',
];

describe('cloud/hetzner: HetznerCloud under Pulumi mocks', function () {
    this.timeout(60_000);
    let mocks: RecordingMocks;
    let HetznerCloud: typeof import('../../../components/cloud/hetzner.js').HetznerCloud;

    before(async () => {
        mocks = await setupPulumiMocks({
            id: ({ type, name }) => (type.startsWith('hcloud:') ? idOf(name) : `${name}-id`),
            outputs: ({ type, name }) => {
                switch (type) {
                    case 'random:index/randomPassword:RandomPassword': return { result: TOKEN };
                    case 'tls:index/privateKey:PrivateKey': return { privateKeyOpenssh: `PRIVATE-${name}`, publicKeyOpenssh: `${HOST_PUB}\n` };
                    case 'hcloud:index/primaryIp:PrimaryIp': return { ipAddress: name.endsWith('cp-1') ? '198.51.100.10' : `198.51.100.${name.length}` };
                    case 'hcloud:index/loadBalancer:LoadBalancer': return { ipv4: '198.51.100.80' };
                    case 'command:remote:Command': return { stdout: K3S_KUBECONFIG };
                    default: return undefined;
                }
            },
        });
        ({ HetznerCloud } = await import('../../../components/cloud/hetzner.js'));
    });
    beforeEach(() => mocks.reset());

    async function build(over: Partial<HetznerCloudArgs> = {}, opts: pulumi.ComponentResourceOptions = {}) {
        const cloud = new HetznerCloud('t', baseArgs(over), opts);
        await outputValue(cloud.defaultStorageClass);
        await outputValue(cloud.gatewayLoadBalancerIp);
        await mocks.settle();
        return cloud;
    }
    const servers = () => mocks.ofType('hcloud:index/server:Server').sort((a, b) => String(a.plain['name']).localeCompare(String(b.plain['name'])));

    it('registers nkp:cloud:HetznerCloud with every child parented to it', async () => {
        await build();
        const comp = mocks.one('nkp:cloud:HetznerCloud');
        for (const r of mocks.resources.filter((x) => x !== comp)) {
            const urns = mocks.urnsOf(r.type, r.name);
            assert.ok(urns.length > 0 && urns.every((u) => u.split('::')[2]!.startsWith('nkp:cloud:HetznerCloud$')), `${r.type} ${r.name}`);
        }
    });

    it('private network + subnet in the zone; every server attached to it with its planned IP', async () => {
        await build();
        const net = mocks.one('hcloud:index/network:Network').plain;
        assert.equal(net['ipRange'], '10.10.0.0/16');
        const subnet = mocks.one('hcloud:index/networkSubnet:NetworkSubnet').plain;
        assert.deepEqual([subnet['ipRange'], subnet['networkZone'], subnet['type'], subnet['networkId']], ['10.10.0.0/24', 'eu-central', 'cloud', Number(idOf('t-net'))]);
        assert.deepEqual(servers().map((s) => [s.plain['name'], s.plain['networks'][0].ip, s.plain['networks'][0].networkId]), [
            ['nkp-hetzner-cp-1', '10.10.0.10', Number(idOf('t-net'))],
            ['nkp-hetzner-general-1', '10.10.0.20', Number(idOf('t-net'))],
            ['nkp-hetzner-general-2', '10.10.0.21', Number(idOf('t-net'))],
        ]);
    });

    it('firewall: 22 and 6443 only from the admin CIDRs; every server carries the firewall and the SSH key', async () => {
        await build();
        const fw = mocks.one('hcloud:index/firewall:Firewall').plain;
        for (const port of ['22', '6443']) {
            const rules = fw['rules'].filter((r: { port?: string }) => r.port === port);
            assert.equal(rules.length, 1, `one rule for ${port}`);
            assert.deepEqual(rules[0].sourceIps, ['203.0.113.0/24', '2001:db8::/48']);
        }
        for (const r of fw['rules']) assert.ok(!r.sourceIps.some((c: string) => c === '0.0.0.0/0' || c === '::/0'), JSON.stringify(r));
        assert.equal(servers().length, 3);
        for (const s of servers()) {
            assert.deepEqual(s.plain['firewallIds'], [Number(idOf('t-fw'))], s.name);
            assert.deepEqual(s.plain['sshKeys'], [idOf('t-ssh')]);
            assert.equal(s.plain['location'], 'fsn1');
            assert.equal(s.plain['image'], 'ubuntu-24.04');
        }
        assert.equal(mocks.one('hcloud:index/sshKey:SshKey').plain['publicKey'], baseArgs().sshPublicKey);
    });

    it('cloud-init: pinned K3s, bundled traefik/servicelb off, external cloud provider, node IP on the private network, token from RandomPassword', async () => {
        await build();
        const pw = mocks.one('random:index/randomPassword:RandomPassword').plain;
        assert.equal(pw['special'], false);
        assert.ok(pw['length'] >= 32);
        for (const s of servers()) {
            const { config, script } = parseCloudInit(s.plain['userData']);
            assert.ok(script.includes("INSTALL_K3S_VERSION='v1.33.5+k3s1'"), s.name);
            assert.equal(config['token'], TOKEN);
            assert.equal(config['node-ip'], s.plain['networks'][0].ip);
            assert.deepEqual(config['kubelet-arg'], ['cloud-provider=external']);
            if (s.plain['name'].includes('-cp-')) {
                assert.ok(config['disable'].includes('traefik') && config['disable'].includes('servicelb'));
                assert.equal(config['disable-cloud-controller'], true);
                assert.ok(config['tls-san'].includes('198.51.100.10'), 'public API address in the certificate');
            } else {
                assert.equal(config['server'], 'https://10.10.0.10:6443');
            }
        }
    });

    it('the join token is a secret: user data is secret and no output contains the token', async () => {
        const cloud = await build();
        for (const s of servers()) assert.ok(isSecretMarker(s.inputs['userData']), `${s.name} userData is secret`);
        for (const [key, out] of Object.entries({ kubeconfig: cloud.kubeconfig, clusterName: cloud.clusterName, lb: cloud.gatewayLoadBalancerIp, sc: cloud.defaultStorageClass, api: cloud.apiServerAddress, net: cloud.networkId })) {
            assert.ok(!JSON.stringify(await outputValue(out as never)).includes(TOKEN), `${key} leaks the token`);
        }
    });

    it('HA: three control planes, the first initialises embedded etcd, the others join it; spread placement', async () => {
        await build({ controlPlane: { count: 3, serverType: 'cx32' }, workerPools: [] });
        const cps = servers();
        assert.equal(cps.length, 3);
        const configs = cps.map((s) => parseCloudInit(s.plain['userData']).config);
        assert.equal(configs[0]!['cluster-init'], true);
        assert.equal(configs[1]!['server'], 'https://10.10.0.10:6443');
        assert.equal(configs[2]!['server'], 'https://10.10.0.10:6443');
        assert.equal(mocks.one('hcloud:index/placementGroup:PlacementGroup').plain['type'], 'spread');
        for (const s of cps) {
            assert.equal(s.plain['placementGroupId'], Number(idOf('t-cp')));
            assert.equal(s.plain['labels']['nkp.nebari.dev/gateway-target'], 'true', 'no workers: the LB targets the control planes');
        }
        assert.equal(mocks.ofType('hcloud:index/primaryIp:PrimaryIp').length, 3);
    });

    it('CCM and CSI: pinned Helm v4 charts from charts.hetzner.cloud; the hcloud token only in a k8s Secret', async () => {
        await build();
        const charts = mocks.ofType('kubernetes:helm.sh/v4:Chart');
        const ccm = charts.find((c) => c.plain['chart'] === 'hcloud-cloud-controller-manager')!.plain;
        const csi = charts.find((c) => c.plain['chart'] === 'hcloud-csi')!.plain;
        assert.equal(ccm['version'], DEFAULT_CCM_CHART_VERSION);
        assert.equal(csi['version'], DEFAULT_CSI_CHART_VERSION);
        for (const c of [ccm, csi]) {
            assert.equal(c['namespace'], 'kube-system');
            assert.equal(c['repositoryOpts'].repo, 'https://charts.hetzner.cloud');
            assert.ok(!JSON.stringify(c).includes('mock-hcloud-token'), 'token not in chart values');
        }
        assert.equal(ccm['values'].networking.enabled, true);
        assert.equal(ccm['values'].networking.clusterCIDR, '10.42.0.0/16');
        assert.deepEqual(csi['values'].storageClasses, [{ name: 'hcloud-volumes', defaultStorageClass: true, reclaimPolicy: 'Retain' }]);
        const secret = mocks.one('kubernetes:core/v1:Secret');
        assert.deepEqual(secret.plain['metadata'], { name: 'hcloud', namespace: 'kube-system' });
        assert.equal(secret.plain['stringData'].token, 'mock-hcloud-token');
        assert.equal(secret.plain['stringData'].network, idOf('t-net'));
        assert.ok(isSecretMarker(secret.inputs['stringData']), 'Secret data is a Pulumi secret');
    });

    it('gateway load balancer: 80/443 to the gateway NodePorts on labelled servers over the private network', async () => {
        const cloud = await build();
        const lb = mocks.one('hcloud:index/loadBalancer:LoadBalancer').plain;
        assert.equal(lb['loadBalancerType'], 'lb11');
        const target = mocks.one('hcloud:index/loadBalancerTarget:LoadBalancerTarget').plain;
        assert.equal(target['type'], 'label_selector');
        assert.equal(target['usePrivateIp'], true);
        assert.equal(target['labelSelector'], 'nkp.nebari.dev/cluster=nkp-hetzner,nkp.nebari.dev/gateway-target=true');
        const labelled = servers().filter((s) => s.plain['labels']['nkp.nebari.dev/gateway-target'] === 'true').map((s) => s.plain['name']);
        assert.deepEqual(labelled, ['nkp-hetzner-general-1', 'nkp-hetzner-general-2']);
        const svcs = mocks.ofType('hcloud:index/loadBalancerService:LoadBalancerService').map((s) => [s.plain['listenPort'], s.plain['destinationPort'], s.plain['protocol']]);
        assert.deepEqual(svcs, [[80, 30080, 'tcp'], [443, 30443, 'tcp']]);
        assert.equal(mocks.one('hcloud:index/loadBalancerNetwork:LoadBalancerNetwork').plain['subnetId'], `${idOf('t-subnet')}`);
        assert.equal(await outputValue(cloud.gatewayLoadBalancerIp), '198.51.100.80');
    });

    it('kubeconfig: read over SSH with the secret private key and the pinned host key, secret, server rewritten', async () => {
        const cloud = await build();
        const cmd = mocks.one('command:remote:Command');
        assert.ok(isSecretMarker(cmd.inputs['connection']), 'connection (private key) is secret');
        assert.equal(cmd.plain['connection'].host, '198.51.100.10');
        assert.equal(cmd.plain['connection'].user, 'root');
        assert.equal(cmd.plain['connection'].hostKey, HOST_PUB);
        assert.equal(cmd.plain['logging'], 'none');
        assert.match(cmd.plain['create'], /cat \/etc\/rancher\/k3s\/k3s\.yaml$/);
        assert.equal(await outputIsSecret(cloud.kubeconfig), true);
        const kc = parseYaml(await outputValue(cloud.kubeconfig));
        assert.equal(kc.clusters[0].cluster.server, 'https://198.51.100.10:6443');
        assert.equal(kc['current-context'], 'nkp-hetzner');
        const cp1 = servers().find((s) => s.plain['name'] === 'nkp-hetzner-cp-1')!;
        assert.equal(parseCloudInit(cp1.plain['userData']).doc.ssh_keys?.['ed25519_public'], HOST_PUB);
    });

    it('labels environment/owner/cost-centre on every labelled Hetzner resource; outputs', async () => {
        const cloud = await build();
        for (const type of LABELLED) {
            const rs = mocks.ofType(type);
            assert.ok(rs.length > 0, type);
            for (const r of rs) {
                assert.deepEqual([r.plain['labels'].environment, r.plain['labels'].owner, r.plain['labels']['cost-centre']], ['hetzner', 'platform-team', 'cc-1234'], `${type} ${r.name}`);
            }
        }
        assert.equal(await outputValue(cloud.clusterName), 'nkp-hetzner');
        assert.equal(await outputValue(cloud.defaultStorageClass), 'hcloud-volumes');
        assert.equal(cloud.provider, 'hetzner');
    });

    it('protect: servers and primary IPs protected by default (CSI volumes retained); protect false turns both off', async () => {
        const rec = recordChildOptions();
        await build({}, { transformations: [rec.transformation] });
        const stateful = rec.options.filter((o) => o.type === 'hcloud:index/server:Server' || o.type === 'hcloud:index/primaryIp:PrimaryIp');
        assert.equal(stateful.length, 3 + 1, 'one control plane + two workers, one primary IP');
        for (const o of stateful) assert.equal(o.protect, true, `${o.type} ${o.name}`);
        assert.deepEqual(rec.options.filter((o) => o.protect === true && !stateful.includes(o)).map((o) => o.name), [], 'nothing else protected');
        const csi = () => mocks.ofType('kubernetes:helm.sh/v4:Chart').find((c) => c.plain['chart'] === 'hcloud-csi')!.plain['values'].storageClasses[0].reclaimPolicy;
        assert.equal(csi(), 'Retain');

        mocks.reset();
        const off = recordChildOptions();
        await build({ protect: false }, { transformations: [off.transformation] });
        for (const o of off.options.filter((x) => x.type === 'hcloud:index/server:Server' || x.type === 'hcloud:index/primaryIp:PrimaryIp')) assert.equal(o.protect, false, o.name);
        assert.equal(csi(), 'Delete');
    });

    it('servers and the load balancer keep fixed names, so a replacement deletes the old one first', async () => {
        // Hetzner names are unique per project and each server owns a fixed private IP: create-before-delete of a
        // replacement (`pulumi up --replace`, a new location) would fail on the taken name and address.
        const rec = recordChildOptions();
        await build({}, { transformations: [rec.transformation] });
        for (const s of servers()) assert.equal(rec.of('hcloud:index/server:Server', s.name).deleteBeforeReplace, true, s.name);
        assert.equal(rec.of('hcloud:index/loadBalancer:LoadBalancer', 't-gateway').deleteBeforeReplace, true);
        // A new server type is an in-place resize in the hcloud provider (change_type), not a replacement: same
        // resources, same names, only serverType differs.
        const before = servers().map((s) => [s.name, s.plain['name'], s.plain['serverType']]);
        mocks.reset();
        await build({ workerPools: [{ name: 'general', count: 2, serverType: 'cx52', labels: { pool: 'general' } }] });
        const after = servers().map((s) => [s.name, s.plain['name'], s.plain['serverType']]);
        assert.deepEqual(after.map((x) => x.slice(0, 2)), before.map((x) => x.slice(0, 2)));
        assert.deepEqual(after.filter((x) => x[0] !== 't-nkp-hetzner-cp-1').map((x) => x[2]), ['cx52', 'cx52']);
    });

    it('refuses a bad K3s version before registering any resource', async () => {
        assert.throws(() => new HetznerCloud('bad', baseArgs({ k3sVersion: 'latest' })), /HetznerCloud: invalid k3sVersion/);
        await mocks.settle();
        assert.equal(mocks.resources.length, 0);
    });
});
