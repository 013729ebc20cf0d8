/**
 * Status conditions (COND-*) and the progress deadline (CTL-8, CTL-9).
 */
import type { V1DaemonSet, V1DaemonSetCondition } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { EVENT_PROGRESS_DEADLINE_EXCEEDED, failedConditions, statusAfterFailure, plan, PROGRESS_DEADLINE_ANNOTATION, ROLLOUT_PARTITION_ANNOTATION, type Plan } from '../../../lib/core/index.js';
import { at, iso, T0 } from '../../builders/clock.js';
import { daemonSet } from '../../builders/daemon-set.js';
import { nodes } from '../../builders/node.js';
import { applyPlan, converge, markReady, snapshotOf, updateDaemonSet, world, type World } from '../../builders/world.js';

const asDlds = (ds: V1DaemonSet, rollingUpdate: Record<string, unknown> = {}, spec: Record<string, unknown> = {}): V1DaemonSet => {
  const copy = structuredClone(ds);
  copy.apiVersion = 'daemonless.io/v1';
  Object.assign(copy.spec as object, spec);
  const s = copy.spec as unknown as { updateStrategy?: { type?: string; rollingUpdate?: Record<string, unknown> } };
  s.updateStrategy = { type: 'RollingUpdate', ...s.updateStrategy, rollingUpdate: { ...s.updateStrategy?.rollingUpdate, ...rollingUpdate } };
  return copy;
};

const cond = (p: Plan, type: string): V1DaemonSetCondition | undefined => p.status.conditions?.find((c) => c.type === type);
const summary = (p: Plan): string => ['Reconciling', 'Stalled', 'Ready', 'Progressing'].map((t) => `${t}=${cond(p, t)?.status}/${cond(p, t)?.reason}`).join(' ');

function pass(w: World, t: Date): { p: Plan; w: World } {
  const p = plan(snapshotOf(w), t);
  return { p, w: applyPlan(w, p, t) };
}

/** A dlds with 3 Ready pods at revision 1, status written (converged at T0). */
function convergedDlds(rollingUpdate: Record<string, unknown> = {}, spec: Record<string, unknown> = {}): World {
  const w0 = world(asDlds(daemonSet().build(), rollingUpdate, spec), nodes(3));
  let w = converge(w0, T0).world;
  w = markReady(w, T0);
  return pass(w, T0).w;
}

describe('COND-1..4 conditions on a dlds', () => {
  it('converged: Ready True RolloutComplete, Reconciling and Stalled False; another pass writes nothing', () => {
    const w = convergedDlds();
    const p = plan(snapshotOf(w), at(5));
    expect(summary(p)).toBe('Reconciling=False/RolloutComplete Stalled=False/RolloutComplete Ready=True/RolloutComplete Progressing=True/RolloutComplete');
    expect(p.statusChanged).toBe(false);
    expect(p.status.observedGeneration).toBe(1);
  });

  it('a rollout: Reconciling True while it runs, lastTransitionTime only on flips, Ready at the end', () => {
    let w = convergedDlds();
    const before = cond(plan(snapshotOf(w), at(1)), 'Ready')?.lastTransitionTime;
    w = updateDaemonSet(w, { ...asDlds(daemonSet().update((b) => b.image('foo2/bar2')).build()), status: w.ds.status });
    let r = pass(w, at(10));
    expect(summary(r.p)).toBe('Reconciling=True/RolloutInProgress Stalled=False/RolloutInProgress Ready=False/RolloutInProgress Progressing=True/RolloutInProgress');
    expect(cond(r.p, 'Reconciling')?.lastTransitionTime).toBe(iso(10));
    expect(cond(r.p, 'Progressing')?.lastTransitionTime).toBe(before);
    expect(r.p.statusChanged).toBe(true);
    for (let t = 11; t < 40; t++) {
      r = pass(markReady(r.w, at(t), (p) => !p.status?.conditions?.length), at(t));
      if (r.p.createPods.length === 0 && r.p.deletePods.length === 0 && cond(r.p, 'Ready')?.status === 'True') break;
      expect(cond(r.p, 'Reconciling')?.lastTransitionTime).toBe(iso(10));
    }
    expect(summary(r.p)).toBe('Reconciling=False/RolloutComplete Stalled=False/RolloutComplete Ready=True/RolloutComplete Progressing=True/RolloutComplete');
    expect(plan(snapshotOf(r.w), at(100)).statusChanged).toBe(false);
  });

  it('partitioned: Ready True Partitioned, Progressing True Partitioned', () => {
    let w = convergedDlds({ partition: 2 });
    w = updateDaemonSet(w, { ...asDlds(daemonSet().update((b) => b.image('foo2/bar2')).build(), { partition: 2 }), status: w.ds.status });
    let r = pass(w, at(10));
    for (let t = 11; t < 30; t++) r = pass(markReady(r.w, at(t), (p) => !p.status?.conditions?.length), at(t));
    expect(summary(r.p)).toBe('Reconciling=False/Partitioned Stalled=False/Partitioned Ready=True/Partitioned Progressing=True/Partitioned');
    expect(cond(r.p, 'Ready')?.message).toBe('partitioned roll out complete: 1 new pods have been updated (2 held by partition)');
  });

  it('paused: Progressing Unknown Paused, Ready True Paused when nothing else is left', () => {
    let w = convergedDlds({ paused: true });
    w = updateDaemonSet(w, { ...asDlds(daemonSet().update((b) => b.image('foo2/bar2')).build(), { paused: true }), status: w.ds.status });
    const r = pass(w, at(10));
    expect(summary(r.p)).toBe('Reconciling=False/Paused Stalled=False/Paused Ready=True/Paused Progressing=Unknown/Paused');
    expect(cond(r.p, 'Progressing')?.message).toBe('rollout paused: 0 out of 3 new pods have been updated');
  });

  it('user conditions are kept after the owned ones', () => {
    const w = convergedDlds();
    const custom = { type: 'Custom', status: 'True', reason: 'Mine' } as V1DaemonSetCondition;
    const ds = { ...w.ds, status: { ...w.ds.status!, conditions: [custom, ...(w.ds.status?.conditions ?? [])] } };
    const p = plan(snapshotOf({ ...w, ds }), at(3));
    expect(p.status.conditions?.at(-1)).toEqual(custom);
    expect(p.statusChanged).toBe(false);
  });

  it('COND-7 failedConditions: Stalled True ReconcileFailed once, then null', () => {
    const w = convergedDlds();
    const first = failedConditions(w.ds.status?.conditions, 'boom', at(20));
    expect(first?.find((c) => c.type === 'Stalled')).toMatchObject({ status: 'True', reason: 'ReconcileFailed', message: 'boom', lastTransitionTime: iso(20) });
    expect(first?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'False' });
    expect(failedConditions(first ?? [], 'boom', at(30))).toBeNull();
  });

  it('COND-7 statusAfterFailure: the planned counters with Stalled ReconcileFailed; the same failure again changes nothing', () => {
    const w = convergedDlds();
    const planned = plan(snapshotOf(w), at(20)).status;
    const first = statusAfterFailure(w.ds, planned, 'pods "x" is forbidden: exceeded quota', at(20));
    expect(first.changed).toBe(true);
    expect(first.status.desiredNumberScheduled).toBe(3);
    expect(first.status.conditions?.find((c) => c.type === 'Stalled')).toMatchObject({ status: 'True', reason: 'ReconcileFailed', message: 'pods "x" is forbidden: exceeded quota' });
    const stored = { ...w.ds, status: { ...first.status, conditions: [...(first.status.conditions ?? [])] } };
    expect(statusAfterFailure(stored, planned, 'pods "x" is forbidden: exceeded quota', at(30)).changed).toBe(false);
  });

  it('a native DaemonSet with a control annotation gets conditions; the same without stays without', () => {
    const native = converge(world(daemonSet().annotations({ [ROLLOUT_PARTITION_ANNOTATION]: '1' }).build(), nodes(2)), T0);
    expect(plan(snapshotOf(native.world), at(1)).status.conditions?.map((c) => c.type)).toEqual(['Reconciling', 'Stalled', 'Ready', 'Progressing']);
    const plain = converge(world(daemonSet().build(), nodes(2)), T0);
    expect(plan(snapshotOf(plain.world), at(1)).status.conditions).toBeUndefined();
  });
});

describe('CTL-8 progress deadline', () => {
  /** A dlds rollout whose new pods never become Ready, passes every 10 s from t=10. */
  function stuck(rollingUpdate: Record<string, unknown>, deadline = 60) {
    let w = convergedDlds(rollingUpdate, { progressDeadlineSeconds: deadline });
    w = updateDaemonSet(w, { ...asDlds(daemonSet().update((b) => b.image('foo2/bar2')).build(), rollingUpdate, { progressDeadlineSeconds: deadline }), status: w.ds.status });
    const plans: Plan[] = [];
    for (let t = 10; t <= 120; t += 10) {
      const r = pass(w, at(t));
      plans.push(r.p);
      w = r.w;
    }
    return { plans, w };
  }

  it('no new pod available for the deadline: Stalled True ProgressDeadlineExceeded, one event, a requeue before it', () => {
    const { plans } = stuck({});
    expect(plans[0]?.requeueAfterSeconds).toBe(60);
    const flip = plans.findIndex((p) => cond(p, 'Stalled')?.status === 'True');
    expect(flip).toBe(6); // t = 70: 60 s after the rollout started at t = 10
    expect(summary(plans[flip]!)).toBe('Reconciling=False/ProgressDeadlineExceeded Stalled=True/ProgressDeadlineExceeded Ready=False/RolloutInProgress Progressing=False/ProgressDeadlineExceeded');
    expect(plans.flatMap((p) => p.events).filter((e) => e.reason === EVENT_PROGRESS_DEADLINE_EXCEEDED)).toHaveLength(1);
    expect(plans.slice(flip).every((p) => cond(p, 'Stalled')?.status === 'True')).toBe(true);
    expect(plans.at(-1)?.statusChanged).toBe(false);
    expect(plans[flip]?.rollout?.progressDeadlineExceeded).toBe(true);
  });

  it('a new pod becoming available restarts the clock and ends the stall', () => {
    const { w } = stuck({ maxUnavailable: 1 });
    const ready = markReady(w, at(125));
    const p = plan(snapshotOf(ready), at(130));
    expect(cond(p, 'Stalled')).toMatchObject({ status: 'False' });
    expect(cond(p, 'Reconciling')).toMatchObject({ status: 'True', lastTransitionTime: iso(130) });
  });

  it('CTL-9 autoPause: past the deadline the rollout pauses itself', () => {
    const { plans } = stuck({ maxUnavailable: 1, autoPause: true });
    const flip = plans.findIndex((p) => cond(p, 'Stalled')?.status === 'True');
    expect(flip).toBeGreaterThan(0);
    expect(plans[flip]?.rollout).toMatchObject({ paused: true, autoPaused: true });
    // Before the stall the rollout went on (the stuck pod's node was replaced); after it nothing old is deleted.
    expect(plans.slice(flip).flatMap((p) => p.deletePods.filter((d) => d.reason === 'rolling-update'))).toEqual([]);
    expect(plans[flip]?.events.find((e) => e.reason === EVENT_PROGRESS_DEADLINE_EXCEEDED)?.message).toContain('rollout paused');
  });

  it('works from the native annotation too', () => {
    let w = converge(world(daemonSet().annotations({ [PROGRESS_DEADLINE_ANNOTATION]: '30' }).build(), nodes(2)), T0).world;
    w = markReady(w, T0);
    w = pass(w, T0).w;
    w = updateDaemonSet(w, daemonSet().annotations({ [PROGRESS_DEADLINE_ANNOTATION]: '30' }).update((b) => b.image('x/y')).build());
    for (let t = 10; t <= 50; t += 10) w = pass(w, at(t)).w;
    expect(w.ds.status?.conditions?.find((c) => c.type === 'Stalled')).toMatchObject({ status: 'True', reason: 'ProgressDeadlineExceeded' });
  });
});
