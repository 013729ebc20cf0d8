/**
 * The EventQueue port over the in-process FIFO queue (same bodies, groups and dedup ids as SQS).
 * Messages coalesce: a reconcile of a key, or a fan-out of a scope, that is already waiting in its
 * group absorbs a new one, so a burst of pod events costs one reconcile, not one per event.
 */
import type { EventQueue } from '../../app/queue.js';
import { fanoutGroupId, requestGroupId } from '../../events/identity.js';
import type { FanoutRequest, ReconcileRequest } from '../../events/types.js';
import { encodeMessage, toFanoutMessage, toReconcileMessage } from '../../app/messages.js';
import type { MemoryFifoQueue } from './fifo-queue.js';

/**
 * A waiting reconcile of the same key covers a new one (a second look only covers a second look,
 * a node-scoped pass only the same node's).
 */
const reconcileCoalesceKey = (r: ReconcileRequest): string => `reconcile ${r.key}${r.node === undefined ? '' : ` node ${r.node}`}${r.recheck ? ' recheck' : ''}`;

export function createMemoryWorkQueue(fifo: MemoryFifoQueue): EventQueue {
  return {
    async enqueue(requests: readonly ReconcileRequest[]) {
      fifo.send(requests.map((r) => ({ groupId: requestGroupId(r), dedupId: r.dedupId, body: encodeMessage(toReconcileMessage(r)), coalesceKey: reconcileCoalesceKey(r) })));
    },
    async enqueueFanouts(requests: readonly FanoutRequest[]) {
      fifo.send(requests.map((f) => {
        const { cause: _cause, dedupId: _dedupId, observedAt: _observedAt, ...scope } = toFanoutMessage(f);
        return { groupId: fanoutGroupId(f), dedupId: f.dedupId, body: encodeMessage(toFanoutMessage(f)), coalesceKey: JSON.stringify(scope) };
      }));
    },
    async enqueueAfter(request: ReconcileRequest, delaySeconds: number) {
      const delayMs = Math.max(0, Math.round(delaySeconds * 1000));
      fifo.send([{ groupId: requestGroupId(request), dedupId: request.dedupId, body: encodeMessage(toReconcileMessage(request)), delayMs, coalesceKey: reconcileCoalesceKey(request) }]);
    },
  };
}
