import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import type { Observability } from '../../../lambdas/shared/observability.js';
import { encodeMessage, type QueueMessage } from '../../../lib/app/messages.js';
import { messageGroupId } from '../../../lib/events/identity.js';

export const FIFO_ARN = 'arn:aws:sqs:eu-west-1:123456789012:daemonless-reconcile.fifo';
export const DELAY_ARN = 'arn:aws:sqs:eu-west-1:123456789012:daemonless-delay';

export function quietObservability(): Observability {
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  return { logger: new Logger({ logLevel: 'SILENT' }), metrics: new Metrics({ namespace: 'test' }), tracer: new Tracer({ enabled: false }) };
}

export const context = {
  callbackWaitsForEmptyEventLoop: true,
  functionName: 'daemonless-reconcile',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:daemonless-reconcile',
  memoryLimitInMB: '512',
  awsRequestId: 'c6af9ac6-7b61-11e6-9a41-93e812345678',
  logGroupName: '/aws/lambda/daemonless-reconcile',
  logStreamName: '2026/11/28/[$LATEST]abcdef',
  getRemainingTimeInMillis: () => 60_000,
  done: () => undefined,
  fail: () => undefined,
  succeed: () => undefined,
} as Context;

export function sqsRecord(id: string, body: QueueMessage | string, o: { groupId?: string; receiveCount?: number; arn?: string } = {}): SQSRecord {
  const text = typeof body === 'string' ? body : encodeMessage(body);
  const groupId = o.groupId ?? (typeof body !== 'string' && body.type === 'reconcile' ? messageGroupId(body.key) : 'g');
  return {
    messageId: id,
    receiptHandle: `rh-${id}`,
    body: text,
    attributes: {
      ApproximateReceiveCount: String(o.receiveCount ?? 1),
      SentTimestamp: '1764331200000',
      SenderId: 'AIDAEXAMPLE',
      ApproximateFirstReceiveTimestamp: '1764331200001',
      ...(o.arn === DELAY_ARN ? {} : { MessageGroupId: groupId, MessageDeduplicationId: `d-${id}`, SequenceNumber: '1' }),
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: o.arn ?? FIFO_ARN,
    awsRegion: 'eu-west-1',
  };
}

export const sqsEvent = (records: SQSRecord[]): SQSEvent => ({ Records: records });

export const reconcileMsg = (key: string, dedupId = `dd-${key}`, observedAt?: number): QueueMessage =>
  ({ v: 1, type: 'reconcile', key, dedupId, ...(observedAt === undefined ? {} : { observedAt }) });
