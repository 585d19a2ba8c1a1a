/**
 * ClusterBaseline (`nkp:cluster:Baseline`): the platform namespaces, the platform-admin / platform-viewer
 * ClusterRoles bound to OIDC groups, extra StorageClasses per provider, and the NetworkPolicies of every platform
 * namespace. A thin shell over ./baseline.ts.
 */
import * as pulumi from '@pulumi/pulumi';
import * as k8s from '@pulumi/kubernetes';
import {
    allNetworkPolicies,
    clusterRoles,
    MANAGED_BY_PULUMI,
    namespaceMetadata,
    oidcGroupSubjects,
    PART_OF_LABEL,
    storageClasses,
} from './baseline.js';
import { PLATFORM_NAMESPACES, type NamespaceRole } from './namespaces.js';
import { clusterNetwork, type ClusterNetworkFacts } from './network.js';
import { corednsCustomConfigMap } from './coredns.js';

export * from './baseline.js';
export * from './namespaces.js';
export * from './network.js';
export * from './coredns.js';

export interface ClusterBaselineArgs {
    /** Which cloud layer made the cluster; decides the extra StorageClasses. Plain: it decides which resources exist. */
    provider: 'aws' | 'hetzner' | 'local';
    /** Prefix the API server puts before OIDC group names (e.g. `oidc:`). */
    oidcGroupsPrefix: pulumi.Input<string>;
    /** Groups bound to platform-admin. */
    adminGroups: pulumi.Input<pulumi.Input<string>[]>;
    /** Groups bound to platform-viewer. */
    viewerGroups: pulumi.Input<pulumi.Input<string>[]>;
    /** The cloud's default StorageClass (reported in outputs). */
    defaultStorageClass: pulumi.Input<string>;
    /**
     * Where the kube-apiserver and the public OIDC issuer are, for the egress NetworkPolicies (./network.ts); its
     * provider must equal `provider`. Hetzner's gateway load balancer address may be an Output (known once the load
     * balancer exists): only the one policy whose rule names it waits for it, every other policy stays plain.
     */
    network: ClusterNetworkFacts<pulumi.Input<string>>;
    /**
     * Local K3s/k3d clusters only: resolve `<domain>` and `*.<domain>` inside the cluster to the public Gateway's
     * Envoy Service (CoreDNS override in kube-system/coredns-custom, ./coredns.ts). Plain: it decides a resource.
     */
    inClusterHostnames?: { domain: string };
}

export class ClusterBaseline extends pulumi.ComponentResource {
    /** Namespace name per role, resolved once the Namespace exists (use these to depend on it). */
    readonly namespaces: Record<NamespaceRole, pulumi.Output<string>>;
    /** The Namespace resources, for dependsOn. */
    readonly namespaceResources: k8s.core.v1.Namespace[];
    /** StorageClass for stateful platform data (a Retain class, or the cloud default). */
    readonly dataStorageClass: pulumi.Output<string>;
    readonly networkPolicyCount: number;

    constructor(name: string, args: ClusterBaselineArgs, opts?: pulumi.ComponentResourceOptions) {
        super('nkp:cluster:Baseline', name, {}, opts);
        const child = { parent: this };

        const namespaces = {} as Record<NamespaceRole, pulumi.Output<string>>;
        this.namespaceResources = PLATFORM_NAMESPACES.map((spec) => {
            const ns = new k8s.core.v1.Namespace(`${name}-ns-${spec.name}`, { metadata: namespaceMetadata(spec) }, child);
            namespaces[spec.role] = ns.metadata.name;
            return ns;
        });
        this.namespaces = namespaces;

        if (args.network.provider !== args.provider) throw new Error(`ClusterBaseline ${name}: network.provider "${args.network.provider}" must equal provider "${args.provider}"`);
        const net = args.network;
        // Policies as they come out with two different stand-in load balancer addresses: the ones that differ name
        // the address and take their rules from the real one; the rest (names, metadata, every other rule) are plain.
        const withIp = (ip: string) => allNetworkPolicies(clusterNetwork(net.provider === 'hetzner' ? { ...net, gatewayLoadBalancerIp: ip } : net));
        const shape = withIp('192.0.2.1');
        const other = withIp('192.0.2.2');
        shape.forEach((np, i) => {
            const dependsOnIp = JSON.stringify(np.spec) !== JSON.stringify(other[i]!.spec);
            const spec =
                dependsOnIp && net.provider === 'hetzner'
                    ? pulumi.output(net.gatewayLoadBalancerIp).apply((ip) => withIp(ip)[i]!.spec)
                    : np.spec;
            new k8s.networking.v1.NetworkPolicy(
                `${name}-netpol-${np.metadata.namespace}-${np.metadata.name}`,
                { metadata: np.metadata, spec: spec as unknown as k8s.types.input.networking.v1.NetworkPolicySpec },
                { parent: this, dependsOn: this.namespaceResources },
            );
        });
        this.networkPolicyCount = shape.length;

        const subjects = {
            'nkp:platform-admin': pulumi.all([args.oidcGroupsPrefix, args.adminGroups]).apply(([p, g]) => oidcGroupSubjects(p, g)),
            'nkp:platform-viewer': pulumi.all([args.oidcGroupsPrefix, args.viewerGroups]).apply(([p, g]) => oidcGroupSubjects(p, g)),
        } as Record<string, pulumi.Output<ReturnType<typeof oidcGroupSubjects>>>;
        for (const role of clusterRoles()) {
            const short = role.name.replace('nkp:', '');
            const cr = new k8s.rbac.v1.ClusterRole(`${name}-${short}`, { metadata: { name: role.name, labels: { ...PART_OF_LABEL, ...MANAGED_BY_PULUMI } }, rules: role.rules }, child);
            new k8s.rbac.v1.ClusterRoleBinding(
                `${name}-${short}`,
                {
                    metadata: { name: role.name, labels: { ...PART_OF_LABEL, ...MANAGED_BY_PULUMI } },
                    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: cr.metadata.name },
                    subjects: subjects[role.name],
                },
                child,
            );
        }

        if (args.inClusterHostnames !== undefined) {
            if (args.provider !== 'local') throw new Error(`ClusterBaseline ${name}: inClusterHostnames is for local clusters only (provider is ${args.provider})`);
            new k8s.core.v1.ConfigMap(`${name}-coredns-custom`, corednsCustomConfigMap(args.inClusterHostnames.domain), child);
        }

        const classes = storageClasses(args.provider).map((sc) => new k8s.storage.v1.StorageClass(`${name}-sc-${sc.metadata.name}`, sc, child));
        this.dataStorageClass = classes.length > 0 ? classes[0]!.metadata.name : pulumi.output(args.defaultStorageClass);

        this.registerOutputs({ namespaces: this.namespaces, dataStorageClass: this.dataStorageClass, networkPolicyCount: this.networkPolicyCount });
    }
}
