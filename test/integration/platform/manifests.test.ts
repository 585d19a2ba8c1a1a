// Every manifest Argo CD applies from this repository, per committed stack, rendered by the real kustomize at the
// version Argo CD bundles (with the Application's own kustomize images and patches, as Argo CD applies them) and
// server-side applied as a dry run to the real kube-apiserver, which holds the upstream CRDs of the releases the
// foundation deploys (Gateway API, Envoy Gateway, cert-manager, Argo CD from the harness; CloudNativePG loaded
// here), the NebariApp CRD and Pod Security admission: schemas, CEL rules and strict field validation all apply.
import { strict as assert } from 'node:assert';
import { sharedControlPlane, type ControlPlane } from '../../harness/control-plane.js';
import { REPO_PATHS, IMAGE_PLACEHOLDERS, KEYCLOAK_IN_CLUSTER_URL, LANDING, LOCAL_CA, OPERATOR_DEPLOYMENT, type ApplicationSource } from '../../../components/foundation/spec.js';
import { PUBLIC_GATEWAY_SERVICE } from '../../../components/cluster/coredns.js';
import { MANAGED_NAMESPACE_LABEL } from '../../../operator/src/api/types.js';
import { settingsForStack, STACKS } from '../../../stacks/stack-files.js';
import { KubeApi, describeRejections, objectId, type ApplyResult, type KubeObject } from './kube-api.js';
import { argoCdKustomizeVersion, hasKustomization, kustomizeBinary, renderSource, withDestinationNamespace } from './kustomize.js';
import { cloudnativePgCrds, foundationChildren, stackObjects } from './pulumi-objects.js';

/* eslint-disable @typescript-eslint/no-explicit-any -- rendered manifests are untyped JSON the tests index freely */

const FIELD_MANAGER = 'argocd-controller';

interface RenderedApp {
    name: string;
    source: ApplicationSource;
    objects: KubeObject[];
}

/** The repo-path Applications of a stack, as Argo CD creates them from the foundation parent, rendered and put in their destination namespace. */
async function renderedApps(api: KubeApi, stack: string): Promise<RenderedApp[]> {
    const { objects } = await stackObjects(stack);
    const apps = foundationChildren(objects).filter((o) => (Object.values(REPO_PATHS) as string[]).includes((o as any).spec.source.path));
    const out: RenderedApp[] = [];
    for (const app of apps as any[]) {
        const rendered = renderSource(app.spec.source);
        const placed = await withDestinationNamespace(rendered, app.spec.destination.namespace, async (o) => (await api.resource(o.apiVersion, o.kind)).namespaced);
        out.push({ name: app.metadata.name, source: app.spec.source, objects: placed });
    }
    return out;
}

describe('platform (integration): every manifest Argo CD applies from this repository is accepted by the real API server', function () {
    this.timeout(300_000);
    let cp: ControlPlane;
    let api: KubeApi;

    before(async function () {
        this.timeout(600_000);
        cp = await sharedControlPlane();
        api = new KubeApi(cp.kubeConfig());
        // Not part of the harness: CloudNativePG's CRDs at the operator version of the foundation's chart pin.
        await api.installCrds(cloudnativePgCrds());
        // The destinations exist before Argo CD syncs (the cluster baseline creates them): created for real here,
        // from the local stack's Namespace objects.
        const namespaces = (await stackObjects('local')).objects.filter((o) => o.kind === 'Namespace');
        const created = await api.applyAll(namespaces, { fieldManager: 'pulumi-kubernetes', dryRun: false });
        assert.equal(describeRejections(created), '');
        kustomizeBinary();
    });

    it('renders with the kustomize Argo CD bundles, built from source (not a stand-in)', () => {
        assert.match(argoCdKustomizeVersion(), /^v5\.\d+\.\d+$/);
    });

    for (const stack of STACKS) {
        it(`${stack}: gateway configuration, Keycloak database, operator and landing page: zero rejections`, async () => {
            const s = settingsForStack(stack);
            const apps = await renderedApps(api, stack);
            const expected = ['gateway-config', 'keycloak-database', 'nkp-operator', ...(hasKustomization(REPO_PATHS.landing) ? ['nkp-landing'] : [])];
            assert.deepEqual(apps.map((a) => a.name).sort(), expected.sort(), 'every repo-path Application of the foundation is rendered');

            const results: ApplyResult[] = [];
            for (const app of apps) {
                assert.ok(app.objects.length > 0, `${app.name} renders objects`);
                results.push(...(await api.applyAll(app.objects, { fieldManager: FIELD_MANAGER, dryRun: true })));
            }
            assert.equal(describeRejections(results), '', 'the API server rejected rendered objects');
            // Pod Security admission warns (on Deployments too) when a pod template breaks its namespace's level.
            const warned = results.filter((r) => r.warnings.length > 0).map((r) => `${objectId(r.object)}: ${r.warnings.join('; ')}`);
            assert.deepEqual(warned, [], 'no admission warnings');

            // What the Application's kustomize settings did, checked on the rendered output.
            const all = apps.flatMap((a) => a.objects) as any[];
            assert.ok(!JSON.stringify(all).includes('placeholder'), 'no placeholder survives the patches');
            const images = all.filter((o) => o.kind === 'Deployment').flatMap((d) => d.spec.template.spec.containers.map((c: any) => c.image));
            for (const p of Object.values(IMAGE_PLACEHOLDERS)) assert.ok(!images.some((i: string) => i === p || i.startsWith(`${p}:`)), `image placeholder ${p} replaced`);
            const op = all.find((o) => o.kind === 'Deployment' && o.metadata.name === OPERATOR_DEPLOYMENT.name);
            assert.equal(op.spec.template.spec.containers.find((c: any) => c.name === OPERATOR_DEPLOYMENT.container).image, s.images.operator);
            const env = Object.fromEntries(op.spec.template.spec.containers.find((c: any) => c.name === OPERATOR_DEPLOYMENT.container).env.map((e: any) => [e.name, e.value]));
            assert.equal(env['CLUSTER_ISSUER'], s.tls.issuer, 'the strategic-merge patch reached the operator container');
            // Keycloak client provisioning: the manifest's empty KEYCLOAK_URL is replaced (env merges by name), admin realm = the realm.
            assert.deepEqual([env['KEYCLOAK_URL'], env['KEYCLOAK_REALM'], env['KEYCLOAK_ADMIN_REALM']], [KEYCLOAK_IN_CLUSTER_URL, s.identity.realm, s.identity.realm]);
            assert.equal(env['OIDC_ISSUER_URL'], s.keycloak.issuerURL);
            // The local CA reaches the Node.js workloads that call the issuer, only where the program made one; the
            // kustomize merge keeps the operator's own volumes (the keycloak-admin credentials, /tmp).
            const local = s.tls.issuer === LOCAL_CA.issuer;
            const trusts = (d: any, container: string) => {
                const c = d.spec.template.spec.containers.find((x: any) => x.name === container);
                const vol = (d.spec.template.spec.volumes ?? []).find((v: any) => v.name === LOCAL_CA.volume);
                const mounted = (c.volumeMounts ?? []).some((m: any) => m.name === LOCAL_CA.volume && m.mountPath === LOCAL_CA.mountPath);
                const extra = (c.env ?? []).find((e: any) => e.name === 'NODE_EXTRA_CA_CERTS')?.value;
                return vol?.configMap?.name === LOCAL_CA.configMap.name && mounted && extra === `${LOCAL_CA.mountPath}/${LOCAL_CA.configMap.key}`;
            };
            assert.equal(trusts(op, OPERATOR_DEPLOYMENT.container), local, 'operator trusts the local CA exactly on local stacks');
            assert.ok(op.spec.template.spec.volumes.some((v: any) => v.secret?.secretName === 'keycloak-admin'), 'the credentials volume survives the patch');
            if (hasKustomization(REPO_PATHS.landing)) {
                const landing = all.find((o) => o.kind === 'NebariApp' && o.metadata.name === LANDING.nebariApp);
                assert.equal(landing.spec.hostname, s.hostnames.landing, 'the landing page is served on the stack\'s domain');
                const page = all.find((o) => o.kind === 'Deployment' && o.metadata.name === LANDING.deployment).spec.template.spec.containers.find((c: any) => c.name === LANDING.container);
                assert.equal(page.env.find((e: any) => e.name === 'PUBLIC_URL').value, `https://${s.hostnames.landing}`);
                assert.equal(page.image, s.images.landing);
                assert.equal(trusts(all.find((o) => o.kind === 'Deployment' && o.metadata.name === LANDING.deployment), LANDING.container), local, 'landing page trusts the local CA exactly on local stacks');
            }
            const issuers = all.filter((o) => o.kind === 'ClusterIssuer').map((o) => o.metadata.name);
            assert.equal(issuers.includes(LOCAL_CA.issuer), local, 'the CA issuer exists only where the program writes its Secret');
            assert.equal(all.find((o) => o.kind === 'EnvoyProxy' && o.metadata.name === 'nkp-public').spec.provider.kubernetes.envoyService.name, PUBLIC_GATEWAY_SERVICE.name);
            const gateways = all.filter((o) => o.kind === 'Gateway');
            assert.deepEqual(gateways.map((g) => g.metadata.name).sort(), ['internal', 'public']);
            for (const g of gateways) assert.equal(g.spec.allowedListeners.namespaces.selector.matchLabels[MANAGED_NAMESPACE_LABEL], 'true');
        });
    }

    it('negative controls: the same dry run rejects what the CRDs forbid (the check bites)', async () => {
        const apps = await renderedApps(api, 'local');
        const gw = structuredClone(apps.find((a) => a.name === 'gateway-config')!.objects.find((o) => o.kind === 'Gateway' && o.metadata.name === 'public')!) as any;
        gw.spec.allowedListeners.namespaces.from = 'Everywhere';
        const bad = await api.apply(gw, { fieldManager: FIELD_MANAGER, dryRun: true });
        assert.equal(bad.status, 422, bad.message);
        assert.match(bad.message ?? '', /allowedListeners\.namespaces\.from/);

        const db = structuredClone(apps.find((a) => a.name === 'keycloak-database')!.objects[0]!) as any;
        db.spec.instances = 0;
        const badDb = await api.apply(db, { fieldManager: FIELD_MANAGER, dryRun: true });
        assert.equal(badDb.status, 422, `CloudNativePG's schema is enforced: ${badDb.message}`);

        const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'strict', namespace: 'default' }, data: {}, dataa: {} };
        const unknown = await api.apply(cm, { fieldManager: FIELD_MANAGER, dryRun: true });
        assert.ok(unknown.status >= 400, 'strict field validation rejects an unknown field');
        assert.match(unknown.message ?? '', /\.dataa: field not declared in schema/);

        const op = structuredClone(apps.find((a) => a.name === 'nkp-operator')!.objects.find((o) => o.kind === 'Deployment')!) as any;
        op.spec.template.spec.hostNetwork = true;
        const hostNetwork = await api.apply(op, { fieldManager: FIELD_MANAGER, dryRun: true });
        assert.equal(hostNetwork.status, 201, hostNetwork.message);
        assert.match(hostNetwork.warnings.join('\n'), /violate PodSecurity \\"restricted:latest\\": host namespaces/, 'Pod Security admission of the restricted namespace warns about a hostNetwork pod template');
    });
});
