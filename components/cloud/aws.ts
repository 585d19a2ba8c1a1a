/**
 * AWS cloud layer: VPC over >= 2 AZs, EKS (access entries, KMS secrets encryption, private endpoint plus a
 * CIDR-limited public endpoint, OIDC), managed node groups in private subnets, EBS CSI with Pod Identity and an
 * encrypted gp3 default StorageClass, optional EFS, and the IAM pieces the cluster autoscaler needs.
 *
 * Args that decide how many resources exist, or that must be validated before any resource is registered
 * (AZs, CIDRs, node-group sizes...), are plain values: the stack reads them synchronously from config.
 * Everything else is a `pulumi.Input`.
 */
import type * as pulumi from '@pulumi/pulumi';
import type { CostTags } from './types.js';

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
    /** Short name, lower-case DNS label (`[a-z0-9-]`, <= 38 chars); becomes part of the node group name. */
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
    /** CIDRs allowed to reach the public endpoint; required and non-empty when it is on; `0.0.0.0/0` and `::/0` are refused. */
    publicAccessCidrs?: string[];
    /** IAM principal ARNs given cluster-admin through EKS access entries (AmazonEKSClusterAdminPolicy). */
    adminPrincipalArns?: string[];
    /** Managed node groups, at least one. */
    nodeGroups: AwsNodeGroupArgs[];
    /** Name of the encrypted gp3 default StorageClass (default `gp3`). */
    defaultStorageClassName?: string;
    /** Optional EFS (default off). */
    efs?: AwsEfsArgs;
    /** Pin of the aws-ebs-csi-driver EKS addon version (default: EKS's default for the cluster version). */
    ebsCsiAddonVersion?: pulumi.Input<string>;
    /** Pin of the aws-efs-csi-driver EKS addon version (default: EKS's default for the cluster version). */
    efsCsiAddonVersion?: pulumi.Input<string>;
    /** Namespace of the cluster autoscaler's ServiceAccount (default `kube-system`). */
    clusterAutoscalerNamespace?: string;
    /** Name of the cluster autoscaler's ServiceAccount (default `cluster-autoscaler`). */
    clusterAutoscalerServiceAccount?: string;
    /** KMS key deletion window in days, 7..30 (default 30). */
    kmsDeletionWindowDays?: number;
}
