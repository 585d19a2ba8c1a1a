/**
 * Kubernetes Events (events.k8s.io/v1) for notable transitions of an object. The caller decides what is
 * notable (a condition changing), so a steady cluster emits none. Failures to record are logged, never thrown.
 */
import { randomBytes } from 'node:crypto';
import type { KubeClient, KubeObject, ResourceType } from './kube.js';
import type { Logger } from './logger.js';
import { microTime } from './leader.js';

export const EVENT: ResourceType = { group: 'events.k8s.io', version: 'v1', plural: 'events', kind: 'Event', namespaced: true };

export type EventType = 'Normal' | 'Warning';

export class EventRecorder {
  constructor(
    private readonly client: KubeClient,
    private readonly controller: string,
    private readonly instance: string,
    private readonly log: Logger,
  ) {}

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
    try {
      await this.client.create(EVENT, ev as unknown as KubeObject);
    } catch (err) {
      this.log.warn('could not record event', { reason, object: `${ns}/${regarding.metadata.name}`, err });
    }
  }
}
