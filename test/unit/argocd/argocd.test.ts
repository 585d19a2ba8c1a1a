/* eslint-disable @typescript-eslint/no-explicit-any -- assertions walk untyped Kubernetes / Helm bodies recorded by the mocks */
import { strict as assert } from 'node:assert';
import { parse } from 'yaml';
import { isSecretMarker, setupPulumiMocks, type RecordingMocks } from '../pulumi-mocks.js';
import {
    ARGOCD_CHART,
    argocdValues,
    assertPackNamespaces,
    foundationProject,
    packCatalogProject,
    packsProject,
    rbacPolicyCsv,
    repositorySecretData,
    rootApplication,
} from '../../../components/argocd/spec.js';
import { NS, PLATFORM_NAMESPACE_NAMES } from '../../../components/cluster/namespaces.js';
import { standInCa } from '../foundation/local-ca-stand-in.js';

const VALUES_INPUT = { hostname: 'argocd.example.com', issuerURL: 'https://keycloak.example.com/realms/nebari', adminGroups: ['admins'], viewerGroups: ['viewers', 'developers'], ha: false };

describe('ArgoCD: pure helpers', () => {
    it('pins the argo-cd chart to an exact version from the official repository', () => {
        assert.match(ARGOCD_CHART.version, /^\d+\.\d+\.\d+$/);
        assert.equal(ARGOCD_CHART.repo, 'https://argoproj.github.io/argo-helm');
    });

    it('signs in through Keycloak only: client argocd, secret by reference, Dex and the local admin off', () => {
        const v = argocdValues(VALUES_INPUT) as any;
        const oidc = parse(v.configs.cm['oidc.config']);
        assert.equal(oidc.issuer, VALUES_INPUT.issuerURL);
        assert.equal(oidc.clientID, 'argocd');
        assert.equal(oidc.clientSecret, '$argocd-oidc-client:clientSecret');
        assert.equal(oidc.enablePKCEAuthentication, true, 'Keycloak requires PKCE (S256) of the argocd client: Argo CD must send a code challenge');
        assert.equal(v.dex.enabled, false);
        assert.equal(v.configs.cm['admin.enabled'], false);
        assert.equal(v.configs.cm.url, 'https://argocd.example.com');
        assert.equal(v.configs.rbac['policy.default'], '');
        assert.equal(v.configs.rbac.scopes, '[groups]');
        assert.equal(v.configs.params['application.namespaces'], NS.packApps);
        assert.equal(v.configs.params['controller.diff.server.side'], true, 'server-side diff: CRD defaults are no difference');
    });

    it('trusts the local CA for OIDC exactly when one is given (oidc.config rootCA); anything but a PEM certificate is refused', () => {
        const ca = standInCa().certPem;
        const withCa = parse((argocdValues({ ...VALUES_INPUT, rootCA: ca }) as any).configs.cm['oidc.config']);
        assert.equal(withCa.rootCA, ca);
        assert.equal(withCa.issuer, VALUES_INPUT.issuerURL);
        assert.equal('rootCA' in parse((argocdValues(VALUES_INPUT) as any).configs.cm['oidc.config']), false, 'public issuers use the system trust store');
        assert.throws(() => argocdValues({ ...VALUES_INPUT, rootCA: standInCa().privateKeyPem }), /oidc rootCA must be a PEM certificate/);
        assert.throws(() => argocdValues({ ...VALUES_INPUT, rootCA: '' }), /oidc rootCA must be a PEM certificate/);
    });

    it('maps admins to role:admin and viewers to role:readonly', () => {
        assert.equal(rbacPolicyCsv(['admins'], ['viewers', 'developers']), 'g, admins, role:admin\ng, viewers, role:readonly\ng, developers, role:readonly\n');
        assert.throws(() => rbacPolicyCsv(['ad,mins'], []), /ad,mins.*policy\.csv/);
    });

    it('sets requests and limits on every ArgoCD component, and HA doubles the stateless ones', () => {
        const v = argocdValues(VALUES_INPUT) as any;
        for (const c of ['controller', 'server', 'repoServer', 'applicationSet', 'notifications', 'redis', 'redisSecretInit']) {
            assert.ok(v[c].resources.limits.cpu && v[c].resources.limits.memory, `${c} limits`);
            assert.ok(v[c].resources.requests.cpu && v[c].resources.requests.memory, `${c} requests`);
        }
        assert.equal(v.server.replicas, 1);
        const ha = argocdValues({ ...VALUES_INPUT, ha: true }) as any;
        assert.equal(ha.server.replicas, 2);
        assert.equal(ha.repoServer.replicas, 2);
    });

    it('packs project: only pack namespaces, no cluster-scoped resources, Applications only from nkp-pack-apps', () => {
        const p = packsProject({ namespaces: ['pack-*', 'team-data'], gitopsRepoURL: 'https://git.example.com/gitops.git', sourceRepos: ['https://charts.example.com'] });
        assert.deepEqual(p.spec.clusterResourceWhitelist, []);
        assert.deepEqual(p.spec.destinations.map((d) => d.namespace), ['pack-*', 'team-data']);
        for (const d of p.spec.destinations) assert.ok(!PLATFORM_NAMESPACE_NAMES.includes(d.namespace));
        assert.deepEqual(p.spec.sourceNamespaces, [NS.packApps]);
        assert.deepEqual(p.spec.sourceRepos, ['https://git.example.com/gitops.git', 'https://charts.example.com']);
    });

    it('refuses pack destinations that reach platform or system namespaces, or everything', () => {
        for (const bad of ['*', 'argocd', 'nkp-*', 'kube-system', 'cert-*', 'default']) {
            assert.throws(() => assertPackNamespaces([bad]), /packs AppProject destination/, bad);
        }
        assert.doesNotThrow(() => assertPackNamespaces(['pack-*', 'team-a']));
    });

    it('foundation project: platform namespaces only (not the pack-apps namespace); catalog project: Applications only', () => {
        const f = foundationProject(['https://b', 'https://a', 'https://a']);
        assert.deepEqual(f.spec.sourceRepos, ['https://a', 'https://b']);
        assert.ok(!f.spec.destinations.some((d) => d.namespace === NS.packApps));
        assert.equal(f.spec.sourceNamespaces, undefined, 'no Application outside argocd may use the foundation project');
        const c = packCatalogProject('https://git.example.com/gitops.git');
        assert.deepEqual(c.spec.namespaceResourceWhitelist, [{ group: 'argoproj.io', kind: 'Application' }]);
        assert.deepEqual(c.spec.destinations, [{ server: 'https://kubernetes.default.svc', namespace: NS.packApps }]);
        assert.deepEqual(c.spec.clusterResourceWhitelist, []);
    });

    it('root app-of-apps reads the gitops path at the pinned revision with automated prune + self-heal', () => {
        const app = rootApplication({ repoURL: 'https://git.example.com/gitops.git', revision: 'v1.2.3', path: 'clusters/prod/packs' });
        assert.equal(app.spec.source.targetRevision, 'v1.2.3');
        assert.equal(app.spec.source.path, 'clusters/prod/packs');
        assert.deepEqual(app.spec.syncPolicy.automated, { prune: true, selfHeal: true });
        assert.ok(app.spec.syncPolicy.syncOptions.includes('ServerSideApply=true'));
        assert.equal(app.spec.project, 'pack-catalog');
    });

    it('repository Secret data carries exactly the configured credentials', () => {
        assert.deepEqual(repositorySecretData('https://g/x.git', { kind: 'none' }), { type: 'git', name: 'gitops', url: 'https://g/x.git' });
        assert.deepEqual(repositorySecretData('https://g/x.git', { kind: 'https', username: 'bot', password: 'p' }), { type: 'git', name: 'gitops', url: 'https://g/x.git', username: 'bot', password: 'p' });
        assert.deepEqual(Object.keys(repositorySecretData('git@g:x.git', { kind: 'ssh', sshPrivateKey: 'k' })).sort(), ['name', 'sshPrivateKey', 'type', 'url']);
    });
});

describe('ArgoCD component (Pulumi mocks)', () => {
    let mocks: RecordingMocks;
    let mod: typeof import('../../../components/argocd/index.js');
    let pulumi: typeof import('@pulumi/pulumi');
    before(async () => {
        mocks = await setupPulumiMocks();
        mod = await import('../../../components/argocd/index.js');
        pulumi = await import('@pulumi/pulumi');
    });
    beforeEach(() => mocks.reset());

    async function build(credentials: import('../../../components/argocd/spec.js').RepoCredentials<any>) {
        const a = new mod.ArgoCD('argocd', {
            hostname: 'argocd.example.com',
            oidc: { issuerURL: 'https://keycloak.example.com/realms/nebari', clientSecret: pulumi.secret('oidc-secret-value'), adminGroups: ['admins'], viewerGroups: ['viewers'] },
            gitops: { repoURL: 'https://git.example.com/gitops.git', revision: 'v2.0.0', path: 'packs', credentials },
            packs: { namespaces: ['pack-*'], sourceRepos: [] },
            foundationSourceRepos: ['https://charts.jetstack.io'],
        });
        await mocks.settle();
        return a;
    }

    it('installs the pinned chart as one Helm v4 Chart with our values', async () => {
        await build({ kind: 'none' });
        const chart = mocks.one('kubernetes:helm.sh/v4:Chart');
        assert.equal(chart.plain.chart, 'argo-cd');
        assert.equal(chart.plain.version, ARGOCD_CHART.version);
        assert.equal(chart.plain.repositoryOpts.repo, ARGOCD_CHART.repo);
        assert.equal(chart.plain.namespace, 'argocd');
        assert.equal(chart.plain.values.dex.enabled, false);
        assert.match(chart.plain.values.configs.rbac['policy.csv'], /g, admins, role:admin/);
    });

    it('keeps the OIDC client secret and the repository password secret', async () => {
        await build({ kind: 'https', username: 'bot', password: pulumi.secret('repo-token-value') });
        const secrets = mocks.ofType('kubernetes:core/v1:Secret');
        const oidc = secrets.find((s) => s.plain.metadata.name === 'argocd-oidc-client')!;
        assert.equal(oidc.plain.metadata.labels['app.kubernetes.io/part-of'], 'argocd');
        assert.ok(isSecretMarker(oidc.inputs.stringData) || isSecretMarker((oidc.inputs.stringData as any).clientSecret), 'OIDC secret value is a Pulumi secret');
        const repo = secrets.find((s) => s.plain.metadata.name === 'gitops-repository')!;
        assert.equal(repo.plain.metadata.labels['argocd.argoproj.io/secret-type'], 'repository');
        assert.ok(isSecretMarker(repo.inputs.stringData), 'repository stringData is a Pulumi secret');
        assert.equal(repo.plain.stringData.password, 'repo-token-value');
        assert.equal(repo.plain.stringData.username, 'bot');
    });

    it('creates the three AppProjects after the chart and the root Application', async () => {
        await build({ kind: 'none' });
        const projects = mocks.ofType('kubernetes:argoproj.io/v1alpha1:AppProject');
        assert.deepEqual(projects.map((p) => p.plain.metadata.name).sort(), ['foundation', 'pack-catalog', 'packs']);
        const packs = projects.find((p) => p.plain.metadata.name === 'packs')!;
        assert.deepEqual(packs.plain.spec.clusterResourceWhitelist, []);
        const root = mocks.one('kubernetes:argoproj.io/v1alpha1:Application');
        assert.equal(root.plain.spec.source.targetRevision, 'v2.0.0');
        assert.equal(root.plain.spec.destination.namespace, NS.packApps);
    });
});
