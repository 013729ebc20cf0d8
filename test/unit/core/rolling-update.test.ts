import type { V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { CONTROLLER_REVISION_HASH_LABEL, POD_TEMPLATE_GENERATION_LABEL } from '../../../lib/core/index.js';
import { computeRollingBudgets } from '../../../lib/core/rolling-update.js';
import { isPodAvailable } from '../../../lib/core/pod-state.js';
import { at, T0 } from '../../builders/clock.js';
import { daemonSet, type DaemonSetBuilder } from '../../builders/daemon-set.js';
import { nodes } from '../../builders/node.js';
import { converge, counts, markNotReady, markReady, podNode, podsByNode, statusLine, sync, updateDaemonSet, world, type World } from '../../builders/world.js';

/** The catalogue's set-up for E and F: the DS starts as OnDelete, converges, pods become Ready. */
function rolledOut(k: number, ready = true): { w: World; ds: DaemonSetBuilder } {
  const ds = daemonSet().onDelete();
  const r = converge(world(ds.build(), nodes(k)), T0);
  expect(r.passes[0]).toBe(`${k}/0`);
  return { w: ready ? markReady(r.world, T0) : r.world, ds };
}

/** A user update of the DaemonSet in the world (generation and template generation bumped). */
function update(w: World, ds: DaemonSetBuilder, change: (b: DaemonSetBuilder) => DaemonSetBuilder): { w: World; ds: DaemonSetBuilder } {
  const next = ds.update(change);
  return { w: updateDaemonSet(w, next.build()), ds: next };
}

/** Runs one pass at time t and returns "c/d" and the next world. */
function pass(w: World, t: Date): [string, World] {
  const r = sync(w, t);
  return [counts(r.plan), r.world];
}

const hashOfPod = (p: V1Pod) => p.metadata?.labels?.[CONTROLLER_REVISION_HASH_LABEL];

describe('E. Rolling update without surge', () => {
  it('S-55 basic rollout with maxUnavailable 2', () => {
    const start = rolledOut(5);
    let { w } = update(start.w, start.ds, (b) => b.image('foo2/bar2').rollingUpdate(2));
    const seen: string[] = [];
    const step = (t: number) => {
      const [c, next] = pass(w, at(t));
      seen.push(c);
      w = next;
    };
    step(1);
    step(2);
    w = markReady(w, at(3));
    step(4);
    step(5);
    w = markReady(w, at(6));
    step(7);
    step(8);
    w = markReady(w, at(9));
    const last = sync(w, at(10));
    seen.push(counts(last.plan));
    expect(seen).toEqual(['0/2', '2/0', '0/2', '2/0', '0/1', '1/0', '0/0']);
    const current = last.plan.revisions.currentHash;
    expect(last.world.pods.map(hashOfPod)).toEqual(Array(5).fill(current));
    expect(statusLine(last.plan)).toBe('5/5/5/5/0/5/0');
    expect(last.world.revisions.map((r) => r.revision).sort()).toEqual([1, 2]);
    expect(last.world.revisions.find((r) => r.revision === 2)?.metadata?.name).toBe(last.plan.revisions.currentName);
  });

  it('S-56 new pods that never become ready stall the rollout', () => {
    const start = rolledOut(5);
    let { w } = update(start.w, start.ds, (b) => b.image('foo2/bar2').rollingUpdate(3));
    const seen: string[] = [];
    for (const t of [1, 2, 3]) {
      const [c, next] = pass(w, at(t));
      seen.push(c);
      w = next;
    }
    expect(seen).toEqual(['0/3', '3/0', '0/0']);
    expect(w.pods.filter((p) => p.status?.conditions?.[0]?.status === 'True')).toHaveLength(2);
  });

  it('S-57 all old pods unready: all replaced at once', () => {
    const start = rolledOut(5, false);
    let { w } = update(start.w, start.ds, (b) => b.image('foo2/bar2').rollingUpdate(3));
    const seen: string[] = [];
    for (const t of [1, 2, 3]) {
      const [c, next] = pass(w, at(t));
      seen.push(c);
      w = next;
    }
    expect(seen).toEqual(['0/5', '5/0', '0/0']);
  });

  it('S-58 second update while the first is incomplete', () => {
    const start = rolledOut(5);
    const u1 = update(start.w, start.ds, (b) => b.image('foo2/bar2').rollingUpdate(2));
    let w = u1.w;
    const seen: string[] = [];
    for (const t of [1, 2, 3]) {
      const [c, next] = pass(w, at(t));
      seen.push(c);
      w = next;
    }
    const u2 = update(w, u1.ds, (b) => b.image('foo2/bar3'));
    w = u2.w;
    for (const t of [4, 5, 6]) {
      const [c, next] = pass(w, at(t));
      seen.push(c);
      w = next;
    }
    expect(seen).toEqual(['0/2', '2/0', '0/0', '0/2', '2/0', '0/0']);
    const images = w.pods.map((p) => p.spec?.containers[0]?.image).sort();
    expect(images).toEqual(['foo/bar', 'foo/bar', 'foo/bar', 'foo2/bar3', 'foo2/bar3']);
    expect(w.pods.filter((p) => p.spec?.containers[0]?.image === 'foo/bar').every((p) => p.status?.conditions?.[0]?.status === 'True')).toBe(true);
  });

  it('S-60 mixed old/new unavailability on 100 nodes: only unready old pods are replaced', () => {
    const start = rolledOut(100);
    const h1 = hashOfPod(start.w.pods[0] as V1Pod) as string;
    const u = update(start.w, start.ds, (b) => b.image('foo2/bar2').rollingUpdate(10));
    let w = u.w;
    let t = 1;
    for (let round = 0; round < 10; round++) {
      const [d, w1] = pass(w, at(t++));
      const [c, w2] = pass(w1, at(t++));
      expect([d, c]).toEqual(['0/10', '10/0']);
      w = markReady(w2, at(t++));
    }
    const [done, settled] = pass(w, at(t++));
    expect(done).toBe('0/0');
    const names = settled.pods.map((p) => p.metadata?.name ?? '').sort();
    const oldReady = new Set(names.slice(0, 10));
    const oldUnready = new Set(names.slice(10, 12));
    w = {
      ...settled,
      pods: settled.pods.map((p) =>
        oldReady.has(p.metadata?.name ?? '') || oldUnready.has(p.metadata?.name ?? '')
          ? { ...p, metadata: { ...p.metadata, labels: { ...p.metadata?.labels, [CONTROLLER_REVISION_HASH_LABEL]: h1, [POD_TEMPLATE_GENERATION_LABEL]: '1' } } }
          : p,
      ),
    };
    w = markNotReady(w, (p) => !oldReady.has(p.metadata?.name ?? ''));
    const r1 = sync(w, at(t++));
    expect(counts(r1.plan)).toBe('0/2');
    expect(new Set(r1.plan.deletePods.map((d) => d.name))).toEqual(oldUnready);
    const [c2, w2] = pass(r1.world, at(t++));
    const [c3] = pass(w2, at(t++));
    expect([c2, c3]).toEqual(['2/0', '0/0']);
  });

  it('S-61 a strategy change without template change rolls nothing', () => {
    const start = rolledOut(5);
    const { w } = update(start.w, start.ds, (b) => b.rollingUpdate(3));
    const p = sync(w, at(1)).plan;
    expect(counts(p)).toBe('0/0');
    expect(p.revisions.create).toBeNull();
    expect(p.status.observedGeneration).toBe(2);
  });

  it('S-62 budget resolution table', () => {
    const rows: { name: string; ds: DaemonSetBuilder; desired: number; want: [number, number] }[] = [
      { name: '0 nodes RU(0)', ds: daemonSet().rollingUpdate(0), desired: 0, want: [0, 0] },
      { name: '2 nodes RU(1)', ds: daemonSet().rollingUpdate(1), desired: 2, want: [0, 1] },
      { name: '2 nodes RU(0) guard', ds: daemonSet().rollingUpdate(0), desired: 2, want: [0, 1] },
      { name: '2 nodes SG(0) guard', ds: daemonSet().surge(0), desired: 2, want: [0, 1] },
      { name: '2 nodes RU(50%)', ds: daemonSet().rollingUpdate('50%'), desired: 2, want: [0, 1] },
      { name: '2 nodes SG(50%)', ds: daemonSet().surge('50%'), desired: 2, want: [1, 0] },
      { name: '2 nodes SG(100%)', ds: daemonSet().surge('100%'), desired: 2, want: [2, 0] },
      { name: '3 nodes RU(50%)', ds: daemonSet().rollingUpdate('50%'), desired: 3, want: [0, 2] },
    ];
    for (const row of rows) {
      const b = computeRollingBudgets(row.ds.build(), row.desired);
      expect('error' in b ? b.error : [b.maxSurge, b.maxUnavailable, b.desired], row.name).toEqual([...row.want, row.desired]);
    }
    expect(computeRollingBudgets(daemonSet().rollingUpdate('x%').build(), 2)).toHaveProperty('error');
    const ds = daemonSet().rollingUpdate('50%').build();
    const three = world(ds, nodes(3), []);
    const withPods = sync(three, T0).world;
    const p = withPods.pods;
    const adjusted = { ...withPods, pods: [p[0] as V1Pod, { ...(p[1] as V1Pod), metadata: { ...p[1]?.metadata, deletionTimestamp: T0 } }] };
    const byNode = podsByNode(adjusted);
    expect(['node-0', 'node-1', 'node-2'].filter((n) => !byNode.has(n))).toEqual(['node-2']);
  });

  it('S-63 minReadySeconds gates the next step', () => {
    const start = rolledOut(3);
    let { w } = update(start.w, start.ds, (b) => b.image('foo2/bar2').rollingUpdate(1).minReadySeconds(30));
    const t0 = 1000;
    let [c, next] = pass(w, at(t0));
    expect(c).toBe('0/1');
    [c, next] = pass(next, at(t0 + 1));
    expect(c).toBe('1/0');
    const t1 = t0 + 5;
    w = markReady(next, at(t1), (p) => p.status?.phase === 'Pending');
    const r = sync(w, at(t1 + 10));
    expect(counts(r.plan)).toBe('0/0');
    expect([r.plan.status.numberReady, r.plan.status.numberAvailable, r.plan.status.numberUnavailable]).toEqual([3, 2, 1]);
    // Upstream requeues after the full minReadySeconds (30 s); the planner asks for the exact moment.
    expect(r.plan.requeueAfterSeconds).toBe(20);
    const later = sync(r.world, at(t1 + 30));
    expect(counts(later.plan)).toBe('0/1');
  });

  it('S-65 conformance rolling update keeps at most one pod unavailable', () => {
    const ds = daemonSet().rollingUpdate(1);
    let w = markReady(converge(world(ds.build(), nodes(4)), T0).world, T0);
    expect(w.revisions).toHaveLength(1);
    w = updateDaemonSet(w, ds.update((b) => b.image('foo:new')).build());
    for (let t = 1; t < 40; t++) {
      const r = sync(w, at(t));
      w = markReady(r.world, at(t));
      const unavailable = ['node-0', 'node-1', 'node-2', 'node-3'].filter((n) => !(podsByNode(r.world).get(n) ?? []).some((p) => isPodAvailable(p, 0, at(t)))).length;
      expect(unavailable).toBeLessThanOrEqual(1);
      if (counts(r.plan) === '0/0') break;
    }
    const final = sync(w, at(50));
    expect(counts(final.plan)).toBe('0/0');
    expect(w.pods.map((p) => p.spec?.containers[0]?.image)).toEqual(Array(4).fill('foo:new'));
    expect(w.revisions).toHaveLength(2);
    expect(final.plan.revisions.currentRevision).toBe(2);
    expect(new Set(w.pods.map(hashOfPod))).toEqual(new Set([final.plan.revisions.currentHash]));
  });

  it('S-66 pod-template-generation label follows the DaemonSet annotation and counts as updated', () => {
    const ds = daemonSet().onDelete();
    const r = sync(world(ds.build(), nodes(1)), T0);
    expect(r.plan.createPods[0]?.pod.metadata?.labels?.[POD_TEMPLATE_GENERATION_LABEL]).toBe('1');
    const next = ds.update((b) => b.image('foo2/bar2'));
    expect(next.build().metadata?.annotations?.['deprecated.daemonset.template.generation']).toBe('2');
    const w = updateDaemonSet({ ...r.world, pods: [] }, next.build());
    const created = sync(w, at(1)).plan.createPods[0]?.pod;
    expect(created?.metadata?.labels?.[POD_TEMPLATE_GENERATION_LABEL]).toBe('2');
    const legacy = { ...(r.world.pods[0] as V1Pod) };
    const relabelled = { ...legacy, metadata: { ...legacy.metadata, labels: { ...legacy.metadata?.labels, [CONTROLLER_REVISION_HASH_LABEL]: 'other', [POD_TEMPLATE_GENERATION_LABEL]: '2' } } };
    const p = sync({ ...w, pods: [relabelled] }, at(2)).plan;
    expect(p.status.updatedNumberScheduled).toBe(1);
  });
});

describe('the same-pass view after manage (docs/rules.md, differences from upstream)', () => {
  it('RUNS-1 a node whose pods manage deletes in this pass is not counted as unavailable, as upstream drops it from its node map', () => {
    const start = rolledOut(4);
    let { w } = update(start.w, start.ds, (b) => b.image('foo2/bar2').rollingUpdate(1));
    // node-3 gets an untolerated NoExecute taint: it no longer runs the daemon and manage deletes its pod.
    w = { ...w, nodes: w.nodes.map((n) => (n.metadata?.name === 'node-3' ? { ...n, spec: { ...n.spec, taints: [{ key: 'evict', value: 'now', effect: 'NoExecute' }] } } : n)) };
    const p = sync(w, at(1)).plan;
    // Three desired nodes, all available: the budget of 1 goes to the first old pod.
    expect(p.deletePods.map((d) => [d.node, d.reason])).toEqual([['node-3', 'not-eligible'], ['node-0', 'rolling-update']]);
    expect(p.createPods).toEqual([]);
  });

  it('RUNS-1 a desired node emptied by manage still counts as unavailable', () => {
    const start = rolledOut(3);
    let { w } = update(start.w, start.ds, (b) => b.image('foo2/bar2').rollingUpdate(1));
    w = { ...w, pods: w.pods.map((p) => (podsByNode({ ...w, pods: [p] }).has('node-2') ? { ...p, status: { ...p.status, phase: 'Succeeded' } } : p)) };
    const p = sync(w, at(1)).plan;
    // node-2's Succeeded pod is deleted (FAIL-4) and not yet replaced: that node uses the whole budget.
    expect(p.deletePods.map((d) => [d.node, d.reason])).toEqual([['node-2', 'succeeded']]);
  });
});

describe('a terminal pod and the budget (availability is the Ready condition, as podutil.IsPodAvailable)', () => {
  /**
   * Two nodes rolling with maxUnavailable 1: node-1's pod fails twice (deleted at 1 s and 3 s, the
   * back-off now 2 s), its next updated pod becomes Ready at 4 s and fails at once, with its Ready
   * condition `ready`. The pass at 4 s keeps it (back-off); what the rolling update does with node-0.
   */
  function failedInBackOff(ready: 'True' | 'False'): [string, string][] {
    const start = rolledOut(2);
    let { w } = update(start.w, start.ds, (b) => b.image('foo2/bar2').rollingUpdate(1));
    const onNode1 = (p: V1Pod) => podNode(p) === 'node-1';
    const fail = (x: World, condition?: 'True' | 'False'): World => ({
      ...x,
      pods: x.pods.map((p) => (onNode1(p) ? { ...p, status: { ...p.status, phase: 'Failed', ...(condition ? { conditions: [{ type: 'Ready', status: condition, lastTransitionTime: at(4) }] } : {}) } } : p)),
    });
    const deletes = (t: number): [string, string][] => {
      const r = sync(w, at(t));
      w = r.world;
      return r.plan.deletePods.map((d) => [d.node, d.reason]);
    };
    w = fail(w);
    expect(deletes(1)).toEqual([['node-1', 'failed']]);
    expect(deletes(2)).toEqual([]);
    w = fail(w);
    expect(deletes(3)).toEqual([['node-1', 'failed']]);
    expect(deletes(4)).toEqual([]);
    w = fail(markReady(w, at(4), onNode1), ready);
    return deletes(4);
  }

  it('RUNS-1 a Failed updated pod still reporting Ready counts as available: the budget goes to node-0 (upstream)', () => {
    // What a status patch of the phase alone leaves behind (the differential test fails pods so);
    // upstream reads the Ready condition only and rolls node-0 too. The kubelet never reports it.
    expect(failedInBackOff('True')).toEqual([['node-0', 'rolling-update']]);
  });

  it('RUNS-1 a Failed updated pod that is not Ready uses the budget: node-0 keeps its pod', () => {
    // What the kubelet reports for a pod that failed.
    expect(failedInBackOff('False')).toEqual([]);
  });
});
