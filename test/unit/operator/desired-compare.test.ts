import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  CHILD_KINDS,
  DESIRED_HASH_ANNOTATION,
  childNames,
  childrenToDelete,
  compareClaims,
  containsDesired,
  desiredState,
  effectiveSpec,
  hostnameHolder,
  needsFinalizer,
  needsWrite,
  ownership,
  statusNeedsWrite,
  type HostnameClaim,
  type KubeObject,
} from '../../../operator/src/desired/index.js';
import { OWNER_ANNOTATION, type NebariApp } from '../../../operator/src/api/types.js';
import { app, config, facts, NOW } from './fixtures.js';

type Any = any; // eslint-disable-line @typescript-eslint/no-explicit-any

const route = (): KubeObject => desiredState(app(), facts(), config(), NOW).children.find((c) => c.kind === 'HTTPRoute')!;

/** What the API server returns for an applied object: server fields and defaults added. */
function asServerReturns(o: KubeObject): KubeObject {
  const c = structuredClone(o) as Any;
  c.metadata.uid = 'x';
  c.metadata.resourceVersion = '42';
  c.metadata.generation = 1;
  c.metadata.creationTimestamp = '2026-01-01T00:00:00Z';
  c.metadata.managedFields = [{ manager: 'nebari-operator', operation: 'Apply' }];
  c.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration'] = '{}';
  c.spec.rules[0].timeouts = undefined;
  c.spec.rules[0].matches[0].headers = undefined;
  c.status = { parents: [{ controllerName: 'gateway.envoyproxy.io/gatewayclass-controller' }] };
  return JSON.parse(JSON.stringify(c));
}

describe('desired state: needsWrite', () => {
  it('writes a missing object', () => {
    assert.equal(needsWrite(route(), undefined), true);
  });

  it('does not write when the observed object holds every desired field (server-added fields tolerated)', () => {
    assert.equal(needsWrite(route(), asServerReturns(route())), false);
  });

  it('writes when a desired value drifted (someone edited the route)', () => {
    const o = asServerReturns(route()) as Any;
    o.spec.rules[0].backendRefs[0].port = 1;
    assert.equal(needsWrite(route(), o), true);
    const p = asServerReturns(route()) as Any;
    p.spec.hostnames.push('evil.example.com');
    assert.equal(needsWrite(route(), p), true);
  });

  it('writes when the desired object lost a field (desired hash changed), though observed is a superset', () => {
    const withAnno = desiredState(app({ routing: { annotations: { a: 'b' } } }), facts(), config(), NOW).children.find((c) => c.kind === 'HTTPRoute')!;
    const observed = asServerReturns(withAnno);
    const without = route();
    assert.ok(containsDesired({ ...without, metadata: { ...without.metadata, annotations: {} } }, observed));
    assert.equal(needsWrite(without, observed), true);
    assert.notEqual(without.metadata.annotations![DESIRED_HASH_ANNOTATION], withAnno.metadata.annotations![DESIRED_HASH_ANNOTATION]);
  });

  it('statusNeedsWrite: equal status no write; changed or removed fields write', () => {
    const s = desiredState(app(), facts(), config(), NOW).status;
    assert.equal(statusNeedsWrite(s, structuredClone(s)), false);
    assert.equal(statusNeedsWrite(s, undefined), true);
    assert.equal(statusNeedsWrite(s, { ...structuredClone(s), clientSecretRef: { name: 'x', namespace: 'y' } }), true);
    assert.equal(statusNeedsWrite(s, { ...structuredClone(s), hostname: 'other' }), true);
  });

  it('a steady app re-reconciled with its own status produces no status write', () => {
    const a = app({ auth: { enabled: true } });
    const first = desiredState(a, facts(), config(), '2026-01-01T00:00:00Z').status;
    const second = desiredState({ ...a, status: first }, facts(), config(), '2026-03-01T00:00:00Z').status;
    assert.equal(statusNeedsWrite(second, first), false);
  });
});

describe('desired state: childrenToDelete', () => {
  it('returns owned children no longer desired, never foreign objects', () => {
    const full = desiredState(app({ auth: { enabled: true } }), facts(), config(), NOW).children;
    const now = desiredState(app({ auth: { enabled: false } }), facts(), config(), NOW).children;
    const foreign: KubeObject = { apiVersion: 'gateway.envoyproxy.io/v1alpha1', kind: 'SecurityPolicy', metadata: { name: 'other', namespace: 'data' } };
    const otherApp: KubeObject = {
      apiVersion: 'gateway.envoyproxy.io/v1alpha1',
      kind: 'SecurityPolicy',
      metadata: { name: 'x', namespace: 'data', annotations: { [OWNER_ANNOTATION]: 'data/other' } },
    };
    const del = childrenToDelete({ namespace: 'data', name: 'jupyter' }, now, [...full, foreign, otherApp]);
    assert.deepEqual(del.map((d) => `${d.kind}/${d.metadata.name}`), ['SecurityPolicy/jupyter']);
  });

  it('CHILD_KINDS covers every kind the desired state produces', () => {
    const a = app({ service: { name: 'hub', port: 8080, namespace: 'shared' }, routing: { publicRoutes: [{ pathPrefix: '/h' }] }, auth: { enabled: true } });
    const produced = new Set(desiredState(a, facts(), config(), NOW).children.map((c) => `${c.apiVersion} ${c.kind}`));
    const known = new Set(CHILD_KINDS.map((k) => `${k.apiVersion} ${k.kind}`));
    assert.deepEqual([...produced].filter((p) => !known.has(p)), []);
    assert.equal(produced.size, 5);
  });
});

describe('desired state: effective spec defaults', () => {
  it('serviceAccountName defaults to the app name; healthCheck.port to service.port; service.namespace to the app namespace', () => {
    const e = effectiveSpec(app({ landingPage: { healthCheck: { enabled: true } } }), config());
    assert.equal(e.serviceAccountName, 'jupyter');
    assert.equal(e.landingPage.healthCheck.port, 8080);
    assert.deepEqual(e.landingPage.healthCheck, { enabled: true, path: '/health', port: 8080, intervalSeconds: 30, timeoutSeconds: 5 });
    assert.equal(e.service.namespace, 'data');
    assert.equal(e.crossNamespace, false);
    assert.equal(effectiveSpec(app({ serviceAccountName: 'sa' }), config()).serviceAccountName, 'sa');
  });

  it('auth: generic-oidc never provisions; clientSecretRef replaces the provisioned Secret', () => {
    const g = effectiveSpec(app({ auth: { enabled: true, provider: 'generic-oidc', issuerURL: 'https://i.example.org', clientSecretRef: 'c' } }), config());
    assert.equal(g.auth?.provisionClient, false);
    assert.equal(g.auth?.secretName, 'c');
    assert.equal(g.auth?.issuerURL, 'https://i.example.org');
    const k = effectiveSpec(app({ auth: { enabled: true, issuerURL: 'https://ignored.example.org' } }), config());
    assert.equal(k.auth?.issuerURL, 'https://auth.example.com/realms/nebari');
    assert.equal(k.auth?.secretName, 'jupyter-oidc-client');
    assert.equal(effectiveSpec(app({ auth: { enabled: false } }), config()).auth, undefined);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// properties

const label = fc.stringMatching(/^[a-z0-9]([-a-z0-9]{0,20}[a-z0-9])?$/);
const longName = fc
  .array(fc.stringMatching(/^[a-z0-9]([-a-z0-9]{0,40}[a-z0-9])?$/), { minLength: 1, maxLength: 6 })
  .map((parts) => parts.join('.'))
  .filter((n) => n.length <= 253);
const nsName = fc.stringMatching(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/);
const routeArb = fc.record({ pathPrefix: fc.stringMatching(/^\/[a-z0-9/._-]{0,30}$/), pathType: fc.constantFrom('PathPrefix', 'Exact', undefined) });

const appArb = fc
  .record({
    name: longName,
    namespace: nsName,
    host: fc.array(label, { minLength: 1, maxLength: 4 }).map((l) => l.join('.')),
    routes: fc.option(fc.array(routeArb, { maxLength: 70 }).map((rs) => rs.slice(0, 64)), { nil: undefined }),
    publicRoutes: fc.option(fc.array(routeArb, { maxLength: 10 }), { nil: undefined }),
    tls: fc.boolean(),
    routing: fc.boolean(),
    auth: fc.option(fc.record({ enabled: fc.boolean(), enforceAtGateway: fc.boolean(), groups: fc.option(fc.array(fc.string({ minLength: 1, maxLength: 10 }), { maxLength: 3 }), { nil: undefined }) }), { nil: undefined }),
    crossNs: fc.option(nsName, { nil: undefined }),
  })
  .map(
    (r): NebariApp =>
      app(
        {
          hostname: r.host,
          service: { name: 'svc', port: 8080, ...(r.crossNs ? { namespace: r.crossNs } : {}) },
          ...(r.routing
            ? {
                routing: {
                  ...(r.routes ? { routes: r.routes.map((x) => (x.pathType ? x : { pathPrefix: x.pathPrefix })) as Any } : {}),
                  ...(r.publicRoutes ? { publicRoutes: r.publicRoutes.map((x) => (x.pathType ? x : { pathPrefix: x.pathPrefix })) as Any } : {}),
                  tls: { enabled: r.tls },
                },
              }
            : { routing: undefined }),
          ...(r.auth ? { auth: { ...r.auth, ...(r.auth.groups ? { groups: r.auth.groups } : {}) } as Any } : {}),
        },
        { name: r.name, namespace: r.namespace },
      ),
  );

describe('desired state: properties', () => {
  it('is deterministic and steady: same inputs give the same output; re-applying its status gives no write', () => {
    fc.assert(
      fc.property(appArb, (a) => {
        const x = desiredState(a, facts(), config(), NOW);
        const y = desiredState(structuredClone(a), facts(), config(), NOW);
        assert.deepEqual(x, y);
        const again = desiredState({ ...a, status: x.status }, facts(), config(), '2027-01-01T00:00:00Z');
        assert.equal(statusNeedsWrite(again.status, x.status), false);
        for (const c of again.children) assert.equal(needsWrite(c, JSON.parse(JSON.stringify(x.children.find((o) => o.kind === c.kind && o.metadata.name === c.metadata.name)))), false);
      }),
      { numRuns: 150 },
    );
  });

  it('every HTTPRoute has at least one match and at most 64 per rule; Ready is True exactly when all others are', () => {
    fc.assert(
      fc.property(appArb, (a) => {
        const d = desiredState(a, facts(), config(), NOW);
        for (const r of d.children.filter((c) => c.kind === 'HTTPRoute') as Any[]) {
          assert.ok(r.spec.rules.length >= 1 && r.spec.rules.length <= 16);
          for (const rule of r.spec.rules) assert.ok(rule.matches.length >= 1 && rule.matches.length <= 64);
        }
        const others = d.conditions.filter((c) => c.type !== 'Ready');
        assert.equal(d.conditions.at(-1)!.status === 'True', others.every((c) => c.status === 'True'));
        assert.equal(d.conditions.some((c) => c.type === 'AuthReady'), a.spec.auth?.enabled === true);
      }),
      { numRuns: 150 },
    );
  });

  it('names stay within 253 characters and label values within 63, stable and distinct', () => {
    fc.assert(
      fc.property(nsName, longName, longName, (ns, n1, n2) => {
        const a = childNames(ns, n1);
        for (const v of Object.values(a)) assert.ok(v.length <= 253 && /[a-z0-9]$/.test(v));
        assert.deepEqual(childNames(ns, n1), a);
        if (n1 !== n2) assert.notEqual(childNames(ns, n2).referenceGrant, a.referenceGrant);
        const d = desiredState(app({}, { name: n1, namespace: ns }), facts(), config(), NOW);
        for (const c of d.children) for (const v of Object.values(c.metadata.labels ?? {})) assert.ok(v.length <= 63);
      }),
      { numRuns: 150 },
    );
  });

  it('two different apps never get the same child name of one kind (x-public vs x, a-b/c vs a/b-c)', () => {
    // HTTPRoutes of apps in one namespace; ReferenceGrants of apps from any namespace in one backend namespace
    const seg = fc.stringMatching(/^[a-z0-9]([-a-z0-9]{0,6}[a-z0-9])?$/);
    const appName = fc.array(seg, { minLength: 1, maxLength: 3 }).map((xs) => xs.join('-'));
    const routes = (ns: string, n: string) => [childNames(ns, n).mainRoute, childNames(ns, n).publicRoute];
    fc.assert(
      fc.property(seg, appName, appName, seg, (ns, n1, n2, ns2) => {
        if (n1 !== n2) for (const r of routes(ns, n1)) assert.ok(!routes(ns, n2).includes(r), `${n1} and ${n2} share route name ${r}`);
        if (`${ns}/${n1}` !== `${ns2}/${n2}`) assert.notEqual(childNames(ns, n1).referenceGrant, childNames(ns2, n2).referenceGrant);
      }),
      { numRuns: 500 },
    );
    assert.notEqual(childNames('ns', 'x').publicRoute, childNames('ns', 'x-public').mainRoute);
    assert.notEqual(childNames('a-b', 'c').referenceGrant, childNames('a', 'b-c').referenceGrant);
  });

  it('ownership: only an object carrying this app\'s owner annotation is ours; anything else is foreign', () => {
    const desired = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'x-oidc-client', namespace: 'ns', annotations: { [OWNER_ANNOTATION]: 'ns/x' } } };
    assert.deepEqual(ownership(desired, undefined), { state: 'absent' });
    assert.deepEqual(ownership(desired, { metadata: { annotations: { [OWNER_ANNOTATION]: 'ns/x' } } }), { state: 'ours' });
    assert.deepEqual(ownership(desired, { metadata: {} }), { state: 'foreign', owner: undefined });
    assert.deepEqual(ownership(desired, { metadata: { annotations: { [OWNER_ANNOTATION]: 'ns/x-public' } } }), { state: 'foreign', owner: 'ns/x-public' });
  });

  it('the hostname holder does not depend on the order claims are seen in', () => {
    const claim = fc.record({
      namespace: fc.constantFrom('a', 'b', 'c'),
      name: fc.constantFrom('x', 'y', 'z'),
      hostname: fc.constant('h'),
      creationTimestamp: fc.constantFrom('2026-01-01T00:00:00Z', '2026-01-02T00:00:00Z'),
    });
    fc.assert(
      fc.property(fc.array(claim, { minLength: 1, maxLength: 8 }), (claims: HostnameClaim[]) => {
        const h = hostnameHolder('h', claims)!;
        const r = hostnameHolder('h', [...claims].reverse())!;
        assert.equal(`${r.namespace}/${r.name}/${String(r.creationTimestamp)}`, `${h.namespace}/${h.name}/${String(h.creationTimestamp)}`);
        for (const c of claims) assert.ok(compareClaims(h, c) <= 0);
      }),
    );
  });
});

describe('desired state: needsFinalizer (only what owner references cannot remove)', () => {
  const children = (spec: Partial<NebariApp['spec']>) => desiredState(app(spec), facts(), config(), NOW).children;
  it('children in the app namespace with owner references and no TLS Certificate: no finalizer', () => {
    const cs = children({ routing: { tls: { enabled: false } } });
    assert.ok(cs.length > 0 && cs.every((c) => c.metadata.ownerReferences?.length));
    assert.equal(needsFinalizer(cs, [], false), false);
  });
  it('a cert-manager Certificate (its TLS Secret has no owner reference), a child outside the namespace, or provisioned auth: finalizer', () => {
    assert.equal(needsFinalizer(children({}), [], false), true, 'TLS via cert-manager');
    const cross = children({ routing: { tls: { enabled: false } }, service: { name: 'hub', port: 8080, namespace: 'backend' } });
    assert.ok(cross.some((c) => c.kind === 'ReferenceGrant' && !c.metadata.ownerReferences));
    assert.equal(needsFinalizer(cross, [], false), true, 'ReferenceGrant in the backend namespace');
    assert.equal(needsFinalizer(children({ routing: { tls: { enabled: false } } }), [], true), true, 'Keycloak clients');
    assert.equal(needsFinalizer([], [], false), false, 'nothing at all');
  });
  it('what the app still owns counts too (a ReferenceGrant from an earlier spec, not desired any more)', () => {
    const cross = children({ routing: { tls: { enabled: false } }, service: { name: 'hub', port: 8080, namespace: 'backend' } });
    const grant = cross.find((c) => c.kind === 'ReferenceGrant')!;
    assert.equal(needsFinalizer(children({ routing: { tls: { enabled: false } } }), [grant], false), true);
  });
});
