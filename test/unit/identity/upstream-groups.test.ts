// Upstream identity providers: which upstream group puts a brokered user into which realm group
// (nkp:identityUpstreamGroupMappings -> Keycloak "Advanced Claim to Group" IdP mappers). Pure helpers, the stack
// config's validation, and the Identity component under Pulumi mocks (the Keycloak provider cannot run here; the
// behaviour in the real Keycloak is test/integration/keycloak/upstream-idp.test.ts).
import { strict as assert } from 'node:assert';
import { outputValue, recordChildOptions, setupPulumiMocks, wholeStackOutputs, type RecordingMocks } from '../pulumi-mocks.js';
import { realmGroups, UPSTREAM_IDP_ALIAS, upstreamGroupMappers } from '../../../components/identity/spec.js';
import { ConfigValidationError } from '../../../stacks/config.js';
import { settingsForStack } from '../../../stacks/stack-files.js';

const ENTRA_ADMINS = '22222222-2222-2222-2222-222222222222';

describe('upstream identity provider: group mappings', function () {
    this.timeout(60_000);

    it('one Advanced Claim to Group mapper per mapping: exact match on the claim, FORCE sync, the realm group by path, stable names', () => {
        const groups = realmGroups(['analysts']);
        const m = upstreamGroupMappers([{ upstream: ENTRA_ADMINS, group: 'admins' }, { upstream: 'Data Team', group: 'analysts' }], 'groups', groups);
        assert.equal(m.length, 2);
        assert.equal(m[0]!.identityProviderAlias, UPSTREAM_IDP_ALIAS);
        assert.equal(m[0]!.identityProviderMapper, 'oidc-advanced-group-idp-mapper');
        assert.deepEqual(m[0]!.extraConfig, { syncMode: 'FORCE', claims: JSON.stringify([{ key: 'groups', value: ENTRA_ADMINS }]), 'are.claim.values.regex': 'false', group: '/admins' });
        assert.match(m[1]!.name, /^analysts-[0-9a-f]{10}$/);
        const reordered = upstreamGroupMappers([{ upstream: 'Data Team', group: 'analysts' }, { upstream: ENTRA_ADMINS, group: 'admins' }], 'groups', groups);
        assert.deepEqual(reordered.map((x) => x.name).sort(), m.map((x) => x.name).sort(), 'names follow the mapping, not its position');
        assert.notEqual(upstreamGroupMappers([{ upstream: 'a', group: 'admins' }], 'groups', groups)[0]!.name, upstreamGroupMappers([{ upstream: 'b', group: 'admins' }], 'groups', groups)[0]!.name);
    });

    it('refuses a group the realm lacks, a duplicate, an empty upstream value and a bad claim, naming what is allowed', () => {
        const groups = realmGroups([]);
        assert.throws(() => upstreamGroupMappers([{ upstream: 'x', group: 'root' }], 'groups', groups), /group "root" is not a realm group; allowed: admins, developers, viewers/);
        assert.throws(() => upstreamGroupMappers([{ upstream: 'x', group: 'admins' }, { upstream: 'x', group: 'admins' }], 'groups', groups), /listed twice/);
        assert.throws(() => upstreamGroupMappers([{ upstream: ' ', group: 'admins' }], 'groups', groups), /upstream must be 1\.\.256 characters/);
        assert.throws(() => upstreamGroupMappers([], 'has space', groups), /not a claim name/);
    });

    it('stack config: the mappings reach the upstream spec; a mapping needs oidc and a realm group, named by key', () => {
        const s = settingsForStack('aws-staging');
        assert.equal(s.identity.upstream.type, 'oidc');
        if (s.identity.upstream.type !== 'oidc') return;
        assert.equal(s.identity.upstream.groupsClaim, 'groups');
        assert.deepEqual(s.identity.upstream.groupMappings.map((m) => m.group), ['admins', 'developers', 'viewers']);
        const bad = (stack: string, overrides: Record<string, unknown>, re: RegExp) =>
            assert.throws(() => settingsForStack(stack, overrides), (e: unknown) => e instanceof ConfigValidationError && re.test(e.message), JSON.stringify(overrides));
        bad('aws-staging', { identityUpstreamGroupMappings: [{ upstream: ENTRA_ADMINS, group: 'root' }] }, /nkp:identityUpstreamGroupMappings\[0\]\.group "root" is not a realm group; allowed: admins, developers, viewers/);
        bad('aws-prod', { identityUpstreamGroupMappings: [{ upstream: 'CN=NKP-Admins', group: 'admins' }] }, /nkp:identityUpstreamGroupMappings needs nkp:identityUpstream oidc \(now "ldap"\)/);
        bad('aws-staging', { identityUpstreamGroupMappings: [{ upstream: '', group: 'admins' }] }, /nkp:identityUpstreamGroupMappings/);
        bad('aws-staging', { identityUpstreamGroupMappings: [{ upstream: 'x', group: 'admins', role: 'y' }] }, /unknown field "role"/);
        assert.doesNotThrow(() => settingsForStack('aws-prod', { identityUpstream: 'oidc', identityUpstreamOidcIssuer: 'https://adfs.corp.example.com/adfs', identityUpstreamOidcAuthorizationUrl: 'https://adfs.corp.example.com/adfs/oauth2/authorize', identityUpstreamOidcTokenUrl: 'https://adfs.corp.example.com/adfs/oauth2/token', identityUpstreamOidcJwksUrl: 'https://adfs.corp.example.com/adfs/discovery/keys', identityUpstreamOidcClientId: 'nkp', identityUpstreamGroupMappings: [{ upstream: 'NKP-Analysts', group: 'analysts' }] }), 'an extra group of the stack is a realm group');
    });

    describe('Identity component under Pulumi mocks', () => {
        let mocks: RecordingMocks;
        let stackFiles: typeof import('../../../stacks/stack-files.js');
        let platform: typeof import('../../../stacks/platform.js');
        before(async () => {
            mocks = await setupPulumiMocks({ outputs: wholeStackOutputs, call: (c) => (c.token === 'keycloak:openid/getClient:getClient' ? { ...c.inputs, id: `uuid-of-${c.inputs.clientId}` } : undefined) });
            stackFiles = await import('../../../stacks/stack-files.js');
            platform = await import('../../../stacks/platform.js');
        });
        beforeEach(() => mocks.reset());

        it('aws-staging (Entra ID): the identity provider and one mapper per mapping on it, each after the realm groups exist', async () => {
            const cfg = stackFiles.platformConfigForStack('aws-staging', { identityEnabled: true });
            const p = platform.buildPlatform(cfg);
            await outputValue(p.foundation.applicationNames);
            await mocks.settle();
            const idp = mocks.one('keycloak:oidc/identityProvider:IdentityProvider');
            assert.equal(idp.plain.alias, UPSTREAM_IDP_ALIAS);
            const mappers = mocks.ofType('keycloak:index/customIdentityProviderMapping:CustomIdentityProviderMapping');
            assert.equal(mappers.length, 3);
            for (const m of mappers) {
                assert.equal(m.plain.identityProviderAlias, UPSTREAM_IDP_ALIAS);
                assert.equal(m.plain.identityProviderMapper, 'oidc-advanced-group-idp-mapper');
                assert.equal(m.plain.extraConfig.syncMode, 'FORCE');
                assert.ok(m.provider?.includes('pulumi:providers:keycloak'));
            }
            assert.deepEqual(mappers.map((m) => m.plain.extraConfig.group).sort(), ['/admins', '/developers', '/viewers']);
            assert.deepEqual(mappers.map((m) => JSON.parse(m.plain.extraConfig.claims)[0].value).sort(), ['22222222-2222-2222-2222-222222222222', '33333333-3333-3333-3333-333333333333', '44444444-4444-4444-4444-444444444444']);
        });

        it('each mapper depends on every realm group (a mapper naming a missing group fails in Keycloak)', async () => {
            const { Identity } = await import('../../../components/identity/index.js');
            const keycloak = await import('@pulumi/keycloak');
            const pulumi = await import('@pulumi/pulumi');
            const rec = recordChildOptions();
            new Identity('id', {
                keycloakUrl: 'https://keycloak.example.com', adminUsername: 'admin', adminPassword: pulumi.secret('pw'), realm: 'nebari', extraGroups: [], mfaRequired: true,
                argocd: { url: 'https://argocd.example.com', clientSecret: pulumi.secret('s') },
                upstream: { type: 'oidc', issuer: 'https://idp.example.com', authorizationUrl: 'https://idp.example.com/a', tokenUrl: 'https://idp.example.com/t', jwksUrl: 'https://idp.example.com/k', clientId: 'kc', groupMappings: [{ upstream: ENTRA_ADMINS, group: 'admins' }] },
                upstreamSecret: pulumi.secret('u'),
            }, { transformations: [rec.transformation] });
            await mocks.settle();
            const opts = rec.options.filter((o) => o.type === 'keycloak:index/customIdentityProviderMapping:CustomIdentityProviderMapping');
            assert.equal(opts.length, 1);
            const deps = opts[0]!.dependsOn as unknown[];
            assert.equal(deps.filter((d) => d instanceof keycloak.Group).length, 3, 'admins, developers, viewers');
            assert.throws(
                () => new Identity('id2', {
                    keycloakUrl: 'https://keycloak.example.com', adminUsername: 'admin', adminPassword: 'pw', realm: 'nebari', extraGroups: [], mfaRequired: true,
                    argocd: { url: 'https://argocd.example.com', clientSecret: 's' },
                    upstream: { type: 'oidc', issuer: 'https://idp.example.com', authorizationUrl: 'https://idp.example.com/a', tokenUrl: 'https://idp.example.com/t', jwksUrl: 'https://idp.example.com/k', clientId: 'kc', groupMappings: [{ upstream: 'x', group: 'analysts' }] },
                    upstreamSecret: 'u',
                }),
                /group "analysts" is not a realm group/,
            );
        });
    });
});
