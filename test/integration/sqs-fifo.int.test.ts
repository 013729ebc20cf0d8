/**
 * SQS FIFO behaviour the pipeline relies on, against a real ElasticMQ: per-group order, one
 * in-flight message blocking its group, deduplication of replays, and the DLQ after maxReceiveCount.
 */
import { ChangeMessageVisibilityCommand, DeleteMessageCommand, ReceiveMessageCommand, SendMessageBatchCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

describe('SQS FIFO (ElasticMQ)', () => {
  it('round-trips two message groups, keeping order within each group', async () => {
    const { fifoUrl } = await createQueues(client);
    const entries = ['a1', 'b1', 'a2', 'b2', 'a3', 'b3', 'a4'].map((body, i) => ({ Id: `e${i}`, MessageBody: body, MessageGroupId: `ns/${body[0]}`, MessageDeduplicationId: `d-${body}` }));
    const sent = await client.send(new SendMessageBatchCommand({ QueueUrl: fifoUrl, Entries: entries }));
    expect(sent.Failed ?? []).toEqual([]);
    const got = await receiveAll(client, fifoUrl, { count: 7, deleteWith: (m) => client.send(new DeleteMessageCommand({ QueueUrl: fifoUrl, ReceiptHandle: m.ReceiptHandle })).then(() => undefined) });
    const byGroup = (g: string) => got.filter((m) => m.Attributes?.MessageGroupId === g).map((m) => m.Body);
    expect(byGroup('ns/a')).toEqual(['a1', 'a2', 'a3', 'a4']);
    expect(byGroup('ns/b')).toEqual(['b1', 'b2', 'b3']);
  });

  it('blocks a group while one of its messages is in flight', async () => {
    const { fifoUrl } = await createQueues(client);
    for (const body of ['x1', 'x2']) await client.send(new SendMessageCommand({ QueueUrl: fifoUrl, MessageBody: body, MessageGroupId: 'g', MessageDeduplicationId: body }));
    const first = await client.send(new ReceiveMessageCommand({ QueueUrl: fifoUrl, MaxNumberOfMessages: 1, VisibilityTimeout: 30 }));
    expect(first.Messages?.map((m) => m.Body)).toEqual(['x1']);
    const blocked = await client.send(new ReceiveMessageCommand({ QueueUrl: fifoUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
    expect(blocked.Messages ?? []).toEqual([]);
    await client.send(new DeleteMessageCommand({ QueueUrl: fifoUrl, ReceiptHandle: first.Messages![0]!.ReceiptHandle }));
    const next = await client.send(new ReceiveMessageCommand({ QueueUrl: fifoUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
    expect(next.Messages?.map((m) => m.Body)).toEqual(['x2']);
  });

  it('accepts but does not deliver duplicates and replays inside the dedup window, even after delete', async () => {
    const { fifoUrl } = await createQueues(client);
    const send = (body: string, dedup: string) => client.send(new SendMessageCommand({ QueueUrl: fifoUrl, MessageBody: body, MessageGroupId: 'ns/ds', MessageDeduplicationId: dedup }));
    await send('first', 'event-1');
    await send('duplicate', 'event-1');
    const got = await receiveAll(client, fifoUrl, { count: 1 });
    await client.send(new DeleteMessageCommand({ QueueUrl: fifoUrl, ReceiptHandle: got[0]!.ReceiptHandle }));
    await send('replay', 'event-1');
    await send('new', 'event-2');
    const later = await receiveAll(client, fifoUrl, { count: 2, timeoutMs: 3000 });
    expect([...got, ...later].map((m) => m.Body)).toEqual(['first', 'new']);
  });

  it('moves a poison message to the DLQ after maxReceiveCount and unblocks its group', async () => {
    const { fifoUrl, dlqUrl } = await createQueues(client, { maxReceiveCount: 2 });
    await client.send(new SendMessageCommand({ QueueUrl: fifoUrl, MessageBody: 'poison', MessageGroupId: 'g', MessageDeduplicationId: 'p' }));
    await client.send(new SendMessageCommand({ QueueUrl: fifoUrl, MessageBody: 'healthy', MessageGroupId: 'g', MessageDeduplicationId: 'h' }));
    for (let i = 1; i <= 2; i += 1) {
      const res = await client.send(new ReceiveMessageCommand({ QueueUrl: fifoUrl, MaxNumberOfMessages: 1, WaitTimeSeconds: 1, MessageSystemAttributeNames: ['ApproximateReceiveCount'] }));
      expect(res.Messages?.map((m) => [m.Body, m.Attributes?.ApproximateReceiveCount])).toEqual([['poison', String(i)]]);
      await client.send(new ChangeMessageVisibilityCommand({ QueueUrl: fifoUrl, ReceiptHandle: res.Messages![0]!.ReceiptHandle, VisibilityTimeout: 0 }));
    }
    const next = await receiveAll(client, fifoUrl, { count: 1 });
    expect(next.map((m) => m.Body)).toEqual(['healthy']);
    const dead = await receiveAll(client, dlqUrl, { count: 1 });
    expect(dead.map((m) => m.Body)).toEqual(['poison']);
  });
});
