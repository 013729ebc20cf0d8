import type { V1Pod } from '@kubernetes/client-node';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CONTROLLER_REVISION_HASH_LABEL } from '../../../lib/core/index.js';
import { at, T0 } from '../../builders/clock.js';
import { daemonSet, type DaemonSetBuilder } from '../../builders/daemon-set.js';
import { node, nodes } from '../../builders/node.js';
import { daemonPod } from '../../builders/pod.js';
import { converge, counts, markNotReady, markReady, podNode, podsByNode, statusLine, sync, updateDaemonSet, world, type World } from '../../builders/world.js';

function rolledOut(k: number, ready = true): { w: World; ds: DaemonSetBuilder } {
  const ds = daemonSet().onDelete();
  const r = converge(world(ds.build(), nodes(k)), T0);
  return { w: ready ? markReady(r.world, T0) : r.world, ds };
}

function pass(w: World, t: Date): [string, World] {
  const r = sync(w, t);
  return [counts(r.plan), r.world];
}

const hashOfPod = (p: V1Pod) => p.metadata?.labels?.[CONTROLLER_REVISION_HASH_LABEL];
const isReady = (p: V1Pod) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

describe('F. Rolling update with surge', () => {
  it('S-67 the oldest ready old pod is preserved next to an unready new pod', () => {
    const ds = daemonSet().surge(1).build();
    const pods = [
      daemonPod(ds, 'node-1-new').onNode('node-1').created(at(100)).notReady().build(),
      daemonPod(ds, 'node-1-old').onNode('node-1').old().created(at(50)).ready(at(50)).build(),
      daemonPod(ds, 'node-1-delete').onNode('node-1').old().created(at(60)).ready(at(60)).build(),
      daemonPod(ds, 'node-2-new').onNode('node-2').created(at(100)).build(),
    ];
    const p = sync(world(ds, nodes(5), pods), at(120)).plan;
    expect(counts(p)).toBe('3/1');
    expect(p.createPods.map((c) => c.node)).toEqual(['node-0', 'node-3', 'node-4']);
    expect(p.deletePods.map((d) => [d.name, d.reason])).toEqual([['node-1-delete', 'duplicate']]);
  });

  it('S-68 a replacement for a terminating old pod ignores the surge budget', () => {
    const ds = daemonSet().surge(1).build();
    const pods = [
      daemonPod(ds, 'node-0-new').onNode('node-0').created(at(100)).notReady().build(),
      daemonPod(ds, 'node-0-old').onNode('node-0').old().created(at(50)).ready(at(50)).build(),
      ...[1, 2, 3].map((i) => daemonPod(ds, `node-${i}-old`).onNode(`node-${i}`).old().created(at(1)).ready(at(1)).build()),
      daemonPod(ds, 'node-4-old').onNode('node-4').old().created(at(1)).ready(at(1)).deleting(at(110)).build(),
    ];
    const p = sync(world(ds, nodes(5), pods), at(120)).plan;
    expect(counts(p)).toBe('1/0');
    expect(p.createPods.map((c) => c.node)).toEqual(['node-4']);
  });

  const minReadyPods = (ds: ReturnType<DaemonSetBuilder['build']>) => [
    daemonPod(ds, 'node-1-new').onNode('node-1').created(at(50)).ready(at(50)).build(),
    daemonPod(ds, 'node-1-old').onNode('node-1').old().created(at(50)).ready(at(50)).build(),
    daemonPod(ds, 'node-1-old-2').onNode('node-1').old().created(at(60)).ready(at(60)).build(),
    daemonPod(ds, 'node-2-new').onNode('node-2').created(at(50)).build(),
  ];

  it('S-70 minReadySeconds not yet satisfied keeps the old pod', () => {
    const ds = daemonSet().surge(1).minReadySeconds(15).build();
    const p = sync(world(ds, nodes(5), minReadyPods(ds)), at(60)).plan;
    expect(counts(p)).toBe('3/1');
    expect(p.deletePods.map((d) => d.name)).toEqual(['node-1-old-2']);
    expect(p.requeueAfterSeconds).toBe(5);
  });

  it('S-71 minReadySeconds satisfied removes the old pod', () => {
    const ds = daemonSet().surge(1).minReadySeconds(15).build();
    const p = sync(world(ds, nodes(5), minReadyPods(ds)), at(70)).plan;
    expect(counts(p)).toBe('3/2');
    expect(p.deletePods.map((d) => d.name).sort()).toEqual(['node-1-old', 'node-1-old-2']);
  });

  it('S-72 surge rollout with maxSurge 2', () => {
    const start = rolledOut(5);
    let w = updateDaemonSet(start.w, start.ds.update((b) => b.image('foo2/bar2').surge(2)).build());
    const seen: string[] = [];
    let maxDoubled = 0;
    const step = (t: number) => {
      const [c, next] = pass(w, at(t));
      seen.push(c);
      w = next;
      maxDoubled = Math.max(maxDoubled, [...podsByNode(w).values()].filter((l) => l.length > 1).length);
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
    step(10);
    step(11);
    expect(seen).toEqual(['2/0', '0/0', '2/2', '0/0', '1/2', '0/0', '0/1', '0/0']);
    expect(maxDoubled).toBeLessThanOrEqual(2);
    expect(w.pods.map((p) => p.spec?.containers[0]?.image)).toEqual(Array(5).fill('foo2/bar2'));
  });

  it('S-73 surge when old pods are unready, with minReadySeconds', () => {
    const start = rolledOut(5, false);
    const ds2 = start.ds.update((b) => b.image('foo2/bar2').surge(3));
    let w = updateDaemonSet(start.w, ds2.build());
    let c: string;
    [c, w] = pass(w, at(100));
    expect(c).toBe('5/0');
    [c, w] = pass(w, at(200));
    expect(c).toBe('0/5');
    w = markReady(w, at(200));
    const ds3 = ds2.update((b) => b.minReadySeconds(15).image('foo3/bar3'));
    w = updateDaemonSet(w, ds3.build());
    const r300 = sync(w, at(300));
    expect(counts(r300.plan)).toBe('3/0');
    w = r300.world;
    const h3 = r300.plan.revisions.currentHash;
    const h3Nodes = r300.plan.createPods.map((x) => x.node);
    w = markReady(w, at(300), (p) => hashOfPod(p) === h3 && h3Nodes.slice(0, 2).includes(podNode(p)));
    const bare = ['node-0', 'node-1', 'node-2', 'node-3', 'node-4'].filter((n) => !h3Nodes.includes(n));
    w = markNotReady(w, (p) => podNode(p) === bare[0]);
    [c, w] = pass(w, at(310));
    expect(c).toBe('1/0');
    [c, w] = pass(w, at(320));
    expect(c).toBe('1/3');
    w = markReady(w, at(320), (p) => hashOfPod(p) === h3 && !isReady(p));
    [c, w] = pass(w, at(340));
    expect(c).toBe('0/2');
    [c, w] = pass(w, at(350));
    expect(c).toBe('0/0');
    expect(w.pods.map(hashOfPod)).toEqual(Array(5).fill(h3));
  });

  it('S-75 surge with changing tolerations moves pods without losing availability', () => {
    const taint = (key: string) => ({ key, value: 'true', effect: 'NoSchedule' as const });
    const six = [
      node('node-0').taint(taint('zone-y')).build(),
      node('node-1').taint(taint('zone-y')).build(),
      node('node-2').taint(taint('zone-z')).build(),
      node('node-3').taint(taint('zone-z')).build(),
      node('node-4').taint(taint('zone-common')).build(),
      node('node-5').taint(taint('zone-common')).build(),
    ];
    const tol = (...keys: string[]) => keys.map((key) => ({ key, operator: 'Exists' }));
    let ds = daemonSet().surge(1).tolerations(tol('zone-y', 'zone-common'));
    let w = world(ds.build(), six);
    let t = 0;
    const settle = (): { maxActive: number; last: ReturnType<typeof sync> } => {
      let maxActive = 0;
      for (let i = 0; i < 40; i++) {
        const r = sync(w, at(t++));
        w = markReady(r.world, at(t++), (p) => !isReady(p));
        maxActive = Math.max(maxActive, w.pods.length);
        if (counts(r.plan) === '0/0') return { maxActive, last: r };
      }
      throw new Error('did not converge');
    };
    let s = settle();
    expect(w.pods.map(podNode).sort()).toEqual(['node-0', 'node-1', 'node-4', 'node-5']);
    s = settle();
    expect([s.last.plan.status.numberReady, s.last.plan.status.updatedNumberScheduled]).toEqual([4, 4]);

    ds = ds.update((b) => b.tolerations(tol('zone-z', 'zone-common')));
    w = updateDaemonSet(w, ds.build());
    s = settle();
    expect(s.maxActive).toBe(7);
    expect(w.pods.map(podNode).sort()).toEqual(['node-2', 'node-3', 'node-4', 'node-5']);
    expect([s.last.plan.status.numberReady, s.last.plan.status.updatedNumberScheduled]).toEqual([4, 4]);

    ds = ds.update((b) => b.tolerations(tol('zone-y', 'zone-z', 'zone-common')));
    w = updateDaemonSet(w, ds.build());
    s = settle();
    expect(s.maxActive).toBe(7);
    expect(w.pods).toHaveLength(6);
    expect([s.last.plan.status.numberReady, s.last.plan.status.updatedNumberScheduled]).toEqual([6, 6]);

    ds = ds.update((b) => b.tolerations([]));
    w = updateDaemonSet(w, ds.build());
    s = settle();
    expect(w.pods).toHaveLength(0);
    expect([s.last.plan.status.numberReady, s.last.plan.status.updatedNumberScheduled]).toEqual([0, 0]);
  });

  it('S-76 surge invariants hold under random disruption', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ kind: fc.constantFrom('unready', 'delete', 'none'), pick: fc.nat(20) }), { maxLength: 25 }), (disruptions) => {
        const ds = daemonSet().onDelete().env('VERSION', '1');
        let w = markReady(converge(world(ds.build(), nodes(5)), T0).world, T0);
        const ds2 = ds.update((b) => b.env('VERSION', '2').minReadySeconds(10).surge('20%'));
        w = updateDaemonSet(w, ds2.build());
        let t = 1;
        const check = (x: World) => {
          for (const pods of podsByNode(x).values()) {
            const live = pods.filter((p) => p.metadata?.deletionTimestamp === undefined);
            const versions = live.map((p) => p.spec?.containers[0]?.env?.[0]?.value);
            expect(new Set(versions).size).toBe(versions.length);
            expect(live.length).toBeLessThanOrEqual(2);
          }
          expect(new Set(x.pods.map((p) => p.spec?.containers[0]?.env?.[0]?.value)).size).toBeLessThanOrEqual(2);
        };
        for (const d of disruptions) {
          if (d.kind === 'unready' && w.pods.length > 0) {
            const victim = w.pods[d.pick % w.pods.length];
            w = markNotReady(w, (p) => p === victim);
          } else if (d.kind === 'delete' && w.pods.length > 0) {
            const victim = w.pods[d.pick % w.pods.length];
            w = { ...w, pods: w.pods.filter((p) => p !== victim) };
          }
          const r = sync(w, at(t));
          w = markReady(r.world, at(t), (p) => !isReady(p) && p.metadata?.creationTimestamp instanceof Date && p.metadata.creationTimestamp.getTime() < at(t).getTime());
          check(w);
          t += 4;
        }
        let quiet = 0;
        for (let i = 0; i < 60 && quiet < 2; i++) {
          const r = sync(w, at(t));
          w = markReady(r.world, at(t), (p) => !isReady(p));
          check(w);
          t += 11;
          quiet = counts(r.plan) === '0/0' ? quiet + 1 : 0;
        }
        const final = sync(w, at(t + 100));
        expect(counts(final.plan)).toBe('0/0');
        expect(w.pods.map((p) => p.spec?.containers[0]?.env?.[0]?.value)).toEqual(Array(5).fill('2'));
        expect(w.revisions).toHaveLength(2);
        expect(final.plan.revisions.currentRevision).toBe(2);
        expect(new Set(w.pods.map(hashOfPod))).toEqual(new Set([final.plan.revisions.currentHash]));
      }),
      { numRuns: 40, seed: 76 },
    );
  });

  it('S-77 status lags during surge: a node counts as updated only once its old pod is gone', () => {
    const start = rolledOut(2);
    let w = updateDaemonSet(start.w, start.ds.update((b) => b.image('foo2/bar2').surge(1)).build());
    const r1 = sync(w, at(1));
    expect(counts(r1.plan)).toBe('1/0');
    const r2 = sync(r1.world, at(2));
    expect(statusLine(r2.plan)).toBe('2/2/2/2/0/0/0');
    w = markReady(r2.world, at(3), (p) => !isReady(p));
    const r3 = sync(w, at(4));
    expect(r3.plan.deletePods).toHaveLength(1);
    const r4 = sync(r3.world, at(5));
    expect(r4.plan.status.updatedNumberScheduled).toBe(1);
  });
});
