/**
 * Pure helpers of {@link AwsClusterAddons}: the EKS add-ons that run inside the cluster and come through Argo CD as
 * pinned Helm charts (the NVIDIA device plugin, the cluster autoscaler, the AWS Load Balancer Controller), their
 * AppProject, and the Load Balancer Controller's least-privilege IAM policy. No Pulumi resources here.
 *
 * IAM: the autoscaler and the Load Balancer Controller reach AWS through EKS Pod Identity (roles and associations
 * made by AwsCloud for the service accounts named here); the device plugin needs no AWS access.
 */
import { CLOUD_LAYER, IN_CLUSTER, platformApplication, type AppProjectBody, type ApplicationBody } from '../argocd/spec.js';
import type { ChartPin } from '../foundation/spec.js';
import { NS } from '../cluster/namespaces.js';
import type { NodeTaint } from './aws.js';
import { GPU_NODE_LABEL } from './aws-plan.js';

/** Every add-on chart, pinned to an exact version (and, where it matters, the image it runs). */
export const AWS_ADDON_CHARTS = {
    nvidiaDevicePlugin: { repoURL: 'https://nvidia.github.io/k8s-device-plugin', chart: 'nvidia-device-plugin', version: '0.17.1', appVersion: 'v0.17.1' },
    /** Chart 9.47.0 is the first for cluster-autoscaler 1.33 (its minor must equal the cluster's); the image is pinned below. */
    clusterAutoscaler: { repoURL: 'https://kubernetes.github.io/autoscaler', chart: 'cluster-autoscaler', version: '9.47.0', appVersion: 'v1.33.0' },
    awsLoadBalancerController: { repoURL: 'https://aws.github.io/eks-charts', chart: 'aws-load-balancer-controller', version: '1.16.0', appVersion: 'v2.16.0' },
    externalDns: { repoURL: 'https://kubernetes-sigs.github.io/external-dns/', chart: 'external-dns', version: '1.16.1', appVersion: 'v0.16.1' },
} as const satisfies Record<string, ChartPin>;

/** Service account of ExternalDNS (its Pod Identity association names it) and the Secret with a Cloudflare token. */
export const EXTERNAL_DNS_SERVICE_ACCOUNT = 'external-dns';
export const EXTERNAL_DNS_CLOUDFLARE_SECRET = 'external-dns-cloudflare';

/** The Kubernetes minor the pinned cluster autoscaler is built for (cluster-autoscaler minors track Kubernetes'). */
export const CLUSTER_AUTOSCALER_KUBERNETES_MINOR = AWS_ADDON_CHARTS.clusterAutoscaler.appVersion.replace(/^v(\d+\.\d+)\..*$/, '$1');

/** Argo CD project of the add-ons: kube-system only, from the three pinned chart repositories. */
export const AWS_ADDONS_PROJECT = 'aws-addons';
export const AWS_ADDON_NAMESPACE = 'kube-system';
/** Service account of the AWS Load Balancer Controller (its Pod Identity association names it). */
export const LB_CONTROLLER_SERVICE_ACCOUNT = 'aws-load-balancer-controller';
/** The finalizer the Load Balancer Controller puts on Services whose NLB it owns: gone once the NLB is deleted. */
export const LB_SERVICE_FINALIZER = 'service.k8s.aws/resources';

export const AWS_ADDON_APP_NAMES = { devicePlugin: 'nvidia-device-plugin', autoscaler: 'cluster-autoscaler', lbController: 'aws-load-balancer-controller', externalDns: 'external-dns' } as const;

/** What the add-on Applications depend on. */
export interface AwsAddonsInput {
    clusterName: string;
    region: string;
    vpcId: string;
    /** Kubernetes minor of the cluster, e.g. `1.33`. */
    kubernetesVersion: string;
    clusterAutoscaler: { enabled: boolean; namespace: string; serviceAccount: string };
    /** The NVIDIA device plugin, tolerating the GPU node groups' taints. */
    nvidiaDevicePlugin: { enabled: boolean; gpuTaints: NodeTaint[] };
    /** ExternalDNS keeping the platform's records (the gateway Service's hostname annotation) in this zone; none: off. */
    dns?: { provider: 'route53' | 'cloudflare'; zoneId: string; domain: string };
}

/** A bad add-on setting: names the field and what is allowed. */
export function awsAddonsProblem(i: Pick<AwsAddonsInput, 'kubernetesVersion' | 'clusterAutoscaler'>): string | undefined {
    if (i.clusterAutoscaler.enabled && i.kubernetesVersion !== CLUSTER_AUTOSCALER_KUBERNETES_MINOR) {
        return `the pinned cluster-autoscaler ${AWS_ADDON_CHARTS.clusterAutoscaler.appVersion} is built for Kubernetes ${CLUSTER_AUTOSCALER_KUBERNETES_MINOR} and the cluster runs ${i.kubernetesVersion}; ` +
            `use Kubernetes ${CLUSTER_AUTOSCALER_KUBERNETES_MINOR}, or turn the autoscaler off until its pin follows`;
    }
    return undefined;
}

function application(name: string, pin: ChartPin, valuesObject: Record<string, unknown>): ApplicationBody {
    return platformApplication({
        name,
        layer: CLOUD_LAYER,
        project: AWS_ADDONS_PROJECT,
        source: { repoURL: pin.repoURL, chart: pin.chart, targetRevision: pin.version, helm: { releaseName: name, valuesObject } },
        namespace: AWS_ADDON_NAMESPACE,
    });
}

/** Helm values of the AWS Load Balancer Controller: NLBs for annotated Services only, Pod Identity, two replicas. */
export function lbControllerValues(i: AwsAddonsInput): Record<string, unknown> {
    return {
        clusterName: i.clusterName,
        region: i.region,
        vpcId: i.vpcId,
        replicaCount: 2,
        serviceAccount: { create: true, name: LB_CONTROLLER_SERVICE_ACCOUNT },
        // Only Services that ask for it (the gateway's, annotated `aws-load-balancer-type: external`) get an NLB.
        enableServiceMutatorWebhook: false,
        image: { tag: AWS_ADDON_CHARTS.awsLoadBalancerController.appVersion },
    };
}

/** Helm values of the cluster autoscaler: auto-discovery of this cluster's owned groups, Pod Identity, pinned image. */
export function autoscalerValues(i: AwsAddonsInput): Record<string, unknown> {
    return {
        cloudProvider: 'aws',
        awsRegion: i.region,
        autoDiscovery: { clusterName: i.clusterName },
        rbac: { serviceAccount: { create: true, name: i.clusterAutoscaler.serviceAccount } },
        image: { tag: AWS_ADDON_CHARTS.clusterAutoscaler.appVersion },
        extraArgs: { 'balance-similar-node-groups': true, expander: 'least-waste' },
    };
}

/** Helm values of the NVIDIA device plugin: tolerate the GPU groups' taints, run on GPU nodes only. */
export function devicePluginValues(i: AwsAddonsInput): Record<string, unknown> {
    const tolerations = i.nvidiaDevicePlugin.gpuTaints.map((t) => ({ key: t.key, operator: 'Exists', effect: t.effect }));
    const unique = [...new Map(tolerations.map((t) => [`${t.key}/${t.effect}`, t])).values()];
    return {
        tolerations: unique,
        // GPU node groups carry this label (AwsCloud sets it); the chart's default affinity would need NFD.
        nodeSelector: { [GPU_NODE_LABEL]: 'true' },
        affinity: null,
    };
}


/**
 * Helm values of ExternalDNS: only Services (the gateway's carries the platform's names), only the configured zone
 * and domain, ownership TXT records per cluster, `sync` (records of deleted Services go too). Route 53 through Pod
 * Identity; Cloudflare with the API token from a Secret the program writes.
 */
export function externalDnsValues(i: AwsAddonsInput): Record<string, unknown> {
    const dns = i.dns!;
    return {
        provider: { name: dns.provider === 'route53' ? 'aws' : 'cloudflare' },
        sources: ['service'],
        domainFilters: [dns.domain],
        txtOwnerId: i.clusterName,
        policy: 'sync',
        serviceAccount: { create: true, name: EXTERNAL_DNS_SERVICE_ACCOUNT },
        image: { tag: AWS_ADDON_CHARTS.externalDns.appVersion },
        extraArgs: [`--zone-id-filter=${dns.zoneId}`, ...(dns.provider === 'route53' ? ['--aws-zone-type=public'] : [])],
        env: dns.provider === 'route53'
            ? [{ name: 'AWS_DEFAULT_REGION', value: i.region }]
            : [{ name: 'CF_API_TOKEN', valueFrom: { secretKeyRef: { name: EXTERNAL_DNS_CLOUDFLARE_SECRET, key: 'apiToken' } } }],
    };
}

/** The add-on Applications that are enabled, the Load Balancer Controller always. */
export function awsAddonApplications(i: AwsAddonsInput): ApplicationBody[] {
    const apps = [application(AWS_ADDON_APP_NAMES.lbController, AWS_ADDON_CHARTS.awsLoadBalancerController, lbControllerValues(i))];
    if (i.clusterAutoscaler.enabled) apps.push(application(AWS_ADDON_APP_NAMES.autoscaler, AWS_ADDON_CHARTS.clusterAutoscaler, autoscalerValues(i)));
    if (i.nvidiaDevicePlugin.enabled) apps.push(application(AWS_ADDON_APP_NAMES.devicePlugin, AWS_ADDON_CHARTS.nvidiaDevicePlugin, devicePluginValues(i)));
    if (i.dns !== undefined) apps.push(application(AWS_ADDON_APP_NAMES.externalDns, AWS_ADDON_CHARTS.externalDns, externalDnsValues(i)));
    return apps;
}

/**
 * The add-ons' AppProject: only the pinned chart repositories, only kube-system, and only the cluster-scoped kinds
 * the three charts install (RBAC, the controller's webhooks, IngressClass and its CRDs).
 */
export function awsAddonsProject(): AppProjectBody {
    return {
        apiVersion: 'argoproj.io/v1alpha1',
        kind: 'AppProject',
        metadata: { name: AWS_ADDONS_PROJECT, namespace: NS.argocd, labels: { 'app.kubernetes.io/part-of': 'nkp' }, finalizers: ['resources-finalizer.argocd.argoproj.io'] },
        spec: {
            description: 'EKS add-ons (AWS Load Balancer Controller, cluster autoscaler, NVIDIA device plugin, ExternalDNS); managed by Pulumi',
            sourceRepos: Object.values(AWS_ADDON_CHARTS).map((c) => c.repoURL).sort(),
            destinations: [{ server: IN_CLUSTER, namespace: AWS_ADDON_NAMESPACE }],
            clusterResourceWhitelist: [
                { group: 'rbac.authorization.k8s.io', kind: 'ClusterRole' },
                { group: 'rbac.authorization.k8s.io', kind: 'ClusterRoleBinding' },
                { group: 'admissionregistration.k8s.io', kind: 'MutatingWebhookConfiguration' },
                { group: 'admissionregistration.k8s.io', kind: 'ValidatingWebhookConfiguration' },
                { group: 'apiextensions.k8s.io', kind: 'CustomResourceDefinition' },
                { group: 'networking.k8s.io', kind: 'IngressClass' },
                { group: 'elbv2.k8s.aws', kind: 'IngressClassParams' },
            ],
        },
    };
}

/**
 * Least-privilege IAM policy of the AWS Load Balancer Controller for NLBs of Services: read-only discovery, and
 * every write either creates a load balancer / target group / security group tagged as this cluster's, or acts on
 * resources already tagged `elbv2.k8s.aws/cluster=<clusterName>`. (The controller's own published policy also
 * covers ALBs, WAF, Shield and Cognito for Ingresses, which this platform does not use.) The one exception is
 * authorizing ingress on the nodes' security groups, which the controller must do for NLB health checks and traffic.
 */
export function loadBalancerControllerPolicy(clusterName: string): string {
    const ownedTag = { [`aws:ResourceTag/elbv2.k8s.aws/cluster`]: clusterName };
    const requestTag = { [`aws:RequestTag/elbv2.k8s.aws/cluster`]: clusterName };
    return JSON.stringify({
        Version: '2012-10-17',
        Statement: [
            { Sid: 'ServiceLinkedRole', Effect: 'Allow', Action: 'iam:CreateServiceLinkedRole', Resource: '*', Condition: { StringEquals: { 'iam:AWSServiceName': 'elasticloadbalancing.amazonaws.com' } } },
            {
                Sid: 'Discover',
                Effect: 'Allow',
                Action: [
                    'ec2:DescribeAccountAttributes', 'ec2:DescribeAddresses', 'ec2:DescribeAvailabilityZones', 'ec2:DescribeInternetGateways',
                    'ec2:DescribeVpcs', 'ec2:DescribeSubnets', 'ec2:DescribeSecurityGroups', 'ec2:DescribeInstances', 'ec2:DescribeNetworkInterfaces',
                    'ec2:DescribeTags', 'ec2:GetSecurityGroupsForVpc', 'ec2:DescribeIpamPools', 'ec2:DescribeRouteTables',
                    'elasticloadbalancing:DescribeLoadBalancers', 'elasticloadbalancing:DescribeLoadBalancerAttributes', 'elasticloadbalancing:DescribeListeners',
                    'elasticloadbalancing:DescribeListenerAttributes', 'elasticloadbalancing:DescribeListenerCertificates', 'elasticloadbalancing:DescribeSSLPolicies',
                    'elasticloadbalancing:DescribeRules', 'elasticloadbalancing:DescribeTargetGroups', 'elasticloadbalancing:DescribeTargetGroupAttributes',
                    'elasticloadbalancing:DescribeTargetHealth', 'elasticloadbalancing:DescribeTags', 'elasticloadbalancing:DescribeCapacityReservation',
                    'elasticloadbalancing:DescribeTrustStores', 'acm:ListCertificates', 'acm:DescribeCertificate',
                ],
                Resource: '*',
            },
            { Sid: 'CreateTagged', Effect: 'Allow', Action: ['ec2:CreateSecurityGroup', 'elasticloadbalancing:CreateLoadBalancer', 'elasticloadbalancing:CreateTargetGroup'], Resource: '*', Condition: { StringEquals: requestTag } },
            // Tags in the create call itself (condition keys in one operator are ANDed, so one statement per service).
            { Sid: 'TagSecurityGroupOnCreate', Effect: 'Allow', Action: 'ec2:CreateTags', Resource: '*', Condition: { StringEquals: { ...requestTag, 'ec2:CreateAction': 'CreateSecurityGroup' } } },
            {
                Sid: 'TagLoadBalancerOnCreate', Effect: 'Allow', Action: 'elasticloadbalancing:AddTags', Resource: '*',
                Condition: { StringEquals: requestTag, 'ForAnyValue:StringEquals': { 'elasticloadbalancing:CreateAction': ['CreateLoadBalancer', 'CreateTargetGroup'] } },
            },
            {
                Sid: 'ManageOwned',
                Effect: 'Allow',
                Action: [
                    'ec2:CreateTags', 'ec2:DeleteTags', 'ec2:DeleteSecurityGroup',
                    'elasticloadbalancing:AddTags', 'elasticloadbalancing:RemoveTags', 'elasticloadbalancing:ModifyLoadBalancerAttributes',
                    'elasticloadbalancing:SetIpAddressType', 'elasticloadbalancing:SetSecurityGroups', 'elasticloadbalancing:SetSubnets',
                    'elasticloadbalancing:DeleteLoadBalancer', 'elasticloadbalancing:ModifyTargetGroup',
                    'elasticloadbalancing:ModifyTargetGroupAttributes', 'elasticloadbalancing:DeleteTargetGroup', 'elasticloadbalancing:RegisterTargets',
                    'elasticloadbalancing:DeregisterTargets', 'elasticloadbalancing:ModifyCapacityReservation',
                ],
                Resource: '*',
                Condition: { StringEquals: ownedTag },
            },
            // Listeners are addressed by the load balancer's ARN and carry no tag of their own (as in the controller's policy).
            {
                Sid: 'Listeners', Effect: 'Allow', Resource: '*',
                Action: ['elasticloadbalancing:CreateListener', 'elasticloadbalancing:DeleteListener', 'elasticloadbalancing:ModifyListener', 'elasticloadbalancing:ModifyListenerAttributes'],
            },
            // NLB traffic and health checks reach the nodes: the controller opens the nodes' security groups to its own.
            { Sid: 'NodeSecurityGroupRules', Effect: 'Allow', Action: ['ec2:AuthorizeSecurityGroupIngress', 'ec2:RevokeSecurityGroupIngress'], Resource: '*' },
        ],
    });
}
