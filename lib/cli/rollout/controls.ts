/**
 * The rollout controls as the rollout commands use them (spec rollout-controls.md): the patch that
 * pauses or resumes, and the line `rollout status` ends with when the controls hold the rest of a
 * rollout. The controls are read by the core's one reader and held by the planner's rules.
 */
import type { DaemonSetKind, DaemonSetTarget, RolloutCluster } from '../../adapters/kube/rollout-client.js';
import { plan, readRolloutControls, ROLLOUT_PAUSED_ANNOTATION, type V1DaemonSet } from '../../core/index.js';

/**
 * The JSON merge patch that pauses (or resumes) the rollout, or null when it already is: for dlds
 * the field `spec.updateStrategy.rollingUpdate.paused`, for a native DaemonSet the annotation.
 */
export function pauseChange(kind: DaemonSetKind, ds: V1DaemonSet, paused: boolean): object | null {
  const read = readRolloutControls(ds);
  if (read.ok && read.controls.paused === paused) return null;
  if (kind === 'crd') return { spec: { updateStrategy: { rollingUpdate: { paused } } } };
  return { metadata: { annotations: { [ROLLOUT_PAUSED_ANNOTATION]: paused ? 'true' : null } } };
}

/**
 * The line `rollout status` ends with (exit 0) when the controls hold the rest of the rollout and
 * the controller has done all they let it do — the next pass would create and delete nothing, every
 * desired node has an available pod, and every node is updated or held — else undefined:
 * `rollout paused: U out of D new pods have been updated...` or
 * `partitioned roll out complete: U new pods have been updated (P held by partition)...`.
 */
export async function rolloutHoldLine(t: DaemonSetTarget, ds: V1DaemonSet, c: RolloutCluster, now: Date): Promise<string | undefined> {
  if ((ds.metadata?.generation ?? 0) > (ds.status?.observedGeneration ?? 0)) return undefined;
  const read = readRolloutControls(ds);
  if (!read.ok || !(read.controls.paused || read.controls.partition > 0 || read.controls.selector !== null)) return undefined;
  const p = plan(await c.readSnapshot(t, ds), now);
  const r = p.rollout;
  if (!r || p.createPods.length > 0 || p.deletePods.length > 0) return undefined;
  const s = ds.status;
  const desired = s?.desiredNumberScheduled ?? 0;
  const updated = s?.updatedNumberScheduled ?? 0;
  if ((s?.numberAvailable ?? 0) < desired || updated + r.held.length < desired) return undefined;
  if (r.paused) return `rollout paused: ${updated} out of ${desired} new pods have been updated...\n`;
  const count = (reason: string) => r.held.filter((h) => h.reason === reason).length;
  const parts = [
    ...(count('partition') > 0 ? [`${count('partition')} held by partition`] : []),
    ...(count('selector') > 0 ? [`${count('selector')} held by the rollout node selector`] : []),
  ];
  if (parts.length === 0) return undefined;
  return `partitioned roll out complete: ${updated} new pods have been updated (${parts.join(', ')})...\n`;
}
