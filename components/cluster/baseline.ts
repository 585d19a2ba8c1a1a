/**
 * Pure helpers of the cluster baseline: each returns plain Kubernetes object bodies (no Pulumi), so tests check
 * them directly and the component is a thin shell that registers them.
 */
import { NEBARI_MANAGED_LABEL, NS, PLATFORM_NAMESPACES, type PlatformNamespaceSpec, type PortSpec } from './namespaces.js';
import type { CidrPath, ClusterNetwork, GatewayPodsPath } from './network.js';

export const PART_OF_LABEL = { 'app.kubernetes.io/part-of': 'nkp' } as const;
export const MANAGED_BY_PULUMI = { 'app.kubernetes.io/managed-by': 'pulumi' } as const;

type Labels = Record<string, string>;

export interface ObjectMeta {
    name: string;
    namespace?: string;
    labels?: Labels;
    annotations?: Record<string, string>;
}

/** Labels and annotations of a platform namespace. */
export function namespaceMetadata(spec: PlatformNamespaceSpec): ObjectMeta {
    const labels: Labels = {
        ...PART_OF_LABEL,
        ...MANAGED_BY_PULUMI,
        'kubernetes.io/metadata.name': spec.name,
        'pod-security.kubernetes.io/enforce': spec.enforce,
        'pod-security.kubernetes.io/enforce-version': 'latest',
        'pod-security.kubernetes.io/audit': 'restricted',
        'pod-security.kubernetes.io/audit-version': 'latest',
        'pod-security.kubernetes.io/warn': 'restricted',
        'pod-security.kubernetes.io/warn-version': 'latest',
    };
    if (spec.nebariManaged) labels['nebari.dev/managed'] = 'true';
    return { name: spec.name, labels, annotations: { 'nkp.nebari.dev/pod-security-reason': spec.reason } };
}

const nsSelector = (name: string) => ({ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': name } } });
const ports = (ps: PortSpec[]) => ps.map((p) => ({ port: p.port, protocol: p.protocol ?? 'TCP' }));

export interface NetworkPolicyBody {
    metadata: ObjectMeta;
    spec: {
        podSelector: { matchLabels?: Labels };
        policyTypes: ('Ingress' | 'Egress')[];
        ingress?: unknown[];
        egress?: unknown[];
    };
}

function policy(ns: string, name: string, why: string, spec: NetworkPolicyBody['spec']): NetworkPolicyBody {
    return { metadata: { name, namespace: ns, labels: { ...PART_OF_LABEL }, annotations: { 'nkp.nebari.dev/why': why } }, spec };
}

/** An egress peer list and ports for a provider-dependent path (an address block, or the gateway's proxy pods). */
function pathRule(path: CidrPath | GatewayPodsPath): { to: unknown[]; ports: { port: number; protocol: string }[] } {
    const to =
        path.kind === 'cidrs'
            ? path.cidrs.map((cidr) => ({ ipBlock: { cidr, ...(path.except && path.except.length > 0 ? { except: [...path.except] } : {}) } }))
            : [{ ...nsSelector(path.namespace), podSelector: { matchLabels: { ...path.podLabels } } }];
    return { to, ports: ports(path.ports.map((port) => ({ port }))) };
}

/**
 * Every NetworkPolicy of one platform namespace: default-deny ingress first, then the explicit allows. `net` says
 * where the kube-apiserver and the public OIDC issuer are (./network.ts); the names and the number of policies do
 * not depend on it.
 */
export function networkPolicies(spec: PlatformNamespaceSpec, net: ClusterNetwork): NetworkPolicyBody[] {
    const ns = spec.name;
    const out: NetworkPolicyBody[] = [
        policy(ns, 'default-deny-ingress', 'nothing reaches a pod unless a policy below allows it', { podSelector: {}, policyTypes: ['Ingress'] }),
        policy(ns, 'allow-same-namespace', 'components of one namespace talk to each other', { podSelector: {}, policyTypes: ['Ingress'], ingress: [{ from: [{ podSelector: {} }] }] }),
    ];
    if (spec.role !== 'monitoring') {
        out.push(
            policy(ns, 'allow-metrics-scraping', 'the OpenTelemetry Collector in the monitoring namespace scrapes metrics', {
                podSelector: {},
                policyTypes: ['Ingress'],
                ingress: [{ from: [{ ...nsSelector(NS.monitoring), podSelector: { matchLabels: { 'app.kubernetes.io/name': 'opentelemetry-collector' } } }] }],
            }),
        );
    }
    if (spec.gatewayBackend) {
        out.push(
            policy(ns, 'allow-from-gateway', 'the Envoy proxies of the gateway forward user traffic to the backends here', {
                podSelector: {},
                policyTypes: ['Ingress'],
                ingress: [{ from: [nsSelector(NS.gateway)] }],
            }),
        );
    }
    for (const [i, open] of (spec.openIngressPorts ?? []).entries()) {
        out.push(
            policy(ns, `allow-open-ingress-${i}`, open.why, {
                podSelector: { matchLabels: { ...open.podSelector } },
                policyTypes: ['Ingress'],
                ingress: [{ ports: ports(open.ports) }],
            }),
        );
    }
    for (const from of spec.ingressFrom ?? []) {
        out.push(
            policy(ns, `allow-from-${NS[from.role]}`, from.why, {
                podSelector: {},
                policyTypes: ['Ingress'],
                ingress: [{ from: [nsSelector(NS[from.role])], ports: ports(from.ports) }],
            }),
        );
    }
    const eg = spec.egress;
    if (eg) {
        out.push(
            policy(ns, 'default-deny-egress', 'pods here reach only what the policies below allow', { podSelector: {}, policyTypes: ['Egress'] }),
            policy(ns, 'allow-dns-egress', 'name resolution through the cluster DNS', {
                podSelector: {},
                policyTypes: ['Egress'],
                egress: [{ to: [{ ...nsSelector('kube-system'), podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }], ports: ports([{ port: 53, protocol: 'UDP' }, { port: 53 }]) }],
            }),
            policy(ns, 'allow-apiserver-egress', `the Kubernetes API server: ${net.why.apiServer}`, { podSelector: {}, policyTypes: ['Egress'], egress: [pathRule(net.apiServer)] }),
            policy(ns, 'allow-oidc-issuer-egress', `the public OIDC issuer: ${net.why.issuer}`, { podSelector: {}, policyTypes: ['Egress'], egress: [pathRule(net.issuer)] }),
        );
        for (const to of eg.to) {
            out.push(
                policy(ns, `allow-egress-to-${NS[to.role]}`, to.why, {
                    podSelector: {},
                    policyTypes: ['Egress'],
                    egress: [{ to: [nsSelector(NS[to.role])], ports: ports(to.ports) }],
                }),
            );
        }
        if (eg.externalHttps !== undefined) {
            out.push(
                policy(ns, 'allow-external-https-egress', eg.externalHttps, {
                    podSelector: {},
                    policyTypes: ['Egress'],
                    egress: [{ to: [{ ipBlock: { cidr: '0.0.0.0/0' } }], ports: ports([{ port: 443 }]) }],
                }),
            );
        }
        if (eg.managedAppBackends !== undefined) {
            out.push(
                policy(ns, 'allow-egress-to-app-backends', eg.managedAppBackends, {
                    podSelector: {},
                    policyTypes: ['Egress'],
                    // Every port: each app declares its own (healthCheck.port, default service.port).
                    egress: [{ to: [{ namespaceSelector: { matchLabels: { ...NEBARI_MANAGED_LABEL } } }] }],
                }),
            );
        }
    }
    return out;
}

/** NetworkPolicies of every platform namespace. */
export function allNetworkPolicies(net: ClusterNetwork, specs: readonly PlatformNamespaceSpec[] = PLATFORM_NAMESPACES): NetworkPolicyBody[] {
    return specs.flatMap((s) => networkPolicies(s, net));
}

export interface PolicyRule {
    apiGroups?: string[];
    resources?: string[];
    verbs: string[];
    nonResourceURLs?: string[];
}

export const PLATFORM_ADMIN_ROLE = 'nkp:platform-admin';
export const PLATFORM_VIEWER_ROLE = 'nkp:platform-viewer';

/** The two platform ClusterRoles. The viewer reads everything except Secrets (and never exec/port-forward). */
export function clusterRoles(): { name: string; rules: PolicyRule[] }[] {
    const read = ['get', 'list', 'watch'];
    return [
        { name: PLATFORM_ADMIN_ROLE, rules: [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }, { nonResourceURLs: ['*'], verbs: ['*'] }] },
        {
            name: PLATFORM_VIEWER_ROLE,
            rules: [
                {
                    apiGroups: [''],
                    resources: ['pods', 'pods/log', 'services', 'endpoints', 'configmaps', 'namespaces', 'nodes', 'events', 'persistentvolumeclaims', 'persistentvolumes', 'serviceaccounts', 'resourcequotas', 'limitranges', 'replicationcontrollers'],
                    verbs: read,
                },
                {
                    apiGroups: ['apps', 'batch', 'autoscaling', 'policy', 'networking.k8s.io', 'storage.k8s.io', 'discovery.k8s.io', 'events.k8s.io', 'rbac.authorization.k8s.io', 'apiextensions.k8s.io', 'coordination.k8s.io', 'scheduling.k8s.io', 'node.k8s.io', 'gateway.networking.k8s.io', 'gateway.envoyproxy.io', 'reconcilers.nebari.dev', 'postgresql.cnpg.io'],
                    resources: ['*'],
                    verbs: read,
                },
                { apiGroups: ['argoproj.io'], resources: ['applications', 'applicationsets', 'appprojects'], verbs: read },
                { apiGroups: ['cert-manager.io'], resources: ['certificates', 'certificaterequests', 'issuers', 'clusterissuers'], verbs: read },
                { apiGroups: ['acme.cert-manager.io'], resources: ['orders', 'challenges'], verbs: read },
                { apiGroups: ['metrics.k8s.io'], resources: ['pods', 'nodes'], verbs: read },
                { nonResourceURLs: ['/healthz', '/readyz', '/livez', '/version'], verbs: ['get'] },
            ],
        },
    ];
}

/** Subjects of a binding: OIDC groups with the prefix the API server puts in front of group names. */
export function oidcGroupSubjects(prefix: string, groups: readonly string[]): { kind: 'Group'; apiGroup: 'rbac.authorization.k8s.io'; name: string }[] {
    return [...new Set(groups)].map((g) => ({ kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: `${prefix}${g}` }));
}

export interface StorageClassBody {
    metadata: ObjectMeta;
    provisioner: string;
    parameters?: Record<string, string>;
    reclaimPolicy: 'Retain' | 'Delete';
    volumeBindingMode: 'WaitForFirstConsumer' | 'Immediate';
    allowVolumeExpansion: boolean;
}

/**
 * StorageClasses the baseline adds per provider. Every cloud component already provides the default class
 * (aws: encrypted gp3, hetzner: hcloud-volumes from the CSI driver, local: the cluster's own), so the baseline
 * only adds a Retain variant for stateful platform data (the Keycloak database), and nothing for local clusters
 * whose provisioner is unknown.
 */
export function storageClasses(provider: 'aws' | 'hetzner' | 'local'): StorageClassBody[] {
    const common = { reclaimPolicy: 'Retain' as const, volumeBindingMode: 'WaitForFirstConsumer' as const, allowVolumeExpansion: true };
    switch (provider) {
        case 'aws':
            return [{ metadata: { name: 'gp3-retain', labels: { ...PART_OF_LABEL } }, provisioner: 'ebs.csi.aws.com', parameters: { type: 'gp3', encrypted: 'true', 'csi.storage.k8s.io/fstype': 'ext4' }, ...common }];
        case 'hetzner':
            return [{ metadata: { name: 'hcloud-volumes-retain', labels: { ...PART_OF_LABEL } }, provisioner: 'csi.hetzner.cloud', parameters: { 'csi.storage.k8s.io/fstype': 'ext4' }, ...common }];
        case 'local':
            return [];
    }
}

/** The StorageClass stateful platform data should use: the Retain class when the baseline adds one, else the cloud's default. */
export function platformDataStorageClass(provider: 'aws' | 'hetzner' | 'local'): string | undefined {
    return storageClasses(provider)[0]?.metadata.name;
}
