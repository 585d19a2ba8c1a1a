// Integration tests of the test harness itself, against the real etcd + kube-apiserver + kube-controller-manager.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ApiextensionsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  VersionApi,
  Watch,
  type KubeConfig,
} from '@kubernetes/client-node';
import {
  portInUse,
  processAlive,
  sharedControlPlane,
  startControlPlane,
  type ControlPlane,
} from '../../harness/control-plane.js';
import { projectCrds, repoRoot, upstreamCrds, versions } from '../../harness/upstream.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function eventually<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    await sleep(250);
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}

function status(err: unknown): number | undefined {
  return (err as { code?: number }).code;
}

let nsCounter = 0;
async function freshNamespace(kc: KubeConfig, prefix: string): Promise<string> {
  const name = `${prefix}-${process.pid}-${++nsCounter}`;
  await kc.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name } } });
  return name;
}

describe('test harness: real control plane', function () {
  this.timeout(180_000);
  let cp: ControlPlane;
  let kc: KubeConfig;

  before(async () => {
    cp = await sharedControlPlane();
    kc = cp.kubeConfig();
  });

  it('serves the pinned Kubernetes version on loopback', async () => {
    assert.match(cp.server, /^https:\/\/127\.0\.0\.1:\d+$/);
    const v = await kc.makeApiClient(VersionApi).getCode();
    assert.equal(v.gitVersion, versions.kubernetes);
  });

  it('installs every pinned upstream CRD and the NebariApp CRD, all Established', async () => {
    const expected = [...upstreamCrds().values()].flat().map((c) => c.metadata.name);
    for (const c of projectCrds()) expected.push(c.metadata.name);
    assert.ok(expected.length > 20, `expected the upstream CRD sets, got ${expected.length}`);
    const list = await kc.makeApiClient(ApiextensionsV1Api).listCustomResourceDefinition();
    const established = new Set(
      list.items
        .filter((c) => c.status?.conditions?.some((x) => x.type === 'Established' && x.status === 'True'))
        .map((c) => c.metadata!.name!),
    );
    for (const name of expected) assert.ok(established.has(name), `${name} not established`);
    for (const must of [
      'httproutes.gateway.networking.k8s.io',
      'listenersets.gateway.networking.k8s.io',
      'securitypolicies.gateway.envoyproxy.io',
      'certificates.cert-manager.io',
      'clusterissuers.cert-manager.io',
      'applications.argoproj.io',
      'appprojects.argoproj.io',
    ]) {
      assert.ok(established.has(must), `${must} missing`);
    }
  });

  describe('objects of each CRD source can be created and read back', () => {
    let ns: string;
    let co: CustomObjectsApi;
    before(async () => {
      ns = await freshNamespace(kc, 'crds');
      co = kc.makeApiClient(CustomObjectsApi);
    });

    // Each case: an object of one CRD, and one field of it (a dotted path) that must read back unchanged.
    const cases: Array<{ group: string; version: string; plural: string; body: () => { kind: string; metadata: { name: string }; spec: unknown }; expect: [string, unknown] }> = [
      {
        group: 'gateway.networking.k8s.io', version: 'v1', plural: 'gateways',
        body: () => ({ kind: 'Gateway', metadata: { name: 'public' }, spec: { gatewayClassName: 'eg', listeners: [{ name: 'http', protocol: 'HTTP', port: 80 }] } }),
        expect: ['spec.listeners.0.port', 80],
      },
      {
        group: 'gateway.networking.k8s.io', version: 'v1', plural: 'httproutes',
        body: () => ({ kind: 'HTTPRoute', metadata: { name: 'app' }, spec: { hostnames: ['app.example.com'], rules: [{ matches: [{ path: { type: 'PathPrefix', value: '/' } }], backendRefs: [{ name: 'app', port: 8080 }] }] } }),
        expect: ['spec.hostnames.0', 'app.example.com'],
      },
      {
        group: 'gateway.networking.k8s.io', version: 'v1', plural: 'listenersets',
        body: () => ({ kind: 'ListenerSet', metadata: { name: 'app' }, spec: { parentRef: { name: 'public', kind: 'Gateway', group: 'gateway.networking.k8s.io' }, listeners: [{ name: 'https', hostname: 'app.example.com', protocol: 'HTTPS', port: 443, tls: { mode: 'Terminate', certificateRefs: [{ name: 'app-tls' }] } }] } }),
        expect: ['spec.listeners.0.hostname', 'app.example.com'],
      },
      {
        group: 'gateway.envoyproxy.io', version: 'v1alpha1', plural: 'securitypolicies',
        body: () => ({ kind: 'SecurityPolicy', metadata: { name: 'app' }, spec: { targetRefs: [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', name: 'app' }], oidc: { provider: { issuer: 'https://id.example.com/realms/nkp' }, clientID: 'ns-app', clientSecret: { name: 'app-oidc-client' } } } }),
        expect: ['spec.oidc.clientID', 'ns-app'],
      },
      {
        group: 'cert-manager.io', version: 'v1', plural: 'certificates',
        body: () => ({ kind: 'Certificate', metadata: { name: 'app' }, spec: { secretName: 'app-tls', dnsNames: ['app.example.com'], issuerRef: { name: 'selfsigned', kind: 'ClusterIssuer' } } }),
        expect: ['spec.secretName', 'app-tls'],
      },
      {
        group: 'argoproj.io', version: 'v1alpha1', plural: 'applications',
        body: () => ({ kind: 'Application', metadata: { name: 'app' }, spec: { project: 'default', source: { repoURL: 'https://charts.example.com', chart: 'app', targetRevision: '1.2.3' }, destination: { server: 'https://kubernetes.default.svc', namespace: 'app' } } }),
        expect: ['spec.source.targetRevision', '1.2.3'],
      },
    ];

    for (const c of cases) {
      it(`${c.plural}.${c.group}`, async () => {
        const body = { apiVersion: `${c.group}/${c.version}`, ...c.body() };
        await co.createNamespacedCustomObject({ group: c.group, version: c.version, namespace: ns, plural: c.plural, body });
        const got = await co.getNamespacedCustomObject({ group: c.group, version: c.version, namespace: ns, plural: c.plural, name: body.metadata.name });
        const [path, value] = c.expect;
        const actual = path.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], got);
        assert.deepEqual(actual, value, `${path} read back`);
      });
    }

    it('a cluster-scoped ClusterIssuer', async () => {
      const name = `selfsigned-${process.pid}`;
      await co.createClusterCustomObject({ group: 'cert-manager.io', version: 'v1', plural: 'clusterissuers', body: { apiVersion: 'cert-manager.io/v1', kind: 'ClusterIssuer', metadata: { name }, spec: { selfSigned: {} } } });
      const got = (await co.getClusterCustomObject({ group: 'cert-manager.io', version: 'v1', plural: 'clusterissuers', name })) as { spec: unknown };
      assert.deepEqual(got.spec, { selfSigned: {} });
    });

    it('a CRD validation rule rejects a bad object (HTTPRoute path that is not absolute)', async () => {
      const body = {
        apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name: 'bad' },
        spec: { rules: [{ matches: [{ path: { type: 'PathPrefix', value: 'no-leading-slash' } }] }] },
      };
      await assert.rejects(
        co.createNamespacedCustomObject({ group: 'gateway.networking.k8s.io', version: 'v1', namespace: ns, plural: 'httproutes', body }),
        (err: unknown) => {
          assert.equal(status(err), 422);
          assert.match(String((err as { body?: string }).body), /path/i);
          return true;
        },
      );
    });

    it('schema validation rejects a Certificate without its required secretName', async () => {
      const body = { apiVersion: 'cert-manager.io/v1', kind: 'Certificate', metadata: { name: 'bad' }, spec: { dnsNames: ['x.example.com'], issuerRef: { name: 'x' } } };
      await assert.rejects(
        co.createNamespacedCustomObject({ group: 'cert-manager.io', version: 'v1', namespace: ns, plural: 'certificates', body }),
        (err: unknown) => status(err) === 422 && /secretName/.test(String((err as { body?: string }).body)),
      );
    });
  });

  it('RBAC is enforced: a user without bindings is forbidden', async () => {
    const alice = await cp.userKubeConfig('alice', ['developers']);
    await assert.rejects(alice.makeApiClient(CoreV1Api).listNamespace(), (err: unknown) => status(err) === 403);
  });

  it('garbage collection removes an owned object after its owner is deleted', async () => {
    const core = kc.makeApiClient(CoreV1Api);
    const ns = await freshNamespace(kc, 'gc');
    const owner = await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'owner' }, data: { a: '1' } } });
    await core.createNamespacedSecret({
      namespace: ns,
      body: {
        metadata: { name: 'owned', ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: owner.metadata!.uid!, controller: true }] },
        stringData: { k: 'v' },
      },
    });
    await core.deleteNamespacedConfigMap({ name: 'owner', namespace: ns });
    await eventually('owned Secret to be garbage-collected', async () => {
      try {
        await core.readNamespacedSecret({ name: 'owned', namespace: ns });
        return undefined;
      } catch (err) {
        return status(err) === 404 ? true : undefined;
      }
    });
  });

  it('a namespace deletion completes (the namespace controller empties it)', async () => {
    const core = kc.makeApiClient(CoreV1Api);
    const ns = await freshNamespace(kc, 'nsdel');
    await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'c' } } });
    await kc.makeApiClient(CustomObjectsApi).createNamespacedCustomObject({
      group: 'cert-manager.io', version: 'v1', namespace: ns, plural: 'certificates',
      body: { apiVersion: 'cert-manager.io/v1', kind: 'Certificate', metadata: { name: 'c' }, spec: { secretName: 's', dnsNames: ['a.example.com'], issuerRef: { name: 'x' } } },
    });
    await core.deleteNamespace({ name: ns });
    await eventually('namespace to be gone', async () => {
      try {
        await core.readNamespace({ name: ns });
        return undefined;
      } catch (err) {
        return status(err) === 404 ? true : undefined;
      }
    }, 60_000);
  });

  it('a watch sees additions, changes and deletions', async () => {
    const core = kc.makeApiClient(CoreV1Api);
    const ns = await freshNamespace(kc, 'watch');
    const seen: string[] = [];
    const watch = new Watch(kc);
    const req = await watch.watch(`/api/v1/namespaces/${ns}/configmaps`, {}, (type, obj: { metadata: { name: string }; data?: Record<string, string> }) => {
      seen.push(`${type}:${obj.metadata.name}:${obj.data?.v ?? ''}`);
    }, () => undefined);
    try {
      await sleep(300);
      await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'w' }, data: { v: '1' } } });
      await core.replaceNamespacedConfigMap({ name: 'w', namespace: ns, body: { metadata: { name: 'w' }, data: { v: '2' } } });
      await core.deleteNamespacedConfigMap({ name: 'w', namespace: ns });
      await eventually('three watch events', async () => (seen.length >= 3 ? true : undefined), 10_000);
      assert.deepEqual(seen, ['ADDED:w:1', 'MODIFIED:w:2', 'DELETED:w:2']);
    } finally {
      req.abort();
    }
  });

  it('restartApiServer keeps the data and serves again', async () => {
    const core = kc.makeApiClient(CoreV1Api);
    const ns = await freshNamespace(kc, 'restart');
    await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'kept' }, data: { v: 'x' } } });
    await cp.restartApiServer();
    const got = await core.readNamespacedConfigMap({ name: 'kept', namespace: ns });
    assert.equal(got.data?.v, 'x');
  });
});

describe('test harness: lifecycle', function () {
  this.timeout(240_000);

  it('stop() leaves no process, port or file behind', async () => {
    const cp = await startControlPlane({ crds: false });
    const pids = cp.pids();
    const ports = cp.ports();
    assert.equal(pids.length, 3, 'etcd, kube-apiserver and kube-controller-manager run');
    for (const pid of pids) assert.ok(processAlive(pid));
    assert.ok(await portInUse(ports[2]!), 'apiserver port in use while running');
    await cp.stop();
    for (const pid of pids) assert.equal(processAlive(pid), false, `pid ${pid} still alive`);
    for (const port of ports) assert.equal(await portInUse(port), false, `port ${port} still in use`);
    assert.equal(existsSync(cp.dir), false);
  });

  // A child process starts its own control plane, prints its pids and directory, and is then interrupted or killed.
  const childScript = `
    import { startControlPlane } from ${JSON.stringify(join(repoRoot, 'test/harness/control-plane.ts'))};
    const cp = await startControlPlane({ crds: false, controllerManager: false });
    console.log(JSON.stringify({ pids: cp.pids(), ports: cp.ports(), dir: cp.dir, server: cp.server }));
    setInterval(() => {}, 1000);
  `;

  async function startChild(): Promise<{ child: ReturnType<typeof spawn>; info: { pids: number[]; ports: number[]; dir: string; server: string } }> {
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', childScript], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    const info = await new Promise<{ pids: number[]; ports: number[]; dir: string; server: string }>((resolve, reject) => {
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const line = out.split('\n').find((l) => l.startsWith('{'));
        if (line) resolve(JSON.parse(line));
      });
      child.once('exit', (code) => reject(new Error(`child exited early with ${code}: ${out}`)));
    });
    return { child, info };
  }

  async function assertGone(info: { pids: number[]; ports: number[]; dir: string }): Promise<void> {
    await eventually('processes and files of the interrupted control plane to be gone', async () => {
      if (info.pids.some(processAlive)) return undefined;
      if (existsSync(info.dir)) return undefined;
      for (const p of info.ports) if (await portInUse(p)) return undefined;
      return true;
    }, 20_000);
  }

  it('two processes start control planes at once without colliding, and SIGINT tears one down', async () => {
    const [a, b] = await Promise.all([startChild(), startChild()]);
    try {
      assert.notEqual(a.info.dir, b.info.dir);
      assert.equal(new Set([...a.info.ports, ...b.info.ports]).size, 6, 'all six ports distinct');
      a.child.kill('SIGINT');
      await assertGone(a.info);
      assert.ok(b.info.pids.every(processAlive), 'the other control plane keeps running');
    } finally {
      b.child.kill('SIGINT');
      a.child.kill('SIGKILL');
    }
    await assertGone(b.info);
  });

  it('a test process killed outright (SIGKILL) still leaves nothing behind (watchdog)', async () => {
    const c = await startChild();
    c.child.kill('SIGKILL');
    await assertGone(c.info);
  });

  it('a missing Go toolchain fails with a message saying what to install', () => {
    const cache = mkdtempSync(join(tmpdir(), 'nkp-nogo-'));
    try {
      const res = spawnSync(process.execPath, [join(repoRoot, 'scripts/build-control-plane.mjs')], {
        env: { PATH: '/nonexistent', NKP_CACHE_DIR: cache, HOME: cache },
        encoding: 'utf8',
      });
      assert.notEqual(res.status, 0);
      assert.match(res.stderr, /go is required to build the test control plane: install Go/);
    } finally {
      rmSync(cache, { recursive: true, force: true });
    }
  });
});
