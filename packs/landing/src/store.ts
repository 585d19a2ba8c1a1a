// In-memory state: the entries derived from NebariApps and the last health result of each. Listeners hear about
// every change (the SSE hub coalesces them); the health prober follows the entries' health targets.
import { healthTransition, MAX_HEALTH_EVENTS, type HealthEvent } from './features.js';
import type { Entry, Health, HealthTarget } from './model.js';
import type { PackAppView } from './view.js';

/**
 * What moved, so a subscriber can act on just that: `entry` (added, changed or removed: before/after), `health` (a
 * probe result that differs from the last one; results that do not change are no change at all) or `all` (a
 * re-list replaced everything).
 */
export type StoreChange =
  | { kind: 'entry'; id: string; before: Entry | undefined; after: Entry | undefined }
  | { kind: 'health'; id: string; entry: Entry }
  | { kind: 'all' };

export type ChangeListener = (c: StoreChange) => void;

export class AppStore {
  private readonly entries = new Map<string, Entry>();
  private readonly health = new Map<string, Health>();
  private readonly listeners = new Set<ChangeListener>();
  /** Bumped on every change; lets subscribers skip work when nothing moved. */
  version = 0;
  /** Health transitions (healthy -> unhealthy, unhealthy -> healthy), oldest first, for notifications. */
  readonly healthEvents: HealthEvent[] = [];
  /** Conditions of every NebariApp (shown or not), for the admin packs view; changes do not bump `version`. */
  private readonly conditions = new Map<string, PackAppView['conditions']>();
  private readonly adminListeners = new Set<() => void>();
  adminVersion = 0;

  onChange(l: ChangeListener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  private changed(c: StoreChange): void {
    this.version++;
    for (const l of [...this.listeners]) l(c);
  }

  all(): IterableIterator<Entry> {
    return this.entries.values();
  }

  size(): number {
    return this.entries.size;
  }

  get(id: string): Entry | undefined {
    return this.entries.get(id);
  }

  healthOf = (id: string): Health | undefined => this.health.get(id);

  upsert(e: Entry): void {
    const prev = this.entries.get(e.id);
    if (prev && JSON.stringify(prev) === JSON.stringify(e)) return;
    if (prev && !sameTarget(prev.health, e.health)) this.health.delete(e.id);
    this.entries.set(e.id, e);
    this.changed({ kind: 'entry', id: e.id, before: prev, after: e });
  }

  remove(id: string): void {
    const prev = this.entries.get(id);
    if (!prev) return;
    this.entries.delete(id);
    this.health.delete(id);
    this.changed({ kind: 'entry', id, before: prev, after: undefined });
  }

  /** Replaces everything (after a re-list); fires once. */
  replaceAll(list: Entry[]): void {
    const next = new Map(list.map((e) => [e.id, e]));
    for (const [id, prev] of this.entries) {
      const e = next.get(id);
      if (!e || !sameTarget(prev.health, e.health)) this.health.delete(id);
    }
    this.entries.clear();
    for (const [id, e] of next) this.entries.set(id, e);
    this.changed({ kind: 'all' });
  }

  setHealth(id: string, h: Health, now = Date.now()): void {
    const entry = this.entries.get(id);
    if (!entry || this.health.get(id) === h) return;
    const t = healthTransition(this.health.get(id), h);
    if (t) {
      // Strictly increasing instants: a notification's id is app + instant.
      const last = this.healthEvents.at(-1)?.at ?? 0;
      this.healthEvents.push({ app: id, state: t, at: Math.max(now, last + 1) });
      if (this.healthEvents.length > MAX_HEALTH_EVENTS) this.healthEvents.splice(0, this.healthEvents.length - MAX_HEALTH_EVENTS);
    }
    this.health.set(id, h);
    this.changed({ kind: 'health', id, entry });
  }

  onAdminChange(l: () => void): () => void {
    this.adminListeners.add(l);
    return () => this.adminListeners.delete(l);
  }

  conditionsOf(id: string): PackAppView['conditions'] | undefined {
    return this.conditions.get(id);
  }

  setConditions(id: string, c: PackAppView['conditions'] | undefined): void {
    const prev = this.conditions.get(id);
    if (c === undefined ? prev === undefined : JSON.stringify(prev) === JSON.stringify(c)) return;
    if (c === undefined) this.conditions.delete(id);
    else this.conditions.set(id, c);
    this.adminVersion++;
    for (const l of [...this.adminListeners]) l();
  }
}

export function sameTarget(a: HealthTarget | null, b: HealthTarget | null): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
