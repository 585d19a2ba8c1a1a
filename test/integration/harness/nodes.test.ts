// Simulated nodes: the real scheduler and workload controllers, with kwok standing in for the kubelet (no
// container runtime here, so nothing in a pod runs; kwok marks scheduled pods Running and Ready).
import { strict as assert } from 'node:assert';
import { AppsV1Api, CoreV1Api } from '@kubernetes/client-node';
import { startControlPlane, kwokNodeName, type ControlPlane } from '../../harness/control-plane.js';
import { sleep } from '../../harness/util.js';

async function until<T>(what: string, f: () => Promise<T | undefined>, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`${what}: not after ${ms / 1000} s`);
    await sleep(250);
  }
}

const restrictedPod = {
  securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
  containers: [
    {
      name: 'web',
      image: 'registry.example.com/web:1.0.0',
      ports: [{ containerPort: 8080 }],
      securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, runAsUser: 1000 },
    },
  ],
};

describe('harness: simulated nodes (kube-scheduler + workload controllers + kwok as the kubelet stand-in)', function () {
  this.timeout(180_000);
  let cp: ControlPlane;
  let apps: AppsV1Api;
  let core: CoreV1Api;

  before(async () => {
    cp = await startControlPlane({ crds: false, nodes: 2 });
    apps = cp.kubeConfig().makeApiClient(AppsV1Api);
    core = cp.kubeConfig().makeApiClient(CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: 'web', labels: { 'pod-security.kubernetes.io/enforce': 'restricted' } } } });
  });
  after(async () => {
    await cp?.stop();
  });

  it('the nodes are Ready and schedulable', async () => {
    const nodes = (await core.listNode()).items;
    assert.deepEqual(nodes.map((n) => n.metadata!.name).sort(), [kwokNodeName(0), kwokNodeName(1)]);
    for (const n of nodes) {
      assert.ok(n.status!.conditions!.some((c) => c.type === 'Ready' && c.status === 'True'), n.metadata!.name);
      assert.deepEqual(n.spec!.taints ?? [], [], `${n.metadata!.name}: the not-ready taint is lifted`);
    }
  });

  it('a Deployment becomes Available: pods scheduled on the nodes, Running and Ready with pod IPs; its Service gets endpoints', async () => {
    await apps.createNamespacedDeployment({
      namespace: 'web',
      body: { metadata: { name: 'web' }, spec: { replicas: 2, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: restrictedPod } } },
    });
    await core.createNamespacedService({ namespace: 'web', body: { metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] } } });
    const d = await until('Deployment available', async () => {
      const x = await apps.readNamespacedDeployment({ namespace: 'web', name: 'web' });
      return x.status?.availableReplicas === 2 ? x : undefined;
    });
    assert.ok(d.status!.conditions!.some((c) => c.type === 'Available' && c.status === 'True'));
    const pods = (await core.listNamespacedPod({ namespace: 'web', labelSelector: 'app=web' })).items;
    assert.equal(pods.length, 2);
    for (const p of pods) {
      assert.match(p.spec!.nodeName ?? '', /^kwok-node-[01]$/);
      assert.equal(p.status!.phase, 'Running');
      assert.match(p.status!.podIP ?? '', /^10\.244\./);
    }
    const ep = await until('Endpoints filled', async () => {
      const e = await core.readNamespacedEndpoints({ namespace: 'web', name: 'web' }).catch(() => undefined);
      return (e?.subsets?.[0]?.addresses?.length ?? 0) === 2 ? e : undefined;
    });
    assert.deepEqual(ep!.subsets![0]!.ports!.map((p) => p.port), [8080]);
  });

  it('Pod Security admission still holds: a privileged pod in a restricted namespace is refused and its ReplicaSet says why', async () => {
    await apps.createNamespacedDeployment({
      namespace: 'web',
      body: {
        metadata: { name: 'root' },
        spec: { replicas: 1, selector: { matchLabels: { app: 'root' } }, template: { metadata: { labels: { app: 'root' } }, spec: { containers: [{ name: 'c', image: 'registry.example.com/c:1', securityContext: { privileged: true } }] } } },
      },
    });
    const failure = await until('ReplicaFailure', async () => {
      const rs = (await apps.listNamespacedReplicaSet({ namespace: 'web', labelSelector: 'app=root' })).items[0];
      return rs?.status?.conditions?.find((c) => c.type === 'ReplicaFailure' && c.status === 'True');
    });
    assert.match(failure.message ?? '', /violates PodSecurity "restricted/);
    assert.equal((await core.listNamespacedPod({ namespace: 'web', labelSelector: 'app=root' })).items.length, 0);
  });

  it('deleting the Deployment removes its pods (kwok completes the deletion the kubelet would)', async () => {
    await apps.deleteNamespacedDeployment({ namespace: 'web', name: 'web', body: { propagationPolicy: 'Foreground' } });
    await until('pods gone', async () => ((await core.listNamespacedPod({ namespace: 'web', labelSelector: 'app=web' })).items.length === 0 ? true : undefined));
  });
});
