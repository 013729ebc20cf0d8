import { daemonSetGroup, type ManagedResource } from '../core/managed-resource.js';
import { COMMON_LABELS, CONTROLLER_CLUSTER_ROLE, CONTROLLER_GROUP, RESYNC_CLUSTER_ROLE, RESYNC_GROUP } from './names.js';
import type { KubeObject } from './types.js';

export interface PolicyRule {
  readonly apiGroups: readonly string[];
  readonly resources: readonly string[];
  readonly verbs: readonly string[];
}

export interface RbacOptions {
  readonly managedResource: ManagedResource;
  /** Kubernetes user names bound in addition to the groups (e.g. the kubeconfig's user). */
  readonly controllerUsers?: readonly string[];
  readonly resyncUsers?: readonly string[];
}

/**
 * What the reconcile function needs, rule by rule. Compared with upstream's
 * `system:controller:daemon-set-controller` (plugin/pkg/auth/authorizer/rbac/bootstrappolicy/
 * controller_policy.go), the differences are deliberate:
 * - the group is `apps` or the CRD group, not also `extensions` (no longer served since v1.16);
 * - daemonsets/status also allows `patch` (status is written with a merge patch or a replace) and
 *   `get` (readNamespacedDaemonSetStatus, and kubectl's patch, read it first; it shows nothing that
 *   `daemonsets` get does not);
 * - pods and nodes also allow `get` (single reads by name, e.g. after a conflict);
 * - no `pods/binding` create: in nodeName mode the pod is created with spec.nodeName already set,
 *   in affinity mode the scheduler binds;
 * - events: `create` and `patch` (new events and count updates), not `update`;
 * - daemonsets also allow `patch`: the failed-pod back-off is remembered in an annotation on the
 *   DaemonSet, since a function keeps no memory between invocations.
 * `daemonsets/finalizers` update is kept: with the OwnerReferencesPermissionEnforcement admission
 * plugin, setting blockOwnerDeletion on a pod's or revision's ownerReference requires it.
 */
export function controllerRules(managedResource: ManagedResource): PolicyRule[] {
  const group = daemonSetGroup(managedResource);
  return [
    // patch: the failed-pod back-off record is an annotation on the DaemonSet (lib/core/backoff.ts).
    { apiGroups: [group], resources: ['daemonsets'], verbs: ['get', 'list', 'watch', 'patch'] },
    { apiGroups: [group], resources: ['daemonsets/status'], verbs: ['get', 'update', 'patch'] },
    { apiGroups: [group], resources: ['daemonsets/finalizers'], verbs: ['update'] },
    { apiGroups: [''], resources: ['nodes'], verbs: ['get', 'list', 'watch'] },
    // patch: adopting and releasing pods rewrites their ownerReferences.
    { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch', 'create', 'delete', 'patch'] },
    {
      apiGroups: ['apps'],
      resources: ['controllerrevisions'],
      verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'],
    },
    { apiGroups: ['', 'events.k8s.io'], resources: ['events'], verbs: ['create', 'patch'] },
  ];
}

/** The resync function only lists DaemonSets to enqueue their keys. */
export function resyncRules(managedResource: ManagedResource): PolicyRule[] {
  return [{ apiGroups: [daemonSetGroup(managedResource)], resources: ['daemonsets'], verbs: ['list'] }];
}

function clusterRole(name: string, rules: readonly PolicyRule[]): KubeObject {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: { name, labels: { ...COMMON_LABELS } },
    rules: rules.map((r) => ({ apiGroups: [...r.apiGroups], resources: [...r.resources], verbs: [...r.verbs] })),
  };
}

function clusterRoleBinding(name: string, group: string, users: readonly string[]): KubeObject {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name, labels: { ...COMMON_LABELS } },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name },
    subjects: [
      { apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: group },
      ...users.map((user) => ({ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: user })),
    ],
  };
}

/**
 * ClusterRoles and ClusterRoleBindings: `daemonless-controller` for group `daemonless:controller`
 * (the reconcile function) and `daemonless-resync` for group `daemonless:resync` (the resync function).
 * On EKS the stack's access entries put the function roles in these groups.
 */
export function buildRbac(options: RbacOptions): KubeObject[] {
  return [
    clusterRole(CONTROLLER_CLUSTER_ROLE, controllerRules(options.managedResource)),
    clusterRoleBinding(CONTROLLER_CLUSTER_ROLE, CONTROLLER_GROUP, options.controllerUsers ?? []),
    clusterRole(RESYNC_CLUSTER_ROLE, resyncRules(options.managedResource)),
    clusterRoleBinding(RESYNC_CLUSTER_ROLE, RESYNC_GROUP, options.resyncUsers ?? []),
  ];
}
