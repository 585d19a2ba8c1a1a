import assert from 'node:assert/strict';
import { createLogger, redact, isSensitiveKey, parseLogLevel } from '../../../operator/src/runtime/logger.js';
import { canAcquire, microTime } from '../../../operator/src/runtime/leader.js';
import { compareResourceVersions, RecentWrites } from '../../../operator/src/runtime/recent-writes.js';
import { parseListenAddress } from '../../../operator/src/runtime/server.js';
import { KEYCLOAK_ADMIN_CREDENTIALS_DIR, configWarnings, loadConfig } from '../../../operator/src/config.js';
import { AppIndex, gatewayClassesOf, keysForAppEvent, keysForChild, sameCachedForm } from '../../../operator/src/reconciler-index.js';
import { secretToKeys } from '../../../operator/src/reconciler-resources.js';
import { wantsGenericJwks, wantsProvisioning, OidcDiscovery } from '../../../operator/src/reconciler-auth.js';
import { acceptanceFact, certificateFact, factsAfterWrites, listenerFact } from '../../../operator/src/reconciler-facts.js';
import { childNames } from '../../../operator/src/desired/objects.js';
import type { ObservedFacts } from '../../../operator/src/desired/facts.js';
import { silentLogger } from '../../../operator/src/runtime/logger.js';
import type { NebariApp } from '../../../operator/src/api/types.js';

const app = (ns: string, name: string, spec: Record<string, unknown>, meta: Record<string, unknown> = {}): NebariApp =>
  ({ apiVersion: 'reconcilers.nebari.dev/v1', kind: 'NebariApp', metadata: { namespace: ns, name, generation: 1, ...meta }, spec }) as unknown as NebariApp;

describe('operator runtime: JSON logger', () => {
  it('redacts values under credential-like keys at any depth and prints one JSON object per line', () => {
    const lines: string[] = [];
    const log = createLogger({ write: (l) => lines.push(l) });
    log.info('hello', { clientSecret: 'a', nested: { 'client-secret': 'b', password: 'c', list: [{ token: 'd', ok: 'visible' }] }, Authorization: 'Bearer e', api_key: 'f' });
    assert.equal(lines.length, 1);
    const rec = JSON.parse(lines[0]!);
    assert.equal(rec.msg, 'hello');
    assert.equal(rec.level, 'info');
    const text = lines[0]!;
    for (const v of ['"a"', '"b"', '"c"', '"d"', 'Bearer e', '"f"']) assert.ok(!text.includes(v), `leaked ${v}: ${text}`);
    assert.equal(rec.nested.list[0].ok, 'visible');
    assert.equal(rec.nested['client-secret'], '[REDACTED]');
  });

  it('flattens errors, survives cycles, honours the level', () => {
    const lines: string[] = [];
    const log = createLogger({ level: 'warn', write: (l) => lines.push(l) });
    const cyc: Record<string, unknown> = { a: 1 };
    cyc.self = cyc;
    log.info('dropped');
    log.warn('kept', { err: Object.assign(new Error('boom'), { statusCode: 409 }), cyc });
    assert.equal(lines.length, 1);
    const rec = JSON.parse(lines[0]!);
    assert.deepEqual(rec.err, { name: 'Error', message: 'boom', code: 409 });
    assert.equal(rec.cyc.self, '[Circular]');
    assert.equal(isSensitiveKey('issuerURL'), false);
    assert.equal(isSensitiveKey('KEYCLOAK_ADMIN_PASSWORD'), true);
    assert.deepEqual(redact({ secretName: 'x' }), { secretName: '[REDACTED]' });
    assert.throws(() => parseLogLevel('loud'), /LOG_LEVEL: "loud" is not a log level; allowed: debug, info, warn, error/);
  });
});

describe('operator runtime: leader election decisions', () => {
  it('may take a free, own or expired Lease, never a live one held by another', () => {
    assert.equal(canAcquire(undefined, 'me', 0, 15_000), true);
    assert.equal(canAcquire({ holderIdentity: '' }, 'me', 0, 15_000), true);
    assert.equal(canAcquire({ holderIdentity: null }, 'me', 0, 15_000), true);
    assert.equal(canAcquire({ holderIdentity: 'me' }, 'me', 0, 15_000), true);
    assert.equal(canAcquire({ holderIdentity: 'other' }, 'me', 14_999, 15_000), false);
    assert.equal(canAcquire({ holderIdentity: 'other' }, 'me', 15_000, 15_000), true);
  });
  it('MicroTime has microsecond precision', () => {
    assert.equal(microTime(Date.UTC(2026, 0, 2, 3, 4, 5, 678)), '2026-01-02T03:04:05.678000Z');
  });
});

describe('operator runtime: RecentWrites', () => {
  it('prefers the written object until the cache moves past the resourceVersion seen at write time', () => {
    const rw = new RecentWrites();
    const cached = { metadata: { name: 'a', resourceVersion: '1' } };
    const written = { metadata: { name: 'a', resourceVersion: '2' }, spec: { x: 1 } };
    rw.recordWrite('id', cached, written);
    assert.equal(rw.observe('id', cached), written, 'stale cache: use what we wrote');
    const fresh = { metadata: { name: 'a', resourceVersion: '2' } };
    assert.equal(rw.observe('id', fresh), fresh, 'cache caught up');
    assert.equal(rw.size, 0);
    rw.recordDelete('gone', cached);
    assert.equal(rw.observe('gone', cached), undefined, 'deleted although the cache still shows it');
    assert.equal(rw.observe('gone', undefined), undefined);
    rw.recordWrite('new', undefined, written);
    assert.equal(rw.observe('new', undefined), written, 'created before the cache saw it');
  });

  it('two writes of one object in a reconcile (finalizer, then status): a cache that caught up with the first only is still stale', () => {
    const rw = new RecentWrites();
    const start = { metadata: { name: 'a', resourceVersion: '1' } };
    const finalizer = { metadata: { name: 'a', resourceVersion: '2', finalizers: ['f'] } };
    const status = { metadata: { name: 'a', resourceVersion: '3', finalizers: ['f'] }, status: { observedGeneration: 1 } };
    rw.recordWrite('app', start, finalizer);
    // the status write records the cache as the reconcile saw it at its start
    rw.recordWrite('app', start, status);
    assert.equal(rw.observe('app', start), status);
    assert.equal(rw.observe('app', finalizer), status, 'the finalizer event arrived, the status one not yet');
    const after = { metadata: { name: 'a', resourceVersion: '3' }, status: { observedGeneration: 1 } };
    assert.equal(rw.observe('app', after), after, 'caught up with the status write');
    assert.equal(rw.size, 0);
  });
});

describe('operator runtime: RecentWrites, versions between the cache and the write', () => {
  it("the echo of our earlier write arriving between a reconcile's start and its write does not make the cache look newer", () => {
    // seen in the lifecycle test: reconcile C wrote status 431; reconcile D started on 429, the echo 431 arrived
    // and dropped C's record, D wrote 433; the next reconcile then read 431 and took C's status for the server's
    const rw = new RecentWrites();
    const v = (rv: string, ready: string) => ({ metadata: { name: 'a', resourceVersion: rv }, status: { ready } });
    rw.recordWrite('app', v('429', 'spec'), v('431', 'Available'));
    rw.cacheUpdated('app', v('431', 'Available'));
    assert.equal(rw.size, 0, 'the cache caught up with the first write');
    rw.recordWrite('app', v('429', 'spec'), v('433', 'Reconciling'));
    assert.deepEqual(rw.observe('app', v('431', 'Available')), v('433', 'Reconciling'), 'the cache is older than the write');
    assert.deepEqual(rw.observe('app', v('434', 'Available')), v('434', 'Available'), 'someone wrote after us: the cache is newer');
  });

  it('compares resourceVersions as integers of any length, and refuses to order what is not one', () => {
    assert.equal(compareResourceVersions('9', '10')! < 0, true);
    assert.equal(compareResourceVersions('100000000000000000001', '100000000000000000002')! < 0, true, 'beyond 2^53');
    assert.equal(compareResourceVersions('12', '12'), 0);
    assert.equal(compareResourceVersions('13', '12')! > 0, true);
    for (const [a, b] of [['a', '1'], ['1', ''], ['01', '2'], ['1.5', '2']] as const) assert.equal(compareResourceVersions(a, b), undefined, `${a} vs ${b}`);
    // not integers: only the versions known to be older keep the record, as before
    const rw = new RecentWrites();
    rw.recordWrite('x', { metadata: { name: 'x', resourceVersion: 'p' } }, { metadata: { name: 'x', resourceVersion: 'r' } });
    assert.equal(rw.observe('x', { metadata: { name: 'x', resourceVersion: 'p' } })?.metadata.resourceVersion, 'r');
    assert.equal(rw.observe('x', { metadata: { name: 'x', resourceVersion: 'q' } })?.metadata.resourceVersion, 'q');
  });
});

describe('operator runtime: RecentWrites, the events of our own writes', () => {
  it('an event carrying exactly what one of our writes returned is an echo; anything newer or older is not', () => {
    const rw = new RecentWrites();
    const start = { metadata: { name: 'a', resourceVersion: '1' } };
    const finalizer = { metadata: { name: 'a', resourceVersion: '2', finalizers: ['f'] } };
    const status = { metadata: { name: 'a', resourceVersion: '3' }, status: { observedGeneration: 1 } };
    assert.equal(rw.isOwnEcho('app', finalizer), false, 'nothing written yet');
    rw.recordWrite('app', start, finalizer);
    rw.recordWrite('app', start, status);
    assert.equal(rw.isOwnEcho('app', start), false, 'the version before our writes');
    assert.equal(rw.isOwnEcho('app', finalizer), true, 'the first write of the chain');
    assert.equal(rw.isOwnEcho('app', status), true, 'the second');
    assert.equal(rw.isOwnEcho('app', { metadata: { name: 'a', resourceVersion: '4' } }), false, 'someone else changed it since');
    assert.equal(rw.isOwnEcho('other', status), false, 'another object');
    assert.equal(rw.isOwnEcho('app', { metadata: { name: 'a' } }), false, 'no resourceVersion');
  });
  it('cacheUpdated drops the written copy as soon as the cache holds it (no reconcile needed), keeps it while the cache is behind', () => {
    const rw = new RecentWrites();
    const start = { metadata: { name: 'a', resourceVersion: '1' } };
    const finalizer = { metadata: { name: 'a', resourceVersion: '2' } };
    const status = { metadata: { name: 'a', resourceVersion: '3' } };
    rw.recordWrite('app', start, finalizer);
    rw.recordWrite('app', start, status);
    rw.cacheUpdated('app', finalizer);
    assert.equal(rw.size, 1, 'the cache caught up with the first write only');
    assert.equal(rw.observe('app', finalizer), status);
    rw.cacheUpdated('app', status);
    assert.equal(rw.size, 0, 'caught up: the copy is gone');
    rw.recordDelete('gone', start);
    rw.cacheUpdated('gone', undefined);
    assert.equal(rw.size, 0, 'the deletion arrived');
    rw.cacheUpdated('never-written', status);
    assert.equal(rw.size, 0);
  });

  it('an echo is still recognised after the cache caught up (its event may be judged after the reconcile that wrote it), not after the time-to-live', () => {
    const rw = new RecentWrites();
    const written = { metadata: { name: 'a', resourceVersion: '2' } };
    rw.recordWrite('app', { metadata: { name: 'a', resourceVersion: '1' } }, written);
    assert.equal(rw.observe('app', written), written, 'the cache holds our write');
    assert.equal(rw.size, 0, 'the observation record is gone');
    assert.equal(rw.isOwnEcho('app', written), true, 'the version is still known as ours');
    const short = new RecentWrites(-1);
    short.recordWrite('app', undefined, written);
    assert.equal(short.isOwnEcho('app', written), false, 'expired');
  });
});

describe('operator runtime: sameCachedForm (events that change nothing reconciliation reads)', () => {
  it('an update equal apart from resourceVersion is nothing; any other difference, an add or a delete is something', () => {
    const gw = (rv: string, extra: object = {}) => ({ apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', metadata: { name: 'public', namespace: 'gw', uid: 'u', resourceVersion: rv, ...extra } });
    assert.equal(sameCachedForm('update', gw('2'), gw('1')), true, 'a status write on the Gateway: the trimmed form is the same');
    assert.equal(sameCachedForm('update', gw('2', { uid: 'v' }), gw('1')), false, 'a different object');
    assert.equal(sameCachedForm('add', gw('1'), undefined), false);
    assert.equal(sameCachedForm('delete', gw('1'), undefined), false);
    const ns = (labels: Record<string, string>, rv: string) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'a', resourceVersion: rv, labels } });
    assert.equal(sameCachedForm('update', ns({ 'nebari.dev/managed': 'true' }, '2'), ns({}, '1')), false, 'the opt-in label changed');
    assert.equal(sameCachedForm('update', ns({ b: '1', a: '2' }, '2'), ns({ a: '2', b: '1' }, '1')), true, 'key order does not matter');
  });
});

describe('operator config', () => {
  it('defaults match the foundation (gateways public/internal in envoy-gateway-system, namespace nkp-operator, 127.0.0.1)', () => {
    const s = loadConfig({}, []);
    assert.deepEqual(s.gateways, { public: { name: 'public', namespace: 'envoy-gateway-system' }, internal: { name: 'internal', namespace: 'envoy-gateway-system' } });
    assert.equal(s.operatorNamespace, 'nkp-operator');
    assert.deepEqual(s.metricsAddress, { host: '127.0.0.1', port: 8080 });
    assert.equal(s.leaderElection, true);
    assert.deepEqual(s.watchNamespaces, []);
    assert.equal(s.keycloak, undefined);
    assert.equal(s.externalBackoffBaseMs, 1000, 'apps waiting on Keycloak: first retry after 1 s');
    assert.equal(s.externalBackoffMaxMs, 300_000, '... doubling up to 5 min');
  });
  it('the external backoff is configurable and its base may not exceed its cap', () => {
    const s = loadConfig({ EXTERNAL_BACKOFF_BASE_MS: '200' }, ['--external-backoff-max-ms=2000']);
    assert.equal(s.externalBackoffBaseMs, 200);
    assert.equal(s.externalBackoffMaxMs, 2000);
    assert.throws(
      () => loadConfig({ EXTERNAL_BACKOFF_BASE_MS: '5000', EXTERNAL_BACKOFF_MAX_MS: '1000' }),
      /--external-backoff-base-ms \/ EXTERNAL_BACKOFF_BASE_MS \(5000\) must not exceed --external-backoff-max-ms \/ EXTERNAL_BACKOFF_MAX_MS \(1000\)/,
    );
    assert.throws(() => loadConfig({ EXTERNAL_BACKOFF_MAX_MS: '0' }), /--external-backoff-max-ms \/ EXTERNAL_BACKOFF_MAX_MS: "0" must be an integer from 1 to 86400000/);
  });
  it('an http issuer is allowed (local tests) but warned about, naming the setting; https gives no warning', () => {
    const s = loadConfig({ OIDC_ISSUER_URL: 'http://127.0.0.1:8081/realms/nebari' });
    assert.equal(s.issuerURL, 'http://127.0.0.1:8081/realms/nebari');
    const [w, ...more] = configWarnings(s);
    assert.deepEqual(more, []);
    assert.match(w!, /^--oidc-issuer-url \/ OIDC_ISSUER_URL "http:\/\/127\.0\.0\.1:8081\/realms\/nebari" is http:\/\/: /);
    assert.match(w!, /SecurityPolicy accepts only an https issuer/);
    assert.deepEqual(configWarnings(loadConfig({ OIDC_ISSUER_URL: 'https://auth.example.com/realms/nebari' })), []);
    assert.deepEqual(configWarnings(loadConfig({})), [], 'no issuer, nothing to warn about');
  });
  it('flags win over environment variables', () => {
    const s = loadConfig({ CONCURRENCY: '4', WATCH_NAMESPACES: 'a,b' }, ['--concurrency=16', '--log-level', 'debug']);
    assert.equal(s.concurrency, 16);
    assert.equal(s.logLevel, 'debug');
    assert.deepEqual(s.watchNamespaces, ['a', 'b']);
  });
  it('bad values name the flag/variable and what is allowed', () => {
    assert.throws(() => loadConfig({ CONCURRENCY: '0' }), /--concurrency \/ CONCURRENCY: "0" must be an integer from 1 to 256/);
    assert.throws(() => loadConfig({ OIDC_ISSUER_URL: 'ftp://x' }), /--oidc-issuer-url \/ OIDC_ISSUER_URL: "ftp:\/\/x" must be http:\/\/ or https:\/\//);
    assert.throws(() => loadConfig({ LEASE_DURATION_SECONDS: '5', RENEW_DEADLINE_SECONDS: '10' }), /lease duration > renew deadline > retry period/);
    assert.throws(() => loadConfig({}, ['--nope=1']), /unknown flag --nope/);
    assert.throws(() => loadConfig({ WATCH_NAMESPACES: 'Bad_NS' }), /"Bad_NS" is not a namespace name/);
    assert.throws(() => loadConfig({ LEADER_ELECTION: 'maybe' }), /must be true or false/);
  });
  it('Keycloak provisioning: on with --keycloak-url, the issuer must be that realm, the credentials path absolute', () => {
    const ok = loadConfig({ KEYCLOAK_URL: 'http://keycloak.keycloak.svc:8080/', OIDC_ISSUER_URL: 'https://auth.example.com/realms/nebari' });
    assert.deepEqual(ok.keycloak, {
      url: 'http://keycloak.keycloak.svc:8080',
      realm: 'nebari',
      adminRealm: 'master',
      adminCredentialsFile: KEYCLOAK_ADMIN_CREDENTIALS_DIR,
    });
    const flags = loadConfig({}, ['--keycloak-url=https://kc.internal', '--oidc-issuer-url=https://auth.example.com/realms/lab', '--keycloak-realm=lab', '--keycloak-admin-credentials-file=/etc/kc/admin.json']);
    assert.deepEqual(flags.keycloak, { url: 'https://kc.internal', realm: 'lab', adminRealm: 'master', adminCredentialsFile: '/etc/kc/admin.json' });
    // realm alone (the foundation sets KEYCLOAK_REALM) does not turn provisioning on
    assert.equal(loadConfig({ KEYCLOAK_REALM: 'nebari' }).keycloak, undefined);
    assert.throws(() => loadConfig({ KEYCLOAK_URL: 'http://kc:8080' }), /--oidc-issuer-url \/ OIDC_ISSUER_URL: required with --keycloak-url \/ KEYCLOAK_URL/);
    assert.throws(
      () => loadConfig({ KEYCLOAK_URL: 'http://kc:8080', OIDC_ISSUER_URL: 'https://auth.example.com/realms/other' }),
      /OIDC_ISSUER_URL "https:\/\/auth.example.com\/realms\/other" must be the issuer of realm "nebari" \(--keycloak-realm \/ KEYCLOAK_REALM\)/,
    );
    assert.throws(
      () => loadConfig({ KEYCLOAK_URL: 'http://kc:8080', OIDC_ISSUER_URL: 'https://a.example.com/realms/x', KEYCLOAK_REALM: 'x', KEYCLOAK_ADMIN_CREDENTIALS_FILE: 'creds' }),
      /--keycloak-admin-credentials-file \/ KEYCLOAK_ADMIN_CREDENTIALS_FILE: "creds" must be an absolute path/,
    );
    assert.throws(() => loadConfig({ KEYCLOAK_URL: 'http://kc:8080', OIDC_ISSUER_URL: 'https://a.example.com/realms/x', KEYCLOAK_REALM: 'a/b' }), /--keycloak-realm \/ KEYCLOAK_REALM: "a\/b" must be a Keycloak realm name/);
    assert.throws(() => loadConfig({ KEYCLOAK_URL: 'kc:8080' }), /--keycloak-url \/ KEYCLOAK_URL: "kc:8080" must be http:\/\/ or https:\/\//);
  });
  it('listen addresses', () => {
    assert.deepEqual(parseListenAddress(':9090', 'x'), { host: '127.0.0.1', port: 9090 });
    assert.deepEqual(parseListenAddress('0.0.0.0:8080', 'x'), { host: '0.0.0.0', port: 8080 });
    assert.deepEqual(parseListenAddress('[::1]:8080', 'x'), { host: '::1', port: 8080 });
    assert.throws(() => parseListenAddress('8080', 'METRICS_ADDRESS'), /METRICS_ADDRESS: "8080" is not host:port/);
  });
});

describe('operator reconciler: event mapping', () => {
  it('maps Services, Secrets, namespaces, gateways and children back to the apps they affect', () => {
    const idx = new AppIndex();
    const a = app('ns1', 'a', { hostname: 'h.example', service: { name: 'web', port: 80 }, auth: { enabled: true, clientSecretRef: 'creds' } });
    const b = app('ns2', 'b', { hostname: 'h.example', service: { name: 'api', port: 80, namespace: 'ns3' }, gateway: 'internal' });
    idx.upsert(a);
    idx.upsert(b);
    assert.deepEqual(idx.forService('ns1', 'web'), ['ns1/a']);
    assert.deepEqual(idx.forService('ns3', 'api'), ['ns2/b']);
    assert.deepEqual(idx.forSecret('ns1', 'creds'), ['ns1/a']);
    assert.deepEqual(idx.forSecret('ns1', 'a-oidc-client'), ['ns1/a']);
    assert.deepEqual(idx.forNamespace('ns3').sort(), ['ns1/a', 'ns2/b'], 'backend namespace, plus hostname peers (opt-in changes claims)');
    assert.deepEqual(idx.forGatewayClass('internal'), ['ns2/b']);
    assert.deepEqual(gatewayClassesOf({ public: { name: 'p', namespace: 'gw' }, internal: { name: 'i', namespace: 'gw' } }, 'gw', 'i'), ['internal']);
    assert.deepEqual(keysForChild({ metadata: { name: 'x', annotations: { 'reconcilers.nebari.dev/owner': 'ns1/a' } } }), ['ns1/a']);
    assert.deepEqual(keysForChild({ metadata: { name: 'x' } }), []);
    // a spec change of a reaches its hostname peers; a status-only change does not
    assert.deepEqual(keysForAppEvent(idx, app('ns1', 'a', a.spec as never, { generation: 2 }), a).sort(), ['ns1/a', 'ns2/b']);
    assert.deepEqual(keysForAppEvent(idx, a, a), ['ns1/a']);
    idx.remove('ns1/a');
    assert.deepEqual(idx.forService('ns1', 'web'), []);
    assert.deepEqual(idx.hostnamePeers('h.example'), ['ns2/b']);
  });

  it('Secrets are cached as key names only: values and last-applied-configuration are dropped', () => {
    const s = secretToKeys({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 's', namespace: 'n', annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"data":{"client-secret":"x"}}', keep: 'me' } },
      data: { 'client-secret': 'c2VjcmV0', 'client-id': 'aWQ=' },
    } as never);
    assert.deepEqual(s.keys, ['client-id', 'client-secret']);
    assert.ok(!JSON.stringify(s).includes('c2VjcmV0'));
    assert.ok(!JSON.stringify(s).includes('last-applied'));
    assert.equal(s.metadata.annotations?.keep, 'me');
  });

  it('auth decisions: provisioning only for keycloak + provisionClient without clientSecretRef; JWKS only for generic-oidc with groups', () => {
    assert.equal(wantsProvisioning(app('n', 'a', { auth: { enabled: true } })), true);
    assert.equal(wantsProvisioning(app('n', 'a', { auth: { enabled: true, clientSecretRef: 's' } })), false);
    assert.equal(wantsProvisioning(app('n', 'a', { auth: { enabled: true, provisionClient: false } })), false);
    assert.equal(wantsProvisioning(app('n', 'a', { auth: { enabled: true, provider: 'generic-oidc' } })), false);
    assert.equal(wantsProvisioning(app('n', 'a', { auth: { enabled: false } })), false);
    assert.equal(wantsGenericJwks(app('n', 'a', { auth: { enabled: true, provider: 'generic-oidc', issuerURL: 'https://idp/', groups: ['g'] } })), 'https://idp');
    assert.equal(wantsGenericJwks(app('n', 'a', { auth: { enabled: true, provider: 'generic-oidc', issuerURL: 'https://idp' } })), undefined);
  });

  it('OIDC discovery reads jwks_uri and caches it, failures are cached briefly and never thrown', async () => {
    let calls = 0;
    const fake = (async (url: string) => {
      calls++;
      if (String(url).startsWith('https://bad')) return new Response('nope', { status: 500 });
      return Response.json({ issuer: 'https://idp', jwks_uri: 'https://idp/keys' });
    }) as typeof fetch;
    const d = new OidcDiscovery(silentLogger, fake);
    assert.equal(await d.jwksURI('https://idp'), 'https://idp/keys');
    assert.equal(await d.jwksURI('https://idp'), 'https://idp/keys');
    assert.equal(calls, 1);
    assert.equal(await d.jwksURI('https://bad'), undefined);
    assert.equal(await d.jwksURI('https://bad'), undefined);
    assert.equal(calls, 2);
  });

  it('Certificate and ListenerSet status become facts', () => {
    assert.equal(certificateFact(undefined), undefined);
    const cert = (...conditions: object[]) => certificateFact({ metadata: { name: 'c' }, status: { conditions } } as never);
    assert.deepEqual(cert(), { ready: false }, 'no condition yet');
    assert.deepEqual(cert({ type: 'Ready', status: 'False', reason: 'DoesNotExist', message: 'Issuing certificate as Secret does not exist' }, { type: 'Issuing', status: 'True', message: 'Issuing certificate as Secret does not exist' }), { ready: false }, 'in progress: no message');
    const failure = 'The certificate request has failed to complete and will be retried: Error signing certificate';
    assert.deepEqual(cert({ type: 'Ready', status: 'False', reason: 'DoesNotExist', message: 'x' }, { type: 'Issuing', status: 'False', reason: 'Failed', message: failure }), { ready: false, message: failure }, 'a failed request');
    assert.deepEqual(certificateFact({ metadata: { name: 'c' }, status: { conditions: [{ type: 'Ready', status: 'True' }] } } as never), { ready: true });
    assert.equal(listenerFact({ metadata: { name: 'l' } } as never), undefined, 'nothing reported yet');
    assert.deepEqual(listenerFact({ metadata: { name: 'l' }, status: { listeners: [{ name: 'https', conditions: [{ type: 'Accepted', status: 'False', reason: 'HostnameConflict', message: 'taken' }] }] } } as never), { accepted: false, reason: 'HostnameConflict', message: 'taken' });
    assert.deepEqual(listenerFact({ metadata: { name: 'l' }, status: { conditions: [{ type: 'Accepted', status: 'True' }] } } as never), { accepted: true });
  });

  it('acceptanceFact: what the gateway controller reports on route parents / policy ancestors, for the current generation', () => {
    const ctrl = 'gateway.envoyproxy.io/gatewayclass-controller';
    const route = (parents: unknown[], generation = 2) => ({ metadata: { name: 'r', generation }, status: { parents } }) as never;
    const ok = (type: string, g = 2) => ({ type, status: 'True', reason: type, observedGeneration: g });
    const types = ['Accepted', 'ResolvedRefs'];
    assert.equal(acceptanceFact(undefined, 'parents', types), undefined, 'no object');
    assert.deepEqual(acceptanceFact(route([]), 'parents', types), { state: 'pending' }, 'nothing reported');
    assert.deepEqual(acceptanceFact(route([{ controllerName: ctrl, conditions: [ok('Accepted', 1), ok('ResolvedRefs', 1)] }]), 'parents', types), { state: 'pending' }, 'reported for an older generation');
    assert.deepEqual(acceptanceFact(route([{ controllerName: ctrl, conditions: [ok('Accepted')] }]), 'parents', types), { state: 'pending' }, 'ResolvedRefs missing');
    assert.deepEqual(acceptanceFact(route([{ controllerName: ctrl, conditions: [ok('Accepted'), ok('ResolvedRefs')] }]), 'parents', types), { state: 'accepted', controller: ctrl });
    assert.deepEqual(
      acceptanceFact(route([{ controllerName: ctrl, conditions: [ok('Accepted'), { type: 'ResolvedRefs', status: 'False', reason: 'RefNotPermitted', message: 'm', observedGeneration: 2 }] }]), 'parents', types),
      { state: 'refused', controller: ctrl, condition: 'ResolvedRefs', reason: 'RefNotPermitted', message: 'm' },
    );
    // a parent the route no longer names (TLS moved it from the Gateway to its ListenerSet): its stale entry is left out
    const gatewayRef = { group: 'gateway.networking.k8s.io', kind: 'Gateway', namespace: 'gw', name: 'public' };
    const moved = {
      metadata: { name: 'r', namespace: 'app', generation: 2 },
      spec: { parentRefs: [{ group: 'gateway.networking.k8s.io', kind: 'ListenerSet', name: 'r', sectionName: 'https' }] },
      status: {
        parents: [
          { controllerName: ctrl, parentRef: gatewayRef, conditions: [ok('Accepted', 1), ok('ResolvedRefs', 1)] },
          { controllerName: ctrl, parentRef: { group: 'gateway.networking.k8s.io', kind: 'ListenerSet', name: 'r', sectionName: 'https' }, conditions: [ok('Accepted'), ok('ResolvedRefs')] },
        ],
      },
    };
    assert.deepEqual(acceptanceFact(moved as never, 'parents', types), { state: 'accepted', controller: ctrl });
    const back = { ...moved, spec: { parentRefs: [{ name: 'public', namespace: 'gw' }] } };
    assert.deepEqual(acceptanceFact(back as never, 'parents', types), { state: 'pending' }, 'the Gateway named again (defaults filled in): its entry counts, and it is of an older generation');
    assert.deepEqual(acceptanceFact({ ...moved, spec: { parentRefs: [] } } as never, 'parents', types), { state: 'pending' }, 'no parent named: nothing counts');
    const policy = { metadata: { name: 'p', generation: 1 }, status: { ancestors: [{ controllerName: ctrl, conditions: [{ type: 'Accepted', status: 'False', reason: 'Invalid', message: 'x', observedGeneration: 1 }] }] } } as never;
    assert.deepEqual(acceptanceFact(policy, 'ancestors', ['Accepted']), { state: 'refused', controller: ctrl, condition: 'Accepted', reason: 'Invalid', message: 'x' });
  });

  it("factsAfterWrites: a route this reconcile changed is judged by the server's answer, not by the copy read before", () => {
    const ctrl = 'gateway.envoyproxy.io/gatewayclass-controller';
    const names = childNames('ns', 'app');
    const ok = (type: string, g: number) => ({ type, status: 'True', reason: type, observedGeneration: g });
    // what the server answers: the new generation, with the status the gateway controller wrote for generation 1
    const answer = (generation: number) => ({ metadata: { name: names.mainRoute, namespace: 'ns', generation }, status: { parents: [{ controllerName: ctrl, conditions: [ok('Accepted', 1), ok('ResolvedRefs', 1)] }] } }) as never;
    const facts = { mainRoute: { state: 'accepted' as const, controller: ctrl } } as unknown as ObservedFacts;
    assert.equal(factsAfterWrites(facts, names, () => undefined), facts, 'nothing written: the same facts');
    assert.deepEqual(factsAfterWrites(facts, names, (kind, n) => (kind === 'HTTPRoute' && n === names.mainRoute ? answer(2) : undefined)).mainRoute, { state: 'pending' }, 'a new spec: pending until the controller reports on it');
    assert.deepEqual(factsAfterWrites(facts, names, (kind, n) => (kind === 'HTTPRoute' && n === names.mainRoute ? answer(1) : undefined)).mainRoute, { state: 'accepted', controller: ctrl }, 'labels only (same generation): still accepted');
    const policyAnswer = { metadata: { name: names.securityPolicy, namespace: 'ns', generation: 3 }, status: { ancestors: [{ controllerName: ctrl, conditions: [ok('Accepted', 2)] }] } } as never;
    assert.deepEqual(factsAfterWrites(facts, names, (kind) => (kind === 'SecurityPolicy' ? policyAnswer : undefined)).securityPolicy, { state: 'pending' });
  });
});
