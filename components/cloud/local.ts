/**
 * Local / existing cluster: the platform installs onto a cluster that already exists (K3s, kind, k3d or any
 * other), reached through a kubeconfig file or inline kubeconfig content and an optional context. Creates no
 * cloud resources.
 */
import type * as pulumi from '@pulumi/pulumi';

/** What kind of existing cluster it is; decides the default StorageClass. */
export type LocalFlavour = 'k3s' | 'k3d' | 'kind' | 'other';

/** Arguments of {@link LocalCluster}; exactly one of kubeconfigPath / kubeconfig is required. */
export interface LocalClusterArgs {
    /** Path of a kubeconfig file (`~` expands to the home directory); must exist. */
    kubeconfigPath?: string;
    /** Inline kubeconfig YAML (use a Pulumi secret); alternative to kubeconfigPath. */
    kubeconfig?: pulumi.Input<string>;
    /** Context to use; must exist in the kubeconfig (default: the kubeconfig's current-context). */
    context?: string;
    /** Cluster flavour (default `other`): k3s/k3d default to StorageClass `local-path`, kind/other to `standard`. */
    flavour?: LocalFlavour;
    /** Name of the default StorageClass, overriding the flavour's default. */
    defaultStorageClass?: string;
    /** Name to report as clusterName (default: the context's cluster name). */
    clusterName?: string;
}
