/**
 * `explain`: why a DaemonSet is where it is. Built from one reconcile pass (`plan` with its trace)
 * and the predicates the pass uses, each asked for its reason (`nodeDaemonPodVerdict`, the rolling
 * update's budget use, the failed-pod back-off): no rule is decided here a second time.
 */
import type { V1ContainerStatus, V1Pod } from '@kubernetes/client-node';
import { backoffRemainingSeconds } from './backoff.js';
import { rollingUpdateParams, templateGeneration, updateStrategyType } from './daemon-set.js';
import { CONTROLLER_REVISION_HASH_LABEL } from './labels.js';
import { labelsOf } from './objects.js';
import { nodeDaemonPodVerdict } from './placement.js';
import { availableAt, isPodAvailable, isPodDeleting, isPodReady, sortOldestFirst, targetNodeName } from './pod-state.js';
import { isPodUpdated } from './pod-version.js';
import { DEFAULT_PLAN_OPTIONS, plan, type PassTrace } from './reconcile.js';
import { revisionHash } from './revisions.js';
import type { BudgetUse } from './rolling-update.js';
import { toRfc3339 } from './time.js';
import type { HoldReason, Plan, PlanOptions, Snapshot } from './types.js';

/** The state of one pod of the DaemonSet. */
export interface PodExplanation {
  readonly name: string;
  /** `current` (the current revision) or `old`. */
  readonly version: 'current' | 'old';
  /** The pod's revision number, when its revision is known. */
  readonly revision: number | null;
  /**
   * `available`; `ready` (not yet available: minReadySeconds); `not-ready`; `failed`; `succeeded`;
   * `terminating`.
   */
  readonly state: 'available' | 'ready' | 'not-ready' | 'failed' | 'succeeded' | 'terminating';
  /** Not ready: the container waiting reason (e.g. CrashLoopBackOff) or the Ready condition's reason. */
  readonly reason?: string;
  /** Ready: when it becomes available (RFC 3339). */
  readonly availableAt?: string;
  /** Failed and kept: when the node's back-off ends (RFC 3339). */
  readonly backoffUntil?: string;
  /** What the next pass does with it (the plan's delete reason), when it deletes it. */
  readonly nextPass?: string;
}

/** One node. */
export interface NodeExplanation {
  readonly node: string;
  readonly shouldRun: boolean;
  readonly shouldContinueRunning: boolean;
  /** The first reason a pod should not run there (absent when it should). */
  readonly reason?: string;
  /**
   * `current`, `old`, `missing` (should run, has no pod), `misscheduled` (a pod where none should
   * run), `none` (no pod, none should run), `failed` or `not-ready` (of its oldest pod).
   */
  readonly summary: 'current' | 'old' | 'missing' | 'misscheduled' | 'none' | 'failed' | 'not-ready';
  readonly pods: readonly PodExplanation[];
  /** The next pass creates a pod for this node. */
  readonly create: boolean;
  /** The rollout controls keep this node's old pod (`paused`, `partition`, `selector`, `invalid`). */
  readonly held?: HoldReason;
}

/** The rollout's settings, budget and what holds it. */
export interface RolloutExplanation {
  readonly strategy: string;
  readonly currentRevision: number;
  readonly desired: number;
  readonly updated: number;
  readonly available: number;
  /** RollingUpdate: the budget this pass counts against (maxSurge in surge mode, else maxUnavailable). */
  readonly budget?: {
    readonly name: 'maxUnavailable' | 'maxSurge';
    /** The setting as written (e.g. `10%` or `1`). */
    readonly setting: string;
    /** The number of nodes a percentage is resolved against (the nodes being updated). */
    readonly of: number;
    /** The setting resolved against `of`. */
    readonly allowed: number;
    readonly inUse: readonly BudgetUse[];
  };
  /** What holds the rollout, one sentence each (empty when nothing does). */
  readonly holds: readonly string[];
}

export interface Explanation {
  readonly namespace: string;
  readonly name: string;
  readonly outcome: Plan['outcome'];
  readonly nodes: readonly NodeExplanation[];
  readonly rollout: RolloutExplanation;
  /** The next reconcile pass: the same plan `daemonless plan` prints. */
  readonly plan: Plan;
}

/** Explains one DaemonSet of a snapshot at `now`. Pure. */
export function explain(snapshot: Snapshot, now: Date, options: PlanOptions = {}): Explanation {
  let trace: PassTrace | undefined;
  const p = plan(snapshot, now, options, (t) => (trace = t));
  const ds = snapshot.daemonSet;
  const base = { namespace: p.namespace, name: p.name, outcome: p.outcome, plan: p };
  const strategy = updateStrategyType(ds);
  if (trace === undefined) {
    return {
      ...base,
      nodes: [],
      rollout: { strategy, currentRevision: 0, desired: p.status.desiredNumberScheduled, updated: p.status.updatedNumberScheduled, available: p.status.numberAvailable, holds: [p.outcome === 'deleting' ? 'the DaemonSet is being deleted' : `the pass does nothing (${p.outcome})${p.errors.length ? `: ${p.errors.join('; ')}` : ''}`] },
    };
  }
  const t = trace;
  const backoffOptions = { ...DEFAULT_PLAN_OPTIONS, ...options }.failedPodBackoff;
  const revisionOfHash = new Map(t.ownedRevisions.map((r) => [revisionHash(r), r.revision ?? 0] as const));
  const generation = templateGeneration(ds);
  const deletes = new Map(p.deletePods.map((d) => [d.name, d.reason] as const));
  const creates = new Set(p.createPods.map((c) => c.node));
  const nodesByName = new Map(snapshot.nodes.map((n) => [n.metadata?.name ?? '', n] as const));
  const heldBy = new Map((p.rollout?.held ?? []).map((h) => [h.node, h.reason] as const));

  const podsByNode = new Map<string, V1Pod[]>();
  for (const pod of t.daemonPods) {
    const node = targetNodeName(pod);
    if (node === undefined) continue;
    podsByNode.set(node, [...(podsByNode.get(node) ?? []), pod]);
  }

  const explainPod = (pod: V1Pod, node: string): PodExplanation => {
    const hash = labelsOf(pod.metadata)[CONTROLLER_REVISION_HASH_LABEL] ?? '';
    const current = isPodUpdated(pod, t.hash, generation);
    const revision = current ? t.currentRevision : (revisionOfHash.get(hash) ?? null);
    const name = pod.metadata?.name ?? '';
    const next = deletes.get(name);
    const common = { name, version: current ? 'current' : 'old', revision, ...(next ? { nextPass: `delete (${next})` } : {}) } as const;
    if (isPodDeleting(pod)) return { ...common, state: 'terminating' };
    if (pod.status?.phase === 'Failed') {
      const remaining = next ? undefined : backoffRemainingSeconds(t.backoff.get(node), now, backoffOptions);
      return { ...common, state: 'failed', ...(remaining !== undefined ? { backoffUntil: toRfc3339(new Date(Math.ceil((now.getTime() + remaining * 1000) / 1000) * 1000)) } : {}) };
    }
    if (pod.status?.phase === 'Succeeded') return { ...common, state: 'succeeded' };
    if (!isPodReady(pod)) return { ...common, state: 'not-ready', reason: notReadyReason(pod) };
    if (!isPodAvailable(pod, t.minReadySeconds, now)) {
      const at = availableAt(pod, t.minReadySeconds);
      return { ...common, state: 'ready', ...(at !== undefined && Number.isFinite(at) ? { availableAt: toRfc3339(new Date(at)) } : {}) };
    }
    return { ...common, state: 'available' };
  };

  const nodes: NodeExplanation[] = t.nodeNames.map((node) => {
    const n = nodesByName.get(node);
    const verdict = n ? nodeDaemonPodVerdict(n, ds) : { shouldRun: false, shouldContinueRunning: false, reason: 'node not found' };
    const pods = sortOldestFirst(podsByNode.get(node) ?? []).map((pod) => explainPod(pod, node));
    const live = pods.filter((x) => x.state !== 'terminating');
    const oldest = live[0];
    let summary: NodeExplanation['summary'];
    if (!verdict.shouldRun) summary = live.length > 0 ? 'misscheduled' : 'none';
    else if (oldest === undefined) summary = 'missing';
    else if (oldest.state === 'failed') summary = 'failed';
    else if (oldest.state === 'not-ready') summary = 'not-ready';
    else summary = oldest.version;
    return {
      node,
      shouldRun: verdict.shouldRun,
      shouldContinueRunning: verdict.shouldContinueRunning,
      ...(verdict.reason !== undefined ? { reason: verdict.reason } : {}),
      summary,
      pods,
      create: creates.has(node),
      ...(heldBy.has(node) ? { held: heldBy.get(node) } : {}),
    };
  });

  return { ...base, nodes, rollout: explainRollout(ds, p, t, nodes, now) };
}

function explainRollout(ds: Snapshot['daemonSet'], p: Plan, t: PassTrace, nodes: readonly NodeExplanation[], now: Date): RolloutExplanation {
  const strategy = updateStrategyType(ds);
  const counts = { strategy, currentRevision: t.currentRevision, desired: p.status.desiredNumberScheduled, updated: p.status.updatedNumberScheduled, available: p.status.numberAvailable };
  const holds: string[] = [];
  const oldWaiting = nodes.filter((n) => n.shouldRun && n.summary === 'old' && n.held === undefined && !n.pods.some((x) => x.nextPass));
  if (strategy !== 'RollingUpdate') {
    if (oldWaiting.length > 0) holds.push(`${strategy}: ${oldWaiting.length} old pod${oldWaiting.length === 1 ? '' : 's'} replaced only when deleted`);
    return { ...counts, holds };
  }
  const rolling = t.rolling;
  if (rolling?.error !== undefined) holds.push(rolling.error);
  const budgets = rolling?.budgets;
  let budget: RolloutExplanation['budget'];
  if (budgets && rolling?.budgetUse) {
    const surge = budgets.maxSurge > 0;
    const params = rollingUpdateParams(ds);
    budget = {
      name: surge ? 'maxSurge' : 'maxUnavailable',
      setting: String(surge ? params.maxSurge : params.maxUnavailable),
      of: budgets.desired,
      allowed: surge ? budgets.maxSurge : budgets.maxUnavailable,
      inUse: rolling.budgetUse,
    };
    if (oldWaiting.length > 0 && budget.inUse.length >= budget.allowed) {
      holds.push(`budget used up: ${budget.name} ${budgetText(budget)}; ${oldWaiting.length} old pod${oldWaiting.length === 1 ? '' : 's'} wait${oldWaiting.length === 1 ? 's' : ''}`);
    }
  }
  const r = p.rollout;
  if (r) {
    const heldNodes = (reason: HoldReason) => r.held.filter((h) => h.reason === reason).map((h) => h.node);
    const list = (nodes: readonly string[]) => `${nodes.length} old pod${nodes.length === 1 ? '' : 's'} held${nodes.length ? ` (${nodes.join(', ')})` : ''}`;
    if (r.problems.length > 0) holds.push(`invalid rollout control: ${r.problems.map((x) => `${x.field}: ${x.message}`).join('; ')}; ${list(heldNodes('invalid'))}`);
    if (r.paused) holds.push(`${r.autoPaused ? 'auto-paused after the progress deadline' : 'paused'}: ${list(heldNodes('paused'))}`);
    if (r.controls.selector !== null) holds.push(`rollout node selector: ${list(heldNodes('selector'))}`);
    if (r.controls.partition > 0) holds.push(`partition ${r.controls.partition}: ${list(heldNodes('partition'))}`);
    if (r.progressDeadlineExceeded && !r.autoPaused) holds.push(`progress deadline of ${r.controls.progressDeadlineSeconds ?? 0} s exceeded: no new pod became available`);
  }
  for (const n of nodes) {
    for (const pod of n.pods) {
      if (pod.state === 'ready' && pod.availableAt) {
        const seconds = Math.max(0, Math.ceil((Date.parse(pod.availableAt) - now.getTime()) / 1000));
        holds.push(`minReadySeconds ${t.minReadySeconds}: pod ${pod.name} on ${n.node} available in ${seconds}s (${pod.availableAt})`);
      }
      if (pod.state === 'failed' && pod.backoffUntil) holds.push(`failed pod ${pod.name} on ${n.node} in back-off until ${pod.backoffUntil}`);
    }
  }
  return { ...counts, ...(budget ? { budget } : {}), holds };
}

/** `10% of 40 = 4: 4 in use by pod x (node n1, not available), node n2 (missing)`. */
export function budgetText(budget: NonNullable<RolloutExplanation['budget']>): string {
  const setting = budget.setting.endsWith('%') ? `${budget.setting} of ${budget.of} = ${budget.allowed}` : `${budget.allowed}`;
  const uses = budget.inUse.map(useText);
  return `${setting}: ${budget.inUse.length} in use${uses.length ? ` by ${uses.join(', ')}` : ''}`;
}

const WHY: Readonly<Record<BudgetUse['why'], string>> = {
  'missing': 'no pod',
  'new-not-available': 'new pod not available yet',
  'old-and-new': 'old and new pod',
  'excess': 'more than one pod of a revision',
  'old-not-available': 'old pod not available, being replaced',
};

function useText(u: BudgetUse): string {
  return u.pod ? `pod ${u.pod} (node ${u.node}, ${WHY[u.why]})` : `node ${u.node} (${WHY[u.why]})`;
}

/**
 * Why a pod is not ready: the first container's waiting reason (e.g. CrashLoopBackOff,
 * ImagePullBackOff), else a terminated reason, else the Ready condition's reason, else the phase.
 */
export function notReadyReason(pod: V1Pod): string {
  const statuses: V1ContainerStatus[] = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
  for (const s of statuses) if (s.state?.waiting?.reason) return s.state.waiting.reason;
  for (const s of statuses) if (s.state?.terminated?.reason && !s.ready) return s.state.terminated.reason;
  const ready = pod.status?.conditions?.find((c) => c.type === 'Ready');
  if (ready?.reason) return ready.reason;
  const scheduled = pod.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False');
  if (scheduled) return `Unschedulable${scheduled.message ? `: ${scheduled.message}` : ''}`;
  return pod.status?.phase ?? 'Pending';
}
