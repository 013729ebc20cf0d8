/** A fixed clock for tests: T0 and offsets from it. Never the real time. */
export const T0 = new Date('2024-05-01T10:00:00Z');

/** T0 + `seconds`. */
export function at(seconds: number): Date {
  return new Date(T0.getTime() + seconds * 1000);
}

/** RFC 3339 string of T0 + `seconds` (how raw API JSON carries times). */
export function iso(seconds: number): string {
  return at(seconds).toISOString().replace(/\.000Z$/, 'Z');
}
