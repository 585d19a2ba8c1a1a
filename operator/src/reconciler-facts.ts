/** Observed facts of one NebariApp, read from the informer caches (no API calls). */
import { MANAGED_NAMESPACE_LABEL, MANAGED_NAMESPACE_VALUE, clientSecretName, type NebariApp } from './api/types.js';
import { HTTPS_LISTENER_NAME } from './desired/children.js';
import { hostnameClaim } from './desired/claims.js';
import type { AcceptanceFact, CertificateFact, HostnameClaim, ListenerFact, ObservedFacts, OperatorConfig, ProvisioningFact } from './desired/facts.js';
import { childNames, HTTPROUTE, SECURITYPOLICY, type ChildNames } from './desired/objects.js';
import type { ObjectCache } from './runtime/informer.js';
import type { KubeObject } from './runtime/kube.js';
import type { SecretKeysObject } from './reconciler-resources.js';

export interface FactCaches {
  apps: ObjectCache<NebariApp & KubeObject>;
  namespaces: ObjectCache;
  services: ObjectCache;
  secrets: ObjectCache<SecretKeysObject>;
  gateways: ObjectCache;
  certificates: ObjectCache;
  listenerSets: ObjectCache;
  httpRoutes: ObjectCache;
  securityPolicies: ObjectCache;
}

interface K8sCondition {
  type?: string;
  status?: string;
  reason?: string;
  message?: string;
  observedGeneration?: number;
}

interface StatusEntry {
  controllerName?: string;
  conditions?: K8sCondition[];
  parentRef?: ParentRef;
}

interface ParentRef {
  group?: string;
  kind?: string;
  namespace?: string;
  name?: string;
  sectionName?: string;
  port?: number;
}

/** A parentRef with the Gateway API defaults filled in (group, kind Gateway, the route's namespace), as one string. */
function parentRefKey(r: ParentRef, routeNamespace: string | undefined): string {
  return [r.group ?? 'gateway.networking.k8s.io', r.kind ?? 'Gateway', r.namespace ?? routeNamespace ?? '', r.name ?? '', r.sectionName ?? '', r.port ?? ''].join('/');
}

/**
 * What the gateway controller says about an HTTPRoute (status.parents) or a SecurityPolicy (status.ancestors):
 * refused when a deciding condition (`types`) is False on any entry, accepted when every entry has them True for
 * the object's generation, pending otherwise (nothing reported yet, or only for an older generation).
 * Undefined when the object does not exist. A route's entries count only for the parents its spec still names:
 * Envoy Gateway keeps the entry of a parent the route no longer references (the Gateway's HTTP listener, once TLS
 * moved the route to the app's ListenerSet), frozen at the old generation.
 */
export function acceptanceFact(obj: KubeObject | undefined, entriesOf: 'parents' | 'ancestors', types: readonly string[]): AcceptanceFact | undefined {
  if (!obj) return undefined;
  const generation = obj.metadata.generation;
  let entries = ((obj as { status?: Record<string, StatusEntry[] | undefined> }).status?.[entriesOf] ?? []) as StatusEntry[];
  const specRefs = (obj as { spec?: { parentRefs?: ParentRef[] } }).spec?.parentRefs;
  if (entriesOf === 'parents' && specRefs) {
    const named = new Set(specRefs.map((r) => parentRefKey(r, obj.metadata.namespace)));
    entries = entries.filter((e) => !e.parentRef || named.has(parentRefKey(e.parentRef, obj.metadata.namespace)));
  }
  const current = (c: K8sCondition): boolean => generation === undefined || c.observedGeneration === undefined || c.observedGeneration >= generation;
  for (const e of entries) {
    const bad = (e.conditions ?? []).find((c) => types.includes(c.type ?? '') && c.status === 'False' && current(c));
    if (bad) {
      return {
        state: 'refused',
        ...(e.controllerName ? { controller: e.controllerName } : {}),
        condition: bad.type!,
        ...(bad.reason ? { reason: bad.reason } : {}),
        ...(bad.message ? { message: bad.message } : {}),
      };
    }
  }
  const ok =
    entries.length > 0 &&
    entries.every((e) => types.every((t) => (e.conditions ?? []).some((c) => c.type === t && c.status === 'True' && current(c))));
  if (!ok) return { state: 'pending' };
  const controller = entries[0]?.controllerName;
  return { state: 'accepted', ...(controller ? { controller } : {}) };
}

/** Route parents decide on Accepted and ResolvedRefs (backend, ReferenceGrant); policies on Accepted. */
export const ROUTE_ACCEPTANCE = ['Accepted', 'ResolvedRefs'] as const;
export const POLICY_ACCEPTANCE = ['Accepted'] as const;

export function namespaceOptedIn(caches: Pick<FactCaches, 'namespaces'>, ns: string): boolean {
  return caches.namespaces.get(undefined, ns)?.metadata.labels?.[MANAGED_NAMESPACE_LABEL] === MANAGED_NAMESPACE_VALUE;
}

/**
 * cert-manager Certificate -> fact. Ready True is ready. Otherwise issuance is in progress, and only a failed or
 * denied request (Issuing False: cert-manager retries it after a backoff from 1 h) carries a message. The messages
 * of the way there (no condition yet, "Issuing certificate as Secret does not exist") are left out: each would
 * be one more status write of the app without saying more than "not issued yet".
 */
export function certificateFact(cert: KubeObject | undefined): CertificateFact | undefined {
  if (!cert) return undefined;
  const conds = ((cert as { status?: { conditions?: K8sCondition[] } }).status?.conditions ?? []) as K8sCondition[];
  if (conds.find((c) => c.type === 'Ready')?.status === 'True') return { ready: true };
  const issuing = conds.find((c) => c.type === 'Issuing');
  return issuing?.status === 'False' && issuing.message ? { ready: false, message: issuing.message } : { ready: false };
}

/** ListenerSet status -> fact; undefined while the gateway controller has reported nothing. */
export function listenerFact(ls: KubeObject | undefined): ListenerFact | undefined {
  if (!ls) return undefined;
  const status = (ls as { status?: { conditions?: K8sCondition[]; listeners?: { name?: string; conditions?: K8sCondition[] }[] } }).status;
  if (!status) return undefined;
  const top = (status.conditions ?? []).filter((c) => c.type === 'Accepted' || c.type === 'Programmed');
  const listener = (status.listeners ?? []).find((l) => l.name === HTTPS_LISTENER_NAME);
  const own = (listener?.conditions ?? []).filter((c) => c.type === 'Accepted' || c.type === 'Programmed' || c.type === 'ResolvedRefs');
  const all = [...top, ...own];
  if (all.length === 0) return undefined;
  const bad = all.find((c) => c.status === 'False');
  if (bad) return { accepted: false, ...(bad.reason ? { reason: bad.reason } : {}), ...(bad.message ? { message: bad.message } : {}) };
  return { accepted: true };
}

/** Name of the client Secret the app uses (clientSecretRef, else the provisioned `<name>-oidc-client`). */
export function clientSecretNameOf(app: NebariApp): string {
  return app.spec?.auth?.clientSecretRef || clientSecretName(app.metadata.name);
}

/** routing.tls.secretName when TLS is on (the user's Secret in the app's namespace), else undefined. */
export function tlsSecretNameOf(app: NebariApp): string | undefined {
  const tls = app.spec?.routing?.tls;
  return app.spec?.routing && tls?.enabled !== false && tls?.secretName ? tls.secretName : undefined;
}

function optional<K extends string, V>(key: K, value: V | undefined): { [k in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [k in K]?: V };
}

export function observeFacts(
  app: NebariApp,
  caches: FactCaches,
  config: OperatorConfig,
  extra: { provisioning?: ProvisioningFact; genericJwksURI?: string; hostnamePeers: readonly string[] },
): ObservedFacts {
  const ns = app.metadata.namespace;
  const spec = app.spec;
  const svcNs = spec.service?.namespace || ns;
  const svc = caches.services.get(svcNs, spec.service?.name ?? '');
  const ports = ((svc as { spec?: { ports?: { port?: number }[] } } | undefined)?.spec?.ports ?? [])
    .map((p) => p.port)
    .filter((p): p is number => typeof p === 'number');
  const gw = config.gateways[spec.gateway === 'internal' ? 'internal' : 'public'];
  const claims: HostnameClaim[] = [];
  for (const key of extra.hostnamePeers) {
    const i = key.indexOf('/');
    const peer = caches.apps.get(key.slice(0, i), key.slice(i + 1));
    if (!peer) continue;
    const c = hostnameClaim(peer, namespaceOptedIn(caches, peer.metadata.namespace));
    if (c) claims.push(c);
  }
  const names = childNames(ns, app.metadata.name);
  const secret = spec.auth?.enabled ? caches.secrets.get(ns, clientSecretNameOf(app)) : undefined;
  const tlsSecretName = tlsSecretNameOf(app);
  const tlsSecret = tlsSecretName ? caches.secrets.get(ns, tlsSecretName) : undefined;
  return {
    namespaceOptedIn: namespaceOptedIn(caches, ns),
    backendNamespaceOptedIn: namespaceOptedIn(caches, svcNs),
    service: svc ? { found: true, ports } : { found: false },
    gatewayFound: !!caches.gateways.get(gw.namespace, gw.name),
    hostnameClaims: claims,
    certificate: certificateFact(caches.certificates.get(ns, names.certificate)),
    listener: listenerFact(caches.listenerSets.get(ns, names.listenerSet)),
    ...optional('mainRoute', acceptanceFact(caches.httpRoutes.get(ns, names.mainRoute), 'parents', ROUTE_ACCEPTANCE)),
    ...optional('publicRoute', acceptanceFact(caches.httpRoutes.get(ns, names.publicRoute), 'parents', ROUTE_ACCEPTANCE)),
    ...optional('securityPolicy', acceptanceFact(caches.securityPolicies.get(ns, names.securityPolicy), 'ancestors', POLICY_ACCEPTANCE)),
    clientSecret: secret ? { found: true, keys: secret.keys } : { found: false },
    ...(tlsSecretName ? { tlsSecret: tlsSecret ? { found: true as const, type: tlsSecret.type } : { found: false as const } } : {}),
    ...(extra.provisioning ? { provisioning: extra.provisioning } : {}),
    ...(extra.genericJwksURI ? { genericJwksURI: extra.genericJwksURI } : {}),
  };
}

/**
 * The acceptance facts once this reconcile's writes are in. A route or SecurityPolicy it wrote is judged by what the
 * server answered (its new generation, with the status the gateway controller wrote for an older one), not by the
 * copy read before the write: a changed spec is pending until the controller reports on it, and a write that left
 * the generation as it was (labels only) keeps its acceptance. `written(kind, name)`: the server's answer to this
 * reconcile's write of that child, if it wrote it. Returns `facts` itself when nothing it judges was written.
 */
export function factsAfterWrites(facts: ObservedFacts, names: ChildNames, written: (kind: string, name: string) => KubeObject | undefined): ObservedFacts {
  const main = written(HTTPROUTE.kind, names.mainRoute);
  const pub = written(HTTPROUTE.kind, names.publicRoute);
  const policy = written(SECURITYPOLICY.kind, names.securityPolicy);
  if (!main && !pub && !policy) return facts;
  return {
    ...facts,
    ...(main ? optional('mainRoute', acceptanceFact(main, 'parents', ROUTE_ACCEPTANCE)) : {}),
    ...(pub ? optional('publicRoute', acceptanceFact(pub, 'parents', ROUTE_ACCEPTANCE)) : {}),
    ...(policy ? optional('securityPolicy', acceptanceFact(policy, 'ancestors', POLICY_ACCEPTANCE)) : {}),
  };
}
