/**
 * The platform namespaces: one source of truth for their names and for what each needs from the network and
 * from Pod Security admission. Pure data; the baseline, ArgoCD, the foundation and the config validation read it.
 */

/** Name of every platform namespace, keyed by role. */
export const NS = {
    argocd: 'argocd',
    certManager: 'cert-manager',
    /** Envoy Gateway's controller and its Envoy proxies (the LoadBalancer Services) and the Gateways. */
    gateway: 'envoy-gateway-system',
    cnpg: 'cnpg-system',
    keycloak: 'keycloak',
    /** The OpenTelemetry Collector. */
    monitoring: 'monitoring',
    operator: 'nkp-operator',
    landing: 'nkp-landing',
    /** Pack Applications live here (ArgoCD "apps in any namespace"), never pack workloads. */
    packApps: 'nkp-pack-apps',
} as const;

export type NamespaceRole = keyof typeof NS;
export const PLATFORM_NAMESPACE_NAMES: readonly string[] = Object.values(NS);
/** Kubernetes' own namespaces: never a pack destination. */
export const RESERVED_NAMESPACES: readonly string[] = ['kube-system', 'kube-public', 'kube-node-lease', 'default'];

/**
 * Why a pack destination (a namespace name or a prefix glob like `pack-*`) is not allowed, or undefined when it is:
 * it must not be `*` and must not cover a platform or system namespace. The one rule config validation and the
 * packs AppProject both apply.
 */
export function packNamespaceClash(pattern: string): string | undefined {
    const prefix = pattern.endsWith('*') ? pattern.slice(0, -1) : undefined;
    if (pattern === '*' || prefix === '') return 'every namespace';
    const hits = [...PLATFORM_NAMESPACE_NAMES, ...RESERVED_NAMESPACES].filter((ns) => (prefix !== undefined ? ns.startsWith(prefix) : ns === pattern));
    return hits.length > 0 ? `the platform/system namespace${hits.length > 1 ? 's' : ''} ${hits.join(', ')}` : undefined;
}

export type PodSecurityLevel = 'privileged' | 'baseline' | 'restricted';

export interface PortSpec {
    port: number;
    protocol?: 'TCP' | 'UDP';
}

export interface PlatformNamespaceSpec {
    role: NamespaceRole;
    name: string;
    /** Pod Security admission level enforced; audit and warn are always restricted. */
    enforce: PodSecurityLevel;
    /** Why the level is what it is (shown as an annotation). */
    reason: string;
    /** Opted in to NebariApps (`nebari.dev/managed=true`). */
    nebariManaged: boolean;
    /** Serves HTTP through the gateway: gets an allow from the gateway namespace. */
    gatewayBackend: boolean;
    /** Ports reached by the API server (admission webhooks) or by clients outside the platform namespaces; from any source. */
    openIngressPorts?: { podSelector: Record<string, string>; ports: PortSpec[]; why: string }[];
    /** Namespaces (roles) allowed in besides the gateway and monitoring, on these ports. */
    ingressFrom?: { role: NamespaceRole; ports: PortSpec[]; why: string }[];
    /**
     * Egress isolated: default-deny egress plus DNS, the kube-apiserver, the public OIDC issuer (the path depends
     * on the provider, see ./network.ts) and the listed destinations only.
     */
    egress?: {
        to: { role: NamespaceRole; ports: PortSpec[]; why: string }[];
        /** HTTPS (443) to any address: issuers of generic-oidc NebariApps are arbitrary external identity providers. */
        externalHttps?: string;
        /** Any port of pods in namespaces opted in to NebariApps (`nebari.dev/managed=true`): the apps' health checks. */
        managedAppBackends?: string;
    };
}

/** Labels of the Envoy proxy pods Envoy Gateway runs for the `public` Gateway (which serves Keycloak, the issuer). */
export const PUBLIC_GATEWAY_PROXY_LABELS = {
    'app.kubernetes.io/managed-by': 'envoy-gateway',
    'app.kubernetes.io/component': 'proxy',
    'gateway.envoyproxy.io/owning-gateway-name': 'public',
    'gateway.envoyproxy.io/owning-gateway-namespace': NS.gateway,
} as const;

/**
 * Container ports of the Envoy proxies: Envoy Gateway listens on the Gateway's port + 10000 for privileged ports
 * (80 -> 10080, 443 -> 10443); the Service maps 80/443 to them. NetworkPolicies see these (after the Service's DNAT).
 */
export const ENVOY_PROXY_PORTS = { http: 10080, https: 10443 } as const;

/** The label that opts a namespace in to NebariApps (the operator, the Gateways' allowedListeners and the landing page use it). */
export const NEBARI_MANAGED_LABEL = { 'nebari.dev/managed': 'true' } as const;

export const PLATFORM_NAMESPACES: readonly PlatformNamespaceSpec[] = [
    { role: 'argocd', name: NS.argocd, enforce: 'restricted', reason: 'argo-cd chart runs every container non-root with a RuntimeDefault seccomp profile and no capabilities', nebariManaged: false, gatewayBackend: true },
    {
        role: 'certManager', name: NS.certManager, enforce: 'restricted', reason: 'cert-manager chart is restricted-compliant', nebariManaged: false, gatewayBackend: false,
        openIngressPorts: [{ podSelector: { 'app.kubernetes.io/component': 'webhook' }, ports: [{ port: 10250 }], why: 'the API server calls the cert-manager admission webhook' }],
    },
    {
        role: 'gateway', name: NS.gateway, enforce: 'baseline', reason: 'Envoy Gateway creates proxy Deployments whose security context the platform does not fully control', nebariManaged: false, gatewayBackend: false,
        openIngressPorts: [
            { podSelector: { 'app.kubernetes.io/managed-by': 'envoy-gateway', 'app.kubernetes.io/component': 'proxy' }, ports: [{ port: ENVOY_PROXY_PORTS.http }, { port: ENVOY_PROXY_PORTS.https }], why: 'users (and in-cluster clients of the public hostnames) reach the Envoy proxies through the load balancer or the proxy Service' },
            { podSelector: { 'app.kubernetes.io/name': 'gateway-helm' }, ports: [{ port: 9443 }], why: 'the API server calls the Envoy Gateway webhook' },
        ],
    },
    {
        role: 'cnpg', name: NS.cnpg, enforce: 'restricted', reason: 'the CloudNativePG operator is restricted-compliant', nebariManaged: false, gatewayBackend: false,
        openIngressPorts: [{ podSelector: { 'app.kubernetes.io/name': 'cloudnative-pg' }, ports: [{ port: 9443 }], why: 'the API server calls the CloudNativePG webhooks' }],
    },
    {
        role: 'keycloak', name: NS.keycloak, enforce: 'baseline', reason: 'the keycloakx chart\'s init container (dbchecker) does not set a seccomp profile', nebariManaged: false, gatewayBackend: true,
        ingressFrom: [
            { role: 'operator', ports: [{ port: 8080 }], why: 'the operator provisions OIDC clients through the Keycloak admin API' },
            { role: 'landing', ports: [{ port: 8080 }], why: 'the landing page validates tokens against Keycloak' },
            { role: 'cnpg', ports: [{ port: 8000 }, { port: 5432 }], why: 'the CloudNativePG operator manages the database instances' },
        ],
    },
    {
        role: 'monitoring', name: NS.monitoring, enforce: 'privileged', reason: 'the collector reads container logs from hostPath /var/log/pods', nebariManaged: false, gatewayBackend: false,
        openIngressPorts: [{ podSelector: { 'app.kubernetes.io/name': 'opentelemetry-collector' }, ports: [{ port: 4317 }, { port: 4318 }], why: 'every workload may send OTLP telemetry to the collector' }],
    },
    {
        role: 'operator', name: NS.operator, enforce: 'restricted', reason: 'the operator runs non-root with a read-only root filesystem', nebariManaged: false, gatewayBackend: false,
        egress: {
            to: [{ role: 'keycloak', ports: [{ port: 8080 }], why: 'the Keycloak admin API (keycloak-http.keycloak.svc, container port 8080): OIDC clients, client scopes and groups of NebariApps' }],
            externalHttps: 'OIDC discovery (jwks_uri) of generic-oidc issuers, which are external identity providers at arbitrary addresses',
        },
    },
    {
        role: 'landing', name: NS.landing, enforce: 'restricted', reason: 'the landing page runs non-root with a read-only root filesystem', nebariManaged: true, gatewayBackend: true,
        egress: {
            to: [{ role: 'keycloak', ports: [{ port: 8080 }], why: 'Keycloak inside the cluster (container port 8080)' }],
            managedAppBackends: 'health checks of the apps shown on the landing page (their Services in namespaces opted in to NebariApps, on the port each declares)',
        },
    },
    { role: 'packApps', name: NS.packApps, enforce: 'restricted', reason: 'holds only ArgoCD Application objects, no workloads', nebariManaged: false, gatewayBackend: false },
];
