import { CRD_GROUP, CRD_VERSION } from '../core/managed-resource.js';
import { COMMON_LABELS } from './names.js';
import type { KubeObject } from './types.js';

/** A structural OpenAPI v3 schema as the CRD API takes it (field names verbatim, `x-kubernetes-*`). */
type Schema = { readonly [key: string]: unknown };

const int32 = (description: string, extra: Schema = {}): Schema => ({ type: 'integer', format: 'int32', description, ...extra });
const int64 = (description: string): Schema => ({ type: 'integer', format: 'int64', description });
const intOrString = (description: string, defaultValue: number): Schema => ({
  'x-kubernetes-int-or-string': true,
  anyOf: [{ type: 'integer' }, { type: 'string' }],
  description,
  default: defaultValue,
});

const labelSelector: Schema = {
  type: 'object',
  description: 'Label query over pods that are managed by the daemon set. Must match the pod template\'s labels. Immutable.',
  properties: {
    // The bounds (not in apps/v1) keep the CEL rules below within the API server's cost budget.
    matchLabels: { type: 'object', maxProperties: 64, additionalProperties: { type: 'string', maxLength: 63 } },
    matchExpressions: {
      type: 'array',
      maxItems: 64,
      'x-kubernetes-list-type': 'atomic',
      items: {
        type: 'object',
        required: ['key', 'operator'],
        properties: {
          key: { type: 'string', maxLength: 317 },
          operator: { type: 'string', enum: ['In', 'NotIn', 'Exists', 'DoesNotExist'] },
          values: { type: 'array', maxItems: 256, 'x-kubernetes-list-type': 'atomic', items: { type: 'string', maxLength: 63 } },
        },
      },
    },
  },
  'x-kubernetes-map-type': 'atomic',
  'x-kubernetes-validations': [
    { rule: 'self == oldSelf', message: 'field is immutable' },
    {
      rule: '(has(self.matchLabels) && size(self.matchLabels) > 0) || (has(self.matchExpressions) && size(self.matchExpressions) > 0)',
      message: 'empty selector is invalid for daemonset',
    },
  ],
};

const spec: Schema = {
  type: 'object',
  description: 'The desired behavior of this daemon set (same fields as apps/v1 DaemonSetSpec).',
  required: ['selector', 'template'],
  properties: {
    selector: labelSelector,
    template: {
      type: 'object',
      description: 'A PodTemplateSpec, as in apps/v1; validated by the API server when the controller creates pods.',
      'x-kubernetes-preserve-unknown-fields': true,
    },
    updateStrategy: {
      type: 'object',
      description: 'An update strategy to replace existing DaemonSet pods with new pods.',
      default: {},
      properties: {
        type: { type: 'string', enum: ['RollingUpdate', 'OnDelete'], default: 'RollingUpdate' },
        rollingUpdate: {
          type: 'object',
          default: {},
          properties: {
            maxUnavailable: intOrString('The maximum number (or percentage) of nodes whose daemon pod can be unavailable during the update.', 1),
            maxSurge: intOrString('The maximum number (or percentage) of nodes with an available daemon pod that can have the updated pod during the update.', 0),
            paused: { type: 'boolean', description: 'Hold the rolling update: no pod of an old revision is replaced while true.' },
            partition: int32('Of the nodes the rollout selector admits, this many (the last in node-name order) keep the old revision.', { minimum: 0 }),
            selector: {
              type: 'object',
              description: 'Only nodes matching this label selector are updated; pods on other nodes keep their revision.',
              properties: labelSelector['properties'],
              'x-kubernetes-map-type': 'atomic',
            },
            autoPause: { type: 'boolean', description: 'Pause the rollout when the progress deadline is exceeded.' },
          },
        },
      },
    },
    minReadySeconds: int32('Seconds a new daemon pod must be ready, without any container crashing, to count as available.', { minimum: 0, default: 0 }),
    revisionHistoryLimit: int32('The number of old history entries to keep for rollback.', { minimum: 0, default: 10 }),
    progressDeadlineSeconds: int32('Seconds a rollout may go without progress before the DaemonSet is reported Stalled (ProgressDeadlineExceeded).', { minimum: 1 }),
  },
};

const condition: Schema = {
  type: 'object',
  required: ['type', 'status'],
  properties: {
    type: { type: 'string' },
    status: { type: 'string' },
    lastTransitionTime: { type: 'string', format: 'date-time' },
    reason: { type: 'string' },
    message: { type: 'string' },
  },
};

const status: Schema = {
  type: 'object',
  description: 'The current status of this daemon set (same fields as apps/v1 DaemonSetStatus).',
  properties: {
    currentNumberScheduled: int32('The number of nodes running at least one daemon pod that should run it.', { minimum: 0 }),
    numberMisscheduled: int32('The number of nodes running the daemon pod that should not run it.', { minimum: 0 }),
    desiredNumberScheduled: int32('The number of nodes that should run the daemon pod.', { minimum: 0 }),
    numberReady: int32('The number of nodes running the daemon pod with a Ready pod.', { minimum: 0 }),
    observedGeneration: int64('The most recent generation observed by the controller.'),
    updatedNumberScheduled: int32('The number of nodes running the updated daemon pod.', { minimum: 0 }),
    numberAvailable: int32('The number of nodes running the daemon pod with an available pod.', { minimum: 0 }),
    numberUnavailable: int32('The number of nodes that should run the daemon pod and have none available.', { minimum: 0 }),
    collisionCount: int32('Count of hash collisions; used to name the newest ControllerRevision.', { minimum: 0 }),
    conditions: {
      type: 'array',
      description: 'The latest observations of the daemon set\'s state; kept as written.',
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['type'],
      items: condition,
    },
  },
};

/** `kubectl get ds` columns. */
const printerColumns = [
  { name: 'Desired', type: 'integer', jsonPath: '.status.desiredNumberScheduled' },
  { name: 'Current', type: 'integer', jsonPath: '.status.currentNumberScheduled' },
  { name: 'Ready', type: 'integer', jsonPath: '.status.numberReady' },
  { name: 'Up-to-date', type: 'integer', jsonPath: '.status.updatedNumberScheduled' },
  { name: 'Available', type: 'integer', jsonPath: '.status.numberAvailable' },
  { name: 'Node Selector', type: 'string', jsonPath: '.spec.template.spec.nodeSelector' },
  { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
];

/**
 * The project's own DaemonSet resource (`daemonsets.daemonless.io`, short name `dlds`), for clusters
 * such as EKS whose built-in DaemonSet controller cannot be turned off. Spec and status mirror
 * apps/v1, with apps/v1's defaults (RollingUpdate, maxUnavailable 1, maxSurge 0,
 * revisionHistoryLimit 10, minReadySeconds 0).
 */
export function buildDaemonSetCrd(): KubeObject {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `daemonsets.${CRD_GROUP}`, labels: { ...COMMON_LABELS } },
    spec: {
      group: CRD_GROUP,
      scope: 'Namespaced',
      names: {
        kind: 'DaemonSet',
        listKind: 'DaemonSetList',
        plural: 'daemonsets',
        singular: 'daemonset',
        shortNames: ['dlds'],
        categories: ['all'],
      },
      versions: [{
        name: CRD_VERSION,
        served: true,
        storage: true,
        subresources: { status: {} },
        additionalPrinterColumns: printerColumns,
        schema: {
          openAPIV3Schema: {
            type: 'object',
            description: 'A DaemonSet managed by daemonless: one pod per eligible node.',
            required: ['spec'],
            properties: {
              apiVersion: { type: 'string' },
              kind: { type: 'string' },
              metadata: { type: 'object' },
              spec,
              status,
            },
          },
        },
      }],
    },
  };
}
