/**
 * Reconcile of one NebariApp key: observe facts from the caches, compute the desired state (pure, desired/),
 * apply children that differ (server-side apply, one field manager), delete owned children no longer desired,
 * write status through the status subresource when it differs, record Events for condition transitions.
 * Deletion runs the finalizer: children outside the app's namespace (and everything else owned, for a fast
 * clean-up), the TLS Secret cert-manager leaves behind, and provisioned auth state, then the finalizer goes.
 */
import { CONDITION_TYPES, FIELD_MANAGER, FINALIZER, REASONS, OWNER_ANNOTATION, objectKey, type NebariApp } from './api/types.js';
import { childrenToDelete, needsWrite, statusNeedsWrite } from './desired/compare.js';
import type { OperatorConfig, ProvisioningFact } from './desired/facts.js';
import { CERTIFICATE, LISTENERSET, SECURITYPOLICY, REFERENCEGRANT, objectId, type KubeObject as DesiredObject } from './desired/objects.js';
import { desiredState, type DesiredState } from './desired/state.js';
import { buildConditions, conditionEvents, readyCondition, type ConditionInput } from './desired/status.js';
import { OidcDiscovery, wantsGenericJwks, wantsProvisioning, type AuthProvisionContext, type AuthProvisioner } from './reconciler-auth.js';
import { namespaceOptedIn, observeFacts, type FactCaches } from './reconciler-facts.js';
import type { AppIndex } from './reconciler-index.js';
import { NEBARIAPP, SECRET, resourceOf } from './reconciler-resources.js';
import type { EventRecorder } from './runtime/events.js';
import type { ObjectCache } from './runtime/informer.js';
import { isConflict, isNotFound, type KubeClient, type KubeObject } from './runtime/kube.js';
import type { Logger } from './runtime/logger.js';
import { RecentWrites } from './runtime/recent-writes.js';
import type { ReconcileResult } from './runtime/workers.js';

/** Children of every kind owned by each app, from the child informers (kept by the controller). */
export class OwnedIndex {
  private readonly byOwner = new Map<string, Map<string, KubeObject>>();

  upsert(obj: KubeObject): void {
    const owner = obj.metadata.annotations?.[OWNER_ANNOTATION];
    if (!owner) return;
    let m = this.byOwner.get(owner);
    if (!m) this.byOwner.set(owner, (m = new Map()));
    m.set(objectId(obj as DesiredObject), obj);
  }

  remove(obj: KubeObject): void {
    const owner = obj.metadata.annotations?.[OWNER_ANNOTATION];
    if (!owner) return;
    const m = this.byOwner.get(owner);
    if (!m) return;
    m.delete(objectId(obj as DesiredObject));
    if (m.size === 0) this.byOwner.delete(owner);
  }

  list(ownerKey: string): KubeObject[] {
    return [...(this.byOwner.get(ownerKey)?.values() ?? [])];
  }
}

export interface ReconcilerDeps {
  client: KubeClient;
  config: OperatorConfig;
  caches: FactCaches & { children: ReadonlyMap<string, ObjectCache> };
  index: AppIndex;
  owned: OwnedIndex;
  events?: EventRecorder;
  log: Logger;
  provisioner?: AuthProvisioner;
  discovery?: OidcDiscovery;
  now?: () => Date;
}

/** Apply order: the SecurityPolicy before any route it protects, routes last, so nothing is served without login. */
const APPLY_ORDER: Record<string, number> = {
  [SECURITYPOLICY.kind]: 0,
  [REFERENCEGRANT.kind]: 1,
  [CERTIFICATE.kind]: 2,
  [LISTENERSET.kind]: 3,
  HTTPRoute: 4,
};

export class Reconciler {
  readonly recent = new RecentWrites();
  private readonly discovery: OidcDiscovery;
  private readonly now: () => Date;

  constructor(private readonly d: ReconcilerDeps) {
    this.discovery = d.discovery ?? new OidcDiscovery(d.log);
    this.now = d.now ?? (() => new Date());
  }

  private authContext(): AuthProvisionContext {
    return {
      client: this.d.client,
      fieldManager: FIELD_MANAGER,
      log: this.d.log,
      applyIfChanged: (obj) => this.applyIfChanged(obj as DesiredObject),
      secretKeys: (ns, name) => this.d.caches.secrets.get(ns, name)?.keys,
    };
  }

  async reconcile(key: string): Promise<ReconcileResult | void> {
    const i = key.indexOf('/');
    const ns = key.slice(0, i);
    const name = key.slice(i + 1);
    const cached = this.d.caches.apps.get(ns, name);
    const app = this.recent.observe(`app/${key}`, cached) as (NebariApp & KubeObject) | undefined;
    if (!app) {
      await this.cleanupOrphans(key);
      return;
    }
    if (app.metadata.deletionTimestamp) {
      if (app.metadata.finalizers?.includes(FINALIZER)) await this.finalize(app);
      return;
    }
    if (!app.metadata.finalizers?.includes(FINALIZER)) await this.addFinalizer(app);

    const log = this.d.log.child({ nebariapp: key });
    let provisioning: ProvisioningFact | undefined;
    // what outside the cluster this app waits on: the worker retries it with the key's external backoff
    let waitingOn: string | undefined;
    if (wantsProvisioning(app) && namespaceOptedIn(this.d.caches, ns)) {
      if (this.d.provisioner) {
        provisioning = await this.d.provisioner.ensure(app, this.authContext());
      } else {
        provisioning = { ok: false, message: 'this operator has no Keycloak client provisioning configured (--keycloak-url); use auth.clientSecretRef or provisionClient=false' };
      }
      if (!provisioning.ok && this.d.provisioner) waitingOn = 'keycloak';
    } else if (app.status?.authConfigHash && this.d.provisioner) {
      // auth turned off (or switched to a user-managed Secret): remove what was provisioned
      await this.d.provisioner.remove(app, this.authContext());
    }
    let genericJwksURI: string | undefined;
    const issuer = wantsGenericJwks(app);
    if (issuer) {
      genericJwksURI = await this.discovery.jwksURI(issuer);
      if (!genericJwksURI) waitingOn ??= 'oidc-discovery';
    }

    const facts = observeFacts(app, this.d.caches, this.d.config, {
      provisioning,
      genericJwksURI,
      hostnamePeers: this.d.index.hostnamePeers(app.spec?.hostname ?? ''),
    });
    const desired = desiredState(app, facts, this.d.config, this.now());

    const ordered = [...desired.children].sort((a, b) => (APPLY_ORDER[a.kind] ?? 9) - (APPLY_ORDER[b.kind] ?? 9));
    // children the API server refuses (invalid for its CRD): stop there, so nothing after it in apply order
    // (routes come last) exists without it, and say why in status instead of retrying a hopeless write
    let keep: DesiredObject[] = desired.children;
    for (let i = 0; i < ordered.length; i++) {
      const child = ordered[i]!;
      try {
        await this.applyIfChanged(child);
      } catch (err) {
        if (!isRejected(err)) throw err;
        const observed = this.d.caches.children.get(child.kind)?.get(child.metadata.namespace, child.metadata.name);
        keep = [...ordered.slice(0, i), ...(observed ? [child] : [])];
        rejectedStatus(desired, child, ordered.slice(i + 1), (err as Error).message, app, this.now());
        log.warn('child rejected by the API server', { kind: child.kind, object: `${child.metadata.namespace}/${child.metadata.name}`, err });
        break;
      }
    }

    const stale = childrenToDelete({ namespace: ns, name }, keep, this.ownedObserved(key) as DesiredObject[]);
    // routes first, so nothing stays reachable once its SecurityPolicy is gone
    stale.sort((a, b) => (APPLY_ORDER[b.kind] ?? 9) - (APPLY_ORDER[a.kind] ?? 9));
    for (const s of stale) await this.deleteChild(s as KubeObject);

    if (statusNeedsWrite(desired.status, app.status)) {
      const written = await this.d.client.apply<NebariApp & KubeObject>(
        NEBARIAPP,
        { apiVersion: app.apiVersion, kind: app.kind, metadata: { name, namespace: ns }, status: desired.status } as KubeObject,
        FIELD_MANAGER,
        { subresource: 'status' },
      );
      this.recent.recordWrite(`app/${key}`, cached, written);
      log.info('status updated', { ready: desired.conditions.find((c) => c.type === 'Ready')?.reason });
      if (this.d.events) {
        // one Event per transition of Ready (its reason and message name the first failing condition):
        // notable, and a fraction of the API traffic of one Event per condition
        const ready = (cs: typeof desired.status.conditions) => (cs ?? []).filter((x) => x.type === CONDITION_TYPES.Ready);
        for (const ev of conditionEvents(ready(app.status?.conditions), ready(desired.status.conditions))) {
          await this.d.events.record(written, ev.type, ev.reason, 'Reconcile', ev.message);
        }
      }
    }
    return waitingOn ? { waitingOn } : undefined;
  }

  /** Children owned by `key` as best observed (cache, corrected by our own recent writes). */
  private ownedObserved(key: string): KubeObject[] {
    const out: KubeObject[] = [];
    for (const o of this.d.owned.list(key)) {
      const seen = this.recent.observe(objectId(o as DesiredObject), o);
      if (seen) out.push(seen);
    }
    return out;
  }

  /** Server-side apply `obj` when needsWrite says the cached copy differs; returns true when written. */
  async applyIfChanged(obj: DesiredObject): Promise<boolean> {
    const rt = resourceOf(obj);
    const cache = this.d.caches.children.get(rt.kind); // kinds without a cache (Secret, Role, ...) are always applied
    const id = objectId(obj);
    const cachedChild = cache?.get(obj.metadata.namespace, obj.metadata.name);
    const observed = this.recent.observe(id, cachedChild);
    if (cache && !needsWrite(obj, observed as DesiredObject | undefined)) return false;
    const written = await this.d.client.apply(rt, obj as KubeObject, FIELD_MANAGER);
    this.recent.recordWrite(id, cachedChild, written);
    this.d.log.debug('applied', { kind: obj.kind, object: `${obj.metadata.namespace}/${obj.metadata.name}` });
    return true;
  }

  private async deleteChild(obj: KubeObject): Promise<void> {
    const rt = resourceOf(obj);
    const id = objectId(obj as DesiredObject);
    const cachedChild = this.d.caches.children.get(rt.kind)?.get(obj.metadata.namespace, obj.metadata.name);
    await this.d.client.delete(rt, obj.metadata.namespace, obj.metadata.name, { uid: obj.metadata.uid });
    this.recent.recordDelete(id, cachedChild);
    this.d.log.info('deleted child no longer desired', { kind: obj.kind, object: `${obj.metadata.namespace}/${obj.metadata.name}` });
  }

  private async addFinalizer(app: NebariApp & KubeObject): Promise<void> {
    const written = await this.d.client.apply<NebariApp & KubeObject>(
      NEBARIAPP,
      { apiVersion: app.apiVersion, kind: app.kind, metadata: { name: app.metadata.name, namespace: app.metadata.namespace, finalizers: [FINALIZER] } } as KubeObject,
      FIELD_MANAGER,
    );
    this.recent.recordWrite(`app/${objectKey(app.metadata.namespace, app.metadata.name)}`, this.d.caches.apps.get(app.metadata.namespace, app.metadata.name), written);
  }

  /** Delete everything the app owns that owner references cannot remove, then drop the finalizer. */
  private async finalize(app: NebariApp & KubeObject): Promise<void> {
    const key = objectKey(app.metadata.namespace, app.metadata.name);
    for (const child of this.ownedObserved(key)) await this.deleteChild(child);
    // cert-manager's TLS Secret (labelled by the Certificate's secretTemplate) has no owner reference by default
    for (const s of this.d.caches.secrets.list()) {
      if (s.metadata.namespace === app.metadata.namespace && s.metadata.annotations?.[OWNER_ANNOTATION] === key && s.metadata.labels?.['app.kubernetes.io/managed-by']) {
        await this.d.client.delete(SECRET, s.metadata.namespace, s.metadata.name, { uid: s.metadata.uid });
      }
    }
    if (this.d.provisioner && (wantsProvisioning(app) || app.status?.authConfigHash)) await this.d.provisioner.remove(app, this.authContext());
    const finalizers = app.metadata.finalizers ?? [];
    try {
      await this.d.client.jsonPatch(NEBARIAPP, app.metadata.namespace, app.metadata.name, [
        { op: 'test', path: '/metadata/finalizers', value: finalizers },
        { op: 'replace', path: '/metadata/finalizers', value: finalizers.filter((f) => f !== FINALIZER) },
      ]);
    } catch (err) {
      if (isNotFound(err)) return;
      // 422 from a failed test: the cache is stale; the next event brings the fresh object
      if (isConflict(err) || (err as { statusCode?: number }).statusCode === 422) throw new Error(`finalizer list of ${key} changed meanwhile; retrying`);
      throw err;
    }
    this.d.log.info('finalizer done, NebariApp released', { nebariapp: key });
  }

  /** The app is gone without its finalizer having run (e.g. removed by force): delete what it owned. */
  private async cleanupOrphans(key: string): Promise<void> {
    for (const child of this.ownedObserved(key)) await this.deleteChild(child);
  }
}

/** 400/422: the object is invalid for the server (its CRD schema or CEL rules); retrying the same object cannot help. */
function isRejected(err: unknown): boolean {
  const code = (err as { statusCode?: number })?.statusCode;
  return code === 422 || code === 400;
}

const CONDITION_OF_KIND: Record<string, ConditionInput['type']> = {
  [SECURITYPOLICY.kind]: CONDITION_TYPES.AuthReady,
  [CERTIFICATE.kind]: CONDITION_TYPES.TLSReady,
  [LISTENERSET.kind]: CONDITION_TYPES.TLSReady,
  [REFERENCEGRANT.kind]: CONDITION_TYPES.RoutingReady,
  HTTPRoute: CONDITION_TYPES.RoutingReady,
};

/** Rewrite the desired status for a child the API server rejected (and the children withheld after it). */
function rejectedStatus(desired: DesiredState, child: DesiredObject, withheld: DesiredObject[], message: string, app: NebariApp, now: Date): void {
  const what = `${child.kind} ${child.metadata.namespace}/${child.metadata.name} was rejected by the API server: ${message}`;
  const set = (type: ConditionInput['type'], msg: string) => {
    const c = desired.conditions.find((x) => x.type === type);
    if (c) Object.assign(c, { status: 'False', reason: REASONS.Failed, message: msg });
  };
  set(CONDITION_OF_KIND[child.kind] ?? CONDITION_TYPES.RoutingReady, what);
  if (withheld.some((w) => w.kind === 'HTTPRoute') && CONDITION_OF_KIND[child.kind] !== CONDITION_TYPES.RoutingReady) {
    set(CONDITION_TYPES.RoutingReady, `routes withheld: ${what}`);
  }
  const others = desired.conditions.filter((c) => c.type !== CONDITION_TYPES.Ready);
  desired.conditions = [...others, readyCondition(others)];
  desired.status.conditions = buildConditions(desired.conditions, app.status?.conditions, app.metadata.generation, now);
}
