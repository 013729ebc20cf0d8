import { Duration } from 'aws-cdk-lib';
import { DeduplicationScope, FifoThroughputLimit, Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { DEAD_LETTER_RETENTION, QUEUE_RETENTION } from './defaults.js';

export interface ReconcileQueuesProps {
  /** Receives before a message moves to its dead-letter queue. */
  readonly maxReceiveCount: number;
  /** Visibility timeout of both source queues (≥ 6 × the consuming function's timeout). */
  readonly visibilityTimeout: Duration;
}

/**
 * The queues between the event sources and the reconcile function.
 *
 * - `queue`: FIFO, MessageGroupId = DaemonSet key, so two reconciles of one DaemonSet never overlap.
 *   High-throughput mode (deduplication and throughput per message group). No content-based
 *   deduplication: senders set MessageDeduplicationId.
 * - `delayQueue`: standard. FIFO queues have no per-message DelaySeconds, so "look again in N seconds"
 *   is sent here with DelaySeconds (≤ 900); the reconcile function also consumes this queue and
 *   re-sends each due message into `queue`.
 * - one dead-letter queue each (a DLQ must have its source queue's type).
 *
 * All four use SQS-managed encryption at rest and refuse requests that are not TLS.
 */
export class ReconcileQueues extends Construct {
  readonly queue: Queue;
  readonly deadLetterQueue: Queue;
  readonly delayQueue: Queue;
  readonly delayDeadLetterQueue: Queue;

  constructor(scope: Construct, id: string, props: ReconcileQueuesProps) {
    super(scope, id);

    this.deadLetterQueue = new Queue(this, 'DeadLetterQueue', {
      fifo: true,
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: DEAD_LETTER_RETENTION,
    });
    this.queue = new Queue(this, 'Queue', {
      fifo: true,
      contentBasedDeduplication: false,
      deduplicationScope: DeduplicationScope.MESSAGE_GROUP,
      fifoThroughputLimit: FifoThroughputLimit.PER_MESSAGE_GROUP_ID,
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: QUEUE_RETENTION,
      visibilityTimeout: props.visibilityTimeout,
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: props.maxReceiveCount },
    });

    this.delayDeadLetterQueue = new Queue(this, 'DelayDeadLetterQueue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: DEAD_LETTER_RETENTION,
    });
    this.delayQueue = new Queue(this, 'DelayQueue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: QUEUE_RETENTION,
      visibilityTimeout: props.visibilityTimeout,
      deadLetterQueue: { queue: this.delayDeadLetterQueue, maxReceiveCount: props.maxReceiveCount },
    });
  }
}
