// The real Pulumi engine: the CLI, the Kubernetes provider and the project's own Node.js language host, built
// by scripts/build-pulumi.mjs, run in a project directory against the real control plane of the harness.
// Nothing is stood in for: `pulumi up` runs a TypeScript program through tsx (Pulumi.yaml nodeargs), the
// provider talks to kube-apiserver, a Node dynamic provider runs through our launcher, a CrossGuard pack runs
// through the host's RunPlugin, state lives in a file backend with the passphrase secrets provider.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api } from '@kubernetes/client-node';
import { parse } from 'yaml';
import { sharedControlPlane, type ControlPlane } from '../../harness/control-plane.js';
import { createPulumiWorkspace, type PulumiResult, type PulumiWorkspace } from '../../harness/pulumi.js';
import { repoRoot } from '../../harness/upstream.js';

const STACK = 'engine';
const SECRET = 'nkp-secret-7f3a9c2e51d4b8a6';
const NAMESPACE = 'nkp-engine-test';

const PROGRAM = `import * as pulumi from '@pulumi/pulumi';
import * as k8s from '@pulumi/kubernetes';

const config = new pulumi.Config();

// A Node dynamic resource: the engine runs its provider through pulumi-resource-pulumi-nodejs.
const uuidProvider: pulumi.dynamic.ResourceProvider = {
  async create() {
    return { id: crypto.randomUUID(), outs: { value: crypto.randomUUID() } };
  },
};
class Uuid extends pulumi.dynamic.Resource {
  declare readonly value: pulumi.Output<string>;
  constructor(name: string, opts?: pulumi.CustomResourceOptions) {
    super(uuidProvider, name, { value: undefined }, opts);
  }
}
const uuid = new Uuid('uuid');

// An explicit provider: the harness's kubeconfig, never the ambient one.
const provider = new k8s.Provider('harness', { kubeconfig: config.require('kubeconfigPath') });
const ns = new k8s.core.v1.Namespace('ns', {
  metadata: { name: config.require('namespace'), labels: { 'app.kubernetes.io/part-of': 'nkp-engine-test' } },
}, { provider });
const settings = new k8s.core.v1.ConfigMap('settings', {
  metadata: { name: 'settings', namespace: ns.metadata.name },
  data: { greeting: config.require('greeting'), token: config.requireSecret('token'), uuid: uuid.value },
}, { provider });

if (config.getBoolean('forbidden')) {
  new k8s.core.v1.ConfigMap('blocked', {
    metadata: { name: 'blocked', namespace: ns.metadata.name, labels: { forbidden: 'true' } },
    data: { a: 'b' },
  }, { provider });
}

if (config.getBoolean('useRandom')) {
  // @pulumi/random is installed, its provider plugin is not (it cannot be built here).
  const random = await import('@pulumi/random');
  new random.RandomPet('pet');
}

if (config.getBoolean('hang')) {
  await new Promise((resolve) => setTimeout(resolve, 3_600_000));
}

export const namespace = ns.metadata.name;
export const uuidValue = uuid.value;
export const token = config.requireSecret('token');
export const settingsName = settings.metadata.name;
`;

const POLICY = `const { PolicyPack } = require('@pulumi/policy');
new PolicyPack('engine-test', {
  policies: [{
    name: 'no-forbidden-configmaps',
    description: 'ConfigMaps labelled forbidden=true are refused.',
    enforcementLevel: 'mandatory',
    validateResource: (args, reportViolation) => {
      if (args.type === 'kubernetes:core/v1:ConfigMap' && args.props.metadata?.labels?.forbidden === 'true') {
        reportViolation('ConfigMap ' + args.name + ' is labelled forbidden=true');
      }
    },
  }],
});
`;

/** A project directory like the repository's: same runtime options, node_modules shared with the repository. */
function writeProject(): string {
  const dir = mkdtempSync(join(tmpdir(), 'nkp-engine-project-'));
  const root = parse(readFileSync(join(repoRoot, 'Pulumi.yaml'), 'utf8')) as { runtime: unknown };
  writeFileSync(join(dir, 'Pulumi.yaml'), JSON.stringify({ name: 'nkp-engine-test', runtime: root.runtime, main: 'index.ts' }, null, 2));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'nkp-engine-test', private: true, type: 'module' }));
  writeFileSync(join(dir, 'index.ts'), PROGRAM);
  symlinkSync(join(repoRoot, 'node_modules'), join(dir, 'node_modules'));
  mkdirSync(join(dir, 'policy'));
  writeFileSync(join(dir, 'policy', 'PulumiPolicy.yaml'), 'runtime: nodejs\ndescription: engine test pack\n');
  writeFileSync(join(dir, 'policy', 'package.json'), JSON.stringify({ name: 'engine-test-policy', version: '0.1.0', private: true, main: 'index.js' }));
  writeFileSync(join(dir, 'policy', 'index.js'), POLICY);
  return dir;
}

function output(r: PulumiResult): string {
  return `exit ${r.code}${r.timedOut ? ' (timed out)' : ''}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
}

function status(err: unknown): number | undefined {
  return (err as { code?: number }).code;
}

/** Every file under a directory, read as text (the file backend's state, history and backups). */
function allFiles(dir: string): { path: string; text: string }[] {
  const out: { path: string; text: string }[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...allFiles(p));
    else out.push({ path: p, text: readFileSync(p, 'utf8') });
  }
  return out;
}

describe('the real Pulumi engine (CLI, Kubernetes provider, our Node.js language host) in a project directory', function () {
  this.timeout(600_000);
  let cp: ControlPlane;
  let ws: PulumiWorkspace;
  let dir: string;
  let core: CoreV1Api;
  const outputs: string[] = []; // every CLI output, searched for the secret
  // KUBECONFIG points nowhere: only the explicit provider's kubeconfig can reach the cluster.
  const pulumi = async (args: string[], timeoutMs = 300_000): Promise<PulumiResult> => {
    const r = await ws.run(args, { cwd: dir, timeoutMs, env: { KUBECONFIG: join(dir, 'no-such-kubeconfig') } });
    outputs.push(r.stdout, r.stderr);
    return r;
  };
  const ok = async (args: string[]): Promise<PulumiResult> => {
    const r = await pulumi(args);
    assert.equal(r.code, 0, `pulumi ${args.join(' ')}:\n${output(r)}`);
    return r;
  };

  before(async function () {
    this.timeout(3_600_000); // a cold engine build takes about 40 minutes on 2 cores
    cp = await sharedControlPlane();
    core = cp.kubeConfig().makeApiClient(CoreV1Api);
    ws = await createPulumiWorkspace();
    dir = writeProject();
    await ok(['stack', 'init', STACK, '--non-interactive']);
    await ok(['config', 'set', 'kubeconfigPath', cp.kubeconfigPath]);
    await ok(['config', 'set', 'namespace', NAMESPACE]);
    await ok(['config', 'set', 'greeting', 'hello']);
    // The secret goes in through stdin, never argv.
    const set = await ws.run(['config', 'set', '--secret', 'token'], { cwd: dir, stdin: SECRET });
    assert.equal(set.code, 0, output(set));
  });

  after(() => {
    ws?.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('pulumi up creates a Namespace and a ConfigMap in the real API server through the explicit provider', async () => {
    const r = await ok(['up', '--yes', '--skip-preview', '--non-interactive']);
    // the stack, the explicit provider, the dynamic resource, the Namespace, the ConfigMap
    assert.match(r.stdout, /\+ 5 created/, output(r));
    const ns = await core.readNamespace({ name: NAMESPACE });
    assert.equal(ns.metadata?.labels?.['app.kubernetes.io/part-of'], 'nkp-engine-test');
    const cm = await core.readNamespacedConfigMap({ name: 'settings', namespace: NAMESPACE });
    assert.equal(cm.data?.greeting, 'hello');
    // The secret reached the object through the provider: the searches for it below are not vacuous.
    assert.equal(cm.data?.token, SECRET);
  });

  it('a Node dynamic resource runs through the engine and its value reaches the cluster', async () => {
    const out = await ok(['stack', 'output', 'uuidValue']);
    const value = out.stdout.trim();
    assert.match(value, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    const cm = await core.readNamespacedConfigMap({ name: 'settings', namespace: NAMESPACE });
    assert.equal(cm.data?.uuid, value);
  });

  it('a second up with --expect-no-changes passes, and fails once the config changes', async () => {
    const before = (await ok(['stack', 'output', 'uuidValue'])).stdout.trim();
    await ok(['up', '--yes', '--expect-no-changes', '--non-interactive']);
    assert.equal((await ok(['stack', 'output', 'uuidValue'])).stdout.trim(), before, 'the dynamic resource was replaced');

    await ok(['config', 'set', 'greeting', 'changed']);
    const changed = await pulumi(['preview', '--expect-no-changes', '--diff', '--non-interactive']);
    assert.notEqual(changed.code, 0, `a changed greeting must be a change:\n${output(changed)}`);
    assert.match(changed.stdout, /greeting\s*:\s*"hello"\s*=>\s*"changed"/, output(changed));
    await ok(['config', 'set', 'greeting', 'hello']);
    await ok(['preview', '--expect-no-changes', '--non-interactive']);
  });

  it('a config secret never appears in plain text in the state, stack export or any output', async () => {
    // Asked for explicitly (and so left out of the outputs searched below), the secret is a real stack output.
    const shown = await ws.run(['stack', 'output', 'token', '--show-secrets'], { cwd: dir });
    assert.equal(shown.stdout.trim(), SECRET, output(shown));
    const exported = await ok(['stack', 'export']);
    assert.ok(exported.stdout.includes('4dabf18193072939515e22adb298388d'), 'stack export marks secrets with the secret signature');
    await ok(['stack', 'output', '--json']);
    for (const text of outputs) assert.ok(!text.includes(SECRET), `the secret leaked into CLI output:\n${text}`);
    const files = allFiles(ws.backendDir);
    assert.ok(files.some((f) => f.path.endsWith(`${STACK}.json`)), `no state file in ${ws.backendDir}`);
    for (const f of files) assert.ok(!f.text.includes(SECRET), `the secret is in plain text in ${f.path}`);
    assert.ok(!readFileSync(join(dir, `Pulumi.${STACK}.yaml`), 'utf8').includes(SECRET), 'the secret is in plain text in the stack config');
  });

  it('a policy pack run with --policy-pack stops a violating resource before it is created', async () => {
    // The compliant program passes the pack (no false positive)...
    await ok(['preview', '--policy-pack', 'policy', '--non-interactive']);
    // ...a violating one is refused and nothing of it reaches the cluster.
    await ok(['config', 'set', 'forbidden', 'true']);
    const r = await pulumi(['up', '--yes', '--skip-preview', '--policy-pack', 'policy', '--non-interactive']);
    await ok(['config', 'rm', 'forbidden']);
    assert.notEqual(r.code, 0, `the violating update must fail:\n${output(r)}`);
    assert.match(r.stdout + r.stderr, /no-forbidden-configmaps/, output(r));
    assert.match(r.stdout + r.stderr, /ConfigMap blocked is labelled forbidden=true/, output(r));
    await assert.rejects(core.readNamespacedConfigMap({ name: 'blocked', namespace: NAMESPACE }), (err) => status(err) === 404);
  });

  it('a program using a provider whose plugin is not installed fails, naming the plugin', async () => {
    await ok(['config', 'set', 'useRandom', 'true']);
    const r = await pulumi(['preview', '--non-interactive']);
    await ok(['config', 'rm', 'useRandom']);
    assert.notEqual(r.code, 0, `a missing provider must not be hidden:\n${output(r)}`);
    assert.match(r.stdout + r.stderr, /random/, output(r));
    assert.match(r.stdout + r.stderr, /plugin/i, output(r));
  });

  it('a run that exceeds its timeout is killed together with the language host, node and providers', async () => {
    await ok(['config', 'set', 'hang', 'true']);
    const r = await pulumi(['preview', '--non-interactive'], 30_000);
    await ok(['config', 'rm', 'hang']);
    assert.equal(r.timedOut, true, output(r));
    // Every process of the run had the project directory as its working directory.
    const left = readdirSync('/proc')
      .filter((p) => /^\d+$/.test(p))
      .filter((p) => {
        try {
          return readlinkSync(`/proc/${p}/cwd`) === dir;
        } catch {
          return false;
        }
      });
    assert.deepEqual(left, [], `processes left in ${dir}: ${left.map((p) => readFileSync(`/proc/${p}/cmdline`, 'utf8').replace(/\0/g, ' ')).join('; ')}`);
  });

  it('pulumi destroy removes the objects from the cluster and the stack', async () => {
    await ok(['destroy', '--yes', '--skip-preview', '--non-interactive']);
    await assert.rejects(core.readNamespacedConfigMap({ name: 'settings', namespace: NAMESPACE }), (err) => status(err) === 404);
    await assert.rejects(core.readNamespace({ name: NAMESPACE }), (err) => status(err) === 404);
    const exported = JSON.parse((await ok(['stack', 'export'])).stdout) as { deployment: { resources?: unknown[] } };
    assert.equal(exported.deployment.resources?.length ?? 0, 0);
  });
});
