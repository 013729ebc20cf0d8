/** The EventQueue port over the in-process FIFO queue (same bodies, groups and dedup ids as SQS). */
import type { ReconcileRequest } from '../../app/ports.js';
import type { EventQueue } from '../../app/queue.js';
import { fanoutGroupId, messageGroupId } from '../../events/identity.js';
import type { FanoutRequest } from '../../events/types.js';
import { encodeMessage, toFanoutMessage, toReconcileMessage } from '../sqs/message-codec.js';
import type { MemoryFifoQueue } from './fifo-queue.js';

export function createMemoryWorkQueue(fifo: MemoryFifoQueue): EventQueue {
  return {
    async enqueue(requests: readonly ReconcileRequest[]) {
      fifo.send(requests.map((r) => ({ groupId: messageGroupId(r.key), dedupId: r.dedupId, body: encodeMessage(toReconcileMessage(r)) })));
    },
    async enqueueFanouts(requests: readonly FanoutRequest[]) {
      fifo.send(requests.map((f) => ({ groupId: fanoutGroupId(f), dedupId: f.dedupId, body: encodeMessage(toFanoutMessage(f)) })));
    },
    async enqueueAfter(request: ReconcileRequest, delaySeconds: number) {
      const delayMs = Math.max(0, Math.round(delaySeconds * 1000));
      fifo.send([{ groupId: messageGroupId(request.key), dedupId: request.dedupId, body: encodeMessage(toReconcileMessage(request)), delayMs }]);
    },
  };
}
