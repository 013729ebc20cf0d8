/**
 * The local runner: the serverless pipeline in one process. It starts
 * (a) the webhook on 127.0.0.1 (same handleWebhook as the Lambda function),
 * (b) the in-process FIFO queue — or a real SQS endpoint (FIFO queue + delay queue) when configured,
 * (c) N workers that pull one message at a time (one per message group in flight) and run the same
 *     processRecord as the reconcile Lambda: transient failures come back after a backoff, the
 *     DLQ takes a message after maxReceives, requeue-after goes through delayed delivery,
 * (d) a resync timer (and one resync at start),
 * (e) optionally a watch-based event source (nodes, pods, DaemonSets → the same event mapping).
 * `stop()` ends all of it and leaves no timer, socket or loop behind.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { MemoryFifoQueue, type Clock } from '../adapters/memory/fifo-queue.js';
import { createMemoryWorkQueue } from '../adapters/memory/memory-work-queue.js';
import { createSqsConsumer, createSqsWorkQueue } from '../adapters/sqs/sqs-work-queue.js';
import { WEBHOOK_MAX_BYTES, type WebhookAuthMode } from '../config.js';
import type { ManagedResource } from '../core/index.js';
import { newBatchState, processRecord, type BatchDeps } from '../app/process-batch.js';
import type { ReconcileFn } from '../app/ports.js';
import type { Delivery, EmitEvent, EventQueue, ListDaemonSets, QueueConsumer } from '../app/queue.js';
import { resyncAll } from '../app/resync-all.js';
import { silentLogger, type AppLogger, type AppMetrics } from '../observability/ports.js';
import { RecordingMetrics } from '../observability/recording.js';
import { startWatchSource, type WatchSource } from './watch-source.js';
import { startWebhookServer, type WebhookServer } from './webhook-server.js';

export interface LocalRunnerDeps {
  readonly reconcile: ReconcileFn;
  readonly listDaemonSets: ListDaemonSets;
  /** Kubernetes Events for terminal failures (default: none). */
  readonly emitEvent?: EmitEvent;
  readonly logger?: AppLogger;
  /** Default: a RecordingMetrics, exposed as `runner.metrics`. */
  readonly metrics?: AppMetrics;
  /** Needed for the watch source. */
  readonly kubeConfig?: KubeConfig;
}

export type LocalQueueOptions =
  | { readonly kind: 'memory'; readonly visibilityTimeoutMs?: number; readonly clock?: Clock }
  | { readonly kind: 'sqs'; readonly client: SQSClient; readonly queueUrl: string; readonly delayQueueUrl: string; readonly visibilityTimeoutSeconds?: number };

export interface LocalRunnerOptions {
  readonly managed: ManagedResource;
  /** The webhook server; `false` = none. Without `secrets` no authentication is required (loopback only). */
  readonly webhook?: false | { readonly port?: number; readonly secrets?: readonly string[]; readonly auth?: WebhookAuthMode; readonly maxBytes?: number };
  readonly queue?: LocalQueueOptions;
  /** Reconcile workers (default 4). */
  readonly workers?: number;
  /** Seconds between resyncs; null = only the resync at start; default 300. */
  readonly resyncEverySeconds?: number | null;
  /** Watch nodes, pods and DaemonSets (needs deps.kubeConfig). */
  readonly watch?: boolean;
  /** Receives before the DLQ (default 5). */
  readonly maxReceives?: number;
  /** Backoff of a failed record: base · 2^(receives−1), capped (defaults 200 ms, 30 s). */
  readonly retryBaseMs?: number;
  readonly retryMaxMs?: number;
  readonly now?: () => number;
}

export interface LocalRunner {
  /** `http://127.0.0.1:<port>` (POST to `/hook/<secret>`, or any path when no secret is set); null without a webhook. */
  readonly webhookUrl: string | null;
  readonly queue: EventQueue;
  /** The in-process queue (null with SQS): depth, dead letters. */
  readonly fifo: MemoryFifoQueue | null;
  readonly metrics: AppMetrics;
  /** Runs one resync now. */
  resync(): Promise<number>;
  /** Resolves when the in-process queue is empty and no worker is busy (memory queue only). */
  idle(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export async function runLocal(deps: LocalRunnerDeps, options: LocalRunnerOptions): Promise<LocalRunner> {
  const logger = deps.logger ?? silentLogger;
  const metrics = deps.metrics ?? new RecordingMetrics();
  const now = options.now ?? Date.now;
  const maxReceives = options.maxReceives ?? 5;
  const abort = new AbortController();
  const q = options.queue ?? { kind: 'memory' };

  let fifo: MemoryFifoQueue | null = null;
  let queue: EventQueue;
  let consumer: QueueConsumer;
  let delayConsumer: QueueConsumer | null = null;
  let forwardDelayed: BatchDeps['forwardDelayed'];
  if (q.kind === 'memory') {
    fifo = new MemoryFifoQueue({ maxReceives, visibilityTimeoutMs: q.visibilityTimeoutMs ?? 60_000, ...(q.clock === undefined ? {} : { clock: q.clock }) });
    queue = createMemoryWorkQueue(fifo);
    consumer = fifo.consumer();
  } else {
    const sqs = createSqsWorkQueue({ client: q.client, queueUrl: q.queueUrl, delayQueueUrl: q.delayQueueUrl, now });
    queue = sqs;
    forwardDelayed = (m) => sqs.forwardDelayed(m);
    consumer = createSqsConsumer({ client: q.client, queueUrl: q.queueUrl, ...(q.visibilityTimeoutSeconds === undefined ? {} : { visibilityTimeoutSeconds: q.visibilityTimeoutSeconds }) });
    delayConsumer = createSqsConsumer({ client: q.client, queueUrl: q.delayQueueUrl });
  }

  const batchDeps: BatchDeps = {
    reconcile: deps.reconcile,
    queue,
    listDaemonSets: deps.listDaemonSets,
    emitEvent: deps.emitEvent ?? (async () => undefined),
    logger,
    metrics,
    now,
    maxReceives,
    ...(forwardDelayed === undefined ? {} : { forwardDelayed }),
  };

  let busy = 0;
  const retryBase = options.retryBaseMs ?? 200;
  const retryMax = options.retryMaxMs ?? 30_000;

  /**
   * One worker: receives up to 10 messages (as the Lambda event source does), runs each message
   * group's records in order and the groups side by side. Records of one batch share one
   * BatchState, so a burst of events for one DaemonSet collapses into one reconcile, as in the
   * reconcile function. A failed record is retried later, and so is everything behind it in its
   * group (FIFO order).
   */
  const work = async (source: QueueConsumer, name: string): Promise<void> => {
    while (!abort.signal.aborted) {
      let deliveries: Delivery[];
      try {
        deliveries = await source.receive(10, 1000, abort.signal);
      } catch (e) {
        if (abort.signal.aborted) return;
        logger.warn('receive failed', { worker: name, error: e instanceof Error ? e.message : String(e) });
        await sleep(1000, abort.signal);
        continue;
      }
      const batch = newBatchState();
      const groups = new Map<string, Delivery[]>();
      for (const d of deliveries) groups.set(d.groupId ?? d.messageId, [...(groups.get(d.groupId ?? d.messageId) ?? []), d]);
      busy += deliveries.length;
      await Promise.all([...groups.values()].map(async (records) => {
        let failed = false;
        for (const d of records) {
          try {
            if (failed) throw new Error('an earlier record of its group failed');
            await processRecord({ messageId: d.messageId, body: d.body, receiveCount: d.receiveCount }, batchDeps, batch, abort.signal);
            await source.ack(d);
          } catch {
            failed = true;
            await source.retryLater(d, Math.min(retryMax, retryBase * 2 ** Math.max(0, d.receiveCount - 1))).catch(() => undefined);
          } finally {
            busy -= 1;
          }
        }
      }));
    }
  };

  const loops: Promise<void>[] = [];
  const workers = options.workers ?? 4;
  for (let i = 0; i < workers; i += 1) loops.push(work(consumer, `worker-${i}`));
  if (delayConsumer !== null) loops.push(work(delayConsumer, 'delay-forwarder'));

  // The dedup ids of a resync derive from its time: periodic resyncs use the period's tick (runners
  // sharing one queue then enqueue each key once per period); the resync at start and `resync()`
  // use the current time, so that they are never swallowed by an earlier one's dedup ids.
  const resyncAt = async (scheduledAt: number): Promise<number> =>
    (await resyncAll({ listDaemonSets: deps.listDaemonSets, queue, logger, metrics }, { scheduledAt })).keys;
  const resync = (): Promise<number> => resyncAt(now());
  const resyncSafely = (at: () => number): void => {
    resyncAt(at()).catch((e: unknown) => logger.warn('resync failed', { error: e instanceof Error ? e.message : String(e) }));
  };
  resyncSafely(now);
  const period = (options.resyncEverySeconds ?? 300) * 1000;
  const resyncTimer = options.resyncEverySeconds === null || period <= 0
    ? null
    : setInterval(() => resyncSafely(() => Math.floor(now() / period) * period), period);

  let server: WebhookServer | null = null;
  if (options.webhook !== false) {
    const w = options.webhook ?? {};
    const secrets = w.secrets ?? [];
    server = await startWebhookServer({
      queue,
      auth: { secrets, mode: w.auth ?? 'any', required: secrets.length > 0 },
      managed: options.managed,
      maxBytes: w.maxBytes ?? WEBHOOK_MAX_BYTES,
      logger,
      metrics,
      now,
    }, { port: w.port ?? 0 });
  }

  let watch: WatchSource | null = null;
  if (options.watch === true) {
    if (deps.kubeConfig === undefined) throw new Error('the watch source needs deps.kubeConfig');
    watch = startWatchSource({ kubeConfig: deps.kubeConfig, queue, managed: options.managed, logger, now });
  }

  logger.info('local runner started', { webhook: server?.url ?? null, queue: q.kind, workers, watch: options.watch === true });

  let stopping: Promise<void> | null = null;
  return {
    webhookUrl: server?.url ?? null,
    queue,
    fifo,
    metrics,
    resync,
    async idle(timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        if (fifo === null) throw new Error('idle() needs the in-process queue');
        const depth = fifo.depth();
        if (depth.visible + depth.inFlight + depth.delayed === 0 && busy === 0) return;
        if (Date.now() > deadline) throw new Error(`not idle after ${timeoutMs} ms: ${JSON.stringify({ ...depth, busy })}`);
        await sleep(10);
      }
    },
    stop() {
      stopping ??= (async () => {
        abort.abort();
        if (resyncTimer !== null) clearInterval(resyncTimer);
        await watch?.stop();
        await server?.close();
        fifo?.close();
        await Promise.allSettled(loops);
        logger.info('local runner stopped');
      })();
      return stopping;
    },
  };
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => { clearTimeout(t); signal?.removeEventListener('abort', done); resolve(); };
    const t = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

