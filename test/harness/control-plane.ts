// A real Kubernetes control plane for tests: etcd + kube-apiserver (+ kube-controller-manager) built from the
// Go module proxy, started on loopback on free ports with a throwaway PKI, RBAC on, upstream CRDs installed.
//
//   const cp = await sharedControlPlane();   // one per test process, stopped by the mocha root hook
//   const cp = await startControlPlane({...}); // a private one; call cp.stop()
//
// Teardown kills every process and deletes the directory, also when a test fails, the process is interrupted
// (SIGINT/SIGTERM) or killed outright (a watchdog shell outlives us by at most a second).
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig, ApiextensionsV1Api } from '@kubernetes/client-node';
import { createPki, issueClientCert, type Pki } from './pki.js';
import { controlPlaneBinDir, goModuleDir, projectCrds, upstreamCrds, versions, type KubeObject } from './upstream.js';
import { onProcessExit, sleep, tail } from './util.js';

export interface ControlPlaneOptions {
  /** Run kube-controller-manager too (garbage collection, namespace deletion). Default true. */
  controllerManager?: boolean;
  /** Install the upstream CRDs and the project's NebariApp CRD. Default true. */
  crds?: boolean;
  /** Extra kube-apiserver flags. */
  apiserverFlags?: string[];
  /**
   * Simulated worker nodes (default 0). With N > 0 the control plane also runs kube-scheduler, the workload
   * controllers of kube-controller-manager (Deployments, ReplicaSets, StatefulSets, DaemonSets, Jobs, Endpoints, node
   * lifecycle: it lifts the not-ready taint)
   * and kwok, which STANDS IN FOR THE KUBELET (no container runtime here): it plays N nodes and each scheduled
   * pod's lifecycle (Running and Ready at once), so Deployments become Available and Services get endpoints.
   * Nothing in a pod ever runs.
   */
  nodes?: number;
}

/** Name of simulated node i (0-based). */
export const kwokNodeName = (i: number): string => `kwok-node-${i}`;

/** kube-controller-manager controllers per mode: the bare harness, and with simulated nodes the workload controllers too. */
export function kcmControllers(nodes: number): string[] {
  const base = ['garbage-collector-controller', 'namespace-controller', 'serviceaccount-controller', 'serviceaccount-token-controller'];
  if (nodes <= 0) return base;
  return [...base, 'deployment-controller', 'replicaset-controller', 'statefulset-controller', 'daemonset-controller', 'job-controller', 'endpoints-controller', 'endpointslice-controller', 'disruption-controller', 'node-lifecycle-controller'];
}

/** kwok's stage configuration (node and pod lifecycles) as kwokctl uses by default, read from the pinned kwok module. */
export function kwokStages(moduleDir: string): string {
  const files = ['node/fast/node-initialize.yaml', 'node/heartbeat-with-lease/node-heartbeat-with-lease.yaml', 'pod/fast/pod-ready.yaml', 'pod/fast/pod-complete.yaml', 'pod/fast/pod-delete.yaml'];
  return files.map((f) => readFileSync(join(moduleDir, 'kustomize', 'stage', f), 'utf8').trim()).join('\n---\n') + '\n';
}

/** A simulated node kwok manages: generous capacity, Linux/amd64, no taints. */
export function kwokNode(i: number): object {
  const name = kwokNodeName(i);
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      annotations: { 'kwok.x-k8s.io/node': 'fake', 'node.alpha.kubernetes.io/ttl': '0' },
      labels: { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64', type: 'kwok' },
    },
    status: { allocatable: { cpu: '32', memory: '256Gi', pods: '250' }, capacity: { cpu: '32', memory: '256Gi', pods: '250' } },
  };
}

export interface ControlPlane {
  /** https://127.0.0.1:<port> */
  server: string;
  /** Working directory (PKI, etcd data, logs, kubeconfig); deleted by stop(). */
  dir: string;
  kubeconfigPath: string;
  /** A cluster-admin KubeConfig (system:masters client certificate). */
  kubeConfig(): KubeConfig;
  /** A KubeConfig for a client-certificate user with the given groups (for RBAC tests). */
  userKubeConfig(user: string, groups?: string[]): Promise<KubeConfig>;
  /** Stops kube-apiserver and starts it again on the same port and storage. */
  restartApiServer(): Promise<void>;
  /** Pids of the running processes (etcd, kube-apiserver, kube-controller-manager). */
  pids(): number[];
  /** Ports the control plane listens on. */
  ports(): number[];
  stop(): Promise<void>;
}

interface Proc {
  name: string;
  child: ChildProcess;
  exited: Promise<number | null>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** GET a path on the apiserver with the admin client certificate; resolves with the status code (0 on error). */
function probe(server: string, path: string, pki: Pki, cert: { cert: string; key: string }): Promise<number> {
  return new Promise((resolve) => {
    const req = request(
      `${server}${path}`,
      {
        ca: readFileSync(pki.caCert),
        cert: readFileSync(cert.cert),
        key: readFileSync(cert.key),
        timeout: 2000,
      },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.on('error', () => resolve(0));
    req.on('timeout', () => {
      req.destroy();
      resolve(0);
    });
    req.end();
  });
}

function kubeconfigYaml(server: string, pki: Pki, cert: { cert: string; key: string }, user: string): string {
  const b64 = (f: string): string => readFileSync(f).toString('base64');
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: nkp-test',
    '  cluster:',
    `    server: ${server}`,
    `    certificate-authority-data: ${b64(pki.caCert)}`,
    'users:',
    `- name: ${user}`,
    '  user:',
    `    client-certificate-data: ${b64(cert.cert)}`,
    `    client-key-data: ${b64(cert.key)}`,
    'contexts:',
    '- name: nkp-test',
    '  context:',
    '    cluster: nkp-test',
    `    user: ${user}`,
    'current-context: nkp-test',
    '',
  ].join('\n');
}

/** SIGTERM, then SIGKILL after graceMs; resolves when the process has exited. */
async function stopProc(p: Proc, graceMs: number): Promise<void> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return;
  p.child.kill('SIGTERM');
  const t = setTimeout(() => p.child.kill('SIGKILL'), graceMs);
  await p.exited;
  clearTimeout(t);
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number, onTimeout: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await sleep(200);
  }
  throw new Error(`${what} not ready after ${timeoutMs / 1000} s\n${onTimeout()}`);
}

/**
 * A raw JSON request to the apiserver with a client certificate. CRDs go through this rather than the typed
 * client: @kubernetes/client-node's model serializer drops keys it does not know (x-kubernetes-int-or-string...).
 */
export function rawRequest(
  server: string,
  pki: Pki,
  cert: { cert: string; key: string },
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const req = request(
      `${server}${path}`,
      {
        method,
        ca: readFileSync(pki.caCert),
        cert: readFileSync(cert.cert),
        key: readFileSync(cert.key),
        headers: payload ? { 'content-type': 'application/json', 'content-length': payload.length } : {},
        timeout: 30_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      },
    );
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error(`${method} ${path} timed out`)));
    req.end(payload);
  });
}

async function installCrds(kc: KubeConfig, send: (method: string, path: string, body?: unknown) => Promise<{ status: number; body: string }>, crds: KubeObject[]): Promise<void> {
  for (const crd of crds) {
    const res = await send('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', crd);
    if (res.status !== 201 && res.status !== 409) {
      throw new Error(`installing CRD ${crd.metadata.name} failed (${res.status}): ${res.body.slice(0, 2000)}`);
    }
  }
  const api = kc.makeApiClient(ApiextensionsV1Api);
  const names = crds.map((c) => c.metadata.name);
  await waitFor(
    `${names.length} CRDs established`,
    async () => {
      const list = await api.listCustomResourceDefinition();
      const established = new Set(
        list.items
          .filter((c) => c.status?.conditions?.some((cond) => cond.type === 'Established' && cond.status === 'True'))
          .map((c) => c.metadata?.name),
      );
      return names.every((n) => established.has(n));
    },
    60_000,
    () => 'CRDs not established',
  );
  // Established is not the end: the resources' storage (watch cache) may still answer 429 "storage is
  // (re)initializing" for a moment. Wait until every served version lists, so tests never see that.
  for (const crd of crds) {
    const spec = crd.spec as { group: string; names: { plural: string }; versions: Array<{ name: string; served: boolean }> };
    for (const v of spec.versions.filter((x) => x.served)) {
      const path = `/apis/${spec.group}/${v.name}/${spec.names.plural}?limit=1`;
      let last = 0;
      await waitFor(`${spec.names.plural}.${spec.group}/${v.name} listable`, async () => (last = (await send('GET', path)).status) === 200, 60_000, () => `last status ${last}`);
    }
  }
}

/**
 * Starts a control plane. Ports are picked free and then bound by etcd and kube-apiserver a moment later, so
 * another process can take one in between: a start that fails on "address already in use" is retried with
 * new ports (and a new directory), up to three times.
 */
export async function startControlPlane(opts: ControlPlaneOptions = {}): Promise<ControlPlane> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startControlPlaneOnce(opts);
    } catch (err) {
      if (attempt >= 3 || !/address already in use/.test(String((err as Error).message))) throw err;
    }
  }
}

async function startControlPlaneOnce(opts: ControlPlaneOptions): Promise<ControlPlane> {
  const nodes = opts.nodes ?? 0;
  const withKcm = (opts.controllerManager ?? true) || nodes > 0;
  const bin = controlPlaneBinDir();
  const dir = mkdtempSync(join(tmpdir(), 'nkp-cp-'));
  const procs: Proc[] = [];
  let stopped = false;

  const killAll = (): void => {
    for (const p of procs) {
      try {
        p.child.kill('SIGKILL');
      } catch {
        /* already gone */
      }
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const unregister = onProcessExit(killAll);

  // A watchdog that kills the control plane and deletes its files if this process dies without cleaning up.
  const watchdogPids: number[] = [];
  const startWatchdog = (): void => {
    const pids = procs.map((p) => p.child.pid).filter((p): p is number => !!p);
    const script = `while kill -0 ${process.pid} 2>/dev/null; do sleep 1; done; kill -9 ${pids.join(' ')} 2>/dev/null; rm -rf '${dir}'`;
    const wd = spawn('sh', ['-c', script], { detached: true, stdio: 'ignore' });
    wd.unref();
    if (wd.pid) watchdogPids.push(wd.pid);
  };

  const launch = (name: string, args: string[]): Proc => {
    const logFile = join(dir, `${name}.log`);
    const fd = openSync(logFile, 'a');
    const child = spawn(join(bin, name), args, { stdio: ['ignore', fd, fd], cwd: dir });
    closeSync(fd);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const proc = { name, child, exited };
    procs.push(proc);
    return proc;
  };

  const pki = createPki(dir);
  const admin = issueClientCert(pki, 'admin', 'admin', ['system:masters']);
  const [etcdClient, etcdPeer, apiPort] = [await freePort(), await freePort(), await freePort()];
  const server = `https://127.0.0.1:${apiPort}`;

  try {
    const etcd = launch('etcd', [
      '--name=default',
      `--data-dir=${join(dir, 'etcd')}`,
      `--listen-client-urls=http://127.0.0.1:${etcdClient}`,
      `--advertise-client-urls=http://127.0.0.1:${etcdClient}`,
      `--listen-peer-urls=http://127.0.0.1:${etcdPeer}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeer}`,
      `--initial-cluster=default=http://127.0.0.1:${etcdPeer}`,
      '--unsafe-no-fsync=true',
      '--log-level=warn',
    ]);

    const apiArgs = [
      `--etcd-servers=http://127.0.0.1:${etcdClient}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      `--secure-port=${apiPort}`,
      `--cert-dir=${join(dir, 'apiserver-certs')}`,
      `--tls-cert-file=${pki.serverCert}`,
      `--tls-private-key-file=${pki.serverKey}`,
      `--client-ca-file=${pki.caCert}`,
      `--service-account-key-file=${pki.saPub}`,
      `--service-account-signing-key-file=${pki.saKey}`,
      '--service-account-issuer=https://kubernetes.default.svc',
      '--service-cluster-ip-range=10.0.0.0/24',
      '--authorization-mode=RBAC',
      '--allow-privileged=true',
      '--disable-admission-plugins=ServiceAccount',
      '--endpoint-reconciler-type=none',
      '--enable-priority-and-fairness=false',
      '--profiling=false',
      '--v=0',
      ...(opts.apiserverFlags ?? []),
    ];
    let api = launch('kube-apiserver', apiArgs);

    const kubeconfigPath = join(dir, 'admin.kubeconfig');
    writeFileSync(kubeconfigPath, kubeconfigYaml(server, pki, admin, 'admin'), { mode: 0o600 });

    // kube-scheduler and kwok (the kubelet's stand-in), then the simulated nodes, Ready before the start returns.
    const startNodes = async (count: number): Promise<void> => {
      const schedCert = issueClientCert(pki, 'scheduler', 'system:kube-scheduler', ['system:masters']);
      const schedKubeconfig = join(dir, 'scheduler.kubeconfig');
      writeFileSync(schedKubeconfig, kubeconfigYaml(server, pki, schedCert, 'system:kube-scheduler'), { mode: 0o600 });
      launch('kube-scheduler', [`--kubeconfig=${schedKubeconfig}`, '--leader-elect=false', '--bind-address=127.0.0.1', '--secure-port=0', '--v=0']);
      const kwokCert = issueClientCert(pki, 'kwok', 'kwok-controller', ['system:masters']);
      const kwokKubeconfig = join(dir, 'kwok.kubeconfig');
      writeFileSync(kwokKubeconfig, kubeconfigYaml(server, pki, kwokCert, 'kwok-controller'), { mode: 0o600 });
      const stages = join(dir, 'kwok-stages.yaml');
      writeFileSync(stages, kwokStages(goModuleDir('sigs.k8s.io/kwok', versions.kwok)));
      launch('kwok', [
        `--kubeconfig=${kwokKubeconfig}`,
        `--config=${stages}`,
        '--manage-all-nodes=false',
        '--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake',
        '--cidr=10.244.0.1/16',
        '--node-ip=127.0.0.1',
        `--server-address=127.0.0.1:${await freePort()}`,
        '--node-lease-duration-seconds=40',
      ]);
      for (let i = 0; i < count; i++) {
        const res = await rawRequest(server, pki, admin, 'POST', '/api/v1/nodes', kwokNode(i));
        if (res.status !== 201) throw new Error(`creating node ${kwokNodeName(i)} failed (${res.status}): ${res.body.slice(0, 500)}`);
      }
      await waitFor(
        `${count} simulated nodes Ready and schedulable`,
        async () => {
          const res = await rawRequest(server, pki, admin, 'GET', '/api/v1/nodes');
          type N = { spec?: { taints?: unknown[] }; status?: { conditions?: { type: string; status: string }[] } };
          const items = (JSON.parse(res.body) as { items?: N[] }).items ?? [];
          // The node lifecycle controller lifts the not-ready taint once the node reports Ready.
          return items.filter((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') && (n.spec?.taints ?? []).length === 0).length >= count;
        },
        60_000,
        () => tail(join(dir, 'kwok.log')),
      );
    };

    const waitApiReady = async (): Promise<void> => {
      await waitFor(
        'kube-apiserver',
        async () => {
          if (etcd.child.exitCode !== null) throw new Error(`etcd exited with ${etcd.child.exitCode}\n${tail(join(dir, 'etcd.log'))}`);
          if (api.child.exitCode !== null) throw new Error(`kube-apiserver exited with ${api.child.exitCode}\n${tail(join(dir, 'kube-apiserver.log'))}`);
          return (await probe(server, '/readyz', pki, admin)) === 200;
        },
        120_000,
        () => tail(join(dir, 'kube-apiserver.log')),
      );
    };
    await waitApiReady();

    if (withKcm) {
      // system:masters: with one identity for all controllers (no per-controller service accounts) the
      // controller-manager needs the rights that each controller's own account would have.
      const kcmCert = issueClientCert(pki, 'kcm', 'system:kube-controller-manager', ['system:masters']);
      const kcmKubeconfig = join(dir, 'kcm.kubeconfig');
      writeFileSync(kcmKubeconfig, kubeconfigYaml(server, pki, kcmCert, 'system:kube-controller-manager'), { mode: 0o600 });
      launch('kube-controller-manager', [
        `--kubeconfig=${kcmKubeconfig}`,
        `--authentication-kubeconfig=${kcmKubeconfig}`,
        `--authorization-kubeconfig=${kcmKubeconfig}`,
        '--bind-address=127.0.0.1',
        '--secure-port=0',
        '--leader-elect=false',
        `--controllers=${kcmControllers(nodes).join(',')}`,
        `--service-account-private-key-file=${pki.saKey}`,
        `--root-ca-file=${pki.caCert}`,
        '--use-service-account-credentials=false',
        '--concurrent-gc-syncs=5',
        '--v=0',
      ]);
    }
    if (nodes > 0) await startNodes(nodes);
    startWatchdog();

    const kubeConfig = (): KubeConfig => {
      const kc = new KubeConfig();
      kc.loadFromFile(kubeconfigPath);
      return kc;
    };

    if (opts.crds ?? true) {
      const upstream = [...upstreamCrds().values()].flat();
      await installCrds(kubeConfig(), (m, p, b) => rawRequest(server, pki, admin, m, p, b), [...upstream, ...projectCrds()]);
    }

    const cp: ControlPlane = {
      server,
      dir,
      kubeconfigPath,
      kubeConfig,
      async userKubeConfig(user: string, groups: string[] = []): Promise<KubeConfig> {
        const cert = issueClientCert(pki, `user-${user}-${Date.now()}`, user, groups);
        const kc = new KubeConfig();
        kc.loadFromString(kubeconfigYaml(server, pki, cert, user));
        return kc;
      },
      async restartApiServer(): Promise<void> {
        const t0 = Date.now();
        await stopProc(api, 3_000);
        procs.splice(procs.indexOf(api), 1);
        if (process.env.NKP_HARNESS_DEBUG) console.error(`apiserver stopped in ${Date.now() - t0} ms`);
        api = launch('kube-apiserver', apiArgs);
        await waitApiReady();
      },
      pids: () => procs.filter((p) => p.child.exitCode === null).map((p) => p.child.pid!),
      ports: () => [etcdClient, etcdPeer, apiPort],
      async stop(): Promise<void> {
        if (stopped) return;
        stopped = true;
        // Reverse order: controller-manager, apiserver, etcd; SIGTERM first, SIGKILL after 10 s.
        for (const p of [...procs].reverse()) {
          await stopProc(p, 5_000);
        }
        for (const pid of watchdogPids) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            /* already gone */
          }
        }
        rmSync(dir, { recursive: true, force: true });
        unregister();
      },
    };
    return cp;
  } catch (err) {
    killAll();
    unregister();
    throw err;
  }
}

let shared: Promise<ControlPlane> | undefined;

/** The control plane shared by every test of this process (started on first use; see root-hooks.ts). */
export function sharedControlPlane(): Promise<ControlPlane> {
  shared ??= startControlPlane().catch((err) => {
    shared = undefined;
    throw err;
  });
  return shared;
}

export async function stopSharedControlPlane(): Promise<void> {
  if (!shared) return;
  const p = shared;
  shared = undefined;
  await (await p.catch(() => undefined))?.stop();
}

export const kubernetesVersion = versions.kubernetes;

/** True when a process with this pid is alive. */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** True when something listens on 127.0.0.1:port. */
export function portInUse(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(true));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(false)));
  });
}

