// The landing page's Keycloak client as the Identity component declares it (components/identity/spec.ts:
// landingAdminClient, LANDING_ADMIN_REALM_MANAGEMENT_ROLES, LANDING_ADMIN_CREDENTIALS_SECRET), set up in a real
// Keycloak, and the landing page's real KeycloakAdmin (packs/landing/src/keycloak-admin.ts) using exactly those
// credentials, reached the way the pod reaches them: the Secret's keys -> the Deployment's env
// (packs/landing/manifests/deployment.yaml) -> configFromEnv. The Pulumi Keycloak provider plugin cannot run here:
// the client and its role mapping are created with the Admin API calls that provider makes (stand-in for the
// provider, not for Keycloak).
//
// What it proves: manage-users alone lets the landing page add a user to a group (an approval), the same token
// cannot create a client (403), the client has no password grant, and without the role an approval fails with a
// message naming the role (negative control: the role is necessary, and the test can fail).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type KcAdminClient from '@keycloak/keycloak-admin-client';
import { parseAllDocuments } from 'yaml';
import { sharedKeycloak, type KeycloakInstance } from '../../harness/keycloak.js';
import { landingAdminClient, LANDING_ADMIN_CREDENTIALS_SECRET, LANDING_ADMIN_REALM_MANAGEMENT_ROLES, REALM_MANAGEMENT_CLIENT_ID } from '../../../components/identity/spec.js';
import { configFromEnv } from '../../../packs/landing/src/config.js';
import { KeycloakAdmin, KeycloakAdminError } from '../../../packs/landing/src/keycloak-admin.js';
import { createRealm, createServiceAccountClient, masterAdmin, tokenRequest } from '../keycloak/oidc-helpers.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- parsed YAML
type Obj = Record<string, any>;

/** The landing container's env as the kubelet fills it from a Secret with `data` (only the Secret-backed entries). */
function landingEnvFromSecret(data: Record<string, string>): Record<string, string> {
    const deployment = parseAllDocuments(readFileSync(join(import.meta.dirname, '..', '..', '..', 'packs', 'landing', 'manifests', 'deployment.yaml'), 'utf8'))
        .map((d) => d.toJS() as Obj)
        .find((d) => d?.kind === 'Deployment')!;
    const env: Record<string, string> = {};
    for (const e of deployment.spec.template.spec.containers.flatMap((c: Obj) => c.env ?? []) as Obj[]) {
        const ref = e.valueFrom?.secretKeyRef;
        if (ref?.name === LANDING_ADMIN_CREDENTIALS_SECRET.name && data[ref.key] !== undefined) env[e.name] = data[ref.key]!;
    }
    return env;
}

describe('platform (integration): the nkp-landing-admin Keycloak client can approve access requests and nothing more', function () {
    this.timeout(400_000);
    let kc: KeycloakInstance;
    let admin: KcAdminClient;
    let realm: string;
    let issuer: string;
    let bob: { id: string; password: string };

    before(async function () {
        kc = await sharedKeycloak();
        realm = `nkp-landing-${randomBytes(4).toString('hex')}`;
        issuer = `${kc.baseUrl}/realms/${realm}`;
        const passwords = await createRealm(kc, realm, ['bob']);
        admin = await masterAdmin(kc);
        bob = { id: (await admin.users.find({ realm, username: 'bob', exact: true }))[0]!.id!, password: passwords.bob! };
        await admin.groups.create({ realm, name: 'data-team' });
    });

    /** The landing client of landingAdminClient() under `clientId` with `roles`, and the landing page's KeycloakAdmin built from its Secret. */
    async function landingClient(clientId: string, roles: readonly string[]): Promise<{ secret: string; kcAdmin: KeycloakAdmin }> {
        await admin.auth({ grantType: 'password', clientId: 'admin-cli', username: kc.adminUsername, password: kc.adminPassword });
        const secret = await createServiceAccountClient(admin, realm, { ...landingAdminClient(), clientId }, roles, REALM_MANAGEMENT_CLIENT_ID);
        // The Secret the Identity component writes, as the pod's env, through the landing page's own config parsing.
        const fromSecret = landingEnvFromSecret({ [LANDING_ADMIN_CREDENTIALS_SECRET.clientIdKey]: clientId, [LANDING_ADMIN_CREDENTIALS_SECRET.clientSecretKey]: secret });
        assert.deepEqual(Object.keys(fromSecret).sort(), ['KEYCLOAK_ADMIN_CLIENT_ID', 'KEYCLOAK_ADMIN_CLIENT_SECRET'], 'the Deployment takes both keys of the Secret');
        const cfg = configFromEnv({ OIDC_CLIENT_ID: 'landing', OIDC_CLIENT_SECRET: 'unused', OIDC_ISSUER_URL: issuer, PUBLIC_URL: 'https://nkp.example.test', ...fromSecret }, { staticDir: '/nonexistent' });
        assert.ok(cfg.features.keycloakAdmin, 'approvals are configured');
        assert.equal(cfg.features.keycloakAdmin.clientId, clientId);
        return { secret, kcAdmin: new KeycloakAdmin(cfg.features.keycloakAdmin) };
    }

    async function members(group: string): Promise<string[]> {
        await admin.auth({ grantType: 'password', clientId: 'admin-cli', username: kc.adminUsername, password: kc.adminPassword });
        const g = (await admin.groups.find({ realm, search: group, exact: true }))[0]!;
        return (await admin.groups.listMembers({ realm, id: g.id! })).map((m) => m.username!);
    }

    it('with the spec\'s client and manage-users: an approval adds the user to the group; the token cannot create a client (403)', async function () {
        const spec = landingAdminClient();
        const { secret, kcAdmin } = await landingClient(spec.clientId, LANDING_ADMIN_REALM_MANAGEMENT_ROLES);
        assert.deepEqual(await members('data-team'), []);
        await kcAdmin.addToGroup(bob.id, 'data-team');
        assert.deepEqual(await members('data-team'), ['bob']);
        await kcAdmin.addToGroup(bob.id, 'data-team'); // idempotent: a second approval changes nothing
        assert.deepEqual(await members('data-team'), ['bob']);
        await assert.rejects(kcAdmin.addToGroup(bob.id, 'no-such-group'), (e: unknown) => e instanceof KeycloakAdminError && e.status === 409);

        // A real client-credentials token of the same client, against the Admin API.
        const tok = await tokenRequest(issuer, { grant_type: 'client_credentials' }, { id: spec.clientId, secret });
        assert.equal(tok.status, 200, JSON.stringify(tok.body));
        const call = (method: string, path: string, body?: unknown) =>
            fetch(`${kc.baseUrl}/admin/realms/${realm}${path}`, {
                method,
                headers: { authorization: `Bearer ${tok.body.access_token}`, 'content-type': 'application/json' },
                ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
            });
        const created = await call('POST', '/clients', { clientId: 'landing-made-this', publicClient: true });
        assert.equal(created.status, 403, 'creating a client is refused');
        assert.equal((await call('PUT', '', { registrationAllowed: true })).status, 403, 'realm settings are refused');
        // The 403s are about rights, not a broken token: the same token reads users.
        assert.equal((await call('GET', '/users?max=1')).status, 200);
        await admin.auth({ grantType: 'password', clientId: 'admin-cli', username: kc.adminUsername, password: kc.adminPassword });
        assert.deepEqual(await admin.clients.find({ realm, clientId: 'landing-made-this' }), []);

        // Service account only: the client cannot sign a user in with a password.
        const pw = await tokenRequest(issuer, { grant_type: 'password', username: 'bob', password: bob.password }, { id: spec.clientId, secret });
        assert.equal(pw.status, 400, JSON.stringify(pw.body));
        assert.equal(pw.body.error, 'unauthorized_client');
    });

    it('negative control: the same client without manage-users cannot approve, and the error names the role', async function () {
        const { kcAdmin } = await landingClient(`nkp-landing-norole-${randomBytes(3).toString('hex')}`, []);
        await admin.groups.create({ realm, name: 'other-team' });
        await assert.rejects(kcAdmin.addToGroup(bob.id, 'other-team'), (e: unknown) => {
            assert.ok(e instanceof KeycloakAdminError, String(e));
            assert.equal(e.status, 403);
            assert.match(e.message, /needs realm-management manage-users/);
            return true;
        });
        assert.deepEqual(await members('other-team'), []);
    });
});
