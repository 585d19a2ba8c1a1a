// The health check of Applications the platform puts into argocd-cm (APPLICATION_HEALTH_LUA), run by Argo CD's own
// Lua runtime (`argocd admin settings resource-overrides health`, the v3.1.8 binary scripts/build-argocd.mjs builds)
// with argocd-cm exactly as the program renders it. The foundation's parent waits for each wave on this verdict, so a
// wrong one either lets a wave run past a broken child or holds the foundation forever.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import { argocdBinDir } from '../../harness/argocd.js';
import { ARGOCD_CM_METADATA, argocdCmData, type ArgoCDChartLikeValues } from '../../../components/argocd/manifests.js';
import { argocdValues, FOUNDATION_LAYER, LAYER_LABEL } from '../../../components/argocd/spec.js';

const run = promisify(execFile);

describe('Argo CD v3.1.8 judges a child Application with the health check the platform configures', function () {
  this.timeout(120_000);
  let dir: string;
  let cmPath: string;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'nkp-app-health-'));
    cmPath = join(dir, 'argocd-cm.yaml');
    const data = argocdCmData(argocdValues({ hostname: 'argocd.nkp.localtest.me', issuerURL: 'https://keycloak.nkp.localtest.me/realms/nebari', adminGroups: ['admins'], viewerGroups: ['viewers'], ha: false }) as unknown as ArgoCDChartLikeValues);
    writeFileSync(cmPath, stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: ARGOCD_CM_METADATA, data }));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** Argo CD's verdict on `obj` with the argocd-cm at `cm`: [status, message]. */
  const judge = async (obj: Record<string, unknown> & { metadata: { name: string; [k: string]: unknown } }, cm = cmPath): Promise<[string, string]> => {
    const file = join(dir, `${obj.metadata.name}.yaml`);
    writeFileSync(file, stringify(obj));
    const { stdout } = await run(join(argocdBinDir(), 'argocd'), ['admin', 'settings', 'resource-overrides', 'health', file, '--argocd-cm-path', cm], { env: { ...process.env, HOME: dir } });
    const s = /STATUS: (\S+)/.exec(stdout)?.[1];
    assert.ok(s, `no STATUS in Argo CD's output:\n${stdout}`);
    return [s, /MESSAGE: ?(.*)/.exec(stdout)?.[1] ?? ''];
  };
  /** Argo CD's verdict on an Application with this status. */
  const verdict = (name: string, status: Record<string, unknown> | undefined, labels: Record<string, string> = { [LAYER_LABEL]: FOUNDATION_LAYER }): Promise<[string, string]> =>
    judge({ apiVersion: 'argoproj.io/v1alpha1', kind: 'Application', metadata: { name, namespace: 'argocd', labels }, spec: { project: 'foundation' }, ...(status ? { status } : {}) });
  /** Argo CD's verdict on a CloudNativePG Cluster with this status. */
  const cluster = (name: string, status: Record<string, unknown> | undefined, cm = cmPath): Promise<[string, string]> =>
    judge({ apiVersion: 'postgresql.cnpg.io/v1', kind: 'Cluster', metadata: { name, namespace: 'keycloak' }, spec: { instances: 1 }, ...(status ? { status } : {}) }, cm);

  it('Healthy only when the child is both Healthy and Synced', async () => {
    assert.deepEqual(await verdict('ready', { health: { status: 'Healthy' }, sync: { status: 'Synced' } }), ['Healthy', '']);
    assert.deepEqual(await verdict('drifted', { health: { status: 'Healthy' }, sync: { status: 'OutOfSync' } }), ['Progressing', 'the Application is OutOfSync']);
    assert.deepEqual((await verdict('new', undefined))[0], 'Progressing', 'a child without status yet holds the wave');
  });

  it("passes the child's own health on: Progressing waits, Degraded and Missing are not Healthy", async () => {
    assert.deepEqual(await verdict('rolling', { health: { status: 'Progressing', message: 'Waiting for rollout' }, sync: { status: 'Synced' } }), ['Progressing', 'Waiting for rollout']);
    assert.deepEqual((await verdict('broken', { health: { status: 'Degraded' }, sync: { status: 'Synced' } }))[0], 'Degraded');
    assert.deepEqual((await verdict('missing', { health: { status: 'Missing' }, sync: { status: 'OutOfSync' } }))[0], 'Missing');
  });

  it('a child that cannot render (a ComparisonError, e.g. an unreachable chart) is Degraded with the reason, even while it still reads Healthy', async () => {
    const [status, message] = await verdict('unreachable', {
      health: { status: 'Healthy' },
      sync: { status: 'Unknown' },
      conditions: [{ type: 'ComparisonError', message: 'Failed to load target state: chart "cert-manager" version "v1.21.2" not found' }],
    });
    assert.equal(status, 'Degraded');
    assert.match(message, /^ComparisonError: Failed to load target state: chart "cert-manager"/);
    assert.equal((await verdict('warned', { health: { status: 'Healthy' }, sync: { status: 'Synced' }, conditions: [{ type: 'OrphanedResourceWarning', message: 'x' }] }))[0], 'Healthy', 'warnings do not block');
  });

  it('judges only the foundation: a pack Application stays Healthy to its app-of-apps, however it is doing, so one broken pack holds back no other', async () => {
    const broken = { health: { status: 'Degraded' }, sync: { status: 'OutOfSync' }, conditions: [{ type: 'InvalidSpecError', message: 'application destination namespace is not permitted in project' }] };
    assert.deepEqual((await verdict('a-pack', broken, { 'app.kubernetes.io/part-of': 'my-pack' }))[0], 'Healthy');
    assert.deepEqual((await verdict('no-labels', broken, {}))[0], 'Healthy');
    assert.deepEqual((await verdict('foundation-child', broken))[0], 'Degraded');
  });

  it('a CloudNativePG Cluster the operator has not reported on is Progressing (the built-in check fails the comparison there), then follows its phase', async () => {
    // Argo CD's own check, with argocd-cm as the release ships it (no customization): an error, which makes the whole
    // comparison of the Keycloak database's Application a ComparisonError and fails its sync (seen in the foundation test)
    const bare = join(dir, 'argocd-cm-bare.yaml');
    writeFileSync(bare, stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: ARGOCD_CM_METADATA, data: {} }));
    await assert.rejects(cluster('fresh-builtin', undefined, bare), /phaseReason/);
    assert.deepEqual(await cluster('fresh', undefined), ['Progressing', 'waiting for the CloudNativePG operator to report on this cluster']);
    assert.deepEqual(await cluster('setting-up', { phase: 'Setting up primary', phaseReason: 'Creating primary instance keycloak-db-1' }), ['Progressing', 'Setting up primary: Creating primary instance keycloak-db-1']);
    assert.deepEqual(await cluster('healthy', { phase: 'Cluster in healthy state', conditions: [{ type: 'Ready', status: 'True' }] }), ['Healthy', 'Cluster in healthy state']);
    assert.equal((await cluster('failing-over', { phase: 'Failing over', phaseReason: 'Failing over from keycloak-db-1' }))[0], 'Degraded');
    assert.equal((await cluster('unrecoverable', { phase: 'Cluster is unrecoverable and needs manual intervention' }))[0], 'Suspended');
    assert.deepEqual(await cluster('hibernated', { phase: 'Cluster in healthy state', conditions: [{ type: 'cnpg.io/hibernation', status: 'True', message: 'Cluster has been hibernated' }] }), ['Suspended', 'Cluster has been hibernated']);
  });
});
