// The HTTP edge: page + static assets, JSON API, SSE stream, OIDC sign-in/out, health endpoints.
// Every response that leaves here for a user was filtered through canSee() for that user.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, extname } from 'node:path';
import type { JWTVerifyGetKey } from 'jose';
import type { Logger } from '../../../operator/src/runtime/logger.js';
import {
  authorizationUrl,
  cookieKey,
  cookieNames,
  discover,
  exchangeCode,
  logoutUrl,
  parseCookies,
  randomToken,
  remoteKeys,
  safeReturnTo,
  seal,
  sealSession,
  setCookie,
  unseal,
  unsealSession,
  userFromClaims,
  verifyToken,
  TokenError,
  VerifiedTokens,
  CLOCK_TOLERANCE_SECONDS,
  type OidcSettings,
  type ProviderMetadata,
  type SignedInUser,
} from './auth.js';
import { filterGroups, viewFor, type Viewer } from './model.js';
import {
  InputError,
  checkDecision,
  checkNewRequest,
  decided,
  effectiveGroups,
  isAdmin,
  markRead,
  notificationsFor,
  parseDecisionInput,
  parsePinInput,
  parseReadInput,
  parseRequestInput,
  requestView,
  setPin,
} from './features.js';
import { KeycloakAdminError, type KeycloakAdmin } from './keycloak-admin.js';
import type { LandingMetrics } from './metrics.js';
import { packsView, type PackWatcher } from './packs.js';
import type { AppStore } from './store.js';
import type { ClusterState } from './userstate.js';
import { MAX_PAGE, pageGroups, type AdminPayload, type UserPayload } from './view.js';
import { parseTarget, type Target } from './target.js';
import { GZIP_MIN_BYTES, MAX_CACHED_VIEWS, ViewCache, type CachedView, type Encoded } from './viewcache.js';

export interface OidcOptions {
  settings: OidcSettings;
  /** Session cookie encryption secret; defaults to the client secret. */
  sessionSecret?: string;
  fetch?: typeof fetch;
}

/** Pins, access requests, notifications and the admin view; absent parts switch their endpoints off. */
export interface FeatureOptions {
  /** Durable per-user state and access requests (ConfigMaps); null: pins, notifications' read marks and requests are off. */
  state: ClusterState | null;
  /** Keycloak Admin API client for approvals; null: approvals answer 503. */
  keycloak: KeycloakAdmin | null;
  /** Members of any of these groups are platform admins. */
  adminGroups: readonly string[];
  packs: PackWatcher | null;
  packsProject: string;
}

export interface LandingServerOptions {
  features?: FeatureOptions;
  store: AppStore;
  staticDir: string;
  log: Logger;
  metrics: LandingMetrics;
  /** null: sign-in disabled (only public apps are ever shown). */
  oidc: OidcOptions | null;
  /** Extra readiness condition (e.g. the informer's first list). */
  ready?: () => boolean;
  heartbeatMs?: number;
  /** Store changes within this window go out as one snapshot. */
  coalesceMs?: number;
  maxStreams?: number;
}

export interface LandingServer {
  server: Server;
  listen(port: number, host?: string): Promise<number>;
  close(): Promise<void>;
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.map': 'application/json',
};

/** Unsent bytes allowed per SSE stream before the stream is closed. */
const MAX_STREAM_BUFFER = 8 * 1024 * 1024;

interface Asset {
  body: Buffer;
  type: string;
}

/** Loads the built web assets into memory once; only these exact paths are ever served. */
export function loadAssets(dir: string): Map<string, Asset> {
  const out = new Map<string, Asset>();
  const walk = (d: string, prefix: string): void => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p, `${prefix}${name}/`);
      else out.set(`${prefix}${name}`, { body: readFileSync(p), type: CONTENT_TYPES[extname(name)] ?? 'application/octet-stream' });
    }
  };
  walk(dir, '');
  if (!out.has('index.html')) throw new Error(`static dir ${dir} has no index.html (build the web assets first)`);
  return out;
}

/** The Content-Security-Policy: no inline script or style, no framing, forms only to us and the issuer. */
export function contentSecurityPolicy(issuer: string | null): string {
  let issuerOrigin = '';
  if (issuer) {
    try {
      issuerOrigin = ` ${new URL(issuer).origin}`;
    } catch {
      issuerOrigin = '';
    }
  }
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' https:",
    "connect-src 'self'",
    "manifest-src 'self'",
    "base-uri 'none'",
    `form-action 'self'${issuerOrigin}`,
    "frame-ancestors 'none'",
    "object-src 'none'",
    "require-trusted-types-for 'script'",
    "trusted-types 'none'",
  ].join('; ');
}

interface Stream {
  res: ServerResponse;
  user: SignedInUser | null;
  /** Issued-at of the session or token (seconds): approvals after it widen the groups (features.effectiveGroups). */
  iat: number;
  /** ETag of the last app list sent. */
  last: string;
  lastUser: string;
  lastAdmin: string;
  expiry?: NodeJS.Timeout;
}

const JSON_TYPE = 'application/json; charset=utf-8';
/** The lists differ by who asks (bearer token or session cookie) and by encoding. */
const VARY = 'Authorization, Cookie, Accept-Encoding';
const ACCEPTS_GZIP = /\bgzip\b/;

/** Largest JSON body accepted on the write endpoints. */
const MAX_BODY = 16 * 1024;
const REQUEST_ID = /^[0-9a-f]{16}$/;

export function createLandingServer(opts: LandingServerOptions): LandingServer {
  const { store, log, metrics } = opts;
  const assets = loadAssets(opts.staticDir);
  const oidc = opts.oidc;
  const secure = oidc ? oidc.settings.publicUrl.startsWith('https:') : false;
  const names = cookieNames(secure);
  const key = oidc ? cookieKey(oidc.sessionSecret ?? oidc.settings.clientSecret) : null;
  const csp = contentSecurityPolicy(oidc?.settings.issuer ?? null);
  const redirectUri = oidc ? new URL(oidc.settings.redirectPath, oidc.settings.publicUrl).href : '';
  const publicOrigin = oidc ? new URL(oidc.settings.publicUrl).origin : null;
  const heartbeatMs = opts.heartbeatMs ?? 15_000;
  const coalesceMs = opts.coalesceMs ?? 50;
  const maxStreams = opts.maxStreams ?? 2000;
  const features = opts.features;
  const state = features?.state ?? null;
  const adminGroups = features?.adminGroups ?? [];

  // ---- OIDC provider (discovered lazily, retried after a failure) ----
  let provider: Promise<{ meta: ProviderMetadata; keys: JWTVerifyGetKey }> | null = null;
  let providerOk = false;
  const getProvider = (): Promise<{ meta: ProviderMetadata; keys: JWTVerifyGetKey }> => {
    if (!oidc) return Promise.reject(new Error('sign-in is not configured'));
    if (!provider) {
      provider = discover(oidc.settings.issuer, oidc.fetch).then(
        (meta) => {
          providerOk = true;
          return { meta, keys: remoteKeys(meta) };
        },
        (e: unknown) => {
          provider = null;
          throw e;
        },
      );
    }
    return provider;
  };
  if (oidc) getProvider().catch((e: unknown) => log.warn('oidc discovery failed; retrying on demand', { err: e }));

  // ---- per-viewer lists: encoded once, dropped only by the store changes that touch them ----
  const views = new ViewCache(store, state !== null, MAX_CACHED_VIEWS, () => metrics.viewBuilds.inc());
  const view = (v: Viewer | null): CachedView => views.get(v);
  const page = (v: CachedView, offset: number, limit: number): Encoded =>
    v.page(`${offset}:${limit}`, () => {
      const { groups, total } = pageGroups(v.groups, offset, limit);
      const next = offset + limit < total ? `/api/apps?limit=${limit}&offset=${offset + limit}` : undefined;
      return { groups, total, offset, limit, ...(next ? { next } : {}) };
    });
  /** limit/offset query parameters; null when absent (the whole list). */
  const pageParams = (url: Target): { offset: number; limit: number } | null => {
    const l = url.searchParams.get('limit');
    const o = url.searchParams.get('offset');
    if (l === null && o === null) return null;
    const limit = l === null ? 100 : Number(l);
    const offset = o === null ? 0 : Number(o);
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE) throw new InputError(400, 'limit', `limit: "${l}" is not allowed; allowed: an integer 1..${MAX_PAGE}`);
    if (!Number.isInteger(offset) || offset < 0) throw new InputError(400, 'offset', `offset: "${o}" is not allowed; allowed: an integer >= 0`);
    return { offset, limit };
  };
  // ---- per-user state, requests, admin view ----

  /** The viewer for visibility: token groups plus groups approved since the token was issued. */
  const effective = (user: SignedInUser | null, iat: number): Viewer | null => {
    if (!user) return null;
    if (!state) return { sub: user.sub, groups: user.groups };
    return { sub: user.sub, groups: effectiveGroups(user.groups, user.sub, iat, state.cache.requestsOf(user.sub)) };
  };
  const userPayload = (user: SignedInUser, viewer: Viewer): UserPayload => {
    const st = state!.cache.user(user.sub);
    const mine = state!.cache.requestsOf(user.sub).sort((a, b) => b.createdAt - a.createdAt);
    const notifications = notificationsFor(viewer, (id) => store.get(id), store.healthEvents, mine, st);
    // Pins of apps the viewer cannot see (any more) are kept but not sent: their ids could name private apps.
    const pins = st.pins.filter((id) => {
      const e = store.get(id);
      return e !== undefined && viewFor([e], viewer, store.healthOf).length > 0;
    });
    return {
      pins,
      requests: mine.map((r) => requestView(r, store.get(r.app), false)),
      notifications,
      unread: notifications.filter((n) => !n.read).length,
      admin: isAdmin(user, adminGroups),
    };
  };
  let adminCache = { key: '', json: '' };
  const adminPayload = (): AdminPayload => ({
    requests: state ? [...state.cache.allRequests()].sort((a, b) => b.createdAt - a.createdAt).slice(0, 200).map((r) => requestView(r, store.get(r.app), true)) : [],
    packs: features?.packs ? packsView(features.packs.apps.values(), features.packsProject, (id) => store.conditionsOf(id)) : [],
  });
  const adminJson = (): string => {
    const k = `${store.version}:${store.adminVersion}:${state?.cache.version ?? 0}:${features?.packs?.version ?? 0}`;
    if (adminCache.key !== k) adminCache = { key: k, json: JSON.stringify(adminPayload()) };
    return adminCache.json;
  };

  // ---- SSE streams ----
  const streams = new Set<Stream>();
  let flushTimer: NodeJS.Timeout | undefined;
  const flush = (): void => {
    flushTimer = undefined;
    for (const s of streams) send(s);
  };
  const write = (s: Stream, event: string, json: string | Buffer): void => {
    // A client that does not read its stream is dropped rather than buffered without bound; it reconnects.
    if (s.res.writableLength > MAX_STREAM_BUFFER) {
      s.res.end();
      return;
    }
    // JSON.stringify output has no raw newline, so one data: line carries it.
    s.res.cork();
    s.res.write(`event: ${event}\ndata: `);
    s.res.write(json);
    s.res.write('\n\n');
    s.res.uncork();
    metrics.sseMessages.inc();
  };
  const send = (s: Stream): void => {
    const viewer = effective(s.user, s.iat);
    const v = view(viewer);
    if (v.etag !== s.last) {
      s.last = v.etag;
      write(s, 'apps', v.body);
    }
    if (!s.user || !state) return;
    const u = JSON.stringify(userPayload(s.user, viewer!));
    if (u !== s.lastUser) {
      s.lastUser = u;
      write(s, 'user', u);
    }
    if (isAdmin(s.user, adminGroups)) {
      const a = adminJson();
      if (a !== s.lastAdmin) {
        s.lastAdmin = a;
        write(s, 'admin', a);
      }
    }
  };
  const schedule = (): void => {
    if (!flushTimer) flushTimer = setTimeout(flush, coalesceMs);
  };
  const unsubscribers = [
    views.stop,
    store.onChange((c) => {
      if (c.kind !== 'health') updateAppGauge();
      schedule();
    }),
    store.onAdminChange(schedule),
    ...(state ? [state.cache.onChange(schedule)] : []),
    ...(features?.packs ? [features.packs.subscribe(schedule)] : []),
  ];
  const unsubscribe = (): void => unsubscribers.forEach((u) => u());
  const heartbeat = setInterval(() => {
    for (const s of streams) s.res.write(': keep-alive\n\n');
  }, heartbeatMs);
  heartbeat.unref();

  const updateAppGauge = (): void => {
    let pub = 0;
    let priv = 0;
    for (const e of store.all()) {
      if (e.visibility === 'public') pub++;
      else priv++;
    }
    metrics.apps.set({ visibility: 'public' }, pub);
    metrics.apps.set({ visibility: 'private' }, priv);
  };
  updateAppGauge();

  // ---- helpers ----
  const baseHeaders = (res: ServerResponse): void => {
    res.setHeader('Content-Security-Policy', csp);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    // same-origin (not no-referrer): Chrome then sends a real Origin on our own form POSTs (sign-out checks it).
    res.setHeader('Referrer-Policy', 'same-origin');
    res.setHeader('X-Frame-Options', 'DENY');
    res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
    res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
    if (secure) res.setHeader('Strict-Transport-Security', 'max-age=31536000');
  };
  /** A JSON answer with its Content-Length (set by end(), so never chunked); `extra` headers beside the defaults. */
  const json = (res: ServerResponse, status: number, body: unknown, extra?: Record<string, string | string[]>): void => {
    const text = typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
    res.statusCode = status;
    res.setHeader('Content-Type', JSON_TYPE);
    res.setHeader('Cache-Control', 'no-store');
    if (extra) for (const k of Object.keys(extra)) res.setHeader(k, extra[k]!);
    res.end(text);
  };
  /**
   * The unfiltered list: ETag/If-None-Match (304), and gzip when the client accepts it, compressed once per body in
   * the thread pool. A list that is not compressed yet (just rebuilt after a change) goes out as it is meanwhile: a
   * fresh list is never held back by its compression, nor is a stale one sent in its place.
   */
  const sendView = (req: IncomingMessage, res: ServerResponse, v: Encoded): void => {
    if (req.headers['if-none-match'] === v.etag) {
      res.statusCode = 304;
      res.setHeader('Cache-Control', 'no-store');
      res.setHeader('ETag', v.etag);
      res.setHeader('Vary', VARY);
      res.end();
      return;
    }
    let body = v.body;
    if (v.body.length > GZIP_MIN_BYTES && ACCEPTS_GZIP.test(req.headers['accept-encoding'] ?? '')) {
      if (v.gz) body = v.gz;
      else v.gzipped().catch((e: unknown) => log.warn('gzip of an app list failed; sent uncompressed', { err: e }));
    }
    res.setHeader('ETag', v.etag);
    res.setHeader('Vary', VARY);
    if (body !== v.body) res.setHeader('Content-Encoding', 'gzip');
    json(res, 200, body);
  };
  const redirect = (res: ServerResponse, location: string, cookies: string[] = []): void => {
    res.writeHead(303, { Location: location, 'Cache-Control': 'no-store', ...(cookies.length ? { 'Set-Cookie': cookies } : {}) });
    res.end();
  };

  type Who = { ok: true; viewer: SignedInUser | null; exp?: number; iat: number; clearCookie?: boolean } | { ok: false; reason: string };

  // Verified bearer tokens, kept until they expire (auth.ts VerifiedTokens): one signature check per token.
  const tokens = new VerifiedTokens(async (token) => {
    const { keys } = await getProvider();
    return verifyToken(token, keys, { issuer: oidc!.settings.issuer, audience: oidc!.settings.clientId });
  });

  /** Bearer token (API clients) or session cookie (browser); a bad bearer token is an error, not anonymity. */
  const identify = async (req: IncomingMessage): Promise<Who> => {
    const authz = req.headers.authorization;
    if (authz !== undefined) {
      if (!oidc) return { ok: false, reason: 'sign-in is not configured' };
      const m = /^Bearer\s+(\S+)$/i.exec(authz);
      if (!m) return { ok: false, reason: 'malformed' };
      try {
        const t = await tokens.get(m[1]!);
        metrics.auth.inc({ result: 'bearer_ok' });
        return { ok: true, viewer: t.user, exp: t.exp, iat: t.iat };
      } catch (e) {
        const reason = e instanceof TokenError ? e.reason : 'keys';
        metrics.auth.inc({ result: `bearer_${reason}` });
        return { ok: false, reason };
      }
    }
    if (!key) return { ok: true, viewer: null, iat: 0 };
    const raw = parseCookies(req.headers.cookie).get(names.session);
    if (!raw) return { ok: true, viewer: null, iat: 0 };
    const s = await unsealSession(key, raw);
    if (!s) return { ok: true, viewer: null, iat: 0, clearCookie: true };
    return { ok: true, viewer: s.user, exp: s.exp, iat: s.iat };
  };

  const refuse = (res: ServerResponse, reason: string): void =>
    json(res, 401, { error: 'invalid_token', reason }, { 'WWW-Authenticate': `Bearer error="invalid_token"` });

  // ---- routes ----
  const handleLogin = async (url: Target, res: ServerResponse): Promise<void> => {
    if (!oidc || !key) return json(res, 404, { error: 'sign-in is not configured' });
    let meta: ProviderMetadata;
    try {
      ({ meta } = await getProvider());
    } catch (e) {
      log.warn('sign-in unavailable: issuer discovery failed', { err: e });
      return json(res, 503, { error: 'the sign-in provider is unavailable' });
    }
    const p = { state: randomToken(), nonce: randomToken(), verifier: randomToken(48) };
    const returnTo = safeReturnTo(url.searchParams.get('returnTo'));
    const cookie = await seal(key, 'login', { ...p, r: returnTo }, 600);
    redirect(res, authorizationUrl(meta, oidc.settings, redirectUri, p), [setCookie(names.login, cookie, { secure, maxAge: 600 })]);
  };

  const handleCallback = async (req: IncomingMessage, url: Target, res: ServerResponse): Promise<void> => {
    if (!oidc || !key) return json(res, 404, { error: 'sign-in is not configured' });
    const clearLogin = setCookie(names.login, '', { secure, maxAge: 0 });
    const fail = (why: string, err?: unknown): void => {
      metrics.auth.inc({ result: 'login_failed' });
      log.warn('sign-in failed', { reason: why, ...(err ? { err } : {}) });
      res.writeHead(400, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store', 'Set-Cookie': [clearLogin] });
      res.end(`Sign-in failed: ${why}. Go back to the start page and try again.\n`);
    };
    const login = await unseal(key, 'login', parseCookies(req.headers.cookie).get(names.login));
    if (!login) return fail('the sign-in attempt expired or was started elsewhere');
    if (url.searchParams.get('error')) return fail(`the issuer answered ${url.searchParams.get('error')}`);
    const code = url.searchParams.get('code');
    if (!code || url.searchParams.get('state') !== login.state) return fail('state does not match');
    try {
      const { meta, keys } = await getProvider();
      const tokens = await exchangeCode(meta, oidc.settings, redirectUri, code, String(login.verifier), oidc.fetch);
      const claims = await verifyToken(tokens.id_token, keys, { issuer: oidc.settings.issuer, audience: oidc.settings.clientId, nonce: String(login.nonce) });
      const user = userFromClaims(claims);
      const session = await sealSession(key, user, oidc.settings.sessionTtlSeconds, tokens.id_token);
      metrics.auth.inc({ result: 'login_ok' });
      log.info('signed in', { sub: user.sub, groups: user.groups.length });
      redirect(res, safeReturnTo(login.r), [clearLogin, setCookie(names.session, session, { secure, maxAge: oidc.settings.sessionTtlSeconds })]);
    } catch (e) {
      fail(e instanceof TokenError ? `the ID token was refused (${e.reason})` : 'the code exchange failed', e);
    }
  };

  const handleLogout = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const origin = req.headers.origin;
    if (origin !== undefined && origin !== publicOrigin) return json(res, 403, { error: 'cross-origin sign-out refused' });
    const clear = names ? [setCookie(names.session, '', { secure, maxAge: 0 })] : [];
    if (!oidc || !key) return redirect(res, '/', clear);
    const s = await unsealSession(key, parseCookies(req.headers.cookie).get(names.session));
    let target = '/';
    try {
      const { meta } = await getProvider();
      target = logoutUrl(meta, oidc.settings, s?.idToken);
    } catch (e) {
      log.warn('issuer unavailable at sign-out; local session ended only', { err: e });
    }
    if (s) log.info('signed out', { sub: s.user.sub });
    redirect(res, target, clear);
  };

  const handleEvents = (req: IncomingMessage, res: ServerResponse, who: Extract<Who, { ok: true }>): void => {
    if (streams.size >= maxStreams) return json(res, 503, { error: 'too many open streams' }, { 'Retry-After': '5' });
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    res.write('retry: 2000\n\n');
    const s: Stream = { res, user: who.viewer, iat: who.iat, last: '', lastUser: '', lastAdmin: '' };
    if (who.exp) {
      // The stream ends when the session or token does; the browser reconnects as whoever it is then.
      const ms = (who.exp + CLOCK_TOLERANCE_SECONDS) * 1000 - Date.now() + 250;
      s.expiry = setTimeout(() => res.end(), Math.max(0, Math.min(ms, 2 ** 31 - 1)));
      s.expiry.unref();
    }
    streams.add(s);
    metrics.sseClients.set(streams.size);
    send(s);
    const done = (): void => {
      clearTimeout(s.expiry);
      if (streams.delete(s)) metrics.sseClients.set(streams.size);
    };
    req.on('close', done);
    res.on('close', done);
  };

  /** Reads a JSON body (at most MAX_BODY bytes, Content-Type application/json). */
  const readJson = async (req: IncomingMessage): Promise<unknown> => {
    if (!/^application\/json\b/i.test(String(req.headers['content-type'] ?? ''))) throw new InputError(415, 'content-type', 'content-type: must be application/json');
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of req as AsyncIterable<Buffer>) {
      size += c.length;
      if (size > MAX_BODY) throw new InputError(413, 'body', `body: at most ${MAX_BODY} bytes`);
      chunks.push(c);
    }
    try {
      return JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      throw new InputError(400, 'body', 'body: must be a JSON object');
    }
  };

  /** POST /api/me/pins, /api/me/notifications/read, /api/requests, /api/admin/requests/<id>. */
  const handleWrite = async (req: IncomingMessage, res: ServerResponse, path: string): Promise<string> => {
    const name = path.startsWith('/api/admin/requests/') ? 'admin/requests' : path.slice(5);
    // Same-origin only: the cookie is SameSite=Lax and JSON bodies need a CORS preflight, and Origin is checked too.
    const origin = req.headers.origin;
    if (origin !== undefined && origin !== publicOrigin) return (json(res, 403, { error: 'cross-origin request refused' }), name);
    if (!state) return (json(res, 404, { error: 'user state is not configured' }), name);
    const who = await identify(req);
    if (!who.ok) return (refuse(res, who.reason), name);
    const user = who.viewer;
    if (!user) return (json(res, 401, { error: 'sign-in required' }), name);
    const viewer = effective(user, who.iat)!;
    try {
      if (path === '/api/me/pins') {
        const input = parsePinInput(await readJson(req));
        if (input.pinned && !store.get(input.app)) throw new InputError(404, 'app', 'app: no app you can see has this id');
        if (input.pinned && viewFor([store.get(input.app)!], viewer, store.healthOf).length === 0) throw new InputError(404, 'app', 'app: no app you can see has this id');
        await state.updateUser(user.sub, (st) => setPin(st, input.app, input.pinned));
        json(res, 200, userPayload(user, viewer));
      } else if (path === '/api/me/notifications/read') {
        const input = parseReadInput(await readJson(req));
        await state.updateUser(user.sub, (st) => markRead(st, input, Date.now()));
        json(res, 200, userPayload(user, viewer));
      } else if (path === '/api/requests') {
        const input = parseRequestInput(await readJson(req));
        checkNewRequest(store.get(input.app), viewer, state.cache.allRequests());
        const r = await state.createRequest({ app: input.app, sub: user.sub, name: user.name, email: user.email, reason: input.reason, createdAt: Date.now(), status: 'pending' });
        log.info('access requested', { request: r.id, app: r.app, sub: r.sub });
        json(res, 201, requestView(r, store.get(r.app), false));
      } else if (path.startsWith('/api/admin/requests/')) {
        const id = path.slice('/api/admin/requests/'.length);
        const input = parseDecisionInput(await readJson(req));
        if (!isAdmin(user, adminGroups)) throw new InputError(403, 'actor', 'only platform admins decide access requests');
        if (!REQUEST_ID.test(id)) throw new InputError(400, 'id', 'id: must be 16 lower-case hex characters');
        const stored = await state.readRequest(id);
        const { group } = checkDecision(stored?.req, stored ? store.get(stored.req.app) : undefined, user, adminGroups, input);
        const r = stored!.req;
        if (input.decision === 'approve') {
          if (!features?.keycloak) throw new InputError(503, 'keycloak', 'approvals need the Keycloak admin client (KEYCLOAK_ADMIN_CLIENT_ID/SECRET)');
          await features.keycloak.addToGroup(r.sub, group!);
        }
        const next = decided(r, { sub: user.sub, name: user.name }, input.decision, group, Date.now());
        try {
          await state.writeDecision(next, stored!.rv);
        } catch (e) {
          if ((e as { code?: number }).code === 409) throw new InputError(409, 'status', 'status: the request was decided by someone else meanwhile');
          throw e;
        }
        log.info('access request decided', { request: r.id, app: r.app, sub: r.sub, decision: next.status, group: group ?? null, by: user.sub, at: next.decidedAt });
        json(res, 200, requestView(next, store.get(next.app), true));
      } else {
        json(res, 404, { error: 'not found' });
      }
    } catch (e) {
      if (e instanceof InputError) json(res, e.status, { error: e.message, field: e.field });
      else if (e instanceof KeycloakAdminError) {
        log.warn('Keycloak admin call failed', { err: e.message, status: e.status });
        json(res, e.status === 409 ? 409 : 502, { error: e.message });
      } else throw e;
    }
    return name;
  };

  const route = async (req: IncomingMessage, res: ServerResponse, url: Target): Promise<string> => {
    const path = url.pathname;
    const method = req.method ?? 'GET';
    if (path === '/healthz') {
      json(res, 200, { status: 'ok' });
      return 'healthz';
    }
    if (path === '/readyz') {
      const ok = (opts.ready?.() ?? true) && (!oidc || providerOk);
      if (oidc && !providerOk) getProvider().catch(() => undefined);
      json(res, ok ? 200 : 503, { status: ok ? 'ready' : 'not ready' });
      return 'readyz';
    }
    if (method === 'POST' && path === '/auth/logout') {
      await handleLogout(req, res);
      return 'logout';
    }
    if (method === 'POST' && path.startsWith('/api/')) return handleWrite(req, res, path);
    if (method !== 'GET' && method !== 'HEAD') {
      json(res, 405, { error: 'method not allowed' }, { Allow: 'GET, HEAD' });
      return 'other';
    }
    if (path === '/auth/login') {
      await handleLogin(url, res);
      return 'login';
    }
    if (oidc && path === oidc.settings.redirectPath) {
      await handleCallback(req, url, res);
      return 'callback';
    }
    if (path === '/api/apps' || path === '/api/me' || path === '/api/events' || path === '/api/me/state' || path === '/api/admin') {
      const who = await identify(req);
      if (!who.ok) {
        refuse(res, who.reason);
        return path.slice(5);
      }
      if (who.clearCookie) res.setHeader('Set-Cookie', setCookie(names.session, '', { secure, maxAge: 0 }));
      if (path === '/api/me/state' || path === '/api/admin') {
        if (!who.viewer) return (json(res, 401, { error: 'sign-in required' }), path.slice(5));
        if (!state) return (json(res, 404, { error: 'user state is not configured' }), path.slice(5));
        if (path === '/api/me/state') json(res, 200, userPayload(who.viewer, effective(who.viewer, who.iat)!));
        else if (!isAdmin(who.viewer, adminGroups)) json(res, 403, { error: 'platform admins only' });
        else json(res, 200, adminJson());
        return path.slice(5);
      }
      if (path === '/api/me') {
        json(res, 200, who.viewer ? { authenticated: true, signInAvailable: !!oidc, user: who.viewer } : { authenticated: false, signInAvailable: !!oidc });
        return 'me';
      }
      if (path === '/api/events') {
        handleEvents(req, res, who);
        return 'events';
      }
      const v = view(effective(who.viewer, who.iat));
      const q = url.searchParams.get('q') ?? '';
      const category = url.searchParams.get('category') ?? '';
      let paging: ReturnType<typeof pageParams>;
      try {
        paging = pageParams(url);
      } catch (e) {
        json(res, 400, { error: (e as InputError).message, field: (e as InputError).field });
        return 'apps';
      }
      if (paging && (q !== '' || category !== '')) json(res, 400, { error: 'limit: paging applies to the unfiltered list; drop q/category or limit/offset', field: 'limit' });
      else if (paging) sendView(req, res, page(v, paging.offset, paging.limit));
      else if (q === '' && category === '') sendView(req, res, v);
      else json(res, 200, { groups: filterGroups(v.groups, q, category) });
      return 'apps';
    }
    const file = path === '/' || path === '/index.html' ? 'index.html' : path.startsWith('/static/') ? path.slice(8) : null;
    const asset = file !== null ? assets.get(file) : undefined;
    if (asset) {
      res.writeHead(200, { 'Content-Type': asset.type, 'Cache-Control': file === 'index.html' ? 'no-cache' : 'public, max-age=300' });
      res.end(method === 'HEAD' ? undefined : asset.body);
      return file === 'index.html' ? 'page' : 'static';
    }
    json(res, 404, { error: 'not found' });
    return 'other';
  };

  const server = createServer((req, res) => {
    const t0 = performance.now();
    let url: Target;
    try {
      url = parseTarget(req.url ?? '/');
    } catch {
      res.writeHead(400).end();
      return;
    }
    baseHeaders(res);
    route(req, res, url).then(
      (name) => {
        metrics.requests.inc({ route: name, method: req.method ?? 'GET', code: String(res.statusCode) });
        if (name !== 'events') metrics.requestDuration.observe({ route: name }, (performance.now() - t0) / 1000);
        if (name !== 'healthz' && name !== 'readyz' && name !== 'static') {
          log.debug('request', { method: req.method, path: url.pathname, status: res.statusCode, ms: Math.round(performance.now() - t0) });
        }
      },
      (e: unknown) => {
        log.error('request failed', { method: req.method, path: url.pathname, err: e });
        if (!res.headersSent) json(res, 500, { error: 'internal error' });
        else res.end();
      },
    );
  });
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  server.requestTimeout = 30_000;

  return {
    server,
    listen: (port, host = '127.0.0.1') =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          const a = server.address();
          resolve(typeof a === 'object' && a ? a.port : port);
        });
      }),
    close: () =>
      new Promise((resolve) => {
        unsubscribe();
        clearInterval(heartbeat);
        clearTimeout(flushTimer);
        for (const s of streams) {
          clearTimeout(s.expiry);
          s.res.end();
        }
        streams.clear();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
