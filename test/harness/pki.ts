// A throwaway PKI for one control plane: CA, apiserver serving certificate, client certificates and the
// service-account signing key pair. Keys and certificates come from the system's openssl (a thin edge:
// Node's crypto makes keys but not X.509 certificates).
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Pki {
  dir: string;
  caCert: string;
  caKey: string;
  serverCert: string;
  serverKey: string;
  saKey: string;
  saPub: string;
}

export interface ClientCert {
  cert: string;
  key: string;
}

function openssl(args: string[], cwd: string): void {
  try {
    execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (err) {
    const e = err as { code?: string; stderr?: Buffer };
    if (e.code === 'ENOENT') {
      throw new Error('openssl is required by the test control plane: install it (Debian: apt-get install -y openssl)');
    }
    throw new Error(`openssl ${args[0]} failed: ${e.stderr?.toString() ?? String(err)}`);
  }
}

/** Subject for a Kubernetes client certificate: CN is the user, each O a group. */
export function clientSubject(user: string, groups: readonly string[]): string {
  const safe = (s: string): string => {
    if (!/^[A-Za-z0-9:._@-]+$/.test(s)) throw new Error(`client certificate name "${s}" may only hold letters, digits and : . _ @ -`);
    return s;
  };
  return `/CN=${safe(user)}${groups.map((g) => `/O=${safe(g)}`).join('')}`;
}

export function createPki(dir: string): Pki {
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=nkp-test-ca'], dir);
  writeFileSync(
    join(dir, 'server.ext'),
    [
      'basicConstraints=CA:FALSE',
      'keyUsage=digitalSignature,keyEncipherment',
      'extendedKeyUsage=serverAuth',
      'subjectAltName=IP:127.0.0.1,IP:10.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc',
      '',
    ].join('\n'),
  );
  openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=kube-apiserver'], dir);
  openssl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '2', '-extfile', 'server.ext'], dir);
  openssl(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', 'sa.key'], dir);
  openssl(['pkey', '-in', 'sa.key', '-pubout', '-out', 'sa.pub'], dir);
  return {
    dir,
    caCert: join(dir, 'ca.crt'),
    caKey: join(dir, 'ca.key'),
    serverCert: join(dir, 'server.crt'),
    serverKey: join(dir, 'server.key'),
    saKey: join(dir, 'sa.key'),
    saPub: join(dir, 'sa.pub'),
  };
}

/** Issues a client certificate signed by the CA; `name` is the file stem. */
export function issueClientCert(pki: Pki, name: string, user: string, groups: readonly string[]): ClientCert {
  const stem = name.replace(/[^A-Za-z0-9_-]/g, '_');
  const ext = join(pki.dir, `${stem}.ext`);
  writeFileSync(ext, 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n');
  openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${stem}.key`, '-out', `${stem}.csr`, '-subj', clientSubject(user, groups)], pki.dir);
  openssl(['x509', '-req', '-in', `${stem}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${stem}.crt`, '-days', '2', '-extfile', ext], pki.dir);
  return { cert: join(pki.dir, `${stem}.crt`), key: join(pki.dir, `${stem}.key`) };
}
