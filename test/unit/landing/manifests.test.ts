// The landing pack's manifests: a valid NebariApp, a hardened Deployment wired to the operator's Secret, and
// RBAC that reads NebariApps only.
import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { validate, formatErrors } from '../../../operator/src/api/validate.js';
import { clientId, clientSecretName, SECRET_KEYS, API_VERSION, KIND } from '../../../operator/src/api/types.js';
import { LANDING_ADMIN_CREDENTIALS_SECRET as ADMIN_SECRET } from '../../../components/identity/spec.js';
import { LANDING_NODE_FLAGS, LANDING_NODE_OPTIONS } from '../../../packs/landing/src/node-flags.js';

const DIR = join(process.cwd(), 'packs', 'landing', 'manifests');
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Obj = Record<string, any>; // free-form YAML

function load(file: string): Obj[] {
  return parseAllDocuments(readFileSync(join(DIR, file), 'utf8')).map((d) => d.toJS() as Obj).filter(Boolean);
}

describe('landing manifests', () => {
  const kustomization = load('kustomization.yaml')[0]!;
  const all = (kustomization.resources as string[]).flatMap(load);
  const byKind = (kind: string) => all.filter((o) => o.kind === kind);
  const deployment = byKind('Deployment')[0]!;
  const app = byKind(KIND)[0]!;
  const container = deployment.spec.template.spec.containers[0];

  it('Node runs as node-flags.ts says: the image\'s CMD flags and the Deployment\'s NODE_OPTIONS (the bench uses the same)', () => {
    const docker = readFileSync(join(DIR, '..', 'Dockerfile'), 'utf8');
    const cmd = docker.split('\n').filter((l) => l.startsWith('CMD '));
    assert.equal(cmd.length, 1);
    assert.deepEqual(JSON.parse(cmd[0]!.slice('CMD '.length)), [...LANDING_NODE_FLAGS, '/app/server.mjs']);
    const env = (container.env as Array<{ name: string; value?: string }>).filter((e) => e.name === 'NODE_OPTIONS');
    assert.deepEqual(env, [{ name: 'NODE_OPTIONS', value: LANDING_NODE_OPTIONS }]);
  });

  it('the kustomization lists existing files, one namespace nkp-landing', () => {
    for (const r of kustomization.resources as string[]) assert.ok(existsSync(join(DIR, r)), r);
    assert.equal(kustomization.namespace, 'nkp-landing');
    for (const o of all) if (o.kind !== 'ClusterRole' && o.kind !== 'ClusterRoleBinding') assert.equal(o.metadata.namespace, 'nkp-landing', `${o.kind}/${o.metadata.name}`);
    assert.deepEqual(byKind('Deployment').length, 1);
    assert.equal(container.image, 'nkp-landing', 'the image placeholder the foundation replaces');
  });

  it('the NebariApp is valid, has auth on (the app does OAuth itself) and no card for itself', () => {
    assert.equal(app.apiVersion, API_VERSION);
    const errors = validate(app);
    assert.deepEqual(errors, [], formatErrors(errors));
    assert.equal(app.spec.auth.enabled, true);
    assert.equal(app.spec.auth.enforceAtGateway, false, 'anonymous visitors must still reach the page');
    assert.equal(app.spec.landingPage.enabled, false);
    assert.equal(app.spec.serviceAccountName, deployment.spec.template.spec.serviceAccountName);
    const svc = byKind('Service')[0]!;
    assert.equal(app.spec.service.name, svc.metadata.name);
    assert.equal(app.spec.service.port, svc.spec.ports[0].port);
    const aud = app.spec.auth.keycloakConfig.protocolMappers.find((m: Obj) => m.protocolMapper === 'oidc-audience-mapper');
    assert.equal(aud.config['included.client.audience'], clientId(app.metadata.namespace, app.metadata.name));
  });

  it('the Deployment reads the OIDC client from the Secret the operator provisions', () => {
    const env = Object.fromEntries((container.env as Obj[]).map((e) => [e.name, e]));
    const secret = clientSecretName(app.metadata.name);
    assert.deepEqual(env.OIDC_CLIENT_ID.valueFrom.secretKeyRef, { name: secret, key: SECRET_KEYS.clientId });
    assert.deepEqual(env.OIDC_CLIENT_SECRET.valueFrom.secretKeyRef, { name: secret, key: SECRET_KEYS.clientSecret });
    assert.deepEqual(env.OIDC_ISSUER_URL.valueFrom.secretKeyRef, { name: secret, key: SECRET_KEYS.issuerUrl });
    assert.equal(env.OIDC_REDIRECT_PATH.value, app.spec.auth.redirectURI);
    assert.equal(new URL(env.PUBLIC_URL.value).hostname, app.spec.hostname);
  });

  it('the Deployment runs non-root, read-only, no privileges, with probes and limits', () => {
    const pod = deployment.spec.template.spec;
    assert.equal(pod.securityContext.runAsNonRoot, true);
    assert.ok(pod.securityContext.runAsUser > 0);
    assert.equal(pod.securityContext.seccompProfile.type, 'RuntimeDefault');
    assert.equal(container.securityContext.readOnlyRootFilesystem, true);
    assert.equal(container.securityContext.allowPrivilegeEscalation, false);
    assert.deepEqual(container.securityContext.capabilities.drop, ['ALL']);
    assert.equal(container.livenessProbe.httpGet.path, '/healthz');
    assert.equal(container.readinessProbe.httpGet.path, '/readyz');
    assert.ok(container.resources.limits.cpu && container.resources.limits.memory);
    assert.ok(container.resources.requests.cpu && container.resources.requests.memory);
    const selector = deployment.spec.selector.matchLabels;
    for (const [k, v] of Object.entries(selector)) assert.equal(deployment.spec.template.metadata.labels[k], v);
    assert.deepEqual(byKind('Service')[0]!.spec.selector, selector);
  });

  it('RBAC: read nebariapps and Argo CD applications cluster-wide; configmaps (no delete) in its own namespace; no secrets', () => {
    const [role] = byKind('ClusterRole');
    assert.deepEqual(role!.rules, [
      { apiGroups: ['reconcilers.nebari.dev'], resources: ['nebariapps'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: ['argoproj.io'], resources: ['applications'], verbs: ['get', 'list', 'watch'] },
    ]);
    const [binding] = byKind('ClusterRoleBinding');
    assert.equal(binding!.roleRef.name, role!.metadata.name);
    assert.deepEqual(binding!.subjects, [{ kind: 'ServiceAccount', name: 'landing', namespace: 'nkp-landing' }]);
    assert.equal(byKind('ServiceAccount')[0]!.metadata.name, 'landing');
    const roles = byKind('Role');
    assert.equal(roles.length, 1);
    assert.deepEqual(roles[0]!.rules, [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list', 'watch', 'create', 'update'] }]);
    const [rb] = byKind('RoleBinding');
    assert.equal(rb!.roleRef.name, roles[0]!.metadata.name);
    assert.deepEqual(rb!.subjects, [{ kind: 'ServiceAccount', name: 'landing', namespace: 'nkp-landing' }]);
    for (const r of [...byKind('ClusterRole'), ...roles]) for (const rule of r.rules as Obj[]) assert.ok(!rule.resources.includes('secrets'), 'no access to Secrets');
  });

  it('the Deployment finds its state namespace and the optional Keycloak admin client', () => {
    const env = Object.fromEntries((container.env as Obj[]).map((e) => [e.name, e]));
    assert.equal(env.POD_NAMESPACE.valueFrom.fieldRef.fieldPath, 'metadata.namespace');
    // The Secret the Identity component writes (components/identity/spec.ts), optional: without it approvals answer 503.
    assert.deepEqual(env.KEYCLOAK_ADMIN_CLIENT_ID.valueFrom.secretKeyRef, { name: ADMIN_SECRET.name, key: ADMIN_SECRET.clientIdKey, optional: true });
    assert.deepEqual(env.KEYCLOAK_ADMIN_CLIENT_SECRET.valueFrom.secretKeyRef, { name: ADMIN_SECRET.name, key: ADMIN_SECRET.clientSecretKey, optional: true });
  });

  it('the Dockerfile builds one bundled file plus static assets and runs as non-root', () => {
    const df = readFileSync(join(process.cwd(), 'packs', 'landing', 'Dockerfile'), 'utf8');
    assert.match(df, /packs\/landing\/build\.ts \/out --server/);
    assert.match(df, /COPY --from=build \/out\/server\.mjs/);
    assert.match(df, /COPY --from=build \/out\/web/);
    assert.match(df, /^USER 65532:65532$/m);
    for (const m of df.matchAll(/^COPY (?!--from)(\S+)/gm)) {
      for (const src of m[1]!.split(/\s+/)) assert.ok(existsSync(join(process.cwd(), src)), `Dockerfile copies ${src}`);
    }
  });
});
