// The encoded app lists, one per distinct viewer (anonymous, or a set of groups), kept until a store change that
// touches them: JSON, ETag and gzip are computed once per list, not per request. Which change touches which list
// is a pure decision (changeAffects); the cache itself only stores, bounds and drops. A list is built from the
// entries kept in display order (one entry moved per change, sorted only after a re-list) and each card's JSON bytes
// (made once per entry and health), so a rebuild after a change filters and concatenates instead of sorting and
// serialising everything.
import { createHash } from 'node:crypto';
import { gzip } from 'node:zlib';
import { canRequest, requestableFor } from './features.js';
import { canSee, compareCategories, compareEntries, normalizeGroup, toCard, type Entry, type Viewer } from './model.js';
import type { AppStore, StoreChange } from './store.js';
import type { Card, Group, Health } from './view.js';

/** Distinct viewers whose lists are kept (least recently used dropped first); about 0.5 MiB each at 1000 apps. */
export const MAX_CACHED_VIEWS = 64;
/** Pages (?limit=&offset=) kept per list. */
export const MAX_CACHED_PAGES = 64;
/** Bodies at most this long go out uncompressed. */
export const GZIP_MIN_BYTES = 1024;
/** zlib level: at 1000 apps level 1 gives 5 % more bytes than level 6 for a fifth of the CPU. */
export const GZIP_LEVEL = 1;

/** Keys of frozen group lists (they cannot change, so neither can their key); a verified token's list is one. */
const frozenKeys = new WeakMap<readonly string[], string>();

/** The cache key of what a viewer may see: anonymous, or the normalized, de-duplicated, sorted group set. */
export function viewerKey(v: Viewer | null): string {
  if (!v) return 'anon';
  const known = frozenKeys.get(v.groups);
  if (known !== undefined) return known;
  const k = `u:${[...new Set(v.groups.map(normalizeGroup))].sort().join('\u0000')}`;
  if (Object.isFrozen(v.groups)) frozenKeys.set(v.groups, k);
  return k;
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
  /** A hash of the body, so it holds across restarts and replicas. */
  readonly etag: string;
  /** Set once compressed; until then `gzipped()` gives the pending result. */
  gz: Buffer | undefined;
  private pending: Promise<Buffer> | undefined;

  constructor(readonly body: Buffer) {
    this.etag = `"${createHash('sha256').update(this.body).digest('base64url').slice(0, 22)}"`;
  }

  static json(value: unknown): Encoded {
    return new Encoded(Buffer.from(JSON.stringify(value)));
  }

  gzipped(): Promise<Buffer> {
    this.pending ??= new Promise<Buffer>((resolve, reject) =>
      gzip(this.body, { level: GZIP_LEVEL }, (err, out) => {
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
    body: Buffer,
  ) {
    super(body);
  }

  /** A page of this list, built once (`make` gives its payload). */
  page(key: string, make: () => unknown): Encoded {
    this.pages ??= new Map();
    let p = this.pages.get(key);
    if (!p) {
      if (this.pages.size >= MAX_CACHED_PAGES) this.pages.clear();
      p = Encoded.json(make());
      this.pages.set(key, p);
    }
    return p;
  }
}

/** Display order over all entries: categories (compareCategories), then compareEntries within one. */
export function displayOrder(a: Entry, b: Entry): number {
  return a.category === b.category ? compareEntries(a, b) : compareCategories(a.category, b.category);
}

const OPEN = Buffer.from('{"groups":[');
const COMMA = Buffer.from(',');
const GROUP_END = Buffer.from(']}');

export class ViewCache {
  private readonly views = new Map<string, CachedView>();
  /** All entries in display order, kept across entry changes; null after a re-list (sorted on the next build). */
  private ordered: Entry[] | null = null;
  /** Each entry's card and its JSON bytes, for the health they were made with (entries are replaced, never edited). */
  private readonly cards = new WeakMap<Entry, { health: Health | null; card: Card; bytes: Buffer }>();
  /** Lists built (misses), for tests and the benchmark. */
  builds = 0;
  /** Stops following the store. */
  readonly stop: () => void;

  /** Follows every change of `store` (apply) from construction on. */
  constructor(
    private readonly store: AppStore,
    /** Whether signed-in lists carry request-access cards (then requestable entries touch lists that cannot see them). */
    private readonly requests: boolean,
    private readonly max = MAX_CACHED_VIEWS,
    private readonly onBuild: () => void = () => undefined,
  ) {
    this.stop = store.onChange((c) => this.apply(c));
  }

  /**
   * The list of a viewer from the store as it is now: the same bytes as JSON.stringify of
   * `{ groups: viewFor(...) }` (plus `requestable: requestableFor(...)` for signed-in viewers when requests are on).
   */
  private build(viewer: Viewer | null): CachedView {
    this.ordered ??= [...this.store.all()].sort(displayOrder);
    const groups: Group[] = [];
    const parts: Buffer[] = [OPEN];
    let group: Group | undefined;
    for (const e of this.ordered) {
      if (!canSee(e, viewer)) continue;
      const health = e.health ? (this.store.healthOf(e.id) ?? 'unknown') : null;
      let c = this.cards.get(e);
      if (!c || c.health !== health) {
        const card = toCard(e, health);
        c = { health, card, bytes: Buffer.from(JSON.stringify(card)) };
        this.cards.set(e, c);
      }
      if (group?.category !== e.category) {
        if (group) parts.push(GROUP_END, COMMA);
        group = { category: e.category, apps: [] };
        groups.push(group);
        parts.push(Buffer.from(`{"category":${JSON.stringify(e.category)},"apps":[`));
      } else parts.push(COMMA);
      group.apps.push(c.card);
      parts.push(c.bytes);
    }
    if (group) parts.push(GROUP_END);
    parts.push(Buffer.from(viewer && this.requests ? `],"requestable":${JSON.stringify(requestableFor(this.store.all(), viewer))}}` : ']}'));
    this.builds++;
    this.onBuild();
    return new CachedView(viewer, groups, Buffer.concat(parts));
  }

  get(viewer: Viewer | null): CachedView {
    const k = viewerKey(viewer);
    let v = this.views.get(k);
    if (v) {
      // Least recently used goes first: re-inserting moves the key to the end of the Map's order.
      this.views.delete(k);
      this.views.set(k, v);
      return v;
    }
    v = this.build(viewer);
    if (this.views.size >= this.max) this.views.delete(this.views.keys().next().value!);
    this.views.set(k, v);
    return v;
  }

  /** Drops exactly the lists the change can alter. */
  apply(c: StoreChange): void {
    if (c.kind === 'entry') this.reorder(c.before, c.after);
    if (c.kind === 'all') {
      this.ordered = null;
      this.views.clear();
      return;
    }
    for (const [k, v] of this.views) if (changeAffects(c, v.viewer, this.requests)) this.views.delete(k);
  }

  get size(): number {
    return this.views.size;
  }

  /** Keeps the display order across one entry change: the old entry out, the new one in at its place. */
  private reorder(before: Entry | undefined, after: Entry | undefined): void {
    const list = this.ordered;
    if (!list) return;
    if (before) {
      const i = list.indexOf(before);
      if (i < 0) {
        this.ordered = null;
        return;
      }
      list.splice(i, 1);
    }
    if (after) {
      let lo = 0;
      let hi = list.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (displayOrder(list[mid]!, after) < 0) lo = mid + 1;
        else hi = mid;
      }
      list.splice(lo, 0, after);
    }
  }
}
