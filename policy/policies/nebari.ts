/**
 * NebariApps declared through the program: a capability on the public gateway without login is flagged
 * (advisory: some apps are meant to be public, e.g. a status page).
 */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { describe, read, readOr, type Props } from "./util";

export const NEBARIAPP = "kubernetes:reconcilers.nebari.dev/v1:NebariApp";

export const nebariAppPublicAuth: ResourceValidationPolicy = {
    name: "nebariapp-public-auth",
    description:
        "A NebariApp served on the public gateway (spec.gateway absent or \"public\") with routing enables login (spec.auth.enabled: true).",
    enforcementLevel: "advisory",
    validateResource: (args, reportViolation) => {
        if (args.type !== NEBARIAPP) return;
        const spec = read(() => args.props["spec"]);
        if (!spec.known || !spec.value) return;
        const s = spec.value as Props;
        // No routing: the operator manages no routes, nothing is exposed.
        if (readOr(() => s["routing"], undefined) === undefined) return;
        const gateway = read(() => s["gateway"]);
        if (!gateway.known || (gateway.value !== undefined && gateway.value !== "public")) return;
        const enabled = read(() => s["auth"]?.["enabled"]);
        if (!enabled.known || enabled.value === true) return;
        reportViolation(
            `${describe(args)} is served on the public gateway without login: set spec.auth.enabled: true, or spec.gateway: internal if it is not meant for the internet.`,
        );
    },
};

export const nebariPolicies = [nebariAppPublicAuth];
