// Helm values the foundation hands Argo CD, checked against what the pinned charts accept, where the chart ships
// a values schema (Helm validates values.schema.json before rendering: a mismatch fails the Application's sync).
// The charts' sources come from the Go module cache at the pinned versions (cert-manager's chart lives in its
// Go module); charts without a schema or outside Go modules (Envoy Gateway, CloudNativePG, keycloakx, the
// OpenTelemetry Collector, argo-cd) are checked by the unit tests of their values only.
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { CHARTS, certManagerValues } from '../../../components/foundation/spec.js';
import { goModuleDir, versions } from '../../harness/upstream.js';

function certManagerChartSchema(): object {
    // The harness pins the same cert-manager release the foundation deploys (test/unit/foundation/pins-match-harness.test.ts).
    const src = versions.crdSources['certManager']!;
    assert.equal(src.version, CHARTS.certManager.version);
    return JSON.parse(readFileSync(join(goModuleDir(src.module, src.version), 'deploy', 'charts', 'cert-manager', 'values.schema.json'), 'utf8')) as object;
}

describe('platform (integration): foundation Helm values are accepted by the pinned charts\' values schemas', function () {
    this.timeout(120_000);

    it(`cert-manager ${CHARTS.certManager.version}: certManagerValues() validates against the chart's values.schema.json`, () => {
        const validate = new Ajv({ allErrors: true, strict: false }).compile(certManagerChartSchema());
        const ok = validate(certManagerValues());
        assert.ok(ok, JSON.stringify(validate.errors, null, 2));
    });

    it('negative control: a misspelt key is refused by the same schema', () => {
        const validate = new Ajv({ allErrors: true, strict: false }).compile(certManagerChartSchema());
        const bad = { ...certManagerValues(), crds: { enabled: true, keepp: true } };
        assert.equal(validate(bad), false);
        assert.ok(validate.errors?.some((e) => e.instancePath === '/crds' && e.keyword === 'additionalProperties'), JSON.stringify(validate.errors));
    });
});
