// The landing service as a process: configuration from the environment, the composition of service.ts, a separate
// metrics listener, a clean stop on SIGTERM/SIGINT. main.ts (the image's entry point) runs it as it is;
// bench/landing-service.ts runs the very same with one stand-in (where health probes go, see there).
import { createServer } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KubeConfig } from '@kubernetes/client-node';
import { createLogger, parseLogLevel } from '../../../operator/src/runtime/logger.js';
import { configFromEnv } from './config.js';
import type { ServiceResolver } from './health.js';
import { LandingMetrics } from './metrics.js';
import { startLandingService } from './service.js';

export interface ProcessOptions {
  /** Health probe address of a target; default the cluster's Service DNS name (health.ts clusterResolver). */
  resolver?: ServiceResolver;
}

export function runLandingProcess(o: ProcessOptions = {}): void {
  // In the image the bundle sits beside web/.
  const here = dirname(fileURLToPath(import.meta.url));
  const log = createLogger({ level: parseLogLevel(process.env.LOG_LEVEL), base: { component: 'landing' } });

  const run = async (): Promise<void> => {
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
      ...(o.resolver ? { resolver: o.resolver } : {}),
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
  };

  run().catch((err: unknown) => {
    log.error('landing failed to start', { err });
    process.exit(1);
  });
}
