/**
 * Kubernetes Events (events.k8s.io/v1) for notable transitions of an object. The caller decides what is
 * notable (a condition changing), so a steady cluster emits none. Failures to record are logged, never thrown.
 *
 * Recording is asynchronous, as client-go's event broadcaster: `record` queues the Event and returns; at most
 * MAX_IN_FLIGHT are being created at once and at most MAX_PENDING wait (more are dropped and logged). A reconcile
 * never waits on an Event, so under a busy API server the writes that decide readiness (children, status) are not
 * queued behind them. `flush` waits for the queue (the operator calls it when it stops).
 */
import { randomBytes } from 'node:crypto';
import type { KubeClient, KubeObject, ResourceType } from './kube.js';
import type { Logger } from './logger.js';
import { microTime } from './leader.js';

export const EVENT: ResourceType = { group: 'events.k8s.io', version: 'v1', plural: 'events', kind: 'Event', namespaced: true };

export type EventType = 'Normal' | 'Warning';

export class EventRecorder {
  static readonly MAX_PENDING = 1000;
  static readonly MAX_IN_FLIGHT = 2;
  private readonly pending: KubeObject[] = [];
  private inFlight = 0;
  private dropped = 0;
  private idle: Array<() => void> = [];

  constructor(
    private readonly client: KubeClient,
    private readonly controller: string,
    private readonly instance: string,
    private readonly log: Logger,
  ) {}

  /** Queue an Event about `regarding`; resolves at once (the Event is created in the background). */
  async record(regarding: KubeObject, type: EventType, reason: string, action: string, note: string): Promise<void> {
    const ns = regarding.metadata.namespace ?? 'default';
    const ev = {
      apiVersion: 'events.k8s.io/v1',
      kind: 'Event',
      metadata: { name: `${regarding.metadata.name}.${randomBytes(8).toString('hex')}`, namespace: ns },
      eventTime: microTime(Date.now()),
      reportingController: this.controller,
      reportingInstance: this.instance.slice(0, 128),
      action,
      reason,
      type,
      note: note.slice(0, 1024),
      regarding: {
        apiVersion: regarding.apiVersion,
        kind: regarding.kind,
        name: regarding.metadata.name,
        namespace: ns,
        uid: regarding.metadata.uid,
        resourceVersion: regarding.metadata.resourceVersion,
      },
    };
    if (this.pending.length >= EventRecorder.MAX_PENDING) {
      if (this.dropped++ % 100 === 0) this.log.warn('event queue full, dropping events', { reason, object: `${ns}/${regarding.metadata.name}`, dropped: this.dropped });
      return;
    }
    this.pending.push(ev as unknown as KubeObject);
    this.pump();
  }

  /** Resolves once every queued Event was sent (or failed), or after `timeoutMs`. */
  async flush(timeoutMs = 5000): Promise<void> {
    if (this.pending.length === 0 && this.inFlight === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([new Promise<void>((r) => this.idle.push(r)), new Promise<void>((r) => (timer = setTimeout(r, timeoutMs)))]);
    clearTimeout(timer);
  }

  private pump(): void {
    while (this.inFlight < EventRecorder.MAX_IN_FLIGHT && this.pending.length > 0) {
      const ev = this.pending.shift()!;
      this.inFlight++;
      void this.send(ev).finally(() => {
        this.inFlight--;
        this.pump();
        if (this.inFlight === 0 && this.pending.length === 0) for (const r of this.idle.splice(0)) r();
      });
    }
  }

  private async send(ev: KubeObject): Promise<void> {
    try {
      await this.client.create(EVENT, ev);
    } catch (err) {
      const e = ev as unknown as { reason: string; regarding: { namespace: string; name: string } };
      this.log.warn('could not record event', { reason: e.reason, object: `${e.regarding.namespace}/${e.regarding.name}`, err });
    }
  }
}
