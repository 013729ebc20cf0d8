import type { V1DaemonSet } from '@kubernetes/client-node';
import type { ValidationProblem } from './types.js';

/** Placeholder; see the full implementation. */
export function validateDaemonSet(_ds: V1DaemonSet): ValidationProblem[] {
  return [];
}
