/** Names shared by the cluster-side manifests and the CDK stack (EKS access entries). */

/** Kubernetes group of the reconcile function's identity; bound to the controller ClusterRole. */
export const CONTROLLER_GROUP = 'daemonless:controller';
/** Kubernetes group of the resync function's identity; bound to a list-only ClusterRole. */
export const RESYNC_GROUP = 'daemonless:resync';

export const CONTROLLER_CLUSTER_ROLE = 'daemonless-controller';
export const RESYNC_CLUSTER_ROLE = 'daemonless-resync';
export const WEBHOOK_CONFIGURATION_NAME = 'daemonless-events';
/** The webhook's name inside the configuration (must be a qualified DNS name). */
export const WEBHOOK_NAME = 'events.daemonless.io';

/** Labels on every object the project ships. */
export const COMMON_LABELS: Readonly<Record<string, string>> = {
  'app.kubernetes.io/name': 'daemonless',
  'app.kubernetes.io/component': 'controller',
  'app.kubernetes.io/managed-by': 'daemonless',
};
