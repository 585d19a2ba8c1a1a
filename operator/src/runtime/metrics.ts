/**
 * Prometheus metrics of one operator instance, on its own registry (two instances in one process, as in the
 * tests, never share counters). Write counts are kept as plain numbers too so tests and the benchmark can read
 * them without parsing the exposition format.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export const WRITE_VERBS = new Set(['create', 'update', 'patch', 'apply', 'delete', 'deletecollection']);

export class OperatorMetrics {
  readonly registry = new Registry();
  readonly reconciles: Counter<'result'>;
  readonly reconcileErrors: Counter<'reason'>;
  readonly reconcileDuration: Histogram<'result'>;
  readonly queueDepth: Gauge;
  readonly queueInFlight: Gauge;
  readonly apiRequests: Counter<'verb' | 'resource' | 'code'>;
  readonly apiWrites: Counter<'verb' | 'resource'>;
  readonly informerRestarts: Counter<'resource' | 'cause'>;
  readonly isLeader: Gauge;
  readonly managedApps: Gauge;
  readonly ownEchoes: Counter;
  /** verb -> resource -> count, mirrors apiRequests without the code label. */
  private readonly requestCounts = new Map<string, Map<string, number>>();

  constructor(opts: { defaultMetrics?: boolean } = {}) {
    const registers = [this.registry];
    this.reconciles = new Counter({ name: 'nebari_operator_reconciles_total', help: 'Reconciles by result (success, error, requeue).', labelNames: ['result'], registers });
    this.reconcileErrors = new Counter({ name: 'nebari_operator_reconcile_errors_total', help: 'Reconcile errors by coarse reason.', labelNames: ['reason'], registers });
    this.reconcileDuration = new Histogram({
      name: 'nebari_operator_reconcile_duration_seconds',
      help: 'Duration of one reconcile.',
      labelNames: ['result'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.queueDepth = new Gauge({ name: 'nebari_operator_queue_depth', help: 'Keys waiting in the work queue (ready or delayed).', registers });
    this.queueInFlight = new Gauge({ name: 'nebari_operator_queue_in_flight', help: 'Keys being reconciled now.', registers });
    this.apiRequests = new Counter({ name: 'nebari_operator_api_requests_total', help: 'Kubernetes API requests by verb, resource and HTTP status code.', labelNames: ['verb', 'resource', 'code'], registers });
    this.apiWrites = new Counter({ name: 'nebari_operator_api_writes_total', help: 'Kubernetes API writes (create, update, patch, apply, delete) by verb and resource.', labelNames: ['verb', 'resource'], registers });
    this.informerRestarts = new Counter({ name: 'nebari_operator_informer_restarts_total', help: 'Watch restarts by resource and cause (relist after 410, error, closed).', labelNames: ['resource', 'cause'], registers });
    this.isLeader = new Gauge({ name: 'nebari_operator_leader', help: '1 while this instance holds the leader Lease.', registers });
    this.managedApps = new Gauge({ name: 'nebari_operator_nebariapps', help: 'NebariApps in the informer cache.', registers });
    this.ownEchoes = new Counter({
      name: 'nebari_operator_own_write_events_total',
      help: 'Watch events that were exactly the result of one of the operator\'s own writes (no reconcile queued for them).',
      registers,
    });
    if (opts.defaultMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'nebari_operator_' });
  }

  recordRequest(verb: string, resource: string, code: number | string): void {
    this.apiRequests.inc({ verb, resource, code: String(code) });
    // `apply/status` (a subresource write) is a write too
    if (WRITE_VERBS.has(verb.split('/')[0]!)) this.apiWrites.inc({ verb, resource });
    let byRes = this.requestCounts.get(verb);
    if (!byRes) this.requestCounts.set(verb, (byRes = new Map()));
    byRes.set(resource, (byRes.get(resource) ?? 0) + 1);
  }

  /** Snapshot `{verb: {resource: n}}` of every API request made so far. */
  requestsSnapshot(): Record<string, Record<string, number>> {
    const out: Record<string, Record<string, number>> = {};
    for (const [verb, byRes] of this.requestCounts) out[verb] = Object.fromEntries(byRes);
    return out;
  }

  /** Total writes so far, optionally leaving out some resources (e.g. `leases`, whose renewals are inherent to leader election). */
  writeCount(exclude: readonly string[] = []): number {
    let n = 0;
    for (const [verb, byRes] of this.requestCounts) {
      if (!WRITE_VERBS.has(verb.split('/')[0]!)) continue;
      for (const [res, c] of byRes) if (!exclude.includes(res)) n += c;
    }
    return n;
  }

  writesByResource(exclude: readonly string[] = []): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [verb, byRes] of this.requestCounts) {
      if (!WRITE_VERBS.has(verb.split('/')[0]!)) continue;
      for (const [res, c] of byRes) if (!exclude.includes(res)) out[`${verb} ${res}`] = c;
    }
    return out;
  }
}
