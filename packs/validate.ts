// Pack validator CLI: `npm run validate:pack -- [options] <pack-dir | manifest.yaml | application.yaml>...`
//
// A directory argument is one pack, rendered the way Argo CD renders it, with the real tools (packs/tools.ts):
//   - a Helm chart (Chart.yaml): `helm template` at the values of the command line (-f, --set, --set-string,
//     --namespace, --release), plus two probe renders: nebariapp.enabled=false (the NebariApp must disappear, so the
//     chart installs without the platform) and nebariapp.hostname=<probe> (the hostname must come from the values);
//   - a Kustomize directory (kustomization.yaml): `kustomize build`;
//   - a directory with pack.yaml and `forms`: each form it lists (e.g. packs/template: its chart and its base);
//   - anything else: every *.yaml / *.yml file in it (recursively).
// A file argument holding an Argo CD Application renders that Application's source (spec.source.path under --repo,
// default the working directory) with its helm values / kustomize images and patches, into its destination
// namespace, and checks the Application itself. Other file arguments together form one more pack.
// pack.yaml (in the pack directory or up to two levels above) is checked against its schema.
// Every object names the file it came from; one line per problem with severity, file, object and field.
// Exit 1 when any pack has an error (warnings alone exit 0), 2 on bad usage.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parse } from 'yaml';
import { packForm, parseYaml, readDirectory, renderHelm, renderKustomize, shown, type HelmInputs, type KustomizeInputs } from './render.js';
import { toolPath } from './tools.js';
import {
    NEBARIAPP_ENABLED_VALUE,
    NEBARIAPP_HOSTNAME_VALUE,
    checkApplication,
    checkChartConditional,
    checkChartValues,
    checkHostnameTemplated,
    checkNamespaceOptIn,
    checkPack,
    checkPackMetadata,
    formatProblem,
    nebariAppCount,
    type Destination,
    type PackMetadata,
    type PackObject,
    type PackProblem,
} from './validate-lib.js';

const USAGE = `usage: npm run validate:pack -- [options] <pack-dir | manifest.yaml | application.yaml>...
  -f, --values FILE     values file for Helm packs (repeatable, in order)
  --set K=V             Helm value (repeatable); --set-string K=V likewise, always a string
  --namespace NS        namespace Helm packs render into (default: default)
  --release NAME        Helm release name (default: the pack directory's name)
  --repo DIR            checkout an Application's spec.source.path is relative to (default: .)
  --helm PATH           helm binary (else $HELM, this repository's build, PATH)
  --kustomize PATH      kustomize binary (else $KUSTOMIZE, this repository's build, PATH)
`;

interface Options {
    values: string[];
    set: string[];
    setString: string[];
    namespace?: string;
    release?: string;
    repo: string;
    helm?: string;
    kustomize?: string;
    targets: string[];
}

class UsageError extends Error {}

function parseArgs(args: string[]): Options {
    const o: Options = { values: [], set: [], setString: [], repo: '.', targets: [] };
    for (let i = 0; i < args.length; i++) {
        const a = args[i]!;
        const next = (): string => {
            const v = args[++i];
            if (v === undefined || v.startsWith('--')) throw new UsageError(`${a} needs a value`);
            return v;
        };
        switch (a) {
            case '-f':
            case '--values':
                o.values.push(next());
                break;
            case '--set':
                o.set.push(next());
                break;
            case '--set-string':
                o.setString.push(next());
                break;
            case '--namespace':
                o.namespace = next();
                break;
            case '--release':
                o.release = next();
                break;
            case '--repo':
                o.repo = next();
                break;
            case '--helm':
                o.helm = next();
                break;
            case '--kustomize':
                o.kustomize = next();
                break;
            default:
                if (a.startsWith('-')) throw new UsageError(`unknown option ${a}`);
                o.targets.push(a);
        }
    }
    for (const s of [...o.set, ...o.setString]) if (!/^[^=]+=/.test(s)) throw new UsageError(`--set ${s}: expected key=value`);
    for (const f of o.values) if (!existsSync(f)) throw new UsageError(`--values ${f}: no such file`);
    return o;
}

interface Result {
    name: string;
    objects: number;
    problems: PackProblem[];
}

/** pack.yaml of a pack directory: in it or up to two levels above. */
function findPackYaml(dir: string): string | undefined {
    let d = resolve(dir);
    for (let i = 0; i < 3; i++) {
        const f = join(d, 'pack.yaml');
        if (existsSync(f)) return f;
        if (existsSync(join(d, '.git')) || dirname(d) === d) return undefined;
        d = dirname(d);
    }
    return undefined;
}

function loadPackYaml(file: string): { problems: PackProblem[]; meta?: PackMetadata } {
    let doc: unknown;
    try {
        doc = parse(readFileSync(file, 'utf8'));
    } catch (err) {
        return { problems: [{ severity: 'error', source: shown(file), object: 'pack.yaml', field: '', message: `invalid YAML: ${(err as Error).message}` }] };
    }
    const problems = checkPackMetadata(doc, shown(file));
    return problems.length ? { problems } : { problems, meta: doc as PackMetadata };
}

const PROBE_HOST = 'hostname-probe.validate.invalid';

/** Helm pack: the render at the given values, then the conditional-NebariApp and templated-hostname probes. */
function validateHelm(dir: string, o: Options, inputs: HelmInputs, meta: PackMetadata | undefined, destination?: Destination): Result {
    const helm = toolPath('helm', o.helm);
    const problems: PackProblem[] = [];
    const valuesFile = join(dir, 'values.yaml');
    problems.push(...checkChartValues(existsSync(valuesFile) ? parse(readFileSync(valuesFile, 'utf8')) : undefined, shown(valuesFile)));
    const main = renderHelm(dir, helm, inputs);
    // A chart renders without its NebariApp when the values switch it off: that deployment runs without the platform.
    problems.push(...checkPack(main, { requireNebariApp: nebariAppCount(main) > 0 || meta?.runsWithoutPlatform === false }));
    problems.push(...checkNamespaceOptIn(main, destination));
    const on = renderHelm(dir, helm, { ...inputs, set: [...(inputs.set ?? []), `${NEBARIAPP_ENABLED_VALUE}=true`], setString: [...(inputs.setString ?? []), `${NEBARIAPP_HOSTNAME_VALUE}=${PROBE_HOST}`] });
    if (nebariAppCount(on) === 0) {
        problems.push({ severity: 'error', source: shown(dir), object: 'chart', field: NEBARIAPP_ENABLED_VALUE, message: 'renders no NebariApp with nebariapp.enabled=true: the chart does not plug into the platform' });
    }
    problems.push(...checkHostnameTemplated(on, PROBE_HOST));
    const off = renderHelm(dir, helm, { ...inputs, set: [...(inputs.set ?? []), `${NEBARIAPP_ENABLED_VALUE}=false`] });
    problems.push(...checkChartConditional(off));
    if (meta?.runsWithoutPlatform) {
        // Without the platform the rest must still hold together (Services, ServiceAccounts); NebariApp checks need none.
        problems.push(...checkPack(off, { requireNebariApp: false }).filter((p) => !problems.some((q) => q.source === p.source && q.field === p.field && q.message === p.message)));
    }
    return { name: shown(dir), objects: main.length, problems };
}

function validateKustomize(dir: string, o: Options, inputs: KustomizeInputs, destination?: Destination): Result {
    let objects = renderKustomize(dir, toolPath('kustomize', o.kustomize), inputs);
    if (destination) objects = placeInto(objects, destination.namespace);
    return { name: shown(dir), objects: objects.length, problems: [...checkPack(objects), ...checkNamespaceOptIn(objects, destination)] };
}

/** Kinds that have no namespace (what a pack might carry by mistake); everything else is namespaced. */
const CLUSTER_KINDS = new Set(['Namespace', 'ClusterRole', 'ClusterRoleBinding', 'CustomResourceDefinition', 'StorageClass', 'PriorityClass', 'ValidatingWebhookConfiguration', 'MutatingWebhookConfiguration', 'PersistentVolume', 'IngressClass', 'GatewayClass', 'ClusterIssuer']);

/** What Argo CD does at sync: namespaced objects without a namespace go to the destination namespace. */
function placeInto(objects: PackObject[], namespace: string): PackObject[] {
    return objects.map((p) => {
        const o = p.object as { kind?: string; metadata?: { namespace?: string } } | null;
        if (!o || typeof o !== 'object' || !o.metadata || o.metadata.namespace || CLUSTER_KINDS.has(o.kind ?? '')) return p;
        return { ...p, object: { ...o, metadata: { ...o.metadata, namespace } } };
    });
}

function helmInputs(dir: string, o: Options): HelmInputs {
    return {
        releaseName: o.release ?? (dir === '.' ? 'release' : resolve(dir).split('/').pop()!),
        namespace: o.namespace ?? 'default',
        valueFiles: o.values,
        set: o.set,
        setString: o.setString,
    };
}

/** One pack directory (or a pack.yaml directory listing its forms). */
function validateDir(dir: string, o: Options): Result[] {
    const packYaml = findPackYaml(dir);
    const { problems: metaProblems, meta } = packYaml ? loadPackYaml(packYaml) : { problems: [], meta: undefined };
    const form = packForm(dir);
    let results: Result[];
    if (form === 'directory' && packYaml && resolve(dirname(packYaml)) === resolve(dir) && meta?.forms) {
        results = [];
        for (const [kind, rel] of Object.entries(meta.forms) as [string, string][]) {
            const sub = join(dir, rel);
            if (!existsSync(sub)) {
                metaProblems.push({ severity: 'error', source: shown(packYaml), object: 'pack.yaml', field: `forms.${kind}`, message: `${rel}: no such directory` });
                continue;
            }
            const got = packForm(sub);
            if (got !== kind) {
                metaProblems.push({ severity: 'error', source: shown(packYaml), object: 'pack.yaml', field: `forms.${kind}`, message: `${rel} is not a ${kind === 'helm' ? 'Helm chart (no Chart.yaml)' : 'Kustomize directory (no kustomization.yaml)'}` });
                continue;
            }
            results.push(got === 'helm' ? validateHelm(sub, o, helmInputs(sub, o), meta) : validateKustomize(sub, o, {}));
        }
    } else if (form === 'helm') results = [validateHelm(dir, o, helmInputs(dir, o), meta)];
    else if (form === 'kustomize') results = [validateKustomize(dir, o, {})];
    else {
        const objects = readDirectory(dir);
        results = [{ name: shown(dir), objects: objects.length, problems: [...checkPack(objects), ...checkNamespaceOptIn(objects)] }];
    }
    if (metaProblems.length) {
        if (results.length === 0) results.push({ name: shown(dir), objects: 0, problems: [] });
        results[0]!.problems.unshift(...metaProblems);
    }
    return results;
}

/** An Argo CD Application file: its own checks, then its source rendered as Argo CD would. */
function validateApplication(file: string, doc: PackObject, o: Options): Result {
    const { problems, plan } = checkApplication(doc, (t) => parse(t));
    const name = `${shown(file)} (Application ${plan?.name ?? ''})`.replace(' ()', '');
    if (!plan) return { name, objects: 0, problems };
    const dir = join(o.repo, plan.path);
    if (!existsSync(dir) || !statSync(dir).isDirectory()) {
        problems.push({ severity: 'error', source: doc.source, object: plan.destination.object, field: 'spec.source.path', message: `${plan.path}: no such directory under ${shown(o.repo)} (--repo is the checkout of ${plan.repoURL || 'spec.source.repoURL'})` });
        return { name, objects: 0, problems };
    }
    const form = packForm(dir);
    const packYaml = findPackYaml(dir);
    const { problems: metaProblems, meta } = packYaml ? loadPackYaml(packYaml) : { problems: [], meta: undefined };
    problems.push(...metaProblems);
    let r: Result;
    if (form === 'helm') {
        if (plan.kustomize) problems.push({ severity: 'error', source: doc.source, object: plan.destination.object, field: 'spec.source.kustomize', message: `${plan.path} is a Helm chart: per-deployment values go in spec.source.helm` });
        const h = plan.helm ?? { releaseName: plan.name, valueFiles: [], values: [], set: [], setString: [] };
        const missing = h.valueFiles.filter((f) => !existsSync(join(dir, f)));
        for (const f of missing) problems.push({ severity: 'error', source: doc.source, object: plan.destination.object, field: 'spec.source.helm.valueFiles', message: `${f}: no such file in ${plan.path}` });
        if (missing.length) return { name, objects: 0, problems };
        r = validateHelm(dir, o, { releaseName: h.releaseName, namespace: plan.destination.namespace, valueFiles: h.valueFiles.map((f) => join(dir, f)), values: h.values, set: h.set, setString: h.setString }, meta, plan.destination);
    } else if (form === 'kustomize') {
        if (plan.helm) problems.push({ severity: 'error', source: doc.source, object: plan.destination.object, field: 'spec.source.helm', message: `${plan.path} is a Kustomize directory: per-deployment values go in spec.source.kustomize` });
        r = validateKustomize(dir, o, plan.kustomize ?? {}, plan.destination);
    } else {
        const objects = placeInto(readDirectory(dir), plan.destination.namespace);
        r = { name, objects: objects.length, problems: [...checkPack(objects), ...checkNamespaceOptIn(objects, plan.destination)] };
    }
    return { name, objects: r.objects, problems: [...problems, ...r.problems] };
}

function isApplication(objects: PackObject[]): boolean {
    return objects.length === 1 && (objects[0]!.object as { kind?: string } | null)?.kind === 'Application';
}

function main(args: string[]): number {
    let o: Options;
    try {
        o = parseArgs(args);
    } catch (err) {
        process.stderr.write(`error: ${(err as Error).message}\n${USAGE}`);
        return 2;
    }
    if (o.targets.length === 0 || args.includes('-h') || args.includes('--help')) {
        process.stderr.write(USAGE);
        return 2;
    }
    const jobs: { name: string; run: () => Result[] }[] = [];
    const files: string[] = [];
    for (const a of o.targets) {
        if (!existsSync(a)) {
            process.stderr.write(`error ${a}: no such file or directory\n`);
            return 2;
        }
        if (statSync(a).isDirectory()) jobs.push({ name: shown(a), run: () => validateDir(a, o) });
        else files.push(a);
    }
    const manifests: string[] = [];
    for (const f of files) {
        let objects: PackObject[];
        try {
            objects = parseYaml(readFileSync(f, 'utf8'), shown(f));
        } catch (err) {
            jobs.push({ name: shown(f), run: () => { throw err; } });
            continue;
        }
        if (isApplication(objects)) jobs.push({ name: shown(f), run: () => [validateApplication(f, objects[0]!, o)] });
        else manifests.push(f);
    }
    if (manifests.length > 0) {
        jobs.push({
            name: manifests.map(shown).join(' '),
            run: () => {
                const objects = manifests.flatMap((f) => parseYaml(readFileSync(f, 'utf8'), shown(f)));
                return [{ name: manifests.map(shown).join(' '), objects: objects.length, problems: [...checkPack(objects), ...checkNamespaceOptIn(objects)] }];
            },
        });
    }

    let failed = false;
    for (const job of jobs) {
        let results: Result[];
        try {
            results = job.run();
        } catch (err) {
            process.stdout.write(`error ${(err as Error).message}\n`);
            failed = true;
            continue;
        }
        for (const r of results) {
            const sorted = [...r.problems.filter((p) => p.severity === 'error'), ...r.problems.filter((p) => p.severity === 'warning')];
            for (const p of sorted) process.stdout.write(`${formatProblem(p)}\n`);
            const errors = r.problems.filter((p) => p.severity === 'error').length;
            process.stdout.write(`${r.name}: ${r.objects} objects, ${errors} errors, ${r.problems.length - errors} warnings\n`);
            if (errors > 0) failed = true;
        }
    }
    return failed ? 1 : 0;
}

process.exitCode = main(process.argv.slice(2));
