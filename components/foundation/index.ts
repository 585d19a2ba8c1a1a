/**
 * Foundation (`nkp:foundation:Foundation`): the parent ArgoCD Application of the platform's foundation, whose
 * children (pinned chart versions / revisions, sync waves, automated prune + self-heal and server-side apply) Argo CD
 * creates wave by wave, plus the few Secrets
 * they need from Pulumi secrets (Keycloak's admin, the telemetry token) and the OCI Helm repository declaration.
 * A thin shell over ./spec.ts.
 */
import * as pulumi from '@pulumi/pulumi';
import * as k8s from '@pulumi/kubernetes';
import { NS } from '../cluster/namespaces.js';
import { customResourceArgs } from '../argocd/index.js';
import {
    ENVOY_OCI_REPO,
    FOUNDATION_APP_NAMES,
    FOUNDATION_PARENT,
    foundationParentApplication,
    KEYCLOAK_ADMIN_SECRET,
    KEYCLOAK_ADMIN_USER,
    LOCAL_CA,
    OTEL_TOKEN_SECRET,
    SYNC_WAVES,
    type FoundationInput,
    type FoundationAppName,
} from './spec.js';

export * from './spec.js';
export * from './local-ca.js';

export interface FoundationArgs {
    /** What the Applications contain (hostnames, revisions, images, sizes...). */
    spec: pulumi.Input<FoundationInput>;
    /** Password of Keycloak's bootstrap admin (a Pulumi secret), stored in the Secret keycloak/keycloak-admin. */
    keycloakAdminPassword: pulumi.Input<string>;
    /** Bearer token of the telemetry backend (a Pulumi secret); given exactly when spec.telemetry.auth is bearer. */
    otelExporterToken?: pulumi.Input<string>;
    /**
     * The local CA (./local-ca.ts), given exactly when spec.tls.issuer is selfsigned-ca: its key pair becomes the
     * Secret of the ClusterIssuer selfsigned-ca, its certificate a ConfigMap the operator and the landing page trust.
     */
    localCA?: { certPem: pulumi.Input<string>; privateKeyPem: pulumi.Input<string> };
}

export class Foundation extends pulumi.ComponentResource {
    /** Application name -> sync wave. */
    readonly syncWaves: Record<FoundationAppName, number> = { ...SYNC_WAVES };
    /** The parent Application; Argo CD owns the children it renders. */
    readonly parent: k8s.apiextensions.CustomResource;
    /** The child Applications' names in wave order. */
    readonly applicationNames: pulumi.Output<string[]>;

    constructor(name: string, args: FoundationArgs, opts?: pulumi.ComponentResourceOptions) {
        super('nkp:foundation:Foundation', name, {}, opts);
        const child = { parent: this };
        const spec = pulumi.output(args.spec);

        const secrets: pulumi.Resource[] = [
            new k8s.core.v1.Secret(
                `${name}-keycloak-admin`,
                {
                    metadata: { name: KEYCLOAK_ADMIN_SECRET, namespace: NS.keycloak, labels: { 'app.kubernetes.io/part-of': 'nkp' } },
                    type: 'Opaque',
                    stringData: { username: KEYCLOAK_ADMIN_USER, password: pulumi.secret(args.keycloakAdminPassword) },
                },
                child,
            ),
            new k8s.core.v1.Secret(
                `${name}-helm-oci-envoyproxy`,
                {
                    metadata: { name: ENVOY_OCI_REPO.secretName, namespace: NS.argocd, labels: { 'argocd.argoproj.io/secret-type': 'repository', 'app.kubernetes.io/part-of': 'nkp' } },
                    type: 'Opaque',
                    stringData: { type: 'helm', name: ENVOY_OCI_REPO.name, url: ENVOY_OCI_REPO.url, enableOCI: 'true' },
                },
                child,
            ),
        ];
        if (args.otelExporterToken !== undefined) {
            secrets.push(
                new k8s.core.v1.Secret(
                    `${name}-otel-exporter`,
                    {
                        metadata: { name: OTEL_TOKEN_SECRET, namespace: NS.monitoring, labels: { 'app.kubernetes.io/part-of': 'nkp' } },
                        type: 'Opaque',
                        stringData: { token: pulumi.secret(args.otelExporterToken) },
                    },
                    child,
                ),
            );
        }

        if (args.localCA !== undefined) {
            const ca = args.localCA;
            secrets.push(
                new k8s.core.v1.Secret(
                    `${name}-local-ca`,
                    {
                        metadata: { name: LOCAL_CA.secret.name, namespace: LOCAL_CA.secret.namespace, labels: { 'app.kubernetes.io/part-of': 'nkp' } },
                        type: 'kubernetes.io/tls',
                        stringData: { 'tls.crt': ca.certPem, 'tls.key': pulumi.secret(ca.privateKeyPem), 'ca.crt': ca.certPem },
                    },
                    child,
                ),
            );
            for (const ns of LOCAL_CA.configMap.namespaces) {
                secrets.push(
                    new k8s.core.v1.ConfigMap(
                        `${name}-local-ca-${ns}`,
                        { metadata: { name: LOCAL_CA.configMap.name, namespace: ns, labels: { 'app.kubernetes.io/part-of': 'nkp' } }, data: { [LOCAL_CA.configMap.key]: ca.certPem } },
                        child,
                    ),
                );
            }
        }

        // One parent Application (app-of-apps): Argo CD creates the children wave by wave (FOUNDATION_PARENT).
        this.parent = new k8s.apiextensions.CustomResource(
            `${name}-app-${FOUNDATION_PARENT.name}`,
            customResourceArgs('argoproj.io/v1alpha1', 'Application', spec.apply(foundationParentApplication)),
            { parent: this, dependsOn: secrets },
        );
        const ordered = [...FOUNDATION_APP_NAMES].sort((a, b) => SYNC_WAVES[a] - SYNC_WAVES[b]);
        this.applicationNames = pulumi.output(ordered);
        this.registerOutputs({ applicationNames: this.applicationNames, syncWaves: this.syncWaves });
    }
}
