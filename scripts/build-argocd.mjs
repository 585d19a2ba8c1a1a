#!/usr/bin/env node
// Builds Argo CD from the Go module proxy, once per machine, at the version whose CRDs the harness installs
// (test/harness/versions.json crdSources.argocd). Argo CD ships one binary (`./cmd`) that serves each component by
// the name it is called with; the binary is built once as `argocd` and linked as argocd-server,
// argocd-repo-server and argocd-application-controller.
//
// github.com/argoproj/argo-cd/v3 pins several dependencies with replace directives in its own go.mod, so
// `go install pkg@v` refuses it. It is built in a wrapper Go module generated in the cache that requires the
// release and copies its replace block verbatim (read from the release's own go.mod with `go mod edit -json`,
// never typed by hand). The binary lands in <cache>/nkp/argocd-<version>/bin with a stamp of its inputs; a missing
// or stale stamp triggers a rebuild. Prints the binary directory on the last line of stdout.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { withBuildLock } from './build-lock.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, '..');
const versions = JSON.parse(readFileSync(join(repo, 'test', 'harness', 'versions.json'), 'utf8'));
const { module, version } = versions.crdSources.argocd;
const cacheRoot = process.env.NKP_CACHE_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'nkp');
const outDir = join(cacheRoot, `argocd-${version}`);
const binDir = join(outDir, 'bin');
const stampFile = join(outDir, 'stamp');
/** The names the harness calls the binary by (each selects a component in Argo CD's cmd/main.go). */
export const ARGOCD_COMPONENTS = ['argocd-server', 'argocd-repo-server', 'argocd-application-controller'];

function log(msg) {
  process.stderr.write(`[build-argocd] ${msg}\n`);
}

function goEnv() {
  return { ...process.env, GOTOOLCHAIN: 'local' };
}

function go(args, cwd, extraEnv = {}) {
  execFileSync('go', args, { cwd, stdio: ['ignore', 'inherit', 'inherit'], env: { ...goEnv(), GOFLAGS: '-mod=mod', CGO_ENABLED: '0', ...extraEnv } });
}

function goJson(args, cwd) {
  return JSON.parse(execFileSync('go', args, { cwd, encoding: 'utf8', env: goEnv() }));
}

/** One replace directive in go.mod syntax, from `go mod edit -json`'s {Old, New}. */
export function replaceLine({ Old, New }) {
  const side = (m) => (m.Version ? `${m.Path} ${m.Version}` : m.Path);
  return `\t${side(Old)} => ${side(New)}`;
}

/** The wrapper module: requires the release and repeats its replace block. */
export function wrapperGoMod(goVersion, replaces) {
  return [
    'module nkp.local/argocd',
    '',
    `go ${goVersion}`,
    '',
    `require ${module} ${version}`,
    '',
    '// Copied from ' + `${module}@${version}` + "'s own go.mod (go mod edit -json).",
    'replace (',
    ...replaces.map(replaceLine),
    ')',
    '',
    `tool ${module}/cmd`,
    '',
  ].join('\n');
}

const script = readFileSync(fileURLToPath(import.meta.url), 'utf8');
const stamp = createHash('sha256')
  .update(JSON.stringify({ module, version, script, go: execFileSync('go', ['env', 'GOVERSION'], { encoding: 'utf8' }).trim() }))
  .digest('hex');

function upToDate() {
  return (
    existsSync(stampFile) &&
    readFileSync(stampFile, 'utf8').trim() === stamp &&
    ['argocd', ...ARGOCD_COMPONENTS].every((b) => existsSync(join(binDir, b)) && statSync(join(binDir, b)).size > 0)
  );
}

function build() {
  if (upToDate()) return;
  const t0 = Date.now();
  rmSync(outDir, { recursive: true, force: true });
  const work = join(outDir, 'src');
  mkdirSync(work, { recursive: true });
  mkdirSync(binDir, { recursive: true });
  const info = goJson(['mod', 'download', '-json', `${module}@${version}`], work);
  const upstream = goJson(['mod', 'edit', '-json', info.GoMod], work);
  const replaces = upstream.Replace ?? [];
  if (replaces.length < 10) throw new Error(`expected the replace block of ${info.GoMod}, found ${replaces.length} directives`);
  if (replaces.some((r) => !r.New.Version)) throw new Error(`${module}@${version} replaces a module with a local path; a wrapper cannot reproduce it`);
  writeFileSync(join(work, 'go.mod'), wrapperGoMod(upstream.Go, replaces));
  go(['mod', 'tidy'], work);
  log(`wrapper module with ${replaces.length} replace directives; module graph resolved in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  const pkg = `${module}/common`;
  const ldflags = [
    '-s -w',
    `-X ${pkg}.version=${version.replace(/^v/, '')}`,
    `-X ${pkg}.gitTag=${version}`,
    `-X ${pkg}.gitTreeState=clean`,
    `-X ${pkg}.buildDate=1970-01-01T00:00:00Z`,
  ].join(' ');
  const t1 = Date.now();
  go(['build', '-trimpath', `-ldflags=${ldflags}`, '-o', join(binDir, 'argocd'), `${module}/cmd`], work);
  log(`argocd ${version} compiled in ${((Date.now() - t1) / 1000).toFixed(0)} s`);
  for (const name of ARGOCD_COMPONENTS) symlinkSync('argocd', join(binDir, name));
  writeFileSync(stampFile, `${stamp}\n`);
  writeFileSync(join(outDir, 'build-seconds'), `${((Date.now() - t0) / 1000).toFixed(0)}\n`);
  log(`argocd ${version} built in ${((Date.now() - t0) / 1000).toFixed(0)} s into ${binDir}`);
}

function main() {
  try {
    execFileSync('go', ['version'], { stdio: 'ignore' });
  } catch {
    throw new Error('go is required to build Argo CD: install Go 1.24 or newer and put it on PATH');
  }
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
