/**
 * The pipeline's cluster ports (ListDaemonSets, EmitEvent) over the Kubernetes adapter.
 */
import type { KubeCluster } from '../adapters/kube/kube-cluster.js';
import type { ManagedResource } from '../config.js';
import type { LabelSelector } from '../events/types.js';
import { TransientError } from './errors.js';
import type { EmitEvent, ListDaemonSets } from './queue.js';

/**
 * ListDaemonSets over `KubeCluster.listDaemonSets()`, which pages internally: the whole list comes
 * back as one page. A list cut short (expired continue token) fails transiently, so that a resync or
 * fan-out never silently skips DaemonSets.
 */
export function listDaemonSetsVia(cluster: KubeCluster): ListDaemonSets {
  return async ({ namespace }) => {
    const list = await cluster.listDaemonSets();
    if (!list.complete) throw new TransientError('DaemonSet list was cut short');
    const items = [];
    for (const ds of list.items) {
      const ns = ds.metadata?.namespace;
      const name = ds.metadata?.name;
      if (ns === undefined || name === undefined || (namespace !== undefined && ns !== namespace)) continue;
      items.push({ key: `${ns}/${name}`, namespace: ns, name, selector: (ds.spec?.selector ?? null) as LabelSelector | null });
    }
    return { items };
  };
}

export function emitEventVia(cluster: KubeCluster, managed: ManagedResource, now: () => number = Date.now): EmitEvent {
  const apiVersion = managed === 'crd' ? 'daemonless.io/v1' : 'apps/v1';
  return async (event) => {
    const slash = event.key.indexOf('/');
    const namespace = event.key.slice(0, slash);
    const name = event.key.slice(slash + 1);
    await cluster.recordEvent({ apiVersion, kind: 'DaemonSet', namespace, name }, { type: event.type, reason: event.reason, message: event.message }, new Date(now()));
  };
}
