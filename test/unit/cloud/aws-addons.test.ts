/**
 * The AWS add-ons (components/cloud/aws-addons*.ts): pinned Applications, their AppProject, the Load Balancer
 * Controller's IAM policy, and the component under Pulumi mocks (AWS and Argo CD cannot run here; the destroy guard's
 * script runs against the real API server in test/integration/cloud/lb-drain.test.ts).
 */
import assert from 'node:assert/strict';
import * as pulumi from '@pulumi/pulumi';
import {
    AWS_ADDON_CHARTS,
    AWS_ADDONS_PROJECT,
    CLUSTER_AUTOSCALER_KUBERNETES_MINOR,
    awsAddonApplications,
    awsAddonsProblem,
    awsAddonsProject,
    loadBalancerControllerPolicy,
    type AwsAddonsInput,
} from '../../../components/cloud/aws-addons-plan.js';
import { assertPinnedRevision } from '../../../components/foundation/spec.js';
import { isSecretMarker, outputValue, recordChildOptions, setupPulumiMocks, type RecordingMocks } from '../pulumi-mocks.js';

const input = (over: Partial<AwsAddonsInput> = {}): AwsAddonsInput => ({
    clusterName: 'nkp-prod', region: 'eu-central-1', vpcId: 'vpc-0123', kubernetesVersion: '1.33',
    clusterAutoscaler: { enabled: true, namespace: 'kube-system', serviceAccount: 'cluster-autoscaler' },
    nvidiaDevicePlugin: { enabled: true, gpuTaints: [{ key: 'nvidia.com/gpu', value: 'true', effect: 'NoSchedule' }, { key: 'nvidia.com/gpu', effect: 'NoSchedule' }] },
    ...over,
});

describe('cloud/aws-addons: pure', () => {
    it('Applications: pinned charts into kube-system of the add-ons project; the Load Balancer Controller always, the others by config', () => {
        const apps = awsAddonApplications(input());
        assert.deepEqual(apps.map((a) => a.metadata.name), ['aws-load-balancer-controller', 'cluster-autoscaler', 'nvidia-device-plugin']);
        for (const a of apps) {
            assertPinnedRevision(a.metadata.name, a.spec.source.targetRevision);
            assert.equal(a.spec.project, AWS_ADDONS_PROJECT);
            assert.equal(a.spec.destination.namespace, 'kube-system');
            assert.deepEqual(a.metadata.finalizers, ['resources-finalizer.argocd.argoproj.io'], 'Argo CD deletes what it made');
        }
        const byName = Object.fromEntries(apps.map((a) => [a.metadata.name, a.spec.source]));
        assert.equal(byName['aws-load-balancer-controller']!.targetRevision, AWS_ADDON_CHARTS.awsLoadBalancerController.version);
        const lb = byName['aws-load-balancer-controller']!.helm!.valuesObject!;
        assert.deepEqual([lb['clusterName'], lb['region'], lb['vpcId']], ['nkp-prod', 'eu-central-1', 'vpc-0123']);
        assert.deepEqual(lb['serviceAccount'], { create: true, name: 'aws-load-balancer-controller' }, 'the Pod Identity association names this account');
        const ca = byName['cluster-autoscaler']!.helm!.valuesObject!;
        assert.deepEqual(ca['autoDiscovery'], { clusterName: 'nkp-prod' });
        assert.deepEqual(ca['image'], { tag: 'v1.33.0' });
        const dp = byName['nvidia-device-plugin']!.helm!.valuesObject!;
        assert.deepEqual(dp['tolerations'], [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }], 'one toleration per GPU taint');
        assert.deepEqual(dp['nodeSelector'], { 'nvidia.com/gpu.present': 'true' });
        assert.deepEqual(awsAddonApplications(input({ clusterAutoscaler: { ...input().clusterAutoscaler, enabled: false }, nvidiaDevicePlugin: { enabled: false, gpuTaints: [] } })).map((a) => a.metadata.name),
            ['aws-load-balancer-controller']);
    });

    it('the autoscaler pin must match the cluster\'s Kubernetes minor', () => {
        assert.equal(CLUSTER_AUTOSCALER_KUBERNETES_MINOR, '1.33');
        assert.equal(awsAddonsProblem(input()), undefined);
        assert.match(awsAddonsProblem(input({ kubernetesVersion: '1.34' })) ?? '', /cluster-autoscaler v1\.33\.0 is built for Kubernetes 1\.33 and the cluster runs 1\.34/);
        assert.equal(awsAddonsProblem(input({ kubernetesVersion: '1.34', clusterAutoscaler: { ...input().clusterAutoscaler, enabled: false } })), undefined);
    });

    it('AppProject: the three chart repositories, kube-system only, a short list of cluster-scoped kinds (never *)', () => {
        const p = awsAddonsProject();
        assert.deepEqual(p.spec.sourceRepos, Object.values(AWS_ADDON_CHARTS).map((c) => c.repoURL).sort());
        assert.deepEqual(p.spec.destinations, [{ server: 'https://kubernetes.default.svc', namespace: 'kube-system' }]);
        assert.ok(p.spec.clusterResourceWhitelist.every((k) => k.group !== '*' && k.kind !== '*'));
        assert.ok(p.spec.clusterResourceWhitelist.some((k) => k.kind === 'ClusterRole'));
    });

    it('Load Balancer Controller policy: every write is scoped to this cluster\'s tag, except listeners, node SG rules and the ELB service-linked role', () => {
        const doc = JSON.parse(loadBalancerControllerPolicy('nkp-prod')) as { Statement: { Sid: string; Action: string | string[]; Condition?: Record<string, Record<string, unknown>> }[] };
        const unscopedWrites: string[] = [];
        for (const st of doc.Statement) {
            const actions = ([] as string[]).concat(st.Action);
            const tagged = JSON.stringify(st.Condition ?? {}).includes('"elbv2.k8s.aws/cluster":"nkp-prod"') || JSON.stringify(st.Condition ?? {}).includes('/elbv2.k8s.aws/cluster":"nkp-prod"');
            for (const a of actions) if (!/:(Describe|Get|List)/.test(a) && !tagged) unscopedWrites.push(a);
        }
        assert.deepEqual(unscopedWrites.sort(), [
            'ec2:AuthorizeSecurityGroupIngress', 'ec2:RevokeSecurityGroupIngress',
            'elasticloadbalancing:CreateListener', 'elasticloadbalancing:DeleteListener', 'elasticloadbalancing:ModifyListener', 'elasticloadbalancing:ModifyListenerAttributes',
            'iam:CreateServiceLinkedRole',
        ]);
        const slr = doc.Statement.find((s) => s.Sid === 'ServiceLinkedRole')!;
        assert.deepEqual(slr.Condition, { StringEquals: { 'iam:AWSServiceName': 'elasticloadbalancing.amazonaws.com' } });
        assert.ok(!JSON.stringify(doc).includes('wafv2') && !JSON.stringify(doc).includes('shield') && !JSON.stringify(doc).includes('cognito'), 'no ALB-only rights');
        // One operator block ANDs its keys: the tag-on-create statements must not require both services' CreateAction at once.
        for (const st of doc.Statement) {
            const keys = Object.values(st.Condition ?? {}).flatMap((block) => Object.keys(block));
            assert.ok(!(keys.includes('ec2:CreateAction') && keys.includes('elasticloadbalancing:CreateAction')), st.Sid);
        }
    });
});

describe('cloud/aws-addons: AwsClusterAddons under Pulumi mocks', function () {
    this.timeout(60_000);
    let mocks: RecordingMocks;
    let AwsClusterAddons: typeof import('../../../components/cloud/aws-addons.js').AwsClusterAddons;
    before(async () => {
        mocks = await setupPulumiMocks();
        ({ AwsClusterAddons } = await import('../../../components/cloud/aws-addons.js'));
    });
    beforeEach(() => mocks.reset());

    it('an AppProject, the enabled Applications, and a destroy guard after the Load Balancer Controller (delete only, kubeconfig secret)', async () => {
        const rec = recordChildOptions();
        const c = new AwsClusterAddons('t', {
            clusterName: pulumi.output('nkp-prod'), vpcId: pulumi.output('vpc-0123'), region: 'eu-central-1', kubernetesVersion: '1.33',
            clusterAutoscaler: input().clusterAutoscaler, nvidiaDevicePlugin: input().nvidiaDevicePlugin, kubeconfig: 'apiVersion: v1\nkind: Config\n',
        }, { transformations: [rec.transformation] });
        await Promise.all(c.applications.map((a) => outputValue(a.urn)));
        await mocks.settle();
        const apps = mocks.ofType('kubernetes:argoproj.io/v1alpha1:Application');
        assert.deepEqual(apps.map((a) => a.plain['metadata'].name).sort(), ['aws-load-balancer-controller', 'cluster-autoscaler', 'nvidia-device-plugin']);
        assert.equal(apps.find((a) => a.plain['metadata'].name === 'aws-load-balancer-controller')!.plain['spec'].source.helm.valuesObject.vpcId, 'vpc-0123');
        assert.equal(mocks.one('kubernetes:argoproj.io/v1alpha1:AppProject').plain['metadata'].name, 'aws-addons');
        const drain = mocks.one('command:local:Command');
        assert.equal(drain.plain['create'], undefined, 'nothing to do on up');
        assert.equal(drain.plain['delete'], 'node components/cloud/wait-lb-services.mjs');
        assert.ok(isSecretMarker(drain.inputs['environment']) || isSecretMarker((drain.inputs['environment'] as Record<string, unknown>)['NKP_KUBECONFIG']), 'kubeconfig passed as a secret');
        const deps = rec.of('command:local:Command', 't-lb-drain').dependsOn as pulumi.Resource[];
        const urns = await Promise.all(deps.map((d) => outputValue(d.urn)));
        assert.ok(urns.some((u) => u.endsWith('::t-app-aws-load-balancer-controller')), 'guard after the controller: deleted before it');
        assert.equal(c.ready.length, 4);
    });

    it('ExternalDNS with Cloudflare: the token only in a kube-system Secret (a Pulumi secret) the Application waits for; refused without a token', async () => {
        const rec = recordChildOptions();
        const args = {
            clusterName: pulumi.output('nkp-prod'), vpcId: pulumi.output('vpc-0123'), region: 'eu-central-1', kubernetesVersion: '1.33',
            clusterAutoscaler: { ...input().clusterAutoscaler, enabled: false }, nvidiaDevicePlugin: { enabled: false, gpuTaints: [] }, kubeconfig: 'kc',
            dns: { provider: 'cloudflare' as const, zoneId: '0123456789abcdef0123456789abcdef', domain: 'nkp.example.com' },
        };
        const c = new AwsClusterAddons('cf', { ...args, cloudflareApiToken: 'cf-token-value' }, { transformations: [rec.transformation] });
        await Promise.all(c.applications.map((a) => outputValue(a.urn)));
        await mocks.settle();
        const secret = mocks.one('kubernetes:core/v1:Secret');
        assert.deepEqual(secret.plain['metadata'], { name: 'external-dns-cloudflare', namespace: 'kube-system', labels: { 'app.kubernetes.io/part-of': 'nkp' } });
        assert.equal(secret.plain['stringData'].apiToken, 'cf-token-value');
        assert.ok(isSecretMarker(secret.inputs['stringData']), 'a Pulumi secret');
        const app = mocks.ofType('kubernetes:argoproj.io/v1alpha1:Application').find((a) => a.plain['metadata'].name === 'external-dns')!;
        assert.ok(!JSON.stringify(app.plain).includes('cf-token-value'), 'the token is not in the Application');
        const deps = await Promise.all((rec.of('kubernetes:argoproj.io/v1alpha1:Application', 'cf-app-external-dns').dependsOn as pulumi.Resource[]).map((d) => outputValue(d.urn)));
        assert.ok(deps.some((u) => u.endsWith('::cf-external-dns-cloudflare')), 'the Application waits for the Secret');
        assert.throws(() => new AwsClusterAddons('nocf', args), /cloudflareApiToken is required with dns\.provider cloudflare/);
    });
});

