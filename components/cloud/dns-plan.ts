/**
 * DNS records of the platform (pure): which names, in which zone, through which provider. The records point the
 * platform's hostnames at the public gateway: Hetzner's gateway load balancer (A records, made by Pulumi), or on
 * AWS the NLB the Load Balancer Controller makes (records kept by ExternalDNS, an add-on: the NLB's name is only
 * known inside the cluster). Local clusters keep `*.localtest.me` (public DNS already answers 127.0.0.1).
 */

/** Where the platform's records live. */
export type DnsProvider = 'none' | 'route53' | 'cloudflare';
export const DNS_PROVIDERS: readonly DnsProvider[] = ['none', 'route53', 'cloudflare'];

/** A Route 53 hosted zone id (`Z` + upper-case alphanumerics) and a Cloudflare zone id (32 hex). */
export const ROUTE53_ZONE_ID = '^Z[A-Z0-9]{1,32}$';
export const CLOUDFLARE_ZONE_ID = '^[a-f0-9]{32}$';

export interface DnsSettings {
    provider: DnsProvider;
    /** Zone id at the provider (empty with none). */
    zoneId: string;
}

/** TTL of the records (seconds). */
export const DNS_TTL = 300;

/** The names that point at the gateway: the landing page (the domain itself), every app below it, Argo CD, Keycloak. */
export function platformDnsNames(hostnames: { landing: string; argocd: string; keycloak: string }): string[] {
    return [hostnames.landing, `*.${hostnames.landing}`, hostnames.argocd, hostnames.keycloak];
}

/** Route 53 resource ARN of a hosted zone. */
export function hostedZoneArn(zoneId: string): string {
    return `arn:aws:route53:::hostedzone/${zoneId}`;
}

/**
 * IAM policy of ExternalDNS on Route 53: changes and reads only in the configured hosted zone; listing zones (which
 * Route 53 cannot scope) is read-only.
 */
export function externalDnsRoute53Policy(zoneId: string): string {
    return JSON.stringify({
        Version: '2012-10-17',
        Statement: [
            { Sid: 'ChangeOwnZone', Effect: 'Allow', Action: ['route53:ChangeResourceRecordSets', 'route53:ListResourceRecordSets', 'route53:ListTagsForResources'], Resource: [hostedZoneArn(zoneId)] },
            { Sid: 'ListZones', Effect: 'Allow', Action: ['route53:ListHostedZones'], Resource: '*' },
        ],
    });
}
