/**
 * In-cluster name resolution of the platform's public hostnames on local clusters. `*.nkp.localtest.me` resolves to
 * 127.0.0.1 everywhere (public DNS), which inside a pod is the pod itself: ArgoCD's OIDC discovery, the landing page
 * and the operator could not reach the issuer. K3s (and k3d, which runs K3s) CoreDNS imports the optional ConfigMap
 * kube-system/coredns-custom: its `*.override` keys go into the main server block. The override rewrites every
 * name under the platform domain to the public Gateway's Envoy Service, so pods reach the same Envoy proxies (and
 * the same certificates) as the browser does through the load balancer.
 *
 * kind's CoreDNS does not import coredns-custom; on kind (and other local clusters) nothing is created and the
 * hostnames stay unresolvable inside pods (stacks/README.md, known limits).
 */
import { NS } from './namespaces.js';

/** The public Gateway's Envoy Service (EnvoyProxy nkp-public sets this name: components/foundation/manifests/gateway/envoyproxy.yaml). */
export const PUBLIC_GATEWAY_SERVICE = { name: 'nkp-public-gateway', namespace: NS.gateway } as const;

/** The ConfigMap K3s' CoreDNS imports, and our key in it (`*.override`: inside the `.:53` server block). */
export const COREDNS_CUSTOM = { name: 'coredns-custom', namespace: 'kube-system', key: 'nkp-platform-hosts.override' } as const;

/** Local cluster flavours whose CoreDNS imports coredns-custom. */
export const COREDNS_CUSTOM_FLAVOURS: readonly string[] = ['k3s', 'k3d'];

const DNS_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+$/;

/**
 * The CoreDNS override: the domain itself and every name below it are answered with the Envoy Service's address
 * (`answer auto` rewrites the answer back to the name that was asked, so clients accept it).
 */
export function corednsOverride(domain: string, clusterDomain = 'cluster.local'): string {
    if (!DNS_NAME.test(domain)) throw new Error(`corednsOverride: domain "${domain}" must be a DNS name with at least two labels, e.g. nkp.localtest.me`);
    if (!DNS_NAME.test(clusterDomain)) throw new Error(`corednsOverride: clusterDomain "${clusterDomain}" must be a DNS name, e.g. cluster.local`);
    const escaped = domain.replaceAll('.', '\\.');
    const target = `${PUBLIC_GATEWAY_SERVICE.name}.${PUBLIC_GATEWAY_SERVICE.namespace}.svc.${clusterDomain}.`;
    return [
        `# NKP (managed by Pulumi): ${domain} and *.${domain} resolve to the public Gateway's Envoy Service inside the cluster.`,
        'rewrite stop {',
        `    name regex ^(.+\\.)?${escaped}\\.$ ${target}`,
        '    answer auto',
        '}',
        '',
    ].join('\n');
}

/** The coredns-custom ConfigMap body (only our key; K3s' CoreDNS reloads it within its reload interval). */
export function corednsCustomConfigMap(domain: string) {
    return {
        metadata: {
            name: COREDNS_CUSTOM.name,
            namespace: COREDNS_CUSTOM.namespace,
            labels: { 'app.kubernetes.io/part-of': 'nkp', 'app.kubernetes.io/managed-by': 'pulumi' },
            annotations: { 'nkp.nebari.dev/why': 'platform hostnames resolve to the public Gateway inside the cluster (local clusters)' },
        },
        data: { [COREDNS_CUSTOM.key]: corednsOverride(domain) },
    };
}
