/**
 * Rollout controls (CTL-*, rollout-controls.md): the reader, each planner rule and their
 * interactions, on native DaemonSets (annotations) and `dlds` (fields).
 */
import type { V1DaemonSet, V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import {
  CONTROLLER_REVISION_HASH_LABEL,
  EVENT_INVALID_ROLLOUT_CONTROL,
  parseSelectorString,
  plan,
  readRolloutControls,
  ROLLOUT_NODE_SELECTOR_ANNOTATION,
  ROLLOUT_PARTITION_ANNOTATION,
  ROLLOUT_PAUSED_ANNOTATION,
  type Plan,
} from '../../../lib/core/index.js';
import { compileSelector } from '../../../lib/core/label-selector.js';
import { at, T0 } from '../../builders/clock.js';
import { daemonSet, type DaemonSetBuilder } from '../../builders/daemon-set.js';
import { node, nodes } from '../../builders/node.js';
import { converge, markReady, podNode, setPhase, snapshotOf, sync, updateDaemonSet, world, type World } from '../../builders/world.js';

const hashOf = (p: V1Pod) => p.metadata?.labels?.[CONTROLLER_REVISION_HASH_LABEL] ?? '';

/** `dlds` form of a built DaemonSet with the given rollingUpdate fields and spec fields. */
function dlds(ds: V1DaemonSet, rollingUpdate: Record<string, unknown> = {}, spec: Record<string, unknown> = {}): V1DaemonSet {
  const copy = structuredClone(ds);
  copy.apiVersion = 'daemonless.io/v1';
  const s = copy.spec as unknown as Record<string, unknown>;
  Object.assign(s, spec);
  const strategy = (s['updateStrategy'] ?? { type: 'RollingUpdate' }) as Record<string, unknown>;
  strategy['rollingUpdate'] = { ...((strategy['rollingUpdate'] as object | undefined) ?? {}), ...rollingUpdate };
  s['updateStrategy'] = strategy;
  return copy;
}

/** N nodes rolled out at revision 1 with Ready pods, then the template changed (image foo2). */
function rolledOut(n: number, strategy: (b: DaemonSetBuilder) => DaemonSetBuilder = (b) => b, nodeList = nodes(n)): { w: World; next: DaemonSetBuilder } {
  const ds = strategy(daemonSet());
  const r = converge(world(ds.build(), nodeList), T0);
  const w = markReady(r.world, T0);
  return { w, next: ds.update((b) => b.image('foo2/bar2')) };
}

/** Applies a new DaemonSet object (keeping status) to the world. */
function withDs(w: World, ds: V1DaemonSet): World {
  return updateDaemonSet(w, ds);
}

/** Runs passes, marking every pod Ready after each, until nothing is planned; returns the plans. */
function rollToEnd(w: World, start = 1, max = 30): { world: World; plans: Plan[] } {
  let current = w;
  const plans: Plan[] = [];
  for (let i = 0; i < max; i++) {
    const r = sync(current, at(start + i));
    plans.push(r.plan);
    current = markReady(r.world, at(start + i), (p) => !p.status?.conditions?.length);
    if (r.plan.createPods.length === 0 && r.plan.deletePods.length === 0) break;
  }
  return { world: current, plans };
}

const uidsByNode = (w: World) => new Map(w.pods.map((p) => [podNode(p), p.metadata?.uid ?? '']));

describe('CTL-1 reader', () => {
  it('reads nothing set as the defaults, for both forms', () => {
    expect(readRolloutControls(daemonSet().build())).toEqual({
      ok: true, controls: { source: 'annotations', paused: false, partition: 0, selector: null, progressDeadlineSeconds: null, autoPause: false },
    });
    expect(readRolloutControls(dlds(daemonSet().build()))).toMatchObject({ ok: true, controls: { source: 'fields', paused: false, partition: 0 } });
  });

  it('reads native annotations', () => {
    const ds = daemonSet().annotations({
      'daemonless.io/rollout-paused': 'true', 'daemonless.io/rollout-partition': '3', 'daemonless.io/rollout-node-selector': 'canary=true,zone in (a,b)',
      'daemonless.io/progress-deadline-seconds': '600', 'daemonless.io/rollout-auto-pause': 'true',
    }).build();
    expect(readRolloutControls(ds)).toEqual({
      ok: true,
      controls: {
        source: 'annotations', paused: true, partition: 3, progressDeadlineSeconds: 600, autoPause: true,
        selector: { matchExpressions: [{ key: 'canary', operator: 'In', values: ['true'] }, { key: 'zone', operator: 'In', values: ['a', 'b'] }] },
      },
    });
  });

  it('reads dlds fields (Kruise names) and ignores annotations there', () => {
    const ds = dlds(daemonSet().annotations({ 'daemonless.io/rollout-paused': 'true' }).build(),
      { paused: false, partition: 2, selector: { matchLabels: { canary: 'true' } }, autoPause: true }, { progressDeadlineSeconds: 60 });
    expect(readRolloutControls(ds)).toEqual({
      ok: true,
      controls: { source: 'fields', paused: false, partition: 2, selector: { matchLabels: { canary: 'true' } }, progressDeadlineSeconds: 60, autoPause: true },
    });
  });

  it.each([
    ['daemonless.io/rollout-paused', 'yes'],
    ['daemonless.io/rollout-partition', '-1'],
    ['daemonless.io/rollout-partition', 'two'],
    ['daemonless.io/rollout-partition', '99999999999'],
    ['daemonless.io/rollout-node-selector', 'zone in (a'],
    ['daemonless.io/rollout-node-selector', 'cpu>4'],
    ['daemonless.io/rollout-node-selector', '-bad-=x'],
    ['daemonless.io/progress-deadline-seconds', '0'],
    ['daemonless.io/rollout-auto-pause', 'TRUE'],
  ])('refuses the annotation %s: %j, naming it', (key, value) => {
    const r = readRolloutControls(daemonSet().annotations({ [key]: value }).build());
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.problems.map((p) => p.field)).toEqual([`metadata.annotations[${key}]`]);
  });

  it.each([
    [{ paused: 'true' }, {}, 'spec.updateStrategy.rollingUpdate.paused'],
    [{ partition: -1 }, {}, 'spec.updateStrategy.rollingUpdate.partition'],
    [{ partition: 1.5 }, {}, 'spec.updateStrategy.rollingUpdate.partition'],
    [{ selector: { matchExpressions: [{ key: 'a', operator: 'Near' }] } }, {}, 'spec.updateStrategy.rollingUpdate.selector'],
    [{ selector: 'canary=true' }, {}, 'spec.updateStrategy.rollingUpdate.selector'],
    [{}, { progressDeadlineSeconds: 0 }, 'spec.progressDeadlineSeconds'],
  ])('refuses the dlds field %j %j', (ru, spec, field) => {
    const r = readRolloutControls(dlds(daemonSet().build(), ru, spec));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.problems.map((p) => p.field)).toEqual([field]);
  });
});

describe('kubectl -l selector strings', () => {
  it.each([
    ['', {}],
    ['a', { matchExpressions: [{ key: 'a', operator: 'Exists' }] }],
    ['!a', { matchExpressions: [{ key: 'a', operator: 'DoesNotExist' }] }],
    ['a=b', { matchExpressions: [{ key: 'a', operator: 'In', values: ['b'] }] }],
    ['a==b', { matchExpressions: [{ key: 'a', operator: 'In', values: ['b'] }] }],
    ['a != b', { matchExpressions: [{ key: 'a', operator: 'NotIn', values: ['b'] }] }],
    ['a=', { matchExpressions: [{ key: 'a', operator: 'In', values: [''] }] }],
    ['example.com/zone notin (x, y),tier in (web)', {
      matchExpressions: [{ key: 'example.com/zone', operator: 'NotIn', values: ['x', 'y'] }, { key: 'tier', operator: 'In', values: ['web'] }],
    }],
  ])('parses %j', (text, selector) => {
    expect(parseSelectorString(text)).toEqual({ ok: true, selector });
  });

  it.each(['a in ()', 'a in (b', 'a b', 'a=b=c', ',', 'a,', 'a<3', 'Bad_Prefix/x=y', 'a=-x-', '!'])('refuses %j', (text) => {
    const r = parseSelectorString(text);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toContain(`unable to parse selector "${text}"`);
  });

  it('matches as the API server does', () => {
    const parsed = parseSelectorString('canary,zone notin (c),!drained');
    if (!parsed.ok) throw new Error(parsed.error);
    const m = compileSelector(parsed.selector);
    if (!m.ok) throw new Error(m.error);
    expect(m.matches({ canary: '', zone: 'a' })).toBe(true);
    expect(m.matches({ canary: 'x' })).toBe(true);
    expect(m.matches({ canary: 'x', zone: 'c' })).toBe(false);
    expect(m.matches({ canary: 'x', drained: 'true' })).toBe(false);
    expect(m.matches({ zone: 'a' })).toBe(false);
  });
});

describe('nothing set: the plan is upstream\'s', () => {
  it('has no rollout report and leaves conditions alone on a native DaemonSet', () => {
    const { w, next } = rolledOut(3);
    const p = plan(snapshotOf(withDs(w, next.build())), at(1));
    expect(p.rollout).toBeUndefined();
    expect(p.status.conditions).toBeUndefined();
    expect(p.deletePods).toHaveLength(1);
  });

  it('explicit defaults (paused "false", partition "0") plan the same pods as none', () => {
    const { w, next } = rolledOut(4, (b) => b.rollingUpdate(2));
    const plain = rollToEnd(withDs(w, next.build()));
    const defaults = rollToEnd(withDs(w, next.annotations({ [ROLLOUT_PAUSED_ANNOTATION]: 'false', [ROLLOUT_PARTITION_ANNOTATION]: '0' }).build()));
    const shape = (ps: Plan[]) => ps.map((p) => [p.createPods.map((c) => c.node), p.deletePods.map((d) => `${d.node}:${d.reason}`)]);
    expect(shape(defaults.plans)).toEqual(shape(plain.plans));
  });
});

describe('CTL-2 paused', () => {
  const pausedWorld = (surge = false) => {
    const { w, next } = rolledOut(3, surge ? (b) => b.surge(1) : (b) => b);
    return withDs(w, next.annotations({ [ROLLOUT_PAUSED_ANNOTATION]: 'true' }).build());
  };

  it('deletes and replaces no old pod, creates no surge pod', () => {
    for (const surge of [false, true]) {
      const r = rollToEnd(pausedWorld(surge));
      expect(r.plans).toHaveLength(1);
      expect(r.plans[0]?.createPods).toEqual([]);
      expect(r.plans[0]?.deletePods).toEqual([]);
      expect(r.plans[0]?.rollout).toMatchObject({ paused: true, updating: [], held: [{ node: 'node-0', reason: 'paused' }, { node: 'node-1' }, { node: 'node-2' }] });
    }
  });

  it('pause + new node: the new node gets the updated pod at once', () => {
    const w = pausedWorld();
    const joined = { ...w, nodes: [...w.nodes, node('node-3').build()] };
    const p = plan(snapshotOf(joined), at(1));
    expect(p.deletePods).toEqual([]);
    expect(p.createPods.map((c) => c.node)).toEqual(['node-3']);
    expect(hashOf(p.createPods[0]!.pod)).toBe(p.revisions.currentHash);
  });

  it('a failed old pod is replaced in the same pass with its own revision', () => {
    for (const surge of [false, true]) {
      let w = pausedWorld(surge);
      const victim = w.pods.find((p) => podNode(p) === 'node-1')!;
      w = setPhase(w, 'Failed', (p) => p === victim);
      const p = plan(snapshotOf(w), at(1));
      expect(p.deletePods).toEqual([expect.objectContaining({ name: victim.metadata?.name, reason: 'failed' })]);
      expect(p.createPods.map((c) => c.node)).toEqual(['node-1']);
      const pod = p.createPods[0]!.pod;
      expect(hashOf(pod)).toBe(hashOf(victim));
      expect(pod.metadata?.labels?.['pod-template-generation']).toBe('1');
      expect(pod.spec?.containers[0]?.image).toBe('foo/bar');
      expect(pod.metadata?.name).not.toBe(victim.metadata?.name);
    }
  });

  it('resume rolls the rest within the budget', () => {
    const w = pausedWorld();
    const resumed = withDs(w, { ...w.ds, metadata: { ...w.ds.metadata, annotations: { ...w.ds.metadata?.annotations, [ROLLOUT_PAUSED_ANNOTATION]: 'false' } } });
    const r = rollToEnd(resumed);
    expect(r.plans.every((p) => p.deletePods.length <= 1)).toBe(true);
    expect(new Set(r.world.pods.map(hashOf))).toEqual(new Set([r.plans.at(-1)!.revisions.currentHash]));
  });
});

describe('CTL-4 partition', () => {
  it('holds the last N eligible nodes by name; their pods keep their UIDs', () => {
    const { w, next } = rolledOut(5);
    const before = uidsByNode(w);
    const r = rollToEnd(withDs(w, next.annotations({ [ROLLOUT_PARTITION_ANNOTATION]: '2' }).build()));
    const current = r.plans.at(-1)!.revisions.currentHash;
    const after = uidsByNode(r.world);
    for (const n of ['node-3', 'node-4']) expect(after.get(n)).toBe(before.get(n));
    for (const n of ['node-0', 'node-1', 'node-2']) expect(hashOf(r.world.pods.find((p) => podNode(p) === n)!)).toBe(current);
    expect(r.plans.at(-1)!.rollout).toMatchObject({ updating: ['node-0', 'node-1', 'node-2'], held: [{ node: 'node-3', reason: 'partition' }, { node: 'node-4', reason: 'partition' }] });
    expect(r.plans.at(-1)!.status.updatedNumberScheduled).toBe(3);
  });

  it('N ≥ count holds everything', () => {
    const { w, next } = rolledOut(3);
    const r = rollToEnd(withDs(w, next.annotations({ [ROLLOUT_PARTITION_ANNOTATION]: '7' }).build()));
    expect(r.plans.flatMap((p) => p.deletePods)).toEqual([]);
    expect(r.plans[0]?.rollout?.updating).toEqual([]);
  });

  it('lowering the partition continues the rollout', () => {
    const { w, next } = rolledOut(5);
    const first = rollToEnd(withDs(w, next.annotations({ [ROLLOUT_PARTITION_ANNOTATION]: '3' }).build()));
    const held = uidsByNode(first.world);
    const lower = rollToEnd(withDs(first.world, next.annotations({ [ROLLOUT_PARTITION_ANNOTATION]: '1' }).build()), 100);
    expect(lower.plans.flatMap((p) => p.deletePods).map((d) => d.node).sort()).toEqual(['node-2', 'node-3']);
    expect(uidsByNode(lower.world).get('node-4')).toBe(held.get('node-4'));
    const last = rollToEnd(withDs(lower.world, next.annotations({ [ROLLOUT_PARTITION_ANNOTATION]: '0' }).build()), 200);
    expect(last.plans.flatMap((p) => p.deletePods).map((d) => d.node)).toEqual(['node-4']);
  });

  it('partition + surge: surge pods only on the updated nodes, at most maxSurge at a time', () => {
    const { w, next } = rolledOut(5, (b) => b.surge(1));
    const before = uidsByNode(w);
    const r = rollToEnd(withDs(w, next.annotations({ [ROLLOUT_PARTITION_ANNOTATION]: '3' }).build()));
    const creates = r.plans.flatMap((p) => p.createPods.map((c) => c.node));
    expect(creates).toEqual(['node-0', 'node-1']);
    expect(r.plans.every((p) => p.createPods.length <= 1)).toBe(true);
    for (const n of ['node-2', 'node-3', 'node-4']) expect(uidsByNode(r.world).get(n)).toBe(before.get(n));
    expect(r.world.pods).toHaveLength(5);
  });

  it('a partition counts only eligible nodes', () => {
    const list = [node('a').labels({ pool: 'x' }).build(), node('b').build(), node('c').labels({ pool: 'x' }).build(), node('d').labels({ pool: 'x' }).build()];
    const { w, next } = rolledOut(0, (b) => b.nodeSelector({ pool: 'x' }), list);
    const p = plan(snapshotOf(withDs(w, next.annotations({ [ROLLOUT_PARTITION_ANNOTATION]: '1' }).build())), at(1));
    expect(p.rollout?.updating).toEqual(['a', 'c']);
    expect(p.rollout?.held.map((h) => h.node)).toEqual(['d']);
  });
});

describe('CTL-3 node selector (canary)', () => {
  const labelled = () => [
    node('node-0').build(), node('node-1').labels({ canary: 'true' }).build(), node('node-2').build(),
    node('node-3').labels({ canary: 'true' }).build(), node('node-4').labels({ canary: 'true' }).build(),
  ];

  it('updates only matching nodes', () => {
    const { w, next } = rolledOut(0, (b) => b, labelled());
    const before = uidsByNode(w);
    const r = rollToEnd(withDs(w, next.annotations({ [ROLLOUT_NODE_SELECTOR_ANNOTATION]: 'canary=true' }).build()));
    expect(r.plans.flatMap((p) => p.deletePods).map((d) => d.node).sort()).toEqual(['node-1', 'node-3', 'node-4']);
    for (const n of ['node-0', 'node-2']) expect(uidsByNode(r.world).get(n)).toBe(before.get(n));
    expect(r.plans.at(-1)!.rollout?.held).toEqual([
      expect.objectContaining({ node: 'node-0', reason: 'selector' }), expect.objectContaining({ node: 'node-2', reason: 'selector' }),
    ]);
  });

  it('selector + partition: the partition holds the last N of the admitted nodes', () => {
    const { w, next } = rolledOut(0, (b) => b, labelled());
    const r = rollToEnd(withDs(w, next.annotations({ [ROLLOUT_NODE_SELECTOR_ANNOTATION]: 'canary', [ROLLOUT_PARTITION_ANNOTATION]: '1' }).build()));
    expect(r.plans.flatMap((p) => p.deletePods).map((d) => d.node).sort()).toEqual(['node-1', 'node-3']);
    expect(r.plans.at(-1)!.rollout?.held.map((h) => `${h.node}:${h.reason}`)).toEqual(['node-0:selector', 'node-2:selector', 'node-4:partition']);
  });

  it('CTL-5 budgets resolve against the nodes being updated', () => {
    const list = [...nodes(8), node('node-8').labels({ canary: 'true' }).build(), node('node-9').labels({ canary: 'true' }).build()];
    const { w, next } = rolledOut(0, (b) => b.rollingUpdate('50%'), list);
    const p = plan(snapshotOf(withDs(w, next.annotations({ [ROLLOUT_NODE_SELECTOR_ANNOTATION]: 'canary=true' }).build())), at(1));
    // 50 % of 10 nodes would be 5; of the 2 canary nodes it is 1.
    expect(p.deletePods.map((d) => d.node)).toEqual(['node-8']);
    expect(p.rollout?.budgets).toEqual({ maxUnavailable: 1, maxSurge: 0, nodes: 2 });
  });

  it('works the same from dlds fields', () => {
    const { w, next } = rolledOut(0, (b) => b, labelled());
    const r = rollToEnd(withDs(w, dlds(next.build(), { selector: { matchLabels: { canary: 'true' } }, partition: 1 })));
    expect(r.plans.flatMap((p) => p.deletePods).map((d) => d.node).sort()).toEqual(['node-1', 'node-3']);
  });
});

describe('CTL-1 invalid values', () => {
  it('a Warning event, no rollout progress, new nodes still get pods, no crash', () => {
    const { w, next } = rolledOut(3);
    const bad = withDs(w, next.annotations({ [ROLLOUT_PARTITION_ANNOTATION]: '-1' }).build());
    const p = plan(snapshotOf({ ...bad, nodes: [...bad.nodes, node('node-3').build()] }), at(1));
    expect(p.deletePods).toEqual([]);
    expect(p.createPods.map((c) => c.node)).toEqual(['node-3']);
    expect(p.events).toContainEqual(expect.objectContaining({ type: 'Warning', reason: EVENT_INVALID_ROLLOUT_CONTROL, message: expect.stringContaining('daemonless.io/rollout-partition') }));
    expect(p.rollout?.problems).toHaveLength(1);
    expect(p.rollout?.held.map((h) => h.reason)).toEqual(['invalid', 'invalid', 'invalid']);
    expect(p.status.conditions?.find((c) => c.type === 'Stalled')).toMatchObject({ status: 'True', reason: 'ReconcileFailed' });
    expect(p.errors).toEqual([]);
    // Once the status says so, later passes do not repeat the event.
    const later = plan(snapshotOf({ ...bad, ds: { ...bad.ds, status: { ...p.status, conditions: [...(p.status.conditions ?? [])] } } }), at(2));
    expect(later.events.map((e) => e.reason)).not.toContain(EVENT_INVALID_ROLLOUT_CONTROL);
    expect(later.deletePods).toEqual([]);
  });

  it('an invalid dlds field holds the rollout the same way', () => {
    const { w, next } = rolledOut(2);
    const p = plan(snapshotOf(withDs(w, dlds(next.build(), { partition: 'all' }))), at(1));
    expect(p.deletePods).toEqual([]);
    expect(p.events.map((e) => e.reason)).toContain(EVENT_INVALID_ROLLOUT_CONTROL);
  });
});

describe('CTL-7 OnDelete ignores the controls', () => {
  it('plans the same with and without them', () => {
    const { w, next } = rolledOut(3, (b) => b.onDelete());
    const plain = plan(snapshotOf(withDs(w, next.build())), at(1));
    const controlled = plan(snapshotOf(withDs(w, next.annotations({ [ROLLOUT_PAUSED_ANNOTATION]: 'true', [ROLLOUT_PARTITION_ANNOTATION]: 'x' }).build())), at(1));
    expect(controlled.rollout).toBeUndefined();
    expect(controlled.events).toEqual(plain.events);
    expect(controlled.createPods).toEqual(plain.createPods);
    expect(controlled.deletePods).toEqual(plain.deletePods);
  });
});
