/**
 * The reconcile planner: one pass for one DaemonSet, as a pure function.
 */
import type { V1ControllerRevision, V1Pod } from '@kubernetes/client-node';
import { readBackoffRecord, serializeBackoffRecord, type BackoffEntry, type BackoffRecord } from './backoff.js';
import { allowsSurge, minReadySeconds, revisionHistoryLimit, templateGeneration, updateStrategyType } from './daemon-set.js';
import { groupPodsByNode } from './group-by-node.js';
import {
  CONTROLLER_REVISION_HASH_LABEL,
  DEFAULT_BACKOFF_INITIAL_SECONDS,
  DEFAULT_BACKOFF_MAX_SECONDS,
  EVENT_FAILED_DAEMON_POD,
  EVENT_SELECTING_ALL,
  EVENT_SUCCEEDED_DAEMON_POD,
  FAILED_POD_BACKOFF_ANNOTATION,
} from './labels.js';
import { planManage } from './manage.js';
import { isBeingDeleted, labelsOf } from './objects.js';
import { adoptChange, claimObjects, releaseChange } from './ownership.js';
import { nodeShouldRunDaemonPod, type NodeEligibility } from './placement.js';
import { availableAt, isPodDeleting } from './pod-state.js';
import { buildDaemonPod, choosePodName } from './pod-template.js';
import { planHistory, planHistoryCleanup } from './revisions.js';
import { planRollingUpdate, type RollingUpdateResult } from './rolling-update.js';
import { compileSelector } from './selector.js';
import { computeStatus, isStatusChanged, storedStatus } from './status.js';
import type { Plan, PlanOptions, PodToCreate, PodToDelete, RevisionPlan, Snapshot } from './types.js';

/** The defaults of every option. */
export const DEFAULT_PLAN_OPTIONS: Readonly<Required<PlanOptions>> = Object.freeze({
  placement: 'affinity',
  failedPodBackoff: Object.freeze({ initialSeconds: DEFAULT_BACKOFF_INITIAL_SECONDS, maxSeconds: DEFAULT_BACKOFF_MAX_SECONDS }),
  deferRollingUpdate: false,
});

/**
 * What a full pass looked at and counted on its way to the plan, for `explain` (which must show the
 * pass's own reasons, not compute them a second time).
 */
export interface PassTrace {
  /** Node names, sorted. */
  readonly nodeNames: readonly string[];
  readonly eligibility: ReadonlyMap<string, NodeEligibility>;
  /** The claimed pods (with relabels applied), terminal and deleting ones included. */
  readonly daemonPods: readonly V1Pod[];
  /** The ControllerRevisions the DaemonSet owns after claiming. */
  readonly ownedRevisions: readonly V1ControllerRevision[];
  readonly hash: string;
  readonly currentRevision: number;
  readonly minReadySeconds: number;
  readonly backoff: BackoffRecord;
  /** The rolling-update step (RollingUpdate only, when it was planned in this pass). */
  readonly rolling?: RollingUpdateResult;
}

/**
 * Plans one reconcile pass for `snapshot.daemonSet` at time `now`. `observe`, when given, receives
 * the pass's trace (full passes only). Mirrors `syncDaemonSet`:
 *
 * 1. DaemonSet being deleted → outcome `deleting`, nothing to do, no status write (SYNC-4).
 *    Empty selector → outcome `selecting-all` with a `SelectingAll` warning (SYNC-3). Missing or
 *    unparsable selector → outcome `invalid` with an error.
 * 2. Claim ControllerRevisions and pods (adopt/release, OWN-*), then history (HIST-1..10).
 * 3. Manage (MANAGE-*, FAIL-*), then — RollingUpdate only — the rolling update on the state manage
 *    leaves behind (ROLL-*, see `PlanOptions.deferRollingUpdate`), then history cleanup (HIST-11)
 *    unless the rolling update failed.
 * 4. Status from the snapshot as given, with adoptions and releases applied (STATUS-*), with
 *    `statusChanged` (STATUS-8); `requeueAfterSeconds` for the earliest pod reaching
 *    minReadySeconds (REQ-2/3) or failed-pod back-off end (REQ-4).
 * 5. `snapshot.complete === false` → every delete (pods, revisions) and the failed/succeeded pod
 *    events and back-off record are dropped: never delete on a partial read.
 *
 * Pure: no I/O, no clock, no randomness; inputs are never mutated and outputs never alias them.
 */
export function plan(snapshot: Snapshot, now: Date, options: PlanOptions = {}, observe?: (trace: PassTrace) => void): Plan {
  const opts: Required<PlanOptions> = { ...DEFAULT_PLAN_OPTIONS, ...options };
  const ds = snapshot.daemonSet;
  const namespace = ds.metadata?.namespace ?? '';
  const base: Plan = {
    namespace,
    name: ds.metadata?.name ?? '',
    uid: ds.metadata?.uid ?? '',
    outcome: 'synced',
    deletesAllowed: snapshot.complete,
    ownership: [],
    revisions: { currentName: '', currentHash: '', currentRevision: 0, create: null, update: [], delete: [] },
    podLabelChanges: [],
    createPods: [],
    deletePods: [],
    daemonSetAnnotations: null,
    status: storedStatus(ds),
    statusChanged: false,
    events: [],
    requeueAfterSeconds: null,
    errors: [],
  };

  if (isBeingDeleted(ds.metadata)) return { ...base, outcome: 'deleting' };
  const selector = compileSelector(ds.spec?.selector);
  if (!ds.spec?.selector || !selector.ok) {
    return { ...base, outcome: 'invalid', errors: [`invalid selector: ${selector.ok ? 'spec.selector is required' : selector.error}`] };
  }
  if (selector.empty) {
    return {
      ...base,
      outcome: 'selecting-all',
      events: [{ type: 'Warning', reason: EVENT_SELECTING_ALL, message: 'This daemon set is selecting all pods. A non-empty selector is required.' }],
    };
  }

  const inNamespace = <T extends { metadata?: { namespace?: string } }>(o: T): boolean => (o.metadata?.namespace ?? namespace) === namespace;
  const revisions = snapshot.revisions.filter(inNamespace);
  const pods = snapshot.pods.filter(inNamespace);

  // Ownership and history.
  const crClaim = claimObjects(ds, revisions, selector.matches);
  const podClaim = claimObjects(ds, pods, selector.matches);
  const history = planHistory({
    ds,
    owned: crClaim.claimed,
    takenNames: new Set(revisions.map((r) => r.metadata?.name ?? '')),
    pods: podClaim.claimed,
  });
  const hash = history.currentHash;
  // Pods relabelled by de-duplication (HIST-8) are planned with their new label, so they count as
  // updated in this pass already; upstream's cache still shows the old label for one pass (a
  // deliberate difference, docs/rules.md).
  const relabelled = new Set(history.podLabelChanges.map((c) => c.name));
  const daemonPods = podClaim.claimed.map((p) => (relabelled.has(p.metadata?.name ?? '') ? withHashLabel(p, hash) : p));

  // Eligibility, in node-name order.
  const nodes = [...snapshot.nodes].sort((a, b) => cmp(a.metadata?.name ?? '', b.metadata?.name ?? ''));
  const nodeNames = nodes.map((n) => n.metadata?.name ?? '');
  const eligibility = new Map<string, NodeEligibility>(nodes.map((n) => [n.metadata?.name ?? '', nodeShouldRunDaemonPod(n, ds)]));
  const nodeToPods = groupPodsByNode(daemonPods);
  const minReady = minReadySeconds(ds);
  const generation = templateGeneration(ds);

  // Manage.
  const backoffRecord = readBackoffRecord(ds);
  const manage = planManage({
    ds,
    nodeNames,
    eligibility,
    nodeToPods,
    hash,
    surge: allowsSurge(ds),
    minReadySeconds: minReady,
    now,
    backoff: backoffRecord,
    backoffOptions: opts.failedPodBackoff,
  });

  const taken = new Set(pods.map((p) => p.metadata?.name ?? ''));
  const createPods: PodToCreate[] = [];
  const createFor = (node: string): V1Pod => {
    const name = choosePodName(ds, node, hash, taken);
    taken.add(name);
    const pod = buildDaemonPod(ds, node, hash, opts.placement, name);
    createPods.push({ node, pod });
    return pod;
  };
  const managed = manage.createNodes.map((node) => ({ node, pod: createFor(node) }));

  // Rolling update on the state manage leaves behind.
  const errors: string[] = [];
  let rollingDeletes: readonly PodToDelete[] = [];
  let rolling: RollingUpdateResult | undefined;
  const manageActed = manage.createNodes.length > 0 || manage.deletes.length > 0;
  if (updateStrategyType(ds) === 'RollingUpdate' && !(opts.deferRollingUpdate && manageActed)) {
    const deleted = new Set(snapshot.complete ? manage.deletes.map((d) => d.name) : []);
    // Deleted pods leave the view, and a node left without pods leaves it too, as upstream's
    // node-to-pods map has no entry for it; the rolling update re-adds desired nodes (ROLL-2).
    const after = new Map<string, V1Pod[]>();
    for (const [node, list] of nodeToPods) {
      const kept = list.filter((p) => !deleted.has(p.metadata?.name ?? ''));
      if (kept.length > 0) after.set(node, kept);
    }
    for (const { node, pod } of managed) {
      const simulated: V1Pod = { ...pod, metadata: { ...pod.metadata, creationTimestamp: now }, status: { phase: 'Pending' } };
      after.set(node, [...(after.get(node) ?? []), simulated]);
    }
    rolling = planRollingUpdate({ ds, nodeNames, eligibility, nodeToPods: after, hash, templateGeneration: generation, minReadySeconds: minReady, now });
    if (rolling.error !== undefined) errors.push(rolling.error);
    rollingDeletes = rolling.deletes.filter((d) => !deleted.has(d.name));
    for (const node of rolling.createNodes) if (!manage.createNodes.includes(node)) createFor(node);
  }
  createPods.sort((a, b) => cmp(a.node, b.node));

  // History cleanup (HIST-11) unless a step failed; live hashes include terminal pods being deleted.
  const liveHashes = new Set<string>();
  for (const list of groupPodsByNode(daemonPods, true).values()) {
    for (const p of list) {
      const h = labelsOf(p.metadata)[CONTROLLER_REVISION_HASH_LABEL];
      if (h) liveHashes.add(h);
    }
  }
  const cleanup = errors.length === 0 ? planHistoryCleanup(history.old, revisionHistoryLimit(ds), liveHashes) : [];

  // Status and requeue.
  const status = computeStatus({ ds, nodeNames, eligibility, nodeToPods, hash, now, collisionCount: history.collisionCount });
  const requeue = minSeconds(manage.backoffRequeueSeconds, availabilityRequeueSeconds(daemonPods, minReady, now));
  observe?.({
    nodeNames, eligibility, daemonPods, ownedRevisions: crClaim.claimed, hash, currentRevision: history.currentRevision,
    minReadySeconds: minReady, backoff: backoffRecord, ...(rolling ? { rolling } : {}),
  });

  // Back-off record.
  let daemonSetAnnotations: Plan['daemonSetAnnotations'] = null;
  if (manage.backoffUpdates.size > 0) {
    const merged = new Map<string, BackoffEntry>(backoffRecord);
    for (const [node, entry] of manage.backoffUpdates) merged.set(node, entry);
    daemonSetAnnotations = { [FAILED_POD_BACKOFF_ANNOTATION]: serializeBackoffRecord(ds, merged, now, opts.failedPodBackoff) };
  }

  const seen = new Set<string>();
  const deletePods = [...manage.deletes, ...rollingDeletes].filter((d) => (seen.has(d.name) ? false : (seen.add(d.name), true)));
  const revisionPlan: RevisionPlan = {
    currentName: history.currentName,
    currentHash: hash,
    currentRevision: history.currentRevision,
    create: history.create,
    update: history.update,
    delete: [...history.duplicates, ...cleanup],
  };
  const full: Plan = {
    ...base,
    ownership: [
      ...crClaim.adopt.map((cr) => adoptChange('ControllerRevision', ds, cr)),
      ...crClaim.release.map((cr) => releaseChange('ControllerRevision', ds, cr)),
      ...podClaim.adopt.map((p) => adoptChange('Pod', ds, p)),
      ...podClaim.release.map((p) => releaseChange('Pod', ds, p)),
    ],
    revisions: revisionPlan,
    podLabelChanges: history.podLabelChanges,
    createPods,
    deletePods,
    daemonSetAnnotations,
    status,
    statusChanged: isStatusChanged(ds, status),
    events: manage.events,
    requeueAfterSeconds: requeue,
    errors,
  };
  if (snapshot.complete) return full;
  return {
    ...full,
    deletePods: [],
    revisions: { ...revisionPlan, delete: [] },
    daemonSetAnnotations: null,
    events: full.events.filter((e) => e.reason !== EVENT_FAILED_DAEMON_POD && e.reason !== EVENT_SUCCEEDED_DAEMON_POD),
  };
}

/**
 * REQ-2/REQ-3: seconds until the earliest Ready, non-deleting daemon pod becomes available
 * (minReadySeconds after its Ready transition), or undefined. Finer than upstream, which requeues
 * after the full minReadySeconds: this wakes up exactly when availability can change.
 */
export function availabilityRequeueSeconds(pods: readonly V1Pod[], minReady: number, now: Date): number | undefined {
  if (minReady <= 0) return undefined;
  let best: number | undefined;
  for (const pod of pods) {
    if (isPodDeleting(pod)) continue;
    const at = availableAt(pod, minReady);
    if (at === undefined || at <= now.getTime()) continue;
    const seconds = (at - now.getTime()) / 1000;
    best = best === undefined ? seconds : Math.min(best, seconds);
  }
  return best;
}

function minSeconds(a: number | undefined, b: number | undefined): number | null {
  const m = a === undefined ? b : b === undefined ? a : Math.min(a, b);
  return m === undefined ? null : Math.max(1, Math.ceil(m));
}

function withHashLabel(pod: V1Pod, hash: string): V1Pod {
  return { ...pod, metadata: { ...pod.metadata, labels: { ...labelsOf(pod.metadata), [CONTROLLER_REVISION_HASH_LABEL]: hash } } };
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
