/**
 * Identity (`nkp:identity:Identity`): the platform's Keycloak realm, its groups, the `argocd` client with a groups
 * mapper, the service-account clients of the operator (`nkp-operator`) and the landing page (`nkp-landing-admin`)
 * with their credentials Secrets, required MFA, and an optional upstream identity provider (OIDC, or LDAP / Active
 * Directory).
 *
 * Keycloak is installed by ArgoCD (foundation), so it exists only after ArgoCD has synced it. The stack builds
 * this component only when `nkp:identityEnabled` is true (default false), see the README's "identity
 * convergence". The Keycloak provider is created here with `initialLogin: false` so nothing contacts Keycloak
 * before a resource needs it. A thin shell over ./spec.ts.
 */
import * as pulumi from '@pulumi/pulumi';
import type * as Keycloak from '@pulumi/keycloak';
import { lazySdk } from '../sdk.js';
import * as k8s from '@pulumi/kubernetes';
import type * as Random from '@pulumi/random';
import { NS } from '../cluster/namespaces.js';
import {
    argocdClient,
    GROUPS_CLAIM,
    groupsMapper,
    kubernetesClient,
    landingAdminClient,
    LANDING_ADMIN_CREDENTIALS_SECRET,
    LANDING_ADMIN_REALM_MANAGEMENT_ROLES,
    ldapFederation,
    ldapGroupMapper,
    mfaRequiredAction,
    oidcIdentityProvider,
    operatorClient,
    OPERATOR_CREDENTIALS_SECRET,
    OPERATOR_REALM_MANAGEMENT_ROLES,
    REALM_MANAGEMENT_CLIENT_ID,
    realmGroups,
    realmSettings,
    upstreamGroupMappers,
    type UpstreamSpec,
} from './spec.js';

const keycloak = lazySdk<typeof Keycloak>('@pulumi/keycloak');
const random = lazySdk<typeof Random>('@pulumi/random');

export * from './spec.js';

type CredentialsSecret = { readonly name: string; readonly clientIdKey: string; readonly clientSecretKey: string };

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
    /**
     * Kubernetes API sign-in: the public kubectl client (`clientId`, PKCE, redirects `redirectUris`) with the groups
     * mapper (components/cloud/kube-oidc.ts has the API servers' side). Plain: it decides resources.
     */
    kubernetesApi?: { clientId: string; redirectUris: readonly string[] };
}

/**
 * Identity's Kubernetes objects (the credentials Secrets of the operator and the landing page) go through the
 * cluster's provider: pass it as `providers: [k8sProvider]` in the component options (children inherit it).
 */
export class Identity extends pulumi.ComponentResource {
    readonly realmId: pulumi.Output<string>;
    readonly groupNames: string[];
    readonly argocdClientId: pulumi.Output<string>;
    /** Client id of the operator's service-account client (`nkp-operator`). */
    readonly operatorClientId: pulumi.Output<string>;
    /** namespace/name of the Secret holding the operator's client credentials. */
    readonly operatorCredentialsSecret: pulumi.Output<string>;
    /** Client id of the landing page's service-account client (`nkp-landing-admin`, access request approvals). */
    readonly landingAdminClientId: pulumi.Output<string>;
    /** namespace/name of the Secret holding the landing page's client credentials. */
    readonly landingAdminCredentialsSecret: pulumi.Output<string>;
    /** Client id of the kubectl client (Kubernetes API sign-in), when kubernetesApi is given. */
    readonly kubernetesClientId?: pulumi.Output<string>;

    constructor(name: string, args: IdentityArgs, opts?: pulumi.ComponentResourceOptions) {
        super('nkp:identity:Identity', name, {}, opts);
        if (args.upstream.type !== 'none' && args.upstreamSecret === undefined) {
            throw new Error(`Identity ${name}: upstream ${args.upstream.type} needs upstreamSecret (${args.upstream.type === 'oidc' ? 'client secret' : 'bind credential'})`);
        }
        // Validated before anything is registered: a mapping to a group the realm lacks names the group.
        const mappers = args.upstream.type === 'oidc' ? upstreamGroupMappers(args.upstream.groupMappings ?? [], args.upstream.groupsClaim ?? GROUPS_CLAIM, realmGroups(args.extraGroups)) : [];
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
        const groups = this.groupNames.map((g) => new keycloak.Group(`${name}-group-${g}`, { realmId: realm.id, name: g }, child));

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

        // The service-account clients of the operator and the landing page: each with exactly its realm-management
        // roles, and its credentials in the Secret its Deployment reads.
        const realmManagement = keycloak.openid.getClientOutput({ realmId: realm.id, clientId: REALM_MANAGEMENT_CLIENT_ID }, { parent: this, provider });
        const serviceAccount = (prefix: string, spec: ReturnType<typeof operatorClient>, roles: readonly string[], secretRef: CredentialsSecret, namespace: string, dependsOn: pulumi.Resource[] = []) => {
            const secret = new random.RandomPassword(`${name}-${prefix}-client-secret`, { length: 48, special: false }, { parent: this });
            const client = new keycloak.openid.Client(`${name}-${prefix}-client`, { realmId: realm.id, ...spec, clientSecret: pulumi.secret(secret.result) }, child);
            for (const role of roles) {
                new keycloak.openid.ClientServiceAccountRole(
                    `${name}-${prefix}-${role}`,
                    { realmId: realm.id, serviceAccountUserId: client.serviceAccountUserId, clientId: realmManagement.id, role },
                    child,
                );
            }
            const credentials = new k8s.core.v1.Secret(
                `${name}-${prefix}-credentials`,
                {
                    metadata: { name: secretRef.name, namespace, labels: { 'app.kubernetes.io/part-of': 'nkp', 'app.kubernetes.io/managed-by': 'pulumi' } },
                    type: 'Opaque',
                    stringData: {
                        [secretRef.clientIdKey]: client.clientId,
                        [secretRef.clientSecretKey]: pulumi.secret(secret.result),
                    },
                },
                { parent: this, dependsOn },
            );
            return { credentials, clientId: client.clientId, secret: pulumi.interpolate`${credentials.metadata.namespace}/${credentials.metadata.name}` };
        };
        const landing = serviceAccount('landing-admin', landingAdminClient(), LANDING_ADMIN_REALM_MANAGEMENT_ROLES, LANDING_ADMIN_CREDENTIALS_SECRET, NS.landing);
        this.landingAdminClientId = landing.clientId;
        this.landingAdminCredentialsSecret = landing.secret;
        // The landing page reads its admin credentials from env at start, and it starts only once the operator has
        // provisioned its OIDC client Secret (required env), which needs the operator's credentials: writing those
        // after the landing Secret means a landing pod never starts without its admin credentials.
        const op = serviceAccount('operator', operatorClient(), OPERATOR_REALM_MANAGEMENT_ROLES, OPERATOR_CREDENTIALS_SECRET, NS.operator, [landing.credentials]);
        this.operatorClientId = op.clientId;
        this.operatorCredentialsSecret = op.secret;

        if (args.kubernetesApi !== undefined) {
            const k = kubernetesClient(args.kubernetesApi.clientId, args.kubernetesApi.redirectUris);
            const kubectl = new keycloak.openid.Client(`${name}-kubernetes-client`, { realmId: realm.id, ...k }, child);
            new keycloak.openid.GroupMembershipProtocolMapper(`${name}-kubernetes-groups`, { realmId: realm.id, clientId: kubectl.id, ...groupsMapper() }, child);
            this.kubernetesClientId = kubectl.clientId;
        }

        const up = args.upstream;
        if (up.type === 'oidc') {
            const idp = new keycloak.oidc.IdentityProvider(`${name}-upstream-oidc`, { realm: realm.realm, ...oidcIdentityProvider(up), clientSecret: pulumi.secret(args.upstreamSecret!) }, child);
            for (const m of mappers) {
                new keycloak.CustomIdentityProviderMapping(
                    `${name}-upstream-group-${m.name}`,
                    { realm: realm.realm, name: m.name, identityProviderAlias: idp.alias, identityProviderMapper: m.identityProviderMapper, extraConfig: m.extraConfig },
                    { ...child, dependsOn: groups },
                );
            }
        } else if (up.type === 'ldap') {
            const fed = new keycloak.ldap.UserFederation(`${name}-upstream-ldap`, { realmId: realm.id, ...ldapFederation(up), bindCredential: pulumi.secret(args.upstreamSecret!) }, child);
            if (up.groupsDn !== '') new keycloak.ldap.GroupMapper(`${name}-upstream-ldap-groups`, { realmId: realm.id, ldapUserFederationId: fed.id, ...ldapGroupMapper(up) }, child);
        }

        this.registerOutputs({
            realmId: this.realmId,
            groupNames: this.groupNames,
            argocdClientId: this.argocdClientId,
            operatorClientId: this.operatorClientId,
            operatorCredentialsSecret: this.operatorCredentialsSecret,
            landingAdminClientId: this.landingAdminClientId,
            landingAdminCredentialsSecret: this.landingAdminCredentialsSecret,
            kubernetesClientId: this.kubernetesClientId,
        });
    }
}
