/**
 * NKP guardrails: the CrossGuard policy pack every environment runs with
 * (`pulumi preview --policy-pack policy/`, `pulumi up --policy-pack policy/`).
 *
 * This file only creates the PolicyPack (which starts the analyzer server the Pulumi engine talks to); the policies
 * live in ./policies so tests can call them without a server. Compiled as CommonJS by the Pulumi policy runner's
 * bundled ts-node (see policy/package.json), hence the suffix-less relative import.
 */
import { PolicyPack } from "@pulumi/policy";
import { PACK_NAME, policies } from "./policies/index";

new PolicyPack(PACK_NAME, {
    description: "Stops unsafe AWS, Hetzner, Kubernetes and GitOps settings of the NKP platform before they are created.",
    displayName: "NKP guardrails",
    policies,
});
