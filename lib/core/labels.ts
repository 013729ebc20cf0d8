/**
 * Label, annotation and other well-known keys and defaults used by the core.
 */

/** Pod and ControllerRevision label carrying the revision hash (apps/v1 DefaultDaemonSetUniqueLabelKey). */
export const CONTROLLER_REVISION_HASH_LABEL = 'controller-revision-hash';

/** Pod label carrying the template generation (POD-3, deprecated but still honoured: HIST-14). */
export const POD_TEMPLATE_GENERATION_LABEL = 'pod-template-generation';

/** DaemonSet annotation the API server keeps at the template generation (API-5). */
export const TEMPLATE_GENERATION_ANNOTATION = 'deprecated.daemonset.template.generation';

/**
 * DaemonSet annotation holding the failed-pod back-off record (see backoff.ts). The value is JSON:
 * `{"generation":<n>,"nodes":{"<node>":{"count":<n>,"last":"<RFC 3339>"}}}`. It is never copied
 * to ControllerRevisions.
 */
export const FAILED_POD_BACKOFF_ANNOTATION = 'daemonless.io/failed-pod-backoff';

/** The field key node-affinity terms use for the node name (matchFields). */
export const NODE_NAME_FIELD = 'metadata.name';

/** Taint keys of the default daemon tolerations (POD-4). */
export const TAINT_NOT_READY = 'node.kubernetes.io/not-ready';
export const TAINT_UNREACHABLE = 'node.kubernetes.io/unreachable';
export const TAINT_DISK_PRESSURE = 'node.kubernetes.io/disk-pressure';
export const TAINT_MEMORY_PRESSURE = 'node.kubernetes.io/memory-pressure';
export const TAINT_PID_PRESSURE = 'node.kubernetes.io/pid-pressure';
export const TAINT_UNSCHEDULABLE = 'node.kubernetes.io/unschedulable';
export const TAINT_NETWORK_UNAVAILABLE = 'node.kubernetes.io/network-unavailable';

/** API-1 defaults. */
export const DEFAULT_REVISION_HISTORY_LIMIT = 10;
export const DEFAULT_MAX_UNAVAILABLE = 1;
export const DEFAULT_MAX_SURGE = 0;

/** FAIL-2: back-off defaults of kube-controller-manager. */
export const DEFAULT_BACKOFF_INITIAL_SECONDS = 1;
export const DEFAULT_BACKOFF_MAX_SECONDS = 900;

/** Events (§15). */
export const EVENT_SELECTING_ALL = 'SelectingAll';
export const EVENT_FAILED_DAEMON_POD = 'FailedDaemonPod';
export const EVENT_SUCCEEDED_DAEMON_POD = 'SucceededDaemonPod';

/** Rollout controls on native DaemonSets (CTL-1; `dlds` carry them as spec fields instead). */
export const ROLLOUT_PAUSED_ANNOTATION = 'daemonless.io/rollout-paused';
export const ROLLOUT_PARTITION_ANNOTATION = 'daemonless.io/rollout-partition';
export const ROLLOUT_NODE_SELECTOR_ANNOTATION = 'daemonless.io/rollout-node-selector';
export const PROGRESS_DEADLINE_ANNOTATION = 'daemonless.io/progress-deadline-seconds';
export const ROLLOUT_AUTO_PAUSE_ANNOTATION = 'daemonless.io/rollout-auto-pause';
/** Every rollout-control annotation. */
export const ROLLOUT_CONTROL_ANNOTATIONS: readonly string[] = [
  ROLLOUT_PAUSED_ANNOTATION,
  ROLLOUT_PARTITION_ANNOTATION,
  ROLLOUT_NODE_SELECTOR_ANNOTATION,
  PROGRESS_DEADLINE_ANNOTATION,
  ROLLOUT_AUTO_PAUSE_ANNOTATION,
];

/** CTL-1: a rollout control annotation or field holds an invalid value (Warning; the rollout holds). */
export const EVENT_INVALID_ROLLOUT_CONTROL = 'InvalidRolloutControl';
/** CTL-8: no new pod became available within progressDeadlineSeconds (Warning). */
export const EVENT_PROGRESS_DEADLINE_EXCEEDED = 'ProgressDeadlineExceeded';

/** Status condition types and reasons (COND-*), kstatus-compatible. */
export const CONDITION = {
  reconciling: 'Reconciling',
  stalled: 'Stalled',
  ready: 'Ready',
  progressing: 'Progressing',
} as const;
export const CONDITION_REASON = {
  rolloutInProgress: 'RolloutInProgress',
  rolloutComplete: 'RolloutComplete',
  paused: 'Paused',
  partitioned: 'Partitioned',
  progressDeadlineExceeded: 'ProgressDeadlineExceeded',
  reconcileFailed: 'ReconcileFailed',
} as const;

/**
 * Cluster Autoscaler treats a pod with this annotation set to "true" as a DaemonSet pod (CRD-3):
 * it is not a reason to keep a node, and it is not evicted on scale-down.
 */
export const CLUSTER_AUTOSCALER_DAEMONSET_POD_ANNOTATION = 'cluster-autoscaler.kubernetes.io/daemonset-pod';
