/**
 * Upgrading a stack created before the foundation's parent Application (stacks whose state holds the nine
 * foundation Applications as Pulumi resources): run once, before the first `pulumi up` of this version.
 *
 *   npx tsx scripts/forget-foundation-applications.ts --stack <stack> [--dry-run]
 *
 * Without it, that `up` would delete the nine Applications Pulumi owned, and Argo CD's resources finalizer would
 * then delete everything they had synced (cert-manager, the gateway, Keycloak and its database) before the parent
 * recreated them. This removes them from the stack's state only (`pulumi state delete`): the Applications stay in
 * the cluster, and the parent Application, which renders the same names, takes them over.
 */
import { execFileSync } from 'node:child_process';
import { FOUNDATION_PARENT } from '../components/foundation/spec.js';

interface StateResource {
    urn: string;
    type: string;
    parent?: string;
    outputs?: { metadata?: { name?: string } };
}

const FOUNDATION_TYPE = 'nkp:foundation:Foundation';
const APPLICATION_TYPE = 'kubernetes:argoproj.io/v1alpha1:Application';

/**
 * Pure: the URNs of the Applications Pulumi owned directly under the Foundation component (never the parent), in the
 * order they can be forgotten: dependents first (a stack's state lists every resource after its dependencies).
 */
export function ownedFoundationApplications(resources: readonly StateResource[]): string[] {
    const foundations = new Set(resources.filter((r) => r.type === FOUNDATION_TYPE).map((r) => r.urn));
    return resources
        .filter((r) => r.type === APPLICATION_TYPE && r.parent !== undefined && foundations.has(r.parent) && r.outputs?.metadata?.name !== FOUNDATION_PARENT.name)
        .map((r) => r.urn)
        .reverse();
}

function main(argv: string[]): void {
    const i = argv.indexOf('--stack');
    const stack = i >= 0 ? argv[i + 1] : undefined;
    if (stack === undefined || stack.startsWith('--')) throw new Error('--stack <stack> is required (the stack to upgrade, e.g. aws-prod)');
    const dryRun = argv.includes('--dry-run');
    const pulumi = (args: string[]) => execFileSync('pulumi', [...args, '--stack', stack, '--non-interactive'], { encoding: 'utf8', maxBuffer: 1 << 30 });
    const state = JSON.parse(pulumi(['stack', 'export'])) as { deployment?: { resources?: StateResource[] } };
    const urns = ownedFoundationApplications(state.deployment?.resources ?? []);
    if (urns.length === 0) {
        console.log(`stack ${stack}: no foundation Application is a Pulumi resource; nothing to do`);
        return;
    }
    for (const urn of urns) {
        console.log(`${dryRun ? 'would forget' : 'forgetting'} ${urn}`);
        if (!dryRun) pulumi(['state', 'delete', urn, '--yes']);
    }
    console.log(`stack ${stack}: ${urns.length} Applications ${dryRun ? 'would be removed' : 'removed'} from the state; they stay in the cluster for the parent Application '${FOUNDATION_PARENT.name}' to take over`);
}

if (import.meta.url === `file://${process.argv[1]}`) main(process.argv.slice(2));
