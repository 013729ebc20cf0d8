/**
 * A minimal level-triggered driver for integration tests of the reconcile path: reconciles the
 * given DaemonSet keys over and over (like a resync every `intervalMs`) with the real shell and the
 * controller's own credentials, until stopped. The event-driven pipeline has tests of its own.
 */
import { KubeCluster } from '../../lib/adapters/kube/kube-cluster.js';
import type { ManagedResource } from '../../lib/core/index.js';
import { createReconciler } from '../../lib/app/reconcile-key.js';
import type { ReconcileReport } from '../../lib/app/ports.js';
import type { PlacementMode } from '../../lib/core/index.js';
import { kubeClient } from '../../lib/local-plane/nodes.js';

export interface ControllerLoop {
  /** Every report so far, in order. */
  readonly reports: ReconcileReport[];
  /** Every error so far (transient errors are expected now and then: conflicts). */
  readonly errors: Error[];
  stop(): Promise<void>;
}

export function startControllerLoop(kubeconfigPath: string, keys: () => readonly string[], options: { intervalMs?: number; managedResource?: ManagedResource; placement?: PlacementMode } = {}): ControllerLoop {
  const cluster = new KubeCluster(kubeClient(kubeconfigPath), { managedResource: options.managedResource ?? 'native', listCache: true });
  const reconcile = createReconciler({ cluster, planOptions: { placement: options.placement ?? 'affinity' } });
  const reports: ReconcileReport[] = [];
  const errors: Error[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      for (const key of keys()) {
        try {
          reports.push(await reconcile(key));
        } catch (e) {
          errors.push(e as Error);
        }
      }
      await new Promise((r) => setTimeout(r, options.intervalMs ?? 200));
    }
  })();
  return {
    reports,
    errors,
    async stop() {
      running = false;
      await loop;
      cluster.close();
    },
  };
}
