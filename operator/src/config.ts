/**
 * Operator configuration from environment variables and `--flag=value` command-line flags (flags win).
 * Parsed and validated once at start; a bad value names the flag/variable and what is allowed.
 */
import { hostname } from 'node:os';
import { HOSTNAME_PATTERN } from './api/schema.js';
import { parseLogLevel, type LogLevel } from './runtime/logger.js';
import { parseListenAddress } from './runtime/server.js';

export interface GatewayRef {
  name: string;
  namespace: string;
}

export interface KeycloakSettings {
  /** Base URL the operator uses to reach the Keycloak admin API (e.g. http://keycloak.keycloak.svc:8080). */
  url: string;
  realm: string;
  /** Realm of the admin credentials (usually master). */
  adminRealm: string;
  /** File holding the admin client id / username and the secret / password (mounted from a Secret, never env). */
  adminCredentialsFile: string;
}

export interface OperatorSettings {
  /** Namespaces whose NebariApps are reconciled; empty = all namespaces. */
  watchNamespaces: string[];
  gateways: { public: GatewayRef; internal: GatewayRef };
  /** Absent (set empty): no cert-manager Certificates; apps with TLS need routing.tls.secretName. */
  clusterIssuer: string | undefined;
  /** OIDC issuer URL for provider keycloak: the one URL both the gateway and the browser use. */
  issuerURL: string | undefined;
  keycloak: KeycloakSettings | undefined;
  operatorNamespace: string;
  identity: string;
  leaderElection: boolean;
  leaseName: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
  metricsAddress: { host: string; port: number };
  concurrency: number;
  rateLimitQps: number;
  rateLimitBurst: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** Apps waiting on Keycloak or OIDC discovery: first retry delay and cap (doubling, with jitter, reset by a reconcile that no longer waits). */
  externalBackoffBaseMs: number;
  externalBackoffMaxMs: number;
  logLevel: LogLevel;
  /** Shutdown grace: how long in-flight reconciles may finish after SIGTERM. */
  shutdownTimeoutMs: number;
}

/** Where operator/manifests/deployment.yaml mounts the Keycloak admin credentials Secret (optional volume). */
export const KEYCLOAK_ADMIN_CREDENTIALS_DIR = '/var/run/secrets/nebari/keycloak-admin';

/** A Keycloak realm name as it appears in a URL path segment. */
const REALM_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$/;

interface Option {
  flag: string;
  env: string;
  default?: string;
  help: string;
}

export const OPTIONS = {
  watchNamespaces: { flag: 'watch-namespaces', env: 'WATCH_NAMESPACES', default: '', help: 'comma-separated namespaces to watch; empty = all' },
  publicGatewayName: { flag: 'public-gateway-name', env: 'PUBLIC_GATEWAY_NAME', default: 'public', help: 'Gateway serving gateway=public' },
  publicGatewayNamespace: { flag: 'public-gateway-namespace', env: 'PUBLIC_GATEWAY_NAMESPACE', default: 'envoy-gateway-system', help: 'namespace of the public Gateway' },
  internalGatewayName: { flag: 'internal-gateway-name', env: 'INTERNAL_GATEWAY_NAME', default: 'internal', help: 'Gateway serving gateway=internal' },
  internalGatewayNamespace: { flag: 'internal-gateway-namespace', env: 'INTERNAL_GATEWAY_NAMESPACE', default: 'envoy-gateway-system', help: 'namespace of the internal Gateway' },
  clusterIssuer: { flag: 'cluster-issuer', env: 'CLUSTER_ISSUER', default: 'letsencrypt', help: 'cert-manager ClusterIssuer for app certificates; empty: none (apps with TLS need routing.tls.secretName)' },
  issuerURL: { flag: 'oidc-issuer-url', env: 'OIDC_ISSUER_URL', default: '', help: 'OIDC issuer URL (Keycloak realm) for provider keycloak' },
  keycloakURL: { flag: 'keycloak-url', env: 'KEYCLOAK_URL', default: '', help: 'Keycloak base URL for the admin API; empty disables client provisioning' },
  keycloakRealm: { flag: 'keycloak-realm', env: 'KEYCLOAK_REALM', default: 'nebari', help: 'realm the app clients live in (the realm of --oidc-issuer-url)' },
  keycloakAdminRealm: { flag: 'keycloak-admin-realm', env: 'KEYCLOAK_ADMIN_REALM', default: 'master', help: 'realm of the admin credentials' },
  keycloakAdminCredentialsFile: {
    flag: 'keycloak-admin-credentials-file',
    env: 'KEYCLOAK_ADMIN_CREDENTIALS_FILE',
    default: KEYCLOAK_ADMIN_CREDENTIALS_DIR,
    help: 'absolute path of the mounted admin credentials Secret: its directory (keys username+password or client-id+client-secret) or one key=value / JSON file',
  },
  operatorNamespace: { flag: 'operator-namespace', env: 'POD_NAMESPACE', default: 'nkp-operator', help: 'namespace of the leader Lease' },
  identity: { flag: 'identity', env: 'POD_NAME', help: 'leader election identity (default hostname-pid)' },
  leaderElection: { flag: 'leader-election', env: 'LEADER_ELECTION', default: 'true', help: 'true/false' },
  leaseName: { flag: 'lease-name', env: 'LEASE_NAME', default: 'nebari-operator-leader', help: 'name of the leader Lease' },
  leaseDuration: { flag: 'lease-duration-seconds', env: 'LEASE_DURATION_SECONDS', default: '15', help: 'seconds' },
  renewDeadline: { flag: 'renew-deadline-seconds', env: 'RENEW_DEADLINE_SECONDS', default: '10', help: 'seconds' },
  retryPeriod: { flag: 'retry-period-seconds', env: 'RETRY_PERIOD_SECONDS', default: '2', help: 'seconds' },
  metricsAddress: { flag: 'metrics-address', env: 'METRICS_ADDRESS', default: '127.0.0.1:8080', help: 'host:port of /healthz /readyz /metrics' },
  concurrency: { flag: 'concurrency', env: 'CONCURRENCY', default: '16', help: 'parallel reconciles (1..256)' },
  rateLimitQps: { flag: 'rate-limit-qps', env: 'RATE_LIMIT_QPS', default: '100', help: 'reconciles started per second overall' },
  rateLimitBurst: { flag: 'rate-limit-burst', env: 'RATE_LIMIT_BURST', default: '200', help: 'token bucket burst' },
  backoffBase: { flag: 'backoff-base-ms', env: 'BACKOFF_BASE_MS', default: '500', help: 'first retry delay of a failing key' },
  backoffMax: { flag: 'backoff-max-ms', env: 'BACKOFF_MAX_MS', default: '300000', help: 'retry delay cap' },
  externalBackoffBase: {
    flag: 'external-backoff-base-ms',
    env: 'EXTERNAL_BACKOFF_BASE_MS',
    default: '1000',
    help: 'first retry delay of an app waiting on Keycloak or OIDC discovery (doubles per retry, +-20% jitter)',
  },
  externalBackoffMax: { flag: 'external-backoff-max-ms', env: 'EXTERNAL_BACKOFF_MAX_MS', default: '300000', help: 'retry delay cap of an app waiting on Keycloak or OIDC discovery' },
  logLevel: { flag: 'log-level', env: 'LOG_LEVEL', default: 'info', help: 'debug, info, warn, error' },
  shutdownTimeout: { flag: 'shutdown-timeout-seconds', env: 'SHUTDOWN_TIMEOUT_SECONDS', default: '20', help: 'seconds' },
} satisfies Record<string, Option>;

type Key = keyof typeof OPTIONS;

/** How errors and warnings name a setting: its flag and its environment variable. */
function where(k: Key): string {
  return `--${OPTIONS[k].flag} / ${OPTIONS[k].env}`;
}

function parseFlags(argv: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  const known = new Set(Object.values(OPTIONS).map((o) => o.flag));
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) throw new Error(`unexpected argument "${a}"; flags look like --name=value`);
    const eq = a.indexOf('=');
    const name = eq >= 0 ? a.slice(2, eq) : a.slice(2);
    if (!known.has(name)) throw new Error(`unknown flag --${name}; known: ${[...known].map((f) => `--${f}`).join(', ')}`);
    let value: string;
    if (eq >= 0) value = a.slice(eq + 1);
    else if (i + 1 < argv.length && !argv[i + 1]!.startsWith('--')) value = argv[++i]!;
    else value = 'true';
    out.set(name, value);
  }
  return out;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export function loadConfig(env: NodeJS.ProcessEnv = process.env, argv: readonly string[] = []): OperatorSettings {
  const flags = parseFlags(argv);
  const raw = (k: Key): string | undefined => {
    const o: Option = OPTIONS[k];
    return flags.get(o.flag) ?? env[o.env] ?? o.default;
  };
  const str = (k: Key): string => (raw(k) ?? '').trim();
  const name = (k: Key): string => {
    const v = str(k);
    if (!DNS_LABEL.test(v) || v.length > 63) throw new Error(`${where(k)}: "${v}" must be a DNS label (lower-case letters, digits, '-', at most 63)`);
    return v;
  };
  const int = (k: Key, min: number, max: number): number => {
    const v = str(k);
    const n = Number(v);
    if (!/^\d+$/.test(v) || n < min || n > max) throw new Error(`${where(k)}: "${v}" must be an integer from ${min} to ${max}`);
    return n;
  };
  const bool = (k: Key): boolean => {
    const v = str(k).toLowerCase();
    if (v === 'true' || v === '1') return true;
    if (v === 'false' || v === '0') return false;
    throw new Error(`${where(k)}: "${v}" must be true or false`);
  };
  const url = (k: Key): string | undefined => {
    const v = str(k);
    if (!v) return undefined;
    let u: URL;
    try {
      u = new URL(v);
    } catch {
      throw new Error(`${where(k)}: "${v}" is not a URL (http:// or https://)`);
    }
    if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new Error(`${where(k)}: "${v}" must be http:// or https://`);
    return v.replace(/\/$/, '');
  };

  const watchNamespaces = str('watchNamespaces')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const ns of watchNamespaces) {
    if (!DNS_LABEL.test(ns)) throw new Error(`${where('watchNamespaces')}: "${ns}" is not a namespace name`);
  }
  // empty: no ClusterIssuer (apps with TLS then need routing.tls.secretName; TLSReady says ClusterIssuerNotConfigured)
  const clusterIssuer = str('clusterIssuer') || undefined;
  if (clusterIssuer !== undefined && !new RegExp(HOSTNAME_PATTERN).test(clusterIssuer)) {
    throw new Error(`${where('clusterIssuer')}: "${clusterIssuer}" must be a DNS-1123 name, or empty for none`);
  }

  const leaseDurationMs = int('leaseDuration', 2, 3600) * 1000;
  const renewDeadlineMs = int('renewDeadline', 1, 3600) * 1000;
  const retryPeriodMs = int('retryPeriod', 1, 3600) * 1000;
  if (!(leaseDurationMs > renewDeadlineMs && renewDeadlineMs > retryPeriodMs)) {
    throw new Error(`${where('leaseDuration')}, ${where('renewDeadline')}, ${where('retryPeriod')}: need lease duration > renew deadline > retry period`);
  }
  const externalBackoffBaseMs = int('externalBackoffBase', 1, 3_600_000);
  const externalBackoffMaxMs = int('externalBackoffMax', 1, 86_400_000);
  if (externalBackoffBaseMs > externalBackoffMaxMs) {
    throw new Error(`${where('externalBackoffBase')} (${externalBackoffBaseMs}) must not exceed ${where('externalBackoffMax')} (${externalBackoffMaxMs})`);
  }
  const issuerURL = url('issuerURL');
  const keycloak = keycloakSettings(url('keycloakURL'), issuerURL, str, where);
  return {
    watchNamespaces,
    gateways: {
      public: { name: name('publicGatewayName'), namespace: name('publicGatewayNamespace') },
      internal: { name: name('internalGatewayName'), namespace: name('internalGatewayNamespace') },
    },
    clusterIssuer,
    issuerURL,
    keycloak,
    operatorNamespace: name('operatorNamespace'),
    identity: str('identity') || `${hostname()}-${process.pid}`,
    leaderElection: bool('leaderElection'),
    leaseName: name('leaseName'),
    leaseDurationMs,
    renewDeadlineMs,
    retryPeriodMs,
    metricsAddress: parseListenAddress(str('metricsAddress'), where('metricsAddress')),
    concurrency: int('concurrency', 1, 256),
    rateLimitQps: int('rateLimitQps', 1, 100_000),
    rateLimitBurst: int('rateLimitBurst', 1, 100_000),
    backoffBaseMs: int('backoffBase', 1, 3_600_000),
    backoffMaxMs: int('backoffMax', 1, 86_400_000),
    externalBackoffBaseMs,
    externalBackoffMaxMs,
    logLevel: parseLogLevel(str('logLevel'), where('logLevel')),
    shutdownTimeoutMs: int('shutdownTimeout', 0, 3600) * 1000,
  };
}

/**
 * Settings that are allowed but likely wrong in production, one message each naming the setting; main logs them as
 * warnings at start. An http:// --oidc-issuer-url is allowed (local tests run Keycloak over http on loopback) but
 * Envoy Gateway's SecurityPolicy accepts only an https issuer, so apps enforcing login at the gateway would fail later.
 */
export function configWarnings(s: Pick<OperatorSettings, 'issuerURL'>): string[] {
  const out: string[] = [];
  if (s.issuerURL && new URL(s.issuerURL).protocol === 'http:') {
    out.push(
      `${where('issuerURL')} "${s.issuerURL}" is http://: Envoy Gateway's SecurityPolicy accepts only an https issuer, so NebariApps of provider keycloak ` +
        `with auth.enforceAtGateway (the default) cannot get their gateway login; use https outside local tests`,
    );
  }
  return out;
}

/**
 * Keycloak client provisioning is on when --keycloak-url is set; then the issuer URL must be that realm's
 * (…/realms/<realm>), so the client Secret's issuer-url, the gateway and the browser agree, and the admin
 * credentials path must be absolute. The file itself may be absent at start (the Secret volume is optional): each
 * provisioning reads it again, so creating or rotating the Secret needs no restart.
 */
function keycloakSettings(
  keycloakURL: string | undefined,
  issuerURL: string | undefined,
  str: (k: Key) => string,
  where: (k: Key) => string,
): KeycloakSettings | undefined {
  if (!keycloakURL) return undefined;
  const realm = str('keycloakRealm');
  const adminRealm = str('keycloakAdminRealm');
  const adminCredentialsFile = str('keycloakAdminCredentialsFile');
  for (const [k, v] of [['keycloakRealm', realm], ['keycloakAdminRealm', adminRealm]] as const) {
    if (!REALM_NAME.test(v)) throw new Error(`${where(k)}: "${v}" must be a Keycloak realm name (letters, digits, '.', '_', '-'), required with ${where('keycloakURL')}`);
  }
  if (!issuerURL) {
    throw new Error(`${where('issuerURL')}: required with ${where('keycloakURL')} (the realm's public issuer, e.g. https://auth.example.com/realms/${realm})`);
  }
  const issuerRealm = /\/realms\/([^/?#]+)$/.exec(new URL(issuerURL).pathname)?.[1];
  if (issuerRealm !== realm) {
    throw new Error(`${where('issuerURL')} "${issuerURL}" must be the issuer of realm "${realm}" (${where('keycloakRealm')}): it has to end with /realms/${realm}`);
  }
  if (!adminCredentialsFile.startsWith('/')) {
    throw new Error(`${where('keycloakAdminCredentialsFile')}: "${adminCredentialsFile}" must be an absolute path (the mounted admin credentials Secret)`);
  }
  return { url: keycloakURL, realm, adminRealm, adminCredentialsFile };
}
