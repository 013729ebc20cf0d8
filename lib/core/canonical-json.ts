/**
 * Canonical JSON: the one place where "the same JSON value" is decided (revision contents, template
 * hashes, label and taint comparisons of the event rules). Key order never matters; by default an
 * absent member and a `null` one are the same value (Go's `omitempty` and an absent field mean the
 * same), so two objects that differ only there compare equal.
 */
import { toRfc3339 } from './time.js';

/** A JSON value (the shape canonical JSON is made of). */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export interface CanonicalOptions {
  /**
   * Keep `null` members (default false). Only for bytes that must look like Go's encoder output,
   * such as the `"creationTimestamp":null` of a stored revision; never for comparisons.
   */
  readonly keepNulls?: boolean;
}

/**
 * Converts any object graph (client-node model instances or raw JSON) into canonical plain JSON:
 * keys sorted at every level, `undefined` members and functions dropped, `null` members dropped
 * unless `keepNulls`, `Date`s rendered as RFC 3339 strings. Arrays keep their order.
 */
export function canonicalJson(value: unknown, options: CanonicalOptions = {}): JsonValue {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return toRfc3339(value);
  if (Array.isArray(value)) return value.map((item) => canonicalJson(item, options));
  if (typeof value === 'object') {
    const out: { [key: string]: JsonValue } = {};
    for (const key of Object.keys(value).sort()) {
      const member: unknown = (value as Record<string, unknown>)[key];
      if (member === undefined || typeof member === 'function' || (member === null && options.keepNulls !== true)) continue;
      out[key] = canonicalJson(member, options);
    }
    return out;
  }
  if (typeof value === 'number' || typeof value === 'string' || typeof value === 'boolean') return value;
  return null;
}

/** Deep equality of two canonical JSON values. */
export function jsonEqual(a: JsonValue, b: JsonValue): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((item, i) => jsonEqual(item, b[i] as JsonValue));
  }
  const ak = Object.keys(a);
  const bk = Object.keys(b);
  if (ak.length !== bk.length) return false;
  return ak.every((k) => k in b && jsonEqual(a[k] as JsonValue, b[k] as JsonValue));
}

/** Whether two object graphs are the same JSON value (key order, absent vs null and Date vs RFC 3339 string aside). */
export function sameJson(a: unknown, b: unknown): boolean {
  return jsonEqual(canonicalJson(a), canonicalJson(b));
}

/** `JSON.stringify` of the canonical form: byte-stable for equal JSON values. */
export function stableStringify(value: unknown): string {
  return JSON.stringify(canonicalJson(value));
}
