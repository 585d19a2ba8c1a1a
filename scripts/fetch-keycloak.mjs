#!/usr/bin/env node
// Fetches the Keycloak server distribution (org.keycloak:keycloak-quarkus-dist) from Maven Central with Maven,
// once per machine, at the version pinned in test/harness/versions.json, and prepares it for dev mode.
//
// Result: <cache>/nkp/keycloak/<version>/keycloak-<version> (the Keycloak home), with a stamp file. A present,
// matching stamp means nothing is done. The last line of stdout is the home directory.
//
// "Prepared for dev mode": `kc.sh start-dev` re-augments the Quarkus application (about 20 s on two cores) when its
// build-time options differ from the ones the distribution was built with. We run that augmentation once here, by
// starting the server in dev mode with the harness's build options on loopback, waiting for readiness and stopping
// it; each test run then copies the augmented lib/quarkus into its own private home and starts in seconds.
//
// Needs: mvn (Apache Maven 3.x) and a Java 17+ runtime on PATH (or JAVA_HOME).
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, readdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const versions = JSON.parse(readFileSync(join(here, '..', 'test', 'harness', 'versions.json'), 'utf8'));
const version = versions.keycloak;
if (typeof version !== 'string' || !/^\d+\.\d+\.\d+$/.test(version)) {
  throw new Error(`test/harness/versions.json: "keycloak" must be a version like 26.7.3, got ${JSON.stringify(version)}`);
}
const cacheRoot = process.env.NKP_CACHE_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'nkp');
const outDir = join(cacheRoot, 'keycloak', version);
const home = join(outDir, `keycloak-${version}`);
const stampFile = join(outDir, 'stamp');

/** Build-time options the harness starts Keycloak with (test/harness/keycloak.ts has the same list): equal options skip re-augmentation. */
export const BUILD_OPTIONS = ['--health-enabled=true'];

/** Bump when the layout this script produces changes (editing the script alone must not rebuild a cache in use). */
const LAYOUT = 1;
const stamp = createHash('sha256').update(JSON.stringify({ version, buildOptions: BUILD_OPTIONS, layout: LAYOUT })).digest('hex');

function log(msg) {
  process.stderr.write(`[fetch-keycloak] ${msg}\n`);
}

function need(tool, args, hint) {
  try {
    execFileSync(tool, args, { stdio: 'ignore' });
  } catch {
    throw new Error(`${tool} is required to fetch and run the test Keycloak: ${hint}`);
  }
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => resolve(addr.port));
    });
  });
}

async function waitReady(url, child, deadlineMs) {
  const until = Date.now() + deadlineMs;
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`Keycloak exited with ${child.exitCode} during the warm-up start`);
    try {
      const res = await fetch(url);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
  throw new Error(`Keycloak was not ready within ${deadlineMs / 1000}s during the warm-up start`);
}

async function warmUp() {
  const [httpPort, mgmtPort] = [await freePort(), await freePort()];
  const dataDir = mkdtempSync(join(tmpdir(), 'nkp-keycloak-warmup-'));
  const logFile = join(dataDir, 'warmup.log');
  log(`augmenting for dev mode (one-time, ~30 s): start-dev on 127.0.0.1:${httpPort}`);
  const out = openSync(logFile, 'w');
  const env = { ...process.env, JAVA_OPTS_KC_HEAP: '-Xms64m -Xmx768m' };
  // No bootstrap admin: the warm-up never serves a request beyond the health probe.
  delete env.KC_BOOTSTRAP_ADMIN_USERNAME;
  delete env.KC_BOOTSTRAP_ADMIN_PASSWORD;
  const child = spawn(join(home, 'bin', 'kc.sh'), [
    'start-dev',
    ...BUILD_OPTIONS,
    '--http-host=127.0.0.1',
    `--http-port=${httpPort}`,
    `--http-management-port=${mgmtPort}`,
  ], {
    detached: true,
    stdio: ['ignore', out, out],
    env,
  });
  try {
    await waitReady(`http://127.0.0.1:${mgmtPort}/health/ready`, child, 300_000);
  } catch (err) {
    log(readFileSync(logFile, 'utf8').split('\n').slice(-30).join('\n'));
    throw err;
  } finally {
    try {
      process.kill(-child.pid, 'SIGTERM');
    } catch {
      // already gone
    }
    await new Promise((r) => (child.exitCode !== null ? r() : child.once('exit', r)));
    rmSync(dataDir, { recursive: true, force: true });
  }
  // The warm-up's H2 database and transaction logs are not part of the prepared home.
  rmSync(join(home, 'data'), { recursive: true, force: true });
}

function upToDate() {
  return existsSync(stampFile) && readFileSync(stampFile, 'utf8').trim() === stamp && existsSync(join(home, 'bin', 'kc.sh'));
}

/** One fetch at a time per cache (test processes may start together on a cold cache): a lock dir with our pid. */
async function withLock(fn) {
  const lockDir = `${outDir}.lock`;
  mkdirSync(dirname(lockDir), { recursive: true });
  const deadline = Date.now() + 15 * 60_000;
  for (;;) {
    try {
      mkdirSync(lockDir);
      writeFileSync(join(lockDir, 'pid'), String(process.pid));
      break;
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
      let holder = 0;
      try {
        holder = Number(readFileSync(join(lockDir, 'pid'), 'utf8'));
      } catch {
        // being created right now
      }
      let alive = true;
      if (holder > 0) {
        try {
          process.kill(holder, 0);
        } catch {
          alive = false;
        }
      }
      if (!alive) {
        rmSync(lockDir, { recursive: true, force: true });
        continue;
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${lockDir} (held by pid ${holder})`);
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lockDir, { recursive: true, force: true });
  }
}

async function main() {
  if (upToDate()) {
    process.stdout.write(`${home}\n`);
    return;
  }
  await withLock(fetchAndPrepare);
  process.stdout.write(`${home}\n`);
}

async function fetchAndPrepare() {
  if (upToDate()) return;
  need('java', ['-version'], 'install a JDK 17 or newer (Debian: apt-get install -y openjdk-17-jre-headless)');
  need('mvn', ['-v'], 'install Apache Maven (Debian: apt-get install -y maven)');
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const dl = join(outDir, 'download');
  log(`downloading org.keycloak:keycloak-quarkus-dist:${version} with Maven`);
  execFileSync('mvn', [
    '-q', '-B', '-Dstyle.color=never',
    'org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy',
    `-Dartifact=org.keycloak:keycloak-quarkus-dist:${version}:tar.gz`,
    `-DoutputDirectory=${dl}`,
  ], { cwd: outDir, stdio: ['ignore', process.stderr, process.stderr] });
  const archive = join(dl, `keycloak-quarkus-dist-${version}.tar.gz`);
  if (!existsSync(archive)) throw new Error(`Maven finished but ${archive} is missing (found: ${readdirSync(dl).join(', ')})`);
  execFileSync('tar', ['-xzf', archive, '-C', outDir], { stdio: 'inherit' });
  rmSync(dl, { recursive: true, force: true });
  if (!existsSync(join(home, 'bin', 'kc.sh'))) throw new Error(`unpacked archive has no ${join(home, 'bin', 'kc.sh')}`);
  await warmUp();
  writeFileSync(stampFile, `${stamp}\n`);
  log(`ready: ${home}`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((err) => {
    process.stderr.write(`[fetch-keycloak] ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
