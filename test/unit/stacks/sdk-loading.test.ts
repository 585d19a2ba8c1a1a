// The program loads a cloud's provider SDK only when the stack uses that cloud (components/sdk.ts): importing the
// program's modules, as every run does, must not load @pulumi/aws, eks, cloudflare, hcloud, keycloak, random, tls or
// command. Checked in a fresh Node process (this one has loaded them for other tests), then a property read loads one.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { repoRoot } from '../../harness/upstream.js';

const SDKS = ['aws', 'eks', 'cloudflare', 'hcloud', 'keycloak', 'random', 'tls', 'command'];

const probe = `
import { createRequire } from 'node:module';
const cache = () => Object.keys(createRequire(import.meta.url).cache);
const loaded = () => ${JSON.stringify(SDKS)}.filter((s) => cache().some((f) => f.includes('/node_modules/@pulumi/' + s + '/')));
await import('./stacks/platform.ts');
const before = loaded();
const { lazySdk } = await import('./components/sdk.ts');
const tls = lazySdk('@pulumi/tls');
const hasKey = typeof tls.PrivateKey === 'function';
console.log(JSON.stringify({ before, after: loaded(), hasKey }));
`;

describe('the program loads only the provider SDKs its cloud uses', function () {
    this.timeout(60_000);
    it('importing the platform loads no cloud SDK; the first property read loads one, with its exports', () => {
        const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', probe], { cwd: repoRoot, encoding: 'utf8' });
        const r = JSON.parse(out.trim().split('\n').pop()!) as { before: string[]; after: string[]; hasKey: boolean };
        assert.deepEqual(r.before, [], `loaded at import: ${r.before.join(', ')}`);
        assert.deepEqual(r.after, ['tls']);
        assert.equal(r.hasKey, true);
    });
});
