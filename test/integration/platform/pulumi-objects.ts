// The Kubernetes objects the Pulumi program creates, per committed stack, captured under Pulumi mocks (a stand-in
// for the Pulumi engine and the cloud providers, which cannot run here; test/unit/pulumi-mocks.ts records every
// resource's inputs). Each recorded `kubernetes:<group>/<version>:<Kind>` resource becomes the object the
// Kubernetes provider would send. Remote components are not objects: Helm v4 Charts (rendered by the Kubernetes
// provider with Helm, which is not here) are listed separately so a test can name them.
import { join } from 'node:path';
import { goModuleDir } from '../../harness/upstream.js';
import { crdsInDir } from '../../harness/upstream.js';
import { CHARTS, FOUNDATION_PARENT } from '../../../components/foundation/spec.js';
import { setupPulumiMocks, outputValue, wholeStackOutputs, writeStandInKubeconfig, type RecordingMocks } from '../../unit/pulumi-mocks.js';
import { withLocalCaOutputs } from '../../unit/foundation/local-ca-stand-in.js';
import type { KubeObject } from './kube-api.js';

export interface StackObjects {
    stack: string;
    /** Every Kubernetes object Pulumi registers for the stack (cloud layer included), in registration order. */
    objects: KubeObject[];
    /** Pulumi type and name of each object, same order, for messages. */
    sources: string[];
    /** Remote components recorded as one resource each (type token and logical name). */
    remote: string[];
}

/** `kubernetes:rbac.authorization.k8s.io/v1:ClusterRole` -> apiVersion and kind; undefined for non-object tokens. */
export function objectTypeOf(token: string): { apiVersion: string; kind: string } | undefined {
    const m = /^kubernetes:([^:]+)\/([^:/]+):([A-Za-z0-9]+)$/.exec(token);
    if (!m) return undefined;
    const [, group, version, kind] = m;
    if (group === 'helm.sh' || group === 'yaml' || group === 'kustomize') return undefined;
    return { apiVersion: group === 'core' ? version! : `${group}/${version}`, kind: kind! };
}

let mocks: RecordingMocks | undefined;
const memo = new Map<string, Promise<StackObjects>>();

async function capture(stack: string): Promise<StackObjects> {
    // The local stack's CA: a real certificate and key made by openssl, standing in for the tls provider.
    mocks ??= await setupPulumiMocks({ outputs: withLocalCaOutputs(wholeStackOutputs) });
    const stackFiles = await import('../../../stacks/stack-files.js');
    const platform = await import('../../../stacks/platform.js');
    // The local stack points at ~/.kube/config; here it reads a stand-in kubeconfig file with the same context.
    const kubeconfig = writeStandInKubeconfig();
    try {
        mocks.reset();
        const cfg = stackFiles.platformConfigForStack(stack, stack === 'local' ? { localKubeconfigPath: kubeconfig.path } : {});
        const p = platform.buildPlatform(cfg);
        await outputValue(p.foundation.applicationNames);
        await mocks.settle();
        const out: StackObjects = { stack, objects: [], sources: [], remote: [] };
        for (const r of mocks.resources.filter((x) => x.type.startsWith('kubernetes:'))) {
            const t = objectTypeOf(r.type);
            if (t === undefined) {
                out.remote.push(`${r.type} ${r.name}`);
                continue;
            }
            const o = structuredClone(r.plain) as KubeObject;
            if (o.apiVersion !== t.apiVersion || o.kind !== t.kind) throw new Error(`${r.type} ${r.name}: inputs say ${o.apiVersion} ${o.kind}`);
            if (!o.metadata?.name) throw new Error(`${r.type} ${r.name} has no metadata.name (Pulumi would auto-name it; every platform object is named)`);
            out.objects.push(o);
            out.sources.push(`${r.type} ${r.name}`);
        }
        return out;
    } finally {
        kubeconfig.cleanup();
    }
}

/**
 * The foundation's child Applications, as Argo CD creates them from the values of the parent Application Pulumi
 * registers (FOUNDATION_PARENT; components/foundation/chart renders each exactly as given).
 */
export function foundationChildren(objects: readonly KubeObject[]): KubeObject[] {
    const parent = objects.find((o) => o.kind === 'Application' && o.metadata.name === FOUNDATION_PARENT.name) as { spec?: { source?: { helm?: { valuesObject?: { applications?: KubeObject[] } } } } } | undefined;
    return parent?.spec?.source?.helm?.valuesObject?.applications ?? [];
}

/** The objects of a committed stack (captured once per process; stacks are captured one at a time). */
export function stackObjects(stack: string): Promise<StackObjects> {
    const previous = [...memo.values()].at(-1) ?? Promise.resolve(undefined);
    let p = memo.get(stack);
    if (!p) {
        p = previous.catch(() => undefined).then(() => capture(stack));
        memo.set(stack, p);
    }
    return p;
}

/**
 * CloudNativePG's CRDs (not installed by the harness) at the operator version the foundation's cloudnative-pg
 * chart deploys, from that release's Go module (config/crd/bases).
 */
export function cloudnativePgCrds(): KubeObject[] {
    const dir = join(goModuleDir('github.com/cloudnative-pg/cloudnative-pg', CHARTS.cloudnativePg.appVersion), 'config', 'crd', 'bases');
    return crdsInDir(dir);
}
