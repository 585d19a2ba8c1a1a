// stacks/stack-traces.ts: the program drops source-map-support (installed by Pulumi's runner) for Node's own source
// maps; stack traces must keep their TypeScript positions. Run in a fresh node with tsx, as the engine runs the program.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../../harness/upstream.js';

describe("the program's stack traces (Node's source maps instead of source-map-support)", () => {
    let dir: string;
    before(() => (dir = mkdtempSync(join(tmpdir(), 'nkp-stack-'))));
    after(() => rmSync(dir, { recursive: true, force: true }));

    const run = (withModule: boolean): { before: string; after: string; dropped: boolean } => {
        // a TypeScript file whose error is thrown on a known line (7), after lines that change columns when compiled
        const thrower = join(dir, 'thrower.ts');
        writeFileSync(thrower, ['type T = { a: number };', 'const t: T = { a: 1 };', 'export function boom(): string {', '    const x: number = t.a;', '    void x;', '    // line 6', '    return new Error("boom").stack ?? "";', '}', ''].join('\n'));
        const main = join(dir, 'main.mts');
        writeFileSync(
            main,
            [
                `import sms from '${join(repoRoot, 'node_modules', 'source-map-support', 'source-map-support.js')}';`,
                'sms.install();', // what @pulumi/pulumi/cmd/run does before loading the program
                `const { boom } = await import('${thrower}');`,
                'const before = boom();',
                withModule ? `const { preferNodeSourceMaps } = await import('${join(repoRoot, 'stacks', 'stack-traces.ts')}');` : 'const preferNodeSourceMaps = () => false;',
                'const dropped = preferNodeSourceMaps();',
                'console.log(JSON.stringify({ before, after: boom(), dropped, hook: typeof Error.prepareStackTrace }));',
            ].join('\n'),
        );
        const out = execFileSync(process.execPath, ['--import=tsx', main], { cwd: repoRoot, encoding: 'utf8' });
        return JSON.parse(out.trim().split('\n').pop()!) as { before: string; after: string; dropped: boolean };
    };

    it('drops the library hook and keeps the TypeScript file and line of each frame', () => {
        const r = run(true);
        assert.equal(r.dropped, true, 'tsx turns on Node source maps, so the hook goes');
        // source-map-support maps tsx's output to the wrong place (thrower.ts:2:909 here): another reason to drop it
        assert.doesNotMatch(r.before, /thrower\.ts:7:12/, `with source-map-support: ${r.before}`);
        assert.match(r.after, /thrower\.ts:7:12/, `with Node's source maps: ${r.after}`);
        assert.equal((JSON.parse(JSON.stringify(r)) as { hook: string }).hook, 'undefined');
    });

    it('without it the library hook stays (the control: the test sees the hook)', () => {
        const r = run(false) as { hook?: string; dropped: boolean };
        assert.equal(r.dropped, false);
        assert.equal(r.hook, 'function');
    });
});
