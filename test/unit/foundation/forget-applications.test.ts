// scripts/forget-foundation-applications.ts: which resources of a stack created before the foundation's parent
// Application are removed from the state (checked once end to end with the real engine: a stack brought up by the
// previous program, the script, then `pulumi up` of this one kept all nine Applications with their UIDs).
import assert from 'node:assert/strict';
import { ownedFoundationApplications } from '../../../scripts/forget-foundation-applications.js';

const F = 'urn:pulumi:prod::nkp::nkp:foundation:Foundation::foundation';
const app = (name: string, parent = F) => ({ urn: `${parent}$kubernetes:argoproj.io/v1alpha1:Application::foundation-app-${name}`, type: 'kubernetes:argoproj.io/v1alpha1:Application', parent, outputs: { metadata: { name } } });

describe('forgetting the foundation Applications Pulumi owned before the parent Application', () => {
    it('picks the Applications directly under the Foundation component, dependents first, never the parent or a pack root', () => {
        const state = [
            { urn: 'urn:pulumi:prod::nkp::pulumi:pulumi:Stack::nkp-prod', type: 'pulumi:pulumi:Stack' },
            { urn: F, type: 'nkp:foundation:Foundation', parent: 'urn:pulumi:prod::nkp::pulumi:pulumi:Stack::nkp-prod' },
            app('cert-manager'),
            app('envoy-gateway'),
            app('nkp-landing'),
            { ...app('foundation'), urn: `${F}$kubernetes:argoproj.io/v1alpha1:Application::foundation` },
            app('packs', 'urn:pulumi:prod::nkp::nkp:argocd:ArgoCD::argocd'),
        ];
        assert.deepEqual(ownedFoundationApplications(state), [app('nkp-landing').urn, app('envoy-gateway').urn, app('cert-manager').urn]);
    });
    it('finds nothing in a stack created with the parent Application', () => {
        assert.deepEqual(ownedFoundationApplications([{ urn: F, type: 'nkp:foundation:Foundation' }, { ...app('foundation'), urn: `${F}$kubernetes:argoproj.io/v1alpha1:Application::foundation` }]), []);
    });
});
