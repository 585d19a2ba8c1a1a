// The pack validator ships on its own: its import graph (bundled by esbuild with its npm packages) holds no
// file of the test harness or the tests, and the bundle runs without them.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';

describe('packs: the validator ships without the test harness', function () {
    this.timeout(60_000);

    it('packs/validate.ts imports nothing under test/, and its bundle prints its usage', async () => {
        const dir = mkdtempSync(join(tmpdir(), 'nkp-validator-bundle-'));
        try {
            const out = join(dir, 'validate.mjs');
            const r = await build({ entryPoints: ['packs/validate.ts'], bundle: true, platform: 'node', format: 'esm', outfile: out, metafile: true, banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" }, logLevel: 'silent' });
            const inputs = Object.keys(r.metafile.inputs);
            assert.ok(inputs.includes('packs/validate-lib.ts') && inputs.includes('operator/src/api/validate.ts'), inputs.join(', '));
            assert.deepEqual(inputs.filter((f) => f.startsWith('test/')), []);
            const run = spawnSync(process.execPath, [out], { encoding: 'utf8', cwd: process.cwd() });
            assert.equal(run.status, 2, run.stderr);
            assert.match(run.stderr, /^usage: npm run validate:pack -- \[options\]/);
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    });
});
