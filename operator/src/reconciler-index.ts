/**
 * Indexes over the NebariApp cache and the mapping of every watched object's events back to the NebariApp keys
 * (`namespace/name`) they affect. Pure bookkeeping, no I/O.
 */
import { clientSecretName, objectKey, type NebariApp } from './api/types.js';
import { canonicalJson, ownerOf } from './desired/objects.js';
import { tlsSecretNameOf } from './reconciler-facts.js';
import type { GatewayConfig } from './desired/facts.js';
import type { KubeObject } from './runtime/kube.js';

type Index = Map<string, Set<string>>;

function addTo(idx: Index, k: string, key: string): void {
  let s = idx.get(k);
  if (!s) idx.set(k, (s = new Set()));
  s.add(key);
}
function removeFrom(idx: Index, k: string, key: string): void {
  const s = idx.get(k);
  if (!s) return;
  s.delete(key);
  if (s.size === 0) idx.delete(k);
}

/** Index terms of one app: what it depends on. */
export function appTerms(app: NebariApp): {
  hostname: string;
  namespace: string;
  service: string;
  backendNamespace: string;
  secrets: string[];
  /** `namespace/name` of Secrets the app names itself (auth.clientSecretRef, routing.tls.secretName): watched one by
   * one, as they are not labelled. */
  namedSecrets: string[];
  gateway: string;
} {
  const ns = app.metadata.namespace;
  const spec = app.spec ?? ({} as NebariApp['spec']);
  const svcNs = spec.service?.namespace || ns;
  const secrets: string[] = [];
  if (spec.auth?.clientSecretRef) secrets.push(`${ns}/${spec.auth.clientSecretRef}`);
  secrets.push(`${ns}/${clientSecretName(app.metadata.name)}`);
  const tlsSecret = tlsSecretNameOf(app);
  if (tlsSecret) secrets.push(`${ns}/${tlsSecret}`);
  const named = spec.auth?.enabled === true && spec.auth.clientSecretRef ? [`${ns}/${spec.auth.clientSecretRef}`] : [];
  if (tlsSecret && !named.includes(`${ns}/${tlsSecret}`)) named.push(`${ns}/${tlsSecret}`);
  return {
    hostname: spec.hostname ?? '',
    namespace: ns,
    service: `${svcNs}/${spec.service?.name ?? ''}`,
    backendNamespace: svcNs,
    secrets,
    namedSecrets: named,
    gateway: spec.gateway ?? 'public',
  };
}

export class AppIndex {
  private readonly byHostname: Index = new Map();
  private readonly byNamespace: Index = new Map();
  private readonly byBackendNamespace: Index = new Map();
  private readonly byService: Index = new Map();
  private readonly bySecret: Index = new Map();
  private readonly byGateway: Index = new Map();
  private readonly terms = new Map<string, ReturnType<typeof appTerms>>();

  /** Called with `namespace/name` when the first app names a Secret (+1) and when the last one stops (-1). */
  constructor(private readonly onNamedSecret?: (ref: string, delta: 1 | -1) => void) {}

  upsert(app: NebariApp): void {
    const key = objectKey(app.metadata.namespace, app.metadata.name);
    const t = appTerms(app);
    // retain the new references before the old ones are released, so an unchanged one keeps its watch
    for (const ref of t.namedSecrets) this.onNamedSecret?.(ref, 1);
    this.remove(key);
    this.terms.set(key, t);
    addTo(this.byHostname, t.hostname, key);
    addTo(this.byNamespace, t.namespace, key);
    addTo(this.byBackendNamespace, t.backendNamespace, key);
    addTo(this.byService, t.service, key);
    for (const s of t.secrets) addTo(this.bySecret, s, key);
    addTo(this.byGateway, t.gateway, key);
  }

  remove(key: string): void {
    const t = this.terms.get(key);
    if (!t) return;
    this.terms.delete(key);
    removeFrom(this.byHostname, t.hostname, key);
    removeFrom(this.byNamespace, t.namespace, key);
    removeFrom(this.byBackendNamespace, t.backendNamespace, key);
    removeFrom(this.byService, t.service, key);
    for (const s of t.secrets) removeFrom(this.bySecret, s, key);
    removeFrom(this.byGateway, t.gateway, key);
    for (const ref of t.namedSecrets) this.onNamedSecret?.(ref, -1);
  }

  /** Keys of apps claiming `hostname`. */
  hostnamePeers(hostname: string): string[] {
    return [...(this.byHostname.get(hostname) ?? [])];
  }

  /** Apps in namespace `ns` or with their backend there, plus everyone sharing a hostname with them (opt-in changes claims). */
  forNamespace(ns: string): string[] {
    const keys = new Set([...(this.byNamespace.get(ns) ?? []), ...(this.byBackendNamespace.get(ns) ?? [])]);
    for (const k of [...keys]) {
      const t = this.terms.get(k);
      if (t) for (const p of this.byHostname.get(t.hostname) ?? []) keys.add(p);
    }
    return [...keys];
  }

  forService(namespace: string, name: string): string[] {
    return [...(this.byService.get(`${namespace}/${name}`) ?? [])];
  }

  forSecret(namespace: string, name: string): string[] {
    return [...(this.bySecret.get(`${namespace}/${name}`) ?? [])];
  }

  forGatewayClass(cls: string): string[] {
    return [...(this.byGateway.get(cls) ?? [])];
  }

  get size(): number {
    return this.terms.size;
  }
}

/** Keys to enqueue for a NebariApp event: itself and, when its claim may have changed, the apps sharing its old/new hostname. */
export function keysForAppEvent(index: AppIndex, obj: NebariApp, old?: NebariApp): string[] {
  const key = objectKey(obj.metadata.namespace, obj.metadata.name);
  const keys = new Set([key]);
  const claimMayChange =
    !old ||
    old.metadata.generation !== obj.metadata.generation ||
    !!old.metadata.deletionTimestamp !== !!obj.metadata.deletionTimestamp ||
    old.spec?.hostname !== obj.spec?.hostname;
  if (claimMayChange) {
    for (const k of index.hostnamePeers(obj.spec?.hostname ?? '')) keys.add(k);
    if (old && old.spec?.hostname !== obj.spec?.hostname) for (const k of index.hostnamePeers(old.spec?.hostname ?? '')) keys.add(k);
  }
  return [...keys];
}

/** Keys for a child event: its owner from the owner annotation. */
export function keysForChild(obj: KubeObject): string[] {
  const o = ownerOf(obj as { metadata?: { annotations?: Record<string, string> } });
  return o ? [objectKey(o.namespace, o.name)] : [];
}

/** Gateway classes (public/internal) served by the Gateway `namespace/name`. */
export function gatewayClassesOf(gateways: { public: GatewayConfig; internal: GatewayConfig }, namespace: string, name: string): string[] {
  return (['public', 'internal'] as const).filter((c) => gateways[c].namespace === namespace && gateways[c].name === name);
}

/**
 * Whether an informer event changed nothing reconciliation can see: an update whose cached (trimmed) form equals
 * the previous one apart from its resourceVersion. Adds and deletes always count.
 */
export function sameCachedForm(type: 'add' | 'update' | 'delete', obj: KubeObject, old: KubeObject | undefined): boolean {
  if (type !== 'update' || !old) return false;
  const strip = (o: KubeObject) => ({ ...o, metadata: { ...o.metadata, resourceVersion: undefined } });
  return canonicalJson(strip(obj)) === canonicalJson(strip(old));
}
