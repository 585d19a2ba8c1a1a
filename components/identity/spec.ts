/**
 * Pure helpers of the Identity component: the realm's settings, its groups, the argocd client, the service-account
 * clients of the operator and the landing page, the upstream identity provider and the MFA requirement, as plain
 * argument objects for @pulumi/keycloak resources.
 */
import { createHash } from 'node:crypto';

export const ARGOCD_CLIENT_ID = 'argocd';
export const GROUPS_CLAIM = 'groups';
export const BASE_GROUPS = ['admins', 'developers', 'viewers'] as const;

/** Realm groups: the three base groups plus extras, de-duplicated, in a stable order. */
export function realmGroups(extra: readonly string[]): string[] {
    const all = [...BASE_GROUPS, ...extra];
    return all.filter((g, i) => all.indexOf(g) === i);
}

export function realmSettings(realm: string, displayName: string) {
    return {
        realm,
        displayName,
        enabled: true,
        sslRequired: 'external',
        registrationAllowed: false,
        loginWithEmailAllowed: true,
        duplicateEmailsAllowed: false,
        resetPasswordAllowed: true,
        rememberMe: false,
        accessTokenLifespan: '5m',
        ssoSessionIdleTimeout: '30m',
        ssoSessionMaxLifespan: '10h',
        passwordPolicy: 'length(12) and notUsername and notEmail',
        securityDefenses: {
            bruteForceDetection: { permanentLockout: false, maxLoginFailures: 10, waitIncrementSeconds: 60, maxFailureWaitSeconds: 900, failureResetTimeSeconds: 43200 },
            headers: { xFrameOptions: 'DENY', contentSecurityPolicy: "frame-src 'self'; frame-ancestors 'self'; object-src 'none';", xContentTypeOptions: 'nosniff', strictTransportSecurity: 'max-age=31536000; includeSubDomains', xRobotsTag: 'none', xXssProtection: '1; mode=block', referrerPolicy: 'no-referrer' },
        },
        otpPolicy: { type: 'totp', algorithm: 'HmacSHA1', digits: 6, period: 30, lookAheadWindow: 1 },
    };
}

/**
 * MFA: the CONFIGURE_TOTP required action as a default action makes every new user enrol an authenticator at first
 * login; from then on the built-in browser flow's conditional OTP step asks for it at every sign-in.
 */
export function mfaRequiredAction(mfaRequired: boolean) {
    return { alias: 'CONFIGURE_TOTP', name: 'Configure OTP', enabled: true, defaultAction: mfaRequired, priority: 10 };
}

/** The confidential argocd client: standard flow only, redirect to ArgoCD's callback, origins exactly ArgoCD's. */
export function argocdClient(argocdUrl: string) {
    const url = argocdUrl.replace(/\/+$/, '');
    if (!/^https:\/\/[^\s/]+$/.test(url)) throw new Error(`argocd URL "${argocdUrl}" must be https://<host> with no path`);
    return {
        clientId: ARGOCD_CLIENT_ID,
        name: 'Argo CD',
        accessType: 'CONFIDENTIAL',
        standardFlowEnabled: true,
        implicitFlowEnabled: false,
        directAccessGrantsEnabled: false,
        serviceAccountsEnabled: false,
        pkceCodeChallengeMethod: 'S256',
        rootUrl: url,
        baseUrl: '/applications',
        validRedirectUris: [`${url}/auth/callback`, `${url}/pkce/verify`],
        validPostLogoutRedirectUris: [`${url}/applications`],
        webOrigins: [url],
    };
}

/** The groups claim in ID, access and userinfo tokens, plain group names (no leading slash). */
export function groupsMapper() {
    return { name: 'groups', claimName: GROUPS_CLAIM, fullPath: false, addToIdToken: true, addToAccessToken: true, addToUserinfo: true };
}

/**
 * The realm's kubectl client, for Kubernetes API sign-in with kubelogin (`kubectl oidc-login`, an exec credential
 * plugin): public (a CLI keeps no secret), authorization code flow with PKCE S256 only, redirects exactly to the
 * loopback addresses kubelogin listens on (`redirectUris`, components/cloud/kube-oidc.ts KUBELOGIN_REDIRECT_URIS),
 * no password grant, no implicit flow, no service account, no web origin, no realm roles in its tokens. Its ID
 * tokens' `aud` is the client id, which the API servers accept (--oidc-client-id); with the groups mapper
 * ({@link groupsMapper}) they carry the realm groups the cluster baseline binds.
 */
export function kubernetesClient(clientId: string, redirectUris: readonly string[]) {
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(clientId)) throw new Error(`kubernetes client id ${JSON.stringify(clientId)} is not allowed; use 1..64 of [A-Za-z0-9._-], e.g. kubernetes`);
    for (const u of redirectUris) {
        if (!/^http:\/\/(localhost|127\.0\.0\.1):\d{1,5}$/.test(u)) throw new Error(`kubernetes client redirect URI ${JSON.stringify(u)} is not allowed; only http://localhost:<port> (kubelogin's loopback listener)`);
    }
    return {
        clientId,
        name: 'Kubernetes API (kubectl with kubelogin)',
        accessType: 'PUBLIC',
        standardFlowEnabled: true,
        implicitFlowEnabled: false,
        directAccessGrantsEnabled: false,
        serviceAccountsEnabled: false,
        pkceCodeChallengeMethod: 'S256',
        fullScopeAllowed: false,
        validRedirectUris: [...redirectUris],
        validPostLogoutRedirectUris: [] as string[],
        webOrigins: [] as string[],
    };
}

export type UpstreamSpec =
    | { type: 'none' }
    | {
          type: 'oidc';
          issuer: string;
          authorizationUrl: string;
          tokenUrl: string;
          jwksUrl: string;
          clientId: string;
          /** Claim of the upstream ID token holding the user's groups (Entra ID: groups, with group object ids). Default groups. */
          groupsClaim?: string;
          /** Upstream group -> realm group (see upstreamGroupMappers). Default none: brokered users land in no group. */
          groupMappings?: UpstreamGroupMapping[];
      }
    | { type: 'ldap'; url: string; vendor: 'ad' | 'other'; bindDn: string; usersDn: string; groupsDn: string };

export function oidcIdentityProvider(u: Extract<UpstreamSpec, { type: 'oidc' }>) {
    return {
        alias: UPSTREAM_IDP_ALIAS,
        displayName: 'Company sign-in',
        providerId: 'oidc',
        issuer: u.issuer,
        authorizationUrl: u.authorizationUrl,
        tokenUrl: u.tokenUrl,
        jwksUrl: u.jwksUrl,
        validateSignature: true,
        clientId: u.clientId,
        defaultScopes: 'openid profile email',
        syncMode: 'FORCE',
        trustEmail: true,
        storeToken: false,
        backchannelSupported: true,
        extraConfig: { pkceEnabled: 'true', pkceMethod: 'S256' },
    };
}

/** Alias of the upstream identity provider in the platform realm (its broker endpoint is /realms/<realm>/broker/upstream/endpoint). */
export const UPSTREAM_IDP_ALIAS = 'upstream';

/** One upstream group (its value in the upstream's groups claim: an Entra ID group object id, an AD FS group name) -> a realm group. */
export interface UpstreamGroupMapping {
    upstream: string;
    group: string;
}

/**
 * IdP mappers that put brokered users into the platform's groups: one Keycloak "Advanced Claim to Group" mapper
 * (`oidc-advanced-group-idp-mapper`) per mapping, matching when the upstream ID token's `claim` (a list, as Entra ID's
 * `groups`, or a single value) holds `upstream` exactly (no regex). Sync mode FORCE: every login re-evaluates the
 * claim, so a user removed from the upstream group leaves the platform group at the next sign-in. Names are stable
 * per mapping (`<group>-<hash of the upstream value>`), so reordering the list changes nothing.
 */
export function upstreamGroupMappers(mappings: readonly UpstreamGroupMapping[], claim: string, realmGroupNames: readonly string[]) {
    if (!/^[A-Za-z0-9_.:/-]{1,64}$/.test(claim)) throw new Error(`upstream groups claim ${JSON.stringify(claim)} is not a claim name ([A-Za-z0-9_.:/-], 1..64)`);
    const seen = new Set<string>();
    return mappings.map((m, i) => {
        if (typeof m.upstream !== 'string' || m.upstream.trim() === '' || m.upstream.length > 256) throw new Error(`upstream group mapping ${i}: upstream must be 1..256 characters (the value in the ${claim} claim, e.g. an Entra ID group object id)`);
        if (!realmGroupNames.includes(m.group)) throw new Error(`upstream group mapping ${i}: group ${JSON.stringify(m.group)} is not a realm group; allowed: ${realmGroupNames.join(', ')}`);
        const key = `${m.upstream}\u0000${m.group}`;
        if (seen.has(key)) throw new Error(`upstream group mapping ${i}: ${JSON.stringify(m.upstream)} -> ${m.group} is listed twice`);
        seen.add(key);
        return {
            name: `${m.group}-${createHash('sha256').update(m.upstream).digest('hex').slice(0, 10)}`,
            identityProviderAlias: UPSTREAM_IDP_ALIAS,
            identityProviderMapper: 'oidc-advanced-group-idp-mapper',
            extraConfig: {
                syncMode: 'FORCE',
                claims: JSON.stringify([{ key: claim, value: m.upstream }]),
                'are.claim.values.regex': 'false',
                group: `/${m.group}`,
            },
        };
    });
}

/** LDAP / Active Directory federation, read-only, with the attribute names each vendor uses. */
export function ldapFederation(u: Extract<UpstreamSpec, { type: 'ldap' }>) {
    const ad = u.vendor === 'ad';
    return {
        name: ad ? 'active-directory' : 'ldap',
        vendor: ad ? 'AD' : 'OTHER',
        connectionUrl: u.url,
        startTls: u.url.startsWith('ldap://'),
        bindDn: u.bindDn,
        usersDn: u.usersDn,
        usernameLdapAttribute: ad ? 'sAMAccountName' : 'uid',
        rdnLdapAttribute: ad ? 'cn' : 'uid',
        uuidLdapAttribute: ad ? 'objectGUID' : 'entryUUID',
        userObjectClasses: ad ? ['person', 'organizationalPerson', 'user'] : ['inetOrgPerson', 'organizationalPerson'],
        editMode: 'READ_ONLY',
        importEnabled: true,
        syncRegistrations: false,
        searchScope: 'SUBTREE',
        trustEmail: true,
        pagination: true,
        fullSyncPeriod: 86400,
        changedSyncPeriod: 3600,
    };
}

export function ldapGroupMapper(u: Extract<UpstreamSpec, { type: 'ldap' }>) {
    const ad = u.vendor === 'ad';
    return {
        name: 'groups',
        ldapGroupsDn: u.groupsDn,
        groupNameLdapAttribute: 'cn',
        groupObjectClasses: ad ? ['group'] : ['groupOfNames'],
        membershipLdapAttribute: 'member',
        membershipAttributeType: 'DN',
        membershipUserLdapAttribute: ad ? 'sAMAccountName' : 'uid',
        mode: 'READ_ONLY',
        userRolesRetrieveStrategy: ad ? 'LOAD_GROUPS_BY_MEMBER_ATTRIBUTE_RECURSIVELY' : 'LOAD_GROUPS_BY_MEMBER_ATTRIBUTE',
        dropNonExistingGroupsDuringSync: false,
    };
}

/** The operator's own Keycloak client: confidential, service account only, in the platform realm. */
export const OPERATOR_CLIENT_ID = 'nkp-operator';

/**
 * realm-management roles of the operator's service account: the least set for the Admin API calls
 * operator/src/keycloak/provisioner.ts makes. Keycloak's admin permission checks treat manage-X as including view-X.
 *
 * - manage-clients: clients find/create/update/delete, their secrets, protocol mappers and default/optional client
 *   scopes; client scopes find/create/update/delete (the token-exchange audience scopes), which Keycloak guards
 *   with the client permissions too.
 * - manage-users: groups find (also by attribute)/create/update/delete and their members; users find and
 *   add-to-group (auth.keycloakConfig groups with members). Keycloak has no narrower built-in role that may
 *   create groups.
 *
 * Not needed: view-realm / manage-realm (the operator never reads or changes the realm), impersonation,
 * manage-authorization, manage-identity-providers, manage-events, create-client (covered by manage-clients).
 */
export const OPERATOR_REALM_MANAGEMENT_ROLES = ['manage-clients', 'manage-users'] as const;

/** The built-in client of every realm that holds its admin roles. */
export const REALM_MANAGEMENT_CLIENT_ID = 'realm-management';

/**
 * Where the operator reads its Keycloak admin credentials: the Secret operator/manifests/deployment.yaml mounts
 * (volume keycloak-admin, optional) in the operator's namespace, keys client-id + client-secret (the
 * client-credentials grant of operator/src/keycloak/credentials.ts).
 */
export const OPERATOR_CREDENTIALS_SECRET = { name: 'keycloak-admin', clientIdKey: 'client-id', clientSecretKey: 'client-secret' } as const;

/**
 * A confidential client that is only a service account: client-credentials grant, no browser flow, no password
 * grant, no implicit flow, no redirect URI, no web origin.
 */
function serviceAccountOnlyClient(clientId: string, name: string, description: string) {
    return {
        clientId,
        name,
        description,
        accessType: 'CONFIDENTIAL',
        standardFlowEnabled: false,
        implicitFlowEnabled: false,
        directAccessGrantsEnabled: false,
        serviceAccountsEnabled: true,
        // Keycloak's admin API honours a role only when the calling client has it in scope: full scope keeps the
        // service account's realm-management roles in its token (the account holds nothing else).
        fullScopeAllowed: true,
        validRedirectUris: [] as string[],
        webOrigins: [] as string[],
    };
}

/** The operator's client: client-credentials grant only, no browser flows, no redirect URIs, no origins. */
export function operatorClient() {
    return serviceAccountOnlyClient(OPERATOR_CLIENT_ID, 'NKP operator (NebariApp clients, scopes and groups)', 'Service account of the NebariApp operator; managed by Pulumi');
}

/**
 * The landing page's own Keycloak client: when an admin approves an access request, packs/landing/src/keycloak-admin.ts
 * adds the requesting user to a group through the Admin API of the platform realm (the realm of the landing page's
 * OIDC issuer), authenticated with this client's client-credentials grant.
 */
export const LANDING_ADMIN_CLIENT_ID = 'nkp-landing-admin';

/**
 * realm-management roles of the landing client's service account: `manage-users` only, the least built-in role under
 * which Keycloak lets a caller look up a group by path and add a user to it (view-users / query-groups cannot change
 * membership). Not manage-clients, view-realm or anything realm-wide.
 */
export const LANDING_ADMIN_REALM_MANAGEMENT_ROLES = ['manage-users'] as const;

/**
 * Where the landing page reads its Keycloak admin credentials: the Secret packs/landing/manifests/deployment.yaml
 * references (secretKeyRef, optional: without it approvals answer 503) in the landing namespace, keys client-id +
 * client-secret, as the env KEYCLOAK_ADMIN_CLIENT_ID / KEYCLOAK_ADMIN_CLIENT_SECRET of packs/landing/src/config.ts.
 */
export const LANDING_ADMIN_CREDENTIALS_SECRET = { name: 'landing-keycloak-admin', clientIdKey: 'client-id', clientSecretKey: 'client-secret' } as const;

/** The landing page's client: client-credentials grant only, no browser flows, no redirect URIs, no origins. */
export function landingAdminClient() {
    return serviceAccountOnlyClient(LANDING_ADMIN_CLIENT_ID, 'NKP landing page (access request approvals)', 'Service account of the landing page: adds approved users to groups; managed by Pulumi');
}
