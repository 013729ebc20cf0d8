/**
 * The reconcile planner: one pass for one DaemonSet, as a pure function.
 */
import type { V1Pod } from '@kubernetes/client-node';
import { readBackoffRecord, serializeBackoffRecord, type BackoffEntry, type BackoffRecord } from './backoff.js';
import { computeConditions, findCondition, ownedConditionsChanged, progressDeadline, summarizeRollout } from './conditions.js';
import { allowsSurge, minReadySeconds, revisionHistoryLimit, templateGeneration, updateStrategyType } from './daemon-set.js';
import { groupPodsByNode } from './group-by-node.js';
import {
  CONTROLLER_REVISION_HASH_LABEL,
  DEFAULT_BACKOFF_INITIAL_SECONDS,
  DEFAULT_BACKOFF_MAX_SECONDS,
  CONDITION,
  CONDITION_REASON,
  EVENT_FAILED_DAEMON_POD,
  EVENT_INVALID_ROLLOUT_CONTROL,
  EVENT_PROGRESS_DEADLINE_EXCEEDED,
  EVENT_SELECTING_ALL,
  EVENT_SUCCEEDED_DAEMON_POD,
  FAILED_POD_BACKOFF_ANNOTATION,
  POD_TEMPLATE_GENERATION_LABEL,
  TEMPLATE_GENERATION_ANNOTATION,
} from './labels.js';
import { planManage } from './manage.js';
import { isBeingDeleted, labelsOf } from './objects.js';
import { adoptChange, claimObjects, releaseChange } from './ownership.js';
import { nodeShouldRunDaemonPod, type NodeEligibility } from './placement.js';
import { availableAt, isPodDeleting, isPodTerminal, sortOldestFirst } from './pod-state.js';
import { buildDaemonPod, choosePodName } from './pod-template.js';
import { isPodUpdated } from './pod-version.js';
import { planHistory, planHistoryCleanup, revisionHash, revisionTemplate } from './revisions.js';
import { isDaemonlessResource } from './managed-resource.js';
import { controlsSet, defaultControls, hasControlAnnotation, planHolds, readRolloutControls } from './rollout-controls.js';
import { computeRollingBudgets, planRollingUpdate, type RollingUpdateResult } from './rolling-update.js';
import { compileSelector } from './label-selector.js';
import { computeStatus, isStatusChanged, storedStatus } from './status.js';
import type {
  ControllerEvent,
  DaemonSetStatus,
  Plan,
  PlanOptions,
  PodToCreate,
  PodToDelete,
  RevisionPlan,
  RolloutControls,
  RolloutReport,
  Snapshot,
  V1ControllerRevision,
  V1DaemonSet,
} from './types.js';

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
  const base = emptyPlan(snapshot);
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

  const history = claimAndPlanHistory(snapshot, base.namespace, selector.matches);
  const view = nodeView(snapshot, history.daemonPods, history.hash, now);
  const controls = planControls(view);
  const pods = planPods(view, controls, history, opts, snapshot.complete);
  const cleanup = pods.errors.length === 0 ? planHistoryCleanup(history.history.old, revisionHistoryLimit(ds), liveHashes(history.daemonPods)) : [];
  const status = planStatus(view, controls, history, pods, base.name);
  observe?.({
    nodeNames: view.nodeNames, eligibility: view.eligibility, daemonPods: history.daemonPods, ownedRevisions: history.crClaim.claimed, hash: view.hash,
    currentRevision: history.history.currentRevision, minReadySeconds: view.minReady, backoff: pods.backoffRecord, ...(pods.rolling ? { rolling: pods.rolling } : {}),
  });

  const seen = new Set<string>();
  const deletePods = [...pods.manageDeletes, ...pods.rollingDeletes].filter((d) => (seen.has(d.name) ? false : (seen.add(d.name), true)));
  const revisionPlan: RevisionPlan = {
    currentName: history.history.currentName,
    currentHash: view.hash,
    currentRevision: history.history.currentRevision,
    create: history.history.create,
    update: history.history.update,
    delete: [...history.history.duplicates, ...cleanup],
  };
  const full: Plan = {
    ...base,
    ownership: [
      ...history.crClaim.adopt.map((cr) => adoptChange('ControllerRevision', ds, cr)),
      ...history.crClaim.release.map((cr) => releaseChange('ControllerRevision', ds, cr)),
      ...history.podClaim.adopt.map((p) => adoptChange('Pod', ds, p)),
      ...history.podClaim.release.map((p) => releaseChange('Pod', ds, p)),
    ],
    revisions: revisionPlan,
    podLabelChanges: history.history.podLabelChanges,
    createPods: pods.createPods,
    deletePods,
    daemonSetAnnotations: pods.daemonSetAnnotations,
    status: status.status,
    statusChanged: status.statusChanged,
    events: status.events,
    requeueAfterSeconds: status.requeue,
    errors: pods.errors,
    ...(status.rollout ? { rollout: status.rollout } : {}),
  };
  if (snapshot.complete) return full;
  // Never delete on a partial read.
  return {
    ...full,
    deletePods: [],
    revisions: { ...revisionPlan, delete: [] },
    daemonSetAnnotations: null,
    events: full.events.filter((e) => e.reason !== EVENT_FAILED_DAEMON_POD && e.reason !== EVENT_SUCCEEDED_DAEMON_POD),
  };
}

/**
 * IMPL-6: a node-scoped pass. `snapshot` holds the DaemonSet, the one node `node` (none when it is
 * gone), the DaemonSet's pods bound to that node and its revisions. The plan is `plan()`'s own
 * steps on that view, reduced to what that node alone decides: manage's creates and deletes there
 * (MANAGE-*). It never replaces a pod for the rolling update (the budget counts every node), never
 * writes status, revisions, ownership or the back-off record (they need the whole cluster); the
 * caller follows it with a full pass. Null when the node's decision needs the full pass: the node
 * is gone, the DaemonSet is being deleted or invalid, a rolling update is under way (the stored
 * status says so, `nodePassAllowed`, or the node holds a pod of an older revision), the template
 * has no revision yet, objects need adopting or relabelling, rollout controls are set (partition
 * and canary depend on every node), or manage reports a failed or succeeded pod.
 */
export function planNodePass(snapshot: Snapshot, node: string, now: Date, options: PlanOptions = {}): Plan | null {
  const opts: Required<PlanOptions> = { ...DEFAULT_PLAN_OPTIONS, ...options };
  const ds = snapshot.daemonSet;
  if (!nodePassAllowed(ds) || snapshot.nodes.length !== 1 || snapshot.nodes[0]?.metadata?.name !== node) return null;
  const selector = compileSelector(ds.spec?.selector);
  if (!ds.spec?.selector || !selector.ok || selector.empty) return null;
  const base = emptyPlan(snapshot);
  const history = claimAndPlanHistory(snapshot, base.namespace, selector.matches);
  const h = history.history;
  const claims = history.crClaim.adopt.length + history.crClaim.release.length + history.podClaim.adopt.length + history.podClaim.release.length;
  if (h.create !== null || h.update.length > 0 || h.duplicates.length > 0 || h.podLabelChanges.length > 0 || claims > 0) return null;
  // A pod of an older revision here belongs to a rolling update (a surge pod's old twin, a pod yet to be replaced).
  const rolling = updateStrategyType(ds) === 'RollingUpdate';
  if (rolling && history.daemonPods.some((p) => !isPodUpdated(p, history.hash, templateGeneration(ds)))) return null;
  const view = nodeView(snapshot, history.daemonPods, history.hash, now);
  const controls = planControls(view);
  if (controls.controlled || !controls.read.ok) return null;
  const pods = planPods(view, controls, history, opts, snapshot.complete, false);
  if (pods.errors.length > 0 || pods.daemonSetAnnotations !== null || pods.manage.events.length > 0) return null;
  if ([...pods.createPods.map((c) => c.node), ...pods.manageDeletes.map((d) => d.node)].some((n) => n !== node)) return null;
  return {
    ...base,
    revisions: { currentName: h.currentName, currentHash: view.hash, currentRevision: h.currentRevision, create: null, update: [], delete: [] },
    createPods: pods.createPods,
    deletePods: snapshot.complete ? [...pods.manageDeletes] : [],
  };
}

/**
 * IMPL-6, IMPL-8: whether a node-scoped pass may do the work, judged from the DaemonSet alone: not
 * while it is being deleted, and not while its stored status shows a rolling update under way (a
 * spec not yet observed, or nodes whose pod is of an older revision: fewer updated than scheduled),
 * since every pod change then may free the budget for a replacement on another node. Nodes still
 * waiting for their pod are no rollout: creating it is the node's own work.
 */
export function nodePassAllowed(ds: V1DaemonSet): boolean {
  if (isBeingDeleted(ds.metadata)) return false;
  if (updateStrategyType(ds) !== 'RollingUpdate') return true;
  const status = ds.status;
  if (status === undefined || (status.observedGeneration ?? 0) < (ds.metadata?.generation ?? 0)) return false;
  return (status.updatedNumberScheduled ?? 0) >= status.currentNumberScheduled;
}

/** The plan of a pass that does nothing: the stored status, no changes. */
function emptyPlan(snapshot: Snapshot): Plan {
  const ds = snapshot.daemonSet;
  return {
    namespace: ds.metadata?.namespace ?? '',
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
}

/** Ownership and history: claimed revisions and pods (OWN-*), the revision plan (HIST-1..10). */
function claimAndPlanHistory(snapshot: Snapshot, namespace: string, matches: (labels: Readonly<Record<string, string>>) => boolean) {
  const ds = snapshot.daemonSet;
  const inNamespace = <T extends { metadata?: { namespace?: string } }>(o: T): boolean => (o.metadata?.namespace ?? namespace) === namespace;
  const revisions = snapshot.revisions.filter(inNamespace);
  const pods = snapshot.pods.filter(inNamespace);
  const crClaim = claimObjects(ds, revisions, matches);
  const podClaim = claimObjects(ds, pods, matches);
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
  return { pods, crClaim, podClaim, history, hash, daemonPods };
}
type HistoryStep = ReturnType<typeof claimAndPlanHistory>;

/** The nodes in node-name order, their eligibility and daemon pods, and the DaemonSet's settings a pass counts with. */
function nodeView(snapshot: Snapshot, daemonPods: readonly V1Pod[], hash: string, now: Date) {
  const ds = snapshot.daemonSet;
  const nodes = [...snapshot.nodes].sort((a, b) => cmp(a.metadata?.name ?? '', b.metadata?.name ?? ''));
  return {
    ds,
    now,
    hash,
    nodes,
    nodeNames: nodes.map((n) => n.metadata?.name ?? ''),
    eligibility: new Map<string, NodeEligibility>(nodes.map((n) => [n.metadata?.name ?? '', nodeShouldRunDaemonPod(n, ds)])),
    nodeToPods: groupPodsByNode(daemonPods),
    minReady: minReadySeconds(ds),
    generation: templateGeneration(ds),
  };
}
type NodeView = ReturnType<typeof nodeView>;

/** Rollout controls (CTL-*): RollingUpdate only; OnDelete ignores them (CTL-7). */
function planControls(view: NodeView) {
  const { ds, nodes, nodeNames, eligibility, nodeToPods, hash, generation, minReady, now } = view;
  const rollingUpdate = updateStrategyType(ds) === 'RollingUpdate';
  const read = rollingUpdate ? readRolloutControls(ds) : { ok: true as const, controls: defaultControls(isDaemonlessResource(ds) ? 'fields' : 'annotations') };
  const controls: RolloutControls | null = read.ok ? read.controls : null;
  const controlled = rollingUpdate && (controls === null || controlsSet(controls));
  const holdInput = { nodes, eligibility, nodeToPods, hash, templateGeneration: generation };
  const userHolds = planHolds({ ...holdInput, controls });
  const summary = summarizeRollout({
    nodeNames, eligibility, nodeToPods, hash, templateGeneration: generation, minReadySeconds: minReady, now, rollingUpdate,
    holdReason: controlled ? userHolds.reasonFor : () => undefined,
  });
  const progress = progressDeadline({
    deadlineSeconds: controls?.progressDeadlineSeconds ?? null,
    stored: ds.status?.conditions,
    active: summary.work && controls !== null && !controls.paused,
    specChanged: (ds.status?.observedGeneration ?? 0) < (ds.metadata?.generation ?? 0),
    lastNewAvailableAt: summary.lastNewAvailableAt,
    now,
  });
  const autoPaused = controls !== null && controls.autoPause && !controls.paused && progress.exceeded;
  const holds = autoPaused ? planHolds({ ...holdInput, controls: { ...controls, paused: true } }) : userHolds;
  const heldNode = (node: string): boolean => controlled && holds.reasonFor(node) !== undefined;
  return { rollingUpdate, read, controls, controlled, summary, progress, autoPaused, holds, heldNode };
}
type ControlsStep = ReturnType<typeof planControls>;

/**
 * Manage (MANAGE-*, FAIL-*), then — RollingUpdate only — the rolling update on the state manage
 * leaves behind (ROLL-*), and the failed-pod back-off record.
 */
function planPods(view: NodeView, ctl: ControlsStep, claimed: HistoryStep, opts: Required<PlanOptions>, complete: boolean, rollingAllowed = true) {
  const { ds, nodeNames, eligibility, nodeToPods, hash, minReady, generation, now } = view;
  const { controlled, heldNode } = ctl;
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

  const taken = new Set(claimed.pods.map((p) => p.metadata?.name ?? ''));
  const createPods: PodToCreate[] = [];
  const createFor = (node: string): V1Pod => {
    const name = choosePodName(ds, node, hash, taken);
    taken.add(name);
    const pod = buildDaemonPod(ds, node, hash, opts.placement, name);
    createPods.push({ node, pod });
    return pod;
  };
  // CTL-2..4: on a held node no old pod is removed next to a surge pod, and a failed or succeeded
  // old pod is replaced at once with a pod of its own revision (CTL-6), not the updated one.
  const manageDeletes = controlled ? manage.deletes.filter((d) => !(d.reason === 'surge-cleanup' && heldNode(d.node))) : manage.deletes;
  const replaceAt = controlled && complete
    ? heldReplacements(manageDeletes, manage.createNodes, nodeToPods, claimed.crClaim.claimed, hash, generation, heldNode)
    : new Map<string, { revision: V1ControllerRevision; generation: string | undefined; hash: string }>();
  const managed = manage.createNodes.filter((node) => !replaceAt.has(node)).map((node) => ({ node, pod: createFor(node) }));
  for (const [node, r] of replaceAt) {
    const at = daemonSetAtRevision(ds, r.revision, r.generation);
    if (!at) continue;
    const name = choosePodName(ds, node, r.hash, taken);
    taken.add(name);
    const pod = buildDaemonPod(at, node, r.hash, opts.placement, name);
    createPods.push({ node, pod });
    managed.push({ node, pod });
  }

  // Rolling update on the state manage leaves behind.
  const errors: string[] = [];
  let rollingDeletes: readonly PodToDelete[] = [];
  let rolling: RollingUpdateResult | undefined;
  const manageActed = manage.createNodes.length > 0 || manageDeletes.length > 0;
  if (rollingAllowed && ctl.rollingUpdate && !(opts.deferRollingUpdate && manageActed)) {
    const deleted = new Set(complete ? manageDeletes.map((d) => d.name) : []);
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
    rolling = planRollingUpdate({
      ds, nodeNames, eligibility, nodeToPods: after, hash, templateGeneration: generation, minReadySeconds: minReady, now,
      ...(controlled ? { held: heldNode } : {}),
    });
    if (rolling.error !== undefined) errors.push(rolling.error);
    rollingDeletes = rolling.deletes.filter((d) => !deleted.has(d.name));
    for (const node of rolling.createNodes) if (!manage.createNodes.includes(node) && !replaceAt.has(node)) createFor(node);
  }
  createPods.sort((a, b) => cmp(a.node, b.node));

  // Back-off record.
  let daemonSetAnnotations: Plan['daemonSetAnnotations'] = null;
  if (manage.backoffUpdates.size > 0) {
    const merged = new Map<string, BackoffEntry>(backoffRecord);
    for (const [node, entry] of manage.backoffUpdates) merged.set(node, entry);
    daemonSetAnnotations = { [FAILED_POD_BACKOFF_ANNOTATION]: serializeBackoffRecord(ds, merged, now, opts.failedPodBackoff) };
  }
  return { manage, backoffRecord, createPods, manageDeletes, rollingDeletes, rolling, errors, daemonSetAnnotations };
}
type PodsStep = ReturnType<typeof planPods>;

/** History cleanup (HIST-11) keeps the revisions of live pods, terminal pods being deleted included. */
function liveHashes(daemonPods: readonly V1Pod[]): Set<string> {
  const hashes = new Set<string>();
  for (const list of groupPodsByNode(daemonPods, true).values()) {
    for (const p of list) {
      const h = labelsOf(p.metadata)[CONTROLLER_REVISION_HASH_LABEL];
      if (h) hashes.add(h);
    }
  }
  return hashes;
}

/** Status (STATUS-*), conditions (COND-*), the events of the pass and when to look again (REQ-*). */
function planStatus(view: NodeView, ctl: ControlsStep, claimed: HistoryStep, pods: PodsStep, name: string) {
  const { ds, nodeNames, eligibility, nodeToPods, hash, now, minReady } = view;
  const { read, controls, controlled, summary, progress, autoPaused, holds, rollingUpdate } = ctl;
  const counters = computeStatus({ ds, nodeNames, eligibility, nodeToPods, hash, now, collisionCount: claimed.history.collisionCount });
  const conditionsManaged = isDaemonlessResource(ds) || hasControlAnnotation(ds) || findCondition(ds.status?.conditions, CONDITION.reconciling) !== undefined;
  const problems = read.ok ? [] : read.problems;
  const problemText = problems.map((p) => `${p.field}: ${p.message}`).join('; ');
  const failure = problems.length > 0 ? `invalid rollout control: ${problemText}` : pods.errors.length > 0 ? pods.errors.join('; ') : null;
  const paused = (controls?.paused ?? false) || autoPaused;
  const status: DaemonSetStatus = conditionsManaged
    ? {
      ...counters,
      conditions: computeConditions({
        name, status: counters, stored: ds.status?.conditions, summary, paused: rollingUpdate && paused, failure,
        progressDeadlineExceeded: progress.exceeded, deadlineSeconds: controls?.progressDeadlineSeconds ?? null, now,
      }),
    }
    : counters;
  const deadlineRequeue = progress.exceeded ? undefined : progress.remainingSeconds;
  const requeue = minSeconds(minSeconds(pods.manage.backoffRequeueSeconds, availabilityRequeueSeconds(claimed.daemonPods, minReady, now)) ?? undefined, deadlineRequeue);
  const events: ControllerEvent[] = [...pods.manage.events];
  const stalledBefore = findCondition(ds.status?.conditions, CONDITION.stalled);
  // CTL-1: one event per invalid setting, not one per pass: none while the stored status already says so.
  const reported = stalledBefore?.status === 'True' && stalledBefore.reason === CONDITION_REASON.reconcileFailed && stalledBefore.message === failure;
  if (problems.length > 0 && !reported) {
    events.push({ type: 'Warning', reason: EVENT_INVALID_ROLLOUT_CONTROL, message: `Invalid rollout control, the rollout holds until it is fixed: ${problemText}` });
  }
  if (progress.exceeded && !(stalledBefore?.status === 'True' && stalledBefore.reason === CONDITION_REASON.progressDeadlineExceeded)) {
    events.push({
      type: 'Warning', reason: EVENT_PROGRESS_DEADLINE_EXCEEDED,
      message: `daemon set "${name}" has not made progress for ${controls?.progressDeadlineSeconds ?? 0} s: no new pod became available${autoPaused ? '; rollout paused' : ''}`,
    });
  }
  const rollout: RolloutReport | undefined = controlled || progress.exceeded
    ? rolloutReport(ds, controls ?? defaultControls(isDaemonlessResource(ds) ? 'fields' : 'annotations'), problems, autoPaused, progress.exceeded, holds)
    : undefined;
  const statusChanged = isStatusChanged(ds, status) || (conditionsManaged && ownedConditionsChanged(ds.status?.conditions, status.conditions));
  return { status, statusChanged, requeue, events, rollout };
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

/** `Plan.rollout`: the controls as read and what they hold this pass. */
function rolloutReport(
  ds: V1DaemonSet, controls: RolloutControls, problems: RolloutReport['problems'], autoPaused: boolean, exceeded: boolean, holds: ReturnType<typeof planHolds>,
): RolloutReport {
  const budgets = computeRollingBudgets(ds, holds.updating.length);
  return {
    controls,
    problems,
    paused: controls.paused || autoPaused,
    autoPaused,
    progressDeadlineExceeded: exceeded,
    updating: holds.updating,
    held: holds.held,
    budgets: 'error' in budgets ? null : { maxUnavailable: budgets.maxUnavailable, maxSurge: budgets.maxSurge, nodes: budgets.desired },
  };
}

/**
 * CTL-6: the held nodes whose failed or succeeded pod of an older revision is replaced in this
 * pass — it is deleted now (the replacement is created after the delete, in the same pass) or it
 * waits for its back-off while manage creates next to it (surge) — and where nothing else runs:
 * the replacement is made from that pod's own revision (node → revision, its
 * pod-template-generation label and hash), not the updated one. A revision no longer in the history
 * is skipped: then the node gets the updated pod, as a node without any pod does.
 */
function heldReplacements(
  deletes: readonly PodToDelete[],
  createNodes: readonly string[],
  nodeToPods: ReadonlyMap<string, readonly V1Pod[]>,
  revisions: readonly V1ControllerRevision[],
  hash: string,
  generation: string | undefined,
  held: (node: string) => boolean,
): Map<string, { revision: V1ControllerRevision; generation: string | undefined; hash: string }> {
  const out = new Map<string, { revision: V1ControllerRevision; generation: string | undefined; hash: string }>();
  const deleted = new Set(deletes.map((d) => d.name));
  const replaced = new Set([...createNodes, ...deletes.filter((d) => d.reason === 'failed' || d.reason === 'succeeded').map((d) => d.node)]);
  for (const node of [...replaced].sort()) {
    if (!held(node)) continue;
    const pods = nodeToPods.get(node) ?? [];
    if (pods.some((p) => !deleted.has(p.metadata?.name ?? '') && !isPodDeleting(p) && !isPodTerminal(p))) continue;
    const pod = sortOldestFirst(pods.filter((p) => isPodTerminal(p) && !isPodUpdated(p, hash, generation))).at(-1);
    const podHash = pod ? labelsOf(pod.metadata)[CONTROLLER_REVISION_HASH_LABEL] : undefined;
    const revision = podHash ? revisions.find((r) => revisionHash(r) === podHash) : undefined;
    if (!pod || !podHash || !revision) continue;
    out.set(node, { revision, generation: labelsOf(pod.metadata)[POD_TEMPLATE_GENERATION_LABEL], hash: podHash });
  }
  return out;
}

/** The DaemonSet as it was at `revision` (its template and template generation), for CTL-6. */
function daemonSetAtRevision(ds: V1DaemonSet, revision: V1ControllerRevision, generation: string | undefined): V1DaemonSet | undefined {
  const template = revisionTemplate(revision);
  if (!template) return undefined;
  const annotations = { ...(ds.metadata?.annotations ?? {}) };
  if (generation === undefined) delete annotations[TEMPLATE_GENERATION_ANNOTATION];
  else annotations[TEMPLATE_GENERATION_ANNOTATION] = generation;
  return { ...ds, metadata: { ...ds.metadata, annotations }, spec: { ...(ds.spec as NonNullable<V1DaemonSet['spec']>), template } };
}
