import assert from 'node:assert/strict';
import { createLocalJWKSet, exportJWK, generateKeyPair, SignJWT, UnsecuredJWT, type JWK, type JWTPayload } from 'jose';
import {
  authorizationUrl,
  cookieKey,
  logoutUrl,
  parseCookies,
  pkceChallenge,
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
} from '../../../packs/landing/src/auth.js';
import { configFromEnv } from '../../../packs/landing/src/config.js';

const ISSUER = 'https://login.example.com/realms/nebari';
const CLIENT = 'landing-landing';

async function keyPair(kid: string) {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
  return { privateKey, jwk };
}

describe('landing auth: token verification', () => {
  let good: Awaited<ReturnType<typeof keyPair>>;
  let attacker: Awaited<ReturnType<typeof keyPair>>;
  let jwks: ReturnType<typeof createLocalJWKSet>;

  before(async () => {
    good = await keyPair('k1');
    attacker = await keyPair('k1'); // same kid, different key: a forgery
    jwks = createLocalJWKSet({ keys: [good.jwk] });
  });

  const sign = (claims: JWTPayload, opts: { key?: CryptoKey; exp?: string | number; iss?: string; aud?: string | string[] } = {}) =>
    new SignJWT({ groups: ['admins'], preferred_username: 'alice', ...claims })
      .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
      .setSubject('user-1')
      .setIssuer(opts.iss ?? ISSUER)
      .setAudience(opts.aud ?? CLIENT)
      .setIssuedAt()
      .setExpirationTime(opts.exp ?? '5m')
      .sign(opts.key ?? good.privateKey);

  const refusal = async (token: string): Promise<string> => {
    try {
      await verifyToken(token, jwks, { issuer: ISSUER, audience: CLIENT });
    } catch (e) {
      assert.ok(e instanceof TokenError, `expected TokenError, got ${String(e)}`);
      return e.reason;
    }
    assert.fail('token was accepted');
  };

  it('accepts a valid token and reads the user and groups', async () => {
    const claims = await verifyToken(await sign({}), jwks, { issuer: ISSUER, audience: CLIENT });
    assert.deepEqual(userFromClaims(claims), { sub: 'user-1', name: 'alice', email: '', groups: ['admins'] });
  });
  it('accepts an audience list that contains the client', async () => {
    await verifyToken(await sign({}, { aud: ['account', CLIENT] }), jwks, { issuer: ISSUER, audience: CLIENT });
  });
  it('refuses a forged signature (other key, same kid)', async () => {
    assert.equal(await refusal(await sign({}, { key: attacker.privateKey })), 'signature');
  });
  it('refuses a token whose payload was altered after signing', async () => {
    const t = await sign({});
    const [h, , s] = t.split('.');
    const payload = Buffer.from(JSON.stringify({ sub: 'user-1', iss: ISSUER, aud: CLIENT, exp: 9999999999, groups: ['admins', 'root'] })).toString('base64url');
    assert.equal(await refusal(`${h}.${payload}.${s}`), 'signature');
  });
  it('refuses an expired token', async () => {
    assert.equal(await refusal(await sign({}, { exp: Math.floor(Date.now() / 1000) - 10 })), 'expired');
  });
  it('refuses a wrong audience', async () => {
    assert.equal(await refusal(await sign({}, { aud: 'some-other-client' })), 'audience');
  });
  it('refuses a wrong issuer', async () => {
    assert.equal(await refusal(await sign({}, { iss: 'https://evil.example.com/realms/nebari' })), 'issuer');
  });
  it('refuses alg none and HMAC tokens', async () => {
    const none = new UnsecuredJWT({ sub: 'x' }).setIssuer(ISSUER).setAudience(CLIENT).setExpirationTime('5m').encode();
    assert.equal(await refusal(none), 'algorithm');
    const hs = await new SignJWT({ sub: 'x' }).setProtectedHeader({ alg: 'HS256' }).setIssuer(ISSUER).setAudience(CLIENT).setExpirationTime('5m').sign(new TextEncoder().encode('k'.repeat(32)));
    assert.equal(await refusal(hs), 'algorithm');
  });
  it('refuses garbage', async () => {
    assert.equal(await refusal('not-a-jwt'), 'malformed');
    assert.equal(await refusal('a.b.c'), 'malformed');
  });
  it('checks the nonce of an ID token', async () => {
    const t = await sign({ nonce: 'n1' });
    await verifyToken(t, jwks, { issuer: ISSUER, audience: CLIENT, nonce: 'n1' });
    await assert.rejects(verifyToken(t, jwks, { issuer: ISSUER, audience: CLIENT, nonce: 'n2' }), (e: unknown) => e instanceof TokenError && e.reason === 'claims');
  });
  it('ignores non-string groups', () => {
    assert.deepEqual(userFromClaims({ sub: 's', groups: ['a', 1, null, 'b'] as unknown as string[] }).groups, ['a', 'b']);
  });
  it('a verified user\'s groups are frozen (shared by every request with the token; their list key is remembered)', () => {
    const u = userFromClaims({ sub: 's', groups: ['a'] });
    assert.ok(Object.isFrozen(u.groups));
    assert.throws(() => u.groups.push('admins'), TypeError);
  });

  describe('verified-token cache (real signatures, a clock the test moves)', () => {
    let now = 0;
    const cache = (max?: number): VerifiedTokens =>
      new VerifiedTokens((t) => verifyToken(t, jwks, { issuer: ISSUER, audience: CLIENT, now: new Date(now * 1000) }), max, () => now);
    const reason = async (p: Promise<unknown>): Promise<string> => {
      try {
        await p;
      } catch (e) {
        assert.ok(e instanceof TokenError, `expected TokenError, got ${String(e)}`);
        return e.reason;
      }
      assert.fail('token was accepted');
    };
    beforeEach(() => {
      now = Math.floor(Date.now() / 1000);
    });

    it('verifies a token once and answers its later uses from the cache', async () => {
      const c = cache();
      const t = await sign({}, { exp: now + 60 });
      const first = await c.get(t);
      assert.deepEqual(first.user, { sub: 'user-1', name: 'alice', email: '', groups: ['admins'] });
      assert.equal(first.exp, now + 60);
      for (let i = 0; i < 5; i++) assert.equal(await c.get(t), first);
      assert.equal(c.verifications, 1);
    });
    it('never keeps a refused token: a forgery or an altered payload is verified (and refused) on every use', async () => {
      const c = cache();
      const good = await sign({}, { exp: now + 60 });
      await c.get(good);
      const forged = await sign({}, { key: attacker.privateKey, exp: now + 60 });
      const [h, , sig] = good.split('.');
      const altered = `${h}.${Buffer.from(JSON.stringify({ sub: 'user-1', iss: ISSUER, aud: CLIENT, exp: now + 60, groups: ['admins', 'root'] })).toString('base64url')}.${sig}`;
      for (const bad of [forged, altered, forged, altered]) assert.equal(await reason(c.get(bad)), 'signature');
      assert.equal(c.verifications, 5, 'one for the good token, one per use of a bad one');
      assert.equal(c.size, 1);
    });
    it('stops answering a cached token once it expires (plus the clock tolerance), then refuses it as expired', async () => {
      const c = cache();
      const t = await sign({}, { exp: now + 30 });
      await c.get(t);
      now += 30 + CLOCK_TOLERANCE_SECONDS;
      await c.get(t);
      assert.equal(c.verifications, 1, 'still within the tolerance: from the cache');
      now += 1;
      assert.equal(await reason(c.get(t)), 'expired');
      assert.equal(c.verifications, 2);
      assert.equal(c.size, 0, 'the expired entry is dropped');
    });
    it('a token not valid yet (nbf) is refused and not kept, and accepted once nbf is reached', async () => {
      const c = cache();
      const t = await new SignJWT({ groups: [] }).setProtectedHeader({ alg: 'RS256', kid: 'k1' }).setSubject('u').setIssuer(ISSUER).setAudience(CLIENT)
        .setNotBefore(now + 60).setExpirationTime(now + 120).sign(good.privateKey);
      assert.equal(await reason(c.get(t)), 'claims');
      assert.equal(c.size, 0);
      now += 60;
      await c.get(t);
      assert.equal(c.size, 1);
    });
    it('is bounded: expired entries go first, then the oldest', async () => {
      const c = cache(2);
      const a = await sign({ n: 'a' }, { exp: now + 10 });
      const b = await sign({ n: 'b' }, { exp: now + 100 });
      const d = await sign({ n: 'd' }, { exp: now + 100 });
      await c.get(a);
      await c.get(b);
      now += 10 + CLOCK_TOLERANCE_SECONDS + 1;
      await c.get(d);
      assert.equal(c.size, 2);
      await c.get(b);
      await c.get(d);
      assert.equal(c.verifications, 3, 'b and d kept, the expired a dropped');
      const e = await sign({ n: 'e' }, { exp: now + 100 });
      await c.get(e);
      await c.get(b);
      assert.equal(c.verifications, 5, 'full: the oldest (b) made room for e, so b was verified again');
    });
  });
});

describe('landing auth: session and login cookies', () => {
  const key = cookieKey('a-client-secret-of-some-length');
  const user = { sub: 'u1', name: 'Alice', email: 'a@example.com', groups: ['admins'] };

  it('round-trips a session', async () => {
    const c = await sealSession(key, user, 60, 'id.token.hint');
    const s = await unsealSession(key, c);
    assert.deepEqual(s?.user, user);
    assert.equal(s?.idToken, 'id.token.hint');
  });
  it('the cookie is encrypted: no claim is readable', async () => {
    const c = await sealSession(key, user, 60);
    assert.ok(!Buffer.from(c.replace(/\./g, ''), 'base64url').toString('latin1').includes('admins'));
    assert.ok(!c.includes('Alice'));
  });
  it('refuses a tampered, expired, other-key or other-purpose cookie', async () => {
    const c = await sealSession(key, user, 60);
    const parts = c.split('.');
    parts[3] = parts[3]!.slice(0, -2) + (parts[3]!.endsWith('AA') ? 'BB' : 'AA');
    assert.equal(await unsealSession(key, parts.join('.')), null);
    assert.equal(await unsealSession(cookieKey('another-secret-of-some-length'), c), null);
    const old = await seal(key, 'session', { u: user }, 60, new Date(Date.now() - 3600_000));
    assert.equal(await unsealSession(key, old), null);
    const login = await seal(key, 'login', { u: user }, 60);
    assert.equal(await unsealSession(key, login), null, 'a login-state cookie is not a session');
    assert.equal(await unseal(key, 'login', undefined), null);
  });
  it('refuses a short secret', () => {
    assert.throws(() => cookieKey('short'), /at least 16/);
  });
  it('cookie attributes: HttpOnly, SameSite=Lax, Secure only over https', () => {
    const s = setCookie('n', 'v', { secure: true, maxAge: 10 });
    assert.match(s, /HttpOnly/);
    assert.match(s, /SameSite=Lax/);
    assert.match(s, /Secure/);
    assert.match(s, /Path=\//);
    assert.doesNotMatch(setCookie('n', 'v', { secure: false, maxAge: 10 }), /Secure/);
    assert.deepEqual([...parseCookies('a=1; b=x=y; a=2')], [['a', '1'], ['b', 'x=y']]);
  });
});

describe('landing auth: flow helpers', () => {
  const meta = {
    issuer: ISSUER,
    authorization_endpoint: `${ISSUER}/protocol/openid-connect/auth`,
    token_endpoint: `${ISSUER}/protocol/openid-connect/token`,
    jwks_uri: `${ISSUER}/protocol/openid-connect/certs`,
    end_session_endpoint: `${ISSUER}/protocol/openid-connect/logout`,
  };
  it('authorization URL carries PKCE S256, state, nonce, scopes', () => {
    const u = new URL(authorizationUrl(meta, { clientId: CLIENT, scopes: ['openid', 'profile', 'email'] }, 'https://n.example.com/oauth2/callback', { state: 's', nonce: 'n', verifier: 'v'.repeat(43) }));
    assert.equal(u.searchParams.get('code_challenge_method'), 'S256');
    assert.equal(u.searchParams.get('code_challenge'), pkceChallenge('v'.repeat(43)));
    assert.equal(u.searchParams.get('response_type'), 'code');
    assert.equal(u.searchParams.get('state'), 's');
    assert.equal(u.searchParams.get('nonce'), 'n');
    assert.equal(u.searchParams.get('scope'), 'openid profile email');
    assert.equal(u.searchParams.get('redirect_uri'), 'https://n.example.com/oauth2/callback');
  });
  it('PKCE challenge matches RFC 7636 appendix B', () => {
    assert.equal(pkceChallenge('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk'), 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM');
  });
  it('logout URL goes to the end-session endpoint with client id and return address', () => {
    const u = new URL(logoutUrl(meta, { clientId: CLIENT, publicUrl: 'https://n.example.com' }, 'hint'));
    assert.equal(u.origin + u.pathname, meta.end_session_endpoint);
    assert.equal(u.searchParams.get('post_logout_redirect_uri'), 'https://n.example.com/');
    assert.equal(u.searchParams.get('id_token_hint'), 'hint');
    assert.equal(logoutUrl({ ...meta, end_session_endpoint: undefined }, { clientId: CLIENT, publicUrl: 'https://n.example.com' }), '/');
  });
  it('post-login destinations are same-site paths only', () => {
    assert.equal(safeReturnTo('/apps?q=x'), '/apps?q=x');
    for (const bad of ['https://evil.example.com/', '//evil.example.com', '/\\evil.example.com', 'javascript:alert(1)', '/\nx', undefined]) {
      assert.equal(safeReturnTo(bad), '/', String(bad));
    }
  });
});

describe('landing config', () => {
  const full = { OIDC_CLIENT_ID: 'c', OIDC_CLIENT_SECRET: 's'.repeat(20), OIDC_ISSUER_URL: ISSUER, PUBLIC_URL: 'https://n.example.com' };
  it('reads the OIDC client from the environment with contract defaults', () => {
    const c = configFromEnv(full, { staticDir: '/w' });
    assert.equal(c.oidc?.redirectPath, '/oauth2/callback');
    assert.deepEqual(c.oidc?.scopes, ['openid', 'profile', 'email']);
    assert.equal(c.port, 8080);
    assert.equal(c.host, '127.0.0.1');
  });
  it('no OIDC variables: sign-in disabled', () => {
    assert.equal(configFromEnv({}, { staticDir: '/w' }).oidc, null);
  });
  it('names the variable and what is allowed on bad input', () => {
    assert.throws(() => configFromEnv({ OIDC_CLIENT_ID: 'c' }, { staticDir: '/w' }), /OIDC_CLIENT_SECRET, OIDC_ISSUER_URL, PUBLIC_URL: required/);
    assert.throws(() => configFromEnv({ PORT: '70000' }, { staticDir: '/w' }), /PORT: "70000" is not a port; allowed: an integer 1\.\.65535/);
    assert.throws(() => configFromEnv({ ...full, OIDC_ISSUER_URL: 'ftp://x' }, { staticDir: '/w' }), /OIDC_ISSUER_URL: .* must use http or https/);
    assert.throws(() => configFromEnv({ ...full, SESSION_TTL_SECONDS: '5' }, { staticDir: '/w' }), /SESSION_TTL_SECONDS/);
    assert.throws(() => configFromEnv({ ...full, OIDC_REDIRECT_PATH: 'cb' }, { staticDir: '/w' }), /OIDC_REDIRECT_PATH/);
  });
});
