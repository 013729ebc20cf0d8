/**
 * Input and output types of the pure reconcile core.
 *
 * The core plans one reconcile pass for one DaemonSet: `plan(snapshot, now, options) → Plan`.
 * Inputs are `@kubernetes/client-node` objects, either deserialized by the library (camelCase
 * properties, `Date` timestamps) or raw API JSON/YAML (RFC 3339 strings); the core accepts both.
 * Outputs are plain data that the shell (lib/app) carries out; see `Plan` for the order.
 */
import type {
  V1ControllerRevision,
  V1DaemonSet,
  V1DaemonSetCondition,
  V1LabelSelector,
  V1Node,
  V1OwnerReference,
  V1Pod,
} from '@kubernetes/client-node';

/** A timestamp as the library (`Date`) or raw API JSON (RFC 3339 string) carries it. */
export type Timestamp = Date | string;

/**
 * Everything one pass looks at (IMPL-1). Read with consistent or cache reads; stale reads are safe
 * because pod names are deterministic and deletes carry UID preconditions.
 */
export interface Snapshot {
  /** The DaemonSet to reconcile, as last read. */
  readonly daemonSet: V1DaemonSet;
  /** Every Node of the cluster (no filtering: SYNC-2). */
  readonly nodes: readonly V1Node[];
  /**
   * Pods in the DaemonSet's namespace: at least every pod whose controller is this DaemonSet and
   * every orphan its selector matches (OWN-1). Pods of other namespaces are ignored.
   */
  readonly pods: readonly V1Pod[];
  /** ControllerRevisions in the DaemonSet's namespace, same rule as pods (OWN-7). */
  readonly revisions: readonly V1ControllerRevision[];
  /**
   * False when any list failed or was cut short. The plan then contains no deletes of any kind
   * (pods or revisions): never delete on a partial read.
   */
  readonly complete: boolean;
}

/**
 * How a created pod is bound to its node.
 * - `affinity` (default, upstream since v1.12, POD-5): a required node-affinity term
 *   `metadata.name In [<node>]` replaces any required terms of the template; the scheduler binds.
 * - `nodeName` (classic, POD-7): the controller sets `spec.nodeName`; no scheduler needed.
 */
export type PlacementMode = 'affinity' | 'nodeName';

/** Failed-pod back-off knobs (FAIL-2). */
export interface BackoffOptions {
  /** First delay after a failed pod was deleted on a node, seconds (upstream: 1). */
  readonly initialSeconds: number;
  /** Cap of the doubling delay, seconds (upstream: 900). */
  readonly maxSeconds: number;
}

/** Controller options; every field has a default (see `DEFAULT_PLAN_OPTIONS`). */
export interface PlanOptions {
  /** Default `affinity`. */
  readonly placement?: PlacementMode;
  /** Default `{ initialSeconds: 1, maxSeconds: 900 }`. */
  readonly failedPodBackoff?: BackoffOptions;
  /**
   * IMPL-2. `false` (default): the rolling update is planned in the same pass, on the state that the
   * pass's manage step leaves behind (upstream unit-test semantics; the per-pass counts of
   * the scenarios in docs/rules.md). `true`: the rolling update is only planned in a pass where manage has nothing
   * to do (what upstream does in a real cluster, EXP-3). Both converge to the same end state.
   */
  readonly deferRollingUpdate?: boolean;
}

/** Why a pod is deleted (plan-cli.md `reason`). */
export type DeleteReason =
  /** FAIL-1: a Failed pod on a node that should keep running the daemon. */
  | 'failed'
  /** FAIL-4: a Succeeded pod. */
  | 'succeeded'
  /** MANAGE-3/4: more running pods on one node than allowed. */
  | 'duplicate'
  /** MANAGE-5, RUS-1/RUS-2: the node should no longer run the daemon. */
  | 'not-eligible'
  /** MANAGE-8: a never-bound pod whose target node no longer exists. */
  | 'node-gone'
  /** RUNS-1/2: an old pod replaced by the non-surge rolling update. */
  | 'rolling-update'
  /** MANAGE-4, RUS-1: an old pod removed because its node's new pod is available (or it is not ready). */
  | 'surge-cleanup';

/** A pod the pass creates. */
export interface PodToCreate {
  /** The node the pod is for (affinity target, or `spec.nodeName` in nodeName placement). */
  readonly node: string;
  /**
   * The complete manifest (apiVersion, kind, metadata with a deterministic name, namespace,
   * labels, annotations, finalizers, ownerReferences; spec). AlreadyExists on create = done.
   */
  readonly pod: V1Pod;
}

/** A pod the pass deletes. The delete must carry `preconditions.uid`; NotFound = done. */
export interface PodToDelete {
  readonly name: string;
  readonly namespace: string;
  readonly uid: string;
  /** The pod's target node ('' when it has none). */
  readonly node: string;
  readonly reason: DeleteReason;
}

/**
 * An ownerReference change (OWN-3/OWN-5/OWN-7). `patch` is a strategic merge patch body
 * (`application/strategic-merge-patch+json`) that carries a `metadata.uid` precondition:
 * - adopt:   `{"metadata":{"ownerReferences":[<controller ref>],"uid":"<object uid>"}}`
 * - release: `{"metadata":{"ownerReferences":[{"$patch":"delete","uid":"<ds uid>"}],"uid":"<object uid>"}}`
 * NotFound is ignored; for release also 422 Invalid. Any other failure must abort the pass
 * before anything is created or deleted (IMPL-3).
 */
export interface OwnershipChange {
  readonly kind: 'Pod' | 'ControllerRevision';
  readonly action: 'adopt' | 'release';
  readonly name: string;
  readonly namespace: string;
  readonly uid: string;
  readonly patch: Readonly<Record<string, unknown>>;
}

/** A label merge patch on a pod (HIST-8: relabel pods to the kept duplicate revision's hash). */
export interface PodLabelChange {
  readonly name: string;
  readonly namespace: string;
  readonly uid: string;
  readonly labels: Readonly<Record<string, string>>;
  /** JSON merge patch body (`application/merge-patch+json`). */
  readonly patch: Readonly<Record<string, unknown>>;
}

/**
 * A change to an existing ControllerRevision: hash-label back-fill (HIST-2) and/or revision number
 * bump (HIST-9, rollback). `patch` is a JSON merge patch body.
 */
export interface RevisionUpdate {
  readonly name: string;
  readonly namespace: string;
  readonly uid: string;
  /** New `revision`, when it is bumped. */
  readonly revision?: number;
  /** Labels to set, when back-filled. */
  readonly labels?: Readonly<Record<string, string>>;
  readonly patch: Readonly<Record<string, unknown>>;
}

/** A ControllerRevision the pass deletes (with a UID precondition; NotFound = done). */
export interface RevisionToDelete {
  readonly name: string;
  readonly namespace: string;
  readonly uid: string;
  /** `duplicate` (HIST-8) or `history-limit` (HIST-11). */
  readonly reason: 'duplicate' | 'history-limit';
}

/** What the pass does with ControllerRevisions (§10). */
export interface RevisionPlan {
  /** Name of the current revision (existing, or the one to create). */
  readonly currentName: string;
  /** The current hash: the current revision's `controller-revision-hash` label (HIST-10). */
  readonly currentHash: string;
  /** The revision number the current revision has after this pass. */
  readonly currentRevision: number;
  /**
   * The current revision to create (HIST-6), or null. AlreadyExists on create: re-read; if the
   * existing object's data matches (`revisionMatchesDaemonSet`) it counts as done, otherwise fail
   * the pass transiently — the next pass sees the colliding object and bumps collisionCount.
   */
  readonly create: V1ControllerRevision | null;
  readonly update: readonly RevisionUpdate[];
  /** Duplicates (HIST-8) first, then history-limit cleanup (HIST-11). */
  readonly delete: readonly RevisionToDelete[];
}

/** A Kubernetes Event to record on the DaemonSet (component `daemonset-controller`). */
export interface ControllerEvent {
  readonly type: 'Normal' | 'Warning';
  /** Upstream reasons: `SelectingAll`, `FailedDaemonPod`, `SucceededDaemonPod`. */
  readonly reason: string;
  readonly message: string;
}

/** `apps/v1` DaemonSetStatus with every counter present (Kubernetes field names). */
export interface DaemonSetStatus {
  readonly currentNumberScheduled: number;
  readonly numberMisscheduled: number;
  readonly desiredNumberScheduled: number;
  readonly numberReady: number;
  readonly updatedNumberScheduled: number;
  readonly numberAvailable: number;
  readonly numberUnavailable: number;
  readonly observedGeneration: number;
  /** Preserved; raised only by a hash collision (HIST-7). */
  readonly collisionCount?: number;
  /**
   * Preserved verbatim for a native DaemonSet without rollout controls (API-7). For a `dlds`, and a
   * native DaemonSet with rollout-control annotations, the controller keeps `Reconciling`,
   * `Stalled`, `Ready` and `Progressing` (COND-*) and preserves every other condition.
   */
  readonly conditions?: readonly V1DaemonSetCondition[];
}

/** Which path the pass took. */
export type PlanOutcome =
  /** A full pass (SYNC-5..8). */
  | 'synced'
  /** SYNC-4: the DaemonSet has a deletionTimestamp; nothing is done, nothing written. */
  | 'deleting'
  /** SYNC-3: empty selector; only the `SelectingAll` event, nothing written. */
  | 'selecting-all'
  /** The selector is missing or unparsable (the API server would reject it); nothing is done. */
  | 'invalid';

/**
 * The result of one pass for one DaemonSet. Everything is data; the shell carries it out in this
 * order and stops at the first step that fails (except where noted):
 *
 * 1. `ownership` for ControllerRevisions, then `revisions.update`, `revisions.create`,
 *    `podLabelChanges`, the `duplicate` entries of `revisions.delete`;
 * 2. `ownership` for Pods — every patch must succeed before step 3 (IMPL-3);
 * 3. `daemonSetAnnotations` (failed-pod back-off memory) first — if it cannot be written, failed
 *    pods are not deleted in this pass; then `createPods` (slow-start batches, burst cap) and
 *    `deletePods` (only if `deletesAllowed`). A create on a node where the same pass also deletes
 *    runs after those deletes, and is skipped when one of them fails (surge safety);
 * 4. the `history-limit` entries of `revisions.delete`, only if step 3 fully succeeded;
 * 5. status (`statusChanged` only), always attempted (SYNC-8); `events`; `requeueAfterSeconds`.
 */
export interface Plan {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  readonly outcome: PlanOutcome;
  /** False when the snapshot was incomplete: then `deletePods` and `revisions.delete` are empty. */
  readonly deletesAllowed: boolean;
  /** Adopt/release patches for pods and ControllerRevisions. */
  readonly ownership: readonly OwnershipChange[];
  readonly revisions: RevisionPlan;
  readonly podLabelChanges: readonly PodLabelChange[];
  /** Sorted by node. */
  readonly createPods: readonly PodToCreate[];
  /** In decision order (manage, then rolling update). */
  readonly deletePods: readonly PodToDelete[];
  /**
   * Annotations to merge-patch onto the DaemonSet (`null` value = remove), or null for no patch.
   * Used only for the failed-pod back-off record (see `FAILED_POD_BACKOFF_ANNOTATION`).
   */
  readonly daemonSetAnnotations: Readonly<Record<string, string | null>> | null;
  /** The status the pass would write (for `deleting`/`selecting-all`: the current one). */
  readonly status: DaemonSetStatus;
  /** True when `status` differs from the stored one (STATUS-8); write it only then. */
  readonly statusChanged: boolean;
  readonly events: readonly ControllerEvent[];
  /** Look again after this many seconds without any event (REQ-2/REQ-4), else null. */
  readonly requeueAfterSeconds: number | null;
  /**
   * Problems that make part of the pass impossible (e.g. an unparsable maxSurge): the affected
   * step is skipped and the shell should treat the pass as failed after carrying out the rest.
   */
  readonly errors: readonly string[];
  /**
   * The rollout controls (rollout-controls.md) and what they hold; absent when none is set, so a
   * DaemonSet without controls plans exactly as upstream (see `RolloutReport`).
   */
  readonly rollout?: RolloutReport;
}

/**
 * The rollout controls of a DaemonSet (CTL-1, rollout-controls.md), as `readRolloutControls` reads
 * them: from spec fields on a `dlds`, from `daemonless.io/*` annotations on a native DaemonSet.
 */
export interface RolloutControls {
  /** `fields` (`dlds`) or `annotations` (native apps/v1 DaemonSet). */
  readonly source: 'fields' | 'annotations';
  /** CTL-2: no old pod is deleted or replaced, no surge pod created. */
  readonly paused: boolean;
  /** CTL-4: this many of the selector-admitted eligible nodes (the last by name) keep their revision; 0 = none. */
  readonly partition: number;
  /** CTL-3: only nodes matching it are updated; null = every node. */
  readonly selector: V1LabelSelector | null;
  /** CTL-8: seconds without a new pod becoming available before the rollout counts as stalled; null = never. */
  readonly progressDeadlineSeconds: number | null;
  /** CTL-9: pause the rollout when the progress deadline is exceeded. */
  readonly autoPause: boolean;
}

/** Why the rolling update leaves a node alone. */
export type HoldReason =
  /** CTL-3: the node does not match the rollout node selector. */
  | 'selector'
  /** CTL-4: the node is among the last `partition` admitted eligible nodes. */
  | 'partition'
  /** CTL-2/CTL-9: the rollout is paused (by the user or by auto-pause). */
  | 'paused'
  /** CTL-1: a control holds an invalid value; nothing rolls until it is fixed. */
  | 'invalid';

/** A node whose pod of an older revision the controls keep. */
export interface HeldNode {
  readonly node: string;
  readonly reason: HoldReason;
  /** The held (old-revision) pod. */
  readonly pod: string;
  /** Its `controller-revision-hash` label ('' when it has none). */
  readonly revisionHash: string;
}

/**
 * What the rollout controls did in this pass (`Plan.rollout`): the data `rollout status`,
 * `explain` and `plan` report. Present only for a RollingUpdate DaemonSet whose controls are set
 * (or invalid), or whose progress is tracked (progressDeadlineSeconds).
 */
export interface RolloutReport {
  /** The controls as read; all defaults when they are invalid (see `problems`). */
  readonly controls: RolloutControls;
  /** CTL-1: why the controls are invalid; non-empty = nothing rolls (every node held as `invalid`). */
  readonly problems: readonly ValidationProblem[];
  /** The user paused the rollout (`controls.paused`) or auto-pause did (`autoPaused`). */
  readonly paused: boolean;
  /** CTL-9: paused by auto-pause after the progress deadline was exceeded. */
  readonly autoPaused: boolean;
  /** CTL-8: no new pod became available for progressDeadlineSeconds. */
  readonly progressDeadlineExceeded: boolean;
  /** Eligible nodes the rolling update may update this pass (ascending names). */
  readonly updating: readonly string[];
  /** Nodes whose old pods the controls keep, with the reason (ascending names). */
  readonly held: readonly HeldNode[];
  /** CTL-5: the budgets, resolved against the nodes being updated (null when they do not parse). */
  readonly budgets: { readonly maxUnavailable: number; readonly maxSurge: number; readonly nodes: number } | null;
}

/** A problem found by `validateDaemonSet` (what the API server would reject). */
export interface ValidationProblem {
  /** JSON path of the offending field, e.g. `spec.selector`. */
  readonly field: string;
  readonly message: string;
}

/** Re-exported client-node types the core speaks in. */
export type { V1ControllerRevision, V1DaemonSet, V1Node, V1OwnerReference, V1Pod };
