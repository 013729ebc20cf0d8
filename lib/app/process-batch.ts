/**
 * What the reconcile function does with one queue record. The Lambda handler runs it per record
 * under Powertools' SqsFifoPartialProcessorAsync (records in order; a failure fails the rest of its
 * message group); the local runner runs it per delivery.
 *
 * - `reconcile`: reconcile the key once per batch — later records for the same key in the same batch
 *   share the first one's result (the reconcile read live state after all of them were sent).
 *   Success with `requeueAfterSeconds` → enqueueAfter through the delay path, then ack. A
 *   node-scoped pass runs in its own message group; when it leaves the work to a full pass
 *   (`fullPassNeeded`), that is enqueued in the key's group, then ack.
 * - `fanout`: list the DaemonSets (paged; one list per batch for the cluster-wide ones) and enqueue
 *   the matching keys; a node fan-out runs its node-scoped passes itself (IMPL-9).
 * - `delayed` (delay queue): forward into the FIFO queue when due, or delay again.
 * - Errors: InvalidMessageError → log, ack. TerminalError → log, Warning Event, ack. A record
 *   collapsed into a reconcile that failed shares its fate: acked after a terminal failure,
 *   failed (redelivered) after a transient one; the Event and metrics come from the first record.
 *   TransientError and anything unclassified → throw: the record fails, SQS redelivers it, and after
 *   maxReceives it lands in the DLQ (the last attempt also emits a Warning Event).
 */
import { decodeMessage, MAX_LABEL_SELECTOR, type DelayedMessage, type FanoutMessage, type QueueMessage } from './messages.js';
import { dedupId } from '../events/identity.js';
import type { V1DaemonSet } from '@kubernetes/client-node';
import type { DaemonSetKey, DaemonSetSummary, ReconcileRequest } from '../events/types.js';
import { formatLabelSelector, selectorAdopts } from '../core/label-selector.js';
import { nodeChangePass } from '../core/triggers.js';
import { METRIC, type AppLogger, type AppMetrics } from '../observability/ports.js';
import { ControllerError, InvalidMessageError, TerminalError } from './errors.js';
import { DEFAULT_PAGE_SIZE, daemonSetPages } from './list-daemonsets.js';
import type { ReconcileFn, ReconcileOptions, ReconcileReport, SharedReads } from './ports.js';
import type { EmitEvent, EventQueue, ListDaemonSets } from './queue.js';

export interface QueueRecord {
  readonly messageId: string;
  readonly body: string;
  /** 1 on the first receive. */
  readonly receiveCount: number;
}

export interface BatchDeps {
  readonly reconcile: ReconcileFn;
  readonly queue: EventQueue;
  readonly listDaemonSets: ListDaemonSets;
  readonly emitEvent: EmitEvent;
  /** Present where a delay queue exists (SQS); the in-process queue delays by itself. */
  readonly forwardDelayed?: (message: DelayedMessage) => Promise<'forwarded' | 'redelayed'>;
  readonly logger: AppLogger;
  readonly metrics: AppMetrics;
  readonly now: () => number;
  /** The queue's maxReceiveCount: the receive that reaches it is the last before the DLQ. */
  readonly maxReceives: number;
  readonly pageSize?: number;
  /** Delay of the second look after an admission event (default DEFAULT_RECHECK_SECONDS). */
  readonly recheckSeconds?: number;
}

/**
 * Admission webhooks answer within their timeout (the shipped configuration: 3 s) before the object
 * is stored; 5 s covers that with a margin.
 */
export const DEFAULT_RECHECK_SECONDS = 5;

/**
 * Per-batch memory: the reconcile of each key (and of each node-scoped pass), shared by later
 * records for the same work; the reads the batch's passes share; how long a pass may continue
 * after its burst cap (IMPL-7).
 */
export interface BatchState {
  readonly reconciles: Map<string, Promise<ReconcileReport>>;
  readonly shared: SharedReads;
  readonly continueUntil?: number;
}

export const newBatchState = (options: { continueUntil?: number } = {}): BatchState => ({
  reconciles: new Map(), shared: {}, ...(options.continueUntil === undefined ? {} : { continueUntil: options.continueUntil }),
});

/** The batch-memory slot of a record: a full pass of the key, or a node-scoped pass. */
const workOf = (key: DaemonSetKey, node: string | undefined): string => (node === undefined ? key : `${key}\u0000${node}`);

export type RecordOutcome =
  | { readonly kind: 'reconciled'; readonly key: DaemonSetKey; readonly report: ReconcileReport; readonly collapsed: boolean }
  | { readonly kind: 'fanout'; readonly keys: number }
  | { readonly kind: 'delayed'; readonly result: 'forwarded' | 'redelayed' }
  | { readonly kind: 'dropped'; readonly reason: string };

const uidOf = (e: unknown): { uid?: string } =>
  (e instanceof ControllerError && e.daemonSetUid !== undefined ? { uid: e.daemonSetUid } : {});

const errorText = (e: unknown): string => (e instanceof Error ? `${e.name}: ${e.message}` : String(e));

/** Handles one record; resolves = ack, rejects = the record failed (redelivered). */
export async function processRecord(record: QueueRecord, deps: BatchDeps, batch: BatchState, signal?: AbortSignal): Promise<RecordOutcome> {
  let message: QueueMessage;
  try {
    message = decodeMessage(record.body);
  } catch (e) {
    deps.metrics.count(METRIC.invalidMessages);
    deps.logger.error('dropping an invalid message', { messageId: record.messageId, error: errorText(e) });
    return { kind: 'dropped', reason: errorText(e) };
  }
  switch (message.type) {
    case 'reconcile':
      return reconcileRecord(message, record, deps, batch, signal).then(async (outcome) => {
        if (message.recheck) await scheduleRecheck(message.key, deps);
        return outcome;
      });
    case 'fanout':
      return expandFanout(message, record, deps, batch, signal);
    case 'delayed': {
      if (deps.forwardDelayed === undefined) {
        deps.metrics.count(METRIC.invalidMessages);
        deps.logger.error('dropping a delayed message: no delay queue here', { messageId: record.messageId });
        return { kind: 'dropped', reason: 'no delay queue' };
      }
      const result = await deps.forwardDelayed(message);
      if (result === 'forwarded') deps.metrics.count(METRIC.delayedForwarded);
      deps.logger.debug('delayed message handled', { messageId: record.messageId, daemonSetKey: message.message.key, result });
      return { kind: 'delayed', result };
    }
  }
}

/** One pass to run: a message's, or a node-scoped pass of a fan-out with the DaemonSet its list read. */
interface PassWork {
  readonly key: DaemonSetKey;
  readonly node?: string | undefined;
  readonly labelSelector?: string | undefined;
  readonly observedAt?: number | undefined;
  readonly daemonSet?: V1DaemonSet | undefined;
}

async function reconcileRecord(work: PassWork, record: QueueRecord, deps: BatchDeps, batch: BatchState, signal?: AbortSignal): Promise<RecordOutcome> {
  const { key, node, labelSelector, observedAt, daemonSet } = work;
  const log = deps.logger.child({ daemonSetKey: key, ...(node === undefined ? {} : { node }), messageId: record.messageId, receiveCount: record.receiveCount });
  // A full pass earlier in the batch did what a node-scoped pass would do.
  const earlier = batch.reconciles.get(workOf(key, node)) ?? (node === undefined ? undefined : batch.reconciles.get(key));
  if (earlier !== undefined) {
    deps.metrics.count(METRIC.reconcilesCollapsed);
    log.debug('collapsed into an earlier reconcile of the same key');
    try {
      return { kind: 'reconciled', key, report: await earlier, collapsed: true };
    } catch (e) {
      // The earlier record already logged, counted and reported this failure. A terminal one was
      // acked there, so this record is acked too; a transient one fails this record as well.
      if (e instanceof TerminalError) return { kind: 'dropped', reason: errorText(e) };
      throw e;
    }
  }
  const pending = runReconcile(key, observedAt, record.messageId, deps, log, {
    ...(signal === undefined ? {} : { signal }), ...(node === undefined ? {} : { node }), ...(labelSelector === undefined ? {} : { labelSelector }), ...(daemonSet === undefined ? {} : { daemonSet }), shared: batch.shared,
    ...(batch.continueUntil === undefined ? {} : { continueUntil: batch.continueUntil }),
  });
  batch.reconciles.set(workOf(key, node), pending);
  pending.catch(() => undefined);
  try {
    return { kind: 'reconciled', key, report: await pending, collapsed: false };
  } catch (e) {
    if (e instanceof TerminalError) {
      deps.metrics.count(e instanceof InvalidMessageError ? METRIC.invalidMessages : METRIC.terminalErrors);
      log.error('reconcile failed terminally; not retried', { error: errorText(e) });
      await emit(deps, log, { key, type: 'Warning', reason: 'ReconcileFailed', message: errorText(e).slice(0, 1024), ...uidOf(e) });
      return { kind: 'dropped', reason: errorText(e) };
    }
    deps.metrics.count(METRIC.reconcileErrors);
    const last = record.receiveCount >= deps.maxReceives;
    log.warn(last ? 'reconcile failed on the last attempt; the message goes to the DLQ' : 'reconcile failed; will retry', { error: errorText(e) });
    if (last) {
      await emit(deps, log, { key, type: 'Warning', reason: 'ReconcileGivingUp', message: `giving up after ${record.receiveCount} attempts: ${errorText(e)}`.slice(0, 1024), ...uidOf(e) });
    }
    throw e;
  }
}

async function runReconcile(
  key: DaemonSetKey, observedAt: number | undefined, messageId: string, deps: BatchDeps, log: AppLogger, options: ReconcileOptions,
): Promise<ReconcileReport> {
  const started = deps.now();
  const report = await deps.reconcile(key, options);
  const finished = deps.now();
  deps.metrics.count(METRIC.reconciles);
  deps.metrics.timing(METRIC.reconcileLatency, finished - started);
  if (report.podsCreated > 0) deps.metrics.count(METRIC.podsCreated, report.podsCreated);
  if (report.podsDeleted > 0) deps.metrics.count(METRIC.podsDeleted, report.podsDeleted);
  if (report.statusWritten) deps.metrics.count(METRIC.statusWrites);
  const acted = report.podsCreated + report.podsDeleted > 0 || report.statusWritten;
  if (acted && observedAt !== undefined) deps.metrics.timing(METRIC.eventToAction, finished - observedAt);
  // A pass that changed nothing is routine (most events are status churn): keep it out of INFO.
  (report.writes > 0 ? log.info : log.debug).call(log, 'reconciled', {
    missing: report.missing, podsCreated: report.podsCreated, podsDeleted: report.podsDeleted, statusWritten: report.statusWritten,
    reads: report.reads, writes: report.writes, requeueAfterSeconds: report.requeueAfterSeconds, durationMs: finished - started,
    ...(report.scope === undefined ? {} : { scope: report.scope }), ...(report.fullPassNeeded === true ? { fullPassNeeded: true } : {}), ...(report.bursts === undefined || report.bursts <= 1 ? {} : { bursts: report.bursts }),
  });
  if (report.fullPassNeeded === true) {
    // IMPL-8: the key's own group runs the full pass; one per record (a redelivery reuses its dedup id).
    await deps.queue.enqueue([{ key, dedupId: dedupId('full-pass', messageId), ...(observedAt === undefined ? {} : { observedAt }) }]);
    deps.metrics.count(METRIC.requeues);
  }
  if (report.requeueAfterSeconds !== null && report.requeueAfterSeconds >= 0 && !report.missing) {
    // One requeue per key and due second: passes that ask for the same second share it.
    const dueSecond = Math.ceil((finished + report.requeueAfterSeconds * 1000) / 1000);
    // A failed requeue fails the record: the retry reconciles again and requeues again.
    await deps.queue.enqueueAfter({ key, dedupId: dedupId('requeue', key, dueSecond) }, report.requeueAfterSeconds);
    deps.metrics.count(METRIC.requeues);
  }
  return report;
}

async function expandFanout(message: FanoutMessage, record: QueueRecord, deps: BatchDeps, batch: BatchState, signal?: AbortSignal): Promise<RecordOutcome> {
  const log = deps.logger.child({ fanout: message.scope, cause: message.cause, messageId: record.messageId });
  const namespace = message.scope === 'all' || message.scope === 'node' ? undefined : message.namespace;
  let keys = 0;
  const nodePasses: NodePass[] = [];
  const common = { ...(message.observedAt === undefined ? {} : { observedAt: message.observedAt }), ...(message.recheck ? { recheck: true } : {}) };
  for await (const page of fanoutPages(deps, namespace, batch.shared)) {
    const requests: ReconcileRequest[] = [];
    for (const ds of page) {
      if (namespace !== undefined && ds.namespace !== namespace) continue;
      if (message.scope === 'selector' && !selectorAdopts(ds.selector, message.labels)) continue;
      if (message.scope !== 'node') {
        requests.push({ key: ds.key, dedupId: dedupId(message.dedupId, ds.key), ...common });
        continue;
      }
      // WATCH-10: a node-scoped pass where the node's eligibility changed, a full pass after a
      // delete, nothing elsewhere; a DaemonSet whose scheduling fields are unknown gets a full pass.
      const pass = ds.scheduling ? nodeChangePass(message.node, message.before, message.after, ds.scheduling) : 'full';
      if (pass === 'node') {
        const request = { key: ds.key, dedupId: dedupId(message.dedupId, ds.key, message.node), node: message.node, ...selectorOf(ds), ...common };
        nodePasses.push({ request, ...(ds.daemonSet === undefined ? {} : { daemonSet: ds.daemonSet }) });
      }
      else if (pass === 'full') requests.push({ key: ds.key, dedupId: dedupId(message.dedupId, ds.key), ...common });
    }
    if (requests.length === 0) continue;
    await deps.queue.enqueue(requests);
    keys += requests.length;
  }
  const retried = await runNodePasses(nodePasses, record, deps, batch, signal);
  keys += nodePasses.length;
  deps.metrics.count(METRIC.fanoutExpanded, keys);
  log.info('fan-out expanded', { keys, ...(nodePasses.length === 0 ? {} : { nodePasses: nodePasses.length, retried }) });
  return { kind: 'fanout', keys };
}

/** A node-scoped pass of a fan-out: its request (enqueued as such to be retried) and the DaemonSet as listed. */
interface NodePass {
  readonly request: ReconcileRequest;
  readonly daemonSet?: V1DaemonSet;
}

/** How many node-scoped passes of one fan-out run at a time. */
export const NODE_PASS_CONCURRENCY = 8;

/**
 * IMPL-9: a node fan-out runs its node-scoped passes itself instead of a queue round trip per
 * DaemonSet (its message group, one per node, keeps one node's changes in order). A pass that fails
 * transiently is enqueued in its own group to be retried there; the fan-out is acked. Returns how
 * many were enqueued.
 */
async function runNodePasses(passes: readonly NodePass[], record: QueueRecord, deps: BatchDeps, batch: BatchState, signal?: AbortSignal): Promise<number> {
  const retry: ReconcileRequest[] = [];
  for (let i = 0; i < passes.length; i += NODE_PASS_CONCURRENCY) {
    await Promise.all(passes.slice(i, i + NODE_PASS_CONCURRENCY).map(async ({ request: r, daemonSet }) => {
      // Its own record id (the dedup source of what it enqueues); a first receive, as it is retried by message.
      const own: QueueRecord = { messageId: `${record.messageId}/${r.key}`, body: '', receiveCount: 1 };
      try {
        await reconcileRecord({ ...r, daemonSet }, own, deps, batch, signal);
      } catch {
        retry.push(r);
        return;
      }
      if (r.recheck) await scheduleRecheck(r.key, deps);
    }));
  }
  if (retry.length > 0) await deps.queue.enqueue(retry);
  return retry.length;
}

/** The label selector a node-scoped pass may read with at once (none when too long for a message). */
function selectorOf(ds: DaemonSetSummary): { labelSelector?: string } {
  if (ds.selector === null) return {};
  const labelSelector = formatLabelSelector(ds.selector);
  return labelSelector.length > 0 && labelSelector.length <= MAX_LABEL_SELECTOR ? { labelSelector } : {};
}

/**
 * The DaemonSets a fan-out looks at, a page at a time. A cluster-wide fan-out (a node change) uses
 * the batch's one list of every DaemonSet (IMPL-5; a failed list is not kept, so the next fan-out
 * lists again); a namespaced one lists its namespace.
 */
async function* fanoutPages(deps: BatchDeps, namespace: string | undefined, shared: SharedReads): AsyncGenerator<readonly DaemonSetSummary[]> {
  const pageSize = deps.pageSize ?? DEFAULT_PAGE_SIZE;
  if (namespace !== undefined) {
    for await (const page of daemonSetPages(deps.listDaemonSets, { namespace, pageSize })) yield page.items;
    return;
  }
  if (shared.daemonSets === undefined) {
    const listed = (async () => {
      const all: DaemonSetSummary[] = [];
      for await (const page of daemonSetPages(deps.listDaemonSets, { pageSize })) all.push(...page.items);
      return all;
    })();
    shared.daemonSets = listed;
    listed.catch(() => { if (shared.daemonSets === listed) delete shared.daemonSets; });
  }
  const all = await shared.daemonSets;
  for (let i = 0; i < all.length; i += pageSize) yield all.slice(i, i + pageSize);
}

/**
 * The second look after a pre-persistence (admission) event. The API server stores an object only
 * after every admission webhook has answered (each within its timeout), so a reconcile that ran at
 * once may have read the state before the change. One recheck per key and second is enough: the
 * dedup id collapses the rest.
 */
async function scheduleRecheck(key: DaemonSetKey, deps: BatchDeps): Promise<void> {
  const seconds = deps.recheckSeconds ?? DEFAULT_RECHECK_SECONDS;
  const bucket = Math.floor(deps.now() / 1000);
  await deps.queue.enqueueAfter({ key, dedupId: dedupId('recheck', key, String(bucket)) }, seconds);
  deps.metrics.count(METRIC.requeues);
}

async function emit(deps: BatchDeps, log: AppLogger, event: Parameters<EmitEvent>[0]): Promise<void> {
  try {
    await deps.emitEvent(event);
  } catch (e) {
    log.warn('could not record a Kubernetes Event', { reason: event.reason, error: errorText(e) });
  }
}

