/**
 * The EventQueue port over Amazon SQS: a FIFO reconcile queue plus a standard delay queue.
 *
 * - `SendMessageBatch` carries at most 10 entries and 1 MiB; entries that come back in `Failed[]`
 *   (with HTTP 200) are re-sent a bounded number of times with exponential backoff, then the call
 *   throws TransientError. Sender faults (the request itself is wrong) throw TerminalError.
 * - FIFO queues reject per-message `DelaySeconds`, so `enqueueAfter` sends a `delayed` message to the
 *   standard delay queue (`DelaySeconds` ≤ 900); `forwardDelayed` moves it into the FIFO queue when
 *   due, or delays it again when the wait was longer than 900 s.
 */
import {
  ChangeMessageVisibilityCommand, DeleteMessageCommand, ReceiveMessageCommand, SendMessageBatchCommand, SendMessageCommand,
  type SendMessageBatchRequestEntry, type SQSClient,
} from '@aws-sdk/client-sqs';
import { TerminalError, TransientError } from '../../app/errors.js';
import type { Delivery, EventQueue, QueueConsumer } from '../../app/queue.js';
import { fanoutGroupId, requestGroupId } from '../../events/identity.js';
import type { FanoutRequest, ReconcileRequest } from '../../events/types.js';
import { encodeMessage, toFanoutMessage, toReconcileMessage, toReconcileRequest, type DelayedMessage } from '../../app/messages.js';

export const SQS_MAX_BATCH = 10;
export const SQS_MAX_BATCH_BYTES = 1024 * 1024;
export const SQS_MAX_DELAY_SECONDS = 900;

export interface SqsWorkQueueOptions {
  readonly client: SQSClient;
  /** The FIFO reconcile queue. */
  readonly queueUrl: string;
  /** The standard delay queue (required for enqueueAfter). */
  readonly delayQueueUrl?: string | null;
  /** Send attempts for entries that keep failing (default 4). */
  readonly maxAttempts?: number;
  /** First backoff between attempts (default 50 ms; doubles each time). */
  readonly backoffMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly now?: () => number;
}

export interface SqsWorkQueue extends EventQueue {
  /** Forwards a due delay-queue message into the FIFO queue, or re-delays it when not yet due. */
  forwardDelayed(message: DelayedMessage): Promise<'forwarded' | 'redelayed'>;
}

const defaultSleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function createSqsWorkQueue(options: SqsWorkQueueOptions): SqsWorkQueue {
  const { client, queueUrl } = options;
  const maxAttempts = options.maxAttempts ?? 4;
  const backoffMs = options.backoffMs ?? 50;
  const sleep = options.sleep ?? defaultSleep;
  const now = options.now ?? Date.now;

  async function sendChunk(url: string, entries: SendMessageBatchRequestEntry[]): Promise<void> {
    let pending = entries;
    let lastError = '';
    for (let attempt = 1; attempt <= maxAttempts; attempt += 1) {
      let result;
      try {
        result = await client.send(new SendMessageBatchCommand({ QueueUrl: url, Entries: pending }));
      } catch (cause) {
        if (isSenderFault(cause)) throw new TerminalError(`SendMessageBatch rejected: ${describeError(cause)}`, { cause });
        lastError = describeError(cause);
        if (attempt < maxAttempts) await sleep(backoffMs * 2 ** (attempt - 1));
        continue;
      }
      const failed = result.Failed ?? [];
      if (failed.length === 0) return;
      const fatal = failed.find((f) => f.SenderFault === true);
      if (fatal !== undefined) throw new TerminalError(`SendMessageBatch entry ${fatal.Id ?? '?'} rejected: ${fatal.Code ?? ''} ${fatal.Message ?? ''}`.trim());
      const failedIds = new Set(failed.map((f) => f.Id));
      pending = pending.filter((e) => failedIds.has(e.Id));
      lastError = failed.map((f) => `${f.Id ?? '?'}: ${f.Code ?? ''}`).join(', ');
      if (attempt < maxAttempts) await sleep(backoffMs * 2 ** (attempt - 1));
    }
    throw new TransientError(`SendMessageBatch: ${pending.length} message(s) not sent after ${maxAttempts} attempts (${lastError})`);
  }

  async function sendAll(url: string, entries: readonly Omit<SendMessageBatchRequestEntry, 'Id'>[]): Promise<void> {
    let chunk: SendMessageBatchRequestEntry[] = [];
    let bytes = 0;
    for (const entry of entries) {
      const size = Buffer.byteLength(entry.MessageBody ?? '', 'utf8');
      if (chunk.length === SQS_MAX_BATCH || (chunk.length > 0 && bytes + size > SQS_MAX_BATCH_BYTES)) {
        await sendChunk(url, chunk);
        chunk = [];
        bytes = 0;
      }
      chunk.push({ ...entry, Id: `e${chunk.length}` });
      bytes += size;
    }
    if (chunk.length > 0) await sendChunk(url, chunk);
  }

  async function sendDelayed(request: ReconcileRequest, dueAt: number): Promise<void> {
    if (options.delayQueueUrl === undefined || options.delayQueueUrl === null) {
      throw new TerminalError('enqueueAfter needs the delay queue (DAEMONLESS_DELAY_QUEUE_URL)');
    }
    const body: DelayedMessage = { v: 1, type: 'delayed', dueAt, message: toReconcileMessage(request) };
    const delaySeconds = Math.min(SQS_MAX_DELAY_SECONDS, Math.max(0, Math.ceil((dueAt - now()) / 1000)));
    try {
      await client.send(new SendMessageCommand({ QueueUrl: options.delayQueueUrl, MessageBody: encodeMessage(body), DelaySeconds: delaySeconds }));
    } catch (cause) {
      if (isSenderFault(cause)) throw new TerminalError(`SendMessage to the delay queue rejected: ${describeError(cause)}`, { cause });
      throw new TransientError(`SendMessage to the delay queue failed: ${describeError(cause)}`, { cause });
    }
  }

  const queue: SqsWorkQueue = {
    async enqueue(requests) {
      await sendAll(queueUrl, requests.map((r) => ({
        MessageBody: encodeMessage(toReconcileMessage(r)), MessageGroupId: requestGroupId(r), MessageDeduplicationId: r.dedupId,
      })));
    },
    async enqueueFanouts(requests: readonly FanoutRequest[]) {
      await sendAll(queueUrl, requests.map((f) => ({
        MessageBody: encodeMessage(toFanoutMessage(f)), MessageGroupId: fanoutGroupId(f), MessageDeduplicationId: f.dedupId,
      })));
    },
    async enqueueAfter(request, delaySeconds) {
      await sendDelayed(request, now() + Math.max(0, delaySeconds) * 1000);
    },
    async forwardDelayed(message) {
      // Up to a second early is close enough: DelaySeconds has whole-second granularity.
      if (message.dueAt - now() > 1000) {
        await sendDelayed(toReconcileRequest(message.message), message.dueAt);
        return 'redelayed';
      }
      await queue.enqueue([toReconcileRequest(message.message)]);
      return 'forwarded';
    },
  };
  return queue;
}

/** The pulling side over SQS, for the local runner with a real SQS endpoint. */
export function createSqsConsumer(options: { client: SQSClient; queueUrl: string; visibilityTimeoutSeconds?: number }): QueueConsumer {
  const { client, queueUrl } = options;
  return {
    async receive(max, waitMs, signal) {
      const out = await client.send(new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: Math.min(10, Math.max(1, max)),
        WaitTimeSeconds: Math.min(20, Math.max(0, Math.floor(waitMs / 1000))),
        MessageSystemAttributeNames: ['ApproximateReceiveCount', 'MessageGroupId'],
        ...(options.visibilityTimeoutSeconds === undefined ? {} : { VisibilityTimeout: options.visibilityTimeoutSeconds }),
      }), signal === undefined ? {} : { abortSignal: signal });
      return (out.Messages ?? []).map((m): Delivery => ({
        messageId: m.MessageId ?? '',
        receipt: m.ReceiptHandle ?? '',
        body: m.Body ?? '',
        groupId: m.Attributes?.MessageGroupId,
        receiveCount: Number(m.Attributes?.ApproximateReceiveCount ?? '1'),
      }));
    },
    async ack(d) {
      await client.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: d.receipt }));
    },
    async retryLater(d, delayMs) {
      await client.send(new ChangeMessageVisibilityCommand({ QueueUrl: queueUrl, ReceiptHandle: d.receipt, VisibilityTimeout: Math.min(43_200, Math.ceil(delayMs / 1000)) }));
    },
  };
}

function isSenderFault(e: unknown): boolean {
  const fault = (e as { $fault?: unknown } | null)?.$fault;
  const name = (e as { name?: unknown } | null)?.name;
  return fault === 'client' && name !== 'ThrottlingException' && name !== 'RequestThrottled' && name !== 'KmsThrottled';
}

function describeError(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}
