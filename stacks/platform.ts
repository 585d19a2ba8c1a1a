/**
 * The whole platform from validated settings: cloud -> k8s.Provider -> cluster baseline -> ArgoCD -> foundation
 * -> identity. `stacks/index.ts` calls {@link buildPlatform} with the stack's config; tests, the benchmark and the
 * policy-pack tests call it under Pulumi mocks with each stack's YAML.
 */
import * as pulumi from '@pulumi/pulumi';
import * as k8s from '@pulumi/kubernetes';
import type { CloudOutputs } from '../components/cloud/index.js';
import { AwsCloud } from '../components/cloud/aws.js';
import { AwsClusterAddons } from '../components/cloud/aws-addons.js';
import { PlatformDnsRecords } from '../components/cloud/dns.js';
import { HetznerCloud } from '../components/cloud/hetzner.js';
import { LocalCluster } from '../components/cloud/local.js';
import { ClusterBaseline, COREDNS_CUSTOM_FLAVOURS, type ClusterNetworkFacts } from '../components/cluster/index.js';
import { claimPulumiOwnershipInProcess } from '../components/cluster/ownership.js';
import { ArgoCD, type RepoCredentials } from '../components/argocd/index.js';
import { Foundation, foundationSourceRepos, LocalCA, type FoundationInput } from '../components/foundation/index.js';
import { Identity, type UpstreamSpec } from '../components/identity/index.js';
import { KEYCLOAK_ADMIN_USER } from '../components/foundation/spec.js';
import { apiServerEndpointOf, KUBELOGIN_REDIRECT_URIS, kubeApiServerOidcFlags, oidcKubeconfig } from '../components/cloud/kube-oidc.js';
import type { PlatformSettings, SecretKey } from './config.js';

export interface PlatformConfig {
    settings: PlatformSettings;
    /** Secret values by key (Pulumi secrets); exactly settings.requiredSecrets must be present. */
    secrets: Partial<Record<SecretKey, pulumi.Input<string>>>;
}

export interface Platform {
    cloud: CloudOutputs;
    k8sProvider: k8s.Provider;
    baseline: ClusterBaseline;
    argocd: ArgoCD;
    foundation: Foundation;
    identity?: Identity;
    /** AWS only: the in-cluster add-ons (Load Balancer Controller, autoscaler, device plugin) as Argo CD Applications. */
    cloudAddons?: AwsClusterAddons;
    /** The local CA (tlsIssuer selfsigned-ca only). */
    localCA?: LocalCA;
    /** Non-secret stack outputs. */
    outputs: Record<string, pulumi.Input<unknown>>;
}

function secretGetter(cfg: PlatformConfig) {
    return (key: SecretKey): pulumi.Output<string> => {
        const v = cfg.secrets[key];
        if (v === undefined) throw new Error(`secret nkp:${key} is required by this configuration; set it with: pulumi config set --secret ${key} <value>`);
        return pulumi.secret(v);
    };
}

function buildCloud(s: PlatformSettings, secret: (k: SecretKey) => pulumi.Output<string>): CloudOutputs {
    switch (s.cloud.provider) {
        case 'aws':
            return new AwsCloud('cloud', s.cloud.aws);
        case 'hetzner':
            return new HetznerCloud('cloud', { ...s.cloud.hetzner, hcloudToken: secret('hetznerToken'), sshPrivateKey: secret('hetznerSshPrivateKey') });
        case 'local':
            return new LocalCluster('cloud', s.cloud.local);
    }
}

/** Pure: what the foundation Applications need, from settings and the storage class of platform data. */
export function foundationInput(s: PlatformSettings, storageClass: string | undefined): FoundationInput {
    return {
        provider: s.cloud.provider,
        clusterName: `nkp-${s.environment}`,
        hostnames: s.hostnames,
        platformRepo: s.platformRepo,
        tls: s.tls,
        keycloak: { replicas: s.keycloak.replicas, databaseInstances: s.keycloak.databaseInstances, databaseStorage: s.keycloak.databaseStorage, ...(storageClass !== undefined ? { storageClass } : {}) },
        telemetry: s.telemetry,
        images: s.images,
        oidc: { issuerURL: s.keycloak.issuerURL, realm: s.identity.realm },
        ...(s.chartMirror !== undefined ? { chartMirror: s.chartMirror } : {}),
    };
}

/** Pure: the gitops repository credentials from settings and secrets. */
export function gitopsCredentials(s: PlatformSettings, secret: (k: SecretKey) => pulumi.Output<string>): RepoCredentials<pulumi.Input<string>> {
    switch (s.gitops.auth) {
        case 'none':
            return { kind: 'none' };
        case 'https':
            return { kind: 'https', username: s.gitops.username, password: secret('gitopsRepoPassword') };
        case 'ssh':
            return { kind: 'ssh', sshPrivateKey: secret('gitopsRepoSshKey') };
    }
}

/** Where the kube-apiserver and the gateway are, per provider, for the baseline's egress NetworkPolicies. */
export function networkFacts(s: PlatformSettings, cloud: CloudOutputs): ClusterNetworkFacts<pulumi.Input<string>> {
    switch (s.cloud.provider) {
        case 'aws':
            return { provider: 'aws', vpcCidr: s.cloud.aws.vpcCidr ?? '10.0.0.0/16' };
        case 'hetzner':
            if (!(cloud instanceof HetznerCloud)) throw new Error('networkFacts: provider hetzner needs the HetznerCloud component');
            return { provider: 'hetzner', networkCidr: s.cloud.hetzner.networkCidr ?? '10.10.0.0/16', gatewayLoadBalancerIp: cloud.gatewayLoadBalancerIp };
        case 'local':
            return { provider: 'local' };
    }
}

/** Local K3s/k3d clusters resolve the platform's hostnames in-cluster to the gateway (their CoreDNS imports coredns-custom). */
export function inClusterHostnames(s: PlatformSettings): { domain: string } | undefined {
    return s.cloud.provider === 'local' && COREDNS_CUSTOM_FLAVOURS.includes(s.cloud.local.flavour ?? 'other') ? { domain: s.domain } : undefined;
}

/**
 * Resource transformation: every custom resource under the component it is given to also depends on `resources`.
 * (A component's dependsOn orders creation only; `pulumi destroy` follows each resource's own recorded dependencies.
 * An SDK-side transformation, so the dependencies are part of each registration.)
 */
export function dependOn(resources: pulumi.Resource[]): pulumi.ResourceTransformation {
    return (args) => {
        if (!(args.resource instanceof pulumi.CustomResource)) return undefined;
        const existing = args.opts.dependsOn;
        const list = (existing === undefined ? [] : Array.isArray(existing) ? existing : [existing]) as pulumi.Input<pulumi.Resource>[];
        return { props: args.props, opts: { ...args.opts, dependsOn: [...list, ...resources] } };
    };
}

/** The SDK-side transformations already in a set of options (kept when more are added). */
function inherited(opts: pulumi.ComponentResourceOptions): pulumi.ResourceTransformation[] {
    return opts.transformations ?? [];
}

/**
 * Kubernetes API sign-in outputs (nkp:kubernetesOidc): `kubeconfigOidc`, a kubeconfig without credentials (the
 * cluster's address and CA, taken from the admin kubeconfig, and kubelogin as exec plugin), so not a secret; on local
 * clusters, whose API server this program does not configure, also the kube-apiserver flags to start it with.
 */
export function kubernetesSignInOutputs(s: PlatformSettings, cloud: CloudOutputs): Record<string, pulumi.Input<unknown>> {
    const oidc = s.kubernetesApi.oidc;
    if (oidc === undefined) return {};
    // The address and CA are public; only they leave the secret kubeconfig.
    const kubeconfigOidc = pulumi.unsecret(cloud.kubeconfig.apply((k) => oidcKubeconfig({ name: `nkp-${s.environment}`, endpoint: apiServerEndpointOf(k), oidc })));
    return { kubeconfigOidc, ...(s.cloud.provider === 'local' ? { kubeApiServerOidcFlags: kubeApiServerOidcFlags(oidc) } : {}) };
}

export function buildPlatform(cfg: PlatformConfig): Platform {
    const s = cfg.settings;
    const secret = secretGetter(cfg);

    const cloud = buildCloud(s, secret);
    // ConfigMaps mutable: every ConfigMap here has a fixed name, and the provider's default (replace on any data
    // change) would create the new one and then delete the old one, which is the same object: it would vanish.
    const k8sProvider = new k8s.Provider('cluster', { kubeconfig: cloud.kubeconfig, enableServerSideApply: true, enableConfigMapMutable: true });
    // Pulumi owns the objects it applies: out-of-band edits are drift that `up --refresh` reverts (./ownership).
    // In process (no engine round trip per object); the Helm charts' children get the engine-side transform.
    const onCluster = { providers: [k8sProvider], transformations: [claimPulumiOwnershipInProcess] };

    // Local clusters: the program owns the CA cert-manager signs with, so everything that verifies the issuer can trust it.
    const localCA = s.tls.issuer === 'selfsigned-ca' ? new LocalCA('local-ca', { environment: s.environment }) : undefined;
    const hostnames = inClusterHostnames(s);

    const baseline = new ClusterBaseline(
        'baseline',
        {
            provider: s.cloud.provider,
            oidcGroupsPrefix: s.clusterAccess.oidcGroupsPrefix,
            adminGroups: s.clusterAccess.adminGroups,
            viewerGroups: s.clusterAccess.viewerGroups,
            defaultStorageClass: cloud.defaultStorageClass,
            network: networkFacts(s, cloud),
            ...(hostnames ? { inClusterHostnames: hostnames } : {}),
        },
        onCluster,
    );

    const argocd = new ArgoCD(
        'argocd',
        {
            hostname: s.hostnames.argocd,
            oidc: {
                issuerURL: s.keycloak.issuerURL,
                clientSecret: secret('argocdOidcClientSecret'),
                adminGroups: [s.identity.groups.admins],
                viewerGroups: [s.identity.groups.viewers, s.identity.groups.developers],
                ...(localCA ? { rootCA: localCA.certPem } : {}),
            },
            gitops: { repoURL: s.gitops.repoURL, revision: s.gitops.revision, path: s.gitops.path, credentials: gitopsCredentials(s, secret) },
            packs: { namespaces: s.packs.namespaces, sourceRepos: s.packs.sourceRepos },
            foundationSourceRepos: foundationSourceRepos(s.platformRepo.repoURL, s.chartMirror),
            ha: s.argocd.ha,
            install: s.argocd.install,
            kubeconfig: cloud.kubeconfig,
        },
        { ...onCluster, dependsOn: [baseline] },
    );

    // AWS: the Load Balancer Controller, autoscaler and device plugin. The foundation depends on them, so destroy
    // removes the gateway (and its NLB, through the controller) before the controller (components/cloud/aws-addons.ts).
    let cloudAddons: AwsClusterAddons | undefined;
    if (s.cloud.provider === 'aws' && cloud instanceof AwsCloud) {
        cloudAddons = new AwsClusterAddons(
            'aws-addons',
            {
                clusterName: cloud.clusterName,
                vpcId: cloud.vpcId,
                region: cloud.region,
                kubernetesVersion: String(s.cloud.aws.kubernetesVersion),
                clusterAutoscaler: { enabled: s.cloud.addons.clusterAutoscaler, namespace: 'kube-system', serviceAccount: 'cluster-autoscaler' },
                nvidiaDevicePlugin: {
                    enabled: s.cloud.addons.nvidiaDevicePlugin && s.cloud.aws.nodeGroups.some((g) => g.gpu === true),
                    gpuTaints: s.cloud.aws.nodeGroups.filter((g) => g.gpu === true).flatMap((g) => g.taints ?? []),
                },
                kubeconfig: cloud.kubeconfig,
                ...(s.dns.provider !== 'none' ? { dns: { provider: s.dns.provider, zoneId: s.dns.zoneId, domain: s.domain } } : {}),
                ...(s.dns.provider === 'cloudflare' ? { cloudflareApiToken: secret('cloudflareApiToken') } : {}),
            },
            // Recorded per resource, so destroy keeps Argo CD until its finalizers have removed the add-ons.
            { ...onCluster, dependsOn: [baseline, ...argocd.ready], transformations: [...inherited(onCluster), dependOn([baseline, ...argocd.ready])] },
        );
    }

    // Hetzner: Pulumi knows the gateway's address, so it keeps the records itself (AWS: ExternalDNS, above).
    let dnsRecords: PlatformDnsRecords | undefined;
    if (cloud instanceof HetznerCloud && s.dns.provider !== 'none') {
        dnsRecords = new PlatformDnsRecords('dns', {
            dns: s.dns,
            hostnames: s.hostnames,
            ipv4: cloud.gatewayLoadBalancerIp,
            ...(s.dns.provider === 'cloudflare' ? { cloudflareApiToken: secret('cloudflareApiToken') } : {}),
        });
    }

    const foundation = new Foundation(
        'foundation',
        {
            spec: baseline.dataStorageClass.apply((sc) => foundationInput(s, sc)),
            keycloakAdminPassword: secret('keycloakAdminPassword'),
            ...(s.telemetry.auth === 'bearer' ? { otelExporterToken: secret('otelExporterToken') } : {}),
            ...(localCA ? { localCA: { certPem: localCA.certPem, privateKeyPem: localCA.privateKeyPem } } : {}),
        },
        // Every foundation resource also depends on the AWS add-ons (dependOn): destroy removes the gateway, then
        // waits for its NLB (the guard), then removes the Load Balancer Controller.
        {
            ...onCluster,
            dependsOn: [baseline, ...argocd.ready, ...(cloudAddons?.ready ?? [])],
            ...(cloudAddons ? { transformations: [...inherited(onCluster), dependOn(cloudAddons.ready)] } : {}),
        },
    );

    let identity: Identity | undefined;
    if (s.identity.enabled) {
        const upstream: UpstreamSpec = s.identity.upstream;
        identity = new Identity(
            'identity',
            {
                keycloakUrl: s.keycloak.adminUrl,
                adminUsername: KEYCLOAK_ADMIN_USER,
                adminPassword: secret('keycloakAdminPassword'),
                realm: s.identity.realm,
                extraGroups: s.identity.groups.extra,
                mfaRequired: s.identity.mfaRequired,
                argocd: { url: `https://${s.hostnames.argocd}`, clientSecret: secret('argocdOidcClientSecret') },
                upstream,
                ...(upstream.type === 'oidc' ? { upstreamSecret: secret('identityUpstreamOidcClientSecret') } : {}),
                ...(upstream.type === 'ldap' ? { upstreamSecret: secret('identityUpstreamLdapBindCredential') } : {}),
                ...(s.kubernetesApi.oidc ? { kubernetesApi: { clientId: s.kubernetesApi.oidc.clientId, redirectUris: KUBELOGIN_REDIRECT_URIS } } : {}),
            },
            // The keycloak resources use the component's own provider; the operator's credentials Secret the cluster's.
            { ...onCluster, dependsOn: [foundation] },
        );
    }

    const outputs: Record<string, pulumi.Input<unknown>> = {
        environment: s.environment,
        cloudProvider: s.cloud.provider,
        clusterName: cloud.clusterName,
        defaultStorageClass: cloud.defaultStorageClass,
        argocdUrl: argocd.url,
        keycloakUrl: `https://${s.hostnames.keycloak}`,
        oidcIssuerUrl: s.keycloak.issuerURL,
        landingUrl: `https://${s.hostnames.landing}`,
        gitops: { repoURL: s.gitops.repoURL, revision: s.gitops.revision, path: s.gitops.path },
        foundationApplications: foundation.applicationNames,
        argocdChartVersion: argocd.chartVersion,
        identityManaged: s.identity.enabled,
        ...(dnsRecords ? { dnsRecords: dnsRecords.names } : {}),
        // Where DNS for the platform's hostnames points on Hetzner (AWS: the gateway's NLB hostname, see stacks/README.md).
        ...(cloud instanceof HetznerCloud ? { gatewayLoadBalancerIp: cloud.gatewayLoadBalancerIp } : {}),
        ...kubernetesSignInOutputs(s, cloud),
        // Local clusters: the CA to import into the browser / OS trust store (a certificate, not a secret).
        ...(localCA ? { localCaCertificate: localCA.certPem } : {}),
    };
    return { cloud, k8sProvider, baseline, argocd, foundation, ...(identity ? { identity } : {}), ...(cloudAddons ? { cloudAddons } : {}), ...(localCA ? { localCA } : {}), outputs };
}
