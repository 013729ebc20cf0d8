import { CRD_GROUP, CRD_VERSION } from '../core/managed-resource.js';
import { COMMON_LABELS } from './names.js';
import type { Schema } from './openapi-schema.js';
import podTemplateSchema from './pod-template-schema.json' with { type: 'json' };
import type { KubeObject } from './types.js';

const int32 = (description: string, extra: Schema = {}): Schema => ({ type: 'integer', format: 'int32', description, ...extra });
const int64 = (description: string): Schema => ({ type: 'integer', format: 'int64', description });
const intOrString = (description: string, defaultValue: number): Schema => ({
  'x-kubernetes-int-or-string': true,
  anyOf: [{ type: 'integer' }, { type: 'string' }],
  description,
  default: defaultValue,
});

/** metav1.LabelSelector, bounded (not in apps/v1) so that CEL rules over it stay within the API server's cost budget. */
const labelSelectorShape = (description: string): Schema => ({
  type: 'object',
  description,
  properties: {
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
});

const labelSelector: Schema = {
  ...labelSelectorShape('Label query over pods that are managed by the daemon set. Must match the pod template\'s labels. Immutable.'),
  'x-kubernetes-validations': [
    // API-2: the selector is immutable (apps/v1 strategy ValidateUpdate).
    { rule: 'self == oldSelf', message: 'field is immutable' },
    {
      rule: '(has(self.matchLabels) && size(self.matchLabels) > 0) || (has(self.matchExpressions) && size(self.matchExpressions) > 0)',
      message: 'empty selector is invalid for daemonset',
    },
  ],
};

/** CEL: the template's labels have `key` (written against `spec`). */
const hasLabel = (key: string) => `(has(self.template.metadata) && has(self.template.metadata.labels) && ${key} in self.template.metadata.labels)`;

/** CRD-2 (API-2), CEL form of `selector.Matches(labels.Set(template.metadata.labels))` over the whole spec. */
export const SELECTOR_MATCHES_LABELS_RULE = [
  `(!has(self.selector.matchLabels) || self.selector.matchLabels.all(k, ${hasLabel('k')} && self.template.metadata.labels[k] == self.selector.matchLabels[k]))`,
  [
    '(!has(self.selector.matchExpressions) || self.selector.matchExpressions.all(e,',
    `  e.operator == 'In' ? (${hasLabel('e.key')} && has(e.values) && self.template.metadata.labels[e.key] in e.values) :`,
    `  e.operator == 'NotIn' ? (!${hasLabel('e.key')} || !has(e.values) || !(self.template.metadata.labels[e.key] in e.values)) :`,
    `  e.operator == 'Exists' ? ${hasLabel('e.key')} :`,
    `  !${hasLabel('e.key')}))`,
  ].join('\n'),
].join('\n&& ');

/** CEL over an int-or-string budget: zero (`0` or `"0%"`). */
const isZero = (v: string) => `((type(${v}) == int && ${v} == 0) || (type(${v}) == string && ${v}.matches('^0+%$')))`;

/**
 * CRD-2 (API-4), checked as apps/v1 checks it: only for type RollingUpdate (the rules sit on
 * `updateStrategy`, which sees the type). Each budget is a non-negative int or a percentage
 * `"N%"` with N ≤ 100, and exactly one of them is non-zero (an absent maxUnavailable is 1, an
 * absent maxSurge 0, as the defaults fill them in).
 */
function budgetValidations(): Schema[] {
  const rolling = (rule: string) => `!has(self.type) || self.type != 'RollingUpdate' || !has(self.rollingUpdate) || (${rule})`;
  const rules: Schema[] = [];
  for (const field of ['maxUnavailable', 'maxSurge']) {
    const v = `self.rollingUpdate.${field}`;
    rules.push(
      {
        rule: rolling(`!has(${v}) || (type(${v}) == int ? ${v} >= 0 : ${v}.matches('^[0-9]+%$'))`),
        message: "must be a non-negative integer or a percentage: a numeric string followed by an ending '%' (e.g. '5%')",
        fieldPath: `.rollingUpdate.${field}`,
      },
      {
        rule: rolling(`!has(${v}) || type(${v}) == int || !${v}.matches('^[0-9]+%$') || ${v}.matches('^0*([0-9]|[1-9][0-9]|100)%$')`),
        message: 'must not be greater than 100%',
        fieldPath: `.rollingUpdate.${field}`,
      },
    );
  }
  const unavailableZero = `(has(self.rollingUpdate.maxUnavailable) && ${isZero('self.rollingUpdate.maxUnavailable')})`;
  const surgeZero = `(!has(self.rollingUpdate.maxSurge) || ${isZero('self.rollingUpdate.maxSurge')})`;
  rules.push(
    { rule: rolling(`!(${unavailableZero} && ${surgeZero})`), message: 'cannot be 0 when maxSurge is 0', fieldPath: '.rollingUpdate.maxUnavailable' },
    { rule: rolling(`${unavailableZero} || ${surgeZero}`), message: 'may not be set when maxUnavailable is non-zero', fieldPath: '.rollingUpdate.maxSurge' },
  );
  return rules;
}

/** CRD-2 (API-3) over the pod spec of the template, on top of the generated structural schema. */
const podSpecValidations = [
  { rule: 'size(self.containers) > 0', message: 'must have at least one container', fieldPath: '.containers' },
  { rule: "!has(self.restartPolicy) || self.restartPolicy == 'Always'", message: 'Unsupported value: supported values: "Always"', fieldPath: '.restartPolicy' },
  { rule: '!has(self.activeDeadlineSeconds)', message: 'activeDeadlineSeconds in DaemonSet is not Supported', fieldPath: '.activeDeadlineSeconds' },
];

/** CRD-1: the pod template is the generated structural schema of apps/v1's PodTemplateSpec (plus CRD-2's API-3 rules). */
function podTemplate(): Schema {
  const generated = podTemplateSchema.schema as Schema & { properties: { spec: Schema } };
  return {
    ...generated,
    description: `A PodTemplateSpec, as in apps/v1 (schema generated from ${podTemplateSchema.source.apiServer} ${podTemplateSchema.source.path}).`,
    properties: {
      ...generated.properties,
      spec: { ...generated.properties.spec, 'x-kubernetes-validations': podSpecValidations },
    },
  };
}

const spec: Schema = {
  type: 'object',
  description: 'The desired behavior of this daemon set (same fields as apps/v1 DaemonSetSpec, plus rollout controls).',
  required: ['selector', 'template'],
  properties: {
    selector: labelSelector,
    template: podTemplate(),
    updateStrategy: {
      type: 'object',
      description: 'An update strategy to replace existing DaemonSet pods with new pods.',
      default: {},
      'x-kubernetes-validations': budgetValidations(),
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
            selector: labelSelectorShape('Only nodes matching this label selector are updated; pods on other nodes keep their revision.'),
            autoPause: { type: 'boolean', description: 'Pause the rollout when the progress deadline is exceeded.' },
          },
        },
      },
    },
    minReadySeconds: int32('Seconds a new daemon pod must be ready, without any container crashing, to count as available.', { minimum: 0, default: 0 }),
    revisionHistoryLimit: int32('The number of old history entries to keep for rollback.', { minimum: 0, default: 10 }),
    progressDeadlineSeconds: int32('Seconds a rollout may go without progress before the DaemonSet is reported Stalled (ProgressDeadlineExceeded).', { minimum: 1 }),
  },
  'x-kubernetes-validations': [
    { rule: SELECTOR_MATCHES_LABELS_RULE, message: '`selector` does not match template `labels`', fieldPath: '.template.metadata.labels' },
  ],
};

/** A kstatus-style condition (Reconciling, Stalled, Ready, Progressing). */
const condition: Schema = {
  type: 'object',
  required: ['type', 'status'],
  properties: {
    type: { type: 'string' },
    status: { type: 'string', enum: ['True', 'False', 'Unknown'] },
    observedGeneration: int64('The generation the condition was set for.'),
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

/** `kubectl get ds` columns; priority 1 only under `-o wide`, as kubectl prints a DaemonSet. */
const printerColumns = [
  { name: 'Desired', type: 'integer', jsonPath: '.status.desiredNumberScheduled' },
  { name: 'Current', type: 'integer', jsonPath: '.status.currentNumberScheduled' },
  { name: 'Ready', type: 'integer', jsonPath: '.status.numberReady' },
  { name: 'Up-to-date', type: 'integer', jsonPath: '.status.updatedNumberScheduled' },
  { name: 'Available', type: 'integer', jsonPath: '.status.numberAvailable' },
  { name: 'Node Selector', type: 'string', jsonPath: '.spec.template.spec.nodeSelector' },
  { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
  { name: 'Containers', type: 'string', priority: 1, jsonPath: '.spec.template.spec.containers[*].name' },
  { name: 'Images', type: 'string', priority: 1, jsonPath: '.spec.template.spec.containers[*].image' },
  { name: 'Selector', type: 'string', priority: 1, jsonPath: '.spec.selector' },
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
