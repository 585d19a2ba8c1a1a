// Where the pack validator finds the real Helm and kustomize. Nothing here depends on the test harness, so the
// validator ships on its own (packs/ plus operator/src/api, the one NebariApp schema).
//
// Order, per tool (the first that exists wins):
//   1. the path given on the command line (--helm, --kustomize);
//   2. the environment: HELM, KUSTOMIZE;
//   3. inside this repository: the binaries the project builds at the versions Argo CD bundles
//      (helm: `node scripts/build-helm.mjs`, which builds once and prints its bin directory; kustomize: the newest
//      <NKP_CACHE_DIR>/kustomize/v*/bin/kustomize the test harness built);
//   4. `helm` / `kustomize` on PATH.
import { execFileSync } from 'node:child_process';
import { accessSync, constants, existsSync, readdirSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export type Tool = 'helm' | 'kustomize';

const ENV: Record<Tool, string> = { helm: 'HELM', kustomize: 'KUSTOMIZE' };
const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
const cacheRoot = (): string => process.env['NKP_CACHE_DIR'] ?? join(process.env['XDG_CACHE_HOME'] ?? join(homedir(), '.cache'), 'nkp');

function executable(path: string): boolean {
    try {
        accessSync(path, constants.X_OK);
        return statSync(path).isFile() && statSync(path).size > 0;
    } catch {
        return false;
    }
}

function onPath(name: string): string | undefined {
    for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
        if (dir && executable(join(dir, name))) return join(dir, name);
    }
    return undefined;
}

/** Compare `v5.7.0`-style directory names numerically. */
const versionKey = (v: string): number[] => v.replace(/^v/, '').split('.').map((n) => Number.parseInt(n, 10) || 0);
function newestFirst(a: string, b: string): number {
    const x = versionKey(a);
    const y = versionKey(b);
    for (let i = 0; i < Math.max(x.length, y.length); i++) if ((x[i] ?? 0) !== (y[i] ?? 0)) return (y[i] ?? 0) - (x[i] ?? 0);
    return 0;
}

function repoBuilt(tool: Tool): string | undefined {
    if (tool === 'helm') {
        const script = join(repoRoot, 'scripts', 'build-helm.mjs');
        if (!existsSync(script)) return undefined;
        try {
            const out = execFileSync(process.execPath, [script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 1_800_000 });
            const bin = join(out.trim().split('\n').pop() ?? '', 'helm');
            return executable(bin) ? bin : undefined;
        } catch {
            return undefined; // no Go here: fall through to PATH
        }
    }
    const dir = join(cacheRoot(), 'kustomize');
    if (!existsSync(dir)) return undefined;
    for (const v of readdirSync(dir).filter((d) => /^v\d/.test(d)).sort(newestFirst)) {
        const bin = join(dir, v, 'bin', 'kustomize');
        if (executable(bin)) return bin;
    }
    return undefined;
}

const memo = new Map<Tool, string>();

/** Path of the tool's binary, or an error saying every way to provide one. */
export function toolPath(tool: Tool, explicit?: string): string {
    if (explicit !== undefined) {
        if (!executable(explicit)) throw new Error(`--${tool} ${explicit}: not an executable file`);
        return explicit;
    }
    const fromEnv = process.env[ENV[tool]];
    if (fromEnv) {
        if (!executable(fromEnv)) throw new Error(`${ENV[tool]}=${fromEnv}: not an executable file`);
        return fromEnv;
    }
    const cached = memo.get(tool);
    if (cached) return cached;
    const found = repoBuilt(tool) ?? onPath(tool);
    if (!found) {
        const version = tool === 'helm' ? 'Helm v3 (the version Argo CD bundles)' : 'kustomize v5 (the version Argo CD bundles)';
        throw new Error(`${tool} not found: pass --${tool} <path>, set ${ENV[tool]}=<path>, or put ${version} on PATH`);
    }
    memo.set(tool, found);
    return found;
}
