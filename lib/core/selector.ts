/**
 * Label selectors (`metav1.LabelSelector`) as the controller uses them for claiming pods and
 * ControllerRevisions (OWN-*).
 */
import type { V1LabelSelector } from '@kubernetes/client-node';

/** Result of turning a LabelSelector into a predicate. */
export type SelectorResult =
  | { readonly ok: true; readonly matches: (labels: Readonly<Record<string, string>>) => boolean; readonly empty: boolean }
  | { readonly ok: false; readonly error: string };

/**
 * Compiles a LabelSelector, mirroring `metav1.LabelSelectorAsSelector`: matchLabels and
 * matchExpressions (In, NotIn, Exists, DoesNotExist) are ANDed; `{}` matches everything
 * (`empty: true`); a missing selector matches nothing. Invalid expressions give an error value.
 */
export function compileSelector(selector: V1LabelSelector | undefined | null): SelectorResult {
  if (selector === undefined || selector === null) {
    return { ok: true, matches: () => false, empty: false };
  }
  const matchLabels = Object.entries(selector.matchLabels ?? {});
  const exprs = selector.matchExpressions ?? [];
  for (const e of exprs) {
    const values = e.values ?? [];
    switch (e.operator) {
      case 'In':
      case 'NotIn':
        if (values.length === 0) return { ok: false, error: `operator ${e.operator} on key "${e.key}" needs at least one value` };
        break;
      case 'Exists':
      case 'DoesNotExist':
        if (values.length > 0) return { ok: false, error: `operator ${e.operator} on key "${e.key}" takes no values` };
        break;
      default:
        return { ok: false, error: `"${e.operator}" is not a valid label selector operator` };
    }
  }
  const empty = matchLabels.length === 0 && exprs.length === 0;
  const matches = (labels: Readonly<Record<string, string>>): boolean => {
    for (const [k, v] of matchLabels) if (labels[k] !== v) return false;
    for (const e of exprs) {
      const has = Object.prototype.hasOwnProperty.call(labels, e.key);
      const value = labels[e.key];
      const values = e.values ?? [];
      switch (e.operator) {
        case 'In':
          if (!has || !values.includes(value as string)) return false;
          break;
        case 'NotIn':
          if (has && values.includes(value as string)) return false;
          break;
        case 'Exists':
          if (!has) return false;
          break;
        case 'DoesNotExist':
          if (has) return false;
          break;
      }
    }
    return true;
  };
  return { ok: true, matches, empty };
}
