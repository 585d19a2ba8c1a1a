import assert from 'node:assert/strict';
import { costGuard } from '../../../policy/policies/cost.js';
import {
    applicationPinnedRevision,
    applicationSelfHeal,
    globMatches,
    packsProjectRestricted,
    revisionUnpinnedReason,
} from '../../../policy/policies/gitops.js';
import { nebariAppPublicAuth } from '../../../policy/policies/nebari.js';
import { messages, runResourcePolicy, runStackPolicy, type StackResourceSpec } from './harness.js';

const app = (name: string, spec: Record<string, unknown>) => ({
    type: 'kubernetes:argoproj.io/v1alpha1:Application', name,
    props: { apiVersion: 'argoproj.io/v1alpha1', kind: 'Application', metadata: { name, namespace: 'argocd' }, spec },
});
const automated = { automated: { prune: true, selfHeal: true } };

describe('policy: GitOps, NebariApp, cost', () => {
    describe('argocd-app-pinned-revision', () => {
        it('classifies revisions', () => {
            for (const ok of ['1.18.2', 'v1.18.2', '26.3.1-rc.1', 'v2.0.0+build.5']) assert.equal(revisionUnpinnedReason(ok, true), undefined, ok);
            assert.equal(revisionUnpinnedReason('0123456789abcdef0123456789abcdef01234567', false), undefined);
            assert.equal(revisionUnpinnedReason('0123456789abcdef0123456789abcdef01234567', true), 'uses the chart version range "0123456789abcdef0123456789abcdef01234567"');
            assert.equal(revisionUnpinnedReason('HEAD', false), 'follows HEAD');
            assert.equal(revisionUnpinnedReason('main', false), 'tracks "main", a branch or moving ref');
            assert.equal(revisionUnpinnedReason('', false), 'has no targetRevision (ArgoCD follows HEAD)');
            assert.equal(revisionUnpinnedReason('^1.18.0', true), 'uses the chart version range "^1.18.0"');
            assert.equal(revisionUnpinnedReason('*', true), 'uses the chart version range "*"');
            assert.equal(revisionUnpinnedReason('1.x', true), 'uses the chart version range "1.x"');
        });
        it('accepts a pinned chart and a git source at a tag / SHA (multi-source)', async () => {
            assert.deepEqual(await messages(runResourcePolicy(applicationPinnedRevision, app('cert-manager', {
                project: 'foundation', source: { repoURL: 'https://charts.jetstack.io', chart: 'cert-manager', targetRevision: 'v1.18.2' }, syncPolicy: automated,
            }))), []);
            assert.deepEqual(await messages(runResourcePolicy(applicationPinnedRevision, app('operator', {
                project: 'foundation', sources: [
                    { repoURL: 'https://github.com/acme/nkp.git', path: 'operator/manifests', targetRevision: 'v0.3.1' },
                    { repoURL: 'https://github.com/acme/values.git', targetRevision: 'a'.repeat(40), ref: 'values' },
                ], syncPolicy: automated,
            }))), []);
        });
        it('rejects a chart range, HEAD and a branch', async () => {
            assert.deepEqual(await messages(runResourcePolicy(applicationPinnedRevision, app('bad', {
                project: 'foundation', sources: [
                    { repoURL: 'https://charts.jetstack.io', chart: 'cert-manager', targetRevision: '1.*' },
                    { repoURL: 'https://github.com/acme/nkp.git', path: 'operator/manifests', targetRevision: 'HEAD' },
                    { repoURL: 'https://github.com/acme/nkp.git', path: 'packs', targetRevision: 'main' },
                ], syncPolicy: automated,
            }))), [
                'Application argocd/bad sources[0] (chart "cert-manager") uses the chart version range "1.*": pin an exact chart version in targetRevision.',
                'Application argocd/bad sources[1] (repo https://github.com/acme/nkp.git) follows HEAD: pin a release tag or a full commit SHA in targetRevision.',
                'Application argocd/bad sources[2] (repo https://github.com/acme/nkp.git) tracks "main", a branch or moving ref: pin a release tag or a full commit SHA in targetRevision.',
            ]);
        });
        it('checks the child Applications an app-of-apps carries in its Helm values (the foundation parent) as strictly', async () => {
            const child = (name: string, source: Record<string, unknown>, syncPolicy: Record<string, unknown> = automated) => ({ apiVersion: 'argoproj.io/v1alpha1', kind: 'Application', metadata: { name, namespace: 'argocd' }, spec: { project: 'foundation', source, syncPolicy } });
            const parent = (children: unknown[]) => app('foundation', {
                project: 'foundation', source: { repoURL: 'https://github.com/acme/nkp.git', path: 'components/foundation/chart', targetRevision: 'v0.1.0', helm: { valuesObject: { applications: children } } }, syncPolicy: automated,
            });
            const good = child('cert-manager', { repoURL: 'https://charts.jetstack.io', chart: 'cert-manager', targetRevision: 'v1.21.2' });
            assert.deepEqual(await messages(runResourcePolicy(applicationPinnedRevision, parent([good]))), []);
            assert.deepEqual(await messages(runResourcePolicy(applicationSelfHeal, parent([good]))), []);
            const floating = child('keycloak', { repoURL: 'https://codecentric.github.io/helm-charts', chart: 'keycloakx', targetRevision: '7.*' });
            assert.deepEqual(await messages(runResourcePolicy(applicationPinnedRevision, parent([good, floating]))), [
                'Application keycloak (a child in Application argocd/foundation\'s values) source (chart "keycloakx") uses the chart version range "7.*": pin an exact chart version in targetRevision.',
            ]);
            const manual = child('nkp-operator', { repoURL: 'https://github.com/acme/nkp.git', path: 'operator/manifests', targetRevision: 'v0.1.0' }, { automated: { prune: true, selfHeal: false } });
            assert.deepEqual(await messages(runResourcePolicy(applicationSelfHeal, parent([manual]))), [
                "Application nkp-operator (a child in Application argocd/foundation's values) syncs automatically without selfHeal: set spec.syncPolicy.automated.selfHeal: true.",
            ]);
        });
        it('config: named Applications (the gitops app-of-apps) may track a branch; charts never', async () => {
            const root = app('packs', { project: 'packs', source: { repoURL: 'https://github.com/acme/gitops.git', path: 'apps', targetRevision: 'main' }, syncPolicy: automated });
            assert.equal((await messages(runResourcePolicy(applicationPinnedRevision, root))).length, 1);
            assert.deepEqual(await messages(runResourcePolicy(applicationPinnedRevision, root, { allowBranchTracking: ['packs'] })), []);
            const chart = app('packs', { project: 'packs', source: { repoURL: 'https://x', chart: 'y', targetRevision: '*' }, syncPolicy: automated });
            assert.equal((await messages(runResourcePolicy(applicationPinnedRevision, chart, { allowBranchTracking: ['packs'] }))).length, 1);
        });
    });

    describe('argocd-app-self-heal', () => {
        it('accepts automated sync with selfHeal', async () => {
            assert.deepEqual(await messages(runResourcePolicy(applicationSelfHeal, app('a', { syncPolicy: automated }))), []);
        });
        it('rejects manual sync, selfHeal off and automated.enabled false', async () => {
            assert.deepEqual(await messages(runResourcePolicy(applicationSelfHeal, app('a', { syncPolicy: { syncOptions: ['ServerSideApply=true'] } }))),
                ['Application argocd/a has no automated sync: set spec.syncPolicy.automated with selfHeal: true.']);
            assert.deepEqual(await messages(runResourcePolicy(applicationSelfHeal, app('a', { syncPolicy: { automated: { prune: true } } }))),
                ['Application argocd/a syncs automatically without selfHeal: set spec.syncPolicy.automated.selfHeal: true.']);
            assert.deepEqual(await messages(runResourcePolicy(applicationSelfHeal, app('a', { syncPolicy: { automated: { enabled: false, selfHeal: true } } }))),
                ['Application argocd/a has no automated sync: set spec.syncPolicy.automated with selfHeal: true.']);
        });
    });

    describe('argocd-packs-project-restricted', () => {
        const project = (name: string, spec: Record<string, unknown>): StackResourceSpec => ({
            type: 'kubernetes:argoproj.io/v1alpha1:AppProject', name: `proj-${name}`, props: { metadata: { name, namespace: 'argocd' }, spec },
        });
        const platformNs: StackResourceSpec = { type: 'kubernetes:core/v1:Namespace', name: 'ns-otel', props: { metadata: { name: 'nkp-otel', labels: { 'app.kubernetes.io/part-of': 'nkp' } } } };
        it('accepts a packs project limited to pack namespaces (other projects are not this policy\'s business)', async () => {
            assert.deepEqual(await messages(runStackPolicy(packsProjectRestricted, [platformNs,
                project('packs', { sourceRepos: ['*'], destinations: [{ server: 'https://kubernetes.default.svc', namespace: 'pack-*' }, { server: 'https://kubernetes.default.svc', namespace: '!kube-system' }], namespaceResourceWhitelist: [{ group: '*', kind: '*' }] }),
                project('foundation', { destinations: [{ server: '*', namespace: '*' }], clusterResourceWhitelist: [{ group: '*', kind: '*' }] }),
            ])), []);
        });
        it('rejects cluster-scoped resources, "*" destinations and globs reaching a labelled platform namespace', async () => {
            assert.deepEqual(await messages(runStackPolicy(packsProjectRestricted, [platformNs,
                project('packs', {
                    clusterResourceWhitelist: [{ group: 'rbac.authorization.k8s.io', kind: 'ClusterRole' }],
                    destinations: [{ server: '*', namespace: '*' }, { server: 'https://kubernetes.default.svc', namespace: 'nkp-*' }, { server: 'https://kubernetes.default.svc', namespace: 'argocd' }],
                }),
            ])), [
                'AppProject "packs" allows cluster-scoped resources (rbac.authorization.k8s.io/ClusterRole): leave clusterResourceWhitelist empty.',
                'AppProject "packs" allows destination cluster "*": name the in-cluster server.',
                'AppProject "packs" allows destination namespace "*": list the packs\' own namespaces.',
                'AppProject "packs" destination namespace "nkp-*" reaches platform namespace(s) nkp-otel: packs must stay out of them.',
                'AppProject "packs" destination namespace "argocd" reaches platform namespace(s) argocd: packs must stay out of them.',
            ]);
        });
        it('config: project name and platform namespaces are the user\'s', async () => {
            const specs = [project('apps', { destinations: [{ server: 'https://kubernetes.default.svc', namespace: 'data' }] })];
            assert.deepEqual(await messages(runStackPolicy(packsProjectRestricted, specs)), []);
            assert.equal((await messages(runStackPolicy(packsProjectRestricted, specs, { projectName: 'apps', platformNamespaces: ['data'] }))).length, 1);
            assert.equal(globMatches('team-?', 'team-a'), true);
            assert.equal(globMatches('team-?', 'team-ab'), false);
        });
    });

    describe('nebariapp-public-auth (advisory)', () => {
        const na = (spec: Record<string, unknown>) => ({
            type: 'kubernetes:reconcilers.nebari.dev/v1:NebariApp', name: 'landing',
            props: { apiVersion: 'reconcilers.nebari.dev/v1', kind: 'NebariApp', metadata: { name: 'landing', namespace: 'nkp-landing' }, spec },
        });
        const base = { hostname: 'nkp.example.com', service: { name: 'landing', port: 80 }, routing: { routes: [{ pathPrefix: '/' }] } };
        it('is advisory', () => assert.equal(nebariAppPublicAuth.enforcementLevel, 'advisory'));
        it('accepts a public app with auth, an internal app without, and an app without routing', async () => {
            assert.deepEqual(await messages(runResourcePolicy(nebariAppPublicAuth, na({ ...base, auth: { enabled: true } }))), []);
            assert.deepEqual(await messages(runResourcePolicy(nebariAppPublicAuth, na({ ...base, gateway: 'internal' }))), []);
            assert.deepEqual(await messages(runResourcePolicy(nebariAppPublicAuth, na({ hostname: 'x.example.com', service: { name: 'x', port: 80 } }))), []);
        });
        it('flags a public-gateway app (gateway absent or public) with auth disabled', async () => {
            const expected = ['NebariApp nkp-landing/landing is served on the public gateway without login: set spec.auth.enabled: true, or spec.gateway: internal if it is not meant for the internet.'];
            assert.deepEqual(await messages(runResourcePolicy(nebariAppPublicAuth, na(base))), expected);
            assert.deepEqual(await messages(runResourcePolicy(nebariAppPublicAuth, na({ ...base, gateway: 'public', auth: { enabled: false } }))), expected);
        });
    });

    describe('cost-guard', () => {
        const ng = (name: string, maxSize: number, instanceTypes: string[]): StackResourceSpec => ({
            type: 'aws:eks/nodeGroup:NodeGroup', name, props: { scalingConfig: { minSize: 1, maxSize, desiredSize: 1 }, instanceTypes },
        });
        it('accepts node groups and servers within the limits', async () => {
            assert.deepEqual(await messages(runStackPolicy(costGuard, [
                ng('general', 6, ['m6i.xlarge']),
                { type: 'eks:index:ManagedNodeGroup', name: 'gpu', props: { scalingConfig: { minSize: 0, maxSize: 2, desiredSize: 0 }, instanceTypes: ['g5.xlarge'] } },
                { type: 'eks:index:Cluster', name: 'c', props: { skipDefaultNodeGroup: true } },
                { type: 'hcloud:index/server:Server', name: 'cp-0', props: { serverType: 'cx32' } },
            ], { maxNodeInstances: 9 })), []);
        });
        it('rejects a stack over maxNodeInstances and disallowed instance / server types', async () => {
            const r = await runStackPolicy(costGuard, [
                ng('general', 8, ['m6i.xlarge', 'p4d.24xlarge']),
                { type: 'eks:index:Cluster', name: 'c', props: {} },
                { type: 'hcloud:index/server:Server', name: 'big', props: { serverType: 'ccx63' } },
            ], { maxNodeInstances: 10, allowedInstanceTypes: ['m6i.xlarge'], allowedServerTypes: ['cx32'] });
            assert.deepEqual(r.violations.map((v) => v.message), [
                'NodeGroup "general" uses instance type(s) p4d.24xlarge, not in this policy\'s allowedInstanceTypes (m6i.xlarge): pick an allowed type or extend the list in the policy config.',
                'Cluster "c" uses instance type(s) t2.medium, not in this policy\'s allowedInstanceTypes (m6i.xlarge): pick an allowed type or extend the list in the policy config.',
                'Server "big" uses server type(s) ccx63, not in this policy\'s allowedServerTypes (cx32): pick an allowed type or extend the list in the policy config.',
                'The stack can scale to 11 nodes (NodeGroup "general", Cluster "c", Server "big"), over maxNodeInstances 10: lower node group maxSize or raise maxNodeInstances in the policy config.',
            ]);
            assert.equal(r.violations[3]!.urn, undefined, 'the total is a stack-wide violation');
        });
    });
});
