/**
 * One label convention (components/cloud/labels.ts): keys the platform invents are `nkp.nebari.dev/<name>`;
 * `nebari.dev/` is the NebariApp contract shared with the upstream nebari-operator; a pack names its own keys after
 * itself (`landing.nebari.dev/`). The scan covers every source and manifest of the program, operator, packs and
 * policy; before this convention the cloud layer used a third prefix, `nkp.dev/`.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NKP_LABEL_PREFIX } from '../../../components/cloud/labels.js';
import { nodeGroupSpec, validateAwsCloudArgs } from '../../../components/cloud/aws-plan.js';
import { hcloudLabels, validateHetznerCloudArgs, CLUSTER_LABEL, GATEWAY_TARGET_LABEL, POOL_LABEL, ROLE_LABEL } from '../../../components/cloud/hetzner-plan.js';
import { LAYER_LABEL } from '../../../components/argocd/spec.js';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const ALLOWED = ['nkp.nebari.dev/', 'nebari.dev/', 'landing.nebari.dev/'];

function files(dir: string): string[] {
    return readdirSync(dir).flatMap((n) => {
        const p = join(dir, n);
        if (n === 'node_modules' || n === 'dist' || n.startsWith('.')) return [];
        return statSync(p).isDirectory() ? files(p) : /\.(ts|mjs|ya?ml|json)$/.test(n) ? [p] : [];
    });
}

describe('labels: one convention for the platform\'s own keys', () => {
    it('no source or manifest uses a platform key prefix outside nkp.nebari.dev/, nebari.dev/ (NebariApp) and a pack\'s own', () => {
        const bad: string[] = [];
        for (const dir of ['components', 'stacks', 'operator/src', 'operator/manifests', 'packs', 'policy']) {
            for (const f of files(join(REPO, dir))) {
                for (const m of readFileSync(f, 'utf8').matchAll(/["'`\s]([a-z0-9.-]*(?:nkp|nebari)[a-z0-9.-]*\/)[A-Za-z0-9._-]+/g)) {
                    const prefix = m[1]!;
                    if (/^(reconcilers|[a-z]+\.)?nebari\.dev\/$/.test(prefix) && /\/v\d/.test(m[0])) continue; // API groups (reconcilers.nebari.dev/v1)
                    if (!ALLOWED.includes(prefix)) bad.push(`${relative(REPO, f)}: ${m[0].trim()}`);
                }
            }
        }
        assert.deepEqual(bad, []);
    });

    it('the cloud layer\'s labels (EKS node labels, Hetzner server/node labels) and the layer label use nkp.nebari.dev/', () => {
        assert.equal(NKP_LABEL_PREFIX, 'nkp.nebari.dev/');
        for (const k of [CLUSTER_LABEL, GATEWAY_TARGET_LABEL, POOL_LABEL, ROLE_LABEL, LAYER_LABEL]) assert.ok(k.startsWith(NKP_LABEL_PREFIX), k);
        const aws = validateAwsCloudArgs({
            clusterName: 'c', tags: { environment: 'e', owner: 'o', costCentre: 'cc' }, availabilityZones: ['eu-central-1a', 'eu-central-1b'], kubernetesVersion: '1.33',
            publicAccessCidrs: ['203.0.113.0/24'], nodeGroups: [{ name: 'gpu', instanceTypes: ['g5.xlarge'], minSize: 0, maxSize: 1, desiredSize: 0, gpu: true }],
        });
        const own = Object.keys(nodeGroupSpec(aws.nodeGroups[0]!, 'c').labels).filter((k) => k.includes('/') && !k.startsWith('nvidia.com/'));
        assert.deepEqual(own, ['nkp.nebari.dev/node-group']);
        const hz = validateHetznerCloudArgs({
            clusterName: 'c', tags: { environment: 'e', owner: 'o', costCentre: 'cc' }, location: 'fsn1', k3sVersion: 'v1.33.5+k3s1', controlPlane: { count: 1 },
            workerPools: [{ name: 'w', count: 1, serverType: 'cx42' }], adminCidrs: ['203.0.113.0/24'], sshPublicKey: 'k', sshPrivateKey: 'k', hcloudToken: 't',
        });
        for (const s of hz.servers) assert.deepEqual(Object.keys(s.nodeLabels), [POOL_LABEL]);
        assert.ok(Object.keys(hcloudLabels(hz.tags, 'c')).filter((k) => k.includes('/')).every((k) => k.startsWith(NKP_LABEL_PREFIX)));
    });
});
