/** The DaemonSets the benchmarks run, and the daemonless local runner as `npm start` composes it. */
import { AppsV1Api, type KubeConfig, type V1DaemonSet } from '@kubernetes/client-node';
import { KubeCluster } from '../../lib/adapters/kube/kube-cluster.js';
import { emitEventVia, listDaemonSetsVia } from '../../lib/app/cluster-ports.js';
import { createReconciler } from '../../lib/app/reconcile-key.js';
import type { ReconcileReport } from '../../lib/app/ports.js';
import type { PlacementMode } from '../../lib/core/index.js';
import { METRIC, type AppLogger, type LogFields } from '../../lib/observability/ports.js';
import { log } from './args.js';
import { RecordingMetrics } from '../../lib/observability/recording.js';
import { runLocal, type LocalRunner } from '../../lib/runner/local-runner.js';

export const NAMESPACE = 'bench';

export function daemonSet(name: string, options: { image?: string; maxUnavailable?: string | number; env?: string } = {}): V1DaemonSet {
  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name, namespace: NAMESPACE },
    spec: {
      selector: { matchLabels: { app: name } },
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: options.maxUnavailable ?? 1, maxSurge: 0 } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          containers: [{
            name: 'agent',
            image: options.image ?? 'registry.k8s.io/pause:3.10',
            env: options.env === undefined ? undefined : [{ name: 'VERSION', value: options.env }],
            resources: { requests: { cpu: '1m', memory: '1Mi' } },
          }],
          terminationGracePeriodSeconds: 0,
        },
      },
    },
  };
}

export async function createDaemonSet(kc: KubeConfig, ds: V1DaemonSet): Promise<V1DaemonSet> {
  return kc.makeApiClient(AppsV1Api).createNamespacedDaemonSet({ namespace: NAMESPACE, body: ds });
}

/** The runner's warnings and errors on stderr (watch restarts, failed reconciles); nothing else. */
function warnLogger(fields: LogFields = {}): AppLogger {
  const emit = (level: string) => (message: string, more: LogFields = {}): void => log(`[daemonless ${level}] ${message} ${JSON.stringify({ ...fields, ...more }).slice(0, 300)}`);
  return { debug: () => undefined, info: () => undefined, warn: emit('warn'), error: emit('error'), child: (more) => warnLogger({ ...fields, ...more }) };
}

/** A reconcile report with when its pass started and ended (performance.now()) and, for a node-scoped pass, its node. */
export type PassRecord = ReconcileReport & { readonly startedAt: number; readonly at: number; readonly node?: string };

export interface Daemonless {
  readonly runner: LocalRunner;
  readonly cluster: KubeCluster;
  readonly metrics: RecordingMetrics;
  /** Every reconcile report so far. */
  readonly reports: PassRecord[];
  /** Reconciles started so far (a pass still in flight has no report yet). */
  readonly started: () => number;
  stop(): Promise<void>;
}

/** The list cache as the product's default (IMPL-10); DAEMONLESS_LIST_CACHE=off measures without it. */
export const listCacheOn = (): boolean => process.env.DAEMONLESS_LIST_CACHE !== 'off';

/** The local runner with the watch source, as `npm start` runs it (default workers, no webhook server). */
export async function startDaemonless(kc: KubeConfig, options: { placement?: PlacementMode; workers?: number } = {}): Promise<Daemonless> {
  const cluster = new KubeCluster(kc, { managedResource: 'native', listCache: listCacheOn() });
  const metrics = new RecordingMetrics();
  const reports: PassRecord[] = [];
  let started = 0;
  const reconcile = createReconciler({ cluster, planOptions: { placement: options.placement ?? 'affinity' } });
  const runner = await runLocal({
    reconcile: async (key, options) => {
      started += 1;
      const startedAt = performance.now();
      const r = await reconcile(key, options);
      reports.push({ ...r, startedAt, at: performance.now(), ...(options?.node === undefined ? {} : { node: options.node }) });
      return r;
    },
    listDaemonSets: listDaemonSetsVia(cluster),
    emitEvent: emitEventVia(cluster, 'native'),
    logger: warnLogger(),
    metrics,
    kubeConfig: kc,
  }, {
    managed: 'native',
    webhook: false,
    workers: options.workers ?? 4,
    resyncEverySeconds: null,
    watch: true,
  });
  // Progress on stderr every 10 s: passes started / finished, failures, queue depth.
  const progress = setInterval(() => {
    const depth = runner.fifo?.depth();
    const last = reports[reports.length - 1];
    log(`[daemonless] reconciles started ${started}, finished ${reports.length}, failed ${metrics.get(METRIC.reconcileErrors)}; ` +
      `queue ${JSON.stringify(depth)}; last ${last ? `${last.key} +${last.podsCreated}/-${last.podsDeleted} reads ${last.reads} writes ${last.writes}` : '—'}`);
  }, 10_000);
  progress.unref();
  const stop = async (): Promise<void> => {
    clearInterval(progress);
    await runner.stop();
    const stats = cluster.listCacheStats();
    if (stats !== null) log(`[daemonless] list cache: ${JSON.stringify(stats)}`);
    cluster.close();
  };
  return { runner, cluster, metrics, reports, started: () => started, stop };
}
