import type { Plan, PlanOptions, Snapshot } from './types.js';

export const DEFAULT_PLAN_OPTIONS: Required<PlanOptions> = {
  placement: 'affinity',
  failedPodBackoff: { initialSeconds: 1, maxSeconds: 900 },
  deferRollingUpdate: false,
};

/** Placeholder; see the full implementation. */
export function plan(_snapshot: Snapshot, _now: Date, _options: PlanOptions = {}): Plan {
  throw new Error('not implemented yet');
}
