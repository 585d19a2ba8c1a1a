// The watch stream decodes UTF-8 across chunk boundaries (issue 13), against a real watch on the real API server:
// NebariApps with a multi-byte display name and a large annotation of 3-byte characters (about 150 KB each, so the
// response is cut into many chunks; three ASCII offsets so that every boundary splits a character in at least two
// of them) arrive in the informer's cache intact.
import assert from 'node:assert/strict';
import { sharedControlPlane } from '../../harness/control-plane.js';
import { API_VERSION, KIND, type NebariApp } from '../../../operator/src/api/types.js';
import { NEBARIAPP } from '../../../operator/src/reconciler-resources.js';
import { Informer, kubeListWatcher } from '../../../operator/src/runtime/informer.js';
import type { KubeClient, KubeObject } from '../../../operator/src/runtime/kube.js';
import { silentLogger } from '../../../operator/src/runtime/logger.js';
import { adminClient, ensureNamespace, eventually, uniqueName } from './helpers.js';

describe('operator (integration): watch stream UTF-8 decoding across chunk boundaries', function () {
  this.timeout(120_000);
  let c: KubeClient;
  let informer: Informer<NebariApp & KubeObject>;
  const ns = uniqueName('utf8');

  before(async function () {
    this.timeout(300_000);
    c = adminClient(await sharedControlPlane());
    await ensureNamespace(c, ns, false);
    informer = new Informer<NebariApp & KubeObject>({ name: 'utf8', listWatcher: kubeListWatcher(c, NEBARIAPP, { namespace: ns }), log: silentLogger });
    informer.start();
    await informer.waitForSync();
  });
  after(async () => {
    await informer?.stop();
    await c?.close();
  });

  it('multi-byte characters split between chunks are cached intact (objects arriving through the watch, not the list)', async () => {
    const displayName = 'Ünïcødé 数据 ノートブック 📓';
    const want = new Map<string, string>();
    for (let offset = 0; offset < 3; offset++) {
      const note = 'x'.repeat(offset) + '日本語のテキスト'.repeat(6_000);
      const name = `app-${offset}`;
      want.set(name, note);
      await c.apply(
        NEBARIAPP,
        {
          apiVersion: API_VERSION,
          kind: KIND,
          metadata: { name, namespace: ns, annotations: { 'example.test/note': note } },
          spec: { hostname: `${name}.example.test`, service: { name: 'web', port: 8080 }, landingPage: { enabled: true, displayName } },
        } as KubeObject,
        'nkp-test',
      );
    }
    await eventually('all three in the cache', async () => informer.size === 3);
    assert.equal(informer.stats.lists, 1, 'they came through the watch');
    for (const [name, note] of want) {
      const got = informer.get(ns, name)!;
      assert.equal(got.spec.landingPage?.displayName, displayName);
      const cached = got.metadata.annotations?.['example.test/note'] ?? '';
      assert.equal(cached.length, note.length, `${name}: ${cached.split('\uFFFD').length - 1} replacement characters`);
      assert.ok(cached === note, `${name}: annotation differs`);
    }
  });
});
