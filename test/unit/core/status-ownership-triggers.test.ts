import type { V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import {
  daemonSetsForAddOrDelete,
  daemonSetsForUpdate,
  nodeChangeNeedsSync,
  plan,
  readyTransitionRequeueSeconds,
  shouldIgnoreNodeUpdate,
  nodeUpdateIgnorable,
  targetsForUpdate,
} from '../../../lib/core/index.js';
import { at, T0 } from '../../builders/clock.js';
import { daemonSet } from '../../builders/daemon-set.js';
import { L1, L2, NL } from '../../builders/labels.js';
import { node, nodes } from '../../builders/node.js';
import { daemonPod, plainPod } from '../../builders/pod.js';
import { revision } from '../../builders/revision.js';
import { converge, counts, markReady, snapshotOf, sync, updateDaemonSet, world } from '../../builders/world.js';

describe('I. Status', () => {
  describe.each(['OnDelete', 'RollingUpdate'] as const)('%s', (strategy) => {
    it('S-94 numberReady follows the Ready condition', () => {
      const ds = daemonSet().strategy(strategy).build();
      const pods = [daemonPod(ds, 'a').onNode('node-0').build(), daemonPod(ds, 'b').onNode('node-1').build()];
      const w = world(ds, nodes(2, NL), pods);
      const r = sync(w, T0);
      expect([counts(r.plan), r.plan.status.numberReady]).toEqual(['0/0', 0]);
      const ready = sync(markReady(r.world, T0), at(1));
      expect([counts(ready.plan), ready.plan.status.numberReady]).toEqual(['0/0', 2]);
    });
  });

  it('S-95 observedGeneration is the DaemonSet generation', () => {
    const ds = daemonSet().build();
    const p = sync(world(ds, nodes(1, NL), [daemonPod(ds, 'a').onNode('node-0').build()]), T0).plan;
    expect(p.status.observedGeneration).toBe(1);
  });

  it('S-98 user-set status conditions survive status writes', () => {
    const conditions = [
      { type: 'StatusUpdate', status: 'True', reason: 'E2E', message: 'Set from e2e test' },
      { type: 'StatusPatched', status: 'True' },
    ];
    const ds = daemonSet().status({ currentNumberScheduled: 0, desiredNumberScheduled: 0, numberMisscheduled: 0, numberReady: 0, conditions }).build();
    const r = sync(world(ds, nodes(2)), T0);
    expect(r.plan.statusChanged).toBe(true);
    expect(r.plan.status.conditions).toEqual(conditions);
    expect(r.world.ds.status?.conditions).toEqual(conditions);
  });

  it('S-99 the status to write does not depend on the resourceVersion it is written against (retries re-apply it)', () => {
    const ds = daemonSet().build();
    const w = world(ds, nodes(2));
    const a = plan(snapshotOf(w), T0);
    const b = plan(snapshotOf({ ...w, ds: { ...ds, metadata: { ...ds.metadata, resourceVersion: '999' } } }), T0);
    expect(b.status).toEqual(a.status);
    expect(b.statusChanged).toBe(true);
  });

  it('S-100 a converged DaemonSet costs no writes; a non-template spec change costs one status write', () => {
    const ds = daemonSet();
    const w = markReady(converge(world(ds.build(), nodes(3)), T0).world, T0);
    const settled = sync(w, at(1));
    const idle = sync(settled.world, at(2)).plan;
    expect(idle.statusChanged).toBe(false);
    expect([counts(idle), idle.revisions.create, idle.revisions.update, idle.revisions.delete, idle.ownership, idle.podLabelChanges, idle.daemonSetAnnotations]).toEqual(['0/0', null, [], [], [], [], null]);
    const bumped = updateDaemonSet(settled.world, ds.update((b) => b.minReadySeconds(0).revisionHistoryLimit(5)).build());
    const once = sync(bumped, at(3));
    expect(once.plan.statusChanged).toBe(true);
    expect(once.plan.status.observedGeneration).toBe(2);
    expect(sync(once.world, at(4)).plan.statusChanged).toBe(false);
  });
});

describe('J. Adoption, orphaning, deletion', () => {
  it('S-102 a pod relabelled by a user is released and replaced', () => {
    const w = converge(world(daemonSet().build(), nodes(2)), T0).world;
    const victim = w.pods[0] as V1Pod;
    const relabelled = { ...w, pods: w.pods.map((p) => (p === victim ? { ...p, metadata: { ...p.metadata, labels: { ...L2 } } } : p)) };
    const r = sync(relabelled, at(1));
    expect(r.plan.ownership.map((o) => [o.action, o.name])).toEqual([['release', victim.metadata?.name]]);
    expect(r.plan.ownership[0]?.patch).toEqual({ metadata: { ownerReferences: [{ $patch: 'delete', uid: 'uid-ds-foo' }], uid: victim.metadata?.uid } });
    expect(r.plan.createPods.map((c) => c.node)).toEqual(['node-0']);
    expect(r.plan.deletePods).toEqual([]);
    expect(counts(sync(r.world, at(2)).plan)).toBe('0/0');
  });

  it('S-103 orphaned pods and revisions are adopted by a new DaemonSet with the same template', () => {
    const w = converge(world(daemonSet().build(), nodes(3)), T0).world;
    const orphaned = {
      ...w,
      pods: w.pods.map((p) => ({ ...p, metadata: { ...p.metadata, ownerReferences: [] } })),
      revisions: w.revisions.map((r) => ({ ...r, metadata: { ...r.metadata, ownerReferences: [] } })),
    };
    const reborn = { ...orphaned, ds: daemonSet().uid('uid-reborn').build() };
    const r = sync(reborn, at(1));
    expect(r.plan.ownership.filter((o) => o.action === 'adopt').map((o) => o.kind).sort()).toEqual(['ControllerRevision', 'Pod', 'Pod', 'Pod']);
    expect(counts(r.plan)).toBe('0/0');
    expect(r.plan.revisions.create).toBeNull();
    expect(r.plan.status.updatedNumberScheduled).toBe(3);
  });

  it('S-104 with the DaemonSet gone nothing is planned for its pods; a same-named successor leaves them alone', () => {
    const w = converge(world(daemonSet().build(), nodes(2)), T0).world;
    const successor = sync({ ...w, ds: daemonSet().uid('uid-next').nodeSelector({ none: 'x' }).build() }, at(1)).plan;
    expect([counts(successor), successor.ownership.length]).toEqual(['0/0', 0]);
  });

  it('S-105 a foreground-deleting DaemonSet stays inert', () => {
    const w = converge(world(daemonSet().build(), nodes(2)), T0).world;
    const deleting = { ...w, ds: daemonSet().deleting(at(1)).build(), pods: w.pods.slice(1), nodes: [...w.nodes, node('node-2').build()] };
    const p = plan(snapshotOf(deleting), at(2));
    expect([p.outcome, counts(p), p.statusChanged, p.revisions.create, p.revisions.update, p.revisions.delete]).toEqual(['deleting', '0/0', false, null, [], []]);
  });
});

describe('K. Event triggers', () => {
  it('S-106 node update filter: only label or taint changes matter', () => {
    const base = node('n').build();
    expect(shouldIgnoreNodeUpdate(base, node('n').build())).toBe(true);
    expect(shouldIgnoreNodeUpdate(base, node('n').labels(NL).build())).toBe(false);
    const tainted = node('n').taint({ key: 'dedicated', value: 'user1', effect: 'NoSchedule' }).build();
    expect(shouldIgnoreNodeUpdate(tainted, base)).toBe(false);
    expect(shouldIgnoreNodeUpdate(base, node('n').allocatable({ memory: '200M', cpu: '200m' }).build())).toBe(true);
  });

  it('node update filter compares as upstream\'s semantic equality: an empty taint value is an absent one, a taint re-added later is a change', () => {
    const t = { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute' };
    expect(nodeUpdateIgnorable({ taints: [{ ...t, value: '' }] }, { taints: [t] })).toBe(true);
    expect(nodeUpdateIgnorable({ taints: [{ ...t, timeAdded: new Date('2024-05-01T10:00:00Z') }] }, { taints: [{ ...t, timeAdded: '2024-05-01T10:00:00Z' }] })).toBe(true);
    expect(nodeUpdateIgnorable({ taints: [{ ...t, timeAdded: '2024-05-01T10:00:00Z' }] }, { taints: [{ ...t, timeAdded: '2024-05-01T10:05:00Z' }] })).toBe(false);
    expect(nodeUpdateIgnorable({ labels: { a: '1' } }, { labels: { a: '1' }, taints: [] })).toBe(true);
  });

  it('a pod update with a deletionTimestamp is its deletion (WATCH-3): the owner only, nothing for an orphan', () => {
    const foo1 = daemonSet('foo1').build();
    const foo2 = daemonSet('foo2').build();
    const rv = (p: V1Pod, v: string): V1Pod => ({ ...p, metadata: { ...p.metadata, resourceVersion: v } });
    const deleting = (p: V1Pod): V1Pod => ({ ...p, metadata: { ...p.metadata, deletionTimestamp: T0 } });
    const orphan = plainPod('o', 'test').labels(L1).build();
    expect(daemonSetsForUpdate('Pod', rv(plainPod('o', 'test').build(), '1'), rv(deleting(orphan), '2'), [foo1, foo2])).toEqual([]);
    expect(daemonSetsForUpdate('Pod', rv(deleting(daemonPod(foo1, 'p').build()), '1'), rv(deleting(daemonPod(foo1, 'p').build()), '2'), [foo1, foo2])).toEqual([foo1]);
    expect(targetsForUpdate('Pod', { resourceVersion: '1' }, { resourceVersion: '1', labels: { a: 'b' } })).toEqual([]);
  });

  it('S-107 node add: only a node that should run the DaemonSet and has no pod leads to a sync', () => {
    const ds = daemonSet().nodeSelector(NL).build();
    expect(nodeChangeNeedsSync(node('node1').build(), ds, false)).toBe(false);
    expect(nodeChangeNeedsSync(node('node2').labels(NL).build(), ds, false)).toBe(true);
    expect(nodeChangeNeedsSync(node('node1').build(), ds, true)).toBe(true);
    const misscheduled = daemonSet().status({ currentNumberScheduled: 1, desiredNumberScheduled: 1, numberMisscheduled: 1, numberReady: 1 }).build();
    expect(nodeChangeNeedsSync(node('node3').build(), misscheduled, true)).toBe(true);
    expect(nodeChangeNeedsSync(node('node3').build(), daemonSet().build(), true)).toBe(false);
  });

  it('S-108 pod event routing', () => {
    const foo1 = daemonSet('foo1').build();
    const foo2 = daemonSet('foo2').build();
    const foo3 = daemonSet('foo3').selector({ matchLabels: { ...L2 } }).templateLabels(L2).build();
    const all = [foo1, foo2, foo3];
    const names = (list: { metadata?: { name?: string } }[]) => list.map((d) => d.metadata?.name).sort();
    expect(names(daemonSetsForAddOrDelete('Pod', 'add', daemonPod(foo1, 'p').build(), all))).toEqual(['foo1']);
    expect(names(daemonSetsForAddOrDelete('Pod', 'add', daemonPod(foo2, 'p').build(), all))).toEqual(['foo2']);
    const orphan = plainPod('o', 'test').labels(L1).build();
    expect(names(daemonSetsForAddOrDelete('Pod', 'add', orphan, all))).toEqual(['foo1', 'foo2']);
    const owned = daemonPod(foo1, 'p').build();
    const rv = (p: V1Pod, v: string): V1Pod => ({ ...p, metadata: { ...p.metadata, resourceVersion: v } });
    expect(names(daemonSetsForUpdate('Pod', rv(owned, '1'), rv(owned, '2'), all))).toEqual(['foo1']);
    expect(names(daemonSetsForUpdate('Pod', rv(orphan, '1'), rv(orphan, '2'), all))).toEqual([]);
    const before = plainPod('o', 'test').labels({ foo2: 'bar2' }).build();
    expect(names(daemonSetsForUpdate('Pod', rv(before, '1'), rv(orphan, '2'), all))).toEqual(['foo1', 'foo2']);
    expect(names(daemonSetsForUpdate('Pod', rv(daemonPod(foo2, 'p').build(), '1'), rv(daemonPod(foo1, 'p').build(), '2'), all))).toEqual(['foo1', 'foo2']);
    expect(names(daemonSetsForUpdate('Pod', rv(daemonPod(foo1, 'p').build(), '1'), rv(daemonPod(foo1, 'p').orphan().build(), '2'), all))).toEqual(['foo1', 'foo2']);
    expect(names(daemonSetsForAddOrDelete('Pod', 'delete', owned, all))).toEqual(['foo1']);
    expect(names(daemonSetsForAddOrDelete('Pod', 'delete', orphan, all))).toEqual([]);
    const nonDaemon = plainPod('x', 'test').onNode('node-0').build();
    expect(names(daemonSetsForAddOrDelete('Pod', 'delete', nonDaemon, all))).toEqual([]);
  });

  it('S-109 a pod turning Ready with minReadySeconds asks for a delayed look; the plan then counts it available', () => {
    const ds = daemonSet().minReadySeconds(30).build();
    const notReady = daemonPod(ds, 'p').onNode('node-0').notReady().build();
    const ready = daemonPod(ds, 'p').onNode('node-0').ready(T0).build();
    expect(readyTransitionRequeueSeconds(notReady, ready, ds)).toBe(31);
    expect(readyTransitionRequeueSeconds(ready, ready, ds)).toBeUndefined();
    const w = world(ds, nodes(1), [ready]);
    const early = plan(snapshotOf(w), at(1));
    expect([early.status.numberAvailable, early.requeueAfterSeconds]).toEqual([0, 29]);
    expect(plan(snapshotOf(w), at(31)).status.numberAvailable).toBe(1);
  });

  it('S-110 ControllerRevision event routing', () => {
    const ds = daemonSet().build();
    const owned = revision(ds).build();
    const orphan = revision(ds).name('foo-orphan').orphan().build();
    expect(daemonSetsForAddOrDelete('ControllerRevision', 'add', owned, [ds])).toEqual([]);
    expect(daemonSetsForAddOrDelete('ControllerRevision', 'add', orphan, [ds])).toEqual([ds]);
    expect(daemonSetsForAddOrDelete('ControllerRevision', 'delete', owned, [ds])).toEqual([ds]);
    const p = plan(snapshotOf(world(ds, nodes(1), [], [])), T0);
    expect(p.revisions.create?.metadata?.name).toBe(owned.metadata?.name);
  });
});
