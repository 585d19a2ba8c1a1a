/**
 * Identity (`nkp:identity:Identity`): the platform's Keycloak realm, its groups, the `argocd` client with a groups
 * mapper, required MFA, and an optional upstream identity provider (OIDC, or LDAP / Active Directory).
 *
 * Keycloak is installed by ArgoCD (foundation), so it exists only after ArgoCD has synced it. The stack builds
 * this component only when `nkp:identityEnabled` is true (default false), see the README's "identity
 * convergence". The Keycloak provider is created here with `initialLogin: false` so nothing contacts Keycloak
 * before a resource needs it. A thin shell over ./spec.ts.
 */
import * as pulumi from '@pulumi/pulumi';
import * as keycloak from '@pulumi/keycloak';
import {
    argocdClient,
    groupsMapper,
    ldapFederation,
    ldapGroupMapper,
    mfaRequiredAction,
    oidcIdentityProvider,
    realmGroups,
    realmSettings,
    type UpstreamSpec,
} from './spec.js';

export * from './spec.js';

export interface IdentityArgs {
    /** URL the provider talks to (public https://keycloak.<domain>, or a port-forward). */
    keycloakUrl: pulumi.Input<string>;
    adminUsername: pulumi.Input<string>;
    /** Bootstrap admin password (a Pulumi secret). */
    adminPassword: pulumi.Input<string>;
    /** Realm name; plain because it names resources. */
    realm: string;
    displayName?: pulumi.Input<string>;
    /** Extra groups besides admins, developers, viewers; plain because each is a resource. */
    extraGroups: string[];
    /** Require OTP for every user; plain because it decides resources. */
    mfaRequired: boolean;
    argocd: {
        /** https://argocd.<domain> */
        url: pulumi.Input<string>;
        /** Client secret shared with ArgoCD (a Pulumi secret). */
        clientSecret: pulumi.Input<string>;
    };
    /** Upstream identity provider; its secret is required for oidc (client secret) and ldap (bind credential). */
    upstream: UpstreamSpec;
    upstreamSecret?: pulumi.Input<string>;
}

export class Identity extends pulumi.ComponentResource {
    readonly realmId: pulumi.Output<string>;
    readonly groupNames: string[];
    readonly argocdClientId: pulumi.Output<string>;

    constructor(name: string, args: IdentityArgs, opts?: pulumi.ComponentResourceOptions) {
        super('nkp:identity:Identity', name, {}, opts);
        if (args.upstream.type !== 'none' && args.upstreamSecret === undefined) {
            throw new Error(`Identity ${name}: upstream ${args.upstream.type} needs upstreamSecret (${args.upstream.type === 'oidc' ? 'client secret' : 'bind credential'})`);
        }
        const provider = new keycloak.Provider(
            `${name}-keycloak`,
            {
                url: args.keycloakUrl,
                realm: 'master',
                clientId: 'admin-cli',
                username: args.adminUsername,
                password: pulumi.secret(args.adminPassword),
                initialLogin: false,
                clientTimeout: 30,
            },
            { parent: this },
        );
        const child = { parent: this, provider };

        const settings = realmSettings(args.realm, args.realm);
        const realm = new keycloak.Realm(`${name}-realm`, { ...settings, displayName: args.displayName ?? settings.displayName }, child);
        this.realmId = realm.id;

        this.groupNames = realmGroups(args.extraGroups);
        for (const g of this.groupNames) new keycloak.Group(`${name}-group-${g}`, { realmId: realm.id, name: g }, child);

        new keycloak.RequiredAction(`${name}-configure-totp`, { realmId: realm.realm, ...mfaRequiredAction(args.mfaRequired) }, child);

        const c = pulumi.output(args.argocd.url).apply(argocdClient);
        const client = new keycloak.openid.Client(
            `${name}-argocd-client`,
            {
                realmId: realm.id,
                clientId: c.clientId,
                name: c.name,
                accessType: c.accessType,
                standardFlowEnabled: c.standardFlowEnabled,
                implicitFlowEnabled: c.implicitFlowEnabled,
                directAccessGrantsEnabled: c.directAccessGrantsEnabled,
                serviceAccountsEnabled: c.serviceAccountsEnabled,
                pkceCodeChallengeMethod: c.pkceCodeChallengeMethod,
                rootUrl: c.rootUrl,
                baseUrl: c.baseUrl,
                validRedirectUris: c.validRedirectUris,
                validPostLogoutRedirectUris: c.validPostLogoutRedirectUris,
                webOrigins: c.webOrigins,
                clientSecret: pulumi.secret(args.argocd.clientSecret),
            },
            child,
        );
        this.argocdClientId = client.clientId;
        new keycloak.openid.GroupMembershipProtocolMapper(`${name}-argocd-groups`, { realmId: realm.id, clientId: client.id, ...groupsMapper() }, child);

        const up = args.upstream;
        if (up.type === 'oidc') {
            new keycloak.oidc.IdentityProvider(`${name}-upstream-oidc`, { realm: realm.realm, ...oidcIdentityProvider(up), clientSecret: pulumi.secret(args.upstreamSecret!) }, child);
        } else if (up.type === 'ldap') {
            const fed = new keycloak.ldap.UserFederation(`${name}-upstream-ldap`, { realmId: realm.id, ...ldapFederation(up), bindCredential: pulumi.secret(args.upstreamSecret!) }, child);
            if (up.groupsDn !== '') new keycloak.ldap.GroupMapper(`${name}-upstream-ldap-groups`, { realmId: realm.id, ldapUserFederationId: fed.id, ...ldapGroupMapper(up) }, child);
        }

        this.registerOutputs({ realmId: this.realmId, groupNames: this.groupNames, argocdClientId: this.argocdClientId });
    }
}
