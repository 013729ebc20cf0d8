import type { ReconcileReport } from '../../../lib/app/ports.js';
import type { ReconcileRequest } from '../../../lib/events/types.js';
import type { EventQueue } from '../../../lib/app/queue.js';
import type { FanoutRequest } from '../../../lib/events/types.js';

/** An EventQueue that records everything and can be told to fail. */
export class RecordingQueue implements EventQueue {
  readonly requests: ReconcileRequest[] = [];
  readonly fanouts: FanoutRequest[] = [];
  readonly delayed: { request: ReconcileRequest; delaySeconds: number }[] = [];
  failWith: Error | null = null;
  /** Never settle (a hung queue). */
  hang = false;

  async enqueue(requests: readonly ReconcileRequest[]): Promise<void> {
    await this.#gate();
    this.requests.push(...requests);
  }
  async enqueueFanouts(requests: readonly FanoutRequest[]): Promise<void> {
    await this.#gate();
    this.fanouts.push(...requests);
  }
  async enqueueAfter(request: ReconcileRequest, delaySeconds: number): Promise<void> {
    await this.#gate();
    this.delayed.push({ request, delaySeconds });
  }
  get total(): number {
    return this.requests.length + this.fanouts.length + this.delayed.length;
  }
  async #gate(): Promise<void> {
    if (this.hang) await new Promise(() => undefined);
    if (this.failWith !== null) throw this.failWith;
  }
}

export const report = (key: string, fields: Partial<ReconcileReport> = {}): ReconcileReport => ({
  key, missing: false, podsCreated: 0, podsDeleted: 0, statusWritten: false, reads: 4, writes: 0, requeueAfterSeconds: null, ...fields,
});
