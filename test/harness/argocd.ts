// Argo CD as processes on this machine, against a harness cluster the platform program has been deployed onto:
//  - argocd-repo-server, argocd-application-controller and argocd-server: Argo CD's one binary (built by
//    scripts/build-argocd.mjs at the version the platform deploys), called by each component's name, out of the
//    cluster (ARGOCD_FAKE_IN_CLUSTER, KUBECONFIG; "https://kubernetes.default.svc" is the harness API server).
//  - Redis: Debian's redis-server on loopback, with the password Argo CD's own `argocd admin redis-initial-password`
//    (the command of the install manifest's secret-init container) writes into the Secret argocd-redis.
//  - git: `git daemon` on loopback serving bare repositories the test writes (this repository at a commit, a gitops
//    repository).
//  - kustomize and helm on the repo-server's PATH, at the versions Argo CD bundles (test/integration/platform/
//    build-kustomize.ts, scripts/build-helm.mjs).
//
// Configured from the objects the platform program created, never from a hand-written copy: every component's
// environment is resolved from its workload in the cluster (the release's Deployment/StatefulSet env, whose values
// come from argocd-cmd-params-cm and the argocd-redis Secret), and Argo CD reads argocd-cm, argocd-rbac-cm,
// argocd-secret, the repository Secrets, the AppProjects and the Applications from the API server as it would in
// the cluster. Only the addresses are the harness's: every listener is on 127.0.0.1 (free ports), and the
// components reach each other and Redis there, in plaintext (the in-cluster Services cannot be reached from here).
// The kwok-simulated pods of the same workloads run nothing.
//
//   const git = await startGitDaemon();                       // before pulumi up: the stack points at git.url(...)
//   const platform = servePlatformRepo(git);                  // this repository at HEAD
//   ... pulumi up ...
//   const argo = await startArgoCD({ kubeconfigPath });       // call argo.stop(), git.stop()
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { AppsV1Api, CoreV1Api, KubeConfig, type V1Container, type V1EnvVar } from '@kubernetes/client-node';
import { NS } from '../../components/cluster/namespaces.js';
import { kustomizeBinary } from '../integration/platform/kustomize.js';
import { freePort } from './control-plane.js';
import { pipeBoth, readHeader } from './gateway-controllers.js';
import { repoRoot } from './upstream.js';
import { onProcessExit, sleep, tail } from './util.js';

interface Proc {
  name: string;
  child: ChildProcess;
  exited: Promise<number | null>;
  log: string;
}

/** The bin directory a build script prints on its last stdout line (it builds when missing or stale). */
function builtBinDir(script: string, what: string): string {
  let out: string;
  try {
    out = execFileSync(process.execPath, [join(repoRoot, 'scripts', script)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 1_800_000 });
  } catch {
    throw new Error(`could not build ${what} (see the messages above): run \`node scripts/${script}\` to retry`);
  }
  return out.trim().split('\n').pop()!;
}

/** Directory of the built Argo CD binary and its component links (scripts/build-argocd.mjs). */
export const argocdBinDir = (): string => builtBinDir('build-argocd.mjs', 'Argo CD');

/** Directory of the Helm CLI the repo-server runs for chart sources (scripts/build-helm.mjs: the version Argo CD bundles). */
export const helmBinDir = (): string => builtBinDir('build-helm.mjs', 'Helm');

/** Processes started by one harness object: log files, process groups, an exit hook. */
class Procs {
  readonly list: Proc[] = [];
  private readonly stops: (() => Promise<void>)[] = [];
  private readonly unregister: () => void;
  constructor(readonly dir: string) {
    this.unregister = onProcessExit(() => this.killAll());
  }
  launch(name: string, cmd: string, args: string[], env: NodeJS.ProcessEnv, cwd = this.dir): Proc {
    const log = join(this.dir, `${name}.log`);
    const fd = openSync(log, 'a');
    const child = spawn(cmd, args, { stdio: ['ignore', fd, fd], cwd, detached: true, env });
    closeSync(fd);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const p = { name, child, exited, log };
    this.list.push(p);
    return p;
  }
  /** Also run at stop(), after the processes ended (servers of this process). */
  onStop(fn: () => Promise<void>): void {
    this.stops.push(fn);
  }
  alive(p: Proc): boolean {
    return p.child.exitCode === null && p.child.signalCode === null;
  }
  killAll(): void {
    for (const p of this.list) {
      try {
        process.kill(-p.child.pid!, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
  async stop(): Promise<void> {
    for (const p of [...this.list].reverse()) {
      if (!this.alive(p)) continue;
      try {
        process.kill(-p.child.pid!, 'SIGTERM');
      } catch {
        /* gone */
      }
      const t = setTimeout(() => {
        try {
          process.kill(-p.child.pid!, 'SIGKILL');
        } catch {
          /* gone */
        }
      }, 5_000);
      await p.exited;
      clearTimeout(t);
    }
    for (const fn of this.stops) await fn();
    rmSync(this.dir, { recursive: true, force: true });
    this.unregister();
  }
}

/** Wait until a TCP port on 127.0.0.1 accepts connections, or the process exits (error with its log). */
async function waitListening(procs: Procs, p: Proc, port: number, timeoutMs = 120_000): Promise<void> {
  const { createConnection } = await import('node:net');
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!procs.alive(p)) throw new Error(`${p.name} exited (${p.child.exitCode ?? p.child.signalCode}):\n${tail(p.log, 40)}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = createConnection({ host: '127.0.0.1', port }, () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await sleep(200);
  }
  throw new Error(`${p.name} did not listen on 127.0.0.1:${port} within ${timeoutMs / 1000} s:\n${tail(p.log, 40)}`);
}

export interface GitDaemon {
  /** Directory the daemon serves (bare repositories, `<name>.git`). */
  root: string;
  port: number;
  /** git://127.0.0.1:<port>/<name>.git */
  url(name: string): string;
  stop(): Promise<void>;
}

/** `git daemon` on 127.0.0.1 (free port), serving every repository under a fresh directory, read-only. */
export async function startGitDaemon(): Promise<GitDaemon> {
  const dir = mkdtempSync(join(tmpdir(), 'nkp-git-'));
  const root = join(dir, 'repos');
  mkdirSync(root);
  const procs = new Procs(dir);
  try {
    const port = await freePort();
    const p = procs.launch('git-daemon', 'git', ['daemon', '--listen=127.0.0.1', `--port=${port}`, '--reuseaddr', '--export-all', '--informative-errors', `--base-path=${root}`, root], { ...process.env });
    await waitListening(procs, p, port, 30_000);
    return { root, port, url: (name) => `git://127.0.0.1:${port}/${name}.git`, stop: () => procs.stop() };
  } catch (err) {
    procs.killAll();
    throw err;
  }
}

const gitEnv = (): NodeJS.ProcessEnv => ({ ...process.env, GIT_CONFIG_NOSYSTEM: '1', GIT_AUTHOR_NAME: 'nkp test', GIT_AUTHOR_EMAIL: 'test@nkp.invalid', GIT_COMMITTER_NAME: 'nkp test', GIT_COMMITTER_EMAIL: 'test@nkp.invalid' });
const git = (args: string[], cwd: string): string => execFileSync('git', args, { cwd, encoding: 'utf8', env: gitEnv() }).trim();

/**
 * This repository at a commit (default HEAD: the committed state, not the working tree) as `<name>.git` on the
 * daemon, on branch main. Returns its URL and the full commit SHA (the pinned revision the stack takes).
 */
export function servePlatformRepo(daemon: GitDaemon, opts: { name?: string; commit?: string } = {}): { url: string; revision: string } {
  const name = opts.name ?? 'platform';
  const revision = git(['rev-parse', `${opts.commit ?? 'HEAD'}^{commit}`], repoRoot);
  const bare = join(daemon.root, `${name}.git`);
  git(['init', '--quiet', '--bare', '--initial-branch=main', bare], daemon.root);
  git(['push', '--quiet', '--force', bare, `${revision}:refs/heads/main`], repoRoot);
  return { url: daemon.url(name), revision };
}

/**
 * A repository on the daemon written from files (path -> content), one commit per call on branch main.
 * Returns the URL and the new commit SHA.
 */
export function writeRepo(daemon: GitDaemon, name: string, files: Record<string, string | null>, message = 'update'): { url: string; revision: string } {
  const bare = join(daemon.root, `${name}.git`);
  const work = mkdtempSync(join(tmpdir(), 'nkp-git-work-'));
  try {
    let exists = true;
    try {
      git(['rev-parse', '--git-dir'], bare);
    } catch {
      exists = false;
    }
    if (!exists) git(['init', '--quiet', '--bare', '--initial-branch=main', bare], daemon.root);
    git(['init', '--quiet', '--initial-branch=main'], work);
    if (exists) {
      git(['fetch', '--quiet', bare, 'main'], work);
      git(['checkout', '--quiet', '-B', 'main', 'FETCH_HEAD'], work);
    }
    for (const [path, content] of Object.entries(files)) {
      const f = join(work, path);
      if (content === null) rmSync(f, { force: true });
      else {
        mkdirSync(dirname(f), { recursive: true });
        writeFileSync(f, content);
      }
    }
    git(['add', '--all'], work);
    git(['commit', '--quiet', '--allow-empty', '-m', message], work);
    git(['push', '--quiet', bare, 'HEAD:refs/heads/main'], work);
    return { url: daemon.url(name), revision: git(['rev-parse', 'HEAD'], work) };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** The Argo CD workloads of the release manifest whose processes the harness runs (name -> kind). */
export const ARGOCD_PROCESSES = {
  'argocd-repo-server': 'Deployment',
  'argocd-application-controller': 'StatefulSet',
  'argocd-server': 'Deployment',
} as const;
type Component = keyof typeof ARGOCD_PROCESSES;

/**
 * Pure: a container's env as the kubelet would resolve it, from the live ConfigMaps and Secrets (`cm`/`secret`:
 * name -> data, already decoded). A missing optional reference is left out; a missing required one is an error.
 */
export function resolveEnv(workload: string, env: readonly V1EnvVar[], cm: (name: string) => Record<string, string> | undefined, secret: (name: string) => Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of env) {
    if (e.value !== undefined) {
      out[e.name] = e.value;
      continue;
    }
    const ref = e.valueFrom?.configMapKeyRef ?? e.valueFrom?.secretKeyRef;
    if (ref === undefined) continue; // fieldRef/resourceFieldRef: pod facts that do not exist out of the cluster
    const data = (e.valueFrom?.configMapKeyRef ? cm : secret)(ref.name!);
    const v = data?.[ref.key];
    if (v !== undefined) out[e.name] = v;
    else if (!ref.optional) throw new Error(`${workload}: env ${e.name} needs ${e.valueFrom?.configMapKeyRef ? 'ConfigMap' : 'Secret'} ${ref.name} key ${ref.key}, which does not exist`);
  }
  return out;
}

export interface ArgoCDOptions {
  /** Admin kubeconfig of the cluster (the program has been deployed onto it: Argo CD's objects exist). */
  kubeconfigPath: string;
  /** Log level of the components. Default warn (debug with NKP_HARNESS_DEBUG). */
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
}

export interface ArgoCDProcesses {
  /** http://127.0.0.1:<port> of argocd-server (plaintext, loopback only). */
  serverUrl: string;
  repoServerAddress: string;
  redisAddress: string;
  /** The last lines of a component's log. */
  log(name: Component | 'redis', lines?: number): string;
  pids(): number[];
  stop(): Promise<void>;
}

/** Start Redis, argocd-repo-server, argocd-application-controller and argocd-server against the cluster. */
export async function startArgoCD(opts: ArgoCDOptions): Promise<ArgoCDProcesses> {
  const bin = argocdBinDir();
  const kustomizeDir = dirname(kustomizeBinary());
  const helmDir = helmBinDir();
  const dir = mkdtempSync(join(tmpdir(), 'nkp-argocd-'));
  const procs = new Procs(dir);
  const logLevel = opts.logLevel ?? (process.env['NKP_HARNESS_DEBUG'] ? 'debug' : 'warn');
  try {
    const kc = new KubeConfig();
    kc.loadFromFile(opts.kubeconfigPath);
    const core = kc.makeApiClient(CoreV1Api);
    const apps = kc.makeApiClient(AppsV1Api);
    const home = join(dir, 'home');
    const tmp = join(dir, 'tmp');
    mkdirSync(home);
    mkdirSync(tmp);
    // Out of the cluster: the kubeconfig instead of the service account, a private TMPDIR and HOME (the
    // repo-server's checkouts and git config), no GPG (no keyring here), kustomize, helm and git on PATH.
    const baseEnv: NodeJS.ProcessEnv = {
      PATH: `${bin}:${kustomizeDir}:${helmDir}:${process.env['PATH']}`,
      HOME: home,
      TMPDIR: tmp,
      KUBECONFIG: opts.kubeconfigPath,
      ARGOCD_FAKE_IN_CLUSTER: 'true',
      ARGOCD_GPG_ENABLED: 'false',
      ARGOCD_NAMESPACE: NS.argocd,
      GIT_CONFIG_NOSYSTEM: '1',
    };

    // The Redis password: written by Argo CD's own secret-init command into the Secret argocd-redis.
    const init = procs.launch('redis-initial-password', join(bin, 'argocd'), ['admin', 'redis-initial-password', '--namespace', NS.argocd], baseEnv);
    const code = await init.exited;
    if (code !== 0) throw new Error(`argocd admin redis-initial-password failed (${code}):\n${tail(init.log)}`);

    const cms = new Map<string, Record<string, string> | undefined>();
    const secrets = new Map<string, Record<string, string> | undefined>();
    const load = async (kind: 'cm' | 'secret', name: string): Promise<void> => {
      try {
        if (kind === 'cm') cms.set(name, (await core.readNamespacedConfigMap({ namespace: NS.argocd, name })).data ?? {});
        else secrets.set(name, Object.fromEntries(Object.entries((await core.readNamespacedSecret({ namespace: NS.argocd, name })).data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')])));
      } catch {
        (kind === 'cm' ? cms : secrets).set(name, undefined);
      }
    };
    const containers = new Map<Component, V1Container>();
    for (const [name, kind] of Object.entries(ARGOCD_PROCESSES) as [Component, string][]) {
      const w = kind === 'Deployment' ? await apps.readNamespacedDeployment({ namespace: NS.argocd, name }) : await apps.readNamespacedStatefulSet({ namespace: NS.argocd, name });
      const c = w.spec!.template.spec!.containers.find((x) => x.name === name);
      if (c === undefined) throw new Error(`${kind} ${name} has no container ${name}`);
      containers.set(name, c);
      for (const e of c.env ?? []) {
        if (e.valueFrom?.configMapKeyRef && !cms.has(e.valueFrom.configMapKeyRef.name!)) await load('cm', e.valueFrom.configMapKeyRef.name!);
        if (e.valueFrom?.secretKeyRef && !secrets.has(e.valueFrom.secretKeyRef.name!)) await load('secret', e.valueFrom.secretKeyRef.name!);
      }
    }
    const envOf = (name: Component): Record<string, string> =>
      resolveEnv(
        name,
        containers.get(name)!.env ?? [],
        (n) => cms.get(n),
        (n) => secrets.get(n),
      );
    const redisPassword = secrets.get('argocd-redis')?.['auth'];
    if (!redisPassword) throw new Error('the Secret argocd/argocd-redis has no auth key after argocd admin redis-initial-password');

    const redisPort = await freePort();
    const redisAddress = `127.0.0.1:${redisPort}`;
    const redisConf = join(dir, 'redis.conf');
    // The password goes through a file, never a command line.
    writeFileSync(redisConf, `bind 127.0.0.1\nport ${redisPort}\nprotected-mode yes\nsave ""\nappendonly no\ndir ${dir}\nrequirepass "${redisPassword}"\n`, { mode: 0o600 });
    const redis = procs.launch('redis', 'redis-server', [redisConf], { PATH: process.env['PATH'] });
    await waitListening(procs, redis, redisPort, 30_000);

    const repoPort = await freePort();
    const repoServerAddress = `127.0.0.1:${repoPort}`;
    const common = (name: Component): NodeJS.ProcessEnv => ({ ...envOf(name), ...baseEnv });
    const repo = procs.launch(
      'argocd-repo-server',
      join(bin, 'argocd-repo-server'),
      ['--redis', redisAddress, '--address', '127.0.0.1', '--port', String(repoPort), '--disable-tls', '--metrics-address', '127.0.0.1', '--metrics-port', String(await freePort()), '--loglevel', logLevel],
      common('argocd-repo-server'),
    );
    await waitListening(procs, repo, repoPort);

    const serverPort = await freePort();
    const server = procs.launch(
      'argocd-server',
      join(bin, 'argocd-server'),
      [
        '--insecure',
        '--address',
        '127.0.0.1',
        '--port',
        String(serverPort),
        '--metrics-address',
        '127.0.0.1',
        '--metrics-port',
        String(await freePort()),
        '--namespace',
        NS.argocd,
        '--redis',
        redisAddress,
        '--repo-server',
        repoServerAddress,
        '--repo-server-plaintext',
        '--dex-server',
        '',
        '--loglevel',
        logLevel,
      ],
      common('argocd-server'),
    );
    await waitListening(procs, server, serverPort);

    // The controller's metrics server binds 0.0.0.0 (hard-coded in v3.1.8 controller/appcontroller.go): it runs in a
    // private network namespace whose loopback reaches exactly the API server, Redis and the repo-server on the
    // host's loopback, through netns-forwarder.mjs and a Unix socket served here.
    const apiPort = Number(new URL(kc.getCurrentCluster()!.server).port);
    const outward = [apiPort, redisPort, repoPort];
    const outSock = join(dir, 'out.sock');
    const out = createServer((sock) => {
      readHeader(sock, (header, rest) => {
        const port = Number(header);
        if (!outward.includes(port)) return sock.destroy();
        const target = connect(port, '127.0.0.1');
        if (rest.length) target.write(rest);
        pipeBoth(sock, target);
        sock.resume();
      });
    });
    await new Promise<void>((r) => out.listen(outSock, r));
    procs.onStop(() => new Promise<void>((r) => out.close(() => r())));
    const enter = [
      'set -eu',
      'ip link set lo up',
      `"${process.execPath}" "${join(repoRoot, 'test', 'harness', 'netns-forwarder.mjs')}" "${dir}" ${outward.join(' ')} > "${join(dir, 'forwarder.log')}" 2>&1 &`,
      `i=0; while [ ! -S "${join(dir, 'ctl.sock')}" ]; do i=$((i+1)); [ $i -lt 100 ] || { echo "forwarder did not start" >&2; exit 1; }; sleep 0.1; done`,
      'exec "$@"',
    ].join('\n');
    const controller = procs.launch(
      'argocd-application-controller',
      'unshare',
      [
        '--net',
        '--fork',
        '--kill-child',
        'sh',
        '-c',
        enter,
        'enter',
        join(bin, 'argocd-application-controller'),
        '--namespace',
        NS.argocd,
        '--redis',
        redisAddress,
        '--repo-server',
        repoServerAddress,
        '--repo-server-plaintext',
        '--loglevel',
        logLevel,
      ],
      common('argocd-application-controller'),
    );
    await sleep(1500);
    if (!procs.alive(controller)) throw new Error(`argocd-application-controller exited:\n${tail(controller.log, 40)}\n${tail(join(dir, 'forwarder.log'))}`);

    return {
      serverUrl: `http://127.0.0.1:${serverPort}`,
      repoServerAddress,
      redisAddress,
      log: (name, lines = 40) => tail(join(dir, `${name}.log`), lines),
      pids: () => procs.list.filter((p) => procs.alive(p)).map((p) => p.child.pid!),
      stop: () => procs.stop(),
    };
  } catch (err) {
    procs.killAll();
    throw err;
  }
}
