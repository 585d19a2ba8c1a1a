// Prometheus metrics of one landing service instance, on its own registry.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export class LandingMetrics {
  readonly registry = new Registry();
  readonly requests: Counter<'route' | 'method' | 'code'>;
  readonly requestDuration: Histogram<'route'>;
  readonly apps: Gauge<'visibility'>;
  readonly sseClients: Gauge;
  readonly sseMessages: Counter;
  readonly probes: Counter<'result'>;
  readonly probeDuration: Histogram;
  readonly auth: Counter<'result'>;
  readonly watchRestarts: Counter;
  readonly viewBuilds: Counter;

  constructor(opts: { defaultMetrics?: boolean } = {}) {
    const registers = [this.registry];
    this.requests = new Counter({ name: 'landing_http_requests_total', help: 'HTTP requests by route, method and status code.', labelNames: ['route', 'method', 'code'], registers });
    this.requestDuration = new Histogram({
      name: 'landing_http_request_duration_seconds',
      help: 'HTTP request duration by route (SSE streams excluded).',
      labelNames: ['route'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    });
    this.apps = new Gauge({ name: 'landing_apps', help: 'Apps shown on the landing page by visibility.', labelNames: ['visibility'], registers });
    this.sseClients = new Gauge({ name: 'landing_sse_clients', help: 'Open /api/events streams.', registers });
    this.sseMessages = new Counter({ name: 'landing_sse_messages_total', help: 'Snapshots sent on /api/events streams.', registers });
    this.probes = new Counter({ name: 'landing_health_probes_total', help: 'Backend health probes by result.', labelNames: ['result'], registers });
    this.probeDuration = new Histogram({ name: 'landing_health_probe_duration_seconds', help: 'Backend health probe duration.', buckets: [0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30], registers });
    this.auth = new Counter({ name: 'landing_auth_total', help: 'Sign-ins and bearer token checks by result (login_ok, login_failed, bearer_ok, bearer_<refusal reason>).', labelNames: ['result'], registers });
    this.watchRestarts = new Counter({ name: 'landing_watch_restarts_total', help: 'NebariApp informer restarts after an error.', registers });
    this.viewBuilds = new Counter({ name: 'landing_view_builds_total', help: 'App lists built and encoded (a cache miss: a new viewer, or a store change that touched the list).', registers });
    if (opts.defaultMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'landing_' });
  }
}
