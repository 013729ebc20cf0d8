import { Duration } from 'aws-cdk-lib';
import {
  AlarmStatusWidget, Dashboard, GraphWidget, type IAlarm, type IMetric, TextWidget,
} from 'aws-cdk-lib/aws-cloudwatch';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { METRIC, type MetricName } from '../../lib/observability/ports.js';
import { controllerMetric } from './controller-metrics.js';

export interface ControllerDashboardProps {
  /** The FIFO reconcile queue and the standard delay queue. */
  readonly queue: IQueue;
  readonly delayQueue: IQueue;
  readonly deadLetterQueue: IQueue;
  readonly delayDeadLetterQueue: IQueue;
  readonly functions: Readonly<Record<string, IFunction>>;
  /** Namespace of the functions' own metrics (Powertools EMF). */
  readonly metricsNamespace: string;
  readonly alarms: readonly IAlarm[];
}

const PERIOD = Duration.minutes(1);
const WIDE = 12;
const HEIGHT = 6;

/**
 * One CloudWatch dashboard for the controller: queue depth and age, dead letters, reconciles by
 * outcome, pods created and deleted, reconcile latency, the webhook's intake, the functions' errors,
 * throttles and durations, and every alarm's state.
 */
export class ControllerDashboard extends Construct {
  readonly dashboard: Dashboard;

  constructor(scope: Construct, id: string, props: ControllerDashboardProps) {
    super(scope, id);
    const own = (name: MetricName, statistic = 'Sum', label?: string): IMetric =>
      controllerMetric(props.metricsNamespace, name, { period: PERIOD, statistic, ...(label === undefined ? {} : { label }) });
    const fns = Object.entries(props.functions);

    this.dashboard = new Dashboard(this, 'Dashboard', { defaultInterval: Duration.hours(3) });
    this.dashboard.addWidgets(new TextWidget({
      markdown: `## daemonless\nOwn metrics in namespace \`${props.metricsNamespace}\` (dimension \`service\`); ` +
        'names and meaning: infra/DEPLOY.md, "Metrics".',
      width: 24, height: 2,
    }));
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'Queue depth (messages)', width: WIDE, height: HEIGHT,
        left: [
          props.queue.metricApproximateNumberOfMessagesVisible({ period: PERIOD, statistic: 'Maximum', label: 'reconcile queue: waiting' }),
          props.queue.metricApproximateNumberOfMessagesNotVisible({ period: PERIOD, statistic: 'Maximum', label: 'reconcile queue: in flight' }),
          props.delayQueue.metricApproximateNumberOfMessagesVisible({ period: PERIOD, statistic: 'Maximum', label: 'delay queue: due' }),
          props.delayQueue.metricApproximateNumberOfMessagesDelayed({ period: PERIOD, statistic: 'Maximum', label: 'delay queue: delayed' }),
        ],
      }),
      new GraphWidget({
        title: 'Queue age (oldest message, seconds)', width: WIDE, height: HEIGHT,
        left: [
          props.queue.metricApproximateAgeOfOldestMessage({ period: PERIOD, statistic: 'Maximum', label: 'reconcile queue' }),
          props.delayQueue.metricApproximateAgeOfOldestMessage({ period: PERIOD, statistic: 'Maximum', label: 'delay queue' }),
        ],
      }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'Dead-letter queues (messages)', width: WIDE, height: HEIGHT,
        left: [
          props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: PERIOD, statistic: 'Maximum', label: 'reconcile DLQ' }),
          props.delayDeadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: PERIOD, statistic: 'Maximum', label: 'delay DLQ' }),
        ],
      }),
      new GraphWidget({
        title: 'Reconciles by outcome', width: WIDE, height: HEIGHT, stacked: true,
        left: [
          own(METRIC.reconciles, 'Sum', 'done'),
          own(METRIC.reconcilesCollapsed, 'Sum', 'collapsed into another of the batch'),
          own(METRIC.reconcileErrors, 'Sum', 'failed, retried'),
          own(METRIC.terminalErrors, 'Sum', 'failed terminally (not retried)'),
          own(METRIC.invalidMessages, 'Sum', 'invalid message (dropped)'),
        ],
      }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'Pods created and deleted, status writes', width: WIDE, height: HEIGHT,
        left: [own(METRIC.podsCreated, 'Sum', 'pods created'), own(METRIC.podsDeleted, 'Sum', 'pods deleted'), own(METRIC.statusWrites, 'Sum', 'status writes')],
      }),
      new GraphWidget({
        title: 'Reconcile latency (ms)', width: WIDE, height: HEIGHT,
        left: [
          own(METRIC.reconcileLatency, 'p50', 'reconcile p50'),
          own(METRIC.reconcileLatency, 'p99', 'reconcile p99'),
          own(METRIC.reconcileLatency, 'Maximum', 'reconcile max'),
          own(METRIC.eventToAction, 'p50', 'event to action p50'),
          own(METRIC.eventToAction, 'p99', 'event to action p99'),
        ],
      }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'Intake: webhook and resync', width: WIDE, height: HEIGHT,
        left: [
          own(METRIC.webhookRequests, 'Sum', 'webhook requests'),
          own(METRIC.webhookRejected, 'Sum', 'webhook requests rejected'),
          own(METRIC.keysEnqueued, 'Sum', 'keys enqueued'),
          own(METRIC.fanoutsEnqueued, 'Sum', 'fan-outs enqueued'),
          own(METRIC.enqueueFailures, 'Sum', 'enqueue failures'),
          own(METRIC.resyncKeys, 'Sum', 'resync keys'),
          own(METRIC.requeues, 'Sum', 'requeues'),
        ],
      }),
      new GraphWidget({
        title: 'Function errors and throttles', width: WIDE, height: HEIGHT,
        left: fns.flatMap(([name, fn]) => [
          fn.metricErrors({ period: PERIOD, statistic: 'Sum', label: `${name} errors` }),
          fn.metricThrottles({ period: PERIOD, statistic: 'Sum', label: `${name} throttles` }),
        ]),
      }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'Function duration p99 (ms)', width: WIDE, height: HEIGHT,
        left: fns.map(([name, fn]) => fn.metricDuration({ period: PERIOD, statistic: 'p99', label: name })),
      }),
      new GraphWidget({
        title: 'Function invocations', width: WIDE, height: HEIGHT,
        left: fns.map(([name, fn]) => fn.metricInvocations({ period: PERIOD, statistic: 'Sum', label: name })),
      }),
    );
    this.dashboard.addWidgets(new AlarmStatusWidget({ title: 'Alarms', alarms: [...props.alarms], width: 24, height: 4 }));
  }
}
