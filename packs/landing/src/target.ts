// The path and query of an HTTP request target, without the WHATWG URL parser for the plain targets every API
// call and page load uses (the parser cost about 13 us per request under load); anything it would normalise
// (percent-escapes in the path, dot segments, empty segments, backslashes, a fragment, spaces or controls, an
// absolute form) goes through new URL() exactly as before, so routing sees the same pathname either way.

export interface Target {
  readonly pathname: string;
  readonly searchParams: URLSearchParams;
}

/** Path segments that the URL parser leaves as they are: unreserved and sub-delimiter characters, ':' and '@', not starting with '.'. */
const PLAIN_PATH = /^(?:\/[A-Za-z0-9_~!$&'()*+,;=:@-][A-Za-z0-9._~!$&'()*+,;=:@-]*)*\/?$/;
/** A query of printable ASCII without '#' (the parser strips spaces and controls and cuts at a fragment). */
const PLAIN_QUERY = /^[!"$-~]*$/;

class PlainTarget implements Target {
  private params: URLSearchParams | undefined;
  constructor(
    readonly pathname: string,
    private readonly query: string,
  ) {}
  get searchParams(): URLSearchParams {
    return (this.params ??= new URLSearchParams(this.query));
  }
}

/** The request target's path and query; throws (as new URL does) on a target the URL parser refuses. */
export function parseTarget(raw: string): Target {
  const q = raw.indexOf('?');
  const path = q < 0 ? raw : raw.slice(0, q);
  // The query keeps its '?': URLSearchParams drops exactly one leading '?', as the URL parser does ("/a??b" has the
  // query "?b").
  if (PLAIN_PATH.test(path) && (q < 0 || PLAIN_QUERY.test(raw.slice(q)))) return new PlainTarget(path === '' ? '/' : path, q < 0 ? '' : raw.slice(q));
  return new URL(raw, 'http://landing.invalid');
}
