// The edge to Keycloak: makes the realm hold what desiredKeycloak(app) describes, through the Admin REST API
// (@keycloak/keycloak-admin-client). Every Admin API call goes through `call()`, which counts it, refreshes the
// admin token once when Keycloak refuses it (re-reading the credentials Secret: rotation without restart) and
// classifies failures (errors.ts).
//
// Ownership, so removal leaves nothing behind and never touches what others made:
// - clients carry the attribute nebari.dev/owner=<namespace>/<name>; a client id held by a client without that
//   exact owner is a conflict, never adopted;
// - client scopes and groups the operator creates carry nebari.dev/managed=true and the list of NebariApps using
//   them (nebari.dev/owners); an app releases its entry when it stops asking or is deleted, and the last one out
//   deletes the object. Scopes and groups that existed before are used as they are and never deleted.
// Read-modify-write of those shared objects is serialised per object inside this process (one operator replica
// holds the leader lease).
import KcAdminClient from '@keycloak/keycloak-admin-client';
import type ClientRepresentation from '@keycloak/keycloak-admin-client/lib/defs/clientRepresentation.js';
import type ClientScopeRepresentation from '@keycloak/keycloak-admin-client/lib/defs/clientScopeRepresentation.js';
import type GroupRepresentation from '@keycloak/keycloak-admin-client/lib/defs/groupRepresentation.js';
import type ProtocolMapperRepresentation from '@keycloak/keycloak-admin-client/lib/defs/protocolMapperRepresentation.js';
import { decodeJwt } from 'jose';
import { clientId as clientIdOf, type NebariApp } from '../api/types.js';
import { AdminCredentialSource, type AdminCredentials, type ReadSecret, type SecretRef } from './credentials.js';
import {
  AUDIENCE_SCOPE_PREFIX,
  BASELINE_SCOPES,
  MANAGED_ATTRIBUTE,
  OWNERS_ATTRIBUTE,
  OWNER_ATTRIBUTE,
  audienceScopeName,
  authConfigHash,
  desiredKeycloak,
  type DesiredClient,
  type DesiredGroup,
  type DesiredOptions,
  type ProtocolMapper,
} from './desired.js';
import { KeycloakError, classifyKeycloakError, httpStatusOf } from './errors.js';
import type { ProvisionedCredentials } from './secret.js';

export interface KeycloakProvisionerOptions {
  /** Keycloak base URL the operator reaches the Admin API on, e.g. http://keycloak-http.keycloak.svc:8080. */
  url: string;
  /** Realm holding the NebariApp clients. */
  realm: string;
  /** Issuer written to the Secret (the one browsers and the gateway both accept); default `${url}/realms/${realm}`. */
  issuerUrl?: string;
  /** Realm of the admin credentials; default master. */
  adminRealm?: string;
  /** Secret with the admin credentials (username/password or client-id/client-secret). */
  adminSecret: SecretRef;
  /** Reads that Secret (injected: a Kubernetes API read in the operator, anything in tests). */
  readSecret: ReadSecret;
  /** Re-read the Secret at least this often (ms); default 30 s. A refused token re-reads at once. */
  credentialsMaxAgeMs?: number;
  /** Per-request timeout (ms); default 10 s. */
  timeoutMs?: number;
  /** Options of the desired state (test realms only). */
  desired?: DesiredOptions;
}

export interface EnsureResult extends ProvisionedCredentials {
  configHash: string;
  /** Things provisioned partially, safe to show (e.g. a listed group member that is not a realm user). */
  warnings: string[];
}

export interface RemoveResult {
  removedClients: string[];
  removedScopes: string[];
  removedGroups: string[];
}

/**
 * The Keycloak client life cycle the KeycloakAuthProvisioner (auth-provisioner.ts) drives; not to be confused with
 * the reconciler's AuthProvisioner (reconciler-auth.ts), which that class implements on top of this one.
 */
export interface KeycloakClientProvisioner {
  configHash(app: NebariApp): string;
  ensureClients(app: NebariApp): Promise<EnsureResult>;
  removeClients(app: NebariApp): Promise<RemoveResult>;
}

/** Serialises async work per key (shared realm objects: a scope or a group name). */
class KeyedMutex {
  private tails = new Map<string, Promise<void>>();
  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((r) => (release = r));
    const tail = prev.then(() => mine);
    this.tails.set(key, tail);
    await prev;
    try {
      return await fn();
    } finally {
      release();
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }
}

type Attrs = Record<string, unknown> | undefined;

function attrString(attrs: Attrs, key: string): string | undefined {
  const v = attrs?.[key];
  if (typeof v === 'string') return v;
  if (Array.isArray(v) && typeof v[0] === 'string') return v[0];
  return undefined;
}

/** Owners on a client scope (one space-separated string attribute) or a group (multi-valued attribute). */
function ownersOf(attrs: Attrs): string[] {
  const v = attrs?.[OWNERS_ATTRIBUTE];
  if (Array.isArray(v)) return v.filter((x): x is string => typeof x === 'string' && x.length > 0);
  if (typeof v === 'string') return v.split(' ').filter((x) => x.length > 0);
  return [];
}

function isManaged(attrs: Attrs): boolean {
  return attrString(attrs, MANAGED_ATTRIBUTE) === 'true';
}

function sameMapper(observed: ProtocolMapperRepresentation, desired: ProtocolMapper): boolean {
  if (observed.protocolMapper !== desired.protocolMapper || (observed.protocol ?? 'openid-connect') !== desired.protocol) return false;
  const o = observed.config ?? {};
  const keys = new Set([...Object.keys(o), ...Object.keys(desired.config)]);
  for (const k of keys) if (String(o[k] ?? '') !== String(desired.config[k] ?? '')) return false;
  return true;
}

function sameList(a: readonly string[] | undefined, b: readonly string[]): boolean {
  const x = [...(a ?? [])].sort();
  const y = [...b].sort();
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

/** Managed scalar/list fields of a client, as compared and written. */
const CLIENT_FIELDS = [
  'name',
  'description',
  'enabled',
  'protocol',
  'publicClient',
  'clientAuthenticatorType',
  'standardFlowEnabled',
  'implicitFlowEnabled',
  'directAccessGrantsEnabled',
  'serviceAccountsEnabled',
  'bearerOnly',
  'consentRequired',
  'frontchannelLogout',
  'fullScopeAllowed',
  'rootUrl',
  'baseUrl',
] as const;

function clientNeedsUpdate(observed: ClientRepresentation, desired: DesiredClient): boolean {
  for (const f of CLIENT_FIELDS) {
    if ((observed as Record<string, unknown>)[f] !== (desired as unknown as Record<string, unknown>)[f]) return true;
  }
  if (!sameList(observed.redirectUris, desired.redirectUris) || !sameList(observed.webOrigins, desired.webOrigins)) return true;
  const attrs = (observed.attributes ?? {}) as Record<string, unknown>;
  for (const [k, v] of Object.entries(desired.attributes)) if (attrString(attrs, k) !== v) return true;
  return false;
}

function clientBody(desired: DesiredClient): ClientRepresentation {
  const body: Record<string, unknown> = {};
  for (const f of CLIENT_FIELDS) body[f] = (desired as unknown as Record<string, unknown>)[f];
  body.clientId = desired.clientId;
  body.redirectUris = [...desired.redirectUris];
  body.webOrigins = [...desired.webOrigins];
  return body as ClientRepresentation;
}

export class KeycloakProvisioner implements KeycloakClientProvisioner {
  readonly realm: string;
  readonly issuerUrl: string;
  private readonly url: string;
  private readonly adminRealm: string;
  private readonly kc: KcAdminClient;
  private readonly credentials: AdminCredentialSource;
  private readonly desiredOpts: DesiredOptions;
  private readonly timeoutMs: number;
  private readonly locks = new KeyedMutex();
  private token?: { value: string; expiresAt: number; version: string };
  private tokenInflight?: Promise<void>;
  /** The last token request was refused: re-read the Secret before the next one (it may have been rotated). */
  private authRefused = false;
  /** Admin API calls made (token requests included), by operation. */
  readonly calls = new Map<string, number>();
  apiCalls = 0;

  constructor(opts: KeycloakProvisionerOptions) {
    this.url = opts.url.replace(/\/+$/, '');
    this.realm = opts.realm;
    this.adminRealm = opts.adminRealm ?? 'master';
    this.issuerUrl = (opts.issuerUrl ?? `${this.url}/realms/${encodeURIComponent(opts.realm)}`).replace(/\/+$/, '');
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.desiredOpts = opts.desired ?? {};
    this.credentials = new AdminCredentialSource(opts.adminSecret, opts.readSecret, opts.credentialsMaxAgeMs ?? 30_000);
    this.kc = new KcAdminClient({ baseUrl: this.url, realmName: this.realm, timeout: this.timeoutMs });
  }

  configHash(app: NebariApp): string {
    return authConfigHash(app, { realm: this.realm, issuerUrl: this.issuerUrl }, this.desiredOpts);
  }

  // -------------------------------------------------------------------------------------------------------------
  // token and calls

  private count(op: string): void {
    this.apiCalls++;
    this.calls.set(op, (this.calls.get(op) ?? 0) + 1);
  }

  private async fetchToken(creds: AdminCredentials): Promise<{ value: string; expiresAt: number }> {
    const body = new URLSearchParams({ grant_type: creds.grant, client_id: creds.clientId });
    if (creds.grant === 'password') {
      body.set('username', creds.username);
      body.set('password', creds.password);
    } else {
      body.set('client_secret', creds.clientSecret);
    }
    this.count('token');
    let res: Response;
    try {
      res = await fetch(`${this.url}/realms/${encodeURIComponent(this.adminRealm)}/protocol/openid-connect/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      throw classifyKeycloakError(err, 'token');
    }
    const data = (await res.json().catch(() => ({}))) as { access_token?: string; expires_in?: number; error?: string };
    if (!res.ok || !data.access_token) {
      const code = typeof data.error === 'string' ? ` (${data.error.slice(0, 60)})` : '';
      if (res.status >= 500 || res.status === 429) throw new KeycloakError('unavailable', 'token', `Keycloak answered HTTP ${res.status}${code}`, res.status);
      if (res.status === 404) throw new KeycloakError('invalid', 'token', `admin realm "${this.adminRealm}" not found`, 404);
      throw new KeycloakError('unauthorized', 'token', `Keycloak refused the admin credentials: HTTP ${res.status}${code}`, res.status);
    }
    let exp = Date.now() + (data.expires_in ?? 60) * 1000;
    try {
      const claims = decodeJwt(data.access_token);
      if (typeof claims.exp === 'number') exp = claims.exp * 1000;
    } catch {
      // opaque token: trust expires_in
    }
    return { value: data.access_token, expiresAt: exp };
  }

  /** A valid admin token; `force` re-reads the credentials Secret and gets a new token. */
  private async ensureToken(force = false): Promise<void> {
    const { credentials, version } = await this.credentials.get(force || this.authRefused);
    const t = this.token;
    if (!force && t && t.version === version && Date.now() < t.expiresAt - 15_000) return;
    this.tokenInflight ??= (async () => {
      try {
        let tok;
        try {
          tok = await this.fetchToken(credentials);
        } catch (err) {
          this.authRefused = err instanceof KeycloakError && err.kind === 'unauthorized';
          throw err;
        }
        this.authRefused = false;
        this.token = { ...tok, version };
        this.kc.setAccessToken(tok.value);
      } finally {
        this.tokenInflight = undefined;
      }
    })();
    await this.tokenInflight;
  }

  /** One Admin API call: counted, token refreshed once on 401, failures classified. */
  private async call<T>(op: string, fn: () => Promise<T>): Promise<T> {
    await this.ensureToken();
    this.count(op);
    try {
      return await fn();
    } catch (err) {
      if (httpStatusOf(err) === 401) {
        await this.ensureToken(true);
        this.count(op);
        try {
          return await fn();
        } catch (err2) {
          throw classifyKeycloakError(err2, op);
        }
      }
      throw classifyKeycloakError(err, op);
    }
  }

  /** Like call(), but a 404 resolves undefined. */
  private async callOptional<T>(op: string, fn: () => Promise<T>): Promise<T | undefined> {
    try {
      return await this.call(op, fn);
    } catch (err) {
      if (err instanceof KeycloakError && err.status === 404) return undefined;
      throw err;
    }
  }

  // -------------------------------------------------------------------------------------------------------------
  // ensure

  async ensureClients(app: NebariApp): Promise<EnsureResult> {
    let desired;
    try {
      desired = desiredKeycloak(app, this.desiredOpts);
    } catch (err) {
      throw new KeycloakError('invalid', 'desired', err instanceof Error ? err.message : String(err));
    }
    const realm = this.realm;
    const owner = desired.owner;
    const warnings: string[] = [];

    // Client scopes of the realm (one call), then requested scopes made to exist and owned.
    let scopes = await this.call('clientScopes.find', () => this.kc.clientScopes.find({ realm }));
    const scopeByName = (): Map<string, ClientScopeRepresentation> => new Map(scopes.map((s) => [s.name ?? '', s]));
    const ownedManagedScopes = scopes.filter((s) => isManaged(s.attributes) && ownersOf(s.attributes).includes(owner));

    for (const name of desired.requestedScopes) {
      const existing = scopeByName().get(name);
      if (!existing) {
        const created = await this.locks.run(`scope:${name}`, () => this.createOrJoinScope(name, owner));
        scopes = [...scopes.filter((s) => s.name !== name), created];
      } else if (isManaged(existing.attributes) && !ownersOf(existing.attributes).includes(owner)) {
        await this.locks.run(`scope:${name}`, () => this.joinScope(existing.id!, owner));
      }
    }
    // Managed scopes this app used but no longer requests (its own audience scope is handled below).
    for (const s of ownedManagedScopes) {
      if (!desired.requestedScopes.includes(s.name ?? '') && !(s.name ?? '').startsWith(AUDIENCE_SCOPE_PREFIX)) {
        await this.locks.run(`scope:${s.name}`, () => this.leaveScope(s.id!, owner));
      }
    }

    // Token exchange target: its audience scope exists (with the right mapper) or is gone.
    const confidentialId = desired.clients[0]!.clientId;
    const ownAudience = audienceScopeName(confidentialId);
    const observedAudience = scopeByName().get(ownAudience);
    let audienceScopeId: string | undefined;
    if (desired.audienceScope) {
      const want = desired.audienceScope;
      if (observedAudience && !(isManaged(observedAudience.attributes) && ownersOf(observedAudience.attributes).includes(owner))) {
        throw new KeycloakError('conflict', 'clientScopes.create', `client scope "${want.name}" exists and is not owned by NebariApp ${owner}`);
      }
      if (!observedAudience) {
        const { id } = await this.call('clientScopes.create', () =>
          this.kc.clientScopes.create({
            realm,
            name: want.name,
            protocol: 'openid-connect',
            description: `Audience ${want.audience} for token exchange (nebari-operator, NebariApp ${owner})`,
            attributes: { [MANAGED_ATTRIBUTE]: 'true', [OWNERS_ATTRIBUTE]: owner, 'include.in.token.scope': 'true', 'display.on.consent.screen': 'false' },
            protocolMappers: want.protocolMappers.map((m) => ({ ...m, config: { ...m.config } })),
          }),
        );
        audienceScopeId = id;
        scopes = [...scopes, { id, name: want.name, attributes: { [MANAGED_ATTRIBUTE]: 'true', [OWNERS_ATTRIBUTE]: owner } }];
      } else {
        audienceScopeId = observedAudience.id!;
        await this.syncMappers('clientScopes', audienceScopeId, observedAudience.protocolMappers ?? [], want.protocolMappers);
      }
    } else if (observedAudience && isManaged(observedAudience.attributes) && ownersOf(observedAudience.attributes).includes(owner)) {
      await this.call('clientScopes.del', () => this.kc.clientScopes.del({ realm, id: observedAudience.id! }));
      scopes = scopes.filter((s) => s.name !== ownAudience);
    }

    // Clients: the candidates sharing the `<namespace>-<name>` prefix (+ an overridden SPA id), one or two calls.
    const names = scopeByName();
    const audienceScopesOfOthers = scopes
      .filter((s) => (s.name ?? '').startsWith(AUDIENCE_SCOPE_PREFIX) && s.name !== ownAudience && isManaged(s.attributes))
      .map((s) => s.name!)
      .sort();
    const candidates = await this.call('clients.find', () => this.kc.clients.find({ realm, clientId: confidentialId, search: true, max: 1000 }));
    for (const d of desired.clients) {
      if (!d.clientId.startsWith(confidentialId) && !candidates.some((c) => c.clientId === d.clientId)) {
        const extra = await this.call('clients.find', () => this.kc.clients.find({ realm, clientId: d.clientId }));
        candidates.push(...extra);
      }
    }

    const out: Partial<EnsureResult> = {};
    for (const d of desired.clients) {
      const defaults = [...BASELINE_SCOPES.filter((s) => names.has(s)), ...d.defaultClientScopes].sort();
      const optional = d.role === 'confidential' ? audienceScopesOfOthers : [];
      const observed = candidates.find((c) => c.clientId === d.clientId);
      let secret: string | undefined;
      if (observed) {
        const observedOwner = attrString(observed.attributes, OWNER_ATTRIBUTE);
        if (observedOwner !== owner) {
          throw new KeycloakError(
            'conflict',
            'clients.find',
            `client id "${d.clientId}" is taken by ${observedOwner ? `NebariApp ${observedOwner}` : 'a client not managed by nebari-operator'}`,
          );
        }
        await this.updateClient(observed, d, defaults, optional, names);
        secret = observed.secret;
      } else {
        const body: ClientRepresentation = {
          ...clientBody(d),
          attributes: { ...d.attributes },
          protocolMappers: d.protocolMappers.map((m) => ({ ...m, config: { ...m.config } })),
          defaultClientScopes: defaults,
          optionalClientScopes: optional,
        };
        const { id } = await this.call('clients.create', () => this.kc.clients.create({ realm, ...body }));
        if (!d.publicClient) {
          const cred = await this.call('clients.getClientSecret', () => this.kc.clients.getClientSecret({ realm, id }));
          secret = cred.value;
        }
      }
      if (d.role === 'confidential') {
        if (!secret) {
          // A confidential client always has a secret; read it if the list view withheld it (never regenerate).
          const id = observed?.id;
          if (id) secret = (await this.call('clients.getClientSecret', () => this.kc.clients.getClientSecret({ realm, id }))).value;
        }
        if (!secret) throw new KeycloakError('invalid', 'clients.getClientSecret', `client "${d.clientId}" has no secret`);
        out.clientId = d.clientId;
        out.clientSecret = secret;
      } else if (d.role === 'spa') {
        out.spaClientId = d.clientId;
      } else {
        out.deviceClientId = d.clientId;
      }
    }
    // Clients this app owns but no longer wants (spaClient/deviceFlowClient switched off).
    const wanted = new Set(desired.clients.map((c) => c.clientId));
    for (const c of candidates) {
      if (attrString(c.attributes, OWNER_ATTRIBUTE) === owner && !wanted.has(c.clientId ?? '')) {
        await this.call('clients.del', () => this.kc.clients.del({ realm, id: c.id! }));
      }
    }

    // Offer this app's audience to every other NebariApp confidential client (token exchange).
    if (audienceScopeId) {
      const all = await this.listAllClients();
      for (const c of all) {
        const o = attrString(c.attributes, OWNER_ATTRIBUTE);
        if (!o || o === owner || c.publicClient) continue;
        if (!(c.optionalClientScopes ?? []).includes(ownAudience)) {
          await this.call('clients.addOptionalClientScope', () =>
            this.kc.clients.addOptionalClientScope({ realm, id: c.id!, clientScopeId: audienceScopeId! }),
          );
        }
      }
    }

    await this.ensureGroups(owner, desired.groups, warnings);

    return {
      clientId: out.clientId!,
      clientSecret: out.clientSecret!,
      issuerUrl: this.issuerUrl,
      ...(out.spaClientId ? { spaClientId: out.spaClientId } : {}),
      ...(out.deviceClientId ? { deviceClientId: out.deviceClientId } : {}),
      configHash: this.configHash(app),
      warnings,
    };
  }

  private async createOrJoinScope(name: string, owner: string): Promise<ClientScopeRepresentation> {
    const realm = this.realm;
    // Re-check under the lock: another app may have created it meanwhile.
    const existing = await this.callOptional('clientScopes.findOneByName', () => this.kc.clientScopes.findOneByName({ realm, name }));
    if (existing) {
      if (isManaged(existing.attributes) && !ownersOf(existing.attributes).includes(owner)) await this.joinScope(existing.id!, owner);
      return existing;
    }
    const attributes = { [MANAGED_ATTRIBUTE]: 'true', [OWNERS_ATTRIBUTE]: owner, 'include.in.token.scope': 'true', 'display.on.consent.screen': 'true' };
    const { id } = await this.call('clientScopes.create', () =>
      this.kc.clientScopes.create({ realm, name, protocol: 'openid-connect', description: 'Created by nebari-operator for NebariApps', attributes }),
    );
    return { id, name, protocol: 'openid-connect', attributes };
  }

  private async joinScope(id: string, owner: string): Promise<void> {
    const realm = this.realm;
    const fresh = await this.call('clientScopes.findOne', () => this.kc.clientScopes.findOne({ realm, id }));
    if (!fresh || ownersOf(fresh.attributes).includes(owner)) return;
    const owners = [...new Set([...ownersOf(fresh.attributes), owner])].sort().join(' ');
    await this.call('clientScopes.update', () =>
      this.kc.clientScopes.update({ realm, id }, { ...fresh, attributes: { ...(fresh.attributes ?? {}), [OWNERS_ATTRIBUTE]: owners } }),
    );
  }

  /** Drop `owner` from a managed scope; the last owner deletes it. */
  private async leaveScope(id: string, owner: string): Promise<boolean> {
    const realm = this.realm;
    const fresh = await this.callOptional('clientScopes.findOne', () => this.kc.clientScopes.findOne({ realm, id }));
    if (!fresh || !isManaged(fresh.attributes)) return false;
    const owners = ownersOf(fresh.attributes).filter((o) => o !== owner);
    if (owners.length === 0) {
      await this.call('clientScopes.del', () => this.kc.clientScopes.del({ realm, id }));
      return true;
    }
    if (owners.length !== ownersOf(fresh.attributes).length) {
      await this.call('clientScopes.update', () =>
        this.kc.clientScopes.update({ realm, id }, { ...fresh, attributes: { ...(fresh.attributes ?? {}), [OWNERS_ATTRIBUTE]: owners.join(' ') } }),
      );
    }
    return false;
  }

  private async updateClient(
    observed: ClientRepresentation,
    d: DesiredClient,
    defaults: string[],
    optional: string[],
    scopes: Map<string, ClientScopeRepresentation>,
  ): Promise<void> {
    const realm = this.realm;
    const id = observed.id!;
    if (clientNeedsUpdate(observed, d)) {
      // The secret is left out so Keycloak keeps it; unknown fields of the observed client are kept as they are.
      const { secret: _secret, protocolMappers: _m, defaultClientScopes: _d, optionalClientScopes: _o, access: _a, ...rest } = observed;
      void _secret;
      void _m;
      void _d;
      void _o;
      void _a;
      const body: ClientRepresentation = { ...rest, ...clientBody(d), attributes: { ...(observed.attributes ?? {}), ...d.attributes } };
      await this.call('clients.update', () => this.kc.clients.update({ realm, id }, body));
    }
    await this.syncMappers('clients', id, observed.protocolMappers ?? [], d.protocolMappers);
    await this.syncScopes(id, 'default', observed.defaultClientScopes ?? [], defaults, scopes);
    // Optional scopes: the audience scopes of other apps are added; nothing else is wanted.
    await this.syncScopes(id, 'optional', observed.optionalClientScopes ?? [], optional, scopes);
  }

  private async syncScopes(
    id: string,
    kind: 'default' | 'optional',
    observed: string[],
    desired: string[],
    scopes: Map<string, ClientScopeRepresentation>,
  ): Promise<void> {
    const realm = this.realm;
    for (const name of desired) {
      if (observed.includes(name)) continue;
      const scope = scopes.get(name);
      if (!scope?.id) continue;
      const clientScopeId = scope.id;
      if (kind === 'default') await this.call('clients.addDefaultClientScope', () => this.kc.clients.addDefaultClientScope({ realm, id, clientScopeId }));
      else await this.call('clients.addOptionalClientScope', () => this.kc.clients.addOptionalClientScope({ realm, id, clientScopeId }));
    }
    for (const name of observed) {
      if (desired.includes(name)) continue;
      const scope = scopes.get(name);
      if (!scope?.id) continue;
      const clientScopeId = scope.id;
      if (kind === 'default') await this.call('clients.delDefaultClientScope', () => this.kc.clients.delDefaultClientScope({ realm, id, clientScopeId }));
      else await this.call('clients.delOptionalClientScope', () => this.kc.clients.delOptionalClientScope({ realm, id, clientScopeId }));
    }
  }

  private async syncMappers(
    on: 'clients' | 'clientScopes',
    id: string,
    observed: ProtocolMapperRepresentation[],
    desired: ProtocolMapper[],
  ): Promise<void> {
    const realm = this.realm;
    const res = on === 'clients' ? this.kc.clients : this.kc.clientScopes;
    for (const m of desired) {
      const o = observed.find((x) => x.name === m.name);
      if (o && sameMapper(o, m)) continue;
      if (o?.id) {
        const mapperId = o.id;
        await this.call(`${on}.updateProtocolMapper`, () => res.updateProtocolMapper({ realm, id, mapperId }, { ...o, ...m, id: mapperId, config: { ...m.config } }));
      } else {
        await this.call(`${on}.addProtocolMapper`, () => res.addProtocolMapper({ realm, id }, { ...m, config: { ...m.config } }));
      }
    }
    for (const o of observed) {
      if (!desired.some((m) => m.name === o.name) && o.id) {
        const mapperId = o.id;
        await this.call(`${on}.delProtocolMapper`, () => res.delProtocolMapper({ realm, id, mapperId }));
      }
    }
  }

  /**
   * Clients that may belong to `app`, found by id instead of listing the realm: those whose id starts with
   * `<namespace>-<name>` (the confidential, -spa and -device clients) plus an overridden SPA client id. The caller
   * still checks the owner attribute.
   */
  private async ownedClientCandidates(app: NebariApp): Promise<ClientRepresentation[]> {
    const realm = this.realm;
    const base = clientIdOf(app.metadata.namespace, app.metadata.name);
    const found = await this.call('clients.find', () => this.kc.clients.find({ realm, clientId: base, search: true, max: 1000 }));
    const spa = app.spec?.auth?.spaClient?.clientId;
    if (spa && !spa.startsWith(base)) found.push(...(await this.call('clients.find', () => this.kc.clients.find({ realm, clientId: spa }))));
    return found;
  }

  private async listAllClients(): Promise<ClientRepresentation[]> {
    const realm = this.realm;
    const page = 500;
    const all: ClientRepresentation[] = [];
    for (let first = 0; ; first += page) {
      const batch = await this.call('clients.find', () => this.kc.clients.find({ realm, first, max: page }));
      all.push(...batch);
      if (batch.length < page) return all;
    }
  }

  // -------------------------------------------------------------------------------------------------------------
  // groups

  private async findGroupByName(name: string): Promise<GroupRepresentation | undefined> {
    const realm = this.realm;
    const found = await this.call('groups.find', () => this.kc.groups.find({ realm, search: name, exact: true, briefRepresentation: false, max: 100 }));
    return found.find((g) => g.name === name && (g.path === `/${name}` || g.path === undefined));
  }

  private async ownedGroups(owner: string): Promise<GroupRepresentation[]> {
    const realm = this.realm;
    const found = await this.call('groups.find', () =>
      this.kc.groups.find({ realm, q: `${OWNERS_ATTRIBUTE}:${owner}`, briefRepresentation: false, max: 1000 }),
    );
    return found.filter((g) => isManaged(g.attributes) && ownersOf(g.attributes).includes(owner));
  }

  private async ensureGroups(owner: string, groups: DesiredGroup[], warnings: string[]): Promise<void> {
    const realm = this.realm;
    const owned = await this.ownedGroups(owner);
    for (const g of groups) {
      await this.locks.run(`group:${g.name}`, async () => {
        let group = owned.find((x) => x.name === g.name) ?? (await this.findGroupByName(g.name));
        if (!group) {
          const attributes = { [MANAGED_ATTRIBUTE]: ['true'], [OWNERS_ATTRIBUTE]: [owner] };
          const { id } = await this.call('groups.create', () => this.kc.groups.create({ realm, name: g.name, attributes }));
          group = { id, name: g.name, attributes };
        } else if (isManaged(group.attributes) && !ownersOf(group.attributes).includes(owner)) {
          const owners = [...new Set([...ownersOf(group.attributes), owner])].sort();
          const id = group.id!;
          const body = { ...group, attributes: { ...(group.attributes ?? {}), [OWNERS_ATTRIBUTE]: owners } };
          await this.call('groups.update', () => this.kc.groups.update({ realm, id }, body));
        }
        if (g.members.length === 0) return;
        const groupId = group.id!;
        const members = await this.call('groups.listMembers', () => this.kc.groups.listMembers({ realm, id: groupId, max: 10_000, briefRepresentation: true }));
        const present = new Set(members.map((m) => (m as { username?: string }).username));
        for (const username of g.members) {
          if (present.has(username)) continue;
          const users = await this.call('users.find', () => this.kc.users.find({ realm, username, exact: true }));
          const user = users.find((u) => u.username === username);
          if (!user?.id) {
            warnings.push(`group "${g.name}": user "${username}" does not exist in realm ${realm}`);
            continue;
          }
          const userId = user.id;
          await this.call('users.addToGroup', () => this.kc.users.addToGroup({ realm, id: userId, groupId }));
        }
      });
    }
    for (const o of owned) {
      if (!groups.some((g) => g.name === o.name)) await this.locks.run(`group:${o.name}`, () => this.leaveGroup(o, owner));
    }
  }

  /** Drop `owner` from a managed group; the last owner deletes it. Returns true when deleted. */
  private async leaveGroup(group: GroupRepresentation, owner: string): Promise<boolean> {
    const realm = this.realm;
    const id = group.id!;
    const fresh = await this.callOptional('groups.findOne', () => this.kc.groups.findOne({ realm, id }));
    if (!fresh || !isManaged(fresh.attributes)) return false;
    const owners = ownersOf(fresh.attributes).filter((o) => o !== owner);
    if (owners.length === 0) {
      await this.call('groups.del', () => this.kc.groups.del({ realm, id }));
      return true;
    }
    const body = { ...fresh, attributes: { ...(fresh.attributes ?? {}), [OWNERS_ATTRIBUTE]: owners } };
    await this.call('groups.update', () => this.kc.groups.update({ realm, id }, body));
    return false;
  }

  // -------------------------------------------------------------------------------------------------------------
  // remove

  /** Removes every client the app created, its audience scope, and releases the scopes and groups it used. */
  async removeClients(app: NebariApp): Promise<RemoveResult> {
    const realm = this.realm;
    const owner = `${app.metadata.namespace}/${app.metadata.name}`;
    const result: RemoveResult = { removedClients: [], removedScopes: [], removedGroups: [] };
    for (const c of await this.ownedClientCandidates(app)) {
      if (attrString(c.attributes, OWNER_ATTRIBUTE) !== owner) continue;
      try {
        await this.call('clients.del', () => this.kc.clients.del({ realm, id: c.id! }));
      } catch (err) {
        if (!(err instanceof KeycloakError && err.status === 404)) throw err;
      }
      result.removedClients.push(c.clientId ?? '');
    }
    const scopes = await this.call('clientScopes.find', () => this.kc.clientScopes.find({ realm }));
    for (const s of scopes) {
      if (!isManaged(s.attributes) || !ownersOf(s.attributes).includes(owner)) continue;
      const deleted = await this.locks.run(`scope:${s.name}`, () => this.leaveScope(s.id!, owner));
      if (deleted) result.removedScopes.push(s.name ?? '');
    }
    for (const g of await this.ownedGroups(owner)) {
      const deleted = await this.locks.run(`group:${g.name}`, () => this.leaveGroup(g, owner));
      if (deleted) result.removedGroups.push(g.name ?? '');
    }
    result.removedClients.sort();
    return result;
  }
}

