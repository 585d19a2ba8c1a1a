// Shared by the pack tests: the real Helm and kustomize the project builds (the versions Argo CD bundles), the
// validator CLI run as a user runs it, and rendering a pack with the validator's own renderer.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { helmBinDir } from '../../harness/argocd.js';
import { repoRoot } from '../../harness/upstream.js';
import { kustomizeBinary } from '../platform/kustomize.js';
import { renderHelm, type HelmInputs } from '../../../packs/render.js';
import type { KubeObject } from '../platform/kube-api.js';

let tools: { helm: string; kustomize: string } | undefined;
/** Paths of the real helm and kustomize (built once per machine, then cached). */
export function packTools(): { helm: string; kustomize: string } {
    tools ??= { helm: join(helmBinDir(), 'helm'), kustomize: kustomizeBinary() };
    return tools;
}

/** `npm run validate:pack -- <args>` from the repository root, with the project's helm and kustomize. */
export function validatorCli(...args: string[]): { status: number | null; stdout: string; stderr: string } {
    const { helm, kustomize } = packTools();
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(repoRoot, 'packs/validate.ts'), ...args], { cwd: repoRoot, encoding: 'utf8', env: { ...process.env, KUSTOMIZE: kustomize, HELM: helm } });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A chart of this repository rendered by the real Helm, as plain objects. */
export function renderChart(path: string, inputs: HelmInputs): KubeObject[] {
    return renderHelm(join(repoRoot, path), packTools().helm, inputs).map((p) => p.object as KubeObject);
}
