// The Keycloak provisioner behind the reconciler's AuthProvisioner interface (operator/src/reconciler-auth.ts):
// - ensure(): skipped (zero Keycloak calls) while status.authConfigHash equals the desired hash, AuthReady is True,
//   the OIDC Secret holds its keys and the force-reprovision annotation is absent; otherwise provisions the
//   clients, applies the Secret + Role + RoleBinding (secret.ts) and removes the annotation once done;
//   failures come back as a fact with a precise reason (KeycloakUnavailable, KeycloakUnauthorized, ...), not thrown.
// - remove(): removes the clients (throws on failure so the finalizer retries with backoff) and the Secret, Role and
//   RoleBinding (needed when auth is switched off; on deletion owner references would take them anyway).
import {
  CONDITION_TYPES,
  FORCE_REPROVISION_ANNOTATION,
  REASONS,
  SECRET_KEYS,
  clientSecretName,
  objectKey,
  type NebariApp,
} from '../api/types.js';
import type { ProvisioningFact } from '../desired/facts.js';
import { NotOwnedError, type AuthProvisionContext, type AuthProvisioner } from '../reconciler-auth.js';
import type { KubeObject } from '../runtime/kube.js';
import { AuthSpecError } from './desired.js';
import { KEYCLOAK_REASONS, KeycloakError, classifyKeycloakError } from './errors.js';
import { KeycloakProvisioner } from './provisioner.js';
import { mountedSecretReader, type ReadSecret, type SecretRef } from './credentials.js';
import { desiredOidcObjects } from './secret.js';

/** AuthReady reasons that mean the last provisioning attempt failed (so a matching hash proves nothing). */
export const PROVISIONING_FAILURE_REASONS: ReadonlySet<string> = new Set([...Object.values(KEYCLOAK_REASONS), REASONS.Failed, REASONS.ValidationFailed]);

/**
 * Pure: may provisioning be skipped for `app` whose desired hash is `hash`? Yes while status.authConfigHash
 * matches, the OIDC Secret holds its keys, the force-reprovision annotation is absent, and AuthReady is True or
 * False for a reason that is not a provisioning failure (e.g. the route waits for its certificate: Keycloak has
 * nothing to do then either).
 */
export function canSkipProvisioning(app: NebariApp, hash: string, secretKeys: string[] | undefined): boolean {
  if (app.metadata.annotations?.[FORCE_REPROVISION_ANNOTATION] !== undefined) return false;
  if (app.status?.authConfigHash !== hash) return false;
  const authReady = app.status?.conditions?.find((c) => c.type === CONDITION_TYPES.AuthReady);
  if (!authReady) return false;
  if (authReady.status !== 'True' && PROVISIONING_FAILURE_REASONS.has(authReady.reason)) return false;
  const keys = new Set(secretKeys ?? []);
  return keys.has(SECRET_KEYS.clientId) && keys.has(SECRET_KEYS.clientSecret) && keys.has(SECRET_KEYS.issuerUrl);
}

export class KeycloakAuthProvisioner implements AuthProvisioner {
  readonly name = 'keycloak';
  /** Provisioning runs skipped because the hash matched (for tests and metrics). */
  skipped = 0;
  provisioned = 0;

  constructor(readonly keycloak: KeycloakProvisioner) {}

  async ensure(app: NebariApp, ctx: AuthProvisionContext): Promise<ProvisioningFact> {
    const key = objectKey(app.metadata.namespace, app.metadata.name);
    let hash: string;
    try {
      hash = this.keycloak.configHash(app);
    } catch (err) {
      if (err instanceof AuthSpecError) return { ok: false, message: err.message, reason: REASONS.ValidationFailed };
      throw err;
    }
    // `<name>-oidc-client` may be the user's own Secret: then nothing is provisioned in Keycloak and nothing is written
    const [secret] = desiredOidcObjects(app, { clientId: '', clientSecret: '', issuerUrl: '' });
    try {
      await ctx.assertOwnable(secret as unknown as KubeObject);
    } catch (err) {
      if (err instanceof NotOwnedError) return { ok: false, message: err.message, reason: REASONS.ResourceNotOwned };
      throw err;
    }
    if (canSkipProvisioning(app, hash, ctx.secretKeys(app.metadata.namespace, clientSecretName(app.metadata.name)))) {
      this.skipped++;
      return { ok: true, authConfigHash: hash };
    }
    try {
      const r = await this.keycloak.ensureClients(app);
      for (const obj of desiredOidcObjects(app, r)) await ctx.applyIfChanged(obj as unknown as KubeObject);
      if (r.warnings.length > 0) ctx.log.warn('keycloak provisioning incomplete', { nebariapp: key, warnings: r.warnings });
      if (app.metadata.annotations?.[FORCE_REPROVISION_ANNOTATION] !== undefined) await ctx.removeAppAnnotation(app, FORCE_REPROVISION_ANNOTATION);
      this.provisioned++;
      ctx.log.info('keycloak clients provisioned', { nebariapp: key, clientId: r.clientId, authConfigHash: r.configHash });
      return { ok: true, authConfigHash: r.configHash };
    } catch (err) {
      if (err instanceof NotOwnedError) {
        ctx.log.warn('oidc secret or its RBAC not owned', { nebariapp: key, error: err.message });
        return { ok: false, message: err.message, reason: REASONS.ResourceNotOwned };
      }
      const e = err instanceof KeycloakError ? err : isKubeError(err) ? undefined : classifyKeycloakError(err, 'ensure');
      if (!e) {
        const message = `writing the OIDC Secret or its RBAC failed: ${(err as Error).message}`.slice(0, 300);
        ctx.log.warn('oidc secret apply failed', { nebariapp: key, error: message });
        return { ok: false, message, reason: REASONS.Failed };
      }
      ctx.log.warn('keycloak provisioning failed', { nebariapp: key, reason: e.reason, error: e.message });
      return { ok: false, message: e.message, reason: e.reason };
    }
  }

  async remove(app: NebariApp, ctx: AuthProvisionContext): Promise<void> {
    const key = objectKey(app.metadata.namespace, app.metadata.name);
    const r = await this.keycloak.removeClients(app);
    ctx.log.info('keycloak clients removed', { nebariapp: key, ...r });
    // only what this app owns: a user's own `<name>-oidc-client` Secret (or Role) stays
    const [secret, role, binding] = desiredOidcObjects(app, { clientId: '', clientSecret: '', issuerUrl: '' });
    for (const o of [binding, role, secret]) await ctx.deleteOwned(o as unknown as KubeObject);
  }
}

function isKubeError(err: unknown): boolean {
  return (err as { name?: string } | undefined)?.name === 'ApiError';
}

export interface KeycloakSettingsLike {
  /** Keycloak base URL for the Admin API. */
  url: string;
  realm: string;
  adminRealm?: string;
  /** A mounted admin credentials Secret (directory of key files, or one key=value / JSON file). */
  adminCredentialsFile?: string;
  /** Or a Secret read through the API (with readSecret). */
  adminSecret?: SecretRef;
}

/**
 * The operator's Keycloak provisioner from its settings: the issuer is the operator's OIDC issuer URL (the one the
 * browser and the gateway use); admin credentials come from the mounted Secret file, or from `readSecret` on
 * `adminSecret` (e.g. `(ref) => kube.get(SECRET, ref.namespace, ref.name)`).
 */
export function createKeycloakAuthProvisioner(settings: KeycloakSettingsLike, issuerUrl: string | undefined, readSecret?: ReadSecret): KeycloakAuthProvisioner {
  let read: ReadSecret;
  let ref: SecretRef;
  if (settings.adminSecret && readSecret) {
    read = readSecret;
    ref = settings.adminSecret;
  } else if (settings.adminCredentialsFile) {
    read = mountedSecretReader(settings.adminCredentialsFile);
    ref = { namespace: '(mounted)', name: settings.adminCredentialsFile };
  } else {
    throw new Error('keycloak settings: set adminCredentialsFile, or adminSecret together with a readSecret function');
  }
  return new KeycloakAuthProvisioner(
    new KeycloakProvisioner({
      url: settings.url,
      realm: settings.realm,
      adminRealm: settings.adminRealm,
      issuerUrl,
      adminSecret: ref,
      readSecret: read,
    }),
  );
}
