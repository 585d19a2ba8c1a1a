/**
 * Every policy of the NKP guardrails pack, in the order the pack reports them. Tests import the policies from
 * their modules and call `validateResource` / `validateStack` directly.
 */
import type { Policies } from "@pulumi/policy";
import { awsPolicies } from "./aws";
import { costPolicies } from "./cost";
import { gitopsPolicies } from "./gitops";
import { hetznerPolicies } from "./hetzner";
import { kubernetesPolicies } from "./kubernetes";
import { nebariPolicies } from "./nebari";

export const PACK_NAME = "nkp-guardrails";

export const policies: Policies = [
    ...awsPolicies,
    ...hetznerPolicies,
    ...kubernetesPolicies,
    ...gitopsPolicies,
    ...nebariPolicies,
    ...costPolicies,
];
