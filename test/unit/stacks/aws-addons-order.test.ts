/**
 * Destroy order on AWS: the engine deletes a resource only after everything that depends on it. The foundation's
 * Applications (the gateway whose LoadBalancer Service gets an NLB) must therefore depend on the NLB destroy guard,
 * and the guard on the AWS Load Balancer Controller's Application: destroy then removes the gateway, waits for the
 * NLB to be gone, and only then removes the controller. Recorded as the engine receives the registrations
 * (dependencies per resource) from the aws-prod stack under mocks (AWS and the engine cannot run here).
 */
import { strict as assert } from 'node:assert';
import { platformConfigForStack } from '../../../stacks/stack-files.js';
import { recordProgram, type EngineResource } from '../policy/engine.js';

describe('AWS destroy order: gateway before the NLB guard before the Load Balancer Controller', function () {
    this.timeout(120_000);
    let recorded: EngineResource[];

    before(async () => {
        const { buildPlatform } = await import('../../../stacks/platform.js');
        recorded = await recordProgram('aws-prod', () => { buildPlatform(platformConfigForStack('aws-prod')); });
    });

    /** URNs a resource depends on, directly or through the resources it depends on. */
    function transitiveDeps(urn: string): Set<string> {
        const byUrn = new Map(recorded.map((r) => [r.urn, r]));
        const seen = new Set<string>();
        const stack = [...(byUrn.get(urn)?.dependencies ?? [])];
        while (stack.length > 0) {
            const u = stack.pop()!;
            if (seen.has(u)) continue;
            seen.add(u);
            stack.push(...(byUrn.get(u)?.dependencies ?? []));
        }
        return seen;
    }
    const one = (pred: (r: EngineResource) => boolean, what: string) => {
        const found = recorded.filter(pred);
        assert.equal(found.length, 1, `${what}: ${found.map((r) => r.urn).join(', ')}`);
        return found[0]!;
    };

    it('every foundation Application depends on the guard, the guard on the controller\'s Application', () => {
        const guard = one((r) => r.type === 'command:local:Command' && r.name === 'aws-addons-lb-drain', 'the NLB guard');
        const controller = one((r) => r.type === 'kubernetes:argoproj.io/v1alpha1:Application' && r.name === 'aws-addons-app-aws-load-balancer-controller', 'the controller Application');
        assert.ok(guard.dependencies!.includes(controller.urn), 'guard -> controller');
        const foundationApps = recorded.filter((r) => r.type === 'kubernetes:argoproj.io/v1alpha1:Application' && r.urn.includes('nkp:foundation:Foundation$'));
        assert.ok(foundationApps.length > 0, 'the foundation registers Applications');
        for (const app of foundationApps) assert.ok(transitiveDeps(app.urn).has(guard.urn), `${app.name} depends on the guard`);
        // And the add-ons come after Argo CD exists (their Applications need its CRDs and project).
        assert.ok([...transitiveDeps(controller.urn)].some((u) => u.includes('nkp:argocd:ArgoCD')), 'controller Application after Argo CD');
    });
});
