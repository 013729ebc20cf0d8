/**
 * One reconcile of one DaemonSet: read the snapshot, plan (pure core), execute, report.
 * The same path backs the reconcile Lambda, the local runner and the integration tests.
 */
import { failedConditions, isDaemonlessResource, nodePassAllowed, plan as planPass, planNodePass, validateDaemonSet, type PlanOptions, type V1DaemonSet } from '../core/index.js';
import type { ClusterApi } from './cluster-api.js';
import { InvalidMessageError, TerminalError, TransientError } from './errors.js';
import { DEFAULT_BURST_REPLICAS, executePlan } from './execute-plan.js';
import type { DaemonSetKey } from '../events/types.js';
import type { ReconcileFn, ReconcileOptions, ReconcileReport, SharedReads } from './ports.js';
import { readNodeSnapshot, readSnapshot, type NodeGetter, type NodeLister } from './read-snapshot.js';

export interface ReconcileDeps {
  readonly cluster: ClusterApi;
  readonly planOptions?: PlanOptions;
  readonly burstReplicas?: number;
  /** The clock (default: the real one). */
  readonly now?: () => Date;
}

/** Splits "namespace/name"; a malformed key is an invalid message (never retried). */
export function parseKey(key: DaemonSetKey): { namespace: string; name: string } {
  const parts = key.split('/');
  if (parts.length !== 2 || !parts[0] || !parts[1]) throw new InvalidMessageError(`invalid DaemonSet key ${JSON.stringify(key)}: want "namespace/name"`);
  return { namespace: parts[0], name: parts[1] };
}

/**
 * Seconds after a node-scoped pass until the full pass that brings the status up to date (one per
 * DaemonSet and second, however many nodes joined).
 */
export const NODE_PASS_STATUS_SECONDS = 1;

/**
 * Builds the ReconcileFn. Outcomes: a report (success; a missing DaemonSet is success), a
 * TransientError (retry: API failures, conflicts, failed pod writes), or a TerminalError (an
 * invalid DaemonSet or a request the API server refuses; retrying cannot help).
 *
 * With `options.node`, a node-scoped pass (IMPL-6) reads that node and the DaemonSet's pods on it
 * only, and asks for a full pass NODE_PASS_STATUS_SECONDS later; when the node's decision needs the
 * whole cluster it does nothing and reports `fullPassNeeded` (see `nodePass`). A full pass that
 * hit the burst cap goes on with fresh pods while `options.continueUntil` allows (IMPL-7), as
 * upstream's next sync does once its expectations are met, instead of a queue round trip.
 */
export function createReconciler(deps: ReconcileDeps): ReconcileFn {
  const now = deps.now ?? (() => new Date());
  const burstReplicas = deps.burstReplicas ?? DEFAULT_BURST_REPLICAS;
  /**
   * IMPL-6/IMPL-8: the node-scoped pass. It runs in a message group of its own, beside the key's
   * full passes, so it acts only where a full pass would do the same: never while a rolling update
   * is under way (`nodePassAllowed`, from the DaemonSet read first), never where the node's decision
   * needs the whole cluster (`planNodePass` is null); then it asks for a full pass in the key's
   * group instead (`fullPassNeeded`). With the label selector from the fan-out, its five reads go
   * at once.
   */
  const nodePass = async (
    cluster: ClusterApi, namespace: string, name: string, options: ReconcileOptions & { node: string },
    report: (fields: Partial<ReconcileReport>) => ReconcileReport, fail: (message: string, errors: readonly Error[], uid: string | undefined) => never,
  ): Promise<ReconcileReport> => {
    const { node } = options;
    const allowed = (ds: V1DaemonSet): boolean => nodePassAllowed(ds) && validateDaemonSet(ds).length === 0;
    const snapshot = await readNodeSnapshot(cluster, namespace, name, node, {
      ...(options.labelSelector === undefined ? {} : { labelSelector: options.labelSelector }), proceed: allowed, getNode: sharedNodeGetter(cluster, options.shared),
      ...(options.daemonSet === undefined ? {} : { daemonSet: options.daemonSet }),
    });
    if (!snapshot) return report({ missing: true });
    const daemonSet = snapshot.daemonSet;
    if (!allowed(daemonSet)) return report({ scope: 'node', fullPassNeeded: true });
    const at = now();
    const nodePlan = planNodePass(snapshot, node, at, deps.planOptions);
    if (nodePlan === null) return report({ scope: 'node', fullPassNeeded: true });
    const result = await executePlan(cluster, daemonSet, nodePlan, { burstReplicas, now: at, writeStatus: false });
    if (result.errors.length > 0) {
      fail(`reconcile of daemonset ${namespace}/${name} on node ${node}: ${result.errors.length} failure(s): ${result.errors.map((e) => e.message).join('; ')}`,
        result.errors, daemonSet.metadata?.uid);
    }
    return report({ scope: 'node', podsCreated: result.podsCreated, podsDeleted: result.podsDeleted, bursts: 1, requeueAfterSeconds: NODE_PASS_STATUS_SECONDS });
  };

  return async (key, options = {}) => {
    const { namespace, name } = parseKey(key);
    const cluster = deps.cluster.session();
    const report = (fields: Partial<ReconcileReport>): ReconcileReport => ({
      key, missing: false, podsCreated: 0, podsDeleted: 0, statusWritten: false, requeueAfterSeconds: null,
      ...fields, reads: cluster.counters.reads, writes: cluster.counters.writes,
    });
    const fail = (message: string, errors: readonly Error[], daemonSetUid: string | undefined): never => {
      // Any transient failure makes the whole pass worth retrying; only all-terminal failures are terminal.
      if (errors.some((e) => !(e instanceof TerminalError))) throw new TransientError(message, { cause: errors[0], daemonSetUid });
      throw new TerminalError(message, { cause: errors[0], daemonSetUid });
    };

    if (options.node !== undefined) return nodePass(cluster, namespace, name, { ...options, node: options.node }, report, fail);

    const listNodes = sharedNodeLister(cluster, options.shared);
    let snapshot = await readSnapshot(cluster, namespace, name, listNodes);
    if (!snapshot) return report({ missing: true });
    const daemonSetUid = snapshot.daemonSet.metadata?.uid;
    const problems = validateDaemonSet(snapshot.daemonSet);
    if (problems.length > 0) {
      const message = `daemonset ${key} is invalid: ${problems.map((p) => `${p.field}: ${p.message}`).join('; ')}`;
      await markStalled(cluster, snapshot.daemonSet, message, now());
      throw new TerminalError(message, { daemonSetUid });
    }
    const total = { podsCreated: 0, podsDeleted: 0, statusWritten: false, bursts: 0 };
    for (;;) {
      const at = now();
      const plan = planPass(snapshot, at, deps.planOptions);
      const result = await executePlan(cluster, snapshot.daemonSet, plan, { burstReplicas, now: at, writeStatus: snapshot.complete });
      total.podsCreated += result.podsCreated;
      total.podsDeleted += result.podsDeleted;
      total.statusWritten ||= result.statusWritten;
      total.bursts += 1;
      if (result.errors.length > 0) {
        fail(`reconcile of daemonset ${key}: ${result.errors.length} failure(s): ${result.errors.map((e) => e.message).join('; ')}`, result.errors, daemonSetUid);
      }
      const goOn = result.deferred > 0 && options.continueUntil !== undefined && now().getTime() < options.continueUntil && options.signal?.aborted !== true;
      if (!goOn) {
        // Work the burst cap left over is picked up at once, not at the next event.
        const requeueAfterSeconds = result.deferred > 0 ? Math.min(1, plan.requeueAfterSeconds ?? 1) : plan.requeueAfterSeconds;
        return report({ ...total, requeueAfterSeconds });
      }
      // IMPL-7: the next burst plans on fresh pods, revisions and DaemonSet; the nodes read for this
      // pass are kept (a node event that came meanwhile has its own message behind this one).
      const kept = { items: [...snapshot.nodes], complete: snapshot.complete };
      const next = await readSnapshot(cluster, namespace, name, () => Promise.resolve(kept));
      // Gone, replaced or made invalid meanwhile: that change has its own message.
      if (!next || next.daemonSet.metadata?.uid !== daemonSetUid || validateDaemonSet(next.daemonSet).length > 0) return report({ ...total, requeueAfterSeconds: null });
      snapshot = next;
    }
  };
}

/**
 * IMPL-5: the node list of a full pass: the batch's shared one when there is one (listed by the first pass
 * that needs it; a failed list is not kept, so the next pass lists again).
 */
function sharedNodeLister(cluster: ClusterApi, shared: SharedReads | undefined): NodeLister {
  if (shared === undefined) return () => cluster.listNodes();
  return () => {
    if (shared.nodes === undefined) {
      const listed = cluster.listNodes();
      shared.nodes = listed;
      listed.catch(() => { if (shared.nodes === listed) delete shared.nodes; });
    }
    return shared.nodes;
  };
}

/**
 * IMPL-5: the node a node-scoped pass reads: the batch's shared read of it when there is one (read by
 * the first pass that needs it; a failed read is not kept). The DaemonSets a node event concerns
 * share one read of that node.
 */
function sharedNodeGetter(cluster: ClusterApi, shared: SharedReads | undefined): NodeGetter {
  if (shared === undefined) return (name) => cluster.getNode(name);
  return (name) => {
    const byName = shared.nodeByName ??= new Map();
    let read = byName.get(name);
    if (read === undefined) {
      const sent = cluster.getNode(name);
      read = sent;
      byName.set(name, sent);
      sent.catch(() => { if (byName.get(name) === sent) byName.delete(name); });
    }
    return read;
  };
}

/**
 * COND-7: a `dlds` the pass refuses to plan (invalid) gets `Stalled` True `ReconcileFailed` with the
 * problems (failed writes of a planned pass are reported by executePlan's status write) (and observedGeneration = generation: the spec was seen), written
 * only when that changes the stored conditions. Best effort: a failed write (re-read once on a
 * conflict) leaves the failure to the Warning event the caller records.
 */
async function markStalled(cluster: ClusterApi, ds: V1DaemonSet, message: string, at: Date): Promise<void> {
  if (!isDaemonlessResource(ds)) return;
  const write = async (current: V1DaemonSet): Promise<void> => {
    const conditions = failedConditions(current.status?.conditions, message.slice(0, 32_768), at);
    if (conditions === null) return;
    const counters = { currentNumberScheduled: 0, desiredNumberScheduled: 0, numberMisscheduled: 0, numberReady: 0 };
    await cluster.replaceDaemonSetStatus(current, { ...counters, ...current.status, observedGeneration: current.metadata?.generation ?? 0, conditions });
  };
  try {
    await write(ds);
  } catch {
    try {
      const fresh = await cluster.getDaemonSet(ds.metadata?.namespace ?? '', ds.metadata?.name ?? '');
      if (fresh && fresh.metadata?.uid === ds.metadata?.uid) await write(fresh);
    } catch {
      // Reported by the caller's Warning event.
    }
  }
}
