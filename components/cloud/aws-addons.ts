/**
 * AWS add-ons inside the cluster (`nkp:cloud:AwsClusterAddons`): the AWS Load Balancer Controller (always), the
 * cluster autoscaler and the NVIDIA device plugin (by config), as Argo CD Applications of pinned Helm charts in their
 * own AppProject (kube-system only). A thin shell over ./aws-addons-plan.ts; IAM comes from AwsCloud (Pod Identity).
 *
 * Destroy order: the foundation depends on this component, so `pulumi destroy` removes the foundation's Applications
 * (the gateway and its LoadBalancer Service) first. A guard between the two (a local command that only acts on
 * delete, ./wait-lb-services.mjs) then waits until the controller has deleted every NLB it made, and only then is
 * the controller's Application removed: no NLB is orphaned, and the VPC can be deleted afterwards.
 */
import type * as Command from '@pulumi/command';
import { lazySdk } from '../sdk.js';
import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import { customResourceArgs } from '../argocd/index.js';
import { AWS_ADDON_APP_NAMES, AWS_ADDON_NAMESPACE, EXTERNAL_DNS_CLOUDFLARE_SECRET, awsAddonApplications, awsAddonsProject, type AwsAddonsInput } from './aws-addons-plan.js';

const command = lazySdk<typeof Command>('@pulumi/command');

export interface AwsClusterAddonsArgs {
    clusterName: pulumi.Input<string>;
    vpcId: pulumi.Input<string>;
    region: string;
    /** Kubernetes minor of the cluster, e.g. `1.33`. */
    kubernetesVersion: string;
    clusterAutoscaler: AwsAddonsInput['clusterAutoscaler'];
    nvidiaDevicePlugin: AwsAddonsInput['nvidiaDevicePlugin'];
    /** ExternalDNS for the platform's records (optional). */
    dns?: AwsAddonsInput['dns'];
    /** Cloudflare API token (a Pulumi secret), with dns.provider cloudflare: stored in the Secret ExternalDNS reads. */
    cloudflareApiToken?: pulumi.Input<string>;
    /** Kubeconfig of the cluster (a secret), for the destroy guard. */
    kubeconfig: pulumi.Input<string>;
}

/** Path of the destroy guard, relative to the project directory (where Pulumi runs commands; stored in state). */
export const LB_DRAIN_SCRIPT = 'components/cloud/wait-lb-services.mjs';

export class AwsClusterAddons extends pulumi.ComponentResource {
    readonly applications: k8s.apiextensions.CustomResource[] = [];
    /** What the foundation must depend on (the guard included), so destroy removes the foundation first. */
    readonly ready: pulumi.Resource[];

    constructor(name: string, args: AwsClusterAddonsArgs, opts?: pulumi.ComponentResourceOptions) {
        super('nkp:cloud:AwsClusterAddons', name, {}, opts);
        const spec = pulumi.all([args.clusterName, args.vpcId]).apply(([clusterName, vpcId]): AwsAddonsInput => ({
            clusterName, vpcId, region: args.region, kubernetesVersion: args.kubernetesVersion,
            clusterAutoscaler: args.clusterAutoscaler, nvidiaDevicePlugin: args.nvidiaDevicePlugin, ...(args.dns ? { dns: args.dns } : {}),
        }));
        const project = new k8s.apiextensions.CustomResource(`${name}-project`, customResourceArgs('argoproj.io/v1alpha1', 'AppProject', pulumi.output(awsAddonsProject())), { parent: this });
        // Which Applications exist is decided by plain config (never inside apply): the same list the pure function returns.
        const names = awsAddonApplications({ clusterName: '', vpcId: '', region: args.region, kubernetesVersion: args.kubernetesVersion, clusterAutoscaler: args.clusterAutoscaler, nvidiaDevicePlugin: args.nvidiaDevicePlugin, ...(args.dns ? { dns: args.dns } : {}) })
            .map((a) => a.metadata.name);
        const secrets: pulumi.Resource[] = [];
        if (args.dns?.provider === 'cloudflare') {
            if (args.cloudflareApiToken === undefined) throw new Error('AwsClusterAddons: cloudflareApiToken is required with dns.provider cloudflare (secret nkp:cloudflareApiToken)');
            secrets.push(new k8s.core.v1.Secret(`${name}-external-dns-cloudflare`, {
                metadata: { name: EXTERNAL_DNS_CLOUDFLARE_SECRET, namespace: AWS_ADDON_NAMESPACE, labels: { 'app.kubernetes.io/part-of': 'nkp' } },
                type: 'Opaque',
                stringData: { apiToken: pulumi.secret(args.cloudflareApiToken) },
            }, { parent: this }));
        }
        const bodies = spec.apply(awsAddonApplications);
        for (const app of names) {
            const body = bodies.apply((all) => all.find((a) => a.metadata.name === app)!);
            this.applications.push(new k8s.apiextensions.CustomResource(`${name}-app-${app}`, customResourceArgs('argoproj.io/v1alpha1', 'Application', body), { parent: this, dependsOn: [project, ...secrets] }));
        }
        const lbController = this.applications.find((_, i) => names[i] === AWS_ADDON_APP_NAMES.lbController)!;
        // Acts only on delete: waits until the Load Balancer Controller has removed every NLB (Service finalizer gone).
        const drain = new command.local.Command(`${name}-lb-drain`, {
            delete: `node ${LB_DRAIN_SCRIPT}`,
            environment: { NKP_KUBECONFIG: pulumi.secret(args.kubeconfig) },
            logging: 'stdoutAndStderr',
        }, { parent: this, dependsOn: [lbController], additionalSecretOutputs: ['environment'] });
        this.ready = [drain, ...this.applications];
        this.registerOutputs({ applications: names });
    }
}
