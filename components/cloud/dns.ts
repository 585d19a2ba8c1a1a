/**
 * The platform's DNS records pointing at a known gateway address (`nkp:cloud:PlatformDnsRecords`): A records for the
 * domain, `*.domain`, `argocd.` and `keycloak.` in a Route 53 hosted zone or a Cloudflare zone. Used where Pulumi
 * knows the address (Hetzner's gateway load balancer); on AWS ExternalDNS keeps the records (./aws-addons-plan.ts).
 */
import type * as Aws from '@pulumi/aws';
import { lazySdk } from '../sdk.js';
import type * as Cloudflare from '@pulumi/cloudflare';
import * as pulumi from '@pulumi/pulumi';
import { DNS_TTL, platformDnsNames, type DnsSettings } from './dns-plan.js';

const aws = lazySdk<typeof Aws>('@pulumi/aws');
const cloudflare = lazySdk<typeof Cloudflare>('@pulumi/cloudflare');

export interface PlatformDnsRecordsArgs {
    dns: DnsSettings;
    hostnames: { landing: string; argocd: string; keycloak: string };
    /** The gateway's public IPv4. */
    ipv4: pulumi.Input<string>;
    /** Cloudflare API token (a Pulumi secret, DNS edit on the zone); required with provider cloudflare. */
    cloudflareApiToken?: pulumi.Input<string>;
}

export class PlatformDnsRecords extends pulumi.ComponentResource {
    readonly names: string[];

    constructor(name: string, args: PlatformDnsRecordsArgs, opts?: pulumi.ComponentResourceOptions) {
        super('nkp:cloud:PlatformDnsRecords', name, {}, opts);
        this.names = platformDnsNames(args.hostnames);
        const label = (n: string) => n.replace(/^\*\./, 'wildcard.').replaceAll('.', '-');
        if (args.dns.provider === 'route53') {
            // Route 53 is global; an explicit provider so the stack needs no aws:region (Hetzner stacks have none).
            const provider = new aws.Provider(`${name}-route53`, { region: 'us-east-1' }, { parent: this });
            for (const n of this.names) {
                new aws.route53.Record(`${name}-${label(n)}`, { zoneId: args.dns.zoneId, name: n, type: 'A', ttl: DNS_TTL, records: [args.ipv4] }, { parent: this, provider });
            }
        } else if (args.dns.provider === 'cloudflare') {
            if (args.cloudflareApiToken === undefined) throw new Error('PlatformDnsRecords: cloudflareApiToken is required with provider cloudflare (secret nkp:cloudflareApiToken)');
            const provider = new cloudflare.Provider(`${name}-cloudflare`, { apiToken: pulumi.secret(args.cloudflareApiToken) }, { parent: this });
            for (const n of this.names) {
                // Not proxied: the gateway terminates TLS itself (Let's Encrypt HTTP-01 needs the origin).
                new cloudflare.DnsRecord(`${name}-${label(n)}`, { zoneId: args.dns.zoneId, name: n, type: 'A', ttl: DNS_TTL, content: args.ipv4, proxied: false }, { parent: this, provider });
            }
        }
        this.registerOutputs({ names: this.names });
    }
}
