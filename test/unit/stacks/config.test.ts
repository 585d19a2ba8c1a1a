/* eslint-disable @typescript-eslint/no-explicit-any -- assertions walk untyped Kubernetes / Helm bodies recorded by the mocks */
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import fc from 'fast-check';
import { CONFIG_KEYS, ConfigValidationError, PINNED_GIT_REVISION, projectConfigBlock, validateConfig } from '../../../stacks/config.js';
import { readStackFile, settingsForStack, STACKS, STACKS_DIR } from '../../../stacks/stack-files.js';

/** Validate a committed stack with overrides (undefined removes a key); returns the error's problems, or [] when valid. */
function problems(stack: string, overrides: Record<string, unknown>, secrets: (k: string) => boolean = () => true): string[] {
    const { values } = readStackFile(stack);
    const merged: Record<string, string | undefined> = { ...values };
    for (const [k, v] of Object.entries(overrides)) merged[k] = v === undefined ? undefined : typeof v === 'string' ? v : JSON.stringify(v);
    try {
        validateConfig((k) => merged[k], secrets, Object.keys(merged).filter((k) => merged[k] !== undefined));
        return [];
    } catch (e) {
        assert.ok(e instanceof ConfigValidationError, String(e));
        return e.problems;
    }
}

describe('stack config: the committed stacks', () => {
    for (const stack of STACKS) {
        it(`${stack}: validates, and names exactly the secrets it needs`, () => {
            const s = settingsForStack(stack);
            assert.equal(s.environment, stack);
            assert.ok(s.requiredSecrets.includes('argocdOidcClientSecret') && s.requiredSecrets.includes('keycloakAdminPassword'));
            const expectByProvider = { local: [], hetzner: ['hetznerToken', 'hetznerSshPrivateKey'], aws: [] }[s.cloud.provider];
            for (const k of expectByProvider) assert.ok(s.requiredSecrets.includes(k as never), k);
        });

        it(`${stack}: the file's header documents every secret the stack needs (identity managed or not)`, () => {
            const text = readFileSync(join(STACKS_DIR, `Pulumi.${stack}.yaml`), 'utf8');
            const documented = [...text.matchAll(/^# {3}([A-Za-z]+): /gm)].map((m) => m[1]).sort();
            const overrides = stack === 'local' ? {} : { identityEnabled: true };
            assert.deepEqual(documented, [...settingsForStack(stack, overrides).requiredSecrets].sort());
        });

        it(`${stack}: the file holds every non-secret key and nothing unknown`, () => {
            const { values, secureKeys } = readStackFile(stack);
            assert.deepEqual(Object.keys(values).sort(), Object.keys(CONFIG_KEYS).sort());
            assert.equal(secureKeys.size, 0, 'no secret is committed');
        });
    }

    it('the four stacks differ where environments should: provider, issuer, HA', () => {
        const [local, hetzner, staging, prod] = STACKS.map((s) => settingsForStack(s));
        assert.deepEqual([local!.cloud.provider, hetzner!.cloud.provider, staging!.cloud.provider, prod!.cloud.provider], ['local', 'hetzner', 'aws', 'aws']);
        assert.equal(local!.tls.issuer, 'selfsigned-ca');
        assert.equal(staging!.tls.issuer, 'letsencrypt');
        assert.equal(prod!.tls.issuer, 'letsencrypt');
        assert.equal(prod!.argocd.ha, true);
        assert.ok(prod!.cloud.provider === 'aws' && prod!.cloud.aws.nodeGroups.some((g) => g.gpu === true));
        assert.ok(staging!.cloud.provider === 'aws' && staging!.cloud.aws.natGateways === 'single');
    });

    it('Pulumi.yaml declares every typable key with the schema\'s type, description and default', () => {
        const project = parse(readFileSync(join(STACKS_DIR, '..', 'Pulumi.yaml'), 'utf8'));
        assert.equal(project.main, 'stacks/index.ts');
        assert.equal(project.stackConfigDir, 'stacks');
        assert.deepEqual(project.config, projectConfigBlock());
        for (const [k, v] of Object.entries(project.config as Record<string, any>)) {
            assert.ok(['string', 'integer', 'boolean', 'array'].includes(v.type), `${k}: ${v.type}`);
            assert.ok(typeof v.description === 'string' && v.description.length > 10, k);
        }
    });
});

describe('stack config: validation failures name the key and what is allowed', () => {
    const cases: [string, string, Record<string, unknown>, RegExp][] = [
        ['missing required key', 'local', { domain: undefined }, /nkp:domain is required: Base DNS name/],
        ['enum', 'local', { cloudProvider: 'gcp' }, /nkp:cloudProvider = "gcp" must be one of "aws", "hetzner", "local"/],
        ['pattern', 'local', { domain: 'Not A Domain' }, /nkp:domain = "Not A Domain" has an invalid format; allowed: Base DNS name/],
        ['integer', 'hetzner', { hetznerControlPlaneCount: 'three' }, /nkp:hetznerControlPlaneCount "three" is not an integer/],
        ['integer enum', 'hetzner', { hetznerControlPlaneCount: '2' }, /nkp:hetznerControlPlaneCount = 2 must be one of 1, 3/],
        ['boolean', 'local', { identityEnabled: 'yes' }, /nkp:identityEnabled "yes" is not a boolean/],
        ['invalid list', 'aws-prod', { awsAvailabilityZones: '[eu-central-1a' }, /nkp:awsAvailabilityZones is not a valid array/],
        ['unknown object field', 'aws-prod', { awsNodeGroups: [{ name: 'g', instanceTypes: ['m6i.large'], minSize: 1, maxSize: 2, desiredSize: 1, colour: 'red' }] }, /nkp:awsNodeGroups .* unknown field "colour" at \/0/],
        ['node group sizes', 'aws-prod', { awsNodeGroups: [{ name: 'g', instanceTypes: ['m6i.large'], minSize: 3, maxSize: 2, desiredSize: 1 }] }, /awsNodeGroups\[0\] \(g\) needs minSize <= desiredSize <= maxSize/],
        ['one AZ', 'aws-staging', { awsAvailabilityZones: ['eu-central-1a'] }, /nkp:awsAvailabilityZones needs at least two distinct availability zones/],
        ['world CIDR', 'aws-prod', { awsPublicAccessCidrs: ['0.0.0.0/0'] }, /nkp:awsPublicAccessCidrs entry 0.0.0.0\/0 opens the API to the world/],
        ['bad CIDR', 'hetzner', { hetznerAdminCidrs: ['300.1.1.1/24'] }, /nkp:hetznerAdminCidrs = \["300.1.1.1\/24"\] has an invalid format at \/0/],
        ['zone mismatch', 'hetzner', { hetznerLocation: 'ash' }, /nkp:hetznerNetworkZone = "eu-central" does not match nkp:hetznerLocation ash; allowed: us-east/],
        ['floating gitops revision', 'aws-prod', { gitopsRevision: 'main' }, /nkp:gitopsRevision = "main" has an invalid format; allowed: Pinned revision .* a semver release tag like v1.4.0 or a full 40-hex commit SHA/],
        ['HEAD platform revision', 'aws-prod', { platformRevision: 'HEAD' }, /nkp:platformRevision = "HEAD" has an invalid format; allowed: Pinned revision/],
        ['short SHA', 'aws-prod', { platformRevision: 'abc1234' }, /nkp:platformRevision = "abc1234" has an invalid format/],
        ['loopback git platform repo in the cloud', 'aws-prod', { platformRepoUrl: 'git://127.0.0.1:9418/nkp.git' }, /nkp:platformRepoUrl = "git:\/\/127.0.0.1:9418\/nkp.git" is a loopback git daemon, only allowed with nkp:cloudProvider local/],
        ['loopback git gitops repo in the cloud', 'hetzner', { gitopsRepoUrl: 'git://127.0.0.1:9418/gitops.git', gitopsAuth: 'none' }, /nkp:gitopsRepoUrl = "git:\/\/127.0.0.1:9418\/gitops.git" is a loopback git daemon, only allowed with nkp:cloudProvider local/],
        ['loopback chart mirror in the cloud', 'aws-prod', { helmChartMirror: 'http://127.0.0.1:8879/charts' }, /nkp:helmChartMirror = "http:\/\/127.0.0.1:8879\/charts" is a Helm repository on loopback, only allowed with nkp:cloudProvider local/],
        ['plain-http chart mirror off loopback', 'local', { helmChartMirror: 'http://charts.example.com/' }, /nkp:helmChartMirror = "http:\/\/charts.example.com\/" has an invalid format; allowed: A Helm repository/],
        ['loopback git gitops repo with credentials', 'local', { gitopsRepoUrl: 'git://127.0.0.1:9418/gitops.git', gitopsAuth: 'https', gitopsUsername: 'u' }, /nkp:gitopsAuth must be none/],
        ['git platform repo off loopback', 'local', { platformRepoUrl: 'git://example.com/nkp.git' }, /nkp:platformRepoUrl = "git:\/\/example.com\/nkp.git" has an invalid format; allowed: This platform repository/],
        ['latest image', 'local', { operatorImage: 'ghcr.io/nebari-dev/nkp-operator:latest' }, /nkp:operatorImage = .* has an invalid format; allowed: Image of the NebariApp operator, pinned/],
        ['untagged image', 'local', { landingImage: 'ghcr.io/nebari-dev/nkp-landing' }, /nkp:landingImage .* invalid format/],
        ['ACME without e-mail', 'aws-prod', { acmeEmail: '' }, /nkp:acmeEmail is required when nkp:tlsIssuer is letsencrypt/],
        ['self-signed CA in the cloud', 'aws-prod', { tlsIssuer: 'selfsigned-ca' }, /nkp:tlsIssuer = "selfsigned-ca" is only allowed with nkp:cloudProvider local/],
        ['pack namespace glob over platform namespaces', 'local', { packNamespaces: ['nkp-*'] }, /nkp:packNamespaces entry "nkp-\*" covers the platform\/system namespaces nkp-operator, nkp-landing, nkp-pack-apps; allowed/],
        ['bare wildcard pack namespace', 'local', { packNamespaces: ['*'] }, /nkp:packNamespaces = \["\*"\] has an invalid format/],
        ['upstream OIDC incomplete', 'aws-staging', { identityUpstreamOidcTokenUrl: '' }, /nkp:identityUpstreamOidcTokenUrl is required when nkp:identityUpstream is oidc/],
        ['upstream LDAP incomplete', 'aws-prod', { identityUpstreamLdapUsersDn: '' }, /nkp:identityUpstreamLdapUsersDn is required when nkp:identityUpstream is ldap/],
        ['realm master', 'local', { identityRealm: 'master' }, /nkp:identityRealm = "master" is a reserved value; allowed: Keycloak realm of the platform, a lower-case DNS label, not master/],
        ['exporter without endpoint', 'local', { otelExporter: 'otlp' }, /nkp:otelEndpoint is required when nkp:otelExporter is otlp/],
        ['https gitops without user', 'hetzner', { gitopsUsername: '' }, /nkp:gitopsUsername is required when nkp:gitopsAuth is https/],
        ['ssh gitops with https URL', 'aws-prod', { gitopsRepoUrl: 'https://github.com/x/y.git' }, /nkp:gitopsRepoUrl must be an ssh:\/\/ or git@host:path URL/],
        ['local without kubeconfig', 'local', { localKubeconfigPath: '' }, /nkp:localKubeconfigPath is required with nkp:cloudProvider local/],
        ['cloud component rule (Hetzner label syntax)', 'hetzner', { costCentre: 'cc 4711!' }, /^nkp:costCentre: HetznerCloud: invalid tags\.costCentre: label value "cc 4711!" is not allowed/],
        ['identity through an untrusted certificate', 'aws-staging', { identityEnabled: true, tlsIssuer: 'letsencrypt-staging' }, /nkp:keycloakAdminUrl is required when nkp:identityEnabled is true and nkp:tlsIssuer is letsencrypt-staging/],
        ['misspelt key', 'local', { domian: 'x.example.com' }, /^nkp:domian is not a setting of this program; did you mean nkp:domain\?/],
        ['unknown key far from any', 'local', { somethingElseEntirely: 'x' }, /^nkp:somethingElseEntirely is not a setting of this program \(known keys/],
        ['viewer repeats admin', 'local', { clusterViewerGroups: ['admins'] }, /nkp:clusterViewerGroups must not repeat admin groups \(admins\)/],
        ['DNS records on a local cluster', 'local', { dnsProvider: 'route53', dnsZoneId: 'Z0123456789ABCDEFGHIJ' }, /nkp:dnsProvider = "route53" is not allowed with nkp:cloudProvider local .*localtest\.me.*allowed: none/],
        ['a Cloudflare zone id with Route 53', 'hetzner', { dnsProvider: 'route53', dnsZoneId: '0123456789abcdef0123456789abcdef' }, /nkp:dnsZoneId = "0123456789abcdef0123456789abcdef" is not a Route 53 hosted zone id/],
        ['a DNS provider without a zone', 'aws-staging', { dnsProvider: 'cloudflare', dnsZoneId: '' }, /nkp:dnsZoneId = "" is not a Cloudflare zone id \(32 hex characters\); it is required with nkp:dnsProvider cloudflare/],
        ['a zone without a DNS provider', 'hetzner', { dnsZoneId: 'Z0123456789ABCDEFGHIJ' }, /nkp:dnsZoneId only applies with nkp:dnsProvider route53 or cloudflare/],
    ];
    for (const [what, stack, overrides, expected] of cases) {
        it(`${what}`, () => {
            const ps = problems(stack, overrides);
            assert.ok(ps.some((p) => expected.test(p)), `expected ${expected} in:\n${ps.join('\n')}`);
        });
    }

    it('a loopback git daemon is a valid platform repository on the local cloud provider', () => {
        assert.deepEqual(problems('local', { platformRepoUrl: 'git://127.0.0.1:9418/nkp.git', gitopsRepoUrl: 'git://localhost:9418/gitops.git' }), []);
    });

    it('a missing secret names the key and how to set it', () => {
        const ps = problems('aws-prod', { identityEnabled: true }, (k) => k !== 'identityUpstreamLdapBindCredential');
        assert.deepEqual(ps, ['nkp:identityUpstreamLdapBindCredential (secret) is required: Password of the LDAP bind DN (needed once identityEnabled is true). Set it with: pulumi config set --secret identityUpstreamLdapBindCredential <value>']);
        assert.deepEqual(problems('aws-prod', {}, (k) => k !== 'identityUpstreamLdapBindCredential'), [], 'not needed before identity is managed');
    });

    it('collects every problem in one error instead of stopping at the first', () => {
        const { values } = readStackFile('aws-prod');
        const merged: Record<string, string | undefined> = { ...values, domain: 'BAD', awsNatGateways: 'both', owner: undefined, gitopsRevision: 'HEAD' };
        assert.throws(
            () => validateConfig((k) => merged[k], () => true),
            (e: unknown) => {
                assert.ok(e instanceof ConfigValidationError);
                assert.equal(e.problems.length, 4, e.message);
                assert.match(e.message, /^Invalid stack configuration \(4 problems\):/);
                for (const key of ['nkp:domain', 'nkp:awsNatGateways', 'nkp:owner', 'nkp:gitopsRevision']) assert.ok(e.message.includes(key), key);
                return true;
            },
        );
    });

    it('pinned git revisions: any semver tag or full commit SHA passes; HEAD, branches, ranges and wildcards do not', () => {
        const pinned = new RegExp(PINNED_GIT_REVISION);
        fc.assert(fc.property(fc.stringMatching(/^[0-9a-f]{40}$/), (sha) => pinned.test(sha)));
        fc.assert(fc.property(fc.tuple(fc.nat(50), fc.nat(50), fc.nat(50), fc.boolean()), ([a, b, c, v]) => pinned.test(`${v ? 'v' : ''}${a}.${b}.${c}`)));
        fc.assert(fc.property(fc.string(), fc.string(), (a, b) => !pinned.test(`${a}*${b}`)));
        for (const f of ['HEAD', 'main', 'Master', '1.x', '^1.0.0', '~2.0.0', 'v1..v2', '', 'release/1.2', 'abc1234']) assert.equal(pinned.test(f), false, f);
    });
});

describe('stack config: limits exist once (config schema and cloud planners agree)', () => {
    /** The schema-level verdict on one value: accepted, refused by the schema, or only refused later by the planner. */
    const verdict = (stack: string, overrides: Record<string, unknown>): 'ok' | 'schema' | 'planner' => {
        const ps = problems(stack, overrides);
        if (ps.length === 0) return 'ok';
        return ps.some((p) => /(AwsCloud|HetznerCloud): invalid/.test(p)) ? 'planner' : 'schema';
    };
    const group = (name: string, size: number) => ({ name, instanceTypes: ['m6i.large'], minSize: 0, maxSize: Math.max(1, size), desiredSize: size });

    it('AWS node-group names and sizes: the schema accepts exactly what AwsCloud accepts (property)', () => {
        fc.assert(fc.property(fc.integer({ min: 1, max: 45 }), fc.integer({ min: 0, max: 600 }), (len, size) => {
            const v = verdict('aws-staging', { awsNodeGroups: [group('g'.repeat(len), size)] });
            assert.notEqual(v, 'planner', `name length ${len}, size ${size}: the schema let through what the planner refuses`);
            assert.equal(v === 'ok', len <= 36 && size <= 450, `name length ${len}, size ${size}: ${v}`);
        }), { numRuns: 60 });
    });

    it('Hetzner pool names: the schema accepts exactly what HetznerCloud accepts (server names stay <= 63)', () => {
        for (const len of [1, 19, 20, 30]) {
            const v = verdict('hetzner', { hetznerWorkerPools: [{ name: 'p'.repeat(len), count: 1, serverType: 'cx42' }] });
            assert.notEqual(v, 'planner', `pool name length ${len}`);
            assert.equal(v === 'ok', len <= 19, `pool name length ${len}: ${v}`);
        }
    });

    it('admin principal ARNs: roles and users pass; STS sessions and other ARNs are refused by the schema, naming the key', () => {
        for (const arn of ['arn:aws:iam::123456789012:role/platform-admins', 'arn:aws:iam::123456789012:user/alice', 'arn:aws-us-gov:iam::123456789012:role/a/b']) {
            assert.equal(verdict('aws-prod', { awsAdminPrincipalArns: [arn] }), 'ok', arn);
        }
        for (const arn of ['arn:aws:sts::123456789012:assumed-role/admins/alice', 'arn:aws:iam::123456789012:group/admins', 'arn:aws:iam::123:role/x']) {
            const ps = problems('aws-prod', { awsAdminPrincipalArns: [arn] });
            assert.equal(verdict('aws-prod', { awsAdminPrincipalArns: [arn] }), 'schema', arn);
            assert.match(ps.join('\n'), /nkp:awsAdminPrincipalArns = .* has an invalid format at \/0; allowed: AWS: IAM role or user ARNs/);
        }
    });

    it('protectStatefulResources reaches both cloud components (default true)', () => {
        const aws = settingsForStack('aws-prod');
        const hz = settingsForStack('hetzner', { protectStatefulResources: false });
        assert.ok(aws.cloud.provider === 'aws' && aws.cloud.aws.protect === true);
        assert.ok(hz.cloud.provider === 'hetzner' && hz.cloud.hetzner.protect === false);
    });
});
