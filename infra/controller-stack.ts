import { Annotations, CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import { SecurityGroup, Subnet, Vpc } from 'aws-cdk-lib/aws-ec2';
import type { Construct } from 'constructs';
import type { StackConfig } from './config.js';
import { DaemonlessController } from './constructs/daemonless-controller.js';

export interface DaemonlessStackProps extends StackProps {
  readonly config: StackConfig;
  /** Directory with package.json, package-lock.json and lambdas/. */
  readonly projectRoot: string;
}

/**
 * The deployable unit: one DaemonlessController built from a StackConfig, plus the outputs an
 * operator needs to wire the cluster to it. Environment-agnostic and free of lookups, so it
 * synthesizes offline.
 */
export class DaemonlessStack extends Stack {
  readonly controller: DaemonlessController;

  constructor(scope: Construct, id: string, props: DaemonlessStackProps) {
    super(scope, id, props);
    const { config } = props;

    // Imported by id, never looked up: synthesis needs no AWS account access.
    const vpc = config.vpc === undefined ? undefined
      : Vpc.fromVpcAttributes(this, 'Vpc', { vpcId: config.vpc.vpcId, availabilityZones: Stack.of(this).availabilityZones });
    const subnets = config.vpc?.subnetIds.map((id, i) => {
      const subnet = Subnet.fromSubnetId(this, `Subnet${i}`, id);
      Annotations.of(subnet).acknowledgeWarning('@aws-cdk/aws-ec2:noSubnetRouteTableId',
        'Lambda placement needs only the subnet id; nothing reads the route table.');
      return subnet;
    });
    const securityGroups = config.vpc === undefined || config.vpc.securityGroupIds.length === 0 ? undefined
      : config.vpc.securityGroupIds.map((id, i) => SecurityGroup.fromSecurityGroupId(this, `SecurityGroup${i}`, id));

    this.controller = new DaemonlessController(this, 'Controller', {
      projectRoot: props.projectRoot,
      managedResource: config.managedResource,
      placementMode: config.placementMode,
      clusterAccess: config.eks === undefined ? { kind: 'kubeconfig' } : { kind: 'eks', ...config.eks },
      maxReceiveCount: config.maxReceiveCount,
      reconcileTimeout: Duration.seconds(config.reconcileTimeoutSeconds),
      reconcileMemorySize: config.reconcileMemoryMb,
      reconcileBatchSize: config.reconcileBatchSize,
      reconcileMaxConcurrency: config.reconcileMaxConcurrency,
      reconcileReservedConcurrency: config.reconcileReservedConcurrency ?? false,
      webhookReservedConcurrency: config.webhookReservedConcurrency ?? false,
      resyncReservedConcurrency: config.resyncReservedConcurrency ?? false,
      resyncInterval: Duration.minutes(config.resyncIntervalMinutes),
      logRetention: config.logRetentionDays,
      logLevel: config.logLevel,
      vpc,
      vpcSubnets: subnets === undefined ? undefined : { subnets },
      securityGroups,
      queueAgeAlarmThreshold: Duration.seconds(config.queueAgeAlarmSeconds),
      alarmTopic: config.alarmTopic,
      alarmEmail: config.alarmEmail,
    });

    const c = this.controller;
    new CfnOutput(this, 'WebhookUrl', {
      description: 'Function URL of the webhook; the ValidatingWebhookConfiguration URL is <this>hook/<token>',
      value: c.endpoint.functionUrl.url,
    });
    new CfnOutput(this, 'WebhookTokenSecretArn', {
      description: 'Secret holding the webhook URL path token',
      value: c.endpoint.tokenSecret.secretArn,
    });
    const queues = [
      ['ReconcileQueue', c.queues.queue, 'FIFO reconcile queue'],
      ['DelayQueue', c.queues.delayQueue, 'standard delay queue (requeue-after)'],
      ['DeadLetterQueue', c.queues.deadLetterQueue, 'dead-letter queue of the reconcile queue'],
      ['DelayDeadLetterQueue', c.queues.delayDeadLetterQueue, 'dead-letter queue of the delay queue'],
    ] as const;
    for (const [name, queue, what] of queues) {
      new CfnOutput(this, `${name}Url`, { description: `URL of the ${what}`, value: queue.queueUrl });
      new CfnOutput(this, `${name}Arn`, { description: `ARN of the ${what}`, value: queue.queueArn });
    }
    const functions = [['Webhook', c.webhook], ['Reconcile', c.reconcile], ['Resync', c.resync]] as const;
    for (const [name, fn] of functions) {
      new CfnOutput(this, `${name}FunctionName`, { description: `Name of the ${name.toLowerCase()} function`, value: fn.function.functionName });
      new CfnOutput(this, `${name}LogGroupName`, { description: `Log group of the ${name.toLowerCase()} function`, value: fn.logGroup.logGroupName });
    }
    new CfnOutput(this, 'DashboardName', { description: 'CloudWatch dashboard of the controller', value: c.dashboard.dashboard.dashboardName });
    new CfnOutput(this, 'MetricsNamespace', { description: 'CloudWatch namespace of the functions\' metrics (dimension service=daemonless)', value: c.metricsNamespace });
    new CfnOutput(this, 'ReconcileRoleArn', {
      description: 'IAM role of the reconcile function (Kubernetes group daemonless:controller)',
      value: c.reconcile.role.roleArn,
    });
    new CfnOutput(this, 'ResyncRoleArn', {
      description: 'IAM role of the resync function (Kubernetes group daemonless:resync)',
      value: c.resync.role.roleArn,
    });
    if (c.kubeconfigSecret !== undefined) {
      new CfnOutput(this, 'KubeconfigSecretArn', {
        description: 'Put the cluster kubeconfig here (aws secretsmanager put-secret-value)',
        value: c.kubeconfigSecret.secretArn,
      });
    }
    if (c.alarms.topic !== undefined) {
      new CfnOutput(this, 'AlarmTopicArn', {
        description: 'SNS topic every alarm notifies; subscribe e-mail, chat or paging endpoints to it',
        value: c.alarms.topic.topicArn,
      });
    }
  }
}
