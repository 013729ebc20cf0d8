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
import { StartSequence } from './start-sequence.js';
import { startWatchSource } from './watch-source.js';
import { startWebhookServer } from './webhook-server.js';

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

/**
 * Starts the pipeline as one start sequence: queue, workers, resync, webhook server, watch source.
 * When a part fails to start (a webhook port in use, a watch source without a kubeconfig), the
 * parts already started are stopped before the error is thrown; `stop()` stops them newest first.
 */
export async function runLocal(deps: LocalRunnerDeps, options: LocalRunnerOptions): Promise<LocalRunner> {
  const logger = deps.logger ?? silentLogger;
  const metrics = deps.metrics ?? new RecordingMetrics();
  const now = options.now ?? Date.now;
  const maxReceives = options.maxReceives ?? 5;
  const sequence = new StartSequence(undefined, (what, e) => logger.warn(`stopping ${what} failed`, { error: e instanceof Error ? e.message : String(e) }));

  const q = await sequence.start('the queue', () => openQueue(options.queue ?? { kind: 'memory' }, maxReceives, now), (opened) => opened.fifo?.close());
  const batchDeps: BatchDeps = {
    reconcile: deps.reconcile,
    queue: q.queue,
    listDaemonSets: deps.listDaemonSets,
    emitEvent: deps.emitEvent ?? (async () => undefined),
    logger,
    metrics,
    now,
    maxReceives,
    ...(q.forwardDelayed === undefined ? {} : { forwardDelayed: q.forwardDelayed }),
  };
  const workerCount = options.workers ?? 4;
  const workers = await sequence.start('the reconcile workers', () => startWorkers(q, batchDeps, workerCount, options), (w) => w.stop());
  const resync = await sequence.start('the resync timer', () => startResync(deps.listDaemonSets, q.queue, logger, metrics, now, options.resyncEverySeconds), (r) => r.stop());
  const w = options.webhook;
  const server = w === false ? null : await sequence.start('the webhook server', () => startWebhookServer({
    queue: q.queue,
    auth: { secrets: w?.secrets ?? [], mode: w?.auth ?? 'any', required: (w?.secrets ?? []).length > 0 },
    managed: options.managed,
    maxBytes: w?.maxBytes ?? WEBHOOK_MAX_BYTES,
    logger,
    metrics,
    now,
  }, { port: w?.port ?? 0 }), (s) => s.close());
  if (options.watch === true) {
    await sequence.start('the watch source', () => {
      if (deps.kubeConfig === undefined) throw new Error('the watch source needs deps.kubeConfig');
      return startWatchSource({ kubeConfig: deps.kubeConfig, queue: q.queue, managed: options.managed, logger, now });
    }, (source) => source.stop());
  }

  logger.info('local runner started', { webhook: server?.url ?? null, queue: q.kind, workers: workerCount, watch: options.watch === true });

  let stopping: Promise<void> | null = null;
  return {
    webhookUrl: server?.url ?? null,
    queue: q.queue,
    fifo: q.fifo,
    metrics,
    resync: resync.now,
    async idle(timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        if (q.fifo === null) throw new Error('idle() needs the in-process queue');
        const depth = q.fifo.depth();
        if (depth.visible + depth.inFlight + depth.delayed === 0 && workers.busy() === 0) return;
        if (Date.now() > deadline) throw new Error(`not idle after ${timeoutMs} ms: ${JSON.stringify({ ...depth, busy: workers.busy() })}`);
        await sleep(10);
      }
    },
    stop() {
      stopping ??= sequence.stop().then(() => logger.info('local runner stopped'));
      return stopping;
    },
  };
}

/** The queue the runner feeds and drains: the in-process FIFO queue, or a real SQS FIFO queue with its delay queue. */
interface OpenQueue {
  readonly kind: LocalQueueOptions['kind'];
  readonly queue: EventQueue;
  readonly fifo: MemoryFifoQueue | null;
  readonly consumer: QueueConsumer;
  readonly delayConsumer: QueueConsumer | null;
  readonly forwardDelayed: BatchDeps['forwardDelayed'];
}

function openQueue(q: LocalQueueOptions, maxReceives: number, now: () => number): OpenQueue {
  if (q.kind === 'memory') {
    const fifo = new MemoryFifoQueue({ maxReceives, visibilityTimeoutMs: q.visibilityTimeoutMs ?? 60_000, ...(q.clock === undefined ? {} : { clock: q.clock }) });
    return { kind: q.kind, queue: createMemoryWorkQueue(fifo), fifo, consumer: fifo.consumer(), delayConsumer: null, forwardDelayed: undefined };
  }
  const sqs = createSqsWorkQueue({ client: q.client, queueUrl: q.queueUrl, delayQueueUrl: q.delayQueueUrl, now });
  return {
    kind: q.kind,
    queue: sqs,
    fifo: null,
    consumer: createSqsConsumer({ client: q.client, queueUrl: q.queueUrl, ...(q.visibilityTimeoutSeconds === undefined ? {} : { visibilityTimeoutSeconds: q.visibilityTimeoutSeconds }) }),
    delayConsumer: createSqsConsumer({ client: q.client, queueUrl: q.delayQueueUrl }),
    forwardDelayed: (m) => sqs.forwardDelayed(m),
  };
}

/**
 * The reconcile workers (and, with SQS, the delay-queue forwarder). Each receives up to 10 messages
 * (as the Lambda event source does), runs each message group's records in order and the groups
 * side by side. Records of one batch share one BatchState, so a burst of events for one DaemonSet
 * collapses into one reconcile, as in the reconcile function. A failed record is retried later,
 * and so is everything behind it in its group (FIFO order).
 */
/** How long a pass of the local runner may go on after its burst cap (IMPL-7); a Lambda gets half its remaining time. */
const CONTINUE_FOR_MS = 30_000;

function startWorkers(q: OpenQueue, batchDeps: BatchDeps, count: number, options: LocalRunnerOptions): { busy(): number; stop(): Promise<void> } {
  const abort = new AbortController();
  const retryBase = options.retryBaseMs ?? 200;
  const retryMax = options.retryMaxMs ?? 30_000;
  let busy = 0;
  const work = async (source: QueueConsumer, name: string): Promise<void> => {
    while (!abort.signal.aborted) {
      let deliveries: Delivery[];
      try {
        deliveries = await source.receive(10, 1000, abort.signal);
      } catch (e) {
        if (abort.signal.aborted) return;
        batchDeps.logger.warn('receive failed', { worker: name, error: e instanceof Error ? e.message : String(e) });
        await sleep(1000, abort.signal);
        continue;
      }
      const batch = newBatchState({ continueUntil: Date.now() + CONTINUE_FOR_MS });
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
  for (let i = 0; i < count; i += 1) loops.push(work(q.consumer, `worker-${i}`));
  if (q.delayConsumer !== null) loops.push(work(q.delayConsumer, 'delay-forwarder'));
  return {
    busy: () => busy,
    async stop() {
      abort.abort();
      await Promise.allSettled(loops);
    },
  };
}

/**
 * The resync at start and the periodic one. The dedup ids of a resync derive from its time:
 * periodic resyncs use the period's tick (runners sharing one queue then enqueue each key once per
 * period); the resync at start and `now()` use the current time, so that they are never swallowed
 * by an earlier one's dedup ids.
 */
function startResync(listDaemonSets: ListDaemonSets, queue: EventQueue, logger: AppLogger, metrics: AppMetrics, now: () => number, everySeconds: number | null | undefined): { now(): Promise<number>; stop(): void } {
  const resyncAt = async (scheduledAt: number): Promise<number> =>
    (await resyncAll({ listDaemonSets, queue, logger, metrics }, { scheduledAt })).keys;
  const resyncSafely = (at: () => number): void => {
    resyncAt(at()).catch((e: unknown) => logger.warn('resync failed', { error: e instanceof Error ? e.message : String(e) }));
  };
  resyncSafely(now);
  const period = (everySeconds ?? 300) * 1000;
  const timer = everySeconds === null || period <= 0 ? null : setInterval(() => resyncSafely(() => Math.floor(now() / period) * period), period);
  return {
    now: () => resyncAt(now()),
    stop: () => {
      if (timer !== null) clearInterval(timer);
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

