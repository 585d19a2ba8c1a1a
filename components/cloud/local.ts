/**
 * Local / existing cluster: the platform installs onto a cluster that already exists (K3s, kind, k3d or any
 * other), reached through a kubeconfig file or inline kubeconfig content and an optional context. Creates no
 * cloud resources.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as pulumi from '@pulumi/pulumi';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import type { CloudOutputs } from './types.js';
import { CloudArgsError, requireNonEmpty, requireOneOf } from './validate.js';

/** What kind of existing cluster it is; decides the default StorageClass. */
export type LocalFlavour = 'k3s' | 'k3d' | 'kind' | 'other';

/** Arguments of {@link LocalCluster}; exactly one of kubeconfigPath / kubeconfig is required. */
export interface LocalClusterArgs {
    /** Path of a kubeconfig file (`~` expands to the home directory); must exist. */
    kubeconfigPath?: string;
    /** Inline kubeconfig YAML (use a Pulumi secret); alternative to kubeconfigPath. */
    kubeconfig?: pulumi.Input<string>;
    /** Context to use; must exist in the kubeconfig (default: the kubeconfig's current-context). */
    context?: string;
    /** Cluster flavour (default `other`): k3s/k3d default to StorageClass `local-path`, kind/other to `standard`. */
    flavour?: LocalFlavour;
    /** Name of the default StorageClass, overriding the flavour's default. */
    defaultStorageClass?: string;
    /** Name to report as clusterName (default: the context's cluster name). */
    clusterName?: string;
}

/** Type token of {@link LocalCluster}. */
export const LOCAL_CLUSTER_TYPE = 'nkp:cloud:LocalCluster';
const C = 'LocalCluster';
const FLAVOURS = ['k3s', 'k3d', 'kind', 'other'] as const;

/** Default StorageClass of a flavour: K3s and k3d ship `local-path`, kind (and most others) `standard`. */
export function defaultStorageClassFor(flavour: LocalFlavour): string {
    return flavour === 'k3s' || flavour === 'k3d' ? 'local-path' : 'standard';
}

/** `~` and `~/x` expand to the home directory; everything else is returned unchanged. */
export function expandHome(p: string, home: string): string {
    if (p === '~') return home;
    if (p.startsWith('~/')) return path.join(home, p.slice(2));
    return p;
}

interface KubeconfigDoc {
    clusters?: { name: string; cluster: Record<string, unknown> }[];
    users?: { name: string; user: Record<string, unknown> }[];
    contexts?: { name: string; context: { cluster: string; user: string; namespace?: string } }[];
    'current-context'?: string;
    preferences?: unknown;
}

/** The chosen context reduced to a self-contained kubeconfig (one cluster, one user, one context). */
export interface SelectedContext {
    kubeconfig: string;
    context: string;
    cluster: string;
}

const FILE_KEYS = { cluster: ['certificate-authority'], user: ['client-certificate', 'client-key', 'tokenFile'] } as const;

/**
 * Pick `context` (default: the current-context) from kubeconfig YAML and return a minimal kubeconfig holding only
 * it, with current-context set and relative file references (certificate-authority, client-certificate,
 * client-key) made absolute against `baseDir`. Errors name `field` (the arg the kubeconfig came from).
 */
export function selectContext(text: string, context: string | undefined, field: string, baseDir?: string): SelectedContext {
    let doc: KubeconfigDoc;
    try {
        doc = parseYaml(text) as KubeconfigDoc;
    } catch (e) {
        throw new CloudArgsError(C, field, `the kubeconfig is not valid YAML (${(e as Error).message.split('\n')[0]})`);
    }
    if (typeof doc !== 'object' || doc === null || !Array.isArray(doc.contexts) || !Array.isArray(doc.clusters)) {
        throw new CloudArgsError(C, field, 'the kubeconfig has no contexts/clusters lists; give a kubeconfig as written by kubectl, k3s, kind or k3d');
    }
    const names = doc.contexts.map((c) => c?.name);
    const wanted = context ?? doc['current-context'];
    if (wanted === undefined || wanted === '') {
        throw new CloudArgsError(C, 'context', `the kubeconfig has no current-context; set context to one of ${JSON.stringify(names)}`);
    }
    const ctx = doc.contexts.find((c) => c?.name === wanted);
    if (!ctx) {
        throw new CloudArgsError(C, 'context', `${JSON.stringify(wanted)} is not in the kubeconfig from ${field}; available contexts: ${JSON.stringify(names)}`);
    }
    const cluster = doc.clusters.find((c) => c?.name === ctx.context?.cluster);
    if (!cluster) throw new CloudArgsError(C, field, `context ${JSON.stringify(wanted)} refers to cluster ${JSON.stringify(ctx.context?.cluster)}, which the kubeconfig does not define`);
    const user = (doc.users ?? []).find((u) => u?.name === ctx.context.user);
    if (!user) throw new CloudArgsError(C, field, `context ${JSON.stringify(wanted)} refers to user ${JSON.stringify(ctx.context.user)}, which the kubeconfig does not define`);
    const absolutise = (o: Record<string, unknown>, keys: readonly string[]) => {
        const out = { ...o };
        for (const k of keys) {
            const v = out[k];
            if (baseDir !== undefined && typeof v === 'string' && v !== '' && !path.isAbsolute(v)) out[k] = path.resolve(baseDir, v);
        }
        return out;
    };
    const minimal = {
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: cluster.name, cluster: absolutise(cluster.cluster ?? {}, FILE_KEYS.cluster) }],
        users: [{ name: user.name, user: absolutise(user.user ?? {}, FILE_KEYS.user) }],
        contexts: [{ name: ctx.name, context: { ...ctx.context } }],
        'current-context': ctx.name,
    };
    return { kubeconfig: toYaml(minimal), context: ctx.name, cluster: cluster.name };
}

/** File access the validation needs (injectable for tests). */
export interface LocalFs {
    home: string;
    readFile(p: string): string | undefined;
}

const realFs: LocalFs = {
    home: os.homedir(),
    readFile: (p) => {
        try {
            return fs.statSync(p).isFile() ? fs.readFileSync(p, 'utf8') : undefined;
        } catch {
            return undefined;
        }
    },
};

/** {@link LocalClusterArgs} validated, with defaults applied. */
export interface LocalClusterPlan {
    flavour: LocalFlavour;
    defaultStorageClass: string;
    /** When the kubeconfig came from a file (or a plain inline string): the selected context, validated now. */
    selected?: SelectedContext;
    /** Where the kubeconfig came from, for messages. */
    field: 'kubeconfigPath' | 'kubeconfig';
    context?: string;
    clusterName?: string;
}

/** Validate {@link LocalClusterArgs}: exactly one source, the file exists, the context is in it. */
export function validateLocalClusterArgs(args: LocalClusterArgs, lfs: LocalFs = realFs): LocalClusterPlan {
    if (typeof args !== 'object' || args === null) throw new CloudArgsError(C, 'args', 'a LocalClusterArgs object is required');
    const flavour = requireOneOf(C, 'flavour', args.flavour ?? 'other', FLAVOURS);
    const defaultStorageClass = args.defaultStorageClass === undefined ? defaultStorageClassFor(flavour) : requireNonEmpty(C, 'defaultStorageClass', args.defaultStorageClass);
    if (args.context !== undefined) requireNonEmpty(C, 'context', args.context);
    if (args.clusterName !== undefined) requireNonEmpty(C, 'clusterName', args.clusterName);
    const hasPath = args.kubeconfigPath !== undefined && args.kubeconfigPath !== '';
    const hasInline = args.kubeconfig !== undefined;
    if (hasPath === hasInline) {
        throw new CloudArgsError(C, 'kubeconfigPath', 'give exactly one of kubeconfigPath (a file) or kubeconfig (inline YAML)');
    }
    const base = { flavour, defaultStorageClass, context: args.context, clusterName: args.clusterName };
    if (hasPath) {
        const file = path.resolve(expandHome(args.kubeconfigPath!, lfs.home));
        const text = lfs.readFile(file);
        if (text === undefined) {
            throw new CloudArgsError(C, 'kubeconfigPath', `file ${file} does not exist or is not readable; point it at the kubeconfig of the existing cluster (e.g. ~/.kube/config)`);
        }
        return { ...base, field: 'kubeconfigPath', selected: selectContext(text, args.context, 'kubeconfigPath', path.dirname(file)) };
    }
    if (typeof args.kubeconfig === 'string') {
        return { ...base, field: 'kubeconfig', selected: selectContext(args.kubeconfig, args.context, 'kubeconfig') };
    }
    return { ...base, field: 'kubeconfig' };
}

/**
 * An existing cluster (K3s, kind, k3d or any other) the platform installs onto unchanged. Creates no cloud
 * resources; its kubeconfig output holds only the chosen context and is a secret.
 */
export class LocalCluster extends pulumi.ComponentResource implements CloudOutputs {
    readonly provider = 'local' as const;
    readonly kubeconfig: pulumi.Output<string>;
    readonly clusterName: pulumi.Output<string>;
    readonly defaultStorageClass: pulumi.Output<string>;
    /** The context used. */
    readonly context: pulumi.Output<string>;

    constructor(name: string, args: LocalClusterArgs, opts?: pulumi.ComponentResourceOptions) {
        const plan = validateLocalClusterArgs(args);
        super(LOCAL_CLUSTER_TYPE, name, {}, opts);
        const selected: pulumi.Output<SelectedContext> = plan.selected
            ? pulumi.secret(plan.selected)
            : pulumi.secret(pulumi.output(args.kubeconfig!).apply((text) => selectContext(text, plan.context, 'kubeconfig')));
        this.kubeconfig = pulumi.secret(selected.apply((s) => s.kubeconfig));
        this.context = pulumi.unsecret(selected.apply((s) => s.context));
        this.clusterName = plan.clusterName !== undefined ? pulumi.output(plan.clusterName) : pulumi.unsecret(selected.apply((s) => s.cluster));
        this.defaultStorageClass = pulumi.output(plan.defaultStorageClass);
        this.registerOutputs({
            kubeconfig: this.kubeconfig,
            clusterName: this.clusterName,
            defaultStorageClass: this.defaultStorageClass,
            context: this.context,
        });
    }
}
