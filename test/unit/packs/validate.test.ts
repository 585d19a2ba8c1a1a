// Pure checks of the pack validator (packs/validate-lib.ts): a good pack is clean, each bad case is reported on the
// field it concerns, and NebariApp errors are the operator's own validator's.
import { strict as assert } from 'node:assert';
import { parse } from 'yaml';
import { checkApplication, checkChartConditional, checkChartValues, checkHostnameTemplated, checkNamespaceOptIn, checkPack, checkPackMetadata, formatProblem, nebariAppCount, type PackObject, type PackProblem } from '../../../packs/validate-lib.js';
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

    it('a missing ServiceAccount (default: the NebariApp name) is an error when the operator provisions an OIDC client for it', () => {
        const { app, svc } = goodPack();
        const problems = checkPack(pack(svc, app));
        assert.deepEqual(fields(problems, 'error'), ['spec.serviceAccountName']);
        assert.equal(problems[0]!.message, 'ServiceAccount "app" (the default: the NebariApp name) is not in the pack; only it may read the OIDC client Secret app-oidc-client, so the pack must ship it');
    });

    it('without a provisioned client (no auth, or clientSecretRef) a missing ServiceAccount is only a warning', () => {
        for (const auth of [{ enabled: false }, { enabled: true, clientSecretRef: 'mine' }, { enabled: true, provisionClient: false }]) {
            const { app, svc } = goodPack();
            app.spec.auth = auth;
            const problems = checkPack(pack(svc, app));
            assert.deepEqual(fields(problems, 'error'), [], JSON.stringify(auth));
            assert.deepEqual(fields(problems, 'warning'), ['spec.serviceAccountName'], JSON.stringify(auth));
        }
    });

    it('an explicit serviceAccountName must exist too', () => {
        const { app, svc, sa } = goodPack();
        app.spec.serviceAccountName = 'runner';
        const problems = checkPack(pack(svc, sa, app));
        assert.deepEqual(fields(problems, 'error'), ['spec.serviceAccountName']);
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
        app.spec.auth = { enabled: false };
        const problems = checkPack(pack(svc, app));
        assert.deepEqual(problems.map((p) => p.severity), ['error', 'warning']);
        assert.equal(formatProblem(problems[0]!), `error file1.yaml NebariApp ${NS}/app spec.service.port: 81 is not a port of Service "app" (ports: 8080 (http))`);
    });

    it('requireNebariApp: false (a chart rendered without the platform) accepts a pack without a NebariApp', () => {
        const { svc, sa } = goodPack();
        assert.deepEqual(checkPack(pack(svc, sa), { requireNebariApp: false }), []);
    });
});

describe('packs: chart, namespace, Application and pack.yaml checks (pure)', () => {
    it('values.yaml must declare nebariapp.enabled as a boolean', () => {
        assert.deepEqual(checkChartValues({ nebariapp: { enabled: true } }, 'values.yaml'), []);
        const missing = checkChartValues({ image: {} }, 'values.yaml');
        assert.deepEqual(missing.map((p) => [p.field, p.severity]), [['nebariapp.enabled', 'error']]);
        assert.match(missing[0]!.message, /^is missing: a pack chart declares nebariapp.enabled/);
        assert.match(checkChartValues({ nebariapp: { enabled: 'yes' } }, 'v')[0]!.message, /^is "yes", not a boolean/);
    });

    it('a NebariApp rendered with nebariapp.enabled=false is unconditional', () => {
        const { app, svc } = goodPack();
        assert.deepEqual(checkChartConditional(pack(svc)), []);
        const p = checkChartConditional(pack(svc, app));
        assert.equal(formatProblem(p[0]!), `error file1.yaml NebariApp ${NS}/app kind: is rendered with nebariapp.enabled=false: the NebariApp is unconditional; wrap its template in {{- if .Values.nebariapp.enabled }} ... {{- end }} so the chart installs without the platform`);
    });

    it('the hostname must follow nebariapp.hostname', () => {
        const { app } = goodPack();
        app.spec.hostname = 'probe.invalid';
        assert.deepEqual(checkHostnameTemplated(pack(app), 'probe.invalid'), []);
        app.spec.hostname = 'fixed.example.com';
        const p = checkHostnameTemplated(pack(app), 'probe.invalid');
        assert.equal(p[0]!.field, 'spec.hostname');
        assert.equal(p[0]!.message, 'is not templated: rendered "fixed.example.com" with nebariapp.hostname=probe.invalid; take it from {{ .Values.nebariapp.hostname }} so each deployment sets its own');
    });

    it('a Namespace the pack ships for its NebariApp must be opted in; so must one Argo CD creates', () => {
        const { app, svc } = goodPack();
        const ns = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } };
        const p = checkNamespaceOptIn(pack(ns, svc, app));
        assert.deepEqual(p.map((x) => [x.object, x.field]), [[`Namespace ${NS}`, 'metadata.labels["nebari.dev/managed"]']]);
        assert.match(p[0]!.message, /namespace "my-pack" holds a NebariApp but is not opted in: label it nebari.dev\/managed=true/);
        assert.deepEqual(checkNamespaceOptIn(pack({ ...ns, metadata: { name: NS, labels: { 'nebari.dev/managed': 'true' } } }, app)), []);
        assert.deepEqual(checkNamespaceOptIn(pack({ ...ns, metadata: { name: 'elsewhere' } }, app)), [], 'a namespace without the NebariApp is not the pack\'s concern');
        const dest = { source: 'app.yaml', object: 'Application nkp-pack-apps/x', namespace: NS, createdWithLabels: { team: 'a' } };
        assert.deepEqual(checkNamespaceOptIn(pack(app), dest).map((x) => x.field), ['spec.syncPolicy.managedNamespaceMetadata.labels["nebari.dev/managed"]']);
        assert.deepEqual(checkNamespaceOptIn(pack(app), { ...dest, createdWithLabels: { 'nebari.dev/managed': 'true' } }), []);
    });

    const application = (over: Record<string, any> = {}): any => ({
        apiVersion: 'argoproj.io/v1alpha1',
        kind: 'Application',
        metadata: { name: 'chat-staging', namespace: 'nkp-pack-apps', finalizers: ['resources-finalizer.argocd.argoproj.io'] },
        spec: {
            project: 'packs',
            source: { repoURL: 'https://git.example.com/packs.git', targetRevision: 'v1.2.0', path: 'packs/chat', helm: { releaseName: 'chat', valuesObject: { nebariapp: { hostname: 'chat.example.com' } }, parameters: [{ name: 'replicas', value: '2' }, { name: 'image.tag', value: '1.0', forceString: true }] } },
            destination: { server: 'https://kubernetes.default.svc', namespace: 'pack-chat-staging' },
            ...over,
        },
    });

    it('a well-formed pack Application is clean and yields its render plan', () => {
        const { problems, plan } = checkApplication({ source: 'a.yaml', object: application() }, parse);
        assert.deepEqual(problems, []);
        assert.deepEqual(plan?.helm, { releaseName: 'chat', valueFiles: [], values: [{ nebariapp: { hostname: 'chat.example.com' } }], set: ['replicas=2'], setString: ['image.tag=1.0'] });
        assert.equal(plan?.destination.namespace, 'pack-chat-staging');
    });

    it('an Application in the wrong project, namespace or revision, or into a platform namespace, names each field', () => {
        const bad = application({ project: 'default', destination: { namespace: 'nkp-operator' } });
        bad.metadata.namespace = 'argocd';
        bad.metadata.finalizers = [];
        bad.spec.source.targetRevision = 'main';
        const { problems } = checkApplication({ source: 'a.yaml', object: bad }, parse);
        assert.deepEqual(problems.map((p) => [p.severity, p.field]), [
            ['error', 'metadata.namespace'],
            ['warning', 'metadata.finalizers'],
            ['error', 'spec.project'],
            ['error', 'spec.source.targetRevision'],
            ['error', 'spec.destination.namespace'],
        ]);
        assert.match(problems[4]!.message, /"nkp-operator" is the platform\/system namespace nkp-operator: packs deploy into pack namespaces only/);
    });

    it('pack.yaml: a good one is clean; each bad field is named with what is allowed', () => {
        const good = { name: 'chat', displayName: 'Chat', description: 'd', maturity: 'beta', owner: { name: 'AI team' }, links: { source: 'https://x.example.com' }, runsWithoutPlatform: true, forms: { helm: '.' } };
        assert.deepEqual(checkPackMetadata(good, 'pack.yaml'), []);
        const p = checkPackMetadata({ ...good, maturity: 'stable', links: { docs: 'http://x' }, colour: 'red', runsWithoutPlatform: undefined }, 'pack.yaml');
        assert.deepEqual(p.map((x) => `${x.field}: ${x.message}`).sort(), [
            'colour: is not a pack.yaml field (allowed: name, displayName, description, maturity, owner, links, runsWithoutPlatform, forms)',
            'links.docs: must be an https:// URL',
            'maturity: must be one of experimental, alpha, beta, ga',
            'runsWithoutPlatform: is required',
        ]);
    });
});
