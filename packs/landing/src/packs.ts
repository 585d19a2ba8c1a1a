// The admin packs view: Argo CD Applications of the packs project (in the pack-apps namespace, "apps in any
// namespace") with their sync and health status, and each pack's NebariApps (from the Application's
// status.resources) with their conditions. packsView() is pure; PackWatcher is the informer edge.
import { CustomObjectsApi, makeInformer, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import { RestartingInformer } from './restarting-informer.js';
import { NEBARIAPP_GROUP } from './contract.js';
import type { PackAppView, PackView } from './view.js';

export const ARGO_GROUP = 'argoproj.io';
export const ARGO_VERSION = 'v1alpha1';

export interface ArgoApplication extends KubernetesObject {
  spec?: { project?: string; destination?: { namespace?: string } };
  status?: {
    sync?: { status?: string };
    health?: { status?: string };
    resources?: Array<{ group?: string; kind?: string; namespace?: string; name?: string }>;
  };
}

/** Packs of `project`, sorted by name; each with its NebariApps (sorted by id) and their conditions. */
export function packsView(apps: Iterable<ArgoApplication>, project: string, conditionsOf: (id: string) => PackAppView['conditions'] | undefined): PackView[] {
  const out: PackView[] = [];
  for (const a of apps) {
    if (a.spec?.project !== project || !a.metadata?.name) continue;
    const ids = new Set<string>();
    for (const r of a.status?.resources ?? []) {
      if (r.group === NEBARIAPP_GROUP && r.kind === 'NebariApp' && r.name) ids.add(`${r.namespace ?? a.spec?.destination?.namespace ?? ''}/${r.name}`);
    }
    out.push({
      name: a.metadata.name,
      namespace: a.metadata.namespace ?? '',
      destination: a.spec?.destination?.namespace ?? '',
      sync: a.status?.sync?.status ?? 'Unknown',
      health: a.status?.health?.status ?? 'Unknown',
      nebariApps: [...ids].sort().map((id) => ({ id, conditions: conditionsOf(id) ?? [] })),
    });
  }
  return out.sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : x.namespace < y.namespace ? -1 : 1));
}

/** Watches the Applications of one namespace; calls onChange after every add/update/delete. */
export class PackWatcher {
  private informer: RestartingInformer<ArgoApplication> | undefined;
  readonly apps = new Map<string, ArgoApplication>();
  version = 0;

  private readonly listeners = new Set<() => void>();

  constructor(
    private readonly kc: KubeConfig,
    readonly namespace: string,
    private readonly onError: (err: unknown) => void = () => undefined,
  ) {}

  subscribe(l: () => void): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  async start(): Promise<void> {
    const api = this.kc.makeApiClient(CustomObjectsApi);
    const path = `/apis/${ARGO_GROUP}/${ARGO_VERSION}/namespaces/${this.namespace}/applications`;
    const inf = makeInformer<ArgoApplication>(this.kc, path, () =>
      api.listNamespacedCustomObject({ group: ARGO_GROUP, version: ARGO_VERSION, namespace: this.namespace, plural: 'applications' }) as never,
    );
    const key = (o: ArgoApplication): string => `${o.metadata?.namespace}/${o.metadata?.name}`;
    const changed = (): void => {
      this.version++;
      for (const l of [...this.listeners]) l();
    };
    inf.on('add', (o) => (this.apps.set(key(o), o), changed()));
    inf.on('update', (o) => (this.apps.set(key(o), o), changed()));
    inf.on('delete', (o) => (this.apps.delete(key(o)), changed()));
    this.informer = new RestartingInformer(inf, 5000, this.onError);
    // Argo CD may not be installed (yet): the view then stays empty and the informer keeps retrying.
    await this.informer.start();
  }

  async stop(): Promise<void> {
    await this.informer?.stop();
  }
}
