/**
 * Where `pulumi up` runs from, for the check that it can reach the EKS API through awsPublicAccessCidrs
 * (components/cloud/aws-plan.ts `deployerReachProblem`).
 *
 * - `NKP_DEPLOYER_IP=<IPv4>`: the runner's public address, given explicitly (CI runners behind a known NAT).
 * - `NKP_DEPLOYER_IP=skip`: no check (e.g. the runner reaches the private endpoint from inside the VPC).
 * - otherwise the address is asked from `NKP_DEPLOYER_IP_URL` (default https://checkip.amazonaws.com, which answers
 *   with the caller's public IPv4 as plain text) with a short timeout; when that fails the program warns and goes on.
 */
import { parseIpv4Cidr } from '../components/cloud/cidr.js';

export const DEFAULT_DEPLOYER_IP_URL = 'https://checkip.amazonaws.com';

export type DeployerAddress = { kind: 'address'; ip: string; source: string } | { kind: 'skip' } | { kind: 'unknown'; reason: string };

/** Pure-ish: the runner's public IPv4 from the environment or the lookup URL. Never throws. */
export async function discoverDeployerAddress(env: NodeJS.ProcessEnv = process.env, timeoutMs = 5000): Promise<DeployerAddress> {
    const explicit = env['NKP_DEPLOYER_IP']?.trim();
    if (explicit === 'skip') return { kind: 'skip' };
    if (explicit !== undefined && explicit !== '') {
        return parseIpv4Cidr(`${explicit}/32`) ? { kind: 'address', ip: explicit, source: 'NKP_DEPLOYER_IP' } : { kind: 'unknown', reason: `NKP_DEPLOYER_IP=${JSON.stringify(explicit)} is not an IPv4 address (or "skip")` };
    }
    const url = env['NKP_DEPLOYER_IP_URL']?.trim() || DEFAULT_DEPLOYER_IP_URL;
    try {
        const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
        const text = (await res.text()).trim();
        if (!res.ok) return { kind: 'unknown', reason: `${url} answered HTTP ${res.status}` };
        return parseIpv4Cidr(`${text}/32`) ? { kind: 'address', ip: text, source: url } : { kind: 'unknown', reason: `${url} answered ${JSON.stringify(text.slice(0, 60))}, not an IPv4 address` };
    } catch (e) {
        return { kind: 'unknown', reason: `${url} could not be reached (${(e as Error).message})` };
    }
}
