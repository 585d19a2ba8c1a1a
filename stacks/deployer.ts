/**
 * Where `pulumi up` runs from, for the check that it can reach the EKS API through awsPublicAccessCidrs
 * (components/cloud/aws-plan.ts `deployerReachProblem`). The program makes no network call unless asked to:
 *
 * - `NKP_DEPLOYER_IP=<IPv4>`: the runner's public address, given explicitly (CI runners behind a known NAT): checked.
 * - `NKP_DEPLOYER_IP=discover`: the address is asked from `NKP_DEPLOYER_IP_URL` (default https://checkip.amazonaws.com,
 *   which answers with the caller's public IPv4 as plain text) with a short timeout, then checked; when the lookup
 *   fails the program warns and goes on.
 * - `NKP_DEPLOYER_IP=skip`: no check and no notice (e.g. the runner reaches the private endpoint from inside the VPC).
 * - unset: no check and no network call; the program says so (info) and how to turn the check on.
 */
import { parseIpv4Cidr } from '../components/cloud/cidr.js';

export const DEFAULT_DEPLOYER_IP_URL = 'https://checkip.amazonaws.com';

export type DeployerAddress =
    | { kind: 'address'; ip: string; source: string }
    | { kind: 'skip' }
    | { kind: 'unchecked' }
    | { kind: 'unknown'; reason: string };

/** Pure: what NKP_DEPLOYER_IP asks for (never a network call). */
export function deployerCheckMode(env: NodeJS.ProcessEnv): { mode: 'address'; ip: string } | { mode: 'discover'; url: string } | { mode: 'skip' } | { mode: 'unchecked' } | { mode: 'invalid'; reason: string } {
    const explicit = env['NKP_DEPLOYER_IP']?.trim();
    if (explicit === undefined || explicit === '') return { mode: 'unchecked' };
    if (explicit === 'skip') return { mode: 'skip' };
    if (explicit === 'discover') return { mode: 'discover', url: env['NKP_DEPLOYER_IP_URL']?.trim() || DEFAULT_DEPLOYER_IP_URL };
    if (parseIpv4Cidr(`${explicit}/32`)) return { mode: 'address', ip: explicit };
    return { mode: 'invalid', reason: `NKP_DEPLOYER_IP=${JSON.stringify(explicit)} is not an IPv4 address, "discover" or "skip"` };
}

/** The runner's public IPv4 as NKP_DEPLOYER_IP asks; an HTTP request only with `discover`. Never throws. */
export async function discoverDeployerAddress(env: NodeJS.ProcessEnv = process.env, timeoutMs = 5000, fetchImpl: typeof fetch = fetch): Promise<DeployerAddress> {
    const m = deployerCheckMode(env);
    switch (m.mode) {
        case 'unchecked':
            return { kind: 'unchecked' };
        case 'skip':
            return { kind: 'skip' };
        case 'invalid':
            return { kind: 'unknown', reason: m.reason };
        case 'address':
            return { kind: 'address', ip: m.ip, source: 'NKP_DEPLOYER_IP' };
        case 'discover':
            try {
                const res = await fetchImpl(m.url, { signal: AbortSignal.timeout(timeoutMs) });
                const text = (await res.text()).trim();
                if (!res.ok) return { kind: 'unknown', reason: `${m.url} answered HTTP ${res.status}` };
                return parseIpv4Cidr(`${text}/32`) ? { kind: 'address', ip: text, source: m.url } : { kind: 'unknown', reason: `${m.url} answered ${JSON.stringify(text.slice(0, 60))}, not an IPv4 address` };
            } catch (e) {
                return { kind: 'unknown', reason: `${m.url} could not be reached (${(e as Error).message})` };
            }
    }
}
