// The operator's own Keycloak client as the Identity component declares it (components/identity/spec.ts:
// operatorClient, OPERATOR_REALM_MANAGEMENT_ROLES, OPERATOR_CREDENTIALS_SECRET), set up in a real Keycloak, and the
// operator's real KeycloakProvisioner using exactly those credentials (client-credentials grant in the platform
// realm, as KEYCLOAK_ADMIN_REALM = KEYCLOAK_REALM in the foundation's patch). The Pulumi Keycloak provider plugin
// cannot run here: the client, its service account and the realm-management role mappings are created with the
// same Admin API calls that provider makes (stand-in for the provider, not for Keycloak).
//
// What it proves: the two roles suffice for everything the operator does (clients, secrets, mappers, client scopes
// for token exchange, groups with members, removal), each is necessary (negative controls drop one), and the
// account cannot change the realm or its identity providers.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type KcAdminClient from '@keycloak/keycloak-admin-client';
import { sharedKeycloak, type KeycloakInstance } from '../../harness/keycloak.js';
import { KeycloakError, KeycloakProvisioner } from '../../../operator/src/keycloak/index.js';
import { operatorClient, OPERATOR_CREDENTIALS_SECRET, OPERATOR_REALM_MANAGEMENT_ROLES, REALM_MANAGEMENT_CLIENT_ID } from '../../../components/identity/spec.js';
import { InMemorySecretStore, app, createRealm, masterAdmin, providerClientRepresentation, tokenRequest } from '../keycloak/oidc-helpers.js';

describe('platform (integration): the nkp-operator Keycloak client has exactly the rights the operator needs', function () {
    this.timeout(400_000);
    let kc: KeycloakInstance;
    let admin: KcAdminClient;
    let realm: string;

    before(async function () {
        kc = await sharedKeycloak();
        realm = `nkp-op-${randomBytes(4).toString('hex')}`;
        await createRealm(kc, realm, ['alice']);
        admin = await masterAdmin(kc);
    });

    /** The client of operatorClient() under `clientId`, its service account holding `roles` of realm-management; returns its secret. */
    async function serviceAccountClient(clientId: string, roles: readonly string[]): Promise<string> {
        await admin.auth({ grantType: 'password', clientId: 'admin-cli', username: kc.adminUsername, password: kc.adminPassword });
        const secret = randomBytes(24).toString('hex');
        const { id } = await admin.clients.create({ realm, ...providerClientRepresentation(operatorClient(), { secret }), clientId });
        const sa = await admin.clients.getServiceAccountUser({ realm, id });
        const [rm] = await admin.clients.find({ realm, clientId: REALM_MANAGEMENT_CLIENT_ID });
        const available = await admin.clients.listRoles({ realm, id: rm!.id! });
        const wanted = available.filter((r) => roles.includes(r.name!));
        assert.equal(wanted.length, roles.length, `realm-management has roles ${roles.join(', ')}`);
        await admin.users.addClientRoleMappings({ realm, id: sa.id!, clientUniqueId: rm!.id!, roles: wanted.map((r) => ({ id: r.id!, name: r.name! })) });
        return secret;
    }

    /** The operator's provisioner reading credentials in the format of the Secret Identity writes. */
    function provisioner(clientId: string, secret: string): KeycloakProvisioner {
        const store = new InMemorySecretStore({ [OPERATOR_CREDENTIALS_SECRET.clientIdKey]: clientId, [OPERATOR_CREDENTIALS_SECRET.clientSecretKey]: secret });
        return new KeycloakProvisioner({ url: kc.baseUrl, realm, adminRealm: realm, adminSecret: { namespace: 'nkp-operator', name: OPERATOR_CREDENTIALS_SECRET.name }, readSecret: store.read });
    }

    // Everything the provisioner can be asked to do: a client with mappers, groups with a member, token exchange
    // (an audience client scope offered to the other clients), then removal.
    const full = app('team', 'notebooks', {
        scopes: ['openid', 'profile', 'email', 'groups'],
        groups: ['nb-users'],
        tokenExchange: { enabled: true },
        keycloakConfig: {
            groups: [{ name: 'nb-users', members: ['alice'] }, { name: 'nb-admins' }],
            protocolMappers: [{ name: 'team', protocolMapper: 'oidc-hardcoded-claim-mapper', config: { 'claim.name': 'team', 'claim.value': 'nb', 'jsonType.label': 'String', 'access.token.claim': 'true' } }],
        },
    });
    const caller = app('team', 'chat', {});

    it('manage-clients + manage-users: clients, mappers, client scopes, groups with members and their removal all work', async function () {
        const p = provisioner('nkp-operator', await serviceAccountClient('nkp-operator', OPERATOR_REALM_MANAGEMENT_ROLES));
        const c = await p.ensureClients(caller);
        const r = await p.ensureClients(full);
        assert.equal(r.clientId, 'team-notebooks');
        assert.deepEqual(r.warnings, []);
        assert.equal(c.clientId, 'team-chat');
        await admin.auth({ grantType: 'password', clientId: 'admin-cli', username: kc.adminUsername, password: kc.adminPassword });
        const team = (await admin.groups.find({ realm, search: 'nb-users', exact: true }))[0]!;
        assert.deepEqual((await admin.groups.listMembers({ realm, id: team.id! })).map((m) => m.username), ['alice']);
        assert.ok((await admin.clients.find({ realm, clientId: 'team-chat' }))[0]!.optionalClientScopes!.some((s) => s.includes('team-notebooks')), 'the audience scope is offered to the other client');
        // Steady state and removal with the same rights.
        await p.ensureClients(full);
        const removed = await p.removeClients(full);
        assert.deepEqual(removed.removedClients, ['team-notebooks']);
        assert.deepEqual(removed.removedGroups.sort(), ['nb-admins', 'nb-users']);
        await p.removeClients(caller);
    });

    it('cannot change the realm, its identity providers or its users\' roles: no realm-level rights', async function () {
        const secret = await serviceAccountClient('nkp-operator-scope', OPERATOR_REALM_MANAGEMENT_ROLES);
        const tok = await tokenRequest(`${kc.baseUrl}/realms/${realm}`, { grant_type: 'client_credentials' }, { id: 'nkp-operator-scope', secret });
        assert.equal(tok.status, 200, JSON.stringify(tok.body));
        const call = (method: string, path: string, body?: unknown) =>
            fetch(`${kc.baseUrl}/admin/realms/${realm}${path}`, {
                method,
                headers: { authorization: `Bearer ${tok.body.access_token}`, 'content-type': 'application/json' },
                ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
            });
        assert.equal((await call('PUT', '', { registrationAllowed: true })).status, 403, 'realm settings');
        assert.equal((await call('POST', '/identity-provider/instances', { alias: 'evil', providerId: 'oidc', config: {} })).status, 403, 'identity providers');
        assert.equal((await call('GET', '/events')).status, 403, 'events');
        // manage-users does not let it hand out admin roles it does not hold (Keycloak's escalation check).
        await admin.auth({ grantType: 'password', clientId: 'admin-cli', username: kc.adminUsername, password: kc.adminPassword });
        const alice = (await admin.users.find({ realm, username: 'alice', exact: true }))[0]!;
        const [rm] = await admin.clients.find({ realm, clientId: REALM_MANAGEMENT_CLIENT_ID });
        const manageRealm = (await admin.clients.listRoles({ realm, id: rm!.id! })).find((r) => r.name === 'manage-realm')!;
        assert.equal((await call('POST', `/users/${alice.id}/role-mappings/clients/${rm!.id}`, [{ id: manageRealm.id, name: manageRealm.name }])).status, 403, 'granting manage-realm');
        assert.deepEqual((await admin.users.listClientRoleMappings({ realm, id: alice.id!, clientUniqueId: rm!.id! })).map((r) => r.name), []);
        // And it does reach what it needs (the same token lists clients), so the 403s are about rights, not the token.
        assert.equal((await call('GET', '/clients?max=1')).status, 200);
    });

    it('negative control: without manage-users, groups fail (the operator reports it as unauthorized)', async function () {
        const p = provisioner('nkp-op-no-users', await serviceAccountClient('nkp-op-no-users', ['manage-clients']));
        const groupsOnly = app('team', 'groups-only', { groups: ['g-only'], keycloakConfig: { groups: [{ name: 'g-only' }] } });
        await assert.rejects(p.ensureClients(groupsOnly), (err: unknown) => {
            assert.ok(err instanceof KeycloakError, String(err));
            assert.equal(err.kind, 'unauthorized');
            assert.match(err.operation, /^groups\./);
            return true;
        });
        await p.removeClients(groupsOnly).catch(() => undefined);
    });

    it('negative control: without manage-clients, clients fail', async function () {
        const p = provisioner('nkp-op-no-clients', await serviceAccountClient('nkp-op-no-clients', ['manage-users']));
        await assert.rejects(p.ensureClients(app('team', 'no-clients', {})), (err: unknown) => {
            assert.ok(err instanceof KeycloakError, String(err));
            assert.equal(err.kind, 'unauthorized');
            assert.match(err.operation, /^(clients|clientScopes)\./);
            return true;
        });
    });
});
