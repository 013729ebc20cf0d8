import type { V1Pod } from '@kubernetes/client-node';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { plan } from '../../../lib/core/index.js';
import { isPodAvailable } from '../../../lib/core/pod-state.js';
import { at, T0 } from '../../builders/clock.js';
import { daemonSet } from '../../builders/daemon-set.js';
import { node } from '../../builders/node.js';
import { arbWorld } from '../../builders/arbitraries.js';
import { applyPlan, markReady, podsByNode, snapshotOf, sync, updateDaemonSet, world, type World } from '../../builders/world.js';

const surge = (s: string) => s.startsWith('SG');
const live = (pods: readonly V1Pod[]) => pods.filter((p) => p.metadata?.deletionTimestamp === undefined && p.status?.phase !== 'Failed' && p.status?.phase !== 'Succeeded');

/** Runs passes (marking new pods Ready after each) until a pass plans nothing at all. */
function settle(w: World, start: number): { w: World; t: number; quiet: boolean } {
  let t = start;
  let cur = w;
  for (let i = 0; i < 40; i++) {
    const r = sync(cur, at(t));
    cur = markReady(r.world, at(t), (p) => p.status?.phase === 'Pending');
    t += 20;
    const p = r.plan;
    if (p.createPods.length + p.deletePods.length + p.ownership.length + p.podLabelChanges.length + p.revisions.delete.length === 0 && p.revisions.create === null) {
      return { w: cur, t, quiet: true };
    }
  }
  return { w: cur, t, quiet: false };
}

describe('invariants (property-based)', () => {
  it('never plans two creates for one node, and without surge never creates next to a live pod', () => {
    fc.assert(
      fc.property(arbWorld, ({ w, strategy }) => {
        const p = plan(snapshotOf(w), at(200));
        const nodesCreated = p.createPods.map((c) => c.node);
        expect(new Set(nodesCreated).size).toBe(nodesCreated.length);
        if (!surge(strategy)) {
          const claimed = podsByNode(applyPlan(w, { ...p, createPods: [], deletePods: [] }, at(200)));
          for (const n of nodesCreated) {
            const mine = (claimed.get(n) ?? []).filter((x) => x.metadata?.ownerReferences?.some((r) => r.uid === w.ds.metadata?.uid) && x.metadata.labels?.['type'] === 'production');
            expect(mine.filter((x) => x.metadata?.deletionTimestamp === undefined || !(x.status?.phase === 'Failed' || x.status?.phase === 'Succeeded'))).toEqual([]);
          }
        }
      }),
      { numRuns: 300, seed: 1 },
    );
  });

  it('applying a plan and planning again converges to an empty plan with at most one live pod per eligible node', () => {
    fc.assert(
      fc.property(arbWorld, ({ w }) => {
        const settled = settle(w, 200);
        expect(settled.quiet).toBe(true);
        const mine = settled.w.pods.filter((p) => p.metadata?.ownerReferences?.some((r) => r.uid === w.ds.metadata?.uid));
        for (const [n, pods] of podsByNode({ ...settled.w, pods: mine })) {
          const alive = live(pods);
          if (settled.w.nodes.some((x) => x.metadata?.name === n)) expect(alive.length).toBeLessThanOrEqual(1);
        }
        const again = plan(snapshotOf(settled.w), at(settled.t + 1000));
        expect([again.createPods.length, again.deletePods.length, again.ownership.length]).toEqual([0, 0, 0]);
        const applied = applyPlan(settled.w, again, at(settled.t + 1000));
        expect(plan(snapshotOf(applied), at(settled.t + 1001)).statusChanged).toBe(false);
      }),
      { numRuns: 150, seed: 2 },
    );
  });

  it('a non-surge rollout never has more than maxUnavailable desired nodes without an available pod', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 4 }), fc.constantFrom(0, 5), (k, maxUnavailable, minReady) => {
        const ds = daemonSet().onDelete().minReadySeconds(minReady);
        let w = settle(world(ds.build(), Array.from({ length: k }, (_, i) => node(`node-${i}`).build())), 0).w;
        w = updateDaemonSet(w, ds.update((b) => b.image('v2').rollingUpdate(maxUnavailable)).build());
        let t = 1000;
        for (let i = 0; i < 4 * k + 4; i++) {
          const r = sync(w, at(t));
          const byNode = podsByNode(r.world);
          const unavailable = r.world.nodes.filter((n) => !(byNode.get(n.metadata?.name ?? '') ?? []).some((p) => isPodAvailable(p, minReady, at(t)))).length;
          expect(unavailable).toBeLessThanOrEqual(maxUnavailable);
          w = markReady(r.world, at(t), (p) => p.status?.phase === 'Pending');
          t += 7;
        }
        expect(w.pods.every((p) => p.spec?.containers[0]?.image === 'v2')).toBe(true);
      }),
      { numRuns: 60, seed: 3 },
    );
  });

  it('a surge rollout never has more than maxSurge extra pods next to available old pods, and keeps every node available', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 3 }), (k, maxSurge) => {
        const ds = daemonSet().onDelete();
        let w = settle(world(ds.build(), Array.from({ length: k }, (_, i) => node(`node-${i}`).build())), 0).w;
        w = updateDaemonSet(w, ds.update((b) => b.image('v2').surge(maxSurge)).build());
        let t = 1000;
        for (let i = 0; i < 3 * k + 4; i++) {
          const r = sync(w, at(t));
          const doubled = [...podsByNode(r.world).values()].filter((l) => l.length > 1).length;
          expect(doubled).toBeLessThanOrEqual(maxSurge);
          const byNode = podsByNode(r.world);
          expect(r.world.nodes.every((n) => (byNode.get(n.metadata?.name ?? '') ?? []).some((p) => isPodAvailable(p, 0, at(t))))).toBe(true);
          w = markReady(r.world, at(t), (p) => p.status?.phase === 'Pending');
          t += 7;
        }
        expect(w.pods.every((p) => p.spec?.containers[0]?.image === 'v2')).toBe(true);
      }),
      { numRuns: 60, seed: 4 },
    );
  });

  it('never mutates its inputs and never returns objects aliasing them', () => {
    fc.assert(
      fc.property(arbWorld, ({ w }) => {
        const snap = structuredClone({ daemonSet: w.ds, nodes: w.nodes, pods: w.pods, revisions: w.revisions, complete: true });
        const before = JSON.stringify(snap);
        const p = plan(snap, T0);
        expect(JSON.stringify(snap)).toBe(before);
        for (const c of p.createPods) {
          (c.pod.metadata as { labels: Record<string, string> }).labels['x'] = 'y';
          c.pod.spec?.containers.push({ name: 'extra' });
        }
        expect(JSON.stringify(snap)).toBe(before);
        expect(() => plan(snapshotOf(w), T0)).not.toThrow();
      }),
      { numRuns: 100, seed: 5 },
    );
  });

  it('is deterministic: the same snapshot and time give the same plan', () => {
    fc.assert(
      fc.property(arbWorld, ({ w }) => {
        expect(plan(snapshotOf(w), at(50))).toEqual(plan(snapshotOf(w), at(50)));
        const reversed = { ...w, nodes: [...w.nodes].reverse(), pods: [...w.pods].reverse() };
        const a = plan(snapshotOf(w), at(50));
        const b = plan(snapshotOf(reversed), at(50));
        expect(b.createPods).toEqual(a.createPods);
        expect(new Set(b.deletePods.map((d) => d.name))).toEqual(new Set(a.deletePods.map((d) => d.name)));
      }),
      { numRuns: 100, seed: 6 },
    );
  });
});
