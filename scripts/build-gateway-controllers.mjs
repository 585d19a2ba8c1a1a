#!/usr/bin/env node
// Builds the two controllers that serve what the operator writes, from the Go module proxy, once per machine:
//  - Envoy Gateway (`github.com/envoyproxy/gateway/cmd/envoy-gateway`) at the version whose CRDs the harness
//    installs (test/harness/versions.json crdSources.envoyGateway), plus `xds-dump`, our small mTLS xDS client
//    (test/harness/go/xds-dump) that reads the served Envoy configuration back; it imports every Envoy extension
//    the release's own registry imports (read from its internal/xds/extensions/extensions.gen.go, never typed
//    by hand) so every typed config decodes.
//  - cert-manager's controllers (`cert-manager-controller`, our own main in test/harness/go/cert-manager-controller
//    against cert-manager's `pkg/` at crdSources.certManager; upstream's cmd/controller module is not served).
//
// Each goes into a wrapper Go module generated in the cache (no replace directives: the builds resolve exactly
// the upstream module graph). Binaries land in <cache>/nkp/gateway-controllers/<name>-<version>/bin with a stamp
// of their inputs; a missing or stale stamp triggers a rebuild of that component only.
// Prints one line per component on stdout: `<name> <bin dir>`. `--only <name>` builds one.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, '..');
const versions = JSON.parse(readFileSync(join(repo, 'test', 'harness', 'versions.json'), 'utf8'));
const cacheRoot = process.env.NKP_CACHE_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'nkp');
const goSrc = join(repo, 'test', 'harness', 'go');

function log(msg) {
  process.stderr.write(`[build-gateway-controllers] ${msg}\n`);
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

/** Our own Go sources of one helper directory, name -> content (part of the stamp). */
function ownSources(dir) {
  return Object.fromEntries(
    readdirSync(join(goSrc, dir))
      .filter((f) => f.endsWith('.go'))
      .sort()
      .map((f) => [f, readFileSync(join(goSrc, dir, f), 'utf8')]),
  );
}

/** The blank imports of Envoy Gateway's extension registry file (every Envoy extension it can emit). */
export function extensionImports(genGoSource) {
  return [...genGoSource.matchAll(/^\s*_\s+"([^"]+)"/gm)].map((m) => m[1]).sort();
}

function wrapperGoMod(name, goVersion, requires, tools) {
  return [
    `module nkp.local/gateway-controllers/${name}`,
    '',
    `go ${goVersion}`,
    '',
    'require (',
    ...requires.map(([m, v]) => `\t${m} ${v}`),
    ')',
    '',
    ...(tools.length ? ['tool (', ...tools.map((t) => `\t${t}`), ')', ''] : []),
  ].join('\n');
}

const script = readFileSync(fileURLToPath(import.meta.url), 'utf8');

const COMPONENTS = {
  'envoy-gateway': {
    source: versions.crdSources.envoyGateway,
    binaries: ['envoy-gateway', 'xds-dump'],
    stampExtra: () => ownSources('xds-dump'),
    build(work, bin) {
      const { module, version } = this.source;
      const info = goJson(['mod', 'download', '-json', `${module}@${version}`], work);
      const upstream = goJson(['mod', 'edit', '-json', info.GoMod], work);
      if ((upstream.Replace ?? []).length) throw new Error(`${module}@${version} has replace directives; the wrapper module would not reproduce its build`);
      const gen = readFileSync(join(info.Dir, 'internal', 'xds', 'extensions', 'extensions.gen.go'), 'utf8');
      const imports = extensionImports(gen);
      if (imports.length < 50) throw new Error(`expected Envoy Gateway's extension imports, found ${imports.length}`);
      writeFileSync(join(work, 'go.mod'), wrapperGoMod('envoy-gateway', upstream.Go, [[module, version]], [`${module}/cmd/envoy-gateway`]));
      for (const [f, text] of Object.entries(ownSources('xds-dump'))) writeFileSync(join(work, f), text);
      writeFileSync(
        join(work, 'zz_extensions.go'),
        ['// Generated from Envoy Gateway ' + version + "'s internal/xds/extensions/extensions.gen.go.", 'package main', '', 'import (', ...imports.map((i) => `\t_ "${i}"`), ')', ''].join('\n'),
      );
      go(['mod', 'tidy'], work);
      const ldflags = `-s -w -X github.com/envoyproxy/gateway/internal/cmd/version.envoyGatewayVersion=${version}`;
      let t0 = Date.now();
      go(['build', '-trimpath', `-ldflags=${ldflags}`, '-o', join(bin, 'envoy-gateway'), `${module}/cmd/envoy-gateway`], work);
      log(`envoy-gateway ${version} built in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
      t0 = Date.now();
      go(['build', '-trimpath', '-ldflags=-s -w', '-o', join(bin, 'xds-dump'), '.'], work);
      log(`xds-dump built in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    },
  },
  'cert-manager': {
    source: versions.crdSources.certManager,
    binaries: ['cert-manager-controller'],
    stampExtra: () => ownSources('cert-manager-controller'),
    build(work, bin) {
      const { module, version } = this.source;
      const info = goJson(['mod', 'download', '-json', `${module}@${version}`], work);
      const upstream = goJson(['mod', 'edit', '-json', info.GoMod], work);
      if ((upstream.Replace ?? []).length) throw new Error(`${module}@${version} has replace directives; the wrapper module would not reproduce its build`);
      writeFileSync(join(work, 'go.mod'), wrapperGoMod('cert-manager', upstream.Go, [[module, version]], []));
      for (const [f, text] of Object.entries(ownSources('cert-manager-controller'))) writeFileSync(join(work, f), text);
      go(['mod', 'tidy'], work);
      const ldflags = `-s -w -X github.com/cert-manager/cert-manager/pkg/util.AppVersion=${version}`;
      const t0 = Date.now();
      go(['build', '-trimpath', `-ldflags=${ldflags}`, '-o', join(bin, 'cert-manager-controller'), '.'], work);
      log(`cert-manager-controller ${version} built in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    },
  },
};

/** Where a component's binaries live (whether or not they are built yet). */
export function componentDir(name) {
  const c = COMPONENTS[name];
  return join(cacheRoot, 'gateway-controllers', `${name}-${c.source.version}`);
}

function ensure(name) {
  const c = COMPONENTS[name];
  const outDir = componentDir(name);
  const bin = join(outDir, 'bin');
  const stamp = createHash('sha256')
    .update(JSON.stringify({ name, source: c.source, script, own: c.stampExtra(), go: execFileSync('go', ['env', 'GOVERSION'], { encoding: 'utf8' }).trim() }))
    .digest('hex');
  const stampFile = join(outDir, 'stamp');
  const fresh =
    existsSync(stampFile) &&
    readFileSync(stampFile, 'utf8').trim() === stamp &&
    c.binaries.every((b) => existsSync(join(bin, b)) && statSync(join(bin, b)).size > 0);
  if (fresh) {
    log(`${name} up to date in ${bin}`);
    return bin;
  }
  const t0 = Date.now();
  rmSync(outDir, { recursive: true, force: true });
  const work = join(outDir, 'src');
  mkdirSync(work, { recursive: true });
  mkdirSync(bin, { recursive: true });
  c.build(work, bin);
  writeFileSync(stampFile, `${stamp}\n`);
  writeFileSync(join(outDir, 'build-seconds'), `${((Date.now() - t0) / 1000).toFixed(0)}\n`);
  log(`${name} built in ${((Date.now() - t0) / 1000).toFixed(0)} s into ${bin}`);
  return bin;
}

function main() {
  try {
    execFileSync('go', ['version'], { stdio: 'ignore' });
  } catch {
    throw new Error('go is required to build the gateway controllers: install Go (the version Envoy Gateway asks for) and put it on PATH');
  }
  const i = process.argv.indexOf('--only');
  const names = i > 0 ? [process.argv[i + 1]] : Object.keys(COMPONENTS);
  for (const n of names) {
    if (!COMPONENTS[n]) throw new Error(`unknown component ${n}; one of ${Object.keys(COMPONENTS).join(', ')}`);
    process.stdout.write(`${n} ${ensure(n)}\n`);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    main();
  } catch (err) {
    log(`FAILED: ${err.message}`);
    process.exit(1);
  }
}
