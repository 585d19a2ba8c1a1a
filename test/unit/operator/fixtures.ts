// Shared builders for the operator unit tests: an app, facts where everything is present, a config.
import type { NebariApp, NebariAppSpec } from '../../../operator/src/api/types.js';
import { operatorConfig, type ObservedFacts, type OperatorConfig } from '../../../operator/src/desired/facts.js';

export const NOW = '2026-11-24T12:00:00Z';

export function app(spec: Partial<NebariAppSpec> = {}, meta: Partial<NebariApp['metadata']> = {}): NebariApp {
  return {
    apiVersion: 'reconcilers.nebari.dev/v1',
    kind: 'NebariApp',
    metadata: { name: 'jupyter', namespace: 'data', uid: 'uid-1', generation: 3, creationTimestamp: '2026-01-01T00:00:00Z', ...meta },
    spec: { hostname: 'jupyter.example.com', service: { name: 'hub', port: 8080 }, routing: {}, ...spec },
  };
}

export function config(overrides: Partial<Parameters<typeof operatorConfig>[0]> = {}): OperatorConfig {
  return operatorConfig({
    gateways: {
      public: { name: 'public', namespace: 'envoy-gateway-system', httpListenerName: 'http' },
      internal: { name: 'internal', namespace: 'envoy-gateway-system' },
    },
    clusterIssuer: 'letsencrypt',
    oidc: { issuerURL: 'https://auth.example.com/realms/nebari' },
    ...overrides,
  });
}

/** Facts where everything the app needs exists and is ready. */
export function facts(overrides: Partial<ObservedFacts> = {}): ObservedFacts {
  return {
    namespaceOptedIn: true,
    backendNamespaceOptedIn: true,
    service: { found: true, ports: [8080, 9090] },
    gatewayFound: true,
    hostnameClaims: [],
    certificate: { ready: true },
    // the gateway controller accepted everything (the integration tests run the real one)
    listener: { accepted: true },
    mainRoute: { state: 'accepted', controller: 'gateway.envoyproxy.io/gatewayclass-controller' },
    publicRoute: { state: 'accepted', controller: 'gateway.envoyproxy.io/gatewayclass-controller' },
    securityPolicy: { state: 'accepted', controller: 'gateway.envoyproxy.io/gatewayclass-controller' },
    clientSecret: { found: true, keys: ['client-id', 'client-secret', 'issuer-url'] },
    ...overrides,
  };
}
