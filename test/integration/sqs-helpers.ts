import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, type Message, type SQSClient } from '@aws-sdk/client-sqs';

let seq = 0;

/** A fresh FIFO queue (and its FIFO DLQ) plus a standard delay queue, with unique names. */
export async function createQueues(client: SQSClient, o: { maxReceiveCount?: number; visibilityTimeout?: number } = {}) {
  seq += 1;
  const base = `t${process.pid}-${seq}`;
  const dlq = await client.send(new CreateQueueCommand({ QueueName: `${base}-dlq.fifo`, Attributes: { FifoQueue: 'true' } }));
  const dlqArn = (await client.send(new GetQueueAttributesCommand({ QueueUrl: dlq.QueueUrl, AttributeNames: ['QueueArn'] }))).Attributes?.QueueArn;
  const fifo = await client.send(new CreateQueueCommand({
    QueueName: `${base}.fifo`,
    Attributes: {
      FifoQueue: 'true',
      VisibilityTimeout: String(o.visibilityTimeout ?? 30),
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: o.maxReceiveCount ?? 3 }),
    },
  }));
  const delay = await client.send(new CreateQueueCommand({ QueueName: `${base}-delay`, Attributes: { VisibilityTimeout: '5' } }));
  return { fifoUrl: fifo.QueueUrl!, dlqUrl: dlq.QueueUrl!, delayUrl: delay.QueueUrl! };
}

/** Receives until `count` messages arrived or the time is up (messages are not deleted). */
export async function receiveAll(client: SQSClient, queueUrl: string, o: { count: number; timeoutMs?: number; visibilityTimeout?: number; deleteWith?: (m: Message) => Promise<void> }): Promise<Message[]> {
  const out: Message[] = [];
  const deadline = Date.now() + (o.timeoutMs ?? 10_000);
  while (out.length < o.count && Date.now() < deadline) {
    const res = await client.send(new ReceiveMessageCommand({
      QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, VisibilityTimeout: o.visibilityTimeout ?? 30,
      MessageSystemAttributeNames: ['MessageGroupId', 'MessageDeduplicationId', 'ApproximateReceiveCount'],
    }));
    for (const m of res.Messages ?? []) {
      out.push(m);
      if (o.deleteWith !== undefined) await o.deleteWith(m);
    }
  }
  return out;
}
