/**
 * Logging and metrics as the shell sees them. lib/app depends on these interfaces only; the Lambda
 * handlers back them with Powertools (structured JSON logs, CloudWatch EMF), the local runner and
 * tests with plain or recording implementations.
 */
export type LogFields = Readonly<Record<string, unknown>>;

export interface AppLogger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /** A logger that adds `keys` to every line (e.g. the DaemonSet key of the record at hand). */
  child(keys: LogFields): AppLogger;
}

/** Metric names the pipeline emits. */
export const METRIC = {
  webhookRequests: 'WebhookRequests',
  webhookRejected: 'WebhookRejected',
  keysEnqueued: 'KeysEnqueued',
  fanoutsEnqueued: 'FanoutsEnqueued',
  enqueueFailures: 'EnqueueFailures',
  reconciles: 'Reconciles',
  reconcilesCollapsed: 'ReconcilesCollapsed',
  reconcileErrors: 'ReconcileErrors',
  terminalErrors: 'TerminalErrors',
  invalidMessages: 'InvalidMessages',
  podsCreated: 'PodsCreated',
  podsDeleted: 'PodsDeleted',
  statusWrites: 'StatusWrites',
  requeues: 'Requeues',
  fanoutExpanded: 'FanoutKeys',
  delayedForwarded: 'DelayedForwarded',
  resyncKeys: 'ResyncKeys',
  reconcileLatency: 'ReconcileLatency',
  eventToAction: 'EventToActionLatency',
} as const;
export type MetricName = (typeof METRIC)[keyof typeof METRIC];

export interface AppMetrics {
  count(name: MetricName, value?: number): void;
  /** A duration in milliseconds. */
  timing(name: MetricName, ms: number): void;
}

export const silentLogger: AppLogger = {
  debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined,
  child: () => silentLogger,
};

export const noMetrics: AppMetrics = { count: () => undefined, timing: () => undefined };
