/**
 * Configuration of the serverless pipeline and the local runner, read from environment variables.
 *
 * `loadConfig(env, role)` is a pure parse: it never reads `process.env` itself and reports every
 * missing or invalid variable in one `ConfigError`. Only composition roots call it.
 */
import * as z from 'zod';
import type { ManagedResource } from './core/managed-resource.js';

/** Every environment variable the handlers and the local runner read. */
export const ENV = {
  /** URL of the SQS FIFO reconcile queue (`….fifo`). */
  queueUrl: 'DAEMONLESS_QUEUE_URL',
  /** URL of the standard delay queue that carries requeue-after messages (`DelaySeconds` ≤ 900). */
  delayQueueUrl: 'DAEMONLESS_DELAY_QUEUE_URL',
  /** Optional SQS endpoint override (ElasticMQ, moto). Unset on AWS. */
  sqsEndpoint: 'DAEMONLESS_SQS_ENDPOINT',
  /** The webhook secret (path segment and HMAC key). Comma-separated list = accepted during rotation. */
  webhookSecret: 'DAEMONLESS_WEBHOOK_SECRET',
  /** Secrets Manager ARN holding the webhook secret (alternative to DAEMONLESS_WEBHOOK_SECRET). */
  webhookSecretArn: 'DAEMONLESS_WEBHOOK_SECRET_ARN',
  /** Which proofs the webhook accepts: `path` (/hook/<secret>), `hmac` (signature header) or `any`. */
  webhookAuth: 'DAEMONLESS_WEBHOOK_AUTH',
  /** Largest webhook body accepted, in bytes (default and maximum 6 MiB: a Lambda Function URL's request limit). */
  webhookMaxBytes: 'DAEMONLESS_WEBHOOK_MAX_BYTES',
  /** How the controller authenticates to the cluster: `eks`, `secret` or `kubeconfig`. */
  clusterAuth: 'DAEMONLESS_CLUSTER_AUTH',
  /** EKS cluster name (the signed `x-k8s-aws-id` header of the token). */
  eksClusterName: 'DAEMONLESS_EKS_CLUSTER_NAME',
  /** EKS API server endpoint (https://…). */
  eksEndpoint: 'DAEMONLESS_EKS_ENDPOINT',
  /** EKS cluster CA, base64 PEM as in `certificateAuthority.data`. */
  eksCaData: 'DAEMONLESS_EKS_CA_DATA',
  /** Secrets Manager ARN of a kubeconfig (YAML) or `{server, token, caData?}` JSON (mode `secret`). */
  kubeconfigSecretArn: 'DAEMONLESS_KUBECONFIG_SECRET_ARN',
  /** Path of a kubeconfig file (mode `kubeconfig`; unset = the default loading rules). */
  kubeconfigPath: 'DAEMONLESS_KUBECONFIG',
  /** Which DaemonSets are managed: `native` (apps/v1) or `crd` (daemonless.io/v1). */
  managedResource: 'DAEMONLESS_MANAGED_RESOURCE',
  /** How daemon pods are placed: `affinity` (default scheduler binds) or `nodeName`. */
  placement: 'DAEMONLESS_PLACEMENT',
  /** `on` (default): keep nodes and each DaemonSet's pods warm between passes (IMPL-10); `off`: list every pass. */
  listCache: 'DAEMONLESS_LIST_CACHE',
  /** Log level: DEBUG, INFO, WARN, ERROR. */
  logLevel: 'DAEMONLESS_LOG_LEVEL',
  /** maxReceiveCount of the reconcile queue's redrive policy (the last receive emits a warning Event). */
  maxReceives: 'DAEMONLESS_MAX_RECEIVES',
  /** CloudWatch metrics namespace. */
  metricsNamespace: 'DAEMONLESS_METRICS_NAMESPACE',
  /** Local runner: seconds between resyncs of every DaemonSet. */
  resyncSeconds: 'DAEMONLESS_RESYNC_SECONDS',
  /** Local runner: webhook port on 127.0.0.1 (0 = a free port). */
  webhookPort: 'DAEMONLESS_WEBHOOK_PORT',
  /** Local runner: number of reconcile workers. */
  workers: 'DAEMONLESS_WORKERS',
  /** AWS region (Lambda sets AWS_REGION; this overrides it). */
  region: 'DAEMONLESS_REGION',
} as const;

/**
 * The webhook's default (and largest) body limit: a Lambda Function URL carries requests of up to
 * 6 MB (6 MiB, 6,291,456 bytes), so a smaller default would refuse what the URL delivers.
 */
export const WEBHOOK_MAX_BYTES = 6 * 1024 * 1024;

/** Which driver is loading the configuration; decides which variables are required. */
export type ConfigRole = 'webhook' | 'reconcile' | 'resync' | 'local';

export type ClusterAuth =
  | { readonly mode: 'eks'; readonly clusterName: string; readonly endpoint: string; readonly caData: string }
  | { readonly mode: 'secret'; readonly secretArn: string }
  | { readonly mode: 'kubeconfig'; readonly path: string | null };

export type WebhookAuthMode = 'path' | 'hmac' | 'any';
export type PlacementMode = 'affinity' | 'nodeName';
export type LogLevel = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';

export interface Config {
  readonly role: ConfigRole;
  readonly region: string | null;
  readonly queueUrl: string | null;
  readonly delayQueueUrl: string | null;
  readonly sqsEndpoint: string | null;
  readonly webhook: {
    readonly secrets: readonly string[];
    readonly secretArn: string | null;
    readonly auth: WebhookAuthMode;
    readonly maxBytes: number;
  };
  readonly cluster: ClusterAuth;
  readonly managedResource: ManagedResource;
  readonly placement: PlacementMode;
  readonly listCache: boolean;
  readonly logLevel: LogLevel;
  readonly maxReceives: number;
  readonly metricsNamespace: string;
  readonly resyncSeconds: number;
  readonly webhookPort: number;
  readonly workers: number;
}

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

const opt = z.string().trim().min(1).optional();
const url = z.url({ protocol: /^https?$/ }).optional();
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const arn = z.string().trim().regex(/^arn:aws[a-z-]*:secretsmanager:/, 'must be a Secrets Manager ARN').optional();

const envSchema = z.object({
  [ENV.queueUrl]: url,
  [ENV.delayQueueUrl]: url,
  [ENV.sqsEndpoint]: url,
  [ENV.webhookSecret]: opt,
  [ENV.webhookSecretArn]: arn,
  [ENV.webhookAuth]: z.enum(['path', 'hmac', 'any']).default('any'),
  [ENV.webhookMaxBytes]: int(1024, WEBHOOK_MAX_BYTES).default(WEBHOOK_MAX_BYTES),
  [ENV.clusterAuth]: z.enum(['eks', 'secret', 'kubeconfig']).optional(),
  [ENV.eksClusterName]: z.string().trim().regex(/^[0-9A-Za-z][A-Za-z0-9\-_]{0,99}$/, 'must be an EKS cluster name').optional(),
  [ENV.eksEndpoint]: z.url({ protocol: /^https$/ }).optional(),
  [ENV.eksCaData]: z.string().trim().regex(/^[A-Za-z0-9+/=\s]+$/, 'must be base64').optional(),
  [ENV.kubeconfigSecretArn]: arn,
  [ENV.kubeconfigPath]: opt,
  [ENV.managedResource]: z.enum(['native', 'crd']).default('native'),
  [ENV.placement]: z.enum(['affinity', 'nodeName']).default('affinity'),
  [ENV.listCache]: z.enum(['on', 'off']).default('on'),
  [ENV.logLevel]: z.preprocess((v) => (typeof v === 'string' ? v.toUpperCase() : v),
    z.enum(['DEBUG', 'INFO', 'WARN', 'ERROR'])).default('INFO'),
  [ENV.maxReceives]: int(1, 1000).default(5),
  [ENV.metricsNamespace]: z.string().trim().regex(/^[A-Za-z0-9._/#:-]{1,255}$/).default('daemonless'),
  [ENV.resyncSeconds]: int(1, 7 * 24 * 3600).default(300),
  [ENV.webhookPort]: int(0, 65535).default(0),
  [ENV.workers]: int(1, 256).default(4),
  [ENV.region]: opt,
  AWS_REGION: opt,
});

const needsQueue: readonly ConfigRole[] = ['webhook', 'reconcile', 'resync'];
const needsCluster: readonly ConfigRole[] = ['reconcile', 'resync'];

/**
 * Parses the environment into a frozen Config. Throws one ConfigError listing every problem.
 * Secrets are never part of the error text.
 */
export function loadConfig(env: Readonly<Record<string, string | undefined>>, role: ConfigRole): Config {
  const blank = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v.trim() !== ''));
  const parsed = envSchema.safeParse(blank);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${String(i.path[0] ?? '?')}: ${i.message}`));
  }
  const e = parsed.data;
  const problems: string[] = [];
  const require = (name: string, value: unknown, why: string): void => {
    if (value === undefined) problems.push(`${name}: required ${why}`);
  };

  if (needsQueue.includes(role)) require(ENV.queueUrl, e[ENV.queueUrl], `by the ${role} function`);
  if (role === 'reconcile') require(ENV.delayQueueUrl, e[ENV.delayQueueUrl], 'by the reconcile function (requeue-after)');
  const queueUrl = e[ENV.queueUrl];
  if (queueUrl !== undefined && !new URL(queueUrl).pathname.endsWith('.fifo')) {
    problems.push(`${ENV.queueUrl}: must be a FIFO queue (name ending in .fifo)`);
  }
  const delayUrl = e[ENV.delayQueueUrl];
  if (delayUrl !== undefined && new URL(delayUrl).pathname.endsWith('.fifo')) {
    problems.push(`${ENV.delayQueueUrl}: must be a standard queue (FIFO queues reject per-message DelaySeconds)`);
  }

  const secrets = (e[ENV.webhookSecret] ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (secrets.some((s) => s.length < 16)) problems.push(`${ENV.webhookSecret}: every secret must be at least 16 characters`);
  if (secrets.some((s) => !/^[A-Za-z0-9._~-]+$/.test(s))) {
    problems.push(`${ENV.webhookSecret}: secrets may contain only URL-safe characters [A-Za-z0-9._~-]`);
  }
  if (role === 'webhook' && secrets.length === 0 && e[ENV.webhookSecretArn] === undefined) {
    problems.push(`${ENV.webhookSecret} or ${ENV.webhookSecretArn}: one is required by the webhook function`);
  }

  const mode = e[ENV.clusterAuth] ?? (role === 'local' ? 'kubeconfig' : undefined);
  let cluster: ClusterAuth = { mode: 'kubeconfig', path: e[ENV.kubeconfigPath] ?? null };
  if (mode === undefined) {
    if (needsCluster.includes(role)) problems.push(`${ENV.clusterAuth}: required by the ${role} function (eks|secret|kubeconfig)`);
  } else if (mode === 'eks') {
    require(ENV.eksClusterName, e[ENV.eksClusterName], 'when DAEMONLESS_CLUSTER_AUTH=eks');
    require(ENV.eksEndpoint, e[ENV.eksEndpoint], 'when DAEMONLESS_CLUSTER_AUTH=eks');
    require(ENV.eksCaData, e[ENV.eksCaData], 'when DAEMONLESS_CLUSTER_AUTH=eks');
    if (e[ENV.region] === undefined && e.AWS_REGION === undefined) {
      problems.push(`${ENV.region} or AWS_REGION: required when DAEMONLESS_CLUSTER_AUTH=eks (regional STS host)`);
    }
    cluster = { mode: 'eks', clusterName: e[ENV.eksClusterName] ?? '', endpoint: e[ENV.eksEndpoint] ?? '', caData: (e[ENV.eksCaData] ?? '').replace(/\s+/g, '') };
  } else if (mode === 'secret') {
    require(ENV.kubeconfigSecretArn, e[ENV.kubeconfigSecretArn], 'when DAEMONLESS_CLUSTER_AUTH=secret');
    cluster = { mode: 'secret', secretArn: e[ENV.kubeconfigSecretArn] ?? '' };
  }

  if (problems.length > 0) throw new ConfigError(problems);

  const config: Config = {
    role,
    region: e[ENV.region] ?? e.AWS_REGION ?? null,
    queueUrl: queueUrl ?? null,
    delayQueueUrl: delayUrl ?? null,
    sqsEndpoint: e[ENV.sqsEndpoint] ?? null,
    webhook: Object.freeze({
      secrets: Object.freeze(secrets),
      secretArn: e[ENV.webhookSecretArn] ?? null,
      auth: e[ENV.webhookAuth],
      maxBytes: e[ENV.webhookMaxBytes],
    }),
    cluster: Object.freeze(cluster),
    managedResource: e[ENV.managedResource],
    placement: e[ENV.placement],
    listCache: e[ENV.listCache] === 'on',
    logLevel: e[ENV.logLevel],
    maxReceives: e[ENV.maxReceives],
    metricsNamespace: e[ENV.metricsNamespace],
    resyncSeconds: e[ENV.resyncSeconds],
    webhookPort: e[ENV.webhookPort],
    workers: e[ENV.workers],
  };
  return Object.freeze(config);
}
