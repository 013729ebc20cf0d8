/**
 * Reads what one reconcile pass looks at (spec IMPL-1): the DaemonSet, every node, the pods and
 * ControllerRevisions its selector matches. Four reads for a DaemonSet on a small cluster.
 *
 * Pods and revisions are listed by the DaemonSet's selector (the selector is immutable in apps/v1),
 * which covers every pod the DaemonSet owns or could adopt. A pod it owns whose labels were edited
 * so that the selector no longer matches is not seen, so it is not released (upstream would release
 * it); it is still deleted with its DaemonSet by the garbage collector.
 */
import type { Snapshot, V1DaemonSet } from '../core/index.js';
import type { ClusterApi } from '../adapters/kube/kube-cluster.js';
import { formatLabelSelector } from '../adapters/kube/label-selector.js';

/** Reads the snapshot, or null when the DaemonSet does not exist. */
export async function readSnapshot(cluster: ClusterApi, namespace: string, name: string): Promise<Snapshot | null> {
  const daemonSet = await cluster.getDaemonSet(namespace, name);
  if (!daemonSet) return null;
  return readSnapshotOf(cluster, daemonSet);
}

export async function readSnapshotOf(cluster: ClusterApi, daemonSet: V1DaemonSet): Promise<Snapshot> {
  const namespace = daemonSet.metadata?.namespace ?? 'default';
  const selector = daemonSet.spec?.selector;
  const empty = !selector || (Object.keys(selector.matchLabels ?? {}).length === 0 && (selector.matchExpressions ?? []).length === 0);
  if (empty) {
    // SYNC-3: a selector that selects everything is refused before anything else is read.
    return { daemonSet, nodes: [], pods: [], revisions: [], complete: false };
  }
  const labelSelector = formatLabelSelector(selector);
  const [nodes, pods, revisions] = await Promise.all([
    cluster.listNodes(),
    cluster.listPods(namespace, labelSelector),
    cluster.listRevisions(namespace, labelSelector),
  ]);
  return {
    daemonSet,
    nodes: nodes.items,
    pods: pods.items,
    revisions: revisions.items,
    complete: nodes.complete && pods.complete && revisions.complete,
  };
}
