/**
 * The cluster side of the composition root (reconcile and resync functions): KubeConfig from the
 * configured credentials, the Kubernetes adapter, the reconciler.
 */
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { buildKubeConfig } from '../../lib/adapters/credentials/kube-config.js';
import { createEksTokenProvider } from '../../lib/adapters/credentials/eks-token.js';
import { KubeCluster } from '../../lib/adapters/kube/kube-cluster.js';
import { emitEventVia, listDaemonSetsVia } from '../../lib/app/cluster-ports.js';
import { createReconciler } from '../../lib/app/reconcile-key.js';
import { toAppLogger, toAppMetrics } from '../../lib/observability/powertools.js';
import { base, lazy, type Base, type ReconcileHandlerDeps, type ResyncHandlerDeps } from './deps.js';

export async function kubeCluster(b: Base): Promise<KubeCluster> {
  const { config } = b;
  const eksTokens = config.cluster.mode === 'eks'
    ? createEksTokenProvider({ clusterName: config.cluster.clusterName, region: config.region ?? '', credentials: defaultProvider() })
    : undefined;
  const kc = await buildKubeConfig(config.cluster, { readSecret: b.readSecret, ...(eksTokens === undefined ? {} : { eksTokens }) });
  return new KubeCluster(kc, { managedResource: config.managedResource, listCache: config.listCache });
}

export const reconcileDeps = lazy(async (): Promise<ReconcileHandlerDeps> => {
  const b = base('reconcile');
  const cluster = await kubeCluster(b);
  return {
    batch: {
      reconcile: createReconciler({ cluster, planOptions: { placement: b.config.placement } }),
      queue: b.queue,
      forwardDelayed: (m) => b.queue.forwardDelayed(m),
      listDaemonSets: listDaemonSetsVia(cluster),
      emitEvent: emitEventVia(cluster, b.config.managedResource),
      logger: toAppLogger(b.obs.logger),
      metrics: toAppMetrics(b.obs.metrics),
      now: Date.now,
      maxReceives: b.config.maxReceives,
    },
  };
});

export const resyncDeps = lazy(async (): Promise<ResyncHandlerDeps> => {
  const b = base('resync');
  const cluster = await kubeCluster(b);
  return {
    resync: { listDaemonSets: listDaemonSetsVia(cluster), queue: b.queue, logger: toAppLogger(b.obs.logger), metrics: toAppMetrics(b.obs.metrics) },
  };
});
