/**
 * Node eligibility (§3): which nodes should run a daemon pod of a DaemonSet.
 */
import type { V1DaemonSet, V1Node } from '@kubernetes/client-node';
import { nodeSelectorMatches, requiredNodeAffinityMatches } from './node-affinity.js';
import { isTaintTolerated, withDefaultDaemonTolerations } from './tolerations.js';

/** The two booleans of the eligibility predicate. */
export interface NodeEligibility {
  /** A new daemon pod may be created on the node. */
  readonly shouldRun: boolean;
  /** An existing daemon pod may stay on the node. */
  readonly shouldContinueRunning: boolean;
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
  const spec = ds.spec?.template?.spec;
  const nodeName = node.metadata?.name ?? '';
  if (spec?.nodeName && spec.nodeName !== nodeName) return NOT_ELIGIBLE;
  if (!nodeSelectorMatches(spec?.nodeSelector, node)) return NOT_ELIGIBLE;
  if (!requiredNodeAffinityMatches(spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution, node)) {
    return NOT_ELIGIBLE;
  }
  const tolerations = withDefaultDaemonTolerations(spec?.tolerations, spec?.hostNetwork === true);
  let noScheduleOk = true;
  let noExecuteOk = true;
  for (const taint of node.spec?.taints ?? []) {
    if (taint.effect !== 'NoSchedule' && taint.effect !== 'NoExecute') continue;
    if (isTaintTolerated(taint, tolerations)) continue;
    if (taint.effect === 'NoExecute') noExecuteOk = false;
    else noScheduleOk = false;
  }
  if (noScheduleOk && noExecuteOk) return ELIGIBLE;
  return { shouldRun: false, shouldContinueRunning: noExecuteOk };
}

const ELIGIBLE: NodeEligibility = Object.freeze({ shouldRun: true, shouldContinueRunning: true });
const NOT_ELIGIBLE: NodeEligibility = Object.freeze({ shouldRun: false, shouldContinueRunning: false });
