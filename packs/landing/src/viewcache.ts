// The encoded app lists, one per distinct viewer (anonymous, or a set of groups), kept until a store change that
// touches them: JSON, ETag and gzip are computed once per list, not per request. Which change touches which list
// is a pure decision (changeAffects); the cache itself only stores, bounds and drops.
import { createHash } from 'node:crypto';
import { gzip } from 'node:zlib';
import { canRequest } from './features.js';
import { canSee, normalizeGroup, type Entry, type Viewer } from './model.js';
import type { StoreChange } from './store.js';
import type { Group } from './view.js';

/** Distinct viewers whose lists are kept (least recently used dropped first); about 0.5 MiB each at 1000 apps. */
export const MAX_CACHED_VIEWS = 64;
/** Pages (?limit=&offset=) kept per list. */
export const MAX_CACHED_PAGES = 64;
/** Bodies at most this long go out uncompressed. */
export const GZIP_MIN_BYTES = 1024;

/** The cache key of what a viewer may see: anonymous, or the normalized, de-duplicated, sorted group set. */
export function viewerKey(v: Viewer | null): string {
  if (!v) return 'anon';
  return `u:${[...new Set(v.groups.map(normalizeGroup))].sort().join('\u0000')}`;
}

/**
 * Whether a store change can alter the list of this viewer: an entry the viewer could see or request before or
 * after the change (`requests`: the list carries request-access cards), the health of an app the viewer sees, or
 * a re-list (everything). Entries the viewer can neither see nor request leave the list byte-for-byte the same.
 */
export function changeAffects(c: StoreChange, viewer: Viewer | null, requests: boolean): boolean {
  const touches = (e: Entry | undefined): boolean => e !== undefined && (canSee(e, viewer) || (requests && canRequest(e, viewer)));
  if (c.kind === 'all') return true;
  if (c.kind === 'health') return canSee(c.entry, viewer);
  return touches(c.before) || touches(c.after);
}

/** A response body with its strong validator; gzip is made once, off the event loop, on first demand. */
export class Encoded {
  readonly body: Buffer;
  /** A hash of the body, so it holds across restarts and replicas. */
  readonly etag: string;
  /** Set once compressed; until then `gzipped()` gives the pending result. */
  gz: Buffer | undefined;
  private pending: Promise<Buffer> | undefined;

  constructor(value: unknown) {
    this.body = Buffer.from(JSON.stringify(value));
    this.etag = `"${createHash('sha256').update(this.body).digest('base64url').slice(0, 22)}"`;
  }

  gzipped(): Promise<Buffer> {
    this.pending ??= new Promise<Buffer>((resolve, reject) =>
      gzip(this.body, { level: 6 }, (err, out) => {
        if (err) {
          this.pending = undefined;
          reject(err);
        } else resolve((this.gz = out));
      }),
    );
    return this.pending;
  }
}

export class CachedView extends Encoded {
  private pages: Map<string, Encoded> | undefined;

  constructor(
    /** The viewer the list was built for; any viewer with the same key sees the same. */
    readonly viewer: Viewer | null,
    readonly groups: Group[],
    payload: unknown,
  ) {
    super(payload);
  }

  /** A page of this list, built once (`make` gives its payload). */
  page(key: string, make: () => unknown): Encoded {
    this.pages ??= new Map();
    let p = this.pages.get(key);
    if (!p) {
      if (this.pages.size >= MAX_CACHED_PAGES) this.pages.clear();
      p = new Encoded(make());
      this.pages.set(key, p);
    }
    return p;
  }
}

export class ViewCache {
  private readonly views = new Map<string, CachedView>();
  /** Lists built (misses), for tests and the benchmark. */
  builds = 0;

  constructor(
    /** Builds the list of a viewer from the store as it is now. */
    private readonly build: (viewer: Viewer | null) => { groups: Group[]; payload: unknown },
    /** Whether lists carry request-access cards (then requestable entries touch lists that cannot see them). */
    private readonly requests: boolean,
    private readonly max = MAX_CACHED_VIEWS,
  ) {}

  get(viewer: Viewer | null): CachedView {
    const k = viewerKey(viewer);
    let v = this.views.get(k);
    if (v) {
      // Least recently used goes first: re-inserting moves the key to the end of the Map's order.
      this.views.delete(k);
      this.views.set(k, v);
      return v;
    }
    const { groups, payload } = this.build(viewer);
    v = new CachedView(viewer, groups, payload);
    this.builds++;
    if (this.views.size >= this.max) this.views.delete(this.views.keys().next().value!);
    this.views.set(k, v);
    return v;
  }

  /** Drops exactly the lists the change can alter. */
  apply(c: StoreChange): void {
    if (c.kind === 'all') {
      this.views.clear();
      return;
    }
    for (const [k, v] of this.views) if (changeAffects(c, v.viewer, this.requests)) this.views.delete(k);
  }

  get size(): number {
    return this.views.size;
  }
}
