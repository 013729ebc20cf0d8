/**
 * `explain`: per-node reasons and pod states, the rollout budget and what holds it — each taken
 * from the pass's own predicates (nodeDaemonPodVerdict, the rolling update's budget use, back-off).
 */
import { describe, expect, it } from 'vitest';
import { explain, nodeDaemonPodVerdict, nodeShouldRunDaemonPod, type Explanation } from '../../../lib/core/index.js';
import { at, T0 } from '../../builders/clock.js';
import { rolledAsFarAsControlsLet } from '../../builders/rollouts.js';
import { daemonSet } from '../../builders/daemon-set.js';
import { node, nodes } from '../../builders/node.js';
import { daemonPod } from '../../builders/pod.js';
import { converge, markReady, snapshotOf, updateDaemonSet, world, type World } from '../../builders/world.js';

const explainAt = (w: World, now: Date): Explanation => explain(snapshotOf(w), now);
const nodeOf = (e: Explanation, name: string) => {
  const n = e.nodes.find((x) => x.node === name);
  if (!n) throw new Error(`no node ${name}`);
  return n;
};

describe('explain: why a pod should not run on a node (the first reason)', () => {
  it('an untolerated taint, named as kubectl prints it', () => {
    const ds = daemonSet().build();
    const e = explainAt(world(ds, [node('n').taint({ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }).build()]), T0);
    expect(nodeOf(e, 'n')).toMatchObject({ shouldRun: false, shouldContinueRunning: true, reason: 'taint dedicated=gpu:NoSchedule not tolerated', summary: 'none' });
    const noValue = explainAt(world(ds, [node('m').taint({ key: 'node.kubernetes.io/not-ready', effect: 'NoSchedule' }).build()]), T0);
    expect(nodeOf(noValue, 'm').reason).toBe('taint node.kubernetes.io/not-ready:NoSchedule not tolerated');
  });

  it('a nodeSelector miss, with the node\'s value or its missing label', () => {
    const ds = daemonSet().nodeSelector({ disktype: 'ssd' }).build();
    const e = explainAt(world(ds, [node('hdd').labels({ disktype: 'hdd' }).build(), node('bare').build(), node('ssd').labels({ disktype: 'ssd' }).build()]), T0);
    expect(nodeOf(e, 'hdd').reason).toBe('nodeSelector disktype=ssd: node has disktype=hdd');
    expect(nodeOf(e, 'bare').reason).toBe('nodeSelector disktype=ssd: node has no label disktype');
    expect(nodeOf(e, 'ssd')).toMatchObject({ shouldRun: true, summary: 'missing', create: true });
    expect(nodeOf(e, 'ssd').reason).toBeUndefined();
  });

  it('a required node affinity term, with the requirement and the node\'s value', () => {
    const ds = daemonSet().requiredAffinity([{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['a', 'b'] }] }]).build();
    const e = explainAt(world(ds, [node('c').labels({ zone: 'c' }).build()]), T0);
    expect(nodeOf(e, 'c').reason).toBe('required node affinity term 1: zone In [a,b]: node has zone=c');
    const two = daemonSet().requiredAffinity([
      { matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] },
      { matchExpressions: [{ key: 'zone', operator: 'In', values: ['b'] }] },
    ]).build();
    expect(nodeOf(explainAt(world(two, [node('c').labels({ zone: 'c' }).build()]), T0), 'c').reason)
      .toBe('required node affinity term 1: zone In [a]: node has zone=c (and 1 more term not matched)');
  });

  it('a template nodeName for another node', () => {
    const ds = daemonSet().templateNodeName('other').build();
    expect(nodeOf(explainAt(world(ds, [node('n').build()]), T0), 'n').reason).toBe('template nodeName is other');
  });

  it('the verdict decides exactly what nodeShouldRunDaemonPod decides', () => {
    const ds = daemonSet().nodeSelector({ a: '1' }).tolerations([{ key: 'x', operator: 'Exists', effect: 'NoSchedule' }]).build();
    const cases = [
      node('plain').build(),
      node('sel').labels({ a: '1' }).build(),
      node('ns').labels({ a: '1' }).taint({ key: 'y', effect: 'NoSchedule' }).build(),
      node('ne').labels({ a: '1' }).taint({ key: 'y', effect: 'NoExecute' }).build(),
      node('tol').labels({ a: '1' }).taint({ key: 'x', effect: 'NoSchedule' }).build(),
      node('cordon').labels({ a: '1' }).unschedulable().taint({ key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' }).build(),
    ];
    for (const n of cases) {
      const v = nodeDaemonPodVerdict(n, ds);
      expect({ shouldRun: v.shouldRun, shouldContinueRunning: v.shouldContinueRunning }).toEqual(nodeShouldRunDaemonPod(n, ds));
      expect(v.reason === undefined).toBe(v.shouldRun);
    }
  });
});

describe('explain: the state of each node\'s pod', () => {
  it('current, old (revision N) and missing', () => {
    const v1 = daemonSet().build();
    let w = converge(world(v1, nodes(3)), T0).world;
    w = markReady(w, T0);
    w = converge(w, at(1)).world;
    w = updateDaemonSet(w, daemonSet().update((b) => b.image('foo/bar:2')).build());
    w = { ...w, pods: w.pods.filter((p) => p.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms?.[0]?.matchFields?.[0]?.values?.[0] !== 'node-2') };
    const e = explainAt(w, at(2));
    expect(e.rollout.currentRevision).toBe(2);
    expect(nodeOf(e, 'node-0')).toMatchObject({ summary: 'old', pods: [{ version: 'old', revision: 1, state: 'available' }] });
    expect(nodeOf(e, 'node-2')).toMatchObject({ summary: 'missing', create: true, pods: [] });
    // The pod this pass creates for the missing node uses the budget (1): no old pod is replaced.
    expect(e.plan.deletePods).toEqual([]);
    const created = e.plan.createPods[0]?.pod.metadata?.name;
    expect(e.rollout.budget).toMatchObject({ name: 'maxUnavailable', setting: '1', allowed: 1, inUse: [{ node: 'node-2', pod: created, why: 'new-not-available' }] });
    expect(e.rollout.holds).toContain(`budget used up: maxUnavailable 1: 1 in use by pod ${created} (node node-2, new pod not available yet); 2 old pods wait`);
  });

  it('not ready, with the container waiting reason (CrashLoopBackOff)', () => {
    const ds = daemonSet().build();
    const pod = daemonPod(ds, 'crash').onNode('n').build();
    pod.status = {
      phase: 'Running',
      conditions: [{ type: 'Ready', status: 'False', reason: 'ContainersNotReady' }],
      containerStatuses: [{ name: 'foo', image: 'foo/bar', imageID: '', ready: false, restartCount: 4, state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 40s' } } }],
    };
    const e = explainAt(world(ds, [node('n').build()], [pod]), T0);
    expect(nodeOf(e, 'n')).toMatchObject({ summary: 'not-ready', pods: [{ name: 'crash', version: 'current', state: 'not-ready', reason: 'CrashLoopBackOff' }] });
    const plain = daemonPod(ds, 'p').onNode('m').notReady().build();
    expect(nodeOf(explainAt(world(ds, [node('m').build()], [plain]), T0), 'm').pods[0]?.reason).toBe('Running');
  });

  it('failed: deleted by the next pass, then in back-off until T', () => {
    const ds = daemonSet().build();
    const failed = daemonPod(ds, 'f').onNode('n').phase('Failed').build();
    const w = world(ds, [node('n').build()], [failed]);
    const first = explainAt(w, T0);
    expect(nodeOf(first, 'n')).toMatchObject({ summary: 'failed', pods: [{ state: 'failed', nextPass: 'delete (failed)' }] });
    // The pass records the deletion in the back-off annotation; a new failed pod is then kept.
    const after = converge(w, T0, {}, 1).world;
    const again = { ...after, pods: [daemonPod(ds, 'f2').onNode('n').phase('Failed').build()] };
    const e = explainAt(again, at(0));
    expect(nodeOf(e, 'n').pods[0]).toMatchObject({ name: 'f2', state: 'failed', backoffUntil: '2024-05-01T10:00:01Z' });
    expect(e.rollout.holds).toContain('failed pod f2 on n in back-off until 2024-05-01T10:00:01Z');
  });

  it('misscheduled: a pod where none should run', () => {
    const ds = daemonSet().nodeSelector({ role: 'x' }).build();
    const pod = daemonPod(ds, 'stray').onNode('n').ready(T0).build();
    const e = explainAt(world(ds, [node('n').build()], [pod]), T0);
    expect(nodeOf(e, 'n')).toMatchObject({ shouldRun: false, summary: 'misscheduled', reason: 'nodeSelector role=x: node has no label role', pods: [{ name: 'stray', nextPass: 'delete (not-eligible)' }] });
  });
});

describe('explain: the rollout', () => {
  it('budget used up: maxUnavailable 50% of 4 = 2, in use by two new pods not yet available', () => {
    const v1Builder = daemonSet().rollingUpdate('50%');
    const v1 = v1Builder.build();
    let w = markReady(converge(world(v1, nodes(4)), T0).world, T0);
    w = converge(w, at(1)).world;
    w = updateDaemonSet(w, v1Builder.update((b) => b.image('foo/bar:2')).build());
    w = converge(w, at(2), {}, 2).world;
    const e = explainAt(w, at(3));
    expect(e.rollout.budget?.inUse.map((u) => u.why)).toEqual(['new-not-available', 'new-not-available']);
    const budgetLine = e.rollout.holds.find((h) => h.startsWith('budget used up'));
    expect(budgetLine).toMatch(/^budget used up: maxUnavailable 50% of 4 = 2: 2 in use by pod \S+ \(node node-0, new pod not available yet\), pod \S+ \(node node-1, new pod not available yet\); 2 old pods wait$/);
    expect(e.plan.deletePods).toEqual([]);
  });

  it('minReadySeconds countdown of a ready pod', () => {
    const ds = daemonSet().minReadySeconds(30).build();
    const pod = daemonPod(ds, 'p').onNode('n').ready(T0).build();
    const e = explainAt(world(ds, [node('n').build()], [pod]), at(10));
    expect(nodeOf(e, 'n').pods[0]).toMatchObject({ state: 'ready', availableAt: '2024-05-01T10:00:30Z' });
    expect(e.rollout.holds).toEqual(['minReadySeconds 30: pod p on n available in 20s (2024-05-01T10:00:30Z)']);
  });

  it('OnDelete: old pods wait to be deleted', () => {
    const v1 = daemonSet().onDelete().build();
    let w = markReady(converge(world(v1, nodes(2)), T0).world, T0);
    w = converge(w, at(1)).world;
    w = updateDaemonSet(w, daemonSet().onDelete().update((b) => b.image('foo/bar:2')).build());
    const e = explainAt(w, at(2));
    expect(e.rollout.budget).toBeUndefined();
    expect(e.rollout.holds).toEqual(['OnDelete: 2 old pods replaced only when deleted']);
  });

  it('a converged DaemonSet is held by nothing and the next pass does nothing', () => {
    const ds = daemonSet().build();
    const w = converge(markReady(converge(world(ds, nodes(2)), T0).world, T0), at(1)).world;
    const e = explainAt(w, at(2));
    expect(e.nodes.map((n) => n.summary)).toEqual(['current', 'current']);
    expect(e.rollout.holds).toEqual([]);
    expect(e.plan.createPods).toEqual([]);
    expect(e.plan.deletePods).toEqual([]);
  });
});

describe('explain: what the rollout controls hold (from the plan\'s rollout report)', () => {
  const rolled = rolledAsFarAsControlsLet;

  it('partition: the last nodes keep their revision and say so', () => {
    const e = explainAt(rolled({ 'daemonless.io/rollout-partition': '1' }), at(10));
    expect(nodeOf(e, 'node-2')).toMatchObject({ summary: 'old', held: 'partition' });
    expect(nodeOf(e, 'node-0').held).toBeUndefined();
    expect(e.rollout.holds).toEqual(['partition 1: 1 old pod held (node-2)']);
  });

  it('paused: every old pod is held, and no budget is said to be used up', () => {
    const e = explainAt(rolled({ 'daemonless.io/rollout-paused': 'true' }), at(10));
    expect(e.nodes.map((n) => n.held)).toEqual(['paused', 'paused', 'paused']);
    expect(e.rollout.holds).toEqual(['paused: 3 old pods held (node-0, node-1, node-2)']);
  });
});
