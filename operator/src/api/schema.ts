// The NebariApp schema, written once. The CRD YAML (crd.ts), the TypeScript types (types.ts) and every validator
// (validate.ts: operator, pack validator, policy pack) derive from the objects in this file.
//
// The schema is built with TypeBox so `Static<typeof X>` gives the TS types; it stays a *structural* OpenAPI v3
// schema as the API server requires (every node typed, no anyOf/oneOf, maps as additionalProperties).
// CEL rules live in `celRules` below: each rule carries its CEL expression for the API server AND an equivalent
// TypeScript predicate for the offline validators, so the two can never be written twice.
import { Type, type TSchema, type Static, type SchemaOptions } from '@sinclair/typebox';

// ---------------------------------------------------------------------------------------------------------------
// helpers that keep the schema structural

/** A string enum as `{type: string, enum: [...]}` (TypeBox's Union of literals would produce anyOf). */
export function StringEnum<const T extends readonly string[]>(values: T, options: SchemaOptions = {}) {
  return Type.Unsafe<T[number]>({ ...options, type: 'string', enum: [...values] });
}

/** A map of string to string as `{type: object, additionalProperties: {type: string}}`. */
export function StringMap(options: SchemaOptions = {}) {
  return Type.Unsafe<Record<string, string>>({ ...options, type: 'object', additionalProperties: { type: 'string' } });
}

// ---------------------------------------------------------------------------------------------------------------
// patterns and enumerations of the contract

/** Hostname pattern of the contract (lower-case FQDN). */
export const HOSTNAME_PATTERN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';
/** DNS-1035 label: what a Service name must be. */
export const DNS1035_LABEL_PATTERN = '^[a-z]([-a-z0-9]*[a-z0-9])?$';
/** DNS-1123 label: what a namespace name must be. */
export const DNS1123_LABEL_PATTERN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';
/** DNS-1123 subdomain: what Secret and ServiceAccount names must be. */
export const DNS1123_SUBDOMAIN_PATTERN = HOSTNAME_PATTERN;
/** HTTP header name (RFC 7230 token). */
export const HEADER_NAME_PATTERN = "^[A-Za-z0-9!#$%&'*+\\-.^_`|~]+$";
/** An OAuth scope token: no whitespace, no quotes or backslash (RFC 6749 3.3). */
export const SCOPE_PATTERN = '^[\\x21\\x23-\\x5B\\x5D-\\x7E]+$';
/** A URL path: starts with "/", no whitespace. */
export const PATH_PATTERN = '^/[^\\s]*$';
/** An absolute http(s) URL without whitespace. */
export const HTTP_URL_PATTERN = '^https?://[^\\s]+$';
/**
 * An OIDC issuer the gateway accepts: Envoy Gateway's SecurityPolicy takes only `https://host[/path]` (no query,
 * fragment or user info); this is that rule, without whitespace.
 */
export const HTTPS_ISSUER_PATTERN = '^https://[^/?#@\\s]+(/[^?#\\s]*)?$';

export const PATH_TYPES = ['PathPrefix', 'Exact'] as const;
export const AUTH_PROVIDERS = ['keycloak', 'generic-oidc'] as const;
export const GATEWAYS = ['public', 'internal'] as const;
export const HEADER_MATCH_TYPES = ['Exact', 'Prefix', 'Suffix', 'RegularExpression'] as const;
export const BUILTIN_ICONS = ['jupyter', 'grafana', 'prometheus', 'keycloak', 'argocd', 'kubernetes'] as const;
export const VISIBILITIES = ['public', 'private'] as const;
export const CONDITION_STATUSES = ['True', 'False', 'Unknown'] as const;

/** Default OIDC scopes of the contract. */
export const DEFAULT_SCOPES = ['openid', 'profile', 'email'] as const;
export const DEFAULT_REDIRECT_URI = '/oauth2/callback';
export const DEFAULT_PRIORITY = 100;
export const DEFAULT_HEALTH_PATH = '/health';
export const DEFAULT_HEALTH_INTERVAL_SECONDS = 30;
export const DEFAULT_HEALTH_TIMEOUT_SECONDS = 5;

/** Limits that keep generated children valid: one HTTPRoute rule carries at most 64 matches (Gateway API). */
export const MAX_ROUTES = 64;
export const MAX_PATH_LENGTH = 1024;

// ---------------------------------------------------------------------------------------------------------------
// CEL rules: one list, used for the CRD (x-kubernetes-validations) and, through `check`, by validate.ts

export interface CelRule {
  /** Where the rule sits: a JSON path of schema locations, `[]` items marked with `*` (e.g. `spec.auth`). */
  readonly at: string;
  /** CEL expression evaluated by the API server with `self` bound to the object at `at`. */
  readonly rule: string;
  /** Message shown when the rule fails (kubectl prints it; validate.ts returns it). */
  readonly message: string;
  /** Field the message is about, relative to `at` (used for the error's field path). */
  readonly field: string;
  /** The same rule in TypeScript, evaluated on the object at `at` after defaulting. true = valid. */
  readonly check: (self: Record<string, unknown>) => boolean;
}

const truthy = (v: unknown): boolean => v === true;
const nonEmptyString = (v: unknown): boolean => typeof v === 'string' && v.length > 0;

export const celRules: readonly CelRule[] = [
  {
    at: 'spec.auth',
    field: 'forwardAccessToken',
    rule: '!has(self.forwardAccessToken) || !self.forwardAccessToken || !has(self.enforceAtGateway) || self.enforceAtGateway',
    message: 'forwardAccessToken: true requires enforceAtGateway: true (the gateway is what forwards the token)',
    check: (s) => !truthy(s['forwardAccessToken']) || s['enforceAtGateway'] !== false,
  },
  {
    at: 'spec.auth',
    field: 'denyRedirect',
    rule: '!has(self.denyRedirect) || size(self.denyRedirect) == 0 || !has(self.enforceAtGateway) || self.enforceAtGateway',
    message: 'denyRedirect is only allowed with enforceAtGateway: true (the gateway is what redirects to login)',
    check: (s) => !Array.isArray(s['denyRedirect']) || s['denyRedirect'].length === 0 || s['enforceAtGateway'] !== false,
  },
  {
    at: 'spec.auth',
    field: 'issuerURL',
    rule: "!has(self.provider) || self.provider != 'generic-oidc' || (has(self.issuerURL) && size(self.issuerURL) > 0)",
    message: 'issuerURL is required when provider is generic-oidc',
    check: (s) => s['provider'] !== 'generic-oidc' || nonEmptyString(s['issuerURL']),
  },
  {
    at: 'spec.landingPage',
    field: 'displayName',
    rule: '!has(self.enabled) || !self.enabled || (has(self.displayName) && size(self.displayName) > 0)',
    message: 'displayName is required when landingPage.enabled is true',
    check: (s) => !truthy(s['enabled']) || nonEmptyString(s['displayName']),
  },
  {
    at: 'spec.routing.routes.*',
    field: 'pathPrefix',
    rule: "self.pathPrefix.startsWith('/')",
    message: 'pathPrefix must start with "/"',
    check: (s) => typeof s['pathPrefix'] === 'string' && s['pathPrefix'].startsWith('/'),
  },
  {
    at: 'spec.routing.publicRoutes.*',
    field: 'pathPrefix',
    rule: "self.pathPrefix.startsWith('/')",
    message: 'pathPrefix must start with "/"',
    check: (s) => typeof s['pathPrefix'] === 'string' && s['pathPrefix'].startsWith('/'),
  },
];

function cel(at: string): SchemaOptions {
  const rules = celRules.filter((r) => r.at === at);
  if (rules.length === 0) return {};
  return {
    'x-kubernetes-validations': rules.map((r) => ({ rule: r.rule, message: r.message, fieldPath: `.${r.field}` })),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// spec

const Int32 = (options: SchemaOptions) => Type.Integer({ format: 'int32', ...options });

export const ServiceReferenceSchema = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 63, pattern: DNS1035_LABEL_PATTERN, description: 'Backend Service name.' }),
    port: Int32({ minimum: 1, maximum: 65535, description: 'Port of that Service (1..65535).' }),
    namespace: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 63,
        pattern: DNS1123_LABEL_PATTERN,
        description: "Namespace of the Service; defaults to the NebariApp's namespace (cross-namespace backends are allowed).",
      }),
    ),
  },
  { description: 'The backend Service that receives traffic.' },
);

function routeMatch(defaultPathType: (typeof PATH_TYPES)[number], at: string) {
  return Type.Object(
    {
      pathPrefix: Type.String({ minLength: 1, maxLength: MAX_PATH_LENGTH, description: 'Path to match; must start with "/".' }),
      pathType: Type.Optional(
        StringEnum(PATH_TYPES, { default: defaultPathType, description: `PathPrefix or Exact (default ${defaultPathType} here).` }),
      ),
    },
    cel(at),
  );
}

export const RouteMatchSchema = routeMatch('PathPrefix', 'spec.routing.routes.*');
export const PublicRouteMatchSchema = routeMatch('Exact', 'spec.routing.publicRoutes.*');

export const RoutingTLSSchema = Type.Object(
  {
    enabled: Type.Optional(
      Type.Boolean({ default: true, description: 'Certificate via cert-manager + HTTPS listener; false: HTTP only.' }),
    ),
    secretName: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 253,
        pattern: DNS1123_SUBDOMAIN_PATTERN,
        description:
          "A kubernetes.io/tls Secret in the NebariApp's namespace, served instead of a cert-manager Certificate (ignored when enabled is false).",
      }),
    ),
  },
  { description: 'TLS for the hostname (defaulted to {} so enabled defaults to true whenever routing is set).', default: {} },
);

export const RoutingSchema = Type.Object(
  {
    routes: Type.Optional(
      Type.Array(RouteMatchSchema, { maxItems: MAX_ROUTES, description: 'Path rules; absent or empty: all paths.' }),
    ),
    publicRoutes: Type.Optional(
      Type.Array(PublicRouteMatchSchema, {
        maxItems: MAX_ROUTES,
        description: 'Paths that skip login when auth is enforced at the gateway (separate route, pathType defaults to Exact).',
      }),
    ),
    tls: Type.Optional(RoutingTLSSchema),
    annotations: Type.Optional(StringMap({ description: 'Merged onto generated routes; operator-set keys win.' })),
  },
  { description: 'Absent: no routes are managed (existing ones are removed) and TLS counts as disabled.' },
);

export const DenyRedirectHeaderSchema = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 256, pattern: HEADER_NAME_PATTERN, description: 'Request header name.' }),
  // 1024: Envoy Gateway's SecurityPolicy limit (a longer value would make the API server refuse the policy)
  value: Type.String({ minLength: 1, maxLength: 1024, description: 'Value to match.' }),
  type: Type.Optional(StringEnum(HEADER_MATCH_TYPES, { default: 'Exact', description: 'How the value is matched.' })),
});

export const SPAClientSchema = Type.Object(
  {
    enabled: Type.Optional(Type.Boolean({ default: false })),
    clientId: Type.Optional(
      Type.String({ minLength: 1, maxLength: 255, description: 'Client id override; default <namespace>-<name>-spa.' }),
    ),
  },
  { description: 'Also provision a public PKCE client for browser apps.' },
);

export const DeviceFlowClientSchema = Type.Object(
  { enabled: Type.Optional(Type.Boolean({ default: false })) },
  { description: 'Also provision a public client for the device authorization grant (CLIs).' },
);

export const KeycloakGroupSchema = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 255, description: 'Realm group to ensure exists.' }),
  members: Type.Optional(
    Type.Array(Type.String({ minLength: 1, maxLength: 255 }), { maxItems: 1000, description: 'Usernames added to the group.' }),
  ),
});

export const KeycloakProtocolMapperSchema = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 255 }),
  protocolMapper: Type.String({ minLength: 1, maxLength: 255, description: 'Mapper type, e.g. oidc-group-membership-mapper.' }),
  config: Type.Optional(StringMap({ description: 'Mapper configuration.' })),
});

export const KeycloakConfigSchema = Type.Object(
  {
    groups: Type.Optional(Type.Array(KeycloakGroupSchema, { maxItems: 256 })),
      protocolMappers: Type.Optional(
      Type.Array(KeycloakProtocolMapperSchema, {
        maxItems: 64,
        description: "Client protocol mappers; when given they replace the operator's default mappers (groups, audience).",
      }),
    ),
  },
  { description: 'Realm groups (optionally with members) and client protocol mappers.' },
);

export const TokenExchangeSchema = Type.Object({
  enabled: Type.Optional(Type.Boolean({ default: false })),
});

export const AuthSchema = Type.Object(
  {
    enabled: Type.Optional(Type.Boolean({ default: false, description: 'Require OIDC login.' })),
    provider: Type.Optional(StringEnum(AUTH_PROVIDERS, { default: 'keycloak' })),
    provisionClient: Type.Optional(
      Type.Boolean({
        default: true,
        description: 'Create the OIDC client (keycloak only) and a Secret <name>-oidc-client (client-id, client-secret, issuer-url).',
      }),
    ),
    enforceAtGateway: Type.Optional(
      Type.Boolean({ default: true, description: 'Create the gateway SecurityPolicy; false: the app does OAuth itself.' }),
    ),
    forwardAccessToken: Type.Optional(
      Type.Boolean({ default: false, description: 'Pass the access token upstream as Authorization: Bearer.' }),
    ),
    denyRedirect: Type.Optional(
      Type.Array(DenyRedirectHeaderSchema, { maxItems: 16, description: 'Request headers that get 401 instead of a login redirect.' }),
    ),
    redirectURI: Type.Optional(
      Type.String({
        default: DEFAULT_REDIRECT_URI,
        minLength: 1,
        maxLength: MAX_PATH_LENGTH,
        pattern: PATH_PATTERN,
        description: 'Callback path on the hostname.',
      }),
    ),
    clientSecretRef: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 253,
        pattern: DNS1123_SUBDOMAIN_PATTERN,
        description: 'Existing Secret (keys client-id, client-secret) to use instead of provisioning.',
      }),
    ),
    scopes: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 256, pattern: SCOPE_PATTERN }), {
        maxItems: 32,
        default: [...DEFAULT_SCOPES],
      }),
    ),
    groups: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 255 }), {
        maxItems: 64,
        description: 'Only members of these groups get in (case-sensitive).',
      }),
    ),
    issuerURL: Type.Optional(
      Type.String({
        maxLength: 2048,
        pattern: HTTPS_ISSUER_PATTERN,
        description: 'Required for generic-oidc, ignored for keycloak. An https:// URL (the gateway accepts no other issuer).',
      }),
    ),
    spaClient: Type.Optional(SPAClientSchema),
    deviceFlowClient: Type.Optional(DeviceFlowClientSchema),
    keycloakConfig: Type.Optional(KeycloakConfigSchema),
    tokenExchange: Type.Optional(TokenExchangeSchema),
  },
  { description: 'OIDC login.', ...cel('spec.auth') },
);

export const HealthCheckSchema = Type.Object({
  enabled: Type.Optional(Type.Boolean({ default: false })),
  path: Type.Optional(Type.String({ default: DEFAULT_HEALTH_PATH, minLength: 1, maxLength: MAX_PATH_LENGTH, pattern: PATH_PATTERN })),
  port: Type.Optional(Int32({ minimum: 1, maximum: 65535, description: 'Defaults to service.port.' })),
  intervalSeconds: Type.Optional(Int32({ default: DEFAULT_HEALTH_INTERVAL_SECONDS, minimum: 10, maximum: 300 })),
  timeoutSeconds: Type.Optional(Int32({ default: DEFAULT_HEALTH_TIMEOUT_SECONDS, minimum: 1, maximum: 30 })),
});

export const LandingPageSchema = Type.Object(
  {
    enabled: Type.Optional(Type.Boolean({ default: false, description: 'Show on the landing page.' })),
    displayName: Type.Optional(Type.String({ maxLength: 64 })),
    description: Type.Optional(Type.String({ maxLength: 256 })),
    icon: Type.Optional(
      Type.String({ maxLength: 2048, description: `Built-in id (${BUILTIN_ICONS.join(', ')}) or URL.` }),
    ),
    iconLight: Type.Optional(
      Type.String({ maxLength: 2048, description: 'Light-theme variant of icon (same forms); mirrored in status.serviceDiscovery.' }),
    ),
    iconDark: Type.Optional(
      Type.String({ maxLength: 2048, description: 'Dark-theme variant of icon (same forms); mirrored in status.serviceDiscovery.' }),
    ),
    category: Type.Optional(Type.String({ maxLength: 64, description: 'e.g. Development, Monitoring, Platform, Data Science.' })),
    priority: Type.Optional(Int32({ default: DEFAULT_PRIORITY, minimum: 0, maximum: 1000, description: 'Lower sorts first.' })),
    externalUrl: Type.Optional(Type.String({ maxLength: 2048, pattern: HTTP_URL_PATTERN, description: "Overrides the card's link." })),
    healthCheck: Type.Optional(HealthCheckSchema),
  },
  cel('spec.landingPage'),
);

export const NebariAppSpecSchema = Type.Object(
  {
    hostname: Type.String({ minLength: 1, maxLength: 253, pattern: HOSTNAME_PATTERN, description: 'FQDN the app is served on.' }),
    service: ServiceReferenceSchema,
    routing: Type.Optional(RoutingSchema),
    auth: Type.Optional(AuthSchema),
    gateway: Type.Optional(StringEnum(GATEWAYS, { default: 'public', description: 'Which shared Gateway serves it.' })),
    serviceAccountName: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 253,
        pattern: DNS1123_SUBDOMAIN_PATTERN,
        description: "Only this ServiceAccount may read the OIDC Secret; defaults to the NebariApp's name.",
      }),
    ),
    landingPage: Type.Optional(LandingPageSchema),
  },
  { description: 'How the app plugs into the platform.' },
);

// ---------------------------------------------------------------------------------------------------------------
// status

export const ConditionSchema = Type.Object({
  type: Type.String({ minLength: 1, maxLength: 316, pattern: '^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$' }),
  status: StringEnum(CONDITION_STATUSES),
  reason: Type.String({ minLength: 1, maxLength: 1024, pattern: '^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$' }),
  message: Type.String({ maxLength: 32768 }),
  lastTransitionTime: Type.String({ format: 'date-time' }),
  observedGeneration: Type.Optional(Type.Integer({ format: 'int64', minimum: 0 })),
});

export const ObjectRefSchema = Type.Object({
  name: Type.String(),
  namespace: Type.String(),
});

export const ServiceDiscoverySchema = Type.Object({
  enabled: Type.Boolean(),
  displayName: Type.Optional(Type.String()),
  description: Type.Optional(Type.String()),
  url: Type.Optional(Type.String()),
  icon: Type.Optional(Type.String()),
  iconLight: Type.Optional(Type.String()),
  iconDark: Type.Optional(Type.String()),
  category: Type.Optional(Type.String()),
  priority: Type.Optional(Int32({ minimum: 0, maximum: 1000 })),
  visibility: Type.Optional(StringEnum(VISIBILITIES)),
  requiredGroups: Type.Optional(Type.Array(Type.String())),
});

export const NebariAppStatusSchema = Type.Object({
  observedGeneration: Type.Optional(Type.Integer({ format: 'int64', minimum: 0 })),
  conditions: Type.Optional(
    Type.Array(ConditionSchema, { maxItems: 32, 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['type'] }),
  ),
  hostname: Type.Optional(Type.String()),
  gatewayRef: Type.Optional(ObjectRefSchema),
  clientSecretRef: Type.Optional(ObjectRefSchema),
  authConfigHash: Type.Optional(Type.String({ description: 'SHA-256 of the provisioned client config.' })),
  serviceDiscovery: Type.Optional(ServiceDiscoverySchema),
});

/** The whole object as the CRD's openAPIV3Schema. */
export const NebariAppSchema = Type.Object(
  {
    apiVersion: Type.Optional(Type.String()),
    kind: Type.Optional(Type.String()),
    metadata: Type.Optional(Type.Unsafe<Record<string, unknown>>({ type: 'object' })),
    spec: NebariAppSpecSchema,
    status: Type.Optional(NebariAppStatusSchema),
  },
  { description: 'NebariApp: how a pack plugs into the platform (routing, TLS, login, landing page).' },
);

export type Schema = TSchema;
export type NebariAppSpecStatic = Static<typeof NebariAppSpecSchema>;
export type NebariAppStatusStatic = Static<typeof NebariAppStatusSchema>;

/** A plain JSON copy of a schema (drops TypeBox's symbol keys). */
export function plainSchema(schema: TSchema): Record<string, unknown> {
  return JSON.parse(JSON.stringify(schema)) as Record<string, unknown>;
}
