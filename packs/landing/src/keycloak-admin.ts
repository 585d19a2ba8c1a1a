// The one thing the landing page changes in Keycloak: adding a user to a group when an admin approves an access
// request. It authenticates as its own confidential client (client credentials grant) whose service account holds
// only realm-management's `manage-users` role: the least built-in role under which Keycloak lets a caller look up
// a group and add a member (view-users/query-groups cannot change membership). Tokens are cached until shortly
// before they expire and never logged. The client, its role and the Secret the Deployment reads its credentials
// from are created by the Identity component from the constants of components/identity/spec.ts imported here.
import { LANDING_ADMIN_CLIENT_ID, LANDING_ADMIN_CREDENTIALS_SECRET, LANDING_ADMIN_REALM_MANAGEMENT_ROLES } from '../../../components/identity/spec.js';

/** What to check when Keycloak refuses: where the credentials come from, and the role the client needs. */
const CREDENTIALS_HINT = `the credentials come from the Secret ${LANDING_ADMIN_CREDENTIALS_SECRET.name} (keys ${LANDING_ADMIN_CREDENTIALS_SECRET.clientIdKey}, ${LANDING_ADMIN_CREDENTIALS_SECRET.clientSecretKey}) of client ${LANDING_ADMIN_CLIENT_ID}, written by the Identity component`;
const ROLE_HINT = `the client's service account needs realm-management ${LANDING_ADMIN_REALM_MANAGEMENT_ROLES.join(', ')}`;

/** `https://host/realms/<realm>` -> `https://host/admin/realms/<realm>` (the Admin API of the issuer's realm). */
export function adminBaseFromIssuer(issuer: string): string {
  const u = new URL(issuer);
  const m = /^(.*)\/realms\/([^/]+)\/?$/.exec(u.pathname);
  if (!m) throw new Error(`OIDC_ISSUER_URL: "${issuer}" is not a Keycloak realm URL (…/realms/<realm>); access requests need one`);
  return `${u.origin}${m[1]}/admin/realms/${m[2]}`;
}

export interface KeycloakAdminSettings {
  issuer: string;
  clientId: string;
  clientSecret: string;
}

export class KeycloakAdminError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'KeycloakAdminError';
  }
}

export class KeycloakAdmin {
  private token: { value: string; until: number } | null = null;
  private readonly base: string;

  constructor(
    private readonly s: KeycloakAdminSettings,
    private readonly fetchImpl: typeof fetch = fetch,
  ) {
    this.base = adminBaseFromIssuer(s.issuer);
  }

  private async accessToken(): Promise<string> {
    if (this.token && Date.now() < this.token.until) return this.token.value;
    const basic = Buffer.from(`${encodeURIComponent(this.s.clientId)}:${encodeURIComponent(this.s.clientSecret)}`).toString('base64');
    const res = await this.fetchImpl(`${this.s.issuer.replace(/\/$/, '')}/protocol/openid-connect/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${basic}`, accept: 'application/json' },
      body: new URLSearchParams({ grant_type: 'client_credentials' }),
      signal: AbortSignal.timeout(10_000),
    });
    if (!res.ok) throw new KeycloakAdminError(res.status, `Keycloak refused the landing admin client's credentials (HTTP ${res.status}); ${CREDENTIALS_HINT}`);
    const body = (await res.json()) as { access_token?: string; expires_in?: number };
    if (!body.access_token) throw new KeycloakAdminError(502, 'Keycloak token response has no access_token');
    this.token = { value: body.access_token, until: Date.now() + Math.max(5, (body.expires_in ?? 60) - 15) * 1000 };
    return body.access_token;
  }

  private async call(method: string, path: string): Promise<Response> {
    const token = await this.accessToken();
    const res = await this.fetchImpl(`${this.base}${path}`, { method, headers: { authorization: `Bearer ${token}`, accept: 'application/json' }, signal: AbortSignal.timeout(10_000) });
    if (res.status === 401) this.token = null;
    return res;
  }

  /** The group's id by its path ("admins", "team/data"); null when the realm has no such group. */
  async groupId(path: string): Promise<string | null> {
    const p = path.split('/').filter(Boolean).map(encodeURIComponent).join('/');
    const res = await this.call('GET', `/group-by-path/${p}`);
    if (res.status === 404) return null;
    if (!res.ok) throw new KeycloakAdminError(res.status, `Keycloak group lookup for "${path}" failed (HTTP ${res.status})${res.status === 403 ? `; ${ROLE_HINT}` : ''}`);
    return ((await res.json()) as { id: string }).id;
  }

  /** Adds the user (Keycloak user id = the token's `sub`) to the group; idempotent. */
  async addToGroup(userId: string, groupPath: string): Promise<void> {
    const gid = await this.groupId(groupPath);
    if (!gid) throw new KeycloakAdminError(409, `group "${groupPath}" does not exist in the realm`);
    const res = await this.call('PUT', `/users/${encodeURIComponent(userId)}/groups/${encodeURIComponent(gid)}`);
    await res.body?.cancel();
    if (res.status === 404) throw new KeycloakAdminError(409, 'the requesting user no longer exists in the realm');
    if (!res.ok) throw new KeycloakAdminError(res.status, `Keycloak refused adding the user to "${groupPath}" (HTTP ${res.status})${res.status === 403 ? `; ${ROLE_HINT}` : ''}`);
  }
}
