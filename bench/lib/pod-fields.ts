/** Pod fields the benchmarks read. */
import type { V1Pod } from '@kubernetes/client-node';

/** The node a daemon pod is for: spec.nodeName, or the required node affinity on metadata.name. */
export function targetNode(pod: V1Pod): string | null {
  if (pod.spec?.nodeName) return pod.spec.nodeName;
  const terms = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? [];
  for (const t of terms) {
    for (const f of t.matchFields ?? []) if (f.key === 'metadata.name' && f.values?.[0]) return f.values[0];
  }
  return null;
}
