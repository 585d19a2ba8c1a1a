// Pure checks of a software pack: every NebariApp validated with the operator's own validator (the one schema in
// operator/src/api, shared with the operator and the policy pack), plus the checks that need the pack's other
// objects: the backend Service (and port) exists, and the ServiceAccount allowed to read the OIDC Secret exists.
// I/O (reading files, running kustomize) lives in packs/validate.ts.
import { API_VERSION, KIND } from '../operator/src/api/types.js';
import { validate } from '../operator/src/api/validate.js';

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

/** Every problem of a pack's objects, errors first in document order, then warnings. */
export function checkPack(objects: readonly PackObject[]): PackProblem[] {
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
            add(
                'warning',
                'spec.serviceAccountName',
                `ServiceAccount "${saName}"${typeof spec['serviceAccountName'] === 'string' ? '' : ' (the default: the NebariApp name)'} is not in the pack; only it may read the OIDC client Secret`,
            );
        }
    }
    if (nebariAppCount(objects) === 0) {
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
