import type { V1ControllerRevision, V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { CONTROLLER_REVISION_HASH_LABEL, computeTemplateHash, plan, revisionMatchesDaemonSet } from '../../../lib/core/index.js';
import { at, T0 } from '../../builders/clock.js';
import { daemonSet } from '../../builders/daemon-set.js';
import { L1 } from '../../builders/labels.js';
import { node, nodes } from '../../builders/node.js';
import { daemonPod } from '../../builders/pod.js';
import { revision } from '../../builders/revision.js';
import { converge, counts, markReady, snapshotOf, sync, updateDaemonSet, world, type World } from '../../builders/world.js';

const hashOfPod = (p: V1Pod) => p.metadata?.labels?.[CONTROLLER_REVISION_HASH_LABEL];
const byRevision = (w: World) => [...w.revisions].sort((a, b) => (a.revision ?? 0) - (b.revision ?? 0));

describe('G. OnDelete', () => {
  it('S-79 OnDelete does not touch existing pods', () => {
    const ds = daemonSet().onDelete();
    let w = markReady(converge(world(ds.build(), nodes(3)), T0).world, T0);
    expect(w.revisions).toHaveLength(1);
    const h1 = w.revisions[0]?.metadata?.labels?.[CONTROLLER_REVISION_HASH_LABEL];
    expect(new Set(w.pods.map(hashOfPod))).toEqual(new Set([h1]));
    w = updateDaemonSet(w, ds.update((b) => b.image('foo2/bar2')).build());
    const r = sync(w, at(1));
    expect(counts(r.plan)).toBe('0/0');
    expect(r.world.revisions).toHaveLength(2);
    expect(r.plan.revisions.currentRevision).toBe(2);
    expect(r.plan.revisions.currentHash).not.toBe(h1);
    expect(r.plan.status).toMatchObject({ updatedNumberScheduled: 0, numberUnavailable: 0, numberAvailable: 3, observedGeneration: 2 });
    expect(r.world.pods.map((p) => p.spec?.containers[0]?.image)).toEqual(['foo/bar', 'foo/bar', 'foo/bar']);
  });

  it('S-80 OnDelete: a user-deleted pod comes back updated', () => {
    const ds = daemonSet().onDelete();
    let w = markReady(converge(world(ds.build(), nodes(3)), T0).world, T0);
    w = sync(updateDaemonSet(w, ds.update((b) => b.image('foo2/bar2')).build()), at(1)).world;
    w = { ...w, pods: w.pods.slice(1) };
    const r = sync(w, at(2));
    expect(counts(r.plan)).toBe('1/0');
    expect(r.plan.createPods[0]?.pod.spec?.containers[0]?.image).toBe('foo2/bar2');
    expect(hashOfPod(r.plan.createPods[0]?.pod as V1Pod)).toBe(r.plan.revisions.currentHash);
    expect(sync(r.world, at(3)).plan.status.updatedNumberScheduled).toBe(1);
  });

  it('S-81 OnDelete still cleans up duplicates and failed pods', () => {
    const ds = daemonSet().onDelete().build();
    const dup = sync(world(ds, nodes(1), [daemonPod(ds, 'a').onNode('node-0').created(at(0)).build(), daemonPod(ds, 'b').onNode('node-0').created(at(300)).build()]), at(400)).plan;
    expect(dup.deletePods.map((d) => [d.name, d.reason])).toEqual([['b', 'duplicate']]);
    const failed = sync(world(ds, nodes(1), [daemonPod(ds, 'f').onNode('node-0').phase('Failed').build()]), at(400));
    expect(counts(failed.plan)).toBe('0/1');
    expect(failed.plan.events.map((e) => e.reason)).toEqual(['FailedDaemonPod']);
    expect(counts(sync(failed.world, at(401)).plan)).toBe('1/0');
  });
});

describe('H. History, hashing, rollback', () => {
  it('S-82 the initial revision', () => {
    const ds = daemonSet().annotations({ 'kubernetes.io/change-cause': 'initial' }).build();
    const r = sync(world(ds, nodes(2)), T0);
    const cr = r.plan.revisions.create as V1ControllerRevision;
    const h1 = r.plan.revisions.currentHash;
    expect(cr.metadata?.name).toBe(`foo-${h1}`);
    expect(h1).toMatch(/^[bcdfghjklmnpqrstvwxz2456789]{1,10}$/);
    expect(cr.revision).toBe(1);
    expect(cr.metadata?.labels).toEqual({ ...L1, [CONTROLLER_REVISION_HASH_LABEL]: h1 });
    expect(cr.metadata?.annotations).toEqual({ 'deprecated.daemonset.template.generation': '1', 'kubernetes.io/change-cause': 'initial' });
    expect(cr.metadata?.ownerReferences).toEqual([{ apiVersion: 'apps/v1', kind: 'DaemonSet', name: 'foo', uid: 'uid-ds-foo', controller: true, blockOwnerDeletion: true }]);
    const data = cr.data as { spec: { template: Record<string, unknown> } };
    expect(Object.keys(data.spec.template)[0]).toBe('$patch');
    expect(data.spec.template['$patch']).toBe('replace');
    expect(JSON.stringify(data)).toContain('"creationTimestamp":null');
    expect(revisionMatchesDaemonSet(cr, ds)).toBe(true);
    expect(r.plan.createPods.every((c) => hashOfPod(c.pod) === h1)).toBe(true);
    expect(counts(sync(r.world, at(1)).plan)).toBe('0/0');
    expect(sync(r.world, at(1)).plan.revisions.create).toBeNull();
  });

  it('S-83 a template change creates a new revision and keeps the old one', () => {
    const ds = daemonSet();
    let w = converge(world(ds.build(), nodes(1)), T0).world;
    w = updateDaemonSet(w, ds.update((b) => b.image('foo2/bar2')).build());
    const r = converge(w, at(1));
    const revs = byRevision(r.world);
    expect(revs.map((x) => x.revision)).toEqual([1, 2]);
    expect(revisionMatchesDaemonSet(revs[1] as V1ControllerRevision, r.world.ds)).toBe(true);
    expect(r.world.pods.map(hashOfPod)).toEqual([revs[1]?.metadata?.labels?.[CONTROLLER_REVISION_HASH_LABEL]]);
  });

  it('S-85 reverting the template reuses the old revision without restarting its pods', () => {
    const ds = daemonSet().rollingUpdate(1);
    let w = markReady(converge(world(ds.build(), nodes(3)), T0).world, T0);
    const original = byRevision(w)[0] as V1ControllerRevision;
    const broken = ds.update((b) => b.image('foo:non-existent'));
    w = updateDaemonSet(w, broken.build());
    w = sync(w, at(1)).world;
    w = sync(w, at(2)).world;
    expect(w.pods.filter((p) => p.spec?.containers[0]?.image === 'foo:non-existent')).toHaveLength(1);
    const kept = w.pods.filter((p) => p.spec?.containers[0]?.image === 'foo/bar').map((p) => p.metadata?.uid);
    expect(kept).toHaveLength(2);
    w = updateDaemonSet(w, broken.update((b) => b.image('foo/bar')).build());
    const r = sync(w, at(3));
    expect(r.plan.revisions.create).toBeNull();
    expect(r.plan.revisions.currentName).toBe(original.metadata?.name);
    expect(r.plan.revisions.currentHash).toBe(original.metadata?.labels?.[CONTROLLER_REVISION_HASH_LABEL]);
    expect(r.plan.revisions.update).toEqual([expect.objectContaining({ name: original.metadata?.name, revision: 3 })]);
    expect(r.plan.deletePods.map((d) => d.reason)).toEqual(['rolling-update']);
    const end = converge(markReady(r.world, at(4)), at(5)).world;
    expect(end.revisions).toHaveLength(2);
    expect(end.pods.map((p) => p.spec?.containers[0]?.image)).toEqual(['foo/bar', 'foo/bar', 'foo/bar']);
    for (const uid of kept) expect(end.pods.some((p) => p.metadata?.uid === uid)).toBe(true);
  });

  it('S-86 kubectl rollout undo: the matching revision becomes current with a bumped number', () => {
    const a = daemonSet().onDelete();
    let w = converge(world(a.build(), nodes(1)), T0).world;
    const b = a.update((x) => x.image('image-b'));
    w = sync(updateDaemonSet(w, b.build()), at(1)).world;
    const [revA, revB] = byRevision(w) as [V1ControllerRevision, V1ControllerRevision];
    expect(revisionMatchesDaemonSet(revB, w.ds)).toBe(true);
    expect(revisionMatchesDaemonSet(revA, w.ds)).toBe(false);
    const undo = (target: V1ControllerRevision, x: World): World => {
      const template = (target.data as { spec: { template: Record<string, unknown> } }).spec.template;
      const { $patch: _ignored, ...rest } = template;
      const metadata = { ...(rest['metadata'] as Record<string, unknown>) };
      delete metadata['creationTimestamp'];
      const next = structuredClone(x.ds);
      next.spec = { ...next.spec!, template: { ...(rest as object), metadata } as NonNullable<typeof next.spec>['template'] };
      next.metadata = { ...next.metadata, generation: (next.metadata?.generation ?? 1) + 1 };
      return { ...x, ds: next };
    };
    const r3 = sync(undo(revA, w), at(2));
    expect(r3.plan.revisions.currentName).toBe(revA.metadata?.name);
    expect(r3.plan.revisions.currentRevision).toBe(3);
    expect(r3.plan.revisions.create).toBeNull();
    const r4 = sync(undo(byRevision(r3.world).find((x) => x.metadata?.name === revB.metadata?.name) as V1ControllerRevision, r3.world), at(3));
    expect([r4.plan.revisions.currentName, r4.plan.revisions.currentRevision]).toEqual([revB.metadata?.name, 4]);
    const reverseKeys = (v: unknown): unknown =>
      Array.isArray(v) ? v.map(reverseKeys) : v !== null && typeof v === 'object' ? Object.fromEntries(Object.entries(v).reverse().map(([k, x]) => [k, reverseKeys(x)])) : v;
    const reordered = reverseKeys(revB.data);
    expect(JSON.stringify(reordered)).not.toBe(JSON.stringify(revB.data));
    expect(revisionMatchesDaemonSet({ ...revB, data: reordered }, r4.world.ds)).toBe(true);
  });

  it('S-87 revisionHistoryLimit cleanup honours live pods', () => {
    let ds = daemonSet().onDelete().revisionHistoryLimit(2);
    let w = converge(world(ds.build(), nodes(1)), T0).world;
    let t = 1;
    for (const v of ['v2', 'v3', 'v4']) {
      ds = ds.update((b) => b.image(v));
      w = sync(updateDaemonSet(w, ds.build()), at(t++)).world;
    }
    expect(byRevision(w).map((r) => r.revision)).toEqual([1, 3, 4]);
    w = { ...w, pods: [] };
    const r = sync(w, at(t++));
    expect(r.plan.createPods[0]?.pod.spec?.containers[0]?.image).toBe('v4');
    expect(sync(r.world, at(t++)).plan.revisions.delete).toEqual([]);
    ds = ds.update((b) => b.image('v5'));
    w = sync(updateDaemonSet(r.world, ds.build()), at(t++)).world;
    expect(byRevision(w).map((x) => x.revision)).toEqual([3, 4, 5]);
  });

  it('S-88 revisionHistoryLimit 0 keeps an old revision only while a pod uses it', () => {
    const ds = daemonSet().rollingUpdate(1).revisionHistoryLimit(0);
    let w = converge(world(ds.build(), nodes(1)), T0).world;
    w = updateDaemonSet(w, ds.update((b) => b.image('v2')).build());
    const r1 = sync(w, at(1));
    expect(counts(r1.plan)).toBe('0/1');
    expect(r1.world.revisions).toHaveLength(2);
    const r2 = sync(r1.world, at(2));
    expect(r2.plan.revisions.delete.map((d) => d.reason)).toEqual(['history-limit']);
    expect(r2.world.revisions.map((x) => x.metadata?.name)).toEqual([r2.plan.revisions.currentName]);
  });

  it('S-89 a hash collision raises collisionCount and picks another name', () => {
    const ds = daemonSet().rollingUpdate(1);
    let w = converge(world(ds.build(), [node('single-node').build()]), T0).world;
    const current = w.revisions[0] as V1ControllerRevision;
    const t2 = ds.update((b) => b.terminationGracePeriodSeconds(1));
    const collidingHash = computeTemplateHash(t2.build().spec?.template, undefined);
    const squatter = revision(ds.build()).name(`foo-${collidingHash}`).hash(collidingHash).data(current.data).number(2).build();
    w = updateDaemonSet({ ...w, revisions: [...w.revisions, squatter] }, t2.build());
    const r = sync(w, at(1));
    expect(r.plan.status.collisionCount).toBe(1);
    expect(r.plan.statusChanged).toBe(true);
    expect(r.plan.revisions.create?.metadata?.name).not.toBe(squatter.metadata?.name);
    expect(r.plan.revisions.currentHash).toBe(computeTemplateHash(t2.build().spec?.template, 1));
    const end = converge(markReady(r.world, at(2)), at(3)).world;
    expect(end.pods.map((p) => p.spec?.terminationGracePeriodSeconds)).toEqual([1]);
    expect(end.ds.status?.collisionCount).toBe(1);
  });

  it('S-90 duplicate current revisions are de-duplicated and pods relabelled', () => {
    const ds = daemonSet().rollingUpdate(1);
    let w = converge(world(ds.build(), [node('single-node').build()]), T0).world;
    const cr1 = w.revisions[0] as V1ControllerRevision;
    const cr2 = revision(ds.build()).name('foo-h2').hash('h2').number((cr1.revision ?? 1) + 1).build();
    w = { ...w, revisions: [...w.revisions, cr2], nodes: [...w.nodes, node('second-node').build()] };
    const r = sync(w, at(1));
    expect(r.plan.revisions.currentHash).toBe('h2');
    expect(r.plan.revisions.delete).toEqual([{ name: cr1.metadata?.name, namespace: 'test', uid: cr1.metadata?.uid, reason: 'duplicate' }]);
    expect(r.plan.podLabelChanges.map((c) => c.labels)).toEqual([{ [CONTROLLER_REVISION_HASH_LABEL]: 'h2' }]);
    expect(r.world.revisions.map((x) => x.metadata?.name)).toEqual(['foo-h2']);
    expect(r.world.pods.map(hashOfPod)).toEqual(['h2', 'h2']);
  });

  it('HIST-8 pods relabelled to the kept revision count as updated in the same pass: none is replaced', () => {
    const ds = daemonSet().rollingUpdate(1);
    let w = markReady(converge(world(ds.build(), nodes(3)), T0).world, T0);
    // Without a matching pod-template-generation label only the hash label says which revision a pod runs.
    w = { ...w, pods: w.pods.map((p) => ({ ...p, metadata: { ...p.metadata, labels: { ...L1, [CONTROLLER_REVISION_HASH_LABEL]: hashOfPod(p) ?? '' } } })) };
    const cr1 = w.revisions[0] as V1ControllerRevision;
    const cr2 = revision(ds.build()).name('foo-h2').hash('h2').number((cr1.revision ?? 1) + 1).build();
    const r = sync({ ...w, revisions: [...w.revisions, cr2] }, at(1));
    expect(r.plan.podLabelChanges.map((c) => c.name).sort()).toEqual(w.pods.map((p) => p.metadata?.name).sort());
    // Upstream, reading its cache, would still see the old hash here and replace one pod (maxUnavailable 1).
    expect(counts(r.plan)).toBe('0/0');
    expect(r.plan.status.updatedNumberScheduled).toBe(3);
    expect(counts(sync(r.world, at(2)).plan)).toBe('0/0');
  });

  it('S-91 ControllerRevision adoption is namespace-scoped', () => {
    const ds = daemonSet().build();
    const owned = revision(ds).build();
    const orphan = revision(ds).name('foo-orphan').orphan().data({ spec: { template: { $patch: 'replace' } } }).build();
    const elsewhere = revision(ds).name('foo-elsewhere').orphan().namespace('other').build();
    const p = plan(snapshotOf(world(ds, [], [], [owned, orphan, elsewhere])), T0);
    expect(p.ownership.map((o) => [o.kind, o.action, o.name])).toEqual([['ControllerRevision', 'adopt', 'foo-orphan']]);
    expect(p.revisions.currentName).toBe(owned.metadata?.name);
  });

  it('S-92 a missing hash label is back-filled with the revision name', () => {
    const ds = daemonSet().build();
    const cr = revision(ds).withoutHashLabel().build();
    const r = sync(world(ds, nodes(1), [], [cr]), T0);
    expect(r.plan.revisions.update).toEqual([expect.objectContaining({ name: cr.metadata?.name, labels: { ...L1, [CONTROLLER_REVISION_HASH_LABEL]: cr.metadata?.name } })]);
    expect(r.plan.revisions.currentHash).toBe(cr.metadata?.name);
    expect(hashOfPod(r.plan.createPods[0]?.pod as V1Pod)).toBe(cr.metadata?.name);
  });

  it('S-93 revision annotations are copied at creation only', () => {
    const ds = daemonSet();
    let w = converge(world(ds.build(), nodes(1)), T0).world;
    const v2 = ds.update((b) => b.image('v2').annotations({ 'kubernetes.io/change-cause': 'to v2' }));
    const r = sync(updateDaemonSet(w, v2.build()), at(1));
    expect(r.plan.revisions.create?.metadata?.annotations?.['kubernetes.io/change-cause']).toBe('to v2');
    w = updateDaemonSet(r.world, v2.annotations({ 'kubernetes.io/change-cause': 'later' }).build());
    const later = sync(w, at(2)).plan;
    expect(later.revisions.create).toBeNull();
    expect(later.revisions.update).toEqual([]);
  });
});
