import type { V1Pod } from '@kubernetes/client-node';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { nodePassAllowed, plan, planNodePass, type Plan } from '../../../lib/core/index.js';
import { arbWorld } from '../../builders/arbitraries.js';
import { at } from '../../builders/clock.js';
import { daemonSet } from '../../builders/daemon-set.js';
import { node } from '../../builders/node.js';
import { daemonPod, plainPod } from '../../builders/pod.js';
import { L1 } from '../../builders/labels.js';
import { converge, deepFreeze, markReady, podNode, setPhase, snapshotOf, sync, updateDaemonSet, world, type World } from '../../builders/world.js';

/** What a node-scoped pass reads (IMPL-6): the DaemonSet, that node, the pods bound to it, the revisions. */
function nodeSnapshot(w: World, name: string) {
  return deepFreeze(structuredClone({
    daemonSet: w.ds,
    nodes: w.nodes.filter((n) => n.metadata?.name === name),
    pods: w.pods.filter((p) => p.spec?.nodeName === name),
    revisions: w.revisions,
    complete: true,
  }));
}

const T = at(100);
const creates = (p: Plan) => p.createPods.map((c) => `${c.node} ${c.pod.metadata?.name}`).sort();
const deletes = (p: Plan) => p.deletePods.map((d) => `${d.node} ${d.name} ${d.reason}`).sort();

/** Every pod bound to the node it targets, as the scheduler does. */
const bound = (w: World): World => ({ ...w, pods: w.pods.map((p) => (p.spec?.nodeName ? p : { ...p, spec: { ...p.spec, containers: p.spec?.containers ?? [], nodeName: podNode(p) } })) });

/** A DaemonSet converged on three nodes, its pods bound and Ready. */
function converged(ds = daemonSet().build()): World {
  const w = converge(world(ds, [0, 1, 2].map((i) => node(`node-${i}`).build())), at(0)).world;
  return bound(markReady(w, at(0)));
}

describe('planNodePass() — IMPL-6', () => {
  it('creates the missing pod on a node that joined: the pod the full pass would create there', () => {
    const w = converged();
    const joined = { ...w, nodes: [...w.nodes, node('node-3').build()] };
    const scoped = planNodePass(nodeSnapshot(joined, 'node-3'), 'node-3', T);
    const full = plan(snapshotOf(joined), T);
    expect(scoped).not.toBeNull();
    expect(scoped?.createPods).toEqual(full.createPods);
    expect(scoped?.createPods).toHaveLength(1);
    expect([scoped?.deletePods, scoped?.statusChanged, scoped?.revisions.create, scoped?.ownership, scoped?.events]).toEqual([[], false, null, [], []]);
  });

  it('deletes the pod of a node that no longer matches the nodeSelector, and does nothing on a settled node', () => {
    const w = converged(daemonSet().nodeSelector({ role: 'daemon' }).build());
    const labelled = converged(daemonSet().nodeSelector({ role: 'daemon' }).build());
    const withLabels = { ...labelled, nodes: labelled.nodes.map((n) => node(n.metadata?.name ?? '').labels({ role: 'daemon' }).build()) };
    const running = bound(markReady(converge(withLabels, at(0)).world, at(0)));
    expect(w.pods).toHaveLength(0);
    const unlabelled = { ...running, nodes: running.nodes.map((n) => (n.metadata?.name === 'node-1' ? node('node-1').build() : n)) };
    const scoped = planNodePass(nodeSnapshot(unlabelled, 'node-1'), 'node-1', T);
    expect(deletes(scoped as Plan)).toEqual(deletes(plan(snapshotOf(unlabelled), T)));
    expect(scoped?.deletePods.map((d) => d.reason)).toEqual(['not-eligible']);
    expect(creates(planNodePass(nodeSnapshot(unlabelled, 'node-0'), 'node-0', T) as Plan)).toEqual([]);
  });

  it('leaves every node to the full pass while a rolling update is under way, and never replaces a pod for it', () => {
    const b = daemonSet().rollingUpdate(1);
    const w = converged(b.build());
    const updated = updateDaemonSet(w, b.update((x) => x.image('foo/bar:v2')).build());
    // One full pass writes the new revision and starts the rollout; its status shows it under way.
    const started = bound(sync(updated, at(10)).world);
    expect(nodePassAllowed(started.ds)).toBe(false);
    expect(plan(snapshotOf(started), at(11)).deletePods.length + plan(snapshotOf(started), at(11)).createPods.length).toBeGreaterThan(0);
    for (const n of ['node-0', 'node-1', 'node-2']) expect(planNodePass(nodeSnapshot(started, n), n, at(11))).toBeNull();
    // Were the stored status to say otherwise, a node holding a pod of the older revision is still left alone.
    const claimsDone = { ...started, ds: { ...started.ds, status: { ...started.ds.status!, updatedNumberScheduled: 3, desiredNumberScheduled: 3, observedGeneration: started.ds.metadata?.generation ?? 0 } } };
    expect(nodePassAllowed(claimsDone.ds)).toBe(true);
    expect(started.pods.filter((p) => p.spec?.nodeName === 'node-2' && p.metadata?.deletionTimestamp === undefined)).toHaveLength(1);
    expect(planNodePass(nodeSnapshot(claimsDone, 'node-2'), 'node-2', at(11))).toBeNull();
  });

  it('nodes still waiting for their pod are no rollout; a node with a pod of an older revision is', () => {
    const ds = converged(daemonSet().rollingUpdate(1).build()).ds;
    const status = (current: number, updated: number) => ({ ...ds, status: { ...ds.status!, desiredNumberScheduled: 5, currentNumberScheduled: current, updatedNumberScheduled: updated } });
    expect(nodePassAllowed(status(3, 3))).toBe(true);
    expect(nodePassAllowed(status(3, 2))).toBe(false);
    expect(nodePassAllowed({ ...status(3, 3), metadata: { ...ds.metadata, generation: (ds.status?.observedGeneration ?? 0) + 1 } })).toBe(false);
    expect(nodePassAllowed({ ...ds, status: undefined })).toBe(false);
    expect(nodePassAllowed({ ...status(3, 2), spec: { ...ds.spec!, updateStrategy: { type: 'OnDelete' } } })).toBe(true);
  });

  it('under OnDelete a pending update is no rollout: the node pass does the work', () => {
    const b = daemonSet().onDelete();
    const w = converged(b.build());
    const updated = bound(sync(updateDaemonSet(w, b.update((x) => x.image('foo/bar:v2')).build()), at(10)).world);
    expect(nodePassAllowed(updated.ds)).toBe(true);
    const joined = { ...updated, nodes: [...updated.nodes, node('node-3').build()] };
    expect(creates(planNodePass(nodeSnapshot(joined, 'node-3'), 'node-3', at(11)) as Plan)).toEqual(creates(plan(snapshotOf(joined), at(11))));
  });

  it.each<[string, (w: World) => World]>([
    ['the node is gone', (w) => ({ ...w, nodes: w.nodes.filter((n) => n.metadata?.name !== 'node-1') })],
    ['the template has no revision yet', (w) => updateDaemonSet(w, daemonSet().update((x) => x.image('foo/bar:v2')).build())],
    ['a rollout control is set', (w) => updateDaemonSet(w, daemonSet().annotations({ 'daemonless.io/rollout-paused': 'true' }).build())],
    ['the DaemonSet is being deleted', (w) => updateDaemonSet(w, daemonSet().deleting(at(5)).build())],
    ['a daemon pod there failed (back-off and events need the full pass)', (w) => setPhase(w, 'Failed', (p) => p.spec?.nodeName === 'node-1')],
    ['an orphan there is to be adopted', (w) => ({ ...w, pods: [...w.pods, plainPod('stray', 'test').labels(L1).onNode('node-1').build()] })],
  ])('leaves the node to a full pass (null) when %s', (_name, change) => {
    expect(planNodePass(nodeSnapshot(change(converged()), 'node-1'), 'node-1', T)).toBeNull();
  });

  it('property: on a node without unbound pods, a node-scoped plan does a subset of the full plan, exactly it under OnDelete', () => {
    fc.assert(fc.property(arbWorld, ({ w: start, strategy }) => {
      // One full pass first, so that the revision of the template exists.
      const w = sync(start, at(50)).world;
      const full = plan(snapshotOf(w), T);
      for (const n of w.nodes) {
        const name = n.metadata?.name ?? '';
        const unbound = w.pods.some((p: V1Pod) => !p.spec?.nodeName && JSON.stringify(p.spec?.affinity ?? {}).includes(`"${name}"`));
        if (unbound) continue;
        const scoped = planNodePass(nodeSnapshot(w, name), name, T);
        if (scoped === null) continue;
        const fullCreates = full.createPods.filter((c) => c.node === name).map((c) => `${c.node} ${c.pod.metadata?.labels?.['controller-revision-hash']}`);
        const scopedCreates = scoped.createPods.map((c) => `${c.node} ${c.pod.metadata?.labels?.['controller-revision-hash']}`);
        const fullDeletes = deletes({ ...full, deletePods: full.deletePods.filter((d) => d.node === name) });
        expect(scoped.createPods.every((c) => c.node === name) && scoped.deletePods.every((d) => d.node === name)).toBe(true);
        if (strategy === 'OnDelete') {
          expect(scopedCreates).toEqual(fullCreates);
          expect(deletes(scoped)).toEqual(fullDeletes);
        } else {
          for (const c of scopedCreates) expect(fullCreates).toContain(c);
          for (const d of deletes(scoped)) expect(fullDeletes).toContain(d);
        }
      }
    }), { numRuns: 300 });
  });

  it('an owned pod bound elsewhere is not in the node pass (the field selector), and the node pass plans from what is there', () => {
    const w = converged();
    const elsewhere = daemonPod(w.ds, 'other').onNode('node-0').build();
    const s = nodeSnapshot({ ...w, pods: [...w.pods, elsewhere] }, 'node-1');
    expect(s.pods.every((p) => p.spec?.nodeName === 'node-1')).toBe(true);
    expect(creates(planNodePass(s, 'node-1', T) as Plan)).toEqual([]);
  });
});
