/**
 * Powertools instances shared by a handler module. Created at import, as Powertools expects (its
 * middlewares need them when the handler is composed); they read only POWERTOOLS_* and
 * DAEMONLESS_LOG_LEVEL / DAEMONLESS_METRICS_NAMESPACE, never secrets.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { Tracer } from '@aws-lambda-powertools/tracer';
import { createPowertoolsLogger, createPowertoolsMetrics, createTracer } from '../../lib/observability/powertools.js';

export interface Observability {
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly tracer: Tracer;
}

let shared: Observability | null = null;

export function observability(): Observability {
  if (shared === null) {
    const level = (process.env.DAEMONLESS_LOG_LEVEL ?? 'INFO').toUpperCase();
    shared = {
      logger: createPowertoolsLogger({ level: (['DEBUG', 'INFO', 'WARN', 'ERROR'].includes(level) ? level : 'INFO') as 'INFO' }),
      metrics: createPowertoolsMetrics({ namespace: process.env.DAEMONLESS_METRICS_NAMESPACE ?? 'daemonless' }),
      tracer: createTracer(),
    };
  }
  return shared;
}
