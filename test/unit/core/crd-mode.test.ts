import { describe, expect, it } from 'vitest';
import { buildDaemonPod } from '../../../lib/core/pod-template.js';
import { daemonSet } from '../../builders/daemon-set.js';

describe('pods of a dlds (CRD mode)', () => {
  it('CRD-3 carry the Cluster Autoscaler daemon-pod annotation next to the template annotations', () => {
    const dlds = { ...daemonSet().annotations({}).build(), apiVersion: 'daemonless.io/v1' };
    dlds.spec!.template.metadata!.annotations = { 'prometheus.io/scrape': 'true' };
    const pod = buildDaemonPod(dlds, 'node-1', 'abc', 'affinity', 'foo-x');
    expect(pod.metadata?.annotations).toEqual({ 'prometheus.io/scrape': 'true', 'cluster-autoscaler.kubernetes.io/daemonset-pod': 'true' });
    expect(pod.metadata?.ownerReferences?.[0]).toMatchObject({ apiVersion: 'daemonless.io/v1', kind: 'DaemonSet', controller: true });
    const bare = { ...daemonSet().build(), apiVersion: 'daemonless.io/v1' };
    expect(buildDaemonPod(bare, 'node-1', 'abc', 'nodeName', 'foo-y').metadata?.annotations).toEqual({ 'cluster-autoscaler.kubernetes.io/daemonset-pod': 'true' });
  });

  it('CRD-3 leaves the pods of a native DaemonSet exactly as upstream builds them', () => {
    const native = daemonSet().build();
    expect(buildDaemonPod(native, 'node-1', 'abc', 'affinity', 'foo-x').metadata).not.toHaveProperty('annotations');
    native.spec!.template.metadata!.annotations = { a: 'b' };
    expect(buildDaemonPod(native, 'node-1', 'abc', 'affinity', 'foo-x').metadata?.annotations).toEqual({ a: 'b' });
  });
});
