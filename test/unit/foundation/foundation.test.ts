/* eslint-disable @typescript-eslint/no-explicit-any -- assertions walk untyped Kubernetes / Helm bodies recorded by the mocks */
import { strict as assert } from 'node:assert';
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments, parse } from 'yaml';
import { isSecretMarker, setupPulumiMocks, type RecordingMocks } from '../pulumi-mocks.js';
import {
    assertPinnedRevision,
    CHARTS,
    foundationApplications,
    foundationParentApplication,
    foundationSourceRepos,
    gatewayPatches,
    REPO_PATHS,
    SYNC_WAVES,
    type FoundationInput,
} from '../../../components/foundation/spec.js';
import { PLATFORM_NAMESPACE_NAMES } from '../../../components/cluster/namespaces.js';

const ROOT = join(import.meta.dirname, '..', '..', '..');

function input(over: Partial<FoundationInput> = {}): FoundationInput {
    return {
        provider: 'aws',
        clusterName: 'nkp-aws-prod',
        hostnames: { argocd: 'argocd.nkp.example.com', keycloak: 'keycloak.nkp.example.com', landing: 'nkp.example.com' },
        platformRepo: { repoURL: 'https://github.com/nebari-dev/nkp-pulumi.git', revision: 'v0.1.0' },
        tls: { issuer: 'letsencrypt', acmeEmail: 'ops@example.com' },
        keycloak: { replicas: 2, databaseInstances: 3, databaseStorage: '50Gi', storageClass: 'gp3-retain' },
        telemetry: { exporter: 'otlp', endpoint: 'https://otlp.example.com:4317', auth: 'bearer' },
        images: { operator: 'ghcr.io/nebari-dev/nkp-operator:0.1.0', landing: 'ghcr.io/nebari-dev/nkp-landing:0.1.0' },
        oidc: { issuerURL: 'https://keycloak.nkp.example.com/realms/nebari', realm: 'nebari' },
        ...over,
    };
}
const wave = (a: { metadata: { annotations?: Record<string, string> } }) => Number(a.metadata.annotations?.['argocd.argoproj.io/sync-wave']);

describe('foundation: Application specs (pure)', () => {
    it('every chart and revision is pinned (never HEAD, latest, a branch or a wildcard)', () => {
        for (const c of Object.values(CHARTS)) assert.match(c.version, /^v?\d+\.\d+\.\d+$/, c.chart);
        for (const app of foundationApplications(input())) {
            assert.doesNotThrow(() => assertPinnedRevision(app.metadata.name, app.spec.source.targetRevision));
            assert.ok(!/^(HEAD|main|master|latest|\*)$/i.test(app.spec.source.targetRevision), app.metadata.name);
        }
        for (const bad of ['HEAD', 'main', '*', '1.x', '^1.2.0', '~1.2', '>=1.0.0', '']) assert.throws(() => assertPinnedRevision('x', bad), /not pinned/, bad);
    });

    it('a chart mirror replaces every chart repository (same chart and pinned version) and is the only chart source the foundation project allows', () => {
        const mirror = 'https://harbor.example.com/chartrepo/nkp';
        const charts = foundationApplications(input({ chartMirror: mirror })).filter((a) => a.spec.source.chart !== undefined);
        assert.equal(charts.length, Object.keys(CHARTS).length);
        for (const a of charts) {
            const pin = Object.values(CHARTS).find((c) => c.chart === a.spec.source.chart)!;
            assert.deepEqual([a.spec.source.repoURL, a.spec.source.targetRevision], [mirror, pin.version], a.metadata.name);
        }
        assert.deepEqual(foundationSourceRepos('https://github.com/nebari-dev/nkp-pulumi.git', mirror), [mirror, 'https://github.com/nebari-dev/nkp-pulumi.git'].sort());
        assert.ok(foundationSourceRepos('https://github.com/nebari-dev/nkp-pulumi.git').includes(CHARTS.certManager.repoURL), 'without a mirror each chart repository');
    });

    it('the parent Application carries every child in wave order and refuses an unpinned platform revision', () => {
        const parent = foundationParentApplication(input());
        assert.deepEqual(parent.spec.source.helm?.valuesObject?.applications, foundationApplications(input()));
        assert.deepEqual([parent.metadata.namespace, parent.metadata.labels, parent.metadata.finalizers, parent.metadata.annotations], ['argocd', { 'app.kubernetes.io/part-of': 'nkp', 'nkp.nebari.dev/layer': 'foundation' }, ['resources-finalizer.argocd.argoproj.io'], undefined]);
        assert.throws(() => foundationParentApplication(input({ platformRepo: { repoURL: 'https://github.com/nebari-dev/nkp-pulumi.git', revision: 'main' } })), /Application foundation: targetRevision "main" is not pinned/);
    });

    it('sync waves order cert-manager < envoy-gateway < keycloak < gateway config (its keycloak route needs Keycloak\'s Service) < operator < landing', () => {
        const apps = foundationApplications(input());
        const w = Object.fromEntries(apps.map((a) => [a.metadata.name, wave(a)]));
        const order = ['cert-manager', 'envoy-gateway', 'keycloak', 'gateway-config', 'nkp-operator', 'nkp-landing'];
        for (let i = 1; i < order.length; i++) assert.ok(w[order[i - 1]!]! < w[order[i]!]!, `${order[i - 1]} before ${order[i]}`);
        assert.ok(w['cloudnative-pg']! < w['keycloak-database']! && w['keycloak-database']! < w['keycloak']!, 'database operator, then database, then Keycloak');
        assert.deepEqual(apps.map(wave), [...apps.map(wave)].sort((a, b) => a - b), 'returned in wave order');
        assert.deepEqual(Object.keys(SYNC_WAVES).sort(), apps.map((a) => a.metadata.name).sort());
    });

    it('all are automated with prune + self-heal, server-side apply, in the foundation project, into platform namespaces', () => {
        for (const app of foundationApplications(input())) {
            assert.deepEqual(app.spec.syncPolicy.automated, { prune: true, selfHeal: true }, app.metadata.name);
            assert.ok(app.spec.syncPolicy.syncOptions.includes('ServerSideApply=true'));
            assert.equal(app.spec.project, 'foundation');
            assert.ok(PLATFORM_NAMESPACE_NAMES.includes(app.spec.destination.namespace), app.spec.destination.namespace);
            assert.equal(app.metadata.namespace, 'argocd');
        }
    });

    it('the operator and the landing page come from this repo at the pinned revision with the configured images', () => {
        const apps = foundationApplications(input());
        const op = apps.find((a) => a.metadata.name === 'nkp-operator')!;
        assert.equal(op.spec.source.path, REPO_PATHS.operator);
        assert.equal(op.spec.source.targetRevision, 'v0.1.0');
        assert.deepEqual(op.spec.source.kustomize?.images, ['nkp-operator=ghcr.io/nebari-dev/nkp-operator:0.1.0']);
        const patch = parse(op.spec.source.kustomize!.patches![0]!.patch);
        const env = patch.spec.template.spec.containers[0].env as { name: string; value: string }[];
        assert.deepEqual(Object.fromEntries(env.map((e) => [e.name, e.value])), {
            OIDC_ISSUER_URL: 'https://keycloak.nkp.example.com/realms/nebari',
            // Client provisioning through the in-cluster admin API, with the Identity component's nkp-operator client of the same realm.
            KEYCLOAK_URL: 'http://keycloak-http.keycloak.svc',
            KEYCLOAK_REALM: 'nebari',
            KEYCLOAK_ADMIN_REALM: 'nebari',
            CLUSTER_ISSUER: 'letsencrypt',
        });
        const landing = apps.find((a) => a.metadata.name === 'nkp-landing')!;
        assert.equal(landing.spec.source.path, REPO_PATHS.landing);
        assert.deepEqual(landing.spec.source.kustomize?.images, ['nkp-landing=ghcr.io/nebari-dev/nkp-landing:0.1.0']);
    });

    it('Keycloak uses the CloudNativePG database and its admin Secret; the database is sized per stack', () => {
        const apps = foundationApplications(input());
        const kc = apps.find((a) => a.metadata.name === 'keycloak')!;
        const v = kc.spec.source.helm!.valuesObject as any;
        assert.equal(v.database.vendor, 'postgres');
        assert.equal(v.proxy.mode, 'xforwarded', 'Envoy sends X-Forwarded-* headers');
        assert.equal(v.database.hostname, 'keycloak-db-rw');
        assert.equal(v.database.existingSecret, 'keycloak-db-app');
        assert.equal(v.replicas, 2);
        assert.ok(v.resources.limits.memory && v.resources.limits.cpu);
        const env = parse(v.extraEnv) as any[];
        assert.equal(env.find((e) => e.name === 'KC_HOSTNAME').value, 'https://keycloak.nkp.example.com');
        assert.equal(env.find((e) => e.name === 'KC_BOOTSTRAP_ADMIN_PASSWORD').valueFrom.secretKeyRef.name, 'keycloak-admin');
        const db = apps.find((a) => a.metadata.name === 'keycloak-database')!;
        const ops = JSON.parse(db.spec.source.kustomize!.patches![0]!.patch);
        assert.deepEqual(ops.find((o: any) => o.path === '/spec/instances').value, 3);
        assert.deepEqual(ops.find((o: any) => o.path === '/spec/storage/storageClass').value, 'gp3-retain');
    });

    it('the collector takes OTLP in, collects Kubernetes logs and metrics, and exports where configured', () => {
        const otel = (i: FoundationInput) => foundationApplications(i).find((a) => a.metadata.name === 'otel-collector')!.spec.source.helm!.valuesObject as any;
        const v = otel(input());
        assert.equal(v.presets.logsCollection.enabled, true);
        assert.equal(v.presets.kubeletMetrics.enabled, true);
        assert.ok(v.config.receivers.otlp.protocols.grpc);
        assert.equal(v.config.exporters.otlp.endpoint, 'https://otlp.example.com:4317');
        assert.equal(v.config.exporters.otlp.headers.authorization, 'Bearer ${env:OTEL_EXPORTER_TOKEN}');
        assert.ok(v.extraEnvs.some((e: any) => e.valueFrom?.secretKeyRef?.name === 'otel-exporter'));
        for (const p of Object.values(v.config.service.pipelines) as any[]) assert.deepEqual(p.exporters, ['otlp']);
        const debug = otel(input({ telemetry: { exporter: 'debug', endpoint: '', auth: 'none' } }));
        assert.deepEqual(Object.keys(debug.config.exporters), ['debug']);
        assert.ok(!debug.extraEnvs.some((e: any) => e.name === 'OTEL_EXPORTER_TOKEN'));
    });

    it('gateway patches set the hostnames and the issuer; local stacks drop the Let\'s Encrypt issuers', () => {
        const patches = gatewayPatches(input())!;
        const gw = JSON.parse(patches.find((p) => p.target.kind === 'Gateway')!.patch);
        assert.deepEqual(gw.map((o: any) => o.value), ['letsencrypt', 'argocd.nkp.example.com', 'keycloak.nkp.example.com']);
        const le = patches.filter((p) => p.target.kind === 'ClusterIssuer');
        assert.equal(JSON.parse(le[0]!.patch)[0].value, 'ops@example.com');
        const hetzner = gatewayPatches(input({ provider: 'hetzner' }))!.find((p) => p.target.kind === 'EnvoyProxy')!;
        const hops = JSON.parse(hetzner.patch);
        assert.equal(hops[0].value, 'NodePort', 'Hetzner: the cloud\'s load balancer targets NodePorts');
        assert.deepEqual(hops[2].value.value.spec.ports, [{ port: 80, nodePort: 30080 }, { port: 443, nodePort: 30443 }]);
        const local = gatewayPatches(input({ provider: 'local', tls: { issuer: 'selfsigned-ca', acmeEmail: '' } }))!;
        const dels = local.filter((p) => p.target.kind === 'ClusterIssuer').map((p) => parse(p.patch));
        assert.deepEqual(dels.map((d) => [d.$patch, d.metadata.name]), [['delete', 'letsencrypt'], ['delete', 'letsencrypt-staging']]);
    });
});

describe('foundation: gateway manifests in this repo', () => {
    const dir = join(ROOT, REPO_PATHS.gateway);
    const docs = () => {
        const k = parse(readFileSync(join(dir, 'kustomization.yaml'), 'utf8'));
        return (k.resources as string[]).flatMap((f) => parseAllDocuments(readFileSync(join(dir, f), 'utf8')).map((d) => d.toJS()));
    };

    it('the operator patch targets the Deployment and container that operator/manifests declares', () => {
        const dep = parseAllDocuments(readFileSync(join(ROOT, REPO_PATHS.operator, 'deployment.yaml'), 'utf8')).map((d) => d.toJS()).find((d) => d?.kind === 'Deployment');
        assert.equal(dep.metadata.name, 'nebari-operator');
        const container = dep.spec.template.spec.containers.find((c: any) => c.name === 'operator');
        assert.equal(container.image, 'nkp-operator', 'the image placeholder the foundation replaces');
        assert.ok(container.env.some((e: any) => e.name === 'OIDC_ISSUER_URL'));
    });

    it('every kustomization resource exists, for the gateway and the Keycloak database', () => {
        for (const d of [REPO_PATHS.gateway, REPO_PATHS.keycloakDatabase]) {
            const k = parse(readFileSync(join(ROOT, d, 'kustomization.yaml'), 'utf8'));
            for (const f of k.resources) assert.ok(existsSync(join(ROOT, d, f)), `${d}/${f}`);
        }
    });

    it('declares the GatewayClass, the public and internal Gateways, and the issuers the config can name', () => {
        const all = docs();
        const byKind = (k: string) => all.filter((d) => d.kind === k).map((d) => d.metadata.name).sort();
        assert.deepEqual(byKind('GatewayClass'), ['nkp']);
        assert.deepEqual(byKind('Gateway'), ['internal', 'public']);
        assert.deepEqual(byKind('ClusterIssuer'), ['letsencrypt', 'letsencrypt-staging', 'selfsigned-ca']);
        const le = all.find((d) => d.kind === 'ClusterIssuer' && d.metadata.name === 'letsencrypt');
        assert.equal(le.spec.acme.solvers[0].http01.gatewayHTTPRoute.parentRefs[0].name, 'public');
    });

    it('the patched JSON pointers address the listeners they mean', () => {
        const pub = docs().find((d) => d.kind === 'Gateway' && d.metadata.name === 'public');
        assert.deepEqual(pub.spec.listeners.map((l: any) => l.name), ['http', 'https-argocd', 'https-keycloak']);
        assert.ok('cert-manager.io/cluster-issuer' in pub.metadata.annotations);
    });

    it('only the public gateway\'s proxy Service is a LoadBalancer, in the gateway namespace', () => {
        const proxies = docs().filter((d) => d.kind === 'EnvoyProxy');
        const lb = proxies.filter((p) => p.spec.provider.kubernetes.envoyService.type === 'LoadBalancer');
        assert.deepEqual(lb.map((p) => [p.metadata.name, p.metadata.namespace]), [['nkp-public', 'envoy-gateway-system']]);
        for (const p of proxies) {
            const c = p.spec.provider.kubernetes.envoyDeployment.container;
            assert.equal(c.securityContext.allowPrivilegeEscalation, false);
            assert.ok(c.resources.limits.cpu && c.resources.limits.memory);
        }
    });
});

describe('Foundation component (Pulumi mocks)', () => {
    let mocks: RecordingMocks;
    let mod: typeof import('../../../components/foundation/index.js');
    let pulumi: typeof import('@pulumi/pulumi');
    before(async () => {
        mocks = await setupPulumiMocks();
        mod = await import('../../../components/foundation/index.js');
        pulumi = await import('@pulumi/pulumi');
    });
    beforeEach(() => mocks.reset());

    it('registers the parent Application whose values carry each foundation Application with its wave, and the admin Secret as a Pulumi secret', async () => {
        new mod.Foundation('f', { spec: input({ telemetry: { exporter: 'debug', endpoint: '', auth: 'none' } }), keycloakAdminPassword: pulumi.secret('admin-pw') });
        await mocks.settle();
        const apps = mocks.ofType('kubernetes:argoproj.io/v1alpha1:Application');
        assert.deepEqual(apps.map((a) => a.plain.metadata.name), ['foundation'], 'Pulumi owns the parent only; Argo CD creates the children');
        const parent = apps[0]!.plain;
        assert.deepEqual([parent.spec.source.path, parent.spec.source.repoURL, parent.spec.source.targetRevision, parent.spec.destination.namespace], [REPO_PATHS.parent, input().platformRepo.repoURL, input().platformRepo.revision, 'argocd']);
        assert.deepEqual(parent.metadata.finalizers, ['resources-finalizer.argocd.argoproj.io'], 'deleting the parent deletes the children');
        const children = parent.spec.source.helm.valuesObject.applications as { metadata: { name: string; annotations: Record<string, string> } }[];
        assert.deepEqual(children.map((c) => c.metadata.name), [...Object.keys(SYNC_WAVES)].sort((a, b) => SYNC_WAVES[a as keyof typeof SYNC_WAVES] - SYNC_WAVES[b as keyof typeof SYNC_WAVES]), 'in wave order');
        for (const a of children) assert.equal(a.metadata.annotations['argocd.argoproj.io/sync-wave'], String(SYNC_WAVES[a.metadata.name as keyof typeof SYNC_WAVES]));
        const admin = mocks.ofType('kubernetes:core/v1:Secret').find((s) => s.plain.metadata.name === 'keycloak-admin')!;
        assert.equal(admin.plain.metadata.namespace, 'keycloak');
        assert.ok(isSecretMarker((admin.inputs.stringData as any)) || isSecretMarker((admin.inputs.stringData as any).password));
        assert.ok(!mocks.ofType('kubernetes:core/v1:Secret').some((s) => s.plain.metadata.name === 'otel-exporter'), 'no token Secret without a token');
        const oci = mocks.ofType('kubernetes:core/v1:Secret').find((s) => s.plain.metadata.name === 'helm-oci-envoyproxy')!;
        assert.equal(oci.plain.stringData.enableOCI, 'true');
    });

    it('stores the telemetry token in a Secret when one is given', async () => {
        new mod.Foundation('f', { spec: input(), keycloakAdminPassword: pulumi.secret('admin-pw'), otelExporterToken: pulumi.secret('tok') });
        await mocks.settle();
        const s = mocks.ofType('kubernetes:core/v1:Secret').find((x) => x.plain.metadata.name === 'otel-exporter')!;
        assert.equal(s.plain.metadata.namespace, 'monitoring');
        assert.equal(s.plain.stringData.token, 'tok');
        assert.ok(isSecretMarker(s.inputs.stringData) || isSecretMarker((s.inputs.stringData as any).token));
    });
});
