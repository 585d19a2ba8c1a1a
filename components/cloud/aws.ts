/**
 * AWS cloud layer: VPC over >= 2 AZs, EKS (access entries, KMS secrets encryption, private endpoint plus a
 * CIDR-limited public endpoint, OIDC), managed node groups in private subnets, EBS CSI with Pod Identity and an
 * encrypted gp3 default StorageClass, optional EFS, and the IAM pieces the cluster autoscaler needs.
 *
 * Args that decide how many resources exist, or that must be validated before any resource is registered
 * (AZs, CIDRs, node-group sizes...), are plain values: the stack reads them synchronously from config.
 * Everything else is a `pulumi.Input`.
 */
import type * as Aws from '@pulumi/aws';
import { lazySdk } from '../sdk.js';
import type * as Eks from '@pulumi/eks';
import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import {
    EBS_CSI_SERVICE_ACCOUNT,
    EFS_CSI_SERVICE_ACCOUNT,
    MANAGED_POLICY,
    clusterAutoscalerPolicy,
    ebsStorageClassParameters,
    nodeGroupSpec,
    nodeTrustPolicy,
    podIdentityTrustPolicy,
    reclaimPolicy,
    regionOf,
    subnetTags,
    validateAwsCloudArgs,
    vpcCniConfiguration,
} from './aws-plan.js';
import type { ApiServerOidc, CloudOutputs, CostTags } from './types.js';
import { costTagMap } from './validate.js';
import { EXTERNAL_DNS_SERVICE_ACCOUNT, LB_CONTROLLER_SERVICE_ACCOUNT, loadBalancerControllerPolicy } from './aws-addons-plan.js';
import { externalDnsRoute53Policy } from './dns-plan.js';
import { eksOidcIdentityProviderConfig } from './kube-oidc.js';

const aws = lazySdk<typeof Aws>('@pulumi/aws');
const eks = lazySdk<typeof Eks>('@pulumi/eks');

/** A Kubernetes node taint. */
export interface NodeTaint {
    /** Taint key, e.g. `nvidia.com/gpu`. */
    key: string;
    /** Taint value (may be empty). */
    value?: string;
    /** Kubernetes effect: `NoSchedule`, `PreferNoSchedule` or `NoExecute`. */
    effect: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';
}

/** One EKS managed node group; always placed in the private subnets. */
export interface AwsNodeGroupArgs {
    /**
     * Short name, lower-case DNS label (`[a-z0-9-]`, at most 36 characters, `NODE_GROUP_NAME_MAX` in aws-plan.ts), unique in the
     * cluster. The EKS node group's name is generated from it (`<name>-<26 generated characters>`), so a change that
     * replaces the group (instance types, AMI, capacity type, disk) creates the new group before the old one is drained.
     */
    name: string;
    /** EC2 instance types, at least one, e.g. `["m6i.xlarge"]`. */
    instanceTypes: string[];
    /** Minimum node count (>= 0). */
    minSize: number;
    /** Maximum node count (>= minSize, >= 1). */
    maxSize: number;
    /** Desired node count at creation (minSize <= desired <= maxSize); the autoscaler owns it afterwards. */
    desiredSize: number;
    /** Kubernetes labels put on every node of the group. */
    labels?: Record<string, string>;
    /** Kubernetes taints put on every node of the group. */
    taints?: NodeTaint[];
    /** GPU group: uses the `AL2023_x86_64_NVIDIA` AMI type (default AL2023_x86_64_STANDARD). */
    gpu?: boolean;
    /** `ON_DEMAND` (default) or `SPOT`. */
    capacityType?: 'ON_DEMAND' | 'SPOT';
    /** Root volume size in GiB (default 50). */
    diskSizeGiB?: number;
}

/** Optional EFS file system for ReadWriteMany volumes. */
export interface AwsEfsArgs {
    /** Create the encrypted EFS file system, its mount targets, the CSI addon and a StorageClass. */
    enabled: boolean;
    /** Name of the EFS StorageClass (default `efs`). */
    storageClassName?: string;
    /** `generalPurpose` (default) or `maxIO`. */
    performanceMode?: 'generalPurpose' | 'maxIO';
}

/** Arguments of {@link AwsCloud}. */
export interface AwsCloudArgs {
    /** EKS cluster name and prefix of every resource name; lower-case DNS label, <= 40 chars. */
    clusterName: string;
    /** environment / owner / cost-centre (+ extra) tags put on every taggable resource. */
    tags: CostTags;
    /** Availability zones to spread subnets and NAT over, at least two distinct ones, e.g. `["eu-central-1a","eu-central-1b"]`. */
    availabilityZones: string[];
    /** IPv4 CIDR of the VPC, prefix /16../24 (default `10.0.0.0/16`); carved into one public and one private subnet per AZ. */
    vpcCidr?: string;
    /** `perAz` (default): one NAT gateway per AZ for resilience; `single`: one NAT gateway shared by all AZs, for cost. */
    natGateways?: 'perAz' | 'single';
    /** EKS Kubernetes version, `major.minor`, e.g. `1.33`. */
    kubernetesVersion: pulumi.Input<string>;
    /** Expose the public API endpoint (default true); the private endpoint is always on. */
    endpointPublicAccess?: boolean;
    /** IPv4 CIDRs allowed to reach the public endpoint; required and non-empty when it is on; `0.0.0.0/0` and anything broader than /8 is refused. */
    publicAccessCidrs?: string[];
    /**
     * IAM role/user ARNs given cluster-admin through EKS access entries (AmazonEKSClusterAdminPolicy). Leave out the
     * principal that runs `pulumi up`: @pulumi/eks already bootstraps the cluster creator as admin, and a second
     * access entry for it fails as a duplicate.
     */
    adminPrincipalArns?: string[];
    /** Managed node groups, at least one. */
    nodeGroups: AwsNodeGroupArgs[];
    /** Name of the encrypted gp3 default StorageClass (default `gp3`). */
    defaultStorageClassName?: string;
    /** Optional EFS (default off). */
    efs?: AwsEfsArgs;
    /** Pin of the aws-ebs-csi-driver EKS addon version (default: EKS's default for the cluster version). */
    ebsCsiAddonVersion?: pulumi.Input<string>;
    /** Pin of the vpc-cni EKS addon version (default: EKS's default for the cluster version). */
    vpcCniAddonVersion?: pulumi.Input<string>;
    /** Pin of the coredns EKS addon version (default: EKS's default for the cluster version). */
    corednsAddonVersion?: pulumi.Input<string>;
    /** Pin of the aws-efs-csi-driver EKS addon version (default: EKS's default for the cluster version). */
    efsCsiAddonVersion?: pulumi.Input<string>;
    /** Namespace of the cluster autoscaler's ServiceAccount (default `kube-system`). */
    clusterAutoscalerNamespace?: string;
    /** Name of the cluster autoscaler's ServiceAccount (default `cluster-autoscaler`). */
    clusterAutoscalerServiceAccount?: string;
    /** KMS key deletion window in days, 7..30 (default 30). */
    kmsDeletionWindowDays?: number;
    /**
     * OIDC sign-in to the Kubernetes API through an EKS identity provider config (optional). EKS must reach the
     * issuer's discovery document over the internet when the config is associated.
     */
    apiServerOidc?: ApiServerOidc;
    /** Route 53 hosted zone id ExternalDNS keeps the platform's records in (optional): gets it a Pod Identity role for that zone only. */
    externalDnsRoute53ZoneId?: string;
    /**
     * Protect the stateful resources (VPC, KMS key, EKS cluster, EFS file system) with Pulumi's `protect` (default
     * true): `pulumi destroy` and any replacing change stop with an error instead of deleting them. Set false (or
     * `pulumi state unprotect`) to tear an environment down deliberately. Also keeps dynamically provisioned EBS
     * volumes: the default StorageClass reclaims with `Retain` while protected, `Delete` otherwise.
     */
    protect?: boolean;
}

/** Type token of {@link AwsCloud}. */
export const AWS_CLOUD_TYPE = 'nkp:cloud:AwsCloud';

/**
 * VPC + EKS + managed node groups + storage for one environment on AWS. A thin shell over the pure planners in
 * `aws-plan.ts`; every taggable AWS resource carries the environment / owner / cost-centre tags.
 */
export class AwsCloud extends pulumi.ComponentResource implements CloudOutputs {
    readonly provider = 'aws' as const;
    /** Kubeconfig of the cluster (secret); authenticates with `aws eks get-token`. */
    readonly kubeconfig: pulumi.Output<string>;
    readonly clusterName: pulumi.Output<string>;
    /** OIDC issuer URL of the cluster (for IRSA-style federation and the OIDC provider). */
    readonly oidcIssuer: pulumi.Output<string>;
    readonly vpcId: pulumi.Output<string>;
    readonly privateSubnetIds: pulumi.Output<string[]>;
    readonly publicSubnetIds: pulumi.Output<string[]>;
    readonly defaultStorageClass: pulumi.Output<string>;
    /** ARN of the KMS key encrypting Kubernetes Secrets (and EFS). */
    readonly kmsKeyArn: pulumi.Output<string>;
    /** ARN of the IAM role the cluster autoscaler assumes through Pod Identity. */
    readonly clusterAutoscalerRoleArn: pulumi.Output<string>;
    /** ARN of the IAM role the AWS Load Balancer Controller assumes through Pod Identity (kube-system). */
    readonly loadBalancerControllerRoleArn: pulumi.Output<string>;
    /** AWS region of the cluster (from its availability zones). */
    readonly region: string;
    /** EFS file system id, or undefined when EFS is off. */
    readonly efsFileSystemId: pulumi.Output<string | undefined>;
    /** Name of the EFS StorageClass, or undefined when EFS is off. */
    readonly efsStorageClass: pulumi.Output<string | undefined>;

    constructor(name: string, args: AwsCloudArgs, opts?: pulumi.ComponentResourceOptions) {
        const plan = validateAwsCloudArgs(args);
        super(AWS_CLOUD_TYPE, name, {}, opts);
        const parent = { parent: this };
        const cn = plan.clusterName;
        const tags = costTagMap(plan.tags);
        const named = (n: string) => ({ ...tags, Name: `${cn}-${n}` });
        // Stateful resources: protected (configurable) so neither destroy nor a replacing diff can delete them.
        const stateful = { parent: this, protect: plan.protect };

        // --- network: VPC, one public + one private subnet per AZ, IGW, NAT per AZ or single ---
        const vpc = new aws.ec2.Vpc(`${name}-vpc`, { cidrBlock: plan.vpcCidr, enableDnsHostnames: true, enableDnsSupport: true, tags: named('vpc') }, stateful);
        const igw = new aws.ec2.InternetGateway(`${name}-igw`, { vpcId: vpc.id, tags: named('igw') }, parent);
        const publicSubnets = plan.subnets.map((s) =>
            new aws.ec2.Subnet(`${name}-public-${s.az}`, {
                vpcId: vpc.id, availabilityZone: s.az, cidrBlock: s.publicCidr, mapPublicIpOnLaunch: false,
                tags: subnetTags(plan.tags, cn, 'public', s.az),
            }, parent));
        const privateSubnets = plan.subnets.map((s) =>
            new aws.ec2.Subnet(`${name}-private-${s.az}`, {
                vpcId: vpc.id, availabilityZone: s.az, cidrBlock: s.privateCidr, mapPublicIpOnLaunch: false,
                tags: subnetTags(plan.tags, cn, 'private', s.az),
            }, parent));
        const publicRt = new aws.ec2.RouteTable(`${name}-public`, {
            vpcId: vpc.id, routes: [{ cidrBlock: '0.0.0.0/0', gatewayId: igw.id }], tags: named('public'),
        }, parent);
        publicSubnets.forEach((sn, i) =>
            new aws.ec2.RouteTableAssociation(`${name}-public-${plan.subnets[i]!.az}`, { subnetId: sn.id, routeTableId: publicRt.id }, parent));
        const nats = Array.from({ length: plan.nat.count }, (_, i) => {
            const az = plan.subnets[i]!.az;
            const eip = new aws.ec2.Eip(`${name}-nat-${az}`, { domain: 'vpc', tags: named(`nat-${az}`) }, parent);
            return new aws.ec2.NatGateway(`${name}-nat-${az}`, {
                allocationId: eip.id, subnetId: publicSubnets[i]!.id, connectivityType: 'public', tags: named(`nat-${az}`),
            }, { parent: this, dependsOn: [igw] });
        });
        privateSubnets.forEach((sn, i) => {
            const az = plan.subnets[i]!.az;
            const rt = new aws.ec2.RouteTable(`${name}-private-${az}`, {
                vpcId: vpc.id, routes: [{ cidrBlock: '0.0.0.0/0', natGatewayId: nats[plan.nat.gatewayForAz[i]!]!.id }], tags: named(`private-${az}`),
            }, parent);
            new aws.ec2.RouteTableAssociation(`${name}-private-${az}`, { subnetId: sn.id, routeTableId: rt.id }, parent);
        });

        // --- KMS key for envelope encryption of Secrets (rotation on) ---
        const key = new aws.kms.Key(`${name}-secrets`, {
            description: `${cn} EKS secrets and EFS encryption`,
            enableKeyRotation: true,
            deletionWindowInDays: plan.kmsDeletionWindowDays,
            tags: named('secrets'),
        }, stateful);
        new aws.kms.Alias(`${name}-secrets`, { name: `alias/${cn}-secrets`, targetKeyId: key.keyId }, parent);

        // --- EKS control plane (remote component): access entries, KMS, private + CIDR-limited public endpoint, OIDC ---
        const accessEntries = Object.fromEntries(plan.adminPrincipalArns.map((arn, i) => [`admin-${i}`, {
            principalArn: arn,
            accessPolicies: { admin: { policyArn: MANAGED_POLICY.clusterAdmin, accessScope: { type: 'cluster' } } },
            tags,
        }]));
        const cluster = new eks.Cluster(`${name}-eks`, {
            name: cn,
            version: args.kubernetesVersion,
            vpcId: vpc.id,
            publicSubnetIds: publicSubnets.map((s) => s.id),
            privateSubnetIds: privateSubnets.map((s) => s.id),
            nodeAssociatePublicIpAddress: false,
            skipDefaultNodeGroup: true,
            skipDefaultSecurityGroups: true,
            authenticationMode: eks.AuthenticationMode.Api,
            accessEntries,
            encryptionConfigKeyArn: key.arn,
            endpointPrivateAccess: true,
            endpointPublicAccess: plan.endpointPublicAccess,
            publicAccessCidrs: plan.publicAccessCidrs,
            createOidcProvider: true,
            // CoreDNS needs nodes; it is installed below, after the managed node groups exist.
            corednsAddonOptions: { enabled: false },
            enabledClusterLogTypes: ['api', 'audit', 'authenticator'],
            tags,
            clusterTags: named('eks'),
        }, stateful);
        const clusterName = cluster.eksCluster.apply((c) => c.name);

        // --- optional OIDC sign-in for people (RBAC bindings to prefixed groups) ---
        if (plan.apiServerOidc) {
            const o = plan.apiServerOidc;
            new aws.eks.IdentityProviderConfig(`${name}-oidc`, {
                clusterName,
                oidc: eksOidcIdentityProviderConfig(o),
                tags: named('oidc'),
            }, parent);
        }

        // --- VPC CNI as a managed addon with the network policy agent on (EKS ignores NetworkPolicies without it) ---
        const vpcCni = new aws.eks.Addon(`${name}-vpc-cni`, {
            clusterName, addonName: 'vpc-cni', addonVersion: args.vpcCniAddonVersion,
            resolveConflictsOnCreate: 'OVERWRITE', resolveConflictsOnUpdate: 'OVERWRITE',
            configurationValues: JSON.stringify(vpcCniConfiguration()), tags,
        }, parent);

        // --- worker nodes: one IAM role, a launch template (encrypted gp3 root, IMDSv2) per group, private subnets only ---
        const nodeRole = new aws.iam.Role(`${name}-node`, { assumeRolePolicy: nodeTrustPolicy(), tags: named('node') }, parent);
        const nodeAttachments = [MANAGED_POLICY.workerNode, MANAGED_POLICY.cni, MANAGED_POLICY.ecrPull].map((arn, i) =>
            new aws.iam.RolePolicyAttachment(`${name}-node-${i}`, { role: nodeRole.name, policyArn: arn }, parent));
        const nodeGroups = plan.nodeGroups.map((g) => {
            const spec = nodeGroupSpec(g, cn);
            const lt = new aws.ec2.LaunchTemplate(`${name}-${g.name}`, {
                description: `${cn} ${g.name} nodes`,
                blockDeviceMappings: [{
                    deviceName: '/dev/xvda',
                    ebs: { volumeSize: spec.diskSizeGiB, volumeType: 'gp3', encrypted: 'true', deleteOnTermination: 'true' },
                }],
                metadataOptions: { httpEndpoint: 'enabled', httpTokens: 'required', httpPutResponseHopLimit: 2 },
                tagSpecifications: ['instance', 'volume', 'network-interface'].map((resourceType) => ({ resourceType, tags: named(g.name) })),
                tags: named(g.name),
            }, parent);
            // Generated name (prefix + 26 characters): a replacing change creates the new group first, no name clash.
            return new aws.eks.NodeGroup(`${name}-${g.name}`, {
                clusterName,
                nodeGroupNamePrefix: spec.nodeGroupNamePrefix,
                nodeRoleArn: nodeRole.arn,
                subnetIds: privateSubnets.map((s) => s.id),
                amiType: spec.amiType,
                capacityType: spec.capacityType,
                instanceTypes: spec.instanceTypes,
                scalingConfig: spec.scalingConfig,
                labels: spec.labels,
                taints: spec.taints,
                launchTemplate: { id: lt.id, version: lt.latestVersion.apply(String) },
                updateConfig: { maxUnavailable: 1 },
                tags: { ...named(g.name), ...spec.autoscalerTags },
            }, { parent: this, dependsOn: [...nodeAttachments, vpcCni], ignoreChanges: ['scalingConfig.desiredSize'] });
        });

        // --- CoreDNS as an EKS addon once nodes exist (eks.Cluster skips it without a default node group) ---
        const coredns = new aws.eks.Addon(`${name}-coredns`, {
            clusterName, addonName: 'coredns', addonVersion: args.corednsAddonVersion, resolveConflictsOnCreate: 'OVERWRITE', tags,
        }, { parent: this, dependsOn: nodeGroups });

        // --- EKS Pod Identity: the agent addon, then one role + association per workload that calls AWS ---
        const podIdentityAgent = new aws.eks.Addon(`${name}-pod-identity`, {
            clusterName, addonName: 'eks-pod-identity-agent', resolveConflictsOnCreate: 'OVERWRITE', tags,
        }, { parent: this, dependsOn: nodeGroups });
        const podIdentityRole = (id: string, namespace: string, serviceAccount: string, policies: { arn?: string; json?: string }[]) => {
            const role = new aws.iam.Role(`${name}-${id}`, { assumeRolePolicy: podIdentityTrustPolicy(), tags: named(id) }, parent);
            const attached: pulumi.Resource[] = policies.map((p, i) => p.arn
                ? new aws.iam.RolePolicyAttachment(`${name}-${id}-${i}`, { role: role.name, policyArn: p.arn }, parent)
                : new aws.iam.RolePolicy(`${name}-${id}-${i}`, { role: role.name, policy: p.json! }, parent));
            const association = new aws.eks.PodIdentityAssociation(`${name}-${id}`, {
                clusterName, namespace, serviceAccount, roleArn: role.arn, tags,
            }, { parent: this, dependsOn: [podIdentityAgent, ...attached] });
            return { role, association };
        };

        // --- EBS CSI driver + encrypted gp3 default StorageClass ---
        const ebs = podIdentityRole('ebs-csi', 'kube-system', EBS_CSI_SERVICE_ACCOUNT, [{ arn: MANAGED_POLICY.ebsCsi }]);
        const ebsAddon = new aws.eks.Addon(`${name}-ebs-csi`, {
            clusterName, addonName: 'aws-ebs-csi-driver', addonVersion: args.ebsCsiAddonVersion, resolveConflictsOnCreate: 'OVERWRITE', tags,
        }, { parent: this, dependsOn: [ebs.association, ...nodeGroups] });
        const k8sProvider = new k8s.Provider(`${name}-k8s`, { kubeconfig: pulumi.secret(cluster.kubeconfigJson) }, parent);
        const defaultSc = new k8s.storage.v1.StorageClass(`${name}-${plan.defaultStorageClassName}`, {
            metadata: { name: plan.defaultStorageClassName, annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } },
            provisioner: 'ebs.csi.aws.com',
            parameters: ebsStorageClassParameters(),
            reclaimPolicy: reclaimPolicy(plan.protect),
            volumeBindingMode: 'WaitForFirstConsumer',
            allowVolumeExpansion: true,
        }, { parent: this, provider: k8sProvider, dependsOn: [ebsAddon] });

        // --- optional EFS: encrypted, mount targets in private subnets, NFS only from inside the VPC ---
        let efsFileSystemId: pulumi.Output<string | undefined> = pulumi.output(undefined);
        let efsStorageClass: pulumi.Output<string | undefined> = pulumi.output(undefined);
        if (plan.efs.enabled) {
            const fs = new aws.efs.FileSystem(`${name}-efs`, {
                encrypted: true, kmsKeyId: key.arn, performanceMode: plan.efs.performanceMode, throughputMode: 'elastic', tags: named('efs'),
            }, stateful);
            const sg = new aws.ec2.SecurityGroup(`${name}-efs`, {
                vpcId: vpc.id,
                description: `NFS to ${cn} EFS from inside the VPC only`,
                ingress: [{ protocol: 'tcp', fromPort: 2049, toPort: 2049, cidrBlocks: [plan.vpcCidr], description: 'NFS from the VPC' }],
                egress: [],
                tags: named('efs'),
            }, parent);
            const mountTargets = privateSubnets.map((sn, i) =>
                new aws.efs.MountTarget(`${name}-efs-${plan.subnets[i]!.az}`, { fileSystemId: fs.id, subnetId: sn.id, securityGroups: [sg.id] }, parent));
            const efs = podIdentityRole('efs-csi', 'kube-system', EFS_CSI_SERVICE_ACCOUNT, [{ arn: MANAGED_POLICY.efsCsi }]);
            const efsAddon = new aws.eks.Addon(`${name}-efs-csi`, {
                clusterName, addonName: 'aws-efs-csi-driver', addonVersion: args.efsCsiAddonVersion, resolveConflictsOnCreate: 'OVERWRITE', tags,
            }, { parent: this, dependsOn: [efs.association, ...nodeGroups, ...mountTargets] });
            const sc = new k8s.storage.v1.StorageClass(`${name}-${plan.efs.storageClassName}`, {
                metadata: { name: plan.efs.storageClassName },
                provisioner: 'efs.csi.aws.com',
                parameters: { provisioningMode: 'efs-ap', fileSystemId: fs.id, directoryPerms: '700', basePath: '/dynamic' },
                reclaimPolicy: 'Delete',
                volumeBindingMode: 'Immediate',
            }, { parent: this, provider: k8sProvider, dependsOn: [efsAddon] });
            efsFileSystemId = fs.id;
            efsStorageClass = sc.metadata.name;
        }

        // --- cluster autoscaler: IAM role + least-privilege policy via Pod Identity ---
        const autoscaler = podIdentityRole('cluster-autoscaler', plan.clusterAutoscalerNamespace, plan.clusterAutoscalerServiceAccount, [{ json: clusterAutoscalerPolicy(cn) }]);
        // --- AWS Load Balancer Controller (NLBs for the gateway): role + NLB-only policy scoped to this cluster's tags ---
        const lbController = podIdentityRole('lb-controller', 'kube-system', LB_CONTROLLER_SERVICE_ACCOUNT, [{ json: loadBalancerControllerPolicy(cn) }]);
        // --- ExternalDNS (optional): records in one Route 53 hosted zone ---
        if (plan.externalDnsRoute53ZoneId !== undefined) {
            podIdentityRole('external-dns', 'kube-system', EXTERNAL_DNS_SERVICE_ACCOUNT, [{ json: externalDnsRoute53Policy(plan.externalDnsRoute53ZoneId) }]);
        }

        // The kubeconfig handed to the layers above resolves only once the node groups and CoreDNS exist: everything
        // built on it (the cluster provider, so every Kubernetes resource) waits for nodes that can run pods.
        this.kubeconfig = pulumi.secret(pulumi.all([cluster.kubeconfigJson, coredns.id, ...nodeGroups.map((g) => g.id)]).apply(([kc]) => kc));
        this.clusterName = clusterName;
        this.oidcIssuer = cluster.oidcIssuer;
        this.vpcId = vpc.id;
        this.privateSubnetIds = pulumi.all(privateSubnets.map((s) => s.id));
        this.publicSubnetIds = pulumi.all(publicSubnets.map((s) => s.id));
        this.defaultStorageClass = defaultSc.metadata.name;
        this.kmsKeyArn = key.arn;
        this.clusterAutoscalerRoleArn = autoscaler.role.arn;
        this.loadBalancerControllerRoleArn = lbController.role.arn;
        this.region = regionOf(plan.availabilityZones);
        this.efsFileSystemId = efsFileSystemId;
        this.efsStorageClass = efsStorageClass;
        this.registerOutputs({
            kubeconfig: this.kubeconfig,
            clusterName: this.clusterName,
            oidcIssuer: this.oidcIssuer,
            vpcId: this.vpcId,
            privateSubnetIds: this.privateSubnetIds,
            publicSubnetIds: this.publicSubnetIds,
            defaultStorageClass: this.defaultStorageClass,
            kmsKeyArn: this.kmsKeyArn,
            clusterAutoscalerRoleArn: this.clusterAutoscalerRoleArn,
            loadBalancerControllerRoleArn: this.loadBalancerControllerRoleArn,
            efsFileSystemId: this.efsFileSystemId,
            efsStorageClass: this.efsStorageClass,
        });
    }
}
