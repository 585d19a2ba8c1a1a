/**
 * The stack's typed configuration: one schema (TypeBox), validated once at program start with Ajv, before any
 * resource is registered. Every key is a flat, top-level `nkp:<key>` so that the project-level `config:` block of
 * Pulumi.yaml (which only knows string, integer, boolean and array) can declare it; the block is derived from
 * {@link CONFIG_KEYS} (see {@link projectConfigBlock}) and a unit test fails when Pulumi.yaml drifts.
 *
 * Everything here is pure: it reads values through a function and returns a typed {@link PlatformSettings} or
 * throws one {@link ConfigValidationError} that lists every problem, each naming the key and what is allowed.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { Ajv, type ErrorObject } from 'ajv';
import type { AwsCloudArgs, HetznerCloudArgs, LocalClusterArgs, AwsNodeGroupArgs, HetznerWorkerPoolArgs } from '../components/cloud/index.js';
import { PLATFORM_NAMESPACE_NAMES, RESERVED_NAMESPACES, packNamespaceClash } from '../components/cluster/namespaces.js';
import { NODE_GROUP_NAME_MAX, NODE_GROUP_SIZE_MAX, PRINCIPAL_ARN_PATTERN, PROTECT_DEFAULT, validateAwsCloudArgs } from '../components/cloud/aws-plan.js';
import { AWS_ADDON_CHARTS, CLUSTER_AUTOSCALER_KUBERNETES_MINOR } from '../components/cloud/aws-addons-plan.js';
import { CLOUDFLARE_ZONE_ID, DNS_PROVIDERS, ROUTE53_ZONE_ID, type DnsSettings } from '../components/cloud/dns-plan.js';
import { WORKER_POOL_COUNT_MAX, WORKER_POOL_NAME_MAX, validateHetznerCloudArgs } from '../components/cloud/hetzner-plan.js';
import { CloudArgsError } from '../components/cloud/validate.js';
import { KUBERNETES_OIDC_CLIENT_ID, platformApiServerOidc } from '../components/cloud/kube-oidc.js';
import type { ApiServerOidc } from '../components/cloud/types.js';

/** The Pulumi config namespace of every key (the project name). */
export const CONFIG_NAMESPACE = 'nkp';

const DNS_LABEL = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';
/** Same pattern as NebariApp spec.hostname. */
const DNS_NAME = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';
const IPV4_CIDR = '^((25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)\\.){3}(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)/(3[0-2]|[12]?\\d)$';
const GIT_URL = '^(https://[^\\s@]+|ssh://[^\\s]+|git@[^\\s:]+:[^\\s]+)$';
const HTTPS_URL = '^https://[^\\s]+$';
/** A git daemon on this machine's loopback (git://127.0.0.1:<port>/<path>): local clusters whose Argo CD runs on this machine only. */
export const LOOPBACK_GIT_URL = '^git://(127\\.0\\.0\\.1|localhost)(:[0-9]{1,5})?/[^\\s@]+$';
const PLATFORM_REPO_URL = `(${HTTPS_URL})|(${LOOPBACK_GIT_URL})`;
/** A Helm repository on this machine's loopback (http://127.0.0.1:<port>/...): local clusters whose Argo CD runs on this machine only. */
export const LOOPBACK_HTTP_URL = '^http://(127\\.0\\.0\\.1|localhost)(:[0-9]{1,5})?(/[^\\s@]*)?$';
const HTTP_URL = '^https?://[^\\s]+$';
/** registry/path:tag (tag not `latest`) or registry/path@sha256:digest. */
const PINNED_IMAGE = '^[a-z0-9]([-a-z0-9.]*[a-z0-9])?(:[0-9]+)?/[a-z0-9._/-]+(:(?!latest$)[A-Za-z0-9_][A-Za-z0-9._-]{0,127}|@sha256:[a-f0-9]{64})$';
/** A pinned git revision: a semver release tag (optionally v-prefixed) or a full 40-hex commit SHA. */
export const PINNED_GIT_REVISION = '^(v?(0|[1-9]\\d*)\\.(0|[1-9]\\d*)\\.(0|[1-9]\\d*)(-[0-9A-Za-z-]+(\\.[0-9A-Za-z-]+)*)?(\\+[0-9A-Za-z-]+(\\.[0-9A-Za-z-]+)*)?|[0-9a-f]{40})$';
const GROUP_NAME = '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$';
/** Pack namespace names or ArgoCD globs like `pack-*` (a prefix, never a bare `*`). */
const NAMESPACE_GLOB = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(-\\*)?$';

const str = (description: string, extra: Record<string, unknown> = {}) => Type.String({ description, ...extra });
const strArray = (description: string, item: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
    Type.Array(Type.String(item), { description, ...extra });

const NodeGroupSchema = Type.Object(
    {
        name: Type.String({ pattern: DNS_LABEL, maxLength: NODE_GROUP_NAME_MAX }),
        instanceTypes: Type.Array(Type.String({ pattern: '^[a-z0-9-]+\\.[a-z0-9]+$' }), { minItems: 1 }),
        minSize: Type.Integer({ minimum: 0, maximum: NODE_GROUP_SIZE_MAX }),
        maxSize: Type.Integer({ minimum: 1, maximum: NODE_GROUP_SIZE_MAX }),
        desiredSize: Type.Integer({ minimum: 0, maximum: NODE_GROUP_SIZE_MAX }),
        labels: Type.Optional(Type.Record(Type.String(), Type.String())),
        taints: Type.Optional(
            Type.Array(
                Type.Object(
                    {
                        key: Type.String({ minLength: 1 }),
                        value: Type.Optional(Type.String()),
                        effect: Type.Union([Type.Literal('NoSchedule'), Type.Literal('PreferNoSchedule'), Type.Literal('NoExecute')]),
                    },
                    { additionalProperties: false },
                ),
            ),
        ),
        gpu: Type.Optional(Type.Boolean()),
        capacityType: Type.Optional(Type.Union([Type.Literal('ON_DEMAND'), Type.Literal('SPOT')])),
        diskSizeGiB: Type.Optional(Type.Integer({ minimum: 20, maximum: 16384 })),
    },
    { additionalProperties: false },
);

const UpstreamGroupMappingSchema = Type.Object(
    {
        upstream: Type.String({ minLength: 1, maxLength: 256 }),
        group: Type.String({ pattern: GROUP_NAME }),
    },
    { additionalProperties: false },
);

const WorkerPoolSchema = Type.Object(
    {
        name: Type.String({ pattern: DNS_LABEL, maxLength: WORKER_POOL_NAME_MAX }),
        count: Type.Integer({ minimum: 0, maximum: WORKER_POOL_COUNT_MAX }),
        serverType: Type.String({ pattern: '^[a-z0-9-]+$' }),
        labels: Type.Optional(Type.Record(Type.String(), Type.String())),
    },
    { additionalProperties: false },
);

interface KeyDef {
    schema: TSchema;
    /** Applied when the key is absent; keys without a default are required (maybe only for one cloud, see the rules). */
    default?: unknown;
}

/**
 * Every config key of the program. Order matters only for the generated Pulumi.yaml block.
 * Descriptions say what is allowed: they are printed in validation errors and in Pulumi.yaml.
 */
export const CONFIG_KEYS = {
    // ---- environment and cost tags
    environment: { schema: str('Environment name, a lower-case DNS label of at most 36 characters, e.g. aws-prod; becomes the environment tag and the cluster name nkp-<environment>.', { pattern: DNS_LABEL, maxLength: 36 }) },
    owner: { schema: str('Team or person accountable for the environment (the owner tag), 1..63 characters.', { minLength: 1, maxLength: 63 }) },
    costCentre: { schema: str('Cost centre the spend is booked against (the cost-centre tag), 1..63 characters.', { minLength: 1, maxLength: 63 }) },
    cloudProvider: { schema: str('Where the cluster comes from: aws (VPC + EKS), hetzner (K3s on Hetzner Cloud) or local (an existing cluster).', { enum: ['aws', 'hetzner', 'local'] }) },
    domain: { schema: str('Base DNS name of the platform, e.g. platform.example.com; ArgoCD is served on argocd.<domain>, Keycloak on keycloak.<domain>, the landing page on <domain>.', { pattern: DNS_NAME, maxLength: 200 }) },

    dnsProvider: { schema: str('Where the records of <domain>, *.<domain>, argocd.<domain> and keycloak.<domain> are kept: none (you point them at the gateway yourself; always with cloudProvider local, localtest.me), route53 (a hosted zone; AWS credentials of the runner, or ExternalDNS with Pod Identity on AWS) or cloudflare (a zone; API token in the secret nkp:cloudflareApiToken).', { enum: [...DNS_PROVIDERS] }), default: 'none' },
    dnsZoneId: { schema: str('The zone of the records: a Route 53 hosted zone id (Z...) with dnsProvider route53, a Cloudflare zone id (32 hex) with cloudflare, empty with none.', { pattern: `^$|${ROUTE53_ZONE_ID}|${CLOUDFLARE_ZONE_ID}` }), default: '' },

    // ---- TLS
    tlsIssuer: { schema: str('ClusterIssuer for platform certificates: letsencrypt (production ACME, HTTP-01 on the public gateway), letsencrypt-staging, or selfsigned-ca (a local CA; for local clusters).', { enum: ['letsencrypt', 'letsencrypt-staging', 'selfsigned-ca'] }) },
    acmeEmail: { schema: str('Contact e-mail for the ACME account; required with letsencrypt issuers, empty otherwise.', { pattern: '^$|^[^\\s@]+@[^\\s@]+\\.[^\\s@]+$' }), default: '' },

    // ---- AWS (only read when cloudProvider is aws)
    awsAvailabilityZones: { schema: strArray('AWS: availability zones to spread subnets and NAT over, at least two distinct ones, e.g. ["eu-central-1a","eu-central-1b"].', { pattern: '^[a-z]{2}(-gov)?-[a-z]+-\\d[a-z]$' }, { uniqueItems: true }), default: [] },
    awsVpcCidr: { schema: str('AWS: IPv4 CIDR of the VPC with prefix /16 to /24, e.g. 10.0.0.0/16.', { pattern: IPV4_CIDR }), default: '10.0.0.0/16' },
    awsNatGateways: { schema: str('AWS: perAz (one NAT gateway per AZ, resilient) or single (one shared NAT gateway, cheaper).', { enum: ['perAz', 'single'] }), default: 'perAz' },
    awsKubernetesVersion: { schema: str('AWS: EKS Kubernetes version as major.minor, 1.28 to 1.39, e.g. 1.33.', { pattern: '^1\\.(2[89]|3\\d)$' }), default: '1.33' },
    awsEndpointPublicAccess: { schema: Type.Boolean({ description: 'AWS: expose the public EKS API endpoint (limited to awsPublicAccessCidrs); the private endpoint is always on.' }), default: true },
    awsPublicAccessCidrs: { schema: strArray('AWS: IPv4 CIDRs allowed to reach the public EKS endpoint; non-empty when the endpoint is public; 0.0.0.0/0 is refused.', { pattern: IPV4_CIDR }), default: [] },
    awsAdminPrincipalArns: { schema: strArray('AWS: IAM role or user ARNs (arn:aws:iam::<account>:role/<name> or :user/<name>) that get cluster-admin through EKS access entries; leave out the principal that runs pulumi up (it is admin already).', { pattern: PRINCIPAL_ARN_PATTERN }), default: [] },
    awsNodeGroups: { schema: Type.Array(NodeGroupSchema, { description: `AWS: managed node groups, at least one: [{name (at most ${NODE_GROUP_NAME_MAX} characters), instanceTypes, minSize, maxSize, desiredSize (0..${NODE_GROUP_SIZE_MAX}), labels?, taints?, gpu?, capacityType?, diskSizeGiB?}] with minSize <= desiredSize <= maxSize.` }), default: [] },
    awsClusterAutoscaler: { schema: Type.Boolean({ description: `AWS: run the cluster autoscaler (pinned chart ${AWS_ADDON_CHARTS.clusterAutoscaler.version}, ${AWS_ADDON_CHARTS.clusterAutoscaler.appVersion}, for Kubernetes ${CLUSTER_AUTOSCALER_KUBERNETES_MINOR}) as an Argo CD Application with its IAM role through Pod Identity; node groups then scale between minSize and maxSize, from 0 too.` }), default: true },
    awsNvidiaDevicePlugin: { schema: Type.Boolean({ description: `AWS: run the NVIDIA device plugin (pinned chart ${AWS_ADDON_CHARTS.nvidiaDevicePlugin.version}) on GPU node groups, so pods can request nvidia.com/gpu; required when a node group has gpu: true.` }), default: true },
    awsEfsEnabled: { schema: Type.Boolean({ description: 'AWS: create an encrypted EFS file system and its efs StorageClass for ReadWriteMany volumes.' }), default: false },

    // ---- Hetzner (only read when cloudProvider is hetzner)
    hetznerLocation: { schema: str('Hetzner: location of servers and load balancer: fsn1, nbg1, hel1, ash, hil or sin.', { enum: ['fsn1', 'nbg1', 'hel1', 'ash', 'hil', 'sin'] }), default: 'fsn1' },
    hetznerNetworkZone: { schema: str('Hetzner: network zone matching the location: eu-central (fsn1, nbg1, hel1), us-east (ash), us-west (hil) or ap-southeast (sin).', { enum: ['eu-central', 'us-east', 'us-west', 'ap-southeast'] }), default: 'eu-central' },
    hetznerNetworkCidr: { schema: str('Hetzner: IPv4 CIDR of the private network, e.g. 10.10.0.0/16.', { pattern: IPV4_CIDR }), default: '10.10.0.0/16' },
    hetznerK3sVersion: { schema: str('Hetzner: pinned K3s release like v1.33.5+k3s1.', { pattern: '^v1\\.\\d+\\.\\d+\\+k3s\\d+$' }), default: 'v1.33.5+k3s1' },
    hetznerControlPlaneCount: { schema: Type.Integer({ description: 'Hetzner: number of K3s control-plane servers: 1 (single) or 3 (HA with embedded etcd).', enum: [1, 3] }), default: 1 },
    hetznerControlPlaneServerType: { schema: str('Hetzner: server type of the control-plane servers, e.g. cx32.', { pattern: '^[a-z0-9-]+$' }), default: 'cx32' },
    hetznerWorkerPools: { schema: Type.Array(WorkerPoolSchema, { description: `Hetzner: worker pools [{name (at most ${WORKER_POOL_NAME_MAX} characters), count 0..${WORKER_POOL_COUNT_MAX}, serverType, labels?}]; may be empty (workloads then run on the control plane).` }), default: [] },
    hetznerAdminCidrs: { schema: strArray('Hetzner: IPv4 CIDRs allowed to reach SSH and the Kubernetes API; non-empty; 0.0.0.0/0 is refused.', { pattern: IPV4_CIDR }), default: [] },
    hetznerSshPublicKey: { schema: str('Hetzner: OpenSSH public key installed on every server (ssh-ed25519 or ssh-rsa ...); its private key is the secret nkp:hetznerSshPrivateKey.', { pattern: '^$|^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp256) [A-Za-z0-9+/=]+( .*)?$' }), default: '' },
    hetznerLoadBalancerType: { schema: str('Hetzner: load balancer type of the gateway: lb11, lb21 or lb31.', { enum: ['lb11', 'lb21', 'lb31'] }), default: 'lb11' },

    protectStatefulResources: { schema: Type.Boolean({ description: 'AWS and Hetzner: protect stateful resources (EKS cluster, VPC, KMS key, EFS; Hetzner servers and primary IPs) with Pulumi protect, and keep dynamically provisioned volumes (StorageClass reclaimPolicy Retain). Set false only to tear an environment down or replace a server deliberately.' }), default: PROTECT_DEFAULT },

    // ---- local / existing cluster (only read when cloudProvider is local)
    localKubeconfigPath: { schema: str('Local: path of the kubeconfig file of the existing cluster (~ expands to the home directory).', { minLength: 0 }), default: '' },
    localContext: { schema: str('Local: kubeconfig context to use; empty means the current-context.', { minLength: 0 }), default: '' },
    localFlavour: { schema: str('Local: what the existing cluster is: k3s, k3d, kind or other (decides the default StorageClass).', { enum: ['k3s', 'k3d', 'kind', 'other'] }), default: 'other' },

    // ---- who may use the cluster
    oidcGroupsPrefix: { schema: str('Prefix the Kubernetes API server puts before OIDC group names (its --oidc-groups-prefix, e.g. oidc:); empty when it adds none.', { pattern: '^[A-Za-z0-9:._-]{0,32}$' }), default: 'oidc:' },
    kubernetesOidc: {
        schema: Type.Boolean({
            description:
                'Kubernetes API sign-in through the platform realm: the API servers accept the realm\'s ID tokens for the client kubernetesOidcClientId (Hetzner: kube-apiserver flags in the K3s config from the first boot; AWS: an EKS OIDC identity provider config, made once identityEnabled is true, since EKS reads the issuer when it associates it); identity makes that public client (PKCE) with the groups claim, and the stack outputs kubeconfigOidc (kubelogin). Needs a non-empty oidcGroupsPrefix.',
        }),
        default: true,
    },
    kubernetesOidcClientId: { schema: str('Client id of the realm\'s kubectl client: the audience the Kubernetes API servers accept, e.g. kubernetes.', { pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$' }), default: KUBERNETES_OIDC_CLIENT_ID },
    clusterAdminGroups: { schema: strArray('Identity-provider groups bound to the platform-admin ClusterRole, at least one.', { pattern: GROUP_NAME }, { minItems: 1, uniqueItems: true }), default: ['admins'] },
    clusterViewerGroups: { schema: strArray('Identity-provider groups bound to the read-only platform-viewer ClusterRole.', { pattern: GROUP_NAME }, { uniqueItems: true }), default: ['viewers', 'developers'] },
    packNamespaces: { schema: strArray('Namespaces packs may deploy into: names or prefix globs like pack-* (never *, never a platform or system namespace).', { pattern: NAMESPACE_GLOB }, { minItems: 1, uniqueItems: true }), default: ['pack-*'] },
    packSourceRepos: { schema: strArray('Repositories (git or Helm) pack Applications may read besides the gitops repository; https URLs.', { pattern: HTTPS_URL }, { uniqueItems: true }), default: [] },

    // ---- GitOps
    gitopsRepoUrl: {
        schema: str('Git repository holding the packs\' ArgoCD Applications (https://..., ssh://... or git@host:path; with cloudProvider local also git://127.0.0.1:<port>/<path>, a git daemon on this machine\'s loopback).', {
            pattern: `(${GIT_URL})|(${LOOPBACK_GIT_URL})`,
        }),
    },
    gitopsRevision: { schema: str('Pinned revision of the gitops repository the root app-of-apps reads: a semver release tag like v1.4.0 or a full 40-hex commit SHA (never HEAD, a branch like main, or a wildcard).', { pattern: PINNED_GIT_REVISION }) },
    gitopsPath: { schema: str('Directory of the gitops repository holding the packs\' Applications, relative, e.g. clusters/aws-prod/packs.', { pattern: '^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$' }) },
    gitopsAuth: { schema: str('How ArgoCD authenticates to the gitops repository: none (public), https (username + secret nkp:gitopsRepoPassword) or ssh (secret nkp:gitopsRepoSshKey).', { enum: ['none', 'https', 'ssh'] }), default: 'none' },
    gitopsUsername: { schema: str('Username for https access to the gitops repository (with gitopsAuth https), e.g. a bot account.', { pattern: '^[A-Za-z0-9._@-]{0,100}$' }), default: '' },
    platformRepoUrl: {
        schema: str(
            'This platform repository (public https URL), from which ArgoCD reads the gateway configuration, the operator and the landing page manifests. With cloudProvider local, also git://127.0.0.1:<port>/<path>: a git daemon on this machine\'s loopback (an Argo CD that runs on this machine, as in the tests).',
            { pattern: PLATFORM_REPO_URL },
        ),
    },
    helmChartMirror: {
        schema: str(
            'A Helm repository (https URL of its index.yaml directory) that mirrors every foundation chart at its pinned version, for clusters that cannot reach the charts\' own repositories (Harbor, Artifactory, Nexus...); read anonymously. Empty: each chart\'s own repository. With cloudProvider local, also http://127.0.0.1:<port>/<path> (a Helm repository on this machine\'s loopback, as in the tests).',
            { pattern: `^$|(${HTTPS_URL})|(${LOOPBACK_HTTP_URL})` },
        ),
        default: '',
    },
    platformRevision: { schema: str('Pinned revision of the platform repository: a semver release tag like v0.1.0 or a full 40-hex commit SHA (never HEAD or a branch).', { pattern: PINNED_GIT_REVISION }) },

    // ---- ArgoCD, Keycloak
    argocdHa: { schema: Type.Boolean({ description: 'Run ArgoCD highly available (2 replicas of server and repo-server, Redis HA off, controller sharded by 1).' }), default: false },
    argocdInstallSource: { schema: str('Where Argo CD itself comes from: chart (the pinned argo-cd Helm chart from its repository) or manifests (the pinned release\'s install.yaml from a local file, for air-gapped clusters; see argocdManifestsPath).', { enum: ['chart', 'manifests'] }), default: 'chart' },
    argocdManifestsPath: { schema: str('With argocdInstallSource manifests: path of the pinned Argo CD release\'s install.yaml (~ expands to the home directory), e.g. manifests/install.yaml of the argo-cd v3 Go module.', { minLength: 0 }), default: '' },
    keycloakReplicas: { schema: Type.Integer({ description: 'Keycloak replicas, 1..5.', minimum: 1, maximum: 5 }), default: 1 },
    keycloakDatabaseInstances: { schema: Type.Integer({ description: 'PostgreSQL instances of Keycloak\'s CloudNativePG cluster, 1..5 (2+ gives a streaming replica).', minimum: 1, maximum: 5 }), default: 1 },
    keycloakDatabaseStorage: { schema: str('Volume size of each Keycloak PostgreSQL instance, e.g. 10Gi (Gi or Ti).', { pattern: '^[1-9][0-9]{0,4}(Gi|Ti)$' }), default: '10Gi' },
    keycloakAdminUrl: { schema: str('URL the Keycloak Pulumi provider uses to reach Keycloak; empty means https://keycloak.<domain>. Use e.g. http://127.0.0.1:8080 with a port-forward.', { pattern: '^$|' + HTTP_URL }), default: '' },

    // ---- identity (the Keycloak realm)
    identityEnabled: { schema: Type.Boolean({ description: 'Manage the Keycloak realm, groups and clients; set true only after ArgoCD reports the keycloak Application Healthy (see README: identity convergence).' }), default: false },
    identityRealm: { schema: str('Keycloak realm of the platform, a lower-case DNS label, not master.', { pattern: DNS_LABEL, maxLength: 36, not: { const: 'master' } }), default: 'nebari' },
    identityExtraGroups: { schema: strArray('Realm groups created besides admins, developers and viewers.', { pattern: GROUP_NAME }, { uniqueItems: true }), default: [] },
    identityMfaRequired: { schema: Type.Boolean({ description: 'Require OTP multi-factor authentication: every user must configure an authenticator at first login.' }), default: true },
    identityUpstream: { schema: str('Upstream identity provider users sign in with: none (local Keycloak users), oidc, or ldap (LDAP or Active Directory).', { enum: ['none', 'oidc', 'ldap'] }), default: 'none' },
    identityUpstreamOidcIssuer: { schema: str('Upstream OIDC: issuer URL (https).', { pattern: '^$|' + HTTPS_URL }), default: '' },
    identityUpstreamOidcAuthorizationUrl: { schema: str('Upstream OIDC: authorization endpoint URL (https).', { pattern: '^$|' + HTTPS_URL }), default: '' },
    identityUpstreamOidcTokenUrl: { schema: str('Upstream OIDC: token endpoint URL (https).', { pattern: '^$|' + HTTPS_URL }), default: '' },
    identityUpstreamOidcJwksUrl: { schema: str('Upstream OIDC: JWKS URL (https) used to validate signatures.', { pattern: '^$|' + HTTPS_URL }), default: '' },
    identityUpstreamOidcClientId: { schema: str('Upstream OIDC: client id registered for this Keycloak (secret: nkp:identityUpstreamOidcClientSecret).', { pattern: '^[A-Za-z0-9._:/-]{0,200}$' }), default: '' },
    identityUpstreamOidcGroupsClaim: { schema: str('Upstream OIDC: claim of the upstream ID token that lists the user\'s groups (Entra ID: groups, holding group object ids once the app registration emits group claims).', { pattern: '^[A-Za-z0-9_.:/-]{1,64}$' }), default: 'groups' },
    identityUpstreamGroupMappings: {
        schema: Type.Array(UpstreamGroupMappingSchema, {
            description:
                'Upstream OIDC: which upstream group puts a user into which realm group, [{upstream, group}]: upstream is the value in identityUpstreamOidcGroupsClaim (an Entra ID group object id, an AD FS group name), group one of admins, developers, viewers or identityExtraGroups. Re-evaluated at every sign-in. Users in no mapped group sign in but get no platform group.',
            uniqueItems: true,
        }),
        default: [],
    },
    identityUpstreamLdapUrl: { schema: str('Upstream LDAP: connection URL, ldaps://host:636 (or ldap:// with StartTLS).', { pattern: '^$|^ldaps?://[^\\s]+$' }), default: '' },
    identityUpstreamLdapVendor: { schema: str('Upstream LDAP: ad (Active Directory) or other (OpenLDAP, 389ds...).', { enum: ['ad', 'other'] }), default: 'other' },
    identityUpstreamLdapBindDn: { schema: str('Upstream LDAP: bind DN (secret: nkp:identityUpstreamLdapBindCredential).', { maxLength: 500 }), default: '' },
    identityUpstreamLdapUsersDn: { schema: str('Upstream LDAP: DN under which users live, e.g. ou=people,dc=example,dc=com.', { maxLength: 500 }), default: '' },
    identityUpstreamLdapGroupsDn: { schema: str('Upstream LDAP: DN under which groups live; empty: groups are not imported.', { maxLength: 500 }), default: '' },

    // ---- telemetry
    otelExporter: { schema: str('Where the OpenTelemetry Collector sends logs and metrics: debug (collector log only), otlp (gRPC) or otlphttp.', { enum: ['debug', 'otlp', 'otlphttp'] }), default: 'debug' },
    otelEndpoint: { schema: str('Endpoint of the otlp/otlphttp exporter (https URL); empty with debug.', { pattern: '^$|' + HTTPS_URL }), default: '' },
    otelAuth: { schema: str('Authentication of the exporter: none or bearer (token in the secret nkp:otelExporterToken).', { enum: ['none', 'bearer'] }), default: 'none' },

    // ---- images of this repository's workloads
    operatorImage: { schema: str('Image of the NebariApp operator, pinned: registry/path:tag (not latest) or @sha256:digest.', { pattern: PINNED_IMAGE }) },
    landingImage: { schema: str('Image of the landing page, pinned: registry/path:tag (not latest) or @sha256:digest.', { pattern: PINNED_IMAGE }) },
} as const satisfies Record<string, KeyDef>;

export type ConfigKey = keyof typeof CONFIG_KEYS;
type KeyValue<K extends ConfigKey> = Static<(typeof CONFIG_KEYS)[K]['schema']>;
/** The flat values after parsing, defaulting and schema validation. */
export type FlatConfig = { [K in ConfigKey]: KeyValue<K> };

/**
 * Secrets, read with `config.getSecret` / `requireSecret` (never in the stack YAML, set them with
 * `pulumi config set --secret <key> ...`). `when` says which settings need them.
 */
export const SECRET_KEYS = {
    argocdOidcClientSecret: { description: 'Client secret of the Keycloak client argocd (shared by Keycloak and ArgoCD); 32+ random characters.', when: () => true },
    keycloakAdminPassword: { description: 'Password of Keycloak\'s bootstrap admin user (also used by the Pulumi Keycloak provider).', when: () => true },
    gitopsRepoPassword: { description: 'Password or token for https access to the gitops repository.', when: (c: FlatConfig) => c.gitopsAuth === 'https' },
    gitopsRepoSshKey: { description: 'SSH private key (PEM/OpenSSH) with read access to the gitops repository.', when: (c: FlatConfig) => c.gitopsAuth === 'ssh' },
    hetznerToken: { description: 'Hetzner Cloud API token (read/write) for the cloud-controller-manager and CSI driver.', when: (c: FlatConfig) => c.cloudProvider === 'hetzner' },
    hetznerSshPrivateKey: { description: 'OpenSSH private key matching hetznerSshPublicKey, used to fetch the kubeconfig.', when: (c: FlatConfig) => c.cloudProvider === 'hetzner' },
    identityUpstreamOidcClientSecret: { description: 'Client secret at the upstream OIDC provider (needed once identityEnabled is true).', when: (c: FlatConfig) => c.identityEnabled && c.identityUpstream === 'oidc' },
    identityUpstreamLdapBindCredential: { description: 'Password of the LDAP bind DN (needed once identityEnabled is true).', when: (c: FlatConfig) => c.identityEnabled && c.identityUpstream === 'ldap' },
    otelExporterToken: { description: 'Bearer token of the telemetry backend.', when: (c: FlatConfig) => c.otelAuth === 'bearer' },
    cloudflareApiToken: { description: 'Cloudflare API token with DNS edit on the zone nkp:dnsZoneId (records of the platform).', when: (c: FlatConfig) => c.dnsProvider === 'cloudflare' },
} as const satisfies Record<string, { description: string; when: (c: FlatConfig) => boolean }>;

export type SecretKey = keyof typeof SECRET_KEYS;

/** Thrown when configuration is invalid; `problems` holds one line per problem, each naming its key. */
export class ConfigValidationError extends Error {
    constructor(readonly problems: string[]) {
        super(`Invalid stack configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n` + problems.map((p) => `  - ${p}`).join('\n'));
        this.name = 'ConfigValidationError';
    }
}

const ajv = new Ajv({ allErrors: true, strict: false });
const validators = new Map<ConfigKey, ReturnType<typeof ajv.compile>>(
    (Object.keys(CONFIG_KEYS) as ConfigKey[]).map((k) => [k, ajv.compile(CONFIG_KEYS[k].schema)]),
);

const fq = (key: string) => `${CONFIG_NAMESPACE}:${key}`;

function schemaType(schema: TSchema): string {
    return (schema as { type?: string }).type ?? 'string';
}

/** Turn the raw string Pulumi stores into the key's type; returns an error text when it cannot. */
export function parseRawValue(key: ConfigKey, raw: string): { value?: unknown; error?: string } {
    const type = schemaType(CONFIG_KEYS[key].schema);
    switch (type) {
        case 'string':
            return { value: raw };
        case 'integer': {
            if (!/^-?\d+$/.test(raw.trim())) return { error: `"${raw}" is not an integer` };
            return { value: Number(raw.trim()) };
        }
        case 'boolean': {
            if (raw === 'true') return { value: true };
            if (raw === 'false') return { value: false };
            return { error: `"${raw}" is not a boolean (true or false)` };
        }
        default: {
            try {
                return { value: JSON.parse(raw) as unknown };
            } catch {
                return { error: `is not a valid ${type} (expected YAML/JSON ${type})` };
            }
        }
    }
}

function describeAjvError(e: ErrorObject): string {
    const where = e.instancePath ? ` at ${e.instancePath}` : '';
    const p = e.params as Record<string, unknown>;
    switch (e.keyword) {
        case 'enum':
            return `must be one of ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}${where}`;
        case 'pattern':
            return `has an invalid format${where}`;
        case 'additionalProperties':
            return `has an unknown field "${String(p.additionalProperty)}"${where}`;
        case 'required':
            return `is missing field "${String(p.missingProperty)}"${where}`;
        case 'anyOf':
            return `has no allowed value${where}`;
        case 'not':
            return `is a reserved value${where}`;
        default:
            return `${e.message ?? 'is invalid'}${where}`;
    }
}

function valuePreview(v: unknown): string {
    const s = JSON.stringify(v);
    return s.length > 80 ? s.slice(0, 77) + '...' : s;
}

/** Pure: parse, default and validate every key; returns the values and a list of problems (empty when valid). */
export function parseFlatConfig(read: (key: string) => string | undefined): { values: Partial<FlatConfig>; problems: string[] } {
    const values: Record<string, unknown> = {};
    const problems: string[] = [];
    for (const key of Object.keys(CONFIG_KEYS) as ConfigKey[]) {
        const def: KeyDef = CONFIG_KEYS[key];
        const raw = read(key);
        if (raw === undefined) {
            if ('default' in def) values[key] = structuredClone(def.default);
            else problems.push(`${fq(key)} is required: ${def.schema.description as string}`);
            continue;
        }
        const parsed = parseRawValue(key, raw);
        if (parsed.error !== undefined) {
            problems.push(`${fq(key)} ${parsed.error}; allowed: ${def.schema.description as string}`);
            continue;
        }
        const validate = validators.get(key)!;
        if (!validate(parsed.value)) {
            const details = [...new Set((validate.errors ?? []).filter((e) => e.keyword !== 'if').map(describeAjvError))].join('; ');
            problems.push(`${fq(key)} = ${valuePreview(parsed.value)} ${details}; allowed: ${def.schema.description as string}`);
            continue;
        }
        values[key] = parsed.value;
    }
    return { values: values as Partial<FlatConfig>, problems };
}

function cidrIsWorld(c: string): boolean {
    return c === '0.0.0.0/0' || c.endsWith('/0');
}

/** Pure: rules spanning several keys. `c` holds only keys that passed their own validation. */
export function crossKeyProblems(c: Partial<FlatConfig>): string[] {
    const p: string[] = [];
    const has = <K extends ConfigKey>(k: K): boolean => c[k] !== undefined;
    if (has('tlsIssuer') && c.tlsIssuer !== 'selfsigned-ca' && has('acmeEmail') && c.acmeEmail === '') {
        p.push(`${fq('acmeEmail')} is required when ${fq('tlsIssuer')} is ${c.tlsIssuer}: an e-mail address for the ACME account`);
    }
    if (has('tlsIssuer') && c.tlsIssuer === 'selfsigned-ca' && c.cloudProvider !== undefined && c.cloudProvider !== 'local') {
        p.push(`${fq('tlsIssuer')} = "selfsigned-ca" is only allowed with ${fq('cloudProvider')} local; use letsencrypt or letsencrypt-staging for ${c.cloudProvider}`);
    }
    if (c.gitopsAuth === 'https' && c.gitopsUsername === '') {
        p.push(`${fq('gitopsUsername')} is required when ${fq('gitopsAuth')} is https`);
    }
    if (c.gitopsAuth === 'https' && c.gitopsRepoUrl !== undefined && !c.gitopsRepoUrl.startsWith('https://')) {
        p.push(`${fq('gitopsRepoUrl')} must be an https:// URL when ${fq('gitopsAuth')} is https`);
    }
    if (c.gitopsAuth === 'ssh' && c.gitopsRepoUrl !== undefined && c.gitopsRepoUrl.startsWith('https://')) {
        p.push(`${fq('gitopsRepoUrl')} must be an ssh:// or git@host:path URL when ${fq('gitopsAuth')} is ssh`);
    }
    if (c.gitopsRepoUrl !== undefined && c.gitopsRepoUrl.startsWith('git://') && c.cloudProvider !== undefined && c.cloudProvider !== 'local') {
        p.push(`${fq('gitopsRepoUrl')} = "${c.gitopsRepoUrl}" is a loopback git daemon, only allowed with ${fq('cloudProvider')} local (an Argo CD on this machine); use an https:// or ssh:// URL for ${c.cloudProvider}`);
    }
    if (c.gitopsRepoUrl !== undefined && c.gitopsRepoUrl.startsWith('git://') && c.gitopsAuth !== undefined && c.gitopsAuth !== 'none') {
        p.push(`${fq('gitopsRepoUrl')} = "${c.gitopsRepoUrl}" is a git daemon (no credentials); ${fq('gitopsAuth')} must be none`);
    }
    if (c.platformRepoUrl !== undefined && c.platformRepoUrl.startsWith('git://') && c.cloudProvider !== undefined && c.cloudProvider !== 'local') {
        p.push(`${fq('platformRepoUrl')} = "${c.platformRepoUrl}" is a loopback git daemon, only allowed with ${fq('cloudProvider')} local (an Argo CD on this machine); use the repository's https:// URL for ${c.cloudProvider}`);
    }
    if (c.helmChartMirror !== undefined && c.helmChartMirror.startsWith('http://') && c.cloudProvider !== undefined && c.cloudProvider !== 'local') {
        p.push(`${fq('helmChartMirror')} = "${c.helmChartMirror}" is a Helm repository on loopback, only allowed with ${fq('cloudProvider')} local (an Argo CD on this machine); use an https:// URL for ${c.cloudProvider}`);
    }
    for (const glob of c.packNamespaces ?? []) {
        const clash = packNamespaceClash(glob);
        if (clash !== undefined) p.push(`${fq('packNamespaces')} entry "${glob}" covers ${clash}; allowed: namespaces (or prefix globs) outside ${[...PLATFORM_NAMESPACE_NAMES, ...RESERVED_NAMESPACES].join(', ')}`);
    }
    if (c.argocdInstallSource === 'manifests' && c.argocdManifestsPath === '') {
        p.push(`${fq('argocdManifestsPath')} is required when ${fq('argocdInstallSource')} is manifests: the path of Argo CD's release install.yaml`);
    }
    if (c.kubernetesOidc === true && c.oidcGroupsPrefix === '') {
        p.push(`${fq('oidcGroupsPrefix')} must not be empty while ${fq('kubernetesOidc')} is true: the prefix keeps a realm group such as "system:masters" from becoming a Kubernetes system group; allowed: e.g. oidc:`);
    }
    const overlap = (c.clusterAdminGroups ?? []).filter((g) => (c.clusterViewerGroups ?? []).includes(g));
    if (overlap.length > 0) p.push(`${fq('clusterViewerGroups')} must not repeat admin groups (${overlap.join(', ')})`);

    if (c.cloudProvider === 'aws') {
        if (c.awsAvailabilityZones !== undefined && c.awsAvailabilityZones.length < 2) p.push(`${fq('awsAvailabilityZones')} needs at least two distinct availability zones with ${fq('cloudProvider')} aws`);
        if (c.awsAvailabilityZones !== undefined && new Set(c.awsAvailabilityZones.map((z) => z.slice(0, -1))).size > 1) p.push(`${fq('awsAvailabilityZones')} must all be in one region`);
        if (c.awsVpcCidr !== undefined) {
            const prefix = Number(c.awsVpcCidr.split('/')[1]);
            if (prefix < 16 || prefix > 24) p.push(`${fq('awsVpcCidr')} = "${c.awsVpcCidr}" must have a prefix between /16 and /24`);
        }
        if (c.awsEndpointPublicAccess === true && c.awsPublicAccessCidrs !== undefined) {
            if (c.awsPublicAccessCidrs.length === 0) p.push(`${fq('awsPublicAccessCidrs')} must list at least one CIDR while ${fq('awsEndpointPublicAccess')} is true`);
            for (const cidr of c.awsPublicAccessCidrs.filter(cidrIsWorld)) p.push(`${fq('awsPublicAccessCidrs')} entry ${cidr} opens the API to the world; allowed: specific CIDRs`);
        }
        if (c.awsClusterAutoscaler === true && c.awsKubernetesVersion !== undefined && c.awsKubernetesVersion !== CLUSTER_AUTOSCALER_KUBERNETES_MINOR) {
            p.push(`${fq('awsClusterAutoscaler')} is true but the pinned cluster-autoscaler ${AWS_ADDON_CHARTS.clusterAutoscaler.appVersion} is built for Kubernetes ${CLUSTER_AUTOSCALER_KUBERNETES_MINOR} and ${fq('awsKubernetesVersion')} is ${c.awsKubernetesVersion}; allowed: ${fq('awsKubernetesVersion')} ${CLUSTER_AUTOSCALER_KUBERNETES_MINOR}, or ${fq('awsClusterAutoscaler')} false`);
        }
        if (c.awsNvidiaDevicePlugin === false && (c.awsNodeGroups ?? []).some((g) => g.gpu === true)) {
            p.push(`${fq('awsNvidiaDevicePlugin')} is false but ${fq('awsNodeGroups')} has a GPU group (gpu: true), whose GPUs pods could not request without the device plugin; allowed: true, or no GPU group`);
        }
        if (c.awsNodeGroups !== undefined) {
            if (c.awsNodeGroups.length === 0) p.push(`${fq('awsNodeGroups')} needs at least one node group with ${fq('cloudProvider')} aws`);
            const names = new Set<string>();
            c.awsNodeGroups.forEach((g, i) => {
                if (names.has(g.name)) p.push(`${fq('awsNodeGroups')}[${i}].name "${g.name}" is used twice`);
                names.add(g.name);
                if (!(g.minSize <= g.desiredSize && g.desiredSize <= g.maxSize)) p.push(`${fq('awsNodeGroups')}[${i}] (${g.name}) needs minSize <= desiredSize <= maxSize, got ${g.minSize} <= ${g.desiredSize} <= ${g.maxSize}`);
            });
        }
    }
    if (c.cloudProvider === 'hetzner') {
        if (c.hetznerAdminCidrs !== undefined) {
            if (c.hetznerAdminCidrs.length === 0) p.push(`${fq('hetznerAdminCidrs')} must list at least one CIDR with ${fq('cloudProvider')} hetzner (include where pulumi up runs)`);
            for (const cidr of c.hetznerAdminCidrs.filter(cidrIsWorld)) p.push(`${fq('hetznerAdminCidrs')} entry ${cidr} opens SSH and the API to the world; allowed: specific CIDRs`);
        }
        if (c.hetznerSshPublicKey === '') p.push(`${fq('hetznerSshPublicKey')} is required with ${fq('cloudProvider')} hetzner`);
        const zoneOf: Record<string, string> = { fsn1: 'eu-central', nbg1: 'eu-central', hel1: 'eu-central', ash: 'us-east', hil: 'us-west', sin: 'ap-southeast' };
        if (c.hetznerLocation !== undefined && c.hetznerNetworkZone !== undefined && zoneOf[c.hetznerLocation] !== c.hetznerNetworkZone) {
            p.push(`${fq('hetznerNetworkZone')} = "${c.hetznerNetworkZone}" does not match ${fq('hetznerLocation')} ${c.hetznerLocation}; allowed: ${zoneOf[c.hetznerLocation]}`);
        }
        const names = new Set<string>();
        (c.hetznerWorkerPools ?? []).forEach((w, i) => {
            if (names.has(w.name)) p.push(`${fq('hetznerWorkerPools')}[${i}].name "${w.name}" is used twice`);
            names.add(w.name);
        });
    }
    if (c.dnsProvider !== undefined && c.dnsProvider !== 'none') {
        if (c.cloudProvider === 'local') p.push(`${fq('dnsProvider')} = "${c.dnsProvider}" is not allowed with ${fq('cloudProvider')} local (the platform uses *.localtest.me, which public DNS already resolves); allowed: none`);
        const pattern = c.dnsProvider === 'route53' ? ROUTE53_ZONE_ID : CLOUDFLARE_ZONE_ID;
        if (c.dnsZoneId !== undefined && !new RegExp(pattern).test(c.dnsZoneId)) {
            p.push(`${fq('dnsZoneId')} = "${c.dnsZoneId}" is not a ${c.dnsProvider === 'route53' ? 'Route 53 hosted zone id (Z followed by upper-case letters and digits)' : 'Cloudflare zone id (32 hex characters)'}; it is required with ${fq('dnsProvider')} ${c.dnsProvider}`);
        }
    }
    if (c.dnsProvider === 'none' && c.dnsZoneId !== undefined && c.dnsZoneId !== '') p.push(`${fq('dnsZoneId')} only applies with ${fq('dnsProvider')} route53 or cloudflare; remove it or choose a provider`);
    if (c.cloudProvider === 'local' && c.localKubeconfigPath === '') {
        p.push(`${fq('localKubeconfigPath')} is required with ${fq('cloudProvider')} local: the kubeconfig file of the existing cluster`);
    }
    if (c.identityUpstream === 'oidc') {
        for (const k of ['identityUpstreamOidcIssuer', 'identityUpstreamOidcAuthorizationUrl', 'identityUpstreamOidcTokenUrl', 'identityUpstreamOidcJwksUrl', 'identityUpstreamOidcClientId'] as const) {
            if (c[k] === '') p.push(`${fq(k)} is required when ${fq('identityUpstream')} is oidc`);
        }
    }
    if ((c.identityUpstreamGroupMappings ?? []).length > 0) {
        if (c.identityUpstream !== 'oidc') {
            p.push(
                `${fq('identityUpstreamGroupMappings')} needs ${fq('identityUpstream')} oidc (now ${JSON.stringify(c.identityUpstream)}): with ldap, Keycloak imports the directory's groups under their own names (cn), ` +
                    'so name them after the realm groups, or sign in through Entra ID / AD FS with identityUpstream oidc and map their groups here',
            );
        }
        const allowed = ['admins', 'developers', 'viewers', ...(c.identityExtraGroups ?? [])];
        (c.identityUpstreamGroupMappings ?? []).forEach((m, i) => {
            if (!allowed.includes(m.group)) p.push(`${fq('identityUpstreamGroupMappings')}[${i}].group "${m.group}" is not a realm group; allowed: ${allowed.join(', ')}`);
        });
    }
    if (c.identityUpstream === 'ldap') {
        for (const k of ['identityUpstreamLdapUrl', 'identityUpstreamLdapBindDn', 'identityUpstreamLdapUsersDn'] as const) {
            if (c[k] === '') p.push(`${fq(k)} is required when ${fq('identityUpstream')} is ldap`);
        }
    }
    if (c.identityEnabled === true && c.tlsIssuer !== undefined && c.tlsIssuer !== 'letsencrypt' && c.keycloakAdminUrl === '') {
        p.push(
            `${fq('keycloakAdminUrl')} is required when ${fq('identityEnabled')} is true and ${fq('tlsIssuer')} is ${c.tlsIssuer}: Keycloak's public certificate is not publicly trusted, ` +
                'so the Pulumi Keycloak provider must use another URL, e.g. http://127.0.0.1:8080 with `kubectl -n keycloak port-forward svc/keycloak-http 8080:80`',
        );
    }
    if (c.otelExporter !== undefined && c.otelExporter !== 'debug' && c.otelEndpoint === '') {
        p.push(`${fq('otelEndpoint')} is required when ${fq('otelExporter')} is ${c.otelExporter}`);
    }
    if (c.otelExporter === 'debug' && c.otelAuth === 'bearer') {
        p.push(`${fq('otelAuth')} = "bearer" needs ${fq('otelExporter')} otlp or otlphttp`);
    }
    return p;
}

function editDistance(a: string, b: string): number {
    const row = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
        let diag = row[0]!;
        row[0] = i;
        for (let j = 1; j <= b.length; j++) {
            const up = row[j]!;
            row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, diag + (a[i - 1]!.toLowerCase() === b[j - 1]!.toLowerCase() ? 0 : 1));
            diag = up;
        }
    }
    return row[b.length]!;
}

/** Pure: keys set in the stack (without the `nkp:` prefix) that the program does not know, with the closest known key. */
export function unknownKeyProblems(presentKeys: readonly string[]): string[] {
    const known = [...Object.keys(CONFIG_KEYS), ...Object.keys(SECRET_KEYS)];
    return presentKeys
        .filter((k) => !known.includes(k))
        .map((k) => {
            const [best] = known.map((c) => [c, editDistance(k, c)] as const).sort((x, y) => x[1] - y[1]);
            const hint = best !== undefined && best[1] <= Math.max(2, Math.floor(k.length / 4)) ? `; did you mean ${fq(best[0])}?` : '';
            return `${fq(k)} is not a setting of this program${hint} (known keys: stacks/config.ts CONFIG_KEYS and SECRET_KEYS)`;
        });
}

/** Pure: which secrets the flat config needs and which of them are missing. */
export function missingSecretProblems(c: FlatConfig, secretPresent: (key: string) => boolean): string[] {
    return (Object.keys(SECRET_KEYS) as SecretKey[])
        .filter((k) => SECRET_KEYS[k].when(c) && !secretPresent(k))
        .map((k) => `${fq(k)} (secret) is required: ${SECRET_KEYS[k].description} Set it with: pulumi config set --secret ${k} <value>`);
}

/** The platform's settings, typed and structured, with no secret in them. */
export interface PlatformSettings {
    environment: string;
    tags: { environment: string; owner: string; costCentre: string };
    domain: string;
    hostnames: { argocd: string; keycloak: string; landing: string };
    cloud:
        | { provider: 'aws'; aws: AwsCloudArgs; addons: { clusterAutoscaler: boolean; nvidiaDevicePlugin: boolean } }
        | { provider: 'hetzner'; hetzner: Omit<HetznerCloudArgs, 'sshPrivateKey' | 'hcloudToken'> }
        | { provider: 'local'; local: LocalClusterArgs };
    tls: { issuer: 'letsencrypt' | 'letsencrypt-staging' | 'selfsigned-ca'; acmeEmail: string };
    /** Where the platform's DNS records are kept. */
    dns: DnsSettings;
    clusterAccess: { oidcGroupsPrefix: string; adminGroups: string[]; viewerGroups: string[] };
    /**
     * Kubernetes API sign-in through the realm (nkp:kubernetesOidc): what the API servers accept (components/cloud/kube-oidc.ts,
     * the one source for the K3s flags, the EKS identity provider config and the kubeconfig); absent when off.
     */
    kubernetesApi: { oidc?: Required<ApiServerOidc> };
    packs: { namespaces: string[]; sourceRepos: string[] };
    gitops: { repoURL: string; revision: string; path: string; auth: 'none' | 'https' | 'ssh'; username: string };
    platformRepo: { repoURL: string; revision: string };
    /** The foundation charts' mirror (nkp:helmChartMirror); absent: each chart's own repository. */
    chartMirror?: string;
    argocd: { ha: boolean; install: { source: 'chart' } | { source: 'manifests'; manifestsPath: string } };
    keycloak: { replicas: number; databaseInstances: number; databaseStorage: string; adminUrl: string; issuerURL: string };
    identity: {
        enabled: boolean;
        realm: string;
        groups: { admins: 'admins'; developers: 'developers'; viewers: 'viewers'; extra: string[] };
        mfaRequired: boolean;
        upstream:
            | { type: 'none' }
            | { type: 'oidc'; issuer: string; authorizationUrl: string; tokenUrl: string; jwksUrl: string; clientId: string; groupsClaim: string; groupMappings: { upstream: string; group: string }[] }
            | { type: 'ldap'; url: string; vendor: 'ad' | 'other'; bindDn: string; usersDn: string; groupsDn: string };
    };
    telemetry: { exporter: 'debug' | 'otlp' | 'otlphttp'; endpoint: string; auth: 'none' | 'bearer' };
    images: { operator: string; landing: string };
    /** Secrets this configuration needs (the program reads exactly these). */
    requiredSecrets: SecretKey[];
}

/** Pure: turn valid flat values into structured settings. */
export function toSettings(c: FlatConfig): PlatformSettings {
    const tags = { environment: c.environment, owner: c.owner, costCentre: c.costCentre };
    const clusterName = `nkp-${c.environment}`;
    const keycloakHost = `keycloak.${c.domain}`;
    const issuerURL = `https://${keycloakHost}/realms/${c.identityRealm}`;
    const apiOidc = c.kubernetesOidc ? platformApiServerOidc({ issuerUrl: issuerURL, clientId: c.kubernetesOidcClientId, groupsPrefix: c.oidcGroupsPrefix }) : undefined;
    let cloud: PlatformSettings['cloud'];
    switch (c.cloudProvider) {
        case 'aws':
            cloud = {
                provider: 'aws',
                aws: {
                    clusterName,
                    tags,
                    availabilityZones: [...c.awsAvailabilityZones],
                    vpcCidr: c.awsVpcCidr,
                    natGateways: c.awsNatGateways as 'perAz' | 'single',
                    kubernetesVersion: c.awsKubernetesVersion,
                    endpointPublicAccess: c.awsEndpointPublicAccess,
                    publicAccessCidrs: [...c.awsPublicAccessCidrs],
                    adminPrincipalArns: [...c.awsAdminPrincipalArns],
                    nodeGroups: c.awsNodeGroups.map((g) => ({ ...g }) as AwsNodeGroupArgs),
                    efs: { enabled: c.awsEfsEnabled },
                    protect: c.protectStatefulResources,
                    ...(c.dnsProvider === 'route53' ? { externalDnsRoute53ZoneId: c.dnsZoneId } : {}),
                    // EKS reads the issuer's discovery document when it associates the config: Keycloak exists once
                    // identity has converged (the second `pulumi up`).
                    ...(apiOidc !== undefined && c.identityEnabled ? { apiServerOidc: apiOidc } : {}),
                },
                addons: { clusterAutoscaler: c.awsClusterAutoscaler, nvidiaDevicePlugin: c.awsNvidiaDevicePlugin },
            };
            break;
        case 'hetzner':
            cloud = {
                provider: 'hetzner',
                hetzner: {
                    clusterName,
                    tags,
                    location: c.hetznerLocation,
                    networkZone: c.hetznerNetworkZone,
                    networkCidr: c.hetznerNetworkCidr,
                    k3sVersion: c.hetznerK3sVersion,
                    controlPlane: { count: c.hetznerControlPlaneCount as 1 | 3, serverType: c.hetznerControlPlaneServerType },
                    workerPools: c.hetznerWorkerPools.map((w) => ({ ...w }) as HetznerWorkerPoolArgs),
                    adminCidrs: [...c.hetznerAdminCidrs],
                    sshPublicKey: c.hetznerSshPublicKey,
                    loadBalancerType: c.hetznerLoadBalancerType,
                    protect: c.protectStatefulResources,
                    // In the K3s config from the first boot (servers ignore later user-data changes); until Keycloak
                    // answers, kube-apiserver keeps retrying the issuer and every other authenticator works.
                    ...(apiOidc !== undefined ? { apiServerOidc: apiOidc } : {}),
                },
            };
            break;
        default:
            cloud = {
                provider: 'local',
                local: {
                    kubeconfigPath: c.localKubeconfigPath,
                    ...(c.localContext !== '' ? { context: c.localContext } : {}),
                    flavour: c.localFlavour as LocalClusterArgs['flavour'],
                    clusterName,
                },
            };
    }
    let upstream: PlatformSettings['identity']['upstream'] = { type: 'none' };
    if (c.identityUpstream === 'oidc') {
        upstream = {
            type: 'oidc',
            issuer: c.identityUpstreamOidcIssuer,
            authorizationUrl: c.identityUpstreamOidcAuthorizationUrl,
            tokenUrl: c.identityUpstreamOidcTokenUrl,
            jwksUrl: c.identityUpstreamOidcJwksUrl,
            clientId: c.identityUpstreamOidcClientId,
            groupsClaim: c.identityUpstreamOidcGroupsClaim,
            groupMappings: c.identityUpstreamGroupMappings.map((m) => ({ ...m })),
        };
    } else if (c.identityUpstream === 'ldap') {
        upstream = {
            type: 'ldap',
            url: c.identityUpstreamLdapUrl,
            vendor: c.identityUpstreamLdapVendor as 'ad' | 'other',
            bindDn: c.identityUpstreamLdapBindDn,
            usersDn: c.identityUpstreamLdapUsersDn,
            groupsDn: c.identityUpstreamLdapGroupsDn,
        };
    }
    return {
        environment: c.environment,
        tags,
        domain: c.domain,
        hostnames: { argocd: `argocd.${c.domain}`, keycloak: keycloakHost, landing: c.domain },
        cloud,
        tls: { issuer: c.tlsIssuer as PlatformSettings['tls']['issuer'], acmeEmail: c.acmeEmail },
        dns: { provider: c.dnsProvider as DnsSettings['provider'], zoneId: c.dnsZoneId },
        clusterAccess: { oidcGroupsPrefix: c.oidcGroupsPrefix, adminGroups: [...c.clusterAdminGroups], viewerGroups: [...c.clusterViewerGroups] },
        kubernetesApi: apiOidc !== undefined ? { oidc: apiOidc } : {},
        packs: { namespaces: [...c.packNamespaces], sourceRepos: [...c.packSourceRepos] },
        gitops: { repoURL: c.gitopsRepoUrl, revision: c.gitopsRevision, path: c.gitopsPath, auth: c.gitopsAuth as 'none' | 'https' | 'ssh', username: c.gitopsUsername },
        platformRepo: { repoURL: c.platformRepoUrl, revision: c.platformRevision },
        ...(c.helmChartMirror !== '' ? { chartMirror: c.helmChartMirror.replace(/\/+$/, '') } : {}),
        argocd: {
            ha: c.argocdHa,
            install: c.argocdInstallSource === 'manifests' ? { source: 'manifests', manifestsPath: c.argocdManifestsPath } : { source: 'chart' },
        },
        keycloak: {
            replicas: c.keycloakReplicas,
            databaseInstances: c.keycloakDatabaseInstances,
            databaseStorage: c.keycloakDatabaseStorage,
            adminUrl: c.keycloakAdminUrl !== '' ? c.keycloakAdminUrl : `https://${keycloakHost}`,
            issuerURL,
        },
        identity: {
            enabled: c.identityEnabled,
            realm: c.identityRealm,
            groups: { admins: 'admins', developers: 'developers', viewers: 'viewers', extra: [...c.identityExtraGroups] },
            mfaRequired: c.identityMfaRequired,
            upstream,
        },
        telemetry: { exporter: c.otelExporter as 'debug' | 'otlp' | 'otlphttp', endpoint: c.otelEndpoint, auth: c.otelAuth as 'none' | 'bearer' },
        images: { operator: c.operatorImage, landing: c.landingImage },
        requiredSecrets: (Object.keys(SECRET_KEYS) as SecretKey[]).filter((k) => SECRET_KEYS[k].when(c)),
    };
}

/**
 * Pure entry point: validate everything and return the settings, or throw one ConfigValidationError listing every
 * problem. `read` returns the raw string Pulumi stores for `nkp:<key>` (undefined when unset); `secretPresent`
 * says whether a secret key is set (its value is never needed here); `presentKeys` lists the `nkp:` keys the stack
 * sets (without the prefix), so a misspelt key is reported instead of silently ignored.
 */
export function validateConfig(read: (key: string) => string | undefined, secretPresent: (key: string) => boolean, presentKeys: readonly string[] = []): PlatformSettings {
    const { values, problems } = parseFlatConfig(read);
    problems.push(...unknownKeyProblems(presentKeys));
    problems.push(...crossKeyProblems(values));
    if (problems.length === 0) problems.push(...missingSecretProblems(values as FlatConfig, secretPresent));
    if (problems.length > 0) throw new ConfigValidationError(problems);
    const settings = toSettings(values as FlatConfig);
    const cloudProblem = cloudArgsProblem(settings);
    if (cloudProblem !== undefined) throw new ConfigValidationError([cloudProblem]);
    return settings;
}

/**
 * Pure: run the cloud component's own argument validation now, so its rules also fail before any resource is
 * registered; the message names the config key the field comes from. (The local cluster's kubeconfig file is
 * checked by LocalCluster itself, before it registers anything.)
 */
export function cloudArgsProblem(s: PlatformSettings): string | undefined {
    try {
        if (s.cloud.provider === 'aws') validateAwsCloudArgs(s.cloud.aws);
        if (s.cloud.provider === 'hetzner') validateHetznerCloudArgs({ ...s.cloud.hetzner, sshPrivateKey: 'validated-later', hcloudToken: 'validated-later' });
        return undefined;
    } catch (e) {
        if (!(e instanceof CloudArgsError)) throw e;
        const prefix = s.cloud.provider;
        const field = e.field.split(/[.[]/)[0]!;
        const tag = e.field.startsWith('tags.') ? e.field.slice('tags.'.length) : undefined;
        const key = tag !== undefined ? tag : `${prefix}${field.charAt(0).toUpperCase()}${field.slice(1)}`;
        return `${key in CONFIG_KEYS ? fq(key) : `${fq('cloudProvider')} ${prefix}`}: ${e.message}`;
    }
}

/** Keys whose values are lists of objects: Pulumi's project schema cannot type them, so Pulumi.yaml leaves them out. */
export const UNDECLARED_KEYS: readonly ConfigKey[] = (Object.keys(CONFIG_KEYS) as ConfigKey[]).filter((k) => {
    const s = CONFIG_KEYS[k].schema as { type?: string; items?: { type?: string } };
    return s.type === 'array' && s.items?.type === 'object';
});

/** Pure: the project-level `config:` block of Pulumi.yaml derived from CONFIG_KEYS (type, description, default). */
export function projectConfigBlock(): Record<string, Record<string, unknown>> {
    const block: Record<string, Record<string, unknown>> = {};
    for (const key of Object.keys(CONFIG_KEYS) as ConfigKey[]) {
        if (UNDECLARED_KEYS.includes(key)) continue;
        const def: KeyDef = CONFIG_KEYS[key];
        const s = def.schema as { type?: string; items?: { type?: string }; description?: string };
        const entry: Record<string, unknown> = { type: s.type, description: s.description };
        if (s.type === 'array') entry.items = { type: s.items?.type ?? 'string' };
        if ('default' in def) entry.default = def.default;
        block[key] = entry;
    }
    return block;
}
