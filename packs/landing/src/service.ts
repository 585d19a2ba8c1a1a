// Wires the parts together: store <- informer, store -> health prober, store -> HTTP/SSE server. main.ts runs it
// from the environment; the tests and the benchmark run the very same composition on loopback.
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from '../../../operator/src/runtime/logger.js';
import { HealthProber, type ServiceResolver } from './health.js';
import { KeycloakAdmin, type KeycloakAdminSettings } from './keycloak-admin.js';
import { PackWatcher } from './packs.js';
import { ClusterState } from './userstate.js';
import { LandingMetrics } from './metrics.js';
import { createLandingServer, type LandingServer, type OidcOptions } from './server.js';
import { AppStore } from './store.js';
import { NebariAppWatcher } from './watcher.js';

export interface LandingServiceOptions {
  /** Where to watch NebariApps; omitted: the store is fed by the caller (benchmark seeding). */
  kubeConfig?: KubeConfig;
  oidc: OidcOptions | null;
  staticDir: string;
  log: Logger;
  metrics?: LandingMetrics;
  host?: string;
  port?: number;
  /** Health probe address of a target; default http://<service>.<ns>.svc:<port>. */
  resolver?: ServiceResolver;
  /** Probe interval in ms for a declared intervalSeconds; default seconds * 1000. */
  healthIntervalMs?: (seconds: number) => number;
  coalesceMs?: number;
  heartbeatMs?: number;
  /** Pins, access requests, notifications, admin view (needs kubeConfig); omitted: off. */
  features?: {
    /** Namespace of the state ConfigMaps (the landing page's own). */
    stateNamespace: string;
    adminGroups: readonly string[];
    /** The landing admin client (client credentials) for approvals; omitted: approvals answer 503. */
    keycloakAdmin?: KeycloakAdminSettings;
    /** Where pack Applications live, and their Argo CD project. */
    packsNamespace: string;
    packsProject: string;
  };
}

export interface LandingService {
  url: string;
  port: number;
  store: AppStore;
  metrics: LandingMetrics;
  watcher: NebariAppWatcher | null;
  prober: HealthProber;
  state: ClusterState | null;
  packs: PackWatcher | null;
  http: LandingServer;
  stop(): Promise<void>;
}

export async function startLandingService(o: LandingServiceOptions): Promise<LandingService> {
  const metrics = o.metrics ?? new LandingMetrics();
  const store = new AppStore();
  const prober = new HealthProber(store, {
    resolver: o.resolver,
    intervalMs: o.healthIntervalMs,
    onResult: (id, h, ms) => {
      metrics.probes.inc({ result: h });
      metrics.probeDuration.observe(ms / 1000);
      o.log.debug('health probe', { app: id, result: h, ms: Math.round(ms) });
    },
  });
  store.onChange((c) => prober.follow(c));
  const watcher = o.kubeConfig
    ? new NebariAppWatcher(o.kubeConfig, store, {
        onSkip: (id, reason) => o.log.debug('not shown', { app: id, reason }),
        onError: (err, ms) => {
          metrics.watchRestarts.inc();
          o.log.warn('NebariApp watch failed; restarting', { err, restartInMs: ms });
        },
        onSynced: () => o.log.info('NebariApps listed', { apps: store.size() }),
      })
    : null;
  const f = o.kubeConfig ? o.features : undefined;
  const state = f ? new ClusterState(o.kubeConfig!, f.stateNamespace, (err) => o.log.warn('state ConfigMap watch failed; retrying', { err })) : null;
  const packs = f ? new PackWatcher(o.kubeConfig!, f.packsNamespace, (err) => o.log.debug('Argo CD Application watch failed; retrying', { err })) : null;
  const http = createLandingServer({
    features: f
      ? { state, keycloak: f.keycloakAdmin ? new KeycloakAdmin(f.keycloakAdmin) : null, adminGroups: f.adminGroups, packs, packsProject: f.packsProject }
      : undefined,
    store,
    staticDir: o.staticDir,
    log: o.log,
    metrics,
    oidc: o.oidc,
    ready: () => (watcher === null || watcher.synced) && (state === null || state.synced),
    coalesceMs: o.coalesceMs,
    heartbeatMs: o.heartbeatMs,
  });
  const port = await http.listen(o.port ?? 0, o.host ?? '127.0.0.1');
  if (watcher) await watcher.start();
  await Promise.all([state?.start(), packs?.start()]);
  const host = o.host ?? '127.0.0.1';
  return {
    url: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`,
    port,
    store,
    metrics,
    watcher,
    prober,
    state,
    packs,
    http,
    stop: async () => {
      prober.stop();
      await Promise.all([watcher?.stop(), state?.stop(), packs?.stop()]);
      await http.close();
    },
  };
}
