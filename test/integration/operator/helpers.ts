// Helpers of the operator integration tests: start the operator in-process against a real control plane, create
// the objects apps depend on, wait for conditions. The real Envoy Gateway and cert-manager controllers run beside
// the shared control plane (ensureGateways starts them: test/harness/gateway-controllers.ts): routes, listeners and
// policies get their status from Envoy Gateway, Certificates are issued by cert-manager from a self-signed
// ClusterIssuer.
import { randomBytes } from 'node:crypto';
import { sharedControlPlane, type ControlPlane } from '../../harness/control-plane.js';
import { ENVOY_GATEWAY_CONTROLLER, runningControllerLogLines, sharedGatewayControllers } from '../../harness/gateway-controllers.js';
import { API_VERSION, KIND, REASONS, type NebariApp, type NebariAppSpec } from '../../../operator/src/api/types.js';
import { loadConfig, type OperatorSettings } from '../../../operator/src/config.js';
import { Operator } from '../../../operator/src/reconciler-controller.js';
import { GATEWAY, NAMESPACE, NEBARIAPP, SECRET, SERVICE } from '../../../operator/src/reconciler-resources.js';
import { KubeClient, type KubeObject, type ResourceType } from '../../../operator/src/runtime/kube.js';
import { childNames } from '../../../operator/src/desired/objects.js';
import { acceptanceFact, ROUTE_ACCEPTANCE } from '../../../operator/src/reconciler-facts.js';
import { createLogger, silentLogger, type Logger } from '../../../operator/src/runtime/logger.js';
import { OperatorMetrics } from '../../../operator/src/runtime/metrics.js';

export const GW_NAMESPACE = 'nkp-test-gateways';
export const GW_PUBLIC = 'public-gw';
export const GW_INTERNAL = 'internal-gw';
/** The GatewayClass of the test Gateways (Envoy Gateway's) and the ClusterIssuer of the operator's Certificates. */
export const GW_CLASS = 'envoy';
export const TEST_ISSUER = 'test-issuer';

export const CERTIFICATE_RT: ResourceType = { group: 'cert-manager.io', version: 'v1', plural: 'certificates', kind: 'Certificate', namespaced: true };
export const HTTPROUTE_RT: ResourceType = { group: 'gateway.networking.k8s.io', version: 'v1', plural: 'httproutes', kind: 'HTTPRoute', namespaced: true };
export const LISTENERSET_RT: ResourceType = { group: 'gateway.networking.k8s.io', version: 'v1', plural: 'listenersets', kind: 'ListenerSet', namespaced: true };
export const REFERENCEGRANT_RT: ResourceType = { group: 'gateway.networking.k8s.io', version: 'v1', plural: 'referencegrants', kind: 'ReferenceGrant', namespaced: true };
export const SECURITYPOLICY_RT: ResourceType = { group: 'gateway.envoyproxy.io', version: 'v1alpha1', plural: 'securitypolicies', kind: 'SecurityPolicy', namespaced: true };

/** A Kubernetes object read back in a test, whose nested fields the test inspects freely. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyObject = KubeObject & Record<string, any>;

export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(3).toString('hex')}`;
}

export function testEnv(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    PUBLIC_GATEWAY_NAME: GW_PUBLIC,
    PUBLIC_GATEWAY_NAMESPACE: GW_NAMESPACE,
    INTERNAL_GATEWAY_NAME: GW_INTERNAL,
    INTERNAL_GATEWAY_NAMESPACE: GW_NAMESPACE,
    CLUSTER_ISSUER: TEST_ISSUER,
    OIDC_ISSUER_URL: 'https://auth.example.test/realms/nebari',
    METRICS_ADDRESS: '127.0.0.1:0',
    LEADER_ELECTION: 'false',
    POD_NAMESPACE: 'nkp-operator-test',
    BACKOFF_BASE_MS: '100',
    BACKOFF_MAX_MS: '5000',
    // apps waiting on Keycloak retry after 200 ms doubling to 2 s, so recovery after an outage stays fast in tests
    EXTERNAL_BACKOFF_BASE_MS: '200',
    EXTERNAL_BACKOFF_MAX_MS: '2000',
    SHUTDOWN_TIMEOUT_SECONDS: '5',
    LOG_LEVEL: process.env.NKP_OPERATOR_LOG ?? 'error',
    ...overrides,
  };
}

export function testSettings(overrides: Record<string, string> = {}): OperatorSettings {
  return loadConfig(testEnv(overrides), []);
}

export interface RunningOperator {
  op: Operator;
  metrics: OperatorMetrics;
  stop(): Promise<void>;
}

/** Operators started by startOperator and not stopped yet: waitForReason's failure message says what they cached. */
const runningOperators = new Set<Operator>();

export async function startOperator(cp: ControlPlane, overrides: Record<string, string> = {}, log?: Logger): Promise<RunningOperator> {
  const settings = testSettings(overrides);
  const metrics = new OperatorMetrics();
  const logger = log ?? (process.env.NKP_OPERATOR_LOG ? createLogger({ level: settings.logLevel }) : silentLogger);
  const op = new Operator({ settings, kubeConfig: cp.kubeConfig(), metrics, log: logger });
  await op.start();
  runningOperators.add(op);
  return {
    op,
    metrics,
    stop: async () => {
      runningOperators.delete(op);
      await op.stop();
    },
  };
}

export interface GatewayCluster {
  cp: ControlPlane;
  /** The test's cluster-admin client (adminClient). */
  c: KubeClient;
}

/**
 * Suite setup shared by operator integration tests, registered in the calling describe: before its tests, the
 * shared control plane, a cluster-admin client and the two Gateways (ensureGateways); after them, the client is
 * closed. The returned object is filled in by the before hook: read its fields inside tests, not at describe time.
 */
export function useGatewayCluster(): GatewayCluster {
  const suite = {} as GatewayCluster;
  before(async function () {
    this.timeout(300_000);
    suite.cp = await sharedControlPlane();
    suite.c = adminClient(suite.cp);
    await ensureGateways(suite.c);
  });
  after(async () => suite.c?.close());
  return suite;
}

/** The test's own API client (cluster-admin), separate from the operator's so its requests are not counted. */
export function adminClient(cp: ControlPlane): KubeClient {
  return new KubeClient(cp.kubeConfig());
}

export async function eventually<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 30_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v as T;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export async function ensureNamespace(c: KubeClient, name: string, optedIn: boolean): Promise<void> {
  await c.apply(
    NAMESPACE,
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: optedIn ? { 'nebari.dev/managed': 'true' } : {} } },
    'nkp-test',
  );
}

export async function setOptIn(c: KubeClient, name: string, optedIn: boolean): Promise<void> {
  await ensureNamespace(c, name, optedIn);
}

/**
 * The two shared Gateways the operator is configured with, their GatewayClass (served by the real Envoy Gateway)
 * and the self-signed ClusterIssuer (served by the real cert-manager); starts the shared gateway controllers on the
 * shared control plane, which `c` must be a client of.
 */
export async function ensureGateways(c: KubeClient, opts: { controllers?: boolean } = {}): Promise<void> {
  // controllers: false when the caller runs its own (startGatewayControllers on a private control plane)
  if (opts.controllers ?? true) {
    await sharedGatewayControllers();
    sharedGatewayClients.add(c);
  }
  await c.apply(
    { group: 'gateway.networking.k8s.io', version: 'v1', plural: 'gatewayclasses', kind: 'GatewayClass', namespaced: false },
    { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'GatewayClass', metadata: { name: GW_CLASS }, spec: { controllerName: ENVOY_GATEWAY_CONTROLLER } },
    'nkp-test',
  );
  await c.apply(
    { group: 'cert-manager.io', version: 'v1', plural: 'clusterissuers', kind: 'ClusterIssuer', namespaced: false },
    { apiVersion: 'cert-manager.io/v1', kind: 'ClusterIssuer', metadata: { name: TEST_ISSUER }, spec: { selfSigned: {} } },
    'nkp-test',
  );
  await ensureNamespace(c, GW_NAMESPACE, false);
  for (const name of [GW_PUBLIC, GW_INTERNAL]) {
    await c.apply(
      GATEWAY,
      {
        apiVersion: 'gateway.networking.k8s.io/v1',
        kind: 'Gateway',
        metadata: { name, namespace: GW_NAMESPACE },
        spec: {
          gatewayClassName: GW_CLASS,
          allowedListeners: { namespaces: { from: 'Selector', selector: { matchLabels: { 'nebari.dev/managed': 'true' } } } },
          listeners: [{ name: 'http', port: 80, protocol: 'HTTP', allowedRoutes: { namespaces: { from: 'All' } } }],
        },
      },
      'nkp-test',
    );
  }
}

export async function createService(c: KubeClient, namespace: string, name: string, port = 8080): Promise<void> {
  await c.apply(
    SERVICE,
    { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace }, spec: { ports: [{ name: 'http', port, targetPort: port }], selector: { app: name } } },
    'nkp-test',
  );
}

export async function createSecret(c: KubeClient, namespace: string, name: string, data: Record<string, string>): Promise<void> {
  await c.apply(SECRET, { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace }, stringData: data }, 'nkp-test');
}

export async function applyApp(c: KubeClient, namespace: string, name: string, spec: Partial<NebariAppSpec> & Record<string, unknown>): Promise<NebariApp> {
  // PUT-like semantics through SSA with the test's own manager: fields left out are removed
  return c.apply<NebariApp & KubeObject>(NEBARIAPP, { apiVersion: API_VERSION, kind: KIND, metadata: { name, namespace }, spec } as KubeObject, 'nkp-test');
}

export async function getApp(c: KubeClient, namespace: string, name: string): Promise<NebariApp | undefined> {
  return c.get<NebariApp & KubeObject>(NEBARIAPP, namespace, name);
}

export function condition(app: NebariApp | undefined, type: string): { status: string; reason: string; message: string } | undefined {
  return app?.status?.conditions?.find((c) => c.type === type) as { status: string; reason: string; message: string } | undefined;
}

/**
 * What the app waits for from Envoy Gateway when it is not Ready: a condition that says its route, listener or
 * SecurityPolicy was written and the gateway controller has not accepted it (no status yet, or a refusal).
 */
export function waitingForGateway(app: NebariApp | undefined): string | undefined {
  if (!app || app.status?.observedGeneration !== app.metadata.generation) return undefined;
  const c = (app.status?.conditions ?? []).find((x) => x.status === 'False' && GATEWAY_WAITS[x.type]?.includes(x.reason));
  return c ? `${c.type}=${c.reason}: ${c.message}` : undefined;
}

/** The condition reasons (by condition type) that mean the app waits on the gateway controller. */
const GATEWAY_WAITS: Record<string, readonly string[]> = {
  RoutingReady: [REASONS.Reconciling, REASONS.RouteNotAccepted],
  TLSReady: [REASONS.ListenerNotReady],
  AuthReady: [REASONS.Reconciling, REASONS.SecurityPolicyFailed],
};

/** Clients of the shared control plane whose shared gateway controllers ensureGateways started. */
const sharedGatewayClients = new WeakSet<KubeClient>();

/** `generation N, resourceVersion R, <type>=<status> (gen M), ...` over every parent entry of a route's status. */
function routeStatusSummary(route: AnyObject | undefined): string {
  if (!route) return 'absent';
  const parents = (route.status?.parents ?? []) as { conditions?: { type: string; status: string; observedGeneration?: number }[] }[];
  const conds = parents.flatMap((p) => p.conditions ?? []).map((c) => `${c.type}=${c.status} (gen ${c.observedGeneration})`);
  return `generation ${route.metadata.generation}, resourceVersion ${route.metadata.resourceVersion}, ${conds.length ? conds.join(', ') : 'no status'}`;
}

/**
 * Wait until condition `type` has `reason` (and optionally `status`); returns the app.
 *
 * Envoy Gateway sometimes never writes the status of a route it was given, or keeps a refusal it computed before its
 * cache had the route's namespace (envoyproxy/gateway#6898, #9536, #8861). When a wait for a True condition runs out
 * on a client of the shared gateway cluster while the app, at its current generation, waits only for the gateway
 * controller (waitingForGateway) and the route on the server indeed lacks an acceptance for its generation, Envoy
 * Gateway is restarted once (its maintainers' workaround; the line printed names the app) and the same wait runs
 * again: the app must still get there, nothing is excused. When the server's route is accepted and the app still
 * waits, the operator is behind: the error says so, with what each running operator has cached.
 */
export async function waitForReason(c: KubeClient, ns: string, name: string, type: string, reason: string, status?: string, timeoutMs = 30_000): Promise<NebariApp> {
  let last: NebariApp | undefined;
  let detail = '';
  const wait = () =>
    eventually(
      `${ns}/${name} ${type}=${status ?? '*'}/${reason}`,
      async () => {
        const app = (last = await getApp(c, ns, name));
        const cond = condition(app, type);
        return cond && cond.reason === reason && (!status || cond.status === status) && app?.status?.observedGeneration === app?.metadata.generation ? app : undefined;
      },
      timeoutMs,
    );
  try {
    try {
      return await wait();
    } catch (err) {
      const gateway = status === 'True' && sharedGatewayClients.has(c) ? waitingForGateway(last) : undefined;
      if (!gateway) throw err;
      const routeName = childNames(ns, name).mainRoute;
      const route = (await c.get(HTTPROUTE_RT, ns, routeName)) as AnyObject | undefined;
      const cached = [...runningOperators].map((op) => routeStatusSummary(op.cachedChild('HTTPRoute', ns, routeName) as AnyObject | undefined));
      detail = `; route ${routeName} on the server: ${routeStatusSummary(route)}; in the running operators' caches: ${cached.length ? cached.join(' | ') : 'none running'}`;
      // the operator's own rule on the server's copy: accepted there means the operator is behind, not Envoy Gateway
      if (acceptanceFact(route, 'parents', ROUTE_ACCEPTANCE)?.state === 'accepted' && gateway.startsWith('RoutingReady')) throw err;
      console.log(`      Envoy Gateway left ${ns}/${name} waiting (${gateway}): restarting it (envoyproxy/gateway#6898, #9536, #8861)`);
      await (await sharedGatewayControllers()).restartEnvoyGateway();
      detail = '';
      return await wait();
    }
  } catch (err) {
    // what the app said last: which condition held it back
    const said = last ? `generation ${last.metadata.generation}, observed ${last.status?.observedGeneration}, conditions ${conditionsOf(last)}` : 'no such NebariApp';
    throw new Error(`${(err as Error).message}; last seen: ${said}${detail}`);
  }
}

const EVENT_RT: ResourceType = { group: '', version: 'v1', plural: 'events', kind: 'Event', namespaced: true };
export const CERTIFICATEREQUEST_RT: ResourceType = { group: 'cert-manager.io', version: 'v1', plural: 'certificaterequests', kind: 'CertificateRequest', namespaced: true };

/** `type=status/reason: message` of each condition, for failure messages. */
function conditionsOf(o: AnyObject | NebariApp | undefined): string {
  const conditions = (o?.status?.conditions ?? []) as readonly { type: string; status: string; reason?: string; message?: string }[];
  return JSON.stringify(conditions.map((x) => `${x.type}=${x.status}/${x.reason ?? ''}: ${x.message ?? ''}`));
}

/**
 * Waits until the real cert-manager has issued the Certificate (its Ready condition True); returns it. On a timeout
 * the error carries what cert-manager said: the Certificate's conditions and those of its CertificateRequests.
 */
export async function waitCertificateIssued(c: KubeClient, namespace: string, name: string, timeoutMs = 60_000): Promise<AnyObject> {
  let last: AnyObject | undefined;
  try {
    return await eventually(
      `Certificate ${namespace}/${name} issued by cert-manager`,
      async () => {
        const cert = (last = (await c.get(CERTIFICATE_RT, namespace, name)) as AnyObject | undefined);
        return cert?.status?.conditions?.some((x: { type: string; status: string }) => x.type === 'Ready' && x.status === 'True') ? cert : undefined;
      },
      timeoutMs,
      200,
    );
  } catch (err) {
    const requests = (await c.list<AnyObject>(CERTIFICATEREQUEST_RT, namespace)).items.filter((r) =>
      (r.metadata.ownerReferences ?? []).some((o: { kind: string; name: string }) => o.kind === 'Certificate' && o.name === name),
    );
    // cert-manager records what it did and why it stopped as Events on the Certificate and its requests (a failed
    // request holds the Certificate back for an hour: failedIssuanceAttempts, lastFailureTime)
    const involved = new Set([name, ...requests.map((r) => r.metadata.name as string)]);
    const events = [...new Set((await c.list<AnyObject>(EVENT_RT, namespace)).items
      .filter((e) => involved.has(e.involvedObject?.name) && /^(Certificate|CertificateRequest)$/.test(e.involvedObject?.kind ?? ''))
      .map((e) => `${e.lastTimestamp ?? e.eventTime ?? ''} ${e.involvedObject.kind}/${e.involvedObject.name} ${e.type} ${e.reason}: ${e.message}`))];
    const st = last?.status ?? {};
    const said = last
      ? `generation ${last.metadata.generation}, conditions ${conditionsOf(last)}, failedIssuanceAttempts ${st.failedIssuanceAttempts ?? 0}, lastFailureTime ${st.lastFailureTime ?? '-'}, nextPrivateKeySecretName ${st.nextPrivateKeySecretName ?? '-'}; requests ${JSON.stringify(requests.map((r) => `${r.metadata.name} ${conditionsOf(r)}`))}; events ${JSON.stringify(events)}`
      : 'no such Certificate';
    // and its log: errors (a missing or invalid CA Secret is logged, not failed) and lines naming the Certificate
    const logged = runningControllerLogLines('cert-manager', (l) => !l.includes('optimistic locking') && (l.includes(`${namespace}/${name}`) || l.includes(`"${name}`) || l.startsWith('E')), 15);
    throw new Error(`${(err as Error).message}; last seen: ${said}; cert-manager logged ${JSON.stringify(logged)}`);
  }
}

export async function exists(c: KubeClient, rt: ResourceType, ns: string, name: string): Promise<boolean> {
  return (await c.get(rt, ns, name)) !== undefined;
}

export async function deleteApp(c: KubeClient, ns: string, name: string): Promise<void> {
  await c.delete(NEBARIAPP, ns, name);
}
