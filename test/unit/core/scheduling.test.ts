import type { V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { nodeShouldRunDaemonPod, plan } from '../../../lib/core/index.js';
import { at, T0 } from '../../builders/clock.js';
import { daemonSet } from '../../builders/daemon-set.js';
import { L1, L2, NL, NL2 } from '../../builders/labels.js';
import { node, nodes } from '../../builders/node.js';
import { daemonPod, plainPod } from '../../builders/pod.js';
import { converge, counts, markReady, snapshotOf, statusLine, sync, world, type World } from '../../builders/world.js';

const strategies = ['OnDelete', 'RollingUpdate'] as const;

function targetsOf(w: World, p: ReturnType<typeof plan>): string[] {
  void w;
  return p.createPods.map((c) => c.node);
}

describe('A. Scheduling / eligibility', () => {
  describe.each(strategies)('%s', (strategy) => {
    it('S-01 simple DaemonSet launches one pod on every node', () => {
      const ds = daemonSet().strategy(strategy).build();
      const { plan: p, world: w1 } = sync(world(ds, nodes(5)), T0);
      expect(counts(p)).toBe('5/0');
      expect(targetsOf(w1, p)).toEqual(['node-0', 'node-1', 'node-2', 'node-3', 'node-4']);
      for (const c of p.createPods) {
        expect(c.pod.spec?.nodeName).toBeUndefined();
        const terms = c.pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
        expect(terms).toEqual([{ matchFields: [{ key: 'metadata.name', operator: 'In', values: [c.node] }] }]);
      }
      expect(p.events).toEqual([]);
      const second = sync(w1, at(1));
      expect(counts(second.plan)).toBe('0/0');
      expect(statusLine(second.plan)).toBe('5/5/0/0/5/5/0');
      expect(second.plan.status.observedGeneration).toBe(ds.metadata?.generation);
      const ready = sync(markReady(second.world, at(2)), at(3));
      expect(ready.plan.status.numberReady).toBe(5);
    });

    it('S-02 no nodes does nothing but still records revision 1', () => {
      const ds = daemonSet().strategy(strategy).build();
      const { plan: p } = sync(world(ds, []), T0);
      expect(counts(p)).toBe('0/0');
      expect(p.events).toEqual([]);
      expect(statusLine(p)).toBe('0/0/0/0/0/0/0');
      expect(p.revisions.create?.revision).toBe(1);
      expect(p.revisions.create?.metadata?.name).toBe(`foo-${p.revisions.currentHash}`);
    });

    it('S-03 single node gets a pod', () => {
      const { plan: p } = sync(world(daemonSet().strategy(strategy).build(), [node('only-node').build()]), T0);
      expect(counts(p)).toBe('1/0');
      expect(p.createPods[0]?.node).toBe('only-node');
    });

    it('S-04 a NotReady node (condition only) still gets a pod', () => {
      const { plan: p } = sync(world(daemonSet().strategy(strategy).build(), [node('n').notReady().build()]), T0);
      expect(counts(p)).toBe('1/0');
    });

    it('S-05 not-ready and unreachable NoExecute taints are tolerated', () => {
      const ds = daemonSet().strategy(strategy).build();
      const a = node('a').notReady().taint({ key: 'node.kubernetes.io/not-ready', effect: 'NoExecute' }).build();
      const b = node('b').condition('Ready', 'Unknown').taint({ key: 'node.kubernetes.io/unreachable', effect: 'NoExecute' }).build();
      expect(counts(sync(world(ds, [a]), T0).plan)).toBe('1/0');
      expect(counts(sync(world(ds, [b]), T0).plan)).toBe('1/0');
    });

    it('S-06 pressure taints are tolerated', () => {
      const n = node('n')
        .condition('DiskPressure', 'True')
        .condition('MemoryPressure', 'True')
        .condition('PIDPressure', 'True')
        .taint({ key: 'node.kubernetes.io/disk-pressure', effect: 'NoSchedule' })
        .taint({ key: 'node.kubernetes.io/memory-pressure', effect: 'NoSchedule' })
        .taint({ key: 'node.kubernetes.io/pid-pressure', effect: 'NoSchedule' })
        .build();
      const ds = daemonSet().strategy(strategy).namespace('kube-system').build();
      expect(counts(sync(world(ds, [n]), T0).plan)).toBe('1/0');
    });

    it('S-07 NetworkUnavailable: condition alone is ignored; the taint needs hostNetwork', () => {
      const ds = daemonSet().strategy(strategy);
      const conditionOnly = node('a').condition('NetworkUnavailable', 'True').build();
      expect(counts(sync(world(ds.build(), [conditionOnly]), T0).plan)).toBe('1/0');
      const tainted = node('b').notReady().condition('NetworkUnavailable', 'True').taint({ key: 'node.kubernetes.io/network-unavailable', effect: 'NoSchedule' }).build();
      const withHostNetwork = sync(world(ds.hostNetwork().build(), [tainted]), T0).plan;
      expect(counts(withHostNetwork)).toBe('1/0');
      const tolerations = withHostNetwork.createPods[0]?.pod.spec?.tolerations ?? [];
      expect(tolerations).toHaveLength(7);
      expect(tolerations[6]).toEqual({ key: 'node.kubernetes.io/network-unavailable', operator: 'Exists', effect: 'NoSchedule' });
      expect(counts(sync(world(ds.build(), [tainted]), T0).plan)).toBe('0/0');
    });

    it('S-09 resource requests are not checked by the controller', () => {
      const tooMuch = node('too-much-mem').allocatable({ memory: '100M', cpu: '200m' }).build();
      const other = plainPod('hog', 'test').onNode('too-much-mem').build();
      const dsA = daemonSet().strategy(strategy).resources({ memory: '75M', cpu: '75m' }).templateNodeName('too-much-mem').build();
      const a = sync(world(dsA, [tooMuch], [other]), T0).plan;
      expect(counts(a)).toBe('1/0');
      expect(a.createPods[0]?.pod.spec?.nodeName).toBe('too-much-mem');

      const small = node('not-enough-resource').allocatable({ memory: '10M', cpu: '20m' }).build();
      const big = node('enough-resource').allocatable({ memory: '100M', cpu: '200m' }).labels(NL).build();
      const dsB = daemonSet().strategy(strategy).resources({ memory: '50M', cpu: '75m' }).nodeSelector(NL).build();
      const b = sync(world(dsB, [small, big]), T0).plan;
      expect(counts(b)).toBe('1/0');
      expect(b.createPods[0]?.node).toBe('enough-resource');
      expect(b.events).toEqual([]);

      const limited = node('node-with-limited-memory').allocatable({ memory: '100M' }).build();
      const dsC = daemonSet().strategy(strategy).resources({ memory: '120M', cpu: '75m' }).build();
      const c1 = sync(world(dsC, [limited]), T0);
      expect(counts(c1.plan)).toBe('1/0');
      const withSecond = { ...c1.world, nodes: [...c1.world.nodes, node('node-with-enough-memory').allocatable({ memory: '200M', cpu: '2000m' }).build()] };
      const c2 = sync(withSecond, at(1));
      expect(counts(c2.plan)).toBe('1/0');
      const bound = { ...c2.world, pods: c2.world.pods.map((p) => (p.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms?.[0]?.matchFields?.[0]?.values?.[0] === 'node-with-enough-memory' ? { ...p, spec: { ...p.spec, containers: p.spec?.containers ?? [], nodeName: 'node-with-enough-memory' } } : p)) };
      const c3 = sync(markReady(bound, at(2), (p) => Boolean(p.spec?.nodeName)), at(3)).plan;
      expect([c3.status.desiredNumberScheduled, c3.status.currentNumberScheduled, c3.status.numberReady]).toEqual([2, 2, 1]);
    });

    it('S-10 host ports are not checked', () => {
      const dsA = daemonSet().strategy(strategy).templateNodeName('port-conflict').hostPort(666).build();
      const owned = daemonPod(dsA, 'existing').onNode('port-conflict').hostPort(666).build();
      expect(counts(sync(world(dsA, [node('port-conflict').build()], [owned]), T0).plan)).toBe('0/0');
      const other = plainPod('other', 'test').onNode('no-port-conflict').hostPort(6661).build();
      const dsB = daemonSet().strategy(strategy).hostPort(6662).build();
      expect(counts(sync(world(dsB, [node('no-port-conflict').build()], [other]), T0).plan)).toBe('1/0');
      const same = plainPod('other', 'test').onNode('no-port-conflict').hostPort(666).build();
      const dsC = daemonSet().strategy(strategy).hostPort(666).build();
      expect(counts(sync(world(dsC, [node('no-port-conflict').build()], [same]), T0).plan)).toBe('1/0');
    });

    it('S-11 nodeSelector selects nodes', () => {
      const ds = daemonSet().strategy(strategy).nodeSelector(NL).build();
      const p = sync(world(ds, [...nodes(4), ...nodes(3, NL, 4)]), T0).plan;
      expect(p.createPods.map((c) => c.node)).toEqual(['node-4', 'node-5', 'node-6']);
      expect(p.status.desiredNumberScheduled).toBe(3);
    });

    it('S-13 nodeSelector with many existing pods: fill, prune, release', () => {
      const ds = daemonSet().strategy(strategy).nodeSelector(NL).build();
      const pods: V1Pod[] = [];
      let i = 0;
      const add = (nodeName: string, n: number, labels: Readonly<Record<string, string>>): void => {
        for (let k = 0; k < n; k++) pods.push(daemonPod(ds, `p-${nodeName}-${i++}`).onNode(nodeName).labels(labels).created(at(i)).build());
      };
      add('node-0', 1, L1);
      add('node-1', 3, L1);
      add('node-1', 2, L2);
      add('node-2', 4, L1);
      add('node-6', 13, L1);
      add('node-7', 4, L2);
      add('node-9', 1, L1);
      add('node-9', 1, L2);
      const p = sync(world(ds, [...nodes(5), ...nodes(5, NL, 5)], pods), T0).plan;
      expect(counts(p)).toBe('3/20');
      expect(p.createPods.map((c) => c.node)).toEqual(['node-5', 'node-7', 'node-8']);
      const byNode = (n: string) => p.deletePods.filter((d) => d.node === n).length;
      expect([byNode('node-0'), byNode('node-1'), byNode('node-2'), byNode('node-6')]).toEqual([1, 3, 4, 12]);
      expect(p.deletePods.some((d) => d.name === 'p-node-6-10')).toBe(false);
      expect(p.ownership.filter((o) => o.action === 'release')).toHaveLength(7);
    });

    it('S-14 nodeSelector matching no node does nothing', () => {
      const ds = daemonSet().strategy(strategy).nodeSelector(NL2).build();
      const p = sync(world(ds, [...nodes(4), ...nodes(3, NL, 4)]), T0).plan;
      expect(counts(p)).toBe('0/0');
      expect(p.status.desiredNumberScheduled).toBe(0);
    });

    it('S-15 template nodeName', () => {
      const a = sync(world(daemonSet().strategy(strategy).templateNodeName('node-0').build(), nodes(5)), T0).plan;
      expect(counts(a)).toBe('1/0');
      expect(a.createPods[0]?.pod.spec?.nodeName).toBe('node-0');
      expect(counts(sync(world(daemonSet().strategy(strategy).templateNodeName('node-10').build(), nodes(5)), T0).plan)).toBe('0/0');
      const mixed = [...nodes(4), ...nodes(3, NL, 4)];
      const c = sync(world(daemonSet().strategy(strategy).nodeSelector(NL).templateNodeName('node-6').build(), mixed), T0).plan;
      expect(c.createPods.map((x) => x.node)).toEqual(['node-6']);
      expect(counts(sync(world(daemonSet().strategy(strategy).nodeSelector(NL).templateNodeName('node-0').build(), mixed), T0).plan)).toBe('0/0');
    });

    it('S-16 required node affinity selects nodes; created pods carry only the node-name term', () => {
      const a = daemonSet().strategy(strategy).requiredAffinity([{ matchExpressions: [{ key: 'color', operator: 'In', values: ['blue'] }] }]).build();
      expect(sync(world(a, [...nodes(4), ...nodes(3, NL, 4)]), T0).plan.createPods.map((c) => c.node)).toEqual(['node-4', 'node-5', 'node-6']);
      const b = daemonSet()
        .strategy(strategy)
        .requiredAffinity([{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['test'] }] }, { matchFields: [{ key: 'metadata.name', operator: 'In', values: ['node-1'] }] }])
        .build();
      const six = [node('node-0').build(), node('node-1').build(), node('node-2').labels({ zone: 'test' }).build(), node('node-3').labels({ zone: 'test' }).build(), node('node-4').build(), node('node-5').build()];
      const r = sync(world(b, six), T0);
      expect(r.plan.createPods.map((c) => c.node)).toEqual(['node-1', 'node-2', 'node-3']);
      for (const c of r.plan.createPods) {
        expect(c.pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms).toEqual([
          { matchFields: [{ key: 'metadata.name', operator: 'In', values: [c.node] }] },
        ]);
      }
      expect(sync(markReady(r.world, at(1)), at(2)).plan.status.numberReady).toBe(3);
    });
  });

  it('S-17 eligibility predicate matrix', () => {
    const n = node('test-node').labels(L1).allocatable({ memory: '100M', cpu: '1' }).build();
    const base = daemonSet();
    const cases: [string, ReturnType<typeof base.build>, [boolean, boolean]][] = [
      ['requests fit', base.resources({ memory: '50M', cpu: '500m' }).build(), [true, true]],
      ['requests exceed allocatable', base.resources({ memory: '200M' }).build(), [true, true]],
      ['template nodeName other-node', base.templateNodeName('other-node').build(), [false, false]],
      ['host port conflict', base.hostPort(666).build(), [true, true]],
      ['resources and host port', base.resources({ memory: '100M' }).hostPort(666).build(), [true, true]],
      ['nodeSelector L2', base.nodeSelector(L2).build(), [false, false]],
      ['nodeSelector L1', base.nodeSelector(L1).build(), [true, true]],
      ['affinity type In [test]', base.requiredAffinity([{ matchExpressions: [{ key: 'type', operator: 'In', values: ['test'] }] }]).build(), [false, false]],
      ['affinity type In [production]', base.requiredAffinity([{ matchExpressions: [{ key: 'type', operator: 'In', values: ['production'] }] }]).build(), [true, true]],
    ];
    for (const [name, ds, [run, cont]] of cases) {
      expect(nodeShouldRunDaemonPod(n, ds), name).toEqual({ shouldRun: run, shouldContinueRunning: cont });
    }
    const cordoned = node('test-node').labels(L1).unschedulable().build();
    expect(nodeShouldRunDaemonPod(cordoned, base.build())).toEqual({ shouldRun: true, shouldContinueRunning: true });
  });

  it('S-18 node labels added/changed under a nodeSelector', () => {
    const ds = daemonSet().onDelete().nodeSelector({ 'daemonset-color': 'blue' }).build();
    let w = world(ds, nodes(2));
    let r = sync(w, T0);
    expect(counts(r.plan)).toBe('0/0');
    expect(r.plan.status.desiredNumberScheduled).toBe(0);
    const relabel = (color: string) => (x: World): World => ({ ...x, nodes: x.nodes.map((n) => (n.metadata?.name === 'node-0' ? node('node-0').labels({ 'daemonset-color': color }).build() : n)) });
    w = relabel('blue')(r.world);
    r = sync(w, at(1));
    expect(r.plan.createPods.map((c) => c.node)).toEqual(['node-0']);
    r = sync(markReady(r.world, at(2)), at(3));
    expect([r.plan.status.desiredNumberScheduled, r.plan.status.currentNumberScheduled, r.plan.status.numberReady]).toEqual([1, 1, 1]);
    r = sync(relabel('green')(r.world), at(4));
    expect(r.plan.deletePods.map((d) => [d.node, d.reason])).toEqual([['node-0', 'not-eligible']]);
    r = sync(r.world, at(5));
    expect([r.plan.status.desiredNumberScheduled, r.plan.status.numberMisscheduled]).toEqual([0, 0]);
    const updated = daemonSet().onDelete().nodeSelector({ 'daemonset-color': 'green' }).rollingUpdate(1).build();
    r = sync({ ...r.world, ds: { ...updated, status: r.world.ds.status } }, at(6));
    expect(r.plan.createPods.map((c) => c.node)).toEqual(['node-0']);
  });

  describe.each(strategies)('%s', (strategy) => {
    it('S-20 an unbound pod for a vanished node is deleted, a bound one is not', () => {
      const ds = daemonSet().strategy(strategy).build();
      const pods = [
        daemonPod(ds, 'on-0').onNode('node-0').build(),
        daemonPod(ds, 'bound-1').onNode('node-1').build(),
        daemonPod(ds, 'unbound-2').targeting('node-2').build(),
      ];
      const p = sync(world(ds, [node('node-0').build()], pods), T0).plan;
      expect(p.createPods).toEqual([]);
      expect(p.deletePods.filter((d) => d.reason === 'node-gone').map((d) => d.name)).toEqual(['unbound-2']);
      expect([p.status.desiredNumberScheduled, p.status.currentNumberScheduled, p.status.numberMisscheduled]).toEqual([1, 1, 0]);
    });
  });

  it('S-20 (OnDelete, exact): only the unbound pod is deleted', () => {
    const ds = daemonSet().onDelete().build();
    const pods = [daemonPod(ds, 'on-0').onNode('node-0').build(), daemonPod(ds, 'bound-1').onNode('node-1').build(), daemonPod(ds, 'unbound-2').targeting('node-2').build()];
    expect(sync(world(ds, [node('node-0').build()], pods), T0).plan.deletePods.map((d) => d.name)).toEqual(['unbound-2']);
  });

  it('MANAGE-8 a never-bound pod of a vanished node that is already terminating is not deleted again', () => {
    const ds = daemonSet().build();
    // An unbound pod is removed at once when deleted; one still terminating is held by a finalizer.
    const held = daemonPod(ds, 'unbound-2').targeting('node-2').finalizers(['example.com/hold']).deleting(T0).build();
    const r = sync(world(ds, [node('node-0').build()], [daemonPod(ds, 'on-0').onNode('node-0').build(), held]), at(1));
    expect(r.plan.deletePods).toEqual([]);
    expect(r.plan.events).toEqual([]);
    const again = sync(r.world, at(2)).plan;
    expect([counts(again), again.statusChanged, again.events.length]).toEqual(['0/0', false, 0]);
  });

  it('S-21 node deleted while its daemon pod is bound', () => {
    const ds = daemonSet().onDelete().build();
    const converged = converge(world(ds, nodes(2)), T0).world;
    const bound = { ...converged, pods: converged.pods.map((p) => ({ ...p, spec: { ...p.spec, containers: p.spec?.containers ?? [], nodeName: p.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms?.[0]?.matchFields?.[0]?.values?.[0] ?? '' } })) };
    const gone = { ...bound, nodes: bound.nodes.filter((n) => n.metadata?.name !== 'node-1') };
    const r = sync(gone, at(1));
    expect(counts(r.plan)).toBe('0/0');
    expect([r.plan.status.desiredNumberScheduled, r.plan.status.currentNumberScheduled, r.plan.status.numberMisscheduled]).toEqual([1, 1, 0]);
    const back = { ...r.world, nodes: [...r.world.nodes, node('node-1').build()] };
    expect(counts(sync(back, at(2)).plan)).toBe('0/0');
  });

  it('S-22 spec.os and other scheduler-only constraints are ignored', () => {
    const ds = daemonSet().build();
    const windows = { ...ds, spec: { ...ds.spec!, template: { ...ds.spec!.template, spec: { ...ds.spec!.template.spec!, os: { name: 'windows' } } } } };
    const p = plan(snapshotOf(world(windows, [node('linux').labels({ 'kubernetes.io/os': 'linux' }).build()])), T0);
    expect(counts(p)).toBe('1/0');
  });
});
