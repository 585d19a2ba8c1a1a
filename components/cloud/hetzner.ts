/**
 * Hetzner cloud layer: private network + subnet, firewall, SSH key, K3s control-plane and worker servers from
 * cloud-init (pinned K3s, join token a Pulumi secret), Hetzner CCM + CSI (Helm v4 charts, Pulumi-owned because
 * they are needed before ArgoCD), a load balancer for the gateway, and the kubeconfig fetched over SSH as a secret.
 *
 * Args that decide how many resources exist, or that must be validated before any resource is registered
 * (server counts, CIDRs, K3s version...), are plain values: the stack reads them synchronously from config.
 * Secrets (hcloud token, SSH private key) are `pulumi.Input`s and should be Pulumi secrets.
 */
import type * as pulumi from '@pulumi/pulumi';
import type { CostTags } from './types.js';

/** A pool of identical K3s worker servers. */
export interface HetznerWorkerPoolArgs {
    /** Pool name, lower-case DNS label; servers are named `<cluster>-<pool>-<n>`. */
    name: string;
    /** Number of servers, 0..50. */
    count: number;
    /** Hetzner server type, e.g. `cx32`, `ccx23`. */
    serverType: string;
    /** Kubernetes labels put on the pool's nodes (via `--node-label`). */
    labels?: Record<string, string>;
}

/** Arguments of {@link HetznerCloud}. */
export interface HetznerCloudArgs {
    /** K3s cluster name and prefix of every resource name; lower-case DNS label, <= 40 chars. */
    clusterName: string;
    /** environment / owner / cost-centre (+ extra), put on every resource as Hetzner labels. */
    tags: CostTags;
    /** Hetzner location of servers and load balancer, e.g. `fsn1`, `nbg1`, `hel1`, `ash`. */
    location: string;
    /** Network zone of the private subnet (default `eu-central`; must match the location). */
    networkZone?: string;
    /** IPv4 CIDR of the private network (default `10.10.0.0/16`). */
    networkCidr?: string;
    /** IPv4 CIDR of the servers' subnet, inside networkCidr (default: first /24 of networkCidr). */
    subnetCidr?: string;
    /** Pinned K3s release, e.g. `v1.33.5+k3s1`. */
    k3sVersion: string;
    /** Control-plane servers: count 1 (single) or 3 (HA, embedded etcd), and server type (default `cx32`). */
    controlPlane: { count: 1 | 3; serverType?: string };
    /** Worker pools (may be empty: workloads then run on the control plane). */
    workerPools: HetznerWorkerPoolArgs[];
    /** OS image of every server (default `ubuntu-24.04`). */
    image?: string;
    /** CIDRs allowed to reach SSH (22) and the Kubernetes API (6443); non-empty, `0.0.0.0/0` and `::/0` refused. Include where `pulumi up` runs from. */
    adminCidrs: string[];
    /** OpenSSH public key installed on every server (e.g. `ssh-ed25519 AAAA...`). */
    sshPublicKey: pulumi.Input<string>;
    /** Matching OpenSSH private key (a Pulumi secret), used only to read the kubeconfig from the first control-plane server. */
    sshPrivateKey: pulumi.Input<string>;
    /** Hetzner Cloud API token (a Pulumi secret) for the cloud-controller-manager and CSI driver; stored in a k8s Secret. */
    hcloudToken: pulumi.Input<string>;
    /** Load balancer type of the gateway LB (default `lb11`). */
    loadBalancerType?: string;
    /** Pinned chart version of hcloud-cloud-controller-manager (default pinned in this module). */
    ccmChartVersion?: string;
    /** Pinned chart version of hcloud-csi (default pinned in this module). */
    csiChartVersion?: string;
}
