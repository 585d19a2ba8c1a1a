/**
 * Pure planning helpers of {@link AwsCloud}: argument validation with defaults, subnet CIDR planning, NAT
 * placement, node-group specs and IAM policy documents. No Pulumi resources here; unit-tested directly.
 */
import type { AwsCloudArgs, AwsNodeGroupArgs, NodeTaint } from './aws.js';
import { contains, formatCidr, nthSubnet, parseIpv4Cidr, type Ipv4Cidr } from './cidr.js';
import type { ApiServerOidc, CostTags } from './types.js';
import { ROUTE53_ZONE_ID } from './dns-plan.js';
import { nkpLabel } from './labels.js';
import {
    CloudArgsError,
    costTagMap,
    requireBoolean,
    requireDnsLabel,
    requireInt,
    requireNonEmpty,
    requireOneOf,
    requireRestrictedCidrs,
    validateApiServerOidc,
    validateCostTags,
} from './validate.js';

const C = 'AwsCloud';

/** AMI types of managed node groups. */
export const AMI_TYPE_STANDARD = 'AL2023_x86_64_STANDARD';
export const AMI_TYPE_GPU = 'AL2023_x86_64_NVIDIA';

/** AWS-managed IAM policies used by the component (commercial partition). */
export const MANAGED_POLICY = {
    workerNode: 'arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy',
    cni: 'arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy',
    ecrPull: 'arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPullOnly',
    ebsCsi: 'arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy',
    efsCsi: 'arn:aws:iam::aws:policy/service-role/AmazonEFSCSIDriverPolicy',
    clusterAdmin: 'arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy',
} as const;

/** Service accounts the CSI controllers run as (fixed by the EKS addons). */
export const EBS_CSI_SERVICE_ACCOUNT = 'ebs-csi-controller-sa';
export const EFS_CSI_SERVICE_ACCOUNT = 'efs-csi-controller-sa';

/** A node group with every default applied. */
export interface NodeGroupPlan {
    name: string;
    instanceTypes: string[];
    minSize: number;
    maxSize: number;
    desiredSize: number;
    labels: Record<string, string>;
    taints: NodeTaint[];
    gpu: boolean;
    capacityType: 'ON_DEMAND' | 'SPOT';
    diskSizeGiB: number;
}

/** {@link AwsCloudArgs} validated, with every default applied. */
export interface AwsCloudPlan {
    clusterName: string;
    tags: CostTags;
    availabilityZones: string[];
    vpcCidr: string;
    natGateways: 'perAz' | 'single';
    endpointPublicAccess: boolean;
    publicAccessCidrs: string[];
    adminPrincipalArns: string[];
    nodeGroups: NodeGroupPlan[];
    defaultStorageClassName: string;
    efs: { enabled: boolean; storageClassName: string; performanceMode: 'generalPurpose' | 'maxIO' };
    clusterAutoscalerNamespace: string;
    clusterAutoscalerServiceAccount: string;
    kmsDeletionWindowDays: number;
    apiServerOidc?: Required<ApiServerOidc>;
    protect: boolean;
    externalDnsRoute53ZoneId?: string;
    subnets: SubnetPlan[];
    nat: NatPlan;
}

/** One AZ's pair of subnets. */
export interface SubnetPlan {
    az: string;
    publicCidr: string;
    privateCidr: string;
}

/** NAT placement: how many gateways, and which gateway each AZ's private subnet routes through. */
export interface NatPlan {
    count: number;
    /** `gatewayForAz[i]` = index of the NAT gateway (placed in public subnet of that index) used by AZ i. */
    gatewayForAz: number[];
}

const AZ_NAME = /^[a-z]{2}(-[a-z]+)+-\d+[a-z]$/;
const INSTANCE_TYPE = /^[a-z][a-z0-9-]*\.[a-z0-9]+$/;
/** IAM role or user ARN (what an EKS access entry accepts); the stack config's awsAdminPrincipalArns uses the same pattern. */
export const PRINCIPAL_ARN_PATTERN = '^arn:aws[a-z-]*:iam::\\d{12}:(role|user)/[\\w+=,.@/-]+$';
const PRINCIPAL_ARN = new RegExp(PRINCIPAL_ARN_PATTERN);
const TAINT_EFFECTS = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'] as const;
export const MAX_AZS = 6;
/**
 * Longest node-group name: EKS node group names are at most 63 characters and a generated name is the prefix
 * `<name>-` plus 26 characters, so the prefix may be at most 37 (the provider's own limit for nodeGroupNamePrefix).
 */
export const NODE_GROUP_NAME_MAX = 36;
/** Node-group sizes (min, max, desired) are integers up to this (EKS' default quota is 450 nodes per group). */
export const NODE_GROUP_SIZE_MAX = 450;
/** Suffix length the AWS provider appends to a name prefix (terraform-plugin-sdk's id.UniqueIDSuffixLength). */
export const GENERATED_NAME_SUFFIX_LENGTH = 26;
/** Pulumi's `protect` default for stateful resources. */
export const PROTECT_DEFAULT = true;

/** Reclaim policy of Pulumi-owned StorageClasses: keep dynamically provisioned volumes while the stack is protected. */
export function reclaimPolicy(protect: boolean): 'Retain' | 'Delete' {
    return protect ? 'Retain' : 'Delete';
}

/**
 * Split the VPC into one private and one public subnet per AZ. Private subnets (where nodes and pods live, so
 * they get the most addresses) take the first half of the VPC, each 1/2^k of it; public subnets (load balancers
 * and NAT only) take a quarter of that size each from the second half. Throws when the VPC is too small.
 */
export function planSubnets(vpcCidr: string, azs: readonly string[]): SubnetPlan[] {
    const vpc = parseIpv4Cidr(vpcCidr);
    if (!vpc) throw new CloudArgsError(C, 'vpcCidr', `${JSON.stringify(vpcCidr)} is not an IPv4 network address such as 10.0.0.0/16`);
    if (azs.length < 1) throw new CloudArgsError(C, 'availabilityZones', 'at least one availability zone is needed to plan subnets');
    const k = Math.ceil(Math.log2(azs.length));
    const privatePrefix = vpc.prefix + 1 + k;
    const publicPrefix = privatePrefix + 2;
    if (publicPrefix > 28) {
        throw new CloudArgsError(C, 'vpcCidr', `${vpcCidr} is too small for ${azs.length} availability zones (public subnets would be /${publicPrefix}, AWS allows at most /28); use a larger VPC such as /16`);
    }
    const upperHalf: Ipv4Cidr = nthSubnet(vpc, vpc.prefix + 1, 1);
    return azs.map((az, i) => ({
        az,
        privateCidr: formatCidr(nthSubnet(vpc, privatePrefix, i)),
        publicCidr: formatCidr(nthSubnet(upperHalf, publicPrefix, i)),
    }));
}

/** NAT gateways: one per AZ (each AZ routes through its own), or a single one in the first AZ for all. */
export function planNat(azCount: number, mode: 'perAz' | 'single'): NatPlan {
    const count = mode === 'perAz' ? azCount : 1;
    return { count, gatewayForAz: Array.from({ length: azCount }, (_, i) => (mode === 'perAz' ? i : 0)) };
}

/** Tags of a subnet: cost tags, its Name, and the Kubernetes load-balancer role tags. */
export function subnetTags(tags: CostTags, clusterName: string, kind: 'public' | 'private', az: string): Record<string, string> {
    return {
        ...costTagMap(tags),
        Name: `${clusterName}-${kind}-${az}`,
        [kind === 'public' ? 'kubernetes.io/role/elb' : 'kubernetes.io/role/internal-elb']: '1',
        [`kubernetes.io/cluster/${clusterName}`]: 'shared',
    };
}

/** The region of availability zones (validated to share one): `eu-central-1a` -> `eu-central-1`. */
export function regionOf(azs: readonly string[]): string {
    return azs[0]!.slice(0, -1);
}

/** Label naming a node's managed node group. */
export const NODE_GROUP_LABEL = nkpLabel('node-group');

/** Label on every node of a GPU node group (the NVIDIA device plugin's node selector). */
export const GPU_NODE_LABEL = 'nvidia.com/gpu.present';

/** EKS API taint effect of a Kubernetes taint effect. */
export function eksTaintEffect(effect: NodeTaint['effect']): 'NO_SCHEDULE' | 'PREFER_NO_SCHEDULE' | 'NO_EXECUTE' {
    return ({ NoSchedule: 'NO_SCHEDULE', PreferNoSchedule: 'PREFER_NO_SCHEDULE', NoExecute: 'NO_EXECUTE' } as const)[effect];
}

/** What an `aws.eks.NodeGroup` gets for one planned group. */
export function nodeGroupSpec(group: NodeGroupPlan, clusterName: string) {
    return {
        /** Prefix of the generated EKS node group name (`<group>-`, at most 37 characters). */
        nodeGroupNamePrefix: `${group.name}-`,
        amiType: group.gpu ? AMI_TYPE_GPU : AMI_TYPE_STANDARD,
        capacityType: group.capacityType,
        instanceTypes: [...group.instanceTypes],
        scalingConfig: { minSize: group.minSize, maxSize: group.maxSize, desiredSize: group.desiredSize },
        labels: { ...group.labels, ...(group.gpu ? { [GPU_NODE_LABEL]: 'true' } : {}), [NODE_GROUP_LABEL]: group.name } as Record<string, string>,
        taints: group.taints.map((t) => ({ key: t.key, value: t.value ?? '', effect: eksTaintEffect(t.effect) })),
        diskSizeGiB: group.diskSizeGiB,
        autoscalerTags: {
            'k8s.io/cluster-autoscaler/enabled': 'true',
            [`k8s.io/cluster-autoscaler/${clusterName}`]: 'owned',
        },
    };
}

/** Trust policy letting EKS Pod Identity assume a role. */
export function podIdentityTrustPolicy(): string {
    return JSON.stringify({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: { Service: 'pods.eks.amazonaws.com' }, Action: ['sts:AssumeRole', 'sts:TagSession'] }],
    });
}

/** Trust policy of the worker node role. */
export function nodeTrustPolicy(): string {
    return JSON.stringify({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }],
    });
}

/**
 * Least-privilege policy of the cluster autoscaler: read-only discovery everywhere, but scaling and terminating
 * only auto scaling groups tagged as owned by this cluster.
 */
export function clusterAutoscalerPolicy(clusterName: string): string {
    return JSON.stringify({
        Version: '2012-10-17',
        Statement: [
            {
                Sid: 'Discover',
                Effect: 'Allow',
                Action: [
                    'autoscaling:DescribeAutoScalingGroups',
                    'autoscaling:DescribeAutoScalingInstances',
                    'autoscaling:DescribeLaunchConfigurations',
                    'autoscaling:DescribeScalingActivities',
                    'autoscaling:DescribeTags',
                    'ec2:DescribeImages',
                    'ec2:DescribeInstanceTypes',
                    'ec2:DescribeLaunchTemplateVersions',
                    'ec2:GetInstanceTypesFromInstanceRequirements',
                    'eks:DescribeNodegroup',
                ],
                Resource: '*',
            },
            {
                Sid: 'ScaleOwnGroups',
                Effect: 'Allow',
                Action: ['autoscaling:SetDesiredCapacity', 'autoscaling:TerminateInstanceInAutoScalingGroup'],
                Resource: '*',
                Condition: { StringEquals: { [`aws:ResourceTag/k8s.io/cluster-autoscaler/${clusterName}`]: 'owned' } },
            },
        ],
    });
}

/**
 * configurationValues of the vpc-cni EKS addon: the network policy agent on (it is off by default, and without it
 * EKS ignores NetworkPolicies, so the baseline's default-deny and allows would not hold).
 */
export function vpcCniConfiguration(): Record<string, string> {
    return { enableNetworkPolicy: 'true' };
}

/**
 * The machine that runs `pulumi up` must reach the EKS API: with the public endpoint on, its public IPv4 must lie
 * inside one of publicAccessCidrs. Returns the problem (naming the field and how to fix it) or undefined. With the
 * public endpoint off the runner must be inside the VPC (or peered): nothing to compare, undefined.
 */
export function deployerReachProblem(endpointPublicAccess: boolean, publicAccessCidrs: readonly string[], deployerIp: string): string | undefined {
    if (!endpointPublicAccess) return undefined;
    const ip = parseIpv4Cidr(`${deployerIp.trim()}/32`);
    if (!ip) return `the address of the machine running pulumi up, ${JSON.stringify(deployerIp)}, is not an IPv4 address`;
    const inside = publicAccessCidrs.some((c) => {
        const net = parseIpv4Cidr(c);
        return net !== undefined && contains(net, ip);
    });
    if (inside) return undefined;
    return `this machine runs pulumi up from ${deployerIp.trim()}, which is outside every allowed CIDR (${publicAccessCidrs.join(', ')}): it could not reach the EKS API ` +
        `(the Kubernetes resources would time out). Add ${deployerIp.trim()}/32 (or its network) to publicAccessCidrs, or run pulumi up from a listed network`;
}

/** Parameters of the default EBS StorageClass: gp3, encrypted (the account's EBS KMS key), ext4. */
export function ebsStorageClassParameters(): Record<string, string> {
    return { type: 'gp3', encrypted: 'true', 'csi.storage.k8s.io/fstype': 'ext4' };
}

function validateNodeGroup(g: unknown, i: number): NodeGroupPlan {
    const f = (x: string) => `nodeGroups[${i}].${x}`;
    if (typeof g !== 'object' || g === null) throw new CloudArgsError(C, `nodeGroups[${i}]`, 'an object is required');
    const group = g as AwsNodeGroupArgs;
    const name = requireDnsLabel(C, f('name'), group.name, NODE_GROUP_NAME_MAX);
    if (!Array.isArray(group.instanceTypes) || group.instanceTypes.length === 0) {
        throw new CloudArgsError(C, f('instanceTypes'), 'at least one EC2 instance type is required, e.g. ["m6i.xlarge"]');
    }
    group.instanceTypes.forEach((t, j) => {
        if (typeof t !== 'string' || !INSTANCE_TYPE.test(t)) throw new CloudArgsError(C, f(`instanceTypes[${j}]`), `${JSON.stringify(t)} is not an EC2 instance type such as m6i.xlarge`);
    });
    const minSize = requireInt(C, f('minSize'), group.minSize, 0, NODE_GROUP_SIZE_MAX);
    const maxSize = requireInt(C, f('maxSize'), group.maxSize, 1, NODE_GROUP_SIZE_MAX);
    if (maxSize < minSize) throw new CloudArgsError(C, f('maxSize'), `${maxSize} is below minSize ${minSize}; maxSize must be >= minSize`);
    const desiredSize = requireInt(C, f('desiredSize'), group.desiredSize, 0, NODE_GROUP_SIZE_MAX);
    if (desiredSize < minSize || desiredSize > maxSize) {
        throw new CloudArgsError(C, f('desiredSize'), `${desiredSize} is outside [minSize ${minSize}, maxSize ${maxSize}]; use a value in that range`);
    }
    const labels = group.labels ?? {};
    if (typeof labels !== 'object' || labels === null || Object.values(labels).some((v) => typeof v !== 'string')) {
        throw new CloudArgsError(C, f('labels'), 'a map of string to string is required');
    }
    const taints = group.taints ?? [];
    if (!Array.isArray(taints)) throw new CloudArgsError(C, f('taints'), 'a list of { key, value?, effect } is required');
    taints.forEach((t, j) => {
        requireNonEmpty(C, f(`taints[${j}].key`), t?.key);
        requireOneOf(C, f(`taints[${j}].effect`), t?.effect, TAINT_EFFECTS);
    });
    const gpu = group.gpu ?? false;
    if (typeof gpu !== 'boolean') throw new CloudArgsError(C, f('gpu'), 'true or false is required');
    return {
        name,
        instanceTypes: [...group.instanceTypes],
        minSize,
        maxSize,
        desiredSize,
        labels: { ...labels },
        taints: taints.map((t) => ({ ...t })),
        gpu,
        capacityType: requireOneOf(C, f('capacityType'), group.capacityType ?? 'ON_DEMAND', ['ON_DEMAND', 'SPOT'] as const),
        diskSizeGiB: requireInt(C, f('diskSizeGiB'), group.diskSizeGiB ?? 50, 20, 16384),
    };
}

function requireRoute53ZoneId(v: unknown): string {
    if (typeof v !== 'string' || !new RegExp(ROUTE53_ZONE_ID).test(v)) throw new CloudArgsError(C, 'externalDnsRoute53ZoneId', `${JSON.stringify(v)} is not a Route 53 hosted zone id such as Z0123456789ABCDEFGHIJ`);
    return v;
}

/** Validate {@link AwsCloudArgs} (every failure names the field and what is allowed) and apply defaults. */
export function validateAwsCloudArgs(args: AwsCloudArgs): AwsCloudPlan {
    if (typeof args !== 'object' || args === null) throw new CloudArgsError(C, 'args', 'an AwsCloudArgs object is required');
    const clusterName = requireDnsLabel(C, 'clusterName', args.clusterName, 40);
    const tags = validateCostTags(C, args.tags, false);

    const azs = args.availabilityZones;
    if (!Array.isArray(azs)) throw new CloudArgsError(C, 'availabilityZones', 'a list of at least 2 availability zone names is required');
    azs.forEach((az, i) => {
        if (typeof az !== 'string' || !AZ_NAME.test(az)) throw new CloudArgsError(C, `availabilityZones[${i}]`, `${JSON.stringify(az)} is not an availability zone name such as eu-central-1a`);
    });
    const distinct = [...new Set(azs)];
    if (distinct.length !== azs.length) throw new CloudArgsError(C, 'availabilityZones', `duplicates in ${JSON.stringify(azs)}; list each zone once`);
    if (distinct.length < 2) throw new CloudArgsError(C, 'availabilityZones', `at least 2 distinct availability zones are required for a resilient cluster, got ${distinct.length} (${JSON.stringify(azs)})`);
    if (distinct.length > MAX_AZS) throw new CloudArgsError(C, 'availabilityZones', `at most ${MAX_AZS} availability zones are supported, got ${distinct.length}`);
    const regions = new Set(azs.map((az) => az.slice(0, -1)));
    if (regions.size !== 1) throw new CloudArgsError(C, 'availabilityZones', `all zones must be in one region, got regions ${JSON.stringify([...regions])}`);

    const vpcCidr = args.vpcCidr ?? '10.0.0.0/16';
    const vpc = typeof vpcCidr === 'string' ? parseIpv4Cidr(vpcCidr) : undefined;
    if (!vpc) throw new CloudArgsError(C, 'vpcCidr', `${JSON.stringify(vpcCidr)} is not an IPv4 network address such as 10.0.0.0/16 (host bits zero)`);
    if (vpc.prefix < 16 || vpc.prefix > 24) throw new CloudArgsError(C, 'vpcCidr', `/${vpc.prefix} is not allowed; AWS VPCs are /16 to /24 (/16 recommended)`);
    const subnets = planSubnets(vpcCidr, azs);

    const natGateways = requireOneOf(C, 'natGateways', args.natGateways ?? 'perAz', ['perAz', 'single'] as const);

    const endpointPublicAccess = args.endpointPublicAccess ?? true;
    if (typeof endpointPublicAccess !== 'boolean') throw new CloudArgsError(C, 'endpointPublicAccess', 'true or false is required');
    let publicAccessCidrs: string[] = [];
    if (endpointPublicAccess) {
        publicAccessCidrs = requireRestrictedCidrs(C, 'publicAccessCidrs', args.publicAccessCidrs, true);
    } else if (args.publicAccessCidrs !== undefined && args.publicAccessCidrs.length > 0) {
        throw new CloudArgsError(C, 'publicAccessCidrs', 'only applies when endpointPublicAccess is true; remove it or turn the public endpoint on');
    }

    const adminPrincipalArns = args.adminPrincipalArns ?? [];
    if (!Array.isArray(adminPrincipalArns)) throw new CloudArgsError(C, 'adminPrincipalArns', 'a list of IAM role/user ARNs is required');
    adminPrincipalArns.forEach((arn, i) => {
        if (typeof arn !== 'string' || !PRINCIPAL_ARN.test(arn)) throw new CloudArgsError(C, `adminPrincipalArns[${i}]`, `${JSON.stringify(arn)} is not an IAM role or user ARN such as arn:aws:iam::123456789012:role/platform-admins`);
    });

    if (!Array.isArray(args.nodeGroups) || args.nodeGroups.length === 0) {
        throw new CloudArgsError(C, 'nodeGroups', 'at least one managed node group is required');
    }
    const nodeGroups = args.nodeGroups.map(validateNodeGroup);
    const seen = new Set<string>();
    nodeGroups.forEach((g, i) => {
        if (seen.has(g.name)) throw new CloudArgsError(C, `nodeGroups[${i}].name`, `${JSON.stringify(g.name)} is used twice; node group names must be unique`);
        seen.add(g.name);
    });

    const defaultStorageClassName = requireDnsLabel(C, 'defaultStorageClassName', args.defaultStorageClassName ?? 'gp3', 63);
    const efsEnabled = args.efs?.enabled ?? false;
    if (typeof efsEnabled !== 'boolean') throw new CloudArgsError(C, 'efs.enabled', 'true or false is required');
    const efsStorageClassName = requireDnsLabel(C, 'efs.storageClassName', args.efs?.storageClassName ?? 'efs', 63);
    if (efsEnabled && efsStorageClassName === defaultStorageClassName) {
        throw new CloudArgsError(C, 'efs.storageClassName', `${JSON.stringify(efsStorageClassName)} equals defaultStorageClassName; use a different name`);
    }
    const performanceMode = requireOneOf(C, 'efs.performanceMode', args.efs?.performanceMode ?? 'generalPurpose', ['generalPurpose', 'maxIO'] as const);

    return {
        clusterName,
        tags,
        availabilityZones: [...azs],
        vpcCidr,
        natGateways,
        endpointPublicAccess,
        publicAccessCidrs,
        adminPrincipalArns: [...adminPrincipalArns],
        nodeGroups,
        defaultStorageClassName,
        efs: { enabled: efsEnabled, storageClassName: efsStorageClassName, performanceMode },
        clusterAutoscalerNamespace: requireDnsLabel(C, 'clusterAutoscalerNamespace', args.clusterAutoscalerNamespace ?? 'kube-system', 63),
        clusterAutoscalerServiceAccount: requireDnsLabel(C, 'clusterAutoscalerServiceAccount', args.clusterAutoscalerServiceAccount ?? 'cluster-autoscaler', 63),
        kmsDeletionWindowDays: requireInt(C, 'kmsDeletionWindowDays', args.kmsDeletionWindowDays ?? 30, 7, 30),
        protect: requireBoolean(C, 'protect', args.protect ?? PROTECT_DEFAULT),
        ...(args.externalDnsRoute53ZoneId !== undefined ? { externalDnsRoute53ZoneId: requireRoute53ZoneId(args.externalDnsRoute53ZoneId) } : {}),
        ...(args.apiServerOidc !== undefined ? { apiServerOidc: validateApiServerOidc(C, args.apiServerOidc) } : {}),
        subnets,
        nat: planNat(azs.length, natGateways),
    };
}
