// STAND-IN OIDC issuer for the landing tests, used where the real Keycloak is not started (it costs minutes of
// the two shared cores): a signing key the test controls, served on loopback as discovery + JWKS, with an
// authorization endpoint that signs in whichever user the test chose (no password form), a token endpoint that
// checks client authentication, the redirect URI and the PKCE verifier (S256), and an end-session endpoint.
// The landing service talks to it exactly as to Keycloak: only discovery, the endpoints and the JWKS are used.
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';

export interface StandinUser {
  sub: string;
  name: string;
  email?: string;
  groups: string[];
}

export interface OidcStandin {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** The user the next /authorize signs in (null: the issuer answers error=access_denied). */
  loginAs(user: StandinUser | null): void;
  /** An access token for Bearer use (aud = the client). */
  mint(user: StandinUser, opts?: { audience?: string; expiresInSeconds?: number; issuer?: string; foreignKey?: boolean }): Promise<string>;
  /** What the endpoints saw (for assertions). */
  seen: { authorize: number; token: number; tokenRefused: string[]; logout: URLSearchParams[] };
  stop(): Promise<void>;
}

interface PendingCode {
  user: StandinUser;
  redirectUri: string;
  nonce: string;
  challenge: string;
}

export async function startOidcStandin(opts: { clientId?: string; clientSecret?: string } = {}): Promise<OidcStandin> {
  const clientId = opts.clientId ?? 'landing-landing';
  const clientSecret = opts.clientSecret ?? randomBytes(24).toString('base64url');
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  const foreign = await generateKeyPair('RS256', { extractable: true });
  const kid = randomBytes(6).toString('hex');
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
  const codes = new Map<string, PendingCode>();
  let current: StandinUser | null = null;
  const seen: OidcStandin['seen'] = { authorize: 0, token: 0, tokenRefused: [], logout: [] };
  let issuer = '';

  const sign = (claims: Record<string, unknown>, user: StandinUser, o: { audience: string; exp: number; issuer: string; foreignKey?: boolean }) =>
    new SignJWT({ name: user.name, preferred_username: user.name, email: user.email ?? '', groups: user.groups, ...claims })
      .setProtectedHeader({ alg: 'RS256', kid })
      .setSubject(user.sub)
      .setIssuer(o.issuer)
      .setAudience(o.audience)
      .setIssuedAt()
      .setExpirationTime(Math.floor(Date.now() / 1000) + o.exp)
      .sign(o.foreignKey ? foreign.privateKey : privateKey);

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', issuer);
    const send = (status: number, body: unknown, headers: Record<string, string> = {}): void => {
      res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers });
      res.end(JSON.stringify(body));
    };
    if (url.pathname === '/.well-known/openid-configuration') {
      return send(200, {
        issuer,
        authorization_endpoint: `${issuer}/authorize`,
        token_endpoint: `${issuer}/token`,
        jwks_uri: `${issuer}/jwks`,
        end_session_endpoint: `${issuer}/logout`,
        response_types_supported: ['code'],
        code_challenge_methods_supported: ['S256'],
        id_token_signing_alg_values_supported: ['RS256'],
        subject_types_supported: ['public'],
      });
    }
    if (url.pathname === '/jwks') return send(200, { keys: [jwk] });
    if (url.pathname === '/authorize') {
      seen.authorize++;
      const q = url.searchParams;
      const redirectUri = q.get('redirect_uri') ?? '';
      if (q.get('client_id') !== clientId || q.get('response_type') !== 'code' || q.get('code_challenge_method') !== 'S256' || !q.get('code_challenge')) {
        return send(400, { error: 'invalid_request' });
      }
      const back = new URL(redirectUri);
      back.searchParams.set('state', q.get('state') ?? '');
      if (!current) back.searchParams.set('error', 'access_denied');
      else {
        const code = randomBytes(16).toString('base64url');
        codes.set(code, { user: current, redirectUri, nonce: q.get('nonce') ?? '', challenge: q.get('code_challenge')! });
        back.searchParams.set('code', code);
      }
      res.writeHead(302, { location: back.href });
      return res.end();
    }
    if (url.pathname === '/token' && req.method === 'POST') {
      seen.token++;
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        void (async () => {
          const refuse = (why: string): void => {
            seen.tokenRefused.push(why);
            send(400, { error: 'invalid_grant', error_description: why });
          };
          const basic = /^Basic (.+)$/.exec(req.headers.authorization ?? '');
          const [id, secret] = basic ? Buffer.from(basic[1]!, 'base64').toString().split(':').map(decodeURIComponent) : [];
          if (id !== clientId || secret !== clientSecret) return refuse('client authentication failed');
          const p = new URLSearchParams(body);
          const pending = codes.get(p.get('code') ?? '');
          codes.delete(p.get('code') ?? '');
          if (p.get('grant_type') !== 'authorization_code' || !pending) return refuse('unknown code');
          if (p.get('redirect_uri') !== pending.redirectUri) return refuse('redirect_uri mismatch');
          const challenge = createHash('sha256').update(p.get('code_verifier') ?? '').digest('base64url');
          if (challenge !== pending.challenge) return refuse('PKCE verifier mismatch');
          const o = { audience: clientId, exp: 300, issuer };
          send(200, {
            token_type: 'Bearer',
            expires_in: 300,
            id_token: await sign({ nonce: pending.nonce }, pending.user, o),
            access_token: await sign({}, pending.user, o),
          });
        })();
      });
      return;
    }
    if (url.pathname === '/logout') {
      seen.logout.push(url.searchParams);
      const to = url.searchParams.get('post_logout_redirect_uri');
      res.writeHead(to ? 302 : 200, to ? { location: to } : { 'content-type': 'text/plain' });
      return res.end(to ? undefined : 'signed out');
    }
    send(404, { error: 'not found' });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  issuer = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;

  return {
    issuer,
    clientId,
    clientSecret,
    seen,
    loginAs: (u) => {
      current = u;
    },
    mint: (user, o = {}) => sign({}, user, { audience: o.audience ?? clientId, exp: o.expiresInSeconds ?? 300, issuer: o.issuer ?? issuer, foreignKey: o.foreignKey }),
    stop: () =>
      new Promise((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}
