// An HTTPS reverse proxy on 127.0.0.1 with a throwaway CA, in front of an http:// server such as the harness
// Keycloak: what a Gateway or ingress terminating TLS does in a cluster. Stands in for that TLS termination only
// (the bytes behind it are the real server's). Use it where a client insists on https (kube-apiserver's
// --oidc-issuer-url, Envoy Gateway's OIDC issuer); the client trusts `caCert`.
//
//   const front = await startHttpsFront();            // port reserved, serving starts with setTarget()
//   front.setTarget(kc.baseUrl);                       // requests before that answer 503
//   ... front.url === 'https://localhost:<port>' ...
//   await front.stop();
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './control-plane.js';
import { createPki } from './pki.js';

export interface HttpsFront {
  /** https://localhost:<port> (the certificate names localhost and 127.0.0.1). */
  url: string;
  port: number;
  /** PEM file of the CA that signed the front's certificate. */
  caCert: string;
  /** Where requests go (an http:// base URL); until it is set the front answers 503. */
  setTarget(target: string): void;
  /** Requests so far (method, path; `unanswered` when they came before setTarget and got 503), to show a client came through. */
  requests: { method: string; path: string; unanswered: boolean }[];
  stop(): Promise<void>;
}

/** Passes one request on to `target` (an http:// base URL) and its answer back; 502 when the target cannot be reached. */
export function forward(target: URL, req: IncomingMessage, res: ServerResponse): void {
  const up = httpRequest({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: { ...req.headers, host: target.host } }, (ures) => {
    res.writeHead(ures.statusCode ?? 502, ures.headers);
    ures.pipe(res);
  });
  up.on('error', () => {
    res.statusCode = 502;
    res.end();
  });
  req.pipe(up);
}

export async function startHttpsFront(): Promise<HttpsFront> {
  const dir = mkdtempSync(join(tmpdir(), 'nkp-https-front-'));
  const pki = createPki(dir);
  let target: URL | undefined;
  const requests: { method: string; path: string; unanswered: boolean }[] = [];
  const sockets = new Set<Socket>();
  const srv: Server = createServer({ cert: readFileSync(pki.serverCert), key: readFileSync(pki.serverKey) }, (req, res) => {
    requests.push({ method: req.method ?? '', path: req.url ?? '', unanswered: !target });
    if (!target) {
      res.statusCode = 503;
      res.end('no target yet');
      return;
    }
    forward(target, req, res);
  });
  srv.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  const port = await freePort();
  await new Promise<void>((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(port, '127.0.0.1', () => resolve());
  });
  return {
    url: `https://localhost:${port}`,
    port,
    caCert: pki.caCert,
    setTarget(t: string) {
      target = new URL(t);
    },
    requests,
    async stop() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => srv.close(() => r()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
