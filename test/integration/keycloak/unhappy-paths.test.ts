// The operator's unhappy paths with the real Keycloak and the real API server (issue 13): an invalid app provisions
// nothing; a user's own `<name>-oidc-client` Secret is neither taken over nor deleted (and nothing is provisioned);
// removing a namespace's opt-in label keeps the clients and the Secret (same credentials after re-labelling) and
// asks Keycloak nothing; two apps whose `<namespace>-<name>` client ids coincide do not share a client; deleting
// apps while Keycloak is down waits with backoff and says so, and the escape annotation lets an app go, recording
// the orphaned client.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { sharedControlPlane, type ControlPlane } from '../../harness/control-plane.js';
import { sharedKeycloak, type KeycloakInstance } from '../../harness/keycloak.js';
import { KEYCLOAK_ORPHAN_ANNOTATION } from '../../../operator/src/api/types.js';
import { Operator } from '../../../operator/src/reconciler-controller.js';
import { NEBARIAPP, SECRET } from '../../../operator/src/reconciler-resources.js';
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
  waitForReason,
} from '../operator/helpers.js';
import { createRealm, masterAdmin } from './oidc-helpers.js';

type AnySecret = KubeObject & { data?: Record<string, string> };

describe('operator + Keycloak: unhappy paths (real control plane, real Keycloak)', function () {
  this.timeout(600_000);
  let cp: ControlPlane;
  let kc: KeycloakInstance;
  let c: KubeClient;
  let op: Operator;
  let auth: KeycloakAuthProvisioner;
  let realm: string;
  const p = `kc-un-${randomBytes(3).toString('hex')}`;
  const NS = { main: p, optin: `${p}-optin`, del: `${p}-del`, a: `${p}-a`, ab: `${p}-a-b`, op: `${p}-op` };

  before(async function () {
    [cp, kc] = await Promise.all([sharedControlPlane(), sharedKeycloak()]);
    c = adminClient(cp);
    realm = `nkp-un-${randomBytes(3).toString('hex')}`;
    await createRealm(kc, realm, ['dana']);
    await ensureGateways(c);
    await ensureNamespace(c, NS.op, false);
    for (const ns of [NS.main, NS.optin, NS.del, NS.a, NS.ab]) {
      await ensureNamespace(c, ns, true);
      await createService(c, ns, 'web');
    }
    await createSecret(c, NS.op, 'keycloak-admin', { username: kc.adminUsername, password: kc.adminPassword });
    const readSecret = async (ref: { namespace: string; name: string }): Promise<RawSecret | undefined> =>
      (await c.get<KubeObject & RawSecret>(SECRET, ref.namespace, ref.name)) as RawSecret | undefined;
    auth = createKeycloakAuthProvisioner({ url: kc.baseUrl, realm, adminSecret: { namespace: NS.op, name: 'keycloak-admin' } }, `${kc.baseUrl}/realms/${realm}`, readSecret);
    const settings = testSettings({ OIDC_ISSUER_URL: `${kc.baseUrl}/realms/${realm}`, POD_NAMESPACE: NS.op, WATCH_NAMESPACES: Object.values(NS).join(',') });
    op = new Operator({ settings, kubeConfig: cp.kubeConfig(), metrics: new OperatorMetrics(), log: silentLogger, provisioner: auth, serveHttp: false });
    await op.start();
  });

  after(async function () {
    await op?.stop();
    await kc?.start(); // leave the shared Keycloak running for the suites after us
    await c?.close();
  });

  const spec = (ns: string, extra: Record<string, unknown> = {}) => ({
    hostname: `${ns}.example.test`,
    service: { name: 'web', port: 8080 },
    auth: { enabled: true, enforceAtGateway: false, ...extra },
  });
  async function clientIds(): Promise<string[]> {
    const admin = await masterAdmin(kc);
    return (await admin.clients.find({ realm })).map((x) => x.clientId ?? '').filter((id) => id.startsWith(p)).sort();
  }
  const finds = () => auth.keycloak.calls.get('clients.find') ?? 0;

  it('an app that fails validation provisions nothing in Keycloak', async () => {
    const label = 'x'.repeat(64); // the CRD's hostname pattern lets it through; a DNS label over 63 is refused by the operator
    await applyApp(c, NS.main, 'bad', { ...spec(NS.main), hostname: `${label}.example.test` });
    const app = await waitForReason(c, NS.main, 'bad', 'Ready', 'ValidationFailed', 'False');
    assert.match(condition(app, 'Ready')!.message, /hostname/);
    assert.deepEqual(await clientIds(), []);
    assert.equal(await c.get(SECRET, NS.main, 'bad-oidc-client'), undefined);
  });

  it("a user's own <name>-oidc-client Secret: AuthReady=ResourceNotOwned, nothing provisioned, the Secret untouched and kept", async () => {
    await createSecret(c, NS.main, 'mine-oidc-client', { 'client-id': 'user-made', 'client-secret': 'user-secret' });
    const before = (await c.get<AnySecret>(SECRET, NS.main, 'mine-oidc-client'))!;
    await applyApp(c, NS.main, 'mine', spec(NS.main));
    const app = await waitForReason(c, NS.main, 'mine', 'AuthReady', 'ResourceNotOwned', 'False');
    assert.match(condition(app, 'AuthReady')!.message, new RegExp(`Secret ${NS.main}/mine-oidc-client already exists and it was not created by nebari-operator`));
    assert.ok(!(await clientIds()).includes(`${NS.main}-mine`), 'no Keycloak client');
    // auth switched off, then the app deleted: the user's Secret stays as it was
    await applyApp(c, NS.main, 'mine', { ...spec(NS.main), auth: { enabled: false } });
    await eventually('AuthReady gone', async () => !condition(await getApp(c, NS.main, 'mine'), 'AuthReady'));
    await c.delete(NEBARIAPP, NS.main, 'mine');
    await eventually('app gone', async () => (await getApp(c, NS.main, 'mine')) === undefined);
    const after = (await c.get<AnySecret>(SECRET, NS.main, 'mine-oidc-client'))!;
    assert.equal(after.metadata.uid, before.metadata.uid);
    assert.deepEqual(after.data, before.data);
  });

  it('removing the opt-in label keeps the Keycloak client and the Secret and asks Keycloak nothing; re-labelling keeps the credentials', async () => {
    const ns = NS.optin;
    await applyApp(c, ns, 'keep', spec(ns));
    await waitForReason(c, ns, 'keep', 'AuthReady', 'AppEnforcedAuth', 'True', 60_000);
    const secret = (await c.get<AnySecret>(SECRET, ns, 'keep-oidc-client'))!;
    await ensureNamespace(c, ns, false);
    await waitForReason(c, ns, 'keep', 'Ready', 'NamespaceNotOptedIn', 'False');
    const calls = finds();
    // events while unlabelled (spec changes, a Secret event): each reconciles, none may list Keycloak clients
    for (let i = 0; i < 3; i++) {
      await applyApp(c, ns, 'keep', spec(ns, { scopes: ['openid', 'profile', 'email', `s${i}`].slice(0, 3 + (i % 2)) }));
      await new Promise((r) => setTimeout(r, 300));
    }
    await waitForReason(c, ns, 'keep', 'Ready', 'NamespaceNotOptedIn', 'False');
    assert.equal(finds(), calls, 'no Keycloak client lookups while the namespace is not opted in');
    assert.ok((await clientIds()).includes(`${ns}-keep`), 'the client stays');
    assert.equal((await c.get<AnySecret>(SECRET, ns, 'keep-oidc-client'))?.metadata.uid, secret.metadata.uid, 'the Secret stays');

    await ensureNamespace(c, ns, true);
    await applyApp(c, ns, 'keep', spec(ns));
    await waitForReason(c, ns, 'keep', 'AuthReady', 'AppEnforcedAuth', 'True', 60_000);
    const again = (await c.get<AnySecret>(SECRET, ns, 'keep-oidc-client'))!;
    assert.equal(again.data?.['client-secret'], secret.data?.['client-secret'], 'same credentials after re-labelling');
  });

  it('apps a-b/c and a/b-c (one client id <namespace>-<name>): the second gets KeycloakClientConflict, never the first one\'s client', async () => {
    await applyApp(c, NS.ab, 'c', spec(NS.ab));
    await waitForReason(c, NS.ab, 'c', 'AuthReady', 'AppEnforcedAuth', 'True', 60_000);
    await applyApp(c, NS.a, 'b-c', spec(NS.a));
    const app = await waitForReason(c, NS.a, 'b-c', 'AuthReady', 'KeycloakClientConflict', 'False', 60_000);
    assert.match(condition(app, 'AuthReady')!.message, new RegExp(`taken by NebariApp ${NS.ab}/c`));
    assert.equal(await c.get(SECRET, NS.a, 'b-c-oidc-client'), undefined, 'no credentials of the other app');
  });

  it('deleting apps while Keycloak is down: the finalizer waits and says so; the escape annotation lets one go and records its orphaned client; the other goes once Keycloak is back', async () => {
    const ns = NS.del;
    for (const n of ['stuck', 'waits']) {
      await applyApp(c, ns, n, spec(ns));
      await waitForReason(c, ns, n, 'AuthReady', 'AppEnforcedAuth', 'True', 60_000);
    }
    await kc.stop();
    try {
      for (const n of ['stuck', 'waits']) await c.delete(NEBARIAPP, ns, n);
      for (const n of ['stuck', 'waits']) {
        const app = await waitForReason(c, ns, n, 'AuthReady', 'KeycloakUnavailable', 'False', 60_000);
        assert.match(condition(app, 'AuthReady')!.message, new RegExp(`could not be removed .*retrying with backoff.*${KEYCLOAK_ORPHAN_ANNOTATION}=true`));
        assert.ok(app.metadata.deletionTimestamp, 'still there, being deleted');
      }
      // Events are recorded in the background (operator/src/runtime/events.ts)
      let events: (KubeObject & EventLike)[] = [];
      const said = await eventually('a Warning Event saying why', async () => {
        events = (await c.list<KubeObject & EventLike>(EVENTS, ns)).items;
        const found = events.filter((e) => e.regarding?.name === 'waits' && e.reason === 'KeycloakUnavailable' && e.type === 'Warning');
        return found.length > 0 ? found : undefined;
      }).catch((err: Error) => {
        throw new Error(`${err.message}; events: ${JSON.stringify(events.map((e) => [e.regarding?.name, e.reason]))}`);
      });
      assert.match(said[0]!.note ?? '', new RegExp(KEYCLOAK_ORPHAN_ANNOTATION));

      await c.jsonPatch(NEBARIAPP, ns, 'stuck', [{ op: 'add', path: '/metadata/annotations', value: { [KEYCLOAK_ORPHAN_ANNOTATION]: 'true' } }]);
      await eventually('stuck released', async () => (await getApp(c, ns, 'stuck')) === undefined, 30_000);
      const orphaned = await eventually('the orphaned client recorded in an Event', async () =>
        (await c.list<KubeObject & EventLike>(EVENTS, ns)).items.find((e) => e.regarding?.name === 'stuck' && e.reason === 'KeycloakClientOrphaned'),
      );
      assert.match(orphaned.note ?? '', new RegExp(`client id ${ns}-stuck`));
      assert.ok(await getApp(c, ns, 'waits'), 'without the annotation the app waits for Keycloak');
    } finally {
      await kc.start();
    }
    await eventually('waits released once Keycloak is back', async () => (await getApp(c, ns, 'waits')) === undefined, 90_000, 500);
    const ids = await clientIds();
    assert.ok(!ids.includes(`${ns}-waits`), 'its client removed');
    assert.ok(ids.includes(`${ns}-stuck`), 'the orphaned client is left, as recorded');
  });
});

const EVENTS = { group: 'events.k8s.io', version: 'v1', plural: 'events', kind: 'Event', namespaced: true };
interface EventLike {
  reason?: string;
  type?: string;
  note?: string;
  regarding?: { name?: string };
}
