import assert from 'node:assert/strict';
import {
    awsRequiredTags,
    PULUMI_EKS_UNTAGGED_CHILDREN,
    ebsEncrypted,
    efsEncrypted,
    eksNodesInPrivateSubnets,
    eksPublicEndpointRestricted,
    eksSecretsEncryption,
    isTaggableAwsType,
    s3Encrypted,
    s3PublicAccessBlocked,
    securityGroupNoWorldAdminPorts,
} from '../../../policy/policies/aws.js';
import { messages, runResourcePolicy, runStackPolicy, UNKNOWN, type StackResourceSpec } from './harness.js';

describe('policy: AWS', () => {
    describe('eks-public-endpoint-restricted', () => {
        it('accepts a raw EKS cluster whose public endpoint lists office CIDRs', async () => {
            const m = await messages(runResourcePolicy(eksPublicEndpointRestricted, {
                type: 'aws:eks/cluster:Cluster', name: 'c',
                props: { vpcConfig: { endpointPublicAccess: true, publicAccessCidrs: ['203.0.113.0/24'] } },
            }));
            assert.deepEqual(m, []);
        });
        it('accepts a private-only endpoint', async () => {
            assert.deepEqual(await messages(runResourcePolicy(eksPublicEndpointRestricted, {
                type: 'eks:index:Cluster', name: 'c', props: { endpointPublicAccess: false, endpointPrivateAccess: true },
            })), []);
        });
        it('rejects 0.0.0.0/0 on the eks component', async () => {
            const m = await messages(runResourcePolicy(eksPublicEndpointRestricted, {
                type: 'eks:index:Cluster', name: 'prod', props: { endpointPublicAccess: true, publicAccessCidrs: ['0.0.0.0/0'] },
            }));
            assert.deepEqual(m, ['EKS cluster "prod" opens its public API endpoint to 0.0.0.0/0: list only CIDRs with a prefix of /8 or longer in publicAccessCidrs.']);
        });
        it('rejects a public endpoint without an allow-list (AWS default is the internet)', async () => {
            const m = await messages(runResourcePolicy(eksPublicEndpointRestricted, {
                type: 'aws:eks/cluster:Cluster', name: 'raw', props: { vpcConfig: { subnetIds: ['a', 'b'] } },
            }));
            assert.match(m[0]!, /^EKS cluster "raw" has a public API endpoint without publicAccessCidrs, so AWS opens it to 0\.0\.0\.0\/0/);
        });
        it('rejects ::/0 and a near-world /1 prefix', async () => {
            const m = await messages(runResourcePolicy(eksPublicEndpointRestricted, {
                type: 'eks:index:Cluster', name: 'c', props: { publicAccessCidrs: ['::/0', '0.0.0.0/1', '198.51.100.7/32'] },
            }));
            assert.equal(m.length, 1);
            assert.match(m[0]!, /opens its public API endpoint to ::\/0, 0\.0\.0\.0\/1:/);
        });
        it('config: allowPublicEndpoint false forbids any public endpoint; minPrefixLength is the user\'s', async () => {
            const m = await messages(runResourcePolicy(eksPublicEndpointRestricted, {
                type: 'eks:index:Cluster', name: 'c', props: { publicAccessCidrs: ['203.0.113.0/24'] },
            }, { allowPublicEndpoint: false }));
            assert.deepEqual(m, ['EKS cluster "c" has a public API endpoint, and this policy\'s config allows none: set endpointPublicAccess to false.']);
            const m2 = await messages(runResourcePolicy(eksPublicEndpointRestricted, {
                type: 'eks:index:Cluster', name: 'c', props: { publicAccessCidrs: ['10.0.0.0/16'] },
            }, { minPrefixLength: 24 }));
            assert.match(m2[0]!, /10\.0\.0\.0\/16: list only CIDRs with a prefix of \/24 or longer/);
        });
    });

    describe('eks-secrets-encryption', () => {
        it('accepts encryptionConfig with secrets and a KMS key (also when the ARN is computed)', async () => {
            assert.deepEqual(await messages(runResourcePolicy(eksSecretsEncryption, {
                type: 'aws:eks/cluster:Cluster', name: 'c',
                props: { encryptionConfig: { resources: ['secrets'], provider: { keyArn: 'arn:aws:kms:eu-central-1:1:key/x' } } },
            })), []);
            assert.deepEqual(await messages(runResourcePolicy(eksSecretsEncryption, {
                type: 'eks:index:Cluster', name: 'c', props: { encryptionConfigKeyArn: UNKNOWN },
            })), []);
        });
        it('rejects a cluster without secrets encryption', async () => {
            assert.deepEqual(await messages(runResourcePolicy(eksSecretsEncryption, { type: 'eks:index:Cluster', name: 'c', props: {} })),
                ['EKS cluster "c" has no encryptionConfigKeyArn: pass a KMS key ARN so Secrets are encrypted.']);
            assert.deepEqual(await messages(runResourcePolicy(eksSecretsEncryption, {
                type: 'aws:eks/cluster:Cluster', name: 'r', props: { encryptionConfig: { resources: ['configmaps'], provider: { keyArn: 'k' } } },
            })), ['EKS cluster "r" does not encrypt Secrets: set encryptionConfig with resources ["secrets"] and provider.keyArn (a KMS key).']);
        });
    });

    describe('eks-nodes-private-subnets', () => {
        const network: StackResourceSpec[] = [
            { type: 'aws:ec2/vpc:Vpc', name: 'vpc', props: { cidrBlock: '10.0.0.0/16' } },
            { type: 'aws:ec2/internetGateway:InternetGateway', name: 'igw', props: {}, deps: { vpcId: ['vpc'] } },
            { type: 'aws:ec2/subnet:Subnet', name: 'public-a', props: { id: 'subnet-pa', mapPublicIpOnLaunch: false }, deps: { vpcId: ['vpc'] } },
            { type: 'aws:ec2/subnet:Subnet', name: 'private-a', props: { id: 'subnet-xa', mapPublicIpOnLaunch: false }, deps: { vpcId: ['vpc'] } },
            { type: 'aws:ec2/subnet:Subnet', name: 'ip-on-launch', props: { id: 'subnet-ip', mapPublicIpOnLaunch: true }, deps: { vpcId: ['vpc'] } },
            { type: 'aws:ec2/routeTable:RouteTable', name: 'public-rt', props: {}, deps: { vpcId: ['vpc'] } },
            { type: 'aws:ec2/route:Route', name: 'to-igw', props: { destinationCidrBlock: '0.0.0.0/0' }, deps: { routeTableId: ['public-rt'], gatewayId: ['igw'] } },
            { type: 'aws:ec2/routeTableAssociation:RouteTableAssociation', name: 'public-a-assoc', props: {}, deps: { subnetId: ['public-a'], routeTableId: ['public-rt'] } },
        ];
        it('accepts a node group in a private subnet (ids known)', async () => {
            const m = await messages(runStackPolicy(eksNodesInPrivateSubnets, [...network,
                { type: 'aws:eks/nodeGroup:NodeGroup', name: 'ng', props: { subnetIds: ['subnet-xa'] }, deps: { subnetIds: ['private-a'] } }]));
            assert.deepEqual(m, []);
        });
        it('rejects a node group in a subnet routed to the internet gateway (ids unknown: preview)', async () => {
            const r = await runStackPolicy(eksNodesInPrivateSubnets, [...network,
                { type: 'eks:index:ManagedNodeGroup', name: 'gpu', props: { subnetIds: [UNKNOWN] }, deps: { subnetIds: ['public-a'] } }]);
            assert.deepEqual(r.violations.map((v) => v.message), [
                'ManagedNodeGroup "gpu" places nodes in public subnet(s) "public-a" (subnetIds): use the private subnets (no public IP on launch, no route to an internet gateway).',
            ]);
            assert.match(r.violations[0]!.urn!, /eks:index:ManagedNodeGroup::gpu$/);
        });
        it('rejects the eks default node group in a subnet that maps public IPs, and public node IPs', async () => {
            const m = await messages(runStackPolicy(eksNodesInPrivateSubnets, [...network,
                { type: 'eks:index:Cluster', name: 'c', props: { privateSubnetIds: ['subnet-ip'], nodeAssociatePublicIpAddress: true } }]));
            assert.deepEqual(m, [
                'Cluster "c" places nodes in public subnet(s) "ip-on-launch" (privateSubnetIds): use the private subnets (no public IP on launch, no route to an internet gateway).',
                'Cluster "c" gives its default node group public IPs (nodeAssociatePublicIpAddress): set it to false.',
            ]);
        });
        it('rejects undeclared subnet ids unless configured otherwise', async () => {
            const specs: StackResourceSpec[] = [{ type: 'aws:eks/nodeGroup:NodeGroup', name: 'ng', props: { subnetIds: ['subnet-elsewhere'] } }];
            assert.deepEqual(await messages(runStackPolicy(eksNodesInPrivateSubnets, specs)), [
                'NodeGroup "ng" uses subnet id(s) subnet-elsewhere (subnetIds) that this stack does not declare, so they cannot be checked as private: declare the subnets in the stack or set requireDeclaredSubnets: false in this policy\'s config.',
            ]);
            assert.deepEqual(await messages(runStackPolicy(eksNodesInPrivateSubnets, specs, { requireDeclaredSubnets: false })), []);
        });
    });

    describe('aws-ebs-encrypted / aws-efs-encrypted', () => {
        it('accepts encrypted volumes, file systems and an encrypted EBS StorageClass', async () => {
            assert.deepEqual(await messages(runResourcePolicy(ebsEncrypted, { type: 'aws:ebs/volume:Volume', name: 'v', props: { encrypted: true, size: 10 } })), []);
            assert.deepEqual(await messages(runResourcePolicy(efsEncrypted, { type: 'aws:efs/fileSystem:FileSystem', name: 'f', props: { encrypted: true } })), []);
            assert.deepEqual(await messages(runResourcePolicy(ebsEncrypted, {
                type: 'kubernetes:storage.k8s.io/v1:StorageClass', name: 'gp3',
                props: { metadata: { name: 'gp3' }, provisioner: 'ebs.csi.aws.com', parameters: { type: 'gp3', encrypted: 'true' } },
            })), []);
        });
        it('rejects unencrypted ones', async () => {
            assert.deepEqual(await messages(runResourcePolicy(ebsEncrypted, { type: 'aws:ebs/volume:Volume', name: 'v', props: { size: 10 } })),
                ['EBS volume "v" is not encrypted: set encrypted: true (and kmsKeyId for a customer key).']);
            assert.deepEqual(await messages(runResourcePolicy(efsEncrypted, { type: 'aws:efs/fileSystem:FileSystem', name: 'f', props: { encrypted: false } })),
                ['EFS file system "f" is not encrypted: set encrypted: true (and kmsKeyId for a customer key).']);
            assert.deepEqual(await messages(runResourcePolicy(ebsEncrypted, {
                type: 'kubernetes:storage.k8s.io/v1:StorageClass', name: 'gp3',
                props: { metadata: { name: 'gp3' }, provisioner: 'ebs.csi.aws.com', parameters: { type: 'gp3' } },
            })), ['StorageClass gp3 creates unencrypted EBS volumes: set parameters.encrypted to "true".']);
        });
    });

    describe('aws-s3-encrypted / aws-s3-public-access-blocked', () => {
        const bucket: StackResourceSpec = { type: 'aws:s3/bucket:Bucket', name: 'logs', props: { bucket: 'nkp-logs' } };
        const sse: StackResourceSpec = {
            type: 'aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration', name: 'logs-sse',
            props: { bucket: UNKNOWN, rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: 'aws:kms' } }] }, deps: { bucket: ['logs'] },
        };
        const pab = (flags: Record<string, boolean>): StackResourceSpec => ({
            type: 'aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock', name: 'logs-pab', props: { bucket: 'nkp-logs', ...flags },
        });
        const allOn = { blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true };
        it('accepts an encrypted, blocked bucket (matched by dependency and by name)', async () => {
            assert.deepEqual(await messages(runStackPolicy(s3Encrypted, [bucket, sse], { requireKms: true })), []);
            assert.deepEqual(await messages(runStackPolicy(s3PublicAccessBlocked, [bucket, pab(allOn)])), []);
        });
        it('rejects a bucket without encryption config, or with SSE-S3 when KMS is required', async () => {
            assert.deepEqual(await messages(runStackPolicy(s3Encrypted, [bucket])),
                ['S3 bucket "logs" has no server-side encryption configuration: add an aws.s3.BucketServerSideEncryptionConfiguration for it.']);
            const aes = { ...sse, props: { bucket: 'nkp-logs', rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: 'AES256' } }] }, deps: {} };
            assert.deepEqual(await messages(runStackPolicy(s3Encrypted, [bucket, aes])), []);
            assert.deepEqual(await messages(runStackPolicy(s3Encrypted, [bucket, aes], { requireKms: true })),
                ['S3 bucket "logs" is encrypted with AES256: this policy\'s config requires SSE-KMS (aws:kms).']);
        });
        it('rejects a bucket without a public access block, and a block with a setting off', async () => {
            assert.deepEqual(await messages(runStackPolicy(s3PublicAccessBlocked, [bucket])),
                ['S3 bucket "logs" has no BucketPublicAccessBlock: add one with all four settings true.']);
            assert.deepEqual(await messages(runStackPolicy(s3PublicAccessBlocked, [bucket, pab({ ...allOn, blockPublicPolicy: false })])),
                ['BucketPublicAccessBlock "logs-pab" leaves blockPublicPolicy off: set all four public access settings to true.']);
        });
        it('accepts buckets covered by a complete account-level block', async () => {
            assert.deepEqual(await messages(runStackPolicy(s3PublicAccessBlocked, [bucket,
                { type: 'aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock', name: 'account', props: allOn }])), []);
        });
    });

    describe('aws-sg-no-world-admin-ports', () => {
        it('accepts SSH from an admin CIDR and HTTPS to the world when 443 is not configured as admin', async () => {
            assert.deepEqual(await messages(runResourcePolicy(securityGroupNoWorldAdminPorts, {
                type: 'aws:ec2/securityGroup:SecurityGroup', name: 'sg',
                props: { ingress: [{ protocol: 'tcp', fromPort: 22, toPort: 22, cidrBlocks: ['198.51.100.0/24'] }] },
            })), []);
            assert.deepEqual(await messages(runResourcePolicy(securityGroupNoWorldAdminPorts, {
                type: 'aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule', name: 'https',
                props: { ipProtocol: 'tcp', fromPort: 443, toPort: 443, cidrIpv4: '0.0.0.0/0' },
            }, { ports: [22, 6443] })), []);
        });
        it('rejects SSH to the world (inline), the API port (ingress rule, ::/0) and all-traffic rules', async () => {
            assert.deepEqual(await messages(runResourcePolicy(securityGroupNoWorldAdminPorts, {
                type: 'aws:ec2/securityGroup:SecurityGroup', name: 'sg',
                props: { ingress: [{ protocol: 'tcp', fromPort: 22, toPort: 22, cidrBlocks: ['0.0.0.0/0'] }] },
            })), ['SecurityGroup "sg" opens port(s) 22 to 0.0.0.0/0: allow only your admin/VPN CIDRs on SSH and the Kubernetes API.']);
            assert.deepEqual(await messages(runResourcePolicy(securityGroupNoWorldAdminPorts, {
                type: 'aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule', name: 'api',
                props: { ipProtocol: 'tcp', fromPort: 6443, toPort: 6443, cidrIpv6: '::/0' },
            })), ['SecurityGroupIngressRule "api" opens port(s) 6443 to ::/0: allow only your admin/VPN CIDRs on SSH and the Kubernetes API.']);
            assert.deepEqual(await messages(runResourcePolicy(securityGroupNoWorldAdminPorts, {
                type: 'aws:ec2/securityGroupRule:SecurityGroupRule', name: 'all',
                props: { type: 'ingress', protocol: '-1', fromPort: 0, toPort: 0, cidrBlocks: ['0.0.0.0/0'] },
            })), ['SecurityGroupRule "all" opens port(s) 22, 443, 6443 to 0.0.0.0/0: allow only your admin/VPN CIDRs on SSH and the Kubernetes API.']);
        });
        it('ignores egress rules', async () => {
            assert.deepEqual(await messages(runResourcePolicy(securityGroupNoWorldAdminPorts, {
                type: 'aws:ec2/securityGroupRule:SecurityGroupRule', name: 'out',
                props: { type: 'egress', protocol: '-1', fromPort: 0, toPort: 0, cidrBlocks: ['0.0.0.0/0'] },
            })), []);
        });
    });

    describe('aws-required-tags', () => {
        it('knows taggable types from the installed @pulumi/aws SDK', () => {
            assert.equal(isTaggableAwsType('aws:ec2/vpc:Vpc', {}), true);
            assert.equal(isTaggableAwsType('aws:ec2/route:Route', {}), false);
            assert.equal(isTaggableAwsType('aws:ec2/routeTableAssociation:RouteTableAssociation', {}), false);
            assert.equal(isTaggableAwsType('aws:eks/nodeGroup:NodeGroup', {}), true);
        });
        const tags = { environment: 'aws-prod', owner: 'platform', 'cost-centre': 'cc-42' };
        it('accepts tags on the resource or from the provider\'s defaultTags', async () => {
            assert.deepEqual(await messages(runResourcePolicy(awsRequiredTags, { type: 'aws:ec2/vpc:Vpc', name: 'vpc', props: { tags } })), []);
            assert.deepEqual(await messages(runResourcePolicy(awsRequiredTags, {
                type: 'aws:ec2/vpc:Vpc', name: 'vpc', props: { tags: { Name: 'vpc' } },
                provider: { type: 'pulumi:providers:aws', name: 'aws', props: { region: 'eu-central-1', defaultTags: JSON.stringify({ tags }) } },
            })), []);
            assert.deepEqual(await messages(runResourcePolicy(awsRequiredTags, { type: 'aws:ec2/route:Route', name: 'r', props: {} })), []);
        });
        it('rejects a taggable resource missing tags, or with an empty value', async () => {
            assert.deepEqual(await messages(runResourcePolicy(awsRequiredTags, { type: 'aws:ec2/subnet:Subnet', name: 's', props: { tags: { environment: 'x', owner: '' } } })),
                ['Subnet "s" lacks required tag(s) owner, cost-centre: set them in tags or in the AWS provider\'s defaultTags.']);
        });
        it('config: the required tag names are the user\'s', async () => {
            assert.deepEqual(await messages(runResourcePolicy(awsRequiredTags, { type: 'aws:ec2/vpc:Vpc', name: 'vpc', props: { tags } }, { requiredTags: ['team'] })),
                ['Vpc "vpc" lacks required tag(s) team: set them in tags or in the AWS provider\'s defaultTags.']);
        });
    });

    describe('aws-required-tags: the narrow exemption for children pulumi-eks creates untagged', () => {
        // What pulumi-eks' Cluster registers (nodejs/eks/cluster.ts): `${name}-oidcProvider` with createOidcProvider and
        // the service role `${name}-eksRole` (an eks:index:ServiceRole component's aws:iam/role:Role), neither with tags.
        const eksChain = 'nkp:cloud:AwsCloud$eks:index:Cluster';
        const oidc = { type: 'aws:iam/openIdConnectProvider:OpenIdConnectProvider', name: 'cloud-eks-oidcProvider', props: { clientIdLists: ['sts.amazonaws.com'], url: 'https://oidc.eks.eu-central-1.amazonaws.com/id/X' } };
        const role = { type: 'aws:iam/role:Role', name: 'cloud-eks-eksRole', props: { assumeRolePolicy: '{}' } };
        it('passes the OIDC provider and the service role pulumi-eks creates (the real children, as the engine names them)', async () => {
            assert.deepEqual(PULUMI_EKS_UNTAGGED_CHILDREN, ['aws:iam/openIdConnectProvider:OpenIdConnectProvider', 'aws:iam/role:Role']);
            assert.deepEqual(await messages(runResourcePolicy(awsRequiredTags, { ...oidc, parentType: eksChain })), []);
            assert.deepEqual(await messages(runResourcePolicy(awsRequiredTags, { ...role, parentType: `${eksChain}$eks:index:ServiceRole` })), []);
        });
        it('still refuses the same types elsewhere and other untagged children of the component', async () => {
            assert.equal((await messages(runResourcePolicy(awsRequiredTags, oidc))).length, 1, 'an OIDC provider of the program itself');
            assert.equal((await messages(runResourcePolicy(awsRequiredTags, { ...role, parentType: 'nkp:cloud:AwsCloud' }))).length, 1, 'a role of AwsCloud');
            const sg = { type: 'aws:ec2/securityGroup:SecurityGroup', name: 'cloud-eks-eksClusterSecurityGroup', props: { vpcId: 'vpc-1' }, parentType: eksChain };
            assert.equal((await messages(runResourcePolicy(awsRequiredTags, sg))).length, 1, 'a security group under the component');
        });
    });
});

