import { strict as assert } from 'node:assert';
import { setupPulumiMocks, type RecordingMocks } from '../pulumi-mocks.js';
import { COREDNS_CUSTOM, corednsCustomConfigMap, corednsOverride, PUBLIC_GATEWAY_SERVICE } from '../../../components/cluster/coredns.js';

/** The `name regex FROM TO` line of the override (RE2 and JavaScript agree on this pattern's syntax). */
function rewriteRule(text: string): { from: RegExp; to: string } {
    const m = /^\s*name regex (\S+) (\S+)$/m.exec(text);
    assert.ok(m, 'a name regex rule');
    return { from: new RegExp(m[1]!), to: m[2]! };
}

describe('cluster: platform hostnames resolve to the public gateway inside local clusters (CoreDNS)', () => {
    it('rewrites the domain and every name below it, and nothing else, to the Envoy Service, answering with the asked name', () => {
        const text = corednsOverride('nkp.localtest.me');
        const { from, to } = rewriteRule(text);
        for (const q of ['nkp.localtest.me.', 'argocd.nkp.localtest.me.', 'keycloak.nkp.localtest.me.', 'app.team.nkp.localtest.me.']) assert.ok(from.test(q), q);
        for (const q of ['localtest.me.', 'xnkp.localtest.me.', 'nkp.localtest.me.evil.example.', 'nkpxlocaltest.me.', 'argocd.nkp.localtest.me']) assert.ok(!from.test(q), q);
        assert.equal(to, `${PUBLIC_GATEWAY_SERVICE.name}.envoy-gateway-system.svc.cluster.local.`);
        assert.match(text, /^rewrite stop \{$/m, 'first matching rule wins');
        assert.match(text, /^\s+answer auto$/m, 'answers carry the name the client asked for');
        assert.equal((text.match(/\{/g) ?? []).length, (text.match(/\}/g) ?? []).length, 'balanced block');
    });

    it('the ConfigMap is K3s\' kube-system/coredns-custom with one *.override key (imported into the main server block)', () => {
        const cm = corednsCustomConfigMap('platform.example.test');
        assert.deepEqual([cm.metadata.namespace, cm.metadata.name], ['kube-system', 'coredns-custom']);
        assert.deepEqual(Object.keys(cm.data), [COREDNS_CUSTOM.key]);
        assert.match(COREDNS_CUSTOM.key, /\.override$/);
        assert.ok(rewriteRule(cm.data[COREDNS_CUSTOM.key]!).from.test('argocd.platform.example.test.'));
    });

    it('refuses a domain that is not a DNS name, naming it', () => {
        assert.throws(() => corednsOverride('localhost'), /domain "localhost" must be a DNS name with at least two labels/);
        assert.throws(() => corednsOverride('a.b; forward . 8.8.8.8'), /domain "a\.b; forward \. 8\.8\.8\.8" must be a DNS name/);
    });

    describe('ClusterBaseline (Pulumi mocks)', () => {
        let mocks: RecordingMocks;
        let mod: typeof import('../../../components/cluster/index.js');
        before(async () => {
            mocks = await setupPulumiMocks();
            mod = await import('../../../components/cluster/index.js');
        });
        beforeEach(() => mocks.reset());
        const base = { oidcGroupsPrefix: 'oidc:', adminGroups: ['admins'], viewerGroups: [], defaultStorageClass: 'local-path' };

        it('creates coredns-custom only when asked, on local clusters', async () => {
            new mod.ClusterBaseline('b', { ...base, provider: 'local', network: { provider: 'local' }, inClusterHostnames: { domain: 'nkp.localtest.me' } });
            await mocks.settle();
            const cm = mocks.one('kubernetes:core/v1:ConfigMap');
            assert.deepEqual([cm.plain.metadata.namespace, cm.plain.metadata.name], ['kube-system', 'coredns-custom']);
            assert.ok(rewriteRule(cm.plain.data[COREDNS_CUSTOM.key]).from.test('keycloak.nkp.localtest.me.'));
            mocks.reset();
            new mod.ClusterBaseline('c', { ...base, provider: 'local', network: { provider: 'local' } });
            await mocks.settle();
            assert.equal(mocks.ofType('kubernetes:core/v1:ConfigMap').length, 0);
        });

        it('refuses the override on cloud clusters', () => {
            assert.throws(
                () => new mod.ClusterBaseline('d', { ...base, provider: 'aws', network: { provider: 'aws', vpcCidr: '10.0.0.0/16' }, inClusterHostnames: { domain: 'example.com' } }),
                /inClusterHostnames is for local clusters only \(provider is aws\)/,
            );
        });
    });
});
