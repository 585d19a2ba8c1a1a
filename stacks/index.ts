/**
 * Program entry: read the stack's config, validate all of it before registering any resource, then build the
 * platform. Exports only non-secret outputs, plus the kubeconfig as a secret.
 */
import * as pulumi from '@pulumi/pulumi';
import { CONFIG_NAMESPACE, validateConfig, type SecretKey } from './config.js';
import { buildPlatform } from './platform.js';

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
export const kubeconfig = pulumi.secret(platform.cloud.kubeconfig);
