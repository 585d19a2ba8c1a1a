// TypeScript types derived from the schema (schema.ts) plus the constants of the NebariApp contract.
// Everything that names the API (group, kinds, condition types, reasons, labels, annotations, finalizer,
// child-name rules) lives here once.
import { createHash } from 'node:crypto';
import type { Static } from '@sinclair/typebox';
import type {
  NebariAppSpecSchema,
  NebariAppStatusSchema,
  ConditionSchema,
  ServiceDiscoverySchema,
  ObjectRefSchema,
  RouteMatchSchema,
  AuthSchema,
  RoutingSchema,
  LandingPageSchema,
  DenyRedirectHeaderSchema,
  HealthCheckSchema,
} from './schema.js';

// ---------------------------------------------------------------------------------------------------------------
// identity of the API

export const GROUP = 'reconcilers.nebari.dev';
export const VERSION = 'v1';
export const API_VERSION = `${GROUP}/${VERSION}`;
export const KIND = 'NebariApp';
export const LIST_KIND = 'NebariAppList';
export const PLURAL = 'nebariapps';
export const SINGULAR = 'nebariapp';
export const SHORT_NAMES = ['nebariapp'] as const;
export const CRD_NAME = `${PLURAL}.${GROUP}`;

// ---------------------------------------------------------------------------------------------------------------
// types

export type NebariAppSpec = Static<typeof NebariAppSpecSchema>;
export type NebariAppStatus = Static<typeof NebariAppStatusSchema>;
export type Condition = Static<typeof ConditionSchema>;
export type ServiceDiscovery = Static<typeof ServiceDiscoverySchema>;
export type ObjectRef = Static<typeof ObjectRefSchema>;
export type RouteMatch = Static<typeof RouteMatchSchema>;
export type AuthSpec = Static<typeof AuthSchema>;
export type RoutingSpec = Static<typeof RoutingSchema>;
export type LandingPageSpec = Static<typeof LandingPageSchema>;
export type DenyRedirectHeader = Static<typeof DenyRedirectHeaderSchema>;
export type HealthCheckSpec = Static<typeof HealthCheckSchema>;

/** The subset of ObjectMeta the operator reads. Timestamps arrive as RFC 3339 strings (or Date from client-node). */
export interface NebariAppMetadata {
  name: string;
  namespace: string;
  uid?: string;
  generation?: number;
  resourceVersion?: string;
  creationTimestamp?: string | Date;
  deletionTimestamp?: string | Date;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
}

export interface NebariApp {
  apiVersion: typeof API_VERSION;
  kind: typeof KIND;
  metadata: NebariAppMetadata;
  spec: NebariAppSpec;
  status?: NebariAppStatus;
}

// ---------------------------------------------------------------------------------------------------------------
// conditions and reasons

export const CONDITION_TYPES = {
  RoutingReady: 'RoutingReady',
  TLSReady: 'TLSReady',
  AuthReady: 'AuthReady',
  Ready: 'Ready',
} as const;
export type ConditionType = (typeof CONDITION_TYPES)[keyof typeof CONDITION_TYPES];

/** Reasons of the contract: never rename. */
export const CONTRACT_REASONS = {
  Available: 'Available',
  Reconciling: 'Reconciling',
  ReconcileSuccess: 'ReconcileSuccess',
  ValidationSuccess: 'ValidationSuccess',
  Failed: 'Failed',
  NamespaceNotOptedIn: 'NamespaceNotOptedIn',
  ServiceNotFound: 'ServiceNotFound',
  SecretNotFound: 'SecretNotFound',
  GatewayNotFound: 'GatewayNotFound',
  GatewayListenerConflict: 'GatewayListenerConflict',
  CertificateNotReady: 'CertificateNotReady',
} as const;

/** Precise reasons added where the contract's are too coarse. */
export const EXTRA_REASONS = {
  /** The spec passed the CRD but breaks a rule only the operator can check (e.g. a hostname label over 63 chars). */
  ValidationFailed: 'ValidationFailed',
  /** spec.routing is absent: the operator manages no routes (RoutingReady/TLSReady are True with this reason). */
  RoutingDisabled: 'RoutingDisabled',
  /** routing.tls.enabled is false: HTTP only (v0.1.0's name). */
  TLSDisabled: 'TLSDisabled',
  /** TLSReady (v0.1.0's name): the operator has no cert-manager ClusterIssuer configured (--cluster-issuer empty) and
   * the app gives no routing.tls.secretName, so there is no certificate: nothing is routed over HTTPS for it. */
  ClusterIssuerNotConfigured: 'ClusterIssuerNotConfigured',
  /** TLSReady True (v0.1.0's name): the listener serves the kubernetes.io/tls Secret named in routing.tls.secretName. */
  UserProvidedSecretReady: 'UserProvidedSecretReady',
  /** TLSReady (v0.1.0's name): routing.tls.secretName names a Secret that does not exist (yet); the listener is written
   * anyway and picks it up once it appears. */
  UserProvidedSecretNotFound: 'UserProvidedSecretNotFound',
  /** TLSReady (v0.1.0's name): the Secret named in routing.tls.secretName is not of type kubernetes.io/tls. */
  UserProvidedSecretInvalidType: 'UserProvidedSecretInvalidType',
  /** AuthReady (v0.1.0's name): provider generic-oidc with auth.provisionClient left true and no auth.clientSecretRef:
   * the operator provisions clients in Keycloak only. */
  ProvisioningNotSupported: 'ProvisioningNotSupported',
  /** The gateway has not (yet) accepted the per-app listener. */
  ListenerNotReady: 'ListenerNotReady',
  /** The client Secret exists but lacks a required key (client-id / client-secret). */
  SecretKeyMissing: 'SecretKeyMissing',
  /** The operator is configured without an OIDC issuer URL for provider keycloak. */
  IssuerNotConfigured: 'IssuerNotConfigured',
  /** Auth is enabled but enforceAtGateway is false: client and Secret only, the app does OAuth itself. */
  AppEnforcedAuth: 'AppEnforcedAuth',
  /** Auth is enforced at the gateway but its SecurityPolicy cannot exist yet: the route is withheld so the app is
   * never served without login. */
  AuthNotReady: 'AuthNotReady',
  /** The NebariApp is being deleted. */
  Deleting: 'Deleting',
  /** AuthReady: Keycloak cannot be reached, timed out or answered 5xx (retried with backoff). */
  KeycloakUnavailable: 'KeycloakUnavailable',
  /** AuthReady: the operator's Keycloak admin credentials are missing, wrong or lack rights. */
  KeycloakUnauthorized: 'KeycloakUnauthorized',
  /** AuthReady: the client id is taken by a Keycloak client this app does not own. */
  KeycloakClientConflict: 'KeycloakClientConflict',
  /** AuthReady: Keycloak rejected a provisioning request (400, realm not found, ...). */
  KeycloakRequestRejected: 'KeycloakRequestRejected',
  /** RoutingReady: the gateway controller refused an HTTPRoute (Accepted or ResolvedRefs False on its parent); the
   * message carries the controller's own reason and message. */
  RouteNotAccepted: 'RouteNotAccepted',
  /** AuthReady: the gateway controller refused the SecurityPolicy (Accepted False on an ancestor); v0.1.0's name,
   * the message carries the controller's reason and message. */
  SecurityPolicyFailed: 'SecurityPolicyFailed',
  /** A child (HTTPRoute, SecurityPolicy, Certificate, ListenerSet, ReferenceGrant, or the `<name>-oidc-client`
   * Secret and its Role/RoleBinding) already exists under its name and is not this app's: it is left untouched. */
  ResourceNotOwned: 'ResourceNotOwned',
} as const;

export const REASONS = { ...CONTRACT_REASONS, ...EXTRA_REASONS } as const;
export type Reason = (typeof REASONS)[keyof typeof REASONS];

// ---------------------------------------------------------------------------------------------------------------
// labels, annotations, finalizer, field manager

/** Namespace opt-in label: only namespaces labelled `nebari.dev/managed=true` get children. */
export const MANAGED_NAMESPACE_LABEL = 'nebari.dev/managed';
export const MANAGED_NAMESPACE_VALUE = 'true';
/** Annotation that forces Keycloak client re-provisioning; the operator removes it afterwards. */
export const FORCE_REPROVISION_ANNOTATION = 'nebari.dev/force-reprovision';
export const FINALIZER = `${GROUP}/cleanup`;
/**
 * Escape hatch for deleting an app while Keycloak cannot remove its clients: with `nebari.dev/orphan-keycloak-clients:
 * "true"` on the NebariApp the finalizer leaves the clients in Keycloak (recorded in a Warning Event
 * KeycloakClientOrphaned and the log) and lets the app go.
 */
export const KEYCLOAK_ORPHAN_ANNOTATION = 'nebari.dev/orphan-keycloak-clients';
/** The single server-side-apply field manager of the operator. */
export const FIELD_MANAGER = 'nebari-operator';
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY_VALUE = 'nebari-operator';
/** Owner labels on every child (values shortened with a stable hash when over 63 chars). */
export const OWNER_NAME_LABEL = `${GROUP}/nebariapp-name`;
export const OWNER_NAMESPACE_LABEL = `${GROUP}/nebariapp-namespace`;
/** Authoritative owner of a child as `namespace/name` (annotations have no 63-char limit). */
export const OWNER_ANNOTATION = `${GROUP}/owner`;
/** Which role a child plays (main-route, public-route, listenerset, certificate, securitypolicy, referencegrant, ...). */
export const COMPONENT_LABEL = `${GROUP}/component`;

/** Keys of the OIDC client Secret. */
export const SECRET_KEYS = {
  clientId: 'client-id',
  clientSecret: 'client-secret',
  issuerUrl: 'issuer-url',
  spaClientId: 'spa-client-id',
  deviceClientId: 'device-client-id',
} as const;

// ---------------------------------------------------------------------------------------------------------------
// name rules

/** Kubernetes limits. */
export const DNS_LABEL_MAX = 63;
export const DNS_SUBDOMAIN_MAX = 253;

/** Short stable hash (hex) of a string. */
export function shortHash(input: string, length = 8): string {
  return createHash('sha256').update(input).digest('hex').slice(0, length);
}

/**
 * `name` unchanged when it fits in `max`, else cut and suffixed with `-<hash of the full name>` so different long
 * names never collide and the same input always gives the same output. The result stays DNS-1123 friendly
 * (no trailing '-' or '.').
 */
export function fitName(name: string, max: number = DNS_SUBDOMAIN_MAX): string {
  if (name.length <= max) return name;
  const hash = shortHash(name);
  const head = name.slice(0, max - hash.length - 1).replace(/[-.]+$/, '');
  return `${head}-${hash}`;
}

/** A label value within 63 chars (same rule as fitName). */
export function labelValue(value: string): string {
  return fitName(value, DNS_LABEL_MAX);
}

/** Name of the OIDC client Secret: `<name>-oidc-client`. */
export function clientSecretName(appName: string): string {
  return fitName(`${appName}-oidc-client`, DNS_SUBDOMAIN_MAX);
}

/** OIDC client id: `<namespace>-<name>`. */
export function clientId(namespace: string, name: string): string {
  return `${namespace}-${name}`;
}

/** Public PKCE client id: spaClient.clientId or `<namespace>-<name>-spa`. */
export function spaClientId(namespace: string, name: string, override?: string): string {
  return override && override.length > 0 ? override : `${namespace}-${name}-spa`;
}

/** Device-flow client id: `<namespace>-<name>-device`. */
export function deviceClientId(namespace: string, name: string): string {
  return `${namespace}-${name}-device`;
}

/** `namespace/name` key of an object (the work queue's key). */
export function objectKey(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}
