/**
 * Label selector matching (metav1.LabelSelectorAsSelector semantics) for the fan-out of orphan pods.
 * An empty or null selector matches nothing here: upstream only adopts into DaemonSets with a
 * non-empty selector (WATCH-2/3), and an invalid selector matches nothing.
 */
import type { LabelSelector } from './types.js';

export function selectorMatches(selector: LabelSelector | null | undefined, labels: Readonly<Record<string, string>>): boolean {
  if (selector === null || selector === undefined) return false;
  const matchLabels = Object.entries(selector.matchLabels ?? {});
  const expressions = selector.matchExpressions ?? [];
  if (matchLabels.length === 0 && expressions.length === 0) return false;
  const has = (k: string): boolean => Object.prototype.hasOwnProperty.call(labels, k);
  for (const [k, v] of matchLabels) {
    if (!has(k) || labels[k] !== v) return false;
  }
  for (const req of expressions) {
    const values = req.values ?? [];
    switch (req.operator) {
      case 'In':
        if (values.length === 0 || !has(req.key) || !values.includes(labels[req.key] ?? '')) return false;
        break;
      case 'NotIn':
        if (values.length === 0) return false;
        if (has(req.key) && values.includes(labels[req.key] ?? '')) return false;
        break;
      case 'Exists':
        if (values.length !== 0 || !has(req.key)) return false;
        break;
      case 'DoesNotExist':
        if (values.length !== 0 || has(req.key)) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}
