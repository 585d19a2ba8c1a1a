/**
 * Builds policy validation arguments the way the Pulumi engine and @pulumi/policy's analyzer server do, and runs a
 * policy's `validateResource` / `validateStack` directly, collecting what it reports.
 *
 * Props go through the same path as in a real run: plain JSON (with Pulumi's wire markers for secrets and
 * unknowns) -> a protobuf Struct -> @pulumi/policy's own `deserializeProperties(struct, false)` (which drops the
 * secret marker, exactly as the analyzer does before validation) -> `unknownCheckingProxy` (touching a value that
 * is unknown during preview throws `UnknownValueError`). Policy config is handed over like the analyzer does:
 * `getConfig()` returns the policy's config minus `enforcementLevel`.
 */
/* eslint-disable @typescript-eslint/no-explicit-any -- policy props are untyped JSON, as the engine hands them over */
import { createRequire } from 'node:module';
import type {
    Policy,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
} from '@pulumi/policy';

const require = createRequire(import.meta.url);
const { Struct } = require('google-protobuf/google/protobuf/struct_pb.js') as {
    Struct: { fromJavaScript(o: Record<string, unknown>): { toJavaScript(): Record<string, unknown> } };
};
const rpc = require('@pulumi/pulumi/runtime/rpc.js') as { specialSigKey: string; specialSecretSig: string; unknownValue: string };
const policyDeserialize = require('@pulumi/policy/deserialize.js') as {
    deserializeProperties(s: unknown, proxySecrets: boolean): Record<string, any>;
};
const policyProxy = require('@pulumi/policy/proxy.js') as {
    unknownCheckingProxy<T>(o: T): T;
    UnknownValueError: new (...a: any[]) => Error;
};

export const STACK = 'unit';
export const PROJECT = 'nkp';

/** Pulumi's wire marker for a secret value (what the engine sends for a secret input). */
export function secret<T>(value: T): unknown {
    return { [rpc.specialSigKey]: rpc.specialSecretSig, value };
}

/** The wire sentinel for a value that is unknown during preview (a computed output). */
export const UNKNOWN: string = rpc.unknownValue;

/** Props as a policy sees them in a real run (see the file comment). */
export function engineProps(props: Record<string, unknown>): Record<string, any> {
    const clean = JSON.parse(JSON.stringify(props)) as Record<string, unknown>;
    const struct = Struct.fromJavaScript(clean);
    return policyProxy.unknownCheckingProxy(policyDeserialize.deserializeProperties(struct, false));
}

/** A URN like the engine's: `urn:pulumi:<stack>::<project>::[<parentType>$]<type>::<name>`. */
export function urnOf(type: string, name: string, parentType?: string): string {
    return `urn:pulumi:${STACK}::${PROJECT}::${parentType ? `${parentType}$` : ''}${type}::${name}`;
}

function defaultOpts(extra: Partial<PolicyResourceOptions> = {}): PolicyResourceOptions {
    return {
        protect: false,
        ignoreChanges: [],
        aliases: [],
        customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
        additionalSecretOutputs: [],
        ...extra,
    };
}

class NotApplicable extends Error {}

function getConfigFrom(config: Record<string, unknown> | undefined) {
    return <T extends object>(): T => {
        if (!config) return {} as T;
        const { enforcementLevel: _drop, ...rest } = config;
        return rest as T;
    };
}

export interface ResourceSpec {
    type: string;
    name: string;
    props: Record<string, unknown>;
    opts?: Partial<PolicyResourceOptions>;
    /** The provider resource (type `pulumi:providers:<pkg>`) and its props, e.g. AWS defaultTags. */
    provider?: { type: string; name: string; props: Record<string, unknown> };
    /** The parents' type chain in the URN, e.g. `nkp:cloud:AwsCloud$eks:index:Cluster` (a component's children). */
    parentType?: string;
}

/** ResourceValidationArgs as the analyzer builds them. */
export function resourceArgs(spec: ResourceSpec, config?: Record<string, unknown>): ResourceValidationArgs {
    const props = engineProps(spec.props);
    const args: ResourceValidationArgs = {
        type: spec.type,
        props,
        urn: urnOf(spec.type, spec.name, spec.parentType),
        name: spec.name,
        opts: defaultOpts(spec.opts),
        stackTags: new Map<string, string>(),
        isType: () => false,
        asType: () => undefined,
        getConfig: getConfigFrom(config),
        notApplicable: (reason?: string) => {
            throw new NotApplicable(reason);
        },
    };
    if (spec.provider) {
        args.provider = {
            type: spec.provider.type,
            name: spec.provider.name,
            urn: urnOf(spec.provider.type, spec.provider.name),
            props: engineProps(spec.provider.props),
        };
    }
    return args;
}

export interface StackResourceSpec extends ResourceSpec {
    /** Logical names (within this stack spec) each property depends on (the engine's property dependencies). */
    deps?: Record<string, string[]>;
    /** Logical name of the parent. */
    parent?: string;
}

/** StackValidationArgs as the analyzer builds them: dependencies resolved to the resource objects. */
export function stackArgs(specs: StackResourceSpec[], config?: Record<string, unknown>): StackValidationArgs {
    const byName = new Map<string, PolicyResource>();
    const resources: PolicyResource[] = specs.map((s) => {
        const r: PolicyResource = {
            type: s.type,
            props: engineProps(s.props),
            urn: urnOf(s.type, s.name),
            name: s.name,
            opts: defaultOpts(s.opts),
            dependencies: [],
            propertyDependencies: {},
            isType: () => false,
            asType: () => undefined,
        };
        if (s.provider) {
            r.provider = { type: s.provider.type, name: s.provider.name, urn: urnOf(s.provider.type, s.provider.name), props: engineProps(s.provider.props) };
        }
        if (byName.has(s.name)) throw new Error(`duplicate resource name in stack spec: ${s.name}`);
        byName.set(s.name, r);
        return r;
    });
    specs.forEach((s, i) => {
        const r = resources[i]!;
        const all = new Set<PolicyResource>();
        for (const [prop, names] of Object.entries(s.deps ?? {})) {
            r.propertyDependencies[prop] = names.map((n) => {
                const d = byName.get(n);
                if (!d) throw new Error(`${s.name}: dependency ${n} is not in the stack spec`);
                all.add(d);
                return d;
            });
        }
        r.dependencies = [...all];
        if (s.parent) {
            r.parent = byName.get(s.parent);
            r.opts.parent = r.parent?.urn;
        }
    });
    return {
        resources,
        stackTags: new Map<string, string>(),
        getConfig: getConfigFrom(config),
        notApplicable: (reason?: string) => {
            throw new NotApplicable(reason);
        },
    };
}

export interface Violation {
    message: string;
    urn?: string;
}

export interface RunResult {
    violations: Violation[];
    /** Set when the policy touched a value unknown during preview (the engine reports an advisory "can't run"). */
    unknown?: string;
    /** Set when the policy called notApplicable(). */
    notApplicable?: string;
}

async function collect(run: (report: (message: string, urn?: string) => void) => Promise<void> | void): Promise<RunResult> {
    const violations: Violation[] = [];
    try {
        await run((message, urn) => violations.push(urn === undefined ? { message } : { message, urn }));
    } catch (e) {
        if (e instanceof policyProxy.UnknownValueError) return { violations, unknown: e.message };
        if (e instanceof NotApplicable) return { violations, notApplicable: e.message };
        throw e;
    }
    return { violations };
}

/** Runs a resource policy's validation(s) on one resource. */
export function runResourcePolicy(policy: Policy, spec: ResourceSpec, config?: Record<string, unknown>): Promise<RunResult> {
    const p = policy as ResourceValidationPolicy;
    if (!p.validateResource) throw new Error(`${policy.name} is not a resource policy`);
    const validations = Array.isArray(p.validateResource) ? p.validateResource : [p.validateResource];
    return collect(async (report) => {
        for (const v of validations) await v(resourceArgs(spec, config), report);
    });
}

/** Runs a stack policy over a stack. */
export function runStackPolicy(policy: Policy, specs: StackResourceSpec[], config?: Record<string, unknown>): Promise<RunResult> {
    const p = policy as StackValidationPolicy;
    if (!p.validateStack) throw new Error(`${policy.name} is not a stack policy`);
    return collect((report) => p.validateStack(stackArgs(specs, config), report));
}

/** Messages only, for terse assertions. */
export async function messages(r: Promise<RunResult>): Promise<string[]> {
    const res = await r;
    if (res.unknown) throw new Error(`policy touched an unknown value: ${res.unknown}`);
    return res.violations.map((v) => v.message);
}
