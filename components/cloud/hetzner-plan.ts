/**
 * Pure planning helpers of {@link HetznerCloud}: argument validation with defaults, private IP planning,
 * firewall rules, K3s configuration and cloud-init rendering, Helm values of the Hetzner CCM and CSI driver,
 * and the kubeconfig rewrite. No Pulumi resources here; unit-tested directly.
 */
import { stringify as toYaml, parse as parseYaml } from 'yaml';
import type { HetznerCloudArgs } from './hetzner.js';
import { nkpLabel } from './labels.js';
import { contains, formatCidr, hostAddress, nthSubnet, overlaps, parseIpv4Cidr, size } from './cidr.js';
import type { ApiServerOidc, CostTags } from './types.js';
import { k3sApiServerOidcArgs } from './kube-oidc.js';
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

const C = 'HetznerCloud';

/** Longest cluster name (every resource name starts with it). */
export const CLUSTER_NAME_MAX = 40;
/** Most servers in one worker pool (two-digit server index). */
export const WORKER_POOL_COUNT_MAX = 50;
/**
 * Longest worker-pool name: servers are named `<cluster>-<pool>-<n>` and a server name is a hostname of at most
 * 63 characters, so 63 - cluster (40) - two dashes - a two-digit index = 19.
 */
export const WORKER_POOL_NAME_MAX = 63 - CLUSTER_NAME_MAX - 2 - String(WORKER_POOL_COUNT_MAX).length;

/** Pinned chart versions (https://charts.hetzner.cloud), overridable by args. */
export const DEFAULT_CCM_CHART_VERSION = '1.30.0';
export const DEFAULT_CSI_CHART_VERSION = '2.19.0';
export const HCLOUD_CHART_REPO = 'https://charts.hetzner.cloud';
/** Name of the StorageClass the CSI driver provides; the cluster default. */
export const HCLOUD_STORAGE_CLASS = 'hcloud-volumes';
/** K3s' default pod and service networks (must not overlap the private network). */
export const K3S_CLUSTER_CIDR = '10.42.0.0/16';
export const K3S_SERVICE_CIDR = '10.43.0.0/16';
/** NodePorts the gateway's Service must use: the load balancer forwards 80 -> http, 443 -> https over the private network. */
export const GATEWAY_NODE_PORTS = { http: 30080, https: 30443 } as const;
/** Hetzner label that marks the servers the gateway load balancer targets. */
export const GATEWAY_TARGET_LABEL = nkpLabel('gateway-target');
export const CLUSTER_LABEL = nkpLabel('cluster');
/** Node/server label naming a server's pool (`cp` for control planes) and a resource's role. */
export const POOL_LABEL = nkpLabel('pool');
export const ROLE_LABEL = nkpLabel('role');
/** Where K3s writes the admin kubeconfig on a server. */
export const K3S_KUBECONFIG_PATH = '/etc/rancher/k3s/k3s.yaml';

/** `v<major>.<minor>.<patch>+k3s<n>`, e.g. v1.33.5+k3s1. */
export const K3S_VERSION_PATTERN = /^v1\.(\d+)\.(\d+)\+k3s(\d+)$/;

const LOCATION_ZONES: Record<string, string> = { fsn1: 'eu-central', nbg1: 'eu-central', hel1: 'eu-central', ash: 'us-east', hil: 'us-west', sin: 'ap-southeast' };
const NETWORK_ZONES = ['eu-central', 'us-east', 'us-west', 'ap-southeast'] as const;
const SERVER_TYPE = /^[a-z][a-z0-9-]*$/;
const CHART_VERSION = /^\d+\.\d+\.\d+$/;
const K8S_LABEL_KEY = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[a-zA-Z0-9]([-_.a-zA-Z0-9]{0,61}[a-zA-Z0-9])?$/;
const K8S_LABEL_VALUE = /^(([a-zA-Z0-9][-_.a-zA-Z0-9]{0,61})?[a-zA-Z0-9])?$/;
/** Host offsets in the subnet: control planes from 10, workers from 20 (.1 is Hetzner's gateway). */
const CONTROL_PLANE_HOST_OFFSET = 10;
const WORKER_HOST_OFFSET = 20;

/** Validate a pinned K3s version; returns it. */
export function validateK3sVersion(version: unknown, field = 'k3sVersion'): string {
    if (typeof version !== 'string' || !K3S_VERSION_PATTERN.test(version)) {
        throw new CloudArgsError(C, field, `${JSON.stringify(version)} is not a pinned K3s release; use the form v1.33.5+k3s1 (channels such as "stable" or "latest" are not allowed)`);
    }
    return version;
}

/** One planned server. */
export interface ServerPlan {
    /** Server (and Kubernetes node) name. */
    name: string;
    role: 'server' | 'agent';
    /** The first control-plane server (initialises the cluster; the kubeconfig is read from it). */
    init: boolean;
    pool: string;
    serverType: string;
    /** Static address on the private network. */
    privateIp: string;
    /** Kubernetes node labels. */
    nodeLabels: Record<string, string>;
    /** Whether the gateway load balancer targets this server. */
    gatewayTarget: boolean;
}

/** {@link HetznerCloudArgs} validated (secrets excluded), with every default applied. */
export interface HetznerCloudPlan {
    clusterName: string;
    tags: CostTags;
    location: string;
    networkZone: string;
    networkCidr: string;
    subnetCidr: string;
    k3sVersion: string;
    image: string;
    adminCidrs: string[];
    loadBalancerType: string;
    ccmChartVersion: string;
    csiChartVersion: string;
    highAvailability: boolean;
    servers: ServerPlan[];
    apiServerOidc?: Required<ApiServerOidc>;
    protect: boolean;
}

/** Validate {@link HetznerCloudArgs} (every failure names the field and what is allowed) and apply defaults. */
export function validateHetznerCloudArgs(args: HetznerCloudArgs): HetznerCloudPlan {
    if (typeof args !== 'object' || args === null) throw new CloudArgsError(C, 'args', 'a HetznerCloudArgs object is required');
    const clusterName = requireDnsLabel(C, 'clusterName', args.clusterName, CLUSTER_NAME_MAX);
    const tags = validateCostTags(C, args.tags, true);
    const location = requireDnsLabel(C, 'location', args.location, 10);
    const networkZone = args.networkZone ?? LOCATION_ZONES[location];
    if (networkZone === undefined) {
        throw new CloudArgsError(C, 'networkZone', `no default for location ${JSON.stringify(location)}; set one of ${NETWORK_ZONES.join(', ')}`);
    }
    requireOneOf(C, 'networkZone', networkZone, NETWORK_ZONES);
    if (LOCATION_ZONES[location] !== undefined && LOCATION_ZONES[location] !== networkZone) {
        throw new CloudArgsError(C, 'networkZone', `${JSON.stringify(networkZone)} does not contain location ${location}; use ${LOCATION_ZONES[location]}`);
    }

    const networkCidr = args.networkCidr ?? '10.10.0.0/16';
    const network = parseIpv4Cidr(networkCidr);
    if (!network || network.prefix < 8 || network.prefix > 24) {
        throw new CloudArgsError(C, 'networkCidr', `${JSON.stringify(networkCidr)} is not allowed; use a private IPv4 network /8../24 such as 10.10.0.0/16 (host bits zero)`);
    }
    const rfc1918 = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'].map((c) => parseIpv4Cidr(c)!);
    if (!rfc1918.some((r) => contains(r, network))) {
        throw new CloudArgsError(C, 'networkCidr', `${networkCidr} is not a private (RFC 1918) network; use one inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16`);
    }
    for (const k3s of [K3S_CLUSTER_CIDR, K3S_SERVICE_CIDR]) {
        if (overlaps(network, parseIpv4Cidr(k3s)!)) {
            throw new CloudArgsError(C, 'networkCidr', `${networkCidr} overlaps K3s' pod/service network ${k3s}; pick another range such as 10.10.0.0/16`);
        }
    }
    const subnetCidr = args.subnetCidr ?? formatCidr(nthSubnet(network, Math.max(24, network.prefix), 0));
    const subnet = parseIpv4Cidr(subnetCidr);
    if (!subnet || !contains(network, subnet)) {
        throw new CloudArgsError(C, 'subnetCidr', `${JSON.stringify(subnetCidr)} must be an IPv4 network inside networkCidr ${networkCidr}`);
    }

    const k3sVersion = validateK3sVersion(args.k3sVersion);
    const image = requireNonEmpty(C, 'image', args.image ?? 'ubuntu-24.04');
    const adminCidrs = requireRestrictedCidrs(C, 'adminCidrs', args.adminCidrs);
    const loadBalancerType = requireOneOf(C, 'loadBalancerType', args.loadBalancerType ?? 'lb11', ['lb11', 'lb21', 'lb31'] as const);
    const chart = (field: string, v: unknown) => {
        if (typeof v !== 'string' || !CHART_VERSION.test(v)) throw new CloudArgsError(C, field, `${JSON.stringify(v)} is not a pinned chart version such as 1.30.0`);
        return v;
    };
    const ccmChartVersion = chart('ccmChartVersion', args.ccmChartVersion ?? DEFAULT_CCM_CHART_VERSION);
    const csiChartVersion = chart('csiChartVersion', args.csiChartVersion ?? DEFAULT_CSI_CHART_VERSION);

    if (typeof args.controlPlane !== 'object' || args.controlPlane === null) {
        throw new CloudArgsError(C, 'controlPlane', 'an object { count: 1 | 3, serverType } is required');
    }
    const cpCount = requireOneOf(C, 'controlPlane.count', args.controlPlane.count, [1, 3] as const);
    const cpType = args.controlPlane.serverType ?? 'cx32';
    if (typeof cpType !== 'string' || !SERVER_TYPE.test(cpType)) throw new CloudArgsError(C, 'controlPlane.serverType', `${JSON.stringify(cpType)} is not a Hetzner server type such as cx32`);

    if (!Array.isArray(args.workerPools)) throw new CloudArgsError(C, 'workerPools', 'a list (possibly empty) of { name, count, serverType, labels? } is required');
    const poolNames = new Set<string>();
    const pools = args.workerPools.map((p, i) => {
        const f = (x: string) => `workerPools[${i}].${x}`;
        const name = requireDnsLabel(C, f('name'), p?.name, WORKER_POOL_NAME_MAX);
        if (name === 'cp') throw new CloudArgsError(C, f('name'), '"cp" is reserved for control-plane servers');
        if (poolNames.has(name)) throw new CloudArgsError(C, f('name'), `${JSON.stringify(name)} is used twice; pool names must be unique`);
        poolNames.add(name);
        const count = requireInt(C, f('count'), p.count, 0, WORKER_POOL_COUNT_MAX);
        if (typeof p.serverType !== 'string' || !SERVER_TYPE.test(p.serverType)) throw new CloudArgsError(C, f('serverType'), `${JSON.stringify(p.serverType)} is not a Hetzner server type such as cx42`);
        const labels = p.labels ?? {};
        for (const [k, v] of Object.entries(labels)) {
            if (!K8S_LABEL_KEY.test(k) || typeof v !== 'string' || !K8S_LABEL_VALUE.test(v)) {
                throw new CloudArgsError(C, f(`labels.${k}`), `${JSON.stringify(k)}=${JSON.stringify(v)} is not a valid Kubernetes label`);
            }
        }
        return { name, count, serverType: p.serverType, labels: { ...labels } };
    });

    const workers = pools.reduce((n, p) => n + p.count, 0);
    if (WORKER_HOST_OFFSET + workers >= size(subnet) - 1) {
        throw new CloudArgsError(C, 'subnetCidr', `${subnetCidr} has room for ${Math.max(0, size(subnet) - 2 - WORKER_HOST_OFFSET)} workers, ${workers} requested; use a larger subnet`);
    }
    const servers: ServerPlan[] = [];
    for (let i = 0; i < cpCount; i++) {
        servers.push({
            name: `${clusterName}-cp-${i + 1}`, role: 'server', init: i === 0, pool: 'cp', serverType: cpType,
            privateIp: hostAddress(subnet, CONTROL_PLANE_HOST_OFFSET + i), nodeLabels: { [POOL_LABEL]: 'cp' }, gatewayTarget: workers === 0,
        });
    }
    let w = 0;
    for (const p of pools) {
        for (let i = 0; i < p.count; i++) {
            servers.push({
                name: `${clusterName}-${p.name}-${i + 1}`, role: 'agent', init: false, pool: p.name, serverType: p.serverType,
                privateIp: hostAddress(subnet, WORKER_HOST_OFFSET + w++), nodeLabels: { ...p.labels, [POOL_LABEL]: p.name }, gatewayTarget: true,
            });
        }
    }
    return {
        clusterName, tags, location, networkZone, networkCidr, subnetCidr, k3sVersion, image, adminCidrs, loadBalancerType,
        ccmChartVersion, csiChartVersion, highAvailability: cpCount === 3, servers,
        protect: requireBoolean(C, 'protect', args.protect ?? true),
        ...(args.apiServerOidc !== undefined ? { apiServerOidc: validateApiServerOidc(C, args.apiServerOidc) } : {}),
    };
}

/** A Hetzner firewall rule (the shape `hcloud.Firewall` takes). */
export interface FirewallRule {
    direction: 'in' | 'out';
    protocol: 'tcp' | 'udp' | 'icmp';
    port?: string;
    sourceIps: string[];
    description: string;
}

/**
 * Inbound rules of the servers' public interfaces: SSH (22), the Kubernetes API (6443) and ICMP from the admin
 * CIDRs only. Nothing else is open publicly: the gateway load balancer reaches the nodes over the private network
 * (which Hetzner firewalls do not filter), and outbound traffic stays allowed.
 */
export function firewallRules(adminCidrs: readonly string[]): FirewallRule[] {
    const sourceIps = [...adminCidrs];
    return [
        { direction: 'in', protocol: 'tcp', port: '22', sourceIps, description: 'SSH from admin networks' },
        { direction: 'in', protocol: 'tcp', port: '6443', sourceIps, description: 'Kubernetes API from admin networks' },
        { direction: 'in', protocol: 'icmp', sourceIps, description: 'ICMP from admin networks' },
    ];
}

/** Hetzner labels of a resource: the cost tags plus the cluster label and extras. */
export function hcloudLabels(tags: CostTags, clusterName: string, extra: Record<string, string> = {}): Record<string, string> {
    return { ...extra, ...costTagMap(tags), [CLUSTER_LABEL]: clusterName };
}

/** Everything a node's K3s configuration depends on besides the plan. */
export interface K3sConfigContext {
    k3sVersion: string;
    /** Cluster join token (secret). */
    token: string;
    /** Private address of the first control-plane server. */
    initServerIp: string;
    /** Extra SANs for the API server certificate (public IPs of the control planes). */
    tlsSans: string[];
    highAvailability: boolean;
    /** OIDC sign-in for the API server (validated, defaults applied). */
    apiServerOidc?: Required<ApiServerOidc>;
}

/** kube-apiserver flags (K3s `kube-apiserver-arg` entries) for OIDC sign-in: ./kube-oidc.ts, shared with EKS and the tests. */
export function oidcApiServerArgs(o: Required<ApiServerOidc>): string[] {
    return k3sApiServerOidcArgs(o);
}

/** K3s config file (/etc/rancher/k3s/config.yaml) of one node, as an object. */
export function k3sConfig(node: ServerPlan, ctx: K3sConfigContext): Record<string, unknown> {
    const common = {
        token: ctx.token,
        'node-name': node.name,
        'node-ip': node.privateIp,
        'kubelet-arg': ['cloud-provider=external'],
        'node-label': Object.entries(node.nodeLabels).map(([k, v]) => `${k}=${v}`),
    };
    if (node.role === 'agent') return { ...common, server: `https://${ctx.initServerIp}:6443` };
    return {
        ...common,
        ...(node.init ? (ctx.highAvailability ? { 'cluster-init': true } : {}) : { server: `https://${ctx.initServerIp}:6443` }),
        'advertise-address': node.privateIp,
        'tls-san': [node.privateIp, ...ctx.tlsSans],
        disable: ['traefik', 'servicelb', 'local-storage'],
        'disable-cloud-controller': true,
        'cluster-cidr': K3S_CLUSTER_CIDR,
        'service-cidr': K3S_SERVICE_CIDR,
        'secrets-encryption': true,
        'write-kubeconfig-mode': '0600',
        ...(ctx.apiServerOidc ? { 'kube-apiserver-arg': oidcApiServerArgs(ctx.apiServerOidc) } : {}),
    };
}

/** URL of the K3s install script at exactly the pinned release (`+` encoded). */
export function k3sInstallScriptUrl(version: string): string {
    return `https://raw.githubusercontent.com/k3s-io/k3s/${encodeURIComponent(validateK3sVersion(version))}/install.sh`;
}

/** An SSH host key pinned through cloud-init (so the kubeconfig fetch can verify the server). */
export interface SshHostKey {
    ed25519Private: string;
    ed25519Public: string;
}

/**
 * cloud-init user data of one node: writes the K3s config (mode 0600, the token never on a command line),
 * waits for the private address, installs the pinned K3s with the pinned install script.
 */
export function renderCloudInit(node: ServerPlan, ctx: K3sConfigContext, hostKey?: SshHostKey): string {
    const version = validateK3sVersion(ctx.k3sVersion);
    const install = [
        '#!/bin/sh',
        'set -eu',
        `NODE_IP='${node.privateIp}'`,
        'IFACE=""',
        'for _ in $(seq 1 120); do',
        '  IFACE=$(ip -o -4 addr show | awk -v want="$NODE_IP/" \'index($4, want) == 1 { print $2; exit }\')',
        '  [ -n "$IFACE" ] && break',
        '  sleep 5',
        'done',
        '[ -n "$IFACE" ] || { echo "private address $NODE_IP never appeared" >&2; exit 1; }',
        'echo "flannel-iface: $IFACE" >> /etc/rancher/k3s/config.yaml',
        `curl -sfL --retry 10 --retry-all-errors -o /root/k3s-install.sh '${k3sInstallScriptUrl(version)}'`,
        `INSTALL_K3S_VERSION='${version}' INSTALL_K3S_EXEC='${node.role}' sh /root/k3s-install.sh`,
        '',
    ].join('\n');
    const doc: Record<string, unknown> = {
        write_files: [
            { path: '/etc/rancher/k3s/config.yaml', owner: 'root:root', permissions: '0600', content: toYaml(k3sConfig(node, ctx)) },
            { path: '/usr/local/sbin/nkp-install-k3s.sh', owner: 'root:root', permissions: '0700', content: install },
        ],
        runcmd: [['/usr/local/sbin/nkp-install-k3s.sh']],
    };
    if (hostKey) {
        doc['ssh_deletekeys'] = true;
        doc['ssh_genkeytypes'] = [];
        doc['ssh_keys'] = { ed25519_private: hostKey.ed25519Private, ed25519_public: hostKey.ed25519Public.trim() };
    }
    return `#cloud-config\n${toYaml(doc, { lineWidth: 0 })}`;
}

/**
 * Rewrite the kubeconfig K3s writes (server https://127.0.0.1:6443, names "default") for use from outside:
 * the server becomes https://<host>:6443 and cluster, user and context are named after the cluster.
 */
export function rewriteK3sKubeconfig(kubeconfig: string, host: string, clusterName: string): string {
    const doc = parseYaml(kubeconfig) as {
        clusters?: { name: string; cluster: { server: string } }[];
        users?: { name: string }[];
        contexts?: { name: string; context: { cluster: string; user: string } }[];
        'current-context'?: string;
    } | null;
    if (!doc || !Array.isArray(doc.clusters) || doc.clusters.length !== 1 || !Array.isArray(doc.users) || doc.users.length !== 1) {
        throw new Error(`${C}: the kubeconfig read from ${K3S_KUBECONFIG_PATH} is not a single-cluster K3s kubeconfig`);
    }
    doc.clusters[0]!.name = clusterName;
    doc.clusters[0]!.cluster.server = `https://${host}:6443`;
    doc.users[0]!.name = `${clusterName}-admin`;
    doc.contexts = [{ name: clusterName, context: { cluster: clusterName, user: `${clusterName}-admin` } }];
    doc['current-context'] = clusterName;
    return toYaml(doc);
}

/** Shell command that waits for K3s to write its kubeconfig (up to 15 minutes) and prints it. */
export function kubeconfigFetchCommand(): string {
    return `timeout 900 sh -c 'until [ -s ${K3S_KUBECONFIG_PATH} ]; do sleep 5; done' && cat ${K3S_KUBECONFIG_PATH}`;
}

/** Name of the Kubernetes Secret (kube-system) holding the hcloud token and network id for CCM and CSI. */
export const HCLOUD_SECRET_NAME = 'hcloud';

/** Helm values of hcloud-cloud-controller-manager: private-network routing, LBs reach nodes over private IPs. */
/**
 * Resource limits of the Hetzner charts' containers (the policy pack's k8s-resource-limits; the charts set none):
 * sized for a control loop / CSI sidecar each, the node driver with room for mkfs and resize2fs.
 */
const small = { requests: { cpu: '10m', memory: '32Mi' }, limits: { cpu: '200m', memory: '128Mi' } };
const driver = { requests: { cpu: '20m', memory: '64Mi' }, limits: { cpu: '500m', memory: '256Mi' } };
export const HCLOUD_CHART_RESOURCES = {
    ccm: { requests: { cpu: '100m', memory: '50Mi' }, limits: { cpu: '500m', memory: '256Mi' } },
    csiController: { csiAttacher: small, csiResizer: small, csiProvisioner: small, livenessProbe: small, hcloudCSIDriver: driver },
    csiNode: { csiNodeDriverRegistrar: small, livenessProbe: small, hcloudCSIDriver: driver },
} as const;

/**
 * The CSI controller's pod runs as a non-root user (it only calls the Hetzner API and serves a socket in an emptyDir
 * that fsGroup makes writable). The node plugin cannot: policy/policies/kubernetes.ts NON_ROOT_EXEMPTIONS says why.
 */
export const HCLOUD_CSI_CONTROLLER_POD_SECURITY = { enabled: true, fsGroup: 1001, runAsNonRoot: true, runAsUser: 1001, runAsGroup: 1001, seccompProfile: { type: 'RuntimeDefault' } } as const;

export function ccmValues(location: string): Record<string, unknown> {
    return {
        resources: HCLOUD_CHART_RESOURCES.ccm,
        networking: { enabled: true, clusterCIDR: K3S_CLUSTER_CIDR },
        env: {
            HCLOUD_TOKEN: { valueFrom: { secretKeyRef: { name: HCLOUD_SECRET_NAME, key: 'token' } } },
            HCLOUD_LOAD_BALANCERS_LOCATION: { value: location },
            HCLOUD_LOAD_BALANCERS_USE_PRIVATE_IP: { value: 'true' },
        },
    };
}

/**
 * Helm values of hcloud-csi (which reads the token from the `hcloud` Secret by default): one default StorageClass,
 * reclaiming with `Retain` while the stack protects its stateful resources (volumes outlive their claims and
 * `pulumi destroy`), `Delete` otherwise; resource limits on every container; the controller's pod non-root.
 */
export function csiValues(protect = true): Record<string, unknown> {
    return {
        storageClasses: [{ name: HCLOUD_STORAGE_CLASS, defaultStorageClass: true, reclaimPolicy: protect ? 'Retain' : 'Delete' }],
        controller: { resources: HCLOUD_CHART_RESOURCES.csiController, podSecurityContext: HCLOUD_CSI_CONTROLLER_POD_SECURITY },
        node: { resources: HCLOUD_CHART_RESOURCES.csiNode },
    };
}
