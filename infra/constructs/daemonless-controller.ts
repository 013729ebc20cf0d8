import { Duration, Stack, Validations } from 'aws-cdk-lib';
import type { ISecurityGroup, IVpc, SubnetSelection } from 'aws-cdk-lib/aws-ec2';
import { CfnAccessEntry } from 'aws-cdk-lib/aws-eks';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import type { ManagedResource } from '../../lib/core/index.js';
import { CONTROLLER_GROUP, RESYNC_GROUP } from '../../lib/manifests/names.js';
import { ControllerAlarms } from './controller-alarms.js';
import { ControllerDashboard } from './controller-dashboard.js';
import { ControllerFunction } from './controller-function.js';
import {
  DEFAULT_LOG_RETENTION, DEFAULT_MAX_RECEIVE_COUNT, DEFAULT_QUEUE_AGE_ALARM, DEFAULT_RECONCILE_BATCH_SIZE,
  DEFAULT_RECONCILE_MAX_CONCURRENCY, DEFAULT_RECONCILE_MEMORY_MB, DEFAULT_RECONCILE_TIMEOUT,
  DEFAULT_RESYNC_INTERVAL, DEFAULT_RESYNC_RESERVED_CONCURRENCY, DEFAULT_WEBHOOK_RESERVED_CONCURRENCY,
  DELAY_FORWARD_MAX_CONCURRENCY, metricsNamespaceOf, POWERTOOLS_SERVICE_NAME, RESYNC_MEMORY_MB, RESYNC_TIMEOUT,
  VISIBILITY_TIMEOUT_FACTOR, WEBHOOK_MEMORY_MB, WEBHOOK_TIMEOUT,
} from './defaults.js';
import { ReconcileQueues } from './reconcile-queues.js';
import { ResyncSchedule } from './resync-schedule.js';
import { WebhookEndpoint } from './webhook-endpoint.js';

/** How the reconcile and resync functions authenticate to the Kubernetes API. */
export type ClusterAccess =
  /**
   * EKS: IAM identity (presigned STS token) mapped to Kubernetes groups by EKS access entries.
   * Endpoint and CA (`aws eks describe-cluster`) go to the functions' environment.
   */
  | { readonly kind: 'eks'; readonly clusterName: string; readonly endpoint: string; readonly caData: string }
  /** Any cluster: a kubeconfig stored by the operator in a Secrets Manager secret this construct creates. */
  | { readonly kind: 'kubeconfig' };

export interface DaemonlessControllerProps {
  /** Directory with package.json and package-lock.json; handler entries are resolved against it. */
  readonly projectRoot: string;
  /** @default `lambdas/webhook.ts`, `lambdas/reconcile.ts`, `lambdas/resync.ts` under projectRoot */
  readonly entries?: { readonly webhook?: string; readonly reconcile?: string; readonly resync?: string };
  /** Which DaemonSets are managed: native apps/v1, or the daemonless.io CRD (required on EKS). */
  readonly managedResource: ManagedResource;
  /** @default 'affinity' */
  readonly placementMode?: 'affinity' | 'nodeName';
  readonly clusterAccess: ClusterAccess;
  /** @default 5 */
  readonly maxReceiveCount?: number;
  /** Reconcile function timeout; queue visibility timeouts are 6 × this. @default 60 s */
  readonly reconcileTimeout?: Duration;
  /** @default 512 */
  readonly reconcileMemorySize?: number;
  /** Records per reconcile invocation, 1–10 (FIFO queues allow no batching window). @default 10 */
  readonly reconcileBatchSize?: number;
  /**
   * Concurrent reconcile invocations fed by the FIFO queue (the SQS event source's maximum
   * concurrency, 2–1000): the bound on parallel load on the Kubernetes API server. @default 5
   */
  readonly reconcileMaxConcurrency?: number;
  /** Reserved concurrency of the reconcile function; false: none. @default false */
  readonly reconcileReservedConcurrency?: number | false;
  /** Reserved concurrency of the webhook function (its throttle); false: none. @default 10 */
  readonly webhookReservedConcurrency?: number | false;
  /** Reserved concurrency of the resync function; false: none. @default 1 */
  readonly resyncReservedConcurrency?: number | false;
  /** @default 5 minutes */
  readonly resyncInterval?: Duration;
  /** @default one month */
  readonly logRetention?: RetentionDays;
  /** POWERTOOLS_LOG_LEVEL of all functions. @default 'INFO' */
  readonly logLevel?: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
  /**
   * VPC for the reconcile and resync functions (the ones that call the Kubernetes API), e.g. for a
   * private cluster endpoint. They then need a route to SQS and Secrets Manager (endpoints or NAT).
   * The webhook function talks to SQS only and stays outside.
   * @default - not in a VPC
   */
  readonly vpc?: IVpc;
  readonly vpcSubnets?: SubnetSelection;
  readonly securityGroups?: ISecurityGroup[];
  /** @default 10 minutes */
  readonly queueAgeAlarmThreshold?: Duration;
  /** An SNS topic (KMS-encrypted) as the alarms' action; false: alarms without action. @default true */
  readonly alarmTopic?: boolean;
  /** CloudWatch namespace of the functions' metrics. @default `daemonless/<stack name>` */
  readonly metricsNamespace?: string;
  /** Subscribe this address to the alarm topic (implies alarmTopic). */
  readonly alarmEmail?: string;
}

/**
 * The whole serverless controller: queues, the three functions, the webhook endpoint, the resync
 * schedule, cluster credentials or EKS access entries, and alarms.
 */
export class DaemonlessController extends Construct {
  readonly queues: ReconcileQueues;
  readonly webhook: ControllerFunction;
  readonly reconcile: ControllerFunction;
  readonly resync: ControllerFunction;
  readonly endpoint: WebhookEndpoint;
  readonly resyncSchedule: ResyncSchedule;
  readonly alarms: ControllerAlarms;
  readonly dashboard: ControllerDashboard;
  /** Namespace of the functions' own metrics (DAEMONLESS_METRICS_NAMESPACE). */
  readonly metricsNamespace: string;
  /** The kubeconfig secret (kubeconfig access only). */
  readonly kubeconfigSecret: Secret | undefined;
  /** EKS access entries for the reconcile and resync roles (EKS access only). */
  readonly accessEntries: CfnAccessEntry[] = [];

  constructor(scope: Construct, id: string, props: DaemonlessControllerProps) {
    super(scope, id);
    checkProps(props);

    const reconcileTimeout = props.reconcileTimeout ?? DEFAULT_RECONCILE_TIMEOUT;
    const logRetention = props.logRetention ?? DEFAULT_LOG_RETENTION;
    const entries = {
      webhook: props.entries?.webhook ?? `${props.projectRoot}/lambdas/webhook.ts`,
      reconcile: props.entries?.reconcile ?? `${props.projectRoot}/lambdas/reconcile.ts`,
      resync: props.entries?.resync ?? `${props.projectRoot}/lambdas/resync.ts`,
    };
    const vpcPlacement = { vpc: props.vpc, vpcSubnets: props.vpcSubnets, securityGroups: props.securityGroups };

    this.queues = new ReconcileQueues(this, 'Queues', {
      maxReceiveCount: props.maxReceiveCount ?? DEFAULT_MAX_RECEIVE_COUNT,
      visibilityTimeout: Duration.seconds(reconcileTimeout.toSeconds() * VISIBILITY_TIMEOUT_FACTOR),
    });

    this.metricsNamespace = props.metricsNamespace ?? metricsNamespaceOf(Stack.of(this).stackName);
    // Variable names: lib/config.ts (ENV).
    const common = {
      POWERTOOLS_SERVICE_NAME,
      DAEMONLESS_METRICS_NAMESPACE: this.metricsNamespace,
      DAEMONLESS_LOG_LEVEL: props.logLevel ?? 'INFO',
      DAEMONLESS_MANAGED_RESOURCE: props.managedResource,
      DAEMONLESS_QUEUE_URL: this.queues.queue.queueUrl,
    };

    this.webhook = new ControllerFunction(this, 'Webhook', {
      entry: entries.webhook,
      projectRoot: props.projectRoot,
      description: 'daemonless webhook: cluster events to DaemonSet keys on the reconcile queue',
      timeout: WEBHOOK_TIMEOUT,
      memorySize: WEBHOOK_MEMORY_MB,
      environment: common,
      reservedConcurrentExecutions: reservation(props.webhookReservedConcurrency, DEFAULT_WEBHOOK_RESERVED_CONCURRENCY),
      logRetention,
    });
    this.queues.queue.grantSendMessages(this.webhook.role);
    this.endpoint = new WebhookEndpoint(this, 'Endpoint', { function: this.webhook.function });

    const clusterEnv: Record<string, string> = props.clusterAccess.kind === 'eks'
      ? {
        DAEMONLESS_CLUSTER_AUTH: 'eks',
        DAEMONLESS_EKS_CLUSTER_NAME: props.clusterAccess.clusterName,
        DAEMONLESS_EKS_ENDPOINT: props.clusterAccess.endpoint,
        DAEMONLESS_EKS_CA_DATA: props.clusterAccess.caData,
      }
      // The kubeconfig secret's ARN is added below, once the secret exists.
      : { DAEMONLESS_CLUSTER_AUTH: 'secret' };

    this.reconcile = new ControllerFunction(this, 'Reconcile', {
      entry: entries.reconcile,
      projectRoot: props.projectRoot,
      description: 'daemonless reconcile: one DaemonSet per message group; forwards due delay-queue messages',
      timeout: reconcileTimeout,
      memorySize: props.reconcileMemorySize ?? DEFAULT_RECONCILE_MEMORY_MB,
      environment: {
        ...common,
        ...clusterEnv,
        DAEMONLESS_DELAY_QUEUE_URL: this.queues.delayQueue.queueUrl,
        DAEMONLESS_PLACEMENT: props.placementMode ?? 'affinity',
        DAEMONLESS_MAX_RECEIVES: String(props.maxReceiveCount ?? DEFAULT_MAX_RECEIVE_COUNT),
      },
      reservedConcurrentExecutions: reservation(props.reconcileReservedConcurrency, undefined),
      logRetention,
      ...vpcPlacement,
    });
    // FIFO: batch ≤ 10 and no batching window; failed records are reported individually, so the
    // handler can fail a record and the rest of its group without failing the whole batch.
    this.reconcile.function.addEventSource(new SqsEventSource(this.queues.queue, {
      batchSize: props.reconcileBatchSize ?? DEFAULT_RECONCILE_BATCH_SIZE,
      reportBatchItemFailures: true,
      maxConcurrency: props.reconcileMaxConcurrency ?? DEFAULT_RECONCILE_MAX_CONCURRENCY,
    }));
    // Requeue-after: due messages of the standard delay queue are re-sent into the FIFO queue by the
    // same function (it tells them apart by the record's eventSourceARN).
    this.reconcile.function.addEventSource(new SqsEventSource(this.queues.delayQueue, {
      batchSize: 10,
      reportBatchItemFailures: true,
      maxConcurrency: DELAY_FORWARD_MAX_CONCURRENCY,
    }));
    this.queues.queue.grantSendMessages(this.reconcile.role);
    this.queues.delayQueue.grantSendMessages(this.reconcile.role);

    this.resync = new ControllerFunction(this, 'Resync', {
      entry: entries.resync,
      projectRoot: props.projectRoot,
      description: 'daemonless resync: enqueue every DaemonSet',
      timeout: RESYNC_TIMEOUT,
      memorySize: RESYNC_MEMORY_MB,
      environment: { ...common, ...clusterEnv },
      reservedConcurrentExecutions: reservation(props.resyncReservedConcurrency, DEFAULT_RESYNC_RESERVED_CONCURRENCY),
      logRetention,
      ...vpcPlacement,
    });
    this.queues.queue.grantSendMessages(this.resync.role);
    this.resyncSchedule = new ResyncSchedule(this, 'ResyncSchedule', {
      function: this.resync.function,
      interval: props.resyncInterval ?? DEFAULT_RESYNC_INTERVAL,
    });

    if (props.clusterAccess.kind === 'eks') {
      const clusterName = props.clusterAccess.clusterName;
      // The token is presigned locally (no IAM permission needed); these entries map each role to
      // the Kubernetes group bound by the shipped RBAC (infra/manifests).
      for (const [fn, group] of [[this.reconcile, CONTROLLER_GROUP], [this.resync, RESYNC_GROUP]] as const) {
        this.accessEntries.push(new CfnAccessEntry(fn, 'AccessEntry', {
          clusterName,
          principalArn: fn.role.roleArn,
          kubernetesGroups: [group],
          type: 'STANDARD',
        }));
      }
      this.kubeconfigSecret = undefined;
    } else {
      this.kubeconfigSecret = new Secret(this, 'Kubeconfig', {
        description: 'daemonless: kubeconfig (YAML) of the managed cluster; replace the generated value with ' +
          '`aws secretsmanager put-secret-value --secret-id <arn> --secret-string file://kubeconfig`',
      });
      Validations.of(this.kubeconfigSecret).acknowledge({
        id: 'AwsSolutions-SMG4',
        reason: 'The value is a kubeconfig issued by the cluster owner; it is rotated where it is issued (the ' +
          'cluster), then stored here with put-secret-value. A Secrets Manager rotation function cannot mint it.',
      });
      this.kubeconfigSecret.grantRead(this.reconcile.role);
      this.kubeconfigSecret.grantRead(this.resync.role);
      this.reconcile.function.addEnvironment('DAEMONLESS_KUBECONFIG_SECRET_ARN', this.kubeconfigSecret.secretArn);
      this.resync.function.addEnvironment('DAEMONLESS_KUBECONFIG_SECRET_ARN', this.kubeconfigSecret.secretArn);
    }

    this.alarms = new ControllerAlarms(this, 'Alarms', {
      deadLetterQueues: { DeadLetterQueue: this.queues.deadLetterQueue, DelayDeadLetterQueue: this.queues.delayDeadLetterQueue },
      queue: this.queues.queue,
      queueAgeThreshold: props.queueAgeAlarmThreshold ?? DEFAULT_QUEUE_AGE_ALARM,
      functions: { Webhook: this.webhook.function, Reconcile: this.reconcile.function, Resync: this.resync.function },
      metricsNamespace: this.metricsNamespace,
      topic: props.alarmTopic,
      email: props.alarmEmail,
    });
    this.dashboard = new ControllerDashboard(this, 'Dashboard', {
      queue: this.queues.queue,
      delayQueue: this.queues.delayQueue,
      deadLetterQueue: this.queues.deadLetterQueue,
      delayDeadLetterQueue: this.queues.delayDeadLetterQueue,
      functions: { Webhook: this.webhook.function, Reconcile: this.reconcile.function, Resync: this.resync.function },
      metricsNamespace: this.metricsNamespace,
      alarms: this.alarms.alarms,
    });
  }
}

function reservation(value: number | false | undefined, fallback: number | undefined): number | undefined {
  if (value === false) return undefined;
  return value ?? fallback;
}

/** Reports every invalid prop at once. */
function checkProps(props: DaemonlessControllerProps): void {
  const problems: string[] = [];
  const batch = props.reconcileBatchSize;
  if (batch !== undefined && (!Number.isInteger(batch) || batch < 1 || batch > 10)) {
    problems.push(`reconcileBatchSize must be 1-10 for a FIFO queue, got ${batch}`);
  }
  const maxConcurrency = props.reconcileMaxConcurrency ?? DEFAULT_RECONCILE_MAX_CONCURRENCY;
  if (!Number.isInteger(maxConcurrency) || maxConcurrency < 2 || maxConcurrency > 1000) {
    problems.push(`reconcileMaxConcurrency must be 2-1000, got ${maxConcurrency}`);
  }
  const reserved = props.reconcileReservedConcurrency;
  if (typeof reserved === 'number' && reserved < maxConcurrency + DELAY_FORWARD_MAX_CONCURRENCY) {
    problems.push(`reconcileReservedConcurrency (${reserved}) must be at least reconcileMaxConcurrency + ` +
      `${DELAY_FORWARD_MAX_CONCURRENCY}: throttled batches count as receives and end in the dead-letter queue`);
  }
  const receives = props.maxReceiveCount;
  if (receives !== undefined && (!Number.isInteger(receives) || receives < 1 || receives > 1000)) {
    problems.push(`maxReceiveCount must be 1-1000, got ${receives}`);
  }
  const timeout = props.reconcileTimeout?.toSeconds();
  if (timeout !== undefined && (timeout < 1 || timeout > 900)) {
    problems.push(`reconcileTimeout must be 1-900 s, got ${timeout} s`);
  }
  if (props.vpc === undefined && (props.vpcSubnets !== undefined || props.securityGroups !== undefined)) {
    problems.push('vpcSubnets and securityGroups need vpc');
  }
  if (props.clusterAccess.kind === 'eks' && props.managedResource === 'native') {
    problems.push('managedResource "native" cannot be used on EKS: its built-in DaemonSet controller cannot be turned off; use "crd"');
  }
  if (problems.length > 0) {
    throw new Error(`Invalid DaemonlessController props:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}
