/**
 * Label selectors, the one home of their rules (OWN-*, WATCH-2/3): `metav1.LabelSelector`
 * compiled into a predicate, matched, rendered as the `labelSelector` query string the API server
 * parses, and parsed back from that string (kubectl's `-l` syntax), as apimachinery's
 * `LabelSelectorAsSelector`, `labels.Parse` and `ParseToLabelSelector` do. Pure.
 */
import type { V1LabelSelector } from '@kubernetes/client-node';
import { isLabelValue, isQualifiedName } from './names.js';

export interface LabelSelectorRequirement {
  readonly key: string;
  readonly operator: string;
  readonly values?: readonly string[] | undefined;
}

/** `metav1.LabelSelector` (client-node's `V1LabelSelector` fits this shape). */
export interface LabelSelector {
  readonly matchLabels?: Readonly<Record<string, string>> | undefined;
  readonly matchExpressions?: readonly LabelSelectorRequirement[] | undefined;
}

export type Labels = Readonly<Record<string, string>>;

/** Result of turning a LabelSelector into a predicate. */
export type SelectorResult =
  | { readonly ok: true; readonly matches: (labels: Labels) => boolean; readonly empty: boolean }
  | { readonly ok: false; readonly error: string };

/**
 * Compiles a LabelSelector, mirroring `metav1.LabelSelectorAsSelector`: matchLabels and
 * matchExpressions (In, NotIn, Exists, DoesNotExist) are ANDed; `{}` matches everything
 * (`empty: true`); a missing selector matches nothing. Invalid expressions give an error value.
 */
export function compileSelector(selector: LabelSelector | undefined | null): SelectorResult {
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
  const has = (labels: Labels, key: string): boolean => Object.prototype.hasOwnProperty.call(labels, key);
  const matches = (labels: Labels): boolean => {
    for (const [k, v] of matchLabels) if (!has(labels, k) || labels[k] !== v) return false;
    for (const e of exprs) {
      const present = has(labels, e.key);
      const values = e.values ?? [];
      switch (e.operator) {
        case 'In':
          if (!present || !values.includes(labels[e.key] as string)) return false;
          break;
        case 'NotIn':
          if (present && values.includes(labels[e.key] as string)) return false;
          break;
        case 'Exists':
          if (!present) return false;
          break;
        case 'DoesNotExist':
          if (present) return false;
          break;
      }
    }
    return true;
  };
  return { ok: true, matches, empty };
}

/**
 * Whether a controller would adopt an object with these labels: the selector is valid, not empty,
 * and matches (upstream's `GetPodDaemonSets` / `getDaemonSetsForHistory` skip empty and invalid
 * selectors, WATCH-2/3/5).
 */
export function selectorAdopts(selector: LabelSelector | null | undefined, labels: Labels): boolean {
  const compiled = compileSelector(selector);
  return compiled.ok && !compiled.empty && compiled.matches(labels);
}

/** Renders a LabelSelector as the `labelSelector` query string the API server parses. */
export function formatLabelSelector(selector: LabelSelector | undefined): string {
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

/** Result of parsing a label selector string. */
export type SelectorStringResult =
  | { readonly ok: true; readonly selector: V1LabelSelector }
  | { readonly ok: false; readonly error: string };

/** A qualified label key (`[prefix/]name`), as `validation.IsQualifiedName` checks it; an error text or undefined. */
function labelKeyError(key: string): string | undefined {
  return isQualifiedName(key) ? undefined
    : `invalid label key "${key}": an optional DNS subdomain prefix and "/", then 1-63 alphanumeric characters, '-', '_' or '.', starting and ending with an alphanumeric character`;
}

/** A label value (empty, or like a name part); an error text or undefined. */
function labelValueError(value: string): string | undefined {
  return isLabelValue(value) ? undefined
    : `invalid label value "${value}": must be empty or 1-63 alphanumeric characters, '-', '_' or '.', starting and ending with an alphanumeric character`;
}

/**
 * Parses a selector string in kubectl's `-l` syntax (apimachinery `labels.Parse`) into a
 * LabelSelector: comma-separated requirements `key`, `!key`, `key=value`, `key==value`,
 * `key!=value`, `key in (a,b)`, `key notin (a,b)`. Every requirement becomes one matchExpression
 * (`=`/`==` → In, `!=` → NotIn), in the order written. The empty string selects everything (`{}`).
 * `>`/`<` (numeric comparisons) have no LabelSelector form and are refused, as is anything else
 * that does not parse; keys and values are checked as the API server checks label keys and values.
 */
export function parseSelectorString(text: string): SelectorStringResult {
  const fail = (error: string): SelectorStringResult => ({ ok: false, error: `unable to parse selector "${text}": ${error}` });
  const expressions: { key: string; operator: string; values?: string[] }[] = [];
  let i = 0;
  const n = text.length;
  const skipSpace = (): void => {
    while (i < n && /\s/.test(text[i] as string)) i++;
  };
  // An identifier: key or value characters up to a delimiter.
  const word = (): string => {
    const start = i;
    while (i < n && !/[\s,=!()<>]/.test(text[i] as string)) i++;
    return text.slice(start, i);
  };
  skipSpace();
  if (i === n) return { ok: true, selector: {} };
  for (;;) {
    skipSpace();
    let negated = false;
    if (text[i] === '!') {
      negated = true;
      i++;
      skipSpace();
    }
    const key = word();
    if (key === '') return fail(`expected a label key at position ${i}`);
    const keyError = labelKeyError(key);
    if (keyError) return fail(keyError);
    skipSpace();
    if (negated) {
      expressions.push({ key, operator: 'DoesNotExist' });
    } else if (i === n || text[i] === ',') {
      expressions.push({ key, operator: 'Exists' });
    } else if (text[i] === '=' || text[i] === '!') {
      let operator = 'In';
      if (text[i] === '!') {
        if (text[i + 1] !== '=') return fail(`expected "!=" at position ${i}`);
        operator = 'NotIn';
        i += 2;
      } else {
        i += text[i + 1] === '=' ? 2 : 1;
      }
      skipSpace();
      const value = word();
      const valueError = labelValueError(value);
      if (valueError) return fail(valueError);
      expressions.push({ key, operator, values: [value] });
    } else if (text[i] === '<' || text[i] === '>') {
      return fail(`"${text[i]}" comparisons cannot be expressed as a label selector`);
    } else {
      const op = word();
      if (op !== 'in' && op !== 'notin') return fail(`expected an operator after "${key}", got "${op || text[i]}"`);
      skipSpace();
      if (text[i] !== '(') return fail(`expected "(" after "${op}"`);
      i++;
      const values: string[] = [];
      for (;;) {
        skipSpace();
        const value = word();
        const valueError = labelValueError(value);
        if (valueError) return fail(valueError);
        skipSpace();
        if (value !== '' || text[i] === ',') values.push(value);
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ')') {
          i++;
          break;
        }
        return fail(`expected "," or ")" in the value list of "${key}"`);
      }
      if (values.length === 0) return fail(`"${op}" needs at least one value for "${key}"`);
      expressions.push({ key, operator: op === 'in' ? 'In' : 'NotIn', values: [...new Set(values)] });
    }
    skipSpace();
    if (i === n) break;
    if (text[i] !== ',') return fail(`expected "," at position ${i}`);
    i++;
  }
  return { ok: true, selector: { matchExpressions: expressions } };
}
