import { Duration } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { controllerMetric } from './controller-metrics.js';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { AccountRootPrincipal, PolicyDocument, PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { METRIC } from '../../lib/observability/ports.js';

/** What CloudFormation and operators do with a key; "*" in a key policy means "this key". */
const KEY_ADMIN_ACTIONS = [
  'kms:DescribeKey', 'kms:GetKeyPolicy', 'kms:PutKeyPolicy', 'kms:ListResourceTags', 'kms:TagResource',
  'kms:UntagResource', 'kms:EnableKey', 'kms:DisableKey', 'kms:UpdateKeyDescription', 'kms:GetKeyRotationStatus',
  'kms:EnableKeyRotation', 'kms:DisableKeyRotation', 'kms:ScheduleKeyDeletion', 'kms:CancelKeyDeletion',
  'kms:CreateGrant', 'kms:ListGrants', 'kms:RevokeGrant',
];

export interface ControllerAlarmsProps {
  /** Dead-letter queues: any visible message is an alarm. */
  readonly deadLetterQueues: Readonly<Record<string, IQueue>>;
  /** The reconcile queue: alarm when its oldest message is older than `queueAgeThreshold`. */
  readonly queue: IQueue;
  readonly queueAgeThreshold: Duration;
  /** Functions: alarm on any error in a 5-minute period. */
  readonly functions: Readonly<Record<string, IFunction>>;
  /**
   * CloudWatch namespace of the functions' own metrics: an alarm fires on any terminal reconcile
   * failure (TerminalErrors: 401/403/422 and other errors a retry cannot fix, acknowledged without
   * a retry, so no dead letter ever shows them).
   */
  readonly metricsNamespace: string;
  /** @default true - an SNS topic is every alarm's action; false: alarms have no action */
  readonly topic?: boolean;
  /** Subscribes this address to the topic (implies `topic`). */
  readonly email?: string;
}

/**
 * Operational alarms, notifying an SNS topic encrypted with its own KMS key (the AWS managed SNS key
 * cannot be used: CloudWatch must be allowed to use the key). Operators route the topic where they
 * want (e-mail, chat, paging: any SNS subscription); `email` subscribes one address here.
 */
export class ControllerAlarms extends Construct {
  readonly alarms: Alarm[] = [];
  readonly topic: Topic | undefined;

  constructor(scope: Construct, id: string, props: ControllerAlarmsProps) {
    super(scope, id);

    if (props.topic !== false || props.email !== undefined) {
      // An explicit key policy: CDK's default grants the account `kms:*`, and the project keeps
      // wildcard actions out of every policy. The account (through IAM) may administer the key,
      // CloudWatch may encrypt notifications for the topic.
      const key = new Key(this, 'TopicKey', {
        description: 'daemonless: encrypts the alarm topic',
        enableKeyRotation: true,
        policy: new PolicyDocument({
          statements: [
            new PolicyStatement({
              sid: 'AccountAdministersKey',
              principals: [new AccountRootPrincipal()],
              actions: KEY_ADMIN_ACTIONS,
              resources: ['*'],
            }),
            new PolicyStatement({
              sid: 'CloudWatchAlarmsEncrypt',
              principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
              actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
              resources: ['*'],
            }),
          ],
        }),
      });
      this.topic = new Topic(this, 'Topic', { displayName: 'daemonless alarms', masterKey: key, enforceSSL: true });
      if (props.email !== undefined) this.topic.addSubscription(new EmailSubscription(props.email));
    }

    for (const [name, dlq] of Object.entries(props.deadLetterQueues)) {
      this.add(new Alarm(this, `${name}NotEmpty`, {
        alarmDescription: `daemonless: messages in ${name}: reconcile requests failed maxReceiveCount times`,
        metric: dlq.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: 'Maximum' }),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      }));
    }

    this.add(new Alarm(this, 'QueueOldestMessageAge', {
      alarmDescription: 'daemonless: the reconcile queue is falling behind',
      metric: props.queue.metricApproximateAgeOfOldestMessage({ period: Duration.minutes(1), statistic: 'Maximum' }),
      threshold: props.queueAgeThreshold.toSeconds(),
      evaluationPeriods: 5,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    }));

    this.add(new Alarm(this, 'TerminalReconcileFailures', {
      alarmDescription: 'daemonless: a reconcile failed terminally (401/403/422: missing RBAC, Pod Security or ' +
        'validation rejection); it is not retried. See the ReconcileFailed events (kubectl get events) and the reconcile log.',
      metric: controllerMetric(props.metricsNamespace, METRIC.terminalErrors, { period: Duration.minutes(5), statistic: 'Sum' }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    }));

    for (const [name, fn] of Object.entries(props.functions)) {
      this.add(new Alarm(this, `${name}Errors`, {
        alarmDescription: `daemonless: the ${name} function failed`,
        metric: fn.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      }));
    }
  }

  private add(alarm: Alarm): void {
    if (this.topic !== undefined) alarm.addAlarmAction(new SnsAction(this.topic));
    this.alarms.push(alarm);
  }
}
