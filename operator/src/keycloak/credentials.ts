// Admin credentials for the Keycloak Admin API, read from a Kubernetes Secret named in the operator's config.
// The Secret is read through an injected function (the runtime passes a real API read or an informer lookup; tests
// pass their own), re-read when the cached copy is older than `maxAgeMs` or when Keycloak refused the current token,
// and a new resourceVersion means new credentials: rotation works without a restart.
//
// Accepted keys: `username` + `password` (password grant with the `admin-cli` client, or `client-id` when present)
// or `client-id` + `client-secret` (client-credentials grant of a service-account client).
import { KeycloakError } from './errors.js';

export interface SecretRef {
  namespace: string;
  name: string;
}

/** The parts of a v1 Secret we read; `data` is base64 as the API returns it, `stringData` is taken as-is. */
export interface RawSecret {
  metadata?: { resourceVersion?: string };
  data?: Record<string, string>;
  stringData?: Record<string, string>;
}

/** Reads a Secret; resolves undefined when it does not exist. */
export type ReadSecret = (ref: SecretRef) => Promise<RawSecret | undefined>;

export type AdminCredentials =
  | { grant: 'password'; clientId: string; username: string; password: string }
  | { grant: 'client_credentials'; clientId: string; clientSecret: string };

const ADMIN_SECRET_KEYS = 'either username + password, or client-id + client-secret';

/** Pure: credentials from a Secret's decoded data, or an error naming what is missing. */
export function parseAdminCredentials(ref: SecretRef, data: Record<string, string>): AdminCredentials {
  const where = `admin credentials Secret ${ref.namespace}/${ref.name}`;
  const get = (k: string): string | undefined => {
    const v = data[k];
    return typeof v === 'string' && v.length > 0 ? v : undefined;
  };
  const username = get('username');
  const password = get('password');
  const clientId = get('client-id');
  const clientSecret = get('client-secret');
  if (username || password) {
    if (!username || !password) {
      throw new KeycloakError('unauthorized', 'credentials', `${where}: key ${username ? 'password' : 'username'} is missing or empty (needs ${ADMIN_SECRET_KEYS})`);
    }
    return { grant: 'password', clientId: clientId ?? 'admin-cli', username, password };
  }
  if (clientId && clientSecret) return { grant: 'client_credentials', clientId, clientSecret };
  throw new KeycloakError('unauthorized', 'credentials', `${where}: has keys [${Object.keys(data).sort().join(', ')}], needs ${ADMIN_SECRET_KEYS}`);
}

/** Pure: decoded key/value data of a Secret (`stringData` wins over `data`, as the API server merges them). */
export function decodeSecretData(secret: RawSecret): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(secret.data ?? {})) out[k] = Buffer.from(v, 'base64').toString('utf8');
  for (const [k, v] of Object.entries(secret.stringData ?? {})) out[k] = v;
  return out;
}

export interface CurrentCredentials {
  credentials: AdminCredentials;
  /** The Secret's resourceVersion (or a digest-free counter when the reader gives none). */
  version: string;
}

export class AdminCredentialSource {
  private cached?: CurrentCredentials;
  private readAt = 0;
  private inflight?: Promise<CurrentCredentials>;
  /** Secret reads performed (for tests and metrics). */
  reads = 0;

  constructor(
    readonly ref: SecretRef,
    private readonly read: ReadSecret,
    private readonly maxAgeMs = 30_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Current credentials; re-reads the Secret when `fresh` or the cached copy is older than maxAgeMs. */
  async get(fresh = false): Promise<CurrentCredentials> {
    if (!fresh && this.cached && this.now() - this.readAt < this.maxAgeMs) return this.cached;
    this.inflight ??= this.load().finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  private async load(): Promise<CurrentCredentials> {
    let secret: RawSecret | undefined;
    this.reads++;
    try {
      secret = await this.read(this.ref);
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      throw new KeycloakError('unauthorized', 'credentials', `cannot read admin credentials Secret ${this.ref.namespace}/${this.ref.name}: ${msg.slice(0, 200)}`);
    }
    if (!secret) {
      throw new KeycloakError('unauthorized', 'credentials', `admin credentials Secret ${this.ref.namespace}/${this.ref.name} not found`);
    }
    const version = secret.metadata?.resourceVersion ?? '';
    if (this.cached && version !== '' && version === this.cached.version) {
      this.readAt = this.now();
      return this.cached;
    }
    const credentials = parseAdminCredentials(this.ref, decodeSecretData(secret));
    this.cached = { credentials, version: version || `unversioned-${this.reads}` };
    this.readAt = this.now();
    return this.cached;
  }
}

/**
 * ReadSecret over a mounted Secret: `path` is either the Secret volume's directory (one file per key, as the kubelet
 * mounts it) or one file holding `key=value` lines or a JSON object. The kubelet swaps the files atomically when
 * the Secret changes; the version is a digest of the content, so a rotation is noticed on the next read.
 * Reading `ref` is ignored: the mount decides which Secret it is.
 */
export function mountedSecretReader(path: string): ReadSecret {
  return async () => {
    const { readFile, readdir, stat } = await import('node:fs/promises');
    const { createHash } = await import('node:crypto');
    const { join } = await import('node:path');
    let info;
    try {
      info = await stat(path);
    } catch (err) {
      if ((err as { code?: string }).code === 'ENOENT') return undefined;
      throw err;
    }
    const values: Record<string, string> = {};
    if (info.isDirectory()) {
      for (const entry of await readdir(path, { withFileTypes: true })) {
        if (entry.name.startsWith('.')) continue; // ..data and the timestamped dirs of the kubelet
        const p = join(path, entry.name);
        const s = await stat(p).catch(() => undefined);
        if (s?.isFile()) values[entry.name] = (await readFile(p, 'utf8')).replace(/\r?\n$/, '');
      }
    } else {
      Object.assign(values, parseCredentialsFile(await readFile(path, 'utf8')));
    }
    const digest = createHash('sha256');
    for (const k of Object.keys(values).sort()) digest.update(`${k}\0${values[k]}\0`);
    return { metadata: { resourceVersion: `sha256:${digest.digest('hex').slice(0, 16)}` }, stringData: values };
  };
}

/** Pure: `key=value` lines (blank lines and # comments ignored) or a JSON object of strings. */
export function parseCredentialsFile(text: string): Record<string, string> {
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) {
    let obj: unknown;
    try {
      obj = JSON.parse(trimmed);
    } catch {
      throw new KeycloakError('unauthorized', 'credentials', 'admin credentials file: not valid JSON');
    }
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(obj as Record<string, unknown>)) if (typeof v === 'string') out[k] = v;
    return out;
  }
  const out: Record<string, string> = {};
  trimmed.split(/\r?\n/).forEach((line, i) => {
    const l = line.trim();
    if (l === '' || l.startsWith('#')) return;
    const eq = l.indexOf('=');
    if (eq <= 0) throw new KeycloakError('unauthorized', 'credentials', `admin credentials file: line ${i + 1} is not key=value`);
    out[l.slice(0, eq).trim()] = l.slice(eq + 1).trim();
  });
  return out;
}
