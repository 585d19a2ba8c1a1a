// Pure desired Kubernetes objects for a provisioned OIDC client: the Secret `<name>-oidc-client` (owned by the
// NebariApp through a controller owner reference, so it goes with the app), and a Role + RoleBinding that let only
// the app's ServiceAccount (`serviceAccountName`, default the NebariApp's name) `get` that one Secret.
import {
  API_VERSION,
  COMPONENT_LABEL,
  KIND,
  MANAGED_BY_LABEL,
  MANAGED_BY_VALUE,
  OWNER_ANNOTATION,
  OWNER_NAME_LABEL,
  OWNER_NAMESPACE_LABEL,
  SECRET_KEYS,
  clientSecretName,
  fitName,
  labelValue,
  objectKey,
  type NebariApp,
} from '../api/types.js';

/** What ensureClients returns and the Secret carries. */
export interface ProvisionedCredentials {
  clientId: string;
  clientSecret: string;
  issuerUrl: string;
  spaClientId?: string;
  deviceClientId?: string;
}

export interface OwnedMeta {
  name: string;
  namespace: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  ownerReferences?: {
    apiVersion: string;
    kind: string;
    name: string;
    uid: string;
    controller: boolean;
    blockOwnerDeletion: boolean;
  }[];
}

export interface SecretObject {
  apiVersion: 'v1';
  kind: 'Secret';
  metadata: OwnedMeta;
  type: 'Opaque';
  /** base64 values (not stringData: server-side apply compares `data`, so an unchanged Secret is a no-op). */
  data: Record<string, string>;
}

export interface RoleObject {
  apiVersion: 'rbac.authorization.k8s.io/v1';
  kind: 'Role';
  metadata: OwnedMeta;
  rules: { apiGroups: string[]; resources: string[]; resourceNames: string[]; verbs: string[] }[];
}

export interface RoleBindingObject {
  apiVersion: 'rbac.authorization.k8s.io/v1';
  kind: 'RoleBinding';
  metadata: OwnedMeta;
  roleRef: { apiGroup: 'rbac.authorization.k8s.io'; kind: 'Role'; name: string };
  subjects: { kind: 'ServiceAccount'; name: string; namespace: string }[];
}

export const OIDC_SECRET_COMPONENT = 'oidc-client-secret';
export const OIDC_READER_COMPONENT = 'oidc-client-reader';

/** Name of the Role and RoleBinding that grant reading the OIDC Secret. */
export function secretReaderName(appName: string): string {
  return fitName(`${appName}-oidc-client-reader`);
}

export function serviceAccountOf(app: NebariApp): string {
  return app.spec.serviceAccountName ?? app.metadata.name;
}

function meta(app: NebariApp, name: string, component: string): OwnedMeta {
  const { namespace, name: appName, uid } = app.metadata;
  const m: OwnedMeta = {
    name,
    namespace,
    labels: {
      [MANAGED_BY_LABEL]: MANAGED_BY_VALUE,
      [OWNER_NAMESPACE_LABEL]: labelValue(namespace),
      [OWNER_NAME_LABEL]: labelValue(appName),
      [COMPONENT_LABEL]: component,
    },
    annotations: { [OWNER_ANNOTATION]: objectKey(namespace, appName) },
  };
  if (uid) {
    m.ownerReferences = [{ apiVersion: API_VERSION, kind: KIND, name: appName, uid, controller: true, blockOwnerDeletion: true }];
  }
  return m;
}

/** Secret `<name>-oidc-client` with client-id, client-secret, issuer-url (+ spa-client-id, device-client-id). */
export function desiredOidcSecret(app: NebariApp, creds: ProvisionedCredentials): SecretObject {
  const data: Record<string, string> = {
    [SECRET_KEYS.clientId]: creds.clientId,
    [SECRET_KEYS.clientSecret]: creds.clientSecret,
    [SECRET_KEYS.issuerUrl]: creds.issuerUrl,
  };
  if (creds.spaClientId) data[SECRET_KEYS.spaClientId] = creds.spaClientId;
  if (creds.deviceClientId) data[SECRET_KEYS.deviceClientId] = creds.deviceClientId;
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: meta(app, clientSecretName(app.metadata.name), OIDC_SECRET_COMPONENT),
    type: 'Opaque',
    data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v, 'utf8').toString('base64')])),
  };
}

/** Role allowing `get` on exactly the OIDC Secret (no list/watch: those would expose every Secret's name). */
export function desiredSecretReaderRole(app: NebariApp): RoleObject {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'Role',
    metadata: meta(app, secretReaderName(app.metadata.name), OIDC_READER_COMPONENT),
    rules: [{ apiGroups: [''], resources: ['secrets'], resourceNames: [clientSecretName(app.metadata.name)], verbs: ['get'] }],
  };
}

/** RoleBinding of that Role to the app's ServiceAccount only. */
export function desiredSecretReaderBinding(app: NebariApp): RoleBindingObject {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: meta(app, secretReaderName(app.metadata.name), OIDC_READER_COMPONENT),
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: secretReaderName(app.metadata.name) },
    subjects: [{ kind: 'ServiceAccount', name: serviceAccountOf(app), namespace: app.metadata.namespace }],
  };
}

/** The three objects, in apply order. */
export function desiredOidcObjects(app: NebariApp, creds: ProvisionedCredentials): [SecretObject, RoleObject, RoleBindingObject] {
  return [desiredOidcSecret(app, creds), desiredSecretReaderRole(app), desiredSecretReaderBinding(app)];
}
