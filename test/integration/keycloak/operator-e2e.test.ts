// End to end: the operator (real reconciler, in-process) on the real control plane with the real Keycloak behind
// the KeycloakAuthProvisioner. The admin credentials are a real Kubernetes Secret read through the API.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { sharedControlPlane, type ControlPlane } from '../../harness/control-plane.js';
import { sharedKeycloak, type KeycloakInstance } from '../../harness/keycloak.js';
import { FORCE_REPROVISION_ANNOTATION, type NebariApp } from '../../../operator/src/api/types.js';
import { Operator } from '../../../operator/src/reconciler-controller.js';
import { NEBARIAPP, ROLE, ROLEBINDING, SECRET } from '../../../operator/src/reconciler-resources.js';
import type { KubeClient, KubeObject } from '../../../operator/src/runtime/kube.js';
import { silentLogger } from '../../../operator/src/runtime/logger.js';
import { OperatorMetrics } from '../../../operator/src/runtime/metrics.js';
import { createKeycloakAuthProvisioner, type KeycloakAuthProvisioner, type RawSecret } from '../../../operator/src/keycloak/index.js';
import {
  adminClient,
  applyApp,
  condition,
  createSecret,
  createService,
  ensureGateways,
  ensureNamespace,
  eventually,
  getApp,
  testSettings,
} from '../operator/helpers.js';
import { createRealm, loginForCode, masterAdmin, tokenRequest } from './oidc-helpers.js';

describe('operator + Keycloak end to end (real control plane, real Keycloak)', function () {
  this.timeout(600_000);
  let cp: ControlPlane;
  let kc: KeycloakInstance;
  let c: KubeClient;
  let op: Operator;
  let auth: KeycloakAuthProvisioner;
  let realm: string;
  let issuer: string;
  let passwords: Record<string, string>;
  const ns = `kc-e2e-${randomBytes(3).toString('hex')}`;
  const opNs = `kc-e2e-op-${randomBytes(3).toString('hex')}`;

  before(async function () {
    [cp, kc] = await Promise.all([sharedControlPlane(), sharedKeycloak()]);
    c = adminClient(cp);
    realm = `nkp-e2e-${randomBytes(3).toString('hex')}`;
    passwords = await createRealm(kc, realm, ['dana']);
    issuer = `${kc.baseUrl}/realms/${realm}`;
    await ensureGateways(c);
    await ensureNamespace(c, opNs, false);
    await ensureNamespace(c, ns, true);
    await createService(c, ns, 'lab');
    await createService(c, ns, 'other');
    await createSecret(c, opNs, 'keycloak-admin', { username: kc.adminUsername, password: kc.adminPassword });
    const readSecret = async (ref: { namespace: string; name: string }): Promise<RawSecret | undefined> =>
      (await c.get<KubeObject & RawSecret>(SECRET, ref.namespace, ref.name)) as RawSecret | undefined;
    auth = createKeycloakAuthProvisioner({ url: kc.baseUrl, realm, adminSecret: { namespace: opNs, name: 'keycloak-admin' } }, issuer, readSecret);
    await startOperator();
  });

  async function startOperator(): Promise<void> {
    const settings = testSettings({ OIDC_ISSUER_URL: issuer, POD_NAMESPACE: opNs });
    op = new Operator({ settings, kubeConfig: cp.kubeConfig(), metrics: new OperatorMetrics(), log: silentLogger, provisioner: auth, serveHttp: false });
    await op.start();
  }

  /**
   * The informer's lag, made certain: the operator stops handing out work, `change` is made and its cache takes it
   * (`inCache`), then its watches stop, so nothing later reaches the cache; `body` then runs reconciles by hand on that
   * cache against the real API server and Keycloak, as when a requeue or a child's event beats a watch event. A fresh
   * operator is started afterwards.
   */
  async function withCacheFrozenAfter(what: string, change: () => Promise<unknown>, inCache: () => boolean, body: () => Promise<void>): Promise<void> {
    op.queue.shutdown();
    try {
      await change();
      await eventually(`${what} in the operator's cache`, async () => inCache(), 20_000);
      await op.stop();
      await body();
    } finally {
      await op.stop();
      await startOperator();
    }
  }

  after(async function () {
    await op?.stop();
    await kc?.start();
  });

  const spec = (extra: Record<string, unknown> = {}) => ({
    hostname: 'lab.e2e.example.test',
    service: { name: 'lab', port: 8080 },
    auth: { enabled: true, groups: ['lab-users'], scopes: ['openid', 'profile', 'groups'], ...extra },
  });

  async function waitAuthReady(pred: (app: NebariApp) => boolean = () => true, timeoutMs = 60_000): Promise<NebariApp> {
    return eventually(
      'AuthReady=True',
      async () => {
        const app = await getApp(c, ns, 'lab');
        const cond = condition(app, 'AuthReady');
        return app && cond?.status === 'True' && app.status?.observedGeneration === app.metadata.generation && pred(app) ? app : undefined;
      },
      timeoutMs,
      200,
    );
  }

  async function secretValues(): Promise<Record<string, string>> {
    const s = await c.get<KubeObject & { data?: Record<string, string> }>(SECRET, ns, 'lab-oidc-client');
    assert.ok(s, 'the OIDC Secret exists');
    return Object.fromEntries(Object.entries(s.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]));
  }

  it('provisions the client and a working Secret; AuthReady=True with status.authConfigHash', async function () {
    await applyApp(c, ns, 'lab', spec());
    const app = await waitAuthReady((a) => !!a.status?.authConfigHash);
    assert.equal(app.status?.authConfigHash, auth.keycloak.configHash(app));
    const v = await secretValues();
    assert.equal(v['client-id'], `${ns}-lab`);
    assert.equal(v['issuer-url'], issuer);
    const secretObj = await c.get<KubeObject>(SECRET, ns, 'lab-oidc-client');
    assert.deepEqual(secretObj!.metadata.ownerReferences?.map((o) => [o.kind, o.name, o.controller]), [['NebariApp', 'lab', true]]);
    assert.ok(await c.get(ROLE, ns, 'lab-oidc-client-reader'));
    const rb = await c.get<KubeObject & { subjects: { name: string }[] }>(ROLEBINDING, ns, 'lab-oidc-client-reader');
    assert.deepEqual(rb!.subjects.map((s) => s.name), ['lab']);

    // The credentials from the real Secret sign a user in through Keycloak's login form.
    const redirectUri = 'https://lab.e2e.example.test/oauth2/callback';
    const login = await loginForCode(v['issuer-url']!, { clientId: v['client-id']!, redirectUri, username: 'dana', password: passwords.dana! });
    assert.ok(login.code, login.page);
    const tok = await tokenRequest(v['issuer-url']!, { grant_type: 'authorization_code', code: login.code!, redirect_uri: redirectUri }, { id: v['client-id']!, secret: v['client-secret']! });
    assert.equal(tok.status, 200);
    // The group of auth.groups exists in the realm.
    const admin = await masterAdmin(kc);
    assert.deepEqual((await admin.groups.find({ realm })).map((g) => g.name), ['lab-users']);
  });

  it('the hash skips needless work: reconciles without a spec change make no Keycloak call', async function () {
    const before = auth.keycloak.apiCalls;
    const skippedBefore = auth.skipped;
    // A label change makes the operator reconcile the app again (no generation change).
    await c.jsonPatch(NEBARIAPP, ns, 'lab', [{ op: 'add', path: '/metadata/labels', value: { touched: String(Date.now()) } }]);
    await eventually('a skipped provisioning', async () => auth.skipped > skippedBefore, 20_000);
    assert.equal(auth.keycloak.apiCalls, before, 'no Admin API call while the hash matches');
  });

  it('force-reprovision provisions once and the annotation is removed', async function () {
    const before = auth.provisioned;
    const secretBefore = (await secretValues())['client-secret'];
    await c.jsonPatch(NEBARIAPP, ns, 'lab', [{ op: 'add', path: '/metadata/annotations', value: { [FORCE_REPROVISION_ANNOTATION]: 'true' } }]);
    await eventually(
      'the annotation removed',
      async () => {
        const app = await getApp(c, ns, 'lab');
        return app && app.metadata.annotations?.[FORCE_REPROVISION_ANNOTATION] === undefined && auth.provisioned > before;
      },
      30_000,
    );
    assert.equal(auth.provisioned, before + 1, 'provisioned exactly once');
    assert.equal((await secretValues())['client-secret'], secretBefore, 'the client secret is stable');
  });

  it('a reconcile that runs before the watch brings the annotation\'s removal does not provision again', async function () {
    const before = auth.provisioned;
    const secretBefore = (await secretValues())['client-secret'];
    await withCacheFrozenAfter(
      'the annotation',
      () => c.jsonPatch(NEBARIAPP, ns, 'lab', [{ op: 'add', path: '/metadata/annotations', value: { [FORCE_REPROVISION_ANNOTATION]: 'true' } }]),
      () => op.cachedApp(ns, 'lab')?.metadata.annotations?.[FORCE_REPROVISION_ANNOTATION] === 'true',
      async () => {
        await op.reconciler.reconcile(`${ns}/lab`);
        assert.equal(auth.provisioned, before + 1, 'the first reconcile provisions');
        assert.equal((await getApp(c, ns, 'lab'))!.metadata.annotations?.[FORCE_REPROVISION_ANNOTATION], undefined, 'and removes the annotation');
        assert.equal(op.cachedApp(ns, 'lab')!.metadata.annotations?.[FORCE_REPROVISION_ANNOTATION], 'true', 'the cache still has it');
        await op.reconciler.reconcile(`${ns}/lab`);
        assert.equal(auth.provisioned, before + 1, 'the second reconcile knows its own removal: no second provisioning');
        assert.equal((await secretValues())['client-secret'], secretBefore, 'the client secret is stable');
      },
    );
  });

  it('changing scopes and groups updates the client and the hash', async function () {
    const old = (await getApp(c, ns, 'lab'))!.status!.authConfigHash;
    await applyApp(c, ns, 'lab', spec({ scopes: ['openid', 'email'], groups: ['lab-admins'] }));
    const app = await waitAuthReady((a) => a.status?.authConfigHash !== old);
    assert.equal(app.status?.authConfigHash, auth.keycloak.configHash(app));
    const admin = await masterAdmin(kc);
    const cl = (await admin.clients.find({ realm, clientId: `${ns}-lab` }))[0]!;
    assert.ok(cl.defaultClientScopes!.includes('email'));
    assert.ok(!cl.defaultClientScopes!.includes('groups'));
    assert.deepEqual((await admin.groups.find({ realm })).map((g) => g.name), ['lab-admins']);
  });

  it('Keycloak stopped mid-run: AuthReady=False saying so, other apps unaffected, then the app converges by itself', async function () {
    await applyApp(c, ns, 'other', { hostname: 'other.e2e.example.test', service: { name: 'other', port: 8080 }, auth: { enabled: true } });
    await eventually('other AuthReady', async () => condition(await getApp(c, ns, 'other'), 'AuthReady')?.status === 'True', 60_000);
    await kc.stop();
    await applyApp(c, ns, 'lab', spec({ scopes: ['openid', 'email'], groups: ['lab-admins', 'lab-ops'] }));
    const failing = await eventually(
      'AuthReady=False while Keycloak is down',
      async () => {
        const app = await getApp(c, ns, 'lab');
        const cond = condition(app, 'AuthReady');
        return cond?.status === 'False' && app?.status?.observedGeneration === app?.metadata.generation ? cond : undefined;
      },
      60_000,
    );
    assert.match(failing.message, /Keycloak unreachable/);
    assert.equal(failing.reason, 'KeycloakUnavailable');
    assert.ok(!failing.message.includes(kc.adminPassword));
    // The other app, unchanged, is not touched by the outage: still AuthReady=True (its hash matches, no Keycloak call).
    const otherApp = await getApp(c, ns, 'other');
    assert.equal(condition(otherApp, 'AuthReady')?.status, 'True');
    await c.jsonPatch(NEBARIAPP, ns, 'other', [{ op: 'add', path: '/metadata/labels', value: { during: 'outage' } }]);
    await new Promise((r) => setTimeout(r, 2000));
    assert.equal(condition(await getApp(c, ns, 'other'), 'AuthReady')?.status, 'True', 'a reconcile during the outage keeps it ready');
    await kc.start();
    // The reconciler retries external failures by itself (requeue); no touch from the test.
    await waitAuthReady(() => true, 120_000);
    const admin = await masterAdmin(kc);
    assert.deepEqual((await admin.groups.find({ realm })).map((g) => g.name).sort(), ['lab-admins', 'lab-ops']);
  });

  it('deleting the app deletes its clients, groups and the Secret', async function () {
    await c.delete(NEBARIAPP, ns, 'lab');
    await c.delete(NEBARIAPP, ns, 'other');
    await eventually('the NebariApps gone', async () => (await getApp(c, ns, 'lab')) === undefined && (await getApp(c, ns, 'other')) === undefined, 60_000);
    await eventually('the Secret gone', async () => (await c.get(SECRET, ns, 'lab-oidc-client')) === undefined, 60_000);
    const admin = await masterAdmin(kc);
    const clients = await admin.clients.find({ realm });
    assert.deepEqual(clients.filter((x) => x.attributes?.['nebari.dev/owner']).map((x) => x.clientId), []);
    assert.deepEqual((await admin.groups.find({ realm })).map((g) => g.name), []);
  });

  it('a reconcile that runs before the watch brings the deletion does not run the finalizer again', async function () {
    // the same certain lag, for the finalizer: its removal is the operator's own write too
    await applyApp(c, ns, 'gone', { hostname: 'gone.e2e.example.test', service: { name: 'lab', port: 8080 }, auth: { enabled: true } });
    await eventually('gone AuthReady', async () => condition(await getApp(c, ns, 'gone'), 'AuthReady')?.status === 'True', 60_000);
    await withCacheFrozenAfter(
      'the deletion',
      () => c.delete(NEBARIAPP, ns, 'gone'),
      () => op.cachedApp(ns, 'gone')?.metadata.deletionTimestamp !== undefined,
      async () => {
        const before = auth.keycloak.apiCalls;
        await op.reconciler.reconcile(`${ns}/gone`);
        assert.ok(auth.keycloak.apiCalls > before, 'the first reconcile removes the client from Keycloak');
        assert.equal(await getApp(c, ns, 'gone'), undefined, 'and lets the app go');
        assert.ok(op.cachedApp(ns, 'gone')?.metadata.finalizers?.length, 'the cache still has the finalizer');
        const calls = auth.keycloak.apiCalls;
        await op.reconciler.reconcile(`${ns}/gone`);
        assert.equal(auth.keycloak.apiCalls, calls, 'the second reconcile knows the finalizer is gone: no second removal');
      },
    );
  });
});
