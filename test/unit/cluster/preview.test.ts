import { strict as assert } from 'node:assert';
import { setupPulumiMocks, type RecordingMocks } from '../pulumi-mocks.js';

describe('ClusterBaseline in a preview of a fresh Hetzner stack (load balancer address not known yet; Pulumi mocks)', () => {
    let mocks: RecordingMocks;
    let mod: typeof import('../../../components/cluster/index.js');
    let pulumi: typeof import('@pulumi/pulumi');
    before(async () => {
        mocks = await setupPulumiMocks({ preview: true });
        mod = await import('../../../components/cluster/index.js');
        pulumi = await import('@pulumi/pulumi');
    });
    after(async () => {
        // Leave non-preview mocks behind for the files that run after this one.
        await setupPulumiMocks();
    });

    it('only the rules that name the address are unknown; every policy\'s name, metadata and other rules are known', async () => {
        const unknownIp = pulumi.output(pulumi.unknown as unknown as string);
        new mod.ClusterBaseline('b', {
            provider: 'hetzner',
            oidcGroupsPrefix: 'oidc:',
            adminGroups: ['admins'],
            viewerGroups: [],
            defaultStorageClass: 'hcloud-volumes',
            network: { provider: 'hetzner', networkCidr: '10.10.0.0/16', gatewayLoadBalancerIp: unknownIp },
        });
        await mocks.settle();
        const policies = mocks.ofType('kubernetes:networking.k8s.io/v1:NetworkPolicy');
        assert.ok(policies.length > 20);
        for (const p of policies) assert.equal(typeof p.plain.metadata?.name, 'string', `${p.name}: metadata known`);
        const unknownSpecs = policies.filter((p) => pulumi.isUnknown(p.inputs['spec'])).map((p) => `${p.plain.metadata.namespace}/${p.plain.metadata.name}`);
        assert.deepEqual(unknownSpecs.sort(), ['nkp-landing/allow-oidc-issuer-egress', 'nkp-operator/allow-oidc-issuer-egress']);
        const deny = policies.find((p) => p.plain.metadata.namespace === 'nkp-operator' && p.plain.metadata.name === 'default-deny-egress')!;
        assert.deepEqual(deny.plain.spec, { podSelector: {}, policyTypes: ['Egress'] });
    });
});
