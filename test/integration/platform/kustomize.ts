// The REAL kustomize, at the version Argo CD bundles, rendering this repository's paths the way Argo CD does.
//
// Version: read from the Argo CD source at the version the harness pins (hack/tool-versions.sh in the Go module
// github.com/argoproj/argo-cd/v3), so a Argo CD upgrade moves kustomize with it. Binary: built once per machine
// with `go install sigs.k8s.io/kustomize/kustomize/v5@<version>` from the Go module proxy into
// <cache>/nkp/kustomize/<version>/bin (the same cache root as the control plane's binaries).
//
// Rendering an Application source (what Argo CD v3's util/kustomize does): the path's kustomization is edited in a
// scratch copy with `kustomize edit set image` for spec.source.kustomize.images, its `patches` list is extended
// with spec.source.kustomize.patches, then `kustomize build <path>`.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join, normalize, relative, resolve } from 'node:path';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { goModuleDir, repoRoot, versions } from '../../harness/upstream.js';
import type { ApplicationSource } from '../../../components/foundation/spec.js';
import type { KubeObject } from './kube-api.js';

/** The kustomize v5 version Argo CD (at the harness's pinned version) ships, e.g. `v5.7.0`. */
export function argoCdKustomizeVersion(): string {
    const src = versions.crdSources['argocd'];
    if (!src) throw new Error('test/harness/versions.json has no crdSources.argocd: the Argo CD version decides which kustomize to test with');
    const text = readFileSync(join(goModuleDir(src.module, src.version), 'hack', 'tool-versions.sh'), 'utf8');
    const m = /^kustomize5_version=(\d+\.\d+\.\d+)\s*$/m.exec(text);
    if (!m) throw new Error(`Argo CD ${src.version} hack/tool-versions.sh names no kustomize5_version`);
    return `v${m[1]}`;
}

const cacheRoot = (): string => process.env['NKP_CACHE_DIR'] ?? join(process.env['XDG_CACHE_HOME'] ?? join(homedir(), '.cache'), 'nkp');

let binaryMemo: string | undefined;

/** Path of the kustomize binary at Argo CD's version, built from the Go module proxy when missing. */
export function kustomizeBinary(): string {
    if (binaryMemo) return binaryMemo;
    const version = argoCdKustomizeVersion();
    const binDir = join(cacheRoot(), 'kustomize', version, 'bin');
    const bin = join(binDir, 'kustomize');
    if (!existsSync(bin) || statSync(bin).size === 0) {
        // Build into a scratch GOBIN and rename: a concurrent test process never sees a half-written binary.
        const scratch = mkdtempSync(join(tmpdir(), 'nkp-kustomize-build-'));
        try {
            execFileSync('go', ['install', `sigs.k8s.io/kustomize/kustomize/v5@${version}`], {
                stdio: ['ignore', 'ignore', 'pipe'],
                env: { ...process.env, GOBIN: scratch, GOTOOLCHAIN: 'local', CGO_ENABLED: '0', GOFLAGS: '-mod=mod' },
            });
            mkdirSync(binDir, { recursive: true });
            renameSync(join(scratch, 'kustomize'), bin);
        } catch (err) {
            const e = err as { code?: string; stderr?: Buffer };
            if (e.code === 'ENOENT') throw new Error('Go 1.24+ is required on PATH to build kustomize for the platform tests');
            throw new Error(`building kustomize ${version} failed: ${e.stderr?.toString() ?? String(err)}`);
        } finally {
            rmSync(scratch, { recursive: true, force: true });
        }
    }
    binaryMemo = bin;
    return bin;
}

interface Kustomization {
    resources?: string[];
    patches?: unknown[];
    [k: string]: unknown;
}

/** Copy a kustomization directory (its files) and, recursively, every directory it lists as a resource. */
function copyKustomizationTree(relDir: string, into: string, seen = new Set<string>()): void {
    const rel = normalize(relDir);
    if (rel.startsWith('..')) throw new Error(`kustomization ${relDir} points outside the repository`);
    if (seen.has(rel)) return;
    seen.add(rel);
    const from = join(repoRoot, rel);
    const to = join(into, rel);
    mkdirSync(to, { recursive: true });
    for (const f of readdirSync(from)) {
        if (statSync(join(from, f)).isFile()) copyFileSync(join(from, f), join(to, f));
    }
    const k = parse(readFileSync(join(from, 'kustomization.yaml'), 'utf8')) as Kustomization;
    for (const r of k.resources ?? []) {
        const target = resolve(from, r);
        if (statSync(target).isDirectory()) {
            if (existsSync(join(target, 'kustomization.yaml'))) copyKustomizationTree(relative(repoRoot, target), into, seen);
            else {
                // A plain directory of manifests (no kustomization of its own).
                const t = join(into, relative(repoRoot, target));
                mkdirSync(t, { recursive: true });
                for (const f of readdirSync(target)) if (statSync(join(target, f)).isFile()) copyFileSync(join(target, f), join(t, f));
            }
        }
    }
}

/** Whether the repository has this kustomization (packs/landing/manifests may not exist in every checkout). */
export function hasKustomization(path: string): boolean {
    return existsSync(join(repoRoot, path, 'kustomization.yaml'));
}

/**
 * The objects Argo CD would sync for an Application source of this repository (`path` + `kustomize`), rendered
 * by the real kustomize. Objects keep the namespace kustomize gives them; Argo CD puts namespaced objects without
 * one into the destination namespace at sync time (see withDestinationNamespace).
 */
export function renderSource(source: ApplicationSource): KubeObject[] {
    if (!source.path) throw new Error('renderSource: the source has no path (a Helm chart source cannot be rendered here)');
    const bin = kustomizeBinary();
    const scratch = mkdtempSync(join(tmpdir(), 'nkp-render-'));
    try {
        copyKustomizationTree(source.path, scratch);
        const dir = join(scratch, source.path);
        const images = source.kustomize?.images ?? [];
        if (images.length > 0) execFileSync(bin, ['edit', 'set', 'image', ...images], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
        const patches = source.kustomize?.patches ?? [];
        if (patches.length > 0) {
            const file = join(dir, 'kustomization.yaml');
            const k = parse(readFileSync(file, 'utf8')) as Kustomization;
            k.patches = [...(k.patches ?? []), ...patches];
            writeFileSync(file, stringify(k));
        }
        let out: string;
        try {
            out = execFileSync(bin, ['build', dir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024 });
        } catch (err) {
            const stderr = (err as { stderr?: string }).stderr ?? String(err);
            const hint = /unable to find one of 'kustomization\.yaml'/.test(stderr) ? ' (kustomize needs a kustomization.yaml in every directory listed under resources; Argo CD would fail this sync the same way)' : '';
            throw new Error(`kustomize build ${source.path} failed${hint}: ${stderr.trim()}`);
        }
        return parseAllDocuments(out)
            .map((d) => d.toJS() as KubeObject | null)
            .filter((o): o is KubeObject => o !== null);
    } finally {
        rmSync(scratch, { recursive: true, force: true });
    }
}

/** What Argo CD does at sync: namespaced objects without a namespace go to the Application's destination. */
export async function withDestinationNamespace(objects: KubeObject[], destination: string, isNamespaced: (o: KubeObject) => Promise<boolean>): Promise<KubeObject[]> {
    const out: KubeObject[] = [];
    for (const o of objects) {
        out.push(!o.metadata.namespace && (await isNamespaced(o)) ? { ...o, metadata: { ...o.metadata, namespace: destination } } : o);
    }
    return out;
}
