import { strict as assert } from 'node:assert';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { outputIsSecret, outputValue, setupPulumiMocks, wholeStackOutputs, writeStandInKubeconfig, type RecordingMocks } from '../pulumi-mocks.js';
import { readStackFile } from '../../../stacks/stack-files.js';

/**
 * The program entry (stacks/index.ts) as the Pulumi engine runs it: config comes from the runtime's config map
 * (here set from the committed local stack file plus stand-in secrets), and the module's exports are the outputs.
 */
describe('stacks/index.ts: the program entry', function () {
    this.timeout(60_000);
    let mocks: RecordingMocks;
    let runtime: typeof import('@pulumi/pulumi').runtime;
    let kubeconfig: ReturnType<typeof writeStandInKubeconfig>;
    let importCount = 0;

    before(async () => {
        mocks = await setupPulumiMocks({ outputs: wholeStackOutputs, stack: 'local' });
        runtime = (await import('@pulumi/pulumi')).runtime;
        kubeconfig = writeStandInKubeconfig();
    });
    after(() => kubeconfig.cleanup());
    beforeEach(() => mocks.reset());

    function setConfig(overrides: Record<string, string>, secrets: Record<string, string>, stack = 'local') {
        const { values } = readStackFile(stack);
        const all: Record<string, string> = {};
        for (const [k, v] of Object.entries({ ...values, localKubeconfigPath: kubeconfig.path, ...overrides })) all[`nkp:${k}`] = v;
        for (const [k, v] of Object.entries(secrets)) all[`nkp:${k}`] = v;
        runtime.setAllConfig(all, Object.keys(secrets).map((k) => `nkp:${k}`));
    }
    // A fresh module instance per run (the entry runs its program at import time).
    const importEntry = () => import(`../../../stacks/index.ts?run=${++importCount}`) as Promise<Record<string, unknown>>;

    it('a bad value fails with every problem before any resource is registered', async () => {
        setConfig({ domain: 'NOT A DOMAIN', tlsIssuer: 'acme', keycloakReplica: '2' }, { argocdOidcClientSecret: 's', keycloakAdminPassword: 'p' });
        await assert.rejects(importEntry(), (e: Error) => {
            assert.equal(e.name, 'ConfigValidationError');
            assert.match(e.message, /nkp:domain = "NOT A DOMAIN" has an invalid format/);
            assert.match(e.message, /nkp:tlsIssuer = "acme" must be one of "letsencrypt", "letsencrypt-staging", "selfsigned-ca"/);
            assert.match(e.message, /nkp:keycloakReplica is not a setting of this program; did you mean nkp:keycloakReplicas\?/);
            return true;
        });
        await mocks.settle();
        assert.equal(mocks.resources.length, 0);
    });

    it('a missing secret fails before any resource is registered and says how to set it', async () => {
        setConfig({}, { argocdOidcClientSecret: 's' });
        await assert.rejects(importEntry(), /nkp:keycloakAdminPassword \(secret\) is required.*pulumi config set --secret keycloakAdminPassword/s);
        await mocks.settle();
        assert.equal(mocks.resources.length, 0);
    });

    it('a valid stack exports plain outputs and only the kubeconfig as a secret', async () => {
        setConfig({}, { argocdOidcClientSecret: 'argocd-client-secret-value', keycloakAdminPassword: 'admin-password-value' });
        const exports = await importEntry();
        await mocks.settle();
        assert.ok(mocks.resources.length > 50, `registered ${mocks.resources.length} resources`);
        assert.equal(await outputIsSecret(exports.kubeconfig as never), true);
        assert.equal(await outputValue(exports.argocdUrl as never), 'https://argocd.nkp.localtest.me');
        assert.equal(await outputValue(exports.oidcIssuerUrl as never), 'https://keycloak.nkp.localtest.me/realms/nebari');
        const plain = JSON.stringify(await Promise.all(Object.entries(exports).filter(([k]) => k !== 'kubeconfig').map(([, v]) => outputValue(v as never))));
        assert.ok(!plain.includes('argocd-client-secret-value') && !plain.includes('admin-password-value'), 'no secret in a plain output');
    });

    describe('AWS: the machine running pulumi up must be inside awsPublicAccessCidrs', () => {
        const secrets = { argocdOidcClientSecret: 's', keycloakAdminPassword: 'p', gitopsRepoSshKey: 'k', otelExporterToken: 't' };
        let server: Server;
        let answer = '198.51.100.77';
        let lookups = 0;
        const saved = { ip: process.env['NKP_DEPLOYER_IP'], url: process.env['NKP_DEPLOYER_IP_URL'] };
        before(async () => {
            // A real HTTP server standing in for https://checkip.amazonaws.com (which answers the caller's IPv4 as text).
            server = createServer((_req, res) => {
                lookups++;
                res.end(`${answer}\n`);
            });
            await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
        });
        after(() => {
            server.close();
            for (const [k, v] of [['NKP_DEPLOYER_IP', saved.ip], ['NKP_DEPLOYER_IP_URL', saved.url]] as const) {
                if (v === undefined) delete process.env[k];
                else process.env[k] = v;
            }
        });

        it('NKP_DEPLOYER_IP decides the check: an address, discover (the only mode that makes a request), skip, unset, invalid', async () => {
            const { deployerCheckMode, discoverDeployerAddress, DEFAULT_DEPLOYER_IP_URL } = await import('../../../stacks/deployer.js');
            assert.deepEqual(deployerCheckMode({ NKP_DEPLOYER_IP: ' 203.0.113.9 ' }), { mode: 'address', ip: '203.0.113.9' });
            assert.deepEqual(deployerCheckMode({ NKP_DEPLOYER_IP: 'discover' }), { mode: 'discover', url: DEFAULT_DEPLOYER_IP_URL });
            assert.deepEqual(deployerCheckMode({ NKP_DEPLOYER_IP: 'discover', NKP_DEPLOYER_IP_URL: 'http://127.0.0.1:1/' }), { mode: 'discover', url: 'http://127.0.0.1:1/' });
            assert.deepEqual(deployerCheckMode({ NKP_DEPLOYER_IP: 'skip' }), { mode: 'skip' });
            assert.deepEqual(deployerCheckMode({}), { mode: 'unchecked' });
            assert.match((deployerCheckMode({ NKP_DEPLOYER_IP: '300.1.1.1' }) as { reason: string }).reason, /not an IPv4 address, "discover" or "skip"/);
            const calls: string[] = [];
            const spy = (async (u: string) => {
                calls.push(u);
                return new Response('203.0.113.9');
            }) as unknown as typeof fetch;
            for (const env of [{}, { NKP_DEPLOYER_IP: 'skip' }, { NKP_DEPLOYER_IP: '203.0.113.9' }, { NKP_DEPLOYER_IP: 'x' }]) await discoverDeployerAddress(env, 1000, spy);
            assert.deepEqual(calls, [], 'no request unless discover');
            assert.deepEqual(await discoverDeployerAddress({ NKP_DEPLOYER_IP: 'discover' }, 1000, spy), { kind: 'address', ip: '203.0.113.9', source: DEFAULT_DEPLOYER_IP_URL });
            assert.deepEqual(calls, [DEFAULT_DEPLOYER_IP_URL]);
        });

        it('an address outside the CIDRs stops the program before any resource, naming the key and the fix', async () => {
            delete process.env['NKP_DEPLOYER_IP_URL'];
            process.env['NKP_DEPLOYER_IP'] = '203.0.113.9';
            setConfig({}, secrets, 'aws-staging');
            await assert.rejects(importEntry(), (e: Error) => {
                assert.equal(e.name, 'ConfigValidationError');
                assert.match(e.message, /nkp:awsPublicAccessCidrs: this machine runs pulumi up from 203\.0\.113\.9, which is outside every allowed CIDR \(198\.51\.100\.0\/24\).*Add 203\.0\.113\.9\/32/);
                return true;
            });
            await mocks.settle();
            assert.equal(mocks.resources.length, 0);
        });

        it('NKP_DEPLOYER_IP=discover: the address looked up over HTTP; outside is refused, inside builds the stack', async () => {
            process.env['NKP_DEPLOYER_IP'] = 'discover';
            process.env['NKP_DEPLOYER_IP_URL'] = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
            answer = '192.0.2.44';
            setConfig({}, secrets, 'aws-staging');
            await assert.rejects(importEntry(), /from 192\.0\.2\.44, which is outside every allowed CIDR/);
            answer = '198.51.100.77';
            const exports = await importEntry();
            await mocks.settle();
            assert.ok(mocks.ofType('eks:index:Cluster').length === 1, 'the cluster is registered');
            assert.equal(await outputValue(exports.cloudProvider as never), 'aws');
        });

        it('NKP_DEPLOYER_IP unset: no network call at startup (the lookup URL is never asked), the stack builds', async () => {
            delete process.env['NKP_DEPLOYER_IP'];
            process.env['NKP_DEPLOYER_IP_URL'] = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
            answer = '192.0.2.44'; // outside: it would be refused if it were asked
            const before = lookups;
            setConfig({}, secrets, 'aws-staging');
            await importEntry();
            await mocks.settle();
            assert.equal(lookups, before, 'nothing asked the lookup URL');
            assert.equal(mocks.ofType('eks:index:Cluster').length, 1);
            process.env['NKP_DEPLOYER_IP'] = 'no-address';
            mocks.reset();
            setConfig({}, secrets, 'aws-staging');
            await importEntry();
            await mocks.settle();
            assert.equal(lookups, before, 'an invalid value warns (stacks/deployer.ts) and asks nothing either');
        });
    });
});
