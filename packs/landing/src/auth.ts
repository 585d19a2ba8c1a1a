// OIDC for the landing page: discovery, authorization code + PKCE, token verification against the issuer's JWKS,
// and the encrypted session cookie. Everything that decides (verify, session, PKCE) is a plain function of its
// inputs; only discover() and exchangeCode() talk to the network.
import { createHash, hkdfSync, randomBytes } from 'node:crypto';
import {
  EncryptJWT,
  errors as joseErrors,
  jwtDecrypt,
  jwtVerify,
  createRemoteJWKSet,
  type JWTPayload,
  type JWTVerifyGetKey,
} from 'jose';
import type { Viewer } from './model.js';

/** Asymmetric algorithms only: `none` and HMAC (which would take a public key as secret) are refused. */
/** Allowed clock skew between us and the issuer when checking exp/nbf. */
export const CLOCK_TOLERANCE_SECONDS = 5;

export const ACCEPTED_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];

export interface OidcSettings {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** The landing page's own origin as the browser sees it, e.g. https://nebari.example.com */
  publicUrl: string;
  /** Callback path (the NebariApp's auth.redirectURI). */
  redirectPath: string;
  scopes: string[];
  sessionTtlSeconds: number;
}

export interface ProviderMetadata {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
  jwks_uri: string;
  end_session_endpoint?: string;
}

export interface SignedInUser extends Viewer {
  name: string;
  email: string;
}

export type TokenRefusal = 'malformed' | 'signature' | 'expired' | 'audience' | 'issuer' | 'algorithm' | 'claims' | 'keys';

export class TokenError extends Error {
  constructor(
    readonly reason: TokenRefusal,
    message: string,
  ) {
    super(message);
    this.name = 'TokenError';
  }
}

function trimSlash(s: string): string {
  return s.endsWith('/') ? s.slice(0, -1) : s;
}

/** Fetches and checks the issuer's discovery document (its `issuer` must equal the configured issuer). */
export async function discover(issuer: string, fetchImpl: typeof fetch = fetch): Promise<ProviderMetadata> {
  const url = `${trimSlash(issuer)}/.well-known/openid-configuration`;
  const res = await fetchImpl(url, { signal: AbortSignal.timeout(10_000), headers: { accept: 'application/json' } });
  if (!res.ok) throw new Error(`OIDC discovery ${url}: HTTP ${res.status}`);
  const doc = (await res.json()) as Partial<ProviderMetadata>;
  for (const k of ['issuer', 'authorization_endpoint', 'token_endpoint', 'jwks_uri'] as const) {
    if (typeof doc[k] !== 'string' || doc[k] === '') throw new Error(`OIDC discovery ${url}: field ${k} is missing`);
  }
  if (trimSlash(doc.issuer!) !== trimSlash(issuer)) {
    throw new Error(`OIDC discovery ${url}: issuer ${doc.issuer} does not match configured issuer-url ${issuer}`);
  }
  return doc as ProviderMetadata;
}

export function remoteKeys(meta: ProviderMetadata): JWTVerifyGetKey {
  return createRemoteJWKSet(new URL(meta.jwks_uri), { timeoutDuration: 5000, cooldownDuration: 30_000 });
}

/**
 * Verifies a JWT (ID or access token): signature against the issuer's keys, `iss`, `aud` containing the client
 * id, `exp`/`nbf` (CLOCK_TOLERANCE_SECONDS of skew), an asymmetric algorithm, and a `sub`. Throws TokenError with the reason.
 */
export async function verifyToken(
  token: string,
  keys: JWTVerifyGetKey,
  expect: { issuer: string; audience: string; nonce?: string; now?: Date },
): Promise<JWTPayload> {
  if (typeof token !== 'string' || token.split('.').length !== 3) throw new TokenError('malformed', 'token is not a compact JWS');
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(token, keys, {
      issuer: [expect.issuer, trimSlash(expect.issuer), `${trimSlash(expect.issuer)}/`],
      audience: expect.audience,
      algorithms: ACCEPTED_ALGORITHMS,
      clockTolerance: CLOCK_TOLERANCE_SECONDS,
      requiredClaims: ['exp', 'sub'],
      currentDate: expect.now,
    }));
  } catch (e) {
    throw classify(e);
  }
  if (expect.nonce !== undefined && payload.nonce !== expect.nonce) throw new TokenError('claims', 'nonce does not match');
  return payload;
}

function classify(e: unknown): TokenError {
  if (e instanceof TokenError) return e;
  if (e instanceof joseErrors.JWTExpired) return new TokenError('expired', 'token expired');
  if (e instanceof joseErrors.JWTClaimValidationFailed) {
    if (e.claim === 'aud') return new TokenError('audience', 'token audience does not include this client');
    if (e.claim === 'iss') return new TokenError('issuer', 'token issuer is not the configured issuer');
    return new TokenError('claims', `token claim ${e.claim} is invalid`);
  }
  if (e instanceof joseErrors.JWSSignatureVerificationFailed) return new TokenError('signature', 'token signature is invalid');
  if (e instanceof joseErrors.JOSEAlgNotAllowed) return new TokenError('algorithm', 'token algorithm is not allowed');
  if (e instanceof joseErrors.JWKSNoMatchingKey) return new TokenError('signature', 'no issuer key matches the token');
  if (e instanceof joseErrors.JWKSTimeout || e instanceof joseErrors.JWKSInvalid) return new TokenError('keys', 'issuer keys unavailable');
  if (e instanceof joseErrors.JWSInvalid || e instanceof joseErrors.JWTInvalid) return new TokenError('malformed', 'token is malformed');
  return new TokenError('keys', `token could not be verified: ${(e as Error)?.name ?? 'error'}`);
}

/** The user as the page needs it; groups from the `groups` claim (strings only). */
export function userFromClaims(claims: JWTPayload): SignedInUser {
  const str = (v: unknown): string => (typeof v === 'string' ? v : '');
  // Frozen: a verified user is shared by every request with the same token (VerifiedTokens), and the list cache
  // remembers the key of a frozen group list (viewcache.ts viewerKey).
  const groups = Object.freeze(Array.isArray(claims.groups) ? claims.groups.filter((g): g is string => typeof g === 'string') : []) as string[];
  return {
    sub: str(claims.sub),
    name: str(claims.name) || str(claims.preferred_username) || str(claims.email) || str(claims.sub),
    email: str(claims.email),
    groups,
  };
}

/** Verified bearer tokens kept (oldest dropped first when full). */
export const MAX_VERIFIED_TOKENS = 5000;

export interface VerifiedToken {
  user: SignedInUser;
  /** Seconds since the epoch (0: claim absent). */
  exp: number;
  nbf: number;
  iat: number;
}

/**
 * Bearer tokens that passed verifyToken, kept until they expire: a client polling with the same token costs one
 * signature verification, not one per request. Keyed by the whole token string (signature included), so only the
 * exact bytes that were verified are ever answered from here; a refused token never enters. exp and nbf are
 * checked again on every use with the same clock tolerance as verifyToken; an expired entry is dropped and the
 * token verified again (which then refuses it with the real reason).
 */
export class VerifiedTokens {
  private readonly tokens = new Map<string, VerifiedToken>();
  /** Signature verifications done (misses), for tests and the benchmark. */
  verifications = 0;

  constructor(
    private readonly verify: (token: string) => Promise<JWTPayload>,
    private readonly max = MAX_VERIFIED_TOKENS,
    private readonly nowSeconds: () => number = () => Date.now() / 1000,
  ) {}

  async get(token: string): Promise<VerifiedToken> {
    const now = this.nowSeconds();
    const hit = this.tokens.get(token);
    if (hit) {
      if (usable(hit, now)) return hit;
      this.tokens.delete(token);
    }
    this.verifications++;
    const claims = await this.verify(token);
    const v: VerifiedToken = { user: userFromClaims(claims), exp: claims.exp ?? 0, nbf: claims.nbf ?? 0, iat: claims.iat ?? 0 };
    // Only what would still be accepted is kept (verify's clock may differ from ours in tests).
    if (!usable(v, this.nowSeconds())) return v;
    if (this.tokens.size >= this.max) {
      for (const [t, e] of this.tokens) if (!usable(e, now)) this.tokens.delete(t);
      if (this.tokens.size >= this.max) this.tokens.delete(this.tokens.keys().next().value!);
    }
    this.tokens.set(token, v);
    return v;
  }

  get size(): number {
    return this.tokens.size;
  }
}

function usable(v: VerifiedToken, now: number): boolean {
  return now <= v.exp + CLOCK_TOLERANCE_SECONDS && now >= v.nbf - CLOCK_TOLERANCE_SECONDS;
}

// ---- PKCE and random values ----

export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

export function pkceChallenge(verifier: string): string {
  return createHash('sha256').update(verifier).digest('base64url');
}

/** Only same-site relative paths may be a post-login destination (no open redirect). */
export function safeReturnTo(raw: unknown): string {
  if (typeof raw !== 'string' || !raw.startsWith('/') || raw.startsWith('//') || raw.startsWith('/\\')) return '/';
  for (const ch of raw) if (ch.charCodeAt(0) < 0x20 || ch === '\\') return '/';
  return raw;
}

export function authorizationUrl(
  meta: ProviderMetadata,
  s: Pick<OidcSettings, 'clientId' | 'scopes'>,
  redirectUri: string,
  p: { state: string; nonce: string; verifier: string },
): string {
  const u = new URL(meta.authorization_endpoint);
  u.searchParams.set('response_type', 'code');
  u.searchParams.set('client_id', s.clientId);
  u.searchParams.set('redirect_uri', redirectUri);
  u.searchParams.set('scope', [...new Set(['openid', ...s.scopes])].join(' '));
  u.searchParams.set('state', p.state);
  u.searchParams.set('nonce', p.nonce);
  u.searchParams.set('code_challenge', pkceChallenge(p.verifier));
  u.searchParams.set('code_challenge_method', 'S256');
  return u.href;
}

export async function exchangeCode(
  meta: ProviderMetadata,
  s: Pick<OidcSettings, 'clientId' | 'clientSecret'>,
  redirectUri: string,
  code: string,
  verifier: string,
  fetchImpl: typeof fetch = fetch,
): Promise<{ id_token: string; access_token?: string }> {
  const body = new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: verifier });
  const basic = Buffer.from(`${encodeURIComponent(s.clientId)}:${encodeURIComponent(s.clientSecret)}`).toString('base64');
  const res = await fetchImpl(meta.token_endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json', authorization: `Basic ${basic}` },
    body,
    signal: AbortSignal.timeout(10_000),
  });
  if (!res.ok) throw new Error(`token endpoint: HTTP ${res.status}`);
  const json = (await res.json()) as { id_token?: unknown; access_token?: unknown };
  if (typeof json.id_token !== 'string') throw new Error('token endpoint: response has no id_token');
  return { id_token: json.id_token, access_token: typeof json.access_token === 'string' ? json.access_token : undefined };
}

export function logoutUrl(meta: ProviderMetadata, s: Pick<OidcSettings, 'clientId' | 'publicUrl'>, idTokenHint?: string): string {
  if (!meta.end_session_endpoint) return '/';
  const u = new URL(meta.end_session_endpoint);
  u.searchParams.set('client_id', s.clientId);
  u.searchParams.set('post_logout_redirect_uri', `${trimSlash(s.publicUrl)}/`);
  if (idTokenHint) u.searchParams.set('id_token_hint', idTokenHint);
  return u.href;
}

// ---- Encrypted cookies (JWE, dir + A256GCM) ----

/** 256-bit cookie key derived from a secret (the OIDC client secret, or SESSION_SECRET when set). */
export function cookieKey(secret: string): Uint8Array {
  if (secret.length < 16) throw new Error('session secret must be at least 16 characters');
  return new Uint8Array(hkdfSync('sha256', secret, 'nkp-landing', 'cookie-encryption-v1', 32));
}

type Purpose = 'session' | 'login';

export async function seal(key: Uint8Array, purpose: Purpose, claims: Record<string, unknown>, ttlSeconds: number, now = new Date()): Promise<string> {
  const iat = Math.floor(now.getTime() / 1000);
  return new EncryptJWT(claims)
    .setProtectedHeader({ alg: 'dir', enc: 'A256GCM' })
    .setAudience(`landing-${purpose}`)
    .setIssuedAt(iat)
    .setExpirationTime(iat + ttlSeconds)
    .encrypt(key);
}

/** Decrypts and checks purpose and expiry; null on any failure (tampered, expired, other purpose). */
export async function unseal(key: Uint8Array, purpose: Purpose, token: string | undefined, now = new Date()): Promise<JWTPayload | null> {
  if (!token) return null;
  try {
    const { payload } = await jwtDecrypt(token, key, { audience: `landing-${purpose}`, currentDate: now, keyManagementAlgorithms: ['dir'], contentEncryptionAlgorithms: ['A256GCM'] });
    return payload;
  } catch {
    return null;
  }
}

export interface SessionData {
  user: SignedInUser;
  idToken?: string;
  exp: number;
  /** When the session was issued (seconds). */
  iat: number;
}

export async function sealSession(key: Uint8Array, user: SignedInUser, ttl: number, idToken?: string): Promise<string> {
  // The ID token rides along only while the cookie stays well under the 4 KiB browser limit.
  const hint = idToken && idToken.length <= 1800 ? idToken : undefined;
  return seal(key, 'session', { u: user, ...(hint ? { h: hint } : {}) }, ttl);
}

export async function unsealSession(key: Uint8Array, token: string | undefined): Promise<SessionData | null> {
  const p = await unseal(key, 'session', token);
  if (!p || typeof p.u !== 'object' || p.u === null) return null;
  const u = p.u as Partial<SignedInUser>;
  if (typeof u.sub !== 'string' || u.sub === '') return null;
  return {
    user: {
      sub: u.sub,
      name: typeof u.name === 'string' ? u.name : u.sub,
      email: typeof u.email === 'string' ? u.email : '',
      groups: Array.isArray(u.groups) ? u.groups.filter((g): g is string => typeof g === 'string') : [],
    },
    idToken: typeof p.h === 'string' ? p.h : undefined,
    exp: p.exp ?? 0,
    iat: p.iat ?? 0,
  };
}

// ---- Cookie header helpers ----

export function parseCookies(header: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  if (!header) return out;
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i <= 0) continue;
    const k = part.slice(0, i).trim();
    if (!out.has(k)) out.set(k, part.slice(i + 1).trim());
  }
  return out;
}

export function cookieNames(secure: boolean): { session: string; login: string } {
  // __Host- binds the cookie to this exact origin (Secure, Path=/, no Domain); only possible over https.
  return secure ? { session: '__Host-landing-session', login: '__Host-landing-login' } : { session: 'landing-session', login: 'landing-login' };
}

export function setCookie(name: string, value: string, opts: { secure: boolean; maxAge: number }): string {
  const parts = [`${name}=${value}`, 'Path=/', 'HttpOnly', 'SameSite=Lax', `Max-Age=${Math.max(0, Math.floor(opts.maxAge))}`];
  if (opts.secure) parts.push('Secure');
  return parts.join('; ');
}
