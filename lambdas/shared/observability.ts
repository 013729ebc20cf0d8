/**
 * Powertools instances shared by a handler module, and the middleware every handler runs under. Created at import, as Powertools expects (its
 * middlewares need them when the handler is composed); they read only POWERTOOLS_* and
 * DAEMONLESS_LOG_LEVEL / DAEMONLESS_METRICS_NAMESPACE, never secrets.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { Tracer } from '@aws-lambda-powertools/tracer';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
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

/**
 * A middy handler under the middleware the three functions share: a trace segment (responses not
 * captured), the Lambda context on every log line (keys reset per invocation), metrics flushed at
 * the end of each invocation (none is fine).
 */
export function observedHandler<TEvent, TResult>(obs: Observability) {
  return middy<TEvent, TResult>()
    .use(captureLambdaHandler(obs.tracer, { captureResponse: false }))
    .use(injectLambdaContext(obs.logger, { resetKeys: true }))
    .use(logMetrics(obs.metrics, { throwOnEmptyMetrics: false }));
}
