import { describe, expect, it } from 'vitest';
import { plan } from '../../../lib/core/index.js';
import { at, T0 } from '../../builders/clock.js';
import { daemonSet } from '../../builders/daemon-set.js';
import { L1, L2, NL } from '../../builders/labels.js';
import { node, nodes } from '../../builders/node.js';
import { daemonPod, plainPod } from '../../builders/pod.js';
import { counts, snapshotOf, statusLine, sync, world } from '../../builders/world.js';

const variants = [
  ['OnDelete', (b: ReturnType<typeof daemonSet>) => b.onDelete()],
  ['RollingUpdate', (b: ReturnType<typeof daemonSet>) => b.rollingUpdate(1)],
  ['Surge(1)', (b: ReturnType<typeof daemonSet>) => b.surge(1)],
] as const;

describe('C. Manage: create / delete / duplicates / ownership', () => {
  describe.each(variants)('%s', (_name, strategy) => {
    it('S-33 existing pods: fill gaps, prune duplicates (keep the oldest), release non-matching', () => {
      const ds = strategy(daemonSet()).build();
      const pods = [
        daemonPod(ds, 'n1-a').onNode('node-1').build(),
        daemonPod(ds, 'n2-a').onNode('node-2').created(at(1)).build(),
        daemonPod(ds, 'n2-b').onNode('node-2').created(at(2)).build(),
        ...[5, 4, 3, 2, 1].map((k) => daemonPod(ds, `n3-${k}`).onNode('node-3').created(at(k)).build()),
        daemonPod(ds, 'n4-a').onNode('node-4').labels(L2).build(),
        daemonPod(ds, 'n4-b').onNode('node-4').labels(L2).build(),
      ];
      const p = sync(world(ds, nodes(5), pods), T0).plan;
      expect(p.ownership.map((o) => [o.action, o.name])).toEqual([
        ['release', 'n4-a'],
        ['release', 'n4-b'],
      ]);
      expect(counts(p)).toBe('2/5');
      expect(p.createPods.map((c) => c.node)).toEqual(['node-0', 'node-4']);
      expect(p.deletePods.map((d) => d.name).sort()).toEqual(['n2-b', 'n3-2', 'n3-3', 'n3-4', 'n3-5']);
      expect(new Set(p.deletePods.map((d) => d.reason))).toEqual(new Set(['duplicate']));
    });
  });

  describe.each(['OnDelete', 'RollingUpdate'] as const)('%s', (strategy) => {
    it('S-35 a terminating pod blocks replacement (non-surge)', () => {
      const ds = daemonSet().strategy(strategy).nodeSelector(NL).build();
      const pod = daemonPod(ds, 'p').onNode('node-0').deleting(T0).build();
      expect(counts(sync(world(ds, [node('node-0').labels(NL).build()], [pod]), at(1)).plan)).toBe('0/0');
      expect(counts(sync(world(ds, [node('node-0').labels(NL).build()], []), at(2)).plan)).toBe('1/0');
    });
  });

  it('S-38 orphans being deleted are not adopted', () => {
    const ds = daemonSet().build();
    const orphan = plainPod('orphan', 'test').labels(L1).onNode('node-0').deleting(T0).build();
    const p = sync(world(ds, nodes(2), [orphan]), at(1)).plan;
    expect(p.ownership).toEqual([]);
    expect(p.createPods.map((c) => c.node)).toEqual(['node-0', 'node-1']);
  });

  it('S-39 pods owned by another DaemonSet are ignored', () => {
    const ds = daemonSet().build();
    const other = daemonSet('foo2').build();
    const foreign = daemonPod(other, 'foreign').onNode('node-0').build();
    const p = sync(world(ds, nodes(1), [foreign]), T0).plan;
    expect(p.ownership).toEqual([]);
    expect(counts(p)).toBe('1/0');
    expect(p.deletePods).toEqual([]);
  });

  it('S-40 adoption is a separate, UID-preconditioned step the executor performs (and re-checks) before any create', () => {
    const ds = daemonSet().build();
    const orphan = plainPod('orphan', 'test').labels(L1).onNode('node-0').build();
    const p = sync(world(ds, nodes(5), [orphan]), T0).plan;
    expect(p.ownership).toEqual([
      {
        kind: 'Pod',
        action: 'adopt',
        name: 'orphan',
        namespace: 'test',
        uid: 'uid-pod-orphan',
        patch: { metadata: { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'DaemonSet', name: 'foo', uid: 'uid-ds-foo', controller: true, blockOwnerDeletion: true }], uid: 'uid-pod-orphan' } },
      },
    ]);
    expect(p.createPods.map((c) => c.node)).toEqual(['node-1', 'node-2', 'node-3', 'node-4']);
    const deleting = plan(snapshotOf(world(daemonSet().deleting(T0).build(), nodes(5), [orphan])), T0);
    expect([deleting.outcome, deleting.ownership.length, counts(deleting)]).toEqual(['deleting', 0, '0/0']);
  });

  it('S-41 a DaemonSet being deleted is left alone: no pods, no status, no revision', () => {
    const ds = daemonSet().deleting(T0).build();
    const p = plan(snapshotOf(world(ds, [node('n').allocatable({ memory: '1G' }).build()])), at(1));
    expect(p.outcome).toBe('deleting');
    expect(counts(p)).toBe('0/0');
    expect(p.statusChanged).toBe(false);
    expect(p.revisions.create).toBeNull();
    expect(p.events).toEqual([]);
  });

  it('S-42 an empty selector only emits SelectingAll', () => {
    const ds = daemonSet().selector({}).nodeSelector({ foo: 'bar' }).build();
    const pod = plainPod('p', 'test').labels({ bang: 'boom' }).onNode('node1').build();
    const p = plan(snapshotOf(world(ds, [node('node1').labels({ foo: 'bar' }).build()], [pod])), T0);
    expect(p.outcome).toBe('selecting-all');
    expect(counts(p)).toBe('0/0');
    expect(p.events).toEqual([{ type: 'Warning', reason: 'SelectingAll', message: 'This daemon set is selecting all pods. A non-empty selector is required.' }]);
    expect(p.statusChanged).toBe(false);
    expect(p.ownership).toEqual([]);
  });

  it('S-43 creates are listed in full; slow-start batching is the executor\'s job', () => {
    const ds = daemonSet().build();
    const first = sync(world(ds, nodes(100)), T0);
    expect(first.plan.createPods).toHaveLength(100);
    const ten = { ...first.world, pods: first.world.pods.slice(0, 10) };
    const second = plan(snapshotOf(ten), at(1));
    expect(second.createPods).toHaveLength(90);
    expect([second.status.desiredNumberScheduled, second.status.currentNumberScheduled, second.status.updatedNumberScheduled]).toEqual([100, 10, 10]);
  });

  it('S-44 every create and delete is listed; the burst cap of 250 is the executor\'s job', () => {
    const ds = daemonSet().build();
    const r = sync(world(ds, nodes(300)), T0);
    expect(r.plan.createPods).toHaveLength(300);
    const moved = sync({ ...r.world, ds: daemonSet().nodeSelector({ none: 'x' }).build() }, at(1)).plan;
    expect(moved.deletePods).toHaveLength(300);
  });

  it('S-45 status is computed even when creates are outstanding', () => {
    const ds = daemonSet().build();
    const pods = [daemonPod(ds, 'a').onNode('node-0').ready(T0).build(), daemonPod(ds, 'b').onNode('node-1').ready(T0).build()];
    const p = sync(world(ds, nodes(5), pods), at(1)).plan;
    expect(counts(p)).toBe('3/0');
    expect([p.status.desiredNumberScheduled, p.status.numberReady]).toEqual([5, 2]);
    expect(p.statusChanged).toBe(true);
  });

  it('S-46 a re-created DaemonSet ignores the pod of its predecessor and creates its own', () => {
    const old = daemonSet('test').uid('uid-old').build();
    const oldPod = sync(world(old, [node('master-0').build()]), T0).plan.createPods[0]?.pod;
    const left = { ...oldPod, metadata: { ...oldPod?.metadata, uid: 'uid-old-pod' } };
    const fresh = daemonSet('test').uid('uid-new').build();
    const p = sync(world(fresh, [node('master-0').build()], [left]), at(1)).plan;
    expect(p.ownership).toEqual([]);
    expect(p.deletePods).toEqual([]);
    expect(p.createPods).toHaveLength(1);
    expect(p.createPods[0]?.pod.metadata?.name).not.toBe(left.metadata?.name);
  });

  it('MANAGE-5/MANAGE-8 reasons: not-eligible vs node-gone; statuses exclude vanished nodes', () => {
    const ds = daemonSet().nodeSelector(NL).build();
    const pods = [daemonPod(ds, 'stay').onNode('node-0').build(), daemonPod(ds, 'ineligible').onNode('node-1').build(), daemonPod(ds, 'ghost').targeting('gone').build()];
    const p = sync(world(ds, [node('node-0').labels(NL).build(), node('node-1').build()], pods), T0).plan;
    expect(p.deletePods.map((d) => [d.name, d.reason])).toEqual([
      ['ineligible', 'not-eligible'],
      ['ghost', 'node-gone'],
    ]);
    expect(statusLine(p)).toBe('1/1/0/0/1/1/1');
  });

  it('partial read: no deletes of any kind, creates still planned', () => {
    const ds = daemonSet().build();
    const pods = [daemonPod(ds, 'a').onNode('node-0').created(at(1)).build(), daemonPod(ds, 'b').onNode('node-0').created(at(2)).build()];
    const full = plan(snapshotOf(world(ds, nodes(2), pods)), T0);
    expect(full.deletePods.map((d) => d.name)).toEqual(['b']);
    const partial = plan(snapshotOf(world(ds, nodes(2), pods), false), T0);
    expect(partial.deletesAllowed).toBe(false);
    expect(partial.deletePods).toEqual([]);
    expect(partial.revisions.delete).toEqual([]);
    expect(partial.createPods.map((c) => c.node)).toEqual(['node-1']);
  });
});
