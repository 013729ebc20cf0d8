/**
 * The rollout controls as the rollout commands use them (spec rollout-controls.md): the patch that
 * pauses or resumes, and the line `rollout status` ends with when the controls hold the rest of a
 * rollout.
 */
import type { DaemonSetKind, DaemonSetTarget, RolloutCluster } from '../../adapters/kube/rollout-client.js';
import type { V1DaemonSet } from '../../core/index.js';

/** The native DaemonSet's pause annotation. */
export const PAUSED_ANNOTATION = 'daemonless.io/rollout-paused';

/** Whether the DaemonSet's rollout is paused, as its setting says. */
function isPaused(kind: DaemonSetKind, ds: V1DaemonSet): boolean {
  if (kind === 'crd') {
    return (ds.spec?.updateStrategy?.rollingUpdate as { paused?: unknown } | undefined)?.paused === true;
  }
  return ds.metadata?.annotations?.[PAUSED_ANNOTATION] === 'true';
}

/**
 * The JSON merge patch that pauses (or resumes) the rollout, or null when it already is: for dlds
 * the field `spec.updateStrategy.rollingUpdate.paused`, for a native DaemonSet the annotation.
 */
export function pauseChange(kind: DaemonSetKind, ds: V1DaemonSet, paused: boolean): object | null {
  if (isPaused(kind, ds) === paused) return null;
  if (kind === 'crd') return { spec: { updateStrategy: { rollingUpdate: { paused } } } };
  return { metadata: { annotations: { [PAUSED_ANNOTATION]: paused ? 'true' : null } } };
}

/**
 * The line `rollout status` ends with (exit 0) when the rollout has done all the controls let it
 * do, else undefined.
 */
export async function rolloutHoldLine(_t: DaemonSetTarget, _ds: V1DaemonSet, _c: RolloutCluster, _now: Date): Promise<string | undefined> {
  return undefined;
}
