// Runs inside the private network namespace of a controller (test/harness/gateway-controllers.ts) and joins it to
// the test process through Unix sockets in a directory both can see (network namespaces do not separate the file
// system). Every connection starts with one header line naming the port; the rest is piped unchanged (TLS stays
// end to end).
//   outward: `listen <port>` on the control socket makes this process listen on 127.0.0.1:<port> inside the
//            namespace and carry each connection to <dir>/out.sock, where the test process connects it to
//            127.0.0.1:<port> on the host (the API server, an HTTPS front of Keycloak, ...);
//   inward:  a connection to <dir>/in.sock with header "<port>\n" is connected to 127.0.0.1:<port> inside the
//            namespace (Envoy Gateway's xDS server, which listens on the fixed 0.0.0.0:18000).
// Usage: node netns-forwarder.mjs <dir> [port...]; prints "ready" once the control socket listens.
import { createConnection, createServer } from 'node:net';
import { join } from 'node:path';

const [dir, ...initial] = process.argv.slice(2);
const listening = new Map();

/** Reads one header line from a socket, then hands over the socket and the bytes after the header. */
function readHeader(sock, onHeader) {
  let buf = Buffer.alloc(0);
  const onData = (chunk) => {
    buf = Buffer.concat([buf, chunk]);
    const nl = buf.indexOf(10);
    if (nl < 0) {
      if (buf.length > 64) sock.destroy();
      return;
    }
    sock.off('data', onData);
    sock.pause();
    onHeader(buf.subarray(0, nl).toString('utf8').trim(), buf.subarray(nl + 1));
  };
  sock.on('data', onData);
}

function pipeBoth(a, b, rest) {
  if (rest.length) b.write(rest);
  a.pipe(b).on('error', () => a.destroy());
  b.pipe(a).on('error', () => b.destroy());
  a.on('error', () => b.destroy());
  b.on('error', () => a.destroy());
  a.on('close', () => b.destroy());
  b.on('close', () => a.destroy());
  a.resume();
}

function listenOutward(port) {
  if (listening.has(port)) return Promise.resolve();
  const srv = createServer((client) => {
    const up = createConnection(join(dir, 'out.sock'));
    // the header first, queued before any byte of the client (writes before connect keep their order)
    up.write(`${port}\n`);
    pipeBoth(client, up, Buffer.alloc(0));
  });
  listening.set(port, srv);
  return new Promise((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(port, '127.0.0.1', () => resolve());
  });
}

const inward = createServer((sock) => {
  readHeader(sock, (header, rest) => {
    const port = Number(header);
    if (!Number.isInteger(port) || port < 1 || port > 65535) return sock.destroy();
    const target = createConnection(port, '127.0.0.1');
    pipeBoth(sock, target, rest);
  });
});

const control = createServer((sock) => {
  readHeader(sock, (header) => {
    const m = /^listen (\d+)$/.exec(header);
    if (!m) return sock.end('error: unknown command\n');
    listenOutward(Number(m[1])).then(
      () => sock.end('ok\n'),
      (err) => sock.end(`error: ${err.message}\n`),
    );
  });
});

await Promise.all(initial.map((p) => listenOutward(Number(p))));
await new Promise((r) => inward.listen(join(dir, 'in.sock'), r));
await new Promise((r) => control.listen(join(dir, 'ctl.sock'), r));
process.stdout.write('ready\n');
process.on('SIGTERM', () => process.exit(0));
