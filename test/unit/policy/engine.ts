/**
 * Stand-in for the Pulumi engine's side of a policy run (the Pulumi CLI is not installed here), talking to the REAL
 * policy pack process:
 *
 * - `startPolicyPack()` starts `policy/` the way the Node.js language host does for `--policy-pack`: Pulumi's own
 *   `@pulumi/pulumi/cmd/run-policy-pack` runner (which compiles the pack with its bundled ts-node, type-checked),
 *   reads the analyzer port it prints, and connects a gRPC client as the engine would.
 * - `configure()` sends policy config (validated against each policy's configSchema first, as the CLI does; a
 *   policy config without `enforcementLevel` gets the policy's declared level, as the CLI sends it).
 * - `analyze()` / `analyzeStack()` send resources as the engine does: inputs per resource, then every resource
 *   with its outputs, parent, dependencies and property dependencies.
 * - `recordProgram()` runs a Pulumi program under mocks and records each registration as the monitor receives it
 *   (inputs with secret markers, dependencies, property dependencies, options), i.e. what the engine would analyze.
 */
/* eslint-disable @typescript-eslint/no-explicit-any -- the generated protobuf/gRPC classes of @pulumi/pulumi/proto are untyped CommonJS */
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as pulumi from '@pulumi/pulumi';
import { Ajv } from 'ajv';

const require = createRequire(import.meta.url);
const grpc = require('@grpc/grpc-js') as typeof import('@grpc/grpc-js');
const analyzerPb = require('@pulumi/pulumi/proto/analyzer_pb.js') as any;
const analyzerGrpc = require('@pulumi/pulumi/proto/analyzer_grpc_pb.js') as any;
const { Struct } = require('google-protobuf/google/protobuf/struct_pb.js') as any;
const { Empty } = require('google-protobuf/google/protobuf/empty_pb.js') as any;
const settings = require('@pulumi/pulumi/runtime/settings.js') as { getMonitor(): any; waitForRPCs?: () => Promise<void> };

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const REPO = path.resolve(HERE, '../../..');
export const POLICY_DIR = path.join(REPO, 'policy');
const RUNNER = path.join(REPO, 'node_modules/@pulumi/pulumi/cmd/run-policy-pack/index.js');

const LEVELS = ['advisory', 'mandatory', 'disabled', 'remediate'] as const;
export type Level = (typeof LEVELS)[number];

export interface Diagnostic {
    policyName: string;
    level: Level;
    message: string;
    urn: string;
}

export interface PolicyInfo {
    name: string;
    description: string;
    level: Level;
    configSchema?: { properties: Record<string, unknown>; required?: string[] };
}

/** A resource as the engine hands it to analyzers. */
export interface EngineResource {
    type: string;
    name: string;
    urn: string;
    /** Inputs (may hold secret markers and unknown sentinels, as on the wire). */
    inputs: Record<string, unknown>;
    /** Outputs (for stack analysis). */
    outputs: Record<string, unknown>;
    parent?: string;
    dependencies: string[];
    propertyDependencies: Record<string, string[]>;
    additionalSecretOutputs: string[];
    providerUrn?: string;
}

function toStruct(o: Record<string, unknown>): any {
    return Struct.fromJavaScript(JSON.parse(JSON.stringify(o)));
}

function unary<Req>(client: any, method: string, req: Req): Promise<any> {
    return new Promise((resolve, reject) => client[method](req, (err: Error | null, res: any) => (err ? reject(err) : resolve(res))));
}

export class PolicyPackProcess {
    private ajv = new Ajv({ allErrors: true, strict: false });
    info: PolicyInfo[] = [];
    constructor(private readonly child: ChildProcess, private readonly client: any, readonly stderr: () => string) {}

    async loadInfo(): Promise<PolicyInfo[]> {
        const res = await unary(this.client, 'getAnalyzerInfo', new Empty());
        this.info = res.getPoliciesList().map((p: any) => {
            const schema = p.getConfigschema();
            return {
                name: p.getName(),
                description: p.getDescription(),
                level: LEVELS[p.getEnforcementlevel()]!,
                ...(schema ? { configSchema: { properties: schema.getProperties()?.toJavaScript() ?? {}, required: schema.getRequiredList() } } : {}),
            };
        });
        return this.info;
    }

    /** Sends policy config like the CLI: schema-validated, enforcement level always present. */
    async configure(config: Record<string, { enforcementLevel?: Level; [k: string]: unknown }>): Promise<void> {
        const req = new analyzerPb.ConfigureAnalyzerRequest();
        const map = req.getPolicyconfigMap();
        for (const p of this.info) {
            const c = config[p.name] ?? {};
            const { enforcementLevel, ...props } = c;
            if (p.configSchema) {
                const validate = this.ajv.compile({ type: 'object', properties: p.configSchema.properties, required: p.configSchema.required ?? [] });
                if (!validate(props)) throw new Error(`policy config for ${p.name} is invalid: ${this.ajv.errorsText(validate.errors)}`);
            } else if (Object.keys(props).length > 0) {
                throw new Error(`policy ${p.name} takes no config, got ${Object.keys(props).join(', ')}`);
            }
            const pc = new analyzerPb.PolicyConfig();
            pc.setEnforcementlevel(LEVELS.indexOf(enforcementLevel ?? p.level));
            pc.setProperties(toStruct(props));
            map.set(p.name, pc);
        }
        for (const k of Object.keys(config)) {
            if (!this.info.some((p) => p.name === k)) throw new Error(`no policy named ${k} in the pack`);
        }
        await unary(this.client, 'configure', req);
    }

    private diagnostics(res: any): Diagnostic[] {
        return res.getDiagnosticsList().map((d: any) => ({
            policyName: d.getPolicyname(),
            level: LEVELS[d.getEnforcementlevel()]!,
            message: d.getMessage(),
            urn: d.getUrn(),
        }));
    }

    private options(r: EngineResource): any {
        const o = new analyzerPb.AnalyzerResourceOptions();
        o.setProtect(false);
        o.setAdditionalsecretoutputsList(r.additionalSecretOutputs);
        if (r.parent) o.setParent(r.parent);
        return o;
    }

    private provider(r: EngineResource, all: Map<string, EngineResource>): any {
        const p = r.providerUrn ? all.get(r.providerUrn) : undefined;
        if (!p) return undefined;
        const pr = new analyzerPb.AnalyzerProviderResource();
        pr.setType(p.type);
        pr.setName(p.name);
        pr.setUrn(p.urn);
        pr.setProperties(toStruct(p.inputs));
        return pr;
    }

    /** Analyze (per resource, inputs) for every resource, then AnalyzeStack (outputs, dependencies). */
    async run(resources: EngineResource[]): Promise<Diagnostic[]> {
        const byUrn = new Map(resources.map((r) => [r.urn, r]));
        const out: Diagnostic[] = [];
        for (const r of resources) {
            const req = new analyzerPb.AnalyzeRequest();
            req.setType(r.type);
            req.setName(r.name);
            req.setUrn(r.urn);
            req.setProperties(toStruct(r.inputs));
            req.setOptions(this.options(r));
            const prov = this.provider(r, byUrn);
            if (prov) req.setProvider(prov);
            out.push(...this.diagnostics(await unary(this.client, 'analyze', req)));
        }
        const sreq = new analyzerPb.AnalyzeStackRequest();
        for (const r of resources) {
            const ar = new analyzerPb.AnalyzerResource();
            ar.setType(r.type);
            ar.setName(r.name);
            ar.setUrn(r.urn);
            ar.setProperties(toStruct(r.outputs));
            ar.setOptions(this.options(r));
            if (r.parent) ar.setParent(r.parent);
            ar.setDependenciesList(r.dependencies);
            const pd = ar.getPropertydependenciesMap();
            for (const [k, urns] of Object.entries(r.propertyDependencies)) {
                const d = new analyzerPb.AnalyzerPropertyDependencies();
                d.setUrnsList(urns);
                pd.set(k, d);
            }
            const prov = this.provider(r, byUrn);
            if (prov) ar.setProvider(prov);
            sreq.addResources(ar);
        }
        out.push(...this.diagnostics(await unary(this.client, 'analyzeStack', sreq)));
        return out;
    }

    stop(): Promise<void> {
        this.client.close();
        if (this.child.exitCode !== null || this.child.signalCode !== null) return Promise.resolve();
        return new Promise((resolve) => {
            this.child.once('exit', () => resolve());
            this.child.kill('SIGTERM');
        });
    }
}

/** Starts policy/ under Pulumi's policy-pack runner and connects to its analyzer server. */
export async function startPolicyPack(timeoutMs = 180_000): Promise<PolicyPackProcess> {
    const env = { ...process.env };
    delete env.NODE_OPTIONS;
    // Argument 1 is the engine address (only used to log errors back); argument 2 is the program: the pack's directory.
    const child = spawn(process.execPath, [RUNNER, '127.0.0.1:1', '.'], { cwd: POLICY_DIR, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += String(d)));
    const port = await new Promise<number>((resolve, reject) => {
        const timer = setTimeout(() => {
            child.kill('SIGKILL');
            reject(new Error(`policy pack did not print its port within ${timeoutMs} ms; stderr:\n${stderr}`));
        }, timeoutMs);
        child.stdout!.on('data', (d) => {
            stdout += String(d);
            const m = /^(\d+)\s*$/m.exec(stdout);
            if (m) {
                clearTimeout(timer);
                resolve(Number(m[1]));
            }
        });
        child.once('exit', (code) => {
            clearTimeout(timer);
            reject(new Error(`policy pack exited with ${code} before serving; stderr:\n${stderr}`));
        });
    });
    const client = new analyzerGrpc.AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    const pack = new PolicyPackProcess(child, client, () => stderr);
    await pack.loadInfo();
    return pack;
}

// ------------------------------------------------------------------ recording a program under mocks

class PassThroughMocks implements pulumi.runtime.Mocks {
    newResource(args: pulumi.runtime.MockResourceArgs): { id: string | undefined; state: Record<string, any> } {
        return { id: args.custom === false ? undefined : `${args.name}-id`, state: { ...args.inputs } };
    }
    call(args: pulumi.runtime.MockCallArgs): Record<string, any> {
        return args.inputs;
    }
}

/**
 * Runs `program` under Pulumi mocks and returns every registered resource as the engine would analyze it.
 */
export async function recordProgram(stack: string, program: () => void, preview = true): Promise<EngineResource[]> {
    // Preview (the default): outputs a provider computes are unknown, as `pulumi preview --policy-pack` sees them.
    await pulumi.runtime.setMocks(new PassThroughMocks(), 'nkp', stack, preview);
    const monitor = settings.getMonitor();
    const recorded: EngineResource[] = [];
    const original = monitor.registerResource.bind(monitor);
    monitor.registerResource = (req: any, callback: (err: unknown, resp: any) => void) => {
        original(req, (err: unknown, resp: any) => {
            if (!err && resp) {
                const inputs = (req.getObject()?.toJavaScript() ?? {}) as Record<string, unknown>;
                const outputs = (resp.getObject()?.toJavaScript() ?? {}) as Record<string, unknown>;
                const id = resp.getId();
                const propertyDependencies: Record<string, string[]> = {};
                for (const [k, v] of req.getPropertydependenciesMap().entries()) propertyDependencies[k] = v.getUrnsList();
                const providerRef: string = req.getProvider();
                recorded.push({
                    type: req.getType(),
                    name: req.getName(),
                    urn: resp.getUrn(),
                    inputs,
                    // Bridged providers report `id` among a resource's outputs.
                    outputs: id ? { ...outputs, id } : outputs,
                    ...(req.getParent() ? { parent: req.getParent() } : {}),
                    dependencies: req.getDependenciesList(),
                    propertyDependencies,
                    additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
                    ...(providerRef ? { providerUrn: providerRef.split('::').slice(0, -1).join('::') } : {}),
                });
            }
            callback(err, resp);
        });
    };
    try {
        program();
        for (let i = 0; i < 3; i++) {
            if (typeof settings.waitForRPCs === 'function') await settings.waitForRPCs();
            await new Promise((r) => setImmediate(r));
        }
    } finally {
        monitor.registerResource = original;
    }
    return recorded;
}

/** Mandatory diagnostics only (what fails `pulumi up`). */
export function mandatory(ds: Diagnostic[]): Diagnostic[] {
    return ds.filter((d) => d.level === 'mandatory');
}
