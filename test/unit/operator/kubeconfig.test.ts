// The operator's own kubeconfig reading (operator/src/runtime/kubeconfig.ts), which replaced @kubernetes/client-node
// at run time: the current context's server, CA and credentials (data or files, relative to the kubeconfig), tokens
// re-read from their file, and a clear refusal of exec/auth-provider plugins and of a broken current-context.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EndpointAccess, endpointFromKubeconfig } from '../../../operator/src/runtime/kubeconfig.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');
const doc = (user: Record<string, unknown>, cluster: Record<string, unknown> = { server: 'https://api.example.test:6443', 'certificate-authority-data': b64('CA') }) => ({
  'current-context': 'c',
  contexts: [{ name: 'other', context: { cluster: 'x', user: 'x' } }, { name: 'c', context: { cluster: 'k', user: 'u' } }],
  clusters: [{ name: 'k', cluster }],
  users: [{ name: 'u', user }],
});

describe('operator kubeconfig (without client-node)', () => {
  it('reads the current context: server, CA data, client certificate from files relative to the kubeconfig', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kcfg-'));
    writeFileSync(join(dir, 'c.crt'), 'CERT');
    writeFileSync(join(dir, 'c.key'), 'KEY');
    const e = endpointFromKubeconfig(doc({ 'client-certificate': 'c.crt', 'client-key': join(dir, 'c.key') }), 'cfg', dir, (p) => readFileSync(p));
    assert.equal(e.server, 'https://api.example.test:6443');
    assert.equal(e.ca?.toString(), 'CA');
    assert.equal(e.cert?.toString(), 'CERT');
    assert.equal(e.key?.toString(), 'KEY');
  });

  it('a token file is read again on every call (rotation); insecure-skip-tls-verify turns verification off', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kcfg-'));
    writeFileSync(join(dir, 'token'), 'one\n');
    const access = new EndpointAccess(endpointFromKubeconfig(doc({ tokenFile: 'token' }, { server: 'https://a', 'insecure-skip-tls-verify': true }), 'cfg', dir, (p) => readFileSync(p)));
    const o1: { headers?: Record<string, string>; rejectUnauthorized?: boolean } = {};
    await access.applyToHTTPSOptions(o1);
    assert.equal(o1.headers?.authorization, 'Bearer one');
    assert.equal(o1.rejectUnauthorized, false);
    writeFileSync(join(dir, 'token'), 'two');
    const o2: { headers?: Record<string, string> } = {};
    await access.applyToHTTPSOptions(o2);
    assert.equal(o2.headers?.authorization, 'Bearer two');
  });

  it('refuses exec and auth-provider users and a current-context that is not there, naming them', () => {
    assert.throws(() => endpointFromKubeconfig(doc({ exec: { command: 'aws' } }), 'cfg', '/', () => Buffer.alloc(0)), /user "u" uses exec, which nebari-operator does not support/);
    assert.throws(() => endpointFromKubeconfig({ ...doc({}), 'current-context': 'nope' }, 'cfg', '/', () => Buffer.alloc(0)), /current-context "nope" is not among contexts/);
  });
});

