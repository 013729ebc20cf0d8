/**
 * The composition root of the Lambda handlers: built on first invocation from `process.env`
 * (never at import), memoized per container. A failed build is not cached, so the next invocation
 * tries again. The webhook's dependencies are here; the reconcile and resync functions add the
 * cluster side in cluster-deps.ts, so that the webhook bundle does not carry the Kubernetes client.
 */
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import { createSecretReader, type SecretReader } from '../../lib/adapters/credentials/secrets.js';
import { createSqsWorkQueue, type SqsWorkQueue } from '../../lib/adapters/sqs/sqs-work-queue.js';
import type { WebhookDeps } from '../../lib/app/handle-webhook.js';
import type { BatchDeps } from '../../lib/app/process-batch.js';
import type { ResyncDeps } from '../../lib/app/resync-all.js';
import { loadConfig, type Config, type ConfigRole } from '../../lib/config.js';
import { toAppLogger, toAppMetrics } from '../../lib/observability/powertools.js';
import { observability, type Observability } from './observability.js';

export interface WebhookHandlerDeps { readonly webhook: WebhookDeps }
export interface ReconcileHandlerDeps { readonly batch: BatchDeps }
export interface ResyncHandlerDeps { readonly resync: ResyncDeps }

/** What `createHandler` accepts: the deps, or a (lazy) function producing them. */
export type DepsSource<T> = T | (() => Promise<T>);

export const resolveDeps = async <T extends object>(source: DepsSource<T>): Promise<T> =>
  typeof source === 'function' ? (source as () => Promise<T>)() : source;

/** Memoizes an async builder; a rejected build is forgotten. */
export function lazy<T>(build: () => Promise<T>): () => Promise<T> {
  let value: Promise<T> | null = null;
  return () => {
    if (value === null) {
      value = build();
      value.catch(() => { value = null; });
    }
    return value;
  };
}

export interface Base {
  readonly config: Config;
  readonly obs: Observability;
  readonly sqs: SQSClient;
  readonly queue: SqsWorkQueue;
  readonly readSecret: SecretReader;
}

const bases = new Map<ConfigRole, Base>();

export function base(role: ConfigRole): Base {
  const existing = bases.get(role);
  if (existing !== undefined) return existing;
  const config = loadConfig(process.env, role);
  const obs = observability();
  const region = config.region ?? undefined;
  const sqs = obs.tracer.captureAWSv3Client(new SQSClient({
    ...(region === undefined ? {} : { region }),
    ...(config.sqsEndpoint === null ? {} : { endpoint: config.sqsEndpoint }),
  }));
  const secrets = obs.tracer.captureAWSv3Client(new SecretsManagerClient(region === undefined ? {} : { region }));
  const queue = createSqsWorkQueue({ client: sqs, queueUrl: config.queueUrl ?? '', delayQueueUrl: config.delayQueueUrl });
  const b: Base = { config, obs, sqs, queue, readSecret: createSecretReader(secrets) };
  bases.set(role, b);
  return b;
}

/** Secrets in the secret: one value, or several separated by commas/newlines, or `{"secrets": [...]}`. */
export function parseWebhookSecret(text: string): string[] {
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) {
    const value = JSON.parse(trimmed) as { secret?: unknown; secrets?: unknown };
    const list = Array.isArray(value.secrets) ? value.secrets : [value.secret];
    return list.filter((s): s is string => typeof s === 'string' && s.length > 0);
  }
  return trimmed.split(/[,\n]/).map((s) => s.trim()).filter((s) => s.length > 0);
}

export const webhookDeps = lazy(async (): Promise<WebhookHandlerDeps> => {
  const b = base('webhook');
  const fromArn = b.config.webhook.secretArn === null ? [] : parseWebhookSecret(await b.readSecret(b.config.webhook.secretArn));
  return {
    webhook: {
      queue: b.queue,
      auth: { secrets: [...b.config.webhook.secrets, ...fromArn], mode: b.config.webhook.auth, required: true },
      managed: b.config.managedResource,
      maxBytes: b.config.webhook.maxBytes,
      logger: toAppLogger(b.obs.logger),
      metrics: toAppMetrics(b.obs.metrics),
      now: Date.now,
    },
  };
});

