// Status pieces: conditions with stable lastTransitionTime, the aggregate Ready, the landing page's
// serviceDiscovery view, and the events worth recording for condition transitions.
import { CONDITION_TYPES, REASONS, type Condition, type ConditionType, type Reason, type ServiceDiscovery } from '../api/types.js';
import { scheme, type EffectiveSpec } from './resolve.js';

export interface ConditionInput {
  type: ConditionType;
  status: 'True' | 'False' | 'Unknown';
  reason: Reason;
  message: string;
}

/** Condition messages are bounded and single-line (they come from our own text or cert-manager's, never secrets). */
export const MAX_MESSAGE_LENGTH = 1024;
export function boundedMessage(message: string): string {
  const oneLine = message.replace(/\s+/g, ' ').trim();
  return oneLine.length <= MAX_MESSAGE_LENGTH ? oneLine : `${oneLine.slice(0, MAX_MESSAGE_LENGTH - 3)}...`;
}

/** Ready: True when every other condition is True, else False with the first failing one's reason. */
export function readyCondition(others: readonly ConditionInput[]): ConditionInput {
  const failing = others.find((c) => c.status !== 'True');
  if (!failing) {
    return { type: CONDITION_TYPES.Ready, status: 'True', reason: REASONS.Available, message: 'all conditions are True' };
  }
  return { type: CONDITION_TYPES.Ready, status: 'False', reason: failing.reason, message: `${failing.type}: ${failing.message}` };
}

function toIso(now: Date | string): string {
  const d = now instanceof Date ? now : new Date(now);
  // metav1.Time has second precision; keep it so the API server round-trips the value unchanged
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * Full conditions from inputs: lastTransitionTime kept from the observed condition when the status did not change
 * (so a steady app produces an identical status and no write), else `now`.
 */
export function buildConditions(
  inputs: readonly ConditionInput[],
  observed: readonly Condition[] | undefined,
  generation: number | undefined,
  now: Date | string,
): Condition[] {
  return inputs.map((c) => {
    const prev = observed?.find((o) => o.type === c.type);
    const lastTransitionTime = prev && prev.status === c.status && prev.lastTransitionTime ? prev.lastTransitionTime : toIso(now);
    return {
      type: c.type,
      status: c.status,
      reason: c.reason,
      message: boundedMessage(c.message),
      lastTransitionTime,
      ...(generation !== undefined ? { observedGeneration: generation } : {}),
    };
  });
}

/** The landing page's view: URL resolved (externalUrl, else scheme://hostname), visibility from auth. */
export function serviceDiscovery(eff: EffectiveSpec): ServiceDiscovery {
  const lp = eff.landingPage;
  const auth = eff.auth;
  const sd: ServiceDiscovery = {
    enabled: lp.enabled,
    ...(lp.displayName !== undefined ? { displayName: lp.displayName } : {}),
    ...(lp.description !== undefined ? { description: lp.description } : {}),
    url: lp.externalUrl ?? `${scheme(eff)}://${eff.hostname}`,
    ...(lp.icon !== undefined ? { icon: lp.icon } : {}),
    ...(lp.iconLight !== undefined ? { iconLight: lp.iconLight } : {}),
    ...(lp.iconDark !== undefined ? { iconDark: lp.iconDark } : {}),
    ...(lp.category !== undefined ? { category: lp.category } : {}),
    priority: lp.priority,
    visibility: auth ? 'private' : 'public',
    ...(auth && auth.groups.length > 0 ? { requiredGroups: [...auth.groups] } : {}),
  };
  return sd;
}

export interface EventRecord {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

/**
 * Events for conditions whose status or reason changed (Warning when it turned non-True). A change to Reconciling
 * is progress, not news (children written, a controller is about to report): no Event, which also spares every new
 * app one write.
 */
export function conditionEvents(previous: readonly Condition[] | undefined, next: readonly Condition[]): EventRecord[] {
  const out: EventRecord[] = [];
  for (const c of next) {
    const p = previous?.find((o) => o.type === c.type);
    if (p && p.status === c.status && p.reason === c.reason) continue;
    if (c.reason === REASONS.Reconciling) continue;
    out.push({ type: c.status === 'True' ? 'Normal' : 'Warning', reason: c.reason, message: `${c.type}=${c.status}: ${c.message}` });
  }
  return out;
}
