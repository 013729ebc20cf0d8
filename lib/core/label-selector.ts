/** Renders a LabelSelector as the `labelSelector` query string the API server parses. */
import type { V1LabelSelector } from '@kubernetes/client-node';

export function formatLabelSelector(selector: V1LabelSelector | undefined): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(selector?.matchLabels ?? {}).sort(([a], [b]) => a.localeCompare(b))) parts.push(`${k}=${v}`);
  for (const e of selector?.matchExpressions ?? []) {
    const values = [...(e.values ?? [])].sort().join(',');
    switch (e.operator) {
      case 'In': parts.push(`${e.key} in (${values})`); break;
      case 'NotIn': parts.push(`${e.key} notin (${values})`); break;
      case 'Exists': parts.push(e.key); break;
      case 'DoesNotExist': parts.push(`!${e.key}`); break;
      default: throw new Error(`unknown label selector operator ${JSON.stringify(e.operator)} for key ${e.key}`);
    }
  }
  return parts.join(',');
}
