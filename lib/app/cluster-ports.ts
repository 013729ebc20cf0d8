/**
 * The pipeline's cluster ports (ListDaemonSets, EmitEvent) over the cluster port.
 */
import { daemonSetApiVersion, schedulingOf, type ManagedResource } from '../core/index.js';
import type { ClusterApi } from './cluster-api.js';
import type { LabelSelector } from '../events/types.js';
import { TransientError } from './errors.js';
import type { EmitEvent, ListDaemonSets } from './queue.js';

/**
 * ListDaemonSets over `ClusterApi.listDaemonSets()`, which pages internally: the whole list comes
 * back as one page. A list cut short (expired continue token) fails transiently, so that a resync or
 * fan-out never silently skips DaemonSets.
 */
export function listDaemonSetsVia(cluster: ClusterApi): ListDaemonSets {
  return async ({ namespace }) => {
    const list = await cluster.listDaemonSets();
    if (!list.complete) throw new TransientError('DaemonSet list was cut short');
    const items = [];
    for (const ds of list.items) {
      const ns = ds.metadata?.namespace;
      const name = ds.metadata?.name;
      if (ns === undefined || name === undefined || (namespace !== undefined && ns !== namespace)) continue;
      items.push({ key: `${ns}/${name}`, namespace: ns, name, selector: (ds.spec?.selector ?? null) as LabelSelector | null, scheduling: schedulingOf(ds), daemonSet: ds });
    }
    return { items };
  };
}

export function emitEventVia(cluster: Pick<ClusterApi, 'getDaemonSet' | 'recordEvent'>, managed: ManagedResource, now: () => number = Date.now): EmitEvent {
  const apiVersion = daemonSetApiVersion(managed);
  return async (event) => {
    const slash = event.key.indexOf('/');
    const namespace = event.key.slice(0, slash);
    const name = event.key.slice(slash + 1);
    // kubectl describe lists the Events whose involvedObject.uid is the object's: look it up when
    // the failure did not carry it (a DaemonSet that is gone gets its Event without one).
    const uid = event.uid ?? (await cluster.getDaemonSet(namespace, name).catch(() => null))?.metadata?.uid;
    await cluster.recordEvent({ apiVersion, kind: 'DaemonSet', namespace, name, ...(uid === undefined ? {} : { uid }) }, { type: event.type, reason: event.reason, message: event.message }, new Date(now()));
  };
}
