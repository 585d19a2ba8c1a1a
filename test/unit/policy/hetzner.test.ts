import assert from 'node:assert/strict';
import {
    carriesK3sToken,
    hcloudRulePorts,
    hetznerFirewallNoWorldAdminPorts,
    hetznerServersFirewalled,
    k3sTokenSecret,
    labelSelectorMatches,
} from '../../../policy/policies/hetzner.js';
import { messages, runResourcePolicy, runStackPolicy, secret, UNKNOWN, type StackResourceSpec } from './harness.js';

describe('policy: Hetzner', () => {
    describe('hetzner-firewall-no-world-admin-ports', () => {
        const fw = (rules: unknown[]) => ({ type: 'hcloud:index/firewall:Firewall', name: 'fw', props: { name: 'nkp', rules } });
        it('accepts SSH/API from admin CIDRs and HTTP(S) from anywhere', async () => {
            assert.deepEqual(await messages(runResourcePolicy(hetznerFirewallNoWorldAdminPorts, fw([
                { direction: 'in', protocol: 'tcp', port: '22', sourceIps: ['198.51.100.0/24'] },
                { direction: 'in', protocol: 'tcp', port: '6443', sourceIps: ['198.51.100.0/24', '2001:db8::/48'] },
                { direction: 'in', protocol: 'tcp', port: '443', sourceIps: ['0.0.0.0/0', '::/0'] },
                { direction: 'in', protocol: 'icmp', sourceIps: ['0.0.0.0/0'] },
            ]))), []);
        });
        it('rejects SSH to 0.0.0.0/0 and a port range or "any" covering 6443 from ::/0', async () => {
            assert.deepEqual(await messages(runResourcePolicy(hetznerFirewallNoWorldAdminPorts, fw([
                { direction: 'in', protocol: 'tcp', port: '22', sourceIps: ['0.0.0.0/0'] },
                { direction: 'in', protocol: 'tcp', port: '6000-7000', sourceIps: ['::/0'] },
                { direction: 'in', protocol: 'tcp', port: 'any', sourceIps: ['0.0.0.0/0'] },
            ]))), [
                'Hetzner firewall "fw" opens port(s) 22 to 0.0.0.0/0: allow only your admin/VPN CIDRs in sourceIps.',
                'Hetzner firewall "fw" opens port(s) 6443 to ::/0: allow only your admin/VPN CIDRs in sourceIps.',
                'Hetzner firewall "fw" opens port(s) 22, 6443 to 0.0.0.0/0: allow only your admin/VPN CIDRs in sourceIps.',
            ]);
        });
        it('parses Hetzner port specs', () => {
            assert.deepEqual(hcloudRulePorts('tcp', '20-25', [22, 6443]), [22]);
            assert.deepEqual(hcloudRulePorts('udp', '22', [22]), []);
            assert.deepEqual(hcloudRulePorts('tcp', undefined, [22, 6443]), [22, 6443]);
        });
    });

    describe('hetzner-k3s-token-secret', () => {
        const cloudInit = (token: string) => `#cloud-config\nruncmd:\n  - curl -sfL https://get.k3s.io | INSTALL_K3S_VERSION=v1.33.4+k3s1 K3S_TOKEN=${token} sh -s - server\n`;
        const pw: StackResourceSpec = { type: 'random:index/randomPassword:RandomPassword', name: 'k3s-token', props: { length: 48, special: false } };
        it('recognises the places a K3s token appears', () => {
            assert.equal(carriesK3sToken(cloudInit('abc')), true);
            assert.equal(carriesK3sToken('write_files:\n  - path: /etc/rancher/k3s/config.yaml\n    content: |\n      token: abc\n'), true);
            assert.equal(carriesK3sToken('k3s agent --token abc'), true);
            assert.equal(carriesK3sToken('#cloud-config\npackages: [curl]\n'), false);
        });
        it('accepts userData built from a RandomPassword (a secret on the wire, which the engine unwraps)', async () => {
            assert.deepEqual(await messages(runStackPolicy(k3sTokenSecret, [pw,
                { type: 'hcloud:index/server:Server', name: 'cp-0', props: { userData: secret(cloudInit('s3cr3t')) }, deps: { userData: ['k3s-token'] } }])), []);
        });
        it('accepts userData computed during preview from a RandomPassword, and userData declared secret', async () => {
            assert.deepEqual(await messages(runStackPolicy(k3sTokenSecret, [pw,
                { type: 'hcloud:index/server:Server', name: 'cp-0', props: { userData: UNKNOWN }, deps: { userData: ['k3s-token'] } }])), []);
            assert.deepEqual(await messages(runStackPolicy(k3sTokenSecret, [
                { type: 'hcloud:index/server:Server', name: 'cp-0', props: { userData: cloudInit('fromconfig') }, opts: { additionalSecretOutputs: ['userData'] } }])), []);
        });
        it('rejects a literal token and a token from RandomString', async () => {
            assert.deepEqual(await messages(runStackPolicy(k3sTokenSecret, [
                { type: 'hcloud:index/server:Server', name: 'cp-0', props: { userData: cloudInit('hunter2') } }])), [
                'Server "cp-0" puts a K3s join token in userData that is not provably secret: generate it with random.RandomPassword or add additionalSecretOutputs: ["userData"] to the server.',
            ]);
            assert.deepEqual(await messages(runStackPolicy(k3sTokenSecret, [
                { type: 'random:index/randomString:RandomString', name: 'tok', props: { length: 32 } },
                { type: 'hcloud:index/server:Server', name: 'w-0', props: { userData: cloudInit('x') }, deps: { userData: ['tok'] } }])), [
                'Server "w-0" builds userData from random.RandomString "tok", whose result is not secret: generate the K3s token with random.RandomPassword.',
            ]);
        });
        it('ignores servers whose userData carries no token', async () => {
            assert.deepEqual(await messages(runStackPolicy(k3sTokenSecret, [
                { type: 'hcloud:index/server:Server', name: 'bastion', props: { userData: '#cloud-config\npackages: [curl]\n' } }])), []);
        });
    });

    describe('hetzner-servers-firewalled', () => {
        const fw: StackResourceSpec = { type: 'hcloud:index/firewall:Firewall', name: 'fw', props: { id: '77', rules: [] } };
        it('accepts firewallIds on the server, or an attachment by server id, dependency or label selector', async () => {
            assert.deepEqual(await messages(runStackPolicy(hetznerServersFirewalled, [fw,
                { type: 'hcloud:index/server:Server', name: 'a', props: { firewallIds: [77] } },
                { type: 'hcloud:index/server:Server', name: 'b', props: { firewallIds: UNKNOWN } },
                { type: 'hcloud:index/server:Server', name: 'c', props: { id: '1003' } },
                { type: 'hcloud:index/server:Server', name: 'd', props: {} },
                { type: 'hcloud:index/server:Server', name: 'e', props: { labels: { role: 'worker', cluster: 'nkp' } } },
                { type: 'hcloud:index/firewallAttachment:FirewallAttachment', name: 'att', props: { firewallId: 77, serverIds: [1003, UNKNOWN], labelSelectors: ['cluster=nkp,role'] }, deps: { serverIds: ['d'] } },
            ])), []);
        });
        it('rejects a server with no firewall', async () => {
            const r = await runStackPolicy(hetznerServersFirewalled, [fw,
                { type: 'hcloud:index/server:Server', name: 'lonely', props: { firewallIds: [], labels: { role: 'db' } } },
                { type: 'hcloud:index/firewallAttachment:FirewallAttachment', name: 'att', props: { firewallId: 77, labelSelectors: ['role=worker'] } },
            ]);
            assert.deepEqual(r.violations.map((v) => v.message), [
                'Server "lonely" has no firewall: set firewallIds or attach it with an hcloud.FirewallAttachment (serverIds or labelSelectors).',
            ]);
            assert.match(r.violations[0]!.urn!, /hcloud:index\/server:Server::lonely$/);
        });
        it('evaluates Hetzner label selectors', () => {
            assert.equal(labelSelectorMatches('a=1,b', { a: '1', b: 'x' }), true);
            assert.equal(labelSelectorMatches('a!=1', { a: '1' }), false);
            assert.equal(labelSelectorMatches('!c', { a: '1' }), true);
            assert.equal(labelSelectorMatches('a==2', { a: '1' }), false);
        });
    });
});
