// Inputs of the desired-state functions besides the NebariApp itself: what the runtime observed in the cluster
// (ObservedFacts, gathered from informer caches) and how the operator is configured (OperatorConfig, from its
// flags/environment). Both are plain data so desired state stays a pure function.
import type { Reason } from '../api/types.js';

/** A shared Gateway owned by GitOps (never mutated by the operator). */
export interface GatewayConfig {
  name: string;
  namespace: string;
  /** Name of the Gateway's plain-HTTP listener that HTTP-only apps attach to (sectionName); absent: any listener. */
  httpListenerName?: string;
}

export interface OperatorConfig {
  /** The two shared Gateways, chosen by spec.gateway. */
  gateways: { public: GatewayConfig; internal: GatewayConfig };
  /** Port of the per-app HTTPS listener in the app's ListenerSet. Default 443. */
  httpsPort: number;
  /**
   * cert-manager ClusterIssuer that signs every app's certificate. Absent: no Certificates; an app with TLS then
   * needs routing.tls.secretName (TLSReady=False ClusterIssuerNotConfigured otherwise).
   */
  clusterIssuer: string | undefined;
  oidc: {
    /**
     * The Keycloak realm's issuer URL, the ONE address both browsers and the gateway use (e.g.
     * https://auth.example.com/realms/nebari). Absent: apps with provider keycloak get AuthReady=False
     * IssuerNotConfigured.
     */
    issuerURL?: string;
    /** JWKS of that issuer for group checks; default `<issuerURL>/protocol/openid-connect/certs` (Keycloak's). */
    jwksURI?: string;
    /** Token claim that lists the user's groups. Default `groups`. */
    groupsClaim: string;
    /** Path on every app's hostname that logs out at the gateway. Default `/oauth2/logout`. */
    logoutPath: string;
  };
}

export const DEFAULT_HTTPS_PORT = 443;
export const DEFAULT_GROUPS_CLAIM = 'groups';
export const DEFAULT_LOGOUT_PATH = '/oauth2/logout';

export interface OperatorConfigInput {
  gateways: { public: GatewayConfig; internal: GatewayConfig };
  /** Absent or empty: no cert-manager ClusterIssuer (see OperatorConfig.clusterIssuer). */
  clusterIssuer?: string;
  httpsPort?: number;
  oidc?: { issuerURL?: string; jwksURI?: string; groupsClaim?: string; logoutPath?: string };
}

/** Fill the configuration's defaults and check it; throws naming the key and what is allowed. */
export function operatorConfig(input: OperatorConfigInput): OperatorConfig {
  const problems: string[] = [];
  const dns = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
  const dns1123 = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
  for (const which of ['public', 'internal'] as const) {
    const g = input.gateways?.[which];
    if (!g || typeof g.name !== 'string' || g.name === '') problems.push(`gateways.${which}.name: required (the Gateway's name)`);
    if (!g || typeof g.namespace !== 'string' || !dns.test(g.namespace)) {
      problems.push(`gateways.${which}.namespace: required, a DNS-1123 label`);
    }
  }
  const clusterIssuer = input.clusterIssuer === undefined || input.clusterIssuer === '' ? undefined : input.clusterIssuer;
  if (clusterIssuer !== undefined && (typeof clusterIssuer !== 'string' || !dns1123.test(clusterIssuer))) {
    problems.push('clusterIssuer: the name of a cert-manager ClusterIssuer (a DNS-1123 name), or empty for none');
  }
  const httpsPort = input.httpsPort ?? DEFAULT_HTTPS_PORT;
  if (!Number.isInteger(httpsPort) || httpsPort < 1 || httpsPort > 65535) problems.push('httpsPort: must be an integer 1..65535');
  const issuerURL = input.oidc?.issuerURL?.replace(/\/+$/, '');
  if (issuerURL !== undefined && !/^https?:\/\/[^\s/]+(\/[^\s]*)?$/.test(issuerURL)) {
    problems.push('oidc.issuerURL: must be an absolute http(s) URL without whitespace');
  }
  const jwksURI = input.oidc?.jwksURI;
  if (jwksURI !== undefined && !/^https?:\/\/[^\s]+$/.test(jwksURI)) problems.push('oidc.jwksURI: must be an absolute http(s) URL');
  const logoutPath = input.oidc?.logoutPath ?? DEFAULT_LOGOUT_PATH;
  if (!logoutPath.startsWith('/')) problems.push('oidc.logoutPath: must start with "/"');
  const groupsClaim = input.oidc?.groupsClaim ?? DEFAULT_GROUPS_CLAIM;
  if (groupsClaim === '') problems.push('oidc.groupsClaim: must not be empty');
  if (problems.length > 0) throw new Error(`invalid operator configuration: ${problems.join('; ')}`);
  return {
    gateways: { public: { ...input.gateways.public }, internal: { ...input.gateways.internal } },
    httpsPort,
    clusterIssuer,
    oidc: {
      ...(issuerURL !== undefined ? { issuerURL } : {}),
      ...(jwksURI !== undefined ? { jwksURI } : {}),
      groupsClaim,
      logoutPath,
    },
  };
}

/** Another NebariApp's (or this one's) claim on a hostname. */
export interface HostnameClaim {
  namespace: string;
  name: string;
  hostname: string;
  /** RFC 3339 creation time; the oldest claim wins, ties broken by namespace/name. */
  creationTimestamp: string | Date;
}

/** A Service as observed (in spec.service.namespace, or the app's namespace). */
export type ServiceFact = { found: false } | { found: true; ports: readonly number[] };

/** The OIDC client Secret as observed (keys only, never values). */
export type SecretFact = { found: false } | { found: true; keys: readonly string[] };

/** The Secret routing.tls.secretName names, as observed in the app's namespace (type only, never data). */
export type TLSSecretFact = { found: false } | { found: true; type: string | undefined };

/** Type a Secret needs to serve as a listener's certificate. */
export const TLS_SECRET_TYPE = 'kubernetes.io/tls';

/** cert-manager Certificate status as observed. */
export interface CertificateFact {
  /** Certificate condition Ready is True. */
  ready: boolean;
  /** Why issuance failed (cert-manager's Issuing=False message; never secret); absent while it is in progress. */
  message?: string;
}

/** The per-app ListenerSet's listener status as reported by the gateway controller (absent when nothing reported). */
export interface ListenerFact {
  /** false only when the controller explicitly set Accepted/Programmed/ResolvedRefs to False. */
  accepted: boolean;
  reason?: string;
  message?: string;
}

/**
 * Whether the gateway controller accepted an HTTPRoute (Accepted and ResolvedRefs on its parents) or a
 * SecurityPolicy (Accepted on its ancestors), for the object's current generation.
 */
export type AcceptanceFact =
  | { state: 'accepted'; controller?: string }
  | { state: 'pending' }
  | { state: 'refused'; controller?: string; condition: string; reason?: string; message?: string };

/** Result of Keycloak client provisioning for this app (from the Keycloak reconciler). */
export interface ProvisioningFact {
  /** false when the last attempt failed. */
  ok: boolean;
  /** Why it failed (never carries secret values). */
  message?: string;
  /** The precise AuthReady reason of a failure (e.g. KeycloakUnavailable); absent: Failed. */
  reason?: Reason;
  /** SHA-256 of the provisioned client config, mirrored into status.authConfigHash. */
  authConfigHash?: string;
}

export interface ObservedFacts {
  /** The app's namespace has label nebari.dev/managed=true. */
  namespaceOptedIn: boolean;
  /** The backend namespace (spec.service.namespace) has nebari.dev/managed=true; ignored when it is the app's own. */
  backendNamespaceOptedIn: boolean;
  service: ServiceFact;
  /** The Gateway selected by spec.gateway exists. */
  gatewayFound: boolean;
  /** Claims of every NebariApp that serves routes (see `hostnameClaim`); this app's own claim may be included. */
  hostnameClaims: readonly HostnameClaim[];
  /** The app's Certificate; absent when not (yet) observed. */
  certificate?: CertificateFact;
  /** The app's ListenerSet status; absent when the gateway controller has not reported. */
  listener?: ListenerFact;
  /** The main HTTPRoute as the gateway controller reports it; absent when it does not exist (yet). */
  mainRoute?: AcceptanceFact;
  /** The public HTTPRoute (publicRoutes with auth at the gateway), likewise. */
  publicRoute?: AcceptanceFact;
  /** The SecurityPolicy as the gateway controller reports it; absent when it does not exist (yet). */
  securityPolicy?: AcceptanceFact;
  /** The client Secret (clientSecretRef, or `<name>-oidc-client` when provisioned) in the app's namespace. */
  clientSecret: SecretFact;
  /** The Secret named in routing.tls.secretName; absent when the app names none. */
  tlsSecret?: TLSSecretFact;
  /** Keycloak provisioning outcome; absent when not attempted (e.g. generic-oidc or clientSecretRef). */
  provisioning?: ProvisioningFact;
  /** JWKS URI discovered for provider generic-oidc (needed only when auth.groups is set). */
  genericJwksURI?: string;
}
