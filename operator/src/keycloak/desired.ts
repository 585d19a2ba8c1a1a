// What Keycloak should hold for one NebariApp: pure functions of the NebariApp (and the realm context), no I/O.
//
// - confidential client `<namespace>-<name>`: standard flow only, one redirect URI on the app's hostname, web origins
//   only the app's origin, post-logout redirect to the hostname, requested scopes as default client scopes,
//   a groups claim (ID, access and userinfo tokens) when the app restricts access by auth.groups or asks for the
//   `groups` scope, whatever scopes are requested (the gateway's rule reads it from the ID token; a client's own
//   mapper applies with the default scopes too), the keycloakConfig protocol mappers, an audience mapper
//   for its own client id (so its tokens name it in `aud`, which the standard token exchange requires of a subject
//   token), standard token exchange enabled (it can exchange its users' tokens for audiences offered to it);
// - public PKCE client `<namespace>-<name>-spa` (or spaClient.clientId) when spaClient.enabled;
// - public device-authorization client `<namespace>-<name>-device` when deviceFlowClient.enabled;
// - when tokenExchange.enabled: an audience client scope `nebari-audience-<clientId>` whose audience mapper adds this
//   client's id to `aud`; the provisioner offers it as an optional client scope to every other NebariApp client of
//   the realm, so they can exchange their tokens for this audience (Keycloak standard token exchange, V2);
// - realm groups from auth.groups and keycloakConfig.groups, with members.
import { createHash } from 'node:crypto';
import {
  clientId as clientIdOf,
  deviceClientId as deviceClientIdOf,
  objectKey,
  spaClientId as spaClientIdOf,
  type NebariApp,
} from '../api/types.js';
import { DEFAULT_REDIRECT_URI, DEFAULT_SCOPES } from '../api/schema.js';

/** Client attribute naming the NebariApp (`namespace/name`) that owns a client; removal finds clients by it. */
export const OWNER_ATTRIBUTE = 'nebari.dev/owner';
/** Attribute on client scopes and groups the operator created (never set on objects it found). */
export const MANAGED_ATTRIBUTE = 'nebari.dev/managed';
/** Attribute on managed client scopes and groups: the NebariApps (`namespace/name`) that use them. */
export const OWNERS_ATTRIBUTE = 'nebari.dev/owners';
/** Name prefix of the audience client scopes created for token exchange targets. */
export const AUDIENCE_SCOPE_PREFIX = 'nebari-audience-';
/** Keycloak client attribute of standard token exchange (V2). */
export const STANDARD_TOKEN_EXCHANGE_ATTRIBUTE = 'standard.token.exchange.enabled';
/** Scopes every NebariApp client gets as default client scopes when the realm has them (Keycloak's own baseline). */
export const BASELINE_SCOPES = ['acr', 'basic', 'web-origins'] as const;
/** Name of the groups claim mapper added when auth.groups is set or the `groups` scope is requested. */
export const GROUPS_MAPPER_NAME = 'groups';
export const SELF_AUDIENCE_MAPPER_NAME = 'audience-self';

export type ClientRole = 'confidential' | 'spa' | 'device';

export interface ProtocolMapper {
  name: string;
  protocol: 'openid-connect';
  protocolMapper: string;
  config: Record<string, string>;
}

/** The managed part of a Keycloak ClientRepresentation (field names as Keycloak's). */
export interface DesiredClient {
  role: ClientRole;
  clientId: string;
  name: string;
  description: string;
  enabled: true;
  protocol: 'openid-connect';
  publicClient: boolean;
  clientAuthenticatorType: 'client-secret';
  standardFlowEnabled: boolean;
  implicitFlowEnabled: false;
  directAccessGrantsEnabled: boolean;
  serviceAccountsEnabled: false;
  bearerOnly: false;
  consentRequired: false;
  frontchannelLogout: boolean;
  fullScopeAllowed: false;
  rootUrl: string;
  baseUrl: string;
  redirectUris: string[];
  webOrigins: string[];
  attributes: Record<string, string>;
  protocolMappers: ProtocolMapper[];
  /** Client scope names wanted as default scopes (BASELINE_SCOPES are added only when the realm has them). */
  defaultClientScopes: string[];
}

export interface DesiredGroup {
  name: string;
  /** Usernames to add (sorted, unique). Members not listed are left alone. */
  members: string[];
}

export interface DesiredAudienceScope {
  name: string;
  /** The client id whose audience the scope adds. */
  audience: string;
  protocolMappers: ProtocolMapper[];
}

export interface DesiredKeycloak {
  owner: string;
  clients: DesiredClient[];
  /** Requested client scopes that must exist in the realm (created when missing). */
  requestedScopes: string[];
  groups: DesiredGroup[];
  audienceScope?: DesiredAudienceScope;
}

export interface DesiredOptions {
  /**
   * Test realms only: allow the resource-owner password grant on the confidential client. Never set by the
   * operator (NebariApps cannot ask for it); integration tests of a throwaway realm may.
   */
  directAccessGrants?: boolean;
}

/** Raised for a NebariApp the Keycloak side cannot provision; names the field and what is allowed. */
export class AuthSpecError extends Error {
  readonly field: string;
  constructor(field: string, message: string) {
    super(`${field}: ${message}`);
    this.name = 'AuthSpecError';
    this.field = field;
  }
}

function uniqSorted(values: Iterable<string>): string[] {
  return [...new Set(values)].sort();
}

/** The app's requested OAuth scopes with the contract's default applied (order-free, unique). */
export function requestedScopes(app: NebariApp): string[] {
  return uniqSorted(app.spec.auth?.scopes ?? DEFAULT_SCOPES);
}

/** Scopes that name Keycloak client scopes: `openid` is the OIDC marker, not a client scope. */
export function clientScopeNames(app: NebariApp): string[] {
  return requestedScopes(app).filter((s) => s !== 'openid');
}

export function audienceScopeName(clientId: string): string {
  return `${AUDIENCE_SCOPE_PREFIX}${clientId}`;
}

/** True when the Keycloak side has anything to provision for this app. */
export function wantsProvisioning(app: NebariApp): boolean {
  const auth = app.spec.auth;
  return (
    auth?.enabled === true &&
    (auth.provider ?? 'keycloak') === 'keycloak' &&
    auth.provisionClient !== false &&
    !auth.clientSecretRef
  );
}

function groupsMapper(): ProtocolMapper {
  return {
    name: GROUPS_MAPPER_NAME,
    protocol: 'openid-connect',
    protocolMapper: 'oidc-group-membership-mapper',
    config: {
      'claim.name': 'groups',
      'full.path': 'false',
      'id.token.claim': 'true',
      'access.token.claim': 'true',
      'userinfo.token.claim': 'true',
      'introspection.token.claim': 'true',
    },
  };
}

export function audienceMapper(name: string, audience: string): ProtocolMapper {
  return {
    name,
    protocol: 'openid-connect',
    protocolMapper: 'oidc-audience-mapper',
    config: {
      'included.client.audience': audience,
      'access.token.claim': 'true',
      'id.token.claim': 'false',
      'introspection.token.claim': 'true',
    },
  };
}

/**
 * The client's protocol mappers: keycloakConfig.protocolMappers when given (even empty) REPLACE the operator's
 * defaults (the groups mapper, the self-audience mapper), as the contract says; else the defaults. Sorted by name.
 */
function mappers(app: NebariApp, defaults: ProtocolMapper[]): ProtocolMapper[] {
  const user = app.spec.auth?.keycloakConfig?.protocolMappers;
  if (user === undefined) return [...defaults].sort(byName);
  const seen = new Set<string>();
  const out = user.map((m, i) => {
    if (seen.has(m.name)) {
      throw new AuthSpecError(`spec.auth.keycloakConfig.protocolMappers[${i}].name`, `"${m.name}" is listed twice; names must be unique`);
    }
    seen.add(m.name);
    return { name: m.name, protocol: 'openid-connect' as const, protocolMapper: m.protocolMapper, config: { ...(m.config ?? {}) } };
  });
  return out.sort(byName);
}

const byName = (a: { name: string }, b: { name: string }): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

function checkHostname(app: NebariApp): string {
  const host = app.spec.hostname;
  if (!host || !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(host)) {
    throw new AuthSpecError('spec.hostname', `must be a lower-case FQDN, got ${JSON.stringify(host)}`);
  }
  return host;
}

/** Everything Keycloak should hold for `app`. Throws AuthSpecError for input Keycloak cannot take. */
export function desiredKeycloak(app: NebariApp, opts: DesiredOptions = {}): DesiredKeycloak {
  const { namespace, name } = app.metadata;
  const owner = objectKey(namespace, name);
  const auth = app.spec.auth ?? {};
  const host = checkHostname(app);
  const origin = `https://${host}`;
  const redirectPath = auth.redirectURI ?? DEFAULT_REDIRECT_URI;
  if (!redirectPath.startsWith('/') || /\s/.test(redirectPath)) {
    throw new AuthSpecError('spec.auth.redirectURI', `must be a path starting with "/" without whitespace, got ${JSON.stringify(redirectPath)}`);
  }
  const scopes = clientScopeNames(app);
  // auth.groups makes the gateway require the claim: it must be in the token with the default scopes, not only
  // when the `groups` scope (which the default scopes lack) is asked for
  const wantsGroups = scopes.includes('groups') || (auth.groups?.length ?? 0) > 0;
  const id = clientIdOf(namespace, name);
  const common = {
    enabled: true as const,
    protocol: 'openid-connect' as const,
    clientAuthenticatorType: 'client-secret' as const,
    implicitFlowEnabled: false as const,
    serviceAccountsEnabled: false as const,
    bearerOnly: false as const,
    consentRequired: false as const,
    fullScopeAllowed: false as const,
    rootUrl: origin,
    baseUrl: '/',
  };
  const sharedMappers: ProtocolMapper[] = wantsGroups ? [groupsMapper()] : [];

  const confidential: DesiredClient = {
    ...common,
    role: 'confidential',
    clientId: id,
    name: owner,
    description: `Managed by nebari-operator for NebariApp ${owner}`,
    publicClient: false,
    standardFlowEnabled: true,
    directAccessGrantsEnabled: opts.directAccessGrants === true,
    frontchannelLogout: true,
    redirectUris: [`${origin}${redirectPath}`],
    webOrigins: [origin],
    attributes: {
      [OWNER_ATTRIBUTE]: owner,
      'post.logout.redirect.uris': `${origin}/*`,
      [STANDARD_TOKEN_EXCHANGE_ATTRIBUTE]: 'true',
      'oauth2.device.authorization.grant.enabled': 'false',
    },
    protocolMappers: mappers(app, [...sharedMappers, audienceMapper(SELF_AUDIENCE_MAPPER_NAME, id)]),
    defaultClientScopes: scopes,
  };
  const clients: DesiredClient[] = [confidential];

  if (auth.spaClient?.enabled) {
    const spaId = spaClientIdOf(namespace, name, auth.spaClient.clientId);
    if (spaId === id) throw new AuthSpecError('spec.auth.spaClient.clientId', `must differ from the confidential client id "${id}"`);
    clients.push({
      ...common,
      role: 'spa',
      clientId: spaId,
      name: `${owner} (browser)`,
      description: `Public PKCE client managed by nebari-operator for NebariApp ${owner}`,
      publicClient: true,
      standardFlowEnabled: true,
      directAccessGrantsEnabled: false,
      frontchannelLogout: true,
      redirectUris: [`${origin}/*`],
      webOrigins: [origin],
      attributes: {
        [OWNER_ATTRIBUTE]: owner,
        'pkce.code.challenge.method': 'S256',
        'post.logout.redirect.uris': `${origin}/*`,
        'oauth2.device.authorization.grant.enabled': 'false',
      },
      protocolMappers: mappers(app, [...sharedMappers, audienceMapper(SELF_AUDIENCE_MAPPER_NAME, id)]),
      defaultClientScopes: scopes,
    });
  }
  if (auth.deviceFlowClient?.enabled) {
    clients.push({
      ...common,
      role: 'device',
      clientId: deviceClientIdOf(namespace, name),
      name: `${owner} (device)`,
      description: `Public device-authorization client managed by nebari-operator for NebariApp ${owner}`,
      publicClient: true,
      standardFlowEnabled: false,
      directAccessGrantsEnabled: false,
      frontchannelLogout: false,
      redirectUris: [],
      webOrigins: [],
      attributes: {
        [OWNER_ATTRIBUTE]: owner,
        'oauth2.device.authorization.grant.enabled': 'true',
      },
      protocolMappers: mappers(app, [...sharedMappers, audienceMapper(SELF_AUDIENCE_MAPPER_NAME, id)]),
      defaultClientScopes: scopes,
    });
  }
  const ids = clients.map((c) => c.clientId);
  if (new Set(ids).size !== ids.length) {
    throw new AuthSpecError('spec.auth.spaClient.clientId', `client ids must be unique, got ${ids.join(', ')}`);
  }

  const groups = new Map<string, Set<string>>();
  (auth.groups ?? []).forEach((g) => {
    if (!groups.has(g)) groups.set(g, new Set());
  });
  (auth.keycloakConfig?.groups ?? []).forEach((g, i) => {
    if (g.name.includes('/')) {
      throw new AuthSpecError(`spec.auth.keycloakConfig.groups[${i}].name`, `top-level group names cannot contain "/", got "${g.name}"`);
    }
    const set = groups.get(g.name) ?? new Set<string>();
    for (const m of g.members ?? []) set.add(m);
    groups.set(g.name, set);
  });
  (auth.groups ?? []).forEach((g, i) => {
    if (g.includes('/')) throw new AuthSpecError(`spec.auth.groups[${i}]`, `top-level group names cannot contain "/", got "${g}"`);
  });

  const result: DesiredKeycloak = {
    owner,
    clients,
    requestedScopes: scopes,
    groups: [...groups.entries()]
      .map(([g, members]) => ({ name: g, members: uniqSorted(members) }))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
  };
  if (auth.tokenExchange?.enabled) {
    const scopeName = audienceScopeName(id);
    result.audienceScope = { name: scopeName, audience: id, protocolMappers: [audienceMapper(`audience-${id}`, id)] };
  }
  return result;
}

/** JSON with object keys sorted at every depth: equal values give equal text. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v)).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

export interface HashContext {
  /** Realm the clients live in. */
  realm?: string;
  /** Issuer URL written to the Secret. */
  issuerUrl?: string;
  /** Name of the ServiceAccount allowed to read the Secret (part of what is provisioned). */
  serviceAccountName?: string;
}

/**
 * SHA-256 (hex) of the provisioned client configuration: every desired Keycloak object plus the realm and issuer
 * it lives in. Stable across key order and list order of the input; changes whenever what is provisioned changes.
 */
export function authConfigHash(app: NebariApp, ctx: HashContext = {}, opts: DesiredOptions = {}): string {
  const desired = desiredKeycloak(app, opts);
  const material = {
    v: 1,
    desired,
    realm: ctx.realm ?? null,
    issuerUrl: ctx.issuerUrl ?? null,
    serviceAccountName: ctx.serviceAccountName ?? app.spec.serviceAccountName ?? app.metadata.name,
  };
  return createHash('sha256').update(canonicalJson(material)).digest('hex');
}
