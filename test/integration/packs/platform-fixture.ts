// What reconciles and shows a pack once it is on the cluster, as the platform runs it: the operator (in process, the
// real reconciler) with the REAL Keycloak behind its provisioner, and the landing page service (in process, the real
// one) signing users in against the same realm. Shared by the packs end-to-end test (charts applied as Argo CD
// renders them) and the Argo CD packs test (the root app-of-apps syncs them for real).
// The operator is configured with the platform's public issuer URL (https://keycloak.<domain>/realms/<realm>, the one
// issuer browsers and the gateway both use; Envoy Gateway accepts only https issuers), while its provisioner talks
// to the harness Keycloak's admin API on loopback http; the landing page validates tokens from that Keycloak.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import type KcAdminClient from '@keycloak/keycloak-admin-client';
import { freePort, type ControlPlane } from '../../harness/control-plane.js';
import type { KeycloakInstance } from '../../harness/keycloak.js';
import { repoRoot } from '../../harness/upstream.js';
import { Operator } from '../../../operator/src/reconciler-controller.js';
import { NAMESPACE, SECRET } from '../../../operator/src/reconciler-resources.js';
import type { KubeObject } from '../../../operator/src/runtime/kube.js';
import { silentLogger } from '../../../operator/src/runtime/logger.js';
import { OperatorMetrics } from '../../../operator/src/runtime/metrics.js';
import { createKeycloakAuthProvisioner, type RawSecret } from '../../../operator/src/keycloak/index.js';
import { startLandingService, type LandingService } from '../../../packs/landing/src/service.js';
import { webAssets } from '../landing/helpers.js';
import { createRealm, masterAdmin } from '../keycloak/oidc-helpers.js';
import { adminClient, createSecret, ensureNamespace, testSettings } from '../operator/helpers.js';

export interface PackPlatform {
    realm: string;
    /** The issuer the operator writes into gateway policies and clients (https://keycloak.example.test/realms/<realm>). */
    publicIssuer: string;
    admin: KcAdminClient;
    /** Adds a realm user to a group (created by the operator for an app's auth.groups). */
    addToGroup(user: string, group: string): Promise<void>;
    /** Card ids (namespace/name) the landing page API shows this signed-in user. */
    cardsFor(user: string): Promise<string[]>;
    /** What the landing page API shows without a token. */
    anonymous(): Promise<string>;
    stop(): Promise<void>;
}

/**
 * A fresh realm with `users`, the operator watching `watchNamespaces` (its own namespace is created here), and the
 * landing page on loopback, all on the control plane `cp` and the Keycloak `kc`.
 */
export async function startPackPlatform(cp: ControlPlane, kc: KeycloakInstance, opts: { name: string; users: string[]; watchNamespaces: string[] }): Promise<PackPlatform> {
    const kubeConfig = cp.kubeConfig();
    const c = adminClient(cp);
    const realm = `${opts.name}-${randomBytes(3).toString('hex')}`;
    const passwords = await createRealm(kc, realm, opts.users);
    const issuer = `${kc.baseUrl}/realms/${realm}`;
    const publicIssuer = `https://keycloak.example.test/realms/${realm}`;
    const admin = await masterAdmin(kc);
    const opNs = `${realm}-op`;
    await ensureNamespace(c, opNs, false);
    await createSecret(c, opNs, 'keycloak-admin', { username: kc.adminUsername, password: kc.adminPassword });
    const readSecret = async (ref: { namespace: string; name: string }): Promise<RawSecret | undefined> => (await c.get<KubeObject & RawSecret>(SECRET, ref.namespace, ref.name)) as RawSecret | undefined;
    const auth = createKeycloakAuthProvisioner({ url: kc.baseUrl, realm, adminSecret: { namespace: opNs, name: 'keycloak-admin' } }, publicIssuer, readSecret);
    const settings = testSettings({ OIDC_ISSUER_URL: publicIssuer, POD_NAMESPACE: opNs, WATCH_NAMESPACES: opts.watchNamespaces.join(',') });
    const op = new Operator({ settings, kubeConfig, metrics: new OperatorMetrics(), log: silentLogger, provisioner: auth, serveHttp: false });
    await op.start();

    // The landing page's own client, as the operator provisions it for the shipped landing NebariApp (its protocol
    // mappers put the groups and the landing audience into access tokens); direct grants so the test can sign users
    // in without a browser.
    const shipped = parse(readFileSync(join(repoRoot, 'packs', 'landing', 'manifests', 'nebariapp.yaml'), 'utf8'));
    const clientId = `${shipped.metadata.namespace}-${shipped.metadata.name}`;
    const port = await freePort();
    const { id: cid } = await admin.clients.create({
        realm,
        clientId,
        publicClient: false,
        standardFlowEnabled: true,
        directAccessGrantsEnabled: true,
        redirectUris: [`http://127.0.0.1:${port}${shipped.spec.auth.redirectURI}`],
        protocolMappers: (shipped.spec.auth.keycloakConfig.protocolMappers as { name: string; protocolMapper: string; config: Record<string, string> }[]).map((m) => ({ name: m.name, protocol: 'openid-connect', protocolMapper: m.protocolMapper, config: m.config })),
    });
    const clientSecret = (await admin.clients.getClientSecret({ realm, id: cid })).value!;
    let landing: LandingService | undefined;
    const stop = async (): Promise<void> => {
        await landing?.stop();
        await op.stop();
        await c.delete(NAMESPACE, '', opNs).catch(() => undefined);
        await admin.realms.del({ realm }).catch(() => undefined);
        await c.close();
    };
    try {
        landing = await startLandingService({
            kubeConfig,
            oidc: { settings: { issuer, clientId, clientSecret, publicUrl: `http://127.0.0.1:${port}`, redirectPath: shipped.spec.auth.redirectURI, scopes: shipped.spec.auth.scopes, sessionTtlSeconds: 3600 } },
            staticDir: await webAssets(),
            log: silentLogger,
            port,
        });
    } catch (e) {
        await stop();
        throw e;
    }
    const url = landing.url;

    async function token(user: string): Promise<string> {
        const res = await fetch(`${issuer}/protocol/openid-connect/token`, {
            method: 'POST',
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
            body: new URLSearchParams({ grant_type: 'password', client_id: clientId, client_secret: clientSecret, username: user, password: passwords[user]!, scope: 'openid' }),
        });
        const body = (await res.json()) as { access_token?: string; error_description?: string };
        assert.ok(body.access_token, `token for ${user}: ${body.error_description}`);
        return body.access_token;
    }

    return {
        realm,
        publicIssuer,
        admin,
        async addToGroup(user, groupName) {
            const group = (await admin.groups.find({ realm })).find((g) => g.name === groupName);
            assert.ok(group?.id, `group ${groupName} created by the operator`);
            const [u] = await admin.users.find({ realm, username: user, exact: true });
            await admin.users.addToGroup({ realm, id: u!.id!, groupId: group.id });
        },
        async cardsFor(user) {
            const r = await fetch(`${url}/api/apps`, { headers: { authorization: `Bearer ${await token(user)}` } });
            assert.equal(r.status, 200, await r.clone().text());
            const text = await r.text();
            if (!text.includes('"groups"')) throw new Error(`unexpected /api/apps answer: ${text.slice(0, 300)}`);
            return [...text.matchAll(/"id":"([^"]+)"/g)].map((m) => m[1]!);
        },
        anonymous: async () => (await fetch(`${url}/api/apps`)).text(),
        stop,
    };
}
