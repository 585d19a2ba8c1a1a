// Keycloak provisioning with EXACTLY the permissions of operator/manifests/rbac.yaml (its ClusterRole, bound here to
// a client-certificate user instead of the ServiceAccount; leader election off, so the Lease Role is not involved)
// against a real kube-apiserver with RBAC on, and a real Keycloak: the operator creates the client, the
// `<name>-oidc-client` Secret and the Role + RoleBinding that let only the app's ServiceAccount read it, removes
// them when auth is switched off, and never gets a 403. The API server's escalation prevention is real here: a user
// with the same ClusterRole minus `get` on Secrets cannot create that Role, which is why the ClusterRole holds it.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { sharedControlPlane, type ControlPlane } from '../../harness/control-plane.js';
import { sharedKeycloak, type KeycloakInstance } from '../../harness/keycloak.js';
import type { NebariApp } from '../../../operator/src/api/types.js';
import { createKeycloakAuthProvisioner, desiredSecretReaderBinding, desiredSecretReaderRole } from '../../../operator/src/keycloak/index.js';
import { Operator } from '../../../operator/src/reconciler-controller.js';
import { NEBARIAPP, ROLE, ROLEBINDING, SECRET } from '../../../operator/src/reconciler-resources.js';
import { ApiError, KubeClient, type KubeObject, type ResourceType } from '../../../operator/src/runtime/kube.js';
import { silentLogger } from '../../../operator/src/runtime/logger.js';
import { OperatorMetrics } from '../../../operator/src/runtime/metrics.js';
import { adminClient, applyApp, createSecret, createService, ensureNamespace, eventually, getApp, testSettings, uniqueName, waitForReason } from '../operator/helpers.js';
import { createRealm, masterAdmin } from './oidc-helpers.js';

const rbacFile = join(import.meta.dirname, '..', '..', '..', 'operator', 'manifests', 'rbac.yaml');
const CLUSTERROLE: ResourceType = { group: 'rbac.authorization.k8s.io', version: 'v1', plural: 'clusterroles', kind: 'ClusterRole', namespaced: false };
const CLUSTERROLEBINDING: ResourceType = { group: 'rbac.authorization.k8s.io', version: 'v1', plural: 'clusterrolebindings', kind: 'ClusterRoleBinding', namespaced: false };

interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
}

function manifestClusterRoleRules(): Rule[] {
  const docs = parseAllDocuments(readFileSync(rbacFile, 'utf8')).map((d) => d.toJSON() as KubeObject & { rules?: Rule[] });
  return docs.find((d) => d.kind === 'ClusterRole')!.rules!;
}

/** A ClusterRole with `rules` under `name`, bound to client-certificate user `user`. */
async function grant(c: KubeClient, name: string, user: string, rules: Rule[]): Promise<void> {
  await c.apply(CLUSTERROLE, { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name }, rules } as KubeObject, 'nkp-test');
  await c.apply(
    CLUSTERROLEBINDING,
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name },
      subjects: [{ kind: 'User', name: user, apiGroup: 'rbac.authorization.k8s.io' }],
    } as KubeObject,
    'nkp-test',
  );
}

async function statusOf(p: Promise<unknown>): Promise<number> {
  try {
    await p;
    return 200;
  } catch (err) {
    if (err instanceof ApiError) return err.statusCode;
    throw err;
  }
}

describe('operator + Keycloak (integration): the manifest RBAC suffices for client provisioning, no more', function () {
  this.timeout(300_000);
  let cp: ControlPlane;
  let kc: KeycloakInstance;
  let c: KubeClient;
  let scratch: string;
  const cleanup: string[] = [];

  before(async function () {
    [cp, kc] = await Promise.all([sharedControlPlane(), sharedKeycloak()]);
    c = adminClient(cp);
    scratch = mkdtempSync(join(tmpdir(), 'nkp-kc-rbac-'));
  });
  after(async () => {
    for (const name of cleanup) {
      await c.delete(CLUSTERROLEBINDING, undefined, name).catch(() => undefined);
      await c.delete(CLUSTERROLE, undefined, name).catch(() => undefined);
    }
    rmSync(scratch, { recursive: true, force: true });
    await c?.close();
  });

  it('without get on Secrets the API server refuses the reader Role and its binding (escalation prevention)', async () => {
    const suffix = uniqueName('kc-rbac-noget');
    const ns = `${suffix}-app`;
    await ensureNamespace(c, ns, true);
    const rules = manifestClusterRoleRules().map((r) => (r.resources.includes('secrets') ? { ...r, verbs: r.verbs.filter((v) => v !== 'get') } : r));
    await grant(c, suffix, suffix, rules);
    cleanup.push(suffix);
    const app = { apiVersion: 'reconcilers.nebari.dev/v1', kind: 'NebariApp', metadata: { name: 'lab', namespace: ns }, spec: { hostname: 'lab.example.test', service: { name: 'lab', port: 8080 } } } as NebariApp;
    const u = new KubeClient(await cp.userKubeConfig(suffix));
    try {
      const role = u.apply(ROLE, desiredSecretReaderRole(app) as unknown as KubeObject, 'nebari-operator');
      await assert.rejects(role, (err: unknown) => err instanceof ApiError && err.statusCode === 403 && /attempting to grant RBAC permissions not currently held/.test(err.message));
      // the admin creates the Role; binding it still needs the permissions it grants (or bind, which we never give)
      await c.apply(ROLE, desiredSecretReaderRole(app) as unknown as KubeObject, 'nkp-test');
      const binding = u.apply(ROLEBINDING, desiredSecretReaderBinding(app) as unknown as KubeObject, 'nebari-operator');
      await assert.rejects(binding, (err: unknown) => err instanceof ApiError && err.statusCode === 403);
    } finally {
      await u.close();
    }
  });

  it('with the manifest ClusterRole: client, Secret, reader Role + RoleBinding provisioned and removed, no 403; only the app ServiceAccount reads its Secret', async () => {
    const suffix = uniqueName('kc-rbac');
    const ns = `${suffix}-app`;
    const realm = suffix;
    await createRealm(kc, realm, []);
    const issuer = `${kc.baseUrl}/realms/${realm}`;
    await ensureNamespace(c, ns, true);
    await createService(c, ns, 'lab', 8080);
    await createSecret(c, ns, 'unrelated', { token: 'not-for-the-app' });
    await grant(c, suffix, suffix, manifestClusterRoleRules());
    cleanup.push(suffix);
    // the mounted admin credentials Secret (a directory of key files, as the kubelet mounts it)
    const creds = join(scratch, suffix);
    mkdirSync(creds);
    writeFileSync(join(creds, 'username'), kc.adminUsername, { mode: 0o600 });
    writeFileSync(join(creds, 'password'), kc.adminPassword, { mode: 0o600 });

    const settings = testSettings({ WATCH_NAMESPACES: ns, OIDC_ISSUER_URL: issuer, KEYCLOAK_URL: kc.baseUrl, KEYCLOAK_REALM: realm, KEYCLOAK_ADMIN_CREDENTIALS_FILE: creds });
    const metrics = new OperatorMetrics();
    const op = new Operator({
      settings,
      kubeConfig: await cp.userKubeConfig(suffix),
      metrics,
      log: silentLogger,
      provisioner: createKeycloakAuthProvisioner(settings.keycloak!, settings.issuerURL),
      serveHttp: false,
    });
    const sa = new KubeClient(await cp.userKubeConfig(`system:serviceaccount:${ns}:lab-sa`, ['system:serviceaccounts', `system:serviceaccounts:${ns}`]));
    const otherSa = new KubeClient(await cp.userKubeConfig(`system:serviceaccount:${ns}:default`, ['system:serviceaccounts', `system:serviceaccounts:${ns}`]));
    try {
      await op.start();
      await applyApp(c, ns, 'lab', { hostname: `lab.${ns}.example.test`, service: { name: 'lab', port: 8080 }, serviceAccountName: 'lab-sa', auth: { enabled: true, groups: ['lab-users'] } });
      await waitForReason(c, ns, 'lab', 'AuthReady', 'RoutingDisabled', 'True', 90_000);
      const secret = await c.get<KubeObject & { data?: Record<string, string> }>(SECRET, ns, 'lab-oidc-client');
      assert.deepEqual(Object.keys(secret?.data ?? {}).sort(), ['client-id', 'client-secret', 'issuer-url']);
      assert.ok(await c.get(ROLE, ns, 'lab-oidc-client-reader'));
      assert.ok(await c.get(ROLEBINDING, ns, 'lab-oidc-client-reader'));
      const admin = await masterAdmin(kc);
      assert.equal((await admin.clients.find({ realm, clientId: `${ns}-lab` })).length, 1);

      // the app's ServiceAccount reads exactly its Secret; nothing else, and nobody else reads it
      assert.equal(await statusOf(sa.get(SECRET, ns, 'lab-oidc-client')), 200);
      assert.equal(await statusOf(sa.get(SECRET, ns, 'unrelated')), 403);
      assert.equal(await statusOf(sa.list(SECRET, ns)), 403);
      assert.equal(await statusOf(otherSa.get(SECRET, ns, 'lab-oidc-client')), 403);

      // auth switched off: the operator deletes the Secret, Role and RoleBinding, and the client in Keycloak
      await applyApp(c, ns, 'lab', { hostname: `lab.${ns}.example.test`, service: { name: 'lab', port: 8080 }, serviceAccountName: 'lab-sa' });
      await eventually(
        'Secret, Role and RoleBinding removed',
        async () =>
          (await c.get(SECRET, ns, 'lab-oidc-client')) === undefined &&
          (await c.get(ROLE, ns, 'lab-oidc-client-reader')) === undefined &&
          (await c.get(ROLEBINDING, ns, 'lab-oidc-client-reader')) === undefined,
        60_000,
      );
      assert.deepEqual(await admin.clients.find({ realm, clientId: `${ns}-lab` }), []);

      // on again, then deleted: the finalizer removes the client; the Secret goes with its owner
      await applyApp(c, ns, 'lab', { hostname: `lab.${ns}.example.test`, service: { name: 'lab', port: 8080 }, serviceAccountName: 'lab-sa', auth: { enabled: true } });
      await waitForReason(c, ns, 'lab', 'AuthReady', 'RoutingDisabled', 'True', 90_000);
      await c.delete(NEBARIAPP, ns, 'lab');
      await eventually('the NebariApp gone', async () => (await getApp(c, ns, 'lab')) === undefined, 60_000);
      assert.deepEqual(await admin.clients.find({ realm, clientId: `${ns}-lab` }), []);

      const text = await metrics.registry.metrics();
      const forbidden = text.split('\n').filter((l) => l.startsWith('nebari_operator_api_requests_total') && l.includes('code="403"'));
      assert.deepEqual(forbidden, [], 'no request of the operator was forbidden');
      assert.match(text, /nebari_operator_api_requests_total\{[^}]*resource="roles"[^}]*\} [1-9]/, 'the operator itself wrote the Role');
    } finally {
      await op.stop();
      await sa.close();
      await otherSa.close();
    }
  });
});
