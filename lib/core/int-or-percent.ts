/**
 * IntOrString budgets (maxUnavailable, maxSurge), mirroring apimachinery
 * `intstr.GetScaledValueFromIntOrPercent` with `roundUp = true` as the DaemonSet controller uses it.
 */
import type { IntOrString } from '@kubernetes/client-node';

/** A resolved value or the reason it cannot be resolved. */
export type Resolved = { readonly ok: true; readonly value: number } | { readonly ok: false; readonly error: string };

/**
 * Resolves an int or a percentage string against `total`: an int is taken as-is (not capped);
 * `"p%"` gives ceil(p × total / 100) (floor when `roundUp` is false). Any other string, or a
 * non-integer number, is an error value (never thrown).
 */
export function resolveIntOrPercent(value: IntOrString, total: number, roundUp = true): Resolved {
  if (typeof value === 'number') {
    return Number.isInteger(value) ? { ok: true, value } : { ok: false, error: `invalid value for IntOrString: ${value}` };
  }
  const parsed = parsePercent(value);
  if (parsed === undefined) {
    return { ok: false, error: `invalid value for IntOrString: invalid value "${value}"` };
  }
  const scaled = (parsed * total) / 100;
  return { ok: true, value: roundUp ? Math.ceil(scaled) : Math.floor(scaled) };
}

/** The integer before a trailing `%`, or undefined when the string is not a percentage. */
export function parsePercent(value: string): number | undefined {
  const m = /^([+-]?\d+)%$/.exec(value);
  return m?.[1] === undefined ? undefined : Number.parseInt(m[1], 10);
}
