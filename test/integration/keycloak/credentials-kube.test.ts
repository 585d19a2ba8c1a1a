// Admin credentials from a real Kubernetes Secret (real kube-apiserver of test/harness/control-plane.ts) against the
// real Keycloak: a rotated Secret (new resourceVersion) is picked up without restarting the provisioner; the OIDC
// Secret, Role and RoleBinding of secret.ts are accepted by the API server and only the app's ServiceAccount can read.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { CoreV1Api, RbacAuthorizationV1Api, AuthorizationV1Api, type V1Secret } from '@kubernetes/client-node';
import { sharedControlPlane, type ControlPlane } from '../../harness/control-plane.js';
import { sharedKeycloak, type KeycloakInstance } from '../../harness/keycloak.js';
import { KeycloakError, KeycloakProvisioner, desiredOidcObjects, type RawSecret, type SecretRef } from '../../../operator/src/keycloak/index.js';
import { app, createRealm, masterAdmin } from './oidc-helpers.js';

function isNotFound(err: unknown): boolean {
  return (err as { code?: number }).code === 404;
}

describe('keycloak admin credentials from a real Kubernetes Secret', function () {
  this.timeout(300_000);
  let cp: ControlPlane;
  let kc: KeycloakInstance;
  let core: CoreV1Api;
  let ns: string;
  let realm: string;

  before(async function () {
    [cp, kc] = await Promise.all([sharedControlPlane(), sharedKeycloak()]);
    core = cp.kubeConfig().makeApiClient(CoreV1Api);
    ns = `kc-cred-${randomBytes(3).toString('hex')}`;
    await core.createNamespace({ body: { metadata: { name: ns } } });
    realm = `nkp-cred-${randomBytes(3).toString('hex')}`;
    await createRealm(kc, realm, []);
  });

  after(async function () {
    await core.deleteNamespace({ name: ns }).catch(() => undefined);
  });

  const readSecret = async (ref: SecretRef): Promise<RawSecret | undefined> => {
    try {
      const s: V1Secret = await core.readNamespacedSecret({ namespace: ref.namespace, name: ref.name });
      return { metadata: { resourceVersion: s.metadata?.resourceVersion }, data: s.data };
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  };

  it('picks up a rotated Secret without a restart (resourceVersion change)', async function () {
    // A second master admin to rotate to.
    const admin = await masterAdmin(kc);
    const user2 = `ops-${randomBytes(3).toString('hex')}`;
    const pw2 = randomBytes(12).toString('base64url');
    const { id: uid } = await admin.users.create({
      realm: 'master',
      username: user2,
      enabled: true,
      email: `${user2}@example.test`,
      emailVerified: true,
      firstName: 'Ops',
      lastName: 'Admin',
      credentials: [{ type: 'password', value: pw2, temporary: false }],
    });
    const adminRole = await admin.roles.findOneByName({ realm: 'master', name: 'admin' });
    await admin.users.addRealmRoleMappings({ realm: 'master', id: uid, roles: [{ id: adminRole!.id!, name: 'admin' }] });

    const name = 'keycloak-admin';
    await core.createNamespacedSecret({
      namespace: ns,
      body: { metadata: { name }, stringData: { username: kc.adminUsername, password: kc.adminPassword } },
    });
    const p = new KeycloakProvisioner({
      url: kc.baseUrl,
      realm,
      adminSecret: { namespace: ns, name },
      readSecret,
      credentialsMaxAgeMs: 0,
    });
    const a = app('rot', 'one', {});
    await p.ensureClients(a);
    const tokens1 = p.calls.get('token') ?? 0;
    await p.ensureClients(a);
    assert.equal(p.calls.get('token') ?? 0, tokens1, 'same Secret version: the token is reused');

    // Rotate to the second admin with a wrong password first: the new version is used at once and refused.
    await core.replaceNamespacedSecret({
      namespace: ns,
      name,
      body: { metadata: { name }, stringData: { username: user2, password: 'wrong' } },
    });
    await assert.rejects(p.ensureClients(a), (err: unknown) => err instanceof KeycloakError && err.kind === 'unauthorized');
    await core.replaceNamespacedSecret({
      namespace: ns,
      name,
      body: { metadata: { name }, stringData: { username: user2, password: pw2 } },
    });
    const r = await p.ensureClients(a);
    assert.equal(r.clientId, 'rot-one');
    assert.ok((p.calls.get('token') ?? 0) >= tokens1 + 2);

    await p.removeClients(a);
    // The Secret deleted: a precise error naming it.
    await core.deleteNamespacedSecret({ namespace: ns, name });
    const q = new KeycloakProvisioner({ url: kc.baseUrl, realm, adminSecret: { namespace: ns, name }, readSecret });
    await assert.rejects(q.ensureClients(a), new RegExp(`admin credentials Secret ${ns}/${name} not found`));
    await admin.users.del({ realm: 'master', id: uid });
  });

  it('the OIDC Secret, Role and RoleBinding are valid objects and only serviceAccountName may read the Secret', async function () {
    const nebariApp = app(ns, 'lab', {}, { serviceAccountName: 'lab-runner' });
    // No uid: the owner reference needs a real NebariApp, which this test does not create.
    delete nebariApp.metadata.uid;
    const [secret, role, binding] = desiredOidcObjects(nebariApp, {
      clientId: `${ns}-lab`,
      clientSecret: 's3cr3t-value',
      issuerUrl: `${kc.baseUrl}/realms/${realm}`,
    });
    await core.createNamespacedSecret({ namespace: ns, body: secret });
    const rbac = cp.kubeConfig().makeApiClient(RbacAuthorizationV1Api);
    await rbac.createNamespacedRole({ namespace: ns, body: role });
    await rbac.createNamespacedRoleBinding({ namespace: ns, body: binding });
    const stored = await core.readNamespacedSecret({ namespace: ns, name: 'lab-oidc-client' });
    assert.deepEqual(Object.keys(stored.data ?? {}).sort(), ['client-id', 'client-secret', 'issuer-url']);
    assert.equal(Buffer.from(stored.data!['client-secret']!, 'base64').toString(), 's3cr3t-value');

    const authz = cp.kubeConfig().makeApiClient(AuthorizationV1Api);
    const can = async (user: string, verb: string, resourceName?: string): Promise<boolean> => {
      const r = await authz.createSubjectAccessReview({
        body: {
          spec: {
            user,
            groups: ['system:serviceaccounts', `system:serviceaccounts:${ns}`, 'system:authenticated'],
            resourceAttributes: { namespace: ns, verb, resource: 'secrets', ...(resourceName ? { name: resourceName } : {}) },
          },
        },
      });
      return r.status?.allowed === true;
    };
    assert.equal(await can(`system:serviceaccount:${ns}:lab-runner`, 'get', 'lab-oidc-client'), true);
    assert.equal(await can(`system:serviceaccount:${ns}:lab-runner`, 'get', 'other-secret'), false);
    assert.equal(await can(`system:serviceaccount:${ns}:lab-runner`, 'list'), false);
    assert.equal(await can(`system:serviceaccount:${ns}:lab`, 'get', 'lab-oidc-client'), false);
    assert.equal(await can(`system:serviceaccount:${ns}:default`, 'get', 'lab-oidc-client'), false);
  });
});
