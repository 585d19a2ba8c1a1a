// Rendering a pack the way Argo CD does, with the real tools (packs/tools.ts): a Kustomize directory with
// `kustomize build`, a Helm chart with `helm template`, a plain directory by reading its YAML files. Every rendered
// object names the file it came from: kustomize's origin annotations, Helm's `# Source:` comments.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { parse, parseAllDocuments, stringify } from 'yaml';
import type { PackObject } from './validate-lib.js';

export type PackForm = 'helm' | 'kustomize' | 'directory';

export function packForm(dir: string): PackForm {
    if (existsSync(join(dir, 'Chart.yaml'))) return 'helm';
    if (existsSync(join(dir, 'kustomization.yaml')) || existsSync(join(dir, 'kustomization.yml'))) return 'kustomize';
    return 'directory';
}

/** A path as shown in messages: relative to the working directory when inside it. */
export function shown(path: string): string {
    const r = relative(process.cwd(), resolve(path));
    return r === '' ? '.' : r.startsWith('..') ? resolve(path) : r;
}

export function parseYaml(text: string, source: string): PackObject[] {
    return parseAllDocuments(text).flatMap((d) => {
        if (d.errors.length > 0) throw new Error(`${source}: invalid YAML: ${d.errors[0]?.message ?? ''}`);
        const object: unknown = d.toJS();
        return object === null || object === undefined ? [] : [{ source, object }];
    });
}

export function yamlFiles(dir: string): string[] {
    return readdirSync(dir, { withFileTypes: true })
        .sort((a, b) => a.name.localeCompare(b.name))
        .flatMap((e) => (e.isDirectory() ? yamlFiles(join(dir, e.name)) : /\.ya?ml$/.test(e.name) ? [join(dir, e.name)] : []));
}

function run(bin: string, args: string[], what: string, cwd?: string): string {
    try {
        return execFileSync(bin, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024, ...(cwd ? { cwd } : {}) });
    } catch (err) {
        const e = err as { stderr?: string; code?: string };
        if (e.code === 'ENOENT') throw new Error(`${what} failed: ${bin} not found`);
        throw new Error(`${what} failed: ${(e.stderr ?? String(err)).trim()}`);
    }
}

const ORIGIN = 'config.kubernetes.io/origin';

/** Extra per-deployment inputs of a Kustomize source (what an Argo CD Application's spec.source.kustomize adds). */
export interface KustomizeInputs {
    images?: string[];
    patches?: unknown[];
    namePrefix?: string;
    nameSuffix?: string;
    namespace?: string;
    commonLabels?: Record<string, string>;
}

/** `kustomize edit set image` forms: name=newName:tag, name:tag, name@digest, name=newName@digest. */
function imageEntry(spec: string): Record<string, string> {
    const [name, rest] = spec.includes('=') ? (spec.split('=', 2) as [string, string]) : [undefined, spec];
    const at = rest.indexOf('@');
    const colon = rest.lastIndexOf(':');
    let image = rest;
    const out: Record<string, string> = {};
    if (at >= 0) {
        image = rest.slice(0, at);
        out['digest'] = rest.slice(at + 1);
    } else if (colon > rest.lastIndexOf('/')) {
        image = rest.slice(0, colon);
        out['newTag'] = rest.slice(colon + 1);
    }
    if (name !== undefined) return { name, ...(image !== name ? { newName: image } : {}), ...out };
    return { name: image, ...out };
}

/**
 * `kustomize build <dir>` through a scratch kustomization that adds `buildMetadata: [originAnnotations]` (so every
 * object names its file; the annotation is removed again) and the per-deployment inputs, the way Argo CD applies
 * spec.source.kustomize on top of the path's kustomization.
 */
export function renderKustomize(dir: string, bin: string, inputs: KustomizeInputs = {}): PackObject[] {
    const wrapper = mkdtempSync(join(tmpdir(), 'nkp-pack-validate-'));
    try {
        writeFileSync(
            join(wrapper, 'kustomization.yaml'),
            stringify({
                apiVersion: 'kustomize.config.k8s.io/v1beta1',
                kind: 'Kustomization',
                resources: [relative(wrapper, resolve(dir))],
                buildMetadata: ['originAnnotations'],
                ...(inputs.images?.length ? { images: inputs.images.map(imageEntry) } : {}),
                ...(inputs.patches?.length ? { patches: inputs.patches } : {}),
                ...(inputs.namePrefix ? { namePrefix: inputs.namePrefix } : {}),
                ...(inputs.nameSuffix ? { nameSuffix: inputs.nameSuffix } : {}),
                ...(inputs.namespace ? { namespace: inputs.namespace } : {}),
                ...(inputs.commonLabels ? { labels: [{ pairs: inputs.commonLabels, includeSelectors: false }] } : {}),
            }),
        );
        const out = run(bin, ['build', wrapper], `kustomize build ${shown(dir)}`);
        return parseYaml(out, `${shown(dir)} (kustomize build)`).map((p) => {
            const md = (p.object as { metadata?: { annotations?: Record<string, string> } } | null)?.metadata;
            const origin = md?.annotations?.[ORIGIN];
            if (!md?.annotations || origin === undefined) return p;
            delete md.annotations[ORIGIN];
            if (Object.keys(md.annotations).length === 0) delete md.annotations;
            const o = parse(origin) as { path?: string; repo?: string; ref?: string } | null;
            if (!o?.path) return p;
            const source = o.repo ? `${o.repo}${o.ref ? `?ref=${o.ref}` : ''}//${o.path}` : shown(resolve(wrapper, o.path));
            return { ...p, source };
        });
    } finally {
        rmSync(wrapper, { recursive: true, force: true });
    }
}

/** Inputs of one `helm template` run. */
export interface HelmInputs {
    releaseName?: string;
    namespace?: string;
    /** Values files (-f), in order. */
    valueFiles?: string[];
    /** Values objects, applied after the files (each written to a scratch file and passed with -f). */
    values?: Record<string, unknown>[];
    /** --set key=value, in order, after every file. */
    set?: string[];
    /** --set-string key=value. */
    setString?: string[];
}

/** `helm template` of a chart directory; each object's source is its template file (`# Source:` comment). */
export function renderHelm(chartDir: string, bin: string, inputs: HelmInputs = {}): PackObject[] {
    const scratch = mkdtempSync(join(tmpdir(), 'nkp-pack-values-'));
    try {
        const args = ['template', inputs.releaseName ?? 'release', chartDir, '--namespace', inputs.namespace ?? 'default'];
        for (const f of inputs.valueFiles ?? []) args.push('--values', f);
        (inputs.values ?? []).forEach((v, i) => {
            const f = join(scratch, `values-${i}.yaml`);
            writeFileSync(f, stringify(v));
            args.push('--values', f);
        });
        for (const s of inputs.set ?? []) args.push('--set', s);
        for (const s of inputs.setString ?? []) args.push('--set-string', s);
        const out = run(bin, args, `helm template ${shown(chartDir)}`);
        const chartName = (parse(readFileSync(join(chartDir, 'Chart.yaml'), 'utf8')) as { name?: string } | null)?.name ?? '';
        const objects: PackObject[] = [];
        // helm separates documents with `---` and prefixes each with `# Source: <chart>/templates/<file>`.
        for (const doc of out.split(/^---\s*$/m)) {
            const m = /^# Source: (.+)$/m.exec(doc);
            let source = `${shown(chartDir)} (helm template)`;
            if (m?.[1]) {
                const rel = m[1].trim().startsWith(`${chartName}/`) ? m[1].trim().slice(chartName.length + 1) : m[1].trim();
                source = shown(join(chartDir, rel));
            }
            objects.push(...parseYaml(doc, source));
        }
        return objects;
    } finally {
        rmSync(scratch, { recursive: true, force: true });
    }
}

/** Every YAML file of a plain directory, each object named by its file. */
export function readDirectory(dir: string): PackObject[] {
    return yamlFiles(dir).flatMap((f) => parseYaml(readFileSync(f, 'utf8'), shown(f)));
}
