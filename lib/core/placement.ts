/**
 * Node eligibility (§3): which nodes should run a daemon pod of a DaemonSet.
 */
import type { V1DaemonSet, V1Node, V1Pod, V1Taint } from '@kubernetes/client-node';
import { nodeSelectorMismatch, requiredNodeAffinityMismatch } from './node-affinity.js';
import { isTaintTolerated, withDefaultDaemonTolerations } from './tolerations.js';

/** The two booleans of the eligibility predicate. */
export interface NodeEligibility {
  /** A new daemon pod may be created on the node. */
  readonly shouldRun: boolean;
  /** An existing daemon pod may stay on the node. */
  readonly shouldContinueRunning: boolean;
}

/**
 * What every step of a pass (manage, rolling update, status, the rollout summary) reads of the
 * world: the nodes in name order, where each stands, their pods (MAP-1, as the step's own input
 * says), the current revision hash and the pass's clock.
 */
export interface PassView {
  readonly nodeNames: readonly string[];
  readonly eligibility: ReadonlyMap<string, NodeEligibility>;
  readonly nodeToPods: ReadonlyMap<string, readonly V1Pod[]>;
  readonly hash: string;
  readonly now: Date;
}

/**
 * Mirrors `NodeShouldRunDaemonPod` (SCHED-1..9). Evaluated on the pod the DaemonSet would create
 * for the node: template + default tolerations, bound to the node.
 * - template `nodeName` set and different from the node → (false, false);
 * - nodeSelector or required node affinity not matched → (false, false);
 * - every NoSchedule/NoExecute taint tolerated → (true, true);
 * - otherwise (false, every NoExecute taint tolerated).
 * PreferNoSchedule taints, `spec.unschedulable`, conditions, resources and ports are ignored.
 */
export function nodeShouldRunDaemonPod(node: V1Node, ds: V1DaemonSet): NodeEligibility {
  const { shouldRun, shouldContinueRunning } = nodeDaemonPodVerdict(node, ds);
  return shouldRun ? ELIGIBLE : shouldContinueRunning ? { shouldRun, shouldContinueRunning } : NOT_ELIGIBLE;
}

/** The eligibility of a node with the first reason a daemon pod should not run there. */
export interface NodeVerdict extends NodeEligibility {
  /** Undefined when `shouldRun`; else e.g. `taint dedicated=x:NoSchedule not tolerated`. */
  readonly reason?: string;
}

/** `nodeShouldRunDaemonPod` with its reason: the one implementation of the rule (`explain` shows it). */
export function nodeDaemonPodVerdict(node: V1Node, ds: V1DaemonSet): NodeVerdict {
  const spec = ds.spec?.template?.spec;
  const nodeName = node.metadata?.name ?? '';
  if (spec?.nodeName && spec.nodeName !== nodeName) return { ...NOT_ELIGIBLE, reason: `template nodeName is ${spec.nodeName}` };
  const selectorMiss = nodeSelectorMismatch(spec?.nodeSelector, node);
  if (selectorMiss !== undefined) return { ...NOT_ELIGIBLE, reason: selectorMiss };
  const affinityMiss = requiredNodeAffinityMismatch(spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution, node);
  if (affinityMiss !== undefined) return { ...NOT_ELIGIBLE, reason: affinityMiss };
  const tolerations = withDefaultDaemonTolerations(spec?.tolerations, spec?.hostNetwork === true);
  let noScheduleOk = true;
  let noExecuteOk = true;
  let reason: string | undefined;
  for (const taint of node.spec?.taints ?? []) {
    if (taint.effect !== 'NoSchedule' && taint.effect !== 'NoExecute') continue;
    if (isTaintTolerated(taint, tolerations)) continue;
    if (taint.effect === 'NoExecute') noExecuteOk = false;
    else noScheduleOk = false;
    reason ??= `taint ${taintText(taint)} not tolerated`;
  }
  if (noScheduleOk && noExecuteOk) return ELIGIBLE;
  return { shouldRun: false, shouldContinueRunning: noExecuteOk, reason };
}

/** A taint as kubectl prints it: `key=value:Effect` (`key:Effect` without a value). */
function taintText(taint: V1Taint): string {
  return `${taint.key}${taint.value ? `=${taint.value}` : ''}:${taint.effect}`;
}

const ELIGIBLE: NodeEligibility = Object.freeze({ shouldRun: true, shouldContinueRunning: true });
const NOT_ELIGIBLE: NodeEligibility = Object.freeze({ shouldRun: false, shouldContinueRunning: false });
