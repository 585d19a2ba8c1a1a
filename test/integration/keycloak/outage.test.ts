// Keycloak stopped mid-run, then started again (same data, same port): ensureClients fails fast with the
// `unavailable` classification (reason KeycloakUnavailable), then succeeds with the same client and secret.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { sharedKeycloak, type KeycloakInstance } from '../../harness/keycloak.js';
import { KeycloakError, KeycloakProvisioner } from '../../../operator/src/keycloak/index.js';
import { InMemorySecretStore, app, createRealm, loginForCode, tokenRequest } from './oidc-helpers.js';

describe('keycloak provisioner: Keycloak outage (real Keycloak stopped and restarted)', function () {
  this.timeout(300_000);
  let kc: KeycloakInstance;

  before(async function () {
    kc = await sharedKeycloak();
  });

  after(async function () {
    // Whatever happened, leave the shared Keycloak running for the suites after us.
    await kc.start();
  });

  it('fails with KeycloakUnavailable while down and converges once it is back', async function () {
    const realm = `nkp-outage-${randomBytes(3).toString('hex')}`;
    const passwords = await createRealm(kc, realm, ['carol']);
    const store = new InMemorySecretStore({ username: kc.adminUsername, password: kc.adminPassword });
    const p = new KeycloakProvisioner({
      url: kc.baseUrl,
      realm,
      adminSecret: { namespace: 'nebari-system', name: 'keycloak-admin' },
      readSecret: store.read,
      timeoutMs: 5_000,
    });
    const a = app('prod', 'notebook', { groups: ['staff'] });
    const first = await p.ensureClients(a);

    await kc.stop();
    assert.equal(kc.running(), false);
    const t0 = Date.now();
    await assert.rejects(p.ensureClients(a), (err: unknown) => {
      assert.ok(err instanceof KeycloakError, String(err));
      assert.equal(err.kind, 'unavailable');
      assert.equal(err.reason, 'KeycloakUnavailable');
      assert.equal(err.retryable, true);
      assert.match(err.message, /unreachable|timed out/);
      return true;
    });
    assert.ok(Date.now() - t0 < 15_000, 'fails fast instead of hanging');
    // A brand-new app fails the same way (nothing half-made is assumed afterwards).
    await assert.rejects(p.ensureClients(app('prod', 'other', {})), (err: unknown) => err instanceof KeycloakError && err.kind === 'unavailable');

    await kc.start();
    const again = await p.ensureClients(a);
    assert.equal(again.clientId, first.clientId);
    assert.equal(again.clientSecret, first.clientSecret, 'same client, same secret after the restart');
    const other = await p.ensureClients(app('prod', 'other', {}));
    assert.equal(other.clientId, 'prod-other');

    // And the client works for a real login after the outage.
    const redirectUri = 'https://notebook.prod.example.test/oauth2/callback';
    const login = await loginForCode(again.issuerUrl, { clientId: again.clientId, redirectUri, username: 'carol', password: passwords.carol! });
    assert.ok(login.code, login.page);
    const tok = await tokenRequest(again.issuerUrl, { grant_type: 'authorization_code', code: login.code!, redirect_uri: redirectUri }, { id: again.clientId, secret: again.clientSecret });
    assert.equal(tok.status, 200);
    await p.removeClients(a);
    await p.removeClients(app('prod', 'other', {}));
  });
});
