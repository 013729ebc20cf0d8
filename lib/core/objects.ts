/**
 * Small, pure accessors over Kubernetes objects whose client-node types make every field optional.
 */
import type { V1ObjectMeta, V1OwnerReference } from '@kubernetes/client-node';
import { toRfc3339 } from './time.js';

/** The object's labels, or an empty record. */
export function labelsOf(meta: V1ObjectMeta | undefined): Readonly<Record<string, string>> {
  return meta?.labels ?? {};
}

/** The controller ownerReference (`controller: true`), mirrors `metav1.GetControllerOf`. */
export function controllerRefOf(meta: V1ObjectMeta | undefined): V1OwnerReference | undefined {
  return meta?.ownerReferences?.find((ref) => ref.controller === true);
}

/** True when `metadata.deletionTimestamp` is set. */
export function isBeingDeleted(meta: V1ObjectMeta | undefined): boolean {
  const ts: unknown = meta?.deletionTimestamp;
  return ts !== undefined && ts !== null && ts !== '';
}

/** A JSON value (the shape canonical JSON is made of). */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/**
 * Converts any object graph (client-node model instances or raw JSON) into canonical plain JSON:
 * keys sorted at every level, `undefined` and `null` members dropped (Go's `omitempty` and an
 * absent field mean the same), `Date`s rendered as RFC 3339 strings. Arrays keep their order.
 */
export function canonicalJson(value: unknown): JsonValue {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return toRfc3339(value);
  if (Array.isArray(value)) return value.map((item) => canonicalJson(item));
  if (typeof value === 'object') {
    const out: { [key: string]: JsonValue } = {};
    for (const key of Object.keys(value).sort()) {
      const member: unknown = (value as Record<string, unknown>)[key];
      if (member === undefined || member === null || typeof member === 'function') continue;
      out[key] = canonicalJson(member);
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

/** A deep, unfrozen, plain copy (Dates stay Dates). Used so outputs never alias inputs. */
export function deepCopy<T>(value: T): T {
  return structuredClone(value);
}
