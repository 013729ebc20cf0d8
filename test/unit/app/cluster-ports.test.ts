import { describe, expect, it } from 'vitest';
import type { ClusterApi } from '../../../lib/app/cluster-api.js';
import { emitEventVia } from '../../../lib/app/cluster-ports.js';

type Involved = Parameters<ClusterApi['recordEvent']>[0];

function fakeCluster(daemonSets: Record<string, string>) {
  const recorded: Involved[] = [];
  const lookups: string[] = [];
  const cluster: Pick<ClusterApi, 'getDaemonSet' | 'recordEvent'> = {
    getDaemonSet: async (namespace, name) => {
      lookups.push(`${namespace}/${name}`);
      const uid = daemonSets[`${namespace}/${name}`];
      return uid === undefined ? null : { metadata: { name, namespace, uid } };
    },
    recordEvent: async (involved) => {
      recorded.push(involved);
      return true;
    },
  };
  return { cluster, recorded, lookups };
}

describe('emitEventVia()', () => {
  const event = { key: 'ns/ds', type: 'Warning' as const, reason: 'ReconcileFailed', message: 'TerminalError: forbidden' };

  it('uses the uid the failure carried, without a lookup', async () => {
    const f = fakeCluster({ 'ns/ds': 'stored-uid' });
    await emitEventVia(f.cluster, 'native', () => 0)({ ...event, uid: 'known-uid' });
    expect(f.recorded).toEqual([{ apiVersion: 'apps/v1', kind: 'DaemonSet', namespace: 'ns', name: 'ds', uid: 'known-uid' }]);
    expect(f.lookups).toEqual([]);
  });

  it('looks the uid up when the failure did not carry it', async () => {
    const f = fakeCluster({ 'ns/ds': 'stored-uid' });
    await emitEventVia(f.cluster, 'crd', () => 0)(event);
    expect(f.recorded).toEqual([{ apiVersion: 'daemonless.io/v1', kind: 'DaemonSet', namespace: 'ns', name: 'ds', uid: 'stored-uid' }]);
  });

  it('still records the Event, without a uid, when the DaemonSet is gone or the lookup fails', async () => {
    const gone = fakeCluster({});
    await emitEventVia(gone.cluster, 'native', () => 0)(event);
    expect(gone.recorded).toEqual([{ apiVersion: 'apps/v1', kind: 'DaemonSet', namespace: 'ns', name: 'ds' }]);
    const failing = fakeCluster({});
    failing.cluster.getDaemonSet = async () => { throw new Error('503'); };
    await emitEventVia(failing.cluster, 'native', () => 0)(event);
    expect(failing.recorded).toHaveLength(1);
  });
});
