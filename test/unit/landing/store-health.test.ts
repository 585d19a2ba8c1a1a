import assert from 'node:assert/strict';
import { createServer, type RequestListener, type Server } from 'node:http';
import { KubeConfig } from '@kubernetes/client-node';
import { classifyStatus, clusterResolver, HealthProber, probeOnce, probeUrl } from '../../../packs/landing/src/health.js';
import { AppStore } from '../../../packs/landing/src/store.js';
import { NebariAppWatcher } from '../../../packs/landing/src/watcher.js';
import type { Entry, HealthTarget } from '../../../packs/landing/src/model.js';

const target: HealthTarget = { service: 'grafana', namespace: 'monitoring', port: 3000, path: '/api/health', intervalSeconds: 10, timeoutSeconds: 1 };

function entry(id: string, health: HealthTarget | null = null): Entry {
  return { id, name: id, description: '', url: 'https://x/', icon: { kind: 'builtin', id: 'app' }, category: 'C', priority: 1, visibility: 'public', requiredGroups: [], health };
}

/** An HTTP server on 127.0.0.1 (a free port) answering with `handler`: the backend the probes reach. */
async function listenLoopback(handler: RequestListener): Promise<{ server: Server; port: number }> {
  const server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const a = server.address();
  return { server, port: typeof a === 'object' && a ? a.port : 0 };
}

function closeNow(server: Server): void {
  server.closeAllConnections();
  server.close();
}

describe('landing store', () => {
  it('fires only on real changes', () => {
    const s = new AppStore();
    let n = 0;
    s.onChange(() => n++);
    s.upsert(entry('a/x'));
    s.upsert(entry('a/x'));
    assert.equal(n, 1, 'an identical upsert is not a change');
    s.setHealth('a/x', 'healthy');
    s.setHealth('a/x', 'healthy');
    assert.equal(n, 2);
    s.setHealth('a/unknown', 'healthy');
    assert.equal(n, 2, 'health of an unknown app is ignored');
    s.remove('a/x');
    s.remove('a/x');
    assert.equal(n, 3);
  });
  it('forgets a health result when the probe target changes', () => {
    const s = new AppStore();
    s.upsert(entry('a/x', target));
    s.setHealth('a/x', 'healthy');
    s.upsert({ ...entry('a/x', target), name: 'renamed' });
    assert.equal(s.healthOf('a/x'), 'healthy', 'same target: result kept');
    s.upsert(entry('a/x', { ...target, path: '/other' }));
    assert.equal(s.healthOf('a/x'), undefined);
  });
});

describe('landing health probes', () => {
  let server: Server;
  let port = 0;
  let status = 200;
  let delayMs = 0;
  before(async () => {
    ({ server, port } = await listenLoopback((_req, res) => setTimeout(() => res.writeHead(status).end(), delayMs)));
  });
  after(() => closeNow(server));

  it('addresses the Service DNS name by default', () => {
    assert.equal(probeUrl(target, clusterResolver), 'http://grafana.monitoring.svc:3000/api/health');
  });
  it('2xx and 3xx are healthy, the rest unhealthy', () => {
    for (const s of [200, 204, 301, 399]) assert.equal(classifyStatus(s), 'healthy');
    for (const s of [400, 404, 500, 503]) assert.equal(classifyStatus(s), 'unhealthy');
  });
  it('a timeout or a refused connection is unhealthy', async () => {
    status = 200;
    delayMs = 300;
    assert.equal(await probeOnce(`http://127.0.0.1:${port}/`, 100), 'unhealthy');
    assert.equal(await probeOnce(`http://127.0.0.1:${port}/`, 2000), 'healthy');
    delayMs = 0;
    assert.equal(await probeOnce('http://127.0.0.1:1/', 500), 'unhealthy');
  });
  it('the prober follows the store: starts, reports, stops when the app goes away', async () => {
    status = 503;
    const s = new AppStore();
    const results: string[] = [];
    const p = new HealthProber(s, { resolver: () => `http://127.0.0.1:${port}`, intervalMs: () => 50, onResult: (id, h) => results.push(`${id}=${h}`) });
    s.onChange(() => p.sync());
    s.upsert(entry('a/x', target));
    while (s.healthOf('a/x') !== 'unhealthy') await new Promise((r) => setTimeout(r, 10));
    status = 200;
    while (s.healthOf('a/x') !== 'healthy') await new Promise((r) => setTimeout(r, 10));
    s.remove('a/x');
    const n = results.length;
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(results.length, n, 'no probes after the app was removed');
    p.stop();
  });
});

describe('landing health probes follow store changes one at a time', () => {
  let server: Server;
  let port = 0;
  const paths: string[] = [];
  before(async () => {
    ({ server, port } = await listenLoopback((req, res) => {
      paths.push(req.url ?? '');
      res.writeHead(200).end();
    }));
  });
  after(() => closeNow(server));

  it('a probe result or an edit that keeps the target restarts no probe; a new target does; removal stops it', async () => {
    const s = new AppStore();
    const changes: string[] = [];
    // Interval far beyond the test: every probe seen here is the immediate one of a (re)started job.
    const p = new HealthProber(s, { resolver: () => `http://127.0.0.1:${port}`, intervalMs: () => 60_000 });
    s.onChange((c) => {
      changes.push(c.kind);
      p.follow(c);
    });
    const settle = async (): Promise<void> => {
      await new Promise((r) => setTimeout(r, 150));
    };
    s.upsert(entry('a/x', target));
    s.upsert(entry('a/y', { ...target, path: '/y' }));
    while (s.healthOf('a/x') !== 'healthy' || s.healthOf('a/y') !== 'healthy') await new Promise((r) => setTimeout(r, 5));
    await settle();
    assert.deepEqual(paths.slice().sort(), ['/api/health', '/y']);
    assert.equal(changes.filter((c) => c === 'health').length, 2, 'two probe results, each a health change');
    s.upsert({ ...entry('a/x', target), name: 'renamed' });
    await settle();
    assert.equal(paths.length, 2, 'same target: no new probe');
    s.upsert(entry('a/x', { ...target, path: '/moved' }));
    while (s.healthOf('a/x') !== 'healthy') await new Promise((r) => setTimeout(r, 5));
    await settle();
    assert.deepEqual(paths.slice(2), ['/moved'], 'new target: probed at once, the other app untouched');
    s.remove('a/y');
    s.replaceAll([...s.all()]);
    await settle();
    assert.deepEqual(paths.slice(3), [], 'a re-list with the same targets starts nothing new');
    p.stop();
  });
});

describe('landing watcher restarts', () => {
  it('restarts with growing backoff while the API server is unreachable', async () => {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'c', server: 'https://127.0.0.1:1', skipTLSVerify: true }],
      users: [{ name: 'u', token: 'x' }],
      contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
      currentContext: 'x',
    });
    const delays: number[] = [];
    const w = new NebariAppWatcher(kc, new AppStore(), { onError: (_e, ms) => delays.push(ms) }, { baseMs: 20, maxMs: 80 });
    await w.start();
    while (delays.length < 4) await new Promise((r) => setTimeout(r, 10));
    await w.stop();
    assert.deepEqual(delays.slice(0, 4), [20, 40, 80, 80]);
    assert.ok(w.restarts >= 3);
    assert.equal(w.synced, false);
  });
});
