// STAND-IN for kubelogin (`kubectl oidc-login get-token`), the exec credential plugin the platform's kubeconfigOidc
// names: kubelogin is not served by any registry this machine reaches, so this script does what it does with the
// arguments the kubeconfig gives it, and nothing else: authorization code + PKCE S256 at the issuer with the
// redirect to kubelogin's loopback listener (http://localhost:8000), the code exchanged by the public client, and an
// ExecCredential with the ID token on stdout. The browser part (Keycloak's own login form) is driven with
// NKP_STANDIN_USERNAME / NKP_STANDIN_PASSWORD; the issuer's CA comes from NODE_EXTRA_CA_CERTS, as for any Node process.
// It refuses arguments it does not know, so a kubeconfig asking for something else fails here.
import { decodeJwt } from 'jose';
import { loginForCode, pkcePair, tokenRequest } from '../keycloak/oidc-helpers.js';

const REDIRECT = 'http://localhost:8000';

function fail(msg: string): never {
  process.stderr.write(`kubelogin stand-in: ${msg}\n`);
  process.exit(1);
}

async function main(argv: string[]): Promise<void> {
  if (argv[0] !== 'oidc-login' || argv[1] !== 'get-token') fail(`expected "oidc-login get-token ...", got ${JSON.stringify(argv.slice(0, 2))}`);
  const flags = new Map<string, string>();
  for (const a of argv.slice(2)) {
    const m = /^--([a-z-]+)=(.*)$/.exec(a);
    if (!m) fail(`unexpected argument ${JSON.stringify(a)}`);
    flags.set(m[1]!, m[2]!);
  }
  const known = ['oidc-issuer-url', 'oidc-client-id', 'oidc-pkce-method', 'grant-type'];
  for (const k of flags.keys()) if (!known.includes(k)) fail(`unknown flag --${k}`);
  const issuer = flags.get('oidc-issuer-url') ?? fail('--oidc-issuer-url is required');
  const clientId = flags.get('oidc-client-id') ?? fail('--oidc-client-id is required');
  if (flags.get('oidc-pkce-method') !== 'S256') fail('only --oidc-pkce-method=S256 is implemented');
  if (flags.get('grant-type') !== 'authcode') fail('only --grant-type=authcode is implemented');
  const username = process.env.NKP_STANDIN_USERNAME ?? fail('NKP_STANDIN_USERNAME is not set');
  const password = process.env.NKP_STANDIN_PASSWORD ?? fail('NKP_STANDIN_PASSWORD is not set');

  const { verifier, challenge } = pkcePair();
  const code = await loginForCode(issuer, { clientId, redirectUri: REDIRECT, username, password, scope: 'openid', codeChallenge: challenge });
  if (!code.code) fail(`no authorization code: ${code.status} ${code.page ?? code.location ?? ''}`);
  const t = await tokenRequest(issuer, { grant_type: 'authorization_code', code: code.code, redirect_uri: REDIRECT, client_id: clientId, code_verifier: verifier });
  if (t.status !== 200 || !t.body.id_token) fail(`token endpoint answered ${t.status}: ${JSON.stringify(t.body)}`);
  const exp = decodeJwt(t.body.id_token).exp;
  process.stdout.write(
    JSON.stringify({
      apiVersion: 'client.authentication.k8s.io/v1',
      kind: 'ExecCredential',
      status: { token: t.body.id_token, ...(exp !== undefined ? { expirationTimestamp: new Date(exp * 1000).toISOString() } : {}) },
    }),
  );
}

main(process.argv.slice(2)).catch((e: unknown) => fail((e as Error).message));
