/**
 * An SQS event source mapping, run locally with a template's settings: `maxConcurrency` pollers
 * receive up to `batchSize` messages (long polling; with a batching window they keep receiving until
 * the batch is full or the window has passed), invoke the function with one SQSEvent, and delete what
 * succeeded. With ReportBatchItemFailures the records named in `batchItemFailures` stay (they come
 * back after the queue's visibility timeout and go to the DLQ after maxReceiveCount); a malformed
 * response or a function error fails the whole batch, as Lambda does.
 */
import { DeleteMessageBatchCommand, ReceiveMessageCommand, type Message, type SQSClient } from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import type { LocalFunction } from './runtime.js';
import { toSqsRecord } from '../sqs-record.js';

export interface SqsEventSourceOptions {
  readonly client: SQSClient;
  readonly queueUrl: string;
  /** The queue ARN as the function sees it in `eventSourceARN`. */
  readonly queueArn: string;
  readonly fn: LocalFunction;
  readonly batchSize: number;
  readonly batchingWindowSeconds: number;
  readonly maxConcurrency: number;
  readonly reportBatchItemFailures: boolean;
}

export interface SqsEventSource {
  readonly stats: { batches: number; records: number; failedRecords: number; functionErrors: number };
  stop(): Promise<void>;
}

/** The message ids to keep (not delete) after an invocation, or null when the whole batch failed. */
export function failedIds(payload: unknown, batch: readonly Message[]): Set<string> | null {
  if (payload === null || payload === undefined) return new Set();
  if (typeof payload !== 'object') return null;
  const failures = (payload as { batchItemFailures?: unknown }).batchItemFailures;
  if (failures === undefined || failures === null) return new Set();
  if (!Array.isArray(failures)) return null;
  const ids = new Set(batch.map((m) => m.MessageId));
  const out = new Set<string>();
  for (const f of failures) {
    const id = (f as { itemIdentifier?: unknown } | null)?.itemIdentifier;
    if (typeof id !== 'string' || id === '' || !ids.has(id)) return null;
    out.add(id);
  }
  return out;
}

export function startSqsEventSource(o: SqsEventSourceOptions): SqsEventSource {
  const stats = { batches: 0, records: 0, failedRecords: 0, functionErrors: 0 };
  const region = o.fn.spec.region;
  let stopping = false;
  const abort = new AbortController();

  const receive = async (max: number, waitSeconds: number): Promise<Message[]> => {
    try {
      const out = await o.client.send(new ReceiveMessageCommand({
        QueueUrl: o.queueUrl, MaxNumberOfMessages: Math.min(10, max), WaitTimeSeconds: waitSeconds,
        MessageSystemAttributeNames: ['All'], MessageAttributeNames: ['All'],
      }), { abortSignal: abort.signal });
      return out.Messages ?? [];
    } catch (e) {
      if (stopping) return [];
      throw e;
    }
  };

  const poller = async (): Promise<void> => {
    while (!stopping) {
      const batch = await receive(o.batchSize, 1);
      if (batch.length === 0) continue;
      const windowEnds = Date.now() + o.batchingWindowSeconds * 1000;
      while (!stopping && batch.length < o.batchSize && Date.now() < windowEnds) {
        batch.push(...(await receive(o.batchSize - batch.length, Math.max(0, Math.min(20, Math.ceil((windowEnds - Date.now()) / 1000))))));
      }
      const event: SQSEvent = { Records: batch.map((m) => toSqsRecord(m, o.queueArn, region)) };
      stats.batches += 1;
      stats.records += batch.length;
      const result = await o.fn.invoke(event);
      let keep: Set<string> | null;
      if (!result.ok) {
        stats.functionErrors += 1;
        keep = null;
      } else {
        keep = o.reportBatchItemFailures ? failedIds(result.payload, batch) : new Set();
      }
      const done = keep === null ? [] : batch.filter((m) => !keep.has(m.MessageId ?? ''));
      stats.failedRecords += batch.length - done.length;
      for (let i = 0; i < done.length; i += 10) {
        const chunk = done.slice(i, i + 10);
        await o.client.send(new DeleteMessageBatchCommand({ QueueUrl: o.queueUrl, Entries: chunk.map((m, j) => ({ Id: `m${j}`, ReceiptHandle: m.ReceiptHandle })) }));
      }
    }
  };

  const loops = Array.from({ length: o.maxConcurrency }, () => poller().catch((e: unknown) => {
    if (!stopping) throw e;
  }));
  return {
    stats,
    stop: async () => {
      stopping = true;
      abort.abort();
      await Promise.allSettled(loops);
    },
  };
}
