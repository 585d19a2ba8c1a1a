// Pure checks of a software pack: every NebariApp validated with the operator's own validator (the one schema in
// operator/src/api, shared with the operator and the policy pack), plus the checks that need the pack's other
// objects: the backend Service (and port) exists, and the ServiceAccount allowed to read the OIDC Secret exists.
// I/O (reading files, running kustomize) lives in packs/validate.ts.
import { Type, type Static } from '@sinclair/typebox';
import { Ajv } from 'ajv';
import { APP_FINALIZER, PROJECT_PACKS } from '../components/argocd/spec.js';
import { NS, packNamespaceClash } from '../components/cluster/namespaces.js';
import { API_VERSION, KIND, MANAGED_NAMESPACE_LABEL } from '../operator/src/api/types.js';
import { validate } from '../operator/src/api/validate.js';
import { PINNED_GIT_REVISION } from '../stacks/config.js';

/** A Kubernetes object as read from a manifest, with where it came from. */
export interface PackObject {
    /** File (or `kustomize build <dir>`) the object was read from. */
    source: string;
    object: unknown;
}

export type Severity = 'error' | 'warning';

export interface PackProblem {
    severity: Severity;
    /** File the object came from. */
    source: string;
    /** `Kind namespace/name` of the object, or `document N` when it has no kind/name. */
    object: string;
    /** Offending field, e.g. `spec.service.port`. */
    field: string;
    message: string;
}

type Json = Record<string, unknown>;

const isObj = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);

function meta(o: Json): { name?: string; namespace?: string } {
    const md = isObj(o['metadata']) ? o['metadata'] : {};
    return {
        ...(typeof md['name'] === 'string' ? { name: md['name'] } : {}),
        ...(typeof md['namespace'] === 'string' ? { namespace: md['namespace'] } : {}),
    };
}

function describe(o: Json, index: number): string {
    const { name, namespace } = meta(o);
    const kind = typeof o['kind'] === 'string' ? o['kind'] : undefined;
    if (!kind || !name) return `document ${index + 1}${kind ? ` (${kind})` : ''}`;
    return `${kind} ${namespace ? `${namespace}/` : ''}${name}`;
}

const isKind = (o: Json, apiVersion: string, kind: string): boolean => o['apiVersion'] === apiVersion && o['kind'] === kind;

/** Objects with no namespace are placed by whoever applies them (kustomize `namespace:`, Argo CD's destination). */
const sameNamespace = (a: string | undefined, b: string | undefined): boolean => a === undefined || b === undefined || a === b;

interface ServicePort {
    port: number;
    name?: string;
}

function servicePorts(svc: Json): ServicePort[] {
    const spec = isObj(svc['spec']) ? svc['spec'] : {};
    const ports = Array.isArray(spec['ports']) ? spec['ports'] : [];
    return ports.filter(isObj).flatMap((p) => (typeof p['port'] === 'number' ? [{ port: p['port'], ...(typeof p['name'] === 'string' ? { name: p['name'] } : {}) }] : []));
}

/** Whether the operator provisions an OIDC client (and its Secret) for this spec: auth on, keycloak, no clientSecretRef. */
function provisionsClient(spec: Json): boolean {
    const auth = isObj(spec['auth']) ? spec['auth'] : {};
    return auth['enabled'] === true && (auth['provider'] ?? 'keycloak') === 'keycloak' && auth['provisionClient'] !== false && auth['clientSecretRef'] === undefined;
}

/** Every problem of a pack's objects, errors first in document order, then warnings. */
export function checkPack(objects: readonly PackObject[], opts: { requireNebariApp?: boolean } = {}): PackProblem[] {
    const problems: PackProblem[] = [];
    const docs = objects.map((p, i) => ({ ...p, index: i }));
    const services = docs.filter((d): d is typeof d & { object: Json } => isObj(d.object) && isKind(d.object, 'v1', 'Service'));
    const serviceAccounts = docs.filter((d): d is typeof d & { object: Json } => isObj(d.object) && isKind(d.object, 'v1', 'ServiceAccount'));

    for (const d of docs) {
        if (!isObj(d.object)) {
            problems.push({ severity: 'error', source: d.source, object: `document ${d.index + 1}`, field: '', message: 'is not a Kubernetes object (a YAML mapping with apiVersion and kind)' });
            continue;
        }
        const o = d.object;
        if (o['kind'] !== KIND) continue;
        const object = describe(o, d.index);
        const add = (severity: Severity, field: string, message: string): void => {
            problems.push({ severity, source: d.source, object, field, message });
        };
        const errors = validate(o);
        if (o['apiVersion'] === undefined) errors.unshift({ field: 'apiVersion', message: `is required: ${API_VERSION}` });
        for (const e of errors) add('error', e.field, e.message);
        if (!meta(o).name) add('error', 'metadata.name', 'is required');
        if (errors.length > 0 || !isObj(o['spec'])) continue;

        const spec = o['spec'];
        const ns = meta(o).namespace;
        const service = isObj(spec['service']) ? spec['service'] : {};
        const svcName = service['name'] as string;
        const svcPort = service['port'] as number;
        const svcNs = typeof service['namespace'] === 'string' ? service['namespace'] : ns;
        // A backend in another namespace is allowed and lives outside the pack: nothing to check it against.
        const crossNamespace = typeof service['namespace'] === 'string' && ns !== undefined && service['namespace'] !== ns;
        if (!crossNamespace) {
            const svc = services.find((s) => meta(s.object).name === svcName && sameNamespace(meta(s.object).namespace, svcNs));
            if (!svc) {
                const names = services.filter((s) => sameNamespace(meta(s.object).namespace, svcNs)).map((s) => meta(s.object).name ?? '?');
                add('error', 'spec.service.name', `Service "${svcName}" is not in the pack${names.length ? ` (Services: ${names.join(', ')})` : ' (the pack has no Service)'}`);
            } else {
                const ports = servicePorts(svc.object);
                if (!ports.some((p) => p.port === svcPort)) {
                    add('error', 'spec.service.port', `${svcPort} is not a port of Service "${svcName}" (ports: ${ports.map((p) => (p.name ? `${p.port} (${p.name})` : String(p.port))).join(', ') || 'none'})`);
                }
            }
        }

        const saName = typeof spec['serviceAccountName'] === 'string' ? spec['serviceAccountName'] : meta(o).name;
        if (saName && !serviceAccounts.some((s) => meta(s.object).name === saName && sameNamespace(meta(s.object).namespace, ns))) {
            // With a provisioned OIDC client the operator binds read access to the client Secret to this name: a
            // binding to a ServiceAccount nobody created is a grant waiting for whoever creates one later.
            const provisioned = provisionsClient(spec);
            add(
                provisioned ? 'error' : 'warning',
                'spec.serviceAccountName',
                `ServiceAccount "${saName}"${typeof spec['serviceAccountName'] === 'string' ? '' : ' (the default: the NebariApp name)'} is not in the pack; only it may read the OIDC client Secret${provisioned ? ` ${meta(o).name ?? ''}-oidc-client, so the pack must ship it` : ''}`,
            );
        }
    }
    if ((opts.requireNebariApp ?? true) && nebariAppCount(objects) === 0) {
        problems.push({ severity: 'error', source: objects[0]?.source ?? '', object: 'pack', field: 'kind', message: `the pack has no ${KIND} (${API_VERSION}): it does not plug into the platform` });
    }
    return [...problems.filter((p) => p.severity === 'error'), ...problems.filter((p) => p.severity === 'warning')];
}

/** How many NebariApps a pack holds (a pack without one does not plug into the platform). */
export function nebariAppCount(objects: readonly PackObject[]): number {
    return objects.filter((p) => isObj(p.object) && p.object['kind'] === KIND).length;
}

/** One line per problem: `error packs/x/nebariapp.yaml NebariApp ns/app spec.service.port: ...`. */
export function formatProblem(p: PackProblem): string {
    return `${p.severity} ${p.source} ${p.object}${p.field ? ` ${p.field}` : ''}: ${p.message}`;
}

const objectsOfKind = (objects: readonly PackObject[], kind: string): (PackObject & { object: Json; index: number })[] =>
    objects.flatMap((p, index) => (isObj(p.object) && p.object['kind'] === kind ? [{ ...p, object: p.object, index }] : []));

// ---------------------------------------------------------------------------------------------------------------
// Helm charts: the NebariApp is conditional and its hostname comes from the values.

/** The values key that switches a chart's NebariApp (and so its platform integration) on and off. */
export const NEBARIAPP_ENABLED_VALUE = 'nebariapp.enabled';
/** The values key a chart's NebariApp takes its hostname from. */
export const NEBARIAPP_HOSTNAME_VALUE = 'nebariapp.hostname';

/** The chart's values.yaml declares `nebariapp.enabled` as a boolean. */
export function checkChartValues(values: unknown, source: string): PackProblem[] {
    const na = isObj(values) && isObj(values['nebariapp']) ? values['nebariapp'] : undefined;
    if (typeof na?.['enabled'] === 'boolean') return [];
    return [
        {
            severity: 'error',
            source,
            object: 'chart values',
            field: NEBARIAPP_ENABLED_VALUE,
            message: `is ${na?.['enabled'] === undefined ? 'missing' : `${JSON.stringify(na['enabled'])}, not a boolean`}: a pack chart declares nebariapp.enabled (true or false) and renders its NebariApp only when it is true, so the chart also installs without the platform`,
        },
    ];
}

/** Objects rendered with nebariapp.enabled=false: any NebariApp among them is unconditional. */
export function checkChartConditional(renderedOff: readonly PackObject[]): PackProblem[] {
    return objectsOfKind(renderedOff, KIND).map((d) => ({
        severity: 'error' as const,
        source: d.source,
        object: describe(d.object, d.index),
        field: 'kind',
        message: `is rendered with ${NEBARIAPP_ENABLED_VALUE}=false: the NebariApp is unconditional; wrap its template in {{- if .Values.nebariapp.enabled }} ... {{- end }} so the chart installs without the platform`,
    }));
}

/** Objects rendered with nebariapp.hostname=<probe>: every NebariApp's spec.hostname must be the probe. */
export function checkHostnameTemplated(renderedProbe: readonly PackObject[], probe: string): PackProblem[] {
    return objectsOfKind(renderedProbe, KIND).flatMap((d) => {
        const spec = isObj(d.object['spec']) ? d.object['spec'] : {};
        if (spec['hostname'] === probe) return [];
        return [
            {
                severity: 'error' as const,
                source: d.source,
                object: describe(d.object, d.index),
                field: 'spec.hostname',
                message: `is not templated: rendered ${JSON.stringify(spec['hostname'])} with ${NEBARIAPP_HOSTNAME_VALUE}=${probe}; take it from {{ .Values.nebariapp.hostname }} so each deployment sets its own`,
            },
        ];
    });
}

// ---------------------------------------------------------------------------------------------------------------
// Namespaces: the operator acts only in namespaces labelled nebari.dev/managed=true.

/** Where a deployment of the pack lands, when known (an Argo CD Application's destination). */
export interface Destination {
    source: string;
    object: string;
    namespace: string;
    /** Argo CD creates the namespace (syncOptions CreateNamespace=true) with these labels (managedNamespaceMetadata). */
    createdWithLabels?: Record<string, string>;
}

const OPT_IN = `${MANAGED_NAMESPACE_LABEL}=true`;

/**
 * A NebariApp's namespace must be opted in: a Namespace the pack ships, or the one Argo CD creates for the
 * Application, carries nebari.dev/managed=true (otherwise the operator reports NamespaceNotOptedIn and creates
 * nothing). A namespace created by someone else is outside the pack and not checked.
 */
export function checkNamespaceOptIn(objects: readonly PackObject[], destination?: Destination): PackProblem[] {
    const problems: PackProblem[] = [];
    const apps = objectsOfKind(objects, KIND);
    if (apps.length === 0) return problems;
    const appNamespaces = new Set(apps.map((a) => meta(a.object).namespace ?? destination?.namespace).filter((n): n is string => n !== undefined));
    for (const d of objectsOfKind(objects, 'Namespace')) {
        const name = meta(d.object).name;
        if (!name || !appNamespaces.has(name)) continue;
        const labels = isObj(d.object['metadata']) && isObj(d.object['metadata']['labels']) ? d.object['metadata']['labels'] : {};
        if (labels[MANAGED_NAMESPACE_LABEL] !== 'true') {
            problems.push({ severity: 'error', source: d.source, object: describe(d.object, d.index), field: `metadata.labels["${MANAGED_NAMESPACE_LABEL}"]`, message: `namespace "${name}" holds a NebariApp but is not opted in: label it ${OPT_IN} (otherwise the operator reports NamespaceNotOptedIn and creates nothing)` });
        }
    }
    if (destination?.createdWithLabels !== undefined && appNamespaces.has(destination.namespace) && destination.createdWithLabels[MANAGED_NAMESPACE_LABEL] !== 'true') {
        problems.push({
            severity: 'error',
            source: destination.source,
            object: destination.object,
            field: `spec.syncPolicy.managedNamespaceMetadata.labels["${MANAGED_NAMESPACE_LABEL}"]`,
            message: `Argo CD creates namespace "${destination.namespace}" (CreateNamespace=true) without ${OPT_IN}: the pack's NebariApp would stay NamespaceNotOptedIn`,
        });
    }
    return problems;
}

// ---------------------------------------------------------------------------------------------------------------
// Argo CD Applications of the gitops repository (the root app-of-apps syncs them into nkp-pack-apps).

/** What to render for an Application: its one source and destination, as Argo CD reads them. */
export interface ApplicationPlan {
    name: string;
    /** Path of the pack in its repository. */
    path: string;
    repoURL: string;
    destination: Destination;
    helm?: { releaseName: string; valueFiles: string[]; values: Record<string, unknown>[]; set: string[]; setString: string[] };
    kustomize?: { images?: string[]; patches?: unknown[]; namePrefix?: string; nameSuffix?: string; namespace?: string; commonLabels?: Record<string, string> };
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/**
 * The checks of a pack Application (project packs, in nkp-pack-apps, a pack namespace, a pinned revision, the
 * prune finalizer) and, when it can be rendered, its plan.
 */
export function checkApplication(doc: PackObject, yamlParse: (text: string) => unknown): { problems: PackProblem[]; plan?: ApplicationPlan } {
    const problems: PackProblem[] = [];
    if (!isObj(doc.object) || doc.object['kind'] !== 'Application' || doc.object['apiVersion'] !== 'argoproj.io/v1alpha1') {
        return { problems: [{ severity: 'error', source: doc.source, object: 'document 1', field: 'kind', message: 'is not an Argo CD Application (argoproj.io/v1alpha1)' }] };
    }
    const o = doc.object;
    const object = describe(o, 0);
    const add = (field: string, message: string, severity: Severity = 'error'): void => {
        problems.push({ severity, source: doc.source, object, field, message });
    };
    const md = meta(o);
    if (md.namespace !== NS.packApps) add('metadata.namespace', `is ${JSON.stringify(md.namespace ?? null)}: pack Applications live in ${NS.packApps} (the root app-of-apps syncs them there; Argo CD accepts pack Applications from no other namespace)`);
    const finalizers = isObj(o['metadata']) && Array.isArray(o['metadata']['finalizers']) ? o['metadata']['finalizers'] : [];
    if (!finalizers.includes(APP_FINALIZER)) add('metadata.finalizers', `lacks ${APP_FINALIZER}: without it deleting the Application leaves the pack's objects (the NebariApp among them) running`, 'warning');
    const spec = isObj(o['spec']) ? o['spec'] : {};
    if (spec['project'] !== PROJECT_PACKS) add('spec.project', `is ${JSON.stringify(spec['project'] ?? null)}: packs deploy under the "${PROJECT_PACKS}" AppProject (pack namespaces only, no cluster-scoped objects)`);
    if (spec['sources'] !== undefined) add('spec.sources', 'multi-source Applications are not supported by the pack validator; use spec.source');
    const source = isObj(spec['source']) ? spec['source'] : undefined;
    if (!source) {
        add('spec.source', 'is required');
        return { problems };
    }
    const revision = str(source['targetRevision']);
    if (!revision || !new RegExp(PINNED_GIT_REVISION).test(revision)) add('spec.source.targetRevision', `is ${JSON.stringify(source['targetRevision'] ?? null)}: pin a release tag like v1.2.0 or a full 40-hex commit SHA (never HEAD or a branch)`);
    const dest = isObj(spec['destination']) ? spec['destination'] : {};
    const namespace = str(dest['namespace']);
    if (!namespace) add('spec.destination.namespace', 'is required: the pack namespace (e.g. pack-<name>-<env>)');
    else {
        const clash = packNamespaceClash(namespace);
        if (clash !== undefined) add('spec.destination.namespace', `"${namespace}" is ${clash}: packs deploy into pack namespaces only`);
    }
    const path = str(source['path']);
    if (!path) add('spec.source.path', 'is required: the pack directory in the repository (a Helm chart from a chart repository cannot be validated from a checkout)');
    if (!path || !namespace) return { problems };

    const sync = isObj(spec['syncPolicy']) ? spec['syncPolicy'] : {};
    const createsNamespace = Array.isArray(sync['syncOptions']) && sync['syncOptions'].includes('CreateNamespace=true');
    const mnm = isObj(sync['managedNamespaceMetadata']) ? sync['managedNamespaceMetadata'] : {};
    const labels = isObj(mnm['labels']) ? (mnm['labels'] as Record<string, string>) : {};
    const plan: ApplicationPlan = {
        name: md.name ?? 'application',
        path,
        repoURL: str(source['repoURL']) ?? '',
        destination: { source: doc.source, object, namespace, ...(createsNamespace ? { createdWithLabels: labels } : {}) },
    };
    if (isObj(source['helm'])) {
        const h = source['helm'];
        const values: Record<string, unknown>[] = [];
        if (typeof h['values'] === 'string' && h['values'].trim() !== '') {
            const v = yamlParse(h['values']);
            if (!isObj(v)) add('spec.source.helm.values', 'must be a YAML mapping');
            else values.push(v);
        }
        if (h['valuesObject'] !== undefined) {
            if (!isObj(h['valuesObject'])) add('spec.source.helm.valuesObject', 'must be a mapping');
            else values.push(h['valuesObject']);
        }
        const params = Array.isArray(h['parameters']) ? h['parameters'].filter(isObj) : [];
        plan.helm = {
            releaseName: str(h['releaseName']) ?? plan.name,
            valueFiles: Array.isArray(h['valueFiles']) ? h['valueFiles'].filter((f): f is string => typeof f === 'string') : [],
            values,
            set: params.filter((p) => p['forceString'] !== true).map((p) => `${String(p['name'])}=${String(p['value'])}`),
            setString: params.filter((p) => p['forceString'] === true).map((p) => `${String(p['name'])}=${String(p['value'])}`),
        };
    } else if (isObj(source['kustomize'])) {
        const k = source['kustomize'];
        plan.kustomize = {
            ...(Array.isArray(k['images']) ? { images: k['images'].filter((i): i is string => typeof i === 'string') } : {}),
            ...(Array.isArray(k['patches']) ? { patches: k['patches'] } : {}),
            ...(str(k['namePrefix']) ? { namePrefix: str(k['namePrefix'])! } : {}),
            ...(str(k['nameSuffix']) ? { nameSuffix: str(k['nameSuffix'])! } : {}),
            ...(str(k['namespace']) ? { namespace: str(k['namespace'])! } : {}),
            ...(isObj(k['commonLabels']) ? { commonLabels: k['commonLabels'] as Record<string, string> } : {}),
        };
    }
    return { problems, plan };
}

// ---------------------------------------------------------------------------------------------------------------
// pack.yaml: what a catalogue shows about the pack.

const HTTPS_URL = '^https://[^\\s]+$';
export const PACK_MATURITIES = ['experimental', 'alpha', 'beta', 'ga'] as const;

export const PackMetadataSchema = Type.Object(
    {
        name: Type.String({ pattern: '^[a-z]([-a-z0-9]*[a-z0-9])?$', maxLength: 53, description: 'DNS-1035 label: the pack (and default release) name' }),
        displayName: Type.String({ minLength: 1, maxLength: 64, description: 'shown to people (the landing card uses at most 64 characters too)' }),
        description: Type.String({ minLength: 1, maxLength: 256 }),
        maturity: Type.Union(PACK_MATURITIES.map((m) => Type.Literal(m))),
        owner: Type.Object({ name: Type.String({ minLength: 1 }), email: Type.Optional(Type.String({ pattern: '^[^\\s@]+@[^\\s@]+$' })), url: Type.Optional(Type.String({ pattern: HTTPS_URL })) }, { additionalProperties: false }),
        links: Type.Record(Type.String({ pattern: '^[a-z][a-z0-9-]*$' }), Type.String({ pattern: HTTPS_URL })),
        runsWithoutPlatform: Type.Boolean({ description: 'the chart installs and works with nebariapp.enabled=false (no operator, no NebariApp CRD)' }),
        forms: Type.Object(
            { helm: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$' })), kustomize: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$' })) },
            { additionalProperties: false, minProperties: 1, description: 'directories of the pack, relative to pack.yaml: a Helm chart and/or a Kustomize base' },
        ),
    },
    { additionalProperties: false },
);
export type PackMetadata = Static<typeof PackMetadataSchema>;

let packMetadataCheck: ReturnType<Ajv['compile']> | undefined;

/** pack.yaml against its schema; every problem names the field and what is allowed. */
export function checkPackMetadata(doc: unknown, source: string): PackProblem[] {
    packMetadataCheck ??= new Ajv({ allErrors: true, strict: false }).compile(PackMetadataSchema);
    if (packMetadataCheck(doc)) return [];
    return (packMetadataCheck.errors ?? [])
        .filter((e) => e.keyword !== 'if')
        .map((e) => {
            const base = e.instancePath.replace(/^\//, '').replace(/\//g, '.');
            const field = e.keyword === 'required' ? [base, (e.params as { missingProperty: string }).missingProperty].filter(Boolean).join('.') : e.keyword === 'additionalProperties' ? [base, (e.params as { additionalProperty: string }).additionalProperty].filter(Boolean).join('.') : base;
            let message = e.message ?? 'is invalid';
            if (e.keyword === 'required') message = 'is required';
            else if (e.keyword === 'additionalProperties') message = 'is not a pack.yaml field (allowed: name, displayName, description, maturity, owner, links, runsWithoutPlatform, forms)';
            else if (field === 'maturity') message = `must be one of ${PACK_MATURITIES.join(', ')}`;
            else if (e.keyword === 'pattern' && /links|url/.test(field)) message = 'must be an https:// URL';
            return { severity: 'error' as const, source, object: 'pack.yaml', field, message };
        })
        .filter((p, i, all) => all.findIndex((q) => q.field === p.field && q.message === p.message) === i);
}
