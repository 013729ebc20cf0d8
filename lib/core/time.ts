/**
 * Timestamp handling at the boundary between client-node objects (`Date`) and raw API JSON
 * (RFC 3339 strings). The core never reads a clock; `now` is always an argument.
 */
import type { Timestamp } from './types.js';

/**
 * Normalizes a timestamp to a `Date`, accepting a `Date` (client-node) or an RFC 3339 string
 * (raw JSON/YAML). Returns undefined for absent or unparsable values. Never mutates its input.
 */
export function toDate(value: Timestamp | null | undefined): Date | undefined {
  if (value === null || value === undefined) return undefined;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? undefined : value;
  if (typeof value !== 'string' || value === '') return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : new Date(ms);
}

/** Milliseconds since the epoch of a timestamp, or undefined. */
export function toMillis(value: Timestamp | null | undefined): number | undefined {
  return toDate(value)?.getTime();
}

/**
 * Renders a time the way the API server does (`metav1.Time`, RFC 3339 in UTC, whole seconds
 * unless the value carries milliseconds), e.g. `2024-05-01T10:00:00Z`.
 */
export function toRfc3339(value: Date): string {
  return value.toISOString().replace(/\.000Z$/, 'Z');
}
