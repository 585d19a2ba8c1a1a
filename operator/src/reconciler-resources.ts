/** API coordinates of everything the operator reads or writes (one table; RBAC in manifests/ mirrors it). */
import { GROUP, KIND, PLURAL, VERSION } from './api/types.js';
import { CHILD_KINDS, type ChildKind } from './desired/objects.js';
import type { KubeObject, ResourceType } from './runtime/kube.js';

export const NEBARIAPP: ResourceType = { group: GROUP, version: VERSION, plural: PLURAL, kind: KIND, namespaced: true };
export const NAMESPACE: ResourceType = { group: '', version: 'v1', plural: 'namespaces', kind: 'Namespace', namespaced: false };
export const SERVICE: ResourceType = { group: '', version: 'v1', plural: 'services', kind: 'Service', namespaced: true };
export const SECRET: ResourceType = { group: '', version: 'v1', plural: 'secrets', kind: 'Secret', namespaced: true };
export const GATEWAY: ResourceType = { group: 'gateway.networking.k8s.io', version: 'v1', plural: 'gateways', kind: 'Gateway', namespaced: true };

export const ROLE: ResourceType = { group: 'rbac.authorization.k8s.io', version: 'v1', plural: 'roles', kind: 'Role', namespaced: true };
export const ROLEBINDING: ResourceType = { group: 'rbac.authorization.k8s.io', version: 'v1', plural: 'rolebindings', kind: 'RoleBinding', namespaced: true };

export function childResource(k: ChildKind): ResourceType {
  return { group: k.group, version: k.version, plural: k.plural, kind: k.kind, namespaced: true };
}

export const CHILD_RESOURCES: readonly ResourceType[] = CHILD_KINDS.map(childResource);

/** Resource type of an object by its apiVersion + kind (children and the NebariApp). */
export function resourceOf(obj: { apiVersion?: string; kind?: string }): ResourceType {
  for (const rt of [...CHILD_RESOURCES, NEBARIAPP, SERVICE, SECRET, NAMESPACE, GATEWAY, ROLE, ROLEBINDING]) {
    const av = rt.group ? `${rt.group}/${rt.version}` : rt.version;
    if (av === obj.apiVersion && rt.kind === obj.kind) return rt;
  }
  throw new Error(`no resource type known for ${obj.apiVersion} ${obj.kind}`);
}

/** Cache form of a Secret: its key names only. Values are dropped as soon as the object arrives. */
export interface SecretKeysObject extends KubeObject {
  keys: string[];
  type?: string;
}

export function secretToKeys(obj: KubeObject): SecretKeysObject {
  const data = (obj as { data?: Record<string, unknown> }).data ?? {};
  const stringData = (obj as { stringData?: Record<string, unknown> }).stringData ?? {};
  const meta = { ...obj.metadata };
  delete meta.managedFields;
  // last-applied-configuration of a kubectl-applied Secret carries the values: never cache it
  if (meta.annotations && LAST_APPLIED in meta.annotations) {
    const a = { ...meta.annotations };
    delete a[LAST_APPLIED];
    meta.annotations = a;
  }
  return {
    apiVersion: obj.apiVersion,
    kind: obj.kind,
    metadata: meta,
    type: (obj as { type?: string }).type,
    keys: [...new Set([...Object.keys(data), ...Object.keys(stringData)])].sort(),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// cache forms: only the fields reconciliation reads are kept (memory; issue 13)

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

function baseMeta(m: KubeObject['metadata'], extra: Partial<KubeObject['metadata']> = {}): KubeObject['metadata'] {
  return {
    name: m.name,
    ...(m.namespace ? { namespace: m.namespace } : {}),
    ...(m.uid ? { uid: m.uid } : {}),
    ...(m.resourceVersion ? { resourceVersion: m.resourceVersion } : {}),
    ...extra,
  };
}

/** Namespace: name and labels (the opt-in label). */
export function trimNamespace(o: KubeObject): KubeObject {
  return { apiVersion: o.apiVersion, kind: o.kind, metadata: baseMeta(o.metadata, o.metadata.labels ? { labels: o.metadata.labels } : {}) };
}

/** Service: name and port numbers. */
export function trimService(o: KubeObject): KubeObject {
  const ports = ((o as { spec?: { ports?: { port?: number }[] } }).spec?.ports ?? []).map((p) => ({ port: p.port }));
  return { apiVersion: o.apiVersion, kind: o.kind, metadata: baseMeta(o.metadata), spec: { ports } };
}

/** Gateway: existence only. */
export function trimGateway(o: KubeObject): KubeObject {
  return { apiVersion: o.apiVersion, kind: o.kind, metadata: baseMeta(o.metadata) };
}

/** NebariApp: everything but managedFields and kubectl's copy of the whole object in last-applied-configuration. */
export function trimApp<T extends KubeObject>(o: T): T {
  const meta = { ...o.metadata };
  delete meta.managedFields;
  if (meta.annotations && LAST_APPLIED in meta.annotations) {
    const a = { ...meta.annotations };
    delete a[LAST_APPLIED];
    meta.annotations = a;
  }
  return { ...o, metadata: meta };
}
