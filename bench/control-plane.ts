// Benchmark of the test control plane: cold build time, warm start-to-ready time and peak memory.
//
//   npx tsx bench/control-plane.ts [--runs N] [--cold]
//
// --cold rebuilds etcd, kube-apiserver and kube-controller-manager into a throwaway cache with an empty Go
// build cache (the Go module cache is kept: downloads are measured by the first real setup, see README).
// Without it, the figure of the last real build on this machine is printed.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { startControlPlane } from '../test/harness/control-plane.js';
import { repoRoot, versions } from '../test/harness/upstream.js';

const args = process.argv.slice(2);
const runs = Number(args[args.indexOf('--runs') + 1] ?? 3) || 3;
const cold = args.includes('--cold');

/** Peak resident set (VmHWM) of a process in MiB, from /proc; 0 when it is gone. */
function peakRssMiB(pid: number): number {
  try {
    const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(/^VmHWM:\s+(\d+) kB/m);
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function main(): Promise<void> {
  console.log(`control plane: Kubernetes ${versions.kubernetes}, etcd ${versions.etcd}`);
  if (cold) {
    const cache = mkdtempSync(join(tmpdir(), 'nkp-bench-cache-'));
    const gocache = mkdtempSync(join(tmpdir(), 'nkp-bench-gocache-'));
    try {
      const t0 = Date.now();
      execFileSync(process.execPath, [join(repoRoot, 'scripts/build-control-plane.mjs')], {
        stdio: ['ignore', 'ignore', 'inherit'],
        env: { ...process.env, NKP_CACHE_DIR: cache, GOCACHE: gocache },
      });
      console.log(`cold build (empty Go build cache, modules cached): ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    } finally {
      rmSync(cache, { recursive: true, force: true });
      rmSync(gocache, { recursive: true, force: true });
    }
  } else {
    const cacheRoot = process.env.NKP_CACHE_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'nkp');
    const f = join(cacheRoot, 'control-plane', `${versions.kubernetes}-${versions.etcd}`, 'build-seconds');
    console.log(`last real build on this machine: ${existsSync(f) ? `${readFileSync(f, 'utf8').trim()} s` : 'unknown (built before the figure was recorded)'}`);
  }

  for (const crds of [false, true]) {
    const times: number[] = [];
    const peaks: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t0 = process.hrtime.bigint();
      const cp = await startControlPlane({ crds });
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      // Exercise it a little so peak memory reflects a working control plane, not an idle one.
      const { CoreV1Api } = await import('@kubernetes/client-node');
      const core = cp.kubeConfig().makeApiClient(CoreV1Api);
      await core.createNamespace({ body: { metadata: { name: 'bench' } } });
      for (let j = 0; j < 200; j++) {
        await core.createNamespacedConfigMap({ namespace: 'bench', body: { metadata: { name: `c${j}` }, data: { v: String(j) } } });
      }
      const peak = cp.pids().reduce((sum, pid) => sum + peakRssMiB(pid), 0);
      await cp.stop();
      times.push(ms);
      peaks.push(peak);
    }
    const label = crds ? 'with upstream + NebariApp CRDs installed' : 'bare (no CRDs)';
    console.log(
      `warm start-to-ready, ${label}: median ${median(times).toFixed(0)} ms (runs: ${times.map((t) => t.toFixed(0)).join(', ')} ms)`,
    );
    console.log(`peak memory of etcd + kube-apiserver + kube-controller-manager, ${label}: max ${Math.max(...peaks).toFixed(0)} MiB`);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
