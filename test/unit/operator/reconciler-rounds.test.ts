// The order the reconciler writes an app's children in (pure parts of operator/src/reconciler.ts).
import assert from 'node:assert/strict';
import { desiredState } from '../../../operator/src/desired/index.js';
import { applyRounds, withheldWithout } from '../../../operator/src/reconciler.js';
import { app, config, facts, NOW } from './fixtures.js';

describe('reconciler: write rounds', () => {
  const full = desiredState(
    app({ routing: { publicRoutes: [{ pathPrefix: '/health' }] }, auth: { enabled: true, clientSecretRef: 'oidc' } }),
    facts(),
    config(),
    NOW,
  );
  it('every route comes in the last round, after the SecurityPolicy, the Certificate and the ListenerSet', () => {
    const kinds = full.children.map((c) => c.kind);
    assert.ok(kinds.includes('SecurityPolicy') && kinds.includes('Certificate') && kinds.filter((k) => k === 'HTTPRoute').length === 2, kinds.join());
    const rounds = applyRounds(full.children);
    assert.equal(rounds.length, 2);
    assert.deepEqual(rounds[1]!.map((c) => c.kind), ['HTTPRoute', 'HTTPRoute']);
    assert.ok(rounds[0]!.every((c) => c.kind !== 'HTTPRoute'));
    assert.equal(rounds.flat().length, full.children.length, 'nothing dropped');
  });
  it('a SecurityPolicy that cannot be written withholds the main route, which is only written in a later round', () => {
    const policy = full.children.find((c) => c.kind === 'SecurityPolicy')!;
    const held = withheldWithout(policy, 'rejected', full.names, full.children);
    const main = full.children.find((c) => c.kind === 'HTTPRoute' && c.metadata.name === full.names.mainRoute)!;
    assert.deepEqual(held, [`${main.apiVersion.split('/')[0]}/HTTPRoute/${main.metadata.namespace}/${main.metadata.name}`]);
    const [first, second] = applyRounds(full.children);
    assert.ok(first!.includes(policy) && second!.includes(main));
  });
  it('an app with nothing to write has no rounds; one without routes has one', () => {
    assert.deepEqual(applyRounds([]), []);
    assert.equal(applyRounds(full.children.filter((c) => c.kind !== 'HTTPRoute')).length, 1);
  });
});
