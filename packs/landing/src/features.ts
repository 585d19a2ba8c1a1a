// Pure decisions behind pins, access requests, notifications and the admin view. No I/O: the cluster store
// (userstate.ts), the Keycloak admin client (keycloak-admin.ts) and the HTTP edge (server.ts) call these.
import { createHash } from 'node:crypto';
import { ACCESS_REQUEST_ANNOTATION, canSee, normalizeGroup, type Entry, type Viewer } from './model.js';
import type { AccessRequestView, NotificationView, RequestableCard } from './view.js';

export { ACCESS_REQUEST_ANNOTATION };
/** Label on every ConfigMap the landing page keeps state in; the value says which kind. */
export const STATE_LABEL = 'landing.nebari.dev/state';
export const USER_STATE_KEY = 'state.json';
export const REQUEST_KEY = 'request.json';

export const MAX_PINS = 100;
export const MAX_READ_IDS = 200;
export const MAX_NOTIFICATIONS = 50;
export const MAX_REASON = 500;
/** How many health transitions (all apps together) are remembered for notifications. */
export const MAX_HEALTH_EVENTS = 500;

export class InputError extends Error {
  constructor(
    readonly status: number,
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = 'InputError';
  }
}

// ---- durable shapes (ConfigMap data) ----

export interface UserState {
  v: 1;
  sub: string;
  /** App ids (`<namespace>/<name>`), in the order they were pinned. */
  pins: string[];
  /** Notifications at or before this instant (ms) count as read. */
  readBefore: number;
  /** Ids of notifications marked read one by one (newest MAX_READ_IDS). */
  read: string[];
}

export type RequestStatus = 'pending' | 'approved' | 'denied';

export interface AccessRequest {
  v: 1;
  id: string;
  app: string;
  sub: string;
  name: string;
  email: string;
  reason: string;
  createdAt: number;
  status: RequestStatus;
  /** The group the user was added to (approved only). */
  group?: string;
  decidedBy?: { sub: string; name: string };
  decidedAt?: number;
}

export function emptyUserState(sub: string): UserState {
  return { v: 1, sub, pins: [], readBefore: 0, read: [] };
}

/** ConfigMap name of a user's state: the sub is hashed (names are DNS labels; subs are not). */
export function userStateName(sub: string): string {
  return `landing-user-${createHash('sha256').update(sub).digest('hex').slice(0, 32)}`;
}

export function requestName(id: string): string {
  return `landing-request-${id}`;
}

const APP_ID = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?\/[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
const strs = (v: unknown, max: number): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string').slice(0, max) : []);
const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : 0);

/** Reads a stored user state; anything malformed falls back to empty fields (never throws). */
export function parseUserState(raw: string | undefined, sub: string): UserState {
  if (!raw) return emptyUserState(sub);
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(raw) as Record<string, unknown>;
  } catch {
    return emptyUserState(sub);
  }
  if (typeof o !== 'object' || o === null || o.sub !== sub) return emptyUserState(sub);
  return { v: 1, sub, pins: strs(o.pins, MAX_PINS).filter((p) => APP_ID.test(p)), readBefore: num(o.readBefore), read: strs(o.read, MAX_READ_IDS) };
}

/** Reads a stored request; null when it is not one. */
export function parseRequest(raw: string | undefined): AccessRequest | null {
  if (!raw) return null;
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(raw) as Record<string, unknown>;
  } catch {
    return null;
  }
  if (typeof o !== 'object' || o === null) return null;
  const s = (k: string): string => (typeof o[k] === 'string' ? (o[k] as string) : '');
  const status = o.status === 'approved' || o.status === 'denied' ? o.status : 'pending';
  if (!s('id') || !s('app') || !s('sub')) return null;
  const d = o.decidedBy as { sub?: unknown; name?: unknown } | undefined;
  return {
    v: 1,
    id: s('id'),
    app: s('app'),
    sub: s('sub'),
    name: s('name'),
    email: s('email'),
    reason: s('reason'),
    createdAt: num(o.createdAt),
    status,
    ...(s('group') ? { group: s('group') } : {}),
    ...(d && typeof d.sub === 'string' ? { decidedBy: { sub: d.sub, name: typeof d.name === 'string' ? d.name : d.sub } } : {}),
    ...(o.decidedAt !== undefined ? { decidedAt: num(o.decidedAt) } : {}),
  };
}

// ---- pins ----

/** Validates a pin/unpin request body: `{ "app": "<namespace>/<name>", "pinned": true|false }`. */
export function parsePinInput(body: unknown): { app: string; pinned: boolean } {
  const o = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  if (typeof o.app !== 'string' || !APP_ID.test(o.app)) throw new InputError(400, 'app', 'app: must be an app id "<namespace>/<name>" (lower-case DNS names)');
  if (typeof o.pinned !== 'boolean') throw new InputError(400, 'pinned', 'pinned: must be true or false');
  return { app: o.app, pinned: o.pinned };
}

export function setPin(state: UserState, app: string, pinned: boolean): UserState {
  const rest = state.pins.filter((p) => p !== app);
  if (pinned && rest.length >= MAX_PINS) throw new InputError(400, 'app', `app: at most ${MAX_PINS} apps can be pinned; unpin one first`);
  return { ...state, pins: pinned ? [...rest, app] : rest };
}

// ---- effective groups ----

/**
 * The viewer's groups for visibility: the token's groups plus the groups approved requests added in Keycloak
 * AFTER the token or session was issued (issuedAt, seconds). A newer token carries the membership itself, so the
 * overlay only bridges the time until the next sign-in and never outlives a session issued after the decision.
 */
export function effectiveGroups(tokenGroups: readonly string[], sub: string, issuedAt: number, requests: Iterable<AccessRequest>): string[] {
  let out: string[] | undefined;
  let have: Set<string> | undefined;
  for (const r of requests) {
    if (r.sub !== sub || r.status !== 'approved' || !r.group || (r.decidedAt ?? 0) < issuedAt * 1000) continue;
    const g = normalizeGroup(r.group);
    have ??= new Set(tokenGroups.map(normalizeGroup));
    if (!have.has(g)) {
      have.add(g);
      (out ??= [...tokenGroups]).push(g);
    }
  }
  // Nothing approved since the token: the token's own list (the same array: its cache key is remembered).
  return out ?? (tokenGroups as string[]);
}

export function isAdmin(viewer: Viewer | null, adminGroups: readonly string[]): boolean {
  if (!viewer) return false;
  const mine = new Set(viewer.groups.map(normalizeGroup));
  return adminGroups.some((g) => mine.has(normalizeGroup(g)));
}

// ---- access requests ----

/** Whether this viewer may ask for this app: signed in, a private app with groups that opted in, not visible yet. */
export function canRequest(entry: Entry, viewer: Viewer | null): boolean {
  return viewer !== null && entry.requestable === true && entry.visibility === 'private' && entry.requiredGroups.length > 0 && !canSee(entry, viewer);
}

/** The request-access cards of a viewer: only name, description, category and icon (no URL, no groups). */
export function requestableFor(entries: Iterable<Entry>, viewer: Viewer | null): RequestableCard[] {
  if (!viewer) return [];
  const out: RequestableCard[] = [];
  for (const e of entries) if (canRequest(e, viewer)) out.push({ id: e.id, name: e.name, description: e.description, category: e.category, icon: e.icon });
  return out.sort((a, b) => (a.name.toLowerCase() < b.name.toLowerCase() ? -1 : a.name.toLowerCase() > b.name.toLowerCase() ? 1 : a.id < b.id ? -1 : 1));
}

export function parseRequestInput(body: unknown): { app: string; reason: string } {
  const o = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  if (typeof o.app !== 'string' || !APP_ID.test(o.app)) throw new InputError(400, 'app', 'app: must be an app id "<namespace>/<name>" (lower-case DNS names)');
  if (o.reason !== undefined && typeof o.reason !== 'string') throw new InputError(400, 'reason', 'reason: must be a string');
  const reason = (o.reason ?? '').trim();
  if (Array.from(reason).length > MAX_REASON) throw new InputError(400, 'reason', `reason: at most ${MAX_REASON} characters`);
  return { app: o.app, reason };
}

/** Checks a new request: the app exists, opted in, the user cannot open it yet and has no pending one for it. */
export function checkNewRequest(entry: Entry | undefined, viewer: Viewer, existing: Iterable<AccessRequest>): void {
  if (!entry || !canRequest(entry, viewer)) {
    // The same answer for "no such app" and "not requestable": nothing about private apps leaks through it.
    throw new InputError(404, 'app', 'app: no app you can request access to has this id');
  }
  for (const r of existing) if (r.sub === viewer.sub && r.app === entry.id && r.status === 'pending') throw new InputError(409, 'app', 'app: you already have a pending request for this app');
}

export function parseDecisionInput(body: unknown): { decision: 'approve' | 'deny'; group?: string } {
  const o = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  if (o.decision !== 'approve' && o.decision !== 'deny') throw new InputError(400, 'decision', 'decision: must be "approve" or "deny"');
  if (o.group !== undefined && (typeof o.group !== 'string' || o.group === '')) throw new InputError(400, 'group', 'group: must be a non-empty string');
  return { decision: o.decision, ...(typeof o.group === 'string' ? { group: o.group } : {}) };
}

/**
 * Decides whether `actor` may make this decision and which group an approval adds. Refused: non-admins, the
 * requester themself, a request already decided, an app that no longer lists groups, a group the app does not
 * list. Without `group`, an approval picks the app's only group (several: the admin must choose).
 */
export function checkDecision(
  req: AccessRequest | undefined,
  entry: Entry | undefined,
  actor: Viewer | null,
  adminGroups: readonly string[],
  input: { decision: 'approve' | 'deny'; group?: string },
): { group?: string } {
  if (!isAdmin(actor, adminGroups)) throw new InputError(403, 'actor', 'only platform admins decide access requests');
  if (!req) throw new InputError(404, 'id', 'id: no such access request');
  if (req.sub === actor!.sub) throw new InputError(403, 'actor', 'nobody can decide their own access request');
  if (req.status !== 'pending') throw new InputError(409, 'status', `status: the request was already ${req.status}`);
  if (input.decision === 'deny') return {};
  const allowed = entry && entry.visibility === 'private' ? entry.requiredGroups.map(normalizeGroup) : [];
  if (allowed.length === 0) throw new InputError(409, 'app', 'app: the app no longer restricts access to groups; nothing to approve into');
  const group = input.group !== undefined ? normalizeGroup(input.group) : allowed.length === 1 ? allowed[0]! : undefined;
  if (group === undefined) throw new InputError(400, 'group', `group: required, the app lists several; allowed: ${allowed.join(', ')}`);
  if (!allowed.includes(group)) throw new InputError(400, 'group', `group: "${input.group}" is not one of the app's groups; allowed: ${allowed.join(', ')}`);
  return { group };
}

export function decided(req: AccessRequest, actor: { sub: string; name: string }, decision: 'approve' | 'deny', group: string | undefined, now: number): AccessRequest {
  return {
    ...req,
    status: decision === 'approve' ? 'approved' : 'denied',
    ...(group ? { group } : {}),
    decidedBy: { sub: actor.sub, name: actor.name },
    decidedAt: now,
  };
}

/** A request as its requester or an admin sees it (admins also get the groups they may approve into). */
export function requestView(r: AccessRequest, entry: Entry | undefined, forAdmin: boolean): AccessRequestView {
  return {
    id: r.id,
    app: r.app,
    appName: entry?.name ?? r.app,
    user: { sub: r.sub, name: r.name, email: r.email },
    reason: r.reason,
    createdAt: r.createdAt,
    status: r.status,
    ...(r.group ? { group: r.group } : {}),
    ...(r.decidedBy ? { decidedBy: r.decidedBy } : {}),
    ...(r.decidedAt !== undefined ? { decidedAt: r.decidedAt } : {}),
    ...(forAdmin && entry && entry.visibility === 'private' ? { groups: entry.requiredGroups.map(normalizeGroup) } : {}),
  };
}

// ---- notifications ----

export interface HealthEvent {
  app: string;
  state: 'unhealthy' | 'recovered';
  at: number;
}

/** A health change worth telling people about: a known state flipping (not the first probe result). */
export function healthTransition(prev: string | undefined, next: string): 'unhealthy' | 'recovered' | null {
  if (prev === 'healthy' && next === 'unhealthy') return 'unhealthy';
  if (prev === 'unhealthy' && next === 'healthy') return 'recovered';
  return null;
}

/**
 * A user's notifications, newest first: health changes of apps they can see now, and decisions on their own
 * requests. Health events of apps they cannot see are dropped here, so nothing private reaches them.
 */
export function notificationsFor(
  viewer: Viewer,
  entries: (id: string) => Entry | undefined,
  health: readonly HealthEvent[],
  requests: Iterable<AccessRequest>,
  state: UserState,
): NotificationView[] {
  const out: NotificationView[] = [];
  for (const h of health) {
    const e = entries(h.app);
    if (!e || !canSee(e, viewer)) continue;
    out.push({
      id: `health:${h.app}:${h.at}`,
      kind: h.state === 'unhealthy' ? 'app-unhealthy' : 'app-recovered',
      app: h.app,
      text: h.state === 'unhealthy' ? `${e.name} is unhealthy` : `${e.name} has recovered`,
      at: h.at,
      read: false,
    });
  }
  for (const r of requests) {
    if (r.sub !== viewer.sub || r.status === 'pending' || r.decidedAt === undefined) continue;
    const name = entries(r.app)?.name ?? r.app;
    out.push({
      id: `request:${r.id}`,
      kind: r.status === 'approved' ? 'request-approved' : 'request-denied',
      app: r.app,
      text: r.status === 'approved' ? `Your request for ${name} was approved` : `Your request for ${name} was denied`,
      at: r.decidedAt,
      read: false,
    });
  }
  const readIds = new Set(state.read);
  return out
    .sort((a, b) => b.at - a.at || (a.id < b.id ? -1 : 1))
    .slice(0, MAX_NOTIFICATIONS)
    .map((n) => ({ ...n, read: n.at <= state.readBefore || readIds.has(n.id) }));
}

/** `{ "ids": [...] }` marks those read; `{ "all": true }` marks everything up to `now` read. */
export function parseReadInput(body: unknown): { ids: string[] } | { all: true } {
  const o = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  if (o.all === true) return { all: true };
  if (!Array.isArray(o.ids) || o.ids.length === 0 || o.ids.length > MAX_READ_IDS || !o.ids.every((x) => typeof x === 'string' && x.length > 0 && x.length <= 300)) {
    throw new InputError(400, 'ids', `ids: must be a list of 1..${MAX_READ_IDS} notification ids (or send {"all": true})`);
  }
  return { ids: o.ids as string[] };
}

export function markRead(state: UserState, input: { ids: string[] } | { all: true }, now: number): UserState {
  if ('all' in input) return { ...state, readBefore: Math.max(state.readBefore, now), read: [] };
  const read = [...state.read.filter((id) => !input.ids.includes(id)), ...input.ids];
  return { ...state, read: read.slice(-MAX_READ_IDS) };
}
