// Where the harness finds what it builds or reads: pinned versions, the control-plane binaries (built once
// per machine by scripts/build-control-plane.mjs) and upstream CRDs read from the Go module cache.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface CrdSource {
  module: string;
  version: string;
  dirs: string[];
}

export interface Versions {
  kubernetes: string;
  etcd: string;
  kwok: string;
  keycloak: string;
  node: string;
  crdSources: Record<string, CrdSource>;
}

export const versions: Versions = JSON.parse(readFileSync(join(repoRoot, 'test', 'harness', 'versions.json'), 'utf8'));

let binDirMemo: string | undefined;

/** Directory holding kube-apiserver, kube-controller-manager and etcd; builds them when missing or stale. */
export function controlPlaneBinDir(): string {
  if (binDirMemo) return binDirMemo;
  let out: string;
  try {
    out = execFileSync(process.execPath, [join(repoRoot, 'scripts', 'build-control-plane.mjs')], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    });
  } catch {
    throw new Error(
      'could not build the test control plane (see the messages above): it needs Go 1.24+ on PATH and access to the Go module proxy; run `node scripts/build-control-plane.mjs` to retry',
    );
  }
  binDirMemo = out.trim().split('\n').pop()!;
  return binDirMemo;
}

/** The module's directory in the Go module cache, downloading it at the pinned version when missing. */
export function goModuleDir(module: string, version: string): string {
  let raw: string;
  try {
    raw = execFileSync('go', ['mod', 'download', '-json', `${module}@${version}`], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, GOTOOLCHAIN: 'local', GOFLAGS: '-mod=mod' },
    });
  } catch (err) {
    const e = err as { code?: string; stdout?: string };
    if (e.code === 'ENOENT') throw new Error('Go is required to read upstream CRDs from the module cache: install Go 1.24+ and put it on PATH');
    throw new Error(`go mod download ${module}@${version} failed: ${e.stdout ?? String(err)}`);
  }
  const info = JSON.parse(raw) as { Dir?: string; Error?: string };
  if (info.Error || !info.Dir) throw new Error(`go mod download ${module}@${version}: ${info.Error ?? 'no directory'}`);
  return info.Dir;
}

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; [k: string]: unknown };
  [k: string]: unknown;
}

/** Every CustomResourceDefinition in the YAML files of a directory (other kinds are ignored). */
export function crdsInDir(dir: string): KubeObject[] {
  const out: KubeObject[] = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.yaml') || f.endsWith('.yml')).sort()) {
    for (const doc of parseAllDocuments(readFileSync(join(dir, file), 'utf8'))) {
      const obj = doc.toJS() as KubeObject | null;
      if (obj?.kind === 'CustomResourceDefinition') out.push(obj);
    }
  }
  return out;
}

/** Upstream CRDs at the pinned versions, by source name (gatewayApi, envoyGateway, certManager, argocd). */
export function upstreamCrds(): Map<string, KubeObject[]> {
  const result = new Map<string, KubeObject[]>();
  for (const [name, src] of Object.entries(versions.crdSources)) {
    const root = goModuleDir(src.module, src.version);
    result.set(name, src.dirs.flatMap((d) => crdsInDir(join(root, d))));
  }
  return result;
}

/** The project's own NebariApp CRD (generated from its schema), when it exists. */
export function projectCrds(): KubeObject[] {
  try {
    return crdsInDir(join(repoRoot, 'operator', 'crd'));
  } catch {
    return [];
  }
}
