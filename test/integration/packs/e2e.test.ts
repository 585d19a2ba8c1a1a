// End to end, both real packs on the embedded cluster: each chart is rendered by the real Helm with a deployment's
// values (as its Argo CD Application would), applied to the real kube-apiserver into an opted-in namespace, and
// the operator (in-process, the real reconciler) with the REAL Keycloak behind its provisioner, the REAL Envoy
// Gateway (route and policy status) and the REAL cert-manager (certificates) turns each NebariApp Ready; the landing
// page service (in-process, the real one, signing tokens in against the same Keycloak realm) shows each pack's card
// to members of its groups only; deleting the NebariApp removes every child and the Keycloak client.
// (operator and landing page as ./platform-fixture.ts runs them).
// Stood in for (named): the kubelet (no pod runs, so no request reaches JupyterLab or Open WebUI), and Argo CD
// (the charts are applied the way its Application renders them; test/integration/argocd/packs.test.ts drives the
// root app-of-apps for real).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { sharedControlPlane, type ControlPlane } from '../../harness/control-plane.js';
import { sharedKeycloak, type KeycloakInstance } from '../../harness/keycloak.js';
import { NAMESPACE, ROLE, ROLEBINDING, SECRET } from '../../../operator/src/reconciler-resources.js';
import { childNames } from '../../../operator/src/desired/objects.js';
import type { KubeClient } from '../../../operator/src/runtime/kube.js';
import { KubeApi, describeRejections } from '../platform/kube-api.js';
import {
    CERTIFICATE_RT,
    HTTPROUTE_RT,
    LISTENERSET_RT,
    SECURITYPOLICY_RT,
    adminClient,
    deleteApp,
    ensureGateways,
    ensureNamespace,
    eventually,
    exists,
    getApp,
    waitCertificateIssued,
    waitForReason,
    type AnyObject,
} from '../operator/helpers.js';
import { packTools, renderChart } from './helpers.js';
import { startPackPlatform, type PackPlatform } from './platform-fixture.js';

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
    let cp: ControlPlane;
    let c: KubeClient;
    let pp: PackPlatform;

    before(async function () {
        this.timeout(600_000);
        packTools();
        let kc: KeycloakInstance;
        [cp, kc] = await Promise.all([sharedControlPlane(), sharedKeycloak()]);
        c = adminClient(cp);
        await ensureGateways(c);
        pp = await startPackPlatform(cp, kc, { name: `packs-${id}`, users: ['dana', 'carl'], watchNamespaces: cases.map((x) => x.ns) });
    });

    after(async () => {
        await pp?.stop();
        for (const ns of cases.map((x) => x.ns)) await c?.delete(NAMESPACE, '', ns).catch(() => undefined);
        await c?.close();
    });

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
            const [client] = await pp.admin.clients.find({ realm: pp.realm, clientId: `${k.ns}-${k.pack}` });
            assert.ok(client, 'Keycloak client provisioned');
            assert.deepEqual(client.redirectUris, [`https://${k.host}${k.redirectPath}`]);
            assert.ok(await c.get(SECRET, k.ns, `${k.pack}-oidc-client`));
            const rb = (await c.get(ROLEBINDING, k.ns, `${k.pack}-oidc-client-reader`)) as AnyObject;
            assert.deepEqual(rb.subjects.map((s: any) => s.name), [k.pack], 'only the pack\'s ServiceAccount reads the OIDC Secret');
            const sp = (await c.get(SECURITYPOLICY_RT, k.ns, names.securityPolicy)) as AnyObject | undefined;
            if (k.gatewayLogin) {
                assert.ok(sp, 'SecurityPolicy: login at the gateway');
                assert.equal(sp.spec.oidc.provider.issuer, pp.publicIssuer);
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
            await pp.addToGroup(k.member, k.group);
        }
        const mine = (ids: string[]) => ids.filter((x) => cases.some((k) => x.startsWith(`${k.ns}/`))).sort();
        await eventually('cards per user', async () => {
            const [dana, carl] = [mine(await pp.cardsFor('dana')), mine(await pp.cardsFor('carl'))];
            return JSON.stringify(dana) === JSON.stringify([`${cases[0]!.ns}/notebook`]) && JSON.stringify(carl) === JSON.stringify([`${cases[1]!.ns}/chat`]);
        }, 30_000, 250);
        const anonymous = await pp.anonymous();
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
                    return (await pp.admin.clients.find({ realm: pp.realm, clientId: `${k.ns}-${k.pack}` })).length === 0;
                },
                60_000,
                250,
            );
            // The pack's own workloads stay (they belong to the Application, not to the NebariApp).
            assert.ok(await c.get({ group: 'apps', version: 'v1', plural: 'deployments', kind: 'Deployment', namespaced: true }, k.ns, k.pack));
        });
    }
});
