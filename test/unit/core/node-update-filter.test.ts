/**
 * WATCH-12 is sound: a node update the webhook drops for every DaemonSet is one that upstream's
 * per-DaemonSet filter (WATCH-10, `nodeChangePass`) would drop for each DaemonSet, whatever its
 * scheduling fields.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { nodeChangePass, nodeUpdateMattersToNoDaemonSet, schedulingOf, type TriggerNode, type TriggerTaint } from '../../../lib/core/index.js';
import { daemonSet } from '../../builders/daemon-set.js';

const taintPool: TriggerTaint[] = [
  { key: 'node.kubernetes.io/not-ready', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/not-ready', effect: 'NoExecute' },
  { key: 'node.kubernetes.io/unreachable', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute', timeAdded: '2026-01-01T00:00:00Z' },
  { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute', timeAdded: '2026-01-01T00:05:00Z' },
  { key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/disk-pressure', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/network-unavailable', effect: 'NoSchedule' },
  { key: 'dedicated', value: 'gpu', effect: 'NoSchedule' },
  { key: 'dedicated', value: 'gpu', effect: 'PreferNoSchedule' },
  { key: 'dedicated', value: 'db', effect: 'NoExecute' },
];
const tolerationPool = [
  { operator: 'Exists' },
  { key: 'dedicated', operator: 'Equal', value: 'gpu', effect: 'NoSchedule' },
  { key: 'dedicated', operator: 'Exists' },
  { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 30 },
];
const labelPool: Record<string, string>[] = [{}, { role: 'daemon' }, { zone: 'a' }, { role: 'daemon', zone: 'a' }];

const arbTaints = fc.subarray(taintPool).chain((ts) => fc.shuffledSubarray(ts, { minLength: ts.length, maxLength: ts.length }));
const arbNode: fc.Arbitrary<TriggerNode> = fc.record({ labels: fc.constantFrom(...labelPool), taints: arbTaints });

describe('WATCH-12: the webhook\'s node-update filter', () => {
  it('property: an update it drops changes no DaemonSet\'s eligibility (nodeChangePass is null for every one)', () => {
    fc.assert(fc.property(
      arbNode, arbTaints, fc.subarray(tolerationPool), fc.boolean(), fc.option(fc.constantFrom<Record<string, string>>({ role: 'daemon' }, { zone: 'a' }), { nil: undefined }),
      (before: TriggerNode, afterTaints, tolerations, hostNetwork, nodeSelector) => {
        const after: TriggerNode = { labels: before.labels, taints: afterTaints };
        let b = daemonSet().tolerations(tolerations as never);
        if (hostNetwork) b = b.hostNetwork();
        if (nodeSelector) b = b.nodeSelector(nodeSelector);
        const ds = schedulingOf(b.build());
        if (nodeUpdateMattersToNoDaemonSet(before, after)) expect(nodeChangePass('n1', before, after, ds)).toBeNull();
      },
    ), { numRuns: 2000 });
  });

  it('lets a label change through, and a taint change that a DaemonSet could follow', () => {
    expect(nodeUpdateMattersToNoDaemonSet({ labels: { a: 'b' } }, { labels: { a: 'c' } })).toBe(false);
    expect(nodeUpdateMattersToNoDaemonSet({}, { taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }] })).toBe(false);
    expect(nodeUpdateMattersToNoDaemonSet({}, { taints: [{ key: 'node.kubernetes.io/unreachable', effect: 'NoExecute' }] })).toBe(true);
  });
});
