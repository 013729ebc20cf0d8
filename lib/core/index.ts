/**
 * Public surface of the pure reconcile core. The shell (lib/app), the CLI and the tests import
 * from here only. Everything exported is pure: no I/O, no clock, no randomness, no mutation.
 */
export type * from './types.js';
export { plan, planNodePass, nodePassAllowed, DEFAULT_PLAN_OPTIONS, type PassTrace } from './reconcile.js';
export { explain, budgetText, notReadyReason, type Explanation, type NodeExplanation, type PodExplanation, type RolloutExplanation } from './explain.js';
export { validateDaemonSet } from './validate.js';
export { nodeShouldRunDaemonPod, nodeDaemonPodVerdict, type NodeEligibility, type NodeVerdict } from './placement.js';
export type { BudgetUse } from './rolling-update.js';
export { revisionMatchesDaemonSet, buildRevisionData, sameRevisionData } from './revisions.js';
export { canonicalJson, jsonEqual, sameJson, type JsonValue } from './canonical-json.js';
export { computeTemplateHash } from './hash.js';
export { daemonPodName } from './pod-template.js';
export { isPodReady, isPodAvailable, targetNodeName } from './pod-state.js';
/**
 * Rollout controls (rollout-controls.md). `readRolloutControls(ds)` is the one reader of pause,
 * partition, node selector, progress deadline and auto-pause — spec fields on a `dlds`, annotations
 * on a native DaemonSet — giving typed values or the validation problems. What they hold in a pass
 * is in `plan(...).rollout` (`RolloutReport`): `paused`, `controls.partition`, `updating` (nodes
 * being updated), `held: [{ node, reason, pod, revisionHash }]` (reason `selector` | `partition` |
 * `paused` | `invalid`), `budgets` (within the updated nodes), `progressDeadlineExceeded`,
 * `problems`. `rollout status`, `explain` and `plan` report from these; none re-implements a rule.
 */
export { readRolloutControls, controlsSet, type RolloutControlsResult } from './rollout-controls.js';
/** Status conditions (COND-*): the owned types, and what the shell writes on a terminal failure. */
export { OWNED_CONDITION_TYPES, failedConditions, findCondition, statusAfterFailure } from './conditions.js';
export {
  compileSelector, selectorAdopts, formatLabelSelector, parseSelectorString,
  type LabelSelector, type LabelSelectorRequirement, type SelectorStringResult, type SelectorResult,
} from './label-selector.js';
export { isDnsLabel, isDnsSubdomain, isLabelValue, isQualifiedName } from './names.js';
export { CRD_GROUP, CRD_PLURAL, CRD_VERSION, daemonSetApiVersion, daemonSetGroup, isDaemonlessResource, type ManagedResource } from './managed-resource.js';
export { toDate, toRfc3339 } from './time.js';
export * from './labels.js';
export {
  targetsForAddOrDelete,
  targetsForUpdate,
  nodeUpdateIgnorable,
  nodeUpdateMattersToNoDaemonSet,
  shouldIgnoreNodeUpdate,
  nodeChangeNeedsSync,
  nodeChangePass,
  schedulingOf,
  type NodeChangePass,
  daemonSetsForAddOrDelete,
  daemonSetsForUpdate,
  readyTransitionRequeueSeconds,
  type SyncTarget,
  type TriggerMeta,
  type TriggerNode,
  type TriggerOwnerRef,
  type TriggerTaint,
} from './triggers.js';
