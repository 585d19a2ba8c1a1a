/**
 * Pulumi Deployments for the stacks (deployments/): the plan (validation, settings per stack) and the program under
 * Pulumi mocks (Pulumi Cloud cannot be reached here): DeploymentSettings per stack with this repository, preview
 * on pull requests and up on main, OIDC to AWS (no static keys), drift schedules report-only for production, and
 * one preventative PolicyGroup with the published policy pack over every stack.
 */
import { strict as assert } from 'node:assert';
import { validateDeployments, type DeploymentsConfig } from '../../../deployments/plan.js';
import { setupPulumiMocks, type RecordingMocks } from '../pulumi-mocks.js';

const config = (over: Partial<DeploymentsConfig> = {}): DeploymentsConfig => ({
    organization: 'nebari-dev',
    repository: 'nebari-dev/nkp-pulumi',
    policyPack: { name: 'nkp-guardrails', versionTag: '0.1.0' },
    stacks: [
        { name: 'aws-prod', production: true, awsRoleArn: 'arn:aws:iam::210987654321:role/pulumi-deployments' },
        { name: 'aws-staging', production: false, awsRoleArn: 'arn:aws:iam::123456789012:role/pulumi-deployments', remediateDrift: true },
        { name: 'hetzner', production: false },
    ],
    ...over,
});

describe('deployments: Pulumi Deployments of the stacks', function () {
    this.timeout(60_000);
    let mocks: RecordingMocks;
    let buildDeployments: typeof import('../../../deployments/program.js').buildDeployments;
    before(async () => {
        mocks = await setupPulumiMocks();
        ({ buildDeployments } = await import('../../../deployments/program.js'));
    });
    beforeEach(() => mocks.reset());

    it('per stack: this repository, preview on pull requests, up on pushes to main, OIDC role for AWS; drift report-only in production', async () => {
        buildDeployments(config());
        await mocks.settle();
        const settings = mocks.ofType('pulumiservice:index:DeploymentSettings').map((r) => r.plain).sort((a, b) => String(a['stack']).localeCompare(String(b['stack'])));
        assert.deepEqual(settings.map((s) => s['stack']), ['aws-prod', 'aws-staging', 'hetzner']);
        for (const s of settings) {
            assert.equal(s['project'], 'nkp');
            assert.deepEqual(s['sourceContext'].git, { repoUrl: 'https://github.com/nebari-dev/nkp-pulumi.git', branch: 'refs/heads/main', repoDir: '.' });
            assert.equal(s['github'].previewPullRequests, true);
            assert.equal(s['github'].deployCommits, true);
            assert.ok(s['github'].paths.includes('policy/**'), 'a policy change deploys too');
            assert.ok(!JSON.stringify(s).match(/AWS_ACCESS_KEY_ID|AWS_SECRET_ACCESS_KEY/), 'no static keys');
        }
        assert.equal(settings[0]!['operationContext'].oidc.aws.roleARN, 'arn:aws:iam::210987654321:role/pulumi-deployments');
        assert.equal(settings[2]!['operationContext'].oidc, undefined, 'Hetzner needs no AWS role');
        const drift = Object.fromEntries(mocks.ofType('pulumiservice:index:DriftSchedule').map((r) => [r.plain['stack'], r.plain]));
        assert.deepEqual([drift['aws-prod']!['autoRemediate'], drift['aws-staging']!['autoRemediate'], drift['hetzner']!['autoRemediate']], [false, true, false]);
        assert.equal(drift['aws-prod']!['scheduleCron'], '0 */6 * * *');
        const group = mocks.one('pulumiservice:index:PolicyGroup').plain;
        assert.equal(group['mode'], 'preventative', 'violations block the update');
        assert.deepEqual(group['policyPacks'], [{ name: 'nkp-guardrails', versionTag: '0.1.0' }]);
        assert.deepEqual(group['stacks'].map((s: { name: string; routingProject: string }) => `${s.routingProject}/${s.name}`).sort(), ['nkp/aws-prod', 'nkp/aws-staging', 'nkp/hetzner']);
    });

    const failures: [string, Partial<DeploymentsConfig>, RegExp][] = [
        ['remediation in production', { stacks: [{ name: 'aws-prod', production: true, remediateDrift: true }] }, /stacks\[0\]\.remediateDrift: aws-prod is production: drift is reported only/],
        ['a bad role ARN', { stacks: [{ name: 'aws-prod', production: true, awsRoleArn: 'arn:aws:iam::1:user/x' }] }, /stacks\[0\]\.awsRoleArn/],
        ['a repository that is not owner/name', { repository: 'https://github.com/x/y' }, /invalid repository/],
        ['no policy pack', { policyPack: { name: '', versionTag: '' } }, /invalid policyPack: .*runs on every update/],
        ['a stack twice', { stacks: [{ name: 'hetzner', production: false }, { name: 'hetzner', production: false }] }, /stacks\[1\]\.name: hetzner is listed twice/],
        ['a bad cron', { stacks: [{ name: 'hetzner', production: false, driftCron: 'hourly' }] }, /stacks\[0\]\.driftCron/],
    ];
    for (const [what, over, message] of failures) {
        it(`refuses ${what} before registering anything, naming the field`, async () => {
            assert.throws(() => validateDeployments(config(over)), message);
            assert.throws(() => buildDeployments(config(over)), message);
            await mocks.settle();
            assert.equal(mocks.resources.length, 0);
        });
    }
});
