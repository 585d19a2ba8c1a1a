// Probes the backends of apps with landingPage.healthCheck.enabled: GET http://<service>.<ns>.svc:<port><path>
// every intervalSeconds with a timeoutSeconds deadline. 2xx/3xx is healthy; any other status, a timeout or a
// connection error is unhealthy; not probed yet is unknown.
import type { Health, HealthTarget } from './model.js';
import type { AppStore } from './store.js';
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

  /** Aligns the running probes with the store's entries (call after each store change). */
  sync(): void {
    if (this.stopped) return;
    const want = new Map<string, HealthTarget>();
    for (const e of this.store.all()) if (e.health) want.set(e.id, e.health);
    for (const [id, job] of this.jobs) {
      const t = want.get(id);
      if (!t || !sameTarget(t, job.target)) {
        clearInterval(job.timer);
        this.jobs.delete(id);
      }
    }
    for (const [id, t] of want) {
      if (this.jobs.has(id)) continue;
      const job: Job = { target: t, running: false, timer: setInterval(() => void this.run(id, job), this.intervalMs(t.intervalSeconds)) };
      job.timer.unref();
      this.jobs.set(id, job);
      void this.run(id, job);
    }
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
