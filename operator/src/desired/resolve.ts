// The effective spec: schema defaults (as the API server applies them) plus the defaults that depend on context
// (the app's namespace and name, the operator configuration). Everything downstream reads this, never raw spec.
import { applyDefaults } from '../api/validate.js';
import { DEFAULT_SCOPES, DEFAULT_REDIRECT_URI, DEFAULT_PRIORITY, DEFAULT_HEALTH_PATH, DEFAULT_HEALTH_INTERVAL_SECONDS, DEFAULT_HEALTH_TIMEOUT_SECONDS } from '../api/schema.js';
import { clientSecretName, type NebariApp, type DenyRedirectHeader } from '../api/types.js';
import type { GatewayConfig, OperatorConfig } from './facts.js';

export interface EffectiveRoute {
  path: string;
  pathType: 'PathPrefix' | 'Exact';
}

export interface EffectiveAuth {
  provider: 'keycloak' | 'generic-oidc';
  provisionClient: boolean;
  enforceAtGateway: boolean;
  forwardAccessToken: boolean;
  denyRedirect: Required<DenyRedirectHeader>[];
  redirectURI: string;
  scopes: string[];
  groups: string[];
  /** Issuer used by both the browser and the gateway (operator config for keycloak, spec for generic-oidc). */
  issuerURL: string | undefined;
  /** Secret with client-id/client-secret: clientSecretRef, or `<name>-oidc-client` when the operator provisions it. */
  secretName: string | undefined;
  /** true when the Secret comes from auth.clientSecretRef (user-managed). */
  secretFromRef: boolean;
  /** Provider generic-oidc with provisionClient left true and no clientSecretRef: nothing can provide credentials
   * (the operator provisions clients in Keycloak only): AuthReady ProvisioningNotSupported. */
  provisioningUnsupported: boolean;
}

export interface EffectiveSpec {
  namespace: string;
  name: string;
  hostname: string;
  service: { name: string; port: number; namespace: string };
  crossNamespace: boolean;
  gatewayClass: 'public' | 'internal';
  gateway: GatewayConfig;
  /** undefined: spec.routing absent (no routes managed, TLS counts as disabled). */
  routing:
    | {
        /** Never empty: default one PathPrefix "/" match. */
        routes: EffectiveRoute[];
        /** true when routing.routes was empty/absent (all paths). */
        allPaths: boolean;
        publicRoutes: EffectiveRoute[];
        tls: boolean;
        annotations: Record<string, string>;
      }
    | undefined;
  tls: boolean;
  /** routing.tls.secretName when TLS is on: the user's kubernetes.io/tls Secret, served instead of a Certificate. */
  tlsSecretName: string | undefined;
  /** undefined: auth absent or disabled. */
  auth: EffectiveAuth | undefined;
  serviceAccountName: string;
  landingPage: {
    enabled: boolean;
    displayName?: string;
    description?: string;
    icon?: string;
    iconLight?: string;
    iconDark?: string;
    category?: string;
    priority: number;
    externalUrl?: string;
    healthCheck: { enabled: boolean; path: string; port: number; intervalSeconds: number; timeoutSeconds: number };
  };
}

/** Effective spec of an app (assumes it validated; see validateSpec). */
export function effectiveSpec(app: NebariApp, config: OperatorConfig): EffectiveSpec {
  const spec = applyDefaults(app.spec);
  const { namespace, name } = app.metadata;
  const backendNs = spec.service.namespace ?? namespace;
  const gatewayClass = spec.gateway ?? 'public';
  const r = spec.routing;
  const routing = r
    ? {
        routes:
          r.routes && r.routes.length > 0
            ? r.routes.map((m) => ({ path: m.pathPrefix, pathType: m.pathType ?? 'PathPrefix' }))
            : [{ path: '/', pathType: 'PathPrefix' as const }],
        allPaths: !r.routes || r.routes.length === 0,
        publicRoutes: (r.publicRoutes ?? []).map((m) => ({ path: m.pathPrefix, pathType: m.pathType ?? 'Exact' })),
        tls: r.tls?.enabled !== false,
        annotations: { ...(r.annotations ?? {}) },
      }
    : undefined;
  const a = spec.auth;
  let auth: EffectiveAuth | undefined;
  if (a && a.enabled === true) {
    const provider = a.provider ?? 'keycloak';
    const provisionClient = provider === 'keycloak' && a.provisionClient !== false;
    const secretFromRef = typeof a.clientSecretRef === 'string' && a.clientSecretRef.length > 0;
    auth = {
      provider,
      provisionClient: provisionClient && !secretFromRef,
      enforceAtGateway: a.enforceAtGateway !== false,
      forwardAccessToken: a.forwardAccessToken === true,
      denyRedirect: (a.denyRedirect ?? []).map((h) => ({ name: h.name, value: h.value, type: h.type ?? 'Exact' })),
      redirectURI: a.redirectURI ?? DEFAULT_REDIRECT_URI,
      scopes: a.scopes ?? [...DEFAULT_SCOPES],
      groups: [...(a.groups ?? [])],
      issuerURL: provider === 'generic-oidc' ? a.issuerURL : config.oidc.issuerURL,
      secretName: secretFromRef ? a.clientSecretRef : provisionClient ? clientSecretName(name) : undefined,
      secretFromRef,
      provisioningUnsupported: provider === 'generic-oidc' && a.provisionClient !== false && !secretFromRef,
    };
  }
  const lp = spec.landingPage ?? {};
  const hc = lp.healthCheck ?? {};
  const opt = <K extends string, V>(k: K, v: V | undefined): { [P in K]?: V } => (v === undefined || v === '' ? {} : ({ [k]: v } as { [P in K]?: V }));
  return {
    namespace,
    name,
    hostname: spec.hostname,
    service: { name: spec.service.name, port: spec.service.port, namespace: backendNs },
    crossNamespace: backendNs !== namespace,
    gatewayClass,
    gateway: config.gateways[gatewayClass],
    routing,
    tls: routing?.tls ?? false,
    tlsSecretName: routing?.tls && r?.tls?.secretName ? r.tls.secretName : undefined,
    auth,
    serviceAccountName: spec.serviceAccountName ?? name,
    landingPage: {
      enabled: lp.enabled === true,
      ...opt('displayName', lp.displayName),
      ...opt('description', lp.description),
      ...opt('icon', lp.icon),
      ...opt('iconLight', lp.iconLight),
      ...opt('iconDark', lp.iconDark),
      ...opt('category', lp.category),
      priority: lp.priority ?? DEFAULT_PRIORITY,
      ...opt('externalUrl', lp.externalUrl),
      healthCheck: {
        enabled: hc.enabled === true,
        path: hc.path ?? DEFAULT_HEALTH_PATH,
        port: hc.port ?? spec.service.port,
        intervalSeconds: hc.intervalSeconds ?? DEFAULT_HEALTH_INTERVAL_SECONDS,
        timeoutSeconds: hc.timeoutSeconds ?? DEFAULT_HEALTH_TIMEOUT_SECONDS,
      },
    },
  };
}

/** Scheme the app is served with: https when TLS is on, else http. */
export function scheme(eff: EffectiveSpec): 'https' | 'http' {
  return eff.tls ? 'https' : 'http';
}
