// The real controllers that serve what the operator writes, as processes against a test control plane:
//  - Envoy Gateway (envoy-gateway server, Kubernetes provider, out of the cluster): writes real status on
//    GatewayClasses, Gateways, ListenerSets, HTTPRoutes and SecurityPolicies and serves the Envoy configuration
//    over xDS (read back with xds-dump). The Envoy proxies it creates Deployments for never run: no kubelet, no
//    images. That is the one stand-in: what Envoy would do with the configuration is read from it, not observed.
//  - cert-manager's certificates, CertificateRequest approver, CA/self-signed signers and (cluster)issuers
//    controllers (test/harness/go/cert-manager-controller). No webhook runs (no defaulting/validation beyond the
//    CRD schemas), nor ACME.
// Both are built once per machine by scripts/build-gateway-controllers.mjs.
// Their logs are in the instance's directory, removed when it stops; NKP_KEEP_GATEWAY_LOGS=1 keeps it (to read a flake).
//
//   const gc = await sharedGatewayControllers();   // on sharedControlPlane(), one per test process (root hook stops it)
//   const gc = await startGatewayControllers({ kubeconfigPath });  // a private one; call gc.stop()
//
// Envoy Gateway listens on fixed ports (xDS on 0.0.0.0:18000, health 8081, metrics 19001, ...) and reads its xDS
// certificates from the fixed path /certs. It runs in a private mount and network namespace (`unshare`): /certs is
// a bind mount of this instance's directory inside a chroot of rbind mounts (the host's / is never touched), and
// all its listeners are on the namespace's own loopback, so instances never collide and nothing listens on the
// host's interfaces. A forwarder inside the namespace (netns-forwarder.mjs) carries exactly the ports the harness
// exposes (the API server, `exposePort`ed ones) out through Unix sockets, and xDS in through a loopback port. The
// host ends of those paths live in this process's event loop: long synchronous work here delays Envoy Gateway's
// API calls (they resume afterwards), and nothing in this process may wait synchronously on them.
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { createServer as createHttpsServer, request as httpsRequest } from 'node:https';
import { connect, createConnection, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { freePort, sharedControlPlane } from './control-plane.js';
import { forward } from './https-front.js';
import { createPki, type Pki } from './pki.js';
import { repoRoot } from './upstream.js';
import { onProcessExit, sleep, tail } from './util.js';

export const ENVOY_GATEWAY_NAMESPACE = 'envoy-gateway-system';
/** Envoy Gateway's controllerName (the platform's GatewayClass names it). */
export const ENVOY_GATEWAY_CONTROLLER = 'gateway.envoyproxy.io/gatewayclass-controller';
/** Where ClusterIssuers keep their Secrets (the platform's local CA: cert-manager/nkp-ca). */
export const CERT_MANAGER_NAMESPACE = 'cert-manager';
const XDS_PORT = 18000;
const HEALTH_PORT = 8081;

export interface GatewayControllersOptions {
  /** Admin kubeconfig of the cluster (a client certificate; its server is https://127.0.0.1:<port>). */
  kubeconfigPath: string;
  /** Run Envoy Gateway. Default true. */
  envoyGateway?: boolean;
  /** Run cert-manager's controllers. Default true. */
  certManager?: boolean;
  /** Envoy Gateway's log level. Default warn (info with NKP_HARNESS_DEBUG). */
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
  /** Envoy Gateway's Kubernetes client rate limit (its EnvoyGateway provider.kubernetes.client.rateLimit); default: its own (50 QPS, burst 100). */
  envoyGatewayClientRateLimit?: { qps: number; burst: number };
}

/** The Envoy configuration served for one Gateway (xds-dump's output; Envoy's protobuf JSON, typed configs decoded). */
export interface XdsConfig {
  clusters: Array<Record<string, unknown>>;
  listeners: Array<Record<string, unknown>>;
  routes: Array<Record<string, unknown>>;
}

export interface GatewayControllers {
  dir: string;
  /** 127.0.0.1:<port> on the host where Envoy Gateway's xDS server answers (mTLS). */
  xdsAddress: string | undefined;
  /**
   * The CA Envoy Gateway trusts for outgoing HTTPS (OIDC discovery), with a serving certificate for 127.0.0.1 and
   * localhost that `httpsFront` uses.
   */
  trust: Pki;
  /** Makes 127.0.0.1:<port> of the host reachable from Envoy Gateway's namespace under the same address. */
  exposePort(port: number): Promise<void>;
  /**
   * An HTTPS reverse proxy on 127.0.0.1 (certificate from `trust`) in front of an http:// target (e.g. Keycloak),
   * exposed to Envoy Gateway. Returns its https://localhost:<port> base URL (it listens on 127.0.0.1).
   */
  httpsFront(target: string): Promise<string>;
  /** The Envoy configuration Envoy Gateway serves for a Gateway (`<namespace>/<name>`), read over xDS. */
  xds(gateway: string): Promise<XdsConfig>;
  /**
   * Stops Envoy Gateway and starts it again (same namespace directory, certificates, exposed ports and xDS
   * address), as `kubectl rollout restart` would: the workaround its maintainers give for routes whose status it
   * never writes under watch churn (envoyproxy/gateway#6898, #9536). Resolves once it is ready again.
   */
  restartEnvoyGateway(): Promise<void>;
  /** The last `max` lines of a controller's log (`cert-manager`, `envoy-gateway`) that `match` keeps (diagnostics). */
  logLines(name: string, match: (line: string) => boolean, max?: number): string[];
  pids(): number[];
  stop(): Promise<void>;
}

/** Directories holding the built binaries (scripts/build-gateway-controllers.mjs; builds when missing or stale). */
export function gatewayControllersBinDirs(): { 'envoy-gateway': string; 'cert-manager': string } {
  let out: string;
  try {
    out = execFileSync(process.execPath, [join(repoRoot, 'scripts', 'build-gateway-controllers.mjs')], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      timeout: 1_800_000,
    });
  } catch {
    throw new Error('could not build the gateway controllers (see the messages above): run `node scripts/build-gateway-controllers.mjs` to retry');
  }
  const dirs = Object.fromEntries(out.trim().split('\n').map((l) => l.split(' ') as [string, string]));
  return dirs as { 'envoy-gateway': string; 'cert-manager': string };
}

/**
 * Envoy Gateway's own configuration (EnvoyGateway resource): Kubernetes provider, no topology injector, no leader
 * election; its Kubernetes client's rate limit only when given (else its default, 50 QPS with a burst of 100).
 */
export function envoyGatewayConfig(logLevel: string, clientRateLimit?: { qps: number; burst: number }): string {
  return [
    'apiVersion: gateway.envoyproxy.io/v1alpha1',
    'kind: EnvoyGateway',
    'gateway:',
    `  controllerName: ${ENVOY_GATEWAY_CONTROLLER}`,
    'provider:',
    '  type: Kubernetes',
    '  kubernetes:',
    ...(clientRateLimit ? ['    client:', '      rateLimit:', `        qps: ${clientRateLimit.qps}`, `        burst: ${clientRateLimit.burst}`] : []),
    '    proxyTopologyInjector:',
    '      disabled: true',
    '    leaderElection:',
    '      disable: true',
    'logging:',
    '  level:',
    `    default: ${logLevel}`,
    '',
  ].join('\n');
}

/** The shell run inside `unshare --mount --net`: loopback up, a chroot of rbind mounts with /certs bound in. */
export const ENTER_NAMESPACE_SH = [
  'set -eu',
  'dir=$1; shift',
  'ip link set lo up',
  'root="$dir/root"; mkdir -p "$root"',
  'mount -t tmpfs -o mode=0755 nkp-root "$root"',
  // /tmp first: it holds $root, whose (still empty) mount its copy then includes
  'for d in /tmp /*; do',
  '  n=${d#/}',
  '  [ "$d" = /tmp ] || [ "$n" != tmp ] || continue',
  '  if [ -L "$d" ]; then ln -s "$(readlink "$d")" "$root/$n"',
  '  elif [ -d "$d" ]; then mkdir -p "$root/$n"; mount --rbind "$d" "$root/$n"',
  '  fi',
  'done',
  'mkdir "$root/certs"; mount --bind "$dir/certs" "$root/certs"',
  '"$NKP_NODE" "$NKP_FORWARDER" "$dir" $NKP_OUT_PORTS > "$dir/forwarder.log" 2>&1 &',
  'i=0; while [ ! -S "$dir/ctl.sock" ]; do i=$((i+1)); [ $i -lt 100 ] || { echo "forwarder did not start" >&2; exit 1; }; sleep 0.1; done',
  'exec chroot "$root" "$@"',
  '',
].join('\n');

interface Proc {
  name: string;
  child: ChildProcess;
  exited: Promise<number | null>;
  log: string;
}

function apiPortOf(kubeconfigPath: string): number {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  const u = new URL(kc.getCurrentCluster()!.server);
  if (u.hostname !== '127.0.0.1') throw new Error(`the gateway controllers' harness expects an API server on 127.0.0.1, not ${u.host}`);
  return Number(u.port);
}

/** One header line, then piped both ways. */
/** Both directions piped; an error or close on either side ends the other. */
export function pipeBoth(a: Socket, b: Socket): void {
  a.pipe(b);
  b.pipe(a);
  a.on('error', () => b.destroy());
  b.on('error', () => a.destroy());
  a.on('close', () => b.destroy());
  b.on('close', () => a.destroy());
}

/** One header line (`<port>`), then the socket and the bytes after it (netns-forwarder.mjs's protocol). */
export function readHeader(sock: Socket, onHeader: (header: string, rest: Buffer) => void): void {
  let buf = Buffer.alloc(0);
  const onData = (chunk: Buffer): void => {
    buf = Buffer.concat([buf, chunk]);
    const nl = buf.indexOf(10);
    if (nl < 0) {
      if (buf.length > 64) sock.destroy();
      return;
    }
    sock.off('data', onData);
    sock.pause();
    onHeader(buf.subarray(0, nl).toString('utf8').trim(), buf.subarray(nl + 1));
  };
  sock.on('data', onData);
}

/** A connection into Envoy Gateway's namespace to 127.0.0.1:<port> there. */
function connectInward(dir: string, port: number): Socket {
  const s = createConnection(join(dir, 'in.sock'));
  s.write(`${port}\n`);
  return s;
}

function httpGetInward(dir: string, port: number, path: string): Promise<number> {
  return new Promise((resolve) => {
    const req = httpRequest({ host: 'localhost', path, timeout: 2000, createConnection: () => connectInward(dir, port) }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', () => resolve(0));
    req.on('timeout', () => {
      req.destroy();
      resolve(0);
    });
    req.end();
  });
}

async function stopProc(p: Proc, graceMs: number): Promise<void> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return;
  try {
    process.kill(-p.child.pid!, 'SIGTERM');
  } catch {
    p.child.kill('SIGTERM');
  }
  const t = setTimeout(() => {
    try {
      process.kill(-p.child.pid!, 'SIGKILL');
    } catch {
      /* gone */
    }
  }, graceMs);
  await p.exited;
  clearTimeout(t);
}

export async function startGatewayControllers(opts: GatewayControllersOptions): Promise<GatewayControllers> {
  const withEg = opts.envoyGateway ?? true;
  const withCm = opts.certManager ?? true;
  const bins = gatewayControllersBinDirs();
  const dir = mkdtempSync(join(tmpdir(), 'nkp-gc-'));
  const keepLogs = !!process.env.NKP_KEEP_GATEWAY_LOGS;
  const procs: Proc[] = [];
  const servers: Server[] = [];
  const sockets = new Set<Socket>();
  let stopped = false;
  const logLevel = opts.logLevel ?? (process.env.NKP_HARNESS_DEBUG ? 'info' : 'warn');

  const killAll = (): void => {
    for (const p of procs) {
      try {
        process.kill(-p.child.pid!, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
    if (!keepLogs) rmSync(dir, { recursive: true, force: true });
  };
  const unregister = onProcessExit(killAll);

  const launch = (name: string, cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Proc => {
    const log = join(dir, `${name}.log`);
    const fd = openSync(log, 'a');
    // own process group: stop() and the watchdog end the whole tree (unshare, forwarder, server)
    const child = spawn(cmd, args, { stdio: ['ignore', fd, fd], cwd: dir, detached: true, env: { ...process.env, ...env } });
    closeSync(fd);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const p = { name, child, exited, log };
    procs.push(p);
    return p;
  };
  const watchdog = (): void => {
    const groups = procs.map((p) => `-${p.child.pid}`).join(' ');
    const script = `while kill -0 ${process.pid} 2>/dev/null; do sleep 1; done; kill -9 -- ${groups} 2>/dev/null${keepLogs ? '' : `; rm -rf '${dir}'`}`;
    spawn('sh', ['-c', script], { detached: true, stdio: 'ignore' }).unref();
  };

  try {
    const kc = new KubeConfig();
    kc.loadFromFile(opts.kubeconfigPath);
    const apiPort = apiPortOf(opts.kubeconfigPath);
    const kubectl = async (method: string, path: string, body?: unknown): Promise<{ status: number; body: string }> => {
      const cluster = kc.getCurrentCluster()!;
      const o: { ca?: Buffer; cert?: Buffer; key?: Buffer } = {};
      await kc.applyToHTTPSOptions(o as never);
      return new Promise((resolve, reject) => {
        const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
        const req = httpsRequest(
          `${cluster.server}${path}`,
          { method, ca: o.ca, cert: o.cert, key: o.key, headers: payload ? { 'content-type': 'application/json' } : {} },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
          },
        );
        req.on('error', reject);
        req.end(payload);
      });
    };
    for (const ns of [ENVOY_GATEWAY_NAMESPACE, CERT_MANAGER_NAMESPACE]) {
      const r = await kubectl('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
      if (r.status !== 201 && r.status !== 409) throw new Error(`creating namespace ${ns}: ${r.status} ${r.body}`);
    }

    const trustDir = join(dir, 'trust');
    mkdirSync(trustDir);
    const trust = createPki(trustDir);
    const exposed = new Set<number>([apiPort]);
    let xdsAddress: string | undefined;
    let startEnvoyGateway: (() => Promise<void>) | undefined;

    if (withEg) {
      const eg = join(bins['envoy-gateway'], 'envoy-gateway');
      const env = { KUBECONFIG: opts.kubeconfigPath, ENVOY_GATEWAY_NAMESPACE };
      // certgen writes the control plane's and the proxies' certificates into Secrets of the namespace (no listeners)
      const certgen = launch('certgen', eg, ['certgen', '--disable-topology-injector'], env);
      const code = await certgen.exited;
      if (code !== 0) throw new Error(`envoy-gateway certgen exited with ${code}\n${tail(certgen.log)}`);
      for (const [secret, sub] of [
        ['envoy-gateway', 'certs'],
        ['envoy', 'envoy-certs'],
      ] as const) {
        const r = await kubectl('GET', `/api/v1/namespaces/${ENVOY_GATEWAY_NAMESPACE}/secrets/${secret}`);
        if (r.status !== 200) throw new Error(`reading Secret ${ENVOY_GATEWAY_NAMESPACE}/${secret} after certgen: ${r.status}`);
        const data = (JSON.parse(r.body) as { data: Record<string, string> }).data;
        mkdirSync(join(dir, sub), { mode: 0o700 });
        for (const k of ['ca.crt', 'tls.crt', 'tls.key']) writeFileSync(join(dir, sub, k), Buffer.from(data[k]!, 'base64'), { mode: 0o600 });
      }
      writeFileSync(join(dir, 'envoy-gateway.yaml'), envoyGatewayConfig(logLevel, opts.envoyGatewayClientRateLimit));
      writeFileSync(join(dir, 'enter.sh'), ENTER_NAMESPACE_SH);

      // the host end of outward connections: header "<port>\n", only ports exposed on purpose
      const out = createServer((sock) => {
        sockets.add(sock);
        sock.on('close', () => sockets.delete(sock));
        readHeader(sock, (header, rest) => {
          const port = Number(header);
          if (!exposed.has(port)) return sock.destroy();
          const target = connect(port, '127.0.0.1');
          sockets.add(target);
          target.on('close', () => sockets.delete(target));
          if (rest.length) target.write(rest);
          pipeBoth(sock, target);
          sock.resume();
        });
      });
      servers.push(out);
      await new Promise<void>((r) => out.listen(join(dir, 'out.sock'), r));

      startEnvoyGateway = async (): Promise<void> => {
        // a previous instance's forwarder leaves its sockets behind: the new one binds the same paths
        for (const f of ['ctl.sock', 'in.sock']) rmSync(join(dir, f), { force: true });
        const server = launch(
          'envoy-gateway',
          'unshare',
          ['--mount', '--net', '--propagation', 'private', '--fork', '--kill-child', 'sh', join(dir, 'enter.sh'), dir, eg, 'server', '--config-path', join(dir, 'envoy-gateway.yaml')],
          {
            ...env,
            NKP_NODE: process.execPath,
            NKP_FORWARDER: join(repoRoot, 'test', 'harness', 'netns-forwarder.mjs'),
            // the API server and every port exposed so far (a restarted instance gets them all back)
            NKP_OUT_PORTS: [...exposed].join(' '),
            // outgoing HTTPS of Envoy Gateway (OIDC discovery) trusts the harness CA (httpsFront) and nothing else
            SSL_CERT_FILE: trust.caCert,
          },
        );
        const deadline = Date.now() + 120_000;
        while ((await httpGetInward(dir, HEALTH_PORT, '/readyz')) !== 200) {
          if (server.child.exitCode !== null) throw new Error(`envoy-gateway exited with ${server.child.exitCode}\n${tail(server.log)}\n${tail(join(dir, 'forwarder.log'))}`);
          if (Date.now() > deadline) throw new Error(`envoy-gateway not ready after 120 s\n${tail(server.log)}`);
          await sleep(300);
        }
      };
      await startEnvoyGateway();
      // xDS on a host loopback port, carried into the namespace
      const xds = createServer((sock) => {
        sockets.add(sock);
        sock.on('close', () => sockets.delete(sock));
        const inner = connectInward(dir, XDS_PORT);
        sockets.add(inner);
        inner.on('close', () => sockets.delete(inner));
        pipeBoth(sock, inner);
      });
      servers.push(xds);
      const xdsPort = await new Promise<number>((r) => xds.listen(0, '127.0.0.1', () => r((xds.address() as { port: number }).port)));
      xdsAddress = `127.0.0.1:${xdsPort}`;
    }

    if (withCm) {
      launch('cert-manager', join(bins['cert-manager'], 'cert-manager-controller'), [
        `--kubeconfig=${opts.kubeconfigPath}`,
        `--cluster-resource-namespace=${CERT_MANAGER_NAMESPACE}`,
      ]);
      await sleep(300);
      const cm = procs.find((p) => p.name === 'cert-manager')!;
      if (cm.child.exitCode !== null) throw new Error(`cert-manager-controller exited with ${cm.child.exitCode}\n${tail(cm.log)}`);
    }
    watchdog();

    const fronts: Server[] = [];
    const gc: GatewayControllers = {
      dir,
      xdsAddress,
      trust,
      async exposePort(port: number): Promise<void> {
        exposed.add(port);
        if (!withEg) return;
        const answer = await new Promise<string>((resolve, reject) => {
          const s = createConnection(join(dir, 'ctl.sock'), () => s.write(`listen ${port}\n`));
          let text = '';
          s.on('data', (c: Buffer) => (text += c.toString()));
          s.on('end', () => resolve(text.trim()));
          s.on('error', reject);
        });
        if (answer !== 'ok') throw new Error(`exposing port ${port} to Envoy Gateway: ${answer}`);
      },
      async httpsFront(target: string): Promise<string> {
        const t = new URL(target);
        const srv = createHttpsServer({ cert: readFileSync(trust.serverCert), key: readFileSync(trust.serverKey) }, (req, res) => forward(t, req, res));
        const port = await freePort();
        await new Promise<void>((r) => srv.listen(port, '127.0.0.1', r));
        fronts.push(srv);
        servers.push(srv);
        await gc.exposePort(port);
        // a host name, not the address: Envoy Gateway takes only domain names in OIDC endpoints
        return `https://localhost:${port}`;
      },
      async xds(gateway: string): Promise<XdsConfig> {
        if (!xdsAddress) throw new Error('Envoy Gateway is not running in this instance');
        // asynchronously: the connection is carried by this process's event loop (a synchronous exec would deadlock)
        const out = await new Promise<string>((resolve, reject) =>
          execFile(
            join(bins['envoy-gateway'], 'xds-dump'),
            ['--addr', xdsAddress, '--cert-dir', join(dir, 'envoy-certs'), '--node-cluster', gateway, '--timeout', '20s'],
            { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
            (err, stdout, stderr) => (err ? reject(new Error(`xds-dump: ${stderr.trim() || err.message}`)) : resolve(stdout)),
          ),
        );
        return JSON.parse(out) as XdsConfig;
      },
      async restartEnvoyGateway(): Promise<void> {
        if (!startEnvoyGateway) throw new Error('Envoy Gateway is not running in this instance');
        if (stopped) throw new Error('the gateway controllers were stopped');
        const i = procs.findIndex((p) => p.name === 'envoy-gateway');
        if (i >= 0) {
          await stopProc(procs[i]!, 5_000);
          procs.splice(i, 1);
        }
        await startEnvoyGateway();
        // the watchdog kills the process groups it was given: the new instance needs one too
        watchdog();
      },
      pids: () => procs.filter((p) => p.child.exitCode === null && p.child.signalCode === null).map((p) => p.child.pid!),
      logLines(name: string, match: (line: string) => boolean, max = 20): string[] {
        const p = procs.find((x) => x.name === name);
        if (!p) return [];
        try {
          return readFileSync(p.log, 'utf8').split('\n').filter((l) => l && match(l)).slice(-max);
        } catch {
          return [];
        }
      },
      async stop(): Promise<void> {
        if (stopped) return;
        stopped = true;
        live.delete(gc);
        for (const s of sockets) s.destroy();
        await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
        for (const p of [...procs].reverse()) await stopProc(p, 5_000);
        if (!keepLogs) rmSync(dir, { recursive: true, force: true });
        else console.log(`      gateway controllers' logs kept in ${dir}`);
        unregister();
      },
    };
    live.add(gc);
    return gc;
  } catch (err) {
    for (const s of servers) s.close();
    killAll();
    unregister();
    throw err;
  }
}

let shared: Promise<GatewayControllers> | undefined;
/** The instances of this process not yet stopped (a failing wait reports what their controllers logged). */
const live = new Set<GatewayControllers>();

/** `logLines` of every running instance (diagnostics for a test that timed out waiting on a controller). */
export function runningControllerLogLines(name: string, match: (line: string) => boolean, max = 20): string[] {
  return [...live].flatMap((gc) => gc.logLines(name, match, max));
}

/** The controllers of this test process, on sharedControlPlane() (started on first use; see root-hooks.ts). */
export function sharedGatewayControllers(): Promise<GatewayControllers> {
  shared ??= sharedControlPlane()
    .then((cp) => startGatewayControllers({ kubeconfigPath: cp.kubeconfigPath }))
    .catch((err) => {
      shared = undefined;
      throw err;
    });
  return shared;
}

export async function stopSharedGatewayControllers(): Promise<void> {
  if (!shared) return;
  const p = shared;
  shared = undefined;
  await (await p.catch(() => undefined))?.stop();
}

