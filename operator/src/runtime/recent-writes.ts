/**
 * Remembers the operator's own recent writes until the informer cache catches up, so a reconcile that runs
 * before the watch event arrives compares against what was written, not the stale cached copy (no duplicate
 * writes, no repeated deletes, no duplicate Events).
 *
 * A record says: "when I wrote X, the cache held resourceVersion R (or nothing)". While the cache holds a version
 * older than X the written object is the better observation; once it holds X or anything newer the record is dropped.
 * Older and newer are decided by comparing resourceVersions as integers (KEP-5504: comparable for objects of one
 * resource, stable in Kubernetes 1.35, and what every etcd-backed API server has always served). Without that
 * (a version that is not a decimal integer) only R and the versions of our earlier writes that X followed count as
 * older: a version between R and X, such as the echo of our own earlier write arriving between a reconcile's start
 * and its write, then drops the record, and the next reconcile trusts the cache's older copy.
 */
import type { KubeObject } from './kube.js';

interface Rec {
  /** Versions the cache may still hold that are older than `written`: the cache's at write time and, when one
   * reconcile writes an object twice (finalizer, then status), the earlier write's and what preceded it. */
  older: Set<string | undefined>;
  written: KubeObject | null; // null: deleted
  at: number;
}

export class RecentWrites {
  private readonly recs = new Map<string, Rec>();
  /**
   * `id` -> resourceVersions our writes of it produced in the last ttlMs, and when the last was made. Kept apart
   * from `recs` (which observe() drops as soon as the cache caught up): the watch event of a write can arrive
   * before its response, and is then judged only when the reconcile that made it is over (isOwnEcho).
   */
  private readonly own = new Map<string, { rvs: Set<string>; at: number }>();
  private writesSincePrune = 0;
  constructor(private readonly ttlMs = 60_000) {}

  recordWrite(id: string, cached: KubeObject | undefined, written: KubeObject): void {
    // the server's answer carries managedFields, often the larger part of it: never kept (as in the caches)
    const kept = written && written.metadata && 'managedFields' in written.metadata ? { ...written, metadata: { ...written.metadata } } : written;
    if (kept !== written) delete kept.metadata.managedFields;
    this.recs.set(id, { older: this.olderThanNow(id, cached), written: kept, at: Date.now() });
    const rv = kept?.metadata?.resourceVersion;
    if (rv !== undefined) this.rememberOwn(id, rv);
  }

  /**
   * The cache of `id` now holds `cached` (an informer event): drop the record once the cache caught up with it,
   * as observe() would. Without it a written copy would stay until the object's next reconcile, which the events
   * of our own writes no longer cause (up to ttlMs, or for good on an idle cluster).
   */
  cacheUpdated(id: string, cached: KubeObject | undefined): void {
    if (this.recs.has(id)) this.observe(id, cached);
  }

  /**
   * Whether `obj`, received from a watch, is exactly what one of our own writes of `id` in the last ttlMs returned
   * (same resourceVersion): the reconcile that wrote it knew it already, so its event needs no reconcile of its own.
   * A version we did not write (someone else's change, or the object before our write) is never an echo.
   */
  isOwnEcho(id: string, obj: { metadata?: { resourceVersion?: string; [k: string]: unknown } } | undefined): boolean {
    const rv = obj?.metadata?.resourceVersion;
    const o = this.own.get(id);
    return rv !== undefined && o !== undefined && Date.now() - o.at <= this.ttlMs && o.rvs.has(rv);
  }

  private rememberOwn(id: string, rv: string): void {
    const now = Date.now();
    const o = this.own.get(id);
    if (o && now - o.at <= this.ttlMs) {
      o.rvs.add(rv);
      o.at = now;
    } else {
      this.own.set(id, { rvs: new Set([rv]), at: now });
    }
    // forget old entries now and then (memory stays bounded by the writes of one ttl)
    if (++this.writesSincePrune >= 1000) {
      this.writesSincePrune = 0;
      for (const [k, v] of this.own) if (now - v.at > this.ttlMs) this.own.delete(k);
      for (const [k, r] of this.recs) if (now - r.at > this.ttlMs) this.recs.delete(k);
    }
  }

  recordDelete(id: string, cached: KubeObject | undefined): void {
    this.recs.set(id, { older: this.olderThanNow(id, cached), written: null, at: Date.now() });
  }

  /**
   * The versions older than a write made now: the cache's, and those of a live earlier record of ours (its own
   * write included), so a cache that catches up with our first write only (e.g. the finalizer) while a second one
   * (the status) is on its way is still known to be stale.
   */
  private olderThanNow(id: string, cached: KubeObject | undefined): Set<string | undefined> {
    const older = new Set<string | undefined>([cached?.metadata.resourceVersion]);
    const prev = this.recs.get(id);
    if (prev && Date.now() - prev.at <= this.ttlMs) {
      for (const rv of prev.older) older.add(rv);
      older.add(prev.written === null ? undefined : prev.written.metadata?.resourceVersion);
    }
    return older;
  }

  /** The best observation of `id`: the recorded write while the cache has not moved on, else the cached object. */
  observe<T extends KubeObject>(id: string, cached: T | undefined): T | undefined {
    const r = this.recs.get(id);
    if (!r) return cached;
    if (Date.now() - r.at > this.ttlMs || !this.cacheIsOlder(r, cached?.metadata.resourceVersion)) {
      this.recs.delete(id);
      return cached;
    }
    return r.written === null ? undefined : (r.written as T);
  }

  /** Whether the cache's version `rv` (undefined: absent from the cache) is older than the record's write. */
  private cacheIsOlder(r: Rec, rv: string | undefined): boolean {
    if (r.older.has(rv)) return true;
    const written = r.written?.metadata?.resourceVersion;
    const order = rv !== undefined && written !== undefined ? compareResourceVersions(rv, written) : undefined;
    return order !== undefined && order < 0;
  }

  forget(id: string): void {
    this.recs.delete(id);
  }

  get size(): number {
    return this.recs.size;
  }
}

const DECIMAL = /^[1-9][0-9]*$/;

/**
 * The order of two resourceVersions of one object (KEP-5504: decimal integers without leading zeros, monotonically
 * increasing): negative when `a` is older, 0 when equal, positive when newer; undefined when either is not such an
 * integer (then only equality means anything).
 */
export function compareResourceVersions(a: string, b: string): number | undefined {
  if (!DECIMAL.test(a) || !DECIMAL.test(b)) return undefined;
  if (a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}
