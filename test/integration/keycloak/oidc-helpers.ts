// Test helpers that talk OIDC to the real Keycloak like a browser and a client would: the authorization code flow
// through Keycloak's own login form (fetch + cookies, no browser needed), the token endpoint, token exchange.
import { createHash, randomBytes } from 'node:crypto';
import KcAdminClient from '@keycloak/keycloak-admin-client';
import type ClientRepresentation from '@keycloak/keycloak-admin-client/lib/defs/clientRepresentation.js';
import { decodeJwt, type JWTPayload } from 'jose';
import type { KeycloakInstance } from '../../harness/keycloak.js';
import type { RawSecret } from '../../../operator/src/keycloak/credentials.js';
import type { NebariApp } from '../../../operator/src/api/types.js';
import type { groupsMapper } from '../../../components/identity/spec.js';

/** Visible text of an HTML page (scripts and styles dropped), for assertions on Keycloak's error pages. */
function pageText(html: string): string {
  return html
    .replace(/<(script|style)[^>]*>[\s\S]*?<\/\1>/gi, ' ')
    .replace(/<[^>]+>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, 1000);
}

function decodeEntities(s: string): string {
  return s.replace(/&amp;/g, '&').replace(/&#x3d;/gi, '=').replace(/&#61;/g, '=').replace(/&quot;/g, '"');
}

class CookieJar {
  private cookies = new Map<string, string>();
  take(res: Response): void {
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const i = pair!.indexOf('=');
      if (i > 0) this.cookies.set(pair!.slice(0, i).trim(), pair!.slice(i + 1).trim());
    }
  }
  header(): string {
    return [...this.cookies.entries()].map(([k, v]) => `${k}=${v}`).join('; ');
  }
}

export interface CodeResult {
  code?: string;
  /** The Location Keycloak redirected to (or undefined when it showed a page instead). */
  location?: string;
  /** Status and a short text of the page when Keycloak did not redirect (an error page). */
  status: number;
  page?: string;
}

/** Authorization code flow through the real login form: returns the code Keycloak redirects back with. */
export async function loginForCode(
  issuer: string,
  params: { clientId: string; redirectUri: string; username: string; password: string; scope?: string; codeChallenge?: string },
): Promise<CodeResult> {
  const jar = new CookieJar();
  const state = randomBytes(8).toString('hex');
  const q = new URLSearchParams({
    client_id: params.clientId,
    response_type: 'code',
    scope: params.scope ?? 'openid',
    redirect_uri: params.redirectUri,
    state,
  });
  if (params.codeChallenge) {
    q.set('code_challenge', params.codeChallenge);
    q.set('code_challenge_method', 'S256');
  }
  const r1 = await fetch(`${issuer}/protocol/openid-connect/auth?${q}`, { redirect: 'manual' });
  jar.take(r1);
  const html = await r1.text();
  const m = /<form[^>]*id="kc-form-login"[^>]*action="([^"]+)"/.exec(html) ?? /<form[^>]*action="([^"]+)"[^>]*id="kc-form-login"/.exec(html);
  if (!m) return { status: r1.status, page: pageText(html) };
  const r2 = await fetch(decodeEntities(m[1]!), {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie: jar.header(), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ username: params.username, password: params.password, credentialId: '' }),
  });
  const location = r2.headers.get('location') ?? undefined;
  if (!location) return { status: r2.status, page: pageText(await r2.text()) };
  const u = new URL(location);
  if (u.searchParams.get('state') !== state) throw new Error('state mismatch in the redirect');
  return { status: r2.status, location, code: u.searchParams.get('code') ?? undefined };
}

export function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

export interface TokenResponse {
  status: number;
  body: { access_token?: string; id_token?: string; refresh_token?: string; error?: string; error_description?: string };
}

export async function tokenRequest(issuer: string, form: Record<string, string>, basic?: { id: string; secret: string }): Promise<TokenResponse> {
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  if (basic) headers.authorization = `Basic ${Buffer.from(`${encodeURIComponent(basic.id)}:${encodeURIComponent(basic.secret)}`).toString('base64')}`;
  const res = await fetch(`${issuer}/protocol/openid-connect/token`, { method: 'POST', headers, body: new URLSearchParams(form) });
  return { status: res.status, body: (await res.json()) as TokenResponse['body'] };
}

export function claims(token: string | undefined): JWTPayload & Record<string, unknown> {
  if (!token) throw new Error('no token');
  return decodeJwt(token) as JWTPayload & Record<string, unknown>;
}

export function audiences(token: string | undefined): string[] {
  const aud = claims(token).aud;
  return aud === undefined ? [] : Array.isArray(aud) ? aud : [aud];
}

/** Admin client of the master realm (bootstrap admin) for test setup and for inspecting the realm. */
export async function masterAdmin(kc: KeycloakInstance): Promise<KcAdminClient> {
  const admin = new KcAdminClient({ baseUrl: kc.baseUrl, realmName: 'master' });
  await admin.auth({ grantType: 'password', clientId: 'admin-cli', username: kc.adminUsername, password: kc.adminPassword });
  return admin;
}

/** A throwaway realm with users (password = `${username}-pw-${suffix}`). */
export async function createRealm(kc: KeycloakInstance, realm: string, users: string[]): Promise<Record<string, string>> {
  const admin = await masterAdmin(kc);
  await admin.realms.create({ realm, enabled: true });
  const passwords: Record<string, string> = {};
  for (const username of users) {
    const password = `${username}-${randomBytes(6).toString('hex')}`;
    await admin.users.create({
      realm,
      username,
      enabled: true,
      email: `${username}@example.test`,
      emailVerified: true,
      firstName: username,
      lastName: 'Test',
      credentials: [{ type: 'password', value: password, temporary: false }],
    });
    passwords[username] = password;
  }
  return passwords;
}

/**
 * Stand-in for the Kubernetes Secret read (the provisioner takes the read as an injected function; the real
 * Kubernetes read is exercised in credentials-kube.test.ts against the real kube-apiserver).
 */
export class InMemorySecretStore {
  private version = 1;
  private data: Record<string, string>;
  reads = 0;
  constructor(data: Record<string, string>) {
    this.data = { ...data };
  }
  set(data: Record<string, string>): void {
    this.data = { ...data };
    this.version++;
  }
  read = async (): Promise<RawSecret | undefined> => {
    this.reads++;
    const b64: Record<string, string> = {};
    for (const [k, v] of Object.entries(this.data)) b64[k] = Buffer.from(v).toString('base64');
    return { metadata: { resourceVersion: String(this.version) }, data: b64 };
  };
}

export function app(namespace: string, name: string, auth: NonNullable<NebariApp['spec']['auth']>, extra: Partial<NebariApp['spec']> = {}): NebariApp {
  return {
    apiVersion: 'reconcilers.nebari.dev/v1',
    kind: 'NebariApp',
    metadata: { namespace, name, uid: `uid-${namespace}-${name}` },
    spec: { hostname: `${name}.${namespace}.example.test`, service: { name, port: 8080 }, ...extra, auth: { enabled: true, ...auth } },
  };
}

/** The fields of a pure client spec of components/identity/spec.ts (operatorClient, landingAdminClient). */
export interface ServiceAccountClientSpec {
  clientId: string;
  name: string;
  description: string;
  accessType: string;
  standardFlowEnabled: boolean;
  implicitFlowEnabled: boolean;
  directAccessGrantsEnabled: boolean;
  serviceAccountsEnabled: boolean;
  fullScopeAllowed: boolean;
  validRedirectUris: string[];
  webOrigins: string[];
}

/**
 * Stand-in for the Pulumi Keycloak provider (its plugin cannot run here), not for Keycloak: creates in the real
 * Keycloak the client that the Identity component declares from `spec` (the @pulumi/keycloak openid.Client
 * arguments, mapped to the Admin API representation that provider sends), with the realm-management `roles` on its
 * service account (openid.ClientServiceAccountRole). Returns the client's secret.
 */
export async function createServiceAccountClient(admin: KcAdminClient, realm: string, spec: ServiceAccountClientSpec, roles: readonly string[], realmManagementClientId: string): Promise<string> {
  const secret = randomBytes(24).toString('hex');
  const { id } = await admin.clients.create({
    realm,
    clientId: spec.clientId,
    name: spec.name,
    description: spec.description,
    // @pulumi/keycloak accessType CONFIDENTIAL = a non-public, non-bearer-only client with a secret.
    publicClient: spec.accessType !== 'CONFIDENTIAL',
    bearerOnly: false,
    secret,
    standardFlowEnabled: spec.standardFlowEnabled,
    implicitFlowEnabled: spec.implicitFlowEnabled,
    directAccessGrantsEnabled: spec.directAccessGrantsEnabled,
    serviceAccountsEnabled: spec.serviceAccountsEnabled,
    fullScopeAllowed: spec.fullScopeAllowed,
    redirectUris: spec.validRedirectUris,
    webOrigins: spec.webOrigins,
  });
  if (roles.length > 0) {
    const sa = await admin.clients.getServiceAccountUser({ realm, id });
    const [rm] = await admin.clients.find({ realm, clientId: realmManagementClientId });
    if (!rm) throw new Error(`realm ${realm} has no ${realmManagementClientId} client`);
    const wanted = (await admin.clients.listRoles({ realm, id: rm.id! })).filter((r) => roles.includes(r.name!));
    if (wanted.length !== roles.length) throw new Error(`${realmManagementClientId} lacks some of the roles ${roles.join(', ')}`);
    await admin.users.addClientRoleMappings({ realm, id: sa.id!, clientUniqueId: rm.id!, roles: wanted.map((r) => ({ id: r.id!, name: r.name! })) });
  }
  return secret;
}

/** A client spec of components/identity/spec.ts (argocdClient, kubernetesClient, operatorClient...). */
export interface IdentityClientSpec {
  clientId: string;
  name: string;
  description?: string;
  accessType: string;
  standardFlowEnabled: boolean;
  implicitFlowEnabled: boolean;
  directAccessGrantsEnabled: boolean;
  serviceAccountsEnabled: boolean;
  fullScopeAllowed?: boolean;
  pkceCodeChallengeMethod?: string;
  rootUrl?: string;
  baseUrl?: string;
  validRedirectUris: string[];
  validPostLogoutRedirectUris?: string[];
  webOrigins: string[];
}

/**
 * The admin REST representation @pulumi/keycloak sends for an openid.Client of that spec (its provider cannot be
 * built here, so tests create the client through the admin API with these arguments), with `secret` for a
 * confidential client and, given `groups` (groupsMapper()), its GroupMembershipProtocolMapper.
 */
export function providerClientRepresentation(c: IdentityClientSpec, opts: { secret?: string; groups?: ReturnType<typeof groupsMapper> } = {}): ClientRepresentation {
  const m = opts.groups;
  return {
    clientId: c.clientId,
    name: c.name,
    ...(c.description !== undefined ? { description: c.description } : {}),
    protocol: 'openid-connect',
    // accessType CONFIDENTIAL = a non-public, non-bearer-only client with a secret.
    publicClient: c.accessType === 'PUBLIC',
    bearerOnly: false,
    ...(opts.secret !== undefined ? { secret: opts.secret } : {}),
    standardFlowEnabled: c.standardFlowEnabled,
    implicitFlowEnabled: c.implicitFlowEnabled,
    directAccessGrantsEnabled: c.directAccessGrantsEnabled,
    serviceAccountsEnabled: c.serviceAccountsEnabled,
    ...(c.fullScopeAllowed !== undefined ? { fullScopeAllowed: c.fullScopeAllowed } : {}),
    ...(c.rootUrl !== undefined ? { rootUrl: c.rootUrl } : {}),
    ...(c.baseUrl !== undefined ? { baseUrl: c.baseUrl } : {}),
    redirectUris: c.validRedirectUris,
    webOrigins: c.webOrigins,
    ...(c.pkceCodeChallengeMethod !== undefined ? { attributes: { 'pkce.code.challenge.method': c.pkceCodeChallengeMethod, 'post.logout.redirect.uris': (c.validPostLogoutRedirectUris ?? []).join('##') } } : {}),
    ...(m
      ? {
          protocolMappers: [
            {
              name: m.name,
              protocol: 'openid-connect',
              protocolMapper: 'oidc-group-membership-mapper',
              config: { 'claim.name': m.claimName, 'full.path': String(m.fullPath), 'id.token.claim': String(m.addToIdToken), 'access.token.claim': String(m.addToAccessToken), 'userinfo.token.claim': String(m.addToUserinfo) },
            },
          ],
        }
      : {}),
  };
}
