/**
 * Rolling update (§11), mirroring `rollingUpdate`, `findUpdatedPodsOnNode` and
 * `updatedDesiredNodeCounts` in upstream update.go.
 */
import type { V1DaemonSet, V1Pod } from '@kubernetes/client-node';
import { rollingUpdateParams, updateStrategyType } from './daemon-set.js';
import { resolveIntOrPercent } from './int-or-percent.js';
import { toDelete } from './manage.js';
import type { PassView } from './placement.js';
import { isPodAvailable, isPodDeleting } from './pod-state.js';
import { isPodUpdated } from './pod-version.js';
import type { PodToDelete } from './types.js';

/** Resolved budgets (ROLL-2/ROLL-3). */
export interface RollingBudgets {
  readonly maxSurge: number;
  readonly maxUnavailable: number;
  readonly desired: number;
}

/**
 * Mirrors `updatedDesiredNodeCounts` (ROLL-3): resolves maxUnavailable and maxSurge against the
 * number of desired nodes (percentages rounded up, ints as-is, maxSurge absent → 0; OnDelete → 0/0)
 * and, when there are desired nodes and both are 0, falls back to maxUnavailable = 1.
 * An unparsable value gives an error value.
 */
export function computeRollingBudgets(ds: V1DaemonSet, desired: number): RollingBudgets | { readonly error: string } {
  let maxUnavailable = 0;
  let maxSurge = 0;
  if (updateStrategyType(ds) === 'RollingUpdate') {
    const params = rollingUpdateParams(ds);
    const mu = resolveIntOrPercent(params.maxUnavailable, desired);
    if (!mu.ok) return { error: `invalid value for MaxUnavailable: ${mu.error}` };
    const ms = resolveIntOrPercent(params.maxSurge, desired);
    if (!ms.ok) return { error: `invalid value for MaxSurge: ${ms.error}` };
    maxUnavailable = mu.value;
    maxSurge = ms.value;
  }
  if (desired > 0 && maxUnavailable === 0 && maxSurge === 0) maxUnavailable = 1;
  return { maxSurge, maxUnavailable, desired };
}

/**
 * ROLL-5, mirrors `findUpdatedPodsOnNode`: ignoring deleting pods, the node's single new and single
 * old pod, or `excess` when there are several of either.
 */
export function findUpdatedPodsOnNode(pods: readonly V1Pod[], hash: string, generation: string | undefined): { newPod?: V1Pod; oldPod?: V1Pod; excess: boolean } {
  let newPod: V1Pod | undefined;
  let oldPod: V1Pod | undefined;
  for (const pod of pods) {
    if (isPodDeleting(pod)) continue;
    if (isPodUpdated(pod, hash, generation)) {
      if (newPod) return { excess: true };
      newPod = pod;
    } else {
      if (oldPod) return { excess: true };
      oldPod = pod;
    }
  }
  return { ...(newPod ? { newPod } : {}), ...(oldPod ? { oldPod } : {}), excess: false };
}

/** Input of `planRollingUpdate`; its `nodeToPods` is the MAP-1 view after this pass's manage decisions. */
export interface RollingUpdateInput extends PassView {
  readonly ds: V1DaemonSet;
  readonly templateGeneration: string | undefined;
  readonly minReadySeconds: number;
  /**
   * CTL-2..CTL-5: nodes the rollout controls hold. The rolling update never touches them, and the
   * budgets are resolved and spent within the other nodes. Absent: no node is held (upstream).
   */
  readonly held?: (node: string) => boolean;
}

/**
 * A node that counts against the budget in this pass: non-surge, against maxUnavailable (no pod,
 * an unavailable new pod, an old and a new pod, more than one of either, an unavailable old pod
 * being replaced); surge, against maxSurge (a new pod not yet available next to an old one, or excess).
 */
export interface BudgetUse {
  readonly node: string;
  /** The pod that makes the node count, when there is one. */
  readonly pod?: string;
  readonly why: 'missing' | 'new-not-available' | 'old-and-new' | 'excess' | 'old-not-available';
}

/** What the rolling update decides. */
export interface RollingUpdateResult {
  readonly createNodes: readonly string[];
  readonly deletes: readonly PodToDelete[];
  readonly budgets?: RollingBudgets;
  /** The nodes that use the budget (maxUnavailable, or maxSurge in surge mode), in node order. */
  readonly budgetUse?: readonly BudgetUse[];
  readonly error?: string;
}

/**
 * Plans one rolling-update step (RollingUpdate strategy only; the caller checks).
 *
 * Iteration order (ROLL-6): upstream walks a Go map (random order); here nodes are visited in
 * name order, which makes plans deterministic. Nodes that hold pods but are no longer in the node
 * list are visited too, as upstream does (they are part of its pod map).
 *
 * Non-surge (maxSurge = 0): "delete old, let manage create new".
 *   Assumptions:
 *   - manage allows no more than one pod per node and creates the missing pods (MANAGE-1/3);
 *   - manage handles failed pods;
 *   - deleting pods do not count as unavailable, so updates progress when nodes are down.
 *   Invariants:
 *   - unavailable nodes (missing pod, unavailable new pod, excess, in-flight replacements) plus
 *     deletions of available old pods never exceed maxUnavailable (RUNS-1/2);
 *   - an old pod that is not available is replaced regardless of the budget (RUNS-3).
 *
 * Surge (maxSurge > 0): "create new next to old, delete old once new is available".
 *   Assumptions:
 *   - manage allows at most two pods per node (one old, one new) and creates missing pods (MANAGE-4);
 *   - manage handles failed pods; deleting pods do not count.
 *   Invariants:
 *   - a node whose old pod is unavailable gets a new pod immediately (allowed new node);
 *   - an old pod is deleted once the new pod on its node is available;
 *   - at most maxSurge new pods are being created next to available old pods at any time (RUS-3);
 *   - old pods on nodes that no longer should run the daemon are deleted only while more pods
 *     are available than nodes desire one (RUS-2, keeps 100% availability).
 *   Deviation: upstream fails the pass when a pod's node is missing from the node list in surge
 *   mode; here such a node is treated as one that should not run the daemon.
 */
export function planRollingUpdate(input: RollingUpdateInput): RollingUpdateResult {
  const { ds, now, hash, minReadySeconds } = input;
  const ns = ds.metadata?.namespace ?? '';
  let desired = 0;
  const held = input.held;
  const working = new Map<string, readonly V1Pod[]>(held ? [...input.nodeToPods].filter(([node]) => !held(node)) : input.nodeToPods);
  for (const node of input.nodeNames) {
    if (!input.eligibility.get(node)?.shouldRun) continue;
    if (held?.(node)) continue;
    desired++;
    if (!working.has(node)) working.set(node, []);
  }
  const budgets = computeRollingBudgets(ds, desired);
  if ('error' in budgets) return { createNodes: [], deletes: [], error: budgets.error };
  const { maxSurge, maxUnavailable } = budgets;
  const nodes = [...working.keys()].sort();
  const available = (pod: V1Pod): boolean => isPodAvailable(pod, minReadySeconds, now);

  if (maxSurge === 0) {
    const unavailable: BudgetUse[] = [];
    const replacements: PodToDelete[] = [];
    const candidates: PodToDelete[] = [];
    for (const node of nodes) {
      const { newPod, oldPod, excess } = findUpdatedPodsOnNode(working.get(node) ?? [], hash, input.templateGeneration);
      if (excess || (!newPod && !oldPod) || (newPod && oldPod)) {
        unavailable.push(excess ? { node, why: 'excess' } : newPod ? { node, pod: newPod.metadata?.name ?? '', why: 'old-and-new' } : { node, why: 'missing' });
      } else if (newPod) {
        if (!available(newPod)) unavailable.push({ node, pod: newPod.metadata?.name ?? '', why: 'new-not-available' });
      } else if (oldPod) {
        if (!available(oldPod)) {
          replacements.push(toDelete(oldPod, ns, node, 'rolling-update'));
          unavailable.push({ node, pod: oldPod.metadata?.name ?? '', why: 'old-not-available' });
        } else if (unavailable.length < maxUnavailable) {
          candidates.push(toDelete(oldPod, ns, node, 'rolling-update'));
        }
      }
    }
    const remaining = Math.min(Math.max(maxUnavailable - unavailable.length, 0), candidates.length);
    return { createNodes: [], deletes: [...replacements, ...candidates.slice(0, remaining)], budgets, budgetUse: unavailable };
  }

  const surging: BudgetUse[] = [];
  let numAvailable = 0;
  const oldToDelete: PodToDelete[] = [];
  const shouldNotRun: PodToDelete[] = [];
  const candidateNodes: string[] = [];
  const allowedNodes: string[] = [];
  for (const node of nodes) {
    const { newPod, oldPod, excess } = findUpdatedPodsOnNode(working.get(node) ?? [], hash, input.templateGeneration);
    if (excess) {
      surging.push({ node, why: 'excess' });
      continue;
    }
    if (oldPod ? available(oldPod) : newPod ? available(newPod) : false) numAvailable++;
    if (!oldPod) continue;
    const shouldRun = input.eligibility.get(node)?.shouldRun ?? false;
    if (!newPod) {
      if (!available(oldPod)) {
        if (!shouldRun) oldToDelete.push(toDelete(oldPod, ns, node, 'not-eligible'));
        else allowedNodes.push(node);
      } else if (!shouldRun) {
        shouldNotRun.push(toDelete(oldPod, ns, node, 'not-eligible'));
      } else if (surging.length < maxSurge) {
        candidateNodes.push(node);
      }
      continue;
    }
    if (!available(newPod)) {
      surging.push({ node, pod: newPod.metadata?.name ?? '', why: 'new-not-available' });
      continue;
    }
    oldToDelete.push(toDelete(oldPod, ns, node, 'surge-cleanup'));
  }
  const deletable = Math.min(Math.max(numAvailable - desired, 0), shouldNotRun.length);
  const deletes = [...oldToDelete, ...shouldNotRun.slice(0, deletable)];
  const remainingSurge = Math.min(Math.max(maxSurge - surging.length, 0), candidateNodes.length);
  return { createNodes: [...allowedNodes, ...candidateNodes.slice(0, remainingSurge)], deletes, budgets, budgetUse: surging };
}
