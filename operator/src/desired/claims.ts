// Who holds a hostname when several NebariApps claim it: the oldest (creationTimestamp) wins, ties broken by
// namespace then name, so every replica and every reconcile reaches the same answer. The winner keeps working;
// the others get GatewayListenerConflict and create no routing or TLS children.
import type { NebariApp } from '../api/types.js';
import type { HostnameClaim } from './facts.js';

function time(t: string | Date): number {
  const ms = t instanceof Date ? t.getTime() : Date.parse(t);
  return Number.isNaN(ms) ? Number.POSITIVE_INFINITY : ms;
}

/** Total order of claims: older first, then namespace, then name. */
export function compareClaims(a: HostnameClaim, b: HostnameClaim): number {
  const d = time(a.creationTimestamp) - time(b.creationTimestamp);
  if (d !== 0 && !Number.isNaN(d)) return d < 0 ? -1 : 1;
  if (a.namespace !== b.namespace) return a.namespace < b.namespace ? -1 : 1;
  if (a.name !== b.name) return a.name < b.name ? -1 : 1;
  return 0;
}

/** The claim that holds `hostname`, or undefined when nobody claims it. */
export function hostnameHolder(hostname: string, claims: readonly HostnameClaim[]): HostnameClaim | undefined {
  let best: HostnameClaim | undefined;
  for (const c of claims) {
    if (c.hostname !== hostname) continue;
    if (!best || compareClaims(c, best) < 0) best = c;
  }
  return best;
}

/**
 * The claim an app makes, or undefined when it makes none: an app claims its hostname when it manages routes
 * (spec.routing set), lives in an opted-in namespace and is not being deleted.
 */
export function hostnameClaim(app: NebariApp, namespaceOptedIn: boolean): HostnameClaim | undefined {
  if (!namespaceOptedIn || app.metadata.deletionTimestamp || app.spec.routing === undefined) return undefined;
  return {
    namespace: app.metadata.namespace,
    name: app.metadata.name,
    hostname: app.spec.hostname,
    creationTimestamp: app.metadata.creationTimestamp ?? new Date(8.64e15),
  };
}

/** The other app holding this app's hostname, or undefined when this app holds it (its own claim is added if missing). */
export function conflictingHolder(app: NebariApp, claims: readonly HostnameClaim[]): HostnameClaim | undefined {
  const own = hostnameClaim(app, true);
  if (!own) return undefined;
  const holder = hostnameHolder(own.hostname, [...claims, own]);
  if (!holder || (holder.namespace === own.namespace && holder.name === own.name)) return undefined;
  return holder;
}
