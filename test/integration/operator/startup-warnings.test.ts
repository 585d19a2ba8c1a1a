// The shipped operator (operator/dist/operator.js as a child process) against a real kube-apiserver: an http
// --oidc-issuer-url is accepted (local tests run Keycloak over http) but logged as a warning at start, naming the
// setting; an https issuer logs no warning.
import assert from 'node:assert/strict';
import { sharedControlPlane, type ControlPlane } from '../../harness/control-plane.js';
import { testEnv, uniqueName } from './helpers.js';
import { buildOperatorBundle, startOperatorProcess, type OperatorProcess } from './process.js';

function warnings(p: OperatorProcess): Record<string, unknown>[] {
  return p.logs
    .join('')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((l) => l.level === 'warn');
}

describe('operator process (integration): start-up warnings', function () {
  this.timeout(180_000);
  let cp: ControlPlane;
  const procs: OperatorProcess[] = [];

  before(async function () {
    this.timeout(300_000);
    cp = await sharedControlPlane();
    buildOperatorBundle();
  });

  after(async () => {
    for (const p of procs) await p.stop();
  });

  const start = async (issuer: string): Promise<OperatorProcess> => {
    const p = await startOperatorProcess(
      testEnv({ KUBECONFIG: cp.kubeconfigPath, OIDC_ISSUER_URL: issuer, WATCH_NAMESPACES: uniqueName('warn'), LOG_LEVEL: 'info' }),
    );
    procs.push(p);
    return p;
  };

  it('an http issuer starts the operator with one warning naming --oidc-issuer-url / OIDC_ISSUER_URL', async () => {
    const p = await start('http://127.0.0.1:8081/realms/nebari');
    const w = warnings(p);
    assert.equal(w.length, 1, JSON.stringify(w));
    assert.match(String(w[0]!.msg), /^--oidc-issuer-url \/ OIDC_ISSUER_URL "http:\/\/127\.0\.0\.1:8081\/realms\/nebari" is http:\/\/: .*only an https issuer/);
    assert.equal(await p.stop(), 0);
  });

  it('an https issuer starts without a warning', async () => {
    const p = await start('https://auth.example.test/realms/nebari');
    assert.deepEqual(warnings(p), []);
    assert.equal(await p.stop(), 0);
  });
});
