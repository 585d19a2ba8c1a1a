/**
 * The destroy guard of the AWS add-ons (components/cloud/wait-lb-services.mjs) against the real kube-apiserver of
 * the shared test control plane. Stand-in: no AWS Load Balancer Controller runs here; the test plays its part by
 * putting its finalizer `service.k8s.aws/resources` on a Service and removing it (as the controller does once the
 * NLB is deleted).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CoreV1Api } from '@kubernetes/client-node';
import { sharedControlPlane, type ControlPlane } from '../../harness/control-plane.js';
import { LB_DRAIN_SCRIPT } from '../../../components/cloud/aws-addons.js';
import { LB_SERVICE_FINALIZER } from '../../../components/cloud/aws-addons-plan.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

function runScript(kubeconfig: string, env: Record<string, string>): { done: Promise<{ code: number | null; out: string }>; } {
    const child = spawn(process.execPath, [LB_DRAIN_SCRIPT], { cwd: REPO, env: { ...process.env, NKP_KUBECONFIG: kubeconfig, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    return { done: new Promise((resolve) => child.on('exit', (code) => resolve({ code, out }))) };
}

describe('cloud: the NLB destroy guard waits for the Load Balancer Controller\'s Service finalizer (real API server)', function () {
    this.timeout(120_000);
    let cp: ControlPlane;
    let core: CoreV1Api;
    let kubeconfig: string;
    const ns = 'default';
    const name = 'envoy-nkp-public-lb-drain';

    before(async () => {
        cp = await sharedControlPlane();
        core = cp.kubeConfig().makeApiClient(CoreV1Api);
        kubeconfig = readFileSync(cp.kubeconfigPath, 'utf8');
    });

    it('blocks while a Service carries the finalizer, ends once it is removed; times out naming the Service', async () => {
        await core.createNamespacedService({
            namespace: ns,
            body: { metadata: { name, finalizers: [LB_SERVICE_FINALIZER] }, spec: { type: 'LoadBalancer', ports: [{ port: 443, targetPort: 10443 }], selector: { app: 'x' } } },
        });
        await core.deleteNamespacedService({ name, namespace: ns }); // Terminating until the finalizer goes

        const timedOut = await runScript(kubeconfig, { NKP_WAIT_TIMEOUT_SECONDS: '1', NKP_WAIT_INTERVAL_SECONDS: '0.2' }).done;
        assert.equal(timedOut.code, 1, timedOut.out);
        assert.match(timedOut.out, new RegExp(`still waiting for the AWS Load Balancer Controller to delete the NLBs of: ${ns}/${name}`));

        const waiting = runScript(kubeconfig, { NKP_WAIT_TIMEOUT_SECONDS: '60', NKP_WAIT_INTERVAL_SECONDS: '0.2' });
        const early = await Promise.race([waiting.done, new Promise((r) => setTimeout(() => r('still running'), 1500))]);
        assert.equal(early, 'still running', 'the guard does not return while the NLB exists');
        await core.patchNamespacedService({ name, namespace: ns, body: [{ op: 'remove', path: '/metadata/finalizers' }] });
        const done = await waiting.done;
        assert.equal(done.code, 0, done.out);
        assert.match(done.out, /no Service carries service\.k8s\.aws\/resources/);
    });
});
