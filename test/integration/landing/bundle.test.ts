// The shipped artifact: the esbuild bundle (as in the image) runs as its own process against the REAL control
// plane under the pack's ServiceAccount identity with exactly the pack's ClusterRole (rbac.yaml applied), serves
// the page and the API, exposes /metrics on its own port, logs JSON without secrets and stops on SIGTERM.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, KubernetesObjectApi, type KubernetesObject } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { sharedControlPlane, freePort, type ControlPlane } from '../../harness/control-plane.js';
import { buildServer, buildWeb } from '../../../packs/landing/build.js';
import { startOidcStandin, type OidcStandin } from './oidc-standin.js';
import { Apps, createNamespace, eventually, nebariApp } from './helpers.js';

describe('landing bundle as a process under its own RBAC', function () {
  this.timeout(180_000);
  let cp: ControlPlane;
  let dir: string;
  let child: ChildProcess | undefined;
  let issuer: OidcStandin;
  let stdout = '';
  let port = 0;
  let metricsPort = 0;

  before(async () => {
    cp = await sharedControlPlane();
    dir = mkdtempSync(join(tmpdir(), 'landing-bundle-'));
    await buildWeb(join(dir, 'web'));
    await buildServer(join(dir, 'server.mjs'));
    // Apply the pack's RBAC (ClusterRole + binding, Role + binding in nkp-landing) as shipped.
    await cp.kubeConfig().makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: 'nkp-landing' } } }).catch((e: { code?: number }) => (e.code === 409 ? undefined : Promise.reject(e)));
    const objs = parseAllDocuments(readFileSync(join('packs', 'landing', 'manifests', 'rbac.yaml'), 'utf8')).map((d) => d.toJS() as KubernetesObject);
    const api = KubernetesObjectApi.makeApiClient(cp.kubeConfig());
    for (const o of objs) await api.create(o).catch((e: { code?: number }) => (e.code === 409 ? undefined : Promise.reject(e)));
    issuer = await startOidcStandin();
  });

  after(async () => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    await issuer?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the ServiceAccount may read NebariApps and Applications, keep ConfigMaps in its own namespace, and nothing else', async () => {
    const sa = await cp.userKubeConfig('system:serviceaccount:nkp-landing:landing', ['system:serviceaccounts', 'system:serviceaccounts:nkp-landing']);
    const core = sa.makeApiClient(CoreV1Api);
    await assert.rejects(core.listSecretForAllNamespaces(), (e: { code?: number }) => e.code === 403);
    await assert.rejects(core.listNamespacedSecret({ namespace: 'nkp-landing' }), (e: { code?: number }) => e.code === 403);
    await assert.rejects(core.listNamespace(), (e: { code?: number }) => e.code === 403);
    await assert.rejects(core.listNamespacedConfigMap({ namespace: 'default' }), (e: { code?: number }) => e.code === 403);
    await core.listNamespacedConfigMap({ namespace: 'nkp-landing' });
    await assert.rejects(core.deleteCollectionNamespacedConfigMap({ namespace: 'nkp-landing' }), (e: { code?: number }) => e.code === 403);
    const ns = await createNamespace(cp.kubeConfig(), 'landing-rbac');
    await assert.rejects(new Apps(sa).create(nebariApp(ns, 'nope', {})), (e: { code?: number }) => e.code === 403);
  });

  it('serves page, API and metrics from the bundle; JSON logs carry no secret; SIGTERM stops it', async () => {
    const sa = await cp.userKubeConfig('system:serviceaccount:nkp-landing:landing', ['system:serviceaccounts']);
    const kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(kubeconfig, sa.exportConfig(), { mode: 0o600 });
    port = await freePort();
    metricsPort = await freePort();
    const ns = await createNamespace(cp.kubeConfig(), 'landing-bundle');
    await new Apps(cp.kubeConfig()).create(nebariApp(ns, 'grafana', { landingPage: { enabled: true, displayName: `Bundled Grafana [${ns}]`, category: 'Monitoring' } }));

    child = spawn(process.execPath, [join(dir, 'server.mjs')], {
      env: {
        PATH: process.env.PATH,
        KUBECONFIG: kubeconfig,
        PORT: String(port),
        METRICS_PORT: String(metricsPort),
        OIDC_CLIENT_ID: issuer.clientId,
        OIDC_CLIENT_SECRET: issuer.clientSecret,
        OIDC_ISSUER_URL: issuer.issuer,
        PUBLIC_URL: `http://127.0.0.1:${port}`,
        LOG_LEVEL: 'debug',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (stdout += c.toString()));
    const base = `http://127.0.0.1:${port}`;
    await eventually(() => fetch(`${base}/readyz`).then((r) => r.status, () => 0), (s) => s === 200, 30_000, 'bundle ready');
    const apps = await eventually(
      () => fetch(`${base}/api/apps`).then((r) => r.json() as Promise<{ groups: Array<{ apps: Array<{ name: string }> }> }>),
      (b) => b.groups.some((g) => g.apps.some((a) => a.name === `Bundled Grafana [${ns}]`)),
      20_000,
      'app listed by the bundle',
    );
    assert.ok(apps);
    const page = await fetch(base);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-security-policy') ?? '', /default-src 'none'/);
    assert.match(await page.text(), /<script type="module" src="\/static\/app.js"><\/script>/);
    assert.equal((await fetch(`${base}/static/app.js`)).status, 200);
    // A sign-in round trip through the stand-in issuer, so a login is logged too.
    const login = await fetch(`${base}/auth/login`, { redirect: 'manual' });
    assert.equal(login.status, 303);
    assert.ok(login.headers.get('location')?.startsWith(`${issuer.issuer}/authorize?`));
    const refused = await fetch(`${base}/api/me`, { headers: { authorization: 'Bearer a.b.c' } });
    assert.equal(refused.status, 401);

    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    assert.match(metrics, /landing_apps\{visibility="public"\} [1-9]/);
    assert.match(metrics, /landing_process_cpu_user_seconds_total/);
    assert.equal((await fetch(`${base}/metrics`)).status, 404, 'metrics are not on the public port');

    child.kill('SIGTERM');
    const code = await new Promise<number | null>((r) => child!.once('exit', r));
    assert.equal(code, 0);
    const lines = stdout.trim().split('\n');
    assert.ok(lines.length >= 3);
    for (const l of lines) {
      const rec = JSON.parse(l) as { time: string; level: string; msg: string };
      assert.ok(rec.time && rec.level && rec.msg, l);
    }
    assert.ok(!stdout.includes(issuer.clientSecret), 'the client secret never appears in the logs');
    assert.ok(lines.some((l) => l.includes('"msg":"stopping"')));
  });
});
