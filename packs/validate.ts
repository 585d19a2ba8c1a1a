// Pack validator CLI: `npx tsx packs/validate.ts <dir-or-file>...`
//
// Each directory argument is one pack: rendered with the real kustomize (the version Argo CD bundles) when it holds
// a kustomization.yaml (each object then names the file it came from), else every *.yaml / *.yml file in it
// (recursively). File arguments together form one more pack. Every NebariApp is checked with the operator's
// validator plus the pack-level checks of validate-lib.ts.
// Prints one line per problem (file, object, field); exits 1 when any pack has an error, 2 on bad usage.
// KUSTOMIZE=<path> uses that kustomize binary instead of the one the test harness builds.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { kustomizeBinary } from '../test/integration/platform/kustomize.js';
import { checkPack, formatProblem, type PackObject } from './validate-lib.js';

function parseYaml(text: string, source: string): PackObject[] {
    return parseAllDocuments(text).flatMap((d) => {
        if (d.errors.length > 0) throw new Error(`${source}: invalid YAML: ${d.errors[0]?.message ?? ''}`);
        const object: unknown = d.toJS();
        return object === null || object === undefined ? [] : [{ source, object }];
    });
}

function yamlFiles(dir: string): string[] {
    return readdirSync(dir, { withFileTypes: true })
        .sort((a, b) => a.name.localeCompare(b.name))
        .flatMap((e) => (e.isDirectory() ? yamlFiles(join(dir, e.name)) : /\.ya?ml$/.test(e.name) ? [join(dir, e.name)] : []));
}

const ORIGIN = 'config.kubernetes.io/origin';

/**
 * `kustomize build <dir>` through a scratch kustomization that only adds `buildMetadata: [originAnnotations]`, so
 * every rendered object names the file it came from; the annotation is removed again before checking.
 */
function kustomizeBuild(dir: string): PackObject[] {
    const bin = process.env['KUSTOMIZE'] ?? kustomizeBinary();
    const wrapper = mkdtempSync(join(tmpdir(), 'nkp-pack-validate-'));
    try {
        writeFileSync(
            join(wrapper, 'kustomization.yaml'),
            stringify({ apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization', resources: [relative(wrapper, resolve(dir))], buildMetadata: ['originAnnotations'] }),
        );
        let out: string;
        try {
            out = execFileSync(bin, ['build', wrapper], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024 });
        } catch (err) {
            throw new Error(`kustomize build ${dir} failed: ${((err as { stderr?: string }).stderr ?? String(err)).trim()}`);
        }
        return parseYaml(out, `${dir} (kustomize build)`).map((p) => {
            const md = (p.object as { metadata?: { annotations?: Record<string, string> } } | null)?.metadata;
            const origin = md?.annotations?.[ORIGIN];
            if (!md?.annotations || origin === undefined) return p;
            delete md.annotations[ORIGIN];
            if (Object.keys(md.annotations).length === 0) delete md.annotations;
            const o = parse(origin) as { path?: string; repo?: string; ref?: string } | null;
            if (!o?.path) return p;
            const source = o.repo ? `${o.repo}${o.ref ? `?ref=${o.ref}` : ''}//${o.path}` : relative(process.cwd(), resolve(wrapper, o.path));
            return { ...p, source };
        });
    } finally {
        rmSync(wrapper, { recursive: true, force: true });
    }
}

/** The objects of one pack directory, as Argo CD would see them. */
function loadPackDir(dir: string): PackObject[] {
    if (existsSync(join(dir, 'kustomization.yaml')) || existsSync(join(dir, 'kustomization.yml'))) return kustomizeBuild(dir);
    return yamlFiles(dir).flatMap((f) => parseYaml(readFileSync(f, 'utf8'), relative(process.cwd(), f) || f));
}

function main(args: string[]): number {
    if (args.length === 0 || args.includes('-h') || args.includes('--help')) {
        process.stderr.write('usage: npx tsx packs/validate.ts <pack-dir-or-file>...\n');
        return 2;
    }
    const packs: { name: string; load: () => PackObject[] }[] = [];
    const files: string[] = [];
    for (const a of args) {
        if (!existsSync(a)) {
            process.stderr.write(`error ${a}: no such file or directory\n`);
            return 2;
        }
        if (statSync(a).isDirectory()) packs.push({ name: a, load: () => loadPackDir(a) });
        else files.push(a);
    }
    if (files.length > 0) packs.push({ name: files.join(' '), load: () => files.flatMap((f) => parseYaml(readFileSync(f, 'utf8'), f)) });

    let failed = false;
    for (const pack of packs) {
        let objects: PackObject[];
        try {
            objects = pack.load();
        } catch (err) {
            process.stdout.write(`error ${(err as Error).message}\n`);
            failed = true;
            continue;
        }
        const problems = checkPack(objects);
        for (const p of problems) process.stdout.write(`${formatProblem(p)}\n`);
        const errors = problems.filter((p) => p.severity === 'error').length;
        const warnings = problems.length - errors;
        process.stdout.write(`${pack.name}: ${objects.length} objects, ${errors} errors, ${warnings} warnings\n`);
        if (errors > 0) failed = true;
    }
    return failed ? 1 : 0;
}

process.exitCode = main(process.argv.slice(2));
