/**
 * The SQS WorkQueue adapter and the local runner's SQS mode against a real ElasticMQ: batching,
 * group and dedup ids, replays, delay-queue forwarding, and a poison key ending in the DLQ.
 */
import { DeleteMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeMessage, type DelayedMessage } from '../../lib/app/messages.js';
import { createSqsWorkQueue } from '../../lib/adapters/sqs/sqs-work-queue.js';
import { TransientError } from '../../lib/app/errors.js';
import type { ReconcileReport } from '../../lib/app/ports.js';
import { messageGroupId } from '../../lib/events/identity.js';
import { runLocal } from '../../lib/runner/local-runner.js';
import { createQueues, receiveAll, sqsClient, startSqsServer, type SqsServer } from '../support/sqs-server.js';

let server: SqsServer;
let client: SQSClient;

beforeAll(async () => {
  server = await startSqsServer();
  client = sqsClient(server.endpoint);
});
afterAll(async () => {
  client?.destroy();
  await server?.stop();
});

const report = (key: string): ReconcileReport => ({ key, missing: false, podsCreated: 0, podsDeleted: 0, statusWritten: false, reads: 1, writes: 0, requeueAfterSeconds: null });
const del = (url: string) => async (m: { ReceiptHandle?: string }) => { await client.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: m.ReceiptHandle })); };

async function until(check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('SQS WorkQueue adapter (ElasticMQ)', () => {
  it('sends 25 keys in batches with their group and dedup ids, and drops replays', async () => {
    const { fifoUrl } = await createQueues(client);
    const queue = createSqsWorkQueue({ client, queueUrl: fifoUrl });
    const requests = Array.from({ length: 25 }, (_, i) => ({ key: `ns-${i % 3}/ds-${i}`, dedupId: `event-${i}`, observedAt: 1000 + i }));
    await queue.enqueue(requests);
    await queue.enqueue(requests.slice(0, 10));
    const got = await receiveAll(client, fifoUrl, { count: 26, timeoutMs: 4000, deleteWith: del(fifoUrl) });
    expect(got).toHaveLength(25);
    const decoded = got.map((m) => ({ body: decodeMessage(m.Body!), group: m.Attributes?.MessageGroupId, dedup: m.Attributes?.MessageDeduplicationId }));
    expect(decoded.map((d) => d.group).sort()).toEqual(requests.map((r) => messageGroupId(r.key)).sort());
    for (const d of decoded) expect(d.body).toMatchObject({ type: 'reconcile', dedupId: d.dedup });
  });

  it('accepts a key longer than 128 characters through its hashed group', async () => {
    const { fifoUrl } = await createQueues(client);
    const key = `${'n'.repeat(63)}/${'d'.repeat(253)}`;
    await createSqsWorkQueue({ client, queueUrl: fifoUrl }).enqueue([{ key, dedupId: 'long' }]);
    const [m] = await receiveAll(client, fifoUrl, { count: 1 });
    expect(m!.Attributes?.MessageGroupId).toMatch(/^h:[0-9a-f]{64}$/);
    expect(decodeMessage(m!.Body!)).toMatchObject({ key });
  });

  it('delays through the standard delay queue and forwards into the FIFO queue when due', async () => {
    const { fifoUrl, delayUrl } = await createQueues(client);
    const queue = createSqsWorkQueue({ client, queueUrl: fifoUrl, delayQueueUrl: delayUrl });
    const sentAt = Date.now();
    await queue.enqueueAfter({ key: 'ns/ds', dedupId: 'requeue-1' }, 2);
    const early = await receiveAll(client, delayUrl, { count: 1, timeoutMs: 1000 });
    expect(early).toEqual([]);
    const [delayed] = await receiveAll(client, delayUrl, { count: 1, timeoutMs: 6000, deleteWith: del(delayUrl) });
    expect(Date.now() - sentAt).toBeGreaterThanOrEqual(1500);
    const message = decodeMessage(delayed!.Body!) as DelayedMessage;
    expect(message).toMatchObject({ type: 'delayed', message: { key: 'ns/ds', dedupId: 'requeue-1' } });
    expect(await queue.forwardDelayed(message)).toBe('forwarded');
    const [fifo] = await receiveAll(client, fifoUrl, { count: 1 });
    expect(fifo!.Attributes).toMatchObject({ MessageGroupId: 'ns/ds', MessageDeduplicationId: 'requeue-1' });
  });

  it('re-delays a message whose due time is still far away', async () => {
    const { fifoUrl, delayUrl } = await createQueues(client);
    const queue = createSqsWorkQueue({ client, queueUrl: fifoUrl, delayQueueUrl: delayUrl });
    const far: DelayedMessage = { v: 1, type: 'delayed', dueAt: Date.now() + 3_600_000, message: { v: 1, type: 'reconcile', key: 'ns/ds', dedupId: 'x' } };
    expect(await queue.forwardDelayed(far)).toBe('redelayed');
    expect(await receiveAll(client, fifoUrl, { count: 1, timeoutMs: 1500 })).toEqual([]);
  });
});

describe('local runner on SQS (ElasticMQ)', () => {
  it('reconciles keys, retries a transient failure, requeues through the delay queue, and dead-letters a poison key', async () => {
    const { fifoUrl, delayUrl, dlqUrl } = await createQueues(client, { maxReceiveCount: 2, visibilityTimeout: 30 });
    const calls: string[] = [];
    let flaky = 0;
    let requeued = false;
    const runner = await runLocal({
      reconcile: async (key) => {
        calls.push(key);
        if (key === 'ns/poison') throw new TransientError('always fails');
        if (key === 'ns/flaky' && flaky++ === 0) throw new TransientError('fails once');
        if (key === 'ns/later' && !requeued) { requeued = true; return { ...report(key), requeueAfterSeconds: 1 }; }
        return report(key);
      },
      listDaemonSets: async () => ({ items: [] }),
    }, {
      managed: 'native', webhook: false, workers: 2, resyncEverySeconds: null, maxReceives: 2, retryBaseMs: 100,
      queue: { kind: 'sqs', client, queueUrl: fifoUrl, delayQueueUrl: delayUrl },
    });
    try {
      await runner.queue.enqueue([{ key: 'ns/ok', dedupId: 'a' }, { key: 'ns/flaky', dedupId: 'b' }, { key: 'ns/poison', dedupId: 'c' }, { key: 'ns/later', dedupId: 'd' }]);
      await until(() => calls.filter((k) => k === 'ns/flaky').length === 2 && calls.filter((k) => k === 'ns/later').length === 2 && calls.filter((k) => k === 'ns/poison').length === 2, 20_000);
      const dead = await receiveAll(client, dlqUrl, { count: 1, timeoutMs: 10_000 });
      expect(dead.map((m) => decodeMessage(m.Body!))).toMatchObject([{ key: 'ns/poison' }]);
      expect(calls.filter((k) => k === 'ns/ok')).toEqual(['ns/ok']);
    } finally {
      await runner.stop();
    }
  });
});
