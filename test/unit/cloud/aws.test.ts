/**
 * AwsCloud: pure planners (subnet CIDRs, NAT placement, node-group specs, IAM documents, validation) tested
 * directly, and the component tested under Pulumi mocks.
 *
 * Stand-in: AWS (and the Pulumi engine) cannot be reached from here, so the component runs against the recording
 * Pulumi mocks in test/unit/pulumi-mocks.ts. `eks:index:Cluster` is a remote component, one mocked resource:
 * we assert the arguments passed to it.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import * as pulumi from '@pulumi/pulumi';
import { contains, overlaps, parseIpv4Cidr } from '../../../components/cloud/cidr.js';
import {
    AMI_TYPE_GPU,
    AMI_TYPE_STANDARD,
    clusterAutoscalerPolicy,
    deployerReachProblem,
    nodeGroupSpec,
    planNat,
    planSubnets,
    validateAwsCloudArgs,
} from '../../../components/cloud/aws-plan.js';
import type { AwsCloudArgs } from '../../../components/cloud/aws.js';
import { outputIsSecret, outputValue, recordChildOptions, setupPulumiMocks, type RecordingMocks } from '../pulumi-mocks.js';

const TAGS = { environment: 'aws-staging', owner: 'platform-team', costCentre: 'cc-1234', extra: { project: 'nkp' } };

function baseArgs(over: Partial<AwsCloudArgs> = {}): AwsCloudArgs {
    return {
        clusterName: 'nkp-staging',
        tags: TAGS,
        availabilityZones: ['eu-central-1a', 'eu-central-1b', 'eu-central-1c'],
        vpcCidr: '10.20.0.0/16',
        natGateways: 'perAz',
        kubernetesVersion: '1.33',
        endpointPublicAccess: true,
        publicAccessCidrs: ['203.0.113.0/24', '198.51.100.7/32'],
        adminPrincipalArns: ['arn:aws:iam::123456789012:role/platform-admins'],
        nodeGroups: [
            { name: 'general', instanceTypes: ['m6i.xlarge'], minSize: 2, maxSize: 6, desiredSize: 3, labels: { pool: 'general' } },
            {
                name: 'gpu', instanceTypes: ['g5.xlarge'], minSize: 0, maxSize: 2, desiredSize: 0, gpu: true,
                taints: [{ key: 'nvidia.com/gpu', value: 'true', effect: 'NoSchedule' }],
            },
        ],
        efs: { enabled: true },
        ...over,
    };
}

describe('cloud/aws: pure planners', () => {
    it('planSubnets: one public + one private subnet per AZ, all inside the VPC, none overlapping (property)', () => {
        fc.assert(fc.property(
            fc.integer({ min: 16, max: 22 }), fc.integer({ min: 2, max: 6 }), fc.integer({ min: 0, max: 255 }),
            (prefix, n, octet) => {
                const vpcText = `10.${octet}.0.0/${prefix}`;
                const vpc = parseIpv4Cidr(vpcText);
                fc.pre(vpc !== undefined);
                const azs = Array.from({ length: n }, (_, i) => `eu-west-1${'abcdef'[i]}`);
                let plan;
                try { plan = planSubnets(vpcText, azs); } catch (e) {
                    assert.match(String(e), /vpcCidr/); // too small: refused, naming the field
                    return;
                }
                assert.deepEqual(plan.map((p) => p.az), azs);
                const all = plan.flatMap((p) => [p.publicCidr, p.privateCidr]).map((c) => parseIpv4Cidr(c)!);
                all.forEach((c) => assert.ok(contains(vpc!, c), 'subnet inside VPC'));
                for (let i = 0; i < all.length; i++) for (let j = i + 1; j < all.length; j++) assert.ok(!overlaps(all[i]!, all[j]!), 'disjoint');
                plan.forEach((p) => assert.ok(parseIpv4Cidr(p.privateCidr)!.prefix < parseIpv4Cidr(p.publicCidr)!.prefix, 'private larger'));
            }));
    });

    it('planSubnets: concrete /16 over 3 AZs', () => {
        assert.deepEqual(planSubnets('10.0.0.0/16', ['a-b-1a', 'a-b-1b', 'a-b-1c']), [
            { az: 'a-b-1a', privateCidr: '10.0.0.0/19', publicCidr: '10.0.128.0/21' },
            { az: 'a-b-1b', privateCidr: '10.0.32.0/19', publicCidr: '10.0.136.0/21' },
            { az: 'a-b-1c', privateCidr: '10.0.64.0/19', publicCidr: '10.0.144.0/21' },
        ]);
    });

    it('planNat: perAz gives each AZ its own gateway, single shares one (property)', () => {
        fc.assert(fc.property(fc.integer({ min: 2, max: 6 }), (n) => {
            const per = planNat(n, 'perAz');
            assert.equal(per.count, n);
            assert.deepEqual(per.gatewayForAz, [...Array(n).keys()]);
            const single = planNat(n, 'single');
            assert.equal(single.count, 1);
            assert.ok(single.gatewayForAz.every((g) => g === 0));
        }));
    });

    it('nodeGroupSpec: GPU AMI for gpu groups, EKS taint effects, autoscaler discovery tags', () => {
        const plan = validateAwsCloudArgs(baseArgs());
        const [general, gpu] = plan.nodeGroups.map((g) => nodeGroupSpec(g, 'nkp-staging'));
        assert.equal(general!.amiType, AMI_TYPE_STANDARD);
        assert.equal(gpu!.amiType, AMI_TYPE_GPU);
        assert.equal(gpu!.amiType, 'AL2023_x86_64_NVIDIA');
        assert.deepEqual(gpu!.taints, [{ key: 'nvidia.com/gpu', value: 'true', effect: 'NO_SCHEDULE' }]);
        assert.deepEqual(gpu!.scalingConfig, { minSize: 0, maxSize: 2, desiredSize: 0 });
        assert.equal(general!.labels['pool'], 'general');
        assert.equal(general!.autoscalerTags['k8s.io/cluster-autoscaler/nkp-staging'], 'owned');
    });

    it('clusterAutoscalerPolicy: scaling actions only on groups owned by this cluster', () => {
        const doc = JSON.parse(clusterAutoscalerPolicy('c1'));
        const scale = doc.Statement.find((s: { Action: string[] }) => s.Action.includes('autoscaling:SetDesiredCapacity'));
        assert.deepEqual(scale.Condition, { StringEquals: { 'aws:ResourceTag/k8s.io/cluster-autoscaler/c1': 'owned' } });
        const discover = doc.Statement.find((s: { Sid: string }) => s.Sid === 'Discover');
        assert.ok(discover.Action.every((a: string) => /:(Describe|Get)/.test(a)), 'unconditioned actions are read-only');
    });

    it('deployerReachProblem: an address inside a public-access CIDR passes, one outside names the field and the fix (property)', () => {
        fc.assert(fc.property(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 }), (c, d) => {
            const ip = `203.0.${c}.${d}`;
            assert.equal(deployerReachProblem(true, ['203.0.0.0/16'], ip), undefined);
            assert.equal(deployerReachProblem(true, ['198.51.100.0/24', `${ip}/32`], ip), undefined);
            const p = deployerReachProblem(true, ['198.51.100.0/24'], ip);
            assert.match(p ?? '', new RegExp(`runs pulumi up from ${ip.replaceAll('.', '\\.')}, which is outside every allowed CIDR \\(198\\.51\\.100\\.0/24\\).*Add ${ip.replaceAll('.', '\\.')}/32 .* to publicAccessCidrs`));
        }));
        assert.equal(deployerReachProblem(false, ['198.51.100.0/24'], '203.0.113.9'), undefined, 'private endpoint only: nothing to compare');
        assert.match(deployerReachProblem(true, ['198.51.100.0/24'], 'not-an-ip') ?? '', /is not an IPv4 address/);
    });

    it('validateAwsCloudArgs: defaults', () => {
        const plan = validateAwsCloudArgs(baseArgs({ vpcCidr: undefined, natGateways: undefined, efs: undefined }));
        assert.equal(plan.vpcCidr, '10.0.0.0/16');
        assert.equal(plan.natGateways, 'perAz');
        assert.equal(plan.defaultStorageClassName, 'gp3');
        assert.equal(plan.efs.enabled, false);
        assert.equal(plan.kmsDeletionWindowDays, 30);
        assert.equal(plan.nodeGroups[0]!.capacityType, 'ON_DEMAND');
    });

    const failures: [string, Partial<AwsCloudArgs>, RegExp][] = [
        ['fewer than 2 AZs', { availabilityZones: ['eu-central-1a'] }, /availabilityZones: at least 2 distinct/],
        ['duplicate AZs', { availabilityZones: ['eu-central-1a', 'eu-central-1a'] }, /availabilityZones: duplicates/],
        ['AZs in two regions', { availabilityZones: ['eu-central-1a', 'eu-west-1b'] }, /availabilityZones: all zones must be in one region/],
        ['malformed AZ', { availabilityZones: ['eu-central-1a', 'central'] }, /availabilityZones\[1\]/],
        ['empty public CIDR list', { publicAccessCidrs: [] }, /publicAccessCidrs: a non-empty list/],
        ['missing public CIDR list', { publicAccessCidrs: undefined }, /publicAccessCidrs: a non-empty list/],
        ['public endpoint open to the internet', { publicAccessCidrs: ['203.0.113.0/24', '0.0.0.0/0'] }, /publicAccessCidrs\[1\]: 0\.0\.0\.0\/0 opens/],
        ['public endpoint open to IPv6 internet', { publicAccessCidrs: ['::/0'] }, /publicAccessCidrs\[0\]: ::\/0 opens/],
        ['public endpoint open to half the internet', { publicAccessCidrs: ['0.0.0.0/1'] }, /publicAccessCidrs\[0\]: 0\.0\.0\.0\/1 is broader than \/8/],
        ['an IPv6 public endpoint CIDR', { publicAccessCidrs: ['2001:db8::/48'] }, /publicAccessCidrs\[0\]: 2001:db8::\/48 is IPv6; only IPv4/],
        ['malformed CIDR', { publicAccessCidrs: ['203.0.113.5/24'] }, /publicAccessCidrs\[0\]: "203\.0\.113\.5\/24" is not a valid CIDR/],
        ['CIDRs with public endpoint off', { endpointPublicAccess: false, publicAccessCidrs: ['203.0.113.0/24'] }, /publicAccessCidrs: only applies/],
        ['VPC too big', { vpcCidr: '10.0.0.0/8' }, /vpcCidr: \/8 is not allowed/],
        ['VPC too small for AZs', { vpcCidr: '10.0.0.0/24' }, /vpcCidr: 10\.0\.0\.0\/24 is too small for 3/],
        ['bad cluster name', { clusterName: 'Bad_Name' }, /clusterName: "Bad_Name" is not allowed/],
        ['no node groups', { nodeGroups: [] }, /nodeGroups: at least one/],
        ['min > max', { nodeGroups: [{ name: 'a', instanceTypes: ['m6i.large'], minSize: 5, maxSize: 2, desiredSize: 2 }] }, /nodeGroups\[0\]\.maxSize: 2 is below minSize 5/],
        ['desired outside range', { nodeGroups: [{ name: 'a', instanceTypes: ['m6i.large'], minSize: 1, maxSize: 2, desiredSize: 3 }] }, /nodeGroups\[0\]\.desiredSize: 3 is outside/],
        ['negative min', { nodeGroups: [{ name: 'a', instanceTypes: ['m6i.large'], minSize: -1, maxSize: 2, desiredSize: 1 }] }, /nodeGroups\[0\]\.minSize: -1/],
        ['no instance types', { nodeGroups: [{ name: 'a', instanceTypes: [], minSize: 1, maxSize: 2, desiredSize: 1 }] }, /nodeGroups\[0\]\.instanceTypes: at least one/],
        ['bad taint effect', { nodeGroups: [{ name: 'a', instanceTypes: ['m6i.large'], minSize: 1, maxSize: 2, desiredSize: 1, taints: [{ key: 'k', effect: 'Nope' as 'NoSchedule' }] }] }, /nodeGroups\[0\]\.taints\[0\]\.effect/],
        ['duplicate node group names', { nodeGroups: [
            { name: 'a', instanceTypes: ['m6i.large'], minSize: 1, maxSize: 2, desiredSize: 1 },
            { name: 'a', instanceTypes: ['m6i.large'], minSize: 1, maxSize: 2, desiredSize: 1 }] }, /nodeGroups\[1\]\.name: "a" is used twice/],
        ['bad admin ARN', { adminPrincipalArns: ['admin'] }, /adminPrincipalArns\[0\]/],
        ['missing owner tag', { tags: { environment: 'e', owner: '', costCentre: 'c' } }, /tags\.owner/],
        ['bad NAT mode', { natGateways: 'none' as 'single' }, /natGateways: "none" is not allowed; use one of "perAz", "single"/],
        ['EFS class named like the default', { efs: { enabled: true, storageClassName: 'gp3' } }, /efs\.storageClassName/],
        ['a plain-http OIDC issuer', { apiServerOidc: { issuerUrl: 'http://keycloak.example.com/realms/nkp', clientId: 'kubernetes' } }, /apiServerOidc\.issuerUrl: "http:\/\/keycloak/],
        ['an OIDC config without client id', { apiServerOidc: { issuerUrl: 'https://keycloak.example.com/realms/nkp', clientId: '' } }, /apiServerOidc\.clientId/],
        ['a bad OIDC groups prefix', { apiServerOidc: { issuerUrl: 'https://k.example.com/realms/nkp', clientId: 'k', groupsPrefix: 'a b' } }, /apiServerOidc\.groupsPrefix/],
        ['KMS window out of range', { kmsDeletionWindowDays: 3 }, /kmsDeletionWindowDays: 3/],
    ];
    for (const [what, over, message] of failures) {
        it(`validateAwsCloudArgs refuses ${what}, naming the field`, () => {
            assert.throws(() => validateAwsCloudArgs(baseArgs(over)), (e: Error) => {
                assert.match(e.message, /^AwsCloud: invalid /);
                assert.match(e.message, message);
                return true;
            });
        });
    }
});

/** Types that AWS cannot tag (association / attachment resources). */
const UNTAGGABLE = new Set([
    'aws:ec2/routeTableAssociation:RouteTableAssociation',
    'aws:iam/rolePolicyAttachment:RolePolicyAttachment',
    'aws:iam/rolePolicy:RolePolicy',
    'aws:kms/alias:Alias',
    'aws:efs/mountTarget:MountTarget',
]);

describe('cloud/aws: AwsCloud under Pulumi mocks', function () {
    this.timeout(60_000);
    let mocks: RecordingMocks;
    let AwsCloud: typeof import('../../../components/cloud/aws.js').AwsCloud;

    before(async () => {
        mocks = await setupPulumiMocks({
            outputs: ({ type, name, inputs }) => {
                const base: Record<string, unknown> = { arn: `arn:aws:mock:::${name}`, name: inputs['name'] ?? name };
                if (type === 'eks:index:Cluster') {
                    return {
                        eksCluster: { name: inputs['name'] },
                        kubeconfigJson: JSON.stringify({ apiVersion: 'v1', kind: 'Config', clusters: [{ name: inputs['name'] }] }),
                        oidcIssuer: 'https://oidc.eks.eu-central-1.amazonaws.com/id/MOCK',
                    };
                }
                if (type === 'aws:ec2/launchTemplate:LaunchTemplate') return { ...base, latestVersion: 1 };
                if (type === 'aws:kms/key:Key') return { ...base, keyId: `${name}-key-id` };
                if (type.startsWith('kubernetes:')) return {};
                return base;
            },
        });
        ({ AwsCloud } = await import('../../../components/cloud/aws.js'));
    });
    beforeEach(() => mocks.reset());

    async function build(over: Partial<AwsCloudArgs> = {}, opts: pulumi.ComponentResourceOptions = {}) {
        const cloud = new AwsCloud('t', baseArgs(over), opts);
        await outputValue(cloud.defaultStorageClass);
        await mocks.settle();
        return cloud;
    }

    it('registers as nkp:cloud:AwsCloud with every child parented to it', async () => {
        await build();
        const comp = mocks.one('nkp:cloud:AwsCloud');
        assert.equal(comp.name, 't');
        assert.ok(mocks.resources.length > 40, `expected a full stack of resources, got ${mocks.resources.length}`);
        for (const r of mocks.resources.filter((x) => x !== comp)) {
            const urns = mocks.urnsOf(r.type, r.name);
            assert.ok(urns.length > 0 && urns.every((u) => u.split('::')[2]!.startsWith('nkp:cloud:AwsCloud$')), `${r.type} ${r.name} parented to the component`);
        }
    });

    it('spreads public and private subnets over every AZ; no subnet maps public IPs', async () => {
        await build();
        const subnets = mocks.ofType('aws:ec2/subnet:Subnet');
        const pub = subnets.filter((s) => s.plain['tags']['kubernetes.io/role/elb'] === '1');
        const priv = subnets.filter((s) => s.plain['tags']['kubernetes.io/role/internal-elb'] === '1');
        assert.equal(pub.length, 3);
        assert.equal(priv.length, 3);
        for (const set of [pub, priv]) {
            assert.deepEqual(set.map((s) => s.plain['availabilityZone']).sort(), ['eu-central-1a', 'eu-central-1b', 'eu-central-1c']);
        }
        assert.ok(subnets.every((s) => s.plain['mapPublicIpOnLaunch'] === false));
        assert.deepEqual(priv.map((s) => s.plain['cidrBlock']), ['10.20.0.0/19', '10.20.32.0/19', '10.20.64.0/19']);
        assert.deepEqual(pub.map((s) => s.plain['cidrBlock']), ['10.20.128.0/21', '10.20.136.0/21', '10.20.144.0/21']);
    });

    it('NAT per AZ: three gateways in three public subnets, each private route table through its own', async () => {
        await build({ natGateways: 'perAz' });
        const nats = mocks.ofType('aws:ec2/natGateway:NatGateway');
        assert.equal(nats.length, 3);
        assert.equal(new Set(nats.map((n) => n.plain['subnetId'])).size, 3);
        const privateRts = mocks.ofType('aws:ec2/routeTable:RouteTable').filter((r) => r.name.startsWith('t-private-'));
        assert.equal(privateRts.length, 3);
        assert.equal(new Set(privateRts.map((r) => r.plain['routes'][0].natGatewayId)).size, 3);
        assert.equal(mocks.ofType('aws:ec2/eip:Eip').length, 3);
    });

    it('single NAT: one gateway shared by every private route table', async () => {
        await build({ natGateways: 'single' });
        assert.equal(mocks.ofType('aws:ec2/natGateway:NatGateway').length, 1);
        const privateRts = mocks.ofType('aws:ec2/routeTable:RouteTable').filter((r) => r.name.startsWith('t-private-'));
        assert.equal(privateRts.length, 3);
        assert.equal(new Set(privateRts.map((r) => r.plain['routes'][0].natGatewayId)).size, 1);
    });

    it('EKS: access entries, KMS secrets encryption (rotated key), private endpoint + CIDR-limited public endpoint, OIDC', async () => {
        await build();
        const eks = mocks.one('eks:index:Cluster').plain;
        const key = mocks.one('aws:kms/key:Key');
        assert.equal(key.plain['enableKeyRotation'], true);
        assert.equal(eks['authenticationMode'], 'API');
        assert.equal(eks['encryptionConfigKeyArn'], 'arn:aws:mock:::t-secrets');
        assert.equal(eks['endpointPrivateAccess'], true);
        assert.equal(eks['endpointPublicAccess'], true);
        assert.deepEqual(eks['publicAccessCidrs'], ['203.0.113.0/24', '198.51.100.7/32']);
        assert.equal(eks['createOidcProvider'], true);
        assert.equal(eks['skipDefaultNodeGroup'], true);
        assert.equal(eks['nodeAssociatePublicIpAddress'], false);
        assert.equal(eks['version'], '1.33');
        assert.equal(eks['corednsAddonOptions'].enabled, false, 'CoreDNS comes after the node groups');
        assert.ok(mocks.ofType('aws:eks/addon:Addon').some((a) => a.plain['addonName'] === 'coredns'));
        assert.deepEqual(eks['accessEntries']['admin-0'].principalArn, 'arn:aws:iam::123456789012:role/platform-admins');
        assert.match(eks['accessEntries']['admin-0'].accessPolicies.admin.policyArn, /AmazonEKSClusterAdminPolicy$/);
        const privIds = mocks.ofType('aws:ec2/subnet:Subnet').filter((s) => s.name.startsWith('t-private-')).map((s) => `${s.name}-id`);
        assert.deepEqual(eks['privateSubnetIds'], privIds);
    });

    it('EKS with the public endpoint off sends no public CIDRs', async () => {
        await build({ endpointPublicAccess: false, publicAccessCidrs: undefined });
        const eks = mocks.one('eks:index:Cluster').plain;
        assert.equal(eks['endpointPublicAccess'], false);
        assert.deepEqual(eks['publicAccessCidrs'], []);
    });

    it('VPC CNI: a managed addon with the network policy agent on (configurationValues enableNetworkPolicy), before the nodes', async () => {
        const rec = recordChildOptions();
        await build({}, { transformations: [rec.transformation] });
        const cni = mocks.ofType('aws:eks/addon:Addon').find((a) => a.plain['addonName'] === 'vpc-cni');
        assert.ok(cni, 'vpc-cni addon');
        assert.deepEqual(JSON.parse(cni.plain['configurationValues']), { enableNetworkPolicy: 'true' });
        assert.equal(cni.plain['resolveConflictsOnCreate'], 'OVERWRITE', 'takes over the aws-node DaemonSet EKS installs');
        for (const g of mocks.ofType('aws:eks/nodeGroup:NodeGroup')) {
            const deps = rec.of('aws:eks/nodeGroup:NodeGroup', g.name).dependsOn as pulumi.Resource[];
            const names = await Promise.all(deps.map((d) => outputValue(d.urn)));
            assert.ok(names.some((u) => u.endsWith('::t-vpc-cni')), `${g.name} waits for the CNI addon`);
        }
    });

    it('node groups live only in private subnets, with encrypted gp3 root volumes and the GPU AMI for GPU groups', async () => {
        await build();
        const privIds = mocks.ofType('aws:ec2/subnet:Subnet').filter((s) => s.name.startsWith('t-private-')).map((s) => `${s.name}-id`).sort();
        const groups = mocks.ofType('aws:eks/nodeGroup:NodeGroup');
        assert.equal(groups.length, 2);
        for (const g of groups) assert.deepEqual([...g.plain['subnetIds']].sort(), privIds);
        const gpu = groups.find((g) => g.name === 't-gpu')!.plain;
        assert.equal(gpu['amiType'], 'AL2023_x86_64_NVIDIA');
        assert.deepEqual(gpu['taints'], [{ key: 'nvidia.com/gpu', value: 'true', effect: 'NO_SCHEDULE' }]);
        assert.deepEqual(gpu['scalingConfig'], { minSize: 0, maxSize: 2, desiredSize: 0 });
        assert.equal(groups.find((g) => g.name === 't-general')!.plain['amiType'], 'AL2023_x86_64_STANDARD');
        for (const lt of mocks.ofType('aws:ec2/launchTemplate:LaunchTemplate')) {
            const ebs = lt.plain['blockDeviceMappings'][0].ebs;
            assert.equal(ebs.encrypted, 'true');
            assert.equal(ebs.volumeType, 'gp3');
            assert.equal(lt.plain['metadataOptions'].httpTokens, 'required');
        }
    });

    it('EBS CSI via Pod Identity (role trusted by pods.eks.amazonaws.com) and an encrypted gp3 default StorageClass', async () => {
        const cloud = await build();
        const addon = mocks.ofType('aws:eks/addon:Addon').find((a) => a.plain['addonName'] === 'aws-ebs-csi-driver');
        assert.ok(addon, 'EBS CSI addon');
        assert.ok(mocks.ofType('aws:eks/addon:Addon').some((a) => a.plain['addonName'] === 'eks-pod-identity-agent'));
        const assoc = mocks.ofType('aws:eks/podIdentityAssociation:PodIdentityAssociation').find((a) => a.plain['serviceAccount'] === 'ebs-csi-controller-sa')!;
        assert.equal(assoc.plain['namespace'], 'kube-system');
        assert.equal(assoc.plain['clusterName'], 'nkp-staging');
        const role = mocks.one('aws:iam/role:Role', 't-ebs-csi');
        assert.equal(assoc.plain['roleArn'], 'arn:aws:mock:::t-ebs-csi');
        assert.equal(JSON.parse(role.plain['assumeRolePolicy']).Statement[0].Principal.Service, 'pods.eks.amazonaws.com');
        assert.ok(mocks.ofType('aws:iam/rolePolicyAttachment:RolePolicyAttachment').some((p) => p.plain['role'] === 't-ebs-csi' && /AmazonEBSCSIDriverPolicy$/.test(p.plain['policyArn'])));
        const sc = mocks.one('kubernetes:storage.k8s.io/v1:StorageClass', 't-gp3').plain;
        assert.equal(sc['metadata'].annotations['storageclass.kubernetes.io/is-default-class'], 'true');
        assert.equal(sc['provisioner'], 'ebs.csi.aws.com');
        assert.equal(sc['parameters'].type, 'gp3');
        assert.equal(sc['parameters'].encrypted, 'true');
        assert.equal(await outputValue(cloud.defaultStorageClass), 'gp3');
    });

    it('EFS: encrypted with the KMS key, mount targets in every private subnet, NFS only from the VPC CIDR', async () => {
        await build();
        const fs = mocks.one('aws:efs/fileSystem:FileSystem').plain;
        assert.equal(fs['encrypted'], true);
        assert.equal(fs['kmsKeyId'], 'arn:aws:mock:::t-secrets');
        const privIds = mocks.ofType('aws:ec2/subnet:Subnet').filter((s) => s.name.startsWith('t-private-')).map((s) => `${s.name}-id`).sort();
        assert.deepEqual(mocks.ofType('aws:efs/mountTarget:MountTarget').map((m) => m.plain['subnetId']).sort(), privIds);
        const sg = mocks.one('aws:ec2/securityGroup:SecurityGroup', 't-efs').plain;
        assert.deepEqual(sg['ingress'], [{ protocol: 'tcp', fromPort: 2049, toPort: 2049, cidrBlocks: ['10.20.0.0/16'], description: 'NFS from the VPC' }]);
        assert.deepEqual(sg['egress'], []);
        assert.ok(mocks.ofType('aws:eks/addon:Addon').some((a) => a.plain['addonName'] === 'aws-efs-csi-driver'));
        const sc = mocks.one('kubernetes:storage.k8s.io/v1:StorageClass', 't-efs').plain;
        assert.equal(sc['provisioner'], 'efs.csi.aws.com');
        assert.equal(sc['parameters'].fileSystemId, 't-efs-id');
    });

    it('no EFS resources when EFS is off', async () => {
        const cloud = await build({ efs: { enabled: false } });
        assert.equal(mocks.ofType('aws:efs/fileSystem:FileSystem').length, 0);
        assert.equal(mocks.ofType('aws:efs/mountTarget:MountTarget').length, 0);
        assert.equal(await outputValue(cloud.efsFileSystemId), undefined);
    });

    it('API-server OIDC: an EKS identity provider config with the group prefix the RBAC bindings use; none when unset', async () => {
        await build({ apiServerOidc: { issuerUrl: 'https://keycloak.example.com/realms/nkp', clientId: 'kubernetes' } });
        const idp = mocks.one('aws:eks/identityProviderConfig:IdentityProviderConfig').plain;
        assert.equal(idp['clusterName'], 'nkp-staging');
        assert.deepEqual(idp['oidc'], {
            identityProviderConfigName: 'oidc', issuerUrl: 'https://keycloak.example.com/realms/nkp', clientId: 'kubernetes',
            usernameClaim: 'preferred_username', usernamePrefix: 'oidc:', groupsClaim: 'groups', groupsPrefix: 'oidc:',
        });
        mocks.reset();
        await build();
        assert.equal(mocks.ofType('aws:eks/identityProviderConfig:IdentityProviderConfig').length, 0);
    });

    it('cluster autoscaler: Pod Identity role with the owned-groups policy for kube-system/cluster-autoscaler', async () => {
        const cloud = await build();
        const assoc = mocks.ofType('aws:eks/podIdentityAssociation:PodIdentityAssociation').find((a) => a.plain['serviceAccount'] === 'cluster-autoscaler')!;
        assert.equal(assoc.plain['namespace'], 'kube-system');
        const policy = mocks.one('aws:iam/rolePolicy:RolePolicy', 't-cluster-autoscaler-0').plain;
        assert.equal(policy['role'], 't-cluster-autoscaler');
        assert.match(policy['policy'], /k8s\.io\/cluster-autoscaler\/nkp-staging/);
        assert.equal(await outputValue(cloud.clusterAutoscalerRoleArn), 'arn:aws:mock:::t-cluster-autoscaler');
    });

    it('every taggable AWS resource carries environment, owner and cost-centre (plus user tags)', async () => {
        await build();
        const aws = mocks.resources.filter((r) => r.type.startsWith('aws:') && !UNTAGGABLE.has(r.type));
        assert.ok(aws.length > 30);
        for (const r of aws) {
            assert.deepEqual(
                { environment: r.plain['tags']?.environment, owner: r.plain['tags']?.owner, cc: r.plain['tags']?.['cost-centre'], project: r.plain['tags']?.project },
                { environment: 'aws-staging', owner: 'platform-team', cc: 'cc-1234', project: 'nkp' },
                `${r.type} ${r.name}`,
            );
        }
        const eks = mocks.one('eks:index:Cluster').plain;
        assert.equal(eks['tags']['cost-centre'], 'cc-1234');
        for (const lt of mocks.ofType('aws:ec2/launchTemplate:LaunchTemplate')) {
            for (const spec of lt.plain['tagSpecifications']) assert.equal(spec.tags.owner, 'platform-team');
        }
    });

    it('outputs: kubeconfig is secret; cluster name, OIDC issuer, VPC and subnet ids resolve', async () => {
        const cloud = await build();
        assert.equal(await outputIsSecret(cloud.kubeconfig), true);
        assert.equal(await pulumi.isSecret(cloud.clusterName), false);
        assert.equal(await outputValue(cloud.clusterName), 'nkp-staging');
        assert.match(await outputValue(cloud.oidcIssuer), /^https:\/\/oidc\.eks\./);
        assert.equal(await outputValue(cloud.vpcId), 't-vpc-id');
        assert.equal((await outputValue(cloud.privateSubnetIds)).length, 3);
        assert.equal((await outputValue(cloud.publicSubnetIds)).length, 3);
        assert.equal(cloud.provider, 'aws');
    });

    const STATEFUL: [string, string][] = [
        ['aws:ec2/vpc:Vpc', 't-vpc'], ['aws:kms/key:Key', 't-secrets'], ['eks:index:Cluster', 't-eks'], ['aws:efs/fileSystem:FileSystem', 't-efs'],
    ];

    it('protect: VPC, KMS key, EKS cluster and EFS are protected by default, volumes retained; protect false turns both off', async () => {
        const rec = recordChildOptions();
        await build({}, { transformations: [rec.transformation] });
        for (const [type, n] of STATEFUL) assert.equal(rec.of(type, n).protect, true, `${type} ${n} protected`);
        // Everything else stays replaceable (a protected node group or subnet would block ordinary changes).
        const others = rec.options.filter((o) => !STATEFUL.some(([t, n]) => o.type === t && o.name === n));
        assert.deepEqual(others.filter((o) => o.protect === true).map((o) => `${o.type} ${o.name}`), []);
        assert.equal(mocks.one('kubernetes:storage.k8s.io/v1:StorageClass', 't-gp3').plain['reclaimPolicy'], 'Retain');

        mocks.reset();
        const off = recordChildOptions();
        await build({ protect: false }, { transformations: [off.transformation] });
        for (const [type, n] of STATEFUL) assert.equal(off.of(type, n).protect, false, `${type} ${n} unprotected`);
        assert.equal(mocks.one('kubernetes:storage.k8s.io/v1:StorageClass', 't-gp3').plain['reclaimPolicy'], 'Delete');
        assert.throws(() => validateAwsCloudArgs(baseArgs({ protect: 'yes' as unknown as boolean })), /AwsCloud: invalid protect: "yes" is not allowed; use true or false/);
    });

    it('a new instance type replaces a node group without a name clash: generated name from a stable prefix, create-before-delete, unprotected', async () => {
        // The engine replaces an EKS node group when instanceTypes change (ForceNew in the provider). With a fixed
        // nodeGroupName the new group could not be created while the old one exists; a generated name can.
        const groupOf = async (instanceType: string) => {
            mocks.reset();
            const rec = recordChildOptions();
            await build({ nodeGroups: [{ name: 'general', instanceTypes: [instanceType], minSize: 1, maxSize: 3, desiredSize: 1 }] }, { transformations: [rec.transformation] });
            return { inputs: mocks.one('aws:eks/nodeGroup:NodeGroup', 't-general').plain, opts: rec.of('aws:eks/nodeGroup:NodeGroup', 't-general') };
        };
        const before = await groupOf('m6i.xlarge');
        const after = await groupOf('m6i.2xlarge');
        assert.deepEqual([before.inputs['instanceTypes'], after.inputs['instanceTypes']], [['m6i.xlarge'], ['m6i.2xlarge']]);
        for (const g of [before, after]) {
            assert.equal(g.inputs['nodeGroupName'], undefined, 'no fixed node group name');
            assert.equal(g.inputs['nodeGroupNamePrefix'], 'general-');
            assert.ok(String(g.inputs['nodeGroupNamePrefix']).length <= 63 - 26, 'prefix + the provider\'s 26 generated characters fit EKS\' 63');
            assert.notEqual(g.opts.protect, true, 'a protected group could not be replaced');
            assert.notEqual(g.opts.deleteBeforeReplace, true, 'the old group keeps serving until the new one is up');
        }
        // The launch template is auto-named too (no name input), so it never clashes either.
        assert.equal(mocks.one('aws:ec2/launchTemplate:LaunchTemplate', 't-general').plain['name'], undefined);
    });

    it('node-group name limit: 36 characters (the generated name must fit 63), refused with the field named', () => {
        const ok = 'a'.repeat(36);
        assert.equal(validateAwsCloudArgs(baseArgs({ nodeGroups: [{ name: ok, instanceTypes: ['m6i.large'], minSize: 1, maxSize: 1, desiredSize: 1 }] })).nodeGroups[0]!.name, ok);
        assert.throws(() => validateAwsCloudArgs(baseArgs({ nodeGroups: [{ name: `${ok}b`, instanceTypes: ['m6i.large'], minSize: 1, maxSize: 1, desiredSize: 1 }] })),
            /nodeGroups\[0\]\.name: "a{36}b" is not allowed; .*at most 36 characters/);
    });

    it('refuses bad args before registering any resource', async () => {
        assert.throws(() => new AwsCloud('bad', baseArgs({ availabilityZones: ['eu-central-1a'] })), /availabilityZones/);
        await mocks.settle();
        assert.equal(mocks.resources.length, 0);
    });
});
