/**
 * Which DaemonSets an observed change concerns (§16, WATCH-*). Pure helpers for whoever maps
 * webhook or watch events to reconcile keys; a stateless controller may reconcile more often,
 * these give the minimum upstream relies on.
 */
import type { V1ControllerRevision, V1DaemonSet, V1Node, V1Pod } from '@kubernetes/client-node';
import { minReadySeconds } from './daemon-set.js';
import { canonicalJson, jsonEqual } from './canonical-json.js';
import { controllerRefOf, isBeingDeleted, labelsOf } from './objects.js';
import { nodeShouldRunDaemonPod } from './placement.js';
import { isPodReady } from './pod-state.js';
import { compileSelector } from './label-selector.js';

type Owned = V1Pod | V1ControllerRevision;

/**
 * WATCH-6 (v1.29+), mirrors `shouldIgnoreNodeUpdate`: a node update matters only when its labels
 * or taints changed.
 */
export function shouldIgnoreNodeUpdate(oldNode: V1Node, newNode: V1Node): boolean {
  return (
    jsonEqual(canonicalJson(oldNode.metadata?.labels ?? {}), canonicalJson(newNode.metadata?.labels ?? {})) &&
    jsonEqual(canonicalJson(oldNode.spec?.taints ?? []), canonicalJson(newNode.spec?.taints ?? []))
  );
}

/**
 * WATCH-8 (v1.33+, with the v1.34 misscheduled trigger), mirrors the node-queue worker: sync the
 * DaemonSet when the node should get a pod and has none, should lose its pod and has one, or has
 * one while the DaemonSet reports misscheduled pods. `scheduled` = the DaemonSet has a daemon pod
 * targeting the node.
 */
export function nodeChangeNeedsSync(node: V1Node, ds: V1DaemonSet, scheduled: boolean): boolean {
  const { shouldRun, shouldContinueRunning } = nodeShouldRunDaemonPod(node, ds);
  return (shouldRun && !scheduled) || (!shouldContinueRunning && scheduled) || (scheduled && (ds.status?.numberMisscheduled ?? 0) > 0);
}

/** The DaemonSet a controller ref resolves to (kind DaemonSet, same name and UID, same namespace). */
export function resolveControllerRef(obj: Owned, daemonSets: readonly V1DaemonSet[]): V1DaemonSet | undefined {
  const ref = controllerRefOf(obj.metadata);
  if (!ref || ref.kind !== 'DaemonSet') return undefined;
  return daemonSets.find((ds) => ds.metadata?.namespace === obj.metadata?.namespace && ds.metadata?.name === ref.name && ds.metadata?.uid === ref.uid);
}

/** DaemonSets in the object's namespace whose non-empty, valid selector matches its labels. */
export function matchingDaemonSets(obj: Owned, daemonSets: readonly V1DaemonSet[]): V1DaemonSet[] {
  return daemonSets.filter((ds) => {
    if (ds.metadata?.namespace !== obj.metadata?.namespace) return false;
    const sel = compileSelector(ds.spec?.selector);
    return sel.ok && !sel.empty && sel.matches(labelsOf(obj.metadata));
  });
}

/**
 * WATCH-2/WATCH-4 (pod add or delete), WATCH-5 (revision add/delete): the owner when the controller
 * ref resolves; for an orphan on add, every matching DaemonSet (adoption); nothing otherwise. An
 * added object that is already being deleted is handled as a delete. Revisions added with an
 * owner do not trigger a sync.
 */
export function daemonSetsForAddOrDelete(kind: 'Pod' | 'ControllerRevision', event: 'add' | 'delete', obj: Owned, daemonSets: readonly V1DaemonSet[]): V1DaemonSet[] {
  const effective = event === 'add' && isBeingDeleted(obj.metadata) ? 'delete' : event;
  const owner = resolveControllerRef(obj, daemonSets);
  if (controllerRefOf(obj.metadata)) {
    if (!owner) return [];
    if (kind === 'ControllerRevision' && effective === 'add') return [];
    return [owner];
  }
  return effective === 'add' ? matchingDaemonSets(obj, daemonSets) : [];
}

/**
 * WATCH-3 (pod update) and WATCH-5 (revision update): ignore an unchanged resourceVersion; a new
 * deletionTimestamp is handled as a delete; a changed controller ref also syncs the old owner; an
 * owned object syncs its owner; an orphan syncs the matching DaemonSets when labels or the
 * controller ref changed.
 */
export function daemonSetsForUpdate(kind: 'Pod' | 'ControllerRevision', oldObj: Owned, newObj: Owned, daemonSets: readonly V1DaemonSet[]): V1DaemonSet[] {
  if (oldObj.metadata?.resourceVersion !== undefined && oldObj.metadata.resourceVersion === newObj.metadata?.resourceVersion) return [];
  if (isBeingDeleted(newObj.metadata) && !isBeingDeleted(oldObj.metadata) && kind === 'Pod') return daemonSetsForAddOrDelete(kind, 'delete', newObj, daemonSets);
  const out: V1DaemonSet[] = [];
  const oldRef = controllerRefOf(oldObj.metadata);
  const newRef = controllerRefOf(newObj.metadata);
  const refChanged = (oldRef?.uid ?? '') !== (newRef?.uid ?? '');
  if (refChanged && oldRef) {
    const old = resolveControllerRef(oldObj, daemonSets);
    if (old) out.push(old);
  }
  if (newRef) {
    const owner = resolveControllerRef(newObj, daemonSets);
    if (owner && !out.includes(owner)) out.push(owner);
    return out;
  }
  const labelsChanged = !jsonEqual(canonicalJson(labelsOf(oldObj.metadata)), canonicalJson(labelsOf(newObj.metadata)));
  if (labelsChanged || refChanged) for (const ds of matchingDaemonSets(newObj, daemonSets)) if (!out.includes(ds)) out.push(ds);
  return out;
}

/**
 * WATCH-3/REQ-3: when an owned pod turns Ready and the DaemonSet has minReadySeconds, look again
 * after minReadySeconds + 1 s (seconds), else undefined.
 */
export function readyTransitionRequeueSeconds(oldPod: V1Pod, newPod: V1Pod, ds: V1DaemonSet): number | undefined {
  const min = minReadySeconds(ds);
  return min > 0 && !isPodReady(oldPod) && isPodReady(newPod) ? min + 1 : undefined;
}
