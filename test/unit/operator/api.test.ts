import assert from 'node:assert/strict';
import { applyDefaults, validate, validateSpec, formatErrors } from '../../../operator/src/api/validate.js';
import fc from 'fast-check';
import { HTTPS_ISSUER_PATTERN, celRules } from '../../../operator/src/api/schema.js';
import { nebariAppCrd } from '../../../operator/src/api/crd.js';
import {
  API_VERSION,
  CONTRACT_REASONS,
  FINALIZER,
  FORCE_REPROVISION_ANNOTATION,
  MANAGED_NAMESPACE_LABEL,
  clientId,
  clientSecretName,
  fitName,
  labelValue,
  type NebariAppSpec,
} from '../../../operator/src/api/types.js';

const base = (): NebariAppSpec => ({ hostname: 'app.example.com', service: { name: 'web', port: 80 } });
const fields = (spec: unknown) => validateSpec(spec).map((e) => e.field);

describe('NebariApp API: constants of the contract', () => {
  it('names the group, version, kind, label, annotation and finalizer', () => {
    assert.equal(API_VERSION, 'reconcilers.nebari.dev/v1');
    assert.equal(MANAGED_NAMESPACE_LABEL, 'nebari.dev/managed');
    assert.equal(FORCE_REPROVISION_ANNOTATION, 'nebari.dev/force-reprovision');
    assert.equal(FINALIZER, 'reconcilers.nebari.dev/cleanup');
  });

  it('keeps every contract reason spelled exactly', () => {
    assert.deepEqual(Object.values(CONTRACT_REASONS).sort(), [
      'Available',
      'CertificateNotReady',
      'Failed',
      'GatewayListenerConflict',
      'GatewayNotFound',
      'NamespaceNotOptedIn',
      'ReconcileSuccess',
      'Reconciling',
      'SecretNotFound',
      'ServiceNotFound',
      'ValidationSuccess',
    ]);
  });

  it('derives the Secret name and client id', () => {
    assert.equal(clientSecretName('grafana'), 'grafana-oidc-client');
    assert.equal(clientId('monitoring', 'grafana'), 'monitoring-grafana');
    const long = 'a'.repeat(250);
    assert.ok(clientSecretName(long).length <= 253);
    assert.notEqual(clientSecretName(long), clientSecretName(`${'a'.repeat(249)}b`));
  });

  it('fits names and label values with a stable hash suffix', () => {
    assert.equal(fitName('short', 63), 'short');
    const v = labelValue('x'.repeat(100));
    assert.equal(v.length, 63);
    assert.equal(v, labelValue('x'.repeat(100)));
    assert.match(v, /^x+-[0-9a-f]{8}$/);
  });
});

describe('NebariApp API: applyDefaults', () => {
  it('leaves a minimal spec with only gateway defaulted (nested defaults need their parent)', () => {
    assert.deepEqual(applyDefaults(base()), { ...base(), gateway: 'public' });
  });

  it('does not change its input', () => {
    const spec = { ...base(), auth: { enabled: true } };
    const copy = structuredClone(spec);
    applyDefaults(spec);
    assert.deepEqual(spec, copy);
  });

  it('fills routing: tls.enabled true, routes pathType PathPrefix, publicRoutes pathType Exact', () => {
    const d = applyDefaults({ ...base(), routing: { routes: [{ pathPrefix: '/a' }], publicRoutes: [{ pathPrefix: '/health' }] } });
    assert.deepEqual(d.routing, {
      routes: [{ pathPrefix: '/a', pathType: 'PathPrefix' }],
      publicRoutes: [{ pathPrefix: '/health', pathType: 'Exact' }],
      tls: { enabled: true },
    });
    assert.equal(applyDefaults({ ...base(), routing: { tls: { enabled: false } } }).routing?.tls?.enabled, false);
  });

  it('fills auth: enabled false, provider keycloak, provisionClient true, enforceAtGateway true, forwardAccessToken false, redirectURI, scopes', () => {
    const d = applyDefaults({ ...base(), auth: {} });
    assert.deepEqual(d.auth, {
      enabled: false,
      provider: 'keycloak',
      provisionClient: true,
      enforceAtGateway: true,
      forwardAccessToken: false,
      redirectURI: '/oauth2/callback',
      scopes: ['openid', 'profile', 'email'],
    });
  });

  it('fills denyRedirect type Exact, spaClient/deviceFlowClient/tokenExchange enabled false', () => {
    const d = applyDefaults({
      ...base(),
      auth: { enabled: true, denyRedirect: [{ name: 'X-Requested-With', value: 'XMLHttpRequest' }], spaClient: {}, deviceFlowClient: {}, tokenExchange: {} },
    });
    assert.equal(d.auth?.denyRedirect?.[0]?.type, 'Exact');
    assert.equal(d.auth?.spaClient?.enabled, false);
    assert.equal(d.auth?.deviceFlowClient?.enabled, false);
    assert.equal(d.auth?.tokenExchange?.enabled, false);
  });

  it('fills landingPage: enabled false, priority 100, healthCheck enabled false, path /health, interval 30, timeout 5', () => {
    const d = applyDefaults({ ...base(), landingPage: { healthCheck: {} } });
    assert.deepEqual(d.landingPage, {
      enabled: false,
      priority: 100,
      healthCheck: { enabled: false, path: '/health', intervalSeconds: 30, timeoutSeconds: 5 },
    });
  });

  it('keeps explicit values', () => {
    const d = applyDefaults({ ...base(), gateway: 'internal', auth: { scopes: ['openid'], redirectURI: '/cb' }, landingPage: { priority: 5 } });
    assert.equal(d.gateway, 'internal');
    assert.deepEqual(d.auth?.scopes, ['openid']);
    assert.equal(d.auth?.redirectURI, '/cb');
    assert.equal(d.landingPage?.priority, 5);
  });
});

describe('NebariApp API: validate', () => {
  it('accepts a minimal and a full spec', () => {
    assert.deepEqual(validateSpec(base()), []);
    assert.deepEqual(
      validateSpec({
        ...base(),
        service: { name: 'web', port: 443, namespace: 'shared' },
        routing: { routes: [{ pathPrefix: '/', pathType: 'PathPrefix' }], publicRoutes: [{ pathPrefix: '/health' }], tls: { enabled: true }, annotations: { a: 'b' } },
        auth: {
          enabled: true,
          provider: 'keycloak',
          provisionClient: true,
          enforceAtGateway: true,
          forwardAccessToken: true,
          denyRedirect: [{ name: 'X-Requested-With', value: 'XMLHttpRequest', type: 'Exact' }],
          redirectURI: '/oauth2/callback',
          scopes: ['openid', 'groups'],
          groups: ['admins'],
          spaClient: { enabled: true, clientId: 'x-spa' },
          deviceFlowClient: { enabled: true },
          keycloakConfig: { groups: [{ name: 'admins', members: ['alice'] }], protocolMappers: [{ name: 'g', protocolMapper: 'oidc-group-membership-mapper', config: { 'claim.name': 'groups' } }] },
          tokenExchange: { enabled: true },
        },
        gateway: 'internal',
        serviceAccountName: 'web-sa',
        landingPage: {
          enabled: true,
          displayName: 'Web',
          description: 'd',
          icon: 'jupyter',
          category: 'Development',
          priority: 0,
          externalUrl: 'https://other.example.com/x',
          healthCheck: { enabled: true, path: '/healthz', port: 8081, intervalSeconds: 10, timeoutSeconds: 30 },
        },
      }),
      [],
    );
  });

  it('requires hostname and service name/port', () => {
    assert.deepEqual(fields({ service: {} }).sort(), ['spec.hostname', 'spec.service.name', 'spec.service.port']);
    assert.deepEqual(validateSpec(undefined), [{ field: 'spec', message: 'is required and must be an object' }]);
  });

  it('checks the hostname pattern and label length', () => {
    assert.deepEqual(fields({ ...base(), hostname: 'App.example.com' }), ['spec.hostname']);
    assert.deepEqual(fields({ ...base(), hostname: '-a.example.com' }), ['spec.hostname']);
    assert.deepEqual(fields({ ...base(), hostname: `${'a'.repeat(64)}.example.com` }), ['spec.hostname']);
    assert.deepEqual(fields({ ...base(), hostname: `${'a'.repeat(63)}.example.com` }), []);
    assert.match(validateSpec({ ...base(), hostname: 'A.b' })[0]!.message, /^must be a lower-case DNS name such as app.example.com: must match the pattern/);
    assert.match(validateSpec({ ...base(), auth: { redirectURI: 'cb' } })[0]!.message, /^must be a path starting with "\/" without spaces/);
  });

  it('checks port range 1..65535 and says so', () => {
    for (const port of [0, 65536, 1.5]) {
      const errs = validateSpec({ ...base(), service: { name: 'web', port } });
      assert.equal(errs[0]?.field, 'spec.service.port');
    }
    assert.match(validateSpec({ ...base(), service: { name: 'web', port: 0 } })[0]!.message, /between 1 and 65535/);
  });

  it('lists allowed values for enums', () => {
    const e = validateSpec({ ...base(), gateway: 'dmz' });
    assert.deepEqual(e, [{ field: 'spec.gateway', message: 'must be one of: public, internal' }]);
    assert.deepEqual(fields({ ...base(), auth: { provider: 'okta' } }), ['spec.auth.provider']);
    assert.deepEqual(fields({ ...base(), routing: { routes: [{ pathPrefix: '/', pathType: 'Regex' }] } }), ['spec.routing.routes[0].pathType']);
    assert.deepEqual(fields({ ...base(), auth: { enabled: true, denyRedirect: [{ name: 'a', value: 'b', type: 'Glob' }] } }), ['spec.auth.denyRedirect[0].type']);
  });

  it('rejects unknown fields and names the allowed ones', () => {
    const e = validateSpec({ ...base(), routing: { tls: { enabled: true, secretname: 'x' } } });
    assert.equal(e.length, 1);
    assert.equal(e[0]!.field, 'spec.routing.tls.secretname');
    assert.match(e[0]!.message, /allowed fields here: enabled/);
  });

  it('enforces ranges and lengths of landingPage and healthCheck', () => {
    assert.deepEqual(fields({ ...base(), landingPage: { priority: 1001 } }), ['spec.landingPage.priority']);
    assert.deepEqual(fields({ ...base(), landingPage: { priority: -1 } }), ['spec.landingPage.priority']);
    assert.deepEqual(fields({ ...base(), landingPage: { displayName: 'x'.repeat(65) } }), ['spec.landingPage.displayName']);
    assert.deepEqual(fields({ ...base(), landingPage: { description: 'x'.repeat(257) } }), ['spec.landingPage.description']);
    assert.deepEqual(fields({ ...base(), landingPage: { healthCheck: { intervalSeconds: 9 } } }), ['spec.landingPage.healthCheck.intervalSeconds']);
    assert.deepEqual(fields({ ...base(), landingPage: { healthCheck: { intervalSeconds: 301 } } }), ['spec.landingPage.healthCheck.intervalSeconds']);
    assert.deepEqual(fields({ ...base(), landingPage: { healthCheck: { timeoutSeconds: 0 } } }), ['spec.landingPage.healthCheck.timeoutSeconds']);
    assert.deepEqual(fields({ ...base(), landingPage: { healthCheck: { timeoutSeconds: 31 } } }), ['spec.landingPage.healthCheck.timeoutSeconds']);
    assert.deepEqual(fields({ ...base(), landingPage: { healthCheck: { port: 70000 } } }), ['spec.landingPage.healthCheck.port']);
  });

  it('CEL: forwardAccessToken requires enforceAtGateway', () => {
    assert.deepEqual(fields({ ...base(), auth: { enabled: true, forwardAccessToken: true, enforceAtGateway: false } }), ['spec.auth.forwardAccessToken']);
    assert.deepEqual(fields({ ...base(), auth: { enabled: true, forwardAccessToken: true } }), []);
  });

  it('CEL: denyRedirect only with enforceAtGateway', () => {
    const dr = [{ name: 'X-Requested-With', value: 'XMLHttpRequest' }];
    assert.deepEqual(fields({ ...base(), auth: { enabled: true, enforceAtGateway: false, denyRedirect: dr } }), ['spec.auth.denyRedirect']);
    assert.deepEqual(fields({ ...base(), auth: { enabled: true, enforceAtGateway: false, denyRedirect: [] } }), []);
  });

  it('CEL: issuerURL required for generic-oidc, ignored for keycloak; generic-oidc without clientSecretRef passes (the operator reports ProvisioningNotSupported)', () => {
    assert.deepEqual(fields({ ...base(), auth: { provider: 'generic-oidc' } }), ['spec.auth.issuerURL']);
    assert.deepEqual(fields({ ...base(), auth: { enabled: true, provider: 'generic-oidc', issuerURL: 'https://idp.example.com' } }), []);
    assert.deepEqual(fields({ ...base(), auth: { enabled: true, provider: 'generic-oidc', issuerURL: 'https://idp.example.com', clientSecretRef: 'creds' } }), []);
    assert.deepEqual(fields({ ...base(), auth: { enabled: true, issuerURL: 'https://ignored.example.com' } }), []);
    assert.deepEqual(fields({ ...base(), auth: { issuerURL: 'not a url' } }), ['spec.auth.issuerURL']);
  });

  it('auth.issuerURL must be https:// (Envoy Gateway\'s SecurityPolicy accepts no other issuer); the error names the field', () => {
    for (const ok of ['https://idp.example.com', 'https://idp.example.com/realms/nebari', 'https://idp.example.com:8443/a/b/', 'https://10.0.0.1/x']) {
      assert.deepEqual(validateSpec({ ...base(), auth: { enabled: true, provider: 'generic-oidc', issuerURL: ok, clientSecretRef: 'c' } }), [], ok);
    }
    for (const bad of ['http://idp.example.com', 'HTTPS://idp.example.com', 'https://', 'https:///path', 'https://user@idp.example.com', 'https://idp.example.com/x?y=1', 'https://idp.example.com/#f', 'https://idp.example.com/a b', 'idp.example.com']) {
      const errors = validateSpec({ ...base(), auth: { enabled: true, provider: 'generic-oidc', issuerURL: bad, clientSecretRef: 'c' } });
      assert.deepEqual(errors.map((e) => e.field), ['spec.auth.issuerURL'], bad);
      assert.match(errors[0]!.message, /must be an https:\/\/ issuer URL without query, fragment or user info/, bad);
    }
    assert.match(formatErrors(validateSpec({ ...base(), auth: { issuerURL: 'http://idp.example.com' } })), /spec\.auth\.issuerURL: must be an https:\/\/ issuer URL/);
    // the CRD carries the same rule, so the API server refuses what the gateway would refuse
    const crd = nebariAppCrd() as any; // eslint-disable-line @typescript-eslint/no-explicit-any
    const issuer = crd.spec.versions[0].schema.openAPIV3Schema.properties.spec.properties.auth.properties.issuerURL;
    assert.equal(issuer.pattern, HTTPS_ISSUER_PATTERN);
    // Everything it accepts, Envoy Gateway's own rule accepts too (the pattern of spec.oidc.provider.issuer in its
    // SecurityPolicy CRD, a fact copied from that CRD; the integration test test/integration/operator/lifecycle.test.ts
    // shows the real CRD accepting the operator's policy)
    const envoy = /^https:\/\/[^/?#@]+(\/[^?#]*)?$/;
    fc.assert(
      fc.property(fc.webUrl({ withQueryParameters: true, withFragments: true }), fc.string(), (url, junk) => {
        for (const candidate of [url, url.replace(/^http:/, 'https:'), `${url}${junk}`]) {
          if (new RegExp(HTTPS_ISSUER_PATTERN).test(candidate)) assert.ok(envoy.test(candidate), candidate);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('CEL: displayName required when landingPage.enabled', () => {
    const e = validateSpec({ ...base(), landingPage: { enabled: true } });
    assert.deepEqual(e, [{ field: 'spec.landingPage.displayName', message: 'displayName is required when landingPage.enabled is true' }]);
    assert.deepEqual(fields({ ...base(), landingPage: { enabled: true, displayName: '' } }), ['spec.landingPage.displayName']);
    assert.deepEqual(fields({ ...base(), landingPage: { enabled: false } }), []);
  });

  it('CEL: pathPrefix starts with "/" in routes and publicRoutes', () => {
    assert.deepEqual(fields({ ...base(), routing: { routes: [{ pathPrefix: '/ok' }, { pathPrefix: 'bad' }] } }), ['spec.routing.routes[1].pathPrefix']);
    assert.deepEqual(fields({ ...base(), routing: { publicRoutes: [{ pathPrefix: 'bad' }] } }), ['spec.routing.publicRoutes[0].pathPrefix']);
  });

  it('bounds list sizes (routes fit one HTTPRoute rule)', () => {
    const routes = Array.from({ length: 65 }, (_, i) => ({ pathPrefix: `/p${i}` }));
    assert.deepEqual(fields({ ...base(), routing: { routes } }), ['spec.routing.routes']);
  });

  it('validates names of referenced objects', () => {
    assert.deepEqual(fields({ ...base(), service: { name: 'Web', port: 80 } }), ['spec.service.name']);
    assert.deepEqual(fields({ ...base(), service: { name: 'web', port: 80, namespace: 'a.b' } }), ['spec.service.namespace']);
    assert.deepEqual(fields({ ...base(), auth: { clientSecretRef: 'Bad_Name' } }), ['spec.auth.clientSecretRef']);
    assert.deepEqual(fields({ ...base(), serviceAccountName: 'x y' }), ['spec.serviceAccountName']);
    assert.deepEqual(fields({ ...base(), auth: { redirectURI: 'callback' } }), ['spec.auth.redirectURI']);
    assert.deepEqual(fields({ ...base(), auth: { scopes: ['open id'] } }), ['spec.auth.scopes[0]']);
    assert.deepEqual(fields({ ...base(), routing: { tls: { secretName: 'my-tls' } } }), []);
    const bad = validateSpec({ ...base(), routing: { tls: { secretName: 'My_TLS' } } });
    assert.deepEqual(bad.map((e) => e.field), ['spec.routing.tls.secretName']);
    assert.match(bad[0]!.message, /must be a lower-case DNS name/);
    // Envoy Gateway's SecurityPolicy takes header values of at most 1024 characters: refused up front, named
    const dr = (value: string) => ({ ...base(), auth: { enabled: true, denyRedirect: [{ name: 'X-Long', value }] } });
    assert.deepEqual(fields(dr('x'.repeat(1024))), []);
    assert.deepEqual(validateSpec(dr('x'.repeat(1025))), [{ field: 'spec.auth.denyRedirect[0].value', message: 'must be at most 1024 characters' }]);
  });

  it('validate() checks apiVersion and kind and formats errors on one line', () => {
    const e = validate({ apiVersion: 'v1', kind: 'Pod', spec: base() });
    assert.deepEqual(e.map((x) => x.field), ['apiVersion', 'kind']);
    assert.equal(formatErrors(e), 'apiVersion: must be reconcilers.nebari.dev/v1; kind: must be NebariApp');
    assert.deepEqual(validate({ apiVersion: 'reconcilers.nebari.dev/v1', kind: 'NebariApp', metadata: { name: 'a' }, spec: base() }), []);
    assert.deepEqual(validate(null), [{ field: '', message: 'a NebariApp must be an object' }]);
  });
});

describe('NebariApp API: CEL rules are one source', () => {
  it('every rule in celRules appears in the generated CRD at its location with the same message', () => {
    const crd = nebariAppCrd() as any; // eslint-disable-line @typescript-eslint/no-explicit-any
    const root = crd.spec.versions[0].schema.openAPIV3Schema;
    for (const r of celRules) {
      let node = root;
      for (const seg of r.at.split('.')) node = seg === '*' ? node.items : node.properties[seg];
      const found = (node['x-kubernetes-validations'] as { rule: string; message: string; fieldPath: string }[]).find((v) => v.rule === r.rule);
      assert.ok(found, `rule at ${r.at} missing from the CRD`);
      assert.equal(found.message, r.message);
      assert.equal(found.fieldPath, `.${r.field}`);
    }
  });
});
