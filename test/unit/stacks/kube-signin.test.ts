// Kubernetes API sign-in through the realm (nkp:kubernetesOidc): one source (components/cloud/kube-oidc.ts) for the K3s
// kube-apiserver args in the Hetzner cloud-init, the EKS identity provider config and the flags the integration test
// gives a real kube-apiserver (test/integration/cloud/kube-oidc.test.ts); the kubectl client in the realm; the
// kubeconfig output. Pulumi mocks stand in for AWS, Hetzner and Keycloak (their providers cannot run here).
/* eslint-disable @typescript-eslint/no-explicit-any -- recorded inputs and parsed documents are untyped */
import { strict as assert } from 'node:assert';
import { parse } from 'yaml';
import { outputIsSecret, outputValue, setupPulumiMocks, STAND_IN_KUBECONFIG, wholeStackOutputs, writeStandInKubeconfig, type RecordingMocks } from '../pulumi-mocks.js';
import {
    apiServerEndpointOf,
    apiServerOidcFlagPairs,
    eksOidcIdentityProviderConfig,
    k3sApiServerOidcArgs,
    KUBELOGIN_REDIRECT_URIS,
    kubeApiServerOidcFlags,
    kubeloginArgs,
    oidcKubeconfig,
    platformApiServerOidc,
} from '../../../components/cloud/kube-oidc.js';
import { k3sConfig, validateHetznerCloudArgs } from '../../../components/cloud/hetzner-plan.js';
import { GROUPS_CLAIM, kubernetesClient } from '../../../components/identity/spec.js';
import { ConfigValidationError } from '../../../stacks/config.js';
import { settingsForStack } from '../../../stacks/stack-files.js';

describe('Kubernetes API sign-in: one source for the API servers, the realm client and the kubeconfig', function () {
    this.timeout(60_000);

    describe('pure', () => {
        it('the stack derives the API server settings from the realm issuer, the client id and the baseline\'s group prefix', () => {
            for (const stack of ['hetzner', 'aws-prod', 'local'] as const) {
                const s = settingsForStack(stack, stack === 'local' ? { localKubeconfigPath: '/dev/null' } : {});
                assert.deepEqual(s.kubernetesApi.oidc, {
                    issuerUrl: s.keycloak.issuerURL,
                    clientId: 'kubernetes',
                    usernameClaim: 'preferred_username',
                    usernamePrefix: 'oidc:',
                    groupsClaim: GROUPS_CLAIM,
                    groupsPrefix: s.clusterAccess.oidcGroupsPrefix,
                }, stack);
            }
            assert.equal(settingsForStack('hetzner', { kubernetesOidc: false }).kubernetesApi.oidc, undefined);
            assert.equal(settingsForStack('hetzner', { kubernetesOidcClientId: 'kubectl' }).kubernetesApi.oidc!.clientId, 'kubectl');
        });

        it('an empty group prefix is refused while sign-in is on (a realm group system:masters would be the API server\'s), naming the key', () => {
            assert.throws(() => settingsForStack('hetzner', { oidcGroupsPrefix: '' }), (e: unknown) => e instanceof ConfigValidationError && /nkp:oidcGroupsPrefix must not be empty while nkp:kubernetesOidc is true.*system:masters/.test(e.message));
            assert.equal(settingsForStack('hetzner', { oidcGroupsPrefix: '', kubernetesOidc: false }).kubernetesApi.oidc, undefined, 'allowed with sign-in off');
            assert.throws(() => platformApiServerOidc({ issuerUrl: 'https://k.example.com/realms/r', clientId: 'kubernetes', groupsPrefix: '' }), /groupsPrefix must not be empty/);
            assert.throws(() => platformApiServerOidc({ issuerUrl: 'http://k.example.com/realms/r', clientId: 'kubernetes', groupsPrefix: 'oidc:' }), /apiServerOidc\.issuerUrl/);
            assert.throws(() => settingsForStack('hetzner', { kubernetesOidcClientId: 'a b' }), /nkp:kubernetesOidcClientId/);
        });

        it('kube-apiserver flags, K3s args and the EKS config carry the same six settings; the CA file only where asked', () => {
            const o = settingsForStack('hetzner').kubernetesApi.oidc!;
            const pairs = apiServerOidcFlagPairs(o);
            assert.deepEqual(pairs.map(([k]) => k), ['oidc-issuer-url', 'oidc-client-id', 'oidc-username-claim', 'oidc-username-prefix', 'oidc-groups-claim', 'oidc-groups-prefix']);
            assert.deepEqual(kubeApiServerOidcFlags(o), pairs.map(([k, v]) => `--${k}=${v}`));
            assert.deepEqual(k3sApiServerOidcArgs(o), pairs.map(([k, v]) => `${k}=${v}`));
            const eks = eksOidcIdentityProviderConfig(o);
            assert.deepEqual([eks.issuerUrl, eks.clientId, eks.usernameClaim, eks.usernamePrefix, eks.groupsClaim, eks.groupsPrefix], pairs.map(([, v]) => v));
            assert.deepEqual(kubeApiServerOidcFlags(o, { caFile: '/tmp/ca.crt' }).at(-1), '--oidc-ca-file=/tmp/ca.crt');
        });

        it('the Hetzner control planes\' K3s config (cloud-init) holds exactly those args; agents none', () => {
            const s = settingsForStack('hetzner');
            const plan = validateHetznerCloudArgs({ ...s.cloud.provider === 'hetzner' ? s.cloud.hetzner : ({} as never), sshPrivateKey: 'x', hcloudToken: 'y' });
            const ctx = { k3sVersion: plan.k3sVersion, token: 't', initServerIp: '10.10.1.2', tlsSans: [], highAvailability: plan.highAvailability, apiServerOidc: plan.apiServerOidc! };
            const cp = plan.servers.find((x) => x.role === 'server')!;
            assert.deepEqual(k3sConfig(cp, ctx)['kube-apiserver-arg'], k3sApiServerOidcArgs(s.kubernetesApi.oidc!));
            const agent = plan.servers.find((x) => x.role === 'agent');
            if (agent) assert.equal(k3sConfig(agent, ctx)['kube-apiserver-arg'], undefined);
        });

        it('the realm\'s kubectl client: public, authorization code + PKCE S256 only, redirects exactly to kubelogin\'s loopback listener', () => {
            const c = kubernetesClient('kubernetes', KUBELOGIN_REDIRECT_URIS);
            assert.equal(c.accessType, 'PUBLIC');
            assert.equal(c.standardFlowEnabled, true);
            assert.equal(c.pkceCodeChallengeMethod, 'S256');
            assert.equal(c.directAccessGrantsEnabled, false, 'no password grant');
            assert.equal(c.implicitFlowEnabled, false);
            assert.equal(c.serviceAccountsEnabled, false);
            assert.equal(c.fullScopeAllowed, false, 'no realm roles in its tokens');
            assert.deepEqual(c.validRedirectUris, ['http://localhost:8000', 'http://localhost:18000']);
            assert.deepEqual(c.webOrigins, []);
            assert.throws(() => kubernetesClient('kubernetes', ['http://localhost:8000/*']), /redirect URI "http:\/\/localhost:8000\/\*" is not allowed/);
            assert.throws(() => kubernetesClient('kubernetes', ['https://evil.example.com']), /only http:\/\/localhost:<port>/);
            assert.throws(() => kubernetesClient('', KUBELOGIN_REDIRECT_URIS), /client id "" is not allowed/);
        });

        it('the sign-in kubeconfig: the cluster\'s address and CA from the admin kubeconfig, kubelogin as exec plugin, no credential', () => {
            const o = settingsForStack('hetzner').kubernetesApi.oidc!;
            const text = oidcKubeconfig({ name: 'nkp-hetzner', endpoint: apiServerEndpointOf(STAND_IN_KUBECONFIG), oidc: o });
            const kc = parse(text) as any;
            assert.deepEqual(kc.clusters, [{ name: 'nkp-hetzner', cluster: { server: 'https://127.0.0.1:6443', 'certificate-authority-data': 'Q0E=' } }]);
            const exec = kc.users[0].user.exec;
            assert.equal(exec.apiVersion, 'client.authentication.k8s.io/v1');
            assert.equal(exec.command, 'kubectl');
            assert.deepEqual(exec.args, kubeloginArgs(o));
            assert.deepEqual(exec.args, ['oidc-login', 'get-token', `--oidc-issuer-url=${o.issuerUrl}`, '--oidc-client-id=kubernetes', '--oidc-pkce-method=S256', '--grant-type=authcode']);
            assert.equal(kc['current-context'], 'nkp-hetzner');
            assert.ok(!/token:|client-key|client-certificate|password|stand-in/.test(text), 'no credential of the admin kubeconfig');
            assert.throws(() => apiServerEndpointOf('apiVersion: v1\nkind: Config\nclusters: []\n'), /no cluster with a server/);
        });
    });

    describe('stacks under Pulumi mocks', () => {
        let mocks: RecordingMocks;
        let stackFiles: typeof import('../../../stacks/stack-files.js');
        let platform: typeof import('../../../stacks/platform.js');
        let kubeconfig: ReturnType<typeof writeStandInKubeconfig>;
        before(async () => {
            mocks = await setupPulumiMocks({ outputs: wholeStackOutputs, call: (c) => (c.token === 'keycloak:openid/getClient:getClient' ? { ...c.inputs, id: `uuid-of-${c.inputs.clientId}` } : undefined) });
            stackFiles = await import('../../../stacks/stack-files.js');
            platform = await import('../../../stacks/platform.js');
            kubeconfig = writeStandInKubeconfig();
        });
        after(() => kubeconfig.cleanup());
        beforeEach(() => mocks.reset());
        async function run(stack: string, overrides: Record<string, unknown> = {}) {
            const cfg = stackFiles.platformConfigForStack(stack, { ...(stack === 'local' ? { localKubeconfigPath: kubeconfig.path } : {}), ...overrides });
            const p = platform.buildPlatform(cfg);
            await outputValue(p.foundation.applicationNames);
            await mocks.settle();
            return { p, settings: cfg.settings };
        }

        it('AWS: the EKS identity provider config carries the same settings, once identity has converged (EKS reads the issuer)', async () => {
            await run('aws-prod');
            assert.equal(mocks.ofType('aws:eks/identityProviderConfig:IdentityProviderConfig').length, 0, 'not before identityEnabled: Keycloak does not exist yet');
            mocks.reset();
            const { settings } = await run('aws-prod', { identityEnabled: true });
            const idp = mocks.one('aws:eks/identityProviderConfig:IdentityProviderConfig');
            assert.deepEqual(idp.plain.oidc, eksOidcIdentityProviderConfig(settings.kubernetesApi.oidc!));
            assert.equal(idp.plain.oidc.groupsPrefix, settings.clusterAccess.oidcGroupsPrefix, 'the prefix the baseline binds');
        });

        it('identity makes the public kubectl client with the groups mapper; the kubeconfig output is plain (no credential) and names the realm', async () => {
            const { p, settings } = await run('hetzner', { identityEnabled: true });
            const client = mocks.ofType('keycloak:openid/client:Client').find((c) => c.plain.clientId === 'kubernetes')!;
            assert.ok(client, 'the kubectl client');
            assert.equal(client.plain.accessType, 'PUBLIC');
            assert.deepEqual(client.plain.validRedirectUris, [...KUBELOGIN_REDIRECT_URIS]);
            const mapper = mocks.ofType('keycloak:openid/groupMembershipProtocolMapper:GroupMembershipProtocolMapper').find((m) => m.name === 'identity-kubernetes-groups')!;
            assert.equal(mapper.plain.claimName, settings.kubernetesApi.oidc!.groupsClaim);
            assert.equal(mapper.plain.fullPath, false, 'plain group names, as the baseline binds them');
            const out = p.outputs.kubeconfigOidc as import('@pulumi/pulumi').Output<string>;
            assert.equal(await outputIsSecret(out), false, 'a kubeconfig without credentials is not a secret');
            const kc = parse(await outputValue(out)) as any;
            assert.ok(kc.users[0].user.exec.args.includes(`--oidc-issuer-url=${settings.keycloak.issuerURL}`));
            assert.equal(kc.clusters[0].cluster.server, 'https://198.51.100.10:6443', 'the first control plane\'s public address (stand-in primary IP)');
            assert.equal(p.outputs.kubeApiServerOidcFlags, undefined, 'Hetzner: the program sets the flags itself');
        });

        it('local clusters: the kubeconfig and the kube-apiserver flags to start the cluster with; off: neither, and no kubectl client', async () => {
            const { p, settings } = await run('local');
            assert.deepEqual(p.outputs.kubeApiServerOidcFlags, kubeApiServerOidcFlags(settings.kubernetesApi.oidc!));
            mocks.reset();
            const off = await run('local', { kubernetesOidc: false, identityEnabled: true, keycloakAdminUrl: 'http://127.0.0.1:8080' });
            assert.equal(off.p.outputs.kubeconfigOidc, undefined);
            assert.equal(off.p.outputs.kubeApiServerOidcFlags, undefined);
            assert.equal(mocks.ofType('keycloak:openid/client:Client').filter((c) => c.plain.clientId === 'kubernetes').length, 0);
        });
    });
});
