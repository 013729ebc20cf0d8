/**
 * Manage (§7, §8): per-node create/delete decisions, mirroring `manage` and `podsShouldBeOnNode`.
 */
import type { V1DaemonSet, V1Pod } from '@kubernetes/client-node';
import { backoffRemainingSeconds, nextBackoffEntry, type BackoffEntry, type BackoffRecord } from './backoff.js';
import { CONTROLLER_REVISION_HASH_LABEL, EVENT_FAILED_DAEMON_POD, EVENT_SUCCEEDED_DAEMON_POD } from './labels.js';
import { labelsOf } from './objects.js';
import type { PassView } from './placement.js';
import { isPodAvailable, isPodDeleting, isPodReady, sortOldestFirst, targetNodeName } from './pod-state.js';
import type { BackoffOptions, ControllerEvent, DeleteReason, PodToDelete } from './types.js';

/**
 * Input of `planManage`: nodes are visited in `nodeNames` order; `nodeToPods` is the MAP-1 view
 * (terminal + deleting pods excluded); `hash` is the current one (HIST-10).
 */
export interface ManageInput extends PassView {
  readonly ds: V1DaemonSet;
  /** Surge mode (`allowsSurge`). */
  readonly surge: boolean;
  readonly minReadySeconds: number;
  readonly backoff: BackoffRecord;
  readonly backoffOptions: BackoffOptions;
}

/** What manage decides. */
export interface ManageResult {
  /** Nodes that need a new pod, in visiting order. */
  readonly createNodes: readonly string[];
  readonly deletes: readonly PodToDelete[];
  readonly events: readonly ControllerEvent[];
  /** Back-off entries advanced by this pass (node → entry). */
  readonly backoffUpdates: ReadonlyMap<string, BackoffEntry>;
  /** Earliest end of a back-off that kept a failed pod, seconds from now. */
  readonly backoffRequeueSeconds: number | undefined;
}

/**
 * Mirrors `manage` + `podsShouldBeOnNode` + `getUnscheduledPodsWithoutNode`. For every node:
 * - MANAGE-1 shouldRun, no pod → create;
 * - MANAGE-2 shouldContinueRunning → skip deleting pods; Failed pods are deleted subject to the
 *   per-node back-off with a `FailedDaemonPod` event (FAIL-1..3); Succeeded pods are deleted with a
 *   `SucceededDaemonPod` event (FAIL-4); then non-surge keeps the oldest running pod (MANAGE-3),
 *   surge keeps the oldest new and oldest old pod, deleting the old one once it is not Ready or
 *   the new one is Available, and creates when nothing runs and shouldRun (MANAGE-4);
 * - MANAGE-5 !shouldContinueRunning → delete every pod not already deleting;
 * - MANAGE-8 pods targeting a node not in the list → delete those never bound (not already deleting).
 */
export function planManage(input: ManageInput): ManageResult {
  const { ds, now } = input;
  const ns = ds.metadata?.namespace ?? '';
  const createNodes: string[] = [];
  const deletes: PodToDelete[] = [];
  const events: ControllerEvent[] = [];
  const backoffUpdates = new Map<string, BackoffEntry>();
  let backoffRequeueSeconds: number | undefined;
  const del = (pod: V1Pod, node: string, reason: DeleteReason): void => {
    deletes.push(toDelete(pod, ns, node, reason));
  };

  for (const node of input.nodeNames) {
    const { shouldRun, shouldContinueRunning } = input.eligibility.get(node) ?? { shouldRun: false, shouldContinueRunning: false };
    const pods = input.nodeToPods.get(node);
    const exists = pods !== undefined && pods.length > 0;
    if (shouldRun && !exists) {
      createNodes.push(node);
      continue;
    }
    if (!exists) continue;
    if (!shouldContinueRunning) {
      for (const pod of pods) if (!isPodDeleting(pod)) del(pod, node, 'not-eligible');
      continue;
    }
    const running: V1Pod[] = [];
    for (const pod of pods) {
      if (isPodDeleting(pod)) continue;
      const phase = pod.status?.phase;
      if (phase === 'Failed') {
        const entry = backoffUpdates.get(node) ?? input.backoff.get(node);
        const remaining = backoffRemainingSeconds(entry, now, input.backoffOptions);
        if (remaining !== undefined) {
          backoffRequeueSeconds = Math.min(backoffRequeueSeconds ?? Infinity, remaining);
          continue;
        }
        backoffUpdates.set(node, nextBackoffEntry(entry, now, input.backoffOptions));
        events.push({ type: 'Warning', reason: EVENT_FAILED_DAEMON_POD, message: `Found failed daemon pod ${ns}/${pod.metadata?.name ?? ''} on node ${node}, will try to kill it` });
        del(pod, node, 'failed');
      } else if (phase === 'Succeeded') {
        events.push({ type: 'Normal', reason: EVENT_SUCCEEDED_DAEMON_POD, message: `Found succeeded daemon pod ${ns}/${pod.metadata?.name ?? ''} on node ${node}, will try to delete it` });
        del(pod, node, 'succeeded');
      } else {
        running.push(pod);
      }
    }
    if (!input.surge) {
      for (const extra of sortOldestFirst(running).slice(1)) del(extra, node, 'duplicate');
      continue;
    }
    if (running.length <= 1) {
      if (running.length === 0 && shouldRun) createNodes.push(node);
      continue;
    }
    let oldestNew: V1Pod | undefined;
    let oldestOld: V1Pod | undefined;
    for (const pod of sortOldestFirst(running)) {
      const isNew = labelsOf(pod.metadata)[CONTROLLER_REVISION_HASH_LABEL] === input.hash;
      if (isNew && oldestNew === undefined) oldestNew = pod;
      else if (!isNew && oldestOld === undefined) oldestOld = pod;
      else del(pod, node, 'duplicate');
    }
    if (oldestNew && oldestOld && (!isPodReady(oldestOld) || isPodAvailable(oldestNew, input.minReadySeconds, now))) {
      del(oldestOld, node, 'surge-cleanup');
    }
  }

  const listed = new Set(input.nodeNames);
  const vanished = [...input.nodeToPods.keys()].filter((n) => !listed.has(n)).sort();
  for (const node of vanished) {
    for (const pod of input.nodeToPods.get(node) ?? []) {
      // Upstream deletes these again on every pass even while terminating; deleting a terminating
      // pod changes nothing and costs a write each pass (a deliberate difference, docs/rules.md).
      if (!pod.spec?.nodeName && !isPodDeleting(pod)) del(pod, node, 'node-gone');
    }
  }
  return { createNodes, deletes, events, backoffUpdates, backoffRequeueSeconds };
}

/** A delete entry for a pod. */
export function toDelete(pod: V1Pod, namespace: string, node: string | undefined, reason: DeleteReason): PodToDelete {
  return {
    name: pod.metadata?.name ?? '',
    namespace: pod.metadata?.namespace ?? namespace,
    uid: pod.metadata?.uid ?? '',
    node: node ?? targetNodeName(pod) ?? '',
    reason,
  };
}
