/**
 * AWS guardrails: EKS endpoint and secrets encryption, nodes in private subnets, encrypted storage, S3 public access,
 * security groups, required tags.
 */
import * as fs from "fs";
import * as path from "path";
import type { PolicyResource, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import {
    awsRulePorts,
    configWithDefaults,
    describe,
    has,
    isSet,
    isWorldCidr,
    knownArray,
    knownStrings,
    outputId,
    ofTypes,
    propertyDeps,
    read,
    readOr,
    schemaWithDefaults,
    type Props,
} from "./util";

export const T = {
    eksCluster: "aws:eks/cluster:Cluster",
    eksComponent: "eks:index:Cluster",
    eksNodeGroup: "aws:eks/nodeGroup:NodeGroup",
    eksManagedNodeGroup: "eks:index:ManagedNodeGroup",
    eksNodeGroupV2: "eks:index:NodeGroupV2",
    eksNodeGroupV1: "eks:index:NodeGroup",
    subnet: "aws:ec2/subnet:Subnet",
    routeTable: "aws:ec2/routeTable:RouteTable",
    route: "aws:ec2/route:Route",
    routeTableAssociation: "aws:ec2/routeTableAssociation:RouteTableAssociation",
    internetGateway: "aws:ec2/internetGateway:InternetGateway",
    ebsVolume: "aws:ebs/volume:Volume",
    efs: "aws:efs/fileSystem:FileSystem",
    storageClass: "kubernetes:storage.k8s.io/v1:StorageClass",
    bucket: "aws:s3/bucket:Bucket",
    bucketV2: "aws:s3/bucketV2:BucketV2",
    sse: "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    sseV2: "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
    publicAccessBlock: "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
    accountPublicAccessBlock: "aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock",
    securityGroup: "aws:ec2/securityGroup:SecurityGroup",
    sgIngressRule: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
    sgRule: "aws:ec2/securityGroupRule:SecurityGroupRule",
} as const;

// ------------------------------------------------------------------ EKS public endpoint

export const eksEndpointDefaults = {
    /** Set false to forbid any public API endpoint (private endpoint only). */
    allowPublicEndpoint: true,
    /** IPv4 CIDRs broader than this prefix (e.g. 0.0.0.0/0, 0.0.0.0/1) count as "the internet" (IPv6: 4x). */
    minPrefixLength: 8,
};

/** Cidrs of a public EKS endpoint and whether it is public, for both the raw cluster and the eks component. */
function eksEndpoint(type: string, props: Props): { isPublic: boolean; cidrs: string[]; cidrsSet: boolean } | undefined {
    if (type === T.eksCluster) {
        const vpc = readOr(() => props["vpcConfig"], undefined) as Props | undefined;
        // AWS defaults endpointPublicAccess to true and publicAccessCidrs to 0.0.0.0/0.
        const isPublic = readOr(() => vpc?.["endpointPublicAccess"], true) !== false;
        return { isPublic, cidrs: knownStrings(() => vpc?.["publicAccessCidrs"]), cidrsSet: isSet(vpc, "publicAccessCidrs") };
    }
    if (type === T.eksComponent) {
        const isPublic = readOr(() => props["endpointPublicAccess"], true) !== false;
        return { isPublic, cidrs: knownStrings(() => props["publicAccessCidrs"]), cidrsSet: isSet(props, "publicAccessCidrs") };
    }
    return undefined;
}

export const eksPublicEndpointRestricted: ResourceValidationPolicy = {
    name: "eks-public-endpoint-restricted",
    description:
        "An EKS cluster's public Kubernetes API endpoint is reachable only from an allow-list of CIDRs (never 0.0.0.0/0 or ::/0).",
    enforcementLevel: "mandatory",
    configSchema: schemaWithDefaults(eksEndpointDefaults, {
        allowPublicEndpoint: { type: "boolean", description: "false: only a private endpoint is allowed" },
        minPrefixLength: { type: "integer", minimum: 0, maximum: 32, description: "shortest IPv4 prefix accepted in publicAccessCidrs" },
    }),
    validateResource: (args, reportViolation) => {
        const ep = eksEndpoint(args.type, args.props);
        if (!ep || !ep.isPublic) return;
        const cfg = configWithDefaults(args, eksEndpointDefaults);
        if (!cfg.allowPublicEndpoint) {
            reportViolation(
                `EKS cluster "${args.name}" has a public API endpoint, and this policy's config allows none: set endpointPublicAccess to false.`,
            );
            return;
        }
        if (!ep.cidrsSet) {
            reportViolation(
                `EKS cluster "${args.name}" has a public API endpoint without publicAccessCidrs, so AWS opens it to 0.0.0.0/0: ` +
                    `set publicAccessCidrs to your office/VPN CIDRs or set endpointPublicAccess to false.`,
            );
            return;
        }
        const wide = ep.cidrs.filter((c) => isWorldCidr(c, cfg.minPrefixLength));
        if (wide.length > 0) {
            reportViolation(
                `EKS cluster "${args.name}" opens its public API endpoint to ${wide.join(", ")}: ` +
                    `list only CIDRs with a prefix of /${cfg.minPrefixLength} or longer in publicAccessCidrs.`,
            );
        }
    },
};

// ------------------------------------------------------------------ EKS secrets encryption

export const eksSecretsEncryption: ResourceValidationPolicy = {
    name: "eks-secrets-encryption",
    description: "EKS clusters encrypt Kubernetes Secrets with a KMS key (envelope encryption).",
    enforcementLevel: "mandatory",
    validateResource: (args, reportViolation) => {
        if (args.type === T.eksComponent) {
            if (!isSet(args.props, "encryptionConfigKeyArn")) {
                reportViolation(`EKS cluster "${args.name}" has no encryptionConfigKeyArn: pass a KMS key ARN so Secrets are encrypted.`);
            }
            return;
        }
        if (args.type !== T.eksCluster) return;
        const configs = knownArray(() => {
            const ec = args.props["encryptionConfig"];
            return Array.isArray(ec) ? ec : ec === undefined ? [] : [ec];
        }) as Props[];
        const ok = configs.some((c) => {
            const resources = knownStrings(() => c["resources"]);
            return resources.includes("secrets") && isSet(readOr(() => c["provider"], undefined), "keyArn");
        });
        if (!ok) {
            reportViolation(
                `EKS cluster "${args.name}" does not encrypt Secrets: set encryptionConfig with resources ["secrets"] and provider.keyArn (a KMS key).`,
            );
        }
    },
};

// ------------------------------------------------------------------ nodes in private subnets

/** Subnets whose route table sends traffic to an internet gateway, or that map public IPs on launch. */
export function publicSubnets(resources: PolicyResource[]): Set<PolicyResource> {
    const igws = new Set(resources.filter((r) => r.type === T.internetGateway));
    const viaIgw = (r: PolicyResource, prop: string): boolean => (r.propertyDependencies?.[prop] ?? []).some((d) => igws.has(d));
    const publicRts = new Set<PolicyResource>();
    for (const rt of resources.filter((r) => r.type === T.routeTable)) {
        if (viaIgw(rt, "routes")) publicRts.add(rt);
    }
    for (const route of resources.filter((r) => r.type === T.route)) {
        if (!viaIgw(route, "gatewayId")) continue;
        for (const rt of propertyDeps(route, "routeTableId", T.routeTable)) publicRts.add(rt);
    }
    const out = new Set<PolicyResource>();
    for (const s of resources.filter((r) => r.type === T.subnet)) {
        if (readOr(() => s.props["mapPublicIpOnLaunch"], false) === true) out.add(s);
    }
    for (const a of resources.filter((r) => r.type === T.routeTableAssociation)) {
        if (!propertyDeps(a, "routeTableId", T.routeTable).some((rt) => publicRts.has(rt))) continue;
        for (const s of propertyDeps(a, "subnetId", T.subnet)) out.add(s);
    }
    return out;
}

/** Node-running resources and the prop holding their subnet ids. */
function nodeSubnetProps(r: PolicyResource): string[] {
    switch (r.type) {
        case T.eksNodeGroup:
        case T.eksManagedNodeGroup:
            return ["subnetIds"];
        case T.eksNodeGroupV2:
        case T.eksNodeGroupV1:
            return ["nodeSubnetIds"];
        case T.eksComponent: {
            if (readOr(() => r.props["skipDefaultNodeGroup"], false) === true) return [];
            const firstSet = ["nodeSubnetIds", "privateSubnetIds", "subnetIds"].find((p) => isSet(r.props, p));
            return firstSet ? [firstSet] : [];
        }
        default:
            return [];
    }
}

/**
 * The subnets a node group's subnet prop names: matched by id when the ids are known, otherwise through the
 * engine's property dependencies (during preview the ids are not known yet).
 */
function referencedSubnets(r: PolicyResource, prop: string, subnets: PolicyResource[]): { found: PolicyResource[]; unmatched: string[] } {
    const ids = read(() => r.props[prop]);
    if (ids.known && Array.isArray(ids.value)) {
        const values = knownStrings(() => r.props[prop]);
        if (values.length === ids.value.length) {
            const byId = new Map<string, PolicyResource>();
            for (const s of subnets) {
                const id = outputId(s);
                if (id !== undefined) byId.set(id, s);
            }
            const found: PolicyResource[] = [];
            const unmatched: string[] = [];
            for (const v of values) {
                const s = byId.get(v);
                if (s) found.push(s);
                else unmatched.push(v);
            }
            // Ids not matched by value may still be subnets of this stack reached through dependencies.
            if (unmatched.length === 0) return { found, unmatched };
            const deps = propertyDeps(r, prop, T.subnet);
            return deps.length > 0 ? { found: [...new Set([...found, ...deps])], unmatched: [] } : { found, unmatched };
        }
    }
    return { found: propertyDeps(r, prop, T.subnet), unmatched: [] };
}

export const eksNodesPrivateSubnetsDefaults = {
    /** Fail when a node group names subnet ids that are not declared in this stack (their routing cannot be checked). */
    requireDeclaredSubnets: true,
};

export const eksNodesInPrivateSubnets: StackValidationPolicy = {
    name: "eks-nodes-private-subnets",
    description:
        "EKS node groups run only in private subnets: subnets that do not map public IPs on launch and whose route table has no route to an internet gateway.",
    enforcementLevel: "mandatory",
    configSchema: schemaWithDefaults(eksNodesPrivateSubnetsDefaults, {
        requireDeclaredSubnets: {
            type: "boolean",
            description: "false: subnet ids from outside this stack (an existing VPC) are accepted unchecked",
        },
    }),
    validateStack: (args, reportViolation) => {
        const cfg = configWithDefaults(args, eksNodesPrivateSubnetsDefaults);
        const subnets = ofTypes(args, T.subnet);
        const pub = publicSubnets(args.resources);
        for (const r of args.resources) {
            for (const prop of nodeSubnetProps(r)) {
                const { found, unmatched } = referencedSubnets(r, prop, subnets);
                const bad = found.filter((s) => pub.has(s));
                if (bad.length > 0) {
                    reportViolation(
                        `${describe(r)} places nodes in public subnet(s) ${bad.map((s) => `"${s.name}"`).join(", ")} (${prop}): ` +
                            `use the private subnets (no public IP on launch, no route to an internet gateway).`,
                        r.urn,
                    );
                }
                if (unmatched.length > 0 && cfg.requireDeclaredSubnets) {
                    reportViolation(
                        `${describe(r)} uses subnet id(s) ${unmatched.join(", ")} (${prop}) that this stack does not declare, so they cannot be checked as private: ` +
                            `declare the subnets in the stack or set requireDeclaredSubnets: false in this policy's config.`,
                        r.urn,
                    );
                }
            }
            if (r.type === T.eksComponent && nodeSubnetProps(r).length > 0 && readOr(() => r.props["nodeAssociatePublicIpAddress"], false) === true) {
                reportViolation(`${describe(r)} gives its default node group public IPs (nodeAssociatePublicIpAddress): set it to false.`, r.urn);
            }
        }
    },
};

// ------------------------------------------------------------------ encrypted storage

export const ebsEncrypted: ResourceValidationPolicy = {
    name: "aws-ebs-encrypted",
    description:
        "EBS volumes are encrypted: aws.ebs.Volume has encrypted: true and every StorageClass of the EBS CSI driver sets parameters.encrypted \"true\".",
    enforcementLevel: "mandatory",
    validateResource: (args, reportViolation) => {
        if (args.type === T.ebsVolume) {
            if (readOr(() => args.props["encrypted"], true) !== true) {
                reportViolation(`EBS volume "${args.name}" is not encrypted: set encrypted: true (and kmsKeyId for a customer key).`);
            }
            return;
        }
        if (args.type === T.storageClass && readOr(() => args.props["provisioner"], "") === "ebs.csi.aws.com") {
            const enc = readOr(() => args.props["parameters"]?.["encrypted"], "true");
            if (String(enc) !== "true") {
                reportViolation(`${describe(args)} creates unencrypted EBS volumes: set parameters.encrypted to "true".`);
            }
        }
    },
};

export const efsEncrypted: ResourceValidationPolicy = {
    name: "aws-efs-encrypted",
    description: "EFS file systems are encrypted at rest (encrypted: true).",
    enforcementLevel: "mandatory",
    validateResource: (args, reportViolation) => {
        if (args.type !== T.efs) return;
        if (readOr(() => args.props["encrypted"], true) !== true) {
            reportViolation(`EFS file system "${args.name}" is not encrypted: set encrypted: true (and kmsKeyId for a customer key).`);
        }
    },
};

// ------------------------------------------------------------------ S3

/** Resources that configure something for a bucket (by `bucket` prop): matched by dependency, or by name/id value. */
function targetsBucket(cfg: PolicyResource, bucket: PolicyResource): boolean {
    if (propertyDeps(cfg, "bucket").includes(bucket)) return true;
    const v = readOr(() => cfg.props["bucket"], undefined);
    if (typeof v !== "string") return false;
    const names = [outputId(bucket), readOr(() => bucket.props["bucket"], undefined)].filter((x) => typeof x === "string");
    return names.includes(v);
}

export const s3EncryptedDefaults = {
    /** true: require SSE-KMS (aws:kms or aws:kms:dsse), not only SSE-S3 (AES256). */
    requireKms: false,
};

function sseAlgorithms(rules: unknown[]): string[] {
    const out: string[] = [];
    for (const rule of rules as Props[]) {
        const d = readOr(() => rule["applyServerSideEncryptionByDefault"], undefined) as Props | undefined;
        const list = Array.isArray(d) ? d : d ? [d] : [];
        for (const x of list) {
            const a = readOr(() => x["sseAlgorithm"], undefined);
            if (typeof a === "string") out.push(a);
        }
    }
    return out;
}

export const s3Encrypted: StackValidationPolicy = {
    name: "aws-s3-encrypted",
    description:
        "Every S3 bucket declares its default encryption (a BucketServerSideEncryptionConfiguration or inline serverSideEncryptionConfiguration).",
    enforcementLevel: "mandatory",
    configSchema: schemaWithDefaults(s3EncryptedDefaults, {
        requireKms: { type: "boolean", description: "true: only SSE-KMS (aws:kms, aws:kms:dsse) counts" },
    }),
    validateStack: (args, reportViolation) => {
        const cfg = configWithDefaults(args, s3EncryptedDefaults);
        const sseConfigs = ofTypes(args, T.sse, T.sseV2);
        for (const b of ofTypes(args, T.bucket, T.bucketV2)) {
            const algos: string[] = [];
            let declared = false;
            if (isSet(b.props, "serverSideEncryptionConfiguration")) {
                declared = true;
                const inline = readOr(() => b.props["serverSideEncryptionConfiguration"], undefined) as Props | undefined;
                const list = Array.isArray(inline) ? inline : inline ? [inline] : [];
                for (const c of list) algos.push(...sseAlgorithms(knownArray(() => (c as Props)["rules"] ?? (c as Props)["rule"])));
            }
            for (const c of sseConfigs.filter((c) => targetsBucket(c, b))) {
                declared = true;
                algos.push(...sseAlgorithms(knownArray(() => c.props["rules"])));
            }
            if (!declared) {
                reportViolation(
                    `S3 bucket "${b.name}" has no server-side encryption configuration: add an aws.s3.BucketServerSideEncryptionConfiguration for it.`,
                    b.urn,
                );
            } else if (cfg.requireKms && algos.length > 0 && !algos.every((a) => a.startsWith("aws:kms"))) {
                reportViolation(`S3 bucket "${b.name}" is encrypted with ${algos.join(", ")}: this policy's config requires SSE-KMS (aws:kms).`, b.urn);
            }
        }
    },
};

const publicAccessFlags = ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"] as const;

function flagsOff(props: Props): string[] {
    return publicAccessFlags.filter((f) => readOr(() => props[f], false) !== true);
}

export const s3PublicAccessBlocked: StackValidationPolicy = {
    name: "aws-s3-public-access-blocked",
    description:
        "Every S3 bucket has a public access block with all four settings on (or the account-level block is declared with all four on).",
    enforcementLevel: "mandatory",
    validateStack: (args, reportViolation) => {
        const blocks = ofTypes(args, T.publicAccessBlock);
        for (const blk of blocks) {
            const off = flagsOff(blk.props);
            if (off.length > 0) {
                reportViolation(`${describe(blk)} leaves ${off.join(", ")} off: set all four public access settings to true.`, blk.urn);
            }
        }
        const accountBlocks = ofTypes(args, T.accountPublicAccessBlock);
        for (const blk of accountBlocks) {
            const off = flagsOff(blk.props);
            if (off.length > 0) {
                reportViolation(`${describe(blk)} leaves ${off.join(", ")} off: set all four public access settings to true.`, blk.urn);
            }
        }
        if (accountBlocks.some((b) => flagsOff(b.props).length === 0)) return;
        for (const b of ofTypes(args, T.bucket, T.bucketV2)) {
            const mine = blocks.filter((blk) => targetsBucket(blk, b));
            if (mine.length === 0) {
                reportViolation(`S3 bucket "${b.name}" has no BucketPublicAccessBlock: add one with all four settings true.`, b.urn);
            }
        }
    },
};

// ------------------------------------------------------------------ security groups

export const sgDefaults = {
    /** Administrative ports that must never be open to the internet: SSH and the Kubernetes API. */
    ports: [22, 443, 6443],
    /** IPv4 prefixes shorter than this count as the internet (IPv6: 4x). */
    minPrefixLength: 8,
};

interface IngressView {
    protocol: unknown;
    fromPort: unknown;
    toPort: unknown;
    cidrs: string[];
}

function sgIngress(type: string, props: Props): IngressView[] {
    if (type === T.securityGroup) {
        return (knownArray(() => props["ingress"]) as Props[]).map((r) => ({
            protocol: readOr(() => r["protocol"], undefined),
            fromPort: readOr(() => r["fromPort"], undefined),
            toPort: readOr(() => r["toPort"], undefined),
            cidrs: [...knownStrings(() => r["cidrBlocks"]), ...knownStrings(() => r["ipv6CidrBlocks"])],
        }));
    }
    if (type === T.sgIngressRule) {
        const cidrs = [readOr(() => props["cidrIpv4"], undefined), readOr(() => props["cidrIpv6"], undefined)].filter(
            (x): x is string => typeof x === "string",
        );
        return [{ protocol: readOr(() => props["ipProtocol"], undefined), fromPort: readOr(() => props["fromPort"], undefined), toPort: readOr(() => props["toPort"], undefined), cidrs }];
    }
    if (type === T.sgRule && readOr(() => props["type"], "") === "ingress") {
        return [
            {
                protocol: readOr(() => props["protocol"], undefined),
                fromPort: readOr(() => props["fromPort"], undefined),
                toPort: readOr(() => props["toPort"], undefined),
                cidrs: [...knownStrings(() => props["cidrBlocks"]), ...knownStrings(() => props["ipv6CidrBlocks"])],
            },
        ];
    }
    return [];
}

export const securityGroupNoWorldAdminPorts: ResourceValidationPolicy = {
    name: "aws-sg-no-world-admin-ports",
    description: "No security group rule opens SSH (22) or the Kubernetes API (443/6443) to the internet (0.0.0.0/0 or ::/0).",
    enforcementLevel: "mandatory",
    configSchema: schemaWithDefaults(sgDefaults, {
        ports: { type: "array", items: { type: "integer", minimum: 1, maximum: 65535 }, description: "ports never open to the internet" },
        minPrefixLength: { type: "integer", minimum: 0, maximum: 32, description: "shortest IPv4 prefix accepted as a source" },
    }),
    validateResource: (args, reportViolation) => {
        const rules = sgIngress(args.type, args.props);
        if (rules.length === 0) return;
        const cfg = configWithDefaults(args, sgDefaults);
        for (const rule of rules) {
            const world = rule.cidrs.filter((c) => isWorldCidr(c, cfg.minPrefixLength));
            if (world.length === 0) continue;
            const ports = awsRulePorts(rule.protocol, rule.fromPort, rule.toPort, cfg.ports);
            if (ports.length > 0) {
                reportViolation(
                    `${describe(args)} opens port(s) ${ports.join(", ")} to ${world.join(", ")}: allow only your admin/VPN CIDRs on SSH and the Kubernetes API.`,
                );
            }
        }
    },
};

// ------------------------------------------------------------------ required tags

export const requiredTagsDefaults = {
    /** Tag keys every taggable AWS resource carries, with a non-empty value. */
    requiredTags: ["environment", "owner", "cost-centre"],
};

const taggableCache = new Map<string, boolean>();
let awsSdkDir: string | null | undefined;

/**
 * True when the AWS resource type takes a `tags` input, read from the installed @pulumi/aws SDK (the generated
 * class for token `aws:<module>/<file>:<Type>` lives in `<module>/<file>.js` and copies each input it accepts).
 * Falls back to the presence of `tags` in the props when the SDK file cannot be found.
 */
export function isTaggableAwsType(type: string, props: Props): boolean {
    const m = /^aws:([^/]+)\/([^:]+):/.exec(type);
    if (!m) return false;
    const cached = taggableCache.get(type);
    if (cached !== undefined) return cached;
    if (awsSdkDir === undefined) {
        try {
            awsSdkDir = path.dirname(require.resolve("@pulumi/aws/package.json"));
        } catch {
            awsSdkDir = null;
        }
    }
    let result: boolean | undefined;
    if (awsSdkDir) {
        const mod = m[1] === "index" ? "" : m[1]!;
        const file = path.join(awsSdkDir, mod, `${m[2]}.js`);
        try {
            const src = fs.readFileSync(file, "utf8");
            result = /resourceInputs\["tags"\]\s*=\s*args/.test(src);
        } catch {
            result = undefined;
        }
    }
    if (result === undefined) return has(props, "tags");
    taggableCache.set(type, result);
    return result;
}

/** The provider's default tags (`defaultTags.tags`), which AWS merges into every resource's tags. */
function providerDefaultTags(provider: { props: Props } | undefined): Record<string, unknown> {
    if (!provider) return {};
    const dt = read(() => provider.props["defaultTags"]);
    if (!dt.known || dt.value === undefined) return {};
    let v: unknown = dt.value;
    if (typeof v === "string") {
        try {
            v = JSON.parse(v);
        } catch {
            return {};
        }
    }
    const tags = readOr(() => (v as Props)?.["tags"], undefined);
    return typeof tags === "object" && tags !== null ? (tags as Record<string, unknown>) : {};
}

/**
 * Explicit, narrow exemption: children that the pulumi-eks component (`eks:index:Cluster`) creates itself and passes
 * no tags to, so no program can tag them: its IAM OIDC provider (createOidcProvider) and its IAM roles (the EKS
 * service role). Only these two types, and only below an `eks:index:Cluster` in the URN's type chain: the same types
 * anywhere else, and every other child of the component (security groups...), still need the tags.
 */
export const PULUMI_EKS_UNTAGGED_CHILDREN: readonly string[] = ["aws:iam/openIdConnectProvider:OpenIdConnectProvider", "aws:iam/role:Role"];

/** True for a resource the pulumi-eks Cluster component created (its URN's type chain passes through eks:index:Cluster). */
export function createdByPulumiEks(urn: string): boolean {
    const chain = (urn.split("::")[2] ?? "").split("$");
    return chain.slice(0, -1).includes("eks:index:Cluster");
}

export const awsRequiredTags: ResourceValidationPolicy = {
    name: "aws-required-tags",
    description:
        "Every taggable AWS resource carries the required tags (environment, owner, cost-centre by default), directly or through the provider's defaultTags. Exempt: the IAM OIDC provider and IAM roles the pulumi-eks Cluster component creates itself (it tags neither).",
    enforcementLevel: "mandatory",
    configSchema: schemaWithDefaults(requiredTagsDefaults, {
        requiredTags: { type: "array", items: { type: "string", minLength: 1 }, description: "tag keys every taggable resource must carry" },
    }),
    validateResource: (args, reportViolation) => {
        if (!args.type.startsWith("aws:") || !isTaggableAwsType(args.type, args.props)) return;
        if (PULUMI_EKS_UNTAGGED_CHILDREN.includes(args.type) && createdByPulumiEks(args.urn)) return;
        const cfg = configWithDefaults(args, requiredTagsDefaults);
        const tags = read(() => args.props["tags"]);
        if (!tags.known) return; // the whole map is computed; it is checked again at update time
        const own = (typeof tags.value === "object" && tags.value !== null ? tags.value : {}) as Props;
        const defaults = providerDefaultTags(args.provider);
        const missing = cfg.requiredTags.filter((k) => {
            if (has(own, k)) {
                const v = read(() => own[k]);
                return v.known && (v.value === "" || v.value === null || v.value === undefined);
            }
            const d = defaults[k];
            return d === undefined || d === null || d === "";
        });
        if (missing.length > 0) {
            reportViolation(
                `${describe(args)} lacks required tag(s) ${missing.join(", ")}: set them in tags or in the AWS provider's defaultTags.`,
            );
        }
    },
};

export const awsPolicies = [
    eksPublicEndpointRestricted,
    eksSecretsEncryption,
    eksNodesInPrivateSubnets,
    ebsEncrypted,
    efsEncrypted,
    s3Encrypted,
    s3PublicAccessBlocked,
    securityGroupNoWorldAdminPorts,
    awsRequiredTags,
];
