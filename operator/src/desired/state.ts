// The desired state of one NebariApp: every child object and the status, as a pure function of
// (NebariApp, observed facts, operator config, now). The runtime applies `children` (where needsWrite says so),
// deletes owned children of CHILD_KINDS that are not listed, and writes `status` when statusNeedsWrite says so.
import {
  CONDITION_TYPES,
  MANAGED_NAMESPACE_LABEL,
  MANAGED_NAMESPACE_VALUE,
  REASONS,
  type NebariApp,
  type NebariAppStatus,
} from '../api/types.js';
import { formatErrors, validateSpec, type ValidationError } from '../api/validate.js';
import { conflictingHolder } from './claims.js';
import {
  REQUIRED_SECRET_KEYS,
  certificate,
  jwksURI,
  listenerSet,
  mainHttpRoute,
  publicHttpRoute,
  referenceGrant,
  securityPolicy,
} from './children.js';
import { TLS_SECRET_TYPE, type AcceptanceFact, type ObservedFacts, type OperatorConfig } from './facts.js';
import { childNames, type ChildNames, type KubeObject } from './objects.js';
import { effectiveSpec, type EffectiveSpec } from './resolve.js';
import { buildConditions, readyCondition, serviceDiscovery, type ConditionInput } from './status.js';

export interface DesiredState {
  /** Objects that must exist, fully specified for server-side apply. Owned objects of CHILD_KINDS not listed here must go. */
  children: KubeObject[];
  /** The status to write through the status subresource. */
  status: NebariAppStatus;
  /** The condition decisions (same as status.conditions without timestamps). */
  conditions: ConditionInput[];
  /** Why the spec was refused (reason ValidationFailed); empty when valid. */
  errors: ValidationError[];
  /** The effective spec (undefined when the spec is invalid). */
  effective: EffectiveSpec | undefined;
  names: ChildNames;
}

const T = CONDITION_TYPES;

function allFalse(app: NebariApp, reason: ConditionInput['reason'], message: string): ConditionInput[] {
  const types: ConditionInput['type'][] = [T.RoutingReady, T.TLSReady];
  if (app.spec?.auth?.enabled === true) types.push(T.AuthReady);
  const conds: ConditionInput[] = types.map((type) => ({ type, status: 'False', reason, message }));
  return [...conds, readyCondition(conds)];
}

interface AuthDecision {
  /** undefined when auth is disabled. */
  condition: ConditionInput | undefined;
  /** Auth is enforced at the gateway and everything the SecurityPolicy needs is present. */
  policyPossible: boolean;
  jwks: string | undefined;
}

/** What auth needs before a SecurityPolicy can exist (client Secret with keys, issuer, JWKS for group checks). */
export function authPrerequisites(eff: EffectiveSpec, facts: ObservedFacts, config: OperatorConfig): AuthDecision {
  const auth = eff.auth;
  if (!auth) return { condition: undefined, policyPossible: false, jwks: undefined };
  const fail = (reason: ConditionInput['reason'], message: string): AuthDecision => ({
    condition: { type: T.AuthReady, status: 'False', reason, message },
    policyPossible: false,
    jwks: undefined,
  });
  if (auth.provisioningUnsupported) {
    return fail(
      REASONS.ProvisioningNotSupported,
      'provider generic-oidc does not support client provisioning (auth.provisionClient defaults to true; the operator provisions clients in Keycloak only): set auth.clientSecretRef to a Secret with keys client-id and client-secret, and auth.provisionClient: false',
    );
  }
  if (!auth.issuerURL) {
    return fail(REASONS.IssuerNotConfigured, 'the operator has no OIDC issuer URL configured (oidc.issuerURL) for provider keycloak');
  }
  if (!auth.secretName) {
    return fail(REASONS.SecretNotFound, 'auth.provisionClient is false and auth.clientSecretRef is not set: there are no client credentials');
  }
  const secretRef = `${eff.namespace}/${auth.secretName}`;
  if (auth.provisionClient && facts.provisioning && !facts.provisioning.ok) {
    return fail(facts.provisioning.reason ?? REASONS.Failed, `OIDC client provisioning failed: ${facts.provisioning.message ?? 'unknown error'}`);
  }
  if (!facts.clientSecret.found) {
    return fail(
      REASONS.SecretNotFound,
      auth.provisionClient
        ? `Secret ${secretRef} not found yet: waiting for the OIDC client to be provisioned`
        : `Secret ${secretRef} (auth.clientSecretRef) not found`,
    );
  }
  const keys = facts.clientSecret.keys;
  const missing = REQUIRED_SECRET_KEYS.filter((k) => !keys.includes(k));
  if (missing.length > 0) return fail(REASONS.SecretKeyMissing, `Secret ${secretRef} lacks key(s): ${missing.join(', ')}`);
  const jwks = jwksURI(eff, config, facts.genericJwksURI);
  if (auth.enforceAtGateway && auth.groups.length > 0 && !jwks) {
    return fail(REASONS.IssuerNotConfigured, `the JWKS URI of issuer ${auth.issuerURL} is not known yet (needed to check auth.groups)`);
  }
  return { condition: undefined, policyPossible: auth.enforceAtGateway, jwks };
}

/** The desired state of `app` given what was observed and how the operator is configured. */
export function desiredState(app: NebariApp, facts: ObservedFacts, config: OperatorConfig, now: Date | string): DesiredState {
  const { namespace, name, generation } = app.metadata;
  const names = childNames(namespace, name);
  const finish = (
    conditions: ConditionInput[],
    children: KubeObject[],
    eff: EffectiveSpec | undefined,
    errors: ValidationError[],
  ): DesiredState => {
    const status: NebariAppStatus = {
      ...(generation !== undefined ? { observedGeneration: generation } : {}),
      conditions: buildConditions(conditions, app.status?.conditions, generation, now),
      ...(typeof app.spec?.hostname === 'string' ? { hostname: app.spec.hostname } : {}),
    };
    if (eff) {
      if (eff.routing) status.gatewayRef = { name: eff.gateway.name, namespace: eff.gateway.namespace };
      if (eff.auth?.secretName) status.clientSecretRef = { name: eff.auth.secretName, namespace: eff.namespace };
      if (eff.auth?.provisionClient) {
        const hash = facts.provisioning?.authConfigHash ?? app.status?.authConfigHash;
        if (hash) status.authConfigHash = hash;
      }
      status.serviceDiscovery = serviceDiscovery(eff);
    }
    return { children, status, conditions, errors, effective: eff, names };
  };

  const errors = validateSpec(app.spec);
  if (errors.length > 0) return finish(allFalse(app, REASONS.ValidationFailed, `invalid spec: ${formatErrors(errors)}`), [], undefined, errors);

  const eff = effectiveSpec(app, config);
  if (app.metadata.deletionTimestamp) {
    return finish(allFalse(app, REASONS.Deleting, 'the NebariApp is being deleted'), [], eff, []);
  }
  if (!facts.namespaceOptedIn) {
    return finish(
      allFalse(
        app,
        REASONS.NamespaceNotOptedIn,
        `namespace ${namespace} lacks label ${MANAGED_NAMESPACE_LABEL}=${MANAGED_NAMESPACE_VALUE}: nothing is created`,
      ),
      [],
      eff,
      [],
    );
  }

  const children: KubeObject[] = [];
  const auth = authPrerequisites(eff, facts, config);
  let routing: ConditionInput;
  let tls: ConditionInput;
  let routeCreated = false;
  const gw = `${eff.gateway.namespace}/${eff.gateway.name}`;

  if (!eff.routing) {
    routing = { type: T.RoutingReady, status: 'True', reason: REASONS.RoutingDisabled, message: 'spec.routing is absent: the operator manages no routes' };
    tls = { type: T.TLSReady, status: 'True', reason: REASONS.RoutingDisabled, message: 'spec.routing is absent: TLS counts as disabled' };
  } else {
    const holder = conflictingHolder(app, facts.hostnameClaims);
    if (holder) {
      const message = `hostname ${eff.hostname} is held by NebariApp ${holder.namespace}/${holder.name} (older claim): nothing is routed for this app`;
      routing = { type: T.RoutingReady, status: 'False', reason: REASONS.GatewayListenerConflict, message };
      tls = { type: T.TLSReady, status: 'False', reason: REASONS.GatewayListenerConflict, message };
    } else if (eff.tls && !eff.tlsSecretName && !config.clusterIssuer) {
      const message = `the operator has no cert-manager ClusterIssuer configured (--cluster-issuer / CLUSTER_ISSUER) and routing.tls.secretName is not set: there is no certificate for ${eff.hostname}, so nothing is served over HTTPS for it; set routing.tls.secretName to a kubernetes.io/tls Secret, or routing.tls.enabled: false`;
      routing = { type: T.RoutingReady, status: 'False', reason: REASONS.ClusterIssuerNotConfigured, message };
      tls = { type: T.TLSReady, status: 'False', reason: REASONS.ClusterIssuerNotConfigured, message };
    } else {
      if (eff.tls && !eff.tlsSecretName) children.push(certificate(app, eff, names, config));
      if (!facts.gatewayFound) {
        const message = `Gateway ${gw} (spec.gateway=${eff.gatewayClass}) not found`;
        routing = { type: T.RoutingReady, status: 'False', reason: REASONS.GatewayNotFound, message };
        tls = eff.tls
          ? { type: T.TLSReady, status: 'False', reason: REASONS.GatewayNotFound, message }
          : { type: T.TLSReady, status: 'True', reason: REASONS.TLSDisabled, message: 'routing.tls.enabled is false: HTTP only' };
      } else {
        if (eff.tls) children.push(listenerSet(app, eff, names, config));
        tls = tlsCondition(eff, facts, names, gw);
        const svc = `${eff.service.namespace}/${eff.service.name}`;
        if (eff.crossNamespace && !facts.backendNamespaceOptedIn) {
          routing = {
            type: T.RoutingReady,
            status: 'False',
            reason: REASONS.NamespaceNotOptedIn,
            message: `backend namespace ${eff.service.namespace} lacks label ${MANAGED_NAMESPACE_LABEL}=${MANAGED_NAMESPACE_VALUE}: no cross-namespace route to Service ${svc} is allowed`,
          };
        } else if (!facts.service.found) {
          routing = { type: T.RoutingReady, status: 'False', reason: REASONS.ServiceNotFound, message: `Service ${svc} not found` };
        } else if (!facts.service.ports.includes(eff.service.port)) {
          const ports = facts.service.ports.length > 0 ? facts.service.ports.join(', ') : 'none';
          // The original operator's reason for this situation (tools watch for it); the detail is in the message.
          routing = {
            type: T.RoutingReady,
            status: 'False',
            reason: REASONS.ServiceNotFound,
            message: `service ${eff.service.name} does not expose port ${eff.service.port} (Service ${svc} has ports: ${ports})`,
          };
        } else if (eff.auth?.enforceAtGateway && !auth.policyPossible) {
          routing = {
            type: T.RoutingReady,
            status: 'False',
            reason: REASONS.AuthNotReady,
            message: `the HTTPRoute is withheld until login can be enforced at the gateway, so the app is never served without it (AuthReady: ${auth.condition?.message ?? 'not ready'})`,
          };
        } else {
          routeCreated = true;
          children.push(mainHttpRoute(app, eff, names, config));
          const enforce = eff.auth?.enforceAtGateway === true;
          if (enforce && eff.routing.publicRoutes.length > 0) children.push(publicHttpRoute(app, eff, names));
          if (eff.crossNamespace) children.push(referenceGrant(app, eff, names));
          if (enforce) children.push(securityPolicy(app, eff, names, config, auth.jwks));
          const via = eff.tls ? `ListenerSet ${names.listenerSet} (HTTPS)` : `Gateway ${gw} (HTTP)`;
          routing = routeCondition(eff, facts, names, `routes ${eff.hostname} to Service ${svc}:${eff.service.port} via ${via}`);
        }
      }
    }
  }

  const conditions: ConditionInput[] = [routing, tls];
  if (eff.auth) conditions.push(authCondition(eff, auth, routeCreated, routing, names, facts));
  conditions.push(readyCondition(conditions));
  return finish(conditions, children, eff, []);
}

/** `the gateway controller (<name>)` for messages. */
function controllerName(controller: string | undefined): string {
  return controller ? `the gateway controller (${controller})` : 'the gateway controller';
}

/** The controller's refusal, as a message: which condition, its reason and its message. */
function refusal(f: Extract<AcceptanceFact, { state: 'refused' }>): string {
  return `${controllerName(f.controller)} reports ${f.condition}=False${f.reason ? ` (${f.reason})` : ''}${f.message ? `: ${f.message}` : ''}`;
}

/**
 * RoutingReady once the routes are written: it follows what the gateway controller reports on them (Accepted and
 * ResolvedRefs on their parents), never the write alone.
 */
export function routeCondition(eff: EffectiveSpec, facts: ObservedFacts, names: ChildNames, what: string): ConditionInput {
  const routes: Array<[string, AcceptanceFact | undefined]> = [[names.mainRoute, facts.mainRoute]];
  if (eff.auth?.enforceAtGateway && (eff.routing?.publicRoutes.length ?? 0) > 0) routes.push([names.publicRoute, facts.publicRoute]);
  for (const [name, f] of routes) {
    if (f?.state === 'refused') {
      return { type: T.RoutingReady, status: 'False', reason: REASONS.RouteNotAccepted, message: `HTTPRoute ${eff.namespace}/${name} was refused: ${refusal(f)}` };
    }
  }
  const waiting = routes.filter(([, f]) => f?.state !== 'accepted').map(([n]) => `${eff.namespace}/${n}`);
  if (waiting.length > 0) {
    return {
      type: T.RoutingReady,
      status: 'False',
      reason: REASONS.Reconciling,
      message: `HTTPRoute ${waiting.join(', ')} written; waiting for the gateway controller to accept it`,
    };
  }
  const by = facts.mainRoute?.state === 'accepted' ? controllerName(facts.mainRoute.controller) : 'the gateway controller';
  return { type: T.RoutingReady, status: 'True', reason: REASONS.ReconcileSuccess, message: `HTTPRoute ${names.mainRoute} ${what}; accepted by ${by}` };
}

function tlsCondition(eff: EffectiveSpec, facts: ObservedFacts, names: ChildNames, gw: string): ConditionInput {
  if (!eff.tls) return { type: T.TLSReady, status: 'True', reason: REASONS.TLSDisabled, message: 'routing.tls.enabled is false: HTTP only' };
  if (eff.tlsSecretName) {
    const ref = `Secret ${eff.namespace}/${eff.tlsSecretName} (routing.tls.secretName)`;
    const f = facts.tlsSecret;
    if (!f?.found) {
      return {
        type: T.TLSReady,
        status: 'False',
        reason: REASONS.UserProvidedSecretNotFound,
        message: `${ref} not found; listener ${names.listenerSet}/https is written and serves it as soon as it exists`,
      };
    }
    if (f.type !== TLS_SECRET_TYPE) {
      return {
        type: T.TLSReady,
        status: 'False',
        reason: REASONS.UserProvidedSecretInvalidType,
        message: `${ref} is of type ${f.type ?? '(none)'}; it must be of type ${TLS_SECRET_TYPE} (keys tls.crt and tls.key)`,
      };
    }
    return (
      listenerNotReady(facts, names, gw) ?? {
        type: T.TLSReady,
        status: 'True',
        reason: REASONS.UserProvidedSecretReady,
        message: `${ref} serves ${eff.hostname} through ListenerSet ${names.listenerSet} on Gateway ${gw}`,
      }
    );
  }
  const cert = `${eff.namespace}/${names.certificate}`;
  if (!facts.certificate?.ready) {
    // one message from the write of the Certificate to its issuance, whatever cert-manager's steps (one status write)
    const failed = facts.certificate?.message ? `; the last attempt failed: ${facts.certificate.message}` : '';
    return { type: T.TLSReady, status: 'False', reason: REASONS.CertificateNotReady, message: `Certificate ${cert} not issued yet${failed}` };
  }
  return (
    listenerNotReady(facts, names, gw) ?? {
      type: T.TLSReady,
      status: 'True',
      reason: REASONS.Available,
      message: `Certificate ${cert} is ready and serves ${eff.hostname} through ListenerSet ${names.listenerSet} on Gateway ${gw}`,
    }
  );
}

/** TLSReady=False while the gateway controller has not accepted the app's listener; undefined once it has. */
function listenerNotReady(facts: ObservedFacts, names: ChildNames, gw: string): ConditionInput | undefined {
  if (!facts.listener) {
    return {
      type: T.TLSReady,
      status: 'False',
      reason: REASONS.ListenerNotReady,
      message: `listener ${names.listenerSet}/https written; waiting for the controller of Gateway ${gw} to accept it`,
    };
  }
  if (!facts.listener.accepted) {
    const detail = [facts.listener.reason, facts.listener.message].filter(Boolean).join(': ');
    return {
      type: T.TLSReady,
      status: 'False',
      reason: REASONS.ListenerNotReady,
      message: `listener ${names.listenerSet}/https was not accepted by Gateway ${gw}${detail ? ` (${detail})` : ''}`,
    };
  }
  return undefined;
}

function authCondition(
  eff: EffectiveSpec,
  auth: AuthDecision,
  routeCreated: boolean,
  routing: ConditionInput,
  names: ChildNames,
  facts: ObservedFacts,
): ConditionInput {
  if (auth.condition) return auth.condition;
  const a = eff.auth!;
  const secret = `${eff.namespace}/${a.secretName}`;
  if (!a.enforceAtGateway) {
    return {
      type: T.AuthReady,
      status: 'True',
      reason: REASONS.AppEnforcedAuth,
      message: `client Secret ${secret} is ready; auth.enforceAtGateway is false, so the app handles login itself`,
    };
  }
  if (!eff.routing) {
    return {
      type: T.AuthReady,
      status: 'True',
      reason: REASONS.RoutingDisabled,
      message: `client Secret ${secret} is ready; spec.routing is absent, so there is no route for a gateway SecurityPolicy`,
    };
  }
  if (!routeCreated) {
    return {
      type: T.AuthReady,
      status: 'False',
      reason: REASONS.Reconciling,
      message: `SecurityPolicy ${names.securityPolicy} is created together with the HTTPRoute (RoutingReady: ${routing.reason})`,
    };
  }
  const policy = `SecurityPolicy ${eff.namespace}/${names.securityPolicy}`;
  const f = facts.securityPolicy;
  if (f?.state === 'refused') {
    return { type: T.AuthReady, status: 'False', reason: REASONS.SecurityPolicyFailed, message: `${policy} was refused: ${refusal(f)}` };
  }
  if (f?.state !== 'accepted') {
    return { type: T.AuthReady, status: 'False', reason: REASONS.Reconciling, message: `${policy} written; waiting for the gateway controller to accept it` };
  }
  const groups = a.groups.length > 0 ? `; only members of ${a.groups.join(', ')} get in` : '';
  return {
    type: T.AuthReady,
    status: 'True',
    reason: REASONS.Available,
    message: `SecurityPolicy ${names.securityPolicy} enforces OIDC login with issuer ${a.issuerURL}${groups}`,
  };
}
