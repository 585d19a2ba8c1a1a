// The per-app HTTPS design end to end on the real control plane, with the platform's own objects: the local stack's
// gateway configuration and landing page as Argo CD renders them (real kustomize), created for real, and the REAL
// operator (in-process) configured with the env of the operator Deployment Argo CD would run. The operator must
// serve the landing page's hostname through a ListenerSet + Certificate in the app's namespace, attached to the
// GitOps-owned `public` Gateway, without ever writing to that Gateway (so Argo CD never sees it out of sync).
// No gateway controller and no cert-manager run here: whether Envoy Gateway accepts the listener is not observed.
import { strict as assert } from 'node:assert';
import { sharedControlPlane, type ControlPlane } from '../../harness/control-plane.js';
import { OPERATOR_DEPLOYMENT, LANDING } from '../../../components/foundation/spec.js';
import { loadConfig } from '../../../operator/src/config.js';
import { Operator } from '../../../operator/src/reconciler-controller.js';
import { silentLogger } from '../../../operator/src/runtime/logger.js';
import { OperatorMetrics } from '../../../operator/src/runtime/metrics.js';
import { settingsForStack } from '../../../stacks/stack-files.js';
import { KubeApi, describeRejections, type KubeObject } from './kube-api.js';
import { renderSource, withDestinationNamespace } from './kustomize.js';
import { foundationChildren, stackObjects } from './pulumi-objects.js';

/* eslint-disable @typescript-eslint/no-explicit-any -- objects read back from the API server are untyped JSON */

const STACK = 'local';
const FIELD_MANAGER = 'argocd-controller';

async function eventually<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        const v = await fn();
        if (v !== undefined) return v;
        if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 200));
    }
}

describe('platform (integration): per-app HTTPS through a ListenerSet on the GitOps-owned Gateway', function () {
    this.timeout(180_000);
    const s = settingsForStack(STACK);
    let cp: ControlPlane;
    let api: KubeApi;
    let operator: Operator | undefined;
    let created: KubeObject[] = [];
    let landingApp: any;
    const get = async (path: string) => {
        const r = await api.request('GET', path);
        return r.status === 200 ? JSON.parse(r.body) : undefined;
    };

    before(async function () {
        this.timeout(600_000);
        cp = await sharedControlPlane();
        api = new KubeApi(cp.kubeConfig());
        const { objects } = await stackObjects(STACK);
        assert.equal(describeRejections(await api.applyAll(objects.filter((o) => o.kind === 'Namespace'), { fieldManager: 'pulumi-kubernetes', dryRun: false })), '');
        const render = async (name: string) => {
            const app = foundationChildren(objects).find((o) => o.metadata.name === name) as any;
            return withDestinationNamespace(renderSource(app.spec.source), app.spec.destination.namespace, async (o) => (await api.resource(o.apiVersion, o.kind)).namespaced);
        };
        const gatewayConfig = await render('gateway-config');
        const landing = (await render('nkp-landing')).filter((o) => ['NebariApp', 'Service', 'ServiceAccount'].includes(o.kind));
        const operatorDeployment = (await render('nkp-operator')).find((o) => o.kind === 'Deployment' && o.metadata.name === OPERATOR_DEPLOYMENT.name) as any;
        landingApp = landing.find((o) => o.kind === 'NebariApp');

        created = [...gatewayConfig, ...landing];
        assert.equal(describeRejections(await api.applyAll(created, { fieldManager: FIELD_MANAGER, dryRun: false })), '');

        // The operator as its Deployment configures it (plain env values), with what a pod would get from the
        // downward API and the test's own process settings (metrics on loopback, one replica, quiet logs).
        const container = operatorDeployment.spec.template.spec.containers.find((c: any) => c.name === OPERATOR_DEPLOYMENT.container);
        const env: Record<string, string> = Object.fromEntries(container.env.filter((e: any) => typeof e.value === 'string').map((e: any) => [e.name, e.value]));
        Object.assign(env, { POD_NAME: 'nebari-operator-test', POD_NAMESPACE: operatorDeployment.metadata.namespace, METRICS_ADDRESS: '127.0.0.1:0', LEADER_ELECTION: 'false', LOG_LEVEL: 'error' });
        operator = new Operator({ settings: loadConfig(env, []), kubeConfig: cp.kubeConfig(), log: silentLogger, metrics: new OperatorMetrics(), serveHttp: false });
        await operator.start();
    });

    after(async function () {
        this.timeout(120_000);
        if (!api) return;
        if (landingApp) {
            // The operator's finalizer cleans up first; then the rest goes.
            await api.request('DELETE', await api.objectPath(landingApp));
            await eventually('the landing NebariApp to be gone', async () => ((await get(await api.objectPath(landingApp))) === undefined ? true : undefined), 60_000);
        }
        await operator?.stop();
        for (const o of [...created].reverse()) if (o.kind !== 'NebariApp') await api.request('DELETE', await api.objectPath(o));
    });

    it('the landing page gets a ListenerSet and a Certificate in its own namespace; the Gateway is never written', async () => {
        const gatewayPath = '/apis/gateway.networking.k8s.io/v1/namespaces/envoy-gateway-system/gateways/public';
        const before = await get(gatewayPath);
        const ns = landingApp.metadata.namespace;

        const listenerSets = await eventually('a ListenerSet for the landing page', async () => {
            const list = await get(`/apis/gateway.networking.k8s.io/v1/namespaces/${ns}/listenersets`);
            return list?.items?.length > 0 ? list.items : undefined;
        });
        assert.equal(listenerSets.length, 1);
        const ls = listenerSets[0];
        assert.deepEqual({ ...ls.spec.parentRef }, { group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'public', namespace: 'envoy-gateway-system' });
        assert.equal(ls.spec.listeners.length, 1);
        assert.equal(ls.spec.listeners[0].hostname, s.hostnames.landing);
        assert.equal(ls.spec.listeners[0].protocol, 'HTTPS');
        assert.equal(ls.spec.listeners[0].port, 443);

        const certs = await eventually('a Certificate for the landing page', async () => {
            const list = await get(`/apis/cert-manager.io/v1/namespaces/${ns}/certificates`);
            return list?.items?.length > 0 ? list.items : undefined;
        });
        assert.deepEqual(certs[0].spec.dnsNames, [s.hostnames.landing]);
        assert.equal(certs[0].spec.issuerRef.name, s.tls.issuer, 'the stack\'s ClusterIssuer (from the operator Deployment\'s patched env)');
        assert.equal(certs[0].spec.secretName, ls.spec.listeners[0].tls.certificateRefs[0].name, 'the listener serves the certificate\'s Secret, same namespace');

        const routes = await eventually('the landing page HTTPRoute', async () => {
            const list = await get(`/apis/gateway.networking.k8s.io/v1/namespaces/${ns}/httproutes`);
            return list?.items?.length > 0 ? list.items : undefined;
        });
        assert.ok(
            routes.every((r: any) => r.spec.parentRefs.every((p: any) => p.kind === 'ListenerSet' && p.name === ls.metadata.name)),
            'routes attach to the app\'s ListenerSet, not to the Gateway',
        );

        // The namespace may attach ListenerSets: it carries the label the Gateway's allowedListeners selects.
        const nsObj = await get(`/api/v1/namespaces/${ns}`);
        const gw = await get(gatewayPath);
        for (const [k, v] of Object.entries(gw.spec.allowedListeners.namespaces.selector.matchLabels)) assert.equal(nsObj.metadata.labels[k], v, `namespace ${ns} has ${k}=${v}`);

        // Nobody but Argo CD's field manager ever wrote the Gateway's spec: same generation, no other manager.
        assert.equal(gw.metadata.generation, before.metadata.generation);
        assert.deepEqual(
            gw.metadata.managedFields.filter((m: any) => m.subresource !== 'status').map((m: any) => m.manager),
            [FIELD_MANAGER],
        );
        assert.equal(LANDING.nebariApp, landingApp.metadata.name);
    });
});
