/**
 * Leader election on a coordination.k8s.io/v1 Lease, the client-go algorithm:
 * - a candidate tries to acquire every retryPeriod; it may take the Lease when it is free (no holder) or when
 *   the record has not changed for leaseDuration as measured by the candidate's OWN clock (no clock-skew trust);
 * - the leader renews every retryPeriod with an optimistic-concurrency update (resourceVersion); if it cannot
 *   renew for renewDeadline it stops leading (onStoppedLeading) and must stop reconciling;
 * - release() on graceful shutdown clears the holder so a standby takes over at its next retry.
 */
import { ApiError, isConflict, type KubeClient, type KubeObject, type ResourceType } from './kube.js';
import type { Logger } from './logger.js';
import type { OperatorMetrics } from './metrics.js';
import { sleep } from './informer.js';

export const LEASE: ResourceType = { group: 'coordination.k8s.io', version: 'v1', plural: 'leases', kind: 'Lease', namespaced: true };

export interface LeaseSpec {
  holderIdentity?: string | null;
  leaseDurationSeconds?: number;
  acquireTime?: string | null;
  renewTime?: string | null;
  leaseTransitions?: number;
}
export interface LeaseObject extends KubeObject {
  spec?: LeaseSpec;
}

export interface LeaderElectorOptions {
  client: KubeClient;
  namespace: string;
  name: string;
  identity: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  log: Logger;
  metrics?: OperatorMetrics;
  onStartedLeading: () => void;
  onStoppedLeading: () => void;
  /** Injectable clock (tests). */
  now?: () => number;
}

/** MicroTime as the API wants it: RFC 3339 with microseconds. */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/**
 * Pure decision: may `identity` take or keep the lease, given the current record and how long (by our clock)
 * it has been unchanged?
 */
export function canAcquire(spec: LeaseSpec | undefined, identity: string, unchangedForMs: number, leaseDurationMs: number): boolean {
  const holder = spec?.holderIdentity ?? '';
  if (!holder || holder === identity) return true;
  return unchangedForMs >= leaseDurationMs;
}

export class LeaderElector {
  private leading = false;
  private stopped = false;
  private loop: Promise<void> | undefined;
  private abort = new AbortController();
  private observed: { record: string; at: number } | undefined;
  private lastRenew = 0;
  private observedHolder: string | undefined;
  private readonly leaseDurationMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryPeriodMs: number;
  private readonly now: () => number;

  constructor(private readonly o: LeaderElectorOptions) {
    this.leaseDurationMs = o.leaseDurationMs ?? 15_000;
    this.renewDeadlineMs = o.renewDeadlineMs ?? 10_000;
    this.retryPeriodMs = o.retryPeriodMs ?? 2_000;
    this.now = o.now ?? Date.now;
    if (!(this.leaseDurationMs > this.renewDeadlineMs && this.renewDeadlineMs > this.retryPeriodMs)) {
      throw new Error('leader election: need leaseDuration > renewDeadline > retryPeriod');
    }
  }

  get isLeader(): boolean {
    return this.leading;
  }

  start(): void {
    if (!this.loop) this.loop = this.run();
  }

  /** Stop campaigning; if leading, release the Lease so another replica takes over without waiting for expiry. */
  async stop(release = true): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    await this.loop;
    if (this.leading) {
      this.setLeading(false);
      if (release) await this.release();
    }
  }

  private setLeading(v: boolean): void {
    if (this.leading === v) return;
    this.leading = v;
    this.o.metrics?.isLeader.set(v ? 1 : 0);
    this.o.log.info(v ? 'became leader' : 'stopped leading', { lease: `${this.o.namespace}/${this.o.name}`, identity: this.o.identity });
    if (v) this.o.onStartedLeading();
    else this.o.onStoppedLeading();
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      let ok = false;
      try {
        ok = await this.tryAcquireOrRenew();
      } catch (err) {
        if (!this.stopped) this.o.log.warn('lease acquire/renew failed', { err, leading: this.leading });
      }
      if (this.stopped) break;
      if (ok) {
        this.lastRenew = this.now();
        this.setLeading(true);
      } else if (this.leading && this.observedHolder && this.observedHolder !== this.o.identity) {
        this.setLeading(false); // someone else holds it now
      } else if (this.leading && this.now() - this.lastRenew >= this.renewDeadlineMs) {
        this.setLeading(false); // could not renew in time
      }
      await sleep(this.retryPeriodMs, this.abort.signal);
    }
  }

  /** One attempt; true when we hold the Lease afterwards. */
  async tryAcquireOrRenew(): Promise<boolean> {
    const { client, namespace, name, identity } = this.o;
    const now = this.now();
    const lease = await client.get<LeaseObject>(LEASE, namespace, name);
    const durationSeconds = Math.ceil(this.leaseDurationMs / 1000);
    if (!lease) {
      try {
        await client.create(LEASE, {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: { name, namespace },
          spec: { holderIdentity: identity, leaseDurationSeconds: durationSeconds, acquireTime: microTime(now), renewTime: microTime(now), leaseTransitions: 0 },
        });
        this.observed = undefined;
        this.observedHolder = identity;
        return true;
      } catch (err) {
        if (isConflict(err) || (err instanceof ApiError && err.statusCode === 409)) return false;
        throw err;
      }
    }
    const spec = lease.spec ?? {};
    this.observedHolder = spec.holderIdentity ?? undefined;
    const record = JSON.stringify([spec.holderIdentity ?? '', spec.renewTime ?? '', spec.acquireTime ?? '', spec.leaseTransitions ?? 0]);
    if (!this.observed || this.observed.record !== record) this.observed = { record, at: now };
    // the holder's own duration, if longer, is respected
    const holderDurationMs = Math.max(this.leaseDurationMs, (spec.leaseDurationSeconds ?? 0) * 1000);
    if (!canAcquire(spec, identity, now - this.observed.at, holderDurationMs)) return false;
    const takingOver = (spec.holderIdentity ?? '') !== identity;
    const next: LeaseObject = {
      ...lease,
      spec: {
        ...spec,
        holderIdentity: identity,
        leaseDurationSeconds: durationSeconds,
        renewTime: microTime(now),
        acquireTime: takingOver ? microTime(now) : (spec.acquireTime ?? microTime(now)),
        leaseTransitions: (spec.leaseTransitions ?? 0) + (takingOver && spec.holderIdentity ? 1 : 0),
      },
    };
    try {
      await client.replace(LEASE, next);
      return true;
    } catch (err) {
      if (isConflict(err)) return false;
      throw err;
    }
  }

  private async release(): Promise<void> {
    const { client, namespace, name, identity } = this.o;
    try {
      const lease = await client.get<LeaseObject>(LEASE, namespace, name);
      if (!lease || lease.spec?.holderIdentity !== identity) return;
      await client.replace(LEASE, {
        ...lease,
        spec: { ...lease.spec, holderIdentity: null, acquireTime: null, renewTime: null, leaseDurationSeconds: 1 },
      });
      this.o.log.info('released leader lease', { lease: `${namespace}/${name}` });
    } catch (err) {
      this.o.log.warn('could not release leader lease', { err });
    }
  }
}
