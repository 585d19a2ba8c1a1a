#!/usr/bin/env node
// Builds the Helm CLI that Argo CD's repo-server runs for chart-sourced Applications, once per machine, at the
// version the pinned Argo CD release bundles (helm3_version in its hack/tool-versions.sh, read from the Go module
// cache: never typed here). helm.sh/helm/v3 has no replace directives: a wrapper module that requires it and
// lists cmd/helm as a tool reproduces its module graph. Output: <cache>/nkp/helm-<version>/bin/helm with a stamp of
// its inputs; a missing or stale stamp triggers a rebuild. Prints the binary directory on the last line of stdout.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { withBuildLock } from './build-lock.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, '..');
const versions = JSON.parse(readFileSync(join(repo, 'test', 'harness', 'versions.json'), 'utf8'));
const argocd = versions.crdSources.argocd;
const cacheRoot = process.env.NKP_CACHE_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'nkp');
const MODULE = 'helm.sh/helm/v3';

function log(msg) {
  process.stderr.write(`[build-helm] ${msg}\n`);
}

const goEnv = () => ({ ...process.env, GOTOOLCHAIN: 'local' });
function go(args, cwd) {
  execFileSync('go', args, { cwd, stdio: ['ignore', 'inherit', 'inherit'], env: { ...goEnv(), GOFLAGS: '-mod=mod', CGO_ENABLED: '0' } });
}
function goJson(args, cwd) {
  return JSON.parse(execFileSync('go', args, { cwd, encoding: 'utf8', env: goEnv() }));
}

/** Pure: helm3_version from Argo CD's hack/tool-versions.sh, as a module version (v-prefixed). */
export function helmVersionOf(toolVersions) {
  const m = /^helm3_version=([0-9]+\.[0-9]+\.[0-9]+)\s*$/m.exec(toolVersions);
  if (!m) throw new Error("Argo CD's hack/tool-versions.sh has no helm3_version line");
  return `v${m[1]}`;
}

function argocdHelmVersion() {
  const info = goJson(['mod', 'download', '-json', `${argocd.module}@${argocd.version}`], here);
  return helmVersionOf(readFileSync(join(info.Dir, 'hack', 'tool-versions.sh'), 'utf8'));
}

function main() {
  try {
    execFileSync('go', ['version'], { stdio: 'ignore' });
  } catch {
    throw new Error('go is required to build Helm: install Go 1.24 or newer and put it on PATH');
  }
  const version = argocdHelmVersion();
  const outDir = join(cacheRoot, `helm-${version}`);
  const binDir = join(outDir, 'bin');
  const stampFile = join(outDir, 'stamp');
  const script = readFileSync(fileURLToPath(import.meta.url), 'utf8');
  const stamp = createHash('sha256')
    .update(JSON.stringify({ version, script, go: execFileSync('go', ['env', 'GOVERSION'], { encoding: 'utf8' }).trim() }))
    .digest('hex');
  const upToDate = () => existsSync(stampFile) && readFileSync(stampFile, 'utf8').trim() === stamp && existsSync(join(binDir, 'helm')) && statSync(join(binDir, 'helm')).size > 0;
  const build = () => {
    if (upToDate()) return;
    const t0 = Date.now();
    rmSync(outDir, { recursive: true, force: true });
    const work = join(outDir, 'src');
    mkdirSync(work, { recursive: true });
    mkdirSync(binDir, { recursive: true });
    const info = goJson(['mod', 'download', '-json', `${MODULE}@${version}`], work);
    const upstream = goJson(['mod', 'edit', '-json', info.GoMod], work);
    if ((upstream.Replace ?? []).length) throw new Error(`${MODULE}@${version} has replace directives; the wrapper module would not reproduce its build`);
    writeFileSync(join(work, 'go.mod'), ['module nkp.local/helm', '', `go ${upstream.Go}`, '', `require ${MODULE} ${version}`, '', `tool ${MODULE}/cmd/helm`, ''].join('\n'));
    go(['mod', 'tidy'], work);
    const ldflags = `-s -w -X helm.sh/helm/v3/internal/version.version=${version} -X helm.sh/helm/v3/internal/version.gitTreeState=clean`;
    go(['build', '-trimpath', `-ldflags=${ldflags}`, '-o', join(binDir, 'helm'), `${MODULE}/cmd/helm`], work);
    writeFileSync(stampFile, `${stamp}\n`);
    writeFileSync(join(outDir, 'build-seconds'), `${((Date.now() - t0) / 1000).toFixed(0)}\n`);
    log(`helm ${version} built in ${((Date.now() - t0) / 1000).toFixed(0)} s into ${binDir}`);
  };
  if (!upToDate()) {
    mkdirSync(dirname(outDir), { recursive: true });
    withBuildLock(`${outDir}.lock`, log, build);
  } else {
    log(`helm ${version} up to date in ${binDir}`);
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
