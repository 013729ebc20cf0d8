/**
 * `daemonless plan --kubeconfig`: reads the live objects a plan looks at, read-only. Native
 * DaemonSets always; the project's own DaemonSets when its CRD is installed. Pods and revisions are
 * read per DaemonSet namespace with the DaemonSet's selector, as a reconcile pass reads them.
 */
import { KubeConfig } from '@kubernetes/client-node';
import { KubeCluster } from '../adapters/kube/kube-cluster.js';
import { formatLabelSelector, type V1ControllerRevision, type V1DaemonSet, type V1Pod } from '../core/index.js';
import type { ReadLiveSnapshot } from './cli.js';
import { SnapshotError } from './snapshot.js';

export const readLiveSnapshot: ReadLiveSnapshot = async (kubeconfigPath) => {
  const kc = new KubeConfig();
  try {
    kc.loadFromFile(kubeconfigPath);
  } catch (e) {
    throw new SnapshotError(`${kubeconfigPath}: not a usable kubeconfig: ${(e as Error).message.split('\n')[0]}`);
  }
  const native = new KubeCluster(kc, { managedResource: 'native' });
  const crd = new KubeCluster(kc, { managedResource: 'crd' });
  try {
    const [nativeSets, crdSets, nodes] = await Promise.all([
      native.listDaemonSets(),
      // The CRD may not be installed: then there are no such DaemonSets.
      crd.listDaemonSets().catch(() => ({ items: [] as V1DaemonSet[], complete: true })),
      native.listNodes(),
    ]);
    const daemonSets = [
      ...nativeSets.items.map((ds) => ({ ...ds, apiVersion: 'apps/v1', kind: 'DaemonSet' })),
      ...crdSets.items,
    ];
    const pods = new Map<string, V1Pod>();
    const revisions = new Map<string, V1ControllerRevision>();
    await Promise.all(daemonSets.map(async (ds) => {
      const ns = ds.metadata?.namespace ?? 'default';
      const selector = formatLabelSelector(ds.spec?.selector);
      if (!selector) return;
      const [p, r] = await Promise.all([native.listPods(ns, selector), native.listRevisions(ns, selector)]);
      for (const x of p.items) pods.set(x.metadata?.uid ?? `${ns}/${x.metadata?.name}`, x);
      for (const x of r.items) revisions.set(x.metadata?.uid ?? `${ns}/${x.metadata?.name}`, x);
    }));
    return { daemonSets, nodes: nodes.items, pods: [...pods.values()], revisions: [...revisions.values()] };
  } catch (e) {
    throw new SnapshotError(`${kc.getCurrentCluster()?.server ?? kubeconfigPath}: cannot read the cluster: ${(e as Error).message.split('\n')[0]}`);
  }
};
