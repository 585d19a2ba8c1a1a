// The pack template as pack developers start from it: its base and example overlay render with the real kustomize
// (the version Argo CD bundles), pass the pack validator (library and CLI), meet the platform's image-pin policy
// and the restricted Pod Security Standard, and are accepted by the REAL kube-apiserver (server-side apply dry-run
// with strict field validation into a fresh namespace opted in with nebari.dev/managed=true; the NebariApp CRD is
// installed by the harness). The landing pack passes the validator too.
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';
import { sharedControlPlane } from '../../harness/control-plane.js';
import { repoRoot } from '../../harness/upstream.js';
import { MANAGED_NAMESPACE_LABEL } from '../../../operator/src/api/types.js';
import { checkPack } from '../../../packs/validate-lib.js';
import { imagePinnedDefaults, imageUnpinnedReason } from '../../../policy/policies/kubernetes.js';
import { KubeApi, describeRejections, type KubeObject } from '../platform/kube-api.js';
import { kustomizeBinary } from '../platform/kustomize.js';
import { packTools, renderChart, validatorCli } from './helpers.js';

/* eslint-disable @typescript-eslint/no-explicit-any -- rendered manifests are untyped JSON the tests index freely */

const BASE = 'packs/template/manifests';
const OVERLAY = 'packs/template/overlays/example';
const LANDING = 'packs/landing/manifests';

function build(path: string): KubeObject[] {
    const out = execFileSync(kustomizeBinary(), ['build', join(repoRoot, path)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return parseAllDocuments(out).map((d) => d.toJS() as KubeObject);
}

const cli = validatorCli;

const find = (objs: KubeObject[], kind: string): any => {
    const o = objs.find((x) => x.kind === kind);
    assert.ok(o, `no ${kind} rendered`);
    return o;
};

describe('packs (integration): the template renders, validates and is accepted by the real API server', function () {
    this.timeout(300_000);

    before(function () {
        this.timeout(600_000);
        packTools();
    });

    it('the base renders to a ServiceAccount, Deployment, Service and NebariApp that pass the pack validator clean', () => {
        const objs = build(BASE);
        assert.deepEqual(objs.map((o) => o.kind).sort(), ['Deployment', 'NebariApp', 'Service', 'ServiceAccount']);
        assert.deepEqual(checkPack(objs.map((object) => ({ source: BASE, object }))), []);
        const app = find(objs, 'NebariApp');
        assert.match(app.spec.hostname, /\.example\.com$/);
        assert.equal(app.spec.auth.enabled, true);
        assert.ok(app.spec.auth.groups.length > 0);
        assert.equal(app.spec.landingPage.enabled, true);
    });

    it('the Deployment is hardened and its image is pinned by the platform policy\'s own rule', () => {
        const d = find(build(BASE), 'Deployment');
        const pod = d.spec.template.spec;
        assert.equal(pod.securityContext.runAsNonRoot, true);
        assert.equal(pod.securityContext.seccompProfile.type, 'RuntimeDefault');
        for (const c of pod.containers) {
            assert.equal(imageUnpinnedReason(c.image, imagePinnedDefaults.forbiddenTags), undefined, c.image);
            assert.equal(c.securityContext.readOnlyRootFilesystem, true);
            assert.equal(c.securityContext.allowPrivilegeEscalation, false);
            assert.deepEqual(c.securityContext.capabilities.drop, ['ALL']);
            for (const k of ['cpu', 'memory']) assert.ok(c.resources.requests[k] && c.resources.limits[k], `${c.name} ${k} requests+limits`);
            assert.ok(c.livenessProbe && c.readinessProbe, `${c.name} probes`);
        }
    });

    it('the example overlay changes hostname, groups, image tag, replicas and namespace, and still validates clean', () => {
        const objs = build(OVERLAY);
        assert.deepEqual(checkPack(objs.map((object) => ({ source: OVERLAY, object }))), []);
        const app = find(objs, 'NebariApp');
        const d = find(objs, 'Deployment');
        assert.equal(app.spec.hostname, 'my-pack.dev.example.com');
        assert.deepEqual(app.spec.auth.groups, ['my-pack-users', 'data-science']);
        assert.equal(d.spec.replicas, 2);
        assert.equal(d.spec.template.spec.containers[0].image, 'ghcr.io/example/my-pack:1.0.1');
        assert.equal(d.spec.template.spec.containers[0].env.find((e: any) => e.name === 'PUBLIC_URL').value, `https://${app.spec.hostname}`);
        assert.ok(objs.every((o) => o.metadata.namespace === 'pack-my-pack'));
    });

    const CHART = 'packs/template/chart';
    const renders: { name: string; render: () => KubeObject[]; kinds: string[] }[] = [
        { name: BASE, render: () => build(BASE), kinds: ['Deployment', 'NebariApp', 'Service', 'ServiceAccount'] },
        { name: OVERLAY, render: () => build(OVERLAY), kinds: ['Deployment', 'NebariApp', 'Service', 'ServiceAccount'] },
        { name: `${CHART} (platform on)`, render: () => renderChart(CHART, { releaseName: 'my-pack', namespace: 'x' }), kinds: ['Deployment', 'NebariApp', 'NetworkPolicy', 'Service', 'ServiceAccount'] },
        { name: `${CHART} (nebariapp.enabled=false)`, render: () => renderChart(CHART, { releaseName: 'my-pack', namespace: 'x', set: ['nebariapp.enabled=false'] }), kinds: ['Deployment', 'NetworkPolicy', 'Service', 'ServiceAccount'] },
    ];
    for (const { name, render, kinds } of renders) {
        it(`${name} is accepted by the real kube-apiserver (strict server-side apply dry-run, restricted Pod Security, no warnings)`, async () => {
            const cp = await sharedControlPlane();
            const api = new KubeApi(cp.kubeConfig());
            const ns = `pack-template-${Math.random().toString(36).slice(2, 8)}`;
            const nsObj: KubeObject = {
                apiVersion: 'v1',
                kind: 'Namespace',
                metadata: { name: ns, labels: { [MANAGED_NAMESPACE_LABEL]: 'true', 'pod-security.kubernetes.io/enforce': 'restricted', 'pod-security.kubernetes.io/warn': 'restricted' } },
            };
            const created = await api.apply(nsObj, { fieldManager: 'pack-template-test', dryRun: false });
            assert.equal(describeRejections([created]), '');
            try {
                const objs = render().map((o) => ({ ...o, metadata: { ...o.metadata, namespace: ns } }));
                assert.deepEqual(objs.map((o) => o.kind).sort(), kinds);
                const results = await api.applyAll(objs, { fieldManager: 'argocd-controller', dryRun: true });
                assert.equal(describeRejections(results), '');
                assert.deepEqual(results.flatMap((r) => r.warnings), []);
            } finally {
                await api.request('DELETE', `/api/v1/namespaces/${ns}`);
            }
        });
    }

    it('the Helm form renders what the Kustomize form does, from values: hostname, groups, image, replicas', () => {
        const objs = renderChart(CHART, { releaseName: 'my-pack', namespace: 'pack-my-pack', values: [{ image: { tag: '1.0.1' }, replicas: 2, nebariapp: { hostname: 'my-pack.dev.example.com', auth: { groups: ['my-pack-users', 'data-science'] } } }] });
        const app = find(objs, 'NebariApp');
        const d = find(objs, 'Deployment');
        const kustomized = find(build(BASE), 'NebariApp');
        assert.equal(app.spec.hostname, 'my-pack.dev.example.com');
        assert.deepEqual(app.spec.auth.groups, ['my-pack-users', 'data-science']);
        assert.equal(d.spec.replicas, 2);
        assert.equal(d.spec.template.spec.containers[0].image, 'ghcr.io/example/my-pack:1.0.1');
        assert.equal(d.spec.template.spec.containers[0].env.find((e: any) => e.name === 'PUBLIC_URL').value, 'https://my-pack.dev.example.com');
        // Same contract in both forms: routing, auth mode, card.
        assert.deepEqual(app.spec.routing, kustomized.spec.routing);
        assert.deepEqual(app.spec.landingPage, kustomized.spec.landingPage);
        assert.equal(app.spec.auth.enforceAtGateway, kustomized.spec.auth.enforceAtGateway);
        assert.equal(checkPack(objs.map((object) => ({ source: CHART, object }))).length, 0);
    });

    it('the chart refuses an unpinned image with a message naming the value', () => {
        assert.throws(() => renderChart(CHART, { set: ['image.tag=latest'] }), /image\.tag must be a pinned version, not latest/);
    });

    it('the API server rejects what the validator rejects: a bad hostname in the template\'s NebariApp', async () => {
        const cp = await sharedControlPlane();
        const api = new KubeApi(cp.kubeConfig());
        const app = find(build(BASE), 'NebariApp');
        app.spec.hostname = 'Bad_Host';
        app.metadata.namespace = 'default';
        assert.ok(checkPack([{ source: 'x', object: app }]).some((p) => p.field === 'spec.hostname'));
        const [r] = await api.applyAll([app], { fieldManager: 'pack-template-test', dryRun: true });
        assert.equal(r?.status, 422, r?.message);
        assert.match(r?.message ?? '', /spec\.hostname/);
    });

    it('the CLI passes the template in both forms (pack.yaml forms), its overlay and the landing pack (exit 0)', () => {
        const r = cli('packs/template', OVERLAY, LANDING);
        assert.equal(r.status, 0, r.stdout + r.stderr);
        for (const [p, n] of [[CHART, '5'], [BASE, '4'], [OVERLAY, '4'], [LANDING, '\\d+']] as const) assert.match(r.stdout, new RegExp(`^${p}: ${n} objects, 0 errors, 0 warnings$`, 'm'));
    });

    it('the CLI passes the template chart with the platform off (nebariapp.enabled=false: no NebariApp, nothing missing)', () => {
        const r = cli(CHART, '--set', 'nebariapp.enabled=false', '--namespace', 'pack-my-pack');
        assert.equal(r.status, 0, r.stdout + r.stderr);
        assert.match(r.stdout, new RegExp(`^${CHART}: 4 objects, 0 errors, 0 warnings$`, 'm'));
    });

    it('the CLI reports a broken pack with file, object and field and exits 1', () => {
        const dir = mkdtempSync(join(tmpdir(), 'nkp-pack-'));
        try {
            const objs = build(BASE);
            const app = find(objs, 'NebariApp');
            app.spec.service.port = 9999;
            const file = join(dir, 'all.yaml');
            writeFileSync(file, objs.filter((o) => o.kind !== 'ServiceAccount').map((o) => stringify(o)).join('---\n'));
            const r = cli(dir);
            assert.equal(r.status, 1, r.stdout + r.stderr);
            assert.match(r.stdout, /^error \S*all\.yaml NebariApp my-pack spec\.service\.port: 9999 is not a port of Service "my-pack"/m);
            assert.match(r.stdout, /^error \S*all\.yaml NebariApp my-pack spec\.serviceAccountName: ServiceAccount "my-pack" is not in the pack; only it may read the OIDC client Secret my-pack-oidc-client, so the pack must ship it$/m);
            assert.match(r.stdout, /2 errors, 0 warnings$/m);
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    });

    it('the CLI names the file of a broken object in a kustomize pack (origin of the rendered object)', () => {
        const dir = mkdtempSync(join(tmpdir(), 'nkp-pack-'));
        try {
            cpSync(join(repoRoot, BASE), dir, { recursive: true });
            const file = join(dir, 'nebariapp.yaml');
            writeFileSync(file, readFileSync(file, 'utf8').replace(/^(\s+port:) 8080$/m, '$1 9090'));
            const r = cli(dir);
            assert.equal(r.status, 1, r.stdout + r.stderr);
            assert.match(r.stdout, /^error \S*nkp-pack-[^/]+\/nebariapp\.yaml NebariApp my-pack spec\.service\.port: 9090 is not a port of Service "my-pack" \(ports: 8080 \(http\)\)$/m);
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    });

    it('the CLI refuses a missing path (exit 2)', () => {
        const r = cli('packs/no-such-pack');
        assert.equal(r.status, 2);
        assert.match(r.stderr, /packs\/no-such-pack: no such file or directory/);
    });
});
