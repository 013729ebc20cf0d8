import { describe, expect, it } from 'vitest';
import { executePlan } from '../../../lib/app/execute-plan.js';
import { plan, type V1ControllerRevision } from '../../../lib/core/index.js';
import { MemoryApiServer } from '../../support/memory-api-server.js';
import { MemoryKubeCluster } from '../../support/memory-clients.js';
import { T0 } from '../../builders/clock.js';
import { daemonSet } from '../../builders/daemon-set.js';
import { node } from '../../builders/node.js';
import { snapshotOf, world } from '../../builders/world.js';

const OPTIONS = { burstReplicas: 250, now: T0 };

/** Drops every `null` member, as a client that omits empty fields would store the same data. */
function withoutNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutNulls);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== null).map(([k, v]) => [k, withoutNulls(v)]));
}

describe('executePlan() — history', () => {
  it('a revision met on create that differs from the planned one only by null vs absent members is the planned one: no error, nothing rewritten', async () => {
    const server = new MemoryApiServer(() => T0);
    server.putNode(node('node-0').build());
    const ds = server.applyDaemonSet(daemonSet().build());
    // A pass that has not seen the revision yet (a stale read) plans to create it.
    const p = plan(snapshotOf(world(ds, [...server.nodes.values()])), T0);
    const planned = p.revisions.create as V1ControllerRevision;
    expect(JSON.stringify(planned.data)).toContain('"creationTimestamp":null');
    const stored = server.createRevision(ds.metadata?.namespace ?? '', { ...planned, data: withoutNulls(planned.data) as object });
    const first = server.writes.length;

    const result = await executePlan(new MemoryKubeCluster(server), ds, p, OPTIONS);

    expect(result.errors).toEqual([]);
    expect(server.writes.slice(first).filter((w) => w.kind === 'ControllerRevision')).toEqual([]);
    expect(server.revisions.get(`${ds.metadata?.namespace}/${planned.metadata?.name}`)).toEqual(stored);
    expect(result.podsCreated).toBe(1);
  });
});
