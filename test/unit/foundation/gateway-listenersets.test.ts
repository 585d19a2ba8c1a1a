/* eslint-disable @typescript-eslint/no-explicit-any -- manifests are untyped YAML documents */
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { REPO_PATHS } from '../../../components/foundation/spec.js';
import { MANAGED_NAMESPACE_LABEL } from '../../../operator/src/api/types.js';

const ROOT = join(import.meta.dirname, '..', '..', '..');

function gatewayDocs(): any[] {
    const dir = join(ROOT, REPO_PATHS.gateway);
    const k = parse(readFileSync(join(dir, 'kustomization.yaml'), 'utf8'));
    return (k.resources as string[]).flatMap((f) => parseAllDocuments(readFileSync(join(dir, f), 'utf8')).map((d) => d.toJS()));
}

describe('foundation: shared Gateways accept per-app ListenerSets, HTTP redirects except ACME and plain-HTTP apps', () => {
    const docs = gatewayDocs();
    const gateway = (name: string) => docs.find((d) => d.kind === 'Gateway' && d.metadata.name === name);

    for (const name of ['public', 'internal']) {
        it(`${name}: ListenerSets only from namespaces with the operator's opt-in label`, () => {
            assert.deepEqual(gateway(name).spec.allowedListeners, {
                namespaces: { from: 'Selector', selector: { matchLabels: { [MANAGED_NAMESPACE_LABEL]: 'true' } } },
            });
            const http = gateway(name).spec.listeners.find((l: any) => l.port === 80);
            assert.equal(http.name, 'http');
            assert.equal(http.protocol, 'HTTP');
        });
    }

    it('https-redirect is the hostname-less catch-all of both HTTP listeners and redirects to https with 301', () => {
        const r = docs.find((d) => d.kind === 'HTTPRoute' && d.metadata.name === 'https-redirect');
        assert.equal(r.metadata.namespace, 'envoy-gateway-system', 'in the Gateways\' namespace (parentRefs without namespace)');
        assert.deepEqual(r.spec.parentRefs.map((p: any) => `${p.name}/${p.sectionName}`).sort(), ['internal/http', 'public/http']);
        assert.equal(r.spec.hostnames, undefined, 'no hostname: any route naming a hostname (ACME solver, plain-HTTP app) takes precedence');
        assert.equal(r.spec.rules.length, 1);
        assert.equal(r.spec.rules[0].matches, undefined, 'default match: path prefix /');
        assert.deepEqual(r.spec.rules[0].filters, [{ type: 'RequestRedirect', requestRedirect: { scheme: 'https', statusCode: 301 } }]);
    });

    it('ACME HTTP-01 solvers attach to the public HTTP listener, which accepts routes from every namespace', () => {
        const acme = docs.filter((d) => d.kind === 'ClusterIssuer' && d.spec.acme);
        assert.equal(acme.length, 2);
        for (const i of acme) {
            assert.deepEqual(i.spec.acme.solvers.map((s: any) => s.http01.gatewayHTTPRoute.parentRefs), [[{ name: 'public', namespace: 'envoy-gateway-system', kind: 'Gateway', sectionName: 'http' }]]);
        }
        const http = gateway('public').spec.listeners.find((l: any) => l.name === 'http');
        assert.equal(http.allowedRoutes.namespaces.from, 'All', 'solver routes are created in each Certificate\'s (app\'s) namespace');
    });
});
