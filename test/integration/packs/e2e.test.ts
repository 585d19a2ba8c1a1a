// End to end, both real packs on the embedded cluster: each chart is rendered by the real Helm with a deployment's
// values (as its Argo CD Application would), applied to the real kube-apiserver into an opted-in namespace, and
// the operator (in-process, the real reconciler) with the REAL Keycloak behind its provisioner, the REAL Envoy
// Gateway (route and policy status) and the REAL cert-manager (certificates) turns each NebariApp Ready; the landing
// page service (in-process, the real one, signing tokens in against the same Keycloak realm) shows each pack's card
// to members of its groups only; deleting the NebariApp removes every child and the Keycloak client.
// The operator is configured with the platform's public issuer URL (https://keycloak.<domain>/realms/<realm>, the one
// issuer browsers and the gateway both use; Envoy Gateway accepts only https issuers), while its provisioner talks
// to the harness Keycloak's admin API on loopback http; the landing page validates tokens from that Keycloak.
// Stood in for (named): the kubelet (no pod runs, so no request reaches JupyterLab or Open WebUI), and Argo CD
// (the charts are applied the way its Application renders them; test/integration/argocd/packs.test.ts drives the
// root app-of-apps for real).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import type KcAdminClient from '@keycloak/keycloak-admin-client';
import { freePort, sharedControlPlane, type ControlPlane } from '../../harness/control-plane.js';
import { sharedKeycloak, type KeycloakInstance } from '../../harness/keycloak.js';
import { repoRoot } from '../../harness/upstream.js';
import { Operator } from '../../../operator/src/reconciler-controller.js';
import { NAMESPACE, ROLE, ROLEBINDING, SECRET } from '../../../operator/src/reconciler-resources.js';
import { childNames } from '../../../operator/src/desired/objects.js';
import type { KubeClient, KubeObject } from '../../../operator/src/runtime/kube.js';
import { silentLogger } from '../../../operator/src/runtime/logger.js';
import { OperatorMetrics } from '../../../operator/src/runtime/metrics.js';
import { createKeycloakAuthProvisioner, type RawSecret } from '../../../operator/src/keycloak/index.js';
import { startLandingService, type LandingService } from '../../../packs/landing/src/service.js';
import { webAssets } from '../landing/helpers.js';
import { createRealm, masterAdmin } from '../keycloak/oidc-helpers.js';
import { KubeApi, describeRejections } from '../platform/kube-api.js';
import {
    CERTIFICATE_RT,
    HTTPROUTE_RT,
    LISTENERSET_RT,
    SECURITYPOLICY_RT,
    adminClient,
    createSecret,
    deleteApp,
    ensureGateways,
    ensureNamespace,
    eventually,
    exists,
    getApp,
    testSettings,
    waitCertificateIssued,
    waitForReason,
    type AnyObject,
} from '../operator/helpers.js';
import { packTools, renderChart } from './helpers.js';

/* eslint-disable @typescript-eslint/no-explicit-any -- rendered manifests and API answers are untyped JSON */

interface PackCase {
    pack: 'notebook' | 'chat';
    ns: string;
    host: string;
    group: string;
    /** The member of `group`, and a signed-in user who is not. */
    member: string;
    outsider: string;
    gatewayLogin: boolean;
    redirectPath: string;
}

describe('packs end to end: notebook and chat Ready through the operator, on the landing page for their groups, fully removed on delete', function () {
    this.timeout(300_000);
    const id = randomBytes(3).toString('hex');
    const cases: PackCase[] = [
        { pack: 'notebook', ns: `pack-nb-${id}`, host: `notebook-${id}.example.test`, group: 'data-science', member: 'dana', outsider: 'carl', gatewayLogin: true, redirectPath: '/oauth2/callback' },
        { pack: 'chat', ns: `pack-chat-${id}`, host: `chat-${id}.example.test`, group: 'chat-users', member: 'carl', outsider: 'dana', gatewayLogin: false, redirectPath: '/oauth/oidc/callback' },
    ];
    const opNs = `pack-e2e-op-${id}`;
    let cp: ControlPlane;
    let kc: KeycloakInstance;
    let c: KubeClient;
    let op: Operator;
    let admin: KcAdminClient;
    let landing: LandingService;
    let realm: string;
    let issuer: string;
    let publicIssuer: string;
    let passwords: Record<string, string>;
    let landingClient: { id: string; secret: string };

    before(async function () {
        this.timeout(600_000);
        packTools();
        [cp, kc] = await Promise.all([sharedControlPlane(), sharedKeycloak()]);
        c = adminClient(cp);
        realm = `packs-${id}`;
        passwords = await createRealm(kc, realm, ['dana', 'carl']);
        issuer = `${kc.baseUrl}/realms/${realm}`;
        publicIssuer = `https://keycloak.example.test/realms/${realm}`;
        admin = await masterAdmin(kc);
        await ensureGateways(c);
        await ensureNamespace(c, opNs, false);
        await createSecret(c, opNs, 'keycloak-admin', { username: kc.adminUsername, password: kc.adminPassword });
        const readSecret = async (ref: { namespace: string; name: string }): Promise<RawSecret | undefined> => (await c.get<KubeObject & RawSecret>(SECRET, ref.namespace, ref.name)) as RawSecret | undefined;
        const auth = createKeycloakAuthProvisioner({ url: kc.baseUrl, realm, adminSecret: { namespace: opNs, name: 'keycloak-admin' } }, publicIssuer, readSecret);
        const settings = testSettings({ OIDC_ISSUER_URL: publicIssuer, POD_NAMESPACE: opNs, WATCH_NAMESPACES: cases.map((x) => x.ns).join(',') });
        op = new Operator({ settings, kubeConfig: cp.kubeConfig(), metrics: new OperatorMetrics(), log: silentLogger, provisioner: auth, serveHttp: false });
        await op.start();

        // The landing page's own client, as the operator provisions it for the shipped landing NebariApp (its
        // protocol mappers put the groups and the landing audience into access tokens); direct grants so the
        // test can sign users in without a browser.
        const shipped = parse(readFileSync(join(repoRoot, 'packs', 'landing', 'manifests', 'nebariapp.yaml'), 'utf8'));
        const landingId = `${shipped.metadata.namespace}-${shipped.metadata.name}`;
        const port = await freePort();
        const { id: cid } = await admin.clients.create({
            realm,
            clientId: landingId,
            publicClient: false,
            standardFlowEnabled: true,
            directAccessGrantsEnabled: true,
            redirectUris: [`http://127.0.0.1:${port}${shipped.spec.auth.redirectURI}`],
            protocolMappers: (shipped.spec.auth.keycloakConfig.protocolMappers as any[]).map((m) => ({ name: m.name, protocol: 'openid-connect', protocolMapper: m.protocolMapper, config: m.config })),
        });
        landingClient = { id: landingId, secret: (await admin.clients.getClientSecret({ realm, id: cid })).value! };
        landing = await startLandingService({
            kubeConfig: cp.kubeConfig(),
            oidc: { settings: { issuer, clientId: landingId, clientSecret: landingClient.secret, publicUrl: `http://127.0.0.1:${port}`, redirectPath: shipped.spec.auth.redirectURI, scopes: shipped.spec.auth.scopes, sessionTtlSeconds: 3600 } },
            staticDir: await webAssets(),
            log: silentLogger,
            port,
        });
    });

    after(async () => {
        await landing?.stop();
        await op?.stop();
        for (const ns of [...cases.map((x) => x.ns), opNs]) await c?.delete(NAMESPACE, '', ns).catch(() => undefined);
        if (admin && realm) await admin.realms.del({ realm }).catch(() => undefined);
        await c?.close();
    });

    async function token(user: string): Promise<string> {
        const res = await fetch(`${issuer}/protocol/openid-connect/token`, {
            method: 'POST',
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
            body: new URLSearchParams({ grant_type: 'password', client_id: landingClient.id, client_secret: landingClient.secret, username: user, password: passwords[user]!, scope: 'openid' }),
        });
        const body = (await res.json()) as { access_token?: string; error_description?: string };
        assert.ok(body.access_token, `token for ${user}: ${body.error_description}`);
        return body.access_token;
    }

    /** Card ids (namespace/name) the landing page API shows this user. */
    async function cardsFor(user: string): Promise<string[]> {
        const r = await fetch(`${landing.url}/api/apps`, { headers: { authorization: `Bearer ${await token(user)}` } });
        assert.equal(r.status, 200, await r.clone().text());
        const text = await r.text();
        const ids = [...text.matchAll(/"id":"([^"]+)"/g)].map((m) => m[1]!);
        if (!text.includes('"groups"')) throw new Error(`unexpected /api/apps answer: ${text.slice(0, 300)}`);
        return ids;
    }

    for (const k of cases) {
        it(`${k.pack}: applied as rendered by Helm, its NebariApp is Ready with routes, certificate and login (${k.gatewayLogin ? 'at the gateway' : 'in the app, with the operator\'s client'})`, async () => {
            await ensureNamespace(c, k.ns, true);
            const objs = renderChart(`packs/${k.pack}`, { releaseName: k.pack, namespace: k.ns, values: [{ nebariapp: { hostname: k.host, auth: { groups: [k.group] } } }] });
            const results = await new KubeApi(cp.kubeConfig()).applyAll(objs, { fieldManager: 'argocd-controller', dryRun: false });
            assert.equal(describeRejections(results), '');

            const app = await waitForReason(c, k.ns, k.pack, 'Ready', 'Available', 'True', 60_000).catch(async (err: Error) => {
                throw new Error(`${err.message}\nstatus: ${JSON.stringify((await getApp(c, k.ns, k.pack))?.status?.conditions)}`);
            });
            for (const t of ['RoutingReady', 'TLSReady', 'AuthReady']) assert.equal(app.status?.conditions?.find((x) => x.type === t)?.status, 'True', t);
            const names = childNames(k.ns, k.pack);
            const route = (await c.get(HTTPROUTE_RT, k.ns, names.mainRoute)) as AnyObject;
            assert.deepEqual(route.spec.hostnames, [k.host]);
            assert.equal(route.spec.rules[0].backendRefs[0].name, k.pack);
            assert.ok(await exists(c, LISTENERSET_RT, k.ns, names.listenerSet));
            const cert = await waitCertificateIssued(c, k.ns, names.certificate);
            assert.deepEqual(cert.spec.dnsNames, [k.host]);

            // Login: the Keycloak client with the pack's redirect URI, its Secret readable by the pack's ServiceAccount.
            const [client] = await admin.clients.find({ realm, clientId: `${k.ns}-${k.pack}` });
            assert.ok(client, 'Keycloak client provisioned');
            assert.deepEqual(client.redirectUris, [`https://${k.host}${k.redirectPath}`]);
            assert.ok(await c.get(SECRET, k.ns, `${k.pack}-oidc-client`));
            const rb = (await c.get(ROLEBINDING, k.ns, `${k.pack}-oidc-client-reader`)) as AnyObject;
            assert.deepEqual(rb.subjects.map((s: any) => s.name), [k.pack], 'only the pack\'s ServiceAccount reads the OIDC Secret');
            const sp = (await c.get(SECURITYPOLICY_RT, k.ns, names.securityPolicy)) as AnyObject | undefined;
            if (k.gatewayLogin) {
                assert.ok(sp, 'SecurityPolicy: login at the gateway');
                assert.equal(sp.spec.oidc.provider.issuer, publicIssuer);
                assert.ok(sp.spec.authorization, 'the groups rule');
                assert.ok(JSON.stringify(sp.spec.authorization).includes(k.group), JSON.stringify(sp.spec.authorization));
                const pub = (await c.get(HTTPROUTE_RT, k.ns, names.publicRoute)) as AnyObject;
                assert.deepEqual(pub.spec.rules[0].matches[0].path, { type: 'Exact', value: '/api' }, 'the health path skips the login');
            } else {
                assert.equal(sp, undefined, 'Open WebUI signs users in itself: no gateway policy');
            }
            assert.deepEqual(app.status?.serviceDiscovery?.requiredGroups, [k.group]);
        });
    }

    it('the landing page API shows each pack\'s card to members of its groups and not to others', async () => {
        for (const k of cases) {
            const group = (await admin.groups.find({ realm })).find((g) => g.name === k.group);
            assert.ok(group?.id, `group ${k.group} created by the operator`);
            const [u] = await admin.users.find({ realm, username: k.member, exact: true });
            await admin.users.addToGroup({ realm, id: u!.id!, groupId: group.id });
        }
        const mine = (ids: string[]) => ids.filter((x) => cases.some((k) => x.startsWith(`${k.ns}/`))).sort();
        await eventually('cards per user', async () => {
            const [dana, carl] = [mine(await cardsFor('dana')), mine(await cardsFor('carl'))];
            return JSON.stringify(dana) === JSON.stringify([`${cases[0]!.ns}/notebook`]) && JSON.stringify(carl) === JSON.stringify([`${cases[1]!.ns}/chat`]);
        }, 30_000, 250);
        const anonymous = await (await fetch(`${landing.url}/api/apps`)).text();
        for (const k of cases) assert.ok(!anonymous.includes(`${k.ns}/${k.pack}`), 'nothing for anonymous users');
    });

    for (const k of cases) {
        it(`${k.pack}: deleting the NebariApp removes every child and the Keycloak client`, async () => {
            const names = childNames(k.ns, k.pack);
            await deleteApp(c, k.ns, k.pack);
            await eventually(
                'NebariApp and children gone',
                async () => {
                    if (await getApp(c, k.ns, k.pack)) return false;
                    for (const [rt, name] of [[HTTPROUTE_RT, names.mainRoute], [HTTPROUTE_RT, names.publicRoute], [LISTENERSET_RT, names.listenerSet], [CERTIFICATE_RT, names.certificate], [SECURITYPOLICY_RT, names.securityPolicy], [SECRET, `${k.pack}-oidc-client`], [ROLE, `${k.pack}-oidc-client-reader`], [ROLEBINDING, `${k.pack}-oidc-client-reader`]] as const) {
                        if (await exists(c, rt, k.ns, name)) return false;
                    }
                    return (await admin.clients.find({ realm, clientId: `${k.ns}-${k.pack}` })).length === 0;
                },
                60_000,
                250,
            );
            // The pack's own workloads stay (they belong to the Application, not to the NebariApp).
            assert.ok(await c.get({ group: 'apps', version: 'v1', plural: 'deployments', kind: 'Deployment', namespaced: true }, k.ns, k.pack));
        });
    }
});
