/**
 * A Helm chart repository on loopback (index.yaml + packaged charts over plain HTTP), for an Argo CD that runs on this
 * machine: the platform's `nkp:helmChartMirror` points at it. Charts are packaged and indexed by the real Helm the
 * harness builds for Argo CD's repo-server (scripts/build-helm.mjs), so the index is the one Helm itself writes.
 *
 * STAND-IN (named): this machine reaches no chart repository, so the foundation's charts are served as stand-ins
 * under their pinned names and versions ({@link standInChart}): each installs one ConfigMap saying what it stands in
 * for. Listening on 127.0.0.1 only; `stop()` closes the server and removes the files.
 */
import { execFileSync } from 'node:child_process';
import { createReadStream, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join, normalize } from 'node:path';
import { stringify } from 'yaml';
import { helmBinDir } from './argocd.js';

export interface ChartFiles {
  name: string;
  version: string;
  /** path -> content, relative to the chart directory (Chart.yaml is written from name and version). */
  files: Record<string, string>;
}

export interface HelmRepository {
  /** http://127.0.0.1:<port>/charts: the repository URL (its index.yaml is under it). */
  url: string;
  /** Package a chart into the repository and re-index it (the chart is served from the next request on). */
  publish(chart: ChartFiles): void;
  /** Requests served, as `<status> <path>`, oldest first. */
  requests(): string[];
  stop(): Promise<void>;
}

/**
 * A stand-in for a chart that cannot be fetched here: one ConfigMap in the release namespace, named after the chart,
 * that says which chart it stands in for, and the `extra` objects (e.g. a Service the real chart makes that other
 * Applications name).
 */
export function standInChart(name: string, version: string, extra: readonly object[] = []): ChartFiles {
  const cm = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: `${name}-stand-in`, labels: { 'app.kubernetes.io/managed-by': '{{ .Release.Service }}', 'app.kubernetes.io/instance': '{{ .Release.Name }}' } },
    data: { standsInFor: `the ${name} chart ${version}, which this machine cannot download` },
  };
  return { name, version, files: { 'templates/stand-in.yaml': stringify(cm), ...Object.fromEntries(extra.map((o, i) => [`templates/extra-${i}.yaml`, stringify(o)])) } };
}

export async function startHelmRepository(): Promise<HelmRepository> {
  const dir = mkdtempSync(join(tmpdir(), 'nkp-helm-repo-'));
  const charts = join(dir, 'charts');
  mkdirSync(charts);
  const helm = join(helmBinDir(), 'helm');
  // Helm's own state (cache, config, data) stays in the temporary directory.
  const env = { ...process.env, HELM_CACHE_HOME: join(dir, 'cache'), HELM_CONFIG_HOME: join(dir, 'config'), HELM_DATA_HOME: join(dir, 'data') };
  const log: string[] = [];
  const server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname));
    const file = path.startsWith('/charts/') ? join(charts, path.slice('/charts/'.length)) : undefined;
    if (req.method !== 'GET' || file === undefined || !file.startsWith(charts + '/') || !existsSync(file)) {
      log.push(`404 ${path}`);
      res.writeHead(404).end('not found');
      return;
    }
    log.push(`200 ${path}`);
    res.writeHead(200, { 'content-type': file.endsWith('.yaml') ? 'text/yaml' : 'application/gzip' });
    createReadStream(file).pipe(res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  const url = `http://127.0.0.1:${port}/charts`;
  const index = (): void => {
    execFileSync(helm, ['repo', 'index', charts, '--url', url], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  };
  index();
  return {
    url,
    publish(chart) {
      const src = join(dir, 'src', `${chart.name}-${chart.version}`);
      rmSync(src, { recursive: true, force: true });
      mkdirSync(join(src, 'templates'), { recursive: true });
      writeFileSync(join(src, 'Chart.yaml'), stringify({ apiVersion: 'v2', name: chart.name, version: chart.version, description: `${chart.name} (served on loopback by the test harness)`, type: 'application' }));
      for (const [p, content] of Object.entries(chart.files)) {
        mkdirSync(join(src, p, '..'), { recursive: true });
        writeFileSync(join(src, p), content);
      }
      execFileSync(helm, ['package', src, '--destination', charts], { env, stdio: ['ignore', 'ignore', 'pipe'] });
      index();
    },
    requests: () => [...log],
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
