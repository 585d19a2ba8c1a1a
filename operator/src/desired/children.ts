// Builders of every child object, each a pure function of the effective spec (resolve.ts), the app, the child
// names and the operator configuration. They decide nothing about *whether* a child exists (state.ts does).
import { OWNER_ANNOTATION, SECRET_KEYS, shortHash, type NebariApp } from '../api/types.js';
import type { OperatorConfig } from './facts.js';
import {
  CERTIFICATE,
  COMPONENTS,
  HTTPROUTE,
  LISTENERSET,
  REFERENCEGRANT,
  SECURITYPOLICY,
  childLabels,
  childMetadata,
  withDesiredHash,
  type ChildNames,
  type KubeObject,
} from './objects.js';
import { scheme, type EffectiveRoute, type EffectiveSpec } from './resolve.js';

const GATEWAY_GROUP = 'gateway.networking.k8s.io';
/** Gateway API: one HTTPRoute rule holds at most 64 matches, one route at most 16 rules. */
export const MAX_MATCHES_PER_RULE = 64;
/** Name of the single listener in each app's ListenerSet. */
export const HTTPS_LISTENER_NAME = 'https';
/** Name of the JWT provider inside the SecurityPolicy used for group checks. */
export const JWT_PROVIDER_NAME = 'nebari-oidc';
/**
 * Request header the gateway's OIDC filter writes the (decrypted) ID token into for the group check, on apps with
 * auth.groups. Envoy Gateway encrypts its token cookies (since v1.5), so a JWT provider reading the cookie would see
 * ciphertext; the OIDC filter forwards the token it decrypted instead, the JWT provider verifies it from this header
 * and the authorization reads its groups claim. The main route removes the header before the request goes upstream.
 */
export const ID_TOKEN_HEADER = 'x-nebari-id-token';

/** Same path+type only once, first occurrence kept (deterministic). */
export function dedupeRoutes(routes: readonly EffectiveRoute[]): EffectiveRoute[] {
  const seen = new Set<string>();
  const out: EffectiveRoute[] = [];
  for (const r of routes) {
    const k = `${r.pathType} ${r.path}`;
    if (!seen.has(k)) {
      seen.add(k);
      out.push(r);
    }
  }
  return out;
}

function chunk<T>(xs: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += size) out.push(xs.slice(i, i + size));
  return out;
}

/** Where the app's routes attach: its ListenerSet's HTTPS listener with TLS, else the shared Gateway (HTTP). */
export function parentRef(eff: EffectiveSpec, names: ChildNames): Record<string, unknown> {
  if (eff.tls) return { group: GATEWAY_GROUP, kind: LISTENERSET.kind, name: names.listenerSet, sectionName: HTTPS_LISTENER_NAME };
  return {
    group: GATEWAY_GROUP,
    kind: 'Gateway',
    name: eff.gateway.name,
    namespace: eff.gateway.namespace,
    ...(eff.gateway.httpListenerName ? { sectionName: eff.gateway.httpListenerName } : {}),
  };
}

function backendRef(eff: EffectiveSpec): Record<string, unknown> {
  return {
    group: '',
    kind: 'Service',
    name: eff.service.name,
    ...(eff.crossNamespace ? { namespace: eff.service.namespace } : {}),
    port: eff.service.port,
    weight: 1,
  };
}

/**
 * Path matches of the main route. With auth enforced at the gateway the OIDC callback and logout paths are added
 * (the gateway only sees requests a route matches); without it publicRoutes join the main route (nothing to skip).
 */
export function mainRouteMatches(eff: EffectiveSpec, config: OperatorConfig): EffectiveRoute[] {
  if (!eff.routing) return [];
  const enforce = eff.auth?.enforceAtGateway === true;
  if (eff.routing.allPaths) return dedupeRoutes(eff.routing.routes);
  if (enforce) {
    return dedupeRoutes([
      ...eff.routing.routes,
      { path: eff.auth!.redirectURI, pathType: 'Exact' },
      { path: config.oidc.logoutPath, pathType: 'Exact' },
    ]);
  }
  return dedupeRoutes([...eff.routing.routes, ...eff.routing.publicRoutes]);
}

/** Gateway-internal headers a route removes before the request reaches the app (empty: no filter). */
export function headersRemovedUpstream(eff: EffectiveSpec): string[] {
  return eff.auth?.enforceAtGateway && eff.auth.groups.length > 0 ? [ID_TOKEN_HEADER] : [];
}

function httpRoute(
  app: NebariApp,
  eff: EffectiveSpec,
  names: ChildNames,
  name: string,
  component: typeof COMPONENTS.mainRoute | typeof COMPONENTS.publicRoute,
  matches: readonly EffectiveRoute[],
  removeHeaders: readonly string[] = [],
): KubeObject {
  const annotations = eff.routing?.annotations ?? {};
  return withDesiredHash({
    apiVersion: HTTPROUTE.apiVersion,
    kind: HTTPROUTE.kind,
    metadata: childMetadata(app, component, name, eff.namespace, annotations),
    spec: {
      parentRefs: [parentRef(eff, names)],
      hostnames: [eff.hostname],
      rules: chunk(matches, MAX_MATCHES_PER_RULE).map((ms) => ({
        matches: ms.map((m) => ({ path: { type: m.pathType, value: m.path } })),
        ...(removeHeaders.length > 0 ? { filters: [{ type: 'RequestHeaderModifier', requestHeaderModifier: { remove: [...removeHeaders] } }] } : {}),
        backendRefs: [backendRef(eff)],
      })),
    },
  });
}

export function mainHttpRoute(app: NebariApp, eff: EffectiveSpec, names: ChildNames, config: OperatorConfig): KubeObject {
  return httpRoute(app, eff, names, names.mainRoute, COMPONENTS.mainRoute, mainRouteMatches(eff, config), headersRemovedUpstream(eff));
}

/** The route for publicRoutes, outside the SecurityPolicy; only meaningful when auth is enforced at the gateway. */
export function publicHttpRoute(app: NebariApp, eff: EffectiveSpec, names: ChildNames): KubeObject {
  return httpRoute(app, eff, names, names.publicRoute, COMPONENTS.publicRoute, dedupeRoutes(eff.routing?.publicRoutes ?? []));
}

/** Lets the app's HTTPRoutes (in its namespace) reference the Service in the backend namespace. */
export function referenceGrant(app: NebariApp, eff: EffectiveSpec, names: ChildNames): KubeObject {
  return withDesiredHash({
    apiVersion: REFERENCEGRANT.apiVersion,
    kind: REFERENCEGRANT.kind,
    metadata: childMetadata(app, COMPONENTS.referenceGrant, names.referenceGrant, eff.service.namespace),
    spec: {
      from: [{ group: GATEWAY_GROUP, kind: HTTPROUTE.kind, namespace: eff.namespace }],
      to: [{ group: '', kind: 'Service', name: eff.service.name }],
    },
  });
}

/**
 * Per-app HTTPS listener attached to the shared Gateway without changing it (the Gateway must allow ListenerSets). It
 * serves the user's Secret (routing.tls.secretName) when given, else the one cert-manager writes for the Certificate.
 */
export function listenerSet(app: NebariApp, eff: EffectiveSpec, names: ChildNames, config: OperatorConfig): KubeObject {
  return withDesiredHash({
    apiVersion: LISTENERSET.apiVersion,
    kind: LISTENERSET.kind,
    metadata: childMetadata(app, COMPONENTS.listenerSet, names.listenerSet, eff.namespace),
    spec: {
      parentRef: { group: GATEWAY_GROUP, kind: 'Gateway', name: eff.gateway.name, namespace: eff.gateway.namespace },
      listeners: [
        {
          name: HTTPS_LISTENER_NAME,
          hostname: eff.hostname,
          port: config.httpsPort,
          protocol: 'HTTPS',
          tls: { mode: 'Terminate', certificateRefs: [{ group: '', kind: 'Secret', name: eff.tlsSecretName ?? names.tlsSecret }] },
          allowedRoutes: { namespaces: { from: 'Same' } },
        },
      ],
    },
  });
}

/** cert-manager Certificate for the hostname. Precondition (state.ts): a ClusterIssuer is configured, no tls.secretName. */
export function certificate(app: NebariApp, eff: EffectiveSpec, names: ChildNames, config: OperatorConfig): KubeObject {
  return withDesiredHash({
    apiVersion: CERTIFICATE.apiVersion,
    kind: CERTIFICATE.kind,
    metadata: childMetadata(app, COMPONENTS.certificate, names.certificate, eff.namespace),
    spec: {
      secretName: names.tlsSecret,
      dnsNames: [eff.hostname],
      issuerRef: { group: 'cert-manager.io', kind: 'ClusterIssuer', name: config.clusterIssuer! },
      // labels let the finalizer find (and delete) the Secret, which cert-manager leaves behind by default
      secretTemplate: {
        labels: childLabels(app, COMPONENTS.certificate),
        annotations: { [OWNER_ANNOTATION]: `${app.metadata.namespace}/${app.metadata.name}` },
      },
    },
  });
}

/** Cookie names fixed per app (stable across operator restarts and replicas, distinct per app on a shared domain). */
export function oidcCookieNames(app: NebariApp): { idToken: string; accessToken: string } {
  const suffix = shortHash(`${app.metadata.namespace}/${app.metadata.name}`);
  return { idToken: `IdToken-${suffix}`, accessToken: `AccessToken-${suffix}` };
}

/** JWKS URI for group checks: operator config (keycloak, default Keycloak's certs endpoint) or discovery (generic-oidc). */
export function jwksURI(eff: EffectiveSpec, config: OperatorConfig, discovered: string | undefined): string | undefined {
  if (!eff.auth) return undefined;
  if (eff.auth.provider === 'generic-oidc') return discovered;
  if (config.oidc.jwksURI) return config.oidc.jwksURI;
  return eff.auth.issuerURL ? `${eff.auth.issuerURL}/protocol/openid-connect/certs` : undefined;
}

/**
 * Keycloak's endpoints under the realm's issuer URL. Given explicitly, Envoy Gateway does not fetch the issuer's
 * discovery document when it translates the policy (a Keycloak that is down or unreachable from the controller
 * would otherwise make it refuse every policy).
 */
export function keycloakEndpoints(issuerURL: string): { authorizationEndpoint: string; tokenEndpoint: string; endSessionEndpoint: string } {
  const base = `${issuerURL.replace(/\/+$/, '')}/protocol/openid-connect`;
  return { authorizationEndpoint: `${base}/auth`, tokenEndpoint: `${base}/token`, endSessionEndpoint: `${base}/logout` };
}

/**
 * Envoy Gateway SecurityPolicy on the main route: OIDC login (issuer, client id and secret from the Secret, redirect
 * URL, logout path, scopes, forwardAccessToken, denyRedirect) and, with auth.groups, a deny-by-default authorization
 * that allows only tokens whose groups claim holds one of the groups. The token cookies stay encrypted (Envoy
 * Gateway's default): the group check verifies the ID token the OIDC filter forwards in ID_TOKEN_HEADER.
 * Preconditions (checked by state.ts): eff.auth enforced, issuerURL and secretName set, jwks set when groups given.
 */
export function securityPolicy(
  app: NebariApp,
  eff: EffectiveSpec,
  names: ChildNames,
  config: OperatorConfig,
  jwks: string | undefined,
): KubeObject {
  const auth = eff.auth!;
  const cookies = oidcCookieNames(app);
  const groups = auth.groups.length > 0;
  const oidc: Record<string, unknown> = {
    provider: { issuer: auth.issuerURL, ...(auth.provider === 'keycloak' ? keycloakEndpoints(auth.issuerURL!) : {}) },
    clientIDRef: { group: '', kind: 'Secret', name: auth.secretName },
    clientSecret: { group: '', kind: 'Secret', name: auth.secretName },
    redirectURL: `${scheme(eff)}://${eff.hostname}${auth.redirectURI}`,
    logoutPath: config.oidc.logoutPath,
    scopes: [...auth.scopes],
    forwardAccessToken: auth.forwardAccessToken,
    cookieNames: cookies,
    ...(groups ? { forwardIDToken: { header: ID_TOKEN_HEADER } } : {}),
    ...(auth.denyRedirect.length > 0
      ? { denyRedirect: { headers: auth.denyRedirect.map((h) => ({ name: h.name, type: h.type, value: h.value })) } }
      : {}),
  };
  const spec: Record<string, unknown> = {
    targetRefs: [{ group: GATEWAY_GROUP, kind: HTTPROUTE.kind, name: names.mainRoute }],
    oidc,
  };
  if (groups) {
    spec['jwt'] = {
      providers: [
        { name: JWT_PROVIDER_NAME, issuer: auth.issuerURL, remoteJWKS: { uri: jwks }, extractFrom: { headers: [{ name: ID_TOKEN_HEADER }] } },
      ],
    };
    spec['authorization'] = {
      defaultAction: 'Deny',
      rules: [
        {
          name: 'allow-groups',
          action: 'Allow',
          principal: {
            jwt: { provider: JWT_PROVIDER_NAME, claims: [{ name: config.oidc.groupsClaim, valueType: 'StringArray', values: [...auth.groups] }] },
          },
        },
      ],
    };
  }
  return withDesiredHash({
    apiVersion: SECURITYPOLICY.apiVersion,
    kind: SECURITYPOLICY.kind,
    metadata: childMetadata(app, COMPONENTS.securityPolicy, names.securityPolicy, eff.namespace),
    spec,
  });
}

/** Keys the client Secret must hold for the gateway (Envoy Gateway reads client-id and client-secret). */
export const REQUIRED_SECRET_KEYS = [SECRET_KEYS.clientId, SECRET_KEYS.clientSecret] as const;
