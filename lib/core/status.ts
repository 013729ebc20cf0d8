/**
 * Status (§13), mirroring `updateDaemonSetStatus` and the write suppression of
 * `storeDaemonSetStatus`.
 */
import type { V1DaemonSet } from '@kubernetes/client-node';
import type { PassView } from './placement.js';
import { minReadySeconds as minReady, templateGeneration } from './daemon-set.js';
import { isPodAvailable, isPodReady, sortOldestFirst } from './pod-state.js';
import { isPodUpdated } from './pod-version.js';
import type { DaemonSetStatus } from './types.js';

/** Input of `computeStatus`; its `nodeToPods` is the MAP-1 view of the claimed pods (adopted included, released excluded). */
export interface StatusInput extends PassView {
  readonly ds: V1DaemonSet;
  /** Collision count to store (after HIST-7). */
  readonly collisionCount: number | undefined;
}

/**
 * STATUS-1..7 over the node list (pods on nodes not in the list are ignored):
 * desired = nodes with shouldRun; current = those with ≥ 1 pod; misscheduled = nodes without
 * shouldRun with ≥ 1 pod; ready/available/updated look only at each scheduled node's oldest pod
 * (MAP-4); unavailable = desired − available; observedGeneration = metadata.generation;
 * conditions preserved verbatim, collisionCount as given.
 */
export function computeStatus(input: StatusInput): DaemonSetStatus {
  const { ds, now } = input;
  const minReadySeconds = minReady(ds);
  const generation = templateGeneration(ds);
  let desired = 0;
  let current = 0;
  let misscheduled = 0;
  let ready = 0;
  let available = 0;
  let updated = 0;
  for (const node of input.nodeNames) {
    const shouldRun = input.eligibility.get(node)?.shouldRun ?? false;
    const pods = input.nodeToPods.get(node) ?? [];
    if (!shouldRun) {
      if (pods.length > 0) misscheduled++;
      continue;
    }
    desired++;
    const oldest = sortOldestFirst(pods)[0];
    if (oldest === undefined) continue;
    current++;
    if (isPodReady(oldest)) {
      ready++;
      if (isPodAvailable(oldest, minReadySeconds, now)) available++;
    }
    if (isPodUpdated(oldest, input.hash, generation)) updated++;
  }
  const conditions = ds.status?.conditions;
  return {
    currentNumberScheduled: current,
    numberMisscheduled: misscheduled,
    desiredNumberScheduled: desired,
    numberReady: ready,
    updatedNumberScheduled: updated,
    numberAvailable: available,
    numberUnavailable: desired - available,
    observedGeneration: ds.metadata?.generation ?? 0,
    ...(input.collisionCount !== undefined ? { collisionCount: input.collisionCount } : {}),
    ...(conditions !== undefined ? { conditions } : {}),
  };
}

/** The stored status with every counter present (missing counters read as 0). */
export function storedStatus(ds: V1DaemonSet): DaemonSetStatus {
  const s = ds.status;
  return {
    currentNumberScheduled: s?.currentNumberScheduled ?? 0,
    numberMisscheduled: s?.numberMisscheduled ?? 0,
    desiredNumberScheduled: s?.desiredNumberScheduled ?? 0,
    numberReady: s?.numberReady ?? 0,
    updatedNumberScheduled: s?.updatedNumberScheduled ?? 0,
    numberAvailable: s?.numberAvailable ?? 0,
    numberUnavailable: s?.numberUnavailable ?? 0,
    observedGeneration: s?.observedGeneration ?? 0,
    ...(s?.collisionCount !== undefined && s.collisionCount !== null ? { collisionCount: s.collisionCount } : {}),
    ...(s?.conditions !== undefined ? { conditions: s.conditions } : {}),
  };
}

/**
 * STATUS-8: a write is needed unless all seven counters equal the stored ones, the stored
 * observedGeneration is ≥ metadata.generation, and the collision count is unchanged.
 */
export function isStatusChanged(ds: V1DaemonSet, next: DaemonSetStatus): boolean {
  const s = ds.status;
  return !(
    (s?.desiredNumberScheduled ?? 0) === next.desiredNumberScheduled &&
    (s?.currentNumberScheduled ?? 0) === next.currentNumberScheduled &&
    (s?.numberMisscheduled ?? 0) === next.numberMisscheduled &&
    (s?.numberReady ?? 0) === next.numberReady &&
    (s?.updatedNumberScheduled ?? 0) === next.updatedNumberScheduled &&
    (s?.numberAvailable ?? 0) === next.numberAvailable &&
    (s?.numberUnavailable ?? 0) === next.numberUnavailable &&
    (s?.observedGeneration ?? 0) >= (ds.metadata?.generation ?? 0) &&
    (s?.collisionCount ?? undefined) === next.collisionCount
  );
}
