/** The Pulumi Deployments resources of the NKP stacks (see ./index.ts). */
import * as service from '@pulumi/pulumiservice';
import { NKP_PROJECT, deploymentSettings, validateDeployments, type DeploymentsConfig } from './plan.js';

export function buildDeployments(raw: DeploymentsConfig) {
    const c = validateDeployments(raw);
    const settings = c.stacks.map((s) => new service.DeploymentSettings(`settings-${s.name}`, deploymentSettings(c, s)));
    const drift = c.stacks.map((s) => new service.DriftSchedule(`drift-${s.name}`, {
        organization: c.organization, project: NKP_PROJECT, stack: s.name, scheduleCron: s.driftCron, autoRemediate: s.remediateDrift,
    }, { dependsOn: settings }));
    const policies = new service.PolicyGroup('nkp-guardrails', {
        name: 'nkp-stacks',
        organizationName: c.organization,
        entityType: 'stacks',
        mode: 'preventative',
        policyPacks: [{ name: c.policyPack.name, versionTag: c.policyPack.versionTag }],
        stacks: c.stacks.map((s) => ({ name: s.name, routingProject: NKP_PROJECT })),
    });
    return { settings, drift, policies };
}
