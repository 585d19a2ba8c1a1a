// An informer that keeps running: every failure (the watch or the list erroring, the resource not served yet) is
// reported and the informer is started again after a fixed delay, until stop(). Used by the landing page's caches
// of Argo CD Applications (packs.ts) and of per-user state ConfigMaps (userstate.ts).
import type { Informer, KubernetesObject } from '@kubernetes/client-node';

export class RestartingInformer<T extends KubernetesObject> {
  private stopped = false;
  private retry: NodeJS.Timeout | undefined;

  constructor(
    private readonly informer: Informer<T>,
    private readonly retryMs: number,
    private readonly onError: (err: unknown) => void,
  ) {
    informer.on('error', this.fail);
  }

  private readonly fail = (err: unknown): void => {
    if (this.stopped) return;
    this.onError(err);
    clearTimeout(this.retry);
    this.retry = setTimeout(() => void this.informer.start().catch(this.fail), this.retryMs);
    this.retry.unref();
  };

  /** Starts the informer; resolves once its first start has succeeded or failed (a failure is retried). */
  async start(): Promise<void> {
    await this.informer.start().catch(this.fail);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retry);
    await this.informer.stop();
  }
}
