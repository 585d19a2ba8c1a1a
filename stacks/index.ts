/**
 * Program entry: read the stack's config, validate all of it before registering any resource, then build the
 * platform. Exports only non-secret outputs, plus the kubeconfig as a secret.
 */
import './stack-traces.js';
import * as pulumi from '@pulumi/pulumi';
import { CONFIG_NAMESPACE, ConfigValidationError, validateConfig, type SecretKey } from './config.js';
import { buildPlatform } from './platform.js';
import { DEFAULT_DEPLOYER_IP_URL, discoverDeployerAddress } from './deployer.js';
import { deployerReachProblem } from '../components/cloud/aws-plan.js';

const config = new pulumi.Config(CONFIG_NAMESPACE);
// Throws ConfigValidationError listing every problem (each naming its key) before anything is registered.
const prefix = `${CONFIG_NAMESPACE}:`;
const settings = validateConfig(
    (key) => config.get(key),
    (key) => config.getSecret(key) !== undefined,
    Object.keys(pulumi.runtime.allConfig())
        .filter((k) => k.startsWith(prefix))
        .map((k) => k.slice(prefix.length)),
);
// AWS with the public endpoint: this machine must be inside awsPublicAccessCidrs, or every Kubernetes resource
// would time out after the cluster is made. Checked before anything is registered when NKP_DEPLOYER_IP says how
// (stacks/deployer.ts; no network call unless NKP_DEPLOYER_IP=discover).
if (settings.cloud.provider === 'aws' && settings.cloud.aws.endpointPublicAccess !== false) {
    const deployer = await discoverDeployerAddress();
    if (deployer.kind === 'address') {
        const problem = deployerReachProblem(true, settings.cloud.aws.publicAccessCidrs ?? [], deployer.ip);
        if (problem !== undefined) throw new ConfigValidationError([`${CONFIG_NAMESPACE}:awsPublicAccessCidrs: ${problem} (address from ${deployer.source}; NKP_DEPLOYER_IP=skip turns the check off)`]);
    } else if (deployer.kind === 'unknown') {
        pulumi.log.warn(`could not check that this machine can reach the EKS API through ${CONFIG_NAMESPACE}:awsPublicAccessCidrs: ${deployer.reason}; set NKP_DEPLOYER_IP=<your public IPv4> to check, or skip to silence this`);
    } else if (deployer.kind === 'unchecked') {
        // No network call unless asked for (stacks/deployer.ts).
        pulumi.log.info(`not checked that this machine can reach the EKS API through ${CONFIG_NAMESPACE}:awsPublicAccessCidrs: set NKP_DEPLOYER_IP=<your public IPv4>, or NKP_DEPLOYER_IP=discover to ask ${DEFAULT_DEPLOYER_IP_URL} (NKP_DEPLOYER_IP_URL), or skip`);
    }
}
const secrets = Object.fromEntries(settings.requiredSecrets.map((k) => [k, config.requireSecret(k)])) as Partial<Record<SecretKey, pulumi.Output<string>>>;
const platform = buildPlatform({ settings, secrets });

export const environment = platform.outputs.environment;
export const cloudProvider = platform.outputs.cloudProvider;
export const clusterName = platform.outputs.clusterName;
export const defaultStorageClass = platform.outputs.defaultStorageClass;
export const argocdUrl = platform.outputs.argocdUrl;
export const keycloakUrl = platform.outputs.keycloakUrl;
export const oidcIssuerUrl = platform.outputs.oidcIssuerUrl;
export const landingUrl = platform.outputs.landingUrl;
export const gitops = platform.outputs.gitops;
export const foundationApplications = platform.outputs.foundationApplications;
export const argocdChartVersion = platform.outputs.argocdChartVersion;
export const identityManaged = platform.outputs.identityManaged;
/** Hetzner only: the gateway load balancer's public IPv4 (undefined elsewhere, so no output). */
export const gatewayLoadBalancerIp = platform.outputs.gatewayLoadBalancerIp;
/** Local clusters only: the CA certificate (PEM) to trust in the browser (`pulumi stack output localCaCertificate > nkp-ca.pem`). */
export const localCaCertificate = platform.outputs.localCaCertificate;
/** A kubeconfig that signs in through Keycloak with kubelogin (nkp:kubernetesOidc; no credentials in it). */
export const kubeconfigOidc = platform.outputs.kubeconfigOidc;
/** Local clusters only: the kube-apiserver OIDC flags to start the cluster with (e.g. k3d `--k3s-arg`). */
export const kubeApiServerOidcFlags = platform.outputs.kubeApiServerOidcFlags;
export const kubeconfig = pulumi.secret(platform.cloud.kubeconfig);
