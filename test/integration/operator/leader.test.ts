// Leader election between operator PROCESSES (the bundled operator/dist/operator.js, as shipped) against a real
// kube-apiserver: one leader reconciles, the standby takes over when the leader is killed (Lease expiry) or
// shuts down gracefully (Lease released); probes and metrics served on loopback; logs carry no secret value.
import assert from 'node:assert/strict';
import { sharedControlPlane, type ControlPlane } from '../../harness/control-plane.js';
import { LEASE, type LeaseObject } from '../../../operator/src/runtime/leader.js';
import type { KubeClient } from '../../../operator/src/runtime/kube.js';
import { adminClient, applyApp, createSecret, createService, ensureGateways, ensureNamespace, eventually, testEnv, uniqueName, waitForReason } from './helpers.js';
import { buildOperatorBundle, startOperatorProcess, type OperatorProcess } from './process.js';

const SECRET_VALUE = 'leader-test-client-secret-do-not-log';

interface Proc extends OperatorProcess {
  id: string;
}

async function http(port: number, path: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: res.status, body: await res.text() };
}

describe('operator (integration): leader election hand-over between two operator processes', function () {
  this.timeout(180_000);
  let cp: ControlPlane;
  let c: KubeClient;
  const procs: Proc[] = [];
  let leaseNs: string;
  let ns: string;

  async function launch(id: string): Promise<Proc> {
    // startOperatorProcess serves probes and metrics on a free loopback port and waits for /readyz
    const p: Proc = Object.assign(
      await startOperatorProcess(
        testEnv({
          KUBECONFIG: cp.kubeconfigPath,
          LEADER_ELECTION: 'true',
          POD_NAME: id,
          POD_NAMESPACE: leaseNs,
          LEASE_NAME: 'nebari-operator-leader',
          LEASE_DURATION_SECONDS: '4',
          RENEW_DEADLINE_SECONDS: '3',
          RETRY_PERIOD_SECONDS: '1',
          WATCH_NAMESPACES: ns,
          LOG_LEVEL: 'debug',
        }),
      ),
      { id },
    );
    procs.push(p);
    return p;
  }

  async function holder(): Promise<string | undefined> {
    const lease = await c.get<LeaseObject>(LEASE, leaseNs, 'nebari-operator-leader');
    return lease?.spec?.holderIdentity ?? undefined;
  }

  before(async function () {
    this.timeout(300_000);
    cp = await sharedControlPlane();
    c = adminClient(cp);
    buildOperatorBundle();
    await ensureGateways(c);
    leaseNs = uniqueName('lease');
    ns = uniqueName('leader');
    await ensureNamespace(c, leaseNs, false);
    await ensureNamespace(c, ns, true);
    await createService(c, ns, 'web', 8080);
    await createSecret(c, ns, 'oidc', { 'client-id': 'leader-client', 'client-secret': SECRET_VALUE });
  });

  after(async () => {
    for (const p of procs) {
      if (p.child.exitCode === null) p.child.kill('SIGKILL');
      await p.exited;
    }
    await c?.close();
  });

  it('one leader reconciles; killed, the standby takes over after Lease expiry; stopped gracefully, the Lease is released at once', async () => {
    const a = await launch('op-a');
    const b = await launch('op-b');
    const first = await eventually('a leader', holder, 20_000);
    assert.ok(['op-a', 'op-b'].includes(first));
    const leader = first === 'op-a' ? a : b;
    const standby = first === 'op-a' ? b : a;
    await eventually('leader gauge', async () => /nebari_operator_leader 1/.test((await http(leader.port, '/metrics')).body));
    assert.match((await http(standby.port, '/metrics')).body, /nebari_operator_leader 0/);
    assert.equal((await http(standby.port, '/healthz')).status, 200);
    assert.equal((await http(standby.port, '/nope')).status, 404);

    await applyApp(c, ns, 'one', { hostname: `one.${ns}.example.test`, service: { name: 'web', port: 8080 }, routing: { tls: { enabled: false } }, auth: { enabled: true, clientSecretRef: 'oidc' } });
    await waitForReason(c, ns, 'one', 'Ready', 'Available', 'True');
    const leaderMetrics = (await http(leader.port, '/metrics')).body;
    assert.match(leaderMetrics, /nebari_operator_api_writes_total\{verb="apply",resource="httproutes"\} [1-9]/);
    assert.doesNotMatch((await http(standby.port, '/metrics')).body, /nebari_operator_api_writes_total\{verb="apply"/, 'the standby writes nothing');

    // loss: the leader dies without releasing; the standby waits for expiry (4 s) and takes over
    const killedAt = Date.now();
    leader.child.kill('SIGKILL');
    await leader.exited;
    await eventually('standby holds the Lease', async () => (await holder()) === standby.id, 20_000, 200);
    const takeoverMs = Date.now() - killedAt;
    assert.ok(takeoverMs >= 2500, `took over after ${takeoverMs} ms: must wait for the Lease to expire`);
    await applyApp(c, ns, 'two', { hostname: `two.${ns}.example.test`, service: { name: 'web', port: 8080 }, routing: { tls: { enabled: false } } });
    await waitForReason(c, ns, 'two', 'Ready', 'Available', 'True');

    // graceful: a third instance stands by; SIGTERM to the leader releases the Lease and the third takes over fast
    const third = await launch('op-c');
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(await holder(), standby.id, 'the leader keeps the Lease while renewing');
    const termAt = Date.now();
    standby.child.kill('SIGTERM');
    assert.equal(await standby.exited, 0, 'graceful shutdown exits 0');
    await eventually('third holds the Lease', async () => (await holder()) === 'op-c', 10_000, 100);
    const releaseMs = Date.now() - termAt;
    assert.ok(releaseMs < 4000, `released Lease taken over in ${releaseMs} ms, before it would have expired`);
    await applyApp(c, ns, 'three', { hostname: `three.${ns}.example.test`, service: { name: 'web', port: 8080 }, routing: { tls: { enabled: false } } });
    await waitForReason(c, ns, 'three', 'Ready', 'Available', 'True');

    const allLogs = procs.flatMap((p) => p.logs).join('');
    assert.match(allLogs, /"msg":"became leader"/);
    assert.ok(!allLogs.includes(SECRET_VALUE), 'no secret value in any log line');
    for (const line of allLogs.split('\n').filter(Boolean)) assert.doesNotThrow(() => JSON.parse(line), `not JSON: ${line}`);
    third.child.kill('SIGTERM');
    assert.equal(await third.exited, 0);
  });
});
