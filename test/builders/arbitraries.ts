/**
 * fast-check arbitraries of whole worlds: a DaemonSet (strategy, nodeSelector, minReadySeconds),
 * up to six nodes with labels and taints, and up to twelve pods of every kind (owned, old, orphan,
 * relabelled, unbound; any phase, Ready or not, being deleted or not).
 */
import type { V1Node, V1Pod } from '@kubernetes/client-node';
import fc from 'fast-check';
import { at } from './clock.js';
import { daemonSet, type DaemonSetBuilder } from './daemon-set.js';
import { L1, L2 } from './labels.js';
import { node } from './node.js';
import { daemonPod, plainPod } from './pod.js';
import { world } from './world.js';

const arbNode = (i: number) =>
  fc.record({ labelled: fc.boolean(), taint: fc.constantFrom('none', 'NoSchedule', 'NoExecute', 'PreferNoSchedule') }).map(({ labelled, taint }) => {
    let b = node(`node-${i}`);
    if (labelled) b = b.labels({ role: 'daemon' });
    if (taint !== 'none') b = b.taint({ key: 'k', value: 'v', effect: taint as 'NoSchedule' });
    return b.build();
  });

const arbPodSpec = fc.record({
  node: fc.nat(7),
  kind: fc.constantFrom('owned', 'owned-old', 'orphan', 'owned-l2', 'unbound'),
  phase: fc.constantFrom('Running', 'Pending', 'Failed', 'Succeeded'),
  ready: fc.boolean(),
  deleting: fc.boolean(),
  created: fc.nat(100),
});

const arbStrategy = fc.constantFrom<[string, (b: DaemonSetBuilder) => DaemonSetBuilder]>(
  ['OnDelete', (b) => b.onDelete()],
  ['RU(1)', (b) => b.rollingUpdate(1)],
  ['RU(2)', (b) => b.rollingUpdate(2)],
  ['RU(50%)', (b) => b.rollingUpdate('50%')],
  ['SG(1)', (b) => b.surge(1)],
  ['SG(100%)', (b) => b.surge('100%')],
);

export const arbWorld = fc
  .record({
    nodeCount: fc.integer({ min: 0, max: 6 }),
    selector: fc.boolean(),
    strategy: arbStrategy,
    pods: fc.array(arbPodSpec, { maxLength: 12 }),
    minReady: fc.constantFrom(0, 0, 10),
  })
  .chain((cfg) => fc.tuple(fc.constant(cfg), fc.tuple(...Array.from({ length: cfg.nodeCount }, (_, i) => arbNode(i)))))
  .map(([cfg, nodeList]) => {
    let b = cfg.strategy[1](daemonSet()).minReadySeconds(cfg.minReady);
    if (cfg.selector) b = b.nodeSelector({ role: 'daemon' });
    const ds = b.build();
    const pods: V1Pod[] = cfg.pods.map((s, i) => {
      const name = `p${i}`;
      let pb = s.kind === 'orphan' ? plainPod(name, 'test').labels(L1) : daemonPod(ds, name);
      if (s.kind === 'owned-old') pb = pb.old();
      if (s.kind === 'owned-l2') pb = pb.labels(L2);
      pb = s.kind === 'unbound' ? pb.targeting(`node-${s.node}`) : pb.onNode(`node-${s.node}`);
      pb = pb.phase(s.phase as 'Running').created(at(s.created));
      if (s.ready) pb = pb.ready(at(s.created));
      if (s.deleting) pb = pb.deleting(at(s.created + 1));
      return pb.build();
    });
    return { w: world(ds, nodeList as V1Node[], pods), strategy: cfg.strategy[0] };
  });

