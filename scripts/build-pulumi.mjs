#!/usr/bin/env node
// Builds the real Pulumi engine for this machine, once: the CLI, the Kubernetes provider and the project's own
// Node.js language host (+ its two launcher scripts), all from the Go module proxy and this repository.
//
//  - pulumi: github.com/pulumi/pulumi/pkg/v3/cmd/pulumi at versions.json's pulumi.cli, in a wrapper module that
//    copies the versioned replace directives of that release's own go.mod (the clipboard fork); the version is
//    stamped with -ldflags, or `pulumi version` prints nothing.
//  - pulumi-resource-kubernetes: github.com/pulumi/pulumi-kubernetes/provider/v4 at the one version the proxy
//    serves. Its main embeds a generated schema-embed.json the module zip lacks, so the wrapper has its own small
//    main that embeds the module's schema.json (version set, as upstream's generate.go does) and
//    terraform-mapping.json and calls provider.Serve. The plugin's version is the npm @pulumi/kubernetes version in
//    package.json: that is the plugin version the SDK asks the engine for.
//  - pulumi-language-nodejs: engine/language-host (our own host), plus engine/launchers/* copied next to it.
//
// Each piece has its own stamp of its inputs (versions + the source of its build function, or the files it is
// built from), so changing the language host does not relink the provider. Binaries land in
// <cache>/nkp/pulumi/<cli>-<kubernetes plugin>/bin. Prints that directory on the last line of stdout.
// `node scripts/build-pulumi.mjs [cli|language-host|kubernetes-provider]...` builds only the named pieces.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { withBuildLock } from './build-lock.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const versions = JSON.parse(readFileSync(join(root, 'test', 'harness', 'versions.json'), 'utf8'));
const pkgJson = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const cacheRoot = process.env.NKP_CACHE_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'nkp');
const cli = versions.pulumi.cli;
const k8sProvider = versions.pulumi.kubernetesProvider;
const k8sPluginVersion = pkgJson.dependencies['@pulumi/kubernetes'];
const outDir = join(cacheRoot, 'pulumi', `${cli}-${k8sPluginVersion}`);
const binDir = join(outDir, 'bin');
const hostDir = join(root, 'engine', 'language-host');
const launcherDir = join(root, 'engine', 'launchers');

function log(msg) {
  process.stderr.write(`[build-pulumi] ${msg}\n`);
}

function need(tool, hint) {
  try {
    execFileSync(tool, ['version'], { stdio: 'ignore' });
  } catch {
    throw new Error(`${tool} is required to build the Pulumi engine: ${hint}`);
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

/**
 * The replace directives of an upstream go.mod (as `go mod edit -json` prints it) that a wrapper module can
 * reuse: those pointing at a published module version. Local-path replaces (`../sdk`) point into the upstream
 * repository, which the module zip does not carry; the wrapper gets those modules from the proxy instead.
 */
export function versionedReplaces(goModJson) {
  return (goModJson.Replace ?? [])
    .filter((r) => r.New.Version)
    .map((r) => `${r.Old.Path}${r.Old.Version ? ` ${r.Old.Version}` : ''} => ${r.New.Path} ${r.New.Version}`)
    .sort();
}

/** The Go version a wrapper declares: the upstream module's own. */
function upstreamGoMod(module, version, work) {
  const info = goJson(['mod', 'download', '-json', `${module}@${version}`], work);
  if (info.Error) throw new Error(`go mod download ${module}@${version}: ${info.Error}`);
  return { info, mod: goJson(['mod', 'edit', '-json', info.GoMod], work) };
}

function wrapperGoMod(name, goVersion, requires, replaces) {
  return [
    `module nkp.local/pulumi/${name}`,
    '',
    `go ${goVersion}`,
    '',
    ...requires.map((r) => `require ${r}`),
    '',
    ...(replaces.length ? ['replace (', ...replaces.map((r) => `\t${r}`), ')', ''] : []),
  ].join('\n');
}

function buildCli(work) {
  const module = 'github.com/pulumi/pulumi/pkg/v3';
  const { mod } = upstreamGoMod(module, cli, work);
  const replaces = versionedReplaces(mod);
  if (!replaces.some((r) => r.startsWith('github.com/atotto/clipboard '))) {
    throw new Error(`expected the clipboard replace in ${module}@${cli}'s go.mod, found: ${replaces.join('; ') || 'none'}`);
  }
  const dir = join(work, 'cli');
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'go.mod'),
    wrapperGoMod('cli', mod.Go, [`${module} ${cli}`, `github.com/pulumi/pulumi/sdk/v3 ${cli}`], replaces),
  );
  // A blank import keeps `go mod tidy` from dropping the requirement.
  writeFileSync(join(dir, 'tools.go'), '//go:build tools\n\npackage tools\n\nimport _ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"\n');
  log(`pulumi ${cli}: wrapper module, replaces: ${replaces.join('; ')}`);
  go(['mod', 'tidy'], dir);
  const ldflags = `-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=${cli}`;
  go(['build', '-trimpath', `-ldflags=${ldflags}`, '-o', join(binDir, 'pulumi'), `${module}/cmd/pulumi`], dir);
}

function buildKubernetesProvider(work) {
  const { module, version } = k8sProvider;
  const { info, mod } = upstreamGoMod(module, version, work);
  const replaces = versionedReplaces(mod);
  const skipped = (mod.Replace ?? []).filter((r) => !r.New.Version).map((r) => `${r.Old.Path} => ${r.New.Path}`);
  const dir = join(work, 'kubernetes');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'go.mod'), wrapperGoMod('kubernetes', mod.Go, [`${module} ${version}`], replaces));
  log(
    `pulumi-resource-kubernetes ${k8sPluginVersion} from ${module}@${version}: replaces copied: ${replaces.join('; ') || 'none'}` +
      `; local-path replaces left to the proxy: ${skipped.join('; ') || 'none'}`,
  );
  // What upstream's generate.go does for schema-embed.json: the module's schema.json with the version set.
  const cmdDir = join(info.Dir, 'cmd', 'pulumi-resource-kubernetes');
  const schema = JSON.parse(readFileSync(join(cmdDir, 'schema.json'), 'utf8'));
  schema.version = k8sPluginVersion;
  writeFileSync(join(dir, 'schema-embed.json'), JSON.stringify(schema));
  writeFileSync(
    join(dir, 'terraform-mapping-embed.json'),
    JSON.stringify(JSON.parse(readFileSync(join(cmdDir, 'terraform-mapping.json'), 'utf8'))),
  );
  writeFileSync(
    join(dir, 'main.go'),
    [
      '// Command pulumi-resource-kubernetes serves the Kubernetes provider of ' + module + '.',
      "// The upstream main embeds files its build generates; this one embeds them from the module's own sources.",
      'package main',
      '',
      'import (',
      '\t_ "embed"',
      '',
      '\t"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/provider"',
      '\t"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version"',
      ')',
      '',
      '//go:embed schema-embed.json',
      'var schema []byte',
      '',
      '//go:embed terraform-mapping-embed.json',
      'var terraformMapping []byte',
      '',
      'func main() { provider.Serve("kubernetes", version.Version, schema, terraformMapping) }',
      '',
    ].join('\n'),
  );
  go(['mod', 'tidy'], dir);
  const ldflags = `-s -w -X ${module}/pkg/version.Version=${k8sPluginVersion}`;
  go(['build', '-trimpath', `-ldflags=${ldflags}`, '-o', join(binDir, 'pulumi-resource-kubernetes'), '.'], dir);
}

function filesUnder(dir) {
  return readdirSync(dir, { recursive: true })
    .map((f) => join(dir, f))
    .filter((f) => statSync(f).isFile())
    .sort();
}

function buildLanguageHost() {
  const hostMod = goJson(['mod', 'edit', '-json', join(hostDir, 'go.mod')], hostDir);
  const sdk = (hostMod.Require ?? []).find((r) => r.Path === 'github.com/pulumi/pulumi/sdk/v3');
  if (sdk?.Version !== cli) {
    throw new Error(
      `engine/language-host/go.mod requires github.com/pulumi/pulumi/sdk/v3 ${sdk?.Version}, but versions.json's pulumi.cli is ${cli}: ` +
        `run (cd engine/language-host && go get github.com/pulumi/pulumi/sdk/v3@${cli} && go mod tidy)`,
    );
  }
  go(['build', '-trimpath', '-ldflags=-s -w', '-o', join(binDir, 'pulumi-language-nodejs'), '.'], hostDir, { GOFLAGS: '-mod=readonly' });
  for (const f of readdirSync(launcherDir)) {
    copyFileSync(join(launcherDir, f), join(binDir, f));
    chmodSync(join(binDir, f), 0o755);
  }
}

const goVersion = () => execFileSync('go', ['env', 'GOVERSION'], { encoding: 'utf8', env: { ...process.env, GOTOOLCHAIN: 'local' } }).trim();

/** The pieces, each with the binaries it makes and the inputs of its stamp. */
function pieces() {
  return [
    { name: 'cli', binaries: ['pulumi'], inputs: () => [cli, buildCli.toString(), versionedReplaces.toString()], build: buildCli },
    {
      name: 'language-host',
      binaries: ['pulumi-language-nodejs', 'pulumi-resource-pulumi-nodejs'],
      inputs: () => [
        cli,
        buildLanguageHost.toString(),
        ...[...filesUnder(hostDir), ...filesUnder(launcherDir)].map((f) => `${relative(root, f)}\n${readFileSync(f, 'utf8')}`),
      ],
      build: buildLanguageHost,
    },
    {
      name: 'kubernetes-provider',
      binaries: ['pulumi-resource-kubernetes'],
      inputs: () => [JSON.stringify(k8sProvider), k8sPluginVersion, buildKubernetesProvider.toString(), versionedReplaces.toString()],
      build: buildKubernetesProvider,
    },
  ];
}

function stampOf(piece) {
  return createHash('sha256').update(JSON.stringify([goVersion(), ...piece.inputs()])).digest('hex');
}

function upToDate(piece, stamp) {
  const stampFile = join(outDir, 'stamps', piece.name);
  if (!existsSync(stampFile) || readFileSync(stampFile, 'utf8').trim() !== stamp) return false;
  return piece.binaries.every((b) => existsSync(join(binDir, b)) && statSync(join(binDir, b)).size > 0);
}

function main(only) {
  const unknown = only.filter((n) => !pieces().some((p) => p.name === n));
  if (unknown.length) throw new Error(`unknown piece(s) ${unknown.join(', ')}; pieces: ${pieces().map((p) => p.name).join(', ')}`);
  mkdirSync(join(outDir, 'stamps'), { recursive: true });
  mkdirSync(binDir, { recursive: true });
  // One build at a time per output directory (setup and test processes may ask at once).
  withBuildLock(join(outDir, 'lock'), log, () => buildPieces(only));
  log(`Pulumi engine in ${binDir}`);
  process.stdout.write(`${binDir}\n`);
}

function buildPieces(only) {
  let checkedGo = false;
  for (const piece of pieces().filter((p) => only.length === 0 || only.includes(p.name))) {
    if (!checkedGo) {
      need('go', 'install Go 1.24 or newer (Debian: golang, or the tarball from the Go project) and put it on PATH');
      checkedGo = true;
    }
    const stamp = stampOf(piece);
    if (upToDate(piece, stamp)) {
      log(`${piece.name}: up to date`);
      continue;
    }
    const t0 = Date.now();
    const work = join(outDir, 'src', piece.name);
    rmSync(work, { recursive: true, force: true });
    rmSync(join(outDir, 'stamps', piece.name), { force: true });
    mkdirSync(work, { recursive: true });
    piece.build(work);
    const seconds = ((Date.now() - t0) / 1000).toFixed(0);
    writeFileSync(join(outDir, 'stamps', piece.name), `${stamp}\n`);
    writeFileSync(join(outDir, 'stamps', `${piece.name}.build-seconds`), `${seconds}\n`);
    log(`${piece.name} built in ${seconds} s`);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    main(process.argv.slice(2));
  } catch (err) {
    log(`FAILED: ${err.message}`);
    process.exit(1);
  }
}
