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

/** Result of parsing a label selector string. */
export type SelectorStringResult =
  | { readonly ok: true; readonly selector: V1LabelSelector }
  | { readonly ok: false; readonly error: string };

const LABEL_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** A qualified label key (`[prefix/]name`), as `validation.IsQualifiedName` checks it; an error text or undefined. */
function labelKeyError(key: string): string | undefined {
  const slash = key.indexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (prefix !== undefined && (prefix.length === 0 || prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix))) {
    return `invalid label key "${key}": prefix part must be a DNS subdomain`;
  }
  if (!LABEL_NAME.test(name)) return `invalid label key "${key}": name part must be 1-63 alphanumeric characters, '-', '_' or '.', starting and ending with an alphanumeric character`;
  return undefined;
}

/** A label value (empty, or like a name part); an error text or undefined. */
function labelValueError(value: string): string | undefined {
  if (value === '' || LABEL_NAME.test(value)) return undefined;
  return `invalid label value "${value}": must be empty or 1-63 alphanumeric characters, '-', '_' or '.', starting and ending with an alphanumeric character`;
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
