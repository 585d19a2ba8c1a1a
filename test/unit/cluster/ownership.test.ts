import { strict as assert } from 'node:assert';
import { PATCH_FORCE_ANNOTATION, withPulumiOwnership } from '../../../components/cluster/ownership.js';

describe('cluster ownership: Pulumi applies its objects with force (out-of-band edits are drift, not conflicts)', () => {
    it('adds the patch-force annotation to Kubernetes objects, keeping every other annotation and field', () => {
        const props = { metadata: { name: 'x', annotations: { keep: 'me' } }, data: { a: 'b' } };
        assert.deepEqual(withPulumiOwnership('kubernetes:core/v1:ConfigMap', props), { metadata: { name: 'x', annotations: { keep: 'me', [PATCH_FORCE_ANNOTATION]: 'true' } }, data: { a: 'b' } });
        assert.deepEqual(withPulumiOwnership('kubernetes:argoproj.io/v1alpha1:Application', { spec: {} }), { spec: {}, metadata: { annotations: { [PATCH_FORCE_ANNOTATION]: 'true' } } });
        assert.deepEqual(props.metadata.annotations, { keep: 'me' }, 'the input is not changed');
    });

    it('leaves providers, Helm charts, YAML groups and other packages alone', () => {
        for (const type of ['pulumi:providers:kubernetes', 'kubernetes:helm.sh/v4:Chart', 'kubernetes:yaml/v2:ConfigGroup', 'kubernetes:kustomize/v2:Directory', 'keycloak:index/realm:Realm', 'pulumi-nodejs:dynamic:Resource', 'nkp:cluster:Baseline']) {
            assert.equal(withPulumiOwnership(type, { metadata: {} }), undefined, type);
        }
    });
});
