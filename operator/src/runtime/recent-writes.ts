/**
 * Remembers the operator's own recent writes until the informer cache catches up, so a reconcile that runs
 * before the watch event arrives compares against what was written, not the stale cached copy (no duplicate
 * writes, no repeated deletes, no duplicate Events).
 *
 * A record says: "when I wrote X, the cache held resourceVersion R (or nothing)". While the cache still holds R
 * (or the version of an earlier write of ours that X followed) the written object is the better observation; once
 * the cache holds anything else it is newer and the record is dropped.
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
  constructor(private readonly ttlMs = 60_000) {}

  recordWrite(id: string, cached: KubeObject | undefined, written: KubeObject): void {
    // the server's answer carries managedFields, often the larger part of it: never kept (as in the caches)
    const kept = written && written.metadata && 'managedFields' in written.metadata ? { ...written, metadata: { ...written.metadata } } : written;
    if (kept !== written) delete kept.metadata.managedFields;
    this.recs.set(id, { older: this.olderThanNow(id, cached), written: kept, at: Date.now() });
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
    if (Date.now() - r.at > this.ttlMs || !r.older.has(cached?.metadata.resourceVersion)) {
      this.recs.delete(id);
      return cached;
    }
    return r.written === null ? undefined : (r.written as T);
  }

  forget(id: string): void {
    this.recs.delete(id);
  }

  get size(): number {
    return this.recs.size;
  }
}
