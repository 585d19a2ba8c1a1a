/**
 * Stand-in, under Pulumi mocks, for what the LocalCA dynamic provider computes (mocks never run a provider): a real
 * ECDSA P-256 CA certificate and key made once per process by the system's openssl, so the PEM that reaches
 * ArgoCD's values, the cert-manager Secret and the ConfigMaps is a real certificate. Wrap the mocks' outputs with
 * {@link withLocalCaOutputs}. The provider itself is tested for real in local-ca.test.ts and under the real engine.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface StandInCa {
    certPem: string;
    privateKeyPem: string;
}

let memo: StandInCa | undefined;

/** A real self-signed CA (openssl), made once per process; the temp directory is removed right away. */
export function standInCa(): StandInCa {
    if (memo) return memo;
    const dir = mkdtempSync(join(tmpdir(), 'nkp-stand-in-ca-'));
    try {
        execFileSync(
            'openssl',
            ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=NKP stand-in CA', '-addext', 'basicConstraints=critical,CA:TRUE,pathlen:0', '-addext', 'keyUsage=critical,keyCertSign,cRLSign,digitalSignature'],
            { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] },
        );
        memo = { certPem: readFileSync(join(dir, 'ca.crt'), 'utf8'), privateKeyPem: readFileSync(join(dir, 'ca.key'), 'utf8') };
        return memo;
    } finally {
        rmSync(dir, { recursive: true, force: true });
    }
}

type Outputs = (r: { type: string; name: string; inputs: Record<string, unknown> }) => Record<string, unknown> | undefined;

/** Mocks outputs: the stand-in CA for the LocalCA dynamic resource, `base` for everything else. */
export function withLocalCaOutputs(base: Outputs): Outputs {
    return (r) => {
        const b = base(r) ?? {};
        const spec = r.inputs['spec'] as { algorithm?: string } | undefined;
        if (r.type === 'pulumi-nodejs:dynamic:Resource' && spec?.algorithm === 'ECDSA-P256-SHA256') {
            return { ...b, ...standInCa(), notAfter: new Date(Date.now() + 2 * 86_400_000).toISOString() };
        }
        return Object.keys(b).length > 0 ? b : undefined;
    };
}
