/**
 * Named, deterministic fault cases: the nastiest interleavings the randomized runs found or
 * exercise, each reproduced with a scripted fault layer and checked with the same invariant checks.
 */
import { describe, expect, it } from 'vitest';
import { TransientError } from '../../../lib/app/errors.js';
import { createReconciler } from '../../../lib/app/reconcile-key.js';
import { FAILED_POD_BACKOFF_ANNOTATION } from '../../../lib/core/index.js';
import { scriptedApi, type ScriptedCall, type ScriptedFault } from '../../support/fault-cluster.js';
import { MemoryApiServer } from '../../support/memory-api-server.js';
import { MemoryKubeCluster, type MemoryKubeClusterOptions } from '../../support/memory-clients.js';
import {
  buildDaemonSet, buildNode, checkPass, checkPodsPerNode, Clock, convergenceProblems, dsKey, NAMESPACE, PLAN_OPTIONS_BACKOFF, viewOf,
  type DsSpec, type DsView, type Violation,
} from './harness.js';

const RU = (maxUnavailable: number | string): DsSpec['strategy'] => ({ type: 'RollingUpdate', maxUnavailable, maxSurge: 0 });
const SG = (maxSurge: number | string): DsSpec['strategy'] => ({ type: 'RollingUpdate', maxUnavailable: 0, maxSurge });
const spec = (strategy: DsSpec['strategy'], more: Partial<DsSpec> = {}): DsSpec => ({ strategy, minReady: 0, grace: 0, nodeSelector: false, tolerate: false, image: 1, ...more });
const KEY = dsKey(0);

/** One DaemonSet on `nodes` plain nodes, page size 1 (every list of more than one object pages). */
function cluster(nodes: number, ds: DsSpec) {
  const clock = new Clock();
  const server = new MemoryApiServer(() => clock.date(), { bindAfterTicks: 0, readyAfterTicks: 0 });
  for (let i = 0; i < nodes; i++) server.putNode(buildNode(`node-${i}`, { labelled: false, taint: 'none' }));
  server.applyDaemonSet(buildDaemonSet(0, ds));
  const view = (): DsView => viewOf(server, KEY, clock.date()) as DsView;

  /** One pass, optionally through a fault script; returns the invariant violations of the pass. */
  const pass = async (script?: (call: ScriptedCall) => ScriptedFault): Promise<{ violations: Violation[]; error?: unknown; writes: number }> => {
    let truncated = false;
    const options: MemoryKubeClusterOptions = script
      ? {
        pageSize: 1,
        rawFor: (id) => scriptedApi(server, id, (c) => {
          const f = script(c);
          if (f === 'expire' && c.continued) truncated = true;
          return f;
        }),
      }
      : { pageSize: 1 };
    const reconcile = createReconciler({ cluster: new MemoryKubeCluster(server, options), planOptions: { failedPodBackoff: PLAN_OPTIONS_BACKOFF }, now: () => clock.date() });
    const before = view();
    const first = server.writes.length;
    let error: unknown;
    try {
      await reconcile(KEY);
    } catch (e) {
      error = e;
    }
    const writes = server.writes.slice(first);
    return { violations: [...checkPass(before, view(), writes, truncated), ...checkPodsPerNode(view(), before.surge).map((d) => ({ rule: '1', step: 0, detail: d }))], error, writes: writes.length };
  };

  const tick = (n = 1): void => {
    for (let i = 0; i < n; i++) {
      clock.ms += 1000;
      server.tick();
    }
  };

  /** Clean passes and ticks until converged; fails the test otherwise. */
  const settle = async (): Promise<void> => {
    for (let i = 0; i < 60; i++) {
      const r = await pass();
      expect(r.violations).toEqual([]);
      if (r.writes === 0 && convergenceProblems(view()).length === 0) return;
      tick();
    }
    expect(convergenceProblems(view())).toEqual([]);
  };

  const setImage = (image: number): void => {
    const current = server.daemonSets.get(KEY);
    server.applyDaemonSet({ ...buildDaemonSet(0, { ...ds, image }), metadata: current?.metadata ?? {} });
  };

  return { server, clock, view, pass, tick, settle, setImage };
}

const podsOn = (v: DsView, node: string) => v.byNode.get(node) ?? [];
const live = (v: DsView) => [...v.byNode.values()].flat().filter((p) => !p.deleting && !p.terminal);

describe('fault injection: named cases', () => {
  it('a create in a namespace being deleted is ignored, as the adapter and upstream ignore it: the pass succeeds, creates nothing, and a replay changes nothing', async () => {
    const c = cluster(2, spec(RU(1)));
    c.server.terminating.add(NAMESPACE);
    for (let i = 0; i < 2; i++) {
      const r = await c.pass();
      expect(r.error).toBeUndefined();
      expect(r.violations).toEqual([]);
    }
    expect(c.server.pods.size).toBe(0);
    expect(c.server.revisions.size).toBe(0);
    expect(c.server.writes.filter((w) => w.op === 'createPod' || w.op === 'createRevision')).toEqual([]);
  });

  it('a pod list cut short does not make a non-surge pass create a second pod next to a pod it did not see', async () => {
    const c = cluster(2, spec(RU(1)));
    await c.settle();
    c.setImage(2);
    // Every continue token of the pod list expires: the pass sees only the first page's pod.
    const r = await c.pass((call) => (call.op === 'listPods' ? 'expire' : 'pass'));
    expect(r.violations).toEqual([]);
    expect(r.error).toBeInstanceOf(TransientError);
    expect(r.writes).toBe(0);
    for (const n of ['node-0', 'node-1']) expect(podsOn(c.view(), n)).toHaveLength(1);
    await c.settle();
  });

  it('a node list cut short writes no status computed from the nodes it saw, and deletes nothing', async () => {
    const c = cluster(3, spec(RU(1)));
    await c.settle();
    const status = structuredClone(c.server.daemonSets.get(KEY)?.status);
    c.server.putNode(buildNode('node-2', { labelled: false, taint: 'NoExecute' }));
    const r = await c.pass((call) => (call.op === 'listNodes' ? 'expire' : 'pass'));
    expect(r.violations).toEqual([]);
    expect(r.writes).toBe(0);
    expect(c.server.daemonSets.get(KEY)?.status).toEqual(status);
    await c.settle();
    expect(podsOn(c.view(), 'node-2')).toEqual([]);
  });

  it('a function dying right after its first rolling-update delete, then replayed with lost responses, stays within maxUnavailable', async () => {
    const c = cluster(4, spec(RU(2), { grace: 30 }));
    await c.settle();
    c.setImage(2);
    const died = await c.pass((call) => (call.op === 'deletePod' ? 'die' : 'pass'));
    expect(died.error).toBeInstanceOf(TransientError);
    expect(died.violations).toEqual([]);
    expect([...c.view().byNode.values()].flat().filter((p) => p.deleting)).toHaveLength(1);
    for (let i = 0; i < 4; i++) {
      const r = await c.pass((call) => (call.writeIndex >= 0 ? 'lose' : 'pass'));
      expect(r.violations).toEqual([]);
    }
    const unavailable = [...c.view().eligible].filter((n) => !podsOn(c.view(), n).some((p) => p.available && !p.deleting));
    expect(unavailable).toHaveLength(2);
    await c.settle();
  });

  it('a create whose response was lost ends the slow-start batch, and the retry neither repeats nor loses it', async () => {
    const c = cluster(2, spec(RU(1)));
    const lost = await c.pass((call) => (call.op === 'createPod' ? 'lose' : 'pass'));
    expect(lost.error).toBeInstanceOf(TransientError);
    expect(c.server.pods.size).toBe(1);
    const retry = await c.pass();
    expect(retry.error).toBeUndefined();
    expect(retry.violations).toEqual([]);
    expect(c.server.pods.size).toBe(2);
    expect(c.server.writes.filter((w) => w.op === 'createPod')).toHaveLength(2);
    await c.settle();
  });

  it('surge: passes replayed while the new pods are not yet available never surge past maxSurge', async () => {
    const c = cluster(4, spec(SG(1)));
    await c.settle();
    c.setImage(2);
    for (let i = 0; i < 5; i++) {
      const r = await c.pass((call) => (call.writeIndex >= 0 && call.op !== 'createRevision' ? 'lose' : 'pass'));
      expect(r.violations).toEqual([]);
    }
    const surging = [...c.view().byNode.values()].filter((pods) => pods.length === 2);
    expect(surging).toHaveLength(1);
    await c.settle();
  });

  it('the back-off record bumps the resourceVersion; the status write that follows conflicts, re-reads and lands', async () => {
    const c = cluster(2, spec(RU(1)));
    await c.settle();
    const victim = podsOn(c.view(), 'node-0')[0]?.name ?? '';
    c.server.failPod(NAMESPACE, victim);
    const r = await c.pass();
    expect(r.error).toBeUndefined();
    expect(r.violations).toEqual([]);
    const ds = c.server.daemonSets.get(KEY);
    expect(ds?.metadata?.annotations?.[FAILED_POD_BACKOFF_ANNOTATION]).toBeDefined();
    expect(ds?.status?.numberReady).toBe(1);
    expect(c.server.writes.filter((w) => w.op === 'replaceDaemonSetStatus')).not.toHaveLength(0);
    await c.settle();
  });

  it('a function dying right after deleting a failed pod keeps the back-off: the next failure on that node waits', async () => {
    const c = cluster(2, spec(RU(1)));
    await c.settle();
    const first = podsOn(c.view(), 'node-0')[0]?.name ?? '';
    const firstUid = podsOn(c.view(), 'node-0')[0]?.uid;
    c.server.failPod(NAMESPACE, first);
    const died = await c.pass((call) => (call.op === 'deletePod' ? 'die' : 'pass'));
    expect(died.error).toBeInstanceOf(TransientError);
    expect(c.server.pods.has(`${NAMESPACE}/${first}`)).toBe(false);
    const record = c.server.daemonSets.get(KEY)?.metadata?.annotations?.[FAILED_POD_BACKOFF_ANNOTATION] ?? '{}';
    expect(Object.keys((JSON.parse(record) as { nodes?: object }).nodes ?? {})).toEqual(['node-0']);
    // The replacement fails at once: it is kept until its back-off has run out, not deleted in a hot loop.
    expect((await c.pass()).violations).toEqual([]);
    const second = podsOn(c.view(), 'node-0')[0];
    expect(second?.uid).not.toBe(firstUid);
    c.server.failPod(NAMESPACE, second?.name ?? '');
    const kept = await c.pass();
    expect(kept.violations).toEqual([]);
    expect(podsOn(c.view(), 'node-0').map((p) => [p.uid, p.phase])).toEqual([[second?.uid, 'Failed']]);
    c.tick(2);
    await c.settle();
  });

  it('surge: a create next to a superseded new pod waits for that pod\'s delete, and is skipped when the delete fails', async () => {
    const c = cluster(1, spec(SG(1), { minReady: 5 }));
    await c.settle();
    c.setImage(2);
    expect((await c.pass()).violations).toEqual([]);
    expect(live(c.view())).toHaveLength(2);
    // Template changes again mid-rollout: the unavailable v2 pod is superseded. The pass deletes it
    // and surges v3 next to the available v1 pod; the delete fails.
    c.setImage(3);
    const r = await c.pass((call) => (call.op === 'deletePod' ? 'fail' : 'pass'));
    expect(r.error).toBeInstanceOf(TransientError);
    expect(r.violations).toEqual([]);
    expect(live(c.view())).toHaveLength(2);
    expect((await c.pass()).violations).toEqual([]);
    expect(live(c.view()).map((p) => p.updated).sort()).toEqual([false, true]);
    await c.settle();
  });
});
