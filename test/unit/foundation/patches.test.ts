/* eslint-disable @typescript-eslint/no-explicit-any -- manifests are untyped YAML documents */
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import jsonpatch from 'fast-json-patch';
import { parse, parseAllDocuments } from 'yaml';
import { foundationApplications, REPO_PATHS, type ApplicationBody } from '../../../components/foundation/spec.js';
import { platformDataStorageClass } from '../../../components/cluster/baseline.js';
import { foundationInput } from '../../../stacks/platform.js';
import { settingsForStack, STACKS } from '../../../stacks/stack-files.js';

const ROOT = join(import.meta.dirname, '..', '..', '..');

/** The documents of a kustomize directory (its resources, in order). */
function kustomizeDocs(dir: string): any[] {
    const k = parse(readFileSync(join(ROOT, dir, 'kustomization.yaml'), 'utf8'));
    return (k.resources as string[]).flatMap((f) => parseAllDocuments(readFileSync(join(ROOT, dir, f), 'utf8')).map((d) => d.toJS()));
}

/**
 * What kustomize does with an Application's patches, for the two forms used here: a JSON6902 op list (applied
 * with fast-json-patch, validating that every path exists) and a strategic-merge `$patch: delete`.
 */
function applyPatches(docs: any[], app: ApplicationBody): any[] {
    let out = docs.map((d) => structuredClone(d));
    for (const p of app.spec.source.kustomize?.patches ?? []) {
        const matches = (d: any) => d.kind === p.target.kind && d.metadata.name === p.target.name;
        assert.equal(out.filter(matches).length, 1, `${app.metadata.name}: patch target ${p.target.kind}/${p.target.name} exists exactly once`);
        const body = parse(p.patch);
        if (Array.isArray(body)) {
            out = out.map((d) => (matches(d) ? jsonpatch.applyPatch(d, body as jsonpatch.Operation[], true, false).newDocument : d));
        } else {
            assert.equal(body.$patch, 'delete', `${app.metadata.name}: only JSON6902 and $patch: delete are used`);
            out = out.filter((d) => !matches(d));
        }
    }
    return out;
}

describe('foundation: kustomize patches applied to the committed manifests, per stack', () => {
    for (const stack of STACKS) {
        it(`${stack}: gateway configuration and Keycloak database come out complete and stack-specific`, () => {
            const s = settingsForStack(stack);
            const apps = foundationApplications(foundationInput(s, platformDataStorageClass(s.cloud.provider)));
            const app = (n: string) => apps.find((a) => a.metadata.name === n)!;

            const gateway = applyPatches(kustomizeDocs(REPO_PATHS.gateway), app('gateway-config'));
            assert.ok(!JSON.stringify(gateway).includes('placeholder'), 'no placeholder survives');
            const pub = gateway.find((d) => d.kind === 'Gateway' && d.metadata.name === 'public');
            assert.equal(pub.metadata.annotations['cert-manager.io/cluster-issuer'], s.tls.issuer);
            assert.deepEqual(pub.spec.listeners.slice(1).map((l: any) => l.hostname), [s.hostnames.argocd, s.hostnames.keycloak]);
            assert.deepEqual(gateway.filter((d) => d.kind === 'HTTPRoute' && d.spec.hostnames).map((d) => d.spec.hostnames[0]).sort(), [s.hostnames.argocd, s.hostnames.keycloak].sort());
            const issuers = gateway.filter((d) => d.kind === 'ClusterIssuer');
            assert.ok(issuers.some((i) => i.metadata.name === s.tls.issuer), `the configured issuer ${s.tls.issuer} exists`);
            if (s.tls.issuer === 'selfsigned-ca') assert.ok(!issuers.some((i) => i.spec.acme), 'no ACME issuer on a local cluster');
            for (const i of issuers.filter((x) => x.spec.acme)) assert.equal(i.spec.acme.email, s.tls.acmeEmail);
            const proxy = gateway.find((d) => d.kind === 'EnvoyProxy' && d.metadata.name === 'nkp-public').spec.provider.kubernetes.envoyService;
            assert.equal(proxy.type, s.cloud.provider === 'hetzner' ? 'NodePort' : 'LoadBalancer');
            // The AWS Load Balancer Controller's NLB (type external, IP targets, internet-facing), not the in-tree controller's.
            if (s.cloud.provider === 'aws') {
                assert.deepEqual(proxy.annotations, {
                    'service.beta.kubernetes.io/aws-load-balancer-type': 'external',
                    'service.beta.kubernetes.io/aws-load-balancer-nlb-target-type': 'ip',
                    'service.beta.kubernetes.io/aws-load-balancer-scheme': 'internet-facing',
                    // The platform's names for ExternalDNS (nkp:dnsProvider): the domain, every app below it, Argo CD, Keycloak.
                    'external-dns.alpha.kubernetes.io/hostname': [s.domain, `*.${s.domain}`, `argocd.${s.domain}`, `keycloak.${s.domain}`].join(','),
                });
            }

            const [db] = applyPatches(kustomizeDocs(REPO_PATHS.keycloakDatabase), app('keycloak-database'));
            assert.equal(db.spec.instances, s.keycloak.databaseInstances);
            assert.equal(db.spec.storage.size, s.keycloak.databaseStorage);
            assert.equal(db.spec.storage.storageClass, platformDataStorageClass(s.cloud.provider));
            assert.equal(db.spec.bootstrap.initdb.owner, 'keycloak');
        });
    }
});
