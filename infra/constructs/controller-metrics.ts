import type { Duration } from 'aws-cdk-lib';
import { Metric } from 'aws-cdk-lib/aws-cloudwatch';
import type { MetricName } from '../../lib/observability/ports.js';
import { SERVICE_NAME } from '../../lib/observability/powertools.js';

/**
 * The dimension Powertools Metrics puts on every metric the functions emit (EMF): `service` = the
 * service name of lib/observability/powertools.ts. A CloudWatch metric is identified by namespace,
 * name and the exact dimension set, so alarms and graphs must name it the same way.
 */
export const METRIC_DIMENSIONS: Readonly<Record<string, string>> = { service: SERVICE_NAME };

/** One of the functions' own metrics (lib/observability/ports.ts METRIC) in `namespace`. */
export function controllerMetric(namespace: string, name: MetricName, o: { period: Duration; statistic: string; label?: string }): Metric {
  return new Metric({
    namespace, metricName: name, dimensionsMap: { ...METRIC_DIMENSIONS }, period: o.period, statistic: o.statistic,
    ...(o.label === undefined ? {} : { label: o.label }),
  });
}
