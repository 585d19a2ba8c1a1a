/**
 * How pods reach the two things every egress-isolated platform namespace needs besides DNS: the kube-apiserver and
 * the public OIDC issuer (https://keycloak.<domain>/realms/<realm>). Both addresses depend on the provider, so the
 * narrowest NetworkPolicy rule does too. Pure data; ./baseline.ts turns it into egress rules.
 *
 * NetworkPolicies match traffic after a Service's DNAT: a rule names the address and port of the endpoint (a pod,
 * a node, a control-plane ENI), not the Service's ClusterIP or port.
 */
import { ENVOY_PROXY_PORTS, NS, PUBLIC_GATEWAY_PROXY_LABELS } from './namespaces.js';

const IPV4_CIDR = /^((25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\/(3[0-2]|[12]?\d)$/;
const IPV4 = /^((25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

/** An egress destination: an address block (optionally with holes) on some TCP ports. */
export interface CidrPath {
    kind: 'cidrs';
    cidrs: string[];
    except?: string[];
    ports: number[];
}

/** The `public` Gateway's Envoy proxy pods, on their container ports. */
export interface GatewayPodsPath {
    kind: 'gateway-pods';
    namespace: string;
    podLabels: Record<string, string>;
    ports: number[];
}

export interface ClusterNetwork {
    /** Where the endpoints of the `kubernetes` Service (the kube-apiserver) are. */
    apiServer: CidrPath;
    /** How a pod's HTTPS request to the public issuer hostname travels. */
    issuer: CidrPath | GatewayPodsPath;
    /** One line for the NetworkPolicy annotations and the docs: why these paths. */
    why: { apiServer: string; issuer: string };
}

/** What the program knows about the network; `Ip` is `string` here, and may be an Output in the component's args. */
export type ClusterNetworkFacts<Ip = string> =
    | { provider: 'aws'; vpcCidr: string }
    | { provider: 'hetzner'; networkCidr: string; gatewayLoadBalancerIp: Ip }
    | { provider: 'local' };

/**
 * Per provider, the narrowest rules that work:
 *
 * - aws: the EKS control plane's endpoints are ENIs in the cluster's subnets, port 443, so the API server is the VPC
 *   CIDR on 443. The issuer hostname resolves to the public addresses of the gateway's NLB, which are not known
 *   when the program runs (AWS assigns them): HTTPS (443) to anything outside the VPC.
 * - hetzner: K3s servers advertise their private address, so the API server is the private network on 6443. The
 *   issuer hostname resolves to the gateway load balancer's public IPv4, which the cloud layer created: that /32 on 443.
 * - local (k3d/K3s): the API server listens on the node's address on 6443; node addresses are not known to the
 *   program, so any address on 6443. The issuer hostname resolves in-cluster to the Envoy proxy Service (CoreDNS
 *   override, see ./coredns.ts): the public Gateway's proxy pods on their container ports.
 */
export function clusterNetwork(f: ClusterNetworkFacts): ClusterNetwork {
    switch (f.provider) {
        case 'aws':
            if (!IPV4_CIDR.test(f.vpcCidr)) throw new Error(`clusterNetwork: vpcCidr "${f.vpcCidr}" must be an IPv4 CIDR like 10.0.0.0/16`);
            return {
                apiServer: { kind: 'cidrs', cidrs: [f.vpcCidr], ports: [443] },
                issuer: { kind: 'cidrs', cidrs: ['0.0.0.0/0'], except: [f.vpcCidr], ports: [443] },
                why: {
                    apiServer: 'the EKS control plane (its ENIs are in the VPC, port 443)',
                    issuer: 'the public OIDC issuer behind the gateway NLB, whose public addresses AWS assigns (HTTPS outside the VPC)',
                },
            };
        case 'hetzner':
            if (!IPV4_CIDR.test(f.networkCidr)) throw new Error(`clusterNetwork: networkCidr "${f.networkCidr}" must be an IPv4 CIDR like 10.10.0.0/16`);
            if (!IPV4.test(f.gatewayLoadBalancerIp)) throw new Error(`clusterNetwork: gatewayLoadBalancerIp "${f.gatewayLoadBalancerIp}" must be an IPv4 address`);
            return {
                apiServer: { kind: 'cidrs', cidrs: [f.networkCidr], ports: [6443] },
                issuer: { kind: 'cidrs', cidrs: [`${f.gatewayLoadBalancerIp}/32`], ports: [443] },
                why: {
                    apiServer: 'the K3s servers (private network, port 6443)',
                    issuer: 'the public OIDC issuer behind the gateway load balancer (its IPv4, port 443)',
                },
            };
        case 'local':
            return {
                apiServer: { kind: 'cidrs', cidrs: ['0.0.0.0/0'], ports: [6443] },
                issuer: { kind: 'gateway-pods', namespace: NS.gateway, podLabels: { ...PUBLIC_GATEWAY_PROXY_LABELS }, ports: [ENVOY_PROXY_PORTS.https, ENVOY_PROXY_PORTS.http] },
                why: {
                    apiServer: 'the K3s/k3d API server on its node address (port 6443; node addresses are unknown to the program)',
                    issuer: 'the public OIDC issuer, which CoreDNS resolves in-cluster to the public Gateway\'s Envoy proxies',
                },
            };
    }
}
