import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { CRD_PATH, nebariAppCrd, nebariAppCrdYaml } from '../../../operator/src/api/crd.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

describe('NebariApp CRD generation', () => {
  it('the committed CRD equals the one generated from the schema', () => {
    const committed = readFileSync(join(root, CRD_PATH), 'utf8');
    assert.ok(
      committed === nebariAppCrdYaml(),
      `${CRD_PATH} differs from the schema in operator/src/api/schema.ts: run \`npx tsx scripts/gen-crd.ts\` and commit the result`,
    );
  });

  it('operator/crd is a kustomization of exactly the generated CRD (operator/manifests lists ../crd)', () => {
    const dir = join(root, dirname(CRD_PATH));
    assert.deepEqual(readdirSync(dir).sort(), ['kustomization.yaml', basename(CRD_PATH)].sort(), `${dirname(CRD_PATH)} holds the CRD and its kustomization only`);
    const k = parse(readFileSync(join(dir, 'kustomization.yaml'), 'utf8'));
    assert.equal(k.kind, 'Kustomization');
    assert.deepEqual(k.resources, [basename(CRD_PATH)]);
  });

  it('is a structural schema: every node has a type, no anyOf/oneOf/allOf, no additionalProperties:false', () => {
    const crd = nebariAppCrd() as { spec: { versions: { schema: { openAPIV3Schema: unknown } }[] } };
    const problems: string[] = [];
    const walk = (node: Record<string, unknown>, path: string): void => {
      if (typeof node['type'] !== 'string') problems.push(`${path}: no type`);
      for (const k of ['anyOf', 'oneOf', 'allOf', 'not', '$ref', 'patternProperties']) if (k in node) problems.push(`${path}: ${k}`);
      if (node['additionalProperties'] === false) problems.push(`${path}: additionalProperties false`);
      for (const [k, v] of Object.entries((node['properties'] as Record<string, Record<string, unknown>>) ?? {})) walk(v, `${path}.${k}`);
      if (node['items']) walk(node['items'] as Record<string, unknown>, `${path}[]`);
      if (typeof node['additionalProperties'] === 'object') walk(node['additionalProperties'] as Record<string, unknown>, `${path}{}`);
    };
    walk(crd.spec.versions[0]!.schema.openAPIV3Schema as Record<string, unknown>, '');
    assert.deepEqual(problems, []);
  });

  it('carries names, status subresource, printer columns and the CEL rules', () => {
    const crd = parse(nebariAppCrdYaml());
    assert.equal(crd.metadata.name, 'nebariapps.reconcilers.nebari.dev');
    assert.deepEqual(crd.spec.names.shortNames, ['nebariapp']);
    assert.equal(crd.spec.scope, 'Namespaced');
    const v = crd.spec.versions[0];
    assert.equal(v.name, 'v1');
    assert.deepEqual(v.subresources, { status: {} });
    assert.deepEqual(
      v.additionalPrinterColumns.map((c: { name: string }) => c.name),
      ['Hostname', 'Ready', 'Reason', 'Age'],
    );
    const spec = v.schema.openAPIV3Schema.properties.spec;
    const authRules = spec.properties.auth['x-kubernetes-validations'].map((r: { rule: string }) => r.rule);
    assert.ok(authRules.some((r: string) => r.includes('forwardAccessToken')));
    assert.ok(authRules.some((r: string) => r.includes('denyRedirect')));
    assert.ok(authRules.some((r: string) => r.includes('issuerURL')));
    assert.ok(spec.properties.landingPage['x-kubernetes-validations'][0].rule.includes('displayName'));
    assert.equal(spec.properties.routing.properties.routes.items.properties.pathType.default, 'PathPrefix');
    assert.equal(spec.properties.routing.properties.publicRoutes.items.properties.pathType.default, 'Exact');
    assert.equal(spec.properties.auth.properties.redirectURI.default, '/oauth2/callback');
    assert.deepEqual(spec.properties.auth.properties.scopes.default, ['openid', 'profile', 'email']);
  });
});
