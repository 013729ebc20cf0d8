/**
 * Status conditions (COND-*) for `dlds` and for native DaemonSets with rollout controls, in the
 * kstatus convention (`Reconciling`, `Stalled`, `Ready`) plus a Deployment-style `Progressing`, and
 * the progress deadline (CTL-8). Stateless: what must be remembered between passes lives in the
 * stored conditions' `lastTransitionTime`s and in the pods' Ready transition times.
 */
import type { V1DaemonSetCondition, V1Pod } from '@kubernetes/client-node';
import { CONDITION, CONDITION_REASON } from './labels.js';
import type { PassView } from './placement.js';
import { isPodAvailable, isPodDeleting, isPodTerminal, sortOldestFirst } from './pod-state.js';
import { isPodUpdated } from './pod-version.js';
import { toMillis, toRfc3339 } from './time.js';
import { isStatusChanged } from './status.js';
import type { DaemonSetStatus, HoldReason, V1DaemonSet } from './types.js';

/** The condition types the controller owns; every other type is preserved as stored. */
export const OWNED_CONDITION_TYPES: readonly string[] = [CONDITION.reconciling, CONDITION.stalled, CONDITION.ready, CONDITION.progressing];

/** Input of `summarizeRollout`. */
export interface RolloutSummaryInput extends PassView {
  readonly templateGeneration: string | undefined;
  readonly minReadySeconds: number;
  /** RollingUpdate (old pods are work unless held) or OnDelete (old pods are never work). */
  readonly rollingUpdate: boolean;
  /** Why the controls hold a node (CTL-2..4), or undefined. */
  readonly holdReason: (node: string) => HoldReason | undefined;
}

/** What is left of the rollout, read from the snapshot. */
export interface RolloutSummary {
  /**
   * COND-1: the controller still has work it may do: an eligible node without a running pod or
   * whose pod is not available, or (RollingUpdate) a node the controls do not hold that runs an
   * old pod or more than one pod.
   */
  readonly work: boolean;
  /** Eligible nodes whose old pod the controls hold. */
  readonly heldOld: number;
  /** The held nodes' reasons, counted. */
  readonly heldBy: Readonly<Partial<Record<HoldReason, number>>>;
  /** CTL-8: the latest time (ms) a pod of the current revision became available, if any did. */
  readonly lastNewAvailableAt: number | undefined;
}

/** COND-1, CTL-8: what is left of the rollout and when a new pod last became available. */
export function summarizeRollout(input: RolloutSummaryInput): RolloutSummary {
  let work = false;
  let heldOld = 0;
  const heldBy: Partial<Record<HoldReason, number>> = {};
  let lastNewAvailableAt: number | undefined;
  const now = input.now.getTime();
  for (const node of input.nodeNames) {
    if (input.eligibility.get(node)?.shouldRun !== true) continue;
    const live = sortOldestFirst((input.nodeToPods.get(node) ?? []).filter((p) => !isPodDeleting(p) && !isPodTerminal(p)));
    for (const pod of live) {
      if (!isPodUpdated(pod, input.hash, input.templateGeneration)) continue;
      const at = becameAvailableAt(pod, input.minReadySeconds);
      if (at !== undefined && at <= now) lastNewAvailableAt = Math.max(lastNewAvailableAt ?? at, at);
    }
    const oldest = live[0];
    if (oldest === undefined || !isPodAvailable(oldest, input.minReadySeconds, input.now)) {
      work = true;
      continue;
    }
    if (!input.rollingUpdate) continue;
    const hasOld = live.some((p) => !isPodUpdated(p, input.hash, input.templateGeneration));
    if (!hasOld && live.length === 1) continue;
    const reason = input.holdReason(node);
    if (reason !== undefined && hasOld) {
      heldOld++;
      heldBy[reason] = (heldBy[reason] ?? 0) + 1;
    } else {
      work = true;
    }
  }
  return { work, heldOld, heldBy, lastNewAvailableAt };
}

/** When (ms) a Ready pod became available: its Ready transition plus minReadySeconds. */
function becameAvailableAt(pod: V1Pod, minReadySeconds: number): number | undefined {
  const ready = pod.status?.conditions?.find((c) => c.type === 'Ready');
  if (ready?.status !== 'True') return undefined;
  const since = toMillis(ready.lastTransitionTime);
  return since === undefined ? undefined : since + minReadySeconds * 1000;
}

/** Input of `progressDeadline`. */
export interface ProgressInput {
  readonly deadlineSeconds: number | null;
  readonly stored: readonly V1DaemonSetCondition[] | undefined;
  /** The rollout has work it may do (COND-1) and is not paused by the user. */
  readonly active: boolean;
  /** The spec changed since the stored status (a new rollout starts now). */
  readonly specChanged: boolean;
  readonly lastNewAvailableAt: number | undefined;
  readonly now: Date;
}

/** Where the progress deadline stands. */
export interface ProgressState {
  readonly exceeded: boolean;
  /** Seconds until the deadline passes (when it is running), for the requeue. */
  readonly remainingSeconds?: number;
}

/**
 * CTL-8: the rollout has made no progress — no pod of the current revision became available — for
 * `progressDeadlineSeconds`. The clock starts when the rollout starts: when `Reconciling` turned
 * True (its lastTransitionTime; this pass when it is not True yet or the spec changed); every pod
 * of the current revision becoming available restarts it. Once exceeded (stored `Stalled` True,
 * reason ProgressDeadlineExceeded) it stays exceeded until a new pod becomes available after the
 * stall, the spec changes, or the rollout stops being active (complete, paused by the user).
 * A paused rollout never exceeds its deadline, as a paused Deployment does not.
 */
export function progressDeadline(input: ProgressInput): ProgressState {
  if (input.deadlineSeconds === null || !input.active) return { exceeded: false };
  const now = input.now.getTime();
  const deadlineMs = input.deadlineSeconds * 1000;
  if (input.specChanged) return { exceeded: false, remainingSeconds: input.deadlineSeconds };
  const stalled = findCondition(input.stored, CONDITION.stalled);
  if (stalled?.status === 'True' && stalled.reason === CONDITION_REASON.progressDeadlineExceeded) {
    const since = toMillis(stalled.lastTransitionTime) ?? now;
    if (input.lastNewAvailableAt === undefined || input.lastNewAvailableAt <= since) return { exceeded: true };
    return { exceeded: false, remainingSeconds: input.deadlineSeconds };
  }
  const reconciling = findCondition(input.stored, CONDITION.reconciling);
  const started = reconciling?.status === 'True' ? (toMillis(reconciling.lastTransitionTime) ?? now) : now;
  const last = Math.max(started, input.lastNewAvailableAt ?? started);
  const remaining = last + deadlineMs - now;
  if (remaining <= 0) return { exceeded: true };
  return { exceeded: false, remainingSeconds: remaining / 1000 };
}

/** Input of `computeConditions`. */
export interface ConditionsInput {
  readonly name: string;
  readonly status: DaemonSetStatus;
  readonly stored: readonly V1DaemonSetCondition[] | undefined;
  readonly summary: RolloutSummary;
  /** Paused by the user or by auto-pause. */
  readonly paused: boolean;
  /** A terminal problem of this pass (invalid controls, an unusable budget), or null. */
  readonly failure: string | null;
  readonly progressDeadlineExceeded: boolean;
  readonly deadlineSeconds: number | null;
  readonly now: Date;
}

/**
 * COND-1..4, the owned conditions of the status this pass writes (then every other stored
 * condition, unchanged):
 * - `Reconciling` True RolloutInProgress while there is work (COND-1) and nothing stalls it; else
 *   False with the reason that ends it;
 * - `Stalled` True ReconcileFailed (message = the problem) or ProgressDeadlineExceeded; else False;
 * - `Ready` True when all the controls allow is done: RolloutComplete, or Paused / Partitioned when
 *   the controls hold old pods; else False RolloutInProgress;
 * - `Progressing` True RolloutInProgress / RolloutComplete / Partitioned, Unknown Paused, False
 *   ProgressDeadlineExceeded.
 * COND-5: lastTransitionTime is kept unless the status flips (then `now`).
 */
export function computeConditions(input: ConditionsInput): V1DaemonSetCondition[] {
  const { summary, status } = input;
  const d = status.desiredNumberScheduled;
  const u = status.updatedNumberScheduled;
  const partitioned = summary.heldOld > 0 && !input.paused;
  const holdReason = input.paused ? CONDITION_REASON.paused : partitioned ? CONDITION_REASON.partitioned : CONDITION_REASON.rolloutComplete;
  const holdMessage = input.paused
    ? `rollout paused: ${u} out of ${d} new pods have been updated`
    : partitioned
      ? `partitioned roll out complete: ${u} new pods have been updated (${summary.heldOld} held by ${heldByText(summary.heldBy)})`
      : `daemon set "${input.name}" successfully rolled out`;
  const progressMessage = `${u} out of ${d} new pods have been updated, ${status.numberAvailable} of ${d} pods are available`;
  const stall = input.failure !== null
    ? { reason: CONDITION_REASON.reconcileFailed, message: input.failure }
    : input.progressDeadlineExceeded
      ? { reason: CONDITION_REASON.progressDeadlineExceeded, message: `daemon set "${input.name}" has not made progress for ${input.deadlineSeconds ?? 0} s: no new pod became available${input.paused ? '; rollout paused' : ''}` }
      : null;
  const working = summary.work && stall === null;
  const done = !summary.work && stall === null;
  const wanted: Omit<V1DaemonSetCondition, 'lastTransitionTime'>[] = [
    working
      ? { type: CONDITION.reconciling, status: 'True', reason: CONDITION_REASON.rolloutInProgress, message: progressMessage }
      : { type: CONDITION.reconciling, status: 'False', reason: stall?.reason ?? holdReason, message: stall?.message ?? holdMessage },
    stall
      ? { type: CONDITION.stalled, status: 'True', reason: stall.reason, message: stall.message }
      : { type: CONDITION.stalled, status: 'False', reason: working ? CONDITION_REASON.rolloutInProgress : holdReason, message: working ? progressMessage : holdMessage },
    done
      ? { type: CONDITION.ready, status: 'True', reason: holdReason, message: holdMessage }
      : { type: CONDITION.ready, status: 'False', reason: CONDITION_REASON.rolloutInProgress, message: stall?.message ?? progressMessage },
    input.progressDeadlineExceeded
      ? { type: CONDITION.progressing, status: 'False', reason: CONDITION_REASON.progressDeadlineExceeded, message: stall?.message ?? '' }
      : input.paused
        ? { type: CONDITION.progressing, status: 'Unknown', reason: CONDITION_REASON.paused, message: holdMessage }
        : working || stall !== null
          ? { type: CONDITION.progressing, status: 'True', reason: CONDITION_REASON.rolloutInProgress, message: progressMessage }
          : { type: CONDITION.progressing, status: 'True', reason: holdReason, message: holdMessage },
  ];
  const at = wholeSeconds(input.now);
  const owned = wanted.map((c): V1DaemonSetCondition => {
    const before = findCondition(input.stored, c.type);
    const lastTransitionTime = before !== undefined && before.status === c.status && before.lastTransitionTime !== undefined ? before.lastTransitionTime : at;
    return { type: c.type, status: c.status, lastTransitionTime: lastTransitionTime as unknown as Date, reason: c.reason ?? '', message: c.message ?? '' };
  });
  return [...owned, ...(input.stored ?? []).filter((c) => !OWNED_CONDITION_TYPES.includes(c.type))];
}

function heldByText(heldBy: RolloutSummary['heldBy']): string {
  const parts = (['partition', 'selector', 'invalid'] as const).filter((r) => (heldBy[r] ?? 0) > 0).map((r) => (r === 'selector' ? 'node selector' : r));
  return parts.length > 0 ? parts.join(' and ') : 'partition';
}

/** COND-6: the owned conditions differ (type, status, reason, message, presence) from the stored ones. */
export function ownedConditionsChanged(stored: readonly V1DaemonSetCondition[] | undefined, next: readonly V1DaemonSetCondition[] | undefined): boolean {
  for (const type of OWNED_CONDITION_TYPES) {
    const a = findCondition(stored, type);
    const b = findCondition(next, type);
    if (a === undefined && b === undefined) continue;
    if (a === undefined || b === undefined) return true;
    if (a.status !== b.status || (a.reason ?? '') !== (b.reason ?? '') || (a.message ?? '') !== (b.message ?? '')) return true;
  }
  return false;
}

/** The condition of a type, if present. */
export function findCondition(conditions: readonly V1DaemonSetCondition[] | undefined, type: string): V1DaemonSetCondition | undefined {
  return conditions?.find((c) => c.type === type);
}

/**
 * COND-7: the conditions the shell writes after a terminal reconcile failure (`Stalled` True
 * ReconcileFailed with the error, `Ready` and `Reconciling` False, `Progressing` kept), or null
 * when the stored ones already say so.
 */
export function failedConditions(stored: readonly V1DaemonSetCondition[] | undefined, message: string, now: Date): V1DaemonSetCondition[] | null {
  const at = wholeSeconds(now);
  const set = (type: string, status: string, reason: string): V1DaemonSetCondition => {
    const before = findCondition(stored, type);
    const lastTransitionTime = before !== undefined && before.status === status && before.lastTransitionTime !== undefined ? before.lastTransitionTime : at;
    return { type, status, reason, message, lastTransitionTime: lastTransitionTime as unknown as Date };
  };
  const owned = [
    set(CONDITION.reconciling, 'False', CONDITION_REASON.reconcileFailed),
    set(CONDITION.stalled, 'True', CONDITION_REASON.reconcileFailed),
    set(CONDITION.ready, 'False', CONDITION_REASON.rolloutInProgress),
  ];
  const progressing = findCondition(stored, CONDITION.progressing);
  const next = [...owned, ...(progressing ? [progressing] : []), ...(stored ?? []).filter((c) => !OWNED_CONDITION_TYPES.includes(c.type))];
  return ownedConditionsChanged(stored, next) ? next : null;
}

/** A condition time as metav1.Time stores it (RFC 3339, whole seconds). */
function wholeSeconds(now: Date): string {
  return toRfc3339(new Date(Math.floor(now.getTime() / 1000) * 1000));
}

/**
 * COND-7 for a pass whose writes failed terminally: the planned status with the owned conditions
 * of `failedConditions` instead of the planned ones, and whether it differs from the stored status.
 * A pass that fails the same way again writes nothing.
 */
export function statusAfterFailure(ds: V1DaemonSet, planned: DaemonSetStatus, message: string, now: Date): { readonly status: DaemonSetStatus; readonly changed: boolean } {
  const conditions = failedConditions(ds.status?.conditions, message, now);
  const status: DaemonSetStatus = { ...planned, conditions: conditions ?? ds.status?.conditions ?? [] };
  return { status, changed: conditions !== null || isStatusChanged(ds, status) };
}
