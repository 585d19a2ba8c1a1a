/** Types shared by every cloud component (re-exported from ./index.js). */
import type * as pulumi from '@pulumi/pulumi';

/** Which cloud layer produced a cluster. */
export type CloudProviderName = 'aws' | 'hetzner' | 'local';

/** What every cloud component hands to the layers above it. */
export interface CloudOutputs {
    /** Kubeconfig (YAML) for cluster-admin access; always a Pulumi secret. */
    readonly kubeconfig: pulumi.Output<string>;
    /** The cluster's name (EKS cluster name, K3s cluster name, or the local context's cluster). */
    readonly clusterName: pulumi.Output<string>;
    /** Name of the StorageClass that is the cluster default (gp3, hcloud-volumes, standard, local-path...). */
    readonly defaultStorageClass: pulumi.Output<string>;
    /** Which cloud layer produced the cluster. */
    readonly provider: CloudProviderName;
}

/** Tags (AWS) / labels (Hetzner) every taggable resource carries. */
export interface CostTags {
    /** Environment name, e.g. `aws-prod`; becomes the `environment` tag. */
    environment: string;
    /** Team or person accountable for the resources; becomes the `owner` tag. */
    owner: string;
    /** Cost centre the spend is booked against; becomes the `cost-centre` tag. */
    costCentre: string;
    /** Extra tags merged under the three above (which always win). */
    extra?: Record<string, string>;
}

/**
 * OIDC sign-in to the Kubernetes API (e.g. the platform's Keycloak realm), so RBAC bindings to
 * `<groupsPrefix><group>` work. EKS: an identity provider config; K3s: kube-apiserver flags.
 */
export interface ApiServerOidc {
    /** Issuer URL (https), e.g. `https://keycloak.example.com/realms/nkp`. */
    issuerUrl: string;
    /** Client id the ID tokens are issued for (their `aud`), e.g. `kubernetes`. */
    clientId: string;
    /** Claim used as the user name (default `preferred_username`). */
    usernameClaim?: string;
    /** Prefix put before user names (default `oidc:`). */
    usernamePrefix?: string;
    /** Claim holding the groups (default `groups`). */
    groupsClaim?: string;
    /** Prefix put before group names (default `oidc:`); must match the cluster baseline's oidcGroupsPrefix. */
    groupsPrefix?: string;
}
