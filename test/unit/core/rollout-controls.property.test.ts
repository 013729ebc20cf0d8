/**
 * Property tests of the rollout controls (CTL-2..CTL-6): over random clusters, controls, budgets
 * and readiness, no pass replaces a held pod or spends more than the budget of the nodes being
 * updated.
 */
import type { V1Pod } from '@kubernetes/client-node';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CONTROLLER_REVISION_HASH_LABEL,
  plan,
  ROLLOUT_NODE_SELECTOR_ANNOTATION,
  ROLLOUT_PARTITION_ANNOTATION,
  ROLLOUT_PAUSED_ANNOTATION,
} from '../../../lib/core/index.js';
import { isPodAvailable } from '../../../lib/core/pod-state.js';
import { at, T0 } from '../../builders/clock.js';
import { daemonSet, type DaemonSetBuilder } from '../../builders/daemon-set.js';
import { node } from '../../builders/node.js';
import { applyPlan, converge, markReady, podNode, snapshotOf, updateDaemonSet, world, type World } from '../../builders/world.js';

const strategies: [string, (b: DaemonSetBuilder) => DaemonSetBuilder, { mu: number | string; ms: number | string }][] = [
  ['RU(1)', (b) => b.rollingUpdate(1), { mu: 1, ms: 0 }],
  ['RU(2)', (b) => b.rollingUpdate(2), { mu: 2, ms: 0 }],
  ['RU(50%)', (b) => b.rollingUpdate('50%'), { mu: '50%', ms: 0 }],
  ['SG(1)', (b) => b.surge(1), { mu: 0, ms: 1 }],
  ['SG(2)', (b) => b.surge(2), { mu: 0, ms: 2 }],
];

const resolve = (v: number | string, of: number): number => (typeof v === 'number' ? v : Math.ceil((Number(v.slice(0, -1)) * of) / 100));

const arbCase = fc.record({
  canary: fc.array(fc.boolean(), { minLength: 1, maxLength: 7 }),
  strategy: fc.nat(strategies.length - 1),
  partition: fc.integer({ min: 0, max: 8 }),
  selector: fc.boolean(),
  paused: fc.boolean(),
  // Per pass: which nodes' new pods become Ready, and whether a pod (the first on that node) fails.
  passes: fc.array(fc.record({ ready: fc.array(fc.boolean(), { minLength: 7, maxLength: 7 }), fail: fc.option(fc.nat(6), { nil: undefined }) }), { minLength: 1, maxLength: 10 }),
});

type Case = typeof arbCase extends fc.Arbitrary<infer T> ? T : never;

/**
 * A pod that fails the way the kubelet reports it: phase Failed and, its containers stopped, Ready
 * False from that moment (a terminal pod is never Ready again). Availability is the Ready condition
 * alone (podutil.IsPodAvailable does not look at the phase), so a Failed pod left Ready would be
 * an available pod to the rolling update — a state no kubelet produces.
 */
function failLikeKubelet(p: V1Pod, now: Date): V1Pod {
  const ready = p.status?.conditions?.find((x) => x.type === 'Ready');
  const conditions = ready?.status === 'False' ? p.status!.conditions! : [{ type: 'Ready', status: 'False', lastTransitionTime: now }];
  return { ...p, status: { ...p.status, phase: 'Failed', conditions } };
}

const isTerminal = (p: V1Pod): boolean => p.status?.phase === 'Failed' || p.status?.phase === 'Succeeded';

/** Runs one case: every pass is checked against holds and budgets computed without the planner. */
function checkCase(c: Case): void {
  const [, strategy, budget] = strategies[c.strategy]!;
  const nodeList = c.canary.map((canary, i) => (canary ? node(`n${i}`).labels({ canary: 'true' }) : node(`n${i}`)).build());
  const base = strategy(daemonSet());
  let w: World = markReady(converge(world(base.build(), nodeList), T0).world, T0);
  const annotations: Record<string, string> = { [ROLLOUT_PARTITION_ANNOTATION]: String(c.partition) };
  if (c.selector) annotations[ROLLOUT_NODE_SELECTOR_ANNOTATION] = 'canary=true';
  if (c.paused) annotations[ROLLOUT_PAUSED_ANNOTATION] = 'true';
  w = updateDaemonSet(w, base.annotations(annotations).update((b) => b.image('foo2/bar2')).build());

  // The expected holds, computed independently of the planner.
  const names = nodeList.map((n) => n.metadata!.name!).sort();
  const admitted = names.filter((n) => !c.selector || c.canary[Number(n.slice(1))] === true);
  const partitionHeld = new Set(admitted.slice(Math.max(admitted.length - c.partition, 0)));
  const updating = c.paused ? [] : admitted.filter((n) => !partitionHeld.has(n));
  const held = new Set(names.filter((n) => !updating.includes(n)));
  const maxUnavailable0 = resolve(budget.mu, updating.length);
  const maxSurge = resolve(budget.ms, updating.length);
  const maxUnavailable = updating.length > 0 && maxUnavailable0 === 0 && maxSurge === 0 ? 1 : maxUnavailable0;
  const oldHash = w.pods[0]!.metadata!.labels![CONTROLLER_REVISION_HASH_LABEL]!;
  const oldUids = new Map(w.pods.map((p) => [podNode(p), p.metadata!.uid!]));

  const live = (pods: readonly V1Pod[], n: string) => pods.filter((p) => podNode(p) === n && p.status?.phase !== 'Failed');
  const unavailable = (pods: readonly V1Pod[], t: Date) =>
    updating.filter((n) => !live(pods, n).some((p) => isPodAvailable(p, 0, t))).length;
  const surging = (pods: readonly V1Pod[]) => updating.filter((n) => live(pods, n).length > 1).length;

  let t = 1;
  const failed = new Set<string>();
  for (const step of c.passes) {
    const now = at(t);
    if (step.fail !== undefined) {
      const victim = w.pods.find((p) => podNode(p) === names[step.fail! % names.length]);
      if (victim) w = { ...w, pods: w.pods.map((p) => (p === victim ? failLikeKubelet(p, now) : p)) };
    }
    const p = plan(snapshotOf(w), now);
    const current = p.revisions.currentHash;
    for (const d of p.deletePods) {
      if (held.has(d.node)) expect(['failed', 'succeeded', 'not-eligible', 'duplicate', 'node-gone'], `delete of held ${d.node}`).toContain(d.reason);
    }
    for (const cr of p.createPods) {
      const hadOld = w.pods.some((x) => podNode(x) === cr.node && x.metadata?.labels?.[CONTROLLER_REVISION_HASH_LABEL] === oldHash);
      if (held.has(cr.node) && hadOld) expect(cr.pod.metadata?.labels?.[CONTROLLER_REVISION_HASH_LABEL], `create on held ${cr.node}`).toBe(oldHash);
    }
    const unavailableBefore = unavailable(w.pods, now);
    const surgeBefore = surging(w.pods);
    w = applyPlan(w, p, now);
    expect(unavailable(w.pods, now)).toBeLessThanOrEqual(Math.max(maxUnavailable, unavailableBefore));
    expect(surging(w.pods)).toBeLessThanOrEqual(Math.max(maxSurge, surgeBefore));
    t++;
    w = markReady(w, at(t), (x) => x.metadata?.labels?.[CONTROLLER_REVISION_HASH_LABEL] === current && step.ready[Number(podNode(x).slice(1))] === true && !x.status?.conditions?.length && !isTerminal(x));
    // Held nodes run only the old revision, and their old pods keep their UIDs unless they failed.
    if (step.fail !== undefined) failed.add(names[step.fail % names.length]!);
    for (const n of held) {
      const pods = live(w.pods, n);
      expect(pods.every((x) => x.metadata?.labels?.[CONTROLLER_REVISION_HASH_LABEL] === oldHash), `held ${n} runs only the old revision`).toBe(true);
      if (!failed.has(n)) expect(pods.map((x) => x.metadata?.uid)).toEqual([oldUids.get(n)]);
    }
  }
}

describe('rollout controls: property tests', () => {
  it('no pass replaces a held pod or exceeds the budget of the updated nodes', () => {
    fc.assert(fc.property(arbCase, checkCase), { numRuns: 300 });
  });

  // Found by seed 12446905: two nodes, RU(1), n1's pods failing again and again. Its updated pod
  // became Ready, then failed while the back-off kept it; with a Failed pod left Ready the model
  // counted n1 unavailable while the rolling update (as upstream) counted it available and rolled n0.
  it('example: an updated pod that fails after becoming Ready, kept by the back-off, does not free budget', () => {
    const none = [false, false, false, false, false, false, false];
    checkCase({
      canary: [false, false], strategy: 0, partition: 0, selector: false, paused: false,
      passes: [
        { ready: none, fail: 1 }, { ready: none, fail: undefined }, { ready: none, fail: 1 }, { ready: none, fail: undefined },
        { ready: none, fail: 1 }, { ready: [false, true, false, false, false, false, false], fail: undefined }, { ready: none, fail: 1 },
      ],
    });
  });
});
