// Errors of the Keycloak side, classified so the reconciler can set AuthReady=False with a precise reason and decide
// whether to retry. Messages name the operation, the HTTP status and Keycloak's error code: never a request body,
// a token or a secret value.
import { REASONS, type Reason } from '../api/types.js';

export type KeycloakErrorKind =
  /** Keycloak cannot be reached, timed out or answered 5xx: retry with backoff. */
  | 'unavailable'
  /** The admin credentials are missing, wrong or lack rights (token endpoint refused, 401/403): retry slowly. */
  | 'unauthorized'
  /** A client id is taken by a client this app does not own, or Keycloak answered 409. */
  | 'conflict'
  /** Keycloak rejected the request (400, realm not found, ...) or the spec cannot be provisioned. */
  | 'invalid';

/** The AuthReady reason of each kind (the reasons themselves are contract additions in api/types.ts). */
export const KEYCLOAK_REASONS: Readonly<Record<KeycloakErrorKind, Reason>> = {
  unavailable: REASONS.KeycloakUnavailable,
  unauthorized: REASONS.KeycloakUnauthorized,
  conflict: REASONS.KeycloakClientConflict,
  invalid: REASONS.KeycloakRequestRejected,
};

export class KeycloakError extends Error {
  readonly kind: KeycloakErrorKind;
  readonly reason: Reason;
  /** HTTP status when Keycloak answered. */
  readonly status?: number;
  /** The Admin API operation that failed (e.g. clients.create). */
  readonly operation: string;
  readonly retryable: boolean;

  constructor(kind: KeycloakErrorKind, operation: string, message: string, status?: number) {
    super(`${operation}: ${message}`);
    this.name = 'KeycloakError';
    this.kind = kind;
    this.reason = KEYCLOAK_REASONS[kind];
    this.operation = operation;
    this.status = status;
    this.retryable = kind === 'unavailable' || kind === 'unauthorized';
  }
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
]);

function errorCode(err: unknown): string | undefined {
  let e: unknown = err;
  for (let depth = 0; depth < 5 && e && typeof e === 'object'; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/** Keycloak's short error code from a response body ({error} / {errorMessage}); trimmed, never the whole body. */
function keycloakErrorText(data: unknown): string | undefined {
  if (!data || typeof data !== 'object') return undefined;
  const d = data as Record<string, unknown>;
  const parts = [d.error, d.errorMessage, d.error_description].filter((v): v is string => typeof v === 'string' && v.length > 0);
  if (parts.length === 0) return undefined;
  return [...new Set(parts)].join(': ').replace(/\s+/g, ' ').slice(0, 200);
}

/** HTTP status of an error from @keycloak/keycloak-admin-client (NetworkError carries the Response). */
export function httpStatusOf(err: unknown): number | undefined {
  const status = (err as { response?: { status?: unknown } } | undefined)?.response?.status;
  return typeof status === 'number' ? status : undefined;
}

/** Turn anything a Keycloak call threw into a KeycloakError (idempotent). */
export function classifyKeycloakError(err: unknown, operation: string): KeycloakError {
  if (err instanceof KeycloakError) return err;
  const status = httpStatusOf(err);
  if (status !== undefined) {
    const text = keycloakErrorText((err as { responseData?: unknown }).responseData);
    const msg = `Keycloak answered HTTP ${status}${text ? ` (${text})` : ''}`;
    if (status === 401 || status === 403) return new KeycloakError('unauthorized', operation, msg, status);
    if (status === 409) return new KeycloakError('conflict', operation, msg, status);
    if (status >= 500 || status === 408 || status === 429) return new KeycloakError('unavailable', operation, msg, status);
    return new KeycloakError('invalid', operation, msg, status);
  }
  const name = (err as { name?: unknown } | undefined)?.name;
  if (name === 'TimeoutError' || name === 'AbortError') {
    return new KeycloakError('unavailable', operation, 'request to Keycloak timed out');
  }
  const code = errorCode(err);
  if (code && NETWORK_CODES.has(code)) {
    return new KeycloakError('unavailable', operation, `Keycloak unreachable (${code})`);
  }
  if (err instanceof TypeError && /fetch failed/i.test(err.message)) {
    return new KeycloakError('unavailable', operation, 'Keycloak unreachable (fetch failed)');
  }
  const message = err instanceof Error ? err.message : String(err);
  return new KeycloakError('invalid', operation, message.slice(0, 200));
}

/** True when Keycloak answered 404 (a missing object, not a failure of Keycloak). */
export function isNotFound(err: unknown): boolean {
  return httpStatusOf(err) === 404;
}
