/**
 * The platform's DNS records from config: the names, ExternalDNS's Route 53 policy, PlatformDnsRecords under Pulumi
 * mocks (Route 53 and Cloudflare cannot be reached here), and the whole stacks wiring records per provider.
 */
import assert from 'node:assert/strict';
import { externalDnsRoute53Policy, platformDnsNames } from '../../../components/cloud/dns-plan.js';
import { awsAddonApplications, type AwsAddonsInput } from '../../../components/cloud/aws-addons-plan.js';
import { isSecretMarker, outputValue, setupPulumiMocks, wholeStackOutputs, type RecordingMocks } from '../pulumi-mocks.js';

const hostnames = { landing: 'nkp.example.com', argocd: 'argocd.nkp.example.com', keycloak: 'keycloak.nkp.example.com' };

describe('cloud/dns: pure', () => {
    it('names: the domain, *.domain, argocd. and keycloak.', () => {
        assert.deepEqual(platformDnsNames(hostnames), ['nkp.example.com', '*.nkp.example.com', 'argocd.nkp.example.com', 'keycloak.nkp.example.com']);
    });

    it('ExternalDNS on Route 53: writes only in the configured hosted zone', () => {
        const doc = JSON.parse(externalDnsRoute53Policy('Z0123456789ABCDEFGHIJ'));
        const change = doc.Statement.find((s: { Action: string[] }) => s.Action.includes('route53:ChangeResourceRecordSets'));
        assert.deepEqual(change.Resource, ['arn:aws:route53:::hostedzone/Z0123456789ABCDEFGHIJ']);
        const wildcard = doc.Statement.filter((s: { Resource: unknown }) => s.Resource === '*');
        assert.deepEqual(wildcard.flatMap((s: { Action: string[] }) => s.Action), ['route53:ListHostedZones'], 'only listing is unscoped');
    });

    it('ExternalDNS Application: Services only, the zone and domain, ownership per cluster; Cloudflare token from a Secret', () => {
        const base: AwsAddonsInput = {
            clusterName: 'nkp-prod', region: 'eu-central-1', vpcId: 'vpc-1', kubernetesVersion: '1.33',
            clusterAutoscaler: { enabled: false, namespace: 'kube-system', serviceAccount: 'cluster-autoscaler' }, nvidiaDevicePlugin: { enabled: false, gpuTaints: [] },
        };
        assert.equal(awsAddonApplications(base).some((a) => a.metadata.name === 'external-dns'), false, 'off without dns');
        const r53 = awsAddonApplications({ ...base, dns: { provider: 'route53', zoneId: 'Z0123456789ABCDEFGHIJ', domain: 'nkp.example.com' } }).find((a) => a.metadata.name === 'external-dns')!;
        const v = r53.spec.source.helm!.valuesObject!;
        assert.deepEqual([v['provider'], v['sources'], v['domainFilters'], v['txtOwnerId'], v['policy']], [{ name: 'aws' }, ['service'], ['nkp.example.com'], 'nkp-prod', 'sync']);
        assert.deepEqual(v['extraArgs'], ['--zone-id-filter=Z0123456789ABCDEFGHIJ', '--aws-zone-type=public']);
        const cf = awsAddonApplications({ ...base, dns: { provider: 'cloudflare', zoneId: '0123456789abcdef0123456789abcdef', domain: 'nkp.example.com' } }).find((a) => a.metadata.name === 'external-dns')!;
        const env = cf.spec.source.helm!.valuesObject!['env'] as { name: string; valueFrom?: unknown }[];
        assert.deepEqual(env, [{ name: 'CF_API_TOKEN', valueFrom: { secretKeyRef: { name: 'external-dns-cloudflare', key: 'apiToken' } } }]);
        assert.ok(!JSON.stringify(cf).includes('token-value'), 'no token in the Application');
    });
});

describe('cloud/dns: records under Pulumi mocks', function () {
    this.timeout(120_000);
    let mocks: RecordingMocks;
    let PlatformDnsRecords: typeof import('../../../components/cloud/dns.js').PlatformDnsRecords;
    let stackFiles: typeof import('../../../stacks/stack-files.js');
    let platform: typeof import('../../../stacks/platform.js');
    before(async () => {
        mocks = await setupPulumiMocks({ outputs: wholeStackOutputs, id: ({ type, name }) => (type.startsWith('hcloud:') ? String(1000 + name.length) : `${name}-id`) });
        ({ PlatformDnsRecords } = await import('../../../components/cloud/dns.js'));
        stackFiles = await import('../../../stacks/stack-files.js');
        platform = await import('../../../stacks/platform.js');
    });
    beforeEach(() => mocks.reset());

    it('Route 53: four A records in the hosted zone through a region-pinned provider; Cloudflare: four unproxied A records, token secret', async () => {
        const r = new PlatformDnsRecords('t', { dns: { provider: 'route53', zoneId: 'Z0123456789ABCDEFGHIJ' }, hostnames, ipv4: '198.51.100.80' });
        await outputValue(r.urn);
        await mocks.settle();
        const recs = mocks.ofType('aws:route53/record:Record').map((x) => x.plain);
        assert.deepEqual(recs.map((x) => x['name']), platformDnsNames(hostnames));
        for (const x of recs) assert.deepEqual([x['zoneId'], x['type'], x['records'], x['ttl']], ['Z0123456789ABCDEFGHIJ', 'A', ['198.51.100.80'], 300]);
        assert.equal(mocks.one('pulumi:providers:aws').plain['region'], 'us-east-1');

        mocks.reset();
        const c = new PlatformDnsRecords('c', { dns: { provider: 'cloudflare', zoneId: '0123456789abcdef0123456789abcdef' }, hostnames, ipv4: '198.51.100.80', cloudflareApiToken: 'cf-token-value' });
        await outputValue(c.urn);
        await mocks.settle();
        const cf = mocks.ofType('cloudflare:index/dnsRecord:DnsRecord').map((x) => x.plain);
        assert.deepEqual(cf.map((x) => x['name']), platformDnsNames(hostnames));
        for (const x of cf) assert.deepEqual([x['type'], x['content'], x['proxied']], ['A', '198.51.100.80', false]);
        assert.ok(isSecretMarker(mocks.one('pulumi:providers:cloudflare').inputs['apiToken']), 'the token is a secret');
        assert.throws(() => new PlatformDnsRecords('x', { dns: { provider: 'cloudflare', zoneId: '0123456789abcdef0123456789abcdef' }, hostnames, ipv4: '1.2.3.4' }), /cloudflareApiToken is required/);
    });

    it('stacks: Hetzner with Cloudflare points the records at the gateway load balancer; aws-prod runs ExternalDNS with its own zone-scoped role', async () => {
        const hz = platform.buildPlatform(stackFiles.platformConfigForStack('hetzner', { dnsProvider: 'cloudflare', dnsZoneId: '0123456789abcdef0123456789abcdef' }));
        await outputValue(hz.foundation.urn);
        await mocks.settle();
        const cf = mocks.ofType('cloudflare:index/dnsRecord:DnsRecord').map((x) => x.plain);
        assert.deepEqual(cf.map((x) => x['name']), ['hetzner.nkp.example.com', '*.hetzner.nkp.example.com', 'argocd.hetzner.nkp.example.com', 'keycloak.hetzner.nkp.example.com']);
        assert.ok(cf.every((x) => x['content'] === '198.51.100.80'), 'the gateway load balancer address');

        mocks.reset();
        const aws = platform.buildPlatform(stackFiles.platformConfigForStack('aws-prod'));
        await outputValue(aws.foundation.urn);
        await mocks.settle();
        assert.ok(mocks.ofType('kubernetes:argoproj.io/v1alpha1:Application').some((a) => a.plain['metadata'].name === 'external-dns'));
        const assoc = mocks.ofType('aws:eks/podIdentityAssociation:PodIdentityAssociation').find((a) => a.plain['serviceAccount'] === 'external-dns')!;
        assert.equal(assoc.plain['namespace'], 'kube-system');
        assert.match(mocks.one('aws:iam/rolePolicy:RolePolicy', 'cloud-external-dns-0').plain['policy'], /hostedzone\/Z0123456789ABCDEFGHIJ/);
        assert.equal(mocks.ofType('aws:route53/record:Record').length, 0, 'on AWS ExternalDNS keeps the records, not Pulumi');
    });
});
