/**
 * A fresh stack's preview: the cloud's kubeconfig (EKS' kubeconfigJson, the K3s kubeconfig read over SSH) is unknown
 * until the cluster exists, and the platform's Helm charts (Argo CD, Hetzner CCM/CSI; Helm v4 Chart components) sit
 * on a provider built from it. The real Pulumi engine and Kubernetes provider preview such a program: it must plan
 * the charts instead of failing to render them. Stand-in: the unknown kubeconfig is Pulumi's own unknown value (what
 * the engine hands the program for an output of a resource not created yet); the cloud providers cannot run here.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { createPulumiWorkspace, type PulumiWorkspace } from '../../harness/pulumi.js';
import { repoRoot } from '../../harness/upstream.js';
import { DEFAULT_CSI_CHART_VERSION, HCLOUD_CHART_REPO } from '../../../components/cloud/hetzner-plan.js';

const program = (chartDir: string) => `import * as pulumi from '@pulumi/pulumi';
import * as k8s from '@pulumi/kubernetes';
// As stacks/platform.ts builds it: one provider from the cloud's kubeconfig (unknown before the cluster exists).
const kubeconfig = pulumi.output(pulumi.unknown as unknown as string);
const cluster = new k8s.Provider('cluster', { kubeconfig, enableServerSideApply: true, enableConfigMapMutable: true });
new k8s.core.v1.Namespace('ns', { metadata: { name: 'nkp-preview' } }, { provider: cluster });
new k8s.helm.v4.Chart('local-chart', { chart: ${JSON.stringify(chartDir)}, namespace: 'nkp-preview' }, { provider: cluster });
new k8s.helm.v4.Chart('repo-chart', { chart: 'hcloud-csi', version: '${DEFAULT_CSI_CHART_VERSION}', repositoryOpts: { repo: '${HCLOUD_CHART_REPO}' }, namespace: 'kube-system' }, { provider: cluster });
`;

describe('cloud: a fresh stack previews with an unknown kubeconfig (real engine, real Kubernetes provider)', function () {
    this.timeout(600_000);
    let ws: PulumiWorkspace;
    let dir: string;

    before(async function () {
        this.timeout(3_600_000); // builds the engine on a cold machine
        ws = await createPulumiWorkspace();
        dir = mkdtempSync(join(tmpdir(), 'nkp-preview-'));
        const root = parse(readFileSync(join(repoRoot, 'Pulumi.yaml'), 'utf8')) as { runtime: unknown };
        writeFileSync(join(dir, 'Pulumi.yaml'), JSON.stringify({ name: 'nkp-preview', runtime: root.runtime, main: 'index.ts' }));
        writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'nkp-preview', private: true, type: 'module' }));
        writeFileSync(join(dir, 'index.ts'), program(join(repoRoot, 'packs/template/chart')));
        symlinkSync(join(repoRoot, 'node_modules'), join(dir, 'node_modules'));
        const init = await ws.run(['stack', 'init', 'fresh', '--non-interactive'], { cwd: dir });
        assert.equal(init.code, 0, init.stderr);
    });
    after(() => {
        ws?.dispose();
        if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('plans the provider, a namespace and both Helm v4 charts; nothing fails', async () => {
        // KUBECONFIG points nowhere: no ambient cluster can make the preview pass.
        const r = await ws.run(['preview', '--non-interactive', '--stack', 'fresh'], { cwd: dir, timeoutMs: 300_000, env: { KUBECONFIG: join(dir, 'none') } });
        const out = `exit ${r.code}\n${r.stdout}\n${r.stderr}`;
        assert.equal(r.code, 0, out);
        for (const line of [/\+\s+pulumi:providers:kubernetes cluster create/, /\+\s+kubernetes:helm\.sh\/v4:Chart local-chart create/, /\+\s+kubernetes:helm\.sh\/v4:Chart repo-chart create/]) assert.match(r.stdout, line, out);
        assert.match(r.stdout, /\+ 5 to create/, out);
    });
});
