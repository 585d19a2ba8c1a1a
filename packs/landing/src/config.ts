// Service configuration from the environment, validated once at start: a bad value names the variable and
// what is allowed. The OIDC values come from the NebariApp's Secret `<name>-oidc-client` (keys client-id,
// client-secret, issuer-url) through the Deployment's env.
import { DEFAULT_REDIRECT_URI, DEFAULT_SCOPES } from './contract.js';
import type { OidcSettings } from './auth.js';
import type { KeycloakAdminSettings } from './keycloak-admin.js';
import { adminBaseFromIssuer } from './keycloak-admin.js';
import { NS } from '../../../components/cluster/namespaces.js';
import { BASE_GROUPS, LANDING_ADMIN_CREDENTIALS_SECRET } from '../../../components/identity/spec.js';
import { PROJECT_PACKS } from '../../../components/argocd/spec.js';

export interface LandingConfig {
  host: string;
  port: number;
  metricsPort: number;
  staticDir: string;
  logLevel: string;
  oidc: (OidcSettings & { sessionSecret?: string }) | null;
  features: {
    stateNamespace: string;
    adminGroups: string[];
    keycloakAdmin?: KeycloakAdminSettings;
    packsNamespace: string;
    packsProject: string;
  };
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
function dnsLabel(env: Record<string, string | undefined>, name: string, dflt: string): string {
  const v = env[name] || dflt;
  if (v.length > 63 || !DNS_LABEL.test(v)) throw new Error(`${name}: "${v}" is not allowed; allowed: a DNS label (lower-case letters, digits, "-", at most 63)`);
  return v;
}

function port(env: Record<string, string | undefined>, name: string, dflt: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return dflt;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new Error(`${name}: "${raw}" is not a port; allowed: an integer 1..65535`);
  return n;
}

function httpUrl(name: string, raw: string): string {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new Error(`${name}: "${raw}" is not a URL; allowed: an absolute http(s) URL`);
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new Error(`${name}: "${raw}" must use http or https`);
  return raw;
}

export function configFromEnv(env: Record<string, string | undefined>, defaults: { staticDir: string }): LandingConfig {
  const oidcVars = ['OIDC_CLIENT_ID', 'OIDC_CLIENT_SECRET', 'OIDC_ISSUER_URL', 'PUBLIC_URL'] as const;
  const present = oidcVars.filter((k) => env[k]);
  if (present.length > 0 && present.length < oidcVars.length) {
    const missing = oidcVars.filter((k) => !env[k]);
    throw new Error(`${missing.join(', ')}: required when ${present.join(', ')} ${present.length === 1 ? 'is' : 'are'} set (sign-in needs all of ${oidcVars.join(', ')})`);
  }
  let oidc: LandingConfig['oidc'] = null;
  if (present.length === oidcVars.length) {
    const redirectPath = env.OIDC_REDIRECT_PATH || DEFAULT_REDIRECT_URI;
    if (!redirectPath.startsWith('/')) throw new Error(`OIDC_REDIRECT_PATH: "${redirectPath}" must be a path starting with /`);
    const ttlRaw = env.SESSION_TTL_SECONDS ?? '28800';
    const ttl = Number(ttlRaw);
    if (!Number.isInteger(ttl) || ttl < 60 || ttl > 604800) throw new Error(`SESSION_TTL_SECONDS: "${ttlRaw}" is not allowed; allowed: an integer 60..604800`);
    if (env.SESSION_SECRET !== undefined && env.SESSION_SECRET.length < 32) throw new Error('SESSION_SECRET: must be at least 32 characters when set');
    oidc = {
      issuer: httpUrl('OIDC_ISSUER_URL', env.OIDC_ISSUER_URL!),
      clientId: env.OIDC_CLIENT_ID!,
      clientSecret: env.OIDC_CLIENT_SECRET!,
      publicUrl: httpUrl('PUBLIC_URL', env.PUBLIC_URL!),
      redirectPath,
      scopes: env.OIDC_SCOPES ? env.OIDC_SCOPES.split(/[\s,]+/).filter(Boolean) : [...DEFAULT_SCOPES],
      sessionTtlSeconds: ttl,
      sessionSecret: env.SESSION_SECRET || undefined,
    };
  }
  const adminVars = ['KEYCLOAK_ADMIN_CLIENT_ID', 'KEYCLOAK_ADMIN_CLIENT_SECRET'] as const;
  const adminSet = adminVars.filter((k) => env[k]);
  if (adminSet.length === 1) throw new Error(`${adminVars.find((k) => !env[k])}: required when ${adminSet[0]} is set (approvals need both; the Deployment takes them from the Secret ${LANDING_ADMIN_CREDENTIALS_SECRET.name})`);
  if (adminSet.length === 2 && !oidc) throw new Error('KEYCLOAK_ADMIN_CLIENT_ID: needs sign-in configured (OIDC_ISSUER_URL and the other OIDC_* variables)');
  if (adminSet.length === 2) adminBaseFromIssuer(oidc!.issuer);
  const adminGroups = (env.ADMIN_GROUPS ?? BASE_GROUPS[0]).split(/[\s,]+/).filter(Boolean);
  if (adminGroups.length === 0) throw new Error('ADMIN_GROUPS: must name at least one group (comma-separated)');
  const features: LandingConfig['features'] = {
    stateNamespace: dnsLabel(env, 'STATE_NAMESPACE', env.POD_NAMESPACE || NS.landing),
    adminGroups,
    ...(adminSet.length === 2 && oidc ? { keycloakAdmin: { issuer: oidc.issuer, clientId: env.KEYCLOAK_ADMIN_CLIENT_ID!, clientSecret: env.KEYCLOAK_ADMIN_CLIENT_SECRET! } } : {}),
    packsNamespace: dnsLabel(env, 'PACKS_NAMESPACE', NS.packApps),
    packsProject: env.PACKS_PROJECT || PROJECT_PACKS,
  };
  const logLevel = env.LOG_LEVEL ?? 'info';
  return {
    host: env.HOST || '127.0.0.1',
    port: port(env, 'PORT', 8080),
    metricsPort: port(env, 'METRICS_PORT', 9090),
    staticDir: env.STATIC_DIR || defaults.staticDir,
    logLevel,
    oidc,
    features,
  };
}
