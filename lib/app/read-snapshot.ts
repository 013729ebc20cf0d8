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
import { compileSelector, formatLabelSelector, targetNodeName, type Snapshot, type V1DaemonSet } from '../core/index.js';
import type { ClusterApi, ListResult } from './cluster-api.js';
import { TransientError } from './errors.js';

/** Where a pass gets the node list from (default: a LIST of its own). */
export type NodeLister = () => Promise<ListResult<V1Node>>;
/** How a node-scoped pass reads its node (null: there is none). */
export type NodeGetter = (name: string) => Promise<V1Node | null>;

/** Reads the snapshot, or null when the DaemonSet does not exist. */
export async function readSnapshot(cluster: ClusterApi, namespace: string, name: string, nodes?: NodeLister): Promise<Snapshot | null> {
  const daemonSet = await cluster.getDaemonSet(namespace, name);
  if (!daemonSet) return null;
  return readSnapshotOf(cluster, daemonSet, nodes);
}

/**
 * IMPL-6: what a node-scoped pass reads — the DaemonSet, the node, the DaemonSet's pods bound to
 * that node (label and field selector), its pods not yet bound (a pod waiting for the scheduler
 * carries the node in its affinity; the field-selected list cannot return it) and its revisions:
 * five requests at any cluster size. A fan-out's passes share what it read (IMPL-5): the DaemonSet
 * as its list read it (`daemonSet`: not read again) and one read of the node (`getNode`). With the
 * label selector known beforehand (`labelSelector`, from the fan-out), all reads go at once;
 * otherwise, or when the DaemonSet's selector turns out to be another, the DaemonSet is read first,
 * and nothing else when `proceed` says no. Null when the DaemonSet does not exist; `nodes` is empty
 * when the node is gone (or was not read).
 */
export async function readNodeSnapshot(
  cluster: ClusterApi, namespace: string, name: string, node: string,
  options: { labelSelector?: string; proceed?: (ds: V1DaemonSet) => boolean; getNode?: NodeGetter; daemonSet?: V1DaemonSet } = {},
): Promise<Snapshot | null> {
  const { labelSelector, proceed = () => true, getNode = (n: string) => cluster.getNode(n) } = options;
  if (labelSelector === undefined || options.daemonSet !== undefined) {
    const daemonSet = options.daemonSet ?? await cluster.getDaemonSet(namespace, name);
    if (!daemonSet) return null;
    // Read first, the DaemonSet may already say that the pass has nothing to do here.
    return proceed(daemonSet) ? readNodeSnapshotOf(cluster, daemonSet, node, getNode) : { daemonSet, nodes: [], pods: [], revisions: [], complete: false };
  }
  const [daemonSet, rest] = await Promise.all([cluster.getDaemonSet(namespace, name), readNodeParts(cluster, namespace, labelSelector, node, getNode)]);
  if (!daemonSet) return null;
  if (selectorString(daemonSet) !== labelSelector) return readNodeSnapshotOf(cluster, daemonSet, node, getNode);
  return { daemonSet, ...rest };
}

/** The DaemonSet's label selector as a query parameter; null for a missing or empty one (SYNC-3). */
const selectorString = (ds: V1DaemonSet): string | null => {
  const selector = ds.spec?.selector;
  if (!selector) return null;
  const compiled = compileSelector(selector);
  return compiled.ok && compiled.empty ? null : formatLabelSelector(selector);
};

async function readNodeSnapshotOf(cluster: ClusterApi, daemonSet: V1DaemonSet, node: string, getNode: NodeGetter): Promise<Snapshot> {
  const labelSelector = selectorString(daemonSet);
  if (labelSelector === null) return { daemonSet, nodes: [], pods: [], revisions: [], complete: false };
  return { daemonSet, ...await readNodeParts(cluster, daemonSet.metadata?.namespace ?? 'default', labelSelector, node, getNode) };
}

async function readNodeParts(cluster: ClusterApi, namespace: string, labelSelector: string, node: string, getNode: NodeGetter): Promise<Omit<Snapshot, 'daemonSet'>> {
  const [found, bound, unbound, revisions] = await Promise.all([
    getNode(node),
    listWhole(() => cluster.listPods(namespace, labelSelector, `spec.nodeName=${node}`)),
    listWhole(() => cluster.listPods(namespace, labelSelector, 'spec.nodeName=')),
    listWhole(() => cluster.listRevisions(namespace, labelSelector)),
  ]);
  const aimed = unbound.items.filter((p) => targetNodeName(p) === node);
  return {
    nodes: found ? [found] : [], pods: [...bound.items, ...aimed], revisions: revisions.items,
    complete: bound.complete && unbound.complete && revisions.complete,
  };
}

export async function readSnapshotOf(cluster: ClusterApi, daemonSet: V1DaemonSet, listNodes: NodeLister = () => cluster.listNodes()): Promise<Snapshot> {
  const namespace = daemonSet.metadata?.namespace ?? 'default';
  const labelSelector = selectorString(daemonSet);
  if (labelSelector === null) {
    // SYNC-3: a selector that selects everything is refused before anything else is read.
    return { daemonSet, nodes: [], pods: [], revisions: [], complete: false };
  }
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
