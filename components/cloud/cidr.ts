/** Pure IPv4/IPv6 CIDR helpers shared by the cloud components (no I/O). */
import { isIPv6 } from 'node:net';

/** An IPv4 network: the 32-bit network address (unsigned) and prefix length. */
export interface Ipv4Cidr {
    readonly address: number;
    readonly prefix: number;
}

const IPV4_CIDR = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

/** Parse `a.b.c.d/n`; returns undefined when malformed or when host bits are set. */
export function parseIpv4Cidr(text: string): Ipv4Cidr | undefined {
    const m = IPV4_CIDR.exec(text.trim());
    if (!m) return undefined;
    const octets = m.slice(1, 5).map(Number);
    const prefix = Number(m[5]);
    if (octets.some((o) => o > 255) || prefix > 32) return undefined;
    const address = ((octets[0]! << 24) | (octets[1]! << 16) | (octets[2]! << 8) | octets[3]!) >>> 0;
    if ((address & ~prefixMask(prefix)) >>> 0 !== 0) return undefined;
    return { address, prefix };
}

/** Whether `text` is a well-formed IPv6 CIDR (`2001:db8::/32`). */
export function isIpv6Cidr(text: string): boolean {
    const [addr, len, ...rest] = text.trim().split('/');
    return rest.length === 0 && addr !== undefined && len !== undefined && /^\d{1,3}$/.test(len) && Number(len) <= 128 && isIPv6(addr);
}

/** True for CIDRs that mean "the whole internet". */
export function isAnywhere(cidr: string): boolean {
    const c = cidr.trim();
    if (isIpv6Cidr(c)) return Number(c.split('/')[1]) === 0;
    const v4 = parseIpv4Cidr(c);
    return v4 !== undefined && v4.prefix === 0;
}

/** The netmask of a prefix length as an unsigned 32-bit number. */
export function prefixMask(prefix: number): number {
    return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

/** `a.b.c.d` of an unsigned 32-bit address. */
export function formatIpv4(address: number): string {
    return [24, 16, 8, 0].map((s) => (address >>> s) & 0xff).join('.');
}

/** `a.b.c.d/n`. */
export function formatCidr(c: Ipv4Cidr): string {
    return `${formatIpv4(c.address)}/${c.prefix}`;
}

/** Number of addresses in a network. */
export function size(c: Ipv4Cidr): number {
    return 2 ** (32 - c.prefix);
}

/** Whether `inner` lies entirely inside `outer`. */
export function contains(outer: Ipv4Cidr, inner: Ipv4Cidr): boolean {
    return inner.prefix >= outer.prefix && ((inner.address & prefixMask(outer.prefix)) >>> 0) === outer.address;
}

/** Whether two networks share any address. */
export function overlaps(a: Ipv4Cidr, b: Ipv4Cidr): boolean {
    return contains(a, b) || contains(b, a);
}

/** The `index`-th subnet of length `prefix` inside `parent`. */
export function nthSubnet(parent: Ipv4Cidr, prefix: number, index: number): Ipv4Cidr {
    if (prefix < parent.prefix || prefix > 32) throw new RangeError(`prefix /${prefix} does not fit in /${parent.prefix}`);
    const count = 2 ** (prefix - parent.prefix);
    if (!Number.isInteger(index) || index < 0 || index >= count) throw new RangeError(`subnet index ${index} out of range 0..${count - 1}`);
    return { address: (parent.address + index * 2 ** (32 - prefix)) >>> 0, prefix };
}

/** The address `offset` hosts after the network address of `c`. */
export function hostAddress(c: Ipv4Cidr, offset: number): string {
    if (!Number.isInteger(offset) || offset < 0 || offset >= size(c)) throw new RangeError(`host offset ${offset} outside ${formatCidr(c)}`);
    return formatIpv4((c.address + offset) >>> 0);
}
