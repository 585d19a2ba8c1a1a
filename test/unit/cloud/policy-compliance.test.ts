/**
 * The cloud components against the project's CrossGuard policies (policy/): every resource-level policy of the
 * pack runs, through the policy tests' engine-faithful harness, over every resource AwsCloud and HetznerCloud
 * register for compliant configurations, and must report nothing. Negative controls mutate one recorded resource
 * to prove the checks bite.
 *
 * Stand-in: AWS, Hetzner and the Pulumi engine cannot be reached here; resources come from the recording Pulumi
 * mocks (test/unit/pulumi-mocks.ts). Stack-level policies (which need the engine's property dependencies) are
 * exercised by the policy and stack tests.
 */
import assert from 'node:assert/strict';
import type { Policy, ResourceValidationPolicy } from '@pulumi/policy';
import { policies } from '../../../policy/policies/index.js';
import { runResourcePolicy } from '../policy/harness.js';
import type { AwsCloudArgs } from '../../../components/cloud/aws.js';
import type { HetznerCloudArgs } from '../../../components/cloud/hetzner.js';
import { outputValue, setupPulumiMocks, wholeStackOutputs, type RecordedResource, type RecordingMocks } from '../pulumi-mocks.js';

const TAGS = { environment: 'aws-prod', owner: 'platform-team', costCentre: 'cc-1234' };
const resourcePolicies = (policies as Policy[]).filter((p): p is ResourceValidationPolicy => 'validateResource' in p && p.validateResource !== undefined);

const awsArgs: AwsCloudArgs = {
    clusterName: 'nkp-prod',
    tags: TAGS,
    availabilityZones: ['eu-central-1a', 'eu-central-1b', 'eu-central-1c'],
    natGateways: 'perAz',
    kubernetesVersion: '1.33',
    publicAccessCidrs: ['203.0.113.0/24'],
    adminPrincipalArns: ['arn:aws:iam::123456789012:role/platform-admins'],
    nodeGroups: [
        { name: 'general', instanceTypes: ['m6i.xlarge'], minSize: 3, maxSize: 9, desiredSize: 3 },
        { name: 'gpu', instanceTypes: ['g5.xlarge'], minSize: 0, maxSize: 2, desiredSize: 0, gpu: true, taints: [{ key: 'nvidia.com/gpu', effect: 'NoSchedule' }] },
    ],
    efs: { enabled: true },
};

const hetznerArgs: HetznerCloudArgs = {
    clusterName: 'nkp-hetzner',
    tags: { ...TAGS, environment: 'hetzner' },
    location: 'nbg1',
    k3sVersion: 'v1.33.5+k3s1',
    controlPlane: { count: 3, serverType: 'cx32' },
    workerPools: [{ name: 'general', count: 3, serverType: 'cx42' }],
    adminCidrs: ['203.0.113.0/24'],
    sshPublicKey: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAdminKey admin',
    sshPrivateKey: 'PRIVATE',
    hcloudToken: 'TOKEN',
};

async function violations(resources: RecordedResource[]): Promise<string[]> {
    const out: string[] = [];
    for (const r of resources) {
        for (const p of resourcePolicies) {
            const res = await runResourcePolicy(p, { type: r.type, name: r.name, props: r.inputs });
            if (res.unknown) out.push(`${p.name} on ${r.type} ${r.name}: touched an unknown value`);
            out.push(...res.violations.map((v) => `${p.name}: ${v.message}`));
        }
    }
    return out;
}

describe('cloud: components pass the CrossGuard resource policies', function () {
    this.timeout(60_000);
    let mocks: RecordingMocks;
    let aws: RecordedResource[];
    let hetzner: RecordedResource[];

    before(async () => {
        let n = 1000;
        mocks = await setupPulumiMocks({ outputs: wholeStackOutputs, id: ({ type, name }) => (type.startsWith('hcloud:') ? String(n++) : `${name}-id`) });
        const { AwsCloud } = await import('../../../components/cloud/aws.js');
        const { HetznerCloud } = await import('../../../components/cloud/hetzner.js');
        const a = new AwsCloud('aws', awsArgs);
        await outputValue(a.defaultStorageClass);
        await mocks.settle();
        aws = [...mocks.resources];
        mocks.reset();
        const h = new HetznerCloud('hz', hetznerArgs);
        await outputValue(h.defaultStorageClass);
        await mocks.settle();
        hetzner = [...mocks.resources];
    });

    it('runs the pack\'s resource policies (sanity: the AWS, Hetzner and storage ones are among them)', () => {
        const names = resourcePolicies.map((p) => p.name);
        for (const n of ['eks-public-endpoint-restricted', 'eks-secrets-encryption', 'aws-ebs-encrypted', 'aws-efs-encrypted', 'aws-sg-no-world-admin-ports', 'aws-required-tags', 'hetzner-firewall-no-world-admin-ports']) {
            assert.ok(names.includes(n), n);
        }
    });

    it('AwsCloud (3 AZs, NAT per AZ, GPU group, EFS): no violations', async () => {
        assert.ok(aws.length > 50);
        assert.deepEqual(await violations(aws), []);
    });

    it('HetznerCloud (HA control plane + workers): no violations', async () => {
        assert.ok(hetzner.some((r) => r.type === 'hcloud:index/firewall:Firewall'));
        assert.deepEqual(await violations(hetzner), []);
    });

    it('negative controls: an open endpoint, an untagged resource, an unencrypted class and an open firewall are caught', async () => {
        const eks = aws.find((r) => r.type === 'eks:index:Cluster')!;
        const openEks = { ...eks, inputs: { ...eks.inputs, publicAccessCidrs: ['0.0.0.0/0'] } };
        const vpc = aws.find((r) => r.type === 'aws:ec2/vpc:Vpc')!;
        const untagged = { ...vpc, inputs: { ...vpc.inputs, tags: { environment: 'aws-prod', 'cost-centre': 'cc-1234' } } };
        const sc = aws.find((r) => r.type === 'kubernetes:storage.k8s.io/v1:StorageClass' && r.plain['provisioner'] === 'ebs.csi.aws.com')!;
        const plainSc = { ...sc, inputs: { ...sc.inputs, parameters: { type: 'gp3', encrypted: 'false' } } };
        const fw = hetzner.find((r) => r.type === 'hcloud:index/firewall:Firewall')!;
        const openFw = { ...fw, inputs: { ...fw.inputs, rules: [{ direction: 'in', protocol: 'tcp', port: '22', sourceIps: ['0.0.0.0/0'] }] } };
        const found = await violations([openEks, untagged, plainSc, openFw]);
        assert.equal(found.length, 4, found.join('\n'));
        assert.match(found.join('\n'), /eks-public-endpoint-restricted/);
        assert.match(found.join('\n'), /aws-required-tags: .*owner/);
        assert.match(found.join('\n'), /aws-ebs-encrypted/);
        assert.match(found.join('\n'), /hetzner-firewall-no-world-admin-ports/);
    });
});
