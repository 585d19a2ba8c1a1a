// Comparison of desired and observed objects, so that a steady cluster sees zero writes from the operator:
// a child is written only when the observed object lacks a desired field or value (drift, or never applied) or
// carries a different desired-hash annotation (the desired object changed, including fields that were removed).
// Fields the server or other controllers add (defaults, status, managedFields, uid...) are tolerated.
import type { NebariAppStatus } from '../api/types.js';
import { DESIRED_HASH_ANNOTATION, canonicalJson, objectId, ownerOf, type KubeObject } from './objects.js';

/** Every field of `desired` is present in `observed` with an equal value (objects: subset; arrays: same length, element-wise). */
export function containsDesired(desired: unknown, observed: unknown): boolean {
  if (desired === undefined) return true;
  if (desired === null || typeof desired !== 'object') return desired === observed;
  if (Array.isArray(desired)) {
    if (!Array.isArray(observed) || observed.length !== desired.length) return false;
    return desired.every((d, i) => containsDesired(d, observed[i]));
  }
  if (observed === null || typeof observed !== 'object' || Array.isArray(observed)) return false;
  const o = observed as Record<string, unknown>;
  return Object.entries(desired as Record<string, unknown>).every(([k, v]) => containsDesired(v, o[k]));
}

/** Whether `desired` must be applied given what is observed (undefined: the object does not exist). */
export function needsWrite(desired: KubeObject, observed: KubeObject | undefined): boolean {
  if (!observed) return true;
  const want = desired.metadata.annotations?.[DESIRED_HASH_ANNOTATION];
  const have = observed.metadata?.annotations?.[DESIRED_HASH_ANNOTATION];
  if (want !== undefined && want !== have) return true;
  return !containsDesired(stripUndefined(desired), observed);
}

function stripUndefined<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}

/** Whether the status must be written: any difference (fields added, changed or removed) counts. */
export function statusNeedsWrite(desired: NebariAppStatus, observed: NebariAppStatus | undefined): boolean {
  return canonicalJson(stripUndefined(desired)) !== canonicalJson(stripUndefined(observed ?? {}));
}

/**
 * Observed children of one app that are no longer desired (to delete). `observedOwned` are objects of CHILD_KINDS
 * carrying the app's owner annotation (others are ignored, so nothing foreign is ever deleted).
 */
export function childrenToDelete(
  app: { namespace: string; name: string },
  desired: readonly KubeObject[],
  observedOwned: readonly KubeObject[],
): KubeObject[] {
  const keep = new Set(desired.map(objectId));
  return observedOwned.filter((o) => {
    const owner = ownerOf(o);
    return owner !== undefined && owner.namespace === app.namespace && owner.name === app.name && !keep.has(objectId(o));
  });
}

// ---------------------------------------------------------------------------------------------------------------
// ownership: the operator writes and deletes only objects that carry its owner annotation for this very app

export type Ownership = { state: 'absent' } | { state: 'ours' } | { state: 'foreign'; owner: string | undefined };

/** Whether `observed` (undefined: does not exist) may be written as `desired`: only when absent or owned by the same app. */
export function ownership(desired: KubeObject, observed: { metadata?: { annotations?: Record<string, string> } } | undefined): Ownership {
  if (!observed) return { state: 'absent' };
  const want = ownerOf(desired);
  const have = ownerOf(observed);
  if (want && have && want.namespace === have.namespace && want.name === have.name) return { state: 'ours' };
  return { state: 'foreign', owner: have ? `${have.namespace}/${have.name}` : undefined };
}

/** Condition message for a child the operator does not own (and so leaves untouched). */
export function notOwnedMessage(o: { kind: string; metadata: { namespace?: string; name: string } }, app: string, owner: string | undefined): string {
  const who = owner ? `it belongs to NebariApp ${owner}` : 'it was not created by nebari-operator';
  return `${o.kind} ${o.metadata.namespace}/${o.metadata.name} already exists and ${who}; the operator neither changes nor deletes it (rename or remove it to let NebariApp ${app} create its own)`;
}

// ---------------------------------------------------------------------------------------------------------------
// the finalizer: only for what owner references cannot remove

/**
 * Whether deleting the app needs the operator's finalizer, given its desired children and the ones it owns now:
 * a child without an owner reference to the app (outside its namespace: the backend's ReferenceGrant), a
 * Certificate (cert-manager's TLS Secret carries no owner reference) or provisioned auth state (`provisions`:
 * Keycloak clients, now or from before). Everything else carries a controller owner reference, so the API server's
 * garbage collector removes it with the app, and the finalizer write (and its wait at deletion) is skipped.
 */
export function needsFinalizer(children: readonly KubeObject[], owned: readonly KubeObject[], provisions: boolean): boolean {
  if (provisions) return true;
  return [...children, ...owned].some((c) => c.kind === 'Certificate' || !(c.metadata.ownerReferences?.length ?? 0));
}
