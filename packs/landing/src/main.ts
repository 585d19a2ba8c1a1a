// Entry point of the landing service: configuration from the environment, the NebariApp informer, the health
// prober, the page/API server and a separate metrics listener. SIGTERM/SIGINT stop everything cleanly.
import { createServer } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KubeConfig } from '@kubernetes/client-node';
import { createLogger, parseLogLevel } from '../../../operator/src/runtime/logger.js';
import { configFromEnv } from './config.js';
import { HealthProber } from './health.js';
import { LandingMetrics } from './metrics.js';
import { createLandingServer } from './server.js';
import { AppStore } from './store.js';
import { NebariAppWatcher } from './watcher.js';

const here = dirname(fileURLToPath(import.meta.url));
const log = createLogger({ level: parseLogLevel(process.env.LOG_LEVEL), base: { component: 'landing' } });

async function run(): Promise<void> {
  // In the image the bundle sits beside web/; from source (tsx) the built assets are under dist/landing/web.
  const cfg = configFromEnv(process.env, { staticDir: join(here, 'web') });
  const metrics = new LandingMetrics({ defaultMetrics: true });
  const store = new AppStore();
  const prober = new HealthProber(store, {
    onResult: (_id, h, ms) => {
      metrics.probes.inc({ result: h });
      metrics.probeDuration.observe(ms / 1000);
    },
  });
  store.onChange(() => prober.sync());

  const kc = new KubeConfig();
  kc.loadFromDefault();
  const watcher = new NebariAppWatcher(kc, store, {
    onSkip: (id, reason) => log.debug('not shown', { app: id, reason }),
    onError: (err, ms) => {
      metrics.watchRestarts.inc();
      log.warn('NebariApp watch failed; restarting', { err, restartInMs: ms });
    },
    onSynced: () => log.info('NebariApps listed', { apps: store.size() }),
  });

  const landing = createLandingServer({
    store,
    staticDir: cfg.staticDir,
    log,
    metrics,
    oidc: cfg.oidc ? { settings: cfg.oidc, sessionSecret: cfg.oidc.sessionSecret } : null,
    ready: () => watcher.synced,
  });
  if (!cfg.oidc) log.warn('OIDC_* not set: sign-in disabled, only public apps are shown');

  const metricsServer = createServer((req, res) => {
    if (req.url === '/metrics') {
      metrics.registry.metrics().then(
        (text) => {
          res.writeHead(200, { 'Content-Type': metrics.registry.contentType });
          res.end(text);
        },
        () => res.writeHead(500).end(),
      );
    } else res.writeHead(404).end();
  });

  const port = await landing.listen(cfg.port, cfg.host);
  await new Promise<void>((r) => metricsServer.listen(cfg.metricsPort, cfg.host, r));
  log.info('listening', { host: cfg.host, port, metricsPort: cfg.metricsPort, signIn: !!cfg.oidc });
  void watcher.start().catch((err: unknown) => log.error('watch start failed', { err }));

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info('stopping', { signal });
    prober.stop();
    void Promise.allSettled([watcher.stop(), landing.close(), new Promise((r) => metricsServer.close(r))]).then(() => process.exit(0));
    setTimeout(() => process.exit(0), 5000).unref();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

run().catch((err: unknown) => {
  log.error('landing failed to start', { err });
  process.exit(1);
});
