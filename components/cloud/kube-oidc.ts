/**
 * Kubernetes API sign-in through the platform's Keycloak realm: ONE source of truth for what the API servers are
 * told (the K3s `kube-apiserver-arg` entries of the Hetzner cloud-init, the EKS OIDC identity provider config, and
 * the flags the integration test gives a real kube-apiserver) and for the kubeconfig users log in with (kubelogin,
 * `kubectl oidc-login`, as an exec credential plugin). Pure functions only.
 *
 * The realm side (the public `kubernetes` client with PKCE and its groups mapper) is components/identity/spec.ts
 * `kubernetesClient`; its redirect URIs are {@link KUBELOGIN_REDIRECT_URIS}.
 */
import { parse as parseYaml, stringify } from 'yaml';
import type { ApiServerOidc } from './types.js';
import { validateApiServerOidc } from './validate.js';
import { GROUPS_CLAIM } from '../identity/spec.js';

/** Default client id of the realm's kubectl client, and so the `aud` the API servers accept. */
export const KUBERNETES_OIDC_CLIENT_ID = 'kubernetes';

/** The claim the API servers take the user name from (unique in a Keycloak realm). */
export const KUBERNETES_USERNAME_CLAIM = 'preferred_username';

/** Prefix of OIDC user names, so no token can name a `system:` user or a client-certificate user. */
export const KUBERNETES_USERNAME_PREFIX = 'oidc:';

/**
 * Where kubelogin receives the authorization code: it listens on 127.0.0.1:8000 and falls back to 18000 when that
 * port is taken, with redirect_uri http://localhost:<port> (kubelogin's defaults, `--listen-address`). Keycloak
 * matches redirect URIs exactly, so these are the only two the `kubernetes` client allows.
 */
export const KUBELOGIN_REDIRECT_URIS = ['http://localhost:8000', 'http://localhost:18000'] as const;

/**
 * The API servers' OIDC settings for the platform realm: ID tokens of `clientId` from `issuerUrl`, user
 * `oidc:<preferred_username>`, groups from the realm's `groups` claim prefixed with `groupsPrefix` (the same prefix
 * the cluster baseline puts before the groups it binds, nkp:oidcGroupsPrefix). Validated (names the field).
 */
export function platformApiServerOidc(args: { issuerUrl: string; clientId: string; groupsPrefix: string }, component = 'KubernetesApiSignIn'): Required<ApiServerOidc> {
    if (args.groupsPrefix === '') {
        // With no prefix a realm group called system:masters would be the API server's system:masters.
        throw new Error(`${component}: groupsPrefix must not be empty: it keeps a realm group such as "system:masters" from becoming a Kubernetes system group; use e.g. oidc:`);
    }
    return validateApiServerOidc(component, {
        issuerUrl: args.issuerUrl,
        clientId: args.clientId,
        usernameClaim: KUBERNETES_USERNAME_CLAIM,
        usernamePrefix: KUBERNETES_USERNAME_PREFIX,
        groupsClaim: GROUPS_CLAIM,
        groupsPrefix: args.groupsPrefix,
    })!;
}

/**
 * The kube-apiserver flags (name without `--`, value) for OIDC sign-in, in a fixed order. `caFile`: a CA bundle
 * the API server trusts for the issuer (only for an issuer whose certificate is not publicly trusted, as in tests;
 * the platform's Keycloak serves a Let's Encrypt certificate on AWS and Hetzner).
 */
export function apiServerOidcFlagPairs(o: Required<ApiServerOidc>, extra: { caFile?: string } = {}): [string, string][] {
    return [
        ['oidc-issuer-url', o.issuerUrl],
        ['oidc-client-id', o.clientId],
        ['oidc-username-claim', o.usernameClaim],
        ['oidc-username-prefix', o.usernamePrefix],
        ['oidc-groups-claim', o.groupsClaim],
        ['oidc-groups-prefix', o.groupsPrefix],
        ...(extra.caFile !== undefined ? ([['oidc-ca-file', extra.caFile]] as [string, string][]) : []),
    ];
}

/** Command-line flags of kube-apiserver (`--oidc-issuer-url=...`), e.g. for a test's API server or k3d's `--k3s-arg`. */
export function kubeApiServerOidcFlags(o: Required<ApiServerOidc>, extra: { caFile?: string } = {}): string[] {
    return apiServerOidcFlagPairs(o, extra).map(([k, v]) => `--${k}=${v}`);
}

/** K3s config `kube-apiserver-arg` entries (`oidc-issuer-url=...`, no dashes). */
export function k3sApiServerOidcArgs(o: Required<ApiServerOidc>): string[] {
    return apiServerOidcFlagPairs(o).map(([k, v]) => `${k}=${v}`);
}

/** The `oidc` block of an EKS identity provider config (`aws.eks.IdentityProviderConfig`): the same six settings. */
export function eksOidcIdentityProviderConfig(o: Required<ApiServerOidc>) {
    const f = Object.fromEntries(apiServerOidcFlagPairs(o));
    return {
        identityProviderConfigName: 'oidc',
        issuerUrl: f['oidc-issuer-url']!,
        clientId: f['oidc-client-id']!,
        usernameClaim: f['oidc-username-claim']!,
        usernamePrefix: f['oidc-username-prefix']!,
        groupsClaim: f['oidc-groups-claim']!,
        groupsPrefix: f['oidc-groups-prefix']!,
    };
}

/** The arguments of `kubectl oidc-login get-token` (kubelogin) for the realm's kubectl client: authorization code + PKCE. */
export function kubeloginArgs(o: Pick<Required<ApiServerOidc>, 'issuerUrl' | 'clientId'>): string[] {
    return ['oidc-login', 'get-token', `--oidc-issuer-url=${o.issuerUrl}`, `--oidc-client-id=${o.clientId}`, '--oidc-pkce-method=S256', '--grant-type=authcode'];
}

/** The cluster an OIDC kubeconfig points at: API server URL and the CA that signs its certificate. */
export interface ApiServerEndpoint {
    server: string;
    /** Base64 PEM of the API server's CA (kubeconfig `certificate-authority-data`). */
    certificateAuthorityData?: string;
    /** Path of the CA file instead (local clusters whose kubeconfig names a file). */
    certificateAuthority?: string;
}

/**
 * The cluster entry (server + CA, nothing else) of a kubeconfig's context: what a sign-in kubeconfig needs from the
 * cluster-admin one. Never returns credentials. Throws naming what is missing.
 */
export function apiServerEndpointOf(kubeconfigYaml: string, context?: string): ApiServerEndpoint {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a parsed kubeconfig
    const kc = (parseYaml(kubeconfigYaml) ?? {}) as any;
    const ctxName: string | undefined = context ?? kc['current-context'] ?? kc.contexts?.[0]?.name;
    const ctx = (kc.contexts ?? []).find((c: { name: string }) => c.name === ctxName) ?? kc.contexts?.[0];
    const clusterName = ctx?.context?.cluster ?? kc.clusters?.[0]?.name;
    const cluster = (kc.clusters ?? []).find((c: { name: string }) => c.name === clusterName)?.cluster;
    if (!cluster || typeof cluster.server !== 'string') throw new Error(`kubeconfig: no cluster with a server for context ${JSON.stringify(ctxName)}`);
    return {
        server: cluster.server,
        ...(typeof cluster['certificate-authority-data'] === 'string' ? { certificateAuthorityData: cluster['certificate-authority-data'] } : {}),
        ...(typeof cluster['certificate-authority'] === 'string' ? { certificateAuthority: cluster['certificate-authority'] } : {}),
    };
}

/**
 * A kubeconfig that signs in through the realm: no credentials in it, only the cluster's address and CA and an exec
 * credential plugin (kubelogin: `kubectl krew install oidc-login`) that opens the browser at Keycloak (authorization
 * code + PKCE, redirect to http://localhost:8000), caches the tokens and hands kubectl the ID token.
 */
export function oidcKubeconfig(args: { name: string; endpoint: ApiServerEndpoint; oidc: Pick<Required<ApiServerOidc>, 'issuerUrl' | 'clientId'> }): string {
    const { name, endpoint } = args;
    const cluster: Record<string, string> = { server: endpoint.server };
    if (endpoint.certificateAuthorityData !== undefined) cluster['certificate-authority-data'] = endpoint.certificateAuthorityData;
    else if (endpoint.certificateAuthority !== undefined) cluster['certificate-authority'] = endpoint.certificateAuthority;
    return stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name, cluster }],
        users: [
            {
                name: `${name}-oidc`,
                user: {
                    exec: {
                        apiVersion: 'client.authentication.k8s.io/v1',
                        command: 'kubectl',
                        args: kubeloginArgs(args.oidc),
                        interactiveMode: 'IfAvailable',
                        provideClusterInfo: false,
                        installHint: 'Install kubelogin: kubectl krew install oidc-login (https://github.com/int128/kubelogin)',
                    },
                },
            },
        ],
        contexts: [{ name, context: { cluster: name, user: `${name}-oidc` } }],
        'current-context': name,
    });
}
