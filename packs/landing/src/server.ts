// The HTTP edge: page + static assets, JSON API, SSE stream, OIDC sign-in/out, health endpoints.
// Every response that leaves here for a user was filtered through canSee() for that user.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
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
  CLOCK_TOLERANCE_SECONDS,
  type OidcSettings,
  type ProviderMetadata,
  type SignedInUser,
} from './auth.js';
import { filterGroups, normalizeGroup, viewFor, type Group, type Viewer } from './model.js';
import type { LandingMetrics } from './metrics.js';
import type { AppStore } from './store.js';

export interface OidcOptions {
  settings: OidcSettings;
  /** Session cookie encryption secret; defaults to the client secret. */
  sessionSecret?: string;
  fetch?: typeof fetch;
}

export interface LandingServerOptions {
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

function viewerKey(v: Viewer | null): string {
  if (!v) return 'anon';
  return `u:${[...new Set(v.groups.map(normalizeGroup))].sort().join('\u0000')}`;
}

interface Stream {
  res: ServerResponse;
  viewer: Viewer | null;
  key: string;
  last: string;
  expiry?: NodeJS.Timeout;
}

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

  // ---- per-viewer views, cached by store version ----
  let cacheVersion = -1;
  interface View {
    groups: Group[];
    json: string;
    body: Buffer;
    /** Strong validator: a hash of the body, so it holds across restarts and replicas. */
    etag: string;
    /** Compressed once on first demand. */
    gzip?: Buffer;
  }
  const cache = new Map<string, View>();
  const view = (v: Viewer | null): View => {
    if (cacheVersion !== store.version) {
      cache.clear();
      cacheVersion = store.version;
    }
    const k = viewerKey(v);
    let hit = cache.get(k);
    if (!hit) {
      const groups = viewFor(store.all(), v, store.healthOf);
      const json = JSON.stringify({ groups });
      const body = Buffer.from(json);
      hit = { groups, json, body, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` };
      cache.set(k, hit);
    }
    return hit;
  };

  // ---- SSE streams ----
  const streams = new Set<Stream>();
  let flushTimer: NodeJS.Timeout | undefined;
  const flush = (): void => {
    flushTimer = undefined;
    for (const s of streams) send(s);
  };
  const send = (s: Stream): void => {
    const { json } = view(s.viewer);
    if (json === s.last) return;
    s.last = json;
    // A client that does not read its stream is dropped rather than buffered without bound; it reconnects.
    if (s.res.writableLength > MAX_STREAM_BUFFER) {
      s.res.end();
      return;
    }
    s.res.write(`event: apps\ndata: ${json}\n\n`);
    metrics.sseMessages.inc();
  };
  const unsubscribe = store.onChange(() => {
    updateAppGauge();
    if (!flushTimer) flushTimer = setTimeout(flush, coalesceMs);
  });
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
  const json = (res: ServerResponse, status: number, body: unknown, extra: Record<string, string | string[]> = {}): void => {
    const text = typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
    res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store', ...extra });
    res.end(text);
  };
  /** The unfiltered list: ETag/If-None-Match (304) and gzip when the client accepts it. */
  const sendView = (req: IncomingMessage, res: ServerResponse, v: View): void => {
    const headers: Record<string, string> = { ETag: v.etag, Vary: 'Authorization, Cookie, Accept-Encoding' };
    if (req.headers['if-none-match'] === v.etag) {
      res.writeHead(304, { 'Cache-Control': 'no-store', ...headers });
      res.end();
      return;
    }
    if (v.body.length > 1024 && /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''))) {
      v.gzip ??= gzipSync(v.body, { level: 6 });
      json(res, 200, v.gzip, { ...headers, 'Content-Encoding': 'gzip' });
    } else json(res, 200, v.body, headers);
  };
  const redirect = (res: ServerResponse, location: string, cookies: string[] = []): void => {
    res.writeHead(303, { Location: location, 'Cache-Control': 'no-store', ...(cookies.length ? { 'Set-Cookie': cookies } : {}) });
    res.end();
  };

  type Who = { ok: true; viewer: SignedInUser | null; exp?: number; clearCookie?: boolean } | { ok: false; reason: string };

  /** Bearer token (API clients) or session cookie (browser); a bad bearer token is an error, not anonymity. */
  const identify = async (req: IncomingMessage): Promise<Who> => {
    const authz = req.headers.authorization;
    if (authz !== undefined) {
      if (!oidc) return { ok: false, reason: 'sign-in is not configured' };
      const m = /^Bearer\s+(\S+)$/i.exec(authz);
      if (!m) return { ok: false, reason: 'malformed' };
      try {
        const { keys } = await getProvider();
        const claims = await verifyToken(m[1]!, keys, { issuer: oidc.settings.issuer, audience: oidc.settings.clientId });
        metrics.auth.inc({ result: 'bearer_ok' });
        return { ok: true, viewer: userFromClaims(claims), exp: claims.exp };
      } catch (e) {
        const reason = e instanceof TokenError ? e.reason : 'keys';
        metrics.auth.inc({ result: `bearer_${reason}` });
        return { ok: false, reason };
      }
    }
    if (!key) return { ok: true, viewer: null };
    const raw = parseCookies(req.headers.cookie).get(names.session);
    if (!raw) return { ok: true, viewer: null };
    const s = await unsealSession(key, raw);
    if (!s) return { ok: true, viewer: null, clearCookie: true };
    return { ok: true, viewer: s.user, exp: s.exp };
  };

  const refuse = (res: ServerResponse, reason: string): void =>
    json(res, 401, { error: 'invalid_token', reason }, { 'WWW-Authenticate': `Bearer error="invalid_token"` });

  // ---- routes ----
  const handleLogin = async (url: URL, res: ServerResponse): Promise<void> => {
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

  const handleCallback = async (req: IncomingMessage, url: URL, res: ServerResponse): Promise<void> => {
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
    const viewer = who.viewer ? { sub: who.viewer.sub, groups: who.viewer.groups } : null;
    const s: Stream = { res, viewer, key: viewerKey(viewer), last: '' };
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

  const route = async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<string> => {
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
    if (path === '/api/apps' || path === '/api/me' || path === '/api/events') {
      const who = await identify(req);
      if (!who.ok) {
        refuse(res, who.reason);
        return path.slice(5);
      }
      if (who.clearCookie) res.setHeader('Set-Cookie', setCookie(names.session, '', { secure, maxAge: 0 }));
      if (path === '/api/me') {
        json(res, 200, who.viewer ? { authenticated: true, signInAvailable: !!oidc, user: who.viewer } : { authenticated: false, signInAvailable: !!oidc });
        return 'me';
      }
      if (path === '/api/events') {
        handleEvents(req, res, who);
        return 'events';
      }
      const v = view(who.viewer);
      const q = url.searchParams.get('q') ?? '';
      const category = url.searchParams.get('category') ?? '';
      if (q === '' && category === '') sendView(req, res, v);
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
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://landing.invalid');
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
