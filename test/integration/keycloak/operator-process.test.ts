// The SHIPPED operator (operator/dist/operator.js as a child process) configured only through env/flags, against
// the real control plane and the real Keycloak: --keycloak-url turns client provisioning on, admin credentials come
// from a mounted-Secret-like directory (one file per key, as the kubelet mounts a Secret volume) that may appear
// after start; bad combinations stop the process at start with a message naming the variable/flag.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sharedControlPlane, type ControlPlane } from '../../harness/control-plane.js';
import { sharedKeycloak, type KeycloakInstance } from '../../harness/keycloak.js';
import { NEBARIAPP, SECRET } from '../../../operator/src/reconciler-resources.js';
import type { KubeClient, KubeObject } from '../../../operator/src/runtime/kube.js';
import {
  adminClient,
  applyApp,
  condition,
  createService,
  ensureGateways,
  ensureNamespace,
  eventually,
  getApp,
  testEnv,
  uniqueName,
  waitForReason,
} from '../operator/helpers.js';
import { buildOperatorBundle, startOperatorProcess, type OperatorProcess } from '../operator/process.js';
import { createRealm, masterAdmin, tokenRequest } from './oidc-helpers.js';

describe('operator process + Keycloak (bundled operator, env/flags only, real control plane, real Keycloak)', function () {
  this.timeout(300_000);
  let cp: ControlPlane;
  let kc: KeycloakInstance;
  let c: KubeClient;
  let realm: string;
  let issuer: string;
  let ns: string;
  let scratch: string;
  const procs: OperatorProcess[] = [];

  before(async function () {
    [cp, kc] = await Promise.all([sharedControlPlane(), sharedKeycloak()]);
    buildOperatorBundle();
    c = adminClient(cp);
    realm = uniqueName('nkp-proc');
    await createRealm(kc, realm, []);
    issuer = `${kc.baseUrl}/realms/${realm}`;
    ns = uniqueName('kc-proc');
    await ensureGateways(c);
    await ensureNamespace(c, ns, true);
    await createService(c, ns, 'lab', 8080);
    scratch = mkdtempSync(join(tmpdir(), 'nkp-kc-proc-'));
  });

  after(async function () {
    for (const p of procs) await p.stop();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
    await c?.close();
  });

  const env = (extra: Record<string, string>): Record<string, string> =>
    testEnv({ KUBECONFIG: cp.kubeconfigPath, WATCH_NAMESPACES: ns, POD_NAMESPACE: ns, OIDC_ISSUER_URL: issuer, ...extra });

  it('bad Keycloak settings stop the process at start, naming the variable or flag', async function () {
    const cases: [Record<string, string>, string[], RegExp][] = [
      [{ KEYCLOAK_URL: kc.baseUrl, OIDC_ISSUER_URL: '' }, [], /--oidc-issuer-url \/ OIDC_ISSUER_URL: required with --keycloak-url \/ KEYCLOAK_URL/],
      [{ KEYCLOAK_URL: kc.baseUrl, KEYCLOAK_REALM: 'other' }, [], /must be the issuer of realm "other" \(--keycloak-realm \/ KEYCLOAK_REALM\)/],
      [{ KEYCLOAK_REALM: realm }, ['--keycloak-url=localhost:8080'], /--keycloak-url \/ KEYCLOAK_URL: "localhost:8080" must be http:\/\/ or https:\/\//],
      [{ KEYCLOAK_URL: kc.baseUrl, KEYCLOAK_REALM: realm }, ['--keycloak-admin-credentials-file=relative/creds'], /--keycloak-admin-credentials-file \/ KEYCLOAK_ADMIN_CREDENTIALS_FILE: "relative\/creds" must be an absolute path/],
    ];
    for (const [extra, args, message] of cases) {
      const p = await startOperatorProcess(env(extra), args, false);
      procs.push(p);
      assert.equal(await p.exited, 2, `exit code for ${JSON.stringify(extra)} ${args.join(' ')}`);
      assert.match(p.logs.join(''), message);
    }
  });

  it('provisions through Keycloak from env/flags alone: AuthReady=True and <name>-oidc-client with its three keys; credentials that appear later are picked up without a restart', async function () {
    const credsDir = join(scratch, 'keycloak-admin');
    const p = await startOperatorProcess(env({ KEYCLOAK_URL: kc.baseUrl, LOG_LEVEL: 'info' }), [`--keycloak-realm=${realm}`, `--keycloak-admin-credentials-file=${credsDir}`]);
    procs.push(p);
    await applyApp(c, ns, 'lab', {
      hostname: `lab.${ns}.example.test`,
      service: { name: 'lab', port: 8080 },
      routing: { tls: { enabled: false } },
      // The test Keycloak speaks http on loopback and Envoy Gateway's SecurityPolicy accepts only an https issuer, so
      // the app enforces login itself: client + Secret only (what this test is about), no gateway policy.
      auth: { enabled: true, enforceAtGateway: false, groups: ['lab-users'] },
    });
    // The optional Secret volume is still empty: Keycloak cannot be asked, AuthReady says why.
    const waiting = await waitForReason(c, ns, 'lab', 'AuthReady', 'KeycloakUnauthorized', 'False', 60_000);
    assert.match(condition(waiting, 'AuthReady')!.message, /admin credentials .* not found/);
    // The kubelet fills the volume (one file per key): the next retry uses it, no restart.
    mkdirSync(credsDir);
    writeFileSync(join(credsDir, 'username'), kc.adminUsername, { mode: 0o600 });
    writeFileSync(join(credsDir, 'password'), kc.adminPassword, { mode: 0o600 });
    // (the operator retries apps waiting on Keycloak with backoff, capped at 2 s by testEnv)
    await waitForReason(c, ns, 'lab', 'AuthReady', 'AppEnforcedAuth', 'True', 90_000);
    await waitForReason(c, ns, 'lab', 'Ready', 'Available', 'True', 30_000);

    const secret = await c.get<KubeObject & { data?: Record<string, string> }>(SECRET, ns, 'lab-oidc-client');
    assert.ok(secret, 'Secret lab-oidc-client exists');
    const data = Object.fromEntries(Object.entries(secret.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]));
    assert.deepEqual(Object.keys(data).sort(), ['client-id', 'client-secret', 'issuer-url']);
    assert.equal(data['client-id'], `${ns}-lab`);
    assert.equal(data['issuer-url'], issuer);
    // The credentials are real: Keycloak accepts them at the realm's token endpoint (the confidential client has only
    // the standard flow, so an invalid code, not invalid credentials, is what a correct secret gets back).
    const bad = await tokenRequest(issuer, { grant_type: 'authorization_code', code: 'nope', redirect_uri: `https://lab.${ns}.example.test/oauth2/callback` }, { id: data['client-id']!, secret: 'wrong' });
    assert.equal(bad.status, 401, 'a wrong secret is refused');
    const good = await tokenRequest(issuer, { grant_type: 'authorization_code', code: 'nope', redirect_uri: `https://lab.${ns}.example.test/oauth2/callback` }, { id: data['client-id']!, secret: data['client-secret']! });
    assert.equal(good.status, 400, 'the right secret passes client authentication (the code is what is rejected)');
    const admin = await masterAdmin(kc);
    assert.deepEqual((await admin.clients.find({ realm, clientId: `${ns}-lab` })).map((x) => x.clientId), [`${ns}-lab`]);

    // Deleting the app removes the client from the realm (finalizer, through the same process).
    await c.delete(NEBARIAPP, ns, 'lab');
    await eventually('the NebariApp gone', async () => (await getApp(c, ns, 'lab')) === undefined, 60_000);
    assert.deepEqual(await admin.clients.find({ realm, clientId: `${ns}-lab` }), []);

    const logs = p.logs.join('');
    assert.ok(!logs.includes(kc.adminPassword), 'the admin password is never logged');
    assert.ok(!logs.includes(data['client-secret']!), 'the client secret is never logged');
    assert.match(logs, /"msg":"keycloak clients provisioned"/);
    assert.ok(logs.includes(`"adminMount":"${credsDir}"`), 'the start log says where the admin credentials are read from');
    assert.equal(await p.stop(), 0, 'graceful shutdown');
  });
});
