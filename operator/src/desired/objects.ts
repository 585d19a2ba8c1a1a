// Plain Kubernetes object shapes the desired-state functions produce, the API coordinates of every child kind,
// child names, and the metadata every child carries (labels, owner annotation, owner reference, desired hash).
import { createHash } from 'node:crypto';
import {
  API_VERSION,
  COMPONENT_LABEL,
  KIND,
  MANAGED_BY_LABEL,
  MANAGED_BY_VALUE,
  OWNER_ANNOTATION,
  OWNER_NAME_LABEL,
  OWNER_NAMESPACE_LABEL,
  GROUP,
  fitName,
  labelValue,
  type NebariApp,
} from '../api/types.js';

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller: boolean;
  blockOwnerDeletion: boolean;
}

export interface ObjectMeta {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  [k: string]: unknown;
}

/** A Kubernetes object as sent with server-side apply (and as read back). */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  spec?: Record<string, unknown>;
  [k: string]: unknown;
}

/** Where a child kind lives in the API (for the runtime's clients, informers, RBAC and pruning). */
export interface ChildKind {
  apiVersion: string;
  group: string;
  version: string;
  kind: string;
  plural: string;
  /** app: in the NebariApp's namespace (controller owner reference); backend: in the Service's namespace (finalizer). */
  placement: 'app' | 'backend';
}

export const HTTPROUTE: ChildKind = {
  apiVersion: 'gateway.networking.k8s.io/v1',
  group: 'gateway.networking.k8s.io',
  version: 'v1',
  kind: 'HTTPRoute',
  plural: 'httproutes',
  placement: 'app',
};
/** Gateway API ListenerSet, standard channel since Gateway API v1.5 (served here from v1.6.3; Envoy Gateway 1.9 watches it). */
export const LISTENERSET: ChildKind = {
  apiVersion: 'gateway.networking.k8s.io/v1',
  group: 'gateway.networking.k8s.io',
  version: 'v1',
  kind: 'ListenerSet',
  plural: 'listenersets',
  placement: 'app',
};
export const REFERENCEGRANT: ChildKind = {
  apiVersion: 'gateway.networking.k8s.io/v1',
  group: 'gateway.networking.k8s.io',
  version: 'v1',
  kind: 'ReferenceGrant',
  plural: 'referencegrants',
  placement: 'backend',
};
export const CERTIFICATE: ChildKind = {
  apiVersion: 'cert-manager.io/v1',
  group: 'cert-manager.io',
  version: 'v1',
  kind: 'Certificate',
  plural: 'certificates',
  placement: 'app',
};
export const SECURITYPOLICY: ChildKind = {
  apiVersion: 'gateway.envoyproxy.io/v1alpha1',
  group: 'gateway.envoyproxy.io',
  version: 'v1alpha1',
  kind: 'SecurityPolicy',
  plural: 'securitypolicies',
  placement: 'app',
};

/** Every kind the desired state can contain; anything of these kinds owned by an app and not desired is deleted. */
export const CHILD_KINDS: readonly ChildKind[] = [HTTPROUTE, LISTENERSET, REFERENCEGRANT, CERTIFICATE, SECURITYPOLICY];

/** Role of a child, in label COMPONENT_LABEL. */
export const COMPONENTS = {
  mainRoute: 'route',
  publicRoute: 'public-route',
  listenerSet: 'listenerset',
  certificate: 'certificate',
  securityPolicy: 'securitypolicy',
  referenceGrant: 'referencegrant',
} as const;
export type Component = (typeof COMPONENTS)[keyof typeof COMPONENTS];

/** Annotation holding a hash of the last applied desired object: a changed hash means fields were added OR removed. */
export const DESIRED_HASH_ANNOTATION = `${GROUP}/desired-hash`;

// ---------------------------------------------------------------------------------------------------------------
// names (all within 253 characters via a stable hash suffix)
//
// Unambiguous: no two apps can ever be given the same child name of one kind. Kinds with one child per app use
// the app's name itself or one fixed suffix (an injection). Kinds with two children per app (HTTPRoute: main and
// public) use two suffixes neither of which ends the other (`-route`, `-public`), so `<a>-route` never equals
// `<b>-public` and each map stays injective. (Before, the main route was `<name>` and the public one
// `<name>-public`: app `x`'s public route was app `x-public`'s main route.) The ReferenceGrant lives in the
// backend namespace and names the app's namespace with a '.' separator: a namespace (a DNS label) holds no '.',
// so `<ns>.<name>` splits one way only (`nebariapp-<ns>-<name>` mapped a-b/c and a/b-c to one name).

/** Suffixes of the two HTTPRoutes of an app (neither is a suffix of the other: see above). */
export const MAIN_ROUTE_SUFFIX = '-route';
export const PUBLIC_ROUTE_SUFFIX = '-public';

export interface ChildNames {
  mainRoute: string;
  publicRoute: string;
  listenerSet: string;
  certificate: string;
  /** Secret cert-manager writes the certificate into (referenced by the listener). */
  tlsSecret: string;
  securityPolicy: string;
  /** In the backend namespace, so it names the app's namespace too. */
  referenceGrant: string;
}

export function childNames(namespace: string, name: string): ChildNames {
  return {
    mainRoute: fitName(`${name}${MAIN_ROUTE_SUFFIX}`),
    publicRoute: fitName(`${name}${PUBLIC_ROUTE_SUFFIX}`),
    listenerSet: fitName(name),
    certificate: fitName(`${name}-tls`),
    tlsSecret: fitName(`${name}-nebariapp-tls`),
    securityPolicy: fitName(name),
    referenceGrant: fitName(`nebariapp-${namespace}.${name}`),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// metadata

/** Labels on every child: managed-by, owner (shortened with a hash when over 63 characters) and component. */
export function childLabels(app: NebariApp, component: Component): Record<string, string> {
  return {
    [MANAGED_BY_LABEL]: MANAGED_BY_VALUE,
    [OWNER_NAMESPACE_LABEL]: labelValue(app.metadata.namespace),
    [OWNER_NAME_LABEL]: labelValue(app.metadata.name),
    [COMPONENT_LABEL]: component,
  };
}

/** `namespace/name` of the owning NebariApp, from a child's annotations (undefined when not ours). */
export function ownerOf(child: { metadata?: { annotations?: Record<string, string> } }): { namespace: string; name: string } | undefined {
  const v = child.metadata?.annotations?.[OWNER_ANNOTATION];
  if (!v) return undefined;
  const i = v.indexOf('/');
  if (i <= 0 || i === v.length - 1) return undefined;
  return { namespace: v.slice(0, i), name: v.slice(i + 1) };
}

/** Controller owner reference to the app (only with a uid; children outside its namespace get none). */
export function ownerReference(app: NebariApp): OwnerReference[] | undefined {
  if (!app.metadata.uid) return undefined;
  return [{ apiVersion: API_VERSION, kind: KIND, name: app.metadata.name, uid: app.metadata.uid, controller: true, blockOwnerDeletion: true }];
}

/** Canonical JSON (sorted keys, undefined dropped) for hashing. */
export function canonicalJson(value: unknown): string {
  if (value === undefined) return 'null';
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/** SHA-256 (hex, 16 chars) of an object without its own DESIRED_HASH_ANNOTATION. */
export function desiredHash(obj: KubeObject): string {
  const annotations = { ...(obj.metadata.annotations ?? {}) };
  delete annotations[DESIRED_HASH_ANNOTATION];
  const copy = { ...obj, metadata: { ...obj.metadata, annotations } };
  return createHash('sha256').update(canonicalJson(copy)).digest('hex').slice(0, 16);
}

/** Stamp the desired hash annotation on an object (returns a new object). */
export function withDesiredHash(obj: KubeObject): KubeObject {
  const hash = desiredHash(obj);
  return { ...obj, metadata: { ...obj.metadata, annotations: { ...(obj.metadata.annotations ?? {}), [DESIRED_HASH_ANNOTATION]: hash } } };
}

/** Metadata of a child: name, namespace, labels, owner annotation (+ extra annotations, operator keys winning). */
export function childMetadata(
  app: NebariApp,
  component: Component,
  name: string,
  namespace: string,
  extraAnnotations: Record<string, string> = {},
): ObjectMeta {
  const owned = namespace === app.metadata.namespace ? ownerReference(app) : undefined;
  return {
    name,
    namespace,
    labels: childLabels(app, component),
    annotations: { ...extraAnnotations, [OWNER_ANNOTATION]: `${app.metadata.namespace}/${app.metadata.name}` },
    ...(owned ? { ownerReferences: owned } : {}),
  };
}

/** Identity of an object for set operations (apiVersion group + kind + namespace + name). */
export function objectId(o: { apiVersion: string; kind: string; metadata: { name: string; namespace?: string } }): string {
  const group = o.apiVersion.includes('/') ? o.apiVersion.split('/')[0] : '';
  return `${group}/${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
}
