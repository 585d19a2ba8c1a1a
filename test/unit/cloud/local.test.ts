/**
 * LocalCluster: kubeconfig validation and context selection tested against real files in a temporary directory,
 * and the component under Pulumi mocks (a stand-in for the Pulumi engine; it creates no cloud resources).
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import * as pulumi from '@pulumi/pulumi';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { defaultStorageClassFor, expandHome, selectContext, validateLocalClusterArgs } from '../../../components/cloud/local.js';
import { outputIsSecret, outputValue, setupPulumiMocks, type RecordingMocks } from '../pulumi-mocks.js';

/** A kubeconfig with one cluster/user/context per name; the first is current. */
function kubeconfig(names: string[], current: string | null = names[0]!): string {
    return toYaml({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: names.map((n) => ({ name: `${n}-cluster`, cluster: { server: `https://127.0.0.1:${6443 + names.indexOf(n)}`, 'certificate-authority': `certs/${n}-ca.crt` } })),
        users: names.map((n) => ({ name: `${n}-user`, user: { 'client-certificate': `/abs/${n}.crt`, 'client-key': `certs/${n}.key` } })),
        contexts: names.map((n) => ({ name: n, context: { cluster: `${n}-cluster`, user: `${n}-user` } })),
        ...(current !== null ? { 'current-context': current } : {}),
    });
}

describe('cloud/local: kubeconfig validation (real files)', () => {
    let dir: string;
    before(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nkp-local-')); });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));
    const write = (name: string, text: string) => { const p = path.join(dir, name); fs.writeFileSync(p, text); return p; };

    it('default StorageClass per flavour: local-path for k3s/k3d, standard for kind/other', () => {
        assert.deepEqual((['k3s', 'k3d', 'kind', 'other'] as const).map(defaultStorageClassFor), ['local-path', 'local-path', 'standard', 'standard']);
        const plan = validateLocalClusterArgs({ kubeconfigPath: write('a.yaml', kubeconfig(['kind-nkp'])), flavour: 'kind' });
        assert.equal(plan.defaultStorageClass, 'standard');
        assert.equal(validateLocalClusterArgs({ kubeconfigPath: path.join(dir, 'a.yaml'), flavour: 'k3d' }).defaultStorageClass, 'local-path');
        assert.equal(validateLocalClusterArgs({ kubeconfigPath: path.join(dir, 'a.yaml'), defaultStorageClass: 'fast' }).defaultStorageClass, 'fast');
    });

    it('expandHome expands ~ and ~/x only', () => {
        assert.equal(expandHome('~', '/home/u'), '/home/u');
        assert.equal(expandHome('~/.kube/config', '/home/u'), '/home/u/.kube/config');
        assert.equal(expandHome('/etc/k3s.yaml', '/home/u'), '/etc/k3s.yaml');
        assert.equal(expandHome('~other/x', '/home/u'), '~other/x');
    });

    it('a ~ path resolves against the home directory', () => {
        fs.mkdirSync(path.join(dir, '.kube'), { recursive: true });
        fs.writeFileSync(path.join(dir, '.kube', 'config'), kubeconfig(['k3d-nkp']));
        const plan = validateLocalClusterArgs({ kubeconfigPath: '~/.kube/config' }, { home: dir, readFile: (p) => (fs.existsSync(p) ? fs.readFileSync(p, 'utf8') : undefined) });
        assert.equal(plan.selected!.context, 'k3d-nkp');
    });

    it('a missing file fails naming kubeconfigPath and the resolved path', () => {
        const missing = path.join(dir, 'nope.yaml');
        assert.throws(() => validateLocalClusterArgs({ kubeconfigPath: missing }), new RegExp(`LocalCluster: invalid kubeconfigPath: file ${missing.replace(/[.]/g, '\\.')} does not exist`));
        assert.throws(() => validateLocalClusterArgs({ kubeconfigPath: dir }), /kubeconfigPath: file .* does not exist or is not readable/);
    });

    it('a context that is not in the file fails naming context and listing the available ones', () => {
        const p = write('two.yaml', kubeconfig(['kind-a', 'kind-b']));
        assert.throws(() => validateLocalClusterArgs({ kubeconfigPath: p, context: 'kind-c' }),
            /LocalCluster: invalid context: "kind-c" is not in the kubeconfig from kubeconfigPath; available contexts: \["kind-a","kind-b"\]/);
        assert.equal(validateLocalClusterArgs({ kubeconfigPath: p, context: 'kind-b' }).selected!.cluster, 'kind-b-cluster');
    });

    it('no current-context and no context arg fails naming context', () => {
        const p = write('nocurrent.yaml', kubeconfig(['a'], null));
        assert.throws(() => validateLocalClusterArgs({ kubeconfigPath: p }), /invalid context: the kubeconfig has no current-context; set context to one of \["a"\]/);
    });

    it('exactly one source: neither or both fail naming kubeconfigPath', () => {
        assert.throws(() => validateLocalClusterArgs({}), /invalid kubeconfigPath: give exactly one of kubeconfigPath/);
        assert.throws(() => validateLocalClusterArgs({ kubeconfigPath: '' }), /give exactly one/);
        assert.throws(() => validateLocalClusterArgs({ kubeconfigPath: write('b.yaml', kubeconfig(['x'])), kubeconfig: kubeconfig(['x']) }), /give exactly one/);
    });

    it('broken kubeconfigs fail naming the source field', () => {
        assert.throws(() => validateLocalClusterArgs({ kubeconfigPath: write('bad.yaml', 'clusters: [') }), /invalid kubeconfigPath: the kubeconfig is not valid YAML/);
        assert.throws(() => validateLocalClusterArgs({ kubeconfig: 'just: text' }), /invalid kubeconfig: the kubeconfig has no contexts\/clusters/);
        const dangling = toYaml({ clusters: [], users: [], contexts: [{ name: 'c', context: { cluster: 'gone', user: 'u' } }], 'current-context': 'c' });
        assert.throws(() => validateLocalClusterArgs({ kubeconfig: dangling }), /invalid kubeconfig: context "c" refers to cluster "gone"/);
        assert.throws(() => validateLocalClusterArgs({ kubeconfigPath: path.join(dir, 'a.yaml'), flavour: 'minikube' as 'kind' }), /invalid flavour: "minikube" is not allowed; use one of "k3s", "k3d", "kind", "other"/);
    });

    it('selectContext keeps only the chosen context and makes relative file paths absolute (property)', () => {
        const name = fc.stringMatching(/^[a-z][a-z0-9-]{0,15}$/);
        fc.assert(fc.property(fc.uniqueArray(name, { minLength: 1, maxLength: 6 }), fc.nat(), (names, pick) => {
            const chosen = names[pick % names.length]!;
            const out = selectContext(kubeconfig(names), chosen, 'kubeconfigPath', '/base/dir');
            const doc = parseYaml(out.kubeconfig);
            assert.equal(doc['current-context'], chosen);
            assert.deepEqual(doc.contexts.map((c: { name: string }) => c.name), [chosen]);
            assert.deepEqual(doc.clusters.map((c: { name: string }) => c.name), [`${chosen}-cluster`]);
            assert.deepEqual(doc.users.map((u: { name: string }) => u.name), [`${chosen}-user`]);
            assert.equal(doc.clusters[0].cluster['certificate-authority'], `/base/dir/certs/${chosen}-ca.crt`);
            assert.equal(doc.users[0].user['client-key'], `/base/dir/certs/${chosen}.key`);
            assert.equal(doc.users[0].user['client-certificate'], `/abs/${chosen}.crt`);
            assert.equal(out.cluster, `${chosen}-cluster`);
        }));
    });
});

describe('cloud/local: LocalCluster under Pulumi mocks', function () {
    this.timeout(30_000);
    let mocks: RecordingMocks;
    let LocalCluster: typeof import('../../../components/cloud/local.js').LocalCluster;
    let dir: string;
    before(async () => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nkp-local-'));
        mocks = await setupPulumiMocks();
        ({ LocalCluster } = await import('../../../components/cloud/local.js'));
    });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));
    beforeEach(() => mocks.reset());

    it('from a file: secret kubeconfig of the chosen context, cluster name, flavour StorageClass, no cloud resources', async () => {
        const file = path.join(dir, 'kc.yaml');
        fs.writeFileSync(file, kubeconfig(['k3d-a', 'k3d-b']));
        const c = new LocalCluster('local', { kubeconfigPath: file, context: 'k3d-b', flavour: 'k3d' });
        assert.equal(await outputIsSecret(c.kubeconfig), true);
        const kc = parseYaml(await outputValue(c.kubeconfig));
        assert.equal(kc['current-context'], 'k3d-b');
        assert.equal(await outputValue(c.clusterName), 'k3d-b-cluster');
        assert.equal(await pulumi.isSecret(c.clusterName), false);
        assert.equal(await outputValue(c.defaultStorageClass), 'local-path');
        assert.equal(await outputValue(c.context), 'k3d-b');
        assert.equal(c.provider, 'local');
        await mocks.settle();
        assert.deepEqual(mocks.resources.map((r) => r.type), ['nkp:cloud:LocalCluster']);
    });

    it('inline kubeconfig given as a secret Output; clusterName from args', async () => {
        const c = new LocalCluster('inline', { kubeconfig: pulumi.secret(kubeconfig(['kind-nkp'])), flavour: 'kind', clusterName: 'nkp-local' });
        assert.equal(await outputIsSecret(c.kubeconfig), true);
        assert.equal(parseYaml(await outputValue(c.kubeconfig))['current-context'], 'kind-nkp');
        assert.equal(await outputValue(c.clusterName), 'nkp-local');
        assert.equal(await outputValue(c.defaultStorageClass), 'standard');
    });

    it('refuses a context missing from the file before registering anything', async () => {
        const file = path.join(dir, 'one.yaml');
        fs.writeFileSync(file, kubeconfig(['only']));
        assert.throws(() => new LocalCluster('bad', { kubeconfigPath: file, context: 'other' }), /invalid context: "other" is not in the kubeconfig/);
        await mocks.settle();
        assert.equal(mocks.resources.length, 0);
    });
});
