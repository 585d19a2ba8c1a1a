/**
 * Hetzner cloud layer: private network + subnet, firewall, SSH key, K3s control-plane and worker servers from
 * cloud-init (pinned K3s, join token a Pulumi secret), Hetzner CCM + CSI (Helm v4 charts, Pulumi-owned because
 * they are needed before ArgoCD), a load balancer for the gateway, and the kubeconfig fetched over SSH as a secret.
 *
 * Args that decide how many resources exist, or that must be validated before any resource is registered
 * (server counts, CIDRs, K3s version...), are plain values: the stack reads them synchronously from config.
 * Secrets (hcloud token, SSH private key) are `pulumi.Input`s and should be Pulumi secrets.
 */
import type * as Command from '@pulumi/command';
import { lazySdk } from '../sdk.js';
import type * as Hcloud from '@pulumi/hcloud';
import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import type * as Random from '@pulumi/random';
import type * as Tls from '@pulumi/tls';
import {
    GATEWAY_NODE_PORTS,
    GATEWAY_TARGET_LABEL,
    CLUSTER_LABEL,
    POOL_LABEL,
    ROLE_LABEL,
    HCLOUD_CHART_REPO,
    HCLOUD_SECRET_NAME,
    HCLOUD_STORAGE_CLASS,
    ccmValues,
    csiValues,
    firewallRules,
    hcloudLabels,
    kubeconfigFetchCommand,
    renderCloudInit,
    rewriteK3sKubeconfig,
    validateHetznerCloudArgs,
} from './hetzner-plan.js';
import type { ApiServerOidc, CloudOutputs, CostTags } from './types.js';

const command = lazySdk<typeof Command>('@pulumi/command');
const hcloud = lazySdk<typeof Hcloud>('@pulumi/hcloud');
const random = lazySdk<typeof Random>('@pulumi/random');
const tls = lazySdk<typeof Tls>('@pulumi/tls');

/** A pool of identical K3s worker servers. */
export interface HetznerWorkerPoolArgs {
    /** Pool name, lower-case DNS label of at most 19 characters (`WORKER_POOL_NAME_MAX`); servers are named `<cluster>-<pool>-<n>`. */
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
    /** CIDRs allowed to reach SSH (22) and the Kubernetes API (6443); non-empty; `0.0.0.0/0`, `::/0` and anything broader than /8 (IPv4) or /32 (IPv6) is refused. Include where `pulumi up` runs from. */
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
    /**
     * OIDC sign-in to the Kubernetes API (optional): kube-apiserver OIDC flags in the control planes' K3s config.
     * Part of cloud-init, so it applies to control-plane servers created after it is set.
     */
    apiServerOidc?: ApiServerOidc;
    /**
     * Protect the stateful resources (servers, their primary IPs) with Pulumi's `protect` (default true): destroy
     * and replacing changes stop with an error instead of deleting them; set false (or `pulumi state unprotect`) to
     * replace a server or tear down deliberately. While protected the CSI StorageClass reclaims volumes with `Retain`.
     */
    protect?: boolean;
}

/** Type token of {@link HetznerCloud}. */
export const HETZNER_CLOUD_TYPE = 'nkp:cloud:HetznerCloud';

/**
 * K3s on Hetzner Cloud for one environment. A thin shell over the pure planners in `hetzner-plan.ts`.
 *
 * Notes for operators:
 * - `pulumi up` must run from a network listed in `adminCidrs`: it reads the kubeconfig over SSH and installs
 *   the CCM and CSI charts through the Kubernetes API (port 6443).
 * - Servers ignore later changes of their cloud-init (`userData`) and image, so a new `k3sVersion` or token never
 *   replaces (wipes) running nodes by surprise; it applies to servers created afterwards. Upgrade running nodes
 *   in place (e.g. with the K3s system-upgrade-controller), or replace them deliberately with `pulumi up --replace`.
 * - The gateway's Service must be a NodePort Service on {@link GATEWAY_NODE_PORTS} (http 30080, https 30443):
 *   the load balancer forwards 80/443 to those ports over the private network.
 */
export class HetznerCloud extends pulumi.ComponentResource implements CloudOutputs {
    readonly provider = 'hetzner' as const;
    /** Admin kubeconfig (secret), server rewritten to the first control plane's public address. */
    readonly kubeconfig: pulumi.Output<string>;
    readonly clusterName: pulumi.Output<string>;
    /** Public IPv4 of the gateway load balancer (point the platform's DNS records here). */
    readonly gatewayLoadBalancerIp: pulumi.Output<string>;
    /** `hcloud-volumes`, resolved once the CSI driver is installed. */
    readonly defaultStorageClass: pulumi.Output<string>;
    /** Public IPv4 of the first control-plane server (the Kubernetes API endpoint). */
    readonly apiServerAddress: pulumi.Output<string>;
    /** Id of the private network. */
    readonly networkId: pulumi.Output<string>;
    /** NodePorts the gateway Service must expose (the load balancer's destinations). */
    readonly gatewayNodePorts: pulumi.Output<{ http: number; https: number }>;

    constructor(name: string, args: HetznerCloudArgs, opts?: pulumi.ComponentResourceOptions) {
        const plan = validateHetznerCloudArgs(args);
        super(HETZNER_CLOUD_TYPE, name, {}, opts);
        const parent = { parent: this };
        const cn = plan.clusterName;
        const labels = (extra: Record<string, string> = {}) => hcloudLabels(plan.tags, cn, extra);

        // --- network, firewall, SSH key, placement ---
        const network = new hcloud.Network(`${name}-net`, { name: cn, ipRange: plan.networkCidr, labels: labels() }, parent);
        const networkId = network.id.apply(Number);
        const subnet = new hcloud.NetworkSubnet(`${name}-subnet`, {
            networkId, type: 'cloud', networkZone: plan.networkZone, ipRange: plan.subnetCidr,
        }, parent);
        const firewall = new hcloud.Firewall(`${name}-fw`, { name: cn, rules: firewallRules(plan.adminCidrs), labels: labels() }, parent);
        const sshKey = new hcloud.SshKey(`${name}-ssh`, { name: cn, publicKey: args.sshPublicKey, labels: labels() }, parent);
        const spread = new hcloud.PlacementGroup(`${name}-cp`, { name: `${cn}-cp`, type: 'spread', labels: labels() }, parent);

        // --- join token: random, a Pulumi secret, only ever inside (secret) cloud-init ---
        const token = new random.RandomPassword(`${name}-k3s-token`, { length: 48, special: false }, parent);
        const tokenSecret = pulumi.secret(token.result);

        // --- control planes get a fixed public IP (known before boot, for the API certificate) and a pinned SSH host key ---
        const controlPlanes = plan.servers.filter((s) => s.role === 'server');
        const cpIps = controlPlanes.map((s) => new hcloud.PrimaryIp(`${name}-${s.name}`, {
            name: s.name, type: 'ipv4', assigneeType: 'server', location: plan.location, autoDelete: false, labels: labels({ [ROLE_LABEL]: 'control-plane' }),
        }, { parent: this, protect: plan.protect }));
        const hostKeys = controlPlanes.map((s) => new tls.PrivateKey(`${name}-${s.name}-hostkey`, { algorithm: 'ED25519' }, parent));
        const initIp = plan.servers.find((s) => s.init)!.privateIp;
        const tlsSans = pulumi.all(cpIps.map((ip) => ip.ipAddress));

        const servers = plan.servers.map((s) => {
            const cpIndex = controlPlanes.indexOf(s);
            const hostKey = cpIndex >= 0 ? hostKeys[cpIndex] : undefined;
            const userData = pulumi.secret(pulumi.all([tokenSecret, tlsSans, hostKey?.privateKeyOpenssh, hostKey?.publicKeyOpenssh]).apply(([tok, sans, priv, pub]) =>
                renderCloudInit(s, { k3sVersion: plan.k3sVersion, token: tok, initServerIp: initIp, tlsSans: sans, highAvailability: plan.highAvailability, apiServerOidc: plan.apiServerOidc },
                    priv !== undefined && pub !== undefined ? { ed25519Private: priv, ed25519Public: pub } : undefined)));
            const role = s.role === 'server' ? 'control-plane' : 'worker';
            const server = new hcloud.Server(`${name}-${s.name}`, {
                name: s.name,
                serverType: s.serverType,
                image: plan.image,
                location: plan.location,
                sshKeys: [sshKey.id],
                firewallIds: [firewall.id.apply(Number)],
                networks: [{ networkId, ip: s.privateIp }],
                publicNets: [cpIndex >= 0
                    ? { ipv4Enabled: true, ipv4: cpIps[cpIndex]!.id.apply(Number), ipv6Enabled: false }
                    : { ipv4Enabled: true, ipv6Enabled: false }],
                placementGroupId: cpIndex >= 0 ? spread.id.apply(Number) : undefined,
                userData,
                labels: labels({ [ROLE_LABEL]: role, [POOL_LABEL]: s.pool, ...(s.gatewayTarget ? { [GATEWAY_TARGET_LABEL]: 'true' } : {}) }),
            // Fixed name and private IP: a replacement must delete the old server first (it is protected by default,
            // so replacing one is a deliberate act: unprotect, then `pulumi up --replace`).
            }, { parent: this, dependsOn: [subnet], ignoreChanges: ['userData', 'image'], protect: plan.protect, deleteBeforeReplace: true });
            return { plan: s, server };
        });
        const init = servers.find((x) => x.plan.init)!;
        const initIndex = controlPlanes.indexOf(init.plan);
        const apiServerAddress = cpIps[initIndex]!.ipAddress;

        // --- kubeconfig over SSH (host key pinned), kept secret and rewritten to the public address ---
        const fetch = new command.remote.Command(`${name}-kubeconfig`, {
            connection: {
                host: apiServerAddress,
                user: 'root',
                privateKey: pulumi.secret(args.sshPrivateKey),
                hostKey: hostKeys[initIndex]!.publicKeyOpenssh.apply((k) => k.trim()),
                dialErrorLimit: 60,
                perDialTimeout: 10,
            },
            create: kubeconfigFetchCommand(),
            logging: 'none',
            triggers: [init.server.id],
        }, { parent: this, dependsOn: [init.server], additionalSecretOutputs: ['stdout'] });
        const kubeconfig = pulumi.secret(pulumi.all([pulumi.secret(fetch.stdout), apiServerAddress]).apply(([raw, host]) => rewriteK3sKubeconfig(raw, host, cn)));

        // --- Hetzner CCM + CSI: Pulumi-owned Helm charts (needed before ArgoCD can schedule anything) ---
        const k8sProvider = new k8s.Provider(`${name}-k8s`, { kubeconfig }, parent);
        const hcloudSecret = new k8s.core.v1.Secret(`${name}-hcloud`, {
            metadata: { name: HCLOUD_SECRET_NAME, namespace: 'kube-system' },
            type: 'Opaque',
            stringData: { token: pulumi.secret(args.hcloudToken), network: network.id },
        }, { parent: this, provider: k8sProvider });
        const ccm = new k8s.helm.v4.Chart(`${name}-hcloud-ccm`, {
            chart: 'hcloud-cloud-controller-manager',
            version: plan.ccmChartVersion,
            namespace: 'kube-system',
            repositoryOpts: { repo: HCLOUD_CHART_REPO },
            values: ccmValues(plan.location),
        }, { parent: this, provider: k8sProvider, dependsOn: [hcloudSecret] });
        const csi = new k8s.helm.v4.Chart(`${name}-hcloud-csi`, {
            chart: 'hcloud-csi',
            version: plan.csiChartVersion,
            namespace: 'kube-system',
            repositoryOpts: { repo: HCLOUD_CHART_REPO },
            values: csiValues(plan.protect),
        }, { parent: this, provider: k8sProvider, dependsOn: [hcloudSecret, ccm] });

        // --- the gateway's load balancer: 80/443 -> the gateway NodePorts on labelled servers, over the private network ---
        const lb = new hcloud.LoadBalancer(`${name}-gateway`, {
            name: `${cn}-gateway`, loadBalancerType: plan.loadBalancerType, location: plan.location,
            algorithm: { type: 'round_robin' }, labels: labels({ [ROLE_LABEL]: 'gateway' }),
            // Fixed name: a replacement (e.g. another location) deletes the old load balancer first.
        }, { parent: this, deleteBeforeReplace: true });
        const lbId = lb.id.apply(Number);
        const lbNet = new hcloud.LoadBalancerNetwork(`${name}-gateway`, { loadBalancerId: lbId, subnetId: subnet.id, enablePublicInterface: true }, parent);
        new hcloud.LoadBalancerTarget(`${name}-gateway`, {
            loadBalancerId: lbId, type: 'label_selector', labelSelector: `${CLUSTER_LABEL}=${cn},${GATEWAY_TARGET_LABEL}=true`, usePrivateIp: true,
        }, { parent: this, dependsOn: [lbNet] });
        for (const [listenPort, destinationPort] of [[80, GATEWAY_NODE_PORTS.http], [443, GATEWAY_NODE_PORTS.https]] as const) {
            new hcloud.LoadBalancerService(`${name}-gateway-${listenPort}`, {
                loadBalancerId: lb.id, protocol: 'tcp', listenPort, destinationPort, proxyprotocol: false,
                healthCheck: { protocol: 'tcp', port: destinationPort, interval: 10, timeout: 5, retries: 3 },
            }, parent);
        }

        // The kubeconfig handed to the layers above resolves only once the CCM and CSI charts' resources exist (the
        // CCM Deployment ready: it removes the nodes' uninitialized taint) and every server is up: everything built on
        // it (the cluster provider, so every Kubernetes resource) waits for nodes that can run pods.
        const gates: pulumi.Input<unknown>[] = [ccm.resources, csi.resources, ...servers.map((x) => x.server.id)];
        this.kubeconfig = pulumi.secret(pulumi.all([kubeconfig, pulumi.all(gates)]).apply(([kc]) => kc));
        this.clusterName = pulumi.output(cn);
        this.gatewayLoadBalancerIp = lb.ipv4;
        this.defaultStorageClass = csi.urn.apply(() => HCLOUD_STORAGE_CLASS);
        this.apiServerAddress = apiServerAddress;
        this.networkId = network.id;
        this.gatewayNodePorts = pulumi.output({ ...GATEWAY_NODE_PORTS });
        this.registerOutputs({
            kubeconfig: this.kubeconfig,
            clusterName: this.clusterName,
            gatewayLoadBalancerIp: this.gatewayLoadBalancerIp,
            defaultStorageClass: this.defaultStorageClass,
            apiServerAddress: this.apiServerAddress,
            networkId: this.networkId,
            gatewayNodePorts: this.gatewayNodePorts,
        });
    }
}
