/** Shared helpers of the integration tests: kubectl with YAML input, namespaces, pods of a DaemonSet. */
import { CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import { inject } from 'vitest';
import { runKubectl, type KubectlResult } from '../../lib/local-plane/control-plane.js';
import { kubeClient } from '../../lib/local-plane/nodes.js';

export const plane = inject('plane');
export const admin = kubeClient(plane.adminKubeconfig);
export const core = admin.makeApiClient(CoreV1Api);

/** kubectl as admin; fails the test with kubectl's stderr unless `allowFailure`. */
export async function kubectl(args: readonly string[], input?: string, allowFailure = false): Promise<KubectlResult> {
  const r = await runKubectl(plane.binDir, plane.adminKubeconfig, args, input);
  if (r.code !== 0 && !allowFailure) throw new Error(`kubectl ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
  return r;
}

export async function createNamespace(name: string): Promise<void> {
  await core.createNamespace({ body: { metadata: { name } } });
}

export async function deleteNamespace(name: string): Promise<void> {
  await core.deleteNamespace({ name }).catch(() => undefined);
}

/** Pods matching a label selector, not terminating. */
export async function livePods(namespace: string, labelSelector: string): Promise<V1Pod[]> {
  const list = await core.listNamespacedPod({ namespace, labelSelector });
  return list.items.filter((p) => !p.metadata?.deletionTimestamp);
}

export const podNode = (p: V1Pod): string =>
  p.spec?.nodeName ??
  p.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms?.[0]?.matchFields?.[0]?.values?.[0] ?? '';

export const isPodReady = (p: V1Pod): boolean =>
  p.status?.phase === 'Running' && (p.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');

/** A DaemonSet manifest in the scenarios' shape. */
export function daemonSetYaml(o: {
  name: string; namespace: string; image?: string; nodeSelector?: Record<string, string>;
  strategy?: 'OnDelete' | { maxUnavailable?: number | string; maxSurge?: number | string };
  apiVersion?: string; minReadySeconds?: number; tolerations?: object[];
}): string {
  const strategy = o.strategy === 'OnDelete'
    ? { type: 'OnDelete' }
    : { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: o.strategy?.maxUnavailable ?? 1, maxSurge: o.strategy?.maxSurge ?? 0 } };
  return JSON.stringify({
    apiVersion: o.apiVersion ?? 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name: o.name, namespace: o.namespace },
    spec: {
      selector: { matchLabels: { app: o.name } },
      updateStrategy: strategy,
      minReadySeconds: o.minReadySeconds ?? 0,
      revisionHistoryLimit: 10,
      template: {
        metadata: { labels: { app: o.name } },
        spec: {
          nodeSelector: o.nodeSelector,
          tolerations: o.tolerations,
          terminationGracePeriodSeconds: 0,
          containers: [{ name: 'main', image: o.image ?? 'nginx:1.7.9' }],
        },
      },
    },
  });
}
