/**
 * Pod predicates and orderings the controller relies on (pkg/api/v1/pod/util.go and the
 * DaemonSet controller's pod ordering).
 */
import type { V1Pod } from '@kubernetes/client-node';
import { NODE_NAME_FIELD } from './labels.js';
import { isBeingDeleted } from './objects.js';
import { toMillis } from './time.js';

/** Ready condition is True. Mirrors `podutil.IsPodReady`; phase and deletion are not consulted. */
export function isPodReady(pod: V1Pod): boolean {
  return readyCondition(pod)?.status === 'True';
}

/**
 * Ready, and ready for at least `minReadySeconds` at `now` (inclusive boundary, newest upstream).
 * A Ready condition without lastTransitionTime is never available when minReadySeconds > 0.
 * Mirrors `podutil.IsPodAvailable`.
 */
export function isPodAvailable(pod: V1Pod, minReadySeconds: number, now: Date): boolean {
  const since = availableAt(pod, minReadySeconds);
  return since !== undefined && since <= now.getTime();
}

/**
 * When (ms since epoch) a pod becomes available, or undefined if it is not Ready or never will be
 * without a new Ready transition.
 */
export function availableAt(pod: V1Pod, minReadySeconds: number): number | undefined {
  const cond = readyCondition(pod);
  if (cond?.status !== 'True') return undefined;
  if (minReadySeconds <= 0) return Number.NEGATIVE_INFINITY;
  const since = toMillis(cond.lastTransitionTime);
  return since === undefined ? undefined : since + minReadySeconds * 1000;
}

function readyCondition(pod: V1Pod) {
  return pod.status?.conditions?.find((c) => c.type === 'Ready');
}

/** Phase Failed or Succeeded. Mirrors `podutil.IsPodTerminal`. */
export function isPodTerminal(pod: V1Pod): boolean {
  const phase = pod.status?.phase;
  return phase === 'Failed' || phase === 'Succeeded';
}

/** `metadata.deletionTimestamp` is set. */
export function isPodDeleting(pod: V1Pod): boolean {
  return isBeingDeleted(pod.metadata);
}

/**
 * The node a daemon pod is for (MAP-2): `spec.nodeName`, else the single value of the first
 * required node-affinity `matchFields` requirement `metadata.name In [x]`. Undefined when there is
 * none or it does not have exactly one value (such pods are ignored everywhere).
 * Mirrors `util.GetTargetNodeName`.
 */
export function targetNodeName(pod: V1Pod): string | undefined {
  const bound = pod.spec?.nodeName;
  if (bound) return bound;
  const terms = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? [];
  for (const term of terms) {
    for (const req of term.matchFields ?? []) {
      if (req.key === NODE_NAME_FIELD && req.operator === 'In') {
        return req.values?.length === 1 ? req.values[0] : undefined;
      }
    }
  }
  return undefined;
}

/**
 * MAP-4 "oldest first": bound pods before unbound ones, then ascending creationTimestamp, then
 * ascending name. Mirrors `podByCreationTimestampAndPhase` (which, despite its name, ignores phase).
 */
export function comparePodsOldestFirst(a: V1Pod, b: V1Pod): number {
  const aBound = Boolean(a.spec?.nodeName);
  const bBound = Boolean(b.spec?.nodeName);
  if (aBound !== bBound) return aBound ? -1 : 1;
  const at = toMillis(a.metadata?.creationTimestamp) ?? 0;
  const bt = toMillis(b.metadata?.creationTimestamp) ?? 0;
  // metav1.Time has whole-second precision on the wire; compare at that precision.
  const as = Math.floor(at / 1000);
  const bs = Math.floor(bt / 1000);
  if (as !== bs) return as - bs;
  const an = a.metadata?.name ?? '';
  const bn = b.metadata?.name ?? '';
  return an < bn ? -1 : an > bn ? 1 : 0;
}

/** A sorted copy (MAP-4 order). */
export function sortOldestFirst(pods: readonly V1Pod[]): V1Pod[] {
  return [...pods].sort(comparePodsOldestFirst);
}
