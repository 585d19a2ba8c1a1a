import { strict as assert } from 'node:assert';
import { parse } from 'yaml';
import { isSecretMarker, outputIsSecret, outputValue, setupPulumiMocks, wholeStackOutputs, writeStandInKubeconfig, type RecordedResource, type RecordingMocks } from '../pulumi-mocks.js';
import { STACKS } from '../../../stacks/stack-files.js';
import { allNetworkPolicies } from '../../../components/cluster/baseline.js';
import { clusterNetwork } from '../../../components/cluster/network.js';
import { PLATFORM_NAMESPACE_NAMES } from '../../../components/cluster/namespaces.js';
import { SYNC_WAVES } from '../../../components/foundation/spec.js';
import { standInCa, withLocalCaOutputs } from '../foundation/local-ca-stand-in.js';

describe('buildPlatform: every committed stack under Pulumi mocks', function () {
    this.timeout(60_000);
    let mocks: RecordingMocks;
    /** The foundation's child Applications: the values of the parent Application `foundation` (Argo CD creates them). */
    const foundationChildren = (): RecordedResource['plain'][] => mocks.ofType('kubernetes:argoproj.io/v1alpha1:Application').find((a) => a.plain.metadata.name === 'foundation')!.plain.spec.source.helm.valuesObject.applications;
    const foundationChild = (name: string) => ({ plain: foundationChildren().find((c) => c.metadata.name === name)! });
    let stackFiles: typeof import('../../../stacks/stack-files.js');
    let platform: typeof import('../../../stacks/platform.js');
    // The local stack points at ~/.kube/config; under test it reads a stand-in kubeconfig file with the same context.
    let kubeconfig: ReturnType<typeof writeStandInKubeconfig>;
    let localOverrides: Record<string, unknown>;

    before(async () => {
        mocks = await setupPulumiMocks({ outputs: withLocalCaOutputs(wholeStackOutputs) });
        stackFiles = await import('../../../stacks/stack-files.js');
        platform = await import('../../../stacks/platform.js');
        kubeconfig = writeStandInKubeconfig();
        localOverrides = { localKubeconfigPath: kubeconfig.path };
    });
    after(() => kubeconfig.cleanup());
    beforeEach(() => mocks.reset());

    async function run(stack: string, overrides: Record<string, unknown> = {}) {
        const cfg = stackFiles.platformConfigForStack(stack, { ...(stack === 'local' ? localOverrides : {}), ...overrides });
        const p = platform.buildPlatform(cfg);
        await outputValue(p.foundation.applicationNames);
        await mocks.settle();
        return p;
    }

    for (const stack of STACKS) {
        it(`${stack}: cloud -> provider -> baseline -> ArgoCD -> foundation, every Kubernetes object through the cluster provider`, async () => {
            const p = await run(stack);
            const provider = p.cloud.provider;
            assert.equal(mocks.ofType(provider === 'aws' ? 'nkp:cloud:AwsCloud' : provider === 'hetzner' ? 'nkp:cloud:HetznerCloud' : 'nkp:cloud:LocalCluster').length, 1);
            for (const t of ['nkp:cluster:Baseline', 'nkp:argocd:ArgoCD', 'nkp:foundation:Foundation']) assert.equal(mocks.ofType(t).length, 1, t);
            assert.equal(mocks.ofType('nkp:identity:Identity').length, 0, 'identity waits for identityEnabled');
            const k8sProvider = mocks.one('pulumi:providers:kubernetes', 'cluster').plain;
            assert.equal(k8sProvider.enableServerSideApply, 'true');
            assert.equal(k8sProvider.enableConfigMapMutable, 'true', 'fixed-name ConfigMaps are updated in place, never replaced (a replace would delete the new one)');
            assert.deepEqual(mocks.ofType('kubernetes:core/v1:Namespace').map((n) => n.plain.metadata.name).sort(), [...PLATFORM_NAMESPACE_NAMES].sort());
            assert.equal(mocks.ofType('kubernetes:networking.k8s.io/v1:NetworkPolicy').length, allNetworkPolicies(clusterNetwork({ provider: 'local' })).length);
            assert.equal(mocks.one('kubernetes:helm.sh/v4:Chart', 'argocd-chart').plain.chart, 'argo-cd');
            // AWS also has its add-ons' Applications (project aws-addons; test/unit/stacks/aws-addons-order.test.ts).
            const apps = mocks.ofType('kubernetes:argoproj.io/v1alpha1:Application').filter((a) => a.plain.spec.project !== 'aws-addons');
            assert.deepEqual(apps.map((a) => a.plain.metadata.name).sort(), ['foundation', 'packs'], 'the foundation parent + the root app-of-apps');
            const children = foundationChildren();
            assert.deepEqual(children.map((c) => c.metadata.name).sort(), Object.keys(SYNC_WAVES).sort(), 'every foundation Application is a child of the parent');
            for (const a of [...apps.map((x) => x.plain), ...children]) assert.ok(!/^(HEAD|main|master|\*)$/.test(a.spec.source.targetRevision), a.metadata.name);
            assert.equal(mocks.ofType('kubernetes:argoproj.io/v1alpha1:AppProject').length, provider === 'aws' ? 4 : 3);
            // Every Kubernetes object of the platform layers goes through the cluster's provider, never an ambient kubeconfig.
            const platformK8s = mocks.resources.filter((r) => r.type.startsWith('kubernetes:') && !r.name.startsWith('cloud'));
            for (const r of platformK8s) assert.match(r.provider ?? '', /pulumi:providers:kubernetes::cluster::/, `${r.type} ${r.name}`);
        });

        it(`${stack}: secrets stay secret and no stack output carries one`, async () => {
            const p = await run(stack);
            for (const s of mocks.ofType('kubernetes:core/v1:Secret').filter((x) => !x.name.startsWith('cloud'))) {
                const sd = s.inputs.stringData as Record<string, unknown>;
                const secretValues = Object.entries(s.plain.stringData as Record<string, string>).filter(([k]) => ['password', 'clientSecret', 'client-secret', 'token', 'sshPrivateKey', 'tls.key'].includes(k));
                for (const [k] of secretValues) assert.ok(isSecretMarker(sd) || isSecretMarker(sd[k]), `${s.plain.metadata.name}.${k} is a Pulumi secret`);
            }
            assert.equal(await outputIsSecret(p.cloud.kubeconfig), true);
            const outputs = JSON.stringify(await Promise.all(Object.values(p.outputs).map((o) => outputValue(o as never))));
            assert.ok(!outputs.includes('stand-in-'), 'no secret value in the plain outputs');
        });
    }

    it('identityEnabled adds the Identity component after the foundation, with the upstream of the stack', async () => {
        await run('aws-prod', { identityEnabled: true });
        assert.equal(mocks.ofType('nkp:identity:Identity').length, 1);
        assert.equal(mocks.ofType('keycloak:ldap/userFederation:UserFederation').length, 1);
        assert.deepEqual(mocks.ofType('keycloak:index/group:Group').map((g) => g.plain.name), ['admins', 'developers', 'viewers', 'data-scientists', 'analysts']);
        // The operator's service-account credentials land in the operator namespace through the cluster's provider, as a secret.
        const creds = mocks.ofType('kubernetes:core/v1:Secret').find((s) => s.plain.metadata?.name === 'keycloak-admin' && s.plain.metadata?.namespace === 'nkp-operator')!;
        assert.match(creds.provider ?? '', /pulumi:providers:kubernetes::cluster::/);
        const sd = creds.inputs.stringData as Record<string, unknown>;
        assert.ok(isSecretMarker(sd) || isSecretMarker(sd['client-secret']));
        const roles = (client: string) => mocks.ofType('keycloak:openid/clientServiceAccountRole:ClientServiceAccountRole').filter((r) => r.name.startsWith(`identity-${client}-`)).map((r) => r.plain.role).sort();
        assert.deepEqual(roles('operator'), ['manage-clients', 'manage-users']);
        // The landing page's approval client: manage-users only, its Secret in the landing namespace through the cluster's provider.
        assert.deepEqual(roles('landing-admin'), ['manage-users']);
        const landingCreds = mocks.ofType('kubernetes:core/v1:Secret').find((s) => s.plain.metadata?.name === 'landing-keycloak-admin' && s.plain.metadata?.namespace === 'nkp-landing')!;
        assert.match(landingCreds.provider ?? '', /pulumi:providers:kubernetes::cluster::/);
        // The operator Application points the operator at the same realm for its clients and its own credentials.
        const op = foundationChild('nkp-operator');
        const patch = op.plain.spec.source.kustomize.patches[0].patch as string;
        for (const v of ['KEYCLOAK_URL', 'KEYCLOAK_REALM', 'KEYCLOAK_ADMIN_REALM']) assert.match(patch, new RegExp(`name: ${v}`));
        await run('aws-staging', { identityEnabled: true });
        assert.equal(mocks.ofType('keycloak:oidc/identityProvider:IdentityProvider').length, 1);
    });

    it('the egress policies follow the stack\'s provider: AWS VPC CIDR, Hetzner load balancer address, local gateway pods', async () => {
        const rule = (ns: string, name: string) => mocks.ofType('kubernetes:networking.k8s.io/v1:NetworkPolicy').find((r) => r.plain.metadata.namespace === ns && r.plain.metadata.name === name)!.plain.spec.egress[0];
        await run('hetzner');
        assert.deepEqual(rule('nkp-landing', 'allow-oidc-issuer-egress').to, [{ ipBlock: { cidr: '198.51.100.80/32' } }]);
        mocks.reset();
        await run('aws-prod');
        const stack = stackFiles.settingsForStack('aws-prod');
        const vpc = stack.cloud.provider === 'aws' ? stack.cloud.aws.vpcCidr : undefined;
        assert.deepEqual(rule('nkp-operator', 'allow-apiserver-egress').to, [{ ipBlock: { cidr: vpc } }]);
        mocks.reset();
        await run('local');
        assert.equal(rule('nkp-landing', 'allow-oidc-issuer-egress').to[0].namespaceSelector.matchLabels['kubernetes.io/metadata.name'], 'envoy-gateway-system');
    });

    it('local (k3d): one program-generated CA signs for cert-manager, ArgoCD trusts it for OIDC, and CoreDNS sends the hostnames to the gateway', async () => {
        const p = await run('local');
        const { certPem, privateKeyPem } = standInCa();
        assert.equal(mocks.ofType('nkp:foundation:LocalCA').length, 1);
        const values = mocks.one('kubernetes:helm.sh/v4:Chart', 'argocd-chart').plain.values;
        assert.deepEqual(values.configs.cm, { create: false }, 'the chart leaves argocd-cm to the program (it holds the CA)');
        assert.ok(!JSON.stringify(values).includes('BEGIN CERTIFICATE'), 'the chart values never wait for the CA');
        const argocdCm = mocks.one('kubernetes:core/v1:ConfigMap', 'argocd-cm').plain;
        assert.equal(argocdCm.metadata.labels['app.kubernetes.io/part-of'], 'argocd');
        assert.equal(parse(argocdCm.data['oidc.config']).rootCA, certPem, 'ArgoCD verifies the issuer with the local CA');
        const caSecret = mocks.ofType('kubernetes:core/v1:Secret').find((x) => x.plain.metadata?.name === 'nkp-ca')!;
        assert.deepEqual([caSecret.plain.stringData['tls.crt'], caSecret.plain.stringData['tls.key']], [certPem, privateKeyPem], 'cert-manager signs with the same CA');
        for (const ns of ['nkp-operator', 'nkp-landing']) {
            const cm = mocks.ofType('kubernetes:core/v1:ConfigMap').find((x) => x.plain.metadata?.name === 'nkp-local-ca' && x.plain.metadata?.namespace === ns)!;
            assert.equal(cm.plain.data['ca.crt'], certPem, ns);
        }
        const dns = mocks.ofType('kubernetes:core/v1:ConfigMap').find((x) => x.plain.metadata?.name === 'coredns-custom')!;
        assert.equal(dns.plain.metadata.namespace, 'kube-system');
        assert.match(Object.values(dns.plain.data as Record<string, string>)[0]!, /nkp\\.localtest\\.me/);
        assert.match(dns.provider ?? '', /pulumi:providers:kubernetes::cluster::/);
        assert.equal(await outputValue(p.outputs.localCaCertificate as never), certPem, 'the CA to import into the browser is a stack output');
        assert.equal(await outputIsSecret(p.outputs.localCaCertificate as never), false);
        const gateway = foundationChild('gateway-config');
        assert.ok(!gateway.plain.spec.source.kustomize.patches.some((x: { target: { name: string } }) => x.target.name === 'selfsigned-ca'), 'the CA issuer stays');
    });

    it('kind and other local flavours get the CA but no CoreDNS override (their CoreDNS does not import coredns-custom)', async () => {
        await run('local', { localFlavour: 'kind' });
        assert.equal(mocks.ofType('nkp:foundation:LocalCA').length, 1);
        assert.ok(!mocks.ofType('kubernetes:core/v1:ConfigMap').some((x) => x.plain.metadata?.name === 'coredns-custom'));
    });

    for (const stack of ['hetzner', 'aws-prod']) {
        it(`${stack}: no local CA, no rootCA, no CoreDNS override`, async () => {
            const p = await run(stack);
            assert.equal(mocks.ofType('nkp:foundation:LocalCA').length, 0);
            assert.equal(mocks.ofType('pulumi-nodejs:dynamic:Resource').length, 0);
            assert.equal('rootCA' in parse(mocks.one('kubernetes:core/v1:ConfigMap', 'argocd-cm').plain.data['oidc.config']), false);
            assert.ok(!mocks.ofType('kubernetes:core/v1:ConfigMap').some((x) => ['coredns-custom', 'nkp-local-ca'].includes(x.plain.metadata?.name)));
            assert.equal('localCaCertificate' in p.outputs, false);
        });
    }

    it('uses the stack\'s storage class for Keycloak\'s database and its gitops source for the root app', async () => {
        const p = await run('hetzner');
        assert.equal(await outputValue(p.outputs.gatewayLoadBalancerIp as never), '198.51.100.80', 'Hetzner exports where DNS must point');
        const db = foundationChild('keycloak-database');
        assert.match(db.plain.spec.source.kustomize.patches[0].patch, /hcloud-volumes-retain/);
        const root = mocks.ofType('kubernetes:argoproj.io/v1alpha1:Application').find((a) => a.plain.metadata.name === 'packs')!;
        assert.deepEqual([root.plain.spec.source.repoURL, root.plain.spec.source.targetRevision, root.plain.spec.source.path], ['https://github.com/example-org/nkp-gitops.git', 'v2026.11.1', 'clusters/hetzner/packs']);
        const repo = mocks.ofType('kubernetes:core/v1:Secret').find((s) => s.plain.metadata?.name === 'gitops-repository')!;
        assert.equal(repo.plain.stringData.password, 'stand-in-gitopsRepoPassword');
    });
});
