import { describe, expect, it } from 'vitest';
import { FAILED_POD_BACKOFF_ANNOTATION, plan, type Plan } from '../../../lib/core/index.js';
import { claimObjects } from '../../../lib/core/ownership.js';
import { groupPodsByNode } from '../../../lib/core/group-by-node.js';
import { compileSelector } from '../../../lib/core/label-selector.js';
import { at, T0 } from '../../builders/clock.js';
import { daemonSet } from '../../builders/daemon-set.js';
import { L1, L2 } from '../../builders/labels.js';
import { node, nodes } from '../../builders/node.js';
import { daemonPod, plainPod } from '../../builders/pod.js';
import { converge, counts, markReady, setPhase, snapshotOf, sync, world, type World } from '../../builders/world.js';

const strategies = ['OnDelete', 'RollingUpdate'] as const;

/** Applies only the plan's annotation patch (the unit test's "delete does not take effect"). */
function keepPodsApplyAnnotations(w: World, p: Plan): World {
  if (!p.daemonSetAnnotations) return w;
  const annotations = { ...(w.ds.metadata?.annotations ?? {}) };
  for (const [k, v] of Object.entries(p.daemonSetAnnotations)) if (v !== null) annotations[k] = v;
  return { ...w, ds: { ...w.ds, metadata: { ...w.ds.metadata, annotations } } };
}

function backoffCount(w: World, nodeName: string): number | undefined {
  const raw = w.ds.metadata?.annotations?.[FAILED_POD_BACKOFF_ANNOTATION];
  return raw === undefined ? undefined : (JSON.parse(raw) as { nodes: Record<string, { count: number }> }).nodes[nodeName]?.count;
}

describe('D. Failed and succeeded pods', () => {
  describe.each(strategies)('%s', (strategy) => {
    it('S-48 failed-pod deletion back-off doubles and is derived from the DaemonSet annotation', () => {
      const ds = daemonSet().strategy(strategy).build();
      let w = world(ds, nodes(1), [daemonPod(ds, 'failed').onNode('node-0').phase('Failed').build()]);

      const p1 = plan(snapshotOf(w), T0);
      expect(counts(p1)).toBe('0/1');
      expect(p1.deletePods[0]?.reason).toBe('failed');
      expect(p1.events).toEqual([{ type: 'Warning', reason: 'FailedDaemonPod', message: 'Found failed daemon pod test/failed on node node-0, will try to kill it' }]);
      w = keepPodsApplyAnnotations(w, p1);
      expect(backoffCount(w, 'node-0')).toBe(1);

      const p2 = plan(snapshotOf(w), T0);
      expect(counts(p2)).toBe('0/0');
      expect(p2.events).toEqual([]);
      expect(p2.requeueAfterSeconds).toBe(1);

      const p3 = plan(snapshotOf(w), new Date(T0.getTime() + 999));
      expect(counts(p3)).toBe('0/0');
      const p4 = plan(snapshotOf(w), at(1));
      expect(counts(p4)).toBe('0/1');
      expect(p4.events.map((e) => e.reason)).toEqual(['FailedDaemonPod']);
      w = keepPodsApplyAnnotations(w, p4);
      expect(backoffCount(w, 'node-0')).toBe(2);
      expect(plan(snapshotOf(w), at(2)).requeueAfterSeconds).toBe(1);
      expect(counts(plan(snapshotOf(w), new Date(at(3).getTime() - 1)))).toBe('0/0');
      expect(counts(plan(snapshotOf(w), at(3)))).toBe('0/1');

      const newGeneration = { ...w, ds: { ...w.ds, metadata: { ...w.ds.metadata, generation: 2 } } };
      expect(counts(plan(snapshotOf(newGeneration), at(1.5)))).toBe('0/1');
    });
  });

  describe.each(strategies)('%s', (strategy) => {
    it.each(['Succeeded', 'Failed'] as const)('S-49 a %s pod is deleted and replaced', (phase) => {
      const ds = daemonSet().strategy(strategy).build();
      const converged = markReady(converge(world(ds, nodes(3)), T0).world, at(1));
      const victim = converged.pods[1]?.metadata?.name;
      const w = setPhase(converged, phase, (p) => p.metadata?.name === victim);
      const r1 = sync(w, at(2));
      expect(r1.plan.deletePods.map((d) => [d.name, d.reason])).toEqual([[victim, phase === 'Failed' ? 'failed' : 'succeeded']]);
      expect(r1.plan.createPods).toEqual([]);
      expect(r1.plan.events.map((e) => [e.type, e.reason])).toEqual([phase === 'Failed' ? ['Warning', 'FailedDaemonPod'] : ['Normal', 'SucceededDaemonPod']]);
      expect(r1.plan.daemonSetAnnotations === null).toBe(phase === 'Succeeded');
      const r2 = sync(r1.world, at(3));
      expect(r2.plan.createPods.map((c) => c.node)).toEqual(['node-1']);
      const r3 = sync(markReady(r2.world, at(4)), at(5));
      expect(r3.plan.status.numberReady).toBe(3);
      expect(r3.world.pods).toHaveLength(3);
    });
  });

  it('S-50 a terminal pod held by a finalizer is ignored and replaced under a distinct name', () => {
    const ds = daemonSet().templateFinalizers(['test.k8s.io/finalizer']).build();
    const converged = converge(world(ds, nodes(3)), T0).world;
    const victim = converged.pods.find((p) => p.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms?.[0]?.matchFields?.[0]?.values?.[0] === 'node-1');
    expect(victim?.metadata?.finalizers).toEqual(['test.k8s.io/finalizer']);
    const r1 = sync(setPhase(converged, 'Succeeded', (p) => p === victim), at(1));
    expect(r1.plan.deletePods.map((d) => d.name)).toEqual([victim?.metadata?.name]);
    expect(r1.world.pods.find((p) => p.metadata?.name === victim?.metadata?.name)?.metadata?.deletionTimestamp).toBeDefined();
    const r2 = sync(r1.world, at(2));
    expect(r2.plan.createPods.map((c) => c.node)).toEqual(['node-1']);
    expect(r2.plan.createPods[0]?.pod.metadata?.name).not.toBe(victim?.metadata?.name);
    const active = r2.world.pods.filter((p) => p.metadata?.deletionTimestamp === undefined);
    expect(active).toHaveLength(3);
    expect(counts(sync(r2.world, at(3)).plan)).toBe('0/0');
  });

  it('S-51 which terminal pods are visible to the mapping', () => {
    const ds = daemonSet().build();
    const other = daemonSet('other').build();
    const pods = [
      daemonPod(ds, 'owned-0').onNode('node-0').build(),
      daemonPod(ds, 'owned-1').onNode('node-1').build(),
      plainPod('orphan-0', 'test').labels(L1).onNode('node-0').build(),
      plainPod('orphan-1', 'test').labels(L1).onNode('node-1').build(),
      daemonPod(ds, 'succeeded-0').onNode('node-0').phase('Succeeded').build(),
      daemonPod(ds, 'failed-1').onNode('node-1').phase('Failed').build(),
      daemonPod(ds, 'owned-l2-0').onNode('node-0').labels(L2).build(),
      plainPod('orphan-l2-1', 'test').labels(L2).onNode('node-1').build(),
      daemonPod(other, 'foreign-0').onNode('node-0').build(),
      daemonPod(ds, 'succeeded-deleting-0').onNode('node-0').phase('Succeeded').deleting(T0).build(),
      daemonPod(ds, 'failed-deleting-1').onNode('node-1').phase('Failed').deleting(T0).build(),
    ];
    const sel = compileSelector(ds.spec?.selector);
    if (!sel.ok) throw new Error(sel.error);
    const claimed = claimObjects(ds, pods, sel.matches).claimed;
    const names = (m: Map<string, unknown[]>) => [...m.values()].flat().map((p) => (p as { metadata: { name: string } }).metadata.name).sort();
    expect(names(groupPodsByNode(claimed))).toEqual(['failed-1', 'orphan-0', 'orphan-1', 'owned-0', 'owned-1', 'succeeded-0']);
    expect(names(groupPodsByNode(claimed, true))).toEqual(['failed-1', 'failed-deleting-1', 'orphan-0', 'orphan-1', 'owned-0', 'owned-1', 'succeeded-0', 'succeeded-deleting-0']);
  });

  it('S-52 a failed pod on a NoSchedule-only node is deleted and not replaced', () => {
    const ds = daemonSet().build();
    const n = node('n').taint({ key: 'dedicated', value: 'user1', effect: 'NoSchedule' }).build();
    const r1 = sync(world(ds, [n], [daemonPod(ds, 'f').onNode('n').phase('Failed').build()]), T0);
    expect(counts(r1.plan)).toBe('0/1');
    expect(r1.plan.events.map((e) => e.reason)).toEqual(['FailedDaemonPod']);
    const r2 = sync(r1.world, at(10));
    expect(counts(r2.plan)).toBe('0/0');
    expect([r2.plan.status.desiredNumberScheduled, r2.plan.status.numberMisscheduled]).toEqual([0, 0]);
  });

  it('S-53 several failed pods on one node: one deletion per back-off window', () => {
    const ds = daemonSet().build();
    let w = world(ds, nodes(1), [daemonPod(ds, 'f1').onNode('node-0').phase('Failed').created(at(0)).build(), daemonPod(ds, 'f2').onNode('node-0').phase('Failed').created(at(1)).build()]);
    const r1 = sync(w, at(2));
    expect(counts(r1.plan)).toBe('0/1');
    expect(r1.plan.events).toHaveLength(1);
    expect(r1.plan.requeueAfterSeconds).toBe(1);
    w = r1.world;
    expect(counts(sync(w, new Date(at(3).getTime() - 1)).plan)).toBe('0/0');
    const r2 = sync(w, at(3));
    expect(counts(r2.plan)).toBe('0/1');
    expect(counts(sync(r2.world, at(4)).plan)).toBe('1/0');
  });

  it('S-54 a failed daemon pod is retried: deleted, then a new pod is created', () => {
    const ds = daemonSet().build();
    const converged = markReady(converge(world(ds, nodes(2)), T0).world, at(1));
    const failed = setPhase(converged, 'Failed', (p) => p === converged.pods[0]);
    const r = converge(failed, at(2));
    expect(r.passes).toEqual(['0/1', '1/0', '0/0']);
    expect(r.world.pods.some((p) => p.metadata?.uid === converged.pods[0]?.metadata?.uid)).toBe(false);
    expect(r.world.pods).toHaveLength(2);
  });
});
