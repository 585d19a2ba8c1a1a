/**
 * Benchmark: run each committed stack's whole program (buildPlatform) under Pulumi mocks and print, per stack,
 * the number of registered resources, wall time (cold first run incl. module loading, then warm median) and peak
 * memory (maxRSS of a fresh process per stack, plus heap used).
 *
 *     npx tsx bench/stacks.ts              # all four stacks
 *     npx tsx bench/stacks.ts --runs 10    # warm runs per stack (default 5)
 *
 * Under mocks nothing reaches a cloud or a cluster: the figures measure the program (config validation,
 * component construction, registration), not provisioning.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const STACKS = ['local', 'hetzner', 'aws-staging', 'aws-prod'];

interface Result {
    stack: string;
    resources: number;
    byLayer: Record<string, number>;
    coldMs: number;
    warmMedianMs: number;
    maxRssMiB: number;
    heapUsedMiB: number;
}

async function runOne(stack: string, runs: number): Promise<Result> {
    const { setupPulumiMocks, wholeStackOutputs, outputValue, writeStandInKubeconfig } = await import('../test/unit/pulumi-mocks.js');
    const mocks = await setupPulumiMocks({ outputs: wholeStackOutputs, stack });
    // The local stack reads ~/.kube/config; the benchmark gives it a stand-in kubeconfig with the same context.
    const kubeconfig = writeStandInKubeconfig();
    const overrides = stack === 'local' ? { localKubeconfigPath: kubeconfig.path } : {};
    try {
        const once = async () => {
            mocks.reset();
            const t0 = performance.now();
            const { platformConfigForStack } = await import('../stacks/stack-files.js');
            const { buildPlatform } = await import('../stacks/platform.js');
            const p = buildPlatform(platformConfigForStack(stack, overrides));
            await outputValue(p.foundation.applicationNames);
            await mocks.settle();
            return performance.now() - t0;
        };
        const coldMs = await once();
        const warm: number[] = [];
        for (let i = 0; i < runs; i++) warm.push(await once());
        warm.sort((a, b) => a - b);
        const byLayer: Record<string, number> = {};
        for (const r of mocks.resources) {
            const layer = r.type.startsWith('nkp:') ? 'components' : r.type.split(':')[0]!;
            byLayer[layer] = (byLayer[layer] ?? 0) + 1;
        }
        return {
            stack,
            resources: mocks.resources.length,
            byLayer,
            coldMs,
            warmMedianMs: warm[Math.floor(warm.length / 2)] ?? coldMs,
            maxRssMiB: process.resourceUsage().maxRSS / 1024,
            heapUsedMiB: process.memoryUsage().heapUsed / 1024 / 1024,
        };
    } finally {
        kubeconfig.cleanup();
    }
}

const args = process.argv.slice(2);
const runsArg = args.indexOf('--runs');
const runs = runsArg >= 0 ? Number(args[runsArg + 1]) : 5;
if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs must be a positive integer, got ${args[runsArg + 1]}`);
const oneArg = args.indexOf('--one');

if (oneArg >= 0) {
    const result = await runOne(args[oneArg + 1]!, runs);
    process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
} else {
    // One fresh process per stack so that maxRSS is that stack's own peak.
    const self = fileURLToPath(import.meta.url);
    const results: Result[] = [];
    for (const stack of STACKS) {
        const child = spawnSync(process.execPath, ['--import', 'tsx', self, '--one', stack, '--runs', String(runs)], { encoding: 'utf8' });
        const line = child.stdout.split('\n').find((l) => l.startsWith('RESULT '));
        if (child.status !== 0 || line === undefined) throw new Error(`benchmark of ${stack} failed (exit ${child.status}):\n${child.stderr}`);
        results.push(JSON.parse(line.slice('RESULT '.length)) as Result);
    }
    const rows = results.map((r) => [r.stack, String(r.resources), r.coldMs.toFixed(0), r.warmMedianMs.toFixed(1), r.maxRssMiB.toFixed(0), r.heapUsedMiB.toFixed(0), Object.entries(r.byLayer).map(([k, v]) => `${k}=${v}`).join(' ')]);
    const head = ['stack', 'resources', 'cold ms', `warm median ms (${runs} runs)`, 'peak RSS MiB', 'heap MiB', 'resources by package'];
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    const fmt = (r: string[]) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ');
    console.log(`node ${process.version}, ${new Date().toISOString()}, whole program under Pulumi mocks`);
    console.log(fmt(head));
    console.log(widths.map((w) => '-'.repeat(w)).join('  '));
    for (const r of rows) console.log(fmt(r));
}
