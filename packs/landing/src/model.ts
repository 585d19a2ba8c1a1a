// Pure decisions of the landing page: which NebariApps become cards, what a card says, who may see it, and in
// which order. No I/O here; the server, the SSE stream and the browser bundle all call these functions.
import type { NebariAppLike } from './contract.js';
import {
  BUILTIN_ICONS,
  DEFAULT_HEALTH_INTERVAL_SECONDS,
  DEFAULT_HEALTH_PATH,
  DEFAULT_HEALTH_TIMEOUT_SECONDS,
  DEFAULT_PRIORITY,
} from './contract.js';

import type { BuiltinIconId, Card, Group, Health, Icon, Visibility } from './view.js';
export type { BuiltinIconId, Card, Group, Health, Icon, Visibility } from './view.js';
export { filterGroups, matchesQuery } from './view.js';

/** view.ts spells the built-in icon ids out for the browser bundle; this fails to compile if they drift. */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
export const BUILTIN_ICON_IDS_MATCH: Same<(typeof BUILTIN_ICONS)[number], BuiltinIconId> = true;

/** Where and how often the service probes an app's backend. */
export interface HealthTarget {
  service: string;
  namespace: string;
  port: number;
  path: string;
  intervalSeconds: number;
  timeoutSeconds: number;
}

/** One app as the landing page knows it (server side; requiredGroups never leaves the server). */
export interface Entry {
  /** `<namespace>/<name>` of the NebariApp: unique, stable. */
  id: string;
  name: string;
  description: string;
  url: string;
  icon: Icon;
  category: string;
  priority: number;
  visibility: Visibility;
  requiredGroups: string[];
  health: HealthTarget | null;
  /** The pack opted this private app into "request access" (annotation ACCESS_REQUEST_ANNOTATION = "true"). */
  requestable?: boolean;
}

/** The signed-in user as far as visibility is concerned; null for anonymous. */
export interface Viewer {
  sub: string;
  groups: string[];
}

/** Category of apps that declare none; sorts after every named category. */
export const UNCATEGORIZED = 'Other';

/** Annotation by which a pack opts a private NebariApp into "request access" (the spec stays the contract). */
export const ACCESS_REQUEST_ANNOTATION = 'landing.nebari.dev/access-requests';

function requestable(app: NebariAppLike): { requestable?: true } {
  const a = (app.metadata as { annotations?: Record<string, unknown> } | undefined)?.annotations;
  return a?.[ACCESS_REQUEST_ANNOTATION] === 'true' ? { requestable: true } : {};
}

export type EntryResult = { ok: true; entry: Entry } | { ok: false; reason: string };

const MAX_NAME = 64;
const MAX_DESCRIPTION = 256;

/**
 * Only absolute http(s) URLs may become links or images: a NebariApp must not be able to put `javascript:` or
 * `data:` into the page. Returns the normalised URL or null.
 */
export function safeHttpUrl(raw: unknown): string | null {
  if (typeof raw !== 'string' || raw.trim() === '') return null;
  let u: URL;
  try {
    u = new URL(raw.trim());
  } catch {
    return null;
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') return null;
  if (u.username || u.password) return null;
  return u.href;
}

/** Icon images must be https: the page's CSP (img-src 'self' https:) loads nothing else. */
function safeImageUrl(raw: unknown): string | null {
  const u = safeHttpUrl(raw);
  return u && u.startsWith('https:') ? u : null;
}

/** The built-in icon id `raw` names (case-insensitive), if any. */
function builtinIcon(raw: unknown): BuiltinIconId | undefined {
  if (typeof raw !== 'string') return undefined;
  const id = raw.trim().toLowerCase();
  return (BUILTIN_ICONS as readonly string[]).includes(id) ? (id as BuiltinIconId) : undefined;
}

/**
 * Built-in id, else an https image URL, else the generic app glyph. iconLight/iconDark are theme variants of `icon`
 * in the same forms (the contract): URLs pick the image per theme; a built-in id in `icon` wins over them, and a
 * built-in id in a variant is used when `icon` and the variants give no image.
 */
export function resolveIcon(raw: unknown, light?: unknown, dark?: unknown): Icon {
  const id = builtinIcon(raw);
  if (id) return { kind: 'builtin', id };
  const lightUrl = safeImageUrl(light) ?? safeImageUrl(raw);
  const darkUrl = safeImageUrl(dark);
  if (lightUrl) return darkUrl && darkUrl !== lightUrl ? { kind: 'url', url: lightUrl, darkUrl } : { kind: 'url', url: lightUrl };
  if (darkUrl) return { kind: 'url', url: darkUrl };
  const variant = builtinIcon(light) ?? builtinIcon(dark);
  return { kind: 'builtin', id: variant ?? 'app' };
}

/**
 * The card link when the operator has not resolved it yet: landingPage.externalUrl, else the hostname with
 * https, or http when routing is absent or routing.tls.enabled is false (TLS counts as disabled then).
 */
export function resolveUrl(app: NebariAppLike): string | null {
  const lp = app.spec?.landingPage;
  if (lp?.externalUrl !== undefined && lp.externalUrl !== '') return safeHttpUrl(lp.externalUrl);
  const host = app.spec?.hostname;
  if (typeof host !== 'string' || host === '') return null;
  const tls = app.spec?.routing !== undefined && app.spec.routing.tls?.enabled !== false;
  return safeHttpUrl(`${tls ? 'https' : 'http'}://${host}`);
}

function clip(s: unknown, max: number): string {
  if (typeof s !== 'string') return '';
  const chars = Array.from(s.trim());
  return chars.length > max ? chars.slice(0, max).join('') : chars.join('');
}

function validPriority(p: unknown): number {
  return typeof p === 'number' && Number.isInteger(p) && p >= 0 && p <= 1000 ? p : DEFAULT_PRIORITY;
}

function stringList(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string' && x !== '') : [];
}

function inRange(v: unknown, lo: number, hi: number, dflt: number): number {
  return typeof v === 'number' && Number.isInteger(v) && v >= lo && v <= hi ? v : dflt;
}

/** The health probe target of an app, or null when its landingPage.healthCheck is not enabled. */
export function healthTarget(app: NebariAppLike): HealthTarget | null {
  const hc = app.spec?.landingPage?.healthCheck;
  if (!hc || hc.enabled !== true) return null;
  const ns = app.metadata?.namespace ?? '';
  const service = app.spec?.service?.name;
  const svcPort = app.spec?.service?.port;
  if (typeof service !== 'string' || service === '' || ns === '') return null;
  const port = inRange(hc.port, 1, 65535, typeof svcPort === 'number' ? svcPort : 0);
  if (port < 1 || port > 65535) return null;
  const path = typeof hc.path === 'string' && hc.path.startsWith('/') ? hc.path : DEFAULT_HEALTH_PATH;
  return {
    service,
    namespace: app.spec?.service?.namespace || ns,
    port,
    path,
    intervalSeconds: inRange(hc.intervalSeconds, 10, 300, DEFAULT_HEALTH_INTERVAL_SECONDS),
    timeoutSeconds: inRange(hc.timeoutSeconds, 1, 30, DEFAULT_HEALTH_TIMEOUT_SECONDS),
  };
}

/**
 * Whether the operator's status.serviceDiscovery describes the current spec. A stale status (written for an
 * older generation) is not trusted: the spec may have just turned a public app private.
 */
export function statusIsCurrent(app: NebariAppLike): boolean {
  const sd = app.status?.serviceDiscovery;
  if (!sd) return false;
  const gen = app.metadata?.generation;
  const observed = app.status?.observedGeneration;
  return gen === undefined || observed === gen;
}

/**
 * Turns a NebariApp into a landing entry, or says why it is not shown. Source: status.serviceDiscovery when the
 * operator has written it for the current generation, else spec.landingPage (visibility then follows spec.auth:
 * auth enabled makes the app private, requiring spec.auth.groups).
 */
export function entryFromApp(app: NebariAppLike): EntryResult {
  const ns = app.metadata?.namespace;
  const nm = app.metadata?.name;
  if (!ns || !nm) return { ok: false, reason: 'metadata.namespace and metadata.name are required' };
  const id = `${ns}/${nm}`;
  const lp = app.spec?.landingPage;
  const health = healthTarget(app);
  if (statusIsCurrent(app)) {
    const sd = app.status!.serviceDiscovery!;
    if (sd.enabled !== true) return { ok: false, reason: 'status.serviceDiscovery.enabled is false' };
    const name = clip(sd.displayName, MAX_NAME);
    if (name === '') return { ok: false, reason: 'status.serviceDiscovery.displayName is empty' };
    const url = safeHttpUrl(sd.url) ?? resolveUrl(app);
    if (!url) return { ok: false, reason: 'status.serviceDiscovery.url is not an http(s) URL' };
    const visibility: Visibility = sd.visibility === 'public' ? 'public' : 'private';
    return {
      ok: true,
      entry: {
        id,
        name,
        description: clip(sd.description, MAX_DESCRIPTION),
        url,
        icon: resolveIcon(sd.icon, sd.iconLight, sd.iconDark),
        category: clip(sd.category, MAX_NAME) || UNCATEGORIZED,
        priority: validPriority(sd.priority),
        visibility,
        requiredGroups: stringList(sd.requiredGroups),
        health,
        ...requestable(app),
      },
    };
  }
  if (!lp || lp.enabled !== true) return { ok: false, reason: 'spec.landingPage.enabled is not true' };
  const name = clip(lp.displayName, MAX_NAME);
  if (name === '') return { ok: false, reason: 'spec.landingPage.displayName is required when enabled' };
  const url = resolveUrl(app);
  if (!url) return { ok: false, reason: 'spec.landingPage.externalUrl / spec.hostname give no http(s) URL' };
  const authOn = app.spec?.auth?.enabled === true;
  return {
    ok: true,
    entry: {
      id,
      name,
      description: clip(lp.description, MAX_DESCRIPTION),
      url,
      icon: resolveIcon(lp.icon, lp.iconLight, lp.iconDark),
      category: clip(lp.category, MAX_NAME) || UNCATEGORIZED,
      priority: validPriority(lp.priority),
      visibility: authOn ? 'private' : 'public',
      requiredGroups: authOn ? stringList(app.spec?.auth?.groups) : [],
      health,
      ...requestable(app),
    },
  };
}

/** Keycloak's group mapper may send full paths ("/team/data"); "/admins" and "admins" are the same group. */
export function normalizeGroup(g: string): string {
  return g.startsWith('/') ? g.slice(1) : g;
}

/**
 * Visibility rule: public apps are shown to everyone. Private apps only to signed-in users, and when
 * requiredGroups is non-empty only to users in at least ONE of those groups (any-of, case-sensitive, a leading
 * "/" ignored on both sides). A private app with no requiredGroups is shown to every signed-in user.
 */
export function canSee(entry: Pick<Entry, 'visibility' | 'requiredGroups'>, viewer: Viewer | null): boolean {
  if (entry.visibility === 'public') return true;
  if (!viewer) return false;
  if (entry.requiredGroups.length === 0) return true;
  const mine = new Set(viewer.groups.map(normalizeGroup));
  return entry.requiredGroups.some((g) => mine.has(normalizeGroup(g)));
}

/** Code-unit comparison: identical on every machine, unlike locale collation. */
function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Within a category: priority ascending, then name (case-insensitive, then exact), then id. */
export function compareEntries(a: Pick<Card, 'priority' | 'name' | 'id'>, b: Pick<Card, 'priority' | 'name' | 'id'>): number {
  return a.priority - b.priority || cmp(a.name.toLowerCase(), b.name.toLowerCase()) || cmp(a.name, b.name) || cmp(a.id, b.id);
}

/** Categories alphabetically (case-insensitive, then exact), "Other" last. */
export function compareCategories(a: string, b: string): number {
  if (a === b) return 0;
  if (a === UNCATEGORIZED) return 1;
  if (b === UNCATEGORIZED) return -1;
  return cmp(a.toLowerCase(), b.toLowerCase()) || cmp(a, b);
}

/** Groups cards by category in a deterministic order (the input order does not matter). */
export function groupCards(cards: readonly Card[]): Group[] {
  const by = new Map<string, Card[]>();
  for (const c of cards) {
    const list = by.get(c.category);
    if (list) list.push(c);
    else by.set(c.category, [c]);
  }
  return [...by.keys()].sort(compareCategories).map((category) => ({
    category,
    apps: by.get(category)!.slice().sort(compareEntries),
  }));
}

export function toCard(e: Entry, health: Health | null): Card {
  return {
    id: e.id,
    name: e.name,
    description: e.description,
    url: e.url,
    icon: e.icon,
    category: e.category,
    priority: e.priority,
    visibility: e.visibility,
    health: e.health ? (health ?? 'unknown') : null,
  };
}

/** The grouped view one viewer may see. */
export function viewFor(
  entries: Iterable<Entry>,
  viewer: Viewer | null,
  healthOf: (id: string) => Health | undefined,
): Group[] {
  const cards: Card[] = [];
  for (const e of entries) if (canSee(e, viewer)) cards.push(toCard(e, healthOf(e.id) ?? null));
  return groupCards(cards);
}
