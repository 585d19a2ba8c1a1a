// Probes the backends of apps with landingPage.healthCheck.enabled: GET http://<service>.<ns>.svc:<port><path>
// every intervalSeconds with a timeoutSeconds deadline. 2xx/3xx is healthy; any other status, a timeout or a
// connection error is unhealthy; not probed yet is unknown.
import type { Health, HealthTarget } from './model.js';
import type { AppStore, StoreChange } from './store.js';
import { sameTarget } from './store.js';

/** Maps a target to the base URL to call. Overridable so tests can point it at loopback. */
export type ServiceResolver = (t: HealthTarget) => string;

export const clusterResolver: ServiceResolver = (t) => `http://${t.service}.${t.namespace}.svc:${t.port}`;

export function probeUrl(t: HealthTarget, resolve: ServiceResolver): string {
  return `${resolve(t).replace(/\/$/, '')}${t.path}`;
}

export function classifyStatus(status: number): Health {
  return status >= 200 && status < 400 ? 'healthy' : 'unhealthy';
}

export async function probeOnce(url: string, timeoutMs: number, fetchImpl: typeof fetch = fetch): Promise<Health> {
  try {
    const res = await fetchImpl(url, { redirect: 'manual', signal: AbortSignal.timeout(timeoutMs), headers: { 'user-agent': 'nkp-landing-health' } });
    await res.body?.cancel();
    return classifyStatus(res.status);
  } catch {
    return 'unhealthy';
  }
}

export interface ProberOptions {
  resolver?: ServiceResolver;
  /** Interval in ms for a declared intervalSeconds; tests shorten it. */
  intervalMs?: (seconds: number) => number;
  onResult?: (id: string, h: Health, ms: number) => void;
}

interface Job {
  target: HealthTarget;
  timer: NodeJS.Timeout;
  running: boolean;
}

export class HealthProber {
  private readonly jobs = new Map<string, Job>();
  private readonly resolver: ServiceResolver;
  private readonly intervalMs: (s: number) => number;
  private stopped = false;

  constructor(
    private readonly store: AppStore,
    private readonly opts: ProberOptions = {},
  ) {
    this.resolver = opts.resolver ?? clusterResolver;
    this.intervalMs = opts.intervalMs ?? ((s) => s * 1000);
  }

  /** Aligns the running probes with all of the store's entries (after a re-list; `follow` does it per change). */
  sync(): void {
    if (this.stopped) return;
    const want = new Map<string, HealthTarget>();
    for (const e of this.store.all()) if (e.health) want.set(e.id, e.health);
    for (const id of this.jobs.keys()) if (!want.has(id)) this.align(id, null);
    for (const [id, t] of want) this.align(id, t);
  }

  /** Follows one store change: only the entry that changed is looked at; a health result changes no probe. */
  follow(c: StoreChange): void {
    if (c.kind === 'all') this.sync();
    else if (c.kind === 'entry' && !this.stopped) this.align(c.id, c.after?.health ?? null);
  }

  /** Starts, restarts (target changed) or stops the probe of one app. */
  private align(id: string, t: HealthTarget | null): void {
    const job = this.jobs.get(id);
    if (job && t && sameTarget(t, job.target)) return;
    if (job) {
      clearInterval(job.timer);
      this.jobs.delete(id);
    }
    if (!t) return;
    const next: Job = { target: t, running: false, timer: setInterval(() => void this.run(id, next), this.intervalMs(t.intervalSeconds)) };
    next.timer.unref();
    this.jobs.set(id, next);
    void this.run(id, next);
  }

  private async run(id: string, job: Job): Promise<void> {
    if (job.running) return;
    job.running = true;
    const t0 = performance.now();
    const h = await probeOnce(probeUrl(job.target, this.resolver), job.target.timeoutSeconds * 1000);
    job.running = false;
    if (this.stopped || this.jobs.get(id) !== job) return;
    this.opts.onResult?.(id, h, performance.now() - t0);
    this.store.setHealth(id, h);
  }

  stop(): void {
    this.stopped = true;
    for (const j of this.jobs.values()) clearInterval(j.timer);
    this.jobs.clear();
  }
}
