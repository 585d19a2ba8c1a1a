// Shared helpers of the landing integration tests: built web assets, NebariApp CRUD on the real API server,
// an SSE reader, a loopback backend whose health the test flips.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { buildWeb } from '../../../packs/landing/build.js';
import { GROUP, PLURAL, VERSION, API_VERSION, KIND } from '../../../operator/src/api/types.js';
import type { NebariAppLike } from '../../../packs/landing/src/contract.js';
import type { Group } from '../../../packs/landing/src/view.js';
import { startLandingService, type LandingService } from '../../../packs/landing/src/service.js';
import { silentLogger } from '../../../operator/src/runtime/logger.js';
import { freePort } from '../../harness/control-plane.js';
import type { OidcStandin } from './oidc-standin.js';

let assets: Promise<string> | null = null;
/** Builds the browser bundle once per test process into a temp dir (removed at exit). */
export function webAssets(): Promise<string> {
  if (!assets) {
    const dir = mkdtempSync(join(tmpdir(), 'landing-web-'));
    process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
    assets = buildWeb(dir);
  }
  return assets;
}

let nsCounter = 0;
export async function createNamespace(kc: KubeConfig, prefix = 'landing'): Promise<string> {
  const name = `${prefix}-${process.pid}-${Date.now().toString(36)}-${nsCounter++}`;
  await kc.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name } } });
  return name;
}

export type AppSpec = NonNullable<NebariAppLike['spec']>;

/** Free-form JSON as read back from the API server (tests poke at arbitrary fields). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Obj = Record<string, any>;

export function nebariApp(namespace: string, name: string, spec: Partial<AppSpec>): Record<string, unknown> {
  return {
    apiVersion: API_VERSION,
    kind: KIND,
    metadata: { name, namespace },
    spec: { hostname: `${name}.${namespace}.example.com`, service: { name, port: 8080 }, routing: {}, ...spec },
  };
}

export class Apps {
  private readonly api: CustomObjectsApi;
  constructor(kc: KubeConfig) {
    this.api = kc.makeApiClient(CustomObjectsApi);
  }
  create(obj: Record<string, unknown>): Promise<unknown> {
    const ns = (obj.metadata as { namespace: string }).namespace;
    return this.api.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: ns, plural: PLURAL, body: obj });
  }
  async get(namespace: string, name: string): Promise<Obj> {
    return (await this.api.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: PLURAL, name })) as Obj;
  }
  /** Read-modify-write of the spec (or metadata). */
  async update(namespace: string, name: string, change: (o: Obj) => void): Promise<void> {
    const o = await this.get(namespace, name);
    change(o);
    await this.api.replaceNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: PLURAL, name, body: o });
  }
  /** Writes status through the status subresource, as the operator does. */
  async setStatus(namespace: string, name: string, status: Record<string, unknown>): Promise<void> {
    const o = await this.get(namespace, name);
    o.status = status;
    await this.api.replaceNamespacedCustomObjectStatus({ group: GROUP, version: VERSION, namespace, plural: PLURAL, name, body: o });
  }
  delete(namespace: string, name: string): Promise<unknown> {
    return this.api.deleteNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: PLURAL, name });
  }
}

export interface SseEvent {
  event: string;
  data: string;
}

export interface SseReader {
  status: number;
  events: SseEvent[];
  /** Resolves with the first event (already received or future) after index `from` matching `pred`. */
  waitFor(pred: (e: SseEvent) => boolean, timeoutMs?: number, from?: number): Promise<SseEvent>;
  /** Resolves when the server ends the stream (or close() aborts it). */
  ended: Promise<void>;
  close(): void;
}

/** Opens /api/events with fetch and parses the stream. */
export async function openSse(url: string, headers: Record<string, string> = {}): Promise<SseReader> {
  const ac = new AbortController();
  const res = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: ac.signal });
  const events: SseEvent[] = [];
  const waiters = new Set<() => void>();
  let ended: Promise<void> = Promise.resolve();
  if (res.ok && res.body) {
    ended = (async () => {
      const dec = new TextDecoder();
      let buf = '';
      try {
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
          buf += dec.decode(chunk, { stream: true });
          let i: number;
          while ((i = buf.indexOf('\n\n')) >= 0) {
            const block = buf.slice(0, i);
            buf = buf.slice(i + 2);
            let event = 'message';
            const data: string[] = [];
            for (const line of block.split('\n')) {
              if (line.startsWith('event: ')) event = line.slice(7);
              else if (line.startsWith('data: ')) data.push(line.slice(6));
            }
            if (data.length) {
              events.push({ event, data: data.join('\n') });
              for (const w of [...waiters]) w();
            }
          }
        }
      } catch {
        // aborted by close()
      }
    })();
  }
  return {
    status: res.status,
    events,
    ended,
    waitFor: (pred, timeoutMs = 15_000, from = 0) =>
      new Promise((resolve, reject) => {
        const check = (): boolean => {
          const hit = events.slice(from).find(pred);
          if (hit) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve(hit);
            return true;
          }
          return false;
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no matching SSE event within ${timeoutMs} ms; got ${events.length}: ${events.map((e) => e.data).join(' | ').slice(0, 2000)}`));
        }, timeoutMs);
        if (!check()) waiters.add(check);
      }),
    close: () => ac.abort(),
  };
}

/** Card names of a snapshot, in display order, as "Category: Name". */
export function names(groups: Group[]): string[] {
  return groups.flatMap((g) => g.apps.map((a) => `${g.category}: ${a.name}`));
}

export function snapshot(e: SseEvent): Group[] {
  return (JSON.parse(e.data) as { groups: Group[] }).groups;
}

export function findApp(groups: Group[], id: string) {
  return groups.flatMap((g) => g.apps).find((a) => a.id === id);
}

/** A loopback HTTP backend whose /health answers with `status` (the test flips it). */
export async function healthBackend(): Promise<{ port: number; status: number; hits: number; stop(): Promise<void> }> {
  const state = { port: 0, status: 200, hits: 0, stop: async () => undefined as void };
  const server: Server = createServer((req, res) => {
    state.hits++;
    res.writeHead(req.url === '/health' ? state.status : 404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const a = server.address();
  state.port = typeof a === 'object' && a ? a.port : 0;
  state.stop = () =>
    new Promise<void>((r) => {
      server.close(() => r());
      server.closeAllConnections();
    });
  return state;
}

export async function eventually<T>(fn: () => Promise<T> | T, pred: (v: T) => boolean, timeoutMs = 15_000, what = 'condition'): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: T | undefined;
  while (Date.now() < end) {
    last = await fn();
    if (pred(last)) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} not reached within ${timeoutMs} ms; last: ${JSON.stringify(last)?.slice(0, 1500)}`);
}

/**
 * The landing service as both suites run it: the real control plane, the OIDC stand-in's client, and health
 * probes sent to a loopback backend (instead of <svc>.<ns>.svc) every `healthIntervalMs` instead of >= 10 s.
 */
export async function startTestLanding(
  kubeConfig: KubeConfig,
  issuer: OidcStandin,
  backendPort: number,
  healthIntervalMs: number,
): Promise<LandingService> {
  const port = await freePort();
  return startLandingService({
    kubeConfig,
    oidc: {
      settings: {
        issuer: issuer.issuer,
        clientId: issuer.clientId,
        clientSecret: issuer.clientSecret,
        publicUrl: `http://127.0.0.1:${port}`,
        redirectPath: '/oauth2/callback',
        scopes: ['openid', 'profile', 'email'],
        sessionTtlSeconds: 3600,
      },
    },
    staticDir: await webAssets(),
    log: silentLogger,
    port,
    resolver: () => `http://127.0.0.1:${backendPort}`,
    healthIntervalMs: () => healthIntervalMs,
    coalesceMs: 20,
  });
}
