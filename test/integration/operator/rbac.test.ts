// The operator runs with EXACTLY the permissions of operator/manifests/rbac.yaml (ClusterRole + leader-election
// Role, bound here to a client-certificate user instead of the ServiceAccount) against a real kube-apiserver with
// RBAC on: a full life cycle (leader election, TLS, auth with clientSecretRef, cross-namespace backend, Events,
// finalizer) must work without a single 403, and the operator caches only its own Secrets and the ones apps name.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { Operator } from '../../../operator/src/reconciler-controller.js';
import type { KubeObject, ResourceType } from '../../../operator/src/runtime/kube.js';
import { silentLogger } from '../../../operator/src/runtime/logger.js';
import { OperatorMetrics } from '../../../operator/src/runtime/metrics.js';
import {
  CERTIFICATE_RT,
  HTTPROUTE_RT,
  REFERENCEGRANT_RT,
  applyApp,
  createSecret,
  createService,
  deleteApp,
  ensureNamespace,
  eventually,
  exists,
  getApp,
  waitCertificateIssued,
  testSettings,
  uniqueName,
  useGatewayCluster,
  waitForReason,
  type AnyObject,
} from './helpers.js';

const rbacFile = join(import.meta.dirname, '..', '..', '..', 'operator', 'manifests', 'rbac.yaml');
const rt = (plural: string, kind: string, namespaced: boolean): ResourceType => ({ group: 'rbac.authorization.k8s.io', version: 'v1', plural, kind, namespaced });

describe('operator (integration): least-privilege RBAC from operator/manifests is sufficient', function () {
  this.timeout(180_000);
  const suite = useGatewayCluster();

  it('a full life cycle with only the manifest permissions: no 403, children created and cleaned up', async () => {
    const { cp, c } = suite;
    const suffix = uniqueName('rbac');
    const user = `operator-${suffix}`;
    const leaseNs = `${suffix}-op`;
    const ns = `${suffix}-app`;
    const be = `${suffix}-be`;
    await ensureNamespace(c, leaseNs, false);
    await ensureNamespace(c, ns, true);
    await ensureNamespace(c, be, true);

    // the manifest's roles, renamed per test, bound to our user
    const docs = parseAllDocuments(readFileSync(rbacFile, 'utf8')).map((d) => d.toJSON() as KubeObject & { rules?: unknown });
    for (const d of docs) {
      if (d.kind === 'ClusterRole') {
        await c.apply(rt('clusterroles', 'ClusterRole', false), { ...d, metadata: { name: suffix } }, 'nkp-test');
      } else if (d.kind === 'Role') {
        await c.apply(rt('roles', 'Role', true), { ...d, metadata: { name: suffix, namespace: leaseNs } }, 'nkp-test');
      }
    }
    const subjects = [{ kind: 'User', name: user, apiGroup: 'rbac.authorization.k8s.io' }];
    await c.apply(
      rt('clusterrolebindings', 'ClusterRoleBinding', false),
      { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: suffix }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: suffix }, subjects },
      'nkp-test',
    );
    await c.apply(
      rt('rolebindings', 'RoleBinding', true),
      { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: suffix, namespace: leaseNs }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: suffix }, subjects },
      'nkp-test',
    );

    const metrics = new OperatorMetrics();
    const op = new Operator({
      settings: testSettings({ WATCH_NAMESPACES: `${ns},${be}`, LEADER_ELECTION: 'true', POD_NAMESPACE: leaseNs, POD_NAME: user, LEASE_DURATION_SECONDS: '4', RENEW_DEADLINE_SECONDS: '3', RETRY_PERIOD_SECONDS: '1' }),
      kubeConfig: await cp.userKubeConfig(user),
      metrics,
      log: silentLogger,
    });
    try {
      await op.start();
      await eventually('leader', async () => op.isLeader, 20_000);
      await createService(c, ns, 'web', 8080);
      await createService(c, be, 'api', 8080);
      await createSecret(c, ns, 'oidc', { 'client-id': 'rbac-client', 'client-secret': 'rbac-secret' });
      await createSecret(c, ns, 'unrelated', { password: 'not-the-operators-business' });
      await applyApp(c, ns, 'tls', { hostname: `tls.${ns}.example.test`, service: { name: 'web', port: 8080 }, routing: {}, auth: { enabled: true, clientSecretRef: 'oidc' } });
      await applyApp(c, ns, 'cross', { hostname: `cross.${ns}.example.test`, service: { name: 'api', port: 8080, namespace: be }, routing: { tls: { enabled: false } } });
      await eventually('Certificate', () => exists(c, CERTIFICATE_RT, ns, 'tls-tls'));
      // cert-manager (real) issues it into the Secret named by the Certificate, labelled by its secretTemplate
      const cert = await waitCertificateIssued(c, ns, 'tls-tls');
      await waitForReason(c, ns, 'tls', 'Ready', 'Available', 'True');
      await waitForReason(c, ns, 'cross', 'Ready', 'Available', 'True');
      // the Secret cache: the one the app names and the TLS Secret from the operator's Certificate, nothing else
      assert.deepEqual(op.cachedSecrets(), [`${ns}/oidc`, `${ns}/${cert.spec.secretName}`].sort());
      // Events are recorded in the background (runtime/events.ts)
      await eventually('an Event for the transition to Ready', async () =>
        (await c.list<AnyObject>({ group: 'events.k8s.io', version: 'v1', plural: 'events', kind: 'Event', namespaced: true }, ns)).items.some(
          (e) => e.regarding?.name === 'tls' && e.reason === 'Available',
        ),
      );

      await deleteApp(c, ns, 'tls');
      await deleteApp(c, ns, 'cross');
      await eventually('apps released', async () => !(await getApp(c, ns, 'tls')) && !(await getApp(c, ns, 'cross')), 30_000);
      assert.equal((await c.list(REFERENCEGRANT_RT, be)).items.length, 0, 'ReferenceGrant removed');
      assert.equal(await exists(c, { group: '', version: 'v1', plural: 'secrets', kind: 'Secret', namespaced: true }, ns, cert.spec.secretName), false, 'TLS Secret removed');
      await eventually('routes removed', async () => !(await exists(c, HTTPROUTE_RT, ns, 'tls-route')) && !(await exists(c, HTTPROUTE_RT, ns, 'cross-route')), 60_000);

      const text = await metrics.registry.metrics();
      const forbidden = text.split('\n').filter((l) => l.startsWith('nebari_operator_api_requests_total') && l.includes('code="403"'));
      assert.deepEqual(forbidden, [], 'no request was forbidden');
    } finally {
      await op.stop();
    }
  });
});
