/**
 * Powertools-backed logger, metrics (CloudWatch EMF on stdout) and tracer. The tracer disables itself
 * outside Lambda (Powertools checks AWS_EXECUTION_ENV), so local runs and tests create no segments.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';
import type { LogLevel } from '../config.js';
import type { AppLogger, AppMetrics, LogFields, MetricName } from './ports.js';

export const SERVICE_NAME = 'daemonless';

export function createPowertoolsLogger(options: { level: LogLevel; serviceName?: string }): Logger {
  return new Logger({ serviceName: options.serviceName ?? SERVICE_NAME, logLevel: options.level });
}

/** AppLogger over a Powertools Logger; `child()` uses createChild + appendKeys. */
export function toAppLogger(logger: Logger): AppLogger {
  const wrap = (l: Logger): AppLogger => ({
    debug: (m: string, f?: LogFields) => l.debug(m, { ...f }),
    info: (m: string, f?: LogFields) => l.info(m, { ...f }),
    warn: (m: string, f?: LogFields) => l.warn(m, { ...f }),
    error: (m: string, f?: LogFields) => l.error(m, { ...f }),
    child: (keys: LogFields) => {
      const c = l.createChild();
      c.appendKeys({ ...keys });
      return wrap(c);
    },
  });
  return wrap(logger);
}

export function createPowertoolsMetrics(options: { namespace: string; serviceName?: string }): Metrics {
  return new Metrics({ namespace: options.namespace, serviceName: options.serviceName ?? SERVICE_NAME });
}

export function toAppMetrics(metrics: Metrics): AppMetrics {
  return {
    count: (name: MetricName, value = 1) => metrics.addMetric(name, MetricUnit.Count, value),
    timing: (name: MetricName, ms: number) => metrics.addMetric(name, MetricUnit.Milliseconds, Math.max(0, ms)),
  };
}

export function createTracer(serviceName: string = SERVICE_NAME): Tracer {
  return new Tracer({ serviceName });
}

/** Console-JSON logger for the local runner (Powertools Logger works outside Lambda too). */
export function createLocalLogger(level: LogLevel): AppLogger {
  return toAppLogger(createPowertoolsLogger({ level }));
}
