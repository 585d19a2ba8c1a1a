// The embedded environment: the platform program deployed by the real Pulumi engine onto this machine's embedded
// cluster (the harness control plane with simulated nodes). Used by the main job (scripts/demo.ts) and the
// engine's integration tests.
//
// The Pulumi project directory is a workspace beside the repository: Pulumi.yaml copied, the program's sources and
// node_modules linked, and stacks/Pulumi.embedded.yaml written from the committed file with this run's kubeconfig
// and Argo CD manifest paths. `pulumi stack init` and `pulumi config set --secret` write the passphrase salt and
// the encrypted secrets into that copy, never into the repository's stack file.
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { parseDocument } from 'yaml';
import { CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { APP_FINALIZER } from '../../components/argocd/spec.js';
import { sleep } from './util.js';
import { goModuleDir, repoRoot, versions } from './upstream.js';
import type { PulumiResult, PulumiWorkspace } from './pulumi.js';

export const EMBEDDED_STACK = 'embedded';

/** Entries of the repository the program needs at run time, linked into the project directory. */
const LINKED = ['components', 'operator', 'packs', 'policy', 'node_modules', 'package.json', 'tsconfig.json'];

/** Argo CD's release install manifest in the Go module cache (the pinned version the platform deploys). */
export function argocdReleaseManifest(): string {
  const src = versions.crdSources['argocd']!;
  return join(goModuleDir(src.module, src.version), 'manifests', 'install.yaml');
}

/** Pure: the committed embedded stack file with this run's paths; comments and every other key are kept. */
export function embeddedStackFile(
  committed: string,
  paths: { kubeconfigPath: string; argocdManifestsPath: string },
  platformRepo?: { url: string; revision: string },
  gitops?: { url: string; revision: string; path: string },
): string {
  const doc = parseDocument(committed);
  for (const key of ['nkp:localKubeconfigPath', 'nkp:argocdManifestsPath']) {
    if (!doc.hasIn(['config', key])) throw new Error(`stacks/Pulumi.${EMBEDDED_STACK}.yaml lacks ${key}`);
  }
  doc.setIn(['config', 'nkp:localKubeconfigPath'], paths.kubeconfigPath);
  doc.setIn(['config', 'nkp:argocdManifestsPath'], paths.argocdManifestsPath);
  if (platformRepo !== undefined) {
    doc.setIn(['config', 'nkp:platformRepoUrl'], platformRepo.url);
    doc.setIn(['config', 'nkp:platformRevision'], platformRepo.revision);
  }
  if (gitops !== undefined) {
    doc.setIn(['config', 'nkp:gitopsRepoUrl'], gitops.url);
    doc.setIn(['config', 'nkp:gitopsRevision'], gitops.revision);
    doc.setIn(['config', 'nkp:gitopsPath'], gitops.path);
  }
  return doc.toString();
}

export interface EmbeddedProject {
  /** The Pulumi project directory (run the CLI here). */
  dir: string;
  /** Its stack file (the copy). */
  stackFile: string;
  kubeconfigPath: string;
  argocdManifestsPath: string;
}

/**
 * Lay out the project directory `dir` (created if missing; reusable) for a cluster reached with `kubeconfigPath`:
 * the kubeconfig and Argo CD's install.yaml are copied into `dir/env/`, the stack file points at them.
 * `platformRepo` points the foundation Applications elsewhere (e.g. a loopback git daemon serving this repository),
 * `gitops` the root app-of-apps.
 */
export function prepareEmbeddedProject(
  dir: string,
  kubeconfigPath: string,
  opts: { platformRepo?: { url: string; revision: string }; gitops?: { url: string; revision: string; path: string } } = {},
): EmbeddedProject {
  mkdirSync(join(dir, 'stacks'), { recursive: true });
  mkdirSync(join(dir, 'env'), { recursive: true });
  for (const entry of LINKED) {
    if (!existsSync(join(dir, entry))) symlinkSync(join(repoRoot, entry), join(dir, entry));
  }
  for (const f of readdirSync(join(repoRoot, 'stacks'))) {
    if (f.endsWith('.ts') && !existsSync(join(dir, 'stacks', f))) symlinkSync(join(repoRoot, 'stacks', f), join(dir, 'stacks', f));
  }
  copyFileSync(join(repoRoot, 'Pulumi.yaml'), join(dir, 'Pulumi.yaml'));
  const env = { kubeconfigPath: join(dir, 'env', 'kubeconfig'), argocdManifestsPath: join(dir, 'env', 'argocd-install.yaml') };
  copyFileSync(kubeconfigPath, env.kubeconfigPath);
  copyFileSync(argocdReleaseManifest(), env.argocdManifestsPath);
  const stackFile = join(dir, 'stacks', `Pulumi.${EMBEDDED_STACK}.yaml`);
  writeFileSync(stackFile, embeddedStackFile(readFileSync(join(repoRoot, 'stacks', `Pulumi.${EMBEDDED_STACK}.yaml`), 'utf8'), env, opts.platformRepo, opts.gitops));
  return { dir, stackFile, ...env };
}

/** Fresh random values for the stack's secrets (never printed). */
export function generatedSecrets(): Record<string, string> {
  return { argocdOidcClientSecret: randomBytes(24).toString('hex'), keycloakAdminPassword: randomBytes(18).toString('base64url') };
}

/** Pure: the lines of a CLI run that name a change (create, update, replace, delete), however long the output is. */
export function changeLines(output: string): string[] {
  return output.split('\n').filter((l) => /^\s*(\+-|-\+|[~+-])\s+\S+:\S+/.test(l) || /^\s*[~+-]\s*\[?\w[\w.\][/-]*\]?:\s/.test(l));
}

/** A failed CLI run as an error carrying its output (the changes it proposed first, then its last lines). */
export function pulumiFailure(what: string, r: PulumiResult): Error {
  const changes = changeLines(r.stdout).slice(0, 80);
  return new Error(
    `${what} failed (exit ${r.code}${r.timedOut ? ', timed out' : ''}):\n` +
      (changes.length > 0 ? `changes proposed:\n${changes.join('\n')}\n---\n` : '') +
      `${r.stdout.slice(-6000)}\n${r.stderr.slice(-4000)}`,
  );
}

/** `pulumi stack init embedded` in the project and its secrets set through stdin (never on a command line). */
export async function initEmbeddedStack(ws: PulumiWorkspace, project: EmbeddedProject, secrets: Record<string, string> = generatedSecrets()): Promise<void> {
  const init = await ws.run(['stack', 'init', EMBEDDED_STACK, '--secrets-provider', 'passphrase', '--non-interactive'], { cwd: project.dir, timeoutMs: 60_000 });
  if (init.code !== 0) throw pulumiFailure('pulumi stack init', init);
  for (const [key, value] of Object.entries(secrets)) {
    const set = await ws.run(['config', 'set', '--secret', key, '--stack', EMBEDDED_STACK, '--non-interactive'], { cwd: project.dir, stdin: value, timeoutMs: 60_000 });
    if (set.code !== 0) throw pulumiFailure(`pulumi config set --secret ${key}`, set);
  }
}

/**
 * STAND-IN for Argo CD's application controller on delete (Argo CD does not run on the embedded cluster yet): while
 * `stop()` is false, releases the resources finalizer of Applications and AppProjects being deleted, as the
 * controller would once it has deleted their resources (here they have none).
 */
export async function releaseArgoFinalizers(kc: KubeConfig, stop: () => boolean): Promise<void> {
  const co = kc.makeApiClient(CustomObjectsApi);
  type Item = { metadata: { name: string; namespace: string; deletionTimestamp?: string; finalizers?: string[] } };
  while (!stop()) {
    for (const plural of ['applications', 'appprojects']) {
      const list = (await co.listClusterCustomObject({ group: 'argoproj.io', version: 'v1alpha1', plural }).catch(() => ({ items: [] }))) as { items: Item[] };
      for (const o of list.items) {
        if (o.metadata.deletionTimestamp === undefined || !o.metadata.finalizers?.includes(APP_FINALIZER)) continue;
        const body = [{ op: 'replace', path: '/metadata/finalizers', value: o.metadata.finalizers.filter((f) => f !== APP_FINALIZER) }];
        await co.patchNamespacedCustomObject({ group: 'argoproj.io', version: 'v1alpha1', plural, namespace: o.metadata.namespace, name: o.metadata.name, body }).catch(() => undefined);
      }
    }
    await sleep(300);
  }
}
