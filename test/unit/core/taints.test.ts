import { describe, expect, it } from 'vitest';
import { nodeShouldRunDaemonPod } from '../../../lib/core/index.js';
import { at, T0 } from '../../builders/clock.js';
import { daemonSet } from '../../builders/daemon-set.js';
import { node } from '../../builders/node.js';
import { daemonPod } from '../../builders/pod.js';
import { counts, markReady, statusLine, sync, world } from '../../builders/world.js';

const strategies = ['OnDelete', 'RollingUpdate'] as const;
const DEFAULTS = [
  { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' },
  { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' },
  { key: 'node.kubernetes.io/disk-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/memory-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/pid-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' },
];

describe('B. Taints and tolerations', () => {
  describe.each(strategies)('%s', (strategy) => {
    it('S-25 an untolerated NoSchedule taint blocks new pods', () => {
      const n = node('n').taint({ key: 'dedicated', value: 'user1', effect: 'NoSchedule' }).build();
      expect(counts(sync(world(daemonSet().strategy(strategy).build(), [n]), T0).plan)).toBe('0/0');
    });

    it('S-26 a matching toleration allows scheduling; defaults follow the user toleration', () => {
      const ds = daemonSet().strategy(strategy).tolerations([{ key: 'dedicated', value: 'user1', effect: 'NoSchedule' }]).build();
      const tainted = node('a').taint({ key: 'dedicated', value: 'user1', effect: 'NoSchedule' }).build();
      const p = sync(world(ds, [tainted]), T0).plan;
      expect(counts(p)).toBe('1/0');
      expect(p.createPods[0]?.pod.spec?.tolerations).toEqual([{ key: 'dedicated', value: 'user1', effect: 'NoSchedule' }, ...DEFAULTS]);
      expect(counts(sync(world(ds, [node('b').build()]), T0).plan)).toBe('1/0');
    });

    it('S-27 removing a taint creates the pod', () => {
      const ds = daemonSet().strategy(strategy).build();
      const tainted = node('node-with-taint').taint({ key: 'key1', value: 'val1', effect: 'NoSchedule' }).build();
      let r = sync(world(ds, [tainted, node('node-without-taint').build()]), T0);
      expect(r.plan.createPods.map((c) => c.node)).toEqual(['node-without-taint']);
      r = sync(markReady(r.world, at(1)), at(2));
      expect(r.plan.status.numberReady).toBe(1);
      r = sync({ ...r.world, nodes: [node('node-with-taint').build(), node('node-without-taint').build()] }, at(3));
      expect(r.plan.createPods.map((c) => c.node)).toEqual(['node-with-taint']);
      r = sync(markReady(r.world, at(4)), at(5));
      expect(r.plan.status.numberReady).toBe(2);
    });
  });

  it('S-29 not-ready:NoSchedule is not tolerated by default; existing pods continue as misscheduled', () => {
    const ds = daemonSet().build();
    const taint = { key: 'node.kubernetes.io/not-ready', effect: 'NoSchedule' };
    const a = sync(world(ds, [node('n').taint(taint).build()]), T0).plan;
    expect(counts(a)).toBe('0/0');
    expect(a.status.desiredNumberScheduled).toBe(0);
    const pod = daemonPod(ds, 'p').onNode('n').ready(T0).build();
    const b = sync(world(ds, [node('n').taint(taint).build()], [pod]), at(1)).plan;
    expect(counts(b)).toBe('0/0');
    expect([b.status.numberMisscheduled, b.status.desiredNumberScheduled]).toEqual([1, 0]);
    const c = sync(world(ds, [node('n').build()], [pod]), at(2)).plan;
    expect(counts(c)).toBe('0/0');
    expect([c.status.desiredNumberScheduled, c.status.currentNumberScheduled, c.status.numberMisscheduled]).toEqual([1, 1, 0]);
  });

  it('S-30 default tolerations are merged; a user tolerationSeconds on one of them is overridden', () => {
    const ds = daemonSet()
      .tolerations([
        { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
        { key: 'node.kubernetes.io/unreachable', operator: 'Equal', value: '', effect: 'NoExecute' },
      ])
      .build();
    const p = sync(world(ds, [node('n').build()]), T0).plan;
    expect(p.createPods[0]?.pod.spec?.tolerations).toEqual([
      { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' },
      { key: 'node.kubernetes.io/unreachable', operator: 'Equal', value: '', effect: 'NoExecute' },
      ...DEFAULTS.slice(1),
    ]);
    expect(ds.spec?.template.spec?.tolerations?.[0]?.tolerationSeconds).toBe(300);
  });

  it('S-31 tolerationSeconds does not matter for eligibility', () => {
    const ds = daemonSet().tolerations([{ key: 'maint', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 10 }]).build();
    const n = node('n').taint({ key: 'maint', value: 'true', effect: 'NoExecute' }).build();
    const r = sync(world(ds, [n]), T0);
    expect(counts(r.plan)).toBe('1/0');
    expect(counts(sync(r.world, at(3600)).plan)).toBe('0/0');
  });

  it('S-32 a wildcard toleration tolerates every taint', () => {
    const ds = daemonSet().tolerations([{ operator: 'Exists' }]).build();
    const a = node('a').taint({ key: 'a', value: 'b', effect: 'NoSchedule' }).build();
    const c = node('c').taint({ key: 'c', value: 'd', effect: 'NoExecute' }).build();
    expect(sync(world(ds, [a, c]), T0).plan.createPods.map((x) => x.node)).toEqual(['a', 'c']);
  });

  it('SCHED-7 NoSchedule/NoExecute asymmetry; PreferNoSchedule ignored', () => {
    const ds = daemonSet().build();
    expect(nodeShouldRunDaemonPod(node('n').taint({ key: 'x', effect: 'NoSchedule' }).build(), ds)).toEqual({ shouldRun: false, shouldContinueRunning: true });
    expect(nodeShouldRunDaemonPod(node('n').taint({ key: 'x', effect: 'NoExecute' }).build(), ds)).toEqual({ shouldRun: false, shouldContinueRunning: false });
    expect(nodeShouldRunDaemonPod(node('n').taint({ key: 'x', effect: 'PreferNoSchedule' }).build(), ds)).toEqual({ shouldRun: true, shouldContinueRunning: true });
  });

  it('MANAGE-5 an untolerated NoExecute taint evicts the daemon pod', () => {
    const ds = daemonSet().build();
    const pod = daemonPod(ds, 'p').onNode('n').ready(T0).build();
    const p = sync(world(ds, [node('n').taint({ key: 'x', effect: 'NoExecute' }).build()], [pod]), at(1)).plan;
    expect(p.deletePods).toEqual([{ name: 'p', namespace: 'test', uid: 'uid-pod-p', node: 'n', reason: 'not-eligible' }]);
    expect(statusLine(p)).toBe('0/0/0/0/0/0/1');
  });

  it('SCHED-6 toleration operators: Equal needs the value, Exists any value, Lt/Gt compare integers, effect must match', () => {
    const taint = { key: 'k', value: '5', effect: 'NoSchedule' };
    const n = node('n').taint(taint).build();
    const run = (t: Parameters<ReturnType<typeof daemonSet>['tolerations']>[0]) => nodeShouldRunDaemonPod(n, daemonSet().tolerations(t).build()).shouldRun;
    expect(run([{ key: 'k', operator: 'Equal', value: '5' }])).toBe(true);
    expect(run([{ key: 'k', operator: 'Equal', value: '6' }])).toBe(false);
    expect(run([{ key: 'k', operator: 'Exists' }])).toBe(true);
    expect(run([{ key: 'k', operator: 'Exists', effect: 'NoExecute' }])).toBe(false);
    expect(run([{ key: 'k', operator: 'Lt', value: '6' }])).toBe(true);
    expect(run([{ key: 'k', operator: 'Lt', value: '5' }])).toBe(false);
    expect(run([{ key: 'k', operator: 'Gt', value: '4' }])).toBe(true);
    expect(run([{ key: 'k', operator: 'Gt', value: 'x' }])).toBe(false);
  });
});
