/**
 * Reads what one reconcile pass looks at (spec IMPL-1): the DaemonSet, every node, the pods and
 * ControllerRevisions its selector matches. Four reads for a DaemonSet on a small cluster.
 *
 * Pods and revisions are listed by the DaemonSet's selector (the selector is immutable in apps/v1),
 * which covers every pod the DaemonSet owns or could adopt. A pod it owns whose labels were edited
 * so that the selector no longer matches is not seen, so it is not released (upstream would release
 * it); it is still deleted with its DaemonSet by the garbage collector.
 */
import type { V1Node } from '@kubernetes/client-node';
import { formatLabelSelector, targetNodeName, type Snapshot, type V1DaemonSet } from '../core/index.js';
import type { ClusterApi, ListResult } from './cluster-api.js';
import { TransientError } from './errors.js';

/** Where a pass gets the node list from (default: a LIST of its own). */
export type NodeLister = () => Promise<ListResult<V1Node>>;

/** Reads the snapshot, or null when the DaemonSet does not exist. */
export async function readSnapshot(cluster: ClusterApi, namespace: string, name: string, nodes?: NodeLister): Promise<Snapshot | null> {
  const daemonSet = await cluster.getDaemonSet(namespace, name);
  if (!daemonSet) return null;
  return readSnapshotOf(cluster, daemonSet, nodes);
}

/**
 * IMPL-6: what a node-scoped pass reads besides the DaemonSet (read first) — the node, the
 * DaemonSet's pods bound to that node (label and field selector) and its revisions: four requests
 * in all at any cluster size. `nodes` is empty when the node is gone.
 */
export async function readNodeSnapshotOf(cluster: ClusterApi, daemonSet: V1DaemonSet, node: string): Promise<Snapshot> {
  const namespace = daemonSet.metadata?.namespace ?? 'default';
  const selector = daemonSet.spec?.selector;
  if (!selector || (Object.keys(selector.matchLabels ?? {}).length === 0 && (selector.matchExpressions ?? []).length === 0)) {
    return { daemonSet, nodes: [], pods: [], revisions: [], complete: false };
  }
  const labelSelector = formatLabelSelector(selector);
  const [found, pods, revisions] = await Promise.all([
    cluster.getNode(node),
    listWhole(() => cluster.listPods(namespace, labelSelector, `spec.nodeName=${node}`)),
    listWhole(() => cluster.listRevisions(namespace, labelSelector)),
  ]);
  return { daemonSet, nodes: found ? [found] : [], pods: pods.items, revisions: revisions.items, complete: pods.complete && revisions.complete };
}

/**
 * A node-scoped snapshot with the DaemonSet's pods that are not bound yet but aimed at `node` (the
 * node-affinity term of a daemon pod) added: the field-selected list cannot return them, and a
 * pass about to create a pod there must see one that is waiting for the scheduler.
 */
export async function withUnboundPods(cluster: ClusterApi, snapshot: Snapshot, node: string): Promise<Snapshot> {
  const namespace = snapshot.daemonSet.metadata?.namespace ?? 'default';
  const selector = snapshot.daemonSet.spec?.selector;
  if (!selector) return snapshot;
  const unbound = await listWhole(() => cluster.listPods(namespace, formatLabelSelector(selector), 'spec.nodeName='));
  const aimed = unbound.items.filter((p) => targetNodeName(p) === node);
  return { ...snapshot, pods: [...snapshot.pods, ...aimed], complete: snapshot.complete && unbound.complete };
}

export async function readSnapshotOf(cluster: ClusterApi, daemonSet: V1DaemonSet, listNodes: NodeLister = () => cluster.listNodes()): Promise<Snapshot> {
  const namespace = daemonSet.metadata?.namespace ?? 'default';
  const selector = daemonSet.spec?.selector;
  const empty = !selector || (Object.keys(selector.matchLabels ?? {}).length === 0 && (selector.matchExpressions ?? []).length === 0);
  if (empty) {
    // SYNC-3: a selector that selects everything is refused before anything else is read.
    return { daemonSet, nodes: [], pods: [], revisions: [], complete: false };
  }
  const labelSelector = formatLabelSelector(selector);
  const [nodes, pods, revisions] = await Promise.all([
    listWhole(listNodes),
    listWhole(() => cluster.listPods(namespace, labelSelector)),
    listWhole(() => cluster.listRevisions(namespace, labelSelector)),
  ]);
  // Only a partial node list may reach the planner: a pod or revision missing from a partial list
  // would make the pass create a second pod next to it (another hash, or another attempt name)
  // and spend surge budget it does not have. A missing node only means no create for it.
  const name = daemonSet.metadata?.name ?? '';
  if (!pods.complete) throw new TransientError(`pods of daemonset ${namespace}/${name}: the list was cut short twice`);
  if (!revisions.complete) throw new TransientError(`controllerrevisions of daemonset ${namespace}/${name}: the list was cut short twice`);
  return {
    daemonSet,
    nodes: nodes.items,
    pods: pods.items,
    revisions: revisions.items,
    complete: nodes.complete && pods.complete && revisions.complete,
  };
}

/** A list, listed once more from the start when it was cut short (an expired continue token), as a reflector re-lists. */
async function listWhole<T>(list: () => Promise<ListResult<T>>): Promise<ListResult<T>> {
  const first = await list();
  return first.complete ? first : list();
}
