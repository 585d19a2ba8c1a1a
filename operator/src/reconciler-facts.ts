/** Observed facts of one NebariApp, read from the informer caches (no API calls). */
import { MANAGED_NAMESPACE_LABEL, MANAGED_NAMESPACE_VALUE, clientSecretName, type NebariApp } from './api/types.js';
import { HTTPS_LISTENER_NAME } from './desired/children.js';
import { hostnameClaim } from './desired/claims.js';
import type { CertificateFact, HostnameClaim, ListenerFact, ObservedFacts, OperatorConfig, ProvisioningFact } from './desired/facts.js';
import { childNames } from './desired/objects.js';
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
}

interface K8sCondition {
  type?: string;
  status?: string;
  reason?: string;
  message?: string;
}

export function namespaceOptedIn(caches: Pick<FactCaches, 'namespaces'>, ns: string): boolean {
  return caches.namespaces.get(undefined, ns)?.metadata.labels?.[MANAGED_NAMESPACE_LABEL] === MANAGED_NAMESPACE_VALUE;
}

/** cert-manager Certificate -> fact (Ready condition). */
export function certificateFact(cert: KubeObject | undefined): CertificateFact | undefined {
  if (!cert) return undefined;
  const conds = ((cert as { status?: { conditions?: K8sCondition[] } }).status?.conditions ?? []) as K8sCondition[];
  const ready = conds.find((c) => c.type === 'Ready');
  return { ready: ready?.status === 'True', ...(ready?.message ? { message: ready.message } : {}) };
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
  return {
    namespaceOptedIn: namespaceOptedIn(caches, ns),
    backendNamespaceOptedIn: namespaceOptedIn(caches, svcNs),
    service: svc ? { found: true, ports } : { found: false },
    gatewayFound: !!caches.gateways.get(gw.namespace, gw.name),
    hostnameClaims: claims,
    certificate: certificateFact(caches.certificates.get(ns, names.certificate)),
    listener: listenerFact(caches.listenerSets.get(ns, names.listenerSet)),
    clientSecret: secret ? { found: true, keys: secret.keys } : { found: false },
    ...(extra.provisioning ? { provisioning: extra.provisioning } : {}),
    ...(extra.genericJwksURI ? { genericJwksURI: extra.genericJwksURI } : {}),
  };
}
