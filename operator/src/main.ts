/**
 * Entry point of the NebariApp operator: load the configuration (env + flags), the kubeconfig (in-cluster
 * service account, else $KUBECONFIG / ~/.kube/config), run until SIGTERM/SIGINT, then shut down gracefully
 * (finish in-flight reconciles, release the leader Lease). Exits non-zero when the Lease is lost, so the
 * kubelet restarts the container as a fresh candidate.
 */
import { EndpointAccess, loadEndpoint } from './runtime/kubeconfig.js';
import { configWarnings, loadConfig } from './config.js';
import { Operator } from './reconciler-controller.js';
import { createLogger } from './runtime/logger.js';

export async function main(argv: readonly string[] = process.argv.slice(2), env: NodeJS.ProcessEnv = process.env): Promise<void> {
  let settings;
  try {
    settings = loadConfig(env, argv);
  } catch (err) {
    process.stderr.write(`nebari-operator: ${(err as Error).message}\n`);
    process.exit(2);
  }
  const log = createLogger({ level: settings.logLevel, base: { component: 'nebari-operator', instance: settings.identity } });
  let kc: EndpointAccess;
  try {
    kc = new EndpointAccess(loadEndpoint(env));
  } catch (err) {
    process.stderr.write(`nebari-operator: ${(err as Error).message}\n`);
    process.exit(2);
  }
  let exitCode = 0;
  // Keycloak client provisioning when --keycloak-url is set (config.ts checked the combination); admin credentials
  // come from the mounted Secret, read again on every provisioning that needs a token (rotation without restart).
  // loaded only when used: the Keycloak admin client costs memory an operator without provisioning should not pay
  const provisioner = settings.keycloak
    ? (await import('./keycloak/auth-provisioner.js')).createKeycloakAuthProvisioner(settings.keycloak, settings.issuerURL)
    : undefined;
  const op = new Operator({
    settings,
    kubeConfig: kc,
    log,
    provisioner,
    onLeadershipLost: () => {
      exitCode = 1;
      void shutdown('leader lease lost');
    },
  });
  let shuttingDown: Promise<void> | undefined;
  const shutdown = (why: string): Promise<void> => {
    if (!shuttingDown) {
      log.info('shutting down', { why });
      shuttingDown = op.stop().then(() => process.exit(exitCode));
    }
    return shuttingDown;
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
  process.on('unhandledRejection', (err) => log.error('unhandled rejection', { err }));
  log.info('starting', {
    watchNamespaces: settings.watchNamespaces.length ? settings.watchNamespaces : 'all',
    leaderElection: settings.leaderElection,
    keycloak: settings.keycloak
      ? { url: settings.keycloak.url, realm: settings.keycloak.realm, adminMount: settings.keycloak.adminCredentialsFile }
      : 'disabled (no --keycloak-url)',
    metricsAddress: `${settings.metricsAddress.host}:${settings.metricsAddress.port}`,
  });
  for (const warning of configWarnings(settings)) log.warn(warning);
  try {
    await op.start();
  } catch (err) {
    log.error('start failed', { err });
    exitCode = 1;
    await shutdown('start failed');
  }
}

await main();
