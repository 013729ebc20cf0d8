/**
 * Public surface of the pure reconcile core. The shell (lib/app), the CLI and the tests import
 * from here only. Everything exported is pure: no I/O, no clock, no randomness, no mutation.
 */
export type * from './types.js';
export { plan, DEFAULT_PLAN_OPTIONS } from './reconcile.js';
export { validateDaemonSet } from './validate.js';
export { nodeShouldRunDaemonPod, type NodeEligibility } from './placement.js';
export { revisionMatchesDaemonSet, buildRevisionData, sameRevisionData } from './revisions.js';
export { canonicalJson, jsonEqual, sameJson, type JsonValue } from './canonical-json.js';
export { computeTemplateHash } from './hash.js';
export { daemonPodName } from './pod-template.js';
export { isPodReady, isPodAvailable, targetNodeName } from './pod-state.js';
export { compileSelector } from './selector.js';
export { formatLabelSelector } from './label-selector.js';
export { CRD_GROUP, CRD_PLURAL, CRD_VERSION, daemonSetApiVersion, daemonSetGroup, type ManagedResource } from './managed-resource.js';
export { toDate, toRfc3339 } from './time.js';
export * from './labels.js';
export {
  shouldIgnoreNodeUpdate,
  nodeChangeNeedsSync,
  daemonSetsForAddOrDelete,
  daemonSetsForUpdate,
  readyTransitionRequeueSeconds,
} from './triggers.js';
