/**
 * Reconcile function. Two event sources: the FIFO reconcile queue (records in order under
 * SqsFifoPartialProcessorAsync with skipGroupOnError — a failed record fails only the rest of its
 * message group) and the standard delay queue (due requeue-after messages, forwarded into the FIFO
 * queue). The per-record logic is processRecord (lib/app/process-batch.ts).
 */
import { BatchProcessor, EventType, processPartialResponse, SqsFifoPartialProcessorAsync } from '@aws-lambda-powertools/batch';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { newBatchState, processRecord, type QueueRecord } from '../lib/app/process-batch.js';
import { reconcileDeps } from './shared/cluster-deps.js';
import { resolveDeps, type DepsSource, type ReconcileHandlerDeps } from './shared/deps.js';
import { observability, observedHandler, type Observability } from './shared/observability.js';

export const toQueueRecord = (record: SQSRecord): QueueRecord => ({
  messageId: record.messageId,
  body: record.body,
  receiveCount: Number(record.attributes?.ApproximateReceiveCount ?? '1') || 1,
});

const isFifoSource = (event: SQSEvent): boolean => (event.Records[0]?.eventSourceARN ?? '').endsWith('.fifo');

export function createHandler(deps: DepsSource<ReconcileHandlerDeps>, obs: Observability = observability()) {
  return observedHandler<SQSEvent, SQSBatchResponse>(obs)
    .handler(async (event, context, { signal }) => {
      const { batch: batchDeps } = await resolveDeps(deps);
      // A pass may go on after its burst cap for half the time this invocation has left (IMPL-7).
      const state = newBatchState({ continueUntil: Date.now() + Math.floor(context.getRemainingTimeInMillis() / 2) });
      const recordHandler = async (record: SQSRecord) => processRecord(toQueueRecord(record), batchDeps, state, signal);
      if (isFifoSource(event)) {
        return processPartialResponse(event, recordHandler, new SqsFifoPartialProcessorAsync(),
          { context, skipGroupOnError: true, throwOnFullBatchFailure: false });
      }
      return processPartialResponse(event, recordHandler, new BatchProcessor(EventType.SQS),
        { context, throwOnFullBatchFailure: false, processInParallel: true });
    });
}

export const handler = createHandler(reconcileDeps);
