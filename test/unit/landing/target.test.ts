// The request target split without the URL parser (target.ts): for every target, plain or not, routing sees the
// same pathname and the same query parameters as with new URL(); the ones the parser would normalise go through it.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseTarget } from '../../../packs/landing/src/target.js';

const viaUrl = (raw: string) => new URL(raw, 'http://landing.invalid');
const same = (raw: string): void => {
  const t = parseTarget(raw);
  const u = viaUrl(raw);
  assert.equal(t.pathname, u.pathname, `pathname of ${JSON.stringify(raw)}`);
  assert.deepEqual([...t.searchParams], [...u.searchParams], `query of ${JSON.stringify(raw)}`);
};

describe('landing request target', () => {
  it('the API and page targets: same path and query as the URL parser, without it', () => {
    for (const raw of ['/', '/api/apps', '/api/apps?limit=100&offset=200', '/api/apps?q=jupyter+lab&category=Data%20Science', '/api/apps?', '/static/app.js', '/auth/login?returnTo=%2F%3Fq%3Dx', '/oauth2/callback?code=a.b-c_d~e&state=xyz', '/api/admin/requests/0123456789abcdef', '/healthz', '/index.html']) {
      same(raw);
      assert.ok(!(parseTarget(raw) instanceof URL), `${raw} takes the plain path`);
    }
  });
  it('targets the parser would normalise go through it: dot segments, escapes, empty segments, backslashes, fragments', () => {
    for (const raw of ['/static/../index.html', '/api/./apps', '/api/%61pps', '//api/apps', '/api\\apps', '/api/apps#x', '/api/apps?q=a#b', '/.well-known/x', '/api/apps/..', 'http://evil.example/api/apps', '*']) {
      same(raw);
      assert.ok(parseTarget(raw) instanceof URL, `${raw} goes through the URL parser`);
    }
    assert.equal(parseTarget('/static/../index.html').pathname, '/index.html');
  });
  it('property: any target of printable ASCII gives what the URL parser gives', () => {
    const ch = fc.constantFrom(...Array.from("abcAZ09-._~!$&'()*+,;=:@/?#%[]{}\"<>|^` \\"));
    fc.assert(
      fc.property(fc.array(ch, { maxLength: 24 }).map((cs) => `/${cs.join('')}`), (raw) => {
        let want: URL;
        try {
          want = viaUrl(raw);
        } catch {
          assert.throws(() => parseTarget(raw));
          return;
        }
        const t = parseTarget(raw);
        assert.equal(t.pathname, want.pathname, raw);
        assert.deepEqual([...t.searchParams], [...want.searchParams], raw);
      }),
      { numRuns: 3000 },
    );
  });
});
