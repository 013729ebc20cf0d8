/**
 * One reconcile of one DaemonSet: read the snapshot, plan (pure core), execute, report.
 * The same path backs the reconcile Lambda, the local runner and the integration tests.
 */
import { failedConditions, isDaemonlessResource, plan as planPass, validateDaemonSet, type PlanOptions, type V1DaemonSet } from '../core/index.js';
import type { ClusterApi } from './cluster-api.js';
import { InvalidMessageError, TerminalError, TransientError } from './errors.js';
import { DEFAULT_BURST_REPLICAS, executePlan } from './execute-plan.js';
import type { DaemonSetKey } from '../events/types.js';
import type { ReconcileFn, ReconcileReport } from './ports.js';
import { readSnapshot } from './read-snapshot.js';

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
 * Builds the ReconcileFn. Outcomes: a report (success; a missing DaemonSet is success), a
 * TransientError (retry: API failures, conflicts, failed pod writes), or a TerminalError (an
 * invalid DaemonSet or a request the API server refuses; retrying cannot help).
 */
export function createReconciler(deps: ReconcileDeps): ReconcileFn {
  const now = deps.now ?? (() => new Date());
  const burstReplicas = deps.burstReplicas ?? DEFAULT_BURST_REPLICAS;
  return async (key) => {
    const { namespace, name } = parseKey(key);
    const cluster = deps.cluster.session();
    const report = (fields: Partial<ReconcileReport>): ReconcileReport => ({
      key, missing: false, podsCreated: 0, podsDeleted: 0, statusWritten: false, requeueAfterSeconds: null,
      ...fields, reads: cluster.counters.reads, writes: cluster.counters.writes,
    });

    const snapshot = await readSnapshot(cluster, namespace, name);
    if (!snapshot) return report({ missing: true });
    const daemonSetUid = snapshot.daemonSet.metadata?.uid;
    const problems = validateDaemonSet(snapshot.daemonSet);
    if (problems.length > 0) {
      const message = `daemonset ${key} is invalid: ${problems.map((p) => `${p.field}: ${p.message}`).join('; ')}`;
      await markStalled(cluster, snapshot.daemonSet, message, now());
      throw new TerminalError(message, { daemonSetUid });
    }
    const at = now();
    const plan = planPass(snapshot, at, deps.planOptions);
    const result = await executePlan(cluster, snapshot.daemonSet, plan, { burstReplicas, now: at, writeStatus: snapshot.complete });
    if (result.errors.length > 0) {
      const message = `reconcile of daemonset ${key}: ${result.errors.length} failure(s): ${result.errors.map((e) => e.message).join('; ')}`;
      // Any transient failure makes the whole pass worth retrying; only all-terminal failures are terminal.
      if (result.errors.some((e) => !(e instanceof TerminalError))) throw new TransientError(message, { cause: result.errors[0], daemonSetUid });
      throw new TerminalError(message, { cause: result.errors[0], daemonSetUid });
    }
    // Work the burst cap left over is picked up at once, not at the next event.
    const requeueAfterSeconds = result.deferred > 0 ? Math.min(1, plan.requeueAfterSeconds ?? 1) : plan.requeueAfterSeconds;
    return report({ podsCreated: result.podsCreated, podsDeleted: result.podsDeleted, statusWritten: result.statusWritten, requeueAfterSeconds });
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
