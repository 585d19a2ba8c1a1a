/**
 * Pulumi owns what it creates in the cluster. With server-side apply, a field someone changed out of band (a
 * `kubectl label`, `kubectl edit`) belongs to that other field manager, and Pulumi's next apply would fail with a
 * field conflict instead of showing drift. The annotation below tells the Kubernetes provider to apply with force:
 * `pulumi preview --refresh` shows the change as drift and `pulumi up --refresh` takes the field back. Fields that
 * Pulumi never sets (an Application's status, Argo CD's own keys in argocd-secret) stay with their owners.
 */
import * as pulumi from '@pulumi/pulumi';

export const PATCH_FORCE_ANNOTATION = 'pulumi.com/patchForce';

/** Types that are not single Kubernetes objects (providers, Helm charts, YAML groups, kustomizations). */
const NOT_OBJECTS = /^(pulumi:providers:|kubernetes:helm\.sh\/|kubernetes:yaml\/|kubernetes:kustomize\/)/;

/** Pure: props with the patch-force annotation added to metadata.annotations of a Kubernetes object; undefined for anything else. */
export function withPulumiOwnership(type: string, props: Record<string, unknown>): Record<string, unknown> | undefined {
    if (!type.startsWith('kubernetes:') || NOT_OBJECTS.test(type)) return undefined;
    const metadata = (props['metadata'] ?? {}) as { annotations?: Record<string, string> };
    return { ...props, metadata: { ...metadata, annotations: { ...metadata.annotations, [PATCH_FORCE_ANNOTATION]: 'true' } } };
}

/** Resource transform for the components that put objects into the cluster (see {@link withPulumiOwnership}). */
export const claimPulumiOwnership: pulumi.ResourceTransform = (args) => {
    const props = withPulumiOwnership(args.type, args.props);
    return props === undefined ? undefined : { props, opts: args.opts };
};

/**
 * The same as {@link claimPulumiOwnership}, as an in-process transformation: it runs inside the program, where the
 * engine-side transform costs a gRPC round trip with every object's full properties (about 4 s of CPU per program
 * run for the platform, most of it decoding the requests). It cannot reach the children of components the
 * provider expands (Helm v4 Charts, yaml/v2 ConfigGroups): give those {@link claimPulumiOwnership} as `transforms`.
 */
export const claimPulumiOwnershipInProcess: pulumi.ResourceTransformation = (args) => {
    if (!args.type.startsWith('kubernetes:') || NOT_OBJECTS.test(args.type)) return undefined;
    const metadata = args.props['metadata'] as pulumi.Input<Record<string, unknown>> | undefined;
    const annotate = (m: Record<string, unknown> | undefined) => withPulumiOwnership(args.type, { metadata: m ?? {} })!['metadata'];
    const plain = metadata === undefined || (!pulumi.Output.isInstance(metadata) && !(metadata instanceof Promise) && !pulumi.Output.isInstance((metadata as Record<string, unknown>)['annotations']));
    return {
        props: { ...args.props, metadata: plain ? annotate(metadata as Record<string, unknown> | undefined) : pulumi.output(metadata).apply((m) => annotate(m as Record<string, unknown>)) },
        opts: args.opts,
    };
};
