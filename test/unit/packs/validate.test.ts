// Pure checks of the pack validator (packs/validate-lib.ts): a good pack is clean, each bad case is reported on the
// field it concerns, and NebariApp errors are the operator's own validator's.
import { strict as assert } from 'node:assert';
import { checkPack, formatProblem, nebariAppCount, type PackObject, type PackProblem } from '../../../packs/validate-lib.js';
import { validate } from '../../../operator/src/api/validate.js';

/* eslint-disable @typescript-eslint/no-explicit-any -- fixtures are untyped manifests the tests edit freely */

const NS = 'my-pack';

function goodPack(): { app: any; svc: any; sa: any; deploy: any } {
    return {
        app: {
            apiVersion: 'reconcilers.nebari.dev/v1',
            kind: 'NebariApp',
            metadata: { name: 'app', namespace: NS },
            spec: {
                hostname: 'app.example.com',
                service: { name: 'app', port: 8080 },
                routing: { routes: [{ pathPrefix: '/' }] },
                auth: { enabled: true, groups: ['users'] },
                landingPage: { enabled: true, displayName: 'App' },
            },
        },
        svc: { apiVersion: 'v1', kind: 'Service', metadata: { name: 'app', namespace: NS }, spec: { ports: [{ name: 'http', port: 8080 }] } },
        sa: { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'app', namespace: NS } },
        deploy: { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'app', namespace: NS }, spec: {} },
    };
}

const pack = (...objects: unknown[]): PackObject[] => objects.map((object, i) => ({ source: `file${i}.yaml`, object }));
const fields = (ps: PackProblem[], severity: 'error' | 'warning'): string[] => ps.filter((p) => p.severity === severity).map((p) => p.field);

describe('packs: validator checks (pure)', () => {
    it('a good pack has no problem', () => {
        const { app, svc, sa, deploy } = goodPack();
        assert.deepEqual(checkPack(pack(sa, deploy, svc, app)), []);
    });

    it('objects without a namespace (kustomize or Argo CD places them) still match each other', () => {
        const { app, svc, sa } = goodPack();
        for (const o of [app, svc, sa]) delete o.metadata.namespace;
        assert.deepEqual(checkPack(pack(app, svc, sa)), []);
    });

    it('reports the operator validator\'s errors, field by field, with file and object', () => {
        const { app, svc, sa } = goodPack();
        app.spec.hostname = 'Not A Host';
        app.spec.service.port = 70000;
        const problems = checkPack(pack(svc, sa, app));
        const expected = validate(app).map((e) => e.field);
        assert.ok(expected.includes('spec.hostname') && expected.some((f) => f.startsWith('spec.service.port')), JSON.stringify(expected));
        assert.deepEqual(fields(problems, 'error'), expected);
        assert.equal(problems[0]?.source, 'file2.yaml');
        assert.equal(problems[0]?.object, `NebariApp ${NS}/app`);
    });

    it('an unknown spec field is an error naming it', () => {
        const { app, svc, sa } = goodPack();
        app.spec.hostnam = 'x.example.com';
        const problems = checkPack(pack(svc, sa, app));
        assert.ok(problems.some((p) => p.severity === 'error' && /hostnam/.test(`${p.field} ${p.message}`)), JSON.stringify(problems));
    });

    it('a CEL rule of the schema (forwardAccessToken requires enforceAtGateway) is reported', () => {
        const { app, svc, sa } = goodPack();
        app.spec.auth = { enabled: true, enforceAtGateway: false, forwardAccessToken: true };
        const problems = checkPack(pack(svc, sa, app));
        assert.ok(fields(problems, 'error').some((f) => f.startsWith('spec.auth')), JSON.stringify(problems));
    });

    it('spec.service.name must name a Service of the pack', () => {
        const { app, svc, sa } = goodPack();
        app.spec.service.name = 'backend';
        const problems = checkPack(pack(svc, sa, app));
        assert.deepEqual(fields(problems, 'error'), ['spec.service.name']);
        assert.match(problems[0]!.message, /"backend" is not in the pack \(Services: app\)/);
    });

    it('a Service of the same name in another namespace does not count', () => {
        const { app, svc, sa } = goodPack();
        svc.metadata.namespace = 'other';
        assert.deepEqual(fields(checkPack(pack(svc, sa, app)), 'error'), ['spec.service.name']);
    });

    it('spec.service.port must be a port of that Service', () => {
        const { app, svc, sa } = goodPack();
        app.spec.service.port = 9090;
        const problems = checkPack(pack(svc, sa, app));
        assert.deepEqual(fields(problems, 'error'), ['spec.service.port']);
        assert.match(problems[0]!.message, /9090 is not a port of Service "app" \(ports: 8080 \(http\)\)/);
    });

    it('a backend in another namespace (spec.service.namespace) is outside the pack and not checked', () => {
        const { app, sa } = goodPack();
        app.spec.service = { name: 'shared', port: 80, namespace: 'elsewhere' };
        assert.deepEqual(checkPack(pack(sa, app)), []);
    });

    it('spec.service.namespace equal to the app\'s own namespace is checked like no namespace', () => {
        const { app, sa } = goodPack();
        app.spec.service.namespace = NS;
        assert.deepEqual(fields(checkPack(pack(sa, app)), 'error'), ['spec.service.name']);
    });

    it('a missing ServiceAccount (default: the NebariApp name) is a warning, not an error', () => {
        const { app, svc } = goodPack();
        const problems = checkPack(pack(svc, app));
        assert.deepEqual(fields(problems, 'error'), []);
        assert.deepEqual(fields(problems, 'warning'), ['spec.serviceAccountName']);
        assert.match(problems[0]!.message, /"app" \(the default: the NebariApp name\)/);
    });

    it('an explicit serviceAccountName must exist too', () => {
        const { app, svc, sa } = goodPack();
        app.spec.serviceAccountName = 'runner';
        const problems = checkPack(pack(svc, sa, app));
        assert.deepEqual(fields(problems, 'warning'), ['spec.serviceAccountName']);
        assert.match(problems[0]!.message, /ServiceAccount "runner" is not in the pack/);
    });

    it('a pack without a NebariApp, a wrong apiVersion, a missing name and a non-object document are errors', () => {
        const { app, svc, sa } = goodPack();
        assert.deepEqual(fields(checkPack(pack(svc, sa)), 'error'), ['kind']);
        assert.equal(nebariAppCount(pack(svc, sa, app)), 1);
        assert.deepEqual(fields(checkPack(pack(svc, sa, { ...app, apiVersion: 'reconcilers.nebari.dev/v1alpha1' })), 'error'), ['apiVersion']);
        assert.deepEqual(fields(checkPack(pack(svc, sa, { ...app, metadata: { namespace: NS } })), 'error'), ['metadata.name']);
        const withScalar = checkPack(pack(svc, sa, app, 'just a string'));
        assert.deepEqual(withScalar.map((p) => [p.object, p.severity]), [['document 4', 'error']]);
    });

    it('errors come before warnings and one line names severity, file, object and field', () => {
        const { app, svc } = goodPack();
        app.spec.service.port = 81;
        const problems = checkPack(pack(svc, app));
        assert.deepEqual(problems.map((p) => p.severity), ['error', 'warning']);
        assert.equal(formatProblem(problems[0]!), `error file1.yaml NebariApp ${NS}/app spec.service.port: 81 is not a port of Service "app" (ports: 8080 (http))`);
    });
});
