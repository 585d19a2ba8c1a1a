/**
 * Reusable Pulumi mocks for unit tests (a stand-in for the Pulumi engine and the cloud providers, which cannot be
 * reached here). `setupPulumiMocks()` installs a mocks object that records every registered resource (type, name,
 * inputs, parent) and answers invokes; call it BEFORE dynamically importing the module under test:
 *
 *     const mocks = await setupPulumiMocks();
 *     const { AwsCloud } = await import('../../../components/cloud/aws.js');
 *     const c = new AwsCloud('t', args);
 *     await mocks.settle();
 *     mocks.ofType('aws:ec2/subnet:Subnet') ...
 *
 * Remote components (`eks:index:Cluster`, Helm v4 `kubernetes:helm.sh/v4:Chart`, YAML config groups) are one
 * recorded resource each under mocks: assert the inputs passed to them.
 *
 * Secret inputs are recorded as Pulumi's wire marker `{ [specialSigKey]: specialSecretSig, value }`:
 * `isSecretMarker()` recognises it and `unwrapSecrets()` strips it; `RecordedResource.inputs` keeps the markers,
 * `RecordedResource.plain` has them stripped.
 */
/* eslint-disable @typescript-eslint/no-explicit-any -- recorded resource inputs are untyped JSON that tests index freely */
import * as pulumi from '@pulumi/pulumi';
import { createRequire } from 'node:module';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const require = createRequire(import.meta.url);
// Pulumi's wire-format constants (CommonJS module inside @pulumi/pulumi; same instance the SDK uses).
const rpc = require('@pulumi/pulumi/runtime/rpc.js') as { specialSigKey: string; specialSecretSig: string };
const settings = require('@pulumi/pulumi/runtime/settings.js') as {
    waitForRPCs?: () => Promise<void>;
    getMonitor?: () => { getRegisteredResources?: () => Map<string, unknown> } | undefined;
};

export interface RecordedResource {
    /** Type token, e.g. `aws:ec2/subnet:Subnet`. */
    type: string;
    /** Logical name. */
    name: string;
    /** Inputs as the engine received them (secret values wrapped in the secret marker). */
    inputs: Record<string, unknown>;
    /** Inputs with secret markers stripped. */
    plain: Record<string, any>;
    /** True for custom resources (and remote components' wire type is false only for local components). */
    custom: boolean;
    /** Provider reference, when one was given. */
    provider?: string;
}

export interface RecordedCall {
    token: string;
    inputs: Record<string, any>;
}

export interface MocksOptions {
    /** Extra state returned for a resource (merged over its inputs); e.g. outputs a real provider would compute. */
    outputs?: (r: { type: string; name: string; inputs: Record<string, any> }) => Record<string, unknown> | undefined;
    /** Id of a custom resource (default `<name>-id`); e.g. numeric ids for providers whose ids are numbers (hcloud). */
    id?: (r: { type: string; name: string; inputs: Record<string, any> }) => string;
    /** Result of an invoke (function call); default: returns the inputs. */
    call?: (c: RecordedCall) => Record<string, unknown> | undefined;
    /** Pulumi project name (default `nkp`). */
    project?: string;
    /** Pulumi stack name (default `unit`). */
    stack?: string;
    /** Preview (dry run) mode (default false). */
    preview?: boolean;
}

/** True when `v` is Pulumi's serialized secret marker. */
export function isSecretMarker(v: unknown): v is { value: unknown } {
    return typeof v === 'object' && v !== null && (v as Record<string, unknown>)[rpc.specialSigKey] === rpc.specialSecretSig;
}

/** Deep copy of `v` with every secret marker replaced by its value. */
export function unwrapSecrets(v: unknown): any {
    if (isSecretMarker(v)) return unwrapSecrets(v.value);
    if (Array.isArray(v)) return v.map(unwrapSecrets);
    if (typeof v === 'object' && v !== null && Object.getPrototypeOf(v) === Object.prototype) {
        return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, unwrapSecrets(x)]));
    }
    return v;
}

/** The recording mocks object. */
export class RecordingMocks implements pulumi.runtime.Mocks {
    readonly resources: RecordedResource[] = [];
    readonly calls: RecordedCall[] = [];
    constructor(private readonly options: MocksOptions = {}) {}

    newResource(args: pulumi.runtime.MockResourceArgs): { id: string | undefined; state: Record<string, any> } {
        const inputs = args.inputs as Record<string, unknown>;
        const rec: RecordedResource = {
            type: args.type,
            name: args.name,
            inputs,
            plain: unwrapSecrets(inputs),
            custom: args.custom ?? true,
            provider: args.provider,
        };
        this.resources.push(rec);
        const extra = this.options.outputs?.({ type: args.type, name: args.name, inputs: rec.plain }) ?? {};
        const id = args.custom === false ? undefined : (this.options.id?.({ type: args.type, name: args.name, inputs: rec.plain }) ?? `${args.name}-id`);
        return { id, state: { ...inputs, ...extra } };
    }

    call(args: pulumi.runtime.MockCallArgs): Record<string, any> {
        const c: RecordedCall = { token: args.token, inputs: unwrapSecrets(args.inputs) };
        this.calls.push(c);
        return this.options.call?.(c) ?? c.inputs;
    }

    /** Every recorded resource of a type token. */
    ofType(type: string): RecordedResource[] {
        return this.resources.filter((r) => r.type === type);
    }

    /** The one resource of a type (and name, when given); throws when there is not exactly one. */
    one(type: string, name?: string): RecordedResource {
        const found = this.ofType(type).filter((r) => name === undefined || r.name === name);
        if (found.length !== 1) {
            throw new Error(`expected exactly one ${type}${name ? ` named ${name}` : ''}, found ${found.length}: ${this.ofType(type).map((r) => r.name).join(', ')}`);
        }
        return found[0]!;
    }

    /**
     * URNs the mock monitor registered for a resource type and name (the URN's type chain shows the parents,
     * e.g. `nkp:cloud:AwsCloud$aws:ec2/vpc:Vpc`). Not cleared by reset().
     */
    urnsOf(type: string, name: string): string[] {
        const registered = settings.getMonitor?.()?.getRegisteredResources?.();
        if (!registered) return [];
        return [...registered.keys()].filter((urn) => urn.endsWith(`::${name}`) && urn.split('::')[2]!.split('$').pop() === type);
    }

    /** Forget what was recorded (between tests). */
    reset(): void {
        this.resources.length = 0;
        this.calls.length = 0;
    }

    /** Wait until every outstanding registration RPC has reached the mocks. */
    async settle(): Promise<void> {
        if (typeof settings.waitForRPCs === 'function') await settings.waitForRPCs();
        // A final macrotask turn lets registrations queued by the last RPC's callbacks run too.
        await new Promise((r) => setImmediate(r));
        if (typeof settings.waitForRPCs === 'function') await settings.waitForRPCs();
    }
}

/** Install recording mocks (replacing any earlier ones); call before dynamically importing the module under test. */
export async function setupPulumiMocks(options: MocksOptions = {}): Promise<RecordingMocks> {
    const mocks = new RecordingMocks(options);
    await pulumi.runtime.setMocks(mocks, options.project ?? 'nkp', options.stack ?? 'unit', options.preview ?? false);
    return mocks;
}

/** The resource options a component gave one child (recorded by {@link recordChildOptions}). */
export interface RecordedOptions {
    type: string;
    name: string;
    protect?: boolean;
    deleteBeforeReplace?: boolean;
    ignoreChanges?: string[];
    dependsOn?: unknown;
}

/**
 * A Pulumi transformation that records the options every resource below a component is registered with (the mocks
 * only see inputs): pass `{ transformations: [rec.transformation] }` to the component, read `rec.options`.
 */
export function recordChildOptions(): { transformation: pulumi.ResourceTransformation; options: RecordedOptions[]; of: (type: string, name: string) => RecordedOptions } {
    const options: RecordedOptions[] = [];
    return {
        options,
        transformation: (a) => {
            const o = a.opts as pulumi.CustomResourceOptions;
            options.push({ type: a.type, name: a.name, protect: o.protect, deleteBeforeReplace: o.deleteBeforeReplace, ignoreChanges: o.ignoreChanges, dependsOn: o.dependsOn });
            return undefined;
        },
        of: (type, name) => {
            const found = options.filter((x) => x.type === type && x.name === name);
            if (found.length !== 1) throw new Error(`expected one ${type} ${name} in recorded options, found ${found.length}`);
            return found[0]!;
        },
    };
}

/** The resolved value of an Output (undefined while unknown in preview). */
export function outputValue<T>(o: pulumi.Output<T> | pulumi.Input<T>): Promise<T> {
    return new Promise((resolve) => pulumi.output(o).apply((v) => { resolve(v as T); return v; }));
}

/** Whether an Output is marked secret. */
export function outputIsSecret(o: pulumi.Output<unknown>): Promise<boolean> {
    return pulumi.isSecret(o);
}

/** A stand-in kubeconfig (K3s style) that cloud components can parse; no cluster behind it. */
export const STAND_IN_KUBECONFIG = `apiVersion: v1
kind: Config
clusters:
- cluster:
    certificate-authority-data: Q0E=
    server: https://127.0.0.1:6443
  name: default
contexts:
- context:
    cluster: default
    user: default
  name: default
current-context: default
users:
- name: default
  user:
    token: stand-in
`;

/**
 * Stand-in provider outputs for running a whole stack (cloud + platform) under mocks: just enough of what AWS,
 * Hetzner, EKS and the remote commands would compute for the components to wire their outputs. Use as
 * `setupPulumiMocks({ outputs: wholeStackOutputs })`.
 */
export function wholeStackOutputs({ type, name, inputs }: { type: string; name: string; inputs: Record<string, any> }): Record<string, unknown> | undefined {
    switch (type) {
        case 'eks:index:Cluster':
            return {
                eksCluster: { name: inputs['name'] },
                kubeconfigJson: JSON.stringify({ apiVersion: 'v1', kind: 'Config', clusters: [{ name: inputs['name'], cluster: { server: 'https://STANDIN.gr7.eu-central-1.eks.amazonaws.com', 'certificate-authority-data': 'Q0E=' } }] }),
                oidcIssuer: 'https://oidc.eks.eu-central-1.amazonaws.com/id/STANDIN',
            };
        case 'aws:ec2/launchTemplate:LaunchTemplate':
            return { arn: `arn:aws:mock:::${name}`, latestVersion: 1 };
        case 'aws:kms/key:Key':
            return { arn: `arn:aws:mock:::${name}`, keyId: `${name}-key-id` };
        case 'random:index/randomPassword:RandomPassword':
            return { result: 'stand-in-random-password-0123456789abcdefghijklmnop' };
        case 'tls:index/privateKey:PrivateKey':
            return { privateKeyOpenssh: `PRIVATE-${name}`, publicKeyOpenssh: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIStandInHostKey\n' };
        case 'hcloud:index/primaryIp:PrimaryIp':
            return { ipAddress: '198.51.100.10' };
        case 'hcloud:index/loadBalancer:LoadBalancer':
            return { ipv4: '198.51.100.80' };
        case 'command:remote:Command':
            return { stdout: STAND_IN_KUBECONFIG };
        default:
            if (type.startsWith('aws:')) return { arn: `arn:aws:mock:::${name}`, name: inputs['name'] ?? name };
            return undefined;
    }
}

/**
 * Write {@link STAND_IN_KUBECONFIG} with its context renamed (the committed local stack uses `k3d-nkp`) into a fresh
 * temp directory, for running the local stack under mocks: pass `{ localKubeconfigPath: path }` as an override.
 * Call `cleanup()` when done.
 */
export function writeStandInKubeconfig(context = 'k3d-nkp'): { path: string; cleanup: () => void } {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nkp-kubeconfig-'));
    const file = path.join(dir, 'kubeconfig');
    fs.writeFileSync(file, STAND_IN_KUBECONFIG.replaceAll('default', context), { mode: 0o600 });
    return { path: file, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}
