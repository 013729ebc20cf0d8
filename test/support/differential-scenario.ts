/**
 * Randomized DaemonSet scenarios for the differential test (daemonless vs the upstream controller).
 * Pure and deterministic: `generateScenarios(seed, count)` always returns the same scenarios for the
 * same seed (fast-check's seeded sampling drives the choices). A scenario is a cluster (nodes with
 * random labels and taints), one or two DaemonSets (random nodeSelectors, required node affinities,
 * tolerations, update strategies) and a list of steps applied in order to both planes.
 *
 * Steps are generated against a model of the cluster, so every step refers to objects that exist at
 * that point (a removed node is never labelled, a deleted DaemonSet is never updated).
 */
import fc from 'fast-check';

export type TaintEffect = 'NoSchedule' | 'NoExecute' | 'PreferNoSchedule';

export interface TaintDef {
  readonly key: string;
  readonly value: string;
  readonly effect: TaintEffect;
}

export interface NodeDef {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly taints: readonly TaintDef[];
}

export interface MatchExpression {
  readonly key: string;
  readonly operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  readonly values?: readonly string[];
}

export interface TolerationDef {
  /** Empty with operator Exists: tolerates every taint. */
  readonly key: string;
  readonly operator: 'Exists' | 'Equal';
  readonly value?: string;
  readonly effect?: TaintEffect;
}

export type StrategyDef =
  | { readonly type: 'OnDelete' }
  | { readonly type: 'RollingUpdate'; readonly maxUnavailable: number | string; readonly maxSurge: number | string };

export interface DaemonSetDef {
  readonly name: string;
  readonly nodeSelector: Readonly<Record<string, string>>;
  /** Required node affinity: terms are ORed, the expressions of a term ANDed; absent when undefined. */
  readonly affinityTerms?: readonly (readonly MatchExpression[])[];
  readonly tolerations: readonly TolerationDef[];
  readonly strategy: StrategyDef;
  readonly image: string;
}

export type Step =
  | { readonly kind: 'setImage'; readonly ds: string; readonly image: string; readonly rollback: boolean }
  | { readonly kind: 'setStrategy'; readonly ds: string; readonly strategy: StrategyDef }
  | { readonly kind: 'label'; readonly node: string; readonly key: string; readonly value: string | null }
  | { readonly kind: 'taint'; readonly node: string; readonly taint: TaintDef; readonly op: 'add' | 'remove' }
  | { readonly kind: 'addNode'; readonly node: NodeDef }
  | { readonly kind: 'removeNode'; readonly node: string }
  | { readonly kind: 'cordon'; readonly node: string; readonly unschedulable: boolean }
  /** Fails a daemon pod: on the `pick`-th (modulo) of the nodes that run a live pod of `ds` on both planes. */
  | { readonly kind: 'failPod'; readonly ds: string; readonly pick: number }
  | { readonly kind: 'deleteDs'; readonly ds: string };

export interface Scenario {
  readonly index: number;
  readonly id: string;
  readonly namespace: string;
  /** Label every node of this scenario carries and every DaemonSet of it selects on (isolation). */
  readonly scopeLabel: Readonly<Record<string, string>>;
  readonly nodes: readonly NodeDef[];
  readonly daemonSets: readonly DaemonSetDef[];
  readonly steps: readonly Step[];
}

export const SCOPE_LABEL_KEY = 'differential.daemonless/scenario';
export const ZONES = ['a', 'b', 'c'] as const;
export const TIERS = ['x', 'y'] as const;
export const TAINT_KEYS = ['dedicated', 'maintenance', 'spot'] as const;
export const TAINT_VALUES = ['v1', 'v2'] as const;
export const EFFECTS: readonly TaintEffect[] = ['NoSchedule', 'NoExecute', 'PreferNoSchedule'];
const IMAGES = ['busybox:1.36', 'busybox:1.37', 'nginx:1.27', 'nginx:1.28', 'agent:v3', 'agent:v4'];

type Gen = fc.GeneratorValue;

const pick = <T>(g: Gen, items: readonly T[]): T => items[g(fc.integer, { min: 0, max: items.length - 1 })]!;
const chance = (g: Gen, percent: number): boolean => g(fc.integer, { min: 0, max: 99 }) < percent;
const int = (g: Gen, min: number, max: number): number => g(fc.integer, { min, max });

function randomTaint(g: Gen): TaintDef {
  return { key: pick(g, TAINT_KEYS), value: pick(g, TAINT_VALUES), effect: pick(g, EFFECTS) };
}

function randomNode(g: Gen, name: string, scope: Record<string, string>): NodeDef {
  const labels: Record<string, string> = { ...scope, zone: pick(g, ZONES) };
  if (chance(g, 60)) labels.tier = pick(g, TIERS);
  if (chance(g, 30)) labels.gpu = 'true';
  const taints: TaintDef[] = [];
  if (chance(g, 35)) taints.push(randomTaint(g));
  if (chance(g, 5)) {
    const second = randomTaint(g);
    if (!taints.some((t) => t.key === second.key && t.effect === second.effect)) taints.push(second);
  }
  return { name, labels, taints };
}

function randomExpression(g: Gen): MatchExpression {
  switch (int(g, 0, 4)) {
    case 0: {
      const zones = ZONES.filter(() => chance(g, 60));
      return { key: 'zone', operator: 'In', values: zones.length ? zones : [pick(g, ZONES)] };
    }
    case 1:
      return { key: 'zone', operator: 'NotIn', values: [pick(g, ZONES)] };
    case 2:
      return { key: 'tier', operator: 'NotIn', values: [pick(g, TIERS)] };
    case 3:
      return { key: 'gpu', operator: 'Exists' };
    default:
      return { key: 'tier', operator: chance(g, 50) ? 'Exists' : 'DoesNotExist' };
  }
}

function randomToleration(g: Gen): TolerationDef {
  if (chance(g, 5)) return { key: '', operator: 'Exists' };
  const key = pick(g, TAINT_KEYS);
  const effect = chance(g, 30) ? undefined : pick(g, EFFECTS);
  return chance(g, 50)
    ? { key, operator: 'Exists', ...(effect ? { effect } : {}) }
    : { key, operator: 'Equal', value: pick(g, TAINT_VALUES), ...(effect ? { effect } : {}) };
}

function randomStrategy(g: Gen): StrategyDef {
  switch (int(g, 0, 5)) {
    case 0:
      return { type: 'OnDelete' };
    case 1:
      return { type: 'RollingUpdate', maxUnavailable: int(g, 1, 3), maxSurge: 0 };
    case 2:
      return { type: 'RollingUpdate', maxUnavailable: pick(g, ['25%', '50%', '100%']), maxSurge: 0 };
    case 3:
      return { type: 'RollingUpdate', maxUnavailable: 0, maxSurge: int(g, 1, 2) };
    case 4:
      return { type: 'RollingUpdate', maxUnavailable: 0, maxSurge: pick(g, ['30%', '50%']) };
    default:
      return { type: 'RollingUpdate', maxUnavailable: 1, maxSurge: 0 };
  }
}

function randomDaemonSet(g: Gen, name: string, scope: Record<string, string>): DaemonSetDef {
  const nodeSelector: Record<string, string> = { ...scope };
  if (chance(g, 20)) nodeSelector.zone = pick(g, ZONES);
  let affinityTerms: MatchExpression[][] | undefined;
  if (chance(g, 45)) {
    const terms = chance(g, 25) ? 2 : 1;
    affinityTerms = Array.from({ length: terms }, () => Array.from({ length: int(g, 1, 2) }, () => randomExpression(g)));
  }
  const tolerations = Array.from({ length: int(g, 0, 3) }, () => randomToleration(g));
  return { name, nodeSelector, affinityTerms, tolerations, strategy: randomStrategy(g), image: pick(g, IMAGES) };
}

interface Model {
  nodes: Map<string, { labels: Record<string, string>; taints: TaintDef[]; unschedulable?: boolean }>;
  daemonSets: Map<string, { images: string[] }>;
  nextNode: number;
}

function randomStep(g: Gen, m: Model, id: string, scope: Record<string, string>): Step | undefined {
  const nodes = [...m.nodes.keys()];
  const dss = [...m.daemonSets.keys()];
  const kind = pick(g, ['setImage', 'setImage', 'setStrategy', 'label', 'label', 'taint', 'taint', 'cordon', 'addNode', 'removeNode', 'failPod', 'failPod', 'deleteDs'] as const);
  switch (kind) {
    case 'setImage': {
      if (!dss.length) return undefined;
      const ds = pick(g, dss);
      const history = m.daemonSets.get(ds)!.images;
      const current = history[history.length - 1]!;
      const earlier = history.filter((i) => i !== current);
      const rollback = earlier.length > 0 && chance(g, 30);
      const image = rollback ? pick(g, earlier) : pick(g, IMAGES.filter((i) => i !== current));
      history.push(image);
      return { kind, ds, image, rollback };
    }
    case 'setStrategy': {
      if (!dss.length) return undefined;
      return { kind, ds: pick(g, dss), strategy: randomStrategy(g) };
    }
    case 'label': {
      if (!nodes.length) return undefined;
      const node = pick(g, nodes);
      const labels = m.nodes.get(node)!.labels;
      const key = pick(g, ['zone', 'tier', 'gpu', 'tier', 'zone'] as const);
      const present = key in labels;
      let value: string | null;
      if (key === 'gpu') value = present ? null : 'true';
      else if (present && chance(g, 40)) value = null;
      else value = pick(g, key === 'zone' ? ZONES : TIERS);
      if (value === null) delete labels[key];
      else labels[key] = value;
      return { kind, node, key, value };
    }
    case 'taint': {
      if (!nodes.length) return undefined;
      const node = pick(g, nodes);
      const taints = m.nodes.get(node)!.taints;
      if (taints.length && chance(g, 50)) {
        const taint = pick(g, taints);
        taints.splice(taints.indexOf(taint), 1);
        return { kind, node, taint, op: 'remove' };
      }
      const taint = randomTaint(g);
      if (taints.some((t) => t.key === taint.key && t.effect === taint.effect)) return undefined;
      taints.push(taint);
      return { kind, node, taint, op: 'add' };
    }
    case 'cordon': {
      if (!nodes.length) return undefined;
      const node = pick(g, nodes);
      const state = m.nodes.get(node)!;
      state.unschedulable = !state.unschedulable;
      return { kind, node, unschedulable: state.unschedulable };
    }
    case 'addNode': {
      const node = randomNode(g, `${id}-n${m.nextNode++}`, scope);
      m.nodes.set(node.name, { labels: { ...node.labels }, taints: [...node.taints] });
      return { kind, node };
    }
    case 'removeNode': {
      if (nodes.length <= 2) return undefined;
      const node = pick(g, nodes);
      m.nodes.delete(node);
      return { kind, node };
    }
    case 'failPod': {
      if (!dss.length) return undefined;
      return { kind, ds: pick(g, dss), pick: int(g, 0, 99) };
    }
    case 'deleteDs': {
      if (!dss.length) return undefined;
      const ds = pick(g, dss);
      m.daemonSets.delete(ds);
      return { kind, ds };
    }
  }
}

function buildScenario(g: Gen, index: number): Scenario {
  const id = `s${index}`;
  const scope = { [SCOPE_LABEL_KEY]: id };
  const nodeCount = int(g, 3, 6);
  const nodes = Array.from({ length: nodeCount }, (_, i) => randomNode(g, `${id}-n${i}`, scope));
  const daemonSets = Array.from({ length: chance(g, 35) ? 2 : 1 }, (_, i) => randomDaemonSet(g, `ds${i}`, scope));
  const model: Model = {
    nodes: new Map(nodes.map((n) => [n.name, { labels: { ...n.labels }, taints: [...n.taints] }])),
    daemonSets: new Map(daemonSets.map((d) => [d.name, { images: [d.image] }])),
    nextNode: nodeCount,
  };
  const steps: Step[] = [];
  const wanted = int(g, 3, 5);
  for (let attempts = 0; steps.length < wanted && attempts < 50; attempts++) {
    const step = randomStep(g, model, id, scope);
    if (!step) continue;
    // A deleted DaemonSet ends the interesting part of a scenario: keep it last.
    steps.push(step);
    if (step.kind === 'deleteDs' && model.daemonSets.size === 0) break;
  }
  return { index, id, namespace: `diff-${id}`, scopeLabel: scope, nodes, daemonSets, steps };
}

/** The same `count` scenarios for the same seed. */
export function generateScenarios(seed: number, count: number): Scenario[] {
  let index = 0;
  return fc.sample(fc.gen().map((g) => buildScenario(g, index++)), { seed, numRuns: count });
}

/** One line per scenario, for test names and reports. */
export function describeScenario(s: Scenario): string {
  const ds = s.daemonSets.map((d) => {
    const st = d.strategy.type === 'OnDelete' ? 'OnDelete' : d.strategy.maxSurge !== 0 ? `surge ${d.strategy.maxSurge}` : `maxUnavailable ${d.strategy.maxUnavailable}`;
    return `${d.name}[${st}${d.affinityTerms ? ', affinity' : ''}${d.tolerations.length ? `, ${d.tolerations.length} tol` : ''}]`;
  });
  return `${s.nodes.length} nodes, ${ds.join(' ')}, steps: ${s.steps.map((st) => st.kind).join(' → ')}`;
}
