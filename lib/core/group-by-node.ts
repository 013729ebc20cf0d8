/**
 * Mapping daemon pods to nodes (§6), mirroring `getNodesToDaemonPods`.
 */
import type { V1Pod } from '@kubernetes/client-node';
import { isPodDeleting, isPodTerminal, targetNodeName } from './pod-state.js';

/**
 * Groups claimed pods by target node (MAP-2). Terminal pods that are being deleted are left out
 * unless `includeDeletedTerminal` (MAP-1; history cleanup includes them). Pods without a target
 * node are dropped. Node names not in the node list are kept (MAP-3). Insertion order is kept.
 */
export function groupPodsByNode(pods: readonly V1Pod[], includeDeletedTerminal = false): Map<string, V1Pod[]> {
  const byNode = new Map<string, V1Pod[]>();
  for (const pod of pods) {
    if (!includeDeletedTerminal && isPodTerminal(pod) && isPodDeleting(pod)) continue;
    const node = targetNodeName(pod);
    if (node === undefined) continue;
    const list = byNode.get(node);
    if (list) list.push(pod);
    else byNode.set(node, [pod]);
  }
  return byNode;
}
