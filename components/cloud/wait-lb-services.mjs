#!/usr/bin/env node
// Destroy guard of the AWS add-ons (components/cloud/aws-addons.ts): run by `pulumi destroy` (the delete command of
// a command.local.Command) after the foundation's Applications are gone and BEFORE the AWS Load Balancer Controller
// is removed. It waits until no Service in the cluster still carries the controller's finalizer
// `service.k8s.aws/resources`, i.e. until the controller has deleted every NLB it made; otherwise the NLB would
// outlive the cluster and block the VPC's deletion.
//
// Environment: NKP_KUBECONFIG (kubeconfig YAML/JSON; else the default kubeconfig), NKP_WAIT_TIMEOUT_SECONDS (900),
// NKP_WAIT_INTERVAL_SECONDS (5). Exit 0 when none is left; 1 with the Services still waiting after the timeout.
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';

const FINALIZER = 'service.k8s.aws/resources';
const timeoutMs = Number(process.env.NKP_WAIT_TIMEOUT_SECONDS ?? '900') * 1000;
const intervalMs = Number(process.env.NKP_WAIT_INTERVAL_SECONDS ?? '5') * 1000;

const kc = new KubeConfig();
if (process.env.NKP_KUBECONFIG) kc.loadFromString(process.env.NKP_KUBECONFIG);
else kc.loadFromDefault();
const core = kc.makeApiClient(CoreV1Api);

const deadline = Date.now() + timeoutMs;
let last = 'not checked yet';
for (;;) {
    try {
        const list = await core.listServiceForAllNamespaces();
        const waiting = list.items.filter((s) => (s.metadata?.finalizers ?? []).includes(FINALIZER)).map((s) => `${s.metadata?.namespace}/${s.metadata?.name}`);
        if (waiting.length === 0) {
            console.log(`no Service carries ${FINALIZER}: every NLB of the AWS Load Balancer Controller is gone`);
            process.exit(0);
        }
        last = `still waiting for the AWS Load Balancer Controller to delete the NLBs of: ${waiting.join(', ')}`;
    } catch (e) {
        last = `the Kubernetes API could not be read: ${e instanceof Error ? e.message : String(e)}`;
    }
    if (Date.now() >= deadline) {
        console.error(`${last} (gave up after ${timeoutMs / 1000} s). Check the controller's logs (kube-system/aws-load-balancer-controller) ` +
            'and the Services\' events; deleting their NLBs by hand and removing the finalizer lets destroy go on.');
        process.exit(1);
    }
    console.log(last);
    await new Promise((r) => setTimeout(r, intervalMs));
}
