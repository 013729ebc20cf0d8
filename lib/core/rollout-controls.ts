/**
 * Rollout controls beyond upstream (spec: rollout-controls.md): pause, partition, node-selector
 * canary, progress deadline and auto-pause. One reader of the settings (CTL-1) and the decision of
 * which nodes a rolling update may touch (CTL-2..CTL-6). Everything here is pure.
 */
import type { V1DaemonSet, V1LabelSelector, V1Node, V1Pod } from '@kubernetes/client-node';
import { updateStrategyType } from './daemon-set.js';
import {
  CONTROLLER_REVISION_HASH_LABEL,
  PROGRESS_DEADLINE_ANNOTATION,
  ROLLOUT_AUTO_PAUSE_ANNOTATION,
  ROLLOUT_CONTROL_ANNOTATIONS,
  ROLLOUT_NODE_SELECTOR_ANNOTATION,
  ROLLOUT_PARTITION_ANNOTATION,
  ROLLOUT_PAUSED_ANNOTATION,
} from './labels.js';
import { isDaemonlessResource } from './managed-resource.js';
import { labelsOf } from './objects.js';
import type { NodeEligibility } from './placement.js';
import { isPodDeleting, isPodTerminal, sortOldestFirst } from './pod-state.js';
import { isPodUpdated } from './pod-version.js';
import { compileSelector, parseSelectorString } from './label-selector.js';
import type { HeldNode, HoldReason, RolloutControls, ValidationProblem } from './types.js';

/** Where the controls of a DaemonSet live: spec fields (`dlds`) or annotations (native apps/v1). */
export type ControlsSource = RolloutControls['source'];

/** Result of `readRolloutControls`. */
export type RolloutControlsResult =
  | { readonly ok: true; readonly controls: RolloutControls }
  | { readonly ok: false; readonly source: ControlsSource; readonly problems: readonly ValidationProblem[] };

/** The controls with nothing set. */
export function defaultControls(source: ControlsSource): RolloutControls {
  return { source, paused: false, partition: 0, selector: null, progressDeadlineSeconds: null, autoPause: false };
}

/** Any control differs from its default (what makes the plan differ from upstream's). */
export function controlsSet(c: RolloutControls): boolean {
  return c.paused || c.partition > 0 || c.selector !== null || c.progressDeadlineSeconds !== null || c.autoPause;
}

/** A native DaemonSet carries at least one rollout-control annotation (whatever its value). */
export function hasControlAnnotation(ds: V1DaemonSet): boolean {
  const annotations = ds.metadata?.annotations ?? {};
  return ROLLOUT_CONTROL_ANNOTATIONS.some((k) => Object.prototype.hasOwnProperty.call(annotations, k));
}

const MAX_INT32 = 2_147_483_647;

/**
 * CTL-1: the one reader of the rollout controls. A `dlds` (apiVersion `daemonless.io/*`) carries
 * them as fields — `spec.updateStrategy.rollingUpdate.{paused,partition,selector,autoPause}` and
 * `spec.progressDeadlineSeconds` (Kruise Advanced DaemonSet names); a native DaemonSet as the
 * annotations `daemonless.io/rollout-paused: "true"`, `daemonless.io/rollout-partition: "N"`,
 * `daemonless.io/rollout-node-selector: "<kubectl -l syntax>"`,
 * `daemonless.io/progress-deadline-seconds: "N"`, `daemonless.io/rollout-auto-pause: "true"`.
 * Absent settings take their defaults (off). Any invalid value gives every problem found and no
 * controls: never a silent default. Booleans are `true`/`false` (annotations: the strings),
 * partition an integer ≥ 0, progressDeadlineSeconds an integer ≥ 1, both within int32.
 */
export function readRolloutControls(ds: V1DaemonSet): RolloutControlsResult {
  return isDaemonlessResource(ds) ? readFields(ds) : readAnnotations(ds);
}

function readFields(ds: V1DaemonSet): RolloutControlsResult {
  const problems: ValidationProblem[] = [];
  const spec = (ds.spec ?? {}) as unknown as Record<string, unknown>;
  const strategy = (spec['updateStrategy'] ?? {}) as Record<string, unknown>;
  const ru = (strategy['rollingUpdate'] ?? {}) as Record<string, unknown>;
  const base = 'spec.updateStrategy.rollingUpdate';
  const bool = (field: string, value: unknown): boolean => {
    if (value === undefined || value === null) return false;
    if (typeof value === 'boolean') return value;
    problems.push({ field, message: `must be a boolean, got ${JSON.stringify(value)}` });
    return false;
  };
  const int = (field: string, value: unknown, min: number): number | null => {
    if (value === undefined || value === null) return null;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > MAX_INT32) {
      problems.push({ field, message: `must be an integer ≥ ${min}, got ${JSON.stringify(value)}` });
      return null;
    }
    return value;
  };
  const paused = bool(`${base}.paused`, ru['paused']);
  const autoPause = bool(`${base}.autoPause`, ru['autoPause']);
  const partition = int(`${base}.partition`, ru['partition'], 0) ?? 0;
  const progressDeadlineSeconds = int('spec.progressDeadlineSeconds', spec['progressDeadlineSeconds'], 1);
  let selector: V1LabelSelector | null = null;
  const raw = ru['selector'];
  if (raw !== undefined && raw !== null) {
    const shapeOk = typeof raw === 'object' && !Array.isArray(raw) && validSelectorShape(raw as Record<string, unknown>);
    const compiled = shapeOk ? compileSelector(raw as V1LabelSelector) : { ok: false as const, error: 'must be a label selector (matchLabels, matchExpressions)' };
    if (!compiled.ok) problems.push({ field: `${base}.selector`, message: compiled.error });
    else selector = raw as V1LabelSelector;
  }
  if (problems.length > 0) return { ok: false, source: 'fields', problems };
  return { ok: true, controls: { source: 'fields', paused, partition, selector, progressDeadlineSeconds, autoPause } };
}

function validSelectorShape(s: Record<string, unknown>): boolean {
  const ml = s['matchLabels'];
  if (ml !== undefined && ml !== null && (typeof ml !== 'object' || Array.isArray(ml) || Object.values(ml).some((v) => typeof v !== 'string'))) return false;
  const me = s['matchExpressions'];
  if (me === undefined || me === null) return true;
  if (!Array.isArray(me)) return false;
  return me.every((e: unknown) => {
    if (typeof e !== 'object' || e === null) return false;
    const r = e as Record<string, unknown>;
    const values = r['values'];
    return typeof r['key'] === 'string' && typeof r['operator'] === 'string' &&
      (values === undefined || values === null || (Array.isArray(values) && values.every((v) => typeof v === 'string')));
  });
}

function readAnnotations(ds: V1DaemonSet): RolloutControlsResult {
  const problems: ValidationProblem[] = [];
  const annotations = ds.metadata?.annotations ?? {};
  const field = (key: string): string => `metadata.annotations[${key}]`;
  const bool = (key: string): boolean => {
    const raw = annotations[key];
    if (raw === undefined) return false;
    if (raw === 'true') return true;
    if (raw === 'false') return false;
    problems.push({ field: field(key), message: `must be "true" or "false", got ${JSON.stringify(raw)}` });
    return false;
  };
  const int = (key: string, min: number): number | null => {
    const raw = annotations[key];
    if (raw === undefined) return null;
    const value = /^\s*\d+\s*$/.test(raw) ? Number(raw.trim()) : NaN;
    if (!Number.isSafeInteger(value) || value < min || value > MAX_INT32) {
      problems.push({ field: field(key), message: `must be an integer ≥ ${min}, got ${JSON.stringify(raw)}` });
      return null;
    }
    return value;
  };
  const paused = bool(ROLLOUT_PAUSED_ANNOTATION);
  const autoPause = bool(ROLLOUT_AUTO_PAUSE_ANNOTATION);
  const partition = int(ROLLOUT_PARTITION_ANNOTATION, 0) ?? 0;
  const progressDeadlineSeconds = int(PROGRESS_DEADLINE_ANNOTATION, 1);
  let selector: V1LabelSelector | null = null;
  const rawSelector = annotations[ROLLOUT_NODE_SELECTOR_ANNOTATION];
  if (rawSelector !== undefined) {
    const parsed = parseSelectorString(rawSelector);
    if (!parsed.ok) problems.push({ field: field(ROLLOUT_NODE_SELECTOR_ANNOTATION), message: parsed.error });
    else selector = parsed.selector;
  }
  if (problems.length > 0) return { ok: false, source: 'annotations', problems };
  return { ok: true, controls: { source: 'annotations', paused, partition, selector, progressDeadlineSeconds, autoPause } };
}

/** Input of `planHolds`. */
export interface HoldInput {
  /** The controls in force (after auto-pause), or null when they are invalid (everything held). */
  readonly controls: RolloutControls | null;
  /** Every node of the snapshot, sorted by name. */
  readonly nodes: readonly V1Node[];
  readonly eligibility: ReadonlyMap<string, NodeEligibility>;
  /** MAP-1 view of the claimed pods. */
  readonly nodeToPods: ReadonlyMap<string, readonly V1Pod[]>;
  readonly hash: string;
  readonly templateGeneration: string | undefined;
}

/** Which nodes a rolling update may touch, and why the others are held. */
export interface Holds {
  /** Why a node is held, or undefined when the rolling update may update it. */
  readonly reasonFor: (node: string) => HoldReason | undefined;
  /** Eligible nodes the rolling update may update (selector-admitted, not partition-held), by name. */
  readonly updating: readonly string[];
  /** Held nodes that run a pod of an older revision (what a resume or a lower partition would roll), by name. */
  readonly held: readonly HeldNode[];
}

/**
 * CTL-2..CTL-4: which nodes the rolling update leaves alone.
 * - CTL-3 selector: nodes whose labels the selector does not match (and nodes no longer listed) are held;
 * - CTL-4 partition N: of the eligible (shouldRun) nodes the selector admits, in ascending name
 *   order, the last N are held (N ≥ their count holds them all);
 * - CTL-2 paused, or invalid controls (CTL-1): every node is held.
 * A node's reason is the first of selector, partition, paused/invalid that applies.
 */
export function planHolds(input: HoldInput): Holds {
  const { controls } = input;
  const matcher = controls?.selector ? compileSelector(controls.selector) : undefined;
  const nodeLabels = new Map(input.nodes.map((n) => [n.metadata?.name ?? '', labelsOf(n.metadata)]));
  const admitted = (node: string): boolean => {
    if (!matcher) return true;
    const labels = nodeLabels.get(node);
    return labels !== undefined && matcher.ok && matcher.matches(labels);
  };
  const eligibleAdmitted = [...nodeLabels.keys()].filter((n) => input.eligibility.get(n)?.shouldRun === true && admitted(n));
  const partition = Math.min(controls?.partition ?? 0, eligibleAdmitted.length);
  const partitionHeld = new Set(eligibleAdmitted.slice(eligibleAdmitted.length - partition));
  const updating = controls === null || controls.paused ? [] : eligibleAdmitted.filter((n) => !partitionHeld.has(n));

  const reasonFor = (node: string): HoldReason | undefined => {
    if (controls === null) return 'invalid';
    if (!admitted(node)) return 'selector';
    if (partitionHeld.has(node)) return 'partition';
    if (controls.paused) return 'paused';
    return undefined;
  };
  const held: HeldNode[] = [];
  const nodes = [...new Set([...nodeLabels.keys(), ...input.nodeToPods.keys()])].sort();
  for (const node of nodes) {
    const reason = reasonFor(node);
    if (reason === undefined) continue;
    const live = (input.nodeToPods.get(node) ?? []).filter((p) => !isPodDeleting(p) && !isPodTerminal(p));
    const old = sortOldestFirst(live).find((p) => !isPodUpdated(p, input.hash, input.templateGeneration));
    if (!old) continue;
    held.push({ node, reason, pod: old.metadata?.name ?? '', revisionHash: labelsOf(old.metadata)[CONTROLLER_REVISION_HASH_LABEL] ?? '' });
  }
  return { reasonFor, updating, held };
}

/** CTL-7: the controls apply to RollingUpdate only; OnDelete ignores them. */
export function controlsApply(ds: V1DaemonSet): boolean {
  return updateStrategyType(ds) === 'RollingUpdate';
}
