// A real Keycloak for tests: the org.keycloak:keycloak-quarkus-dist server distribution (fetched once per machine by
// scripts/fetch-keycloak.mjs from Maven Central), started in dev mode on loopback on free ports with a random
// bootstrap admin and its own data directory.
//
//   const kc = await sharedKeycloak();   // one per test process, stopped by the mocha root hook (stopSharedKeycloak)
//   const kc = await startKeycloak();    // a private one; call kc.dispose()
//
// Each instance gets a private Keycloak home in a temp dir: bin/ and conf/ copied, the augmented lib/quarkus copied
// (dev mode writes there), the jars linked from the cache; data/ (H2 database) is private too, so parallel test
// processes never share state. stop()/start() keep the home, data and ports: the outage tests use them.
// Teardown kills the process group and deletes the directory, also when the test process dies without cleaning up
// (a watchdog shell outlives us by at most a second).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, cpSync, mkdirSync, mkdtempSync, openSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './control-plane.js';
import { onProcessExit, sleep, tail } from './util.js';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = join(here, '..', '..');

/** Same build-time options as scripts/fetch-keycloak.mjs BUILD_OPTIONS: equal options skip Quarkus re-augmentation. */
const BUILD_OPTIONS = ['--health-enabled=true'];
/** A modest heap: the machine has two cores and other suites run beside us. */
const HEAP = '-Xms64m -Xmx768m';
const READY_TIMEOUT_MS = 240_000;

export interface KeycloakInstance {
  /** http://127.0.0.1:<port>: the server (realms, admin API). */
  baseUrl: string;
  /** http://127.0.0.1:<port>: health endpoints. */
  managementUrl: string;
  /** Bootstrap admin of the master realm, random per instance. */
  adminUsername: string;
  adminPassword: string;
  /** The private Keycloak home (copied bin/conf, private data/). */
  home: string;
  /** Seconds the last start took until /health/ready answered. */
  lastStartSeconds: number;
  running(): boolean;
  /** Stop the server (SIGTERM to the process group, SIGKILL after 20 s). Data and ports are kept. */
  stop(): Promise<void>;
  /** Start it again on the same ports with the same data; resolves when ready. */
  start(): Promise<void>;
  restart(): Promise<void>;
}

export interface PrivateKeycloak extends KeycloakInstance {
  /** Stop and delete everything. */
  dispose(): Promise<void>;
}

async function waitPortClosed(port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    try {
      await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(1000) });
    } catch {
      return;
    }
    await sleep(200);
  }
  throw new Error(`Keycloak still answers on 127.0.0.1:${port} after stop`);
}

/** Runs scripts/fetch-keycloak.mjs (a no-op once cached) and returns the cached Keycloak home. */
export function keycloakDistribution(): string {
  const out = execFileSync(process.execPath, [join(repoRoot, 'scripts', 'fetch-keycloak.mjs')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    timeout: 900_000,
  });
  const lines = out.trim().split('\n');
  const home = lines[lines.length - 1]?.trim();
  if (!home) throw new Error('scripts/fetch-keycloak.mjs printed no Keycloak home');
  return home;
}

/** A private home: copies of the small mutable parts, links to the big immutable ones. */
function privateHome(dist: string, dir: string): string {
  const home = join(dir, 'home');
  mkdirSync(join(home, 'lib'), { recursive: true });
  cpSync(join(dist, 'bin'), join(home, 'bin'), { recursive: true });
  cpSync(join(dist, 'conf'), join(home, 'conf'), { recursive: true });
  cpSync(join(dist, 'lib', 'quarkus'), join(home, 'lib', 'quarkus'), { recursive: true });
  symlinkSync(join(dist, 'lib', 'lib'), join(home, 'lib', 'lib'));
  symlinkSync(join(dist, 'lib', 'app'), join(home, 'lib', 'app'));
  symlinkSync(join(dist, 'lib', 'quarkus-run.jar'), join(home, 'lib', 'quarkus-run.jar'));
  symlinkSync(join(dist, 'themes'), join(home, 'themes'));
  mkdirSync(join(home, 'providers'));
  return home;
}

/**
 * Starts a private Keycloak. Its ports are picked free and bound by the JVM seconds later, so another process
 * can take one in between: a first start that fails on a port already in use is retried with new ports (and a
 * new directory), up to three times.
 */
export async function startKeycloak(): Promise<PrivateKeycloak> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startKeycloakOnce();
    } catch (err) {
      if (attempt >= 3 || !/already in use|already bound/i.test(String((err as Error).message))) throw err;
    }
  }
}

async function startKeycloakOnce(): Promise<PrivateKeycloak> {
  const dist = keycloakDistribution();
  const dir = mkdtempSync(join(tmpdir(), 'nkp-keycloak-'));
  const home = privateHome(dist, dir);
  const logFile = join(dir, 'keycloak.log');
  const pgidFile = join(dir, 'pgid');
  const [httpPort, mgmtPort] = [await freePort(), await freePort()];
  const adminUsername = `admin-${randomBytes(4).toString('hex')}`;
  const adminPassword = randomBytes(18).toString('base64url');
  const baseUrl = `http://127.0.0.1:${httpPort}`;
  const managementUrl = `http://127.0.0.1:${mgmtPort}`;

  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();

  // kc.sh runs in its own process group (detached); signalling the group reaches kc.sh and the JVM alike.
  const killGroup = (signal: NodeJS.Signals): void => {
    if (!child?.pid) return;
    try {
      process.kill(-child.pid, signal);
    } catch {
      // already gone
    }
  };
  const killNow = (): void => killGroup('SIGKILL');
  const unregister = onProcessExit(killNow);

  // Watchdog: if this process dies without teardown, kill every Keycloak we started here and delete the dir.
  const watchdog = spawn(
    'sh',
    ['-c', `while kill -0 ${process.pid} 2>/dev/null; do sleep 1; done; [ -s '${pgidFile}' ] && kill -9 -"$(cat '${pgidFile}')" 2>/dev/null; rm -rf '${dir}'`],
    { detached: true, stdio: 'ignore' },
  );
  watchdog.unref();

  const instance: PrivateKeycloak = {
    baseUrl,
    managementUrl,
    adminUsername,
    adminPassword,
    home,
    lastStartSeconds: 0,
    running: () => child !== undefined && child.exitCode === null && child.signalCode === null,
    async start() {
      if (instance.running()) return;
      const t0 = Date.now();
      const out = openSync(logFile, 'a');
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        JAVA_OPTS_KC_HEAP: HEAP,
        KC_BOOTSTRAP_ADMIN_USERNAME: adminUsername,
        KC_BOOTSTRAP_ADMIN_PASSWORD: adminPassword,
      };
      const c = spawn(
        join(home, 'bin', 'kc.sh'),
        [
          'start-dev',
          ...BUILD_OPTIONS,
          '--http-host=127.0.0.1',
          `--http-port=${httpPort}`,
          `--http-management-port=${mgmtPort}`,
          '--log-level=WARN,org.keycloak.services:INFO,io.quarkus:INFO',
        ],
        { detached: true, stdio: ['ignore', out, out], env, cwd: dir },
      );
      closeSync(out);
      child = c;
      if (c.pid) writeFileSync(pgidFile, String(c.pid));
      exited = new Promise<void>((resolve) => {
        if (c.exitCode !== null || c.signalCode !== null) resolve();
        else c.once('exit', () => resolve());
      });
      const deadline = Date.now() + READY_TIMEOUT_MS;
      for (;;) {
        if (c.exitCode !== null || c.signalCode !== null) {
          throw new Error(`Keycloak exited (${c.exitCode ?? c.signalCode}) while starting; log tail:\n${tail(logFile, 40)}`);
        }
        try {
          const res = await fetch(`${managementUrl}/health/ready`);
          if (res.ok) break;
        } catch {
          // not listening yet
        }
        if (Date.now() > deadline) {
          killGroup('SIGKILL');
          throw new Error(`Keycloak not ready after ${READY_TIMEOUT_MS / 1000}s; log tail:\n${tail(logFile, 40)}`);
        }
        await sleep(500);
      }
      instance.lastStartSeconds = (Date.now() - t0) / 1000;
    },
    async stop() {
      if (!instance.running()) return;
      killGroup('SIGTERM');
      const t = setTimeout(() => killGroup('SIGKILL'), 20_000);
      await exited;
      clearTimeout(t);
      // Nothing of the group may outlive stop(): a leftover JVM would keep the port and the H2 lock.
      killGroup('SIGKILL');
      await waitPortClosed(httpPort);
    },
    async restart() {
      await instance.stop();
      await instance.start();
    },
    async dispose() {
      await instance.stop();
      unregister();
      try {
        if (watchdog.pid) process.kill(watchdog.pid, 'SIGKILL');
      } catch {
        // gone
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };

  try {
    await instance.start();
  } catch (err) {
    await instance.dispose();
    throw err;
  }
  return instance;
}

let shared: Promise<PrivateKeycloak> | undefined;

/** The Keycloak of this test process: started on first use, stopped by the root hook. */
export function sharedKeycloak(): Promise<KeycloakInstance> {
  shared ??= startKeycloak();
  shared.catch(() => {
    shared = undefined;
  });
  return shared;
}

/** Root hook: stop and delete the shared Keycloak if one was started. */
export async function stopSharedKeycloak(): Promise<void> {
  const s = shared;
  shared = undefined;
  if (!s) return;
  try {
    const kc = await s;
    await kc.dispose();
  } catch {
    // it never started: nothing to stop
  }
}
