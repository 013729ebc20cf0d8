/**
 * Runs one differential scenario on plane A (daemonless) and plane B (upstream): the same operations
 * on both, then, at every checkpoint (after the initial rollout and after each step), both planes are
 * left to settle, a DaemonSet resync is triggered on both, they settle again, and their normalized
 * states are compared. Intermediate states differ legitimately (batching, timing); only settled
 * states count.
 */
import type { DaemonSetDef, Scenario } from './differential-scenario.js';
import {
  applyDaemonSet, applyStep, cleanupScenario, livePodsOn, compareStates, createScenarioCluster, formatDisagreement, formatState, isClean, observe, resync,
  type Disagreement, type PlaneState, type ResolvedStep, type Side,
} from './differential-plane.js';

export interface Checkpoint {
  readonly label: string;
  readonly disagreements: readonly Disagreement[];
  /** Field-level comparisons made (for the agreement rate). */
  readonly settleMs: number;
  /** A plane that never went quiet within the settle timeout. */
  readonly unsettled: readonly string[];
  /** Planes whose state the resync changed (upstream's minimal triggers left it stale, or timing). */
  readonly changedByResync: readonly string[];
  readonly states: readonly [PlaneState, PlaneState];
}

export interface ScenarioResult {
  readonly scenario: Scenario;
  readonly checkpoints: readonly Checkpoint[];
  readonly notes: readonly string[];
  readonly ms: number;
}

export interface SettleOptions {
  /** Quiet period that suffices when the state is clean (default 1.5 s). */
  readonly cleanQuietMs?: number;
  /** Quiet period otherwise (OnDelete leftovers, misscheduled pods, pods in back-off; default 6 s). */
  readonly quietMs?: number;
  readonly timeoutMs?: number;
  readonly pollMs?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Polls both planes until each state has stayed unchanged for the quiet period (the short one when
 * every plane is clean). Returns the last states and the planes that did not settle in time.
 */
export async function settle(sides: readonly [Side, Side], sc: Scenario, dsNames: readonly string[], o: SettleOptions = {}): Promise<{ states: [PlaneState, PlaneState]; unsettled: string[]; ms: number }> {
  const t0 = Date.now();
  const cleanQuiet = o.cleanQuietMs ?? 1500;
  const quiet = o.quietMs ?? 6000;
  const timeout = o.timeoutMs ?? 90_000;
  const last: (string | undefined)[] = [undefined, undefined];
  const since = [t0, t0];
  for (;;) {
    const states = await Promise.all(sides.map((s) => observe(s, sc, dsNames))) as [PlaneState, PlaneState];
    const now = Date.now();
    states.forEach((st, i) => {
      const key = JSON.stringify(st);
      if (key !== last[i]) {
        last[i] = key;
        since[i] = now;
      }
    });
    const needed = states.every(isClean) ? cleanQuiet : quiet;
    const quietFor = Math.min(now - since[0]!, now - since[1]!);
    if (quietFor >= needed) return { states, unsettled: [], ms: now - t0 };
    if (now - t0 > timeout) {
      return { states, unsettled: sides.filter((_, i) => now - since[i]! < needed).map((s) => s.label), ms: now - t0 };
    }
    await sleep(o.pollMs ?? 300);
  }
}

/** Runs a scenario to the end; never throws for a disagreement (the caller asserts). */
export async function runScenario(sides: readonly [Side, Side], sc: Scenario, hooks: {
  /** The DaemonSet keys plane A's controller loop should reconcile. */
  setKeys(keys: readonly string[]): void;
  log(line: string): void;
  /** Log both states at every checkpoint, not only at disagreements. */
  verbose?: boolean;
  settle?: SettleOptions;
}): Promise<ScenarioResult> {
  const t0 = Date.now();
  const notes: string[] = [];
  const checkpoints: Checkpoint[] = [];
  const defs = new Map<string, DaemonSetDef>(sc.daemonSets.map((d) => [d.name, d]));
  const dsNames = sc.daemonSets.map((d) => d.name);
  const allNodes = new Set(sc.nodes.map((n) => n.name));
  const live = new Set(dsNames);
  let round = 0;

  const checkpoint = async (label: string) => {
    const first = await settle(sides, sc, dsNames, hooks.settle);
    round++;
    await Promise.all(sides.map((s) => resync(s, sc, [...live], round)));
    const second = await settle(sides, sc, dsNames, hooks.settle);
    let { states } = second;
    let disagreements = compareStates(states[0], states[1]);
    // A disagreement right after settling may still be a slow plane: give it a bounded grace period.
    const graceEnd = Date.now() + 15_000;
    while (disagreements.length && Date.now() < graceEnd) {
      await sleep(1000);
      states = await Promise.all(sides.map((s) => observe(s, sc, dsNames))) as [PlaneState, PlaneState];
      disagreements = compareStates(states[0], states[1]);
    }
    const changedByResync = sides.filter((_, i) => JSON.stringify(first.states[i]) !== JSON.stringify(second.states[i])).map((s) => s.label);
    const unsettled = [...new Set([...first.unsettled, ...second.unsettled])];
    const cp: Checkpoint = { label, disagreements, settleMs: first.ms + second.ms, unsettled, changedByResync, states };
    checkpoints.push(cp);
    hooks.log(`[${sc.id}] ${label}: ${disagreements.length ? `${disagreements.length} DISAGREEMENT(S)` : 'agree'} after ${(cp.settleMs / 1000).toFixed(1)} s` +
      `${unsettled.length ? `; unsettled: ${unsettled.join(',')}` : ''}${changedByResync.length ? `; resync changed ${changedByResync.join(',')}` : ''}`);
    if (hooks.verbose && !disagreements.length) hooks.log(`  A: ${formatState(states[0])}\n  B: ${formatState(states[1])}`);
    if (disagreements.length) {
      for (const d of disagreements) hooks.log(`    ${formatDisagreement(d)}`);
      hooks.log(`  A: ${formatState(states[0])}\n  B: ${formatState(states[1])}`);
    }
  };

  try {
    hooks.setKeys(dsNames.map((n) => `${sc.namespace}/${n}`));
    await Promise.all(sides.map((s) => createScenarioCluster(s, sc)));
    for (const d of sc.daemonSets) await Promise.all(sides.map((s) => applyDaemonSet(s, sc.namespace, d)));
    await checkpoint('initial rollout');
    for (const [i, step] of sc.steps.entries()) {
      if (step.kind === 'setImage') defs.set(step.ds, { ...defs.get(step.ds)!, image: step.image });
      if (step.kind === 'setStrategy') defs.set(step.ds, { ...defs.get(step.ds)!, strategy: step.strategy });
      if (step.kind === 'addNode') allNodes.add(step.node.name);
      if (step.kind === 'deleteDs') live.delete(step.ds);
      let resolved: ResolvedStep = step;
      if (step.kind === 'failPod') {
        const [onA, onB] = await Promise.all(sides.map((s) => livePodsOn(s, sc.namespace, step.ds)));
        const both = [...onA!.keys()].filter((n) => onB!.has(n)).sort();
        resolved = { ...step, node: both.length ? both[step.pick % both.length] : undefined };
      }
      const results = await Promise.all(sides.map((s) => applyStep(s, sc, resolved, defs)));
      results.forEach((r, j) => r && notes.push(`step ${i + 1} on plane ${sides[j]!.label}: ${r}`));
      await checkpoint(`step ${i + 1} ${describeStep(resolved)}`);
    }
  } finally {
    await Promise.all(sides.map((s) => cleanupScenario(s, sc, [...allNodes])));
  }
  return { scenario: sc, checkpoints, notes, ms: Date.now() - t0 };
}

export function describeStep(step: ResolvedStep): string {
  switch (step.kind) {
    case 'setImage': return `${step.ds} image → ${step.image}${step.rollback ? ' (back to an earlier template)' : ''}`;
    case 'setStrategy': return `${step.ds} strategy → ${step.strategy.type === 'OnDelete' ? 'OnDelete' : `RollingUpdate(maxUnavailable ${step.strategy.maxUnavailable}, maxSurge ${step.strategy.maxSurge})`}`;
    case 'label': return `node ${step.node} ${step.value === null ? `label ${step.key} removed` : `${step.key}=${step.value}`}`;
    case 'taint': return `node ${step.node} taint ${step.taint.key}=${step.taint.value}:${step.taint.effect} ${step.op === 'add' ? 'added' : 'removed'}`;
    case 'addNode': return `node ${step.node.name} added (${JSON.stringify(step.node.labels)}, taints ${JSON.stringify(step.node.taints)})`;
    case 'removeNode': return `node ${step.node} removed`;
    case 'cordon': return `node ${step.node} ${step.unschedulable ? 'cordoned' : 'uncordoned'}`;
    case 'failPod': return `${step.ds} pod on ${step.node ?? '(no node)'} fails`;
    case 'deleteDs': return `${step.ds} deleted`;
  }
}
