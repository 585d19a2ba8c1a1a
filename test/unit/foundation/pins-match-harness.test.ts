import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CHARTS, GATEWAY_API_BUNDLE } from '../../../components/foundation/spec.js';
import { ARGOCD_CHART } from '../../../components/argocd/spec.js';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const HARNESS_VERSIONS = 'test/harness/versions.json';

interface CrdSource {
    module: string;
    version: string;
    dirs: string[];
}

function harnessSources(): Record<string, CrdSource> {
    const v = JSON.parse(readFileSync(join(ROOT, HARNESS_VERSIONS), 'utf8')) as { crdSources?: Record<string, CrdSource> };
    assert.ok(v.crdSources, `${HARNESS_VERSIONS} has crdSources`);
    return v.crdSources;
}

/** Go module tags carry a leading v; chart appVersions sometimes do not. */
const tag = (v: string) => (v.startsWith('v') ? v : `v${v}`);

/**
 * What the foundation deploys, next to the harness source that must carry the same version (the integration
 * tests validate the platform's manifests and the operator's objects against the harness's CRDs: if the two
 * drift apart the tests prove nothing about the clusters the platform runs on).
 */
function pinMismatches(sources: Record<string, CrdSource>): string[] {
    const pairs: { source: string; deployed: string; what: string; where: string }[] = [
        { source: 'envoyGateway', deployed: CHARTS.envoyGateway.appVersion, what: 'Envoy Gateway (chart gateway-helm)', where: 'CHARTS.envoyGateway in components/foundation/spec.ts' },
        { source: 'certManager', deployed: CHARTS.certManager.appVersion, what: 'cert-manager (chart cert-manager)', where: 'CHARTS.certManager in components/foundation/spec.ts' },
        { source: 'argocd', deployed: ARGOCD_CHART.appVersion, what: `Argo CD (chart argo-cd ${ARGOCD_CHART.version})`, where: 'ARGOCD_CHART (version and appVersion) in components/argocd/spec.ts' },
        { source: 'gatewayApi', deployed: GATEWAY_API_BUNDLE.version, what: `the Gateway API bundle Envoy Gateway ${CHARTS.envoyGateway.version} ships`, where: 'GATEWAY_API_BUNDLE in components/foundation/spec.ts' },
    ];
    const out: string[] = [];
    for (const p of pairs) {
        const src = sources[p.source];
        if (src === undefined) {
            out.push(`${HARNESS_VERSIONS} has no crdSources.${p.source}; the harness must install the CRDs of ${p.what} ${p.deployed}`);
        } else if (tag(src.version) !== tag(p.deployed)) {
            out.push(
                `${p.what}: the foundation deploys ${p.deployed} but ${HARNESS_VERSIONS} crdSources.${p.source} tests against ${src.version}; ` +
                    `change ${p.where} or crdSources.${p.source}.version so both name the same release`,
            );
        }
    }
    return out;
}

describe('foundation: deployed versions equal the versions the test harness tests against', () => {
    it('Envoy Gateway, cert-manager, Argo CD and the Gateway API bundle match test/harness/versions.json', () => {
        assert.deepEqual(pinMismatches(harnessSources()), []);
    });

    it('the charts that carry the platform\'s CRDs install the same release as their appVersion', () => {
        // Envoy Gateway and cert-manager tag chart and application together; a differing pair would mean the
        // appVersion above is not what the chart installs.
        for (const c of [CHARTS.envoyGateway, CHARTS.certManager]) assert.equal(c.version, c.appVersion, `${c.chart}: chart version equals its appVersion`);
        assert.match(ARGOCD_CHART.appVersion, /^v3\.\d+\.\d+$/, 'Argo CD v3 (the AppProject/Application API the platform writes)');
    });

    it('the harness installs the Gateway API channel Envoy Gateway\'s chart installs', () => {
        const gw = harnessSources()['gatewayApi'];
        assert.ok(gw?.dirs.includes(`config/crd/${GATEWAY_API_BUNDLE.channel}`), `crdSources.gatewayApi.dirs includes config/crd/${GATEWAY_API_BUNDLE.channel}`);
    });

    it('a drifted pin is reported with what to change (negative control)', () => {
        const sources = structuredClone(harnessSources());
        sources['envoyGateway']!.version = 'v1.5.4';
        sources['certManager']!.version = 'v1.18.2';
        delete sources['argocd'];
        const msgs = pinMismatches(sources);
        assert.equal(msgs.length, 3, msgs.join('\n'));
        assert.match(msgs[0]!, /Envoy Gateway.*deploys v1\.9\.1.*tests against v1\.5\.4; change CHARTS\.envoyGateway in components\/foundation\/spec\.ts or crdSources\.envoyGateway\.version/);
        assert.match(msgs[1]!, /cert-manager.*deploys v1\.21\.2.*tests against v1\.18\.2; change CHARTS\.certManager/);
        assert.match(msgs[2]!, /no crdSources\.argocd/);
    });
});
