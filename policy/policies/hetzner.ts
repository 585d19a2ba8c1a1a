/**
 * Hetzner guardrails: firewall rules, the K3s join token's secrecy, servers behind the firewall.
 */
import type { PolicyResource, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import {
    configWithDefaults,
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

export const H = {
    firewall: "hcloud:index/firewall:Firewall",
    firewallAttachment: "hcloud:index/firewallAttachment:FirewallAttachment",
    server: "hcloud:index/server:Server",
    randomPassword: "random:index/randomPassword:RandomPassword",
    randomString: "random:index/randomString:RandomString",
} as const;

// ------------------------------------------------------------------ firewall

export const firewallDefaults = {
    /** Ports never open to the internet: SSH and the K3s API server. */
    ports: [22, 6443],
    /** IPv4 prefixes shorter than this count as the internet (IPv6: 4x). */
    minPrefixLength: 8,
};

/** The ports among `ports` a Hetzner firewall rule's `port` ("22", "80-85", "any", absent) opens. */
export function hcloudRulePorts(protocol: unknown, port: unknown, ports: number[]): number[] {
    if (protocol !== "tcp") return [];
    if (port === undefined || port === null || port === "" || port === "any") return ports;
    const m = /^(\d+)(?:-(\d+))?$/.exec(String(port).trim());
    if (!m) return [];
    const from = Number(m[1]);
    const to = m[2] !== undefined ? Number(m[2]) : from;
    return ports.filter((p) => from <= p && p <= to);
}

export const hetznerFirewallNoWorldAdminPorts: ResourceValidationPolicy = {
    name: "hetzner-firewall-no-world-admin-ports",
    description: "Hetzner firewalls never open SSH (22) or the Kubernetes API (6443) to the internet (0.0.0.0/0 or ::/0).",
    enforcementLevel: "mandatory",
    configSchema: schemaWithDefaults(firewallDefaults, {
        ports: { type: "array", items: { type: "integer", minimum: 1, maximum: 65535 }, description: "ports never open to the internet" },
        minPrefixLength: { type: "integer", minimum: 0, maximum: 32, description: "shortest IPv4 prefix accepted as a source" },
    }),
    validateResource: (args, reportViolation) => {
        if (args.type !== H.firewall) return;
        const cfg = configWithDefaults(args, firewallDefaults);
        for (const rule of knownArray(() => args.props["rules"]) as Props[]) {
            if (readOr(() => rule["direction"], "in") !== "in") continue;
            const world = knownStrings(() => rule["sourceIps"]).filter((c) => isWorldCidr(c, cfg.minPrefixLength));
            if (world.length === 0) continue;
            const ports = hcloudRulePorts(readOr(() => rule["protocol"], undefined), readOr(() => rule["port"], undefined), cfg.ports);
            if (ports.length > 0) {
                reportViolation(
                    `Hetzner firewall "${args.name}" opens port(s) ${ports.join(", ")} to ${world.join(", ")}: allow only your admin/VPN CIDRs in sourceIps.`,
                );
            }
        }
    },
};

// ------------------------------------------------------------------ K3s join token

/** Matches the places a K3s join token appears in cloud-init: env var, CLI flag, or config.yaml key. */
export const K3S_TOKEN_PATTERN = /K3S_(?:AGENT_)?TOKEN\s*=|--(?:agent-)?token[= ]|^\s*(?:agent-)?token\s*:/m;

/** True when cloud-init text carries a K3s join token. */
export function carriesK3sToken(userData: string): boolean {
    return K3S_TOKEN_PATTERN.test(userData);
}

/**
 * The engine hands policies plain values (it strips the secret marker before `validateResource` and
 * `validateStack` run), so a token's secrecy is proven from where it comes from: a RandomPassword (whose result
 * Pulumi always keeps secret) in userData's dependencies, or `additionalSecretOutputs: ["userData"]` on the server.
 */
export const k3sTokenSecret: StackValidationPolicy = {
    name: "hetzner-k3s-token-secret",
    description:
        "The K3s join token reaches servers only as a Pulumi secret: userData carrying it is built from a random.RandomPassword or listed in additionalSecretOutputs.",
    enforcementLevel: "mandatory",
    validateStack: (args, reportViolation) => {
        for (const s of ofTypes(args, H.server)) {
            const ud = read(() => s.props["userData"]);
            // userData computed from other resources' outputs: its dependencies still tell where the token came from.
            const text = ud.known ? (typeof ud.value === "string" ? ud.value : "") : undefined;
            if (text !== undefined && !carriesK3sToken(text)) continue;
            const deps = propertyDeps(s, "userData");
            if (text === undefined && deps.length === 0) continue;
            const fromPassword = deps.some((d) => d.type === H.randomPassword);
            const declaredSecret = (s.opts.additionalSecretOutputs ?? []).includes("userData");
            const fromRandomString = deps.filter((d) => d.type === H.randomString);
            if (fromRandomString.length > 0 && !declaredSecret) {
                reportViolation(
                    `Server "${s.name}" builds userData from random.RandomString "${fromRandomString[0]!.name}", whose result is not secret: ` +
                        `generate the K3s token with random.RandomPassword.`,
                    s.urn,
                );
                continue;
            }
            if (text !== undefined && !fromPassword && !declaredSecret) {
                reportViolation(
                    `Server "${s.name}" puts a K3s join token in userData that is not provably secret: ` +
                        `generate it with random.RandomPassword or add additionalSecretOutputs: ["userData"] to the server.`,
                    s.urn,
                );
            }
        }
    },
};

// ------------------------------------------------------------------ servers behind the firewall

/** Parses a Hetzner label selector ("k=v,k2!=v2,k3,!k4") and tests it against labels. */
export function labelSelectorMatches(selector: string, labels: Record<string, unknown>): boolean {
    const parts = selector.split(",").map((p) => p.trim()).filter((p) => p.length > 0);
    if (parts.length === 0) return false;
    return parts.every((p) => {
        let m: RegExpExecArray | null;
        if ((m = /^([^!=\s]+)\s*!=\s*(.*)$/.exec(p))) return labels[m[1]!] !== m[2];
        if ((m = /^([^!=\s]+)\s*==?\s*(.*)$/.exec(p))) return labels[m[1]!] === m[2];
        if ((m = /^!\s*(\S+)$/.exec(p))) return !(m[1]! in labels);
        return p in labels;
    });
}

function attachmentCovers(att: PolicyResource, server: PolicyResource): boolean {
    if (propertyDeps(att, "serverIds").includes(server)) return true;
    const id = outputId(server);
    if (id !== undefined) {
        const ids = knownArray(() => att.props["serverIds"]).map(String);
        if (ids.includes(id)) return true;
    }
    const labels = (readOr(() => server.props["labels"], {}) ?? {}) as Record<string, unknown>;
    return knownStrings(() => att.props["labelSelectors"]).some((sel) => labelSelectorMatches(sel, labels));
}

export const hetznerServersFirewalled: StackValidationPolicy = {
    name: "hetzner-servers-firewalled",
    description: "Every Hetzner server sits behind a firewall: firewallIds on the server or a FirewallAttachment naming it (by id or label selector).",
    enforcementLevel: "mandatory",
    validateStack: (args, reportViolation) => {
        const attachments = ofTypes(args, H.firewallAttachment);
        for (const s of ofTypes(args, H.server)) {
            const ids = read(() => s.props["firewallIds"]);
            // An unknown list (computed during preview) is a list of firewall ids the program set.
            const direct = !ids.known || (Array.isArray(ids.value) && ids.value.length > 0);
            if (direct) continue;
            if (attachments.some((a) => attachmentCovers(a, s))) continue;
            reportViolation(
                `Server "${s.name}" has no firewall: set firewallIds or attach it with an hcloud.FirewallAttachment (serverIds or labelSelectors).`,
                s.urn,
            );
        }
    },
};

export const hetznerPolicies = [hetznerFirewallNoWorldAdminPorts, k3sTokenSecret, hetznerServersFirewalled];
