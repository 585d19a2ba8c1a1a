// The real packs (packs/notebook, packs/chat) and the gitops examples that deploy them: the validator CLI accepts
// them (platform on and off, and each example Application as Argo CD renders it), rejects a set of broken packs
// each with its precise message (file, object, field), and the REAL kube-apiserver accepts both packs' rendered
// objects under the restricted Pod Security level (strict server-side apply dry-run into an opted-in namespace;
// the NebariApp CRD is installed by the harness). Real: kube-apiserver, Helm and kustomize at Argo CD's versions.
import { strict as assert } from 'node:assert';
import { cpSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { sharedControlPlane } from '../../harness/control-plane.js';
import { repoRoot } from '../../harness/upstream.js';
import { NS } from '../../../components/cluster/namespaces.js';
import { MANAGED_NAMESPACE_LABEL } from '../../../operator/src/api/types.js';
import { validate } from '../../../operator/src/api/validate.js';
import { imagePinnedDefaults, imageUnpinnedReason } from '../../../policy/policies/kubernetes.js';
import { KubeApi, describeRejections, type KubeObject } from '../platform/kube-api.js';
import { packTools, renderChart, validatorCli } from './helpers.js';

/* eslint-disable @typescript-eslint/no-explicit-any -- rendered manifests are untyped JSON the tests index freely */

const PACKS = ['packs/notebook', 'packs/chat'] as const;
const EXAMPLES = 'examples/gitops/clusters/example/packs';
const CHART = 'packs/template/chart';

const find = (objs: KubeObject[], kind: string): any => {
    const o = objs.find((x) => x.kind === kind);
    assert.ok(o, `no ${kind} rendered`);
    return o;
};

describe('packs (integration): notebook and chat validate, deploy twice through gitops, and pass restricted Pod Security', function () {
    this.timeout(300_000);

    before(function () {
        this.timeout(600_000);
        packTools();
    });

    it('the validator accepts both packs with the platform on and off, and both example Applications', () => {
        const on = validatorCli(...PACKS, `${EXAMPLES}/chat-staging.yaml`, `${EXAMPLES}/chat-production.yaml`);
        assert.equal(on.status, 0, on.stdout + on.stderr);
        for (const p of PACKS) assert.match(on.stdout, new RegExp(`^${p}: 6 objects, 0 errors, 0 warnings$`, 'm'));
        for (const env of ['staging', 'production']) assert.match(on.stdout, new RegExp(`^${EXAMPLES}/chat-${env}\\.yaml \\(Application chat-${env}\\): 6 objects, 0 errors, 0 warnings$`, 'm'));
        const off = validatorCli(...PACKS, '--set', 'nebariapp.enabled=false', '--namespace', 'pack-x');
        assert.equal(off.status, 0, off.stdout + off.stderr);
        for (const p of PACKS) assert.match(off.stdout, new RegExp(`^${p}: 5 objects, 0 errors, 0 warnings$`, 'm'));
    });

    it('the validator rejects broken packs, each with its precise message naming file, object and field (exit 1)', () => {
        const dir = mkdtempSync(join(tmpdir(), 'nkp-broken-'));
        try {
            const chartCopy = (name: string, edit: (d: string) => void): string => {
                const d = join(dir, name);
                cpSync(join(repoRoot, CHART), d, { recursive: true });
                edit(d);
                return d;
            };
            const rewrite = (f: string, from: RegExp | string, to: string): void => {
                const text = readFileSync(f, 'utf8');
                const out = text.replace(from, to);
                assert.notEqual(out, text, `fixture edit of ${f} changed nothing`);
                writeFileSync(f, out);
            };
            const na = (d: string) => join(d, 'templates', 'nebariapp.yaml');
            const cases = {
                schema: chartCopy('bad-host', (d) => rewrite(join(d, 'values.yaml'), 'hostname: my-pack.example.com', 'hostname: My_Pack.example.com')),
                cel: chartCopy('bad-cel', (d) => rewrite(na(d), '    enforceAtGateway: {{ $na.auth.enforceAtGateway }}\n', '    enforceAtGateway: false\n    forwardAccessToken: true\n')),
                noService: chartCopy('no-service', (d) => unlinkSync(join(d, 'templates', 'service.yaml'))),
                wrongPort: chartCopy('wrong-port', (d) => rewrite(join(d, 'templates', 'service.yaml'), '      port: {{ .Values.port }}', '      port: 9090')),
                noSa: chartCopy('no-sa', (d) => unlinkSync(join(d, 'templates', 'serviceaccount.yaml'))),
                fixedHost: chartCopy('fixed-host', (d) => rewrite(na(d), /hostname: \{\{ required .*\}\}/, 'hostname: my-pack.example.com')),
                unconditional: chartCopy('unconditional', (d) => rewrite(na(d), /\{\{- if \.Values\.nebariapp\.enabled \}\}\n|\{\{- end \}\}\n$/g, '')),
                noSwitch: chartCopy('no-switch', (d) => rewrite(join(d, 'values.yaml'), /^nebariapp:\n {2}enabled: true\n/m, 'nebariapp:\n')),
            };
            // An Application whose Argo CD-created namespace is not opted in.
            const app = parse(readFileSync(join(repoRoot, EXAMPLES, 'chat-staging.yaml'), 'utf8'));
            app.spec.syncPolicy.syncOptions.push('CreateNamespace=true');
            app.spec.syncPolicy.managedNamespaceMetadata = { labels: { team: 'chat' } };
            const appFile = join(dir, 'not-opted-in.yaml');
            writeFileSync(appFile, stringify(app));

            const r = validatorCli(...Object.values(cases), appFile);
            assert.equal(r.status, 1, r.stdout + r.stderr);
            const lines = r.stdout.split('\n');
            const src = (c: string, file: string) => join(dir, c, 'templates', file);
            const expectLine = (want: string) => assert.ok(lines.includes(want), `missing line:\n${want}\n--- output ---\n${r.stdout}`);

            // NebariApp schema and CEL: the operator's own messages, on the file the NebariApp came from.
            const hostErr = validate({ spec: { hostname: 'My_Pack.example.com', service: { name: 'x', port: 1 } } }).find((e) => e.field === 'spec.hostname')!;
            assert.match(hostErr.message, /lower-case DNS name/);
            expectLine(`error ${src('bad-host', 'nebariapp.yaml')} NebariApp default/bad-host spec.hostname: ${hostErr.message}`);
            const celErr = validate({ spec: { hostname: 'a.example.com', service: { name: 'x', port: 1 }, auth: { enabled: true, enforceAtGateway: false, forwardAccessToken: true } } })[0]!;
            assert.match(`${celErr.field}: ${celErr.message}`, /forwardAccessToken.*enforceAtGateway|enforceAtGateway.*forwardAccessToken/);
            expectLine(`error ${src('bad-cel', 'nebariapp.yaml')} NebariApp default/bad-cel ${celErr.field}: ${celErr.message}`);

            expectLine(`error ${src('no-service', 'nebariapp.yaml')} NebariApp default/no-service spec.service.name: Service "no-service" is not in the pack (the pack has no Service)`);
            expectLine(`error ${src('wrong-port', 'nebariapp.yaml')} NebariApp default/wrong-port spec.service.port: 8080 is not a port of Service "wrong-port" (ports: 9090 (http))`);
            expectLine(`error ${src('no-sa', 'nebariapp.yaml')} NebariApp default/no-sa spec.serviceAccountName: ServiceAccount "no-sa" is not in the pack; only it may read the OIDC client Secret no-sa-oidc-client, so the pack must ship it`);
            expectLine(`error ${src('fixed-host', 'nebariapp.yaml')} NebariApp default/fixed-host spec.hostname: is not templated: rendered "my-pack.example.com" with nebariapp.hostname=hostname-probe.validate.invalid; take it from {{ .Values.nebariapp.hostname }} so each deployment sets its own`);
            expectLine(`error ${src('unconditional', 'nebariapp.yaml')} NebariApp default/unconditional kind: is rendered with nebariapp.enabled=false: the NebariApp is unconditional; wrap its template in {{- if .Values.nebariapp.enabled }} ... {{- end }} so the chart installs without the platform`);
            expectLine(`error ${join(dir, 'no-switch', 'values.yaml')} chart values nebariapp.enabled: is missing: a pack chart declares nebariapp.enabled (true or false) and renders its NebariApp only when it is true, so the chart also installs without the platform`);
            expectLine(`error ${appFile} Application nkp-pack-apps/chat-staging spec.syncPolicy.managedNamespaceMetadata.labels["nebari.dev/managed"]: Argo CD creates namespace "pack-chat-staging" (CreateNamespace=true) without nebari.dev/managed=true: the pack's NebariApp would stay NamespaceNotOptedIn`);

            // Each broken pack is reported alone: exactly its own error(s), no collateral noise.
            for (const [name, errors] of [['bad-host', 1], ['bad-cel', 1], ['no-service', 1], ['wrong-port', 1], ['no-sa', 1], ['fixed-host', 1], ['unconditional', 1], ['no-switch', 1]] as const) {
                assert.match(r.stdout, new RegExp(`^${join(dir, name)}: \\d+ objects, ${errors} errors, 0 warnings$`, 'm'), name);
            }
            assert.match(r.stdout, new RegExp(`^${appFile} \\(Application chat-staging\\): 6 objects, 1 errors, 0 warnings$`, 'm'));
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    });

    it('the example Applications deploy one pack twice with different values, in the layout the root app-of-apps reads', () => {
        const apps = ['staging', 'production'].map((env) => parse(readFileSync(join(repoRoot, EXAMPLES, `chat-${env}.yaml`), 'utf8')));
        for (const a of apps) {
            assert.equal(a.metadata.namespace, NS.packApps);
            assert.equal(a.spec.project, 'packs');
            assert.equal(a.spec.source.path, 'packs/chat');
        }
        assert.equal(apps[0].spec.source.targetRevision, apps[1].spec.source.targetRevision, 'the same pinned pack');
        const rendered = apps.map((a) => renderChart(a.spec.source.path, { releaseName: a.spec.source.helm.releaseName, namespace: a.spec.destination.namespace, values: [a.spec.source.helm.valuesObject] }));
        const [stg, prod] = rendered.map((objs) => find(objs, 'NebariApp'));
        assert.deepEqual([stg.spec.hostname, prod.spec.hostname], ['chat.staging.example.com', 'chat.example.com']);
        assert.notDeepEqual(stg.spec.auth.groups, prod.spec.auth.groups);
        assert.deepEqual([stg.metadata.namespace, prod.metadata.namespace], ['pack-chat-staging', 'pack-chat']);
    });

    it('chart defaults name the platform namespaces the NetworkPolicies admit (one source: components/cluster/namespaces.ts)', () => {
        for (const p of [...PACKS, CHART]) {
            const v = parse(readFileSync(join(repoRoot, p, 'values.yaml'), 'utf8'));
            assert.equal(v.networkPolicy.gatewayNamespace, NS.gateway, p);
            assert.equal(v.networkPolicy.landingNamespace, NS.landing, p);
            if (v.networkPolicy.monitoringNamespace !== undefined) assert.equal(v.networkPolicy.monitoringNamespace, NS.monitoring, p);
        }
    });

    for (const pack of PACKS) {
        it(`${pack}: pinned images, requests and limits, non-root, its NetworkPolicy, login, groups, public health path, card, OTel export`, () => {
            const objs = renderChart(pack, { releaseName: pack.split('/')[1], namespace: 'pack-x' });
            const d = find(objs, 'Deployment');
            const pod = d.spec.template.spec;
            assert.equal(pod.securityContext.runAsNonRoot, true);
            assert.ok(pod.securityContext.runAsUser > 0);
            for (const c of pod.containers) {
                assert.equal(imageUnpinnedReason(c.image, imagePinnedDefaults.forbiddenTags), undefined, c.image);
                for (const k of ['cpu', 'memory']) assert.ok(c.resources.requests[k] && c.resources.limits[k], `${c.name} ${k}`);
                assert.equal(c.securityContext.allowPrivilegeEscalation, false);
                assert.deepEqual(c.securityContext.capabilities.drop, ['ALL']);
            }
            const env = Object.fromEntries(pod.containers[0].env.map((e: any) => [e.name, e.value]));
            assert.equal(env['OTEL_EXPORTER_OTLP_ENDPOINT'], 'http://$(HOST_IP):4318', 'OTLP/HTTP to the collector on the node');
            assert.ok(find(objs, 'PersistentVolumeClaim').spec.resources.requests.storage);
            const np = find(objs, 'NetworkPolicy');
            assert.deepEqual(np.spec.policyTypes, ['Ingress']);
            const from = np.spec.ingress.flatMap((r: any) => r.from.map((f: any) => f.namespaceSelector.matchLabels['kubernetes.io/metadata.name']));
            assert.ok(from.includes(NS.gateway) && from.includes(NS.landing), JSON.stringify(from));
            assert.deepEqual(np.spec.podSelector.matchLabels, find(objs, 'Service').spec.selector);
            const app = find(objs, 'NebariApp');
            assert.equal(app.spec.auth.enabled, true);
            assert.ok(app.spec.auth.groups.length > 0);
            assert.equal(app.spec.routing.publicRoutes.length, 1);
            assert.equal(app.spec.landingPage.healthCheck.path, app.spec.routing.publicRoutes[0].pathPrefix, 'the card health-checks the public path');
            assert.equal(app.spec.landingPage.enabled, true);
        });

        it(`${pack} is accepted by the real kube-apiserver under restricted Pod Security (strict SSA dry-run, no warnings)`, async () => {
            const cp = await sharedControlPlane();
            const api = new KubeApi(cp.kubeConfig());
            const ns = `pack-${pack.split('/')[1]}-${Math.random().toString(36).slice(2, 8)}`;
            const created = await api.apply(
                { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels: { [MANAGED_NAMESPACE_LABEL]: 'true', 'pod-security.kubernetes.io/enforce': 'restricted', 'pod-security.kubernetes.io/warn': 'restricted' } } },
                { fieldManager: 'pack-test', dryRun: false },
            );
            assert.equal(describeRejections([created]), '');
            try {
                const objs = renderChart(pack, { releaseName: pack.split('/')[1], namespace: ns });
                const results = await api.applyAll(objs, { fieldManager: 'argocd-controller', dryRun: true });
                assert.equal(describeRejections(results), '');
                assert.deepEqual(results.flatMap((r) => r.warnings), []);
                assert.equal(results.length, 6);
                // The restricted level is enforced here: a root container of the same pack is refused.
                const d = structuredClone(find(objs, 'Deployment'));
                d.spec.template.spec.securityContext.runAsNonRoot = false;
                d.spec.template.spec.securityContext.runAsUser = 0;
                delete d.spec.template.spec.containers[0].securityContext.runAsNonRoot;
                const [refused] = await api.applyAll([d], { fieldManager: 'argocd-controller', dryRun: true });
                assert.ok(refused?.status === 403 || refused?.warnings.some((w) => /restricted/.test(w)), JSON.stringify(refused));
            } finally {
                await api.request('DELETE', `/api/v1/namespaces/${ns}`);
            }
        });
    }
});
