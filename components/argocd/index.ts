/**
 * ArgoCD (`nkp:argocd:ArgoCD`): Argo CD from the pinned argo-cd chart (Helm v4 Chart) or the pinned release's install
 * manifest (air-gapped), OIDC sign-in through
 * Keycloak, the foundation / packs / pack-catalog AppProjects, the gitops repository Secret and the root
 * app-of-apps. A thin shell over ./spec.ts.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as pulumi from '@pulumi/pulumi';
import * as k8s from '@pulumi/kubernetes';
import { NS } from '../cluster/namespaces.js';
import { claimPulumiOwnership } from '../cluster/ownership.js';
import { expandHome } from '../cloud/local.js';
import { argocdCrds } from './crds.js';
import { ARGOCD_CM_METADATA, argocdCmData, argocdManifestObjects, assertArgocdRelease, chartValuesWithoutCm, parseManifest, type ArgoCDChartLikeValues, type KubeObject } from './manifests.js';
import {
    ARGOCD_CHART,
    argocdValues,
    foundationProject,
    GITOPS_REPO_SECRET_NAME,
    OIDC_SECRET_KEY,
    OIDC_SECRET_NAME,
    packCatalogProject,
    packsProject,
    repositorySecretData,
    rootApplication,
    type RepoCredentials,
} from './spec.js';

export * from './spec.js';
export * from './manifests.js';
export * from './crds.js';

/** Pure: the Pulumi type token of a Kubernetes object (`v1` is the core group). */
export function kubernetesTypeToken(apiVersion: string, kind: string): string {
    const slash = apiVersion.indexOf('/');
    return slash < 0 ? `kubernetes:core/${apiVersion}:${kind}` : `kubernetes:${apiVersion}:${kind}`;
}

/** Any Kubernetes object, registered with its own type token (what a yaml/v2 ConfigGroup registers for each object). */
class KubernetesObject extends pulumi.CustomResource {
    constructor(name: string, type: string, props: pulumi.Inputs, opts: pulumi.CustomResourceOptions) {
        super(type, name, props, opts);
    }
}

/** Settings for the shape of the release's objects (which objects, which keys): their values never reach a resource. */
const SKELETON_SETTINGS = { hostname: 'argocd.invalid', issuerURL: 'https://keycloak.invalid/realms/x', adminGroups: [], viewerGroups: [], ha: false } as const;

/**
 * One resource per object of a release manifest, named and typed as a yaml/v2 ConfigGroup `group` would name and
 * type its children (`<group>:<namespace>/<name>`), with an alias to that ConfigGroup so stacks created with one keep
 * their objects. `skeleton` gives the objects and their keys; `objects` their values (same order, checked).
 */
function manifestResources(parent: pulumi.Resource, group: string, skeleton: readonly KubeObject[], objects: pulumi.Output<KubeObject[]>, opts: { dependsOn?: pulumi.Resource[] }): pulumi.CustomResource[] {
    const formerGroup = pulumi.createUrn(group, 'kubernetes:yaml/v2:ConfigGroup', parent);
    return skeleton.map((shape, i) => {
        const id = `${shape.kind}/${shape.metadata.namespace ? `${shape.metadata.namespace}/` : ''}${shape.metadata.name}`;
        const at = objects.apply((all) => {
            const o = all[i];
            if (o === undefined || o.kind !== shape.kind || o.metadata.name !== shape.metadata.name) throw new Error(`Argo CD manifest: object ${i} is ${o ? `${o.kind}/${o.metadata.name}` : 'missing'}, expected ${id}: the objects must not depend on the settings`);
            return o;
        });
        const props: pulumi.Inputs = { apiVersion: shape.apiVersion, kind: shape.kind };
        for (const key of Object.keys(shape)) if (key !== 'apiVersion' && key !== 'kind') props[key] = at.apply((o) => o[key]);
        const type = kubernetesTypeToken(shape.apiVersion, shape.kind);
        const name = `${group}:${shape.metadata.namespace ? `${shape.metadata.namespace}/` : ''}${shape.metadata.name}`;
        return new KubernetesObject(name, type, props, {
            parent,
            aliases: [{ parent: formerGroup }],
            ...(opts.dependsOn ? { dependsOn: opts.dependsOn } : {}),
            ...(shape.kind === 'Secret' ? { additionalSecretOutputs: ['data', 'stringData'] } : {}),
        });
    });
}

/** CustomResource args from a computed body: apiVersion and kind are static, metadata and spec come from the Output. */
export function customResourceArgs(apiVersion: string, kind: string, body: pulumi.Output<{ metadata: object; spec: object }>): k8s.apiextensions.CustomResourceArgs {
    return { apiVersion, kind, metadata: body.apply((b) => b.metadata) as k8s.apiextensions.CustomResourceArgs['metadata'], spec: body.apply((b) => b.spec) };
}
const appProjectArgs = (body: pulumi.Output<{ metadata: object; spec: object }>) => customResourceArgs('argoproj.io/v1alpha1', 'AppProject', body);

export interface ArgoCDArgs {
    /** Public hostname of the UI, e.g. argocd.example.com. */
    hostname: pulumi.Input<string>;
    /** OIDC sign-in through Keycloak (client `argocd`). */
    oidc: {
        issuerURL: pulumi.Input<string>;
        /** Client secret of the Keycloak client `argocd` (a Pulumi secret). */
        clientSecret: pulumi.Input<string>;
        adminGroups: pulumi.Input<pulumi.Input<string>[]>;
        viewerGroups: pulumi.Input<pulumi.Input<string>[]>;
        /** PEM of the CA that signed the issuer's certificate when it is not publicly trusted (local clusters). */
        rootCA?: pulumi.Input<string>;
    };
    /** The stack's gitops repository the root app-of-apps reads. */
    gitops: {
        repoURL: pulumi.Input<string>;
        revision: pulumi.Input<string>;
        path: pulumi.Input<string>;
        credentials: RepoCredentials<pulumi.Input<string>>;
    };
    packs: { namespaces: pulumi.Input<pulumi.Input<string>[]>; sourceRepos: pulumi.Input<pulumi.Input<string>[]> };
    /** Repositories the foundation Applications read (Helm repos and this platform repo). */
    foundationSourceRepos: pulumi.Input<pulumi.Input<string>[]>;
    /** Two replicas of the stateless parts. */
    ha?: pulumi.Input<boolean>;
    /**
     * Where Argo CD itself comes from: the pinned argo-cd chart from its Helm repository (default), or the pinned
     * release's own install manifest read from a local file (air-gapped clusters; `manifestsPath` is that file,
     * e.g. manifests/install.yaml of the argo-cd v3 Go module). Both routes apply the same settings.
     */
    install?: { source: 'chart' } | { source: 'manifests'; manifestsPath: string };
    /**
     * The kubeconfig the stack's Kubernetes provider uses (a secret). Required with `install.source: manifests`: the
     * release's CRDs are then one dynamic resource that applies them itself (./crds.ts), not one Kubernetes resource
     * per CRD whose 430 KB would cross the engine on every run.
     */
    kubeconfig?: pulumi.Input<string>;
}

/** Read and check the release manifest before anything is registered; errors name the argument. */
export function readInstallManifest(manifestsPath: string, read: (p: string) => string | undefined = readFileOrUndefined): KubeObject[] {
    if (manifestsPath === '') throw new Error('ArgoCD: install.manifestsPath is required with install.source manifests: the path of Argo CD\'s release install.yaml');
    const file = expandHome(manifestsPath, os.homedir());
    const text = read(file);
    if (text === undefined) throw new Error(`ArgoCD: install.manifestsPath ${file} does not exist or is not readable; point it at Argo CD's release install.yaml`);
    return parseManifest(text, file);
}

function readFileOrUndefined(p: string): string | undefined {
    try {
        return fs.statSync(p).isFile() ? fs.readFileSync(p, 'utf8') : undefined;
    } catch {
        return undefined;
    }
}

export class ArgoCD extends pulumi.ComponentResource {
    readonly namespace: pulumi.Output<string>;
    readonly url: pulumi.Output<string>;
    readonly chartVersion: string = ARGOCD_CHART.version;
    /** Argo CD (chart or manifests) and the AppProjects: foundation Applications depend on these. */
    readonly ready: pulumi.Resource[];

    constructor(name: string, args: ArgoCDArgs, opts?: pulumi.ComponentResourceOptions) {
        const install = args.install ?? { source: 'chart' };
        // A wrong or missing release manifest stops the program before anything is registered.
        const release = install.source === 'manifests' ? readInstallManifest(install.manifestsPath) : undefined;
        if (release !== undefined && install.source === 'manifests') assertArgocdRelease(release, install.manifestsPath);
        if (install.source === 'manifests' && args.kubeconfig === undefined) throw new Error('ArgoCD: kubeconfig is required with install.source manifests (the kubeconfig of the stack\'s Kubernetes provider: the release\'s CRDs are applied with it)');
        super('nkp:argocd:ArgoCD', name, {}, opts);
        const child = { parent: this };
        this.namespace = pulumi.output(NS.argocd);

        const oidcSecret = new k8s.core.v1.Secret(
            `${name}-oidc-client`,
            {
                metadata: { name: OIDC_SECRET_NAME, namespace: NS.argocd, labels: { 'app.kubernetes.io/part-of': 'argocd' } },
                type: 'Opaque',
                stringData: { [OIDC_SECRET_KEY]: pulumi.secret(args.oidc.clientSecret) },
            },
            child,
        );

        // argocd-cm (which holds the issuer's CA, unknown until a new stack's CA exists) is applied apart; the chart
        // or manifest gets only values known at preview, so a preview renders, and the policy pack checks, all of it.
        const settings = pulumi
            .all([args.hostname, args.oidc.issuerURL, args.oidc.adminGroups, args.oidc.viewerGroups, args.ha ?? false])
            .apply(([hostname, issuerURL, adminGroups, viewerGroups, ha]) => ({ hostname, issuerURL, adminGroups, viewerGroups, ha }));
        const installValues = settings.apply((s) => argocdValues(s) as unknown as ArgoCDChartLikeValues);
        const cmData = pulumi
            .all([settings, args.oidc.rootCA])
            .apply(([s, rootCA]) => argocdCmData(argocdValues({ ...s, ...(rootCA !== undefined ? { rootCA } : {}) }) as unknown as ArgoCDChartLikeValues));

        let argo: pulumi.Resource[];
        if (install.source === 'manifests' && release !== undefined) {
            const objects = installValues.apply((v) => argocdManifestObjects(release, v, install.manifestsPath));
            // Which objects there are does not depend on the inputs (only their settings do): one resource per object,
            // registered here rather than through a yaml/v2 ConfigGroup, whose children the SDK fetches back in full
            // on every run (about 2 s of CPU per program run, Argo CD's CRDs included).
            const skeleton = argocdManifestObjects(release, argocdValues(SKELETON_SETTINGS) as unknown as ArgoCDChartLikeValues, install.manifestsPath);
            // The CRDs: one resource that applies them itself, kept on delete like the chart's crds.keep (./crds.ts).
            const crds = argocdCrds(`${name}-crds`, { release: ARGOCD_CHART.appVersion, objects: release, manifestsPath: expandHome(install.manifestsPath, os.homedir()), kubeconfig: args.kubeconfig! }, { parent: this });
            argo = [crds, ...manifestResources(this, `${name}-install`, skeleton.objects, objects.apply((o) => o.objects), { dependsOn: [oidcSecret, crds] })];
        } else {
            argo = [
                new k8s.helm.v4.Chart(
                    `${name}-chart`,
                    {
                        chart: ARGOCD_CHART.chart,
                        version: ARGOCD_CHART.version,
                        repositoryOpts: { repo: ARGOCD_CHART.repo },
                        namespace: NS.argocd,
                        name: 'argocd',
                        values: installValues.apply((v) => chartValuesWithoutCm(v) as unknown as Record<string, pulumi.Input<unknown>>),
                    },
                    // The chart's objects are made by the provider: the in-process ownership transformation cannot reach them.
                    { parent: this, dependsOn: [oidcSecret], transforms: [claimPulumiOwnership] },
                ),
            ];
        }
        argo.push(new k8s.core.v1.ConfigMap(`${name}-cm`, { metadata: { ...ARGOCD_CM_METADATA, labels: { ...ARGOCD_CM_METADATA.labels } }, data: cmData }, child));

        const afterChart = { parent: this, dependsOn: argo };
        const foundation = new k8s.apiextensions.CustomResource(`${name}-project-foundation`, appProjectArgs(pulumi.output(args.foundationSourceRepos).apply((r) => foundationProject(r))), afterChart);
        const packs = new k8s.apiextensions.CustomResource(
            `${name}-project-packs`,
            appProjectArgs(pulumi.all([args.packs.namespaces, args.gitops.repoURL, args.packs.sourceRepos]).apply(([namespaces, gitopsRepoURL, sourceRepos]) => packsProject({ namespaces, gitopsRepoURL, sourceRepos }))),
            afterChart,
        );
        const catalog = new k8s.apiextensions.CustomResource(`${name}-project-pack-catalog`, appProjectArgs(pulumi.output(args.gitops.repoURL).apply(packCatalogProject)), afterChart);

        const creds = args.gitops.credentials;
        const repoSecret = new k8s.core.v1.Secret(
            `${name}-gitops-repository`,
            {
                metadata: { name: GITOPS_REPO_SECRET_NAME, namespace: NS.argocd, labels: { 'argocd.argoproj.io/secret-type': 'repository', 'app.kubernetes.io/part-of': 'nkp' } },
                type: 'Opaque',
                stringData: pulumi.secret(
                    pulumi.output(args.gitops.repoURL).apply((url) =>
                        pulumi.output(
                            creds.kind === 'none'
                                ? repositorySecretData(url, creds)
                                : creds.kind === 'https'
                                  ? pulumi.all([creds.username, creds.password]).apply(([username, password]) => repositorySecretData(url, { kind: 'https', username, password }))
                                  : pulumi.output(creds.sshPrivateKey).apply((sshPrivateKey) => repositorySecretData(url, { kind: 'ssh', sshPrivateKey })),
                        ),
                    ),
                ) as unknown as pulumi.Output<Record<string, string>>,
            },
            child,
        );

        new k8s.apiextensions.CustomResource(
            `${name}-root-app`,
            customResourceArgs('argoproj.io/v1alpha1', 'Application', pulumi.all([args.gitops.repoURL, args.gitops.revision, args.gitops.path]).apply(([repoURL, revision, path]) => rootApplication({ repoURL, revision, path }))),
            { parent: this, dependsOn: [catalog, packs, repoSecret] },
        );

        this.url = pulumi.interpolate`https://${args.hostname}`;
        this.ready = [...argo, foundation, packs, catalog];
        this.registerOutputs({ namespace: this.namespace, url: this.url, chartVersion: this.chartVersion });
    }
}
