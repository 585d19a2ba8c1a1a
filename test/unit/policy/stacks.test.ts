/**
 * The whole pack, loaded by Pulumi's own policy-pack runner and driven over gRPC the way the engine drives it
 * (engine.ts: the Pulumi CLI itself is not installed here, so the engine side is a stand-in), over the resources
 * each real stack config registers under Pulumi mocks in preview mode.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { policies } from '../../../policy/policies/index.js';
import { STAND_IN_KUBECONFIG } from '../pulumi-mocks.js';
import { mandatory, POLICY_DIR, recordProgram, startPolicyPack, type Diagnostic, type EngineResource, type PolicyPackProcess } from './engine.js';
import { UNKNOWN } from './harness.js';

const STACKS = ['aws-prod', 'aws-staging', 'hetzner', 'local'] as const;

function show(ds: Diagnostic[]): string {
    return ds.map((d) => `[${d.level}] ${d.policyName}: ${d.message.split('\n').slice(1).join(' ') || d.message} (${d.urn})`).join('\n');
}

describe('policy: the whole pack over each real stack', function () {
    this.timeout(180_000);
    let pack: PolicyPackProcess;
    let dir: string;
    let stackFiles: typeof import('../../../stacks/stack-files.js');
    let platform: typeof import('../../../stacks/platform.js');
    const recorded = new Map<string, EngineResource[]>();

    async function record(stack: string, mutate?: (s: ReturnType<typeof stackFiles.platformConfigForStack>) => void): Promise<EngineResource[]> {
        const cfg = stackFiles.platformConfigForStack(stack, stack === 'local' ? { localKubeconfigPath: join(dir, 'kubeconfig') } : {});
        mutate?.(cfg);
        return recordProgram(stack, () => {
            platform.buildPlatform(cfg);
        });
    }

    before(async () => {
        dir = mkdtempSync(join(tmpdir(), 'nkp-policy-stacks-'));
        writeFileSync(join(dir, 'kubeconfig'), STAND_IN_KUBECONFIG.replaceAll('default', 'k3d-nkp'));
        stackFiles = await import('../../../stacks/stack-files.js');
        platform = await import('../../../stacks/platform.js');
        pack = await startPolicyPack();
    });
    after(async () => {
        await pack?.stop();
        rmSync(dir, { recursive: true, force: true });
    });

    describe('the pack as the engine loads it', () => {
        it('serves every policy with a kebab-case id, a description and a mandatory/advisory level', () => {
            assert.deepEqual(pack.info.map((p) => p.name), policies.map((p) => p.name));
            assert.equal(new Set(pack.info.map((p) => p.name)).size, pack.info.length, 'ids are unique');
            for (const p of pack.info) {
                assert.match(p.name, /^[a-z0-9]+(-[a-z0-9]+)*$/, p.name);
                assert.ok(p.description.length > 40, `${p.name} has a description a user understands`);
                assert.ok(p.level === 'mandatory' || p.level === 'advisory', `${p.name}: ${p.level}`);
            }
            assert.equal(pack.info.find((p) => p.name === 'nebariapp-public-auth')!.level, 'advisory');
        });

        it('policy config changes an enforcement level and a threshold', async () => {
            const deploy: EngineResource = {
                type: 'kubernetes:apps/v1:Deployment', name: 'web', urn: 'urn:pulumi:t::nkp::kubernetes:apps/v1:Deployment::web',
                inputs: { metadata: { name: 'web', namespace: 'team' }, spec: { template: { spec: { containers: [{ name: 'c', image: 'nginx:latest', resources: { limits: { cpu: '1', memory: '1Gi' } }, securityContext: { runAsNonRoot: true, allowPrivilegeEscalation: false } }] } } } },
                outputs: {}, dependencies: [], propertyDependencies: {}, additionalSecretOutputs: [],
            };
            const ng: EngineResource = {
                type: 'aws:eks/nodeGroup:NodeGroup', name: 'ng', urn: 'urn:pulumi:t::nkp::aws:eks/nodeGroup:NodeGroup::ng',
                inputs: { scalingConfig: { maxSize: 4 }, instanceTypes: ['m6i.large'], subnetIds: [UNKNOWN], tags: { environment: 'e', owner: 'o', 'cost-centre': 'c' } },
                outputs: { scalingConfig: { maxSize: 4 }, instanceTypes: ['m6i.large'], subnetIds: [UNKNOWN] }, dependencies: [], propertyDependencies: {}, additionalSecretOutputs: [],
            };
            await pack.configure({});
            let ds = await pack.run([deploy, ng]);
            assert.deepEqual(ds.map((d) => `${d.level} ${d.policyName}`), ['mandatory k8s-image-pinned']);
            assert.equal(ds[0]!.message, 'Every container image is pinned to a version tag or a digest: no :latest and no missing tag.\n' +
                'Deployment team/web container "c" image "nginx:latest" uses the floating tag :latest: pin a version tag or a @sha256 digest.');

            await pack.configure({ 'k8s-image-pinned': { enforcementLevel: 'advisory' }, 'cost-guard': { maxNodeInstances: 3 } });
            ds = await pack.run([deploy, ng]);
            assert.deepEqual(ds.map((d) => `${d.level} ${d.policyName}`), ['advisory k8s-image-pinned', 'mandatory cost-guard']);
            assert.match(ds[1]!.message, /The stack can scale to 4 nodes \(NodeGroup "ng"\), over maxNodeInstances 3/);

            await pack.configure({ 'k8s-image-pinned': { enforcementLevel: 'disabled' } });
            assert.deepEqual(await pack.run([deploy, ng]), []);
            await assert.rejects(pack.configure({ 'cost-guard': { maxNodeInstances: 'many' } }), /policy config for cost-guard is invalid/);
        });

        it('accepts policy/config.example.json (validated against every policy\'s schema, as the CLI does)', async () => {
            const example = JSON.parse(readFileSync(join(POLICY_DIR, 'config.example.json'), 'utf8')) as Record<string, Record<string, unknown>>;
            await pack.configure(example as Parameters<PolicyPackProcess['configure']>[0]);
            const ds = await pack.run([{
                type: 'kubernetes:apps/v1:Deployment', name: 'web', urn: 'urn:pulumi:t::nkp::kubernetes:apps/v1:Deployment::web',
                inputs: { metadata: { name: 'web', namespace: 'team' }, spec: { template: { spec: { containers: [{ name: 'c', image: 'nginx:stable', securityContext: { runAsNonRoot: true, allowPrivilegeEscalation: false } }] } } } },
                outputs: {}, dependencies: [], propertyDependencies: {}, additionalSecretOutputs: [],
            }]);
            assert.deepEqual(ds.map((d) => `${d.level} ${d.policyName}`), ['mandatory k8s-image-pinned', 'advisory k8s-resource-limits']);
            assert.match(ds[1]!.message, /has no resources\.limits\.memory: set a limit for each/);
        });

        it('a value unknown during preview passes the preview and is checked when the update knows it', async () => {
            await pack.configure({});
            const svc = (type: string): EngineResource => ({
                type: 'kubernetes:core/v1:Service', name: 'lb', urn: 'urn:pulumi:t::nkp::kubernetes:core/v1:Service::lb',
                inputs: { metadata: { name: 'lb', namespace: 'team' }, spec: { type } }, outputs: {}, dependencies: [], propertyDependencies: {}, additionalSecretOutputs: [],
            });
            assert.deepEqual(await pack.run([svc(UNKNOWN)]), []);
            assert.deepEqual((await pack.run([svc('LoadBalancer')])).map((d) => `${d.level} ${d.policyName}`), ['mandatory k8s-loadbalancer-only-gateway']);
        });
    });

    for (const stack of STACKS) {
        it(`${stack} is compliant: no mandatory violation, and no policy left unable to run`, async () => {
            const resources = await record(stack);
            recorded.set(stack, resources);
            const types = new Set(resources.map((r) => r.type));
            // The stack really registers what the pack guards (so compliance is not vacuous).
            for (const t of ['kubernetes:core/v1:Namespace', 'kubernetes:networking.k8s.io/v1:NetworkPolicy', 'kubernetes:argoproj.io/v1alpha1:Application', 'kubernetes:argoproj.io/v1alpha1:AppProject']) {
                assert.ok(types.has(t), `${stack} registers ${t}`);
            }
            if (stack.startsWith('aws')) for (const t of ['eks:index:Cluster', 'aws:eks/nodeGroup:NodeGroup', 'aws:ec2/subnet:Subnet']) assert.ok(types.has(t), `${stack} registers ${t}`);
            if (stack === 'aws-prod') assert.ok(types.has('aws:efs/fileSystem:FileSystem'), 'aws-prod registers EFS');
            if (stack === 'hetzner') for (const t of ['hcloud:index/server:Server', 'hcloud:index/firewall:Firewall']) assert.ok(types.has(t), `${stack} registers ${t}`);
            await pack.configure({});
            const ds = await pack.run(resources);
            assert.deepEqual(mandatory(ds), [], `${stack} mandatory violations:\n${show(mandatory(ds))}`);
            const cannotRun = ds.filter((d) => /can't run policy/.test(d.message));
            assert.deepEqual(cannotRun, [], `${stack} policies that could not run:\n${show(cannotRun)}`);
        });
    }

    it('a deliberately unsafe aws-prod (public endpoint to 0.0.0.0/0, branch-tracking gitops, public SSH) is not', async () => {
        const resources = await record('aws-prod', (cfg) => {
            // Bypasses config validation on purpose: settings the program's own checks would refuse.
            cfg.settings.gitops.revision = 'main';
        });
        const eks = resources.find((r) => r.type === 'eks:index:Cluster');
        assert.ok(eks, 'aws-prod registers the eks component');
        // A hand-edited component: its inputs tampered after config validation.
        eks.inputs = { ...eks.inputs, endpointPublicAccess: true, publicAccessCidrs: ['0.0.0.0/0'] };
        resources.push({
            type: 'aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule', name: 'debug-ssh', urn: 'urn:pulumi:aws-prod::nkp::aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule::debug-ssh',
            inputs: { ipProtocol: 'tcp', fromPort: 22, toPort: 22, cidrIpv4: '0.0.0.0/0', securityGroupId: UNKNOWN, tags: { environment: 'aws-prod', owner: 'x', 'cost-centre': 'y' } },
            outputs: {}, dependencies: [], propertyDependencies: {}, additionalSecretOutputs: [],
        });
        await pack.configure({});
        const bad = mandatory(await pack.run(resources));
        const byPolicy = bad.map((d) => `${d.policyName}: ${d.message.split('\n')[1]}`).sort();
        assert.deepEqual(byPolicy.filter((m) => /^(eks-public-endpoint-restricted|aws-sg-no-world-admin-ports)/.test(m)), [
            'aws-sg-no-world-admin-ports: SecurityGroupIngressRule "debug-ssh" opens port(s) 22 to 0.0.0.0/0: allow only your admin/VPN CIDRs on SSH and the Kubernetes API.',
            `eks-public-endpoint-restricted: EKS cluster "${eks.name}" opens its public API endpoint to 0.0.0.0/0: list only CIDRs with a prefix of /8 or longer in publicAccessCidrs.`,
        ]);
        assert.ok(byPolicy.some((m) => /^argocd-app-pinned-revision: .* tracks "main", a branch or moving ref/.test(m)), show(bad));
    });
});
