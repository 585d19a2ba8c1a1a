// Pure parts of the Pulumi engine harness and build: the isolated environment of a CLI run, and the replace
// directives a wrapper module copies from an upstream go.mod.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { descendants, kubernetesPluginVersion, pulumiEnvironment, pulumiVersions } from '../../harness/pulumi.js';
import { repoRoot } from '../../harness/upstream.js';

type GoModJson = { Replace?: { Old: { Path: string; Version?: string }; New: { Path: string; Version?: string } }[] };

describe('Pulumi engine harness', () => {
  const w = { binDir: '/engine/bin', nodeDir: '/node22/bin', home: '/tmp/home', backendUrl: 'file:///tmp/state', passphrase: 'pw' };

  it('isolates a run: no inherited PULUMI_* setting, the engine then Node 22 first on PATH', () => {
    const env = pulumiEnvironment(
      { PATH: '/usr/bin', HOME: '/root', PULUMI_ACCESS_TOKEN: 'pul-123', PULUMI_HOME: '/root/.pulumi', PULUMI_BACKEND_URL: 'https://api.pulumi.com' },
      w,
    );
    assert.equal(env.PATH, '/engine/bin:/node22/bin:/usr/bin');
    assert.equal(env.HOME, '/root');
    assert.equal(env.PULUMI_ACCESS_TOKEN, undefined);
    assert.equal(env.PULUMI_HOME, '/tmp/home');
    assert.equal(env.PULUMI_BACKEND_URL, 'file:///tmp/state');
    assert.equal(env.PULUMI_CONFIG_PASSPHRASE, 'pw');
    assert.equal(env.PULUMI_IGNORE_AMBIENT_PLUGINS, 'true');
    assert.equal(env.PULUMI_SKIP_UPDATE_CHECK, 'true');
    assert.equal(env.PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION, 'true');
  });

  it('the Kubernetes plugin version is the npm SDK pin; the CLI version is pinned in versions.json', () => {
    assert.match(kubernetesPluginVersion(), /^\d+\.\d+\.\d+$/);
    assert.match(pulumiVersions.cli, /^v3\.\d+\.\d+$/);
    assert.equal(pulumiVersions.kubernetesProvider.module, 'github.com/pulumi/pulumi-kubernetes/provider/v4');
  });

  it('a wrapper module copies the versioned replaces of the upstream go.mod and leaves local paths to the proxy', async () => {
    const script = join(repoRoot, 'scripts', 'build-pulumi.mjs');
    const { versionedReplaces } = (await import(script)) as { versionedReplaces(m: GoModJson): string[] };
    const upstream: GoModJson = {
      Replace: [
        { Old: { Path: 'github.com/pulumi/pulumi/sdk/v3' }, New: { Path: '../sdk' } },
        { Old: { Path: 'github.com/atotto/clipboard' }, New: { Path: 'github.com/tgummerer/clipboard', Version: 'v0.0.0-20241001131231-d02d263e614e' } },
        { Old: { Path: 'example.com/a', Version: 'v1.0.0' }, New: { Path: 'example.com/b', Version: 'v1.0.1' } },
      ],
    };
    assert.deepEqual(versionedReplaces(upstream), [
      'example.com/a v1.0.0 => example.com/b v1.0.1',
      'github.com/atotto/clipboard => github.com/tgummerer/clipboard v0.0.0-20241001131231-d02d263e614e',
    ]);
    assert.deepEqual(versionedReplaces({}), []);
  });

  it('finds every descendant of a process, also those in process groups of their own (how plugins run)', async () => {
    const sh = spawn('sh', ['-c', 'sleep 30 & setsid sleep 30 & wait'], { stdio: 'ignore' });
    try {
      let found: number[] = [];
      for (let i = 0; i < 50 && found.length < 2; i++) {
        await new Promise((r) => setTimeout(r, 50));
        found = descendants(sh.pid!);
      }
      assert.equal(found.length, 2, `descendants of ${sh.pid}: ${found}`);
      assert.ok(!found.includes(sh.pid!));
      assert.deepEqual(descendants(found[0]), []);
    } finally {
      for (const p of descendants(sh.pid!)) process.kill(p, 'SIGKILL');
      sh.kill('SIGKILL');
    }
  });
});
