// Checks of operator/manifests: the Deployment's hardening and the RBAC's coverage of exactly what the code uses
// (child kinds from desired/objects.ts, facts from reconciler-resources.ts). The RBAC's sufficiency against a real
// API server is test/integration/operator/rbac.test.ts.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { KEYCLOAK_ADMIN_CREDENTIALS_DIR } from '../../../operator/src/config.js';
import { CHILD_KINDS } from '../../../operator/src/desired/objects.js';
import { OPERATOR_NODE_ENV, OPERATOR_NODE_FLAGS } from '../../../operator/src/node-flags.js';

const dir = join(import.meta.dirname, '..', '..', '..', 'operator', 'manifests');
const load = (f: string) => parseAllDocuments(readFileSync(join(dir, f), 'utf8')).map((d) => d.toJSON());

describe('operator manifests', () => {
  it('kustomization lists every manifest file and the CRD directory', () => {
    const k = load('kustomization.yaml')[0];
    assert.deepEqual(k.resources, ['../crd', 'serviceaccount.yaml', 'rbac.yaml', 'deployment.yaml', 'service.yaml', 'pdb.yaml', 'networkpolicy.yaml']);
    assert.equal(k.namespace, 'nkp-operator');
  });

  it('Deployment: two replicas, non-root, read-only root filesystem, no capabilities, RuntimeDefault seccomp, requests/limits, probes', () => {
    const d = load('deployment.yaml')[0];
    assert.equal(d.spec.replicas, 2);
    const pod = d.spec.template.spec;
    assert.equal(pod.securityContext.runAsNonRoot, true);
    assert.ok(pod.securityContext.runAsUser > 0);
    assert.equal(pod.securityContext.seccompProfile.type, 'RuntimeDefault');
    assert.equal(pod.serviceAccountName, 'nebari-operator');
    const c = pod.containers[0];
    assert.equal(c.name, 'operator');
    assert.equal(c.image, 'nkp-operator', 'placeholder the foundation replaces');
    assert.equal(c.securityContext.readOnlyRootFilesystem, true);
    assert.equal(c.securityContext.allowPrivilegeEscalation, false);
    assert.deepEqual(c.securityContext.capabilities.drop, ['ALL']);
    for (const k of ['cpu', 'memory']) {
      assert.ok(c.resources.requests[k], `request ${k}`);
      assert.ok(c.resources.limits[k], `limit ${k}`);
    }
    assert.equal(c.livenessProbe.httpGet.path, '/healthz');
    assert.equal(c.readinessProbe.httpGet.path, '/readyz');
    const env = Object.fromEntries(c.env.map((e: { name: string; value?: string }) => [e.name, e.value]));
    for (const name of ['POD_NAME', 'POD_NAMESPACE', 'OIDC_ISSUER_URL', 'CLUSTER_ISSUER', 'LEADER_ELECTION']) assert.ok(name in env, `env ${name}`);
    assert.ok(!c.env.some((e: { name: string }) => /SECRET|PASSWORD|TOKEN/i.test(e.name)), 'no credentials in env');
    // Keycloak admin credentials: the optional Secret volume, read-only, where config.ts reads by default
    const vol = pod.volumes.find((v: { name: string }) => v.name === 'keycloak-admin');
    assert.deepEqual(vol.secret, { secretName: 'keycloak-admin', optional: true, defaultMode: 0o440 });
    const mount = c.volumeMounts.find((m: { name: string }) => m.name === 'keycloak-admin');
    assert.deepEqual(mount, { name: 'keycloak-admin', mountPath: KEYCLOAK_ADMIN_CREDENTIALS_DIR, readOnly: true });
    assert.equal(env['KEYCLOAK_URL'], '', 'provisioning off until the foundation sets the admin API URL');
    const pdb = load('pdb.yaml')[0];
    assert.equal(pdb.spec.minAvailable, 1);
  });

  it("the image runs the bundle with the Node flags bench/operator.ts measures (operator/src/node-flags.ts)", () => {
    const docker = readFileSync(join(dir, '..', 'Dockerfile'), 'utf8');
    const entry = docker.split('\n').filter((l) => l.startsWith('ENTRYPOINT '));
    assert.equal(entry.length, 1);
    assert.deepEqual(JSON.parse(entry[0]!.slice('ENTRYPOINT '.length)), ['node', ...OPERATOR_NODE_FLAGS, '/app/operator.js']);
    // the final stage's ENV lines, besides NODE_ENV, are exactly OPERATOR_NODE_ENV
    const final = docker.slice(docker.lastIndexOf('\nFROM '));
    const env = final.split('\n').filter((l) => l.startsWith('ENV ') && !l.startsWith('ENV NODE_ENV=')).map((l) => l.slice(4).split('='));
    assert.deepEqual(Object.fromEntries(env), OPERATOR_NODE_ENV);
  });

  it('RBAC: each child kind writable, facts read-only, Lease only in a Role, no wildcards', () => {
    const docs = load('rbac.yaml');
    const cr = docs.find((d) => d.kind === 'ClusterRole');
    const role = docs.find((d) => d.kind === 'Role');
    const verbs = (rules: { apiGroups: string[]; resources: string[]; verbs: string[] }[], group: string, res: string) =>
      new Set(rules.filter((r) => r.apiGroups.includes(group) && r.resources.includes(res)).flatMap((r) => r.verbs));
    for (const k of CHILD_KINDS) {
      // get: a name missing from the (labelled-only) caches is read once to find an object the operator does not own
      assert.deepEqual([...verbs(cr.rules, k.group, k.plural)].sort(), ['create', 'delete', 'get', 'list', 'patch', 'watch'], `${k.plural}`);
    }
    assert.deepEqual([...verbs(cr.rules, '', 'services')].sort(), ['list', 'watch']);
    assert.deepEqual([...verbs(cr.rules, '', 'namespaces')].sort(), ['list', 'watch']);
    assert.deepEqual([...verbs(cr.rules, 'gateway.networking.k8s.io', 'gateways')].sort(), ['list', 'watch']);
    assert.deepEqual([...verbs(cr.rules, 'reconcilers.nebari.dev', 'nebariapps/status')], ['patch']);
    assert.equal(verbs(cr.rules, 'coordination.k8s.io', 'leases').size, 0, 'no cluster-wide Lease access');
    assert.ok(verbs(role.rules, 'coordination.k8s.io', 'leases').has('update'));
    const all = JSON.stringify(docs);
    assert.ok(!all.includes('"*"'), 'no wildcard');
    // Keycloak provisioning: the <name>-oidc-client Secrets and their reader Role + RoleBinding; `get` on Secrets is
    // what lets the API server accept a Role granting get on one Secret (escalation prevention), never escalate/bind
    assert.deepEqual([...verbs(cr.rules, '', 'secrets')].sort(), ['create', 'delete', 'get', 'list', 'patch', 'watch']);
    for (const res of ['roles', 'rolebindings']) {
      assert.deepEqual([...verbs(cr.rules, 'rbac.authorization.k8s.io', res)].sort(), ['create', 'delete', 'get', 'patch'], res);
    }
    const rbacVerbs = docs.filter((d) => d.kind === 'ClusterRole' || d.kind === 'Role').flatMap((d) => d.rules.flatMap((r: { verbs: string[] }) => r.verbs));
    assert.ok(!rbacVerbs.includes('escalate') && !rbacVerbs.includes('bind') && !rbacVerbs.includes('impersonate'), 'no escalate, bind or impersonate');
    assert.equal(verbs(cr.rules, 'rbac.authorization.k8s.io', 'clusterroles').size + verbs(cr.rules, 'rbac.authorization.k8s.io', 'clusterrolebindings').size, 0);
  });
});
