/**
 * Pure helpers of the foundation: the pinned charts, the sync waves, and the ArgoCD Application body of every
 * foundation piece (cert-manager, Envoy Gateway, CloudNativePG, the gateway configuration, Keycloak's database,
 * Keycloak, the OpenTelemetry Collector, the operator, the landing page).
 */
import { stringify } from 'yaml';
import { NS } from '../cluster/namespaces.js';
import { FOUNDATION_LAYER, PROJECT_FOUNDATION, assertPinnedRevision, platformApplication, type ApplicationBody, type ApplicationSource } from '../argocd/spec.js';
import { GATEWAY_NODE_PORTS } from '../cloud/hetzner-plan.js';
import { platformDnsNames } from '../cloud/dns-plan.js';

export interface ChartPin {
    /** Helm repository URL (https) or OCI registry host/path (no scheme, with enableOCI). */
    repoURL: string;
    chart: string;
    version: string;
    /**
     * The application version the chart ships, where its CRDs matter to the platform (the API versions and schemas
     * the manifests and the operator are written against). The test harness installs the CRDs of these versions
     * (test/harness/versions.json) and test/unit/foundation/pins-match-harness.test.ts keeps both in step.
     */
    appVersion?: string;
}

/**
 * Every Helm chart the foundation installs, pinned to an exact version.
 * Envoy Gateway v1.9.1 bundles Gateway API v1.6.1, where ListenerSet is standard (gateway.networking.k8s.io/v1)
 * and Gateways have spec.allowedListeners: the per-app HTTPS design of the operator needs both.
 */
export const CHARTS = {
    certManager: { repoURL: 'https://charts.jetstack.io', chart: 'cert-manager', version: 'v1.21.2', appVersion: 'v1.21.2' },
    envoyGateway: { repoURL: 'docker.io/envoyproxy', chart: 'gateway-helm', version: 'v1.9.1', appVersion: 'v1.9.1' },
    cloudnativePg: { repoURL: 'https://cloudnative-pg.github.io/charts', chart: 'cloudnative-pg', version: '0.27.0', appVersion: 'v1.28.0' },
    keycloak: { repoURL: 'https://codecentric.github.io/helm-charts', chart: 'keycloakx', version: '7.1.7' },
    otelCollector: { repoURL: 'https://open-telemetry.github.io/opentelemetry-helm-charts', chart: 'opentelemetry-collector', version: '0.127.2' },
} as const satisfies Record<string, ChartPin>;

/**
 * The Gateway API CRD bundle the Envoy Gateway chart above installs (its crds subchart ships the experimental
 * channel of this Gateway API release): the API the gateway manifests and the operator's ListenerSets use.
 */
export const GATEWAY_API_BUNDLE = { version: 'v1.6.1', channel: 'experimental' } as const;

/** Images the foundation pins explicitly (the rest come pinned with their chart version). */
export const IMAGES = {
    keycloak: { repository: 'quay.io/keycloak/keycloak', tag: '26.7.3' },
    postgres: 'ghcr.io/cloudnative-pg/postgresql:17.5',
    otelCollector: { repository: 'otel/opentelemetry-collector-k8s', tag: '0.129.1' },
} as const;

/** The OCI Helm registry of Envoy Gateway, declared to ArgoCD as a helm repository with enableOCI. */
export const ENVOY_OCI_REPO = { name: 'envoyproxy', url: CHARTS.envoyGateway.repoURL, secretName: 'helm-oci-envoyproxy' } as const;

/** Paths in this repository that ArgoCD reads. */
export const REPO_PATHS = {
    /** The chart of the parent Application `foundation`: it renders the child Applications it is given. */
    parent: 'components/foundation/chart',
    gateway: 'components/foundation/manifests/gateway',
    keycloakDatabase: 'components/foundation/manifests/keycloak-database',
    operator: 'operator/manifests',
    landing: 'packs/landing/manifests',
} as const;

/** Image names used in operator/manifests and packs/landing/manifests that kustomize replaces with the configured images. */
export const IMAGE_PLACEHOLDERS = { operator: 'nkp-operator', landing: 'nkp-landing' } as const;

/**
 * ArgoCD sync waves (annotation argocd.argoproj.io/sync-wave): lower syncs first, each wave once the earlier ones are
 * Healthy. Keycloak comes before the gateway configuration: its HTTPRoute names Keycloak's Service as backend, and
 * until that Service exists Envoy Gateway reports the route ResolvedRefs=False (BackendNotFound), which Argo CD judges
 * Degraded, so a gateway configuration ahead of Keycloak would hold the foundation at its wave for ever (found by
 * running the real controllers under the real Argo CD: test/integration/argocd/foundation.test.ts).
 */
export const SYNC_WAVES = {
    'cert-manager': 10,
    'envoy-gateway': 20,
    'cloudnative-pg': 20,
    'keycloak-database': 30,
    keycloak: 35,
    'gateway-config': 40,
    'otel-collector': 45,
    'nkp-operator': 50,
    'nkp-landing': 60,
} as const;

export type FoundationAppName = keyof typeof SYNC_WAVES;

/**
 * The parent Application (app-of-apps) that Pulumi creates: Argo CD renders the child Applications from the chart
 * at {@link REPO_PATHS}.parent and syncs them wave by wave, a wave only once the earlier waves' Applications are
 * Synced and Healthy (argocd-cm's health check of Applications, components/argocd/spec.ts). Pulumi owns the parent,
 * Argo CD the children, so the waves order the foundation for real.
 */
export const FOUNDATION_PARENT = { name: 'foundation', releaseName: 'nkp-foundation' } as const;
export const FOUNDATION_APP_NAMES = Object.keys(SYNC_WAVES) as FoundationAppName[];

/**
 * The local CA (tlsIssuer selfsigned-ca): the ClusterIssuer in manifests/gateway, the Secret the program writes its
 * key pair into (cert-manager reads ClusterIssuer Secrets from its own namespace), and the ConfigMap with the CA
 * certificate in the namespaces whose Node.js workloads call the issuer (mounted, NODE_EXTRA_CA_CERTS).
 */
export const LOCAL_CA = {
    issuer: 'selfsigned-ca',
    secret: { name: 'nkp-ca', namespace: NS.certManager },
    configMap: { name: 'nkp-local-ca', key: 'ca.crt', namespaces: [NS.operator, NS.landing] as string[] },
    mountPath: '/etc/nkp/local-ca',
    volume: 'nkp-local-ca',
} as const;

/**
 * Strategic-merge fragment of a pod template that makes Node.js trust the local CA: the CA ConfigMap mounted
 * read-only and NODE_EXTRA_CA_CERTS pointing at it. Only with tlsIssuer selfsigned-ca; elsewhere the public trust
 * store suffices and nothing is added.
 */
export function localCaTrust(i: FoundationInput, container: string): { container: Record<string, unknown>; volumes: Record<string, unknown>[] } | undefined {
    if (i.tls.issuer !== LOCAL_CA.issuer) return undefined;
    return {
        container: {
            name: container,
            env: [{ name: 'NODE_EXTRA_CA_CERTS', value: `${LOCAL_CA.mountPath}/${LOCAL_CA.configMap.key}` }],
            volumeMounts: [{ name: LOCAL_CA.volume, mountPath: LOCAL_CA.mountPath, readOnly: true }],
        },
        // optional: the program creates the ConfigMap in the same `pulumi up`, but a pod never waits for it.
        volumes: [{ name: LOCAL_CA.volume, configMap: { name: LOCAL_CA.configMap.name, optional: true, items: [{ key: LOCAL_CA.configMap.key, path: LOCAL_CA.configMap.key }] } }],
    };
}

/** A Deployment strategic-merge patch: one container's env (merged by name) plus the local CA trust where it applies. */
function deploymentPatch(i: FoundationInput, deployment: string, container: string, env: { name: string; value: string }[]): string {
    const trust = localCaTrust(i, container);
    const c: Record<string, unknown> = { name: container, env: [...env, ...((trust?.container.env as { name: string; value: string }[] | undefined) ?? [])] };
    if (trust) c.volumeMounts = trust.container.volumeMounts;
    return stringify({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: deployment },
        spec: { template: { spec: { containers: [c], ...(trust ? { volumes: trust.volumes } : {}) } } },
    });
}

/** Annotations of the public gateway's Service on AWS: an internet-facing NLB from the AWS Load Balancer Controller. */
export const AWS_GATEWAY_SERVICE_ANNOTATIONS = {
    'service.beta.kubernetes.io/aws-load-balancer-type': 'external',
    'service.beta.kubernetes.io/aws-load-balancer-nlb-target-type': 'ip',
    'service.beta.kubernetes.io/aws-load-balancer-scheme': 'internet-facing',
} as const;

/** The annotation ExternalDNS reads the names of a Service from. */
export const EXTERNAL_DNS_HOSTNAME_ANNOTATION = 'external-dns.alpha.kubernetes.io/hostname';

export const KEYCLOAK_ADMIN_SECRET = 'keycloak-admin';
export const KEYCLOAK_ADMIN_USER = 'admin';
export const KEYCLOAK_DB_CLUSTER = 'keycloak-db';
export const OTEL_TOKEN_SECRET = 'otel-exporter';

export interface FoundationInput {
    provider: 'aws' | 'hetzner' | 'local';
    clusterName: string;
    hostnames: { argocd: string; keycloak: string; landing: string };
    platformRepo: { repoURL: string; revision: string };
    tls: { issuer: 'letsencrypt' | 'letsencrypt-staging' | 'selfsigned-ca'; acmeEmail: string };
    keycloak: { replicas: number; databaseInstances: number; databaseStorage: string; storageClass?: string };
    telemetry: { exporter: 'debug' | 'otlp' | 'otlphttp'; endpoint: string; auth: 'none' | 'bearer' };
    images: { operator: string; landing: string };
    /** The realm's public issuer (the one URL browsers and the gateway accept) and the realm name. */
    oidc: { issuerURL: string; realm: string };
    /**
     * A Helm repository that mirrors every foundation chart at its pinned version (air-gapped clusters: Harbor,
     * Artifactory, Nexus...): the chart-sourced Applications read it instead of each chart's own repository.
     */
    chartMirror?: string;
}

export type { ApplicationBody, ApplicationSource };
export { assertPinnedRevision };

function application(name: FoundationAppName, namespace: string, source: ApplicationSource, extra: Partial<ApplicationBody['spec']> = {}): ApplicationBody {
    return platformApplication({
        name,
        layer: FOUNDATION_LAYER,
        project: PROJECT_FOUNDATION,
        annotations: { 'argocd.argoproj.io/sync-wave': String(SYNC_WAVES[name]) },
        source,
        namespace,
        extra,
    });
}

const helmSource = (pin: ChartPin, valuesObject: Record<string, unknown>, releaseName: string, mirror: string | undefined): ApplicationSource => ({
    repoURL: mirror ?? pin.repoURL,
    chart: pin.chart,
    targetRevision: pin.version,
    helm: { releaseName, valuesObject },
});

const res = (cpu: string, memory: string, cpuLimit: string, memoryLimit: string) => ({ requests: { cpu, memory }, limits: { cpu: cpuLimit, memory: memoryLimit } });
const restrictedContainer = { runAsNonRoot: true, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] }, seccompProfile: { type: 'RuntimeDefault' } };

export function certManagerValues(): Record<string, unknown> {
    return {
        crds: { enabled: true, keep: true },
        global: { leaderElection: { namespace: NS.certManager } },
        // Gateway API support: HTTP-01 challenges are served through the Gateway (gatewayHTTPRoute solver), and
        // gateway-shim issues the certificates of the Gateways' own HTTPS listeners. cert-manager's ListenerSet
        // controller stays off: the operator writes each app's Certificate for its ListenerSet itself.
        config: { apiVersion: 'controller.config.cert-manager.io/v1alpha1', kind: 'ControllerConfiguration', gatewayAPI: { enabled: true } },
        resources: res('20m', '64Mi', '500m', '256Mi'),
        webhook: { resources: res('10m', '32Mi', '200m', '128Mi') },
        cainjector: { resources: res('10m', '64Mi', '200m', '256Mi') },
        startupapicheck: { resources: res('10m', '32Mi', '100m', '64Mi') },
        prometheus: { enabled: true },
    };
}

export function envoyGatewayValues(): Record<string, unknown> {
    return {
        deployment: { envoyGateway: { resources: res('50m', '128Mi', '500m', '512Mi') } },
        config: { envoyGateway: { logging: { level: { default: 'info' } } } },
    };
}

export function cloudnativePgValues(): Record<string, unknown> {
    return {
        crds: { create: true },
        resources: res('50m', '128Mi', '500m', '512Mi'),
        monitoring: { podMonitorEnabled: false },
    };
}

/** JSON6902 patch text (JSON is valid YAML) for an ArgoCD kustomize patch. */
const jsonPatch = (ops: object[]) => JSON.stringify(ops);

/** kustomize patches that turn the static gateway manifests into this stack's gateway configuration. */
export function gatewayPatches(i: FoundationInput): NonNullable<ApplicationSource['kustomize']>['patches'] {
    const patches: { target: Record<string, string>; patch: string }[] = [
        {
            target: { group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'public' },
            patch: jsonPatch([
                { op: 'replace', path: '/metadata/annotations/cert-manager.io~1cluster-issuer', value: i.tls.issuer },
                { op: 'replace', path: '/spec/listeners/1/hostname', value: i.hostnames.argocd },
                { op: 'replace', path: '/spec/listeners/2/hostname', value: i.hostnames.keycloak },
            ]),
        },
        { target: { group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', name: 'argocd' }, patch: jsonPatch([{ op: 'replace', path: '/spec/hostnames/0', value: i.hostnames.argocd }]) },
        { target: { group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', name: 'keycloak' }, patch: jsonPatch([{ op: 'replace', path: '/spec/hostnames/0', value: i.hostnames.keycloak }]) },
    ];
    for (const issuer of ['letsencrypt', 'letsencrypt-staging']) {
        patches.push(
            i.tls.issuer === 'selfsigned-ca'
                ? // No ACME account for local clusters: the Let's Encrypt issuers are removed.
                  { target: { group: 'cert-manager.io', kind: 'ClusterIssuer', name: issuer }, patch: stringify({ $patch: 'delete', apiVersion: 'cert-manager.io/v1', kind: 'ClusterIssuer', metadata: { name: issuer } }) }
                : { target: { group: 'cert-manager.io', kind: 'ClusterIssuer', name: issuer }, patch: jsonPatch([{ op: 'replace', path: '/spec/acme/email', value: i.tls.acmeEmail }]) },
        );
    }
    if (i.tls.issuer !== 'selfsigned-ca') {
        // The local CA exists only where the program generates it (tlsIssuer selfsigned-ca): no CA issuer elsewhere.
        patches.push({
            target: { group: 'cert-manager.io', kind: 'ClusterIssuer', name: LOCAL_CA.issuer },
            patch: stringify({ $patch: 'delete', apiVersion: 'cert-manager.io/v1', kind: 'ClusterIssuer', metadata: { name: LOCAL_CA.issuer } }),
        });
    }
    if (i.provider === 'hetzner') {
        // The Hetzner load balancer (made by the cloud layer) forwards 80/443 to fixed NodePorts on the private network.
        patches.push({
            target: { group: 'gateway.envoyproxy.io', kind: 'EnvoyProxy', name: 'nkp-public' },
            patch: jsonPatch([
                { op: 'replace', path: '/spec/provider/kubernetes/envoyService/type', value: 'NodePort' },
                { op: 'replace', path: '/spec/provider/kubernetes/envoyService/externalTrafficPolicy', value: 'Cluster' },
                {
                    op: 'add',
                    path: '/spec/provider/kubernetes/envoyService/patch',
                    value: { type: 'StrategicMerge', value: { spec: { ports: [{ port: 80, nodePort: GATEWAY_NODE_PORTS.http }, { port: 443, nodePort: GATEWAY_NODE_PORTS.https }] } } },
                },
            ]),
        });
    }
    if (i.provider === 'aws') {
        patches.push({
            target: { group: 'gateway.envoyproxy.io', kind: 'EnvoyProxy', name: 'nkp-public' },
            // An internet-facing NLB (IP targets) from the AWS Load Balancer Controller (components/cloud/aws-addons.ts),
            // whose Service finalizer lets destroy wait until the NLB is gone.
            // ExternalDNS (when nkp:dnsProvider is set) keeps the platform's records for the names in the hostname annotation.
            patch: jsonPatch([{ op: 'add', path: '/spec/provider/kubernetes/envoyService/annotations', value: { ...AWS_GATEWAY_SERVICE_ANNOTATIONS, [EXTERNAL_DNS_HOSTNAME_ANNOTATION]: platformDnsNames(i.hostnames).join(',') } }]),
        });
    }
    return patches;
}

export function keycloakDatabasePatches(i: FoundationInput): NonNullable<ApplicationSource['kustomize']>['patches'] {
    const ops: object[] = [
        { op: 'replace', path: '/spec/instances', value: i.keycloak.databaseInstances },
        { op: 'replace', path: '/spec/storage/size', value: i.keycloak.databaseStorage },
        { op: 'replace', path: '/spec/imageName', value: IMAGES.postgres },
    ];
    if (i.keycloak.storageClass !== undefined) ops.push({ op: 'add', path: '/spec/storage/storageClass', value: i.keycloak.storageClass });
    return [{ target: { group: 'postgresql.cnpg.io', kind: 'Cluster', name: KEYCLOAK_DB_CLUSTER }, patch: jsonPatch(ops) }];
}

export function keycloakValues(i: FoundationInput): Record<string, unknown> {
    // Proxy headers, HTTP, health and metrics are switched on through the chart's own values (proxy, health, metrics);
    // clustering (cache stack + JGroups DNS discovery through the headless Service) is configured by the chart too.
    const extraEnv = [
        { name: 'KC_HOSTNAME', value: `https://${i.hostnames.keycloak}` },
        { name: 'KC_BOOTSTRAP_ADMIN_USERNAME', valueFrom: { secretKeyRef: { name: KEYCLOAK_ADMIN_SECRET, key: 'username' } } },
        { name: 'KC_BOOTSTRAP_ADMIN_PASSWORD', valueFrom: { secretKeyRef: { name: KEYCLOAK_ADMIN_SECRET, key: 'password' } } },
    ];
    return {
        fullnameOverride: 'keycloak',
        replicas: i.keycloak.replicas,
        image: { repository: IMAGES.keycloak.repository, tag: IMAGES.keycloak.tag },
        command: ['/opt/keycloak/bin/kc.sh', 'start', '--http-port=8080'],
        http: { relativePath: '/' },
        // Envoy Gateway sends X-Forwarded-* headers.
        proxy: { enabled: true, mode: 'xforwarded', http: { enabled: true } },
        health: { enabled: true },
        metrics: { enabled: true },
        // keycloakx renders extraEnv as a template string.
        extraEnv: stringify(extraEnv),
        database: {
            vendor: 'postgres',
            hostname: `${KEYCLOAK_DB_CLUSTER}-rw`,
            port: 5432,
            database: 'keycloak',
            username: 'keycloak',
            // Created by CloudNativePG for the bootstrap owner.
            existingSecret: `${KEYCLOAK_DB_CLUSTER}-app`,
            existingSecretKey: 'password',
        },
        dbchecker: { enabled: true, securityContext: restrictedContainer, resources: res('10m', '16Mi', '50m', '32Mi') },
        resources: res('250m', '768Mi', '2', '1536Mi'),
        podSecurityContext: { fsGroup: 1000, runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
        securityContext: { ...restrictedContainer, readOnlyRootFilesystem: false, runAsUser: 1000 },
        serviceMonitor: { enabled: false },
        ...(i.keycloak.replicas > 1 ? { podDisruptionBudget: { minAvailable: 1 } } : {}),
    };
}

export function otelCollectorValues(i: FoundationInput): Record<string, unknown> {
    const exporterName = i.telemetry.exporter;
    const headers = i.telemetry.auth === 'bearer' ? { authorization: 'Bearer ${env:OTEL_EXPORTER_TOKEN}' } : undefined;
    const exporter =
        exporterName === 'debug'
            ? { verbosity: 'basic' }
            : { endpoint: i.telemetry.endpoint, ...(headers ? { headers } : {}), compression: 'gzip', retry_on_failure: { enabled: true }, sending_queue: { enabled: true } };
    // The presets add their receivers (filelog, kubeletstats) and the k8sattributes processor to these pipelines.
    const pipeline = (receivers: string[]) => ({ receivers, processors: ['memory_limiter', 'batch'], exporters: [exporterName] });
    return {
        mode: 'daemonset',
        image: { repository: IMAGES.otelCollector.repository, tag: IMAGES.otelCollector.tag },
        command: { name: 'otelcol-k8s' },
        presets: {
            logsCollection: { enabled: true, includeCollectorLogs: false },
            kubernetesAttributes: { enabled: true },
            kubeletMetrics: { enabled: true },
        },
        resources: res('100m', '256Mi', '1', '512Mi'),
        securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, seccompProfile: { type: 'RuntimeDefault' } },
        extraEnvs: [
            { name: 'K8S_NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
            ...(i.telemetry.auth === 'bearer' ? [{ name: 'OTEL_EXPORTER_TOKEN', valueFrom: { secretKeyRef: { name: OTEL_TOKEN_SECRET, key: 'token' } } }] : []),
        ],
        clusterRole: { create: true, rules: [{ apiGroups: [''], resources: ['pods', 'endpoints', 'services'], verbs: ['get', 'list', 'watch'] }] },
        config: {
            receivers: {
                otlp: { protocols: { grpc: { endpoint: '${env:MY_POD_IP}:4317' }, http: { endpoint: '${env:MY_POD_IP}:4318' } } },
                // Metrics scraping: pods on this node annotated prometheus.io/scrape=true.
                prometheus: {
                    config: {
                        scrape_configs: [
                            {
                                job_name: 'annotated-pods',
                                scrape_interval: '30s',
                                kubernetes_sd_configs: [{ role: 'pod', selectors: [{ role: 'pod', field: 'spec.nodeName=${env:K8S_NODE_NAME}' }] }],
                                relabel_configs: [
                                    { source_labels: ['__meta_kubernetes_pod_annotation_prometheus_io_scrape'], action: 'keep', regex: 'true' },
                                    { source_labels: ['__address__', '__meta_kubernetes_pod_annotation_prometheus_io_port'], action: 'replace', regex: '([^:]+)(?::\\d+)?;(\\d+)', replacement: '$$1:$$2', target_label: '__address__' },
                                    { source_labels: ['__meta_kubernetes_pod_annotation_prometheus_io_path'], action: 'replace', regex: '(.+)', target_label: '__metrics_path__' },
                                ],
                            },
                        ],
                    },
                },
            },
            processors: { batch: {}, memory_limiter: { check_interval: '5s', limit_percentage: 80, spike_limit_percentage: 25 } },
            exporters: { [exporterName]: exporter },
            service: {
                pipelines: {
                    logs: pipeline(['otlp']),
                    metrics: pipeline(['otlp', 'prometheus']),
                    traces: pipeline(['otlp']),
                },
            },
        },
    };
}

/** Name and container of the operator's Deployment in operator/manifests. */
export const OPERATOR_DEPLOYMENT = { name: 'nebari-operator', container: 'operator' } as const;

/**
 * Keycloak's HTTP Service inside the cluster (keycloakx names it `<fullnameOverride>-http`, port 80 -> 8080): the
 * operator's Keycloak admin API address. Admin calls never leave the cluster; browsers and the gateway use the issuer URL.
 */
export const KEYCLOAK_IN_CLUSTER_URL = `http://keycloak-http.${NS.keycloak}.svc`;

/**
 * Strategic-merge patch of the operator Deployment (env merges by name): this stack's issuer URL and
 * ClusterIssuer, and Keycloak client provisioning: the admin API in-cluster (KEYCLOAK_URL), the realm of the apps'
 * clients (KEYCLOAK_REALM) and the realm of the operator's own service-account client `nkp-operator`
 * (KEYCLOAK_ADMIN_REALM: the same realm; the Identity component creates the client and the Secret keycloak-admin).
 */
export function operatorPatches(i: FoundationInput): NonNullable<ApplicationSource['kustomize']>['patches'] {
    return [
        {
            target: { group: 'apps', kind: 'Deployment', name: OPERATOR_DEPLOYMENT.name },
            patch: deploymentPatch(i, OPERATOR_DEPLOYMENT.name, OPERATOR_DEPLOYMENT.container, [
                { name: 'OIDC_ISSUER_URL', value: i.oidc.issuerURL },
                { name: 'KEYCLOAK_URL', value: KEYCLOAK_IN_CLUSTER_URL },
                { name: 'KEYCLOAK_REALM', value: i.oidc.realm },
                { name: 'KEYCLOAK_ADMIN_REALM', value: i.oidc.realm },
                { name: 'CLUSTER_ISSUER', value: i.tls.issuer },
            ]),
        },
    ];
}

/** Names in packs/landing/manifests that the foundation patches per stack. */
export const LANDING = { nebariApp: 'landing', deployment: 'landing', container: 'landing' } as const;

/** The landing page's hostname per stack: its NebariApp's spec.hostname and the Deployment's PUBLIC_URL. */
export function landingPatches(i: FoundationInput): NonNullable<ApplicationSource['kustomize']>['patches'] {
    return [
        {
            target: { group: 'reconcilers.nebari.dev', kind: 'NebariApp', name: LANDING.nebariApp },
            patch: jsonPatch([{ op: 'replace', path: '/spec/hostname', value: i.hostnames.landing }]),
        },
        {
            target: { group: 'apps', kind: 'Deployment', name: LANDING.deployment },
            patch: deploymentPatch(i, LANDING.deployment, LANDING.container, [{ name: 'PUBLIC_URL', value: `https://${i.hostnames.landing}` }]),
        },
    ];
}

/** Every foundation Application, in sync-wave order. */
export function foundationApplications(i: FoundationInput): ApplicationBody[] {
    const repo = (path: string, kustomize: ApplicationSource['kustomize']): ApplicationSource => ({ repoURL: i.platformRepo.repoURL, targetRevision: i.platformRepo.revision, path, kustomize });
    const apps: ApplicationBody[] = [
        application('cert-manager', NS.certManager, helmSource(CHARTS.certManager, certManagerValues(), 'cert-manager', i.chartMirror)),
        application('envoy-gateway', NS.gateway, helmSource(CHARTS.envoyGateway, envoyGatewayValues(), 'envoy-gateway', i.chartMirror)),
        application('cloudnative-pg', NS.cnpg, helmSource(CHARTS.cloudnativePg, cloudnativePgValues(), 'cloudnative-pg', i.chartMirror)),
        application('gateway-config', NS.gateway, repo(REPO_PATHS.gateway, { patches: gatewayPatches(i) })),
        application('keycloak-database', NS.keycloak, repo(REPO_PATHS.keycloakDatabase, { patches: keycloakDatabasePatches(i) })),
        application('keycloak', NS.keycloak, helmSource(CHARTS.keycloak, keycloakValues(i), 'keycloak', i.chartMirror)),
        application('otel-collector', NS.monitoring, helmSource(CHARTS.otelCollector, otelCollectorValues(i), 'otel-collector', i.chartMirror)),
        application('nkp-operator', NS.operator, repo(REPO_PATHS.operator, { images: [`${IMAGE_PLACEHOLDERS.operator}=${i.images.operator}`], patches: operatorPatches(i) })),
        application('nkp-landing', NS.landing, repo(REPO_PATHS.landing, { images: [`${IMAGE_PLACEHOLDERS.landing}=${i.images.landing}`], patches: landingPatches(i) })),
    ];
    const wave = (a: ApplicationBody) => Number(a.metadata.annotations?.['argocd.argoproj.io/sync-wave']);
    return apps.sort((a, b) => wave(a) - wave(b));
}

/**
 * The parent Application Pulumi creates: the chart at {@link REPO_PATHS}.parent of this repository at the pinned
 * revision, given every child Application (in wave order) as its values.
 */
export function foundationParentApplication(i: FoundationInput): ApplicationBody {
    // the parent's own revision first: the children's sources use it too, and their errors would name a child
    assertPinnedRevision(FOUNDATION_PARENT.name, i.platformRepo.revision);
    return platformApplication({
        name: FOUNDATION_PARENT.name,
        layer: FOUNDATION_LAYER,
        project: PROJECT_FOUNDATION,
        source: {
            repoURL: i.platformRepo.repoURL,
            targetRevision: i.platformRepo.revision,
            path: REPO_PATHS.parent,
            helm: { releaseName: FOUNDATION_PARENT.releaseName, valuesObject: { applications: foundationApplications(i) } },
        },
        namespace: NS.argocd,
    });
}

/** Repositories the foundation project must allow: each chart's own repository, or the mirror that replaces them all. */
export function foundationSourceRepos(platformRepoURL: string, chartMirror?: string): string[] {
    const charts = chartMirror !== undefined ? [chartMirror] : Object.values(CHARTS).map((c) => c.repoURL);
    return [...new Set([...charts, platformRepoURL])].sort();
}
