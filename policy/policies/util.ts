/**
 * Small pure helpers shared by the policies: reading engine-provided props safely (values that are unknown during
 * preview throw `UnknownValueError` when touched), CIDR and port arithmetic, and policy config with defaults.
 *
 * Compiled as CommonJS (see policy/package.json): relative imports carry no suffix.
 */
import { UnknownValueError } from "@pulumi/policy";
import type { PolicyConfigSchema, PolicyResource, StackValidationArgs } from "@pulumi/policy";

/** Anything a policy reads out of `args.props` (plain JSON behind the engine's unknown-checking proxy). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- untyped JSON from the engine
export type Props = Record<string, any>;

/**
 * Policy config with defaults applied. The Pulumi CLI validates `--policy-pack-config` against `configSchema`;
 * the defaults live in one constant per policy (used for the schema's `default`s too) and are applied here, so a
 * policy behaves the same whether or not the engine filled them in.
 */
export function configWithDefaults<T extends object>(args: { getConfig<C extends object>(): C }, defaults: T): T {
    const given = args.getConfig<Partial<T>>() ?? {};
    const merged: Record<string, unknown> = { ...(defaults as Record<string, unknown>) };
    for (const [k, v] of Object.entries(given)) {
        if (v !== undefined && v !== null) merged[k] = v;
    }
    return merged as T;
}

/** JSON-schema properties for a config object, each with its default taken from `defaults`. */
export function schemaWithDefaults(
    defaults: Record<string, unknown>,
    properties: Record<string, Record<string, unknown>>,
): PolicyConfigSchema {
    const props: PolicyConfigSchema["properties"] = {};
    for (const [k, schema] of Object.entries(properties)) {
        props[k] = (k in defaults ? { ...schema, default: defaults[k] } : schema) as PolicyConfigSchema["properties"][string];
    }
    return { properties: props };
}

/** Result of reading a value that may be unknown during preview. */
export type Read<T> = { known: true; value: T } | { known: false };

/** Runs `get`; an `UnknownValueError` (value not known until the update) yields `{ known: false }`. */
export function read<T>(get: () => T): Read<T> {
    try {
        return { known: true, value: get() };
    } catch (e) {
        if (e instanceof UnknownValueError) return { known: false };
        throw e;
    }
}

/** The value, or `fallback` when it is unknown during preview. */
export function readOr<T>(get: () => T, fallback: T): T {
    const r = read(get);
    return r.known ? r.value : fallback;
}

/** True when the key is present on the object (its value may still be unknown): does not touch the value. */
export function has(obj: unknown, key: string): boolean {
    return typeof obj === "object" && obj !== null && key in (obj as object);
}

/** True when a value is set: present and, when known, not empty. An unknown value counts as set. */
export function isSet(obj: unknown, key: string): boolean {
    if (!has(obj, key)) return false;
    const r = read(() => (obj as Props)[key]);
    if (!r.known) return true;
    const v = r.value;
    if (v === undefined || v === null || v === "") return false;
    if (Array.isArray(v)) return v.length > 0;
    return true;
}

/** An array-valued prop as an array of its known elements (unknown elements are dropped). */
export function knownArray(get: () => unknown): unknown[] {
    const r = read(get);
    if (!r.known || !Array.isArray(r.value)) return [];
    const out: unknown[] = [];
    for (let i = 0; i < r.value.length; i++) {
        const e = read(() => (r.value as unknown[])[i]);
        if (e.known) out.push(e.value);
    }
    return out;
}

/** Known string elements of an array-valued prop. */
export function knownStrings(get: () => unknown): string[] {
    return knownArray(get).filter((x): x is string => typeof x === "string");
}

// ---------------------------------------------------------------- CIDRs

/** Prefix length of a CIDR (`10.0.0.0/8` -> 8, a bare address -> 32 or 128), or undefined when not a CIDR. */
export function prefixLength(cidr: string): number | undefined {
    const s = cidr.trim();
    const slash = s.indexOf("/");
    const addr = slash === -1 ? s : s.slice(0, slash);
    const isV6 = addr.includes(":");
    const isV4 = /^\d{1,3}(\.\d{1,3}){3}$/.test(addr);
    if (!isV6 && !isV4) return undefined;
    if (slash === -1) return isV6 ? 128 : 32;
    const p = Number(s.slice(slash + 1));
    if (!Number.isInteger(p) || p < 0 || p > (isV6 ? 128 : 32)) return undefined;
    return p;
}

/**
 * True when a CIDR is "the whole internet or near it": its prefix is shorter than `minPrefixLength`
 * (0.0.0.0/0 and ::/0 always are). `minPrefixLength` applies to IPv4; IPv6 uses 4x it.
 */
export function isWorldCidr(cidr: string, minPrefixLength: number): boolean {
    const p = prefixLength(cidr);
    if (p === undefined) return false;
    if (p === 0) return true;
    const min = cidr.includes(":") ? minPrefixLength * 4 : minPrefixLength;
    return p < min;
}

// ---------------------------------------------------------------- ports

/** True when the inclusive range [from, to] contains `port`. `-1`/`0..0` with protocol all means every port. */
export function rangeCovers(from: number, to: number, port: number): boolean {
    return from <= port && port <= to;
}

/** True when an AWS IP protocol value means "all traffic". */
export function isAllProtocols(protocol: unknown): boolean {
    return protocol === "-1" || protocol === -1 || protocol === "all";
}

/** True when an AWS protocol value carries TCP (tcp, 6, or all). */
export function carriesTcp(protocol: unknown): boolean {
    return isAllProtocols(protocol) || protocol === "tcp" || protocol === "6" || protocol === 6;
}

/** The ports among `ports` an AWS rule (fromPort/toPort/protocol) opens. */
export function awsRulePorts(protocol: unknown, fromPort: unknown, toPort: unknown, ports: number[]): number[] {
    if (!carriesTcp(protocol)) return [];
    if (isAllProtocols(protocol)) return ports;
    const from = typeof fromPort === "number" ? fromPort : Number(fromPort);
    const to = typeof toPort === "number" ? toPort : Number(toPort ?? fromPort);
    if (!Number.isFinite(from) || !Number.isFinite(to)) return [];
    if (from === -1 || (from === 0 && to === 0)) return ports;
    return ports.filter((p) => rangeCovers(from, to, p));
}

// ---------------------------------------------------------------- stack helpers

/** Resources of the stack with one of the given types. */
export function ofTypes(args: StackValidationArgs, ...types: string[]): PolicyResource[] {
    return args.resources.filter((r) => types.includes(r.type));
}

/** Resources a property of `r` depends on (from the engine's property dependencies), optionally of given types. */
export function propertyDeps(r: PolicyResource, prop: string, ...types: string[]): PolicyResource[] {
    const deps = r.propertyDependencies?.[prop] ?? [];
    return types.length === 0 ? deps : deps.filter((d) => types.includes(d.type));
}

/** The `id` output of a resource when known (the engine includes it in outputs for bridged providers). */
export function outputId(r: PolicyResource): string | undefined {
    const v = readOr(() => r.props["id"], undefined);
    return typeof v === "string" || typeof v === "number" ? String(v) : undefined;
}

/** Kubernetes object name / namespace from `metadata` (undefined when unset or unknown). */
export function k8sName(props: Props): string | undefined {
    const v = readOr(() => props["metadata"]?.["name"], undefined);
    return typeof v === "string" ? v : undefined;
}
export function k8sNamespace(props: Props): string | undefined {
    const v = readOr(() => props["metadata"]?.["namespace"], undefined);
    return typeof v === "string" ? v : undefined;
}

/** Human name for messages: `kind/name` of a Kubernetes object, else the Pulumi logical name. */
export function describe(r: { type: string; name: string; props: Props }): string {
    const n = k8sName(r.props);
    const ns = k8sNamespace(r.props);
    const short = r.type.split(":").pop() ?? r.type;
    if (n !== undefined) return `${short} ${ns ? `${ns}/` : ""}${n}`;
    return `${short} "${r.name}"`;
}
