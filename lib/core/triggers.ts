/**
 * Which DaemonSets an observed change concerns (§16, WATCH-*): the one home of these rules. The
 * webhook's event mapping (lib/events/map-event.ts) applies them to the objects an event carries
 * and turns the targets into keys and fan-outs; the `daemonSetsFor*` helpers resolve the same
 * targets against a DaemonSet list, as upstream's handlers do. A stateless controller may
 * reconcile more often; these give the minimum upstream relies on.
 *
 * Two rules need the DaemonSet and its pods, which the webhook does not read: WATCH-8's
 * per-DaemonSet node filter (`nodeChangeNeedsSync`; the webhook sends a node change to every
 * DaemonSet, a superset) and WATCH-3's delayed look after a pod turns Ready
 * (`readyTransitionRequeueSeconds`; the planner asks for the same look itself, REQ-2). They are
 * kept as the statement of upstream's rule that the tests hold the planner to.
 */
import type { V1ControllerRevision, V1DaemonSet, V1Node, V1Pod, V1Taint } from '@kubernetes/client-node';
import { sameJson } from './canonical-json.js';
import { minReadySeconds } from './daemon-set.js';
import { selectorAdopts } from './label-selector.js';
import { isBeingDeleted, labelsOf } from './objects.js';
import { nodeShouldRunDaemonPod } from './placement.js';
import { isPodReady } from './pod-state.js';
import { defaultDaemonTolerations, toleratesTaint } from './tolerations.js';

type Owned = V1Pod | V1ControllerRevision;

/** An owner reference as the rules read it (client-node's `V1OwnerReference` fits). */
export interface TriggerOwnerRef {
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
  readonly uid: string;
  readonly controller?: boolean | undefined;
}

/**
 * The metadata of a pod or ControllerRevision as the rules read it: client-node's `V1ObjectMeta`
 * fits, and so does the webhook's summary of an object.
 */
export interface TriggerMeta {
  readonly resourceVersion?: string | undefined;
  readonly labels?: Readonly<Record<string, string>> | undefined;
  readonly ownerReferences?: readonly TriggerOwnerRef[] | undefined;
  readonly deletionTimestamp?: unknown;
}

/**
 * What a change concerns, before any DaemonSet is looked up: the DaemonSet a controller reference
 * names (when it resolves: kind DaemonSet, same namespace, same name and uid), or every DaemonSet
 * of the object's namespace whose non-empty, valid selector matches the object's labels.
 */
export type SyncTarget =
  | { readonly to: 'owner'; readonly ref: TriggerOwnerRef }
  | { readonly to: 'matching' };

const controllerOf = (meta: TriggerMeta): TriggerOwnerRef | undefined => meta.ownerReferences?.find((r) => r.controller === true);

/**
 * WATCH-2/WATCH-4 (pod add or delete), WATCH-5 (revision add/delete): the owner when there is a
 * controller reference; for an orphan on add, the matching DaemonSets (adoption); nothing otherwise.
 * An added object that is already being deleted is handled as a delete. Revisions added with an
 * owner do not trigger a sync.
 */
export function targetsForAddOrDelete(kind: 'Pod' | 'ControllerRevision', event: 'add' | 'delete', meta: TriggerMeta): SyncTarget[] {
  const effective = event === 'add' && isBeingDeleted(meta) ? 'delete' : event;
  const ref = controllerOf(meta);
  if (ref) return kind === 'ControllerRevision' && effective === 'add' ? [] : [{ to: 'owner', ref }];
  return effective === 'add' ? [{ to: 'matching' }] : [];
}

/**
 * WATCH-3 (pod update) and WATCH-5 (revision update): ignore an unchanged resourceVersion (when
 * the old one is known); a pod with a deletionTimestamp is handled as a delete; a changed
 * controller reference also syncs the old owner; an owned object syncs its owner; an orphan syncs
 * the matching DaemonSets when its labels or its controller reference changed.
 */
export function targetsForUpdate(kind: 'Pod' | 'ControllerRevision', oldMeta: TriggerMeta, newMeta: TriggerMeta): SyncTarget[] {
  if (oldMeta.resourceVersion !== undefined && oldMeta.resourceVersion === newMeta.resourceVersion) return [];
  if (kind === 'Pod' && isBeingDeleted(newMeta)) return targetsForAddOrDelete(kind, 'delete', newMeta);
  const out: SyncTarget[] = [];
  const oldRef = controllerOf(oldMeta);
  const newRef = controllerOf(newMeta);
  const refChanged = !sameJson(oldRef, newRef);
  if (refChanged && oldRef) out.push({ to: 'owner', ref: oldRef });
  if (newRef) return [...out, { to: 'owner', ref: newRef }];
  if (refChanged || !sameJson(oldMeta.labels ?? {}, newMeta.labels ?? {})) out.push({ to: 'matching' });
  return out;
}

/** A taint as the node rule reads it (client-node's `V1Taint` fits). */
export interface TriggerTaint {
  readonly key: string;
  readonly value?: string | undefined;
  readonly effect: string;
  readonly timeAdded?: unknown;
}

/** The parts of a node the node rule reads. */
export interface TriggerNode {
  readonly labels?: Readonly<Record<string, string>> | undefined;
  readonly taints?: readonly TriggerTaint[] | undefined;
}

/** Go's empty string and an absent value are one taint value. */
const taintsOf = (n: TriggerNode): unknown[] => (n.taints ?? []).map((t) => ({ key: t.key, value: t.value || undefined, effect: t.effect, timeAdded: t.timeAdded }));

/** WATCH-6 (v1.29+), mirrors `shouldIgnoreNodeUpdate`: a node update matters only when its labels or taints changed. */
export function nodeUpdateIgnorable(oldNode: TriggerNode, newNode: TriggerNode): boolean {
  return sameJson(oldNode.labels ?? {}, newNode.labels ?? {}) && sameJson(taintsOf(oldNode), taintsOf(newNode));
}

/**
 * WATCH-12: whether a taint can bear on any DaemonSet's eligibility: only NoSchedule and NoExecute
 * taints count (SCHED-5), and none that the default tolerations every daemon pod gets tolerate
 * (POD-4, without the hostNetwork-only one).
 */
function taintCanMatter(t: TriggerTaint): boolean {
  if (t.effect !== 'NoSchedule' && t.effect !== 'NoExecute') return false;
  const taint: V1Taint = { key: t.key, effect: t.effect, ...(t.value ? { value: t.value } : {}) };
  return !defaultDaemonTolerations(false).some((toleration) => toleratesTaint(toleration, taint));
}

/**
 * WATCH-12: a node update that no DaemonSet's eligibility there can follow, whatever its
 * scheduling fields: the labels are the same, and so are the taints that can matter (key, value
 * and effect; the time a taint was added changes nothing). Node lifecycle's NoExecute taints on an
 * unreachable node, pressure taints and cordoning are such updates.
 */
export function nodeUpdateMattersToNoDaemonSet(oldNode: TriggerNode, newNode: TriggerNode): boolean {
  const mattering = (n: TriggerNode): string[] => (n.taints ?? []).filter(taintCanMatter).map((t) => JSON.stringify([t.key, t.value || '', t.effect])).sort();
  return sameJson(oldNode.labels ?? {}, newNode.labels ?? {}) && sameJson(mattering(oldNode), mattering(newNode));
}

/** WATCH-6 over client-node nodes. */
export function shouldIgnoreNodeUpdate(oldNode: V1Node, newNode: V1Node): boolean {
  const view = (n: V1Node): TriggerNode => ({ labels: n.metadata?.labels, taints: n.spec?.taints });
  return nodeUpdateIgnorable(view(oldNode), view(newNode));
}

/** The scheduling fields of a DaemonSet's pod template: all a node's eligibility depends on (SCHED-*). */
export function schedulingOf(ds: V1DaemonSet): V1DaemonSet {
  const spec = ds.spec?.template?.spec;
  const pick = {
    ...(spec?.nodeName === undefined ? {} : { nodeName: spec.nodeName }),
    ...(spec?.nodeSelector === undefined ? {} : { nodeSelector: spec.nodeSelector }),
    ...(spec?.affinity?.nodeAffinity === undefined ? {} : { affinity: { nodeAffinity: spec.affinity.nodeAffinity } }),
    ...(spec?.tolerations === undefined ? {} : { tolerations: spec.tolerations }),
    ...(spec?.hostNetwork === undefined ? {} : { hostNetwork: spec.hostNetwork }),
  };
  return { spec: { selector: { matchLabels: {} }, template: { spec: { containers: [], ...pick } } } };
}

/** What a node change asks of one DaemonSet: a node-scoped pass (IMPL-6), a full pass, or nothing. */
export type NodeChangePass = 'node' | 'full' | null;

/**
 * WATCH-10, upstream's `addNode` / `updateNode` filters on the node before and after the change
 * (null: it did not exist yet / is gone): an added node concerns the DaemonSet when a daemon pod
 * should run there; an update when `shouldRun` or `shouldContinueRunning` changed — both as a
 * node-scoped pass. A deleted node on which a daemon pod could run changes the status counts: a
 * full pass (its pods go with the pod garbage collector). `ds` needs only its scheduling fields
 * (`schedulingOf`).
 */
export function nodeChangePass(name: string, before: TriggerNode | null, after: TriggerNode | null, ds: V1DaemonSet): NodeChangePass {
  const asNode = (n: TriggerNode): V1Node => ({ metadata: { name, labels: { ...(n.labels ?? {}) } }, spec: { taints: (n.taints ?? []) as V1Taint[] } });
  const was = before === null ? null : nodeShouldRunDaemonPod(asNode(before), ds);
  const now = after === null ? null : nodeShouldRunDaemonPod(asNode(after), ds);
  if (now === null) return was === null || was.shouldRun || was.shouldContinueRunning ? 'full' : null;
  if (was === null) return now.shouldRun ? 'node' : null;
  return was.shouldRun !== now.shouldRun || was.shouldContinueRunning !== now.shouldContinueRunning ? 'node' : null;
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

/** The DaemonSets the targets name, resolved as upstream resolves them; each DaemonSet once. */
function resolveTargets(targets: readonly SyncTarget[], obj: Owned, daemonSets: readonly V1DaemonSet[]): V1DaemonSet[] {
  const namespace = obj.metadata?.namespace;
  const out: V1DaemonSet[] = [];
  for (const t of targets) {
    const found = t.to === 'owner'
      ? daemonSets.filter((ds) => t.ref.kind === 'DaemonSet' && ds.metadata?.namespace === namespace && ds.metadata?.name === t.ref.name && ds.metadata?.uid === t.ref.uid)
      : daemonSets.filter((ds) => ds.metadata?.namespace === namespace && selectorAdopts(ds.spec?.selector, labelsOf(obj.metadata)));
    for (const ds of found) if (!out.includes(ds)) out.push(ds);
  }
  return out;
}

/** `targetsForAddOrDelete` resolved against a DaemonSet list. */
export function daemonSetsForAddOrDelete(kind: 'Pod' | 'ControllerRevision', event: 'add' | 'delete', obj: Owned, daemonSets: readonly V1DaemonSet[]): V1DaemonSet[] {
  return resolveTargets(targetsForAddOrDelete(kind, event, obj.metadata ?? {}), obj, daemonSets);
}

/** `targetsForUpdate` resolved against a DaemonSet list (the matching ones for the new object's labels). */
export function daemonSetsForUpdate(kind: 'Pod' | 'ControllerRevision', oldObj: Owned, newObj: Owned, daemonSets: readonly V1DaemonSet[]): V1DaemonSet[] {
  return resolveTargets(targetsForUpdate(kind, oldObj.metadata ?? {}, newObj.metadata ?? {}), newObj, daemonSets);
}

/**
 * WATCH-3/REQ-3: when an owned pod turns Ready and the DaemonSet has minReadySeconds, look again
 * after minReadySeconds + 1 s (seconds), else undefined.
 */
export function readyTransitionRequeueSeconds(oldPod: V1Pod, newPod: V1Pod, ds: V1DaemonSet): number | undefined {
  const min = minReadySeconds(ds);
  return min > 0 && !isPodReady(oldPod) && isPodReady(newPod) ? min + 1 : undefined;
}
