/**
 * Pulumi Deployments for the NKP stacks: per stack a DeploymentSettings (this repository, preview on pull requests,
 * `up` on pushes to the branch, AWS through OIDC), a DriftSchedule (report-only for production, remediation where
 * configured), and one PolicyGroup that runs the published policy pack on every update of every stack.
 * Config (`pulumi config set --path ...` in this directory): organization, repository, branch, policyPack.{name,versionTag},
 * stacks[] = { name, production, awsRoleArn?, driftCron?, remediateDrift? }.
 */
import * as pulumi from '@pulumi/pulumi';
import { buildDeployments } from './program.js';

const cfg = new pulumi.Config();
buildDeployments({
    organization: cfg.require('organization'),
    repository: cfg.require('repository'),
    branch: cfg.get('branch') ?? 'main',
    policyPack: cfg.requireObject('policyPack'),
    stacks: cfg.requireObject('stacks'),
});
