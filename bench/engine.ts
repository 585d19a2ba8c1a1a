// The real Pulumi engine on the platform program (the embedded stack): cold build times of the engine pieces (read
// from their stamps), wall time of the first `pulumi up`, a no-op `up`, `preview --refresh` and `destroy`, and the
// peak memory (RSS summed over the CLI, language host, node and providers, sampled every 100 ms).
//
//   npx tsx bench/engine.ts [--policy]     (--policy: every up runs with --policy-pack policy/)
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
    const timer = setInterval(() => {
      const total = descendants(process.pid).filter((p) => !exclude.has(p)).reduce((sum, p) => sum + rssKb(p), 0);
      peak = Math.max(peak, total);
    }, 100);
    const r = await ws.run([...args, '--stack', EMBEDDED_STACK, '--non-interactive'], { cwd: project.dir, timeoutMs: 1_200_000 });
    clearInterval(timer);
    if (r.code !== 0) throw pulumiFailure(label, r);
    const counts = r.stdout.slice(r.stdout.lastIndexOf('Resources:')).split('\n').slice(1, 4).map((l) => l.trim()).filter(Boolean).join(', ');
    console.log(`${label.padEnd(34)} ${(r.durationMs / 1000).toFixed(1).padStart(6)} s   peak ${(peak / 1024).toFixed(0).padStart(5)} MiB   ${counts}`);
  };
  await measure(`pulumi up (first)${policy.length ? ' +policy' : ''}`, ['up', '--yes', ...policy]);
  await measure(`pulumi up (no-op)${policy.length ? ' +policy' : ''}`, ['up', '--yes', '--expect-no-changes', ...policy]);
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
