// The shape of what a user is sent, and the search filter. Shared by the server and the browser bundle, so it
// imports nothing.

export type BuiltinIconId = 'jupyter' | 'grafana' | 'prometheus' | 'keycloak' | 'argocd' | 'kubernetes';
export type Icon = { kind: 'builtin'; id: BuiltinIconId | 'app' } | { kind: 'url'; url: string; darkUrl?: string };
export type Visibility = 'public' | 'private';
export type Health = 'healthy' | 'unhealthy' | 'unknown';

/** One app as a user sees it (requiredGroups never leaves the server). */
export interface Card {
  /** `<namespace>/<name>` of the NebariApp. */
  id: string;
  name: string;
  description: string;
  url: string;
  icon: Icon;
  category: string;
  priority: number;
  visibility: Visibility;
  /** null: the app has no health check. */
  health: Health | null;
}

export interface Group {
  category: string;
  apps: Card[];
}

/** Search: every whitespace-separated term must occur (case-insensitive) in name, description or category. */
export function matchesQuery(card: Pick<Card, 'name' | 'description' | 'category'>, query: string): boolean {
  const terms = query.toLowerCase().split(/\s+/).filter(Boolean);
  if (terms.length === 0) return true;
  const hay = `${card.name}\n${card.description}\n${card.category}`.toLowerCase();
  return terms.every((t) => hay.includes(t));
}

/** Filters a grouped view by search text and category ('' = all); empty groups are dropped. */
export function filterGroups(groups: readonly Group[], query: string, category: string): Group[] {
  return groups
    .filter((g) => category === '' || g.category === category)
    .map((g) => ({ category: g.category, apps: g.apps.filter((c) => matchesQuery(c, query)) }))
    .filter((g) => g.apps.length > 0);
}

/** A private app the viewer may ask access to (opted in by its pack): no URL, no groups. */
export interface RequestableCard {
  id: string;
  name: string;
  description: string;
  category: string;
  icon: Icon;
}

export interface AccessRequestView {
  id: string;
  app: string;
  appName: string;
  user: { sub: string; name: string; email: string };
  reason: string;
  createdAt: number;
  status: 'pending' | 'approved' | 'denied';
  group?: string;
  decidedBy?: { sub: string; name: string };
  decidedAt?: number;
  /** Admins only: the groups an approval may add the user to. */
  groups?: string[];
}

export interface NotificationView {
  id: string;
  kind: 'app-unhealthy' | 'app-recovered' | 'request-approved' | 'request-denied';
  app: string;
  text: string;
  at: number;
  read: boolean;
}

/** What only this user sees (event `user` on /api/events, GET /api/me/state). */
export interface UserPayload {
  pins: string[];
  requests: AccessRequestView[];
  notifications: NotificationView[];
  unread: number;
  admin: boolean;
}

export interface PackAppView {
  id: string;
  conditions: Array<{ type: string; status: string; reason: string; message: string }>;
}

export interface PackView {
  name: string;
  namespace: string;
  destination: string;
  sync: string;
  health: string;
  nebariApps: PackAppView[];
}

/** Platform admins only (event `admin`, GET /api/admin). */
export interface AdminPayload {
  requests: AccessRequestView[];
  packs: PackView[];
}

/** Largest page of GET /api/apps?limit=. */
export const MAX_PAGE = 1000;

/**
 * One page of a grouped view: the cards at positions offset..offset+limit-1 in display order, regrouped under their
 * categories (a category cut by a page boundary appears on both pages).
 */
export function pageGroups(groups: readonly Group[], offset: number, limit: number): { groups: Group[]; total: number } {
  const out: Group[] = [];
  let i = 0;
  for (const g of groups) {
    const end = i + g.apps.length;
    if (end > offset && i < offset + limit) out.push({ category: g.category, apps: g.apps.slice(Math.max(0, offset - i), Math.max(0, offset + limit - i)) });
    i = end;
  }
  return { groups: out, total: i };
}
