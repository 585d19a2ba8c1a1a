// The cluster baseline's RBAC for real: the local stack's ClusterRoles and ClusterRoleBindings (bound to OIDC
// groups with the stack's prefix, exactly as Pulumi creates them) applied to the real kube-apiserver, then
// requests as client-certificate users carrying those groups (the API server's OIDC authenticator would hand it
// the same prefixed groups; a certificate is how the harness names a user).
import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { sharedControlPlane, type ControlPlane } from '../../harness/control-plane.js';
import { PLATFORM_ADMIN_ROLE, PLATFORM_VIEWER_ROLE } from '../../../components/cluster/baseline.js';
import { settingsForStack } from '../../../stacks/stack-files.js';
import { KubeApi, describeRejections, type KubeObject } from './kube-api.js';
import { stackObjects } from './pulumi-objects.js';

const FIELD_MANAGER = 'pulumi-kubernetes';

describe('platform (integration): baseline RBAC bound to OIDC groups, enforced by the real API server', function () {
    this.timeout(120_000);
    const settings = settingsForStack('local');
    const prefix = settings.clusterAccess.oidcGroupsPrefix;
    const ns = `rbac-${randomBytes(3).toString('hex')}`;
    let cp: ControlPlane;
    let admin: KubeApi;
    let rbacObjects: KubeObject[];

    const as = async (user: string, groups: string[]) => new KubeApi(await cp.userKubeConfig(user, groups));

    before(async function () {
        this.timeout(600_000);
        cp = await sharedControlPlane();
        admin = new KubeApi(cp.kubeConfig());
        rbacObjects = (await stackObjects('local')).objects.filter((o) => o.kind === 'ClusterRole' || o.kind === 'ClusterRoleBinding');
        assert.deepEqual(rbacObjects.map((o) => `${o.kind}/${o.metadata.name}`).sort(), [
            `ClusterRole/${PLATFORM_ADMIN_ROLE}`,
            `ClusterRole/${PLATFORM_VIEWER_ROLE}`,
            `ClusterRoleBinding/${PLATFORM_ADMIN_ROLE}`,
            `ClusterRoleBinding/${PLATFORM_VIEWER_ROLE}`,
        ].sort());
        assert.equal(describeRejections(await admin.applyAll(rbacObjects, { fieldManager: FIELD_MANAGER, dryRun: false })), '');
        const fixtures: KubeObject[] = [
            { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } },
            { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db', namespace: ns }, stringData: { password: 'not-for-viewers' } },
            { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings', namespace: ns }, data: { a: 'b' } },
            {
                apiVersion: 'apps/v1',
                kind: 'Deployment',
                metadata: { name: 'web', namespace: ns },
                spec: { selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'registry.example/web:1' }] } } },
            },
            { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web-0', namespace: ns, labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'registry.example/web:1' }] } },
        ];
        assert.equal(describeRejections(await admin.applyAll(fixtures, { fieldManager: 'rbac-test', dryRun: false })), '');
    });

    after(async () => {
        if (!admin) return;
        await admin.request('DELETE', `/api/v1/namespaces/${ns}`);
        for (const o of rbacObjects ?? []) await admin.request('DELETE', await admin.objectPath(o));
    });

    it('the bindings name the stack\'s groups with the API server\'s OIDC prefix', () => {
        const subjects = (name: string) => (rbacObjects.find((o) => o.kind === 'ClusterRoleBinding' && o.metadata.name === name) as unknown as { subjects: { kind: string; name: string }[] }).subjects;
        assert.deepEqual(subjects(PLATFORM_ADMIN_ROLE).map((s) => `${s.kind}:${s.name}`), settings.clusterAccess.adminGroups.map((g) => `Group:${prefix}${g}`));
        assert.deepEqual(subjects(PLATFORM_VIEWER_ROLE).map((s) => `${s.kind}:${s.name}`), settings.clusterAccess.viewerGroups.map((g) => `Group:${prefix}${g}`));
    });

    for (const group of settings.clusterAccess.viewerGroups) {
        it(`a viewer (group ${prefix}${group}) lists pods and deployments, but cannot read Secrets or write anything`, async () => {
            const dana = await as('dana', [`${prefix}${group}`]);
            assert.equal((await dana.request('GET', `/api/v1/namespaces/${ns}/pods`)).status, 200, 'list pods');
            assert.equal((await dana.request('GET', `/api/v1/namespaces/${ns}/pods/web-0/log`)).status !== 403, true, 'pods/log is not forbidden');
            assert.equal((await dana.request('GET', '/api/v1/pods')).status, 200, 'list pods in all namespaces');
            assert.equal((await dana.request('GET', `/apis/apps/v1/namespaces/${ns}/deployments`)).status, 200, 'list deployments');
            assert.equal((await dana.request('GET', `/apis/apps/v1/namespaces/${ns}/deployments/web`)).status, 200, 'get a deployment');
            assert.equal((await dana.request('GET', `/api/v1/namespaces/${ns}/configmaps/settings`)).status, 200, 'read a ConfigMap');

            assert.equal((await dana.request('GET', `/api/v1/namespaces/${ns}/secrets`)).status, 403, 'list Secrets');
            assert.equal((await dana.request('GET', `/api/v1/namespaces/${ns}/secrets/db`)).status, 403, 'get a Secret');
            assert.equal((await dana.request('GET', '/api/v1/secrets')).status, 403, 'list Secrets in all namespaces');
            assert.equal((await dana.request('POST', `/api/v1/namespaces/${ns}/configmaps`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' } })).status, 403, 'create');
            assert.equal((await dana.request('PATCH', `/apis/apps/v1/namespaces/${ns}/deployments/web`, { spec: { replicas: 3 } }, 'application/merge-patch+json')).status, 403, 'scale by patch');
            assert.equal((await dana.request('DELETE', `/api/v1/namespaces/${ns}/pods/web-0`)).status, 403, 'delete a pod');
            assert.equal((await dana.request('POST', `/api/v1/namespaces/${ns}/pods/web-0/exec?command=sh&stdin=true`)).status, 403, 'exec');
        });
    }

    it(`an admin (group ${prefix}${settings.clusterAccess.adminGroups[0]}) reads Secrets and writes`, async () => {
        const erin = await as('erin', [`${prefix}${settings.clusterAccess.adminGroups[0]}`]);
        assert.equal((await erin.request('GET', `/api/v1/namespaces/${ns}/secrets/db`)).status, 200, 'get a Secret');
        assert.equal((await erin.request('POST', `/api/v1/namespaces/${ns}/configmaps`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'by-admin' } })).status, 201, 'create');
        assert.equal((await erin.request('PATCH', `/apis/apps/v1/namespaces/${ns}/deployments/web`, { spec: { replicas: 2 } }, 'application/merge-patch+json')).status, 200, 'scale by patch');
        assert.equal((await erin.request('DELETE', `/api/v1/namespaces/${ns}/configmaps/by-admin`)).status, 200, 'delete');
    });

    it('the groups only count with the prefix, and nobody else gets anything', async () => {
        const unprefixed = await as('oscar', [settings.clusterAccess.viewerGroups[0]!, settings.clusterAccess.adminGroups[0]!]);
        assert.equal((await unprefixed.request('GET', `/api/v1/namespaces/${ns}/pods`)).status, 403, 'group names without the OIDC prefix are not bound');
        const stranger = await as('mallory', [`${prefix}data-scientists`]);
        assert.equal((await stranger.request('GET', `/api/v1/namespaces/${ns}/pods`)).status, 403);
        assert.equal((await stranger.request('GET', `/api/v1/namespaces/${ns}/secrets/db`)).status, 403);
    });
});
