import assert from 'node:assert/strict';
import {
    imageUnpinnedReason,
    imagesPinned,
    namespaceDefaultDeny,
    noLoadBalancerOutsideGateway,
    nonRootContainers,
    resourceLimits,
} from '../../../policy/policies/kubernetes.js';
import { messages, runResourcePolicy, runStackPolicy, UNKNOWN, type StackResourceSpec } from './harness.js';

const goodContainer = {
    name: 'app',
    image: 'ghcr.io/nebari-dev/landing:1.2.3',
    resources: { limits: { cpu: '500m', memory: '256Mi' }, requests: { cpu: '100m', memory: '128Mi' } },
    securityContext: { runAsNonRoot: true, allowPrivilegeEscalation: false },
};
const deployment = (containers: unknown[], podSecurityContext?: unknown) => ({
    type: 'kubernetes:apps/v1:Deployment', name: 'landing',
    props: {
        apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'landing', namespace: 'nkp-landing' },
        spec: { selector: { matchLabels: { app: 'l' } }, template: { metadata: { labels: { app: 'l' } }, spec: { containers, ...(podSecurityContext ? { securityContext: podSecurityContext } : {}) } } },
    },
});

describe('policy: Kubernetes', () => {
    describe('k8s-namespace-default-deny', () => {
        const ns = (name: string, labels: Record<string, string>): StackResourceSpec => ({
            type: 'kubernetes:core/v1:Namespace', name: `ns-${name}`, props: { metadata: { name, labels } },
        });
        const np = (name: string, namespace: string, spec: unknown, deps?: string[]): StackResourceSpec => ({
            type: 'kubernetes:networking.k8s.io/v1:NetworkPolicy', name, props: { metadata: { name: 'default-deny', namespace }, spec }, ...(deps ? { deps: { metadata: deps } } : {}),
        });
        const deny = { podSelector: {}, policyTypes: ['Ingress'] };
        it('accepts platform namespaces with a default-deny policy (by name, or by dependency while the name is computed)', async () => {
            assert.deepEqual(await messages(runStackPolicy(namespaceDefaultDeny, [
                ns('argocd', { 'app.kubernetes.io/part-of': 'nkp' }),
                np('argocd-deny', 'argocd', deny),
                { type: 'kubernetes:core/v1:Namespace', name: 'ns-auto', props: { metadata: { labels: { 'app.kubernetes.io/part-of': 'nkp' } } } },
                np('auto-deny', UNKNOWN, { podSelector: { matchLabels: {} }, policyTypes: ['Ingress', 'Egress'], egress: [{}] }, ['ns-auto']),
                ns('team-a', {}),
            ])), []);
        });
        it('rejects a platform namespace without one, or whose only policy allows ingress or selects some pods', async () => {
            const r = await runStackPolicy(namespaceDefaultDeny, [
                ns('keycloak', { 'app.kubernetes.io/part-of': 'nkp' }),
                np('kc-allow', 'keycloak', { podSelector: {}, policyTypes: ['Ingress'], ingress: [{ from: [{ namespaceSelector: {} }] }] }),
                np('kc-some', 'keycloak', { podSelector: { matchLabels: { app: 'kc' } }, policyTypes: ['Ingress'] }),
                ns('argocd', { 'app.kubernetes.io/part-of': 'nkp' }),
            ]);
            assert.deepEqual(r.violations.map((v) => v.message), [
                'Platform namespace "keycloak" has no default-deny NetworkPolicy: add one with podSelector {}, policyTypes ["Ingress"] and no ingress rules, then allow what the namespace needs explicitly.',
                'Platform namespace "argocd" has no default-deny NetworkPolicy: add one with podSelector {}, policyTypes ["Ingress"] and no ingress rules, then allow what the namespace needs explicitly.',
            ]);
            assert.match(r.violations[0]!.urn!, /Namespace::ns-keycloak$/);
        });
        it('config: the platform label is the user\'s', async () => {
            const specs = [ns('x', { tier: 'platform' })];
            assert.deepEqual(await messages(runStackPolicy(namespaceDefaultDeny, specs)), []);
            assert.equal((await messages(runStackPolicy(namespaceDefaultDeny, specs, { platformLabel: 'tier', platformLabelValue: 'platform' }))).length, 1);
        });
    });

    describe('k8s-image-pinned', () => {
        it('accepts version tags, registry ports and digests', async () => {
            assert.equal(imageUnpinnedReason('registry.local:5000/nkp/operator:0.3.1', ['latest']), undefined);
            assert.equal(imageUnpinnedReason('busybox@sha256:' + 'a'.repeat(64), ['latest']), undefined);
            assert.deepEqual(await messages(runResourcePolicy(imagesPinned, deployment([goodContainer]))), []);
        });
        it('rejects :latest, a missing tag (registry port is not a tag) and an empty tag', async () => {
            assert.equal(imageUnpinnedReason('registry.local:5000/nkp/operator', ['latest']), 'has no tag (Kubernetes pulls :latest)');
            assert.equal(imageUnpinnedReason('nginx:', ['latest']), 'has an empty tag');
            assert.deepEqual(await messages(runResourcePolicy(imagesPinned, {
                type: 'kubernetes:batch/v1:CronJob', name: 'backup',
                props: { metadata: { name: 'backup', namespace: 'keycloak' }, spec: { schedule: '@daily', jobTemplate: { spec: { template: { spec: {
                    initContainers: [{ name: 'init', image: 'busybox' }], containers: [{ name: 'dump', image: 'postgres:latest' }] } } } } } },
            })), [
                'CronJob keycloak/backup initContainer "init" image "busybox" has no tag (Kubernetes pulls :latest): pin a version tag or a @sha256 digest.',
                'CronJob keycloak/backup container "dump" image "postgres:latest" uses the floating tag :latest: pin a version tag or a @sha256 digest.',
            ]);
        });
        it('config: forbidden tags are the user\'s', async () => {
            assert.equal((await messages(runResourcePolicy(imagesPinned, deployment([{ ...goodContainer, image: 'x/y:stable' }]), { forbiddenTags: ['latest', 'stable'] }))).length, 1);
        });
    });

    describe('k8s-resource-limits', () => {
        it('accepts cpu and memory limits', async () => {
            assert.deepEqual(await messages(runResourcePolicy(resourceLimits, deployment([goodContainer]))), []);
        });
        it('rejects missing limits', async () => {
            assert.deepEqual(await messages(runResourcePolicy(resourceLimits, deployment([{ ...goodContainer, resources: { limits: { memory: '1Gi' } } }]))),
                ['Deployment nkp-landing/landing container "app" has no resources.limits.cpu: set a limit for each.']);
            assert.deepEqual(await messages(runResourcePolicy(resourceLimits, { type: 'kubernetes:core/v1:Pod', name: 'p', props: { metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'a:1' }] } } })),
                ['Pod p container "c" has no resources.limits.cpu / memory: set a limit for each.']);
        });
        it('config: required limits are the user\'s', async () => {
            assert.deepEqual(await messages(runResourcePolicy(resourceLimits, deployment([{ ...goodContainer, resources: { limits: { memory: '1Gi' } } }]), { requiredLimits: ['memory'] })), []);
        });
    });

    describe('k8s-non-root', () => {
        it('accepts non-root containers (own or pod securityContext) without privilege escalation', async () => {
            assert.deepEqual(await messages(runResourcePolicy(nonRootContainers, deployment([goodContainer]))), []);
            assert.deepEqual(await messages(runResourcePolicy(nonRootContainers, deployment([{ ...goodContainer, securityContext: { allowPrivilegeEscalation: false } }], { runAsUser: 1000 }))), []);
        });
        it('rejects root, escalation and privileged containers', async () => {
            assert.deepEqual(await messages(runResourcePolicy(nonRootContainers, {
                type: 'kubernetes:apps/v1:DaemonSet', name: 'agent',
                props: { metadata: { name: 'agent', namespace: 'monitoring' }, spec: { template: { spec: { securityContext: { runAsNonRoot: true }, containers: [
                    { name: 'ok', image: 'a:1', securityContext: { allowPrivilegeEscalation: false } },
                    { name: 'root', image: 'a:1', securityContext: { runAsUser: 0, allowPrivilegeEscalation: false } },
                    { name: 'priv', image: 'a:1', securityContext: { privileged: true } },
                ] } } } },
            })), [
                'DaemonSet monitoring/agent container "root" may run as root (set securityContext.runAsNonRoot: true, runAsUser > 0).',
                'DaemonSet monitoring/agent container "priv" allows privilege escalation (set securityContext.allowPrivilegeEscalation: false); is privileged (remove securityContext.privileged).',
            ]);
            assert.deepEqual(await messages(runResourcePolicy(nonRootContainers, deployment([{ name: 'bare', image: 'a:1' }]))), [
                'Deployment nkp-landing/landing container "bare" may run as root (set securityContext.runAsNonRoot: true, runAsUser > 0); allows privilege escalation (set securityContext.allowPrivilegeEscalation: false).',
            ]);
        });
    });

    describe('k8s-loadbalancer-only-gateway', () => {
        const svc = (namespace: string | undefined, type: string) => ({
            type: 'kubernetes:core/v1:Service', name: 's',
            props: { metadata: { name: 'envoy', ...(namespace ? { namespace } : {}) }, spec: { type, ports: [{ port: 443 }] } },
        });
        it('accepts a LoadBalancer in the gateway namespace and ClusterIP elsewhere', async () => {
            assert.deepEqual(await messages(runResourcePolicy(noLoadBalancerOutsideGateway, svc('envoy-gateway-system', 'LoadBalancer'))), []);
            assert.deepEqual(await messages(runResourcePolicy(noLoadBalancerOutsideGateway, svc('keycloak', 'ClusterIP'))), []);
        });
        it('rejects a LoadBalancer anywhere else (the default namespace included)', async () => {
            assert.deepEqual(await messages(runResourcePolicy(noLoadBalancerOutsideGateway, svc(undefined, 'LoadBalancer'))), [
                'Service envoy is of type LoadBalancer in namespace "default": only "envoy-gateway-system" may expose LoadBalancers; route it through the gateway (HTTPRoute/NebariApp) instead.',
            ]);
        });
        it('config: the gateway namespace is the user\'s', async () => {
            assert.deepEqual(await messages(runResourcePolicy(noLoadBalancerOutsideGateway, svc('traefik', 'LoadBalancer'), { gatewayNamespace: 'traefik' })), []);
        });
    });
});
