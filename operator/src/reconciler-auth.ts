/**
 * Auth plumbing of the reconciler:
 * - AuthProvisioner: the pluggable interface a client provisioner (Keycloak, issue 5) implements. The reconciler
 *   calls ensure() for apps with auth.enabled, provider keycloak, provisionClient and no clientSecretRef, and
 *   remove() when such an app is deleted or stops needing a client.
 * - auth.clientSecretRef and provider generic-oidc need no provisioning: the Secret is the user's, the issuer is
 *   in the spec; for generic-oidc with auth.groups the JWKS URI is discovered from the issuer (cached).
 */
import type { NebariApp } from './api/types.js';
import type { ProvisioningFact } from './desired/facts.js';
import type { KubeClient, KubeObject } from './runtime/kube.js';
import type { Logger } from './runtime/logger.js';

/** An object exists under a child's name and is not the app's: the operator neither writes nor deletes it. */
export class NotOwnedError extends Error {
  constructor(
    readonly object: { kind: string; namespace: string | undefined; name: string },
    readonly owner: string | undefined,
    message: string,
  ) {
    super(message);
    this.name = 'NotOwnedError';
  }
}

/** What a provisioner may use from the runtime (the one field manager, counted writes, caches). */
export interface AuthProvisionContext {
  client: KubeClient;
  fieldManager: string;
  log: Logger;
  /** Server-side apply `obj` only when it differs from what is observed; returns true when it wrote. Throws
   * NotOwnedError (and writes nothing) when an object of that name exists that `obj`'s owner annotation does not own. */
  applyIfChanged(obj: KubeObject): Promise<boolean>;
  /** Throws NotOwnedError when an object named like `obj` exists and is not owned by `obj`'s owner (no write). */
  assertOwnable(obj: KubeObject): Promise<void>;
  /** Delete `obj`'s namesake only when it is owned by `obj`'s owner annotation; returns false when absent or foreign. */
  deleteOwned(obj: KubeObject): Promise<boolean>;
  /** Key names of a Secret in the cache (values are never cached), undefined when it does not exist. */
  secretKeys(namespace: string, name: string): string[] | undefined;
  /**
   * Remove annotation `annotation` from `app` if it still has the value `app` holds (a JSON patch test: a value
   * changed meanwhile stays, and so does a deleted app). The write is remembered until the informer cache has it,
   * so a reconcile that runs before its watch event does not see the annotation again.
   */
  removeAppAnnotation(app: NebariApp, annotation: string): Promise<void>;
}

export interface AuthProvisioner {
  /** Name for logs and metrics, e.g. "keycloak". */
  readonly name: string;
  /** Provision the OIDC client(s) of `app` and its client Secret; failures are reported in the fact, not thrown. */
  ensure(app: NebariApp, ctx: AuthProvisionContext): Promise<ProvisioningFact>;
  /** Remove everything provisioned for `app` (idempotent; called by the finalizer and when auth is turned off). */
  remove(app: NebariApp, ctx: AuthProvisionContext): Promise<void>;
}

/** Whether the operator must provision a client for `app` (the contract: keycloak + provisionClient, no clientSecretRef). */
export function wantsProvisioning(app: NebariApp): boolean {
  const a = app.spec?.auth;
  return !!a && a.enabled === true && (a.provider ?? 'keycloak') === 'keycloak' && a.provisionClient !== false && !a.clientSecretRef;
}

/** Whether `app` needs the JWKS URI of its generic-oidc issuer (group checks at the gateway). */
export function wantsGenericJwks(app: NebariApp): string | undefined {
  const a = app.spec?.auth;
  if (!a || a.enabled !== true || a.provider !== 'generic-oidc' || a.enforceAtGateway === false) return undefined;
  if (!a.groups || a.groups.length === 0 || !a.issuerURL) return undefined;
  return a.issuerURL.replace(/\/+$/, '');
}

/** OIDC discovery of jwks_uri per issuer, cached (1 h after success, 1 min after failure). */
export class OidcDiscovery {
  private readonly cache = new Map<string, { value: string | undefined; until: number }>();
  constructor(
    private readonly log: Logger,
    private readonly fetchFn: typeof fetch = fetch,
    private readonly timeoutMs = 5000,
  ) {}

  /** Cached value without I/O (undefined when unknown). */
  peek(issuer: string): string | undefined {
    const c = this.cache.get(issuer);
    return c && c.until > Date.now() ? c.value : undefined;
  }

  async jwksURI(issuer: string): Promise<string | undefined> {
    const c = this.cache.get(issuer);
    if (c && c.until > Date.now()) return c.value;
    let value: string | undefined;
    try {
      const res = await this.fetchFn(`${issuer}/.well-known/openid-configuration`, { signal: AbortSignal.timeout(this.timeoutMs) });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      const doc = (await res.json()) as { jwks_uri?: unknown; issuer?: unknown };
      if (typeof doc.jwks_uri !== 'string' || !/^https?:\/\//.test(doc.jwks_uri)) throw new Error('discovery document has no jwks_uri');
      value = doc.jwks_uri;
    } catch (err) {
      this.log.warn('OIDC discovery failed', { issuer, err });
    }
    this.cache.set(issuer, { value, until: Date.now() + (value ? 3_600_000 : 60_000) });
    return value;
  }
}
