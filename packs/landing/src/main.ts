// Entry point of the landing service: configuration from the environment, then the composition of service.ts,
// plus a separate metrics listener. SIGTERM/SIGINT stop everything cleanly.
import { createServer } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KubeConfig } from '@kubernetes/client-node';
import { createLogger, parseLogLevel } from '../../../operator/src/runtime/logger.js';
import { configFromEnv } from './config.js';
import { LandingMetrics } from './metrics.js';
import { startLandingService } from './service.js';

const here = dirname(fileURLToPath(import.meta.url));
const log = createLogger({ level: parseLogLevel(process.env.LOG_LEVEL), base: { component: 'landing' } });

async function run(): Promise<void> {
  // In the image the bundle sits beside web/.
  const cfg = configFromEnv(process.env, { staticDir: join(here, 'web') });
  const metrics = new LandingMetrics({ defaultMetrics: true });
  const kc = new KubeConfig();
  kc.loadFromDefault();
  if (!cfg.oidc) log.warn('OIDC_* not set: sign-in disabled, only public apps are shown');

  const metricsServer = createServer((req, res) => {
    if (req.url !== '/metrics') return void res.writeHead(404).end();
    metrics.registry.metrics().then(
      (text) => {
        res.writeHead(200, { 'Content-Type': metrics.registry.contentType });
        res.end(text);
      },
      () => res.writeHead(500).end(),
    );
  });
  await new Promise<void>((r) => metricsServer.listen(cfg.metricsPort, cfg.host, r));

  const svc = await startLandingService({
    kubeConfig: kc,
    oidc: cfg.oidc ? { settings: cfg.oidc, sessionSecret: cfg.oidc.sessionSecret } : null,
    staticDir: cfg.staticDir,
    log,
    metrics,
    host: cfg.host,
    port: cfg.port,
    features: cfg.features,
  });
  log.info('listening', { host: cfg.host, port: svc.port, metricsPort: cfg.metricsPort, signIn: !!cfg.oidc });

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info('stopping', { signal });
    void Promise.allSettled([svc.stop(), new Promise((r) => metricsServer.close(r))]).then(() => process.exit(0));
    setTimeout(() => process.exit(0), 5000).unref();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

run().catch((err: unknown) => {
  log.error('landing failed to start', { err });
  process.exit(1);
});
