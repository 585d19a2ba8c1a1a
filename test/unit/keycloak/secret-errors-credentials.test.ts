import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NebariApp } from '../../../operator/src/api/types.js';
import {
  AdminCredentialSource,
  KeycloakError,
  canSkipProvisioning,
  classifyKeycloakError,
  decodeSecretData,
  desiredOidcObjects,
  desiredOidcSecret,
  mountedSecretReader,
  parseAdminCredentials,
  parseCredentialsFile,
  type RawSecret,
} from '../../../operator/src/keycloak/index.js';

function app(extra: Partial<NebariApp['spec']> = {}, meta: Partial<NebariApp['metadata']> = {}, status?: NebariApp['status']): NebariApp {
  return {
    apiVersion: 'reconcilers.nebari.dev/v1',
    kind: 'NebariApp',
    metadata: { namespace: 'data', name: 'jupyter', uid: 'uid-1', ...meta },
    spec: { hostname: 'jupyter.example.com', service: { name: 'jupyter', port: 8888 }, auth: { enabled: true }, ...extra },
    ...(status ? { status } : {}),
  };
}

const creds = { clientId: 'data-jupyter', clientSecret: 'top-secret', issuerUrl: 'https://auth.example.com/realms/nebari' };

describe('OIDC Secret and its RBAC (pure)', function () {
  it('Secret <name>-oidc-client with the contract keys, base64 data, owned by the NebariApp', function () {
    const s = desiredOidcSecret(app(), creds);
    assert.equal(s.metadata.name, 'jupyter-oidc-client');
    assert.equal(s.metadata.namespace, 'data');
    assert.deepEqual(Object.keys(s.data).sort(), ['client-id', 'client-secret', 'issuer-url']);
    assert.equal(Buffer.from(s.data['client-secret']!, 'base64').toString(), 'top-secret');
    assert.deepEqual(s.metadata.ownerReferences, [
      { apiVersion: 'reconcilers.nebari.dev/v1', kind: 'NebariApp', name: 'jupyter', uid: 'uid-1', controller: true, blockOwnerDeletion: true },
    ]);
    assert.equal(s.metadata.annotations['reconcilers.nebari.dev/owner'], 'data/jupyter');
    assert.equal(s.metadata.labels['app.kubernetes.io/managed-by'], 'nebari-operator');
    const both = desiredOidcSecret(app(), { ...creds, spaClientId: 'data-jupyter-spa', deviceClientId: 'data-jupyter-device' });
    assert.deepEqual(Object.keys(both.data).sort(), ['client-id', 'client-secret', 'device-client-id', 'issuer-url', 'spa-client-id']);
  });

  it('no owner reference without a uid (nothing to point at)', function () {
    assert.equal(desiredOidcSecret(app({}, { uid: undefined }), creds).metadata.ownerReferences, undefined);
  });

  it('Role grants get on that one Secret only; RoleBinding to serviceAccountName (default: the app name)', function () {
    const [, role, binding] = desiredOidcObjects(app(), creds);
    assert.deepEqual(role.rules, [{ apiGroups: [''], resources: ['secrets'], resourceNames: ['jupyter-oidc-client'], verbs: ['get'] }]);
    assert.deepEqual(binding.subjects, [{ kind: 'ServiceAccount', name: 'jupyter', namespace: 'data' }]);
    assert.deepEqual(binding.roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: role.metadata.name });
    const [, , b2] = desiredOidcObjects(app({ serviceAccountName: 'runner' }), creds);
    assert.equal(b2.subjects[0]!.name, 'runner');
  });

  it('the secret value appears only in the Secret data', function () {
    const [s, role, binding] = desiredOidcObjects(app(), creds);
    const b64 = Buffer.from('top-secret').toString('base64');
    assert.ok(!JSON.stringify({ ...s, data: {} }).includes('top-secret'));
    assert.ok(!JSON.stringify(role).includes(b64) && !JSON.stringify(binding).includes(b64));
  });
});

describe('Keycloak error classification', function () {
  const http = (status: number, data: unknown = {}) => Object.assign(new Error('x'), { response: { status }, responseData: data });

  it('HTTP statuses', function () {
    assert.equal(classifyKeycloakError(http(401), 'op').kind, 'unauthorized');
    assert.equal(classifyKeycloakError(http(403), 'op').reason, 'KeycloakUnauthorized');
    assert.equal(classifyKeycloakError(http(409, { errorMessage: 'Client a-b already exists' }), 'clients.create').kind, 'conflict');
    assert.equal(classifyKeycloakError(http(503), 'op').kind, 'unavailable');
    assert.equal(classifyKeycloakError(http(502), 'op').retryable, true);
    assert.equal(classifyKeycloakError(http(400, { error: 'invalid_request' }), 'op').kind, 'invalid');
    const e = classifyKeycloakError(http(409, { errorMessage: 'Client a-b already exists' }), 'clients.create');
    assert.equal(e.message, 'clients.create: Keycloak answered HTTP 409 (Client a-b already exists)');
    assert.equal(e.reason, 'KeycloakClientConflict');
  });

  it('network failures and timeouts are "unavailable"', function () {
    const refused = new TypeError('fetch failed', { cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }) });
    const r = classifyKeycloakError(refused, 'clients.find');
    assert.equal(r.kind, 'unavailable');
    assert.equal(r.reason, 'KeycloakUnavailable');
    assert.equal(r.message, 'clients.find: Keycloak unreachable (ECONNREFUSED)');
    const timeout = Object.assign(new Error('The operation was aborted due to timeout'), { name: 'TimeoutError' });
    assert.equal(classifyKeycloakError(timeout, 'op').kind, 'unavailable');
    assert.equal(classifyKeycloakError(new TypeError('fetch failed'), 'op').kind, 'unavailable');
  });

  it('is idempotent and never copies a whole response body', function () {
    const e = new KeycloakError('conflict', 'x', 'y');
    assert.equal(classifyKeycloakError(e, 'other'), e);
    const long = classifyKeycloakError(http(400, { error: 'e', secretField: 'should-not-appear', errorMessage: 'm'.repeat(500) }), 'op');
    assert.ok(!long.message.includes('should-not-appear'));
    assert.ok(long.message.length < 260);
  });
});

describe('admin credentials', function () {
  const ref = { namespace: 'nebari-system', name: 'keycloak-admin' };

  it('parses username/password or client-id/client-secret and names what is missing', function () {
    assert.deepEqual(parseAdminCredentials(ref, { username: 'a', password: 'p' }), { grant: 'password', clientId: 'admin-cli', username: 'a', password: 'p' });
    assert.deepEqual(parseAdminCredentials(ref, { 'client-id': 'svc', 'client-secret': 's' }), { grant: 'client_credentials', clientId: 'svc', clientSecret: 's' });
    assert.throws(() => parseAdminCredentials(ref, { username: 'a' }), /nebari-system\/keycloak-admin: key password is missing or empty/);
    assert.throws(() => parseAdminCredentials(ref, { token: 'x' }), /has keys \[token\], needs either username \+ password, or client-id \+ client-secret/);
    try {
      parseAdminCredentials(ref, { password: 'hunter2' });
      assert.fail('should throw');
    } catch (err) {
      assert.ok(err instanceof KeycloakError);
      assert.ok(!err.message.includes('hunter2'));
    }
  });

  it('decodes data (base64) and stringData; parses key=value and JSON files', function () {
    assert.deepEqual(decodeSecretData({ data: { a: Buffer.from('x').toString('base64') }, stringData: { b: 'y' } }), { a: 'x', b: 'y' });
    assert.deepEqual(parseCredentialsFile('# admin\nusername = admin\n\npassword=p=q\n'), { username: 'admin', password: 'p=q' });
    assert.deepEqual(parseCredentialsFile('{"client-id":"svc","client-secret":"s","n":1}'), { 'client-id': 'svc', 'client-secret': 's' });
    assert.throws(() => parseCredentialsFile('just-a-password'), /line 1 is not key=value/);
  });

  it('caches for maxAge, re-reads on demand, and a new resourceVersion brings new credentials', async function () {
    let now = 0;
    let rv = '1';
    let password = 'p1';
    const read = async (): Promise<RawSecret> => ({ metadata: { resourceVersion: rv }, stringData: { username: 'admin', password } });
    const src = new AdminCredentialSource(ref, read, 1000, () => now);
    const a = await src.get();
    assert.equal(a.version, '1');
    now = 500;
    await src.get();
    assert.equal(src.reads, 1, 'cached within maxAge');
    rv = '2';
    password = 'p2';
    now = 1500;
    const b = await src.get();
    assert.equal(src.reads, 2);
    assert.equal(b.version, '2');
    assert.equal(b.credentials.grant === 'password' && b.credentials.password, 'p2');
    await src.get(true);
    assert.equal(src.reads, 3, 'fresh read on demand');
    const missing = new AdminCredentialSource(ref, async () => undefined);
    await assert.rejects(missing.get(), /admin credentials Secret nebari-system\/keycloak-admin not found/);
  });

  it('mountedSecretReader reads a Secret volume (one file per key, kubelet ..data swap) and notices rotation', async function () {
    const dir = mkdtempSync(join(tmpdir(), 'nkp-kc-mount-'));
    try {
      // the kubelet's layout: timestamped dir, ..data -> it, key files -> ..data/key
      const v1 = join(dir, '..2026_01_01_v1');
      mkdirSync(v1);
      writeFileSync(join(v1, 'username'), 'admin');
      writeFileSync(join(v1, 'password'), 'p1\n');
      symlinkSync('..2026_01_01_v1', join(dir, '..data'));
      symlinkSync('..data/username', join(dir, 'username'));
      symlinkSync('..data/password', join(dir, 'password'));
      const read = mountedSecretReader(dir);
      const s1 = await read({ namespace: 'x', name: 'y' });
      assert.deepEqual(s1?.stringData, { username: 'admin', password: 'p1' });
      const v2 = join(dir, '..2026_01_02_v2');
      mkdirSync(v2);
      writeFileSync(join(v2, 'username'), 'admin');
      writeFileSync(join(v2, 'password'), 'p2');
      symlinkSync('..2026_01_02_v2', join(dir, '..data_tmp'));
      renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
      const s2 = await read({ namespace: 'x', name: 'y' });
      assert.equal(s2?.stringData?.password, 'p2');
      assert.notEqual(s2?.metadata?.resourceVersion, s1?.metadata?.resourceVersion);
      assert.ok(!String(s2?.metadata?.resourceVersion).includes('p2'));
      assert.equal(await mountedSecretReader(join(dir, 'absent'))({ namespace: 'x', name: 'y' }), undefined);
      const file = join(dir, 'creds.env');
      writeFileSync(file, 'client-id=svc\nclient-secret=s\n');
      assert.deepEqual((await mountedSecretReader(file)({ namespace: 'x', name: 'y' }))?.stringData, { 'client-id': 'svc', 'client-secret': 's' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('canSkipProvisioning', function () {
  const hash = 'h1';
  const cond = (status: 'True' | 'False', reason: string) => ({ type: 'AuthReady', status, reason, message: '', lastTransitionTime: '2026-01-01T00:00:00Z' });
  const keys = ['client-id', 'client-secret', 'issuer-url'];

  it('skips while the hash matches, AuthReady is True and the Secret has its keys', function () {
    assert.equal(canSkipProvisioning(app({}, {}, { authConfigHash: hash, conditions: [cond('True', 'Available')] }), hash, keys), true);
  });

  it('does not skip on a different hash, a missing Secret key, the force annotation, or a provisioning failure', function () {
    const ok = { authConfigHash: hash, conditions: [cond('True', 'Available')] };
    assert.equal(canSkipProvisioning(app({}, {}, ok), 'h2', keys), false);
    assert.equal(canSkipProvisioning(app({}, {}, ok), hash, ['client-id', 'client-secret']), false);
    assert.equal(canSkipProvisioning(app({}, {}, ok), hash, undefined), false);
    assert.equal(canSkipProvisioning(app({}, { annotations: { 'nebari.dev/force-reprovision': 'true' } }, ok), hash, keys), false);
    assert.equal(canSkipProvisioning(app({}, {}, { authConfigHash: hash, conditions: [cond('False', 'KeycloakUnavailable')] }), hash, keys), false);
    assert.equal(canSkipProvisioning(app({}, {}, { authConfigHash: hash, conditions: [cond('False', 'Failed')] }), hash, keys), false);
    assert.equal(canSkipProvisioning(app({}, {}, { authConfigHash: hash }), hash, keys), false);
  });

  it('skips when AuthReady is False for a reason Keycloak cannot fix (route waiting for its certificate)', function () {
    assert.equal(canSkipProvisioning(app({}, {}, { authConfigHash: hash, conditions: [cond('False', 'Reconciling')] }), hash, keys), true);
  });
});
