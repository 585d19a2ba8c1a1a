/**
 * Pulumi Deployments of the NKP stacks (pure): validated settings -> what each stack's DeploymentSettings,
 * DriftSchedule and the shared PolicyGroup get. No resources here; ./index.ts registers them, the tests call this.
 */

/** One stack run by Pulumi Deployments. */
export interface DeployedStack {
    /** Stack name of the nkp project, e.g. aws-prod. */
    name: string;
    /** Production: drift is reported, never remediated automatically. */
    production: boolean;
    /** IAM role Pulumi Deployments assumes through OIDC (AWS stacks); no static keys. */
    awsRoleArn?: string;
    /** Drift detection schedule (cron, UTC); default every 6 hours. */
    driftCron?: string;
    /** Remediate drift with `pulumi up` (only allowed for non-production stacks). */
    remediateDrift?: boolean;
}

export interface DeploymentsConfig {
    /** Pulumi Cloud organization. */
    organization: string;
    /** GitHub repository owner/name of this platform repository (the Pulumi GitHub app installed). */
    repository: string;
    /** Branch whose pushes run `up` (default main). */
    branch?: string;
    /** The policy pack published from policy/ (`pulumi policy publish <org>` in policy/), run on every update. */
    policyPack: { name: string; versionTag: string };
    stacks: DeployedStack[];
}

/** Project of the stacks deployed (Pulumi.yaml of the repository root). */
export const NKP_PROJECT = 'nkp';
/** Paths whose changes trigger a deployment (the program, its components, config and the policy pack). */
export const DEPLOY_PATHS = ['components/**', 'stacks/**', 'policy/**', 'Pulumi.yaml', 'package.json', 'package-lock.json'];
export const DEFAULT_DRIFT_CRON = '0 */6 * * *';

const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/;
const REPO = /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/;
const CRON = /^(\S+\s+){4}\S+$/;
const STACK = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** A bad setting: names the field and what is allowed. */
export class DeploymentsConfigError extends Error {
    constructor(field: string, detail: string) {
        super(`nkp-deployments: invalid ${field}: ${detail}`);
        this.name = 'DeploymentsConfigError';
    }
}

/** Validate everything before any resource is registered. */
export function validateDeployments(c: DeploymentsConfig): Required<Omit<DeploymentsConfig, 'stacks'>> & { stacks: Required<Omit<DeployedStack, 'awsRoleArn'>>[] & { awsRoleArn?: string }[] } {
    if (!c.organization?.trim()) throw new DeploymentsConfigError('organization', 'the Pulumi Cloud organization is required');
    if (!REPO.test(c.repository ?? '')) throw new DeploymentsConfigError('repository', `${JSON.stringify(c.repository)} is not owner/name of a GitHub repository`);
    if (!c.policyPack?.name || !c.policyPack.versionTag) throw new DeploymentsConfigError('policyPack', 'name and versionTag of the published policy pack are required (it runs on every update)');
    if (!Array.isArray(c.stacks) || c.stacks.length === 0) throw new DeploymentsConfigError('stacks', 'at least one stack is required');
    const seen = new Set<string>();
    const stacks = c.stacks.map((s, i) => {
        const f = (x: string) => `stacks[${i}].${x}`;
        if (!STACK.test(s.name ?? '')) throw new DeploymentsConfigError(f('name'), `${JSON.stringify(s.name)} is not a stack name`);
        if (seen.has(s.name)) throw new DeploymentsConfigError(f('name'), `${s.name} is listed twice`);
        seen.add(s.name);
        if (s.awsRoleArn !== undefined && !ROLE_ARN.test(s.awsRoleArn)) throw new DeploymentsConfigError(f('awsRoleArn'), `${JSON.stringify(s.awsRoleArn)} is not an IAM role ARN`);
        const driftCron = s.driftCron ?? DEFAULT_DRIFT_CRON;
        if (!CRON.test(driftCron)) throw new DeploymentsConfigError(f('driftCron'), `${JSON.stringify(driftCron)} is not a five-field cron expression`);
        const remediateDrift = s.remediateDrift ?? false;
        if (s.production && remediateDrift) throw new DeploymentsConfigError(f('remediateDrift'), `${s.name} is production: drift is reported only, never remediated automatically; allowed: false`);
        return { name: s.name, production: s.production === true, driftCron, remediateDrift, ...(s.awsRoleArn ? { awsRoleArn: s.awsRoleArn } : {}) };
    });
    return { organization: c.organization.trim(), repository: c.repository, branch: c.branch ?? 'main', policyPack: c.policyPack, stacks };
}

/** DeploymentSettings inputs of one stack: source, GitHub triggers (preview on PRs, up on the branch), OIDC to AWS. */
export function deploymentSettings(c: ReturnType<typeof validateDeployments>, s: DeployedStack) {
    return {
        organization: c.organization,
        project: NKP_PROJECT,
        stack: s.name,
        sourceContext: { git: { repoUrl: `https://github.com/${c.repository}.git`, branch: `refs/heads/${c.branch}`, repoDir: '.' } },
        github: { repository: c.repository, deployCommits: true, previewPullRequests: true, pullRequestTemplate: false, paths: [...DEPLOY_PATHS] },
        operationContext: {
            ...(s.awsRoleArn ? { oidc: { aws: { roleARN: s.awsRoleArn, sessionName: `pulumi-deployments-${s.name}`, duration: '1h0m0s' } } } : {}),
            options: { skipInstallDependencies: false },
        },
    };
}
