/**
 * Reconcile of one NebariApp key: observe facts from the caches, compute the desired state (pure, desired/),
 * apply children that differ (server-side apply, one field manager), delete owned children no longer desired,
 * write status through the status subresource when it differs, record Events for condition transitions.
 * Deletion runs the finalizer: children outside the app's namespace (and everything else owned, for a fast
 * clean-up), the TLS Secret cert-manager leaves behind, and provisioned auth state, then the finalizer goes.
 */
import {
  CONDITION_TYPES,
  FIELD_MANAGER,
  FINALIZER,
  KEYCLOAK_ORPHAN_ANNOTATION,
  REASONS,
  OWNER_ANNOTATION,
  clientId,
  objectKey,
  type NebariApp,
} from './api/types.js';
import { childrenToDelete, needsFinalizer, needsWrite, notOwnedMessage, ownership, statusNeedsWrite } from './desired/compare.js';
import type { OperatorConfig, ProvisioningFact } from './desired/facts.js';
import { CERTIFICATE, LISTENERSET, SECURITYPOLICY, REFERENCEGRANT, objectId, type ChildNames, type KubeObject as DesiredObject } from './desired/objects.js';
import { desiredState, type DesiredState } from './desired/state.js';
import { buildConditions, conditionEvents, readyCondition, type ConditionInput } from './desired/status.js';
import { NotOwnedError, OidcDiscovery, wantsGenericJwks, wantsProvisioning, type AuthProvisionContext, type AuthProvisioner } from './reconciler-auth.js';
import { factsAfterWrites, namespaceOptedIn, observeFacts, type FactCaches } from './reconciler-facts.js';
import { validateSpec } from './api/validate.js';
import type { AppIndex } from './reconciler-index.js';
import { NEBARIAPP, SECRET, resourceOf } from './reconciler-resources.js';
import type { EventRecorder } from './runtime/events.js';
import type { ObjectCache } from './runtime/informer.js';
import { isConflict, isInvalidObject, isNotFound, type KubeClient, type KubeObject } from './runtime/kube.js';
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
      assertOwnable: async (obj) => void (await this.observeOwned(obj as DesiredObject)),
      deleteOwned: (obj) => this.deleteOwned(obj as DesiredObject),
      secretKeys: (ns, name) => this.d.caches.secrets.get(ns, name)?.keys,
      removeAppAnnotation: (app, annotation) => this.removeAppAnnotation(app, annotation),
    };
  }

  private async removeAppAnnotation(app: NebariApp, annotation: string): Promise<void> {
    const value = app.metadata.annotations?.[annotation];
    if (value === undefined) return;
    const path = `/metadata/annotations/${annotation.replace(/~/g, '~0').replace(/\//g, '~1')}`;
    try {
      await this.patchApp(app, [
        { op: 'test', path, value },
        { op: 'remove', path },
      ]);
    } catch (err) {
      // gone already, or changed meanwhile (422 from the test op): the next reconcile decides again
      if (!isNotFound(err) && !isConflict(err) && (err as { statusCode?: number }).statusCode !== 422) throw err;
    }
  }

  /**
   * JSON-patch the NebariApp and remember the server's answer as the operator's own write until the cache has it: a
   * reconcile that runs before the watch event (a requeue, a child's event) must not act on the old copy again.
   */
  private async patchApp(app: NebariApp, ops: unknown[]): Promise<void> {
    const { namespace, name } = app.metadata;
    const cached = this.d.caches.apps.get(namespace, name);
    const written = await this.d.client.jsonPatch<NebariApp & KubeObject>(NEBARIAPP, namespace, name, ops);
    this.recent.recordWrite(`app/${objectKey(namespace, name)}`, cached, written);
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
      if (app.metadata.finalizers?.includes(FINALIZER)) return this.finalize(app);
      return;
    }
    // The finalizer only where owner references cannot clean up (needsFinalizer); it is written before anything
    // that needs it exists: before Keycloak is asked for a client, else alongside the reads of the children and
    // before the first of them is written.
    let finalizer: Promise<void> | undefined = app.metadata.finalizers?.includes(FINALIZER) ? Promise.resolve() : undefined;
    const ensureFinalizer = (): Promise<void> => (finalizer ??= this.addFinalizer(app));
    const provisions = wantsProvisioning(app) || !!app.status?.authConfigHash;
    if (provisions) await ensureFinalizer();

    const log = this.d.log.child({ nebariapp: key });
    let provisioning: ProvisioningFact | undefined;
    // what outside the cluster this app waits on: the worker retries it with the key's external backoff
    let waitingOn: string | undefined;
    // Keycloak is touched only for an opted-in namespace and a valid spec: nothing is provisioned for an app that
    // fails validation, and removing the opt-in label keeps the clients and the Secret (re-labelling must not issue
    // new credentials) without asking Keycloak anything while it is missing
    const optedIn = namespaceOptedIn(this.d.caches, ns);
    const valid = validateSpec(app.spec).length === 0;
    if (!optedIn || !valid) {
      // nothing to do outside the cluster
    } else if (wantsProvisioning(app)) {
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
    const now = this.now();
    let desired = desiredState(app, facts, this.d.config, now);

    const ordered = [...desired.children].sort((a, b) => (APPLY_ORDER[a.kind] ?? 9) - (APPLY_ORDER[b.kind] ?? 9));
    // routes not desired at all go before anything is applied: a SecurityPolicy that moves to a renamed main route
    // (or goes) must never leave the old route reachable without login, not even between two writes
    for (const r of childrenToDelete({ namespace: ns, name }, desired.children, this.ownedObserved(key) as DesiredObject[])) {
      if (r.kind === 'HTTPRoute') await this.deleteChild(r as KubeObject);
    }
    // Children that cannot be written: an object of that name that is not ours (left untouched, never taken over)
    // or one the API server refuses (invalid for its CRD). Each is reported in its own condition; only the children
    // that would be unsafe without it are withheld (the main route without its SecurityPolicy, a SecurityPolicy on
    // someone else's route), everything else is still applied.
    const failures: ChildFailure[] = [];
    const withheld = new Set<string>();
    const observedOwned = new Map<string, KubeObject | undefined>();
    // the ownership reads (a GET where the cache cannot tell) all at once, and the finalizer write beside them
    if (needsFinalizer(desired.children, this.ownedObserved(key) as DesiredObject[], provisions)) void ensureFinalizer().catch(() => undefined);
    const seen = await Promise.all(
      ordered.map((child) =>
        this.observeOwned(child).then(
          (observed) => ({ observed }),
          (err: unknown) => {
            if (!(err instanceof NotOwnedError)) throw err;
            return { notOwned: err };
          },
        ),
      ),
    );
    await finalizer;
    ordered.forEach((child, i) => {
      const r = seen[i]!;
      if (!('notOwned' in r)) {
        observedOwned.set(objectId(child), r.observed);
        return;
      }
      const err = r.notOwned;
      failures.push({ child, reason: REASONS.ResourceNotOwned, message: err.message });
      for (const id of withheldWithout(child, 'not-owned', desired.names, ordered)) withheld.add(id);
      log.warn('child name taken by an object the operator does not own', { kind: child.kind, object: `${child.metadata.namespace}/${child.metadata.name}`, owner: err.owner });
    });
    const keep: DesiredObject[] = [];
    /** The server's answers to this reconcile's writes of children, by `kind/name`. */
    const written = new Map<string, KubeObject>();
    // written in two rounds, each all at once: everything but the routes (the SecurityPolicy among them), then the
    // routes, so no route is ever served before its SecurityPolicy exists; a rejection in the first round can
    // still withhold a route of the second (withheldWithout)
    for (const round of applyRounds(ordered)) {
      const results = await Promise.all(
        round.map(async (child): Promise<unknown> => {
          const id = objectId(child);
          if (!observedOwned.has(id) || withheld.has(id)) return 'skipped';
          try {
            const answer = await this.applyChild(child, observedOwned.get(id) ?? null);
            if (answer) written.set(`${child.kind}/${child.metadata.name}`, answer);
            return undefined;
          } catch (err) {
            if (!isInvalidObject(err)) throw err;
            return err;
          }
        }),
      );
      // outcomes in the apply order, so the first failure of a condition names it whatever finished first
      round.forEach((child, i) => {
        const id = objectId(child);
        if (!observedOwned.has(id)) return; // not ours
        if (withheld.has(id)) {
          failures.push({ child, reason: REASONS.AuthNotReady, message: '', withheld: true });
          return;
        }
        const err = results[i];
        if (err === undefined) {
          keep.push(child);
          return;
        }
        const previous = observedOwned.get(id);
        // the previous version stays (a rejected update changes nothing on the server)
        if (previous) keep.push(child);
        failures.push({ child, reason: REASONS.Failed, message: `was rejected by the API server: ${(err as Error).message}` });
        if (!previous) for (const w of withheldWithout(child, 'rejected', desired.names, ordered)) withheld.add(w);
        log.warn('child rejected by the API server', { kind: child.kind, object: `${child.metadata.namespace}/${child.metadata.name}`, err });
      });
    }
    // a route or SecurityPolicy just written is judged by the server's answer: its old acceptance is not the new spec's
    const after = factsAfterWrites(facts, desired.names, (kind, n) => written.get(`${kind}/${n}`));
    if (after !== facts) desired = desiredState(app, after, this.d.config, now);
    if (failures.length > 0) failedChildrenStatus(desired, failures, app, now);
    // an object the operator does not own is not watched (the caches hold labelled objects only): look again with
    // the key's growing backoff, so the app takes the name by itself once the other object is gone
    if (failures.some((f) => f.reason === REASONS.ResourceNotOwned)) waitingOn ??= 'resource-not-owned';
    // a refusal can come from outside the app's spec too (an admission policy, a webhook): try again likewise, so
    // the app recovers by itself once it is lifted (an invalid child costs one refused request per backoff step)
    if (failures.some((f) => f.reason === REASONS.Failed)) waitingOn ??= 'rejected-child';

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
        // v0.1.0 reports a spec that passed validation with a Normal Event ValidationSuccess (tools watch for it): one
        // per generation here, when the status first describes it
        if (desired.errors.length === 0 && app.metadata.generation !== undefined && app.status?.observedGeneration !== app.metadata.generation) {
          await this.d.events.record(written, 'Normal', REASONS.ValidationSuccess, 'Validate', `spec generation ${app.metadata.generation} is valid`);
        }
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

  /** The cache holding objects of `obj`'s kind (children: labelled ones; Secrets), undefined for Role/RoleBinding. */
  private cacheOf(kind: string): ObjectCache | undefined {
    return kind === 'Secret' ? this.d.caches.secrets : this.d.caches.children.get(kind);
  }

  /**
   * The object named like `obj` when it is ours (undefined when it does not exist); throws NotOwnedError when it
   * exists and is not owned by `obj`'s owner. Reads the cache (corrected by our recent writes) and, when the cache
   * does not hold it (caches see only labelled objects, some kinds have none), one GET: an object a pack or a user
   * created under that name is seen either way.
   */
  async observeOwned(obj: DesiredObject): Promise<KubeObject | undefined> {
    const rt = resourceOf(obj);
    const id = objectId(obj);
    const { namespace, name } = obj.metadata;
    let observed = this.recent.observe(id, this.cacheOf(rt.kind)?.get(namespace, name));
    if (!observed) observed = await this.d.client.get(rt, namespace, name);
    const o = ownership(obj, observed);
    if (o.state === 'foreign') {
      const app = obj.metadata.annotations?.[OWNER_ANNOTATION] ?? '?';
      throw new NotOwnedError({ kind: obj.kind, namespace, name }, o.owner, notOwnedMessage(obj, app, o.owner));
    }
    return observed;
  }

  /**
   * Server-side apply `obj` when needsWrite says the observed copy differs; returns true when written. Never writes
   * an object it does not own (NotOwnedError). `observed`: what observeOwned returned when the caller has it
   * (null: known not to exist), so nothing is read twice.
   */
  async applyIfChanged(obj: DesiredObject, observed?: KubeObject | null): Promise<boolean> {
    return (await this.applyChild(obj, observed)) !== undefined;
  }

  /** applyIfChanged, returning the server's answer when it wrote (undefined when nothing needed writing). */
  private async applyChild(obj: DesiredObject, observed?: KubeObject | null): Promise<KubeObject | undefined> {
    const rt = resourceOf(obj);
    const id = objectId(obj);
    const cached = this.cacheOf(rt.kind)?.get(obj.metadata.namespace, obj.metadata.name);
    const seen = observed === undefined ? await this.observeOwned(obj) : (observed ?? undefined);
    // the Secret cache keeps key names only: a Secret is compared by what the cache cannot tell, so it is written
    if (seen && rt.kind !== 'Secret' && !needsWrite(obj, seen as DesiredObject)) return undefined;
    const written = await this.d.client.apply(rt, obj as KubeObject, FIELD_MANAGER);
    this.recent.recordWrite(id, cached, written);
    this.d.log.debug('applied', { kind: obj.kind, object: `${obj.metadata.namespace}/${obj.metadata.name}` });
    return written;
  }

  /** Delete the namesake of `obj` when (and only when) it is ours; false when absent or someone else's. */
  async deleteOwned(obj: DesiredObject): Promise<boolean> {
    let observed: KubeObject | undefined;
    try {
      observed = await this.observeOwned(obj);
    } catch (err) {
      if (!(err instanceof NotOwnedError)) throw err;
      this.d.log.info('left an object the operator does not own', { kind: obj.kind, object: `${obj.metadata.namespace}/${obj.metadata.name}`, owner: err.owner });
      return false;
    }
    if (!observed) return false;
    await this.deleteChild(observed.apiVersion ? observed : ({ ...observed, apiVersion: obj.apiVersion, kind: obj.kind } as KubeObject));
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

  /**
   * Delete everything the app owns that owner references cannot remove, then drop the finalizer. When Keycloak
   * cannot remove the app's clients (down, refusing), the finalizer stays: the app is retried with the external
   * backoff, its status and an Event say why and how to let it go (KEYCLOAK_ORPHAN_ANNOTATION); with that
   * annotation the clients are left in Keycloak, an Event and a log line record which, and the finalizer goes.
   */
  private async finalize(app: NebariApp & KubeObject): Promise<ReconcileResult | void> {
    const key = objectKey(app.metadata.namespace, app.metadata.name);
    for (const child of this.ownedObserved(key)) await this.deleteChild(child);
    // cert-manager's TLS Secret (labelled by the Certificate's secretTemplate) has no owner reference by default
    for (const s of this.d.caches.secrets.list()) {
      if (s.metadata.namespace === app.metadata.namespace && s.metadata.annotations?.[OWNER_ANNOTATION] === key && s.metadata.labels?.['app.kubernetes.io/managed-by']) {
        await this.d.client.delete(SECRET, s.metadata.namespace, s.metadata.name, { uid: s.metadata.uid });
      }
    }
    if (this.d.provisioner && (wantsProvisioning(app) || app.status?.authConfigHash)) {
      const release = app.metadata.annotations?.[KEYCLOAK_ORPHAN_ANNOTATION] === 'true';
      if (release) {
        const ids = clientId(app.metadata.namespace, app.metadata.name);
        const note = `released without removing its Keycloak clients (annotation ${KEYCLOAK_ORPHAN_ANNOTATION}=true): client id ${ids} and its -spa/-device clients, if any, are left in the realm (owner attribute nebari.dev/owner=${key}); delete them in Keycloak`;
        this.d.log.warn('keycloak clients orphaned', { nebariapp: key, clientId: ids });
        await this.d.events?.record(app, 'Warning', 'KeycloakClientOrphaned', 'Finalize', note);
      } else {
        try {
          await this.d.provisioner.remove(app, this.authContext());
        } catch (err) {
          const message = `deleting: the Keycloak clients of ${key} could not be removed (${(err as Error).message.slice(0, 300)}); retrying with backoff. To let the NebariApp go and leave the clients in Keycloak, set annotation ${KEYCLOAK_ORPHAN_ANNOTATION}=true`;
          this.d.log.warn('keycloak client removal failed while deleting', { nebariapp: key, err });
          await this.reportFinalizeBlocked(app, message);
          return { waitingOn: 'keycloak' };
        }
      }
    }
    const finalizers = app.metadata.finalizers ?? [];
    try {
      // remembered (patchApp): a reconcile before the watch event must not run the finalizer, and Keycloak's removal, again
      await this.patchApp(app, [
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

  /** Status (AuthReady and Ready False, reason KeycloakUnavailable) and one Event while the finalizer waits on Keycloak. */
  private async reportFinalizeBlocked(app: NebariApp & KubeObject, message: string): Promise<void> {
    const conditions: ConditionInput[] = [{ type: CONDITION_TYPES.AuthReady, status: 'False', reason: REASONS.KeycloakUnavailable, message }];
    conditions.push(readyCondition(conditions));
    const status = {
      ...(app.status ?? {}),
      // setting deletionTimestamp moved generation on: this status is about the object being deleted
      ...(app.metadata.generation !== undefined ? { observedGeneration: app.metadata.generation } : {}),
      conditions: buildConditions(conditions, app.status?.conditions, app.metadata.generation, this.now()),
    };
    if (!statusNeedsWrite(status, app.status)) return;
    const key = objectKey(app.metadata.namespace, app.metadata.name);
    try {
      const written = await this.d.client.apply<NebariApp & KubeObject>(
        NEBARIAPP,
        { apiVersion: app.apiVersion, kind: app.kind, metadata: { name: app.metadata.name, namespace: app.metadata.namespace }, status } as KubeObject,
        FIELD_MANAGER,
        { subresource: 'status' },
      );
      this.recent.recordWrite(`app/${key}`, this.d.caches.apps.get(app.metadata.namespace, app.metadata.name), written);
      await this.d.events?.record(written, 'Warning', REASONS.KeycloakUnavailable, 'Finalize', message);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  /** The app is gone without its finalizer having run (e.g. removed by force): delete what it owned. */
  private async cleanupOrphans(key: string): Promise<void> {
    for (const child of this.ownedObserved(key)) await this.deleteChild(child);
  }
}


/** Pure: the children (already in apply order) in the rounds they are written in: all but the routes, then the routes. */
export function applyRounds(ordered: readonly DesiredObject[]): DesiredObject[][] {
  return [ordered.filter((c) => c.kind !== 'HTTPRoute'), ordered.filter((c) => c.kind === 'HTTPRoute')].filter((r) => r.length > 0);
}

interface ChildFailure {
  child: DesiredObject;
  reason: ConditionInput['reason'];
  message: string;
  /** Not written because a child it depends on failed (see withheldWithout). */
  withheld?: boolean;
}

/**
 * Pure: ids of the children (among `ordered`) that must not be written when `failed` cannot be: the main route
 * without a SecurityPolicy of ours (it would be served without login), and our SecurityPolicy when the main route's
 * name is held by someone else's route (the policy would put login on a route that is not the app's).
 */
export function withheldWithout(failed: DesiredObject, cause: 'not-owned' | 'rejected', names: ChildNames, ordered: readonly DesiredObject[]): string[] {
  const pick = (kind: string, name: string) => ordered.filter((o) => o.kind === kind && o.metadata.name === name).map(objectId);
  if (failed.kind === SECURITYPOLICY.kind) return pick('HTTPRoute', names.mainRoute);
  if (failed.kind === 'HTTPRoute' && failed.metadata.name === names.mainRoute && cause === 'not-owned') return pick(SECURITYPOLICY.kind, names.securityPolicy);
  return [];
}

const CONDITION_OF_KIND: Record<string, ConditionInput['type']> = {
  [SECURITYPOLICY.kind]: CONDITION_TYPES.AuthReady,
  [CERTIFICATE.kind]: CONDITION_TYPES.TLSReady,
  [LISTENERSET.kind]: CONDITION_TYPES.TLSReady,
  [REFERENCEGRANT.kind]: CONDITION_TYPES.RoutingReady,
  HTTPRoute: CONDITION_TYPES.RoutingReady,
};

/** Rewrite the desired status for children that could not be written (not ours, rejected) or were withheld. */
function failedChildrenStatus(desired: DesiredState, failures: readonly ChildFailure[], app: NebariApp, now: Date): void {
  const done = new Set<string>(); // the first failure of a condition names it
  const set = (type: ConditionInput['type'], reason: ConditionInput['reason'], msg: string) => {
    const c = desired.conditions.find((x) => x.type === type);
    if (!c || done.has(type)) return;
    done.add(type);
    Object.assign(c, { status: 'False', reason, message: msg });
  };
  const what = (f: ChildFailure) => `${f.child.kind} ${f.child.metadata.namespace}/${f.child.metadata.name}`;
  const causes = failures.filter((f) => !f.withheld);
  for (const f of causes) set(CONDITION_OF_KIND[f.child.kind] ?? CONDITION_TYPES.RoutingReady, f.reason, f.reason === REASONS.ResourceNotOwned ? f.message : `${what(f)} ${f.message}`);
  for (const f of failures.filter((x) => x.withheld)) {
    const because = causes.map((c) => (c.reason === REASONS.ResourceNotOwned ? c.message : `${what(c)} ${c.message}`)).join('; ');
    set(CONDITION_OF_KIND[f.child.kind] ?? CONDITION_TYPES.RoutingReady, REASONS.AuthNotReady, `${what(f)} is withheld so the app is never served without login: ${because}`);
  }
  const others = desired.conditions.filter((c) => c.type !== CONDITION_TYPES.Ready);
  desired.conditions = [...others, readyCondition(others)];
  desired.status.conditions = buildConditions(desired.conditions, app.status?.conditions, app.metadata.generation, now);
}
