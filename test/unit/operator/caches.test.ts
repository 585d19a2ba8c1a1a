// What the operator keeps in its caches (issue 13, memory and least privilege): trimmed objects carry exactly the
// fields reconciliation reads, and the app index asks for one Secret watch per Secret apps name, released when no
// app names it any more (an update that keeps the reference keeps the watch).
import assert from 'node:assert/strict';
import { AppIndex } from '../../../operator/src/reconciler-index.js';
import { trimApp, trimGateway, trimNamespace, trimService } from '../../../operator/src/reconciler-resources.js';
import type { NebariApp } from '../../../operator/src/api/types.js';

const meta = { name: 'x', namespace: 'ns', uid: 'u', resourceVersion: '7', managedFields: [{ manager: 'm' }], annotations: { a: 'b' } };

describe('operator caches: trimmed objects and named Secret watches', () => {
  it('Service keeps port numbers, Namespace its labels, Gateway its identity; NebariApp loses managedFields and last-applied', () => {
    const svc = trimService({ apiVersion: 'v1', kind: 'Service', metadata: meta, spec: { ports: [{ name: 'http', port: 8080, targetPort: 80 }], selector: { a: 'b' } } });
    assert.deepEqual(svc, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'x', namespace: 'ns', uid: 'u', resourceVersion: '7' }, spec: { ports: [{ port: 8080 }] } });
    const ns = trimNamespace({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'ns', resourceVersion: '3', labels: { 'nebari.dev/managed': 'true' }, annotations: { big: 'x'.repeat(1000) } } });
    assert.deepEqual(ns.metadata, { name: 'ns', resourceVersion: '3', labels: { 'nebari.dev/managed': 'true' } });
    assert.deepEqual(trimGateway({ apiVersion: 'v1', kind: 'Gateway', metadata: meta, spec: { listeners: [] } }).metadata, { name: 'x', namespace: 'ns', uid: 'u', resourceVersion: '7' });
    const app = trimApp({
      apiVersion: 'v1',
      kind: 'NebariApp',
      metadata: { ...meta, annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"spec":{}}', 'nebari.dev/force-reprovision': 'x' } },
      spec: { hostname: 'h' },
    });
    assert.deepEqual(app.metadata.annotations, { 'nebari.dev/force-reprovision': 'x' });
    assert.equal('managedFields' in app.metadata, false);
    assert.deepEqual(app.spec, { hostname: 'h' });
  });

  it('one watch per Secret apps name (auth.clientSecretRef with auth on), kept across updates, released with the last app', () => {
    const calls: string[] = [];
    const idx = new AppIndex((ref, d) => calls.push(`${d > 0 ? '+' : '-'}${ref}`));
    const app = (name: string, auth?: Record<string, unknown>) =>
      ({ metadata: { namespace: 'ns', name }, spec: { hostname: `${name}.h`, service: { name: 's', port: 1 }, ...(auth ? { auth } : {}) } }) as unknown as NebariApp;
    idx.upsert(app('plain'));
    idx.upsert(app('off', { enabled: false, clientSecretRef: 'ignored' }));
    assert.deepEqual(calls, [], 'no watch for apps that name no Secret (the provisioned ones are labelled)');
    idx.upsert(app('a', { enabled: true, clientSecretRef: 'oidc' }));
    idx.upsert(app('b', { enabled: true, clientSecretRef: 'oidc' }));
    idx.upsert(app('a', { enabled: true, clientSecretRef: 'oidc', scopes: ['openid'] }));
    assert.deepEqual(calls, ['+ns/oidc', '+ns/oidc', '+ns/oidc', '-ns/oidc'], 'retained before released: the count never drops to 0 on an update');
    idx.remove('ns/a');
    idx.remove('ns/b');
    assert.deepEqual(calls.slice(4), ['-ns/oidc', '-ns/oidc']);
  });
});
