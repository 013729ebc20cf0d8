/**
 * Carries out a plan, idempotently, in the order `Plan` documents. The mechanics are upstream's
 * `syncNodes`: a burst cap, slow-start batches that double after each fully successful batch and
 * stop at the first failing one, per-object errors aggregated into one. Idempotency replaces
 * upstream's in-memory expectations: creates use deterministic names (AlreadyExists = done),
 * deletes carry UID preconditions (NotFound = done), ownership patches carry the object's UID.
 */
import { isDaemonlessResource, OWNED_CONDITION_TYPES, sameRevisionData, statusAfterFailure, type Plan, type PodToCreate, type V1DaemonSet } from '../core/index.js';
import type { ClusterApi, ClusterEvent, WriteOutcome } from './cluster-api.js';
import { ConflictError, InvalidObjectError, TerminalError, TransientError } from './errors.js';

export interface ExecuteOptions {
  /** Most pod creates and deletes one pass makes (upstream `burstReplicas`: 250). */
  readonly burstReplicas: number;
  /** The time stamped on recorded events. */
  readonly now: Date;
  /**
   * False when the plan was made from a partial read: its status counts only what was seen, so
   * it is not written (default true).
   */
  readonly writeStatus?: boolean;
}

export const DEFAULT_BURST_REPLICAS = 250;

/** What a plan's execution did. */
export interface ExecutionResult {
  readonly podsCreated: number;
  readonly podsDeleted: number;
  readonly statusWritten: boolean;
  /** Creates or deletes left for a later pass by the burst cap or a failed batch. */
  readonly deferred: number;
  /** Failures, aggregated; the pass is failed when non-empty. */
  readonly errors: readonly Error[];
}

/** Upstream's pod-control event reasons (visible in `kubectl describe ds`). */
export const POD_EVENT = {
  created: 'SuccessfulCreate',
  createFailed: 'FailedCreate',
  deleted: 'SuccessfulDelete',
  deleteFailed: 'FailedDelete',
} as const;

/**
 * Executes `plan` against the cluster for the DaemonSet `ds` (as read this pass). Never throws for
 * per-object failures: they are collected in `errors`; the caller decides how the pass ends.
 * The phases run in upstream's order; each later phase depends on the earlier ones' success.
 */
export async function executePlan(cluster: ClusterApi, ds: V1DaemonSet, plan: Plan, options: ExecuteOptions): Promise<ExecutionResult> {
  const pass = newPass(cluster, plan);
  const historyOk = await syncHistory(pass);
  const ownershipOk = await syncPodOwnership(pass);
  const pods = ownershipOk && historyOk ? await syncPods(pass, options.burstReplicas) : { created: 0, deleted: 0, deferred: 0, ok: false };
  if (pods.ok && plan.deletesAllowed) await cleanupHistory(pass);
  const statusWritten = await writeStatusAndEvents(pass, ds, options);
  for (const message of plan.errors) pass.errors.push(new TerminalError(`daemonset ${plan.namespace}/${plan.name}: ${message}`));
  return { podsCreated: pods.created, podsDeleted: pods.deleted, statusWritten, deferred: pods.deferred, errors: pass.errors };
}

/** One execution: the plan, where failures and events collect, and `attempt` (false when the write failed). */
interface Pass {
  readonly cluster: ClusterApi;
  readonly plan: Plan;
  readonly ns: string;
  readonly errors: Error[];
  readonly events: ClusterEvent[];
  attempt(what: () => Promise<unknown>): Promise<boolean>;
}

function newPass(cluster: ClusterApi, plan: Plan): Pass {
  const errors: Error[] = [];
  return {
    cluster, plan, ns: plan.namespace, errors, events: [...plan.events],
    async attempt(what) {
      try {
        await what();
        return true;
      } catch (e) {
        errors.push(e as Error);
        return false;
      }
    },
  };
}

/** Runs every write (none is skipped for an earlier failure); true when all succeeded. */
async function allOf(pass: Pass, writes: readonly (() => Promise<unknown>)[]): Promise<boolean> {
  let ok = true;
  for (const write of writes) ok = (await pass.attempt(write)) && ok;
  return ok;
}

/** 1. History: ownership of revisions, updates, the current revision, pod relabels, duplicate revisions. */
async function syncHistory(pass: Pass): Promise<boolean> {
  const { cluster, plan, ns } = pass;
  const rev = plan.revisions.create;
  return allOf(pass, [
    ...plan.ownership.filter((c) => c.kind === 'ControllerRevision').map((change) => () => patchOwnership(cluster, change.kind, ns, change.name, change.patch, change.action)),
    ...plan.revisions.update.map((u) => () => cluster.patchRevision(ns, u.name, u.patch, 'merge')),
    ...(rev ? [async () => {
      const r = await cluster.createRevision(rev);
      if (r.existing && !sameRevisionData(r.existing, rev)) {
        // A different revision holds this hash: the next pass sees it and raises collisionCount (HIST-7).
        throw new TransientError(`controllerrevision ${ns}/${rev.metadata?.name} exists with other content (hash collision)`);
      }
    }] : []),
    ...plan.podLabelChanges.map((l) => () => cluster.patchPod(ns, l.name, l.patch, 'merge')),
    ...(plan.deletesAllowed ? plan.revisions.delete.filter((r) => r.reason === 'duplicate').map((d) => () => cluster.deleteRevision(ns, d.name, d.uid)) : []),
  ]);
}

/** 2. Ownership of pods: every patch must land before anything is created or deleted (IMPL-3). */
async function syncPodOwnership(pass: Pass): Promise<boolean> {
  const { cluster, plan, ns } = pass;
  if (plan.ownership.some((c) => c.action === 'adopt')) {
    // Upstream re-reads the DaemonSet, uncached, before adopting anything (RecheckDeletionTimestamp):
    // a DaemonSet being deleted, or replaced by a namesake, must not adopt.
    const stillOurs = await pass.attempt(async () => {
      const fresh = await cluster.getDaemonSet(ns, plan.name);
      if (!fresh || fresh.metadata?.uid !== plan.uid || fresh.metadata?.deletionTimestamp) {
        throw new TransientError(`daemonset ${ns}/${plan.name} is gone or being deleted; not adopting`);
      }
    });
    if (!stillOurs) return false;
  }
  return allOf(pass, plan.ownership.filter((c) => c.kind === 'Pod').map((change) => () => patchOwnership(cluster, change.kind, ns, change.name, change.patch, change.action)));
}

/**
 * 3. Pods: creates in slow-start batches, then deletes; both within the burst cap. A create on a
 * node where this pass also deletes a pod (surge: a superseded new pod pruned next to the old one,
 * or a failed pod replaced at once) waits for those deletes and is skipped if one fails: made
 * first, it would leave more pods on the node than the plan allows (invariant 1).
 */
async function syncPods(pass: Pass, burstReplicas: number): Promise<{ created: number; deleted: number; deferred: number; ok: boolean }> {
  const { plan } = pass;
  const creates = plan.createPods.slice(0, burstReplicas);
  let deferred = plan.createPods.length - creates.length;
  const deleteNodes = new Set(plan.deletesAllowed ? plan.deletePods.map((d) => d.node) : []);
  const createsNow = creates.filter((c) => !deleteNodes.has(c.node));
  const createsAfter = creates.filter((c) => deleteNodes.has(c.node));
  const first = await slowStartCreate(pass.cluster, createsNow, pass.events, pass.errors);
  deferred += first.skipped;
  let ok = first.skipped === 0 && first.failed === 0;

  const deletes = plan.deletesAllowed ? await deletePods(pass, burstReplicas) : { deleted: 0, deferred: 0, failedNodes: new Set<string>(), ok: true };
  deferred += deletes.deferred;
  ok = ok && deletes.ok;

  // A failed create batch ends the creates of the pass (slow start), these included.
  const after = first.failed === 0 ? createsAfter.filter((c) => !deletes.failedNodes.has(c.node)) : [];
  let created = first.created;
  if (after.length > 0) {
    const later = await slowStartCreate(pass.cluster, after, pass.events, pass.errors);
    created += later.created;
    deferred += later.skipped;
    ok = ok && later.skipped === 0 && later.failed === 0;
  }
  deferred += createsAfter.length - after.length;
  if (after.length < createsAfter.length) ok = false;
  return { created, deleted: deletes.deleted, deferred, ok };
}

/**
 * The deletes of the pod phase, within the burst cap. The failed-pod back-off record goes before
 * the deletes it records: a pass that died after deleting a failed pod but before recording it
 * would let the next failed pod on that node be deleted at once (FAIL-1..3). Recorded first, a lost
 * delete only waits one back-off. `failedNodes`: nodes where a planned delete did not happen.
 */
async function deletePods(pass: Pass, burstReplicas: number): Promise<{ deleted: number; deferred: number; failedNodes: Set<string>; ok: boolean }> {
  const { cluster, plan, ns } = pass;
  let recorded = true;
  if (plan.daemonSetAnnotations) recorded = await pass.attempt(() => cluster.patchDaemonSetMetadata(ns, plan.name, { annotations: plan.daemonSetAnnotations }));
  const failedNodes = new Set<string>();
  const allowed = recorded ? plan.deletePods : plan.deletePods.filter((d) => d.reason !== 'failed');
  for (const d of plan.deletePods) if (!allowed.includes(d)) failedNodes.add(d.node);
  const deletes = allowed.slice(0, burstReplicas);
  for (const d of allowed.slice(burstReplicas)) failedNodes.add(d.node);
  const deferred = plan.deletePods.length - deletes.length;
  const results = await Promise.all(deletes.map(async (d): Promise<WriteOutcome | false> => {
    try {
      const outcome = await cluster.deletePod(d.namespace, d.name, d.uid);
      if (outcome === 'done') pass.events.push({ type: 'Normal', reason: POD_EVENT.deleted, message: `Deleted pod: ${d.name}` });
      return outcome;
    } catch (e) {
      pass.errors.push(e as Error);
      pass.events.push({ type: 'Warning', reason: POD_EVENT.deleteFailed, message: `Error deleting: ${(e as Error).message}` });
      failedNodes.add(d.node);
      return false;
    }
  }));
  // Only deletes this pass made count; a pod already gone was someone else's work.
  return { deleted: results.filter((r) => r === 'done').length, deferred, failedNodes, ok: recorded && results.every(Boolean) };
}

/** 4. History cleanup, only after a fully successful pod phase. */
async function cleanupHistory(pass: Pass): Promise<void> {
  const { cluster, plan, ns } = pass;
  for (const d of plan.revisions.delete.filter((r) => r.reason === 'history-limit')) {
    await pass.attempt(() => cluster.deleteRevision(ns, d.name, d.uid));
  }
}

/**
 * 5. Status (always attempted, SYNC-8), then the events of the pass. A dlds whose pass failed
 * terminally (a write the API server refuses) says so in the same write (COND-7): Stalled True
 * ReconcileFailed with the errors, instead of the planned conditions.
 */
async function writeStatusAndEvents(pass: Pass, ds: V1DaemonSet, options: ExecuteOptions): Promise<boolean> {
  const { cluster, plan, ns } = pass;
  let statusWritten = false;
  let toWrite = plan;
  if (isDaemonlessResource(ds) && pass.errors.length > 0 && pass.errors.every((e) => e instanceof TerminalError)) {
    const failed = statusAfterFailure(ds, plan.status, pass.errors.map((e) => e.message).join('; ').slice(0, 32_768), options.now);
    toWrite = { ...plan, status: failed.status, statusChanged: failed.changed };
  }
  if (toWrite.statusChanged && options.writeStatus !== false) {
    statusWritten = await pass.attempt(() => writeStatus(cluster, ds, toWrite));
  }
  const involved = {
    apiVersion: ds.apiVersion ?? 'apps/v1',
    kind: ds.kind ?? 'DaemonSet',
    namespace: ns,
    name: plan.name,
    uid: plan.uid,
  };
  await Promise.all(pass.events.map((e) => cluster.recordEvent(involved, e, options.now)));
  return statusWritten;
}

async function patchOwnership(cluster: ClusterApi, kind: 'Pod' | 'ControllerRevision', ns: string, name: string, patch: object, action: 'adopt' | 'release'): Promise<void> {
  try {
    if (kind === 'Pod') await cluster.patchPod(ns, name, patch, 'strategic');
    else await cluster.patchRevision(ns, name, patch, 'strategic');
  } catch (e) {
    // Releasing an object that changed meanwhile (422 Invalid) is done: it is no longer ours.
    if (action === 'release' && e instanceof InvalidObjectError) return;
    throw e;
  }
}

/** Slow start (upstream BATCH-2): batches of 1, 2, 4, …; a batch with a failure ends the creates. */
async function slowStartCreate(cluster: ClusterApi, creates: readonly PodToCreate[], events: ClusterEvent[], errors: Error[]): Promise<{ created: number; failed: number; skipped: number }> {
  let created = 0;
  let failed = 0;
  let next = 0;
  let size = 1;
  while (next < creates.length) {
    const batch = creates.slice(next, next + size);
    next += batch.length;
    const results = await Promise.all(batch.map(async (c): Promise<WriteOutcome | false> => {
      try {
        const outcome = await cluster.createPod(c.pod);
        if (outcome === 'done') events.push({ type: 'Normal', reason: POD_EVENT.created, message: `Created pod: ${c.pod.metadata?.name}` });
        return outcome;
      } catch (e) {
        errors.push(e as Error);
        events.push({ type: 'Warning', reason: POD_EVENT.createFailed, message: `Error creating: ${(e as Error).message}` });
        return false;
      }
    }));
    // A create that met AlreadyExists (a replayed pass) is done, but not counted as created.
    created += results.filter((r) => r === 'done').length;
    failed += results.filter((r) => r === false).length;
    if (failed > 0) break;
    size *= 2;
  }
  return { created, failed, skipped: creates.length - next };
}

/**
 * Writes the planned status through the status subresource with the resourceVersion read this pass.
 * On a conflict it re-reads the DaemonSet once and retries, as upstream's storeDaemonSetStatus does:
 * the counters are recomputed by the next pass anyway, so only observedGeneration must not run ahead
 * of what the pass saw.
 */
async function writeStatus(cluster: ClusterApi, ds: V1DaemonSet, plan: Plan): Promise<void> {
  const status = { ...plan.status, conditions: plan.status.conditions ? [...plan.status.conditions] : undefined };
  try {
    await cluster.replaceDaemonSetStatus(ds, status);
  } catch (e) {
    if (!(e instanceof ConflictError)) throw e;
    const fresh = await cluster.getDaemonSet(plan.namespace, plan.name);
    if (!fresh || fresh.metadata?.uid !== plan.uid) return;
    // Conditions others wrote meanwhile are kept; the controller's own (COND-5) are the planned ones.
    const planned = (status.conditions ?? []).filter((c) => OWNED_CONDITION_TYPES.includes(c.type));
    const conditions = planned.length === 0 ? fresh.status?.conditions : [...planned, ...(fresh.status?.conditions ?? []).filter((c) => !OWNED_CONDITION_TYPES.includes(c.type))];
    await cluster.replaceDaemonSetStatus(fresh, { ...status, conditions, collisionCount: fresh.status?.collisionCount ?? status.collisionCount });
  }
}
