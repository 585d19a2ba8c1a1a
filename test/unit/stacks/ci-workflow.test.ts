/**
 * The CI workflow for a self-managed S3 backend (.github/workflows/stacks.yml): previews on pull requests, `up` only
 * on main, the policy pack on every run, AWS through OIDC without static keys, the backend from a variable, every
 * committed cloud stack. (GitHub Actions cannot run here: the workflow is read, not executed.)
 */
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { readStackFile, STACKS, STACKS_DIR } from '../../../stacks/stack-files.js';

type Step = { name?: string; if?: string; uses?: string; with?: Record<string, unknown>; run?: string };
const text = readFileSync(join(STACKS_DIR, '..', '.github/workflows/stacks.yml'), 'utf8');
const wf = parse(text) as {
    on: { pull_request: unknown; push: { branches: string[] } };
    permissions: Record<string, string>;
    concurrency: { 'cancel-in-progress': boolean };
    jobs: { stack: { strategy: { matrix: { stack: string[] } }; env: Record<string, string>; steps: Step[] } };
};
const steps = wf.jobs.stack.steps;

describe('CI for users: the S3-backend workflow', () => {
    it('previews on pull requests and runs up only on pushes to main, both with the policy pack and a refresh', () => {
        assert.ok(wf.on.pull_request !== undefined);
        assert.deepEqual(wf.on.push.branches, ['main']);
        const pulumiSteps = steps.filter((s) => s.uses?.startsWith('pulumi/actions@'));
        assert.deepEqual(pulumiSteps.map((s) => [s.with!['command'], s.if]), [['preview', "github.event_name == 'pull_request'"], ['up', "github.event_name == 'push'"]]);
        for (const s of pulumiSteps) {
            assert.equal(s.with!['policyPacks'], 'policy');
            assert.equal(s.with!['refresh'], true);
            assert.equal(s.with!['stack-name'], '${{ matrix.stack }}');
        }
        assert.equal(wf.concurrency['cancel-in-progress'], false, 'an up is never cancelled half-way');
    });

    it('AWS through OIDC (id-token, a role to assume), no static keys; the backend and passphrase from variables/secrets', () => {
        assert.equal(wf.permissions['id-token'], 'write');
        const aws = steps.find((s) => s.uses?.startsWith('aws-actions/configure-aws-credentials@'))!;
        assert.equal(aws.with!['role-to-assume'], '${{ vars.AWS_DEPLOY_ROLE_ARN }}');
        assert.ok(!/aws-access-key-id|AWS_ACCESS_KEY_ID|AWS_SECRET_ACCESS_KEY/.test(text), 'no static AWS keys anywhere');
        assert.equal(wf.jobs.stack.env['PULUMI_BACKEND_URL'], '${{ vars.PULUMI_BACKEND_URL }}');
        assert.equal(wf.jobs.stack.env['PULUMI_CONFIG_PASSPHRASE'], '${{ secrets.PULUMI_CONFIG_PASSPHRASE }}');
    });

    it('covers every committed cloud stack (local is a developer machine, not CI)', () => {
        const cloud = STACKS.filter((s) => readStackFile(s).values['cloudProvider'] !== 'local');
        assert.deepEqual([...wf.jobs.stack.strategy.matrix.stack].sort(), [...cloud].sort());
    });
});
