/** HTTP endpoints: /healthz (process alive), /readyz (caches synced, not shutting down), /metrics (Prometheus). */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

export interface ProbeServerOptions {
  host: string;
  port: number;
  registry: Registry;
  healthy: () => boolean;
  ready: () => boolean;
}

export class ProbeServer {
  private server: Server | undefined;

  constructor(private readonly o: ProbeServerOptions) {}

  async start(): Promise<AddressInfo> {
    const server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD' }).end();
        return;
      }
      if (path === '/healthz' || path === '/readyz') {
        const ok = path === '/healthz' ? this.o.healthy() : this.o.ready();
        res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' }).end(ok ? 'ok\n' : 'not ok\n');
        return;
      }
      if (path === '/metrics') {
        this.o.registry.metrics().then(
          (body) => res.writeHead(200, { 'content-type': this.o.registry.contentType }).end(body),
          () => res.writeHead(500).end(),
        );
        return;
      }
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    });
    server.keepAliveTimeout = 5000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.o.port, this.o.host, () => resolve());
    });
    this.server = server;
    return server.address() as AddressInfo;
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}

/** "host:port" -> parts; a bare ":port" means 127.0.0.1. */
export function parseListenAddress(value: string, field: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(value);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new Error(`${field}: "${value}" is not host:port (e.g. 127.0.0.1:8080, 0.0.0.0:8080, :8080)`);
  return { host: m[1] ?? (m[2] || '127.0.0.1'), port };
}
