/**
 * The Argo CD health check (ARGO-1) run by a real Lua VM (wasmoon: Lua 5.4 compiled to WebAssembly;
 * the script sticks to Lua 5.1, which Argo CD's gopher-lua runs) against sample dlds objects.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LuaFactory, type LuaEngine } from 'wasmoon';
import { parse } from 'yaml';
import { ARGOCD_HEALTH_KEY, ARGOCD_HEALTH_LUA, renderArgoCdHealthPatch } from '../../lib/manifests/argocd.js';

let lua: LuaEngine;
beforeAll(async () => {
  lua = await new LuaFactory().createEngine();
});
afterAll(() => lua.global.close());

async function health(obj: object): Promise<{ status: string; message: string }> {
  lua.global.set('obj', obj);
  return (await lua.doString(ARGOCD_HEALTH_LUA)) as { status: string; message: string };
}

const cond = (type: string, status: string, reason: string, message = '') => ({ type, status, reason, message, lastTransitionTime: '2026-12-01T00:00:00Z' });
const dlds = (status: object | undefined, generation = 2) => ({
  apiVersion: 'daemonless.io/v1', kind: 'DaemonSet', metadata: { name: 'x', namespace: 'y', generation }, spec: {}, ...(status ? { status } : {}),
});
const counts = { desiredNumberScheduled: 3, updatedNumberScheduled: 1, numberAvailable: 2 };

describe('Argo CD health of a dlds', () => {
  it('is Progressing until the controller has observed the current generation', async () => {
    expect(await health(dlds(undefined))).toEqual({ status: 'Progressing', message: 'Waiting for the daemonless controller to observe the DaemonSet' });
    expect(await health(dlds({ observedGeneration: 1, conditions: [cond('Ready', 'True', 'RolloutComplete')] }))).toEqual({
      status: 'Progressing', message: 'Waiting for the daemonless controller to observe generation 2',
    });
  });

  it('is Degraded when Stalled is True, naming the reason and the error', async () => {
    const failed = { observedGeneration: 2, conditions: [cond('Reconciling', 'False', 'ReconcileFailed'), cond('Stalled', 'True', 'ReconcileFailed', 'pods "x" is forbidden'), cond('Ready', 'False', 'RolloutInProgress')] };
    expect(await health(dlds(failed))).toEqual({ status: 'Degraded', message: 'ReconcileFailed: pods "x" is forbidden' });
    const deadline = { observedGeneration: 2, conditions: [cond('Stalled', 'True', 'ProgressDeadlineExceeded'), cond('Progressing', 'False', 'ProgressDeadlineExceeded')] };
    expect(await health(dlds(deadline))).toEqual({ status: 'Degraded', message: 'ProgressDeadlineExceeded' });
  });

  it('is Suspended while paused, even when Ready', async () => {
    const paused = { observedGeneration: 2, conditions: [cond('Ready', 'True', 'Paused'), cond('Progressing', 'Unknown', 'Paused', 'rollout is paused')] };
    expect(await health(dlds(paused))).toEqual({ status: 'Suspended', message: 'Paused: rollout is paused' });
  });

  it('is Healthy when Ready is True (complete, or partitioned with the rest done)', async () => {
    const complete = { observedGeneration: 2, ...counts, conditions: [cond('Reconciling', 'False', 'RolloutComplete'), cond('Stalled', 'False', 'RolloutComplete'), cond('Ready', 'True', 'RolloutComplete', '3 of 3 updated')] };
    expect(await health(dlds(complete))).toEqual({ status: 'Healthy', message: 'RolloutComplete: 3 of 3 updated' });
    const partitioned = { observedGeneration: 2, conditions: [cond('Ready', 'True', 'Partitioned'), cond('Progressing', 'True', 'Partitioned')] };
    expect(await health(dlds(partitioned))).toEqual({ status: 'Healthy', message: 'Partitioned' });
  });

  it('is Progressing in the middle of a rollout, with the counts', async () => {
    const rolling = { observedGeneration: 2, ...counts, conditions: [cond('Reconciling', 'True', 'RolloutInProgress'), cond('Stalled', 'False', 'RolloutInProgress'), cond('Ready', 'False', 'RolloutInProgress', '1 of 3 pods updated')] };
    expect(await health(dlds(rolling))).toEqual({ status: 'Progressing', message: 'Rollout in progress: 1 of 3 updated, 2 available (1 of 3 pods updated)' });
    expect(await health(dlds({ observedGeneration: 2 }))).toEqual({ status: 'Progressing', message: 'Rollout in progress: 0 of 0 updated, 0 available' });
  });

  it('ships as an argocd-cm merge patch under the key Argo CD reads for daemonless.io/DaemonSet', () => {
    const patch = parse(renderArgoCdHealthPatch()) as { data: Record<string, string> };
    expect(Object.keys(patch.data)).toEqual(['resource.customizations.health.daemonless.io_DaemonSet']);
    expect(patch.data[ARGOCD_HEALTH_KEY]).toBe(ARGOCD_HEALTH_LUA);
  });
});
