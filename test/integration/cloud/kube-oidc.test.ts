// Kubernetes API sign-in through the realm, both sides real: a real kube-apiserver started with the OIDC flags the
// platform derives (components/cloud/kube-oidc.ts: the same function renders the Hetzner K3s args and the EKS
// identity provider config; only the issuer's address is this test's), the cluster baseline's ClusterRoles and
// bindings (components/cluster/baseline.ts, groups and prefix from the committed hetzner stack), and real ID tokens
// from the real Keycloak, obtained the way kubelogin gets them with the kubeconfig the stack outputs: authorization
// code + PKCE S256 through Keycloak's own login form, redirect to kubelogin's loopback address, code exchanged by
// the public `kubernetes` client (components/identity/spec.ts kubernetesClient + groupsMapper).
// Stood in for (named): the TLS termination in front of Keycloak (test/harness/https-front.ts; kube-apiserver takes
// only an https issuer, served here with a throwaway CA given as --oidc-ca-file, where the platform's Keycloak has a
// Let's Encrypt certificate); the browser kubelogin opens (fetch through the same login form,
// test/integration/keycloak/oidc-helpers.ts); the Pulumi Keycloak provider (the client and mapper are created through
// the Admin API with the arguments the Identity component gives that provider); kubelogin itself (no registry here
// serves it: test/integration/cloud/kubelogin-standin.ts does what it does with the kubeconfig's arguments, run by a
// real Kubernetes client's exec credential support).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:https';
import tls from 'node:tls';
import type KcAdminClient from '@keycloak/keycloak-admin-client';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { parse } from 'yaml';
import { startControlPlane, type ControlPlane } from '../../harness/control-plane.js';
import { startHttpsFront, type HttpsFront } from '../../harness/https-front.js';
import { sharedKeycloak, type KeycloakInstance } from '../../harness/keycloak.js';
import { sleep } from '../../harness/util.js';
import { claims, createRealm, loginForCode, masterAdmin, pkcePair, providerClientRepresentation, tokenRequest } from '../keycloak/oidc-helpers.js';
import { KubeApi, describeRejections, type KubeObject } from '../platform/kube-api.js';
import { apiServerEndpointOf, KUBELOGIN_REDIRECT_URIS, kubeApiServerOidcFlags, oidcKubeconfig } from '../../../components/cloud/kube-oidc.js';
import type { ApiServerOidc } from '../../../components/cloud/types.js';
import { clusterRoles, oidcGroupSubjects, PLATFORM_ADMIN_ROLE, PLATFORM_VIEWER_ROLE } from '../../../components/cluster/baseline.js';
import { groupsMapper, kubernetesClient, realmGroups } from '../../../components/identity/spec.js';
import { settingsForStack } from '../../../stacks/stack-files.js';

type Res = { status: number; body: any }; // eslint-disable-line @typescript-eslint/no-explicit-any -- API answers

/** The client as the Keycloak provider would create it (openid.Client + GroupMembershipProtocolMapper). */
async function createClientAsProviderWould(admin: KcAdminClient, realm: string, c: ReturnType<typeof kubernetesClient>): Promise<void> {
  await admin.clients.create({ realm, ...providerClientRepresentation(c, { groups: groupsMapper() }) });
}

describe('Kubernetes API sign-in: real Keycloak ID tokens (kubelogin\'s flow) against a real kube-apiserver with the platform\'s OIDC flags and baseline RBAC', function () {
  this.timeout(600_000);
  let front: HttpsFront;
  let cp: ControlPlane;
  let kc: KeycloakInstance;
  let admin: KcAdminClient;
  let realm: string;
  let passwords: Record<string, string>;
  let oidc: Required<ApiServerOidc>;
  let signIn: { server: string; ca: Buffer; issuer: string; clientId: string; args: string[] };
  let kubeconfigText: string;
  let apiServerReadyBeforeIssuer = false;
  const settings = settingsForStack('hetzner');
  const prefix = settings.clusterAccess.oidcGroupsPrefix;
  const defaultCAs = tls.getCACertificates('default');

  /** A request to the API server as kubectl sends it with the exec plugin's token. */
  const api = (token: string, method: string, path: string, body?: unknown): Promise<Res> =>
    new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
      const req = request(`${signIn.server}${path}`, { method, ca: signIn.ca, headers: { authorization: `Bearer ${token}`, ...(payload ? { 'content-type': 'application/json', 'content-length': payload.length } : {}) }, timeout: 30_000 }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = text;
          try {
            parsed = JSON.parse(text);
          } catch {
            /* not JSON */
          }
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
      });
      req.on('error', reject);
      req.end(payload);
    });

  /** kubelogin's login: authorization code + PKCE through the login form, redirect to its loopback listener, code exchange. */
  async function kubeloginTokens(user: string): Promise<{ id_token: string; refresh_token: string }> {
    const { verifier, challenge } = pkcePair();
    const redirectUri = KUBELOGIN_REDIRECT_URIS[0];
    const code = await loginForCode(signIn.issuer, { clientId: signIn.clientId, redirectUri, username: user, password: passwords[user]!, scope: 'openid', codeChallenge: challenge });
    assert.ok(code.code, `Keycloak redirected ${user} to ${redirectUri} with a code: ${JSON.stringify(code)}`);
    assert.ok(code.location!.startsWith(`${redirectUri}?`) || code.location!.startsWith(`${redirectUri}/?`), code.location);
    const t = await tokenRequest(signIn.issuer, { grant_type: 'authorization_code', code: code.code, redirect_uri: redirectUri, client_id: signIn.clientId, code_verifier: verifier });
    assert.equal(t.status, 200, JSON.stringify(t.body));
    return { id_token: t.body.id_token!, refresh_token: t.body.refresh_token! };
  }
  const tokens: Record<string, string> = {};
  const idToken = async (user: string): Promise<string> => (tokens[user] ??= (await kubeloginTokens(user)).id_token);

  const review = async (token: string, attrs: Record<string, string>): Promise<boolean> => {
    const r = await api(token, 'POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec: { resourceAttributes: attrs } });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    return r.body.status.allowed === true;
  };
  const whoAmI = async (token: string): Promise<Res> => api(token, 'POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' });

  before(async function () {
    this.timeout(600_000);
    // The front's port first: the API server is started with the issuer's address before anything answers there,
    // as a Hetzner control plane boots with the flags before Keycloak exists.
    front = await startHttpsFront();
    realm = `kube-${randomBytes(3).toString('hex')}`;
    const issuer = `${front.url}/realms/${realm}`;
    // The platform's settings for the hetzner stack with only the issuer's address changed to this test's.
    oidc = { ...settings.kubernetesApi.oidc!, issuerUrl: issuer };
    [cp, kc] = await Promise.all([startControlPlane({ crds: false, controllerManager: false, apiserverFlags: kubeApiServerOidcFlags(oidc, { caFile: front.caCert }) }), sharedKeycloak()]);
    apiServerReadyBeforeIssuer = front.requests.some((r) => r.unanswered && r.path.endsWith('/.well-known/openid-configuration'));

    // The realm: the platform's groups, users in them, a realm group named like a Kubernetes system group.
    passwords = await createRealm(kc, realm, ['ada', 'vic', 'dev', 'nora', 'mallory']);
    admin = await masterAdmin(kc);
    admin.setConfig({ realmName: realm });
    await admin.realms.update({ realm }, { attributes: { frontendUrl: front.url } } as never);
    const users = await admin.users.find({ max: 20 });
    const uid = (u: string) => users.find((x) => x.username === u)!.id!;
    const gid: Record<string, string> = {};
    for (const g of [...realmGroups([]), 'system:masters']) gid[g] = (await admin.groups.create({ name: g })).id;
    await admin.users.addToGroup({ id: uid('ada'), groupId: gid.admins! });
    await admin.users.addToGroup({ id: uid('vic'), groupId: gid.viewers! });
    await admin.users.addToGroup({ id: uid('dev'), groupId: gid.developers! });
    await admin.users.addToGroup({ id: uid('mallory'), groupId: gid['system:masters']! });
    await createClientAsProviderWould(admin, realm, kubernetesClient(oidc.clientId, KUBELOGIN_REDIRECT_URIS));
    // A second public client of the same realm, for a token with another audience.
    await createClientAsProviderWould(admin, realm, kubernetesClient('other-cli', KUBELOGIN_REDIRECT_URIS));
    front.setTarget(kc.baseUrl);
    // this process's fetch (login form, token endpoint) trusts the front, as the user's machine trusts Keycloak's certificate
    tls.setDefaultCACertificates([...defaultCAs, readFileSync(front.caCert, 'utf8')]);

    // The baseline's ClusterRoles and bindings, as the ClusterBaseline component renders them for the stack.
    const k = new KubeApi(cp.kubeConfig());
    const groups: Record<string, string[]> = { [PLATFORM_ADMIN_ROLE]: settings.clusterAccess.adminGroups, [PLATFORM_VIEWER_ROLE]: settings.clusterAccess.viewerGroups };
    const rbac = clusterRoles().flatMap((r) => [
      { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: r.name }, rules: r.rules },
      { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: r.name }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: r.name }, subjects: oidcGroupSubjects(prefix, groups[r.name]!) },
    ]) as unknown as KubeObject[];
    assert.equal(describeRejections(await k.applyAll(rbac, { fieldManager: 'nkp-test', dryRun: false })), '');

    // What a user gets: the stack's kubeconfigOidc for this cluster (address and CA from the admin kubeconfig).
    kubeconfigText = oidcKubeconfig({ name: 'nkp-test', endpoint: apiServerEndpointOf(readFileSync(cp.kubeconfigPath, 'utf8')), oidc });
    const kubeconfig = parse(kubeconfigText) as { clusters: { cluster: Record<string, string> }[]; users: { user: { exec: { args: string[] } } }[] };
    const args = kubeconfig.users[0]!.user.exec.args;
    const flag = (name: string) => args.find((a) => a.startsWith(`--${name}=`))!.slice(name.length + 3);
    signIn = { server: kubeconfig.clusters[0]!.cluster.server!, ca: Buffer.from(kubeconfig.clusters[0]!.cluster['certificate-authority-data']!, 'base64'), issuer: flag('oidc-issuer-url'), clientId: flag('oidc-client-id'), args };
  });

  after(async function () {
    this.timeout(120_000);
    tls.setDefaultCACertificates(defaultCAs);
    await cp?.stop();
    await front?.stop();
    if (admin && realm) await admin.realms.del({ realm }).catch(() => undefined);
  });

  it('the API server came up with the flags before the issuer answered, and accepts the realm\'s tokens once it does (it keeps retrying discovery)', async () => {
    assert.equal(apiServerReadyBeforeIssuer, true, 'the API server was ready while its discovery requests to the issuer got 503');
    const token = await idToken('ada');
    let last: Res | undefined;
    for (const until = Date.now() + 120_000; Date.now() < until; await sleep(1000)) {
      last = await whoAmI(token);
      if (last.status === 201) break;
    }
    assert.equal(last?.status, 201, `the token is accepted: ${JSON.stringify(last?.body)}`);
    assert.ok(front.requests.some((r) => !r.unanswered && r.path === `/realms/${realm}/.well-known/openid-configuration`), 'the API server read the discovery document through the https issuer');
    assert.ok(front.requests.some((r) => r.path.startsWith(`/realms/${realm}/protocol/openid-connect/certs`)), 'and the realm\'s keys');
  });

  it('the kubeconfig\'s exec plugin is kubelogin with the realm and the kubectl client; the token\'s claims are what the flags read', async () => {
    assert.deepEqual(signIn.args.slice(0, 2), ['oidc-login', 'get-token']);
    assert.equal(signIn.issuer, oidc.issuerUrl);
    assert.equal(signIn.clientId, 'kubernetes');
    const c = claims(await idToken('ada'));
    assert.equal(c.iss, oidc.issuerUrl, 'issued for the https issuer the API server knows');
    assert.equal(c.aud, oidc.clientId);
    assert.equal(c[oidc.usernameClaim], 'ada');
    assert.deepEqual(c[oidc.groupsClaim], ['admins'], 'plain group names in the groups claim');
  });

  it('who am I: oidc:<username> with the realm groups under the baseline\'s prefix', async () => {
    const ada = await whoAmI(await idToken('ada'));
    assert.equal(ada.status, 201, JSON.stringify(ada.body));
    assert.equal(ada.body.status.userInfo.username, `${oidc.usernamePrefix}ada`);
    assert.deepEqual(ada.body.status.userInfo.groups.sort(), [`${prefix}admins`, 'system:authenticated'].sort());
    const dev = await whoAmI(await idToken('dev'));
    assert.ok(dev.body.status.userInfo.groups.includes(`${prefix}developers`));
  });

  it('admins: cluster-admin through nkp:platform-admin (access reviews and a real create)', async () => {
    const t = await idToken('ada');
    assert.equal(await review(t, { verb: 'create', resource: 'secrets', namespace: 'kube-system' }), true);
    assert.equal(await review(t, { verb: 'delete', resource: 'namespaces' }), true);
    const cm = await api(t, 'POST', '/api/v1/namespaces/default/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `by-ada-${realm}` }, data: { who: 'ada' } });
    assert.equal(cm.status, 201, JSON.stringify(cm.body));
    const got = await api(t, 'GET', `/api/v1/namespaces/default/configmaps/by-ada-${realm}`);
    assert.equal(got.status, 200);
  });

  it('viewers and developers: read through nkp:platform-viewer, never Secrets, never writes', async () => {
    for (const user of ['vic', 'dev']) {
      const t = await idToken(user);
      assert.equal(await review(t, { verb: 'list', resource: 'pods', namespace: 'default' }), true, `${user} lists pods`);
      assert.equal(await review(t, { verb: 'get', resource: 'secrets', namespace: 'kube-system' }), false, `${user} reads no Secret`);
      assert.equal(await review(t, { verb: 'create', resource: 'configmaps', namespace: 'default' }), false, `${user} writes nothing`);
      assert.equal((await api(t, 'GET', '/api/v1/namespaces')).status, 200, `${user} GET namespaces`);
      assert.equal((await api(t, 'GET', '/api/v1/namespaces/kube-system/secrets')).status, 403, `${user} GET secrets`);
      const cm = await api(t, 'POST', '/api/v1/namespaces/default/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `by-${user}-${realm}` } });
      assert.equal(cm.status, 403, `${user} cannot create: ${JSON.stringify(cm.body)}`);
    }
  });

  it('a signed-in user in no platform group gets nothing; a realm group named system:masters stays oidc:system:masters', async () => {
    const nora = await idToken('nora');
    assert.equal((await whoAmI(nora)).status, 201, 'authenticated');
    assert.equal(await review(nora, { verb: 'list', resource: 'pods', namespace: 'default' }), false);
    assert.equal((await api(nora, 'GET', '/api/v1/namespaces')).status, 403);
    const mallory = await idToken('mallory');
    assert.deepEqual(claims(mallory)[oidc.groupsClaim], ['system:masters'], 'the realm puts the group in the token');
    const who = await whoAmI(mallory);
    assert.deepEqual(who.body.status.userInfo.groups.sort(), [`${prefix}system:masters`, 'system:authenticated'].sort(), 'the prefix keeps it apart from the real system:masters');
    assert.equal((await api(mallory, 'GET', '/api/v1/namespaces/kube-system/secrets')).status, 403);
  });

  it('refused: a token for another client (audience), a changed payload or a broken signature; the kubectl client takes no password grant', async () => {
    const { verifier, challenge } = pkcePair();
    const code = await loginForCode(signIn.issuer, { clientId: 'other-cli', redirectUri: KUBELOGIN_REDIRECT_URIS[0], username: 'ada', password: passwords.ada!, codeChallenge: challenge });
    const other = await tokenRequest(signIn.issuer, { grant_type: 'authorization_code', code: code.code!, redirect_uri: KUBELOGIN_REDIRECT_URIS[0], client_id: 'other-cli', code_verifier: verifier });
    assert.equal(claims(other.body.id_token).aud, 'other-cli');
    assert.equal((await whoAmI(other.body.id_token!)).status, 401, 'another client\'s ID token is not accepted');
    const good = await idToken('ada');
    const [h, p, s] = good.split('.');
    const forged = `${h}.${Buffer.from(JSON.stringify({ ...claims(good), groups: ['admins'], preferred_username: 'root' })).toString('base64url')}.${s}`;
    assert.equal((await whoAmI(forged)).status, 401, 'a payload changed after signing');
    assert.equal((await whoAmI(`${h}.${p}.${s!.slice(0, -4)}AAAA`)).status, 401, 'a broken signature');
    const pw = await tokenRequest(signIn.issuer, { grant_type: 'password', client_id: signIn.clientId, username: 'ada', password: passwords.ada!, scope: 'openid' });
    assert.notEqual(pw.status, 200, 'no password grant');
    assert.equal(pw.body.error, 'unauthorized_client');
    const noPkce = await loginForCode(signIn.issuer, { clientId: signIn.clientId, redirectUri: KUBELOGIN_REDIRECT_URIS[0], username: 'ada', password: passwords.ada! });
    assert.equal(noPkce.code, undefined, 'an authorization request without PKCE gets no code');
    const elsewhere = await loginForCode(signIn.issuer, { clientId: signIn.clientId, redirectUri: 'http://localhost:9999', username: 'ada', password: passwords.ada!, codeChallenge: challenge });
    assert.equal(elsewhere.code, undefined, 'no redirect except kubelogin\'s listener');
  });

  it('a Kubernetes client (@kubernetes/client-node) runs the kubeconfig\'s exec plugin (kubelogin stand-in) and gets what the baseline grants', async () => {
    // kubelogin is not served by any registry this machine reaches: `kubectl` on PATH is a shim that runs
    // test/integration/cloud/kubelogin-standin.ts with the arguments the kubeconfig gives (it refuses any others).
    const shims = mkdtempSync(join(tmpdir(), 'nkp-kubectl-shim-'));
    const standin = join(import.meta.dirname, 'kubelogin-standin.ts');
    writeFileSync(join(shims, 'kubectl'), `#!/bin/sh\nexec "${process.execPath}" --import tsx "${standin}" "$@"\n`);
    chmodSync(join(shims, 'kubectl'), 0o755);
    const saved = { PATH: process.env.PATH, NODE_EXTRA_CA_CERTS: process.env.NODE_EXTRA_CA_CERTS, u: process.env.NKP_STANDIN_USERNAME, p: process.env.NKP_STANDIN_PASSWORD };
    try {
      process.env.PATH = `${shims}:${process.env.PATH ?? ''}`;
      process.env.NODE_EXTRA_CA_CERTS = front.caCert;
      for (const [user, allowed] of [['ada', true], ['nora', false]] as const) {
        process.env.NKP_STANDIN_USERNAME = user;
        process.env.NKP_STANDIN_PASSWORD = passwords[user]!;
        // each person has their own copy; the client caches exec credentials by kubeconfig user name
        const kc = new KubeConfig();
        kc.loadFromString(kubeconfigText.replaceAll('nkp-test-oidc', `nkp-test-oidc-${user}`));
        const core = kc.makeApiClient(CoreV1Api);
        if (allowed) {
          const list = await core.listNamespace();
          assert.ok(list.items.some((n) => n.metadata?.name === 'kube-system'), `${user} lists namespaces`);
        } else {
          await assert.rejects(core.listNamespace(), (e: unknown) => (e as { code?: number }).code === 403, `${user} is signed in but forbidden`);
        }
      }
      // a wrong exec plugin argument would fail the stand-in: the kubeconfig's args are exactly kubelogin's
      process.env.NKP_STANDIN_USERNAME = 'ada';
      const bad = new KubeConfig();
      bad.loadFromString(kubeconfigText.replace('--grant-type=authcode', '--grant-type=password').replaceAll('nkp-test-oidc', 'nkp-test-oidc-bad'));
      await assert.rejects(bad.makeApiClient(CoreV1Api).listNamespace(), /only --grant-type=authcode is implemented/);
    } finally {
      for (const [k, v] of [['PATH', saved.PATH], ['NODE_EXTRA_CA_CERTS', saved.NODE_EXTRA_CA_CERTS], ['NKP_STANDIN_USERNAME', saved.u], ['NKP_STANDIN_PASSWORD', saved.p]] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
      rmSync(shims, { recursive: true, force: true });
    }
  });

  it('kubelogin\'s refresh: the refreshed ID token is accepted too', async () => {
    const first = await kubeloginTokens('vic');
    const r = await tokenRequest(signIn.issuer, { grant_type: 'refresh_token', refresh_token: first.refresh_token, client_id: signIn.clientId });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.ok(r.body.id_token && r.body.id_token !== first.id_token);
    const who = await whoAmI(r.body.id_token);
    assert.equal(who.body.status.userInfo.username, `${oidc.usernamePrefix}vic`);
  });
});
