import { CRD_GROUP, CRD_VERSION, type ManagedResource } from '../core/managed-resource.js';
import { COMMON_LABELS, CONTROLLER_GROUP, WEBHOOK_CONFIGURATION_NAME, WEBHOOK_NAME } from './names.js';
import type { KubeObject } from './types.js';

export interface WebhookOptions {
  readonly managedResource: ManagedResource;
  /** https URL of the webhook function, secret path included: `https://<function-url>/hook/<token>`. */
  readonly url: string;
  /** @default 3 */
  readonly timeoutSeconds?: number;
  /** Base64 PEM CA bundle; omit for public certificates (Function URLs). */
  readonly caBundle?: string;
  /** Requests made by these groups are not sent (the controller's own writes). @default [daemonless:controller] */
  readonly ignoreGroups?: readonly string[];
  /** Requests made by these users are not sent (a kubeconfig user of the controller). */
  readonly ignoreUsers?: readonly string[];
}

export const DEFAULT_WEBHOOK_TIMEOUT_SECONDS = 3;

const OPERATIONS = ['CREATE', 'UPDATE', 'DELETE'];

/**
 * Problems with a webhook URL, per the admissionregistration/v1 rules: https, a host, no user info,
 * no query, no fragment. Empty when the URL is valid.
 */
export function checkWebhookUrl(url: string): string[] {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return [`webhook URL ${JSON.stringify(url)} is not a URL`];
  }
  const problems: string[] = [];
  if (parsed.protocol !== 'https:') problems.push('webhook URL must use https');
  if (parsed.username !== '' || parsed.password !== '') problems.push('webhook URL must not contain user info');
  if (parsed.search !== '' || url.includes('?')) problems.push('webhook URL must not contain a query');
  if (parsed.hash !== '' || url.includes('#')) problems.push('webhook URL must not contain a fragment');
  return problems;
}

/** "any of these owner references is a controller that is not a DaemonSet of the managed API". */
function ownedByOtherController(obj: string, apiVersionPrefix: string): string {
  return `has(${obj}.metadata.ownerReferences) && ${obj}.metadata.ownerReferences.exists(r, ` +
    `has(r.controller) && r.controller && !(r.kind == 'DaemonSet' && r.apiVersion.startsWith('${apiVersionPrefix}')))`;
}

function hasTrueReady(obj: string): string {
  return `(has(${obj}.status.conditions) && ${obj}.status.conditions.exists(c, c.type == 'Ready' && c.status == 'True'))`;
}

/**
 * The matchConditions (CEL) that keep noise away from the function. Every expression only ever
 * narrows; an expression error skips the call under failurePolicy Ignore, so they guard every
 * optional field with has().
 */
function matchConditions(options: WebhookOptions): { name: string; expression: string }[] {
  const apiVersionPrefix = options.managedResource === 'native' ? 'apps/' : `${CRD_GROUP}/`;
  const groups = options.ignoreGroups ?? [CONTROLLER_GROUP];
  const users = options.ignoreUsers ?? [];
  const conditions: { name: string; expression: string }[] = [];
  if (groups.length > 0) {
    conditions.push({
      name: 'not-from-controller-group',
      expression: `!has(request.userInfo.groups) || !request.userInfo.groups.exists(g, g in ${celList(groups)})`,
    });
  }
  if (users.length > 0) {
    conditions.push({ name: 'not-from-controller-user', expression: `!(request.userInfo.username in ${celList(users)})` });
  }
  conditions.push(
    {
      // Pods controlled by a ReplicaSet, Job, … cannot matter; orphans can (adoption).
      name: 'daemon-or-orphan-pods',
      expression: `request.resource.resource != 'pods' || ` +
        `(object != null && !(${ownedByOtherController('object', apiVersionPrefix)})) || ` +
        `(oldObject != null && !(${ownedByOtherController('oldObject', apiVersionPrefix)}))`,
    },
    {
      // Node updates matter when labels or taints change (upstream's shouldIgnoreNodeUpdate), and
      // status updates when readiness flips; heartbeat-only status reports are dropped.
      name: 'relevant-node-updates',
      expression: `request.resource.resource != 'nodes' || request.operation != 'UPDATE' || ` +
        // subResource is absent (not "") on requests for the main resource.
        `((has(request.subResource) && request.subResource == 'status') ? ${hasTrueReady('object')} != ${hasTrueReady('oldObject')} : (` +
        `has(object.metadata.labels) != has(oldObject.metadata.labels) || ` +
        `(has(object.metadata.labels) && object.metadata.labels != oldObject.metadata.labels) || ` +
        `has(object.spec.taints) != has(oldObject.spec.taints) || ` +
        `(has(object.spec.taints) && object.spec.taints != oldObject.spec.taints)))`,
    },
  );
  return conditions;
}

function celList(values: readonly string[]): string {
  return `[${values.map((v) => `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`).join(', ')}]`;
}

/**
 * The ValidatingWebhookConfiguration that turns cluster writes into hints for the webhook function.
 * It never blocks the cluster: failurePolicy Ignore, a short timeout, and the function always allows.
 * Every namespace is included (kube-system holds many DaemonSets).
 */
export function buildWebhookConfiguration(options: WebhookOptions): KubeObject {
  const problems = checkWebhookUrl(options.url);
  const timeoutSeconds = options.timeoutSeconds ?? DEFAULT_WEBHOOK_TIMEOUT_SECONDS;
  if (!Number.isInteger(timeoutSeconds) || timeoutSeconds < 1 || timeoutSeconds > 30) {
    problems.push(`timeoutSeconds must be an integer from 1 to 30, got ${timeoutSeconds}`);
  }
  if (problems.length > 0) throw new Error(`Invalid webhook options:\n  - ${problems.join('\n  - ')}`);

  const daemonSetRule = options.managedResource === 'native'
    ? { apiGroups: ['apps'], apiVersions: ['v1'], operations: OPERATIONS, resources: ['daemonsets'], scope: 'Namespaced' }
    : { apiGroups: [CRD_GROUP], apiVersions: [CRD_VERSION], operations: OPERATIONS, resources: ['daemonsets'], scope: 'Namespaced' };
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingWebhookConfiguration',
    metadata: { name: WEBHOOK_CONFIGURATION_NAME, labels: { ...COMMON_LABELS } },
    webhooks: [{
      name: WEBHOOK_NAME,
      admissionReviewVersions: ['v1'],
      clientConfig: options.caBundle === undefined ? { url: options.url } : { url: options.url, caBundle: options.caBundle },
      // The function enqueues, so it has side effects, except on dry runs (it skips request.dryRun).
      sideEffects: 'NoneOnDryRun',
      failurePolicy: 'Ignore',
      matchPolicy: 'Equivalent',
      timeoutSeconds,
      rules: [
        // Spec changes only: daemonsets/status is written by the controller itself.
        daemonSetRule,
        { apiGroups: [''], apiVersions: ['v1'], operations: OPERATIONS, resources: ['pods', 'pods/status'], scope: 'Namespaced' },
        { apiGroups: [''], apiVersions: ['v1'], operations: OPERATIONS, resources: ['nodes', 'nodes/status'], scope: 'Cluster' },
      ],
      matchConditions: matchConditions(options),
    }],
  };
}
