/* eslint-disable @typescript-eslint/no-explicit-any -- recorded inputs and parsed manifests are untyped */
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { isSecretMarker, outputIsSecret, outputValue, recordChildOptions, setupPulumiMocks, wholeStackOutputs, type RecordingMocks } from '../pulumi-mocks.js';
import {
    argocdClient,
    landingAdminClient,
    LANDING_ADMIN_CLIENT_ID,
    LANDING_ADMIN_CREDENTIALS_SECRET,
    LANDING_ADMIN_REALM_MANAGEMENT_ROLES,
    ldapFederation,
    ldapGroupMapper,
    mfaRequiredAction,
    operatorClient,
    OPERATOR_CREDENTIALS_SECRET,
    OPERATOR_REALM_MANAGEMENT_ROLES,
    realmGroups,
    type UpstreamSpec,
} from '../../../components/identity/spec.js';
import { parseAdminCredentials } from '../../../operator/src/keycloak/credentials.js';
import { KEYCLOAK_ADMIN_CREDENTIALS_DIR } from '../../../operator/src/config.js';
import { configFromEnv } from '../../../packs/landing/src/config.js';

const LDAP: Extract<UpstreamSpec, { type: 'ldap' }> = { type: 'ldap', url: 'ldaps://ad.corp.example.com:636', vendor: 'ad', bindDn: 'CN=svc,DC=corp', usersDn: 'OU=Users,DC=corp', groupsDn: 'OU=Groups,DC=corp' };
const OIDC: Extract<UpstreamSpec, { type: 'oidc' }> = { type: 'oidc', issuer: 'https://idp.example.com', authorizationUrl: 'https://idp.example.com/auth', tokenUrl: 'https://idp.example.com/token', jwksUrl: 'https://idp.example.com/jwks', clientId: 'kc' };

describe('identity: pure helpers', () => {
    it('realm groups are admins, developers, viewers plus extras, without duplicates', () => {
        assert.deepEqual(realmGroups(['analysts', 'admins', 'analysts']), ['admins', 'developers', 'viewers', 'analysts']);
    });

    it('the argocd client is confidential, standard flow only, redirects only to ArgoCD and never allows any origin', () => {
        const c = argocdClient('https://argocd.example.com/');
        assert.equal(c.clientId, 'argocd');
        assert.equal(c.accessType, 'CONFIDENTIAL');
        assert.equal(c.implicitFlowEnabled, false);
        assert.equal(c.directAccessGrantsEnabled, false);
        assert.deepEqual(c.validRedirectUris, ['https://argocd.example.com/auth/callback', 'https://argocd.example.com/pkce/verify']);
        assert.deepEqual(c.webOrigins, ['https://argocd.example.com']);
        assert.ok(![...c.webOrigins, ...c.validRedirectUris].some((u) => u.includes('*')));
        assert.throws(() => argocdClient('http://argocd.example.com'), /must be https/);
        assert.throws(() => argocdClient('https://argocd.example.com/x'), /no path/);
    });

    it('MFA: CONFIGURE_TOTP is a default action exactly when required', () => {
        assert.equal(mfaRequiredAction(true).defaultAction, true);
        assert.equal(mfaRequiredAction(false).defaultAction, false);
        assert.equal(mfaRequiredAction(true).alias, 'CONFIGURE_TOTP');
    });

    it('the operator client is confidential with a service account and no browser flow, redirect or origin', () => {
        const c = operatorClient();
        assert.equal(c.clientId, 'nkp-operator');
        assert.equal(c.accessType, 'CONFIDENTIAL');
        assert.equal(c.serviceAccountsEnabled, true);
        assert.equal(c.standardFlowEnabled, false);
        assert.equal(c.implicitFlowEnabled, false);
        assert.equal(c.directAccessGrantsEnabled, false);
        assert.deepEqual(c.validRedirectUris, []);
        assert.deepEqual(c.webOrigins, []);
    });

    it('the operator gets only manage-clients and manage-users of realm-management (no realm, events, IdP or impersonation rights)', () => {
        assert.deepEqual([...OPERATOR_REALM_MANAGEMENT_ROLES], ['manage-clients', 'manage-users']);
    });

    it('the credentials Secret is the one the operator Deployment mounts, in a format the operator parses', () => {
        const deployment = parseAllDocuments(readFileSync(join(import.meta.dirname, '..', '..', '..', 'operator', 'manifests', 'deployment.yaml'), 'utf8'))
            .map((d) => d.toJS())
            .find((d: any) => d?.kind === 'Deployment') as any;
        const pod = deployment.spec.template.spec;
        const volume = pod.volumes.find((v: any) => v.secret?.secretName === OPERATOR_CREDENTIALS_SECRET.name);
        assert.ok(volume, `the operator Deployment mounts Secret ${OPERATOR_CREDENTIALS_SECRET.name}`);
        const mount = pod.containers.flatMap((c: any) => c.volumeMounts ?? []).find((m: any) => m.name === volume.name);
        assert.equal(mount.mountPath, KEYCLOAK_ADMIN_CREDENTIALS_DIR, 'at the path the operator reads by default');
        const creds = parseAdminCredentials({ namespace: 'nkp-operator', name: OPERATOR_CREDENTIALS_SECRET.name }, { [OPERATOR_CREDENTIALS_SECRET.clientIdKey]: 'nkp-operator', [OPERATOR_CREDENTIALS_SECRET.clientSecretKey]: 's3cret' });
        assert.deepEqual(creds, { grant: 'client_credentials', clientId: 'nkp-operator', clientSecret: 's3cret' });
    });

    it('the landing admin client is confidential with a service account only: no standard flow, password grant, implicit flow, redirect or origin', () => {
        const c = landingAdminClient();
        assert.equal(c.clientId, 'nkp-landing-admin');
        assert.equal(c.clientId, LANDING_ADMIN_CLIENT_ID);
        assert.equal(c.accessType, 'CONFIDENTIAL');
        assert.equal(c.serviceAccountsEnabled, true);
        assert.equal(c.standardFlowEnabled, false);
        assert.equal(c.implicitFlowEnabled, false);
        assert.equal(c.directAccessGrantsEnabled, false);
        assert.deepEqual(c.validRedirectUris, []);
        assert.deepEqual(c.webOrigins, []);
    });

    it('the landing admin client gets manage-users of realm-management and nothing else', () => {
        assert.deepEqual([...LANDING_ADMIN_REALM_MANAGEMENT_ROLES], ['manage-users']);
    });

    it('the landing credentials Secret is the one the landing Deployment reads, and the landing config takes the client from it', () => {
        assert.deepEqual(LANDING_ADMIN_CREDENTIALS_SECRET, { name: 'landing-keycloak-admin', clientIdKey: 'client-id', clientSecretKey: 'client-secret' });
        const deployment = parseAllDocuments(readFileSync(join(import.meta.dirname, '..', '..', '..', 'packs', 'landing', 'manifests', 'deployment.yaml'), 'utf8'))
            .map((d) => d.toJS())
            .find((d: any) => d?.kind === 'Deployment') as any;
        const env = Object.fromEntries(deployment.spec.template.spec.containers.flatMap((c: any) => c.env ?? []).map((e: any) => [e.name, e.valueFrom?.secretKeyRef]));
        assert.deepEqual(env.KEYCLOAK_ADMIN_CLIENT_ID, { name: LANDING_ADMIN_CREDENTIALS_SECRET.name, key: LANDING_ADMIN_CREDENTIALS_SECRET.clientIdKey, optional: true });
        assert.deepEqual(env.KEYCLOAK_ADMIN_CLIENT_SECRET, { name: LANDING_ADMIN_CREDENTIALS_SECRET.name, key: LANDING_ADMIN_CREDENTIALS_SECRET.clientSecretKey, optional: true });
        // What the Secret's keys become in the landing service (the env the kubelet fills from it).
        const oidc = { OIDC_CLIENT_ID: 'landing', OIDC_CLIENT_SECRET: 'x', OIDC_ISSUER_URL: 'https://keycloak.example.com/realms/nebari', PUBLIC_URL: 'https://nkp.example.com' };
        const cfg = configFromEnv({ ...oidc, KEYCLOAK_ADMIN_CLIENT_ID: LANDING_ADMIN_CLIENT_ID, KEYCLOAK_ADMIN_CLIENT_SECRET: 's3cret' }, { staticDir: '/tmp' });
        assert.deepEqual(cfg.features.keycloakAdmin, { issuer: oidc.OIDC_ISSUER_URL, clientId: 'nkp-landing-admin', clientSecret: 's3cret' });
        assert.throws(() => configFromEnv({ ...oidc, KEYCLOAK_ADMIN_CLIENT_ID: LANDING_ADMIN_CLIENT_ID }, { staticDir: '/tmp' }), /KEYCLOAK_ADMIN_CLIENT_SECRET: required .*Secret landing-keycloak-admin/);
    });

    it('LDAP federation is read-only with the attribute names of the vendor', () => {
        const ad = ldapFederation(LDAP);
        assert.equal(ad.vendor, 'AD');
        assert.equal(ad.usernameLdapAttribute, 'sAMAccountName');
        assert.equal(ad.editMode, 'READ_ONLY');
        assert.equal(ad.startTls, false);
        const other = ldapFederation({ ...LDAP, vendor: 'other', url: 'ldap://ldap.example.com' });
        assert.equal(other.usernameLdapAttribute, 'uid');
        assert.equal(other.startTls, true, 'plain ldap:// is upgraded with StartTLS');
        assert.deepEqual(ldapGroupMapper(LDAP).groupObjectClasses, ['group']);
    });
});

describe('Identity component (Pulumi mocks)', () => {
    let mocks: RecordingMocks;
    let mod: typeof import('../../../components/identity/index.js');
    let pulumi: typeof import('@pulumi/pulumi');
    before(async () => {
        // Stand-in for the Keycloak provider's client lookup: the realm-management client's internal id.
        // Stand-ins for what Keycloak and random compute: each client's service-account user, a distinct secret per password.
        const outputs = (r: { type: string; name: string; inputs: Record<string, any> }) =>
            r.type === 'keycloak:openid/client:Client' ? { serviceAccountUserId: `sa-of-${r.inputs.clientId}` } : r.type === 'random:index/randomPassword:RandomPassword' ? { result: `stand-in-${r.name}` } : wholeStackOutputs(r);
        mocks = await setupPulumiMocks({ outputs, call: (c) => (c.token === 'keycloak:openid/getClient:getClient' ? { ...c.inputs, id: `uuid-of-${c.inputs.clientId}` } : undefined) });
        mod = await import('../../../components/identity/index.js');
        pulumi = await import('@pulumi/pulumi');
    });
    beforeEach(() => mocks.reset());

    function build(upstream: UpstreamSpec, upstreamSecret?: string, mfaRequired = true, opts?: import('@pulumi/pulumi').ComponentResourceOptions) {
        return new mod.Identity('id', {
            keycloakUrl: 'https://keycloak.example.com',
            adminUsername: 'admin',
            adminPassword: pulumi.secret('admin-pw'),
            realm: 'nebari',
            extraGroups: ['analysts'],
            mfaRequired,
            argocd: { url: 'https://argocd.example.com', clientSecret: pulumi.secret('argocd-client-secret') },
            upstream,
            ...(upstreamSecret !== undefined ? { upstreamSecret: pulumi.secret(upstreamSecret) } : {}),
        }, opts);
    }

    it('creates the realm, the groups, required MFA and the argocd client with a groups mapper through its own provider', async () => {
        build({ type: 'none' });
        await mocks.settle();
        const provider = mocks.one('pulumi:providers:keycloak');
        assert.equal(String(provider.plain.initialLogin), 'false', 'nothing contacts Keycloak before a resource needs it (provider config arrives as strings)');
        assert.ok(isSecretMarker(provider.inputs.password));
        assert.equal(mocks.one('keycloak:index/realm:Realm').plain.realm, 'nebari');
        assert.deepEqual(mocks.ofType('keycloak:index/group:Group').map((g) => g.plain.name), ['admins', 'developers', 'viewers', 'analysts']);
        const ra = mocks.one('keycloak:index/requiredAction:RequiredAction');
        assert.equal(ra.plain.alias, 'CONFIGURE_TOTP');
        assert.equal(ra.plain.defaultAction, true);
        const client = mocks.one('keycloak:openid/client:Client', 'id-argocd-client');
        assert.equal(client.plain.clientId, 'argocd');
        assert.equal(client.plain.accessType, 'CONFIDENTIAL');
        assert.ok(isSecretMarker(client.inputs.clientSecret), 'client secret stays a Pulumi secret');
        const mapper = mocks.one('keycloak:openid/groupMembershipProtocolMapper:GroupMembershipProtocolMapper');
        assert.equal(mapper.plain.claimName, 'groups');
        assert.equal(mapper.plain.fullPath, false);
        for (const r of mocks.resources.filter((x) => x.type.startsWith('keycloak:'))) assert.ok(r.provider?.includes('pulumi:providers:keycloak'), `${r.type} uses the component's provider`);
        assert.equal(mocks.ofType('keycloak:oidc/identityProvider:IdentityProvider').length, 0);
    });

    it('creates the operator client with exactly its realm-management roles and writes its credentials as a secret into the operator namespace', async () => {
        const id = build({ type: 'none' });
        await mocks.settle();
        const client = mocks.ofType('keycloak:openid/client:Client').find((c) => c.plain.clientId === 'nkp-operator')!;
        assert.equal(client.plain.serviceAccountsEnabled, true);
        assert.equal(client.plain.standardFlowEnabled, false);
        assert.ok(isSecretMarker(client.inputs.clientSecret), 'the client secret is a Pulumi secret');
        const lookup = mocks.calls.find((c) => c.token === 'keycloak:openid/getClient:getClient')!;
        assert.equal(lookup.inputs.clientId, 'realm-management');
        const roles = mocks.ofType('keycloak:openid/clientServiceAccountRole:ClientServiceAccountRole').filter((r) => r.plain.serviceAccountUserId === 'sa-of-nkp-operator');
        assert.deepEqual(roles.map((r) => r.plain.role).sort(), ['manage-clients', 'manage-users']);
        for (const r of roles) {
            assert.equal(r.plain.clientId, 'uuid-of-realm-management', 'roles of the realm-management client');
            assert.ok(r.provider?.includes('pulumi:providers:keycloak'));
        }
        const secret = mocks.one('kubernetes:core/v1:Secret', 'id-operator-credentials');
        assert.deepEqual(secret.plain.metadata, { name: 'keycloak-admin', namespace: 'nkp-operator', labels: { 'app.kubernetes.io/part-of': 'nkp', 'app.kubernetes.io/managed-by': 'pulumi' } });
        assert.deepEqual(Object.keys(secret.plain.stringData).sort(), ['client-id', 'client-secret']);
        assert.equal(secret.plain.stringData['client-id'], 'nkp-operator');
        assert.equal(secret.plain.stringData['client-secret'], client.plain.clientSecret, 'the operator gets the secret the Keycloak client has');
        assert.ok(isSecretMarker(secret.inputs.stringData) || isSecretMarker((secret.inputs.stringData as any)['client-secret']), 'the client secret reaches the Secret only as a Pulumi secret');
        const pw = mocks.one('random:index/randomPassword:RandomPassword', 'id-operator-client-secret');
        assert.ok(pw.plain.length >= 32);
        assert.equal(await outputValue(id.operatorCredentialsSecret), 'nkp-operator/keycloak-admin');
        assert.equal(await outputIsSecret(id.operatorClientId), false, 'the client id is not secret');
    });

    it('creates the landing admin client with manage-users only and writes its credentials as a secret where the landing page reads them', async () => {
        const id = build({ type: 'none' });
        await mocks.settle();
        const clients = mocks.ofType('keycloak:openid/client:Client');
        assert.deepEqual(clients.map((c) => c.plain.clientId).sort(), ['argocd', 'nkp-landing-admin', 'nkp-operator']);
        const client = clients.find((c) => c.plain.clientId === LANDING_ADMIN_CLIENT_ID)!;
        assert.equal(client.plain.realmId, mocks.one('keycloak:index/realm:Realm').name + '-id', 'in the platform realm (the realm of the landing page\'s issuer)');
        assert.equal(client.plain.accessType, 'CONFIDENTIAL');
        assert.equal(client.plain.serviceAccountsEnabled, true);
        assert.equal(client.plain.standardFlowEnabled, false);
        assert.equal(client.plain.directAccessGrantsEnabled, false);
        assert.equal(client.plain.implicitFlowEnabled, false);
        assert.deepEqual(client.plain.validRedirectUris, []);
        assert.deepEqual(client.plain.webOrigins, []);
        assert.ok(isSecretMarker(client.inputs.clientSecret), 'the client secret is a Pulumi secret');
        assert.ok(client.provider?.includes('pulumi:providers:keycloak'));
        // Exactly one role on its service account: realm-management's manage-users.
        const roles = mocks.ofType('keycloak:openid/clientServiceAccountRole:ClientServiceAccountRole').filter((r) => r.plain.serviceAccountUserId === `sa-of-${LANDING_ADMIN_CLIENT_ID}`);
        assert.deepEqual(roles.map((r) => [r.plain.role, r.plain.clientId]), [['manage-users', 'uuid-of-realm-management']]);
        assert.equal(mocks.ofType('keycloak:openid/clientServiceAccountRole:ClientServiceAccountRole').length, 3, 'operator: 2, landing: 1, nothing else');
        const secret = mocks.ofType('kubernetes:core/v1:Secret').find((s) => s.plain.metadata.name === LANDING_ADMIN_CREDENTIALS_SECRET.name)!;
        assert.ok(secret, `a Secret named ${LANDING_ADMIN_CREDENTIALS_SECRET.name}`);
        assert.deepEqual(secret.plain.metadata, { name: 'landing-keycloak-admin', namespace: 'nkp-landing', labels: { 'app.kubernetes.io/part-of': 'nkp', 'app.kubernetes.io/managed-by': 'pulumi' } });
        assert.equal(secret.plain.type, 'Opaque');
        assert.deepEqual(secret.plain.stringData, { 'client-id': 'nkp-landing-admin', 'client-secret': 'stand-in-id-landing-admin-client-secret' });
        assert.equal(client.plain.clientSecret, 'stand-in-id-landing-admin-client-secret', 'the Secret carries the secret the Keycloak client has (its own, not the operator\'s)');
        assert.ok(isSecretMarker(secret.inputs.stringData) || isSecretMarker((secret.inputs.stringData as any)['client-secret']), 'the client secret reaches the Secret only as a Pulumi secret');
        assert.ok(mocks.one('random:index/randomPassword:RandomPassword', 'id-landing-admin-client-secret').plain.length >= 32);
        assert.equal(await outputValue(id.landingAdminCredentialsSecret), 'nkp-landing/landing-keycloak-admin');
        assert.equal(await outputValue(id.landingAdminClientId), 'nkp-landing-admin');
        assert.equal(await outputIsSecret(id.landingAdminClientId), false, 'the client id is not secret');
        assert.equal(await outputIsSecret(id.landingAdminCredentialsSecret), false, 'the Secret\'s name is not secret');
        assert.ok(!JSON.stringify(await Promise.all([id.landingAdminClientId, id.landingAdminCredentialsSecret, id.operatorClientId].map((o) => outputValue(o)))).includes('stand-in-'), 'no secret value in the plain outputs');
    });

    it('the landing Secret is written before the operator\'s credentials (a landing pod, which waits for the OIDC Secret the operator provisions, never starts without it)', async () => {
        const rec = recordChildOptions();
        build({ type: 'none' }, undefined, true, { transformations: [rec.transformation] });
        await mocks.settle();
        const dependsOn = rec.of('kubernetes:core/v1:Secret', 'id-operator-credentials').dependsOn as { __name?: string }[];
        assert.deepEqual(dependsOn.map((r) => r.__name), ['id-landing-admin-credentials']);
        assert.deepEqual(rec.of('kubernetes:core/v1:Secret', 'id-landing-admin-credentials').dependsOn, []);
    });

    it('an OIDC upstream adds an identity provider with a secret client secret', async () => {
        build(OIDC, 'upstream-secret');
        await mocks.settle();
        const idp = mocks.one('keycloak:oidc/identityProvider:IdentityProvider');
        assert.equal(idp.plain.tokenUrl, OIDC.tokenUrl);
        assert.equal(idp.plain.validateSignature, true);
        assert.ok(isSecretMarker(idp.inputs.clientSecret));
    });

    it('an LDAP/AD upstream adds a read-only federation with a secret bind credential and a group mapper', async () => {
        build(LDAP, 'bind-pw');
        await mocks.settle();
        const fed = mocks.one('keycloak:ldap/userFederation:UserFederation');
        assert.equal(fed.plain.editMode, 'READ_ONLY');
        assert.ok(isSecretMarker(fed.inputs.bindCredential));
        assert.equal(mocks.one('keycloak:ldap/groupMapper:GroupMapper').plain.ldapGroupsDn, LDAP.groupsDn);
    });

    it('refuses an upstream without its secret', () => {
        assert.throws(() => build(LDAP), /upstream ldap needs upstreamSecret/);
    });
});
