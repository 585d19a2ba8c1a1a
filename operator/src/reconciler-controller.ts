/**
 * The operator process: informers (all replicas keep warm caches), leader election (only the leader
 * reconciles), the work queue and its workers, event mapping, the probe/metrics server and graceful shutdown.
 */
import type { KubeAccess } from './runtime/kubeconfig.js';
import { MANAGED_BY_LABEL, MANAGED_BY_VALUE, objectKey, type NebariApp } from './api/types.js';
import { operatorConfig, type OperatorConfig } from './desired/facts.js';
import { CERTIFICATE, CHILD_KINDS, HTTPROUTE, LISTENERSET, SECURITYPOLICY, objectId, type KubeObject as DesiredObject } from './desired/objects.js';
import type { OperatorSettings } from './config.js';
import type { AuthProvisioner } from './reconciler-auth.js';
import { AppIndex, gatewayClassesOf, keysForAppEvent, keysForChild, sameCachedForm } from './reconciler-index.js';
import {
  GATEWAY,
  NAMESPACE,
  NEBARIAPP,
  SECRET,
  SERVICE,
  childResource,
  secretToKeys,
  trimApp,
  trimGateway,
  trimNamespace,
  trimService,
  type SecretKeysObject,
} from './reconciler-resources.js';
import { OwnedIndex, Reconciler } from './reconciler.js';
import { EventRecorder } from './runtime/events.js';
import { Informer, InformerGroup, NamedObjectWatch, UnionCache, kubeListWatcher, type ObjectCache } from './runtime/informer.js';
import { KubeClient, type KubeObject, type ResourceType } from './runtime/kube.js';
import { LeaderElector } from './runtime/leader.js';
import { createLogger, type Logger } from './runtime/logger.js';
import { OperatorMetrics } from './runtime/metrics.js';
import { WorkQueue } from './runtime/queue.js';
import { TokenBucket } from './runtime/ratelimit.js';
import { ProbeServer } from './runtime/server.js';
import { WorkerPool } from './runtime/workers.js';

export interface OperatorOptions {
  settings: OperatorSettings;
  kubeConfig: KubeAccess;
  log?: Logger;
  metrics?: OperatorMetrics;
  provisioner?: AuthProvisioner;
  /** Serve /healthz /readyz /metrics (default true). */
  serveHttp?: boolean;
  /** Called when this instance lost the leader Lease and stopped reconciling; the process should exit. */
  onLeadershipLost?: () => void;
}

export class Operator {
  readonly metrics: OperatorMetrics;
  readonly client: KubeClient;
  readonly log: Logger;
  readonly queue: WorkQueue;
  readonly index: AppIndex;
  readonly owned = new OwnedIndex();
  readonly config: OperatorConfig;
  readonly reconciler: Reconciler;
  private readonly informers: Informer<KubeObject>[] = [];
  /** Secrets apps name (auth.clientSecretRef), watched one by one while named. */
  readonly namedSecrets: NamedObjectWatch<SecretKeysObject>;
  /** Events are recorded in the background (runtime/events.ts); flushed when the operator stops. */
  private readonly events: EventRecorder;
  private readonly caches: {
    apps: InformerGroup<NebariApp & KubeObject>;
    namespaces: InformerGroup;
    services: InformerGroup;
    /** The operator's own Secrets (labelled) and the ones apps name, one watch each: never every Secret. */
    secrets: UnionCache<SecretKeysObject>;
    gateways: InformerGroup;
    children: Map<string, InformerGroup>;
  };
  private readonly pool: WorkerPool;
  /** Events of keys being reconciled that may be echoes of that reconcile's own writes (enqueueUnlessOwnWrite). */
  private readonly deferred = new Map<string, { id: string; rv: string }[]>();
  private elector: LeaderElector | undefined;
  private server: ProbeServer | undefined;
  private active = false;
  private stopping = false;
  private started = false;
  httpAddress: { host: string; port: number } | undefined;

  constructor(private readonly o: OperatorOptions) {
    const s = o.settings;
    this.log = o.log ?? createLogger({ level: s.logLevel, base: { component: 'nebari-operator', instance: s.identity } });
    this.metrics = o.metrics ?? new OperatorMetrics({ defaultMetrics: true });
    this.client = new KubeClient(o.kubeConfig, { metrics: this.metrics, userAgent: `nebari-operator/${s.identity}` });
    this.config = operatorConfig({ gateways: s.gateways, clusterIssuer: s.clusterIssuer, oidc: { issuerURL: s.issuerURL } });
    this.queue = new WorkQueue({
      backoffBaseMs: s.backoffBaseMs,
      backoffMaxMs: s.backoffMaxMs,
      externalBackoffBaseMs: s.externalBackoffBaseMs,
      externalBackoffMaxMs: s.externalBackoffMaxMs,
    });
    this.queue.onDepthChange = (depth, inFlight) => {
      this.metrics.queueDepth.set(depth);
      this.metrics.queueInFlight.set(inFlight);
    };

    const namespaces: (string | undefined)[] = s.watchNamespaces.length > 0 ? s.watchNamespaces : [undefined];
    const group = <T extends KubeObject>(name: string, rt: ResourceType, opts: { labelSelector?: string; transform?: (o: T) => T } = {}): InformerGroup<T> => {
      const infs = namespaces.map(
        (ns) =>
          new Informer<T>({
            name: ns ? `${name}@${ns}` : name,
            listWatcher: kubeListWatcher<T>(this.client, rt, { namespace: ns, labelSelector: opts.labelSelector }),
            log: this.log,
            metrics: this.metrics,
            transform: opts.transform,
          }),
      );
      this.informers.push(...(infs as unknown as Informer<KubeObject>[]));
      const byNs = namespaces[0] === undefined ? undefined : new Map(infs.map((inf, i) => [namespaces[i]!, inf]));
      return new InformerGroup<T>(name, infs, byNs);
    };
    const managed = `${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE}`;

    const nsInformer = new Informer<KubeObject>({
      name: 'namespaces',
      listWatcher: kubeListWatcher(this.client, NAMESPACE, { metadataOnly: true }),
      log: this.log,
      metrics: this.metrics,
      transform: trimNamespace,
    });
    this.informers.push(nsInformer);
    const gwNamespaces = [...new Set([s.gateways.public.namespace, s.gateways.internal.namespace])];
    const gwInformers = gwNamespaces.map(
      (ns) => new Informer<KubeObject>({ name: `gateways@${ns}`, listWatcher: kubeListWatcher(this.client, GATEWAY, { namespace: ns }), log: this.log, metrics: this.metrics, transform: trimGateway }),
    );
    this.informers.push(...gwInformers);

    this.namedSecrets = new NamedObjectWatch<SecretKeysObject>('named-secrets', (ns, name) =>
      new Informer<SecretKeysObject>({
        name: `secret@${ns}/${name}`,
        listWatcher: kubeListWatcher<SecretKeysObject>(this.client, SECRET, { namespace: ns, fieldSelector: `metadata.name=${name}` }),
        log: this.log,
        metrics: this.metrics,
        transform: (o) => secretToKeys(o),
      }),
    );
    this.index = new AppIndex((ref, delta) => {
      const i = ref.indexOf('/');
      if (delta > 0) this.namedSecrets.retain(ref.slice(0, i), ref.slice(i + 1));
      else this.namedSecrets.release(ref.slice(0, i), ref.slice(i + 1));
    });
    const ownSecrets = group<SecretKeysObject>('secrets', SECRET, { labelSelector: managed, transform: (o) => secretToKeys(o) });

    this.caches = {
      apps: group<NebariApp & KubeObject>('nebariapps', NEBARIAPP, { transform: trimApp }),
      namespaces: new InformerGroup('namespaces', [nsInformer]),
      services: group('services', SERVICE, { transform: trimService }),
      secrets: new UnionCache<SecretKeysObject>('secrets', [ownSecrets, this.namedSecrets]),
      gateways: new InformerGroup('gateways', gwInformers, new Map(gwInformers.map((inf, i) => [gwNamespaces[i]!, inf]))),
      children: new Map(CHILD_KINDS.map((k) => [k.kind, group(k.plural, childResource(k), { labelSelector: managed })])),
    };

    this.wireEvents();

    const caches = this.caches;
    this.events = new EventRecorder(this.client, 'nebari.dev/nebari-operator', s.identity, this.log);
    this.reconciler = new Reconciler({
      client: this.client,
      config: this.config,
      caches: {
        apps: caches.apps,
        namespaces: caches.namespaces,
        services: caches.services,
        secrets: caches.secrets,
        gateways: caches.gateways,
        certificates: caches.children.get(CERTIFICATE.kind)!,
        listenerSets: caches.children.get(LISTENERSET.kind)!,
        httpRoutes: caches.children.get(HTTPROUTE.kind)!,
        securityPolicies: caches.children.get(SECURITYPOLICY.kind)!,
        children: caches.children as ReadonlyMap<string, ObjectCache>,
      },
      index: this.index,
      owned: this.owned,
      events: this.events,
      log: this.log,
      provisioner: o.provisioner,
    });
    this.pool = new WorkerPool({
      queue: this.queue,
      concurrency: s.concurrency,
      bucket: new TokenBucket(s.rateLimitQps, s.rateLimitBurst),
      log: this.log,
      metrics: this.metrics,
      reconcile: (key) => this.reconciler.reconcile(key),
      beforeDone: (key) => this.settleDeferred(key),
    });
  }

  private enqueue(keys: Iterable<string>): void {
    if (!this.active) return;
    for (const k of keys) this.queue.add(k);
  }

  /**
   * The watch event of one of the operator's own writes (a status, the finalizer, a child it applied: the same
   * resourceVersion its write returned) brings nothing the reconcile that wrote it did not know: the caches and
   * indexes take it, but no reconcile is queued for it. An event for a key being reconciled may arrive before the
   * response of that reconcile's write: it is judged when that reconcile is over (settleDeferred). Anything else
   * (someone else's change, a version we did not write) is queued as always.
   */
  private enqueueUnlessOwnWrite(keys: readonly string[], id: string, obj: KubeObject): void {
    if (!this.active) return;
    const rv = obj.metadata.resourceVersion;
    for (const k of keys) {
      if (this.queue.isProcessing(k) && rv !== undefined) {
        let d = this.deferred.get(k);
        if (!d) this.deferred.set(k, (d = []));
        d.push({ id, rv });
        this.log.debug('event held until the reconcile is over', { key: k, object: id, resourceVersion: rv });
      } else if (this.reconciler.recent.isOwnEcho(id, obj)) {
        this.metrics.ownEchoes.inc();
        this.log.debug('event of an own write', { key: k, object: id, resourceVersion: rv });
      } else {
        this.queue.add(k);
        this.log.debug('event queued', { key: k, object: id, resourceVersion: rv });
      }
    }
  }

  /** Called when the reconcile of `key` is over (before the queue hands the key out again): see enqueueUnlessOwnWrite. */
  private settleDeferred(key: string): void {
    const d = this.deferred.get(key);
    if (!d) return;
    this.deferred.delete(key);
    const foreign = d.filter((e) => !this.reconciler.recent.isOwnEcho(e.id, { metadata: { resourceVersion: e.rv } }));
    this.metrics.ownEchoes.inc(d.length - foreign.length);
    this.log.debug('held events settled', { key, own: d.length - foreign.length, foreign });
    if (foreign.length > 0) this.enqueue([key]);
  }

  private wireEvents(): void {
    const c = this.caches;
    c.apps.on((type, app, old) => {
      const key = objectKey(app.metadata.namespace!, app.metadata.name);
      this.reconciler.recent.cacheUpdated(`app/${key}`, type === 'delete' ? undefined : app);
      const keys = keysForAppEvent(this.index, app, old);
      if (type === 'delete') this.index.remove(key);
      else this.index.upsert(app);
      this.metrics.managedApps.set(this.index.size);
      for (const k of keysForAppEvent(this.index, app, old)) keys.push(k);
      if (type === 'update') this.enqueueUnlessOwnWrite(keys, `app/${key}`, app);
      else this.enqueue(keys);
    });
    // These caches keep a trimmed form (only what reconciliation reads): an update that leaves it as it was (a
    // Gateway's status, which Envoy Gateway rewrites as routes attach; a Namespace's annotations) queues nothing.
    c.namespaces.on((t, ns, old) => {
      if (!sameCachedForm(t, ns, old)) this.enqueue(this.index.forNamespace(ns.metadata.name));
    });
    c.services.on((t, svc, old) => {
      if (!sameCachedForm(t, svc, old)) this.enqueue(this.index.forService(svc.metadata.namespace!, svc.metadata.name));
    });
    c.secrets.on((t, sec, old) => {
      if (!sameCachedForm(t, sec, old)) this.enqueue(this.index.forSecret(sec.metadata.namespace!, sec.metadata.name));
    });
    c.gateways.on((t, gw, old) => {
      if (sameCachedForm(t, gw, old)) return;
      for (const cls of gatewayClassesOf(this.config.gateways, gw.metadata.namespace!, gw.metadata.name)) this.enqueue(this.index.forGatewayClass(cls));
    });
    for (const cache of c.children.values()) {
      cache.on((type, child, old) => {
        if (old) this.owned.remove(old);
        if (type === 'delete') this.owned.remove(child);
        else this.owned.upsert(child);
        this.reconciler.recent.cacheUpdated(objectId(child as DesiredObject), type === 'delete' ? undefined : child);
        const keys = [...keysForChild(child), ...(old ? keysForChild(old) : [])];
        if (type === 'delete') this.enqueue(keys);
        else this.enqueueUnlessOwnWrite(keys, objectId(child as DesiredObject), child);
      });
    }
  }

  /** The cached copy of a child the operator writes (kind as in CHILD_RESOURCES), as reconciles read it: diagnostics. */
  cachedChild(kind: string, namespace: string, name: string): KubeObject | undefined {
    return this.caches.children.get(kind)?.get(namespace, name);
  }

  /** The NebariApp as the operator's informer cache holds it (diagnostics and tests). */
  cachedApp(namespace: string, name: string): (NebariApp & KubeObject) | undefined {
    return this.caches.apps.get(namespace, name);
  }

  get isLeader(): boolean {
    return this.active;
  }

  synced(): boolean {
    return this.informers.every((i) => i.hasSynced());
  }

  ready(): boolean {
    return !this.stopping && this.synced();
  }

  /** Start caches, the HTTP server and (after the caches synced) leader election or, without it, the workers. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    const s = this.o.settings;
    if (this.o.serveHttp !== false) {
      this.server = new ProbeServer({
        host: s.metricsAddress.host,
        port: s.metricsAddress.port,
        registry: this.metrics.registry,
        healthy: () => !this.stopping,
        ready: () => this.ready(),
      });
      const addr = await this.server.start();
      this.httpAddress = { host: addr.address, port: addr.port };
    }
    for (const i of this.informers) i.start();
    this.namedSecrets.start();
    await Promise.all(this.informers.map((i) => i.waitForSync()));
    // the Secrets the apps listed so far name: synced too, so no app is first reported without its Secret
    await this.namedSecrets.waitForSync();
    if (this.stopping) return;
    this.log.info('caches synced', { nebariapps: this.index.size });
    if (s.leaderElection) {
      this.elector = new LeaderElector({
        client: this.client,
        namespace: s.operatorNamespace,
        name: s.leaseName,
        identity: s.identity,
        leaseDurationMs: s.leaseDurationMs,
        renewDeadlineMs: s.renewDeadlineMs,
        retryPeriodMs: s.retryPeriodMs,
        log: this.log,
        metrics: this.metrics,
        onStartedLeading: () => this.activate(),
        onStoppedLeading: () => this.leadershipLost(),
      });
      this.elector.start();
    } else {
      this.activate();
    }
  }

  private activate(): void {
    if (this.active || this.stopping) return;
    this.active = true;
    this.metrics.isLeader.set(1);
    this.enqueue(this.caches.apps.list().map((a) => objectKey(a.metadata.namespace!, a.metadata.name)));
    // apps gone while we were not leading may have left children behind
    this.enqueue(this.orphanOwnerKeys());
    this.pool.start();
  }

  private orphanOwnerKeys(): string[] {
    const keys = new Set<string>();
    for (const cache of this.caches.children.values()) for (const ch of cache.list()) for (const k of keysForChild(ch)) keys.add(k);
    return [...keys].filter((k) => {
      const i = k.indexOf('/');
      return !this.caches.apps.get(k.slice(0, i), k.slice(i + 1));
    });
  }

  private leadershipLost(): void {
    if (!this.active) return;
    this.active = false;
    this.log.error('lost the leader Lease: stopping reconciles');
    this.queue.shutdown();
    this.o.onLeadershipLost?.();
  }

  /** Graceful stop: finish in-flight reconciles (bounded), release the Lease, stop watches and the server. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.queue.shutdown();
    const timeout = this.o.settings.shutdownTimeoutMs;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.pool.drained(), new Promise<void>((r) => (timer = setTimeout(r, timeout)))]);
    clearTimeout(timer);
    this.active = false;
    await this.elector?.stop(true);
    this.metrics.isLeader.set(0);
    await Promise.all([...this.informers.map((i) => i.stop()), this.namedSecrets.stop()]);
    await this.events.flush(2000);
    await this.server?.stop();
    await this.client.close();
    this.log.info('operator stopped');
  }

  /** `namespace/name` of every Secret in the operator's caches (tests: only its own and the ones apps name). */
  cachedSecrets(): string[] {
    return this.caches.secrets.list().map((o) => `${o.metadata.namespace}/${o.metadata.name}`).sort();
  }

  /** Informer statistics (tests). */
  informerStats(): Record<string, Informer['stats']> {
    return Object.fromEntries(this.informers.map((i) => [i.name, { ...i.stats }]));
  }
}
