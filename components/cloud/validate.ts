/** Shared argument validation and tag helpers of the cloud components (pure). */
import { isAnywhere, isIpv6Cidr, parseIpv4Cidr } from './cidr.js';
import type { ApiServerOidc, CostTags } from './types.js';

/** A bad component argument: the message names the component, the field and what is allowed. */
export class CloudArgsError extends Error {
    constructor(
        readonly component: string,
        readonly field: string,
        detail: string,
    ) {
        super(`${component}: invalid ${field}: ${detail}`);
        this.name = 'CloudArgsError';
    }
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Require a lower-case DNS label of at most `max` characters. */
export function requireDnsLabel(component: string, field: string, value: unknown, max: number): string {
    if (typeof value !== 'string' || !DNS_LABEL.test(value) || value.length > max) {
        throw new CloudArgsError(component, field, `${JSON.stringify(value)} is not allowed; use a lower-case DNS label ([a-z0-9-], starting and ending alphanumeric) of at most ${max} characters`);
    }
    return value;
}

/** Require an integer within [min, max]. */
export function requireInt(component: string, field: string, value: unknown, min: number, max: number): number {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
        throw new CloudArgsError(component, field, `${JSON.stringify(value)} is not allowed; use an integer from ${min} to ${max}`);
    }
    return value;
}

/** Require one of the listed values. */
export function requireOneOf<T extends string | number | boolean>(component: string, field: string, value: unknown, allowed: readonly T[]): T {
    if (!allowed.includes(value as T)) {
        throw new CloudArgsError(component, field, `${JSON.stringify(value)} is not allowed; use one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}`);
    }
    return value as T;
}

/** Require true or false. */
export function requireBoolean(component: string, field: string, value: unknown): boolean {
    if (typeof value !== 'boolean') throw new CloudArgsError(component, field, `${JSON.stringify(value)} is not allowed; use true or false`);
    return value;
}

/** Require a non-empty string. */
export function requireNonEmpty(component: string, field: string, value: unknown): string {
    if (typeof value !== 'string' || value.trim() === '') {
        throw new CloudArgsError(component, field, `${JSON.stringify(value)} is not allowed; a non-empty string is required`);
    }
    return value;
}

/** Shortest prefixes accepted for admin entry points (same defaults as the CrossGuard policies: IPv6 is 4x). */
export const MIN_ADMIN_PREFIX = { ipv4: 8, ipv6: 32 } as const;

/**
 * Require a non-empty list of well-formed IPv4/IPv6 CIDRs none of which is the whole internet (`0.0.0.0/0`,
 * `::/0`) or close to it (IPv4 broader than /8, IPv6 broader than /32): used for every admin-only entry point
 * (EKS public endpoint, SSH, K3s API). `ipv4Only` refuses IPv6 entries (EKS public access CIDRs are IPv4).
 */
export function requireRestrictedCidrs(component: string, field: string, value: unknown, ipv4Only = false): string[] {
    if (!Array.isArray(value) || value.length === 0) {
        throw new CloudArgsError(component, field, 'a non-empty list of source CIDRs is required (e.g. ["203.0.113.0/24"]); the entry point is closed to everyone else');
    }
    value.forEach((c, i) => {
        if (typeof c !== 'string' || (parseIpv4Cidr(c) === undefined && !isIpv6Cidr(c))) {
            throw new CloudArgsError(component, `${field}[${i}]`, `${JSON.stringify(c)} is not a valid CIDR; use a network address such as 203.0.113.0/24 or 2001:db8::/32 (host bits zero)`);
        }
        if (isAnywhere(c)) {
            throw new CloudArgsError(component, `${field}[${i}]`, `${c} opens the entry point to the whole internet, which is not allowed; list the networks that need access`);
        }
        const v4 = parseIpv4Cidr(c);
        if (ipv4Only && !v4) {
            throw new CloudArgsError(component, `${field}[${i}]`, `${c} is IPv6; only IPv4 CIDRs are allowed here`);
        }
        const prefix = Number(c.trim().split('/')[1]);
        const min = v4 ? MIN_ADMIN_PREFIX.ipv4 : MIN_ADMIN_PREFIX.ipv6;
        if (prefix < min) {
            throw new CloudArgsError(component, `${field}[${i}]`, `${c} is broader than /${min} and counts as the internet; list narrower networks (prefix /${min} or longer)`);
        }
    });
    return value.map((c: string) => c.trim());
}

/** The three mandatory cost tags plus extras; the mandatory keys always win over extras. */
export function costTagMap(tags: CostTags): Record<string, string> {
    return { ...(tags.extra ?? {}), environment: tags.environment, owner: tags.owner, 'cost-centre': tags.costCentre };
}

const HCLOUD_LABEL_VALUE = /^(([a-zA-Z0-9][-_.a-zA-Z0-9]*)?[a-zA-Z0-9])?$/;
const HCLOUD_LABEL_KEY = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[a-zA-Z0-9]([-_.a-zA-Z0-9]*[a-zA-Z0-9])?$/;

/**
 * Validate cost tags. With `labelSyntax` (Hetzner labels, Kubernetes-like), keys and values must also be valid
 * labels: values at most 63 characters of `[a-zA-Z0-9-_.]`, starting and ending alphanumeric.
 */
export function validateCostTags(component: string, tags: unknown, labelSyntax: boolean): CostTags {
    if (typeof tags !== 'object' || tags === null) {
        throw new CloudArgsError(component, 'tags', 'an object { environment, owner, costCentre, extra? } is required');
    }
    const t = tags as Record<string, unknown>;
    for (const key of ['environment', 'owner', 'costCentre'] as const) {
        requireNonEmpty(component, `tags.${key}`, t[key]);
    }
    const extra = t['extra'];
    if (extra !== undefined && (typeof extra !== 'object' || extra === null || Object.values(extra).some((v) => typeof v !== 'string'))) {
        throw new CloudArgsError(component, 'tags.extra', 'a map of string to string is required');
    }
    const all: Record<string, string> = costTagMap(t as unknown as CostTags);
    if (labelSyntax) {
        for (const [k, v] of Object.entries(all)) {
            const field = k === 'cost-centre' ? 'tags.costCentre' : ['environment', 'owner'].includes(k) ? `tags.${k}` : `tags.extra.${k}`;
            if (!HCLOUD_LABEL_KEY.test(k) || k.length > 253) {
                throw new CloudArgsError(component, field, `label key ${JSON.stringify(k)} is not allowed; use [prefix/]name with name of [a-zA-Z0-9-_.] starting and ending alphanumeric`);
            }
            if (!HCLOUD_LABEL_VALUE.test(v) || v.length > 63) {
                throw new CloudArgsError(component, field, `label value ${JSON.stringify(v)} is not allowed; use at most 63 characters of [a-zA-Z0-9-_.], starting and ending alphanumeric`);
            }
        }
    }
    return t as unknown as CostTags;
}

const CLAIM = /^[A-Za-z0-9_.:/-]{1,64}$/;
const PREFIX = /^[A-Za-z0-9:._-]{0,32}$/;

/** Validate optional API-server OIDC settings and apply defaults; undefined stays undefined. */
export function validateApiServerOidc(component: string, value: unknown): Required<ApiServerOidc> | undefined {
    if (value === undefined) return undefined;
    if (typeof value !== 'object' || value === null) throw new CloudArgsError(component, 'apiServerOidc', 'an object { issuerUrl, clientId, ... } is required');
    const o = value as ApiServerOidc;
    let url: URL | undefined;
    try {
        url = new URL(String(o.issuerUrl));
    } catch {
        url = undefined;
    }
    if (!url || url.protocol !== 'https:' || url.search !== '' || url.hash !== '') {
        throw new CloudArgsError(component, 'apiServerOidc.issuerUrl', `${JSON.stringify(o.issuerUrl)} is not allowed; use the issuer's https URL without query or fragment, e.g. https://keycloak.example.com/realms/nkp`);
    }
    const clientId = requireNonEmpty(component, 'apiServerOidc.clientId', o.clientId);
    const claim = (f: 'usernameClaim' | 'groupsClaim', d: string) => {
        const v = o[f] ?? d;
        if (typeof v !== 'string' || !CLAIM.test(v)) throw new CloudArgsError(component, `apiServerOidc.${f}`, `${JSON.stringify(v)} is not a claim name ([A-Za-z0-9_.:/-], 1..64)`);
        return v;
    };
    const prefix = (f: 'usernamePrefix' | 'groupsPrefix') => {
        const v = o[f] ?? 'oidc:';
        if (typeof v !== 'string' || !PREFIX.test(v)) throw new CloudArgsError(component, `apiServerOidc.${f}`, `${JSON.stringify(v)} is not allowed; use up to 32 of [A-Za-z0-9:._-], e.g. oidc:`);
        return v;
    };
    return {
        issuerUrl: String(o.issuerUrl).trim(),
        clientId,
        usernameClaim: claim('usernameClaim', 'preferred_username'),
        usernamePrefix: prefix('usernamePrefix'),
        groupsClaim: claim('groupsClaim', 'groups'),
        groupsPrefix: prefix('groupsPrefix'),
    };
}
