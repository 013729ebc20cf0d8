import type { SQSClient } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { decodeMessage } from '../../../lib/app/messages.js';
import { createSqsWorkQueue } from '../../../lib/adapters/sqs/sqs-work-queue.js';
import { TerminalError, TransientError } from '../../../lib/app/errors.js';

type Sent = { command: string; input: Record<string, unknown> };

/** A stand-in SQS client: records commands and answers from a script. */
function fakeClient(answer: (input: Record<string, unknown>, n: number) => unknown = () => ({ Successful: [], Failed: [] })) {
  const sent: Sent[] = [];
  const client = {
    async send(command: { constructor: { name: string }; input: Record<string, unknown> }) {
      sent.push({ command: command.constructor.name, input: structuredClone(command.input) });
      const out = answer(command.input, sent.length);
      if (out instanceof Error) throw out;
      return out;
    },
  };
  return { client: client as unknown as SQSClient, sent };
}

const URL_FIFO = 'https://sqs.eu-west-1.amazonaws.com/123456789012/daemonless.fifo';
const URL_DELAY = 'https://sqs.eu-west-1.amazonaws.com/123456789012/daemonless-delay';
const requests = (n: number) => Array.from({ length: n }, (_, i) => ({ key: `ns/ds-${i}`, dedupId: `d${i}` }));
type Entry = { Id: string; MessageGroupId: string; MessageDeduplicationId: string; MessageBody: string };

describe('createSqsWorkQueue()', () => {
  it('sends batches of at most 10 with group ids and dedup ids', async () => {
    const { client, sent } = fakeClient();
    await createSqsWorkQueue({ client, queueUrl: URL_FIFO }).enqueue(requests(23));
    expect(sent.map((s) => s.command)).toEqual(['SendMessageBatchCommand', 'SendMessageBatchCommand', 'SendMessageBatchCommand']);
    expect(sent.map((s) => (s.input.Entries as Entry[]).length)).toEqual([10, 10, 3]);
    const e = (sent[0]!.input.Entries as Entry[])[0]!;
    expect(e).toMatchObject({ Id: 'e0', MessageGroupId: 'ns/ds-0', MessageDeduplicationId: 'd0' });
    expect(decodeMessage(e.MessageBody)).toEqual({ v: 1, type: 'reconcile', key: 'ns/ds-0', dedupId: 'd0' });
  });

  it('hashes keys longer than 128 characters into the group id', async () => {
    const { client, sent } = fakeClient();
    const key = `${'n'.repeat(63)}/${'d'.repeat(200)}`;
    await createSqsWorkQueue({ client, queueUrl: URL_FIFO }).enqueue([{ key, dedupId: 'x' }]);
    expect((sent[0]!.input.Entries as Entry[])[0]!.MessageGroupId).toMatch(/^h:[0-9a-f]{64}$/);
  });

  it('puts fan-outs in their own message groups', async () => {
    const { client, sent } = fakeClient();
    await createSqsWorkQueue({ client, queueUrl: URL_FIFO }).enqueueFanouts([
      { scope: 'all', cause: 'node n1 create', dedupId: 'f1' },
      { scope: 'selector', namespace: 'logging', labels: { app: 'x' }, cause: 'orphan', dedupId: 'f2' },
    ]);
    expect((sent[0]!.input.Entries as Entry[]).map((e) => e.MessageGroupId)).toEqual(['fanout:all', 'fanout:selector:logging']);
  });

  it('gives each node its own fan-out group (hashed when the node name makes it too long)', async () => {
    const { client, sent } = fakeClient();
    const change = (node: string) => ({ scope: 'node' as const, node, before: null, after: { labels: {}, taints: [] }, cause: `node ${node} create`, dedupId: node });
    const long = `n${'.a'.repeat(120)}`;
    await createSqsWorkQueue({ client, queueUrl: URL_FIFO }).enqueueFanouts([change('n1'), change('n2'), change('n1'), change(long)]);
    const groups = (sent[0]!.input.Entries as Entry[]).map((e) => e.MessageGroupId);
    expect(groups.slice(0, 3)).toEqual(['fanout:node:n1', 'fanout:node:n2', 'fanout:node:n1']);
    expect(groups[3]).toMatch(/^h:[0-9a-f]{64}$/);
  });

  it('re-sends only the entries in Failed[] (HTTP 200) with backoff, then succeeds', async () => {
    const sleeps: number[] = [];
    const { client, sent } = fakeClient((input, n) => n === 1
      ? { Successful: [{ Id: 'e0' }], Failed: [{ Id: 'e1', Code: 'InternalError', SenderFault: false }, { Id: 'e2', Code: 'ServiceUnavailable', SenderFault: false }] }
      : { Successful: (input.Entries as Entry[]).map((e) => ({ Id: e.Id })), Failed: [] });
    await createSqsWorkQueue({ client, queueUrl: URL_FIFO, sleep: async (ms) => { sleeps.push(ms); }, backoffMs: 10 }).enqueue(requests(3));
    expect((sent[1]!.input.Entries as Entry[]).map((e) => e.MessageDeduplicationId)).toEqual(['d1', 'd2']);
    expect(sleeps).toEqual([10]);
  });

  it('throws TransientError after a bounded number of attempts', async () => {
    const sleeps: number[] = [];
    const { client, sent } = fakeClient((input) => ({ Failed: (input.Entries as Entry[]).map((e) => ({ Id: e.Id, Code: 'InternalError', SenderFault: false })) }));
    const queue = createSqsWorkQueue({ client, queueUrl: URL_FIFO, maxAttempts: 3, backoffMs: 5, sleep: async (ms) => { sleeps.push(ms); } });
    await expect(queue.enqueue(requests(2))).rejects.toBeInstanceOf(TransientError);
    expect(sent).toHaveLength(3);
    expect(sleeps).toEqual([5, 10]);
  });

  it('throws TerminalError for sender faults (retrying cannot help)', async () => {
    const { client } = fakeClient(() => ({ Failed: [{ Id: 'e0', Code: 'InvalidParameterValue', SenderFault: true }] }));
    await expect(createSqsWorkQueue({ client, queueUrl: URL_FIFO }).enqueue(requests(1))).rejects.toBeInstanceOf(TerminalError);
  });

  it('retries a thrown server error and classifies a client fault', async () => {
    const server = Object.assign(new Error('boom'), { name: 'InternalError', $fault: 'server' });
    const { client: flaky, sent } = fakeClient((_i, n) => (n === 1 ? server : { Failed: [] }));
    await createSqsWorkQueue({ client: flaky, queueUrl: URL_FIFO, sleep: async () => undefined }).enqueue(requests(1));
    expect(sent).toHaveLength(2);
    const denied = Object.assign(new Error('no'), { name: 'QueueDoesNotExist', $fault: 'client' });
    const { client: bad } = fakeClient(() => denied);
    await expect(createSqsWorkQueue({ client: bad, queueUrl: URL_FIFO }).enqueue(requests(1))).rejects.toBeInstanceOf(TerminalError);
  });

  it('splits batches that would exceed 1 MiB', async () => {
    const { client, sent } = fakeClient();
    const queue = createSqsWorkQueue({ client, queueUrl: URL_FIFO });
    const big = Array.from({ length: 3 }, (_, i) => ({ scope: 'selector' as const, namespace: 'n', labels: Object.fromEntries(Array.from({ length: 7000 }, (_, j) => [`k${j}`, 'v'.repeat(40)])), cause: 'c', dedupId: `b${i}` }));
    await queue.enqueueFanouts(big);
    expect(sent.length).toBeGreaterThan(1);
    for (const s of sent) expect((s.input.Entries as Entry[]).reduce((n, e) => n + Buffer.byteLength(e.MessageBody), 0)).toBeLessThanOrEqual(1024 * 1024);
  });

  it('enqueueAfter sends to the standard delay queue with DelaySeconds capped at 900', async () => {
    const { client, sent } = fakeClient(() => ({}));
    const queue = createSqsWorkQueue({ client, queueUrl: URL_FIFO, delayQueueUrl: URL_DELAY, now: () => 1_000_000 });
    await queue.enqueueAfter({ key: 'ns/a', dedupId: 'r1' }, 30);
    await queue.enqueueAfter({ key: 'ns/a', dedupId: 'r2' }, 3600);
    expect(sent.map((s) => [s.command, s.input.QueueUrl, s.input.DelaySeconds, s.input.MessageGroupId])).toEqual([
      ['SendMessageCommand', URL_DELAY, 30, undefined], ['SendMessageCommand', URL_DELAY, 900, undefined],
    ]);
    expect(decodeMessage(sent[1]!.input.MessageBody as string)).toEqual({ v: 1, type: 'delayed', dueAt: 1_000_000 + 3_600_000, message: { v: 1, type: 'reconcile', key: 'ns/a', dedupId: 'r2' } });
  });

  it('forwards due delayed messages into the FIFO queue and re-delays the rest (chained delays)', async () => {
    let now = 0;
    const { client, sent } = fakeClient(() => ({ Failed: [] }));
    const queue = createSqsWorkQueue({ client, queueUrl: URL_FIFO, delayQueueUrl: URL_DELAY, now: () => now });
    const msg = { v: 1 as const, type: 'delayed' as const, dueAt: 2_000_000, message: { v: 1 as const, type: 'reconcile' as const, key: 'ns/a', dedupId: 'r' } };
    expect(await queue.forwardDelayed(msg)).toBe('redelayed');
    expect(sent[0]).toMatchObject({ command: 'SendMessageCommand', input: { QueueUrl: URL_DELAY, DelaySeconds: 900 } });
    now = 1_500_000;
    expect(await queue.forwardDelayed(msg)).toBe('redelayed');
    expect(sent[1]!.input.DelaySeconds).toBe(500);
    now = 1_999_500;
    expect(await queue.forwardDelayed(msg)).toBe('forwarded');
    expect(sent[2]).toMatchObject({ command: 'SendMessageBatchCommand', input: { QueueUrl: URL_FIFO } });
    expect((sent[2]!.input.Entries as Entry[])[0]).toMatchObject({ MessageGroupId: 'ns/a', MessageDeduplicationId: 'r' });
  });

  it('refuses enqueueAfter without a delay queue', async () => {
    const { client } = fakeClient();
    await expect(createSqsWorkQueue({ client, queueUrl: URL_FIFO }).enqueueAfter({ key: 'ns/a', dedupId: 'x' }, 5)).rejects.toBeInstanceOf(TerminalError);
  });
});
