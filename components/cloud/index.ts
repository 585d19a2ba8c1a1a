/**
 * The cloud layer: one ComponentResource per way of getting a Kubernetes cluster.
 *
 * Every cloud component satisfies {@link CloudOutputs}, so the stack can build exactly one
 * `k8s.Provider` from whichever cloud an environment uses:
 *
 *     const cloud: CloudOutputs = new AwsCloud('cloud', args);
 *     const k8sProvider = new k8s.Provider('cluster', { kubeconfig: cloud.kubeconfig });
 */
export type { ApiServerOidc, CloudOutputs, CloudProviderName, CostTags } from './types.js';
export type { AwsCloudArgs, AwsNodeGroupArgs, AwsEfsArgs, NodeTaint } from './aws.js';
export type { HetznerCloudArgs, HetznerWorkerPoolArgs } from './hetzner.js';
export type { LocalClusterArgs, LocalFlavour } from './local.js';
export { AwsCloud, AWS_CLOUD_TYPE } from './aws.js';
export { HetznerCloud, HETZNER_CLOUD_TYPE } from './hetzner.js';
export { LocalCluster, LOCAL_CLUSTER_TYPE } from './local.js';
export { CloudArgsError } from './validate.js';
export { GATEWAY_NODE_PORTS, HCLOUD_STORAGE_CLASS, K3S_VERSION_PATTERN } from './hetzner-plan.js';
export { defaultStorageClassFor } from './local.js';
