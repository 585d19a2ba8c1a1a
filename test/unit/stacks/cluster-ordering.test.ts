/**
 * Ordering: every Kubernetes resource of the platform goes through the provider `cluster`, whose kubeconfig comes
 * from the cloud component. That kubeconfig must carry the dependencies on what makes the cluster able to run pods
 * (EKS: the managed node groups and CoreDNS; Hetzner: every server and the CCM/CSI charts, the CCM lifting the nodes'
 * uninitialized taint), not only on the control plane. Recorded as the engine receives the registrations (property
 * dependencies) from the committed stacks under mocks, in a preview (AWS, Hetzner and the engine cannot run here).
 */
import { strict as assert } from 'node:assert';
import { platformConfigForStack } from '../../../stacks/stack-files.js';
import { recordProgram, type EngineResource } from '../policy/engine.js';

async function kubeconfigDeps(stack: string): Promise<{ deps: string[]; recorded: EngineResource[] }> {
    const { buildPlatform } = await import('../../../stacks/platform.js');
    const recorded = await recordProgram(stack, () => { buildPlatform(platformConfigForStack(stack)); });
    const provider = recorded.find((r) => r.type === 'pulumi:providers:kubernetes' && r.name === 'cluster');
    assert.ok(provider, 'the cluster provider is registered');
    return { deps: provider.propertyDependencies?.['kubeconfig'] ?? [], recorded };
}

describe('ordering: Kubernetes resources wait for nodes that can run them, not only for the kubeconfig', function () {
    this.timeout(120_000);

    it('aws-prod: the cluster provider depends on every managed node group and the CoreDNS addon', async () => {
        const { deps, recorded } = await kubeconfigDeps('aws-prod');
        const groups = recorded.filter((r) => r.type === 'aws:eks/nodeGroup:NodeGroup');
        assert.equal(groups.length, 2);
        for (const g of groups) assert.ok(deps.includes(g.urn), `waits for ${g.name}`);
        const coredns = recorded.find((r) => r.type === 'aws:eks/addon:Addon' && r.name === 'cloud-coredns')!;
        assert.ok(deps.includes(coredns.urn), 'waits for CoreDNS');
    });

    it('hetzner: the cluster provider depends on every server and on the CCM and CSI charts', async () => {
        const { deps, recorded } = await kubeconfigDeps('hetzner');
        const servers = recorded.filter((r) => r.type === 'hcloud:index/server:Server');
        assert.ok(servers.length >= 2);
        for (const s of servers) assert.ok(deps.includes(s.urn), `waits for ${s.name}`);
        for (const chart of ['cloud-hcloud-ccm', 'cloud-hcloud-csi']) {
            const c = recorded.find((r) => r.type === 'kubernetes:helm.sh/v4:Chart' && r.name === chart)!;
            assert.ok(deps.includes(c.urn), `waits for ${chart}`);
        }
    });
});
