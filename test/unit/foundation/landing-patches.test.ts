import { strict as assert } from 'node:assert';
import { parse } from 'yaml';
import { foundationApplications, LANDING } from '../../../components/foundation/spec.js';
import { platformDataStorageClass } from '../../../components/cluster/baseline.js';
import { foundationInput } from '../../../stacks/platform.js';
import { settingsForStack, STACKS } from '../../../stacks/stack-files.js';

describe('foundation: the landing page Application puts the page on each stack\'s domain', () => {
    for (const stack of STACKS) {
        it(`${stack}: NebariApp hostname and PUBLIC_URL patched to the stack's landing hostname`, () => {
            const s = settingsForStack(stack);
            const app = foundationApplications(foundationInput(s, platformDataStorageClass(s.cloud.provider))).find((a) => a.metadata.name === 'nkp-landing')!;
            const patches = app.spec.source.kustomize?.patches ?? [];
            const nebariApp = patches.find((p) => p.target['kind'] === 'NebariApp')!;
            assert.deepEqual(nebariApp.target, { group: 'reconcilers.nebari.dev', kind: 'NebariApp', name: LANDING.nebariApp });
            assert.deepEqual(parse(nebariApp.patch), [{ op: 'replace', path: '/spec/hostname', value: s.hostnames.landing }]);
            const deployment = patches.find((p) => p.target['kind'] === 'Deployment')!;
            const container = parse(deployment.patch).spec.template.spec.containers[0];
            assert.equal(container.name, LANDING.container);
            const trust = s.tls.issuer === 'selfsigned-ca' ? [{ name: 'NODE_EXTRA_CA_CERTS', value: '/etc/nkp/local-ca/ca.crt' }] : [];
            assert.deepEqual(container.env, [{ name: 'PUBLIC_URL', value: `https://${s.hostnames.landing}` }, ...trust]);
        });
    }
});
