// The real Pulumi engine on the platform program (the embedded stack): cold build times of the engine pieces (read
// from their stamps), wall time of the first `pulumi up`, a no-op `up`, `preview --refresh` and `destroy`, and the
// peak memory (RSS summed over the CLI, language host, node and providers, sampled every 100 ms), and the CPU seconds
// each part used (user + system, from /proc; wall time on a busy 2-core machine says little, CPU time says where the
// work is).
//
//   npm run bench:engine [-- --policy]     (--policy: every up runs with --policy-pack policy/)
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startControlPlane } from '../test/harness/control-plane.js';
import { createPulumiWorkspace, descendants, pulumiBinDir } from '../test/harness/pulumi.js';
import { EMBEDDED_STACK, initEmbeddedStack, prepareEmbeddedProject, pulumiFailure, releaseArgoFinalizers } from '../test/harness/embedded.js';
import { controlPlaneBinDir, repoRoot } from '../test/harness/upstream.js';

const policy = process.argv.includes('--policy') ? ['--policy-pack', join(repoRoot, 'policy')] : [];

function rssKb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** Pure: a process's role from its command line (the program, a policy pack, a provider, the CLI, ...). */
export function processRole(cmdline: string[]): string {
  const hit = cmdline.find((a) => /cmd\/(run|run-policy-pack|dynamic-provider)$|pulumi-resource-[\w-]+$|pulumi-language-nodejs$|\/pulumi$/.test(a));
  if (hit === undefined) return cmdline.slice(0, 1).join(' ').split('/').pop() ?? '?';
  if (hit.endsWith('cmd/run')) return 'program (node)';
  if (hit.endsWith('cmd/run-policy-pack')) return 'policy pack (node)';
  if (hit.endsWith('cmd/dynamic-provider')) return 'dynamic provider (node)';
  if (hit.endsWith('/pulumi')) return 'CLI';
  return hit.split('/').pop()!;
}

/** utime + stime of a process in seconds, or undefined once it is gone. */
function cpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return undefined;
  }
}

function cmdline(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    return [];
  }
}

function buildSeconds(): string[] {
  const lines: string[] = [];
  const stamps = join(pulumiBinDir(), '..', 'stamps');
  for (const f of existsSync(stamps) ? readdirSync(stamps).filter((x) => x.endsWith('.build-seconds')) : []) lines.push(`${f.replace('.build-seconds', '')} ${readFileSync(join(stamps, f), 'utf8').trim()} s`);
  const cp = join(controlPlaneBinDir(), '..', 'build-seconds');
  if (existsSync(cp)) lines.push(`control plane ${readFileSync(cp, 'utf8').trim()} s`);
  return lines;
}

const cp = await startControlPlane({ nodes: 1 });
const ws = await createPulumiWorkspace();
const work = mkdtempSync(join(tmpdir(), 'nkp-bench-engine-'));
try {
  console.log(`cold builds (last build on this machine): ${buildSeconds().join(', ')}`);
  const project = prepareEmbeddedProject(join(work, 'project'), cp.kubeconfigPath);
  await initEmbeddedStack(ws, project);
  const exclude = new Set(cp.pids());
  const measure = async (label: string, args: string[]) => {
    let peak = 0;
    const cpu = new Map<number, { role: string; seconds: number }>();
    const timer = setInterval(() => {
      const pids = descendants(process.pid).filter((p) => !exclude.has(p));
      peak = Math.max(peak, pids.reduce((sum, p) => sum + rssKb(p), 0));
      for (const pid of pids) {
        const seconds = cpuSeconds(pid);
        if (seconds !== undefined) cpu.set(pid, { role: cpu.get(pid)?.role ?? processRole(cmdline(pid)), seconds });
      }
    }, 100);
    const r = await ws.run([...args, '--stack', EMBEDDED_STACK, '--non-interactive'], { cwd: project.dir, timeoutMs: 1_200_000 });
    clearInterval(timer);
    if (r.code !== 0) throw pulumiFailure(label, r);
    const counts = r.stdout.slice(r.stdout.lastIndexOf('Resources:')).split('\n').slice(1, 4).map((l) => l.trim()).filter(Boolean).join(', ');
    const byRole = new Map<string, number>();
    for (const { role, seconds } of cpu.values()) byRole.set(role, (byRole.get(role) ?? 0) + seconds);
    const cpuText = [...byRole].filter(([, v]) => v >= 0.1).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ');
    console.log(`${label.padEnd(34)} ${(r.durationMs / 1000).toFixed(1).padStart(6)} s   peak ${(peak / 1024).toFixed(0).padStart(5)} MiB   ${counts}`);
    console.log(`${''.padEnd(34)} CPU s: ${cpuText}`);
  };
  await measure(`pulumi up (first)${policy.length ? ' +policy' : ''}`, ['up', '--yes', ...policy]);
  await measure(`pulumi up (no-op)${policy.length ? ' +policy' : ''}`, ['up', '--yes', '--expect-no-changes', ...policy]);
  await measure('pulumi up --skip-preview (no-op)', ['up', '--yes', '--skip-preview', '--expect-no-changes', ...policy]);
  await measure('pulumi preview --refresh', ['preview', '--refresh', '--expect-no-changes']);
  let done = false;
  const releasing = releaseArgoFinalizers(cp.kubeConfig(), () => done);
  try {
    await measure('pulumi destroy', ['destroy', '--yes']);
  } finally {
    done = true;
    await releasing;
  }
} finally {
  ws.dispose();
  await cp.stop();
  rmSync(work, { recursive: true, force: true });
}
