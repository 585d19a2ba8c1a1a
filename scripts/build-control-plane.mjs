#!/usr/bin/env node
// Builds kube-apiserver, kube-controller-manager, kube-scheduler, etcd and kwok from the Go module proxy, once per
// machine. kwok (sigs.k8s.io/kwok) stands in for the kubelet: pods cannot run here (no container runtime), so kwok
// plays the nodes and the pods' lifecycle (scheduled, Running, Ready) and the real controllers do the rest.
//
// k8s.io/kubernetes and go.etcd.io/etcd use replace directives in their own go.mod, so `go install pkg@v`
// refuses them. We generate a small wrapper module per component in the cache directory instead:
//  - kubernetes: require k8s.io/kubernetes@vX and replace every staging module (read from that release's own
//    go.mod, never typed by hand) with the published k8s.io/<name> v0.<minor>.<patch>;
//  - etcd: a main package calling go.etcd.io/etcd/server/v3/etcdmain.Main at the release Kubernetes ships with;
//  - kwok: its own module has no replace directives; built in a wrapper module that requires it.
//
// Binaries land in <cache>/nkp/control-plane/<kubernetes>-<etcd>/bin with a stamp of the inputs; a missing
// or stale stamp triggers a rebuild. Prints the binary directory on the last line of stdout.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { withBuildLock } from './build-lock.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const versions = JSON.parse(readFileSync(join(here, '..', 'test', 'harness', 'versions.json'), 'utf8'));
const cacheRoot = process.env.NKP_CACHE_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'nkp');
const k8s = versions.kubernetes;
const etcd = versions.etcd;
const kwok = versions.kwok;
const outDir = join(cacheRoot, 'control-plane', `${k8s}-${etcd}`);
const binDir = join(outDir, 'bin');
const KUBE_COMMANDS = ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler'];
const BINARIES = [...KUBE_COMMANDS, 'etcd', 'kwok'];

function log(msg) {
  process.stderr.write(`[build-control-plane] ${msg}\n`);
}

function need(tool, hint) {
  try {
    execFileSync(tool, ['version'], { stdio: 'ignore' });
  } catch {
    throw new Error(`${tool} is required to build the test control plane: ${hint}`);
  }
}

function go(args, cwd, extraEnv = {}) {
  execFileSync('go', args, {
    cwd,
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, GOFLAGS: '-mod=mod', GOTOOLCHAIN: 'local', CGO_ENABLED: '0', ...extraEnv },
  });
}

function goJson(args, cwd) {
  return JSON.parse(execFileSync('go', args, { cwd, encoding: 'utf8', env: { ...process.env, GOTOOLCHAIN: 'local' } }));
}

const stampInput = JSON.stringify({ k8s, etcd, kwok, script: readFileSync(fileURLToPath(import.meta.url), 'utf8') });
const stamp = createHash('sha256').update(stampInput).digest('hex');
const stampFile = join(outDir, 'stamp');

function upToDate() {
  if (!existsSync(stampFile) || readFileSync(stampFile, 'utf8').trim() !== stamp) return false;
  return BINARIES.every((b) => existsSync(join(binDir, b)) && statSync(join(binDir, b)).size > 0);
}

/** The staging modules a Kubernetes release replaces with ./staging/src/k8s.io/<name>, from its own go.mod. */
export function stagingModules(goModJson) {
  return (goModJson.Replace ?? [])
    .filter((r) => r.Old.Path.startsWith('k8s.io/') && r.New.Path.startsWith('./staging/'))
    .map((r) => r.Old.Path)
    .sort();
}

function buildKubernetes(work) {
  const minorPatch = k8s.replace(/^v1\./, '');
  const stagingVersion = `v0.${minorPatch}`;
  const info = goJson(['mod', 'download', '-json', `k8s.io/kubernetes@${k8s}`], work);
  const upstream = goJson(['mod', 'edit', '-json', info.GoMod], work);
  const staging = stagingModules(upstream);
  if (staging.length < 10) throw new Error(`expected the staging replace list in ${info.GoMod}, found ${staging.length}`);
  const dir = join(work, 'kubernetes');
  mkdirSync(dir, { recursive: true });
  const goVersion = upstream.Go ?? '1.24';
  const lines = [
    'module nkp.local/control-plane/kubernetes',
    '',
    `go ${goVersion}`,
    '',
    `require k8s.io/kubernetes ${k8s}`,
    '',
    'replace (',
    ...staging.map((m) => `\t${m} => ${m} ${stagingVersion}`),
    ')',
    '',
    'tool (',
    ...KUBE_COMMANDS.map((c) => `\tk8s.io/kubernetes/cmd/${c}`),
    ')',
    '',
  ];
  writeFileSync(join(dir, 'go.mod'), lines.join('\n'));
  log(`kubernetes ${k8s}: wrapper module with ${staging.length} staging replaces at ${stagingVersion}`);
  go(['mod', 'tidy'], dir);
  const [, minor] = k8s.match(/^v1\.(\d+)\./);
  const buildDate = '1970-01-01T00:00:00Z';
  const ldflags = ['-s', '-w'];
  for (const pkg of ['k8s.io/component-base/version', 'k8s.io/client-go/pkg/version']) {
    ldflags.push(
      `-X ${pkg}.gitVersion=${k8s}`,
      `-X ${pkg}.gitMajor=1`,
      `-X ${pkg}.gitMinor=${minor}`,
      `-X ${pkg}.gitTreeState=clean`,
      `-X ${pkg}.buildDate=${buildDate}`,
    );
  }
  for (const cmd of KUBE_COMMANDS) {
    const t0 = Date.now();
    go(['build', '-trimpath', `-ldflags=${ldflags.join(' ')}`, '-o', join(binDir, cmd), `k8s.io/kubernetes/cmd/${cmd}`], dir);
    log(`${cmd} built in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  }
}

function buildEtcd(work) {
  const dir = join(work, 'etcd');
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'go.mod'),
    ['module nkp.local/control-plane/etcd', '', 'go 1.24', '', `require go.etcd.io/etcd/server/v3 ${etcd}`, ''].join('\n'),
  );
  writeFileSync(
    join(dir, 'main.go'),
    [
      '// Command etcd runs the etcd server of go.etcd.io/etcd/server/v3 (a wrapper: the upstream main module',
      '// uses replace directives, so it cannot be installed with go install).',
      'package main',
      '',
      'import (',
      '\t"os"',
      '',
      '\t"go.etcd.io/etcd/server/v3/etcdmain"',
      ')',
      '',
      'func main() { etcdmain.Main(os.Args) }',
      '',
    ].join('\n'),
  );
  go(['mod', 'tidy'], dir);
  const t0 = Date.now();
  const ldflags = `-s -w -X go.etcd.io/etcd/api/v3/version.GitSHA=${etcd}`;
  go(['build', '-trimpath', `-ldflags=${ldflags}`, '-o', join(binDir, 'etcd'), '.'], dir);
  log(`etcd built in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
}

function buildKwok(work) {
  const dir = join(work, 'kwok');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'go.mod'), ['module nkp.local/control-plane/kwok', '', 'go 1.26', '', `require sigs.k8s.io/kwok ${kwok}`, '', 'tool sigs.k8s.io/kwok/cmd/kwok', ''].join('\n'));
  go(['mod', 'tidy'], dir);
  const t0 = Date.now();
  go(['build', '-trimpath', "-ldflags=-s -w", '-o', join(binDir, 'kwok'), 'sigs.k8s.io/kwok/cmd/kwok'], dir);
  log(`kwok built in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
}

function build() {
  if (upToDate()) return;
  need('go', 'install Go 1.24 or newer (Debian: golang, or the tarball from the Go project) and put it on PATH');
  const t0 = Date.now();
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(binDir, { recursive: true });
  const work = join(outDir, 'src');
  buildEtcd(work);
  buildKubernetes(work);
  buildKwok(work);
  writeFileSync(stampFile, `${stamp}\n`);
  writeFileSync(join(outDir, 'build-seconds'), `${((Date.now() - t0) / 1000).toFixed(0)}\n`);
  log(`control plane built in ${((Date.now() - t0) / 1000).toFixed(0)} s into ${binDir}`);
}

function main() {
  if (!upToDate()) {
    // The lock sits beside the output directory, which a rebuild deletes and recreates.
    mkdirSync(dirname(outDir), { recursive: true });
    withBuildLock(`${outDir}.lock`, log, build);
  } else {
    log(`up to date in ${binDir}`);
  }
  process.stdout.write(`${binDir}\n`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    main();
  } catch (err) {
    log(`FAILED: ${err.message}`);
    process.exit(1);
  }
}
