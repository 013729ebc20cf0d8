/**
 * The invariant checks of the fault harness can fail: each is run against a sabotaged pass (or
 * state) that breaks exactly its invariant, and against the real shell doing the same job, which
 * must pass.
 */
import type { V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { createReconciler } from '../../../lib/app/reconcile-key.js';
import { CONTROLLER_REVISION_HASH_LABEL, POD_TEMPLATE_GENERATION_LABEL } from '../../../lib/core/index.js';
import { NO_FAULTS, prng, scriptedApi } from '../../support/fault-cluster.js';
import { MemoryApiServer } from '../../support/memory-api-server.js';
import { MemoryKubeCluster } from '../../support/memory-clients.js';
import {
  backoffStreaksDiffer, buildDaemonSet, buildNode, canonicalState, Clock, convergenceProblems, diffStates, dsKey, Env, NAMESPACE, PLAN_OPTIONS_BACKOFF, viewOf,
  type DsSpec, type DsView,
} from './harness.js';

const KEY = dsKey(0);
const spec = (strategy: DsSpec['strategy']): DsSpec => ({ strategy, minReady: 0, grace: 0, nodeSelector: false, tolerate: false, image: 1 });

async function settledEnv(nodes: number, ds: DsSpec): Promise<{ env: Env; server: MemoryApiServer; clock: Clock; view: () => DsView; setImage: (i: number) => void }> {
  const clock = new Clock();
  const server = new MemoryApiServer(() => clock.date(), { bindAfterTicks: 0, readyAfterTicks: 0 });
  for (let i = 0; i < nodes; i++) server.putNode(buildNode(`node-${i}`, { labelled: false, taint: 'none' }));
  server.applyDaemonSet(buildDaemonSet(0, ds));
  const env = new Env(server, clock, prng(1), 1, 'affinity');
  const view = (): DsView => viewOf(server, KEY, clock.date()) as DsView;
  for (let i = 0; i < 30 && convergenceProblems(view()).length > 0; i++) {
    await env.pass(KEY);
    clock.ms += 1000;
    server.tick();
  }
  await env.pass(KEY);
  expect(convergenceProblems(view())).toEqual([]);
  expect(env.violations).toEqual([]);
  const setImage = (image: number): void => {
    server.applyDaemonSet({ ...buildDaemonSet(0, { ...ds, image }), metadata: server.daemonSets.get(KEY)?.metadata ?? {} });
  };
  return { env, server, clock, view, setImage };
}

/** A copy of `pod` under another name, as a (misbehaving) controller would create it. */
function copyOf(pod: V1Pod, name: string, hash?: string): V1Pod {
  const labels = { ...(pod.metadata?.labels ?? {}), ...(hash ? { [CONTROLLER_REVISION_HASH_LABEL]: hash } : {}) };
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: NAMESPACE, labels, ownerReferences: pod.metadata?.ownerReferences ?? [] }, spec: structuredClone(pod.spec) };
}

const rules = (env: Env): string[] => [...new Set(env.violations.map((v) => v.rule))];

describe('fault harness: every invariant check can fail', () => {
  it('7 maxUnavailable: deleting every old pod at once is caught; the shell deleting within budget is not', async () => {
    const { env, server, setImage } = await settledEnv(4, spec({ type: 'RollingUpdate', maxUnavailable: 1, maxSurge: 0 }));
    setImage(2);
    await env.pass(KEY);
    expect(env.violations).toEqual([]);
    const left = [...server.pods.values()].filter((p) => !p.metadata?.deletionTimestamp);
    expect(left).toHaveLength(3);
    await env.checked(KEY, async () => {
      const s = env.cluster.session();
      for (const p of left) await s.deletePod(NAMESPACE, p.metadata?.name ?? '', p.metadata?.uid);
    });
    expect(rules(env)).toEqual(['7 maxUnavailable']);
  });

  it('7 maxSurge: surging on every node at once is caught; the shell surging within budget is not', async () => {
    const { env, server, view, setImage } = await settledEnv(4, spec({ type: 'RollingUpdate', maxUnavailable: 0, maxSurge: 1 }));
    setImage(2);
    await env.pass(KEY);
    expect(env.violations).toEqual([]);
    const v = view();
    const hash = v.currentHash ?? '';
    const old = [...server.pods.values()].filter((p) => p.metadata?.labels?.[CONTROLLER_REVISION_HASH_LABEL] !== hash);
    const surging = new Set([...v.byNode].filter(([, pods]) => pods.length > 1).map(([n]) => n));
    expect(surging.size).toBe(1);
    await env.checked(KEY, async () => {
      const s = env.cluster.session();
      for (const p of old) {
        const node = p.spec?.nodeName ?? '';
        if (!surging.has(node)) await s.createPod(copyOf(p, `surge-${node}`, hash));
      }
    });
    expect(rules(env)).toEqual(['7 maxSurge']);
  });

  it('2 nothing deleted on a partial read: a delete after a list cut short is caught', async () => {
    const { env, server } = await settledEnv(3, spec({ type: 'RollingUpdate', maxUnavailable: 1, maxSurge: 0 }));
    const victim = [...server.pods.values()][0] as V1Pod;
    env.injector.rates = { ...NO_FAULTS, expireContinue: 1 };
    await env.checked(KEY, async () => {
      const s = env.cluster.session();
      const list = await s.listPods(NAMESPACE);
      expect(list.complete).toBe(false);
      env.injector.rates = NO_FAULTS;
      await s.deletePod(NAMESPACE, victim.metadata?.name ?? '', victim.metadata?.uid);
    });
    expect(rules(env)).toContain('2 nothing deleted on a partial read');
  });

  it('2: the shell under the same expired continue tokens deletes nothing', async () => {
    const { env, server } = await settledEnv(3, spec({ type: 'RollingUpdate', maxUnavailable: 1, maxSurge: 0 }));
    server.putNode(buildNode('node-2', { labelled: false, taint: 'NoExecute' }));
    const before = server.writes.length;
    env.injector.rates = { ...NO_FAULTS, expireContinue: 1 };
    const r = await env.pass(KEY);
    expect(server.writes.slice(before).filter((w) => w.op === 'deletePod')).toEqual([]);
    expect(env.violations).toEqual([]);
    expect(r.ok).toBe(false);
  });

  it('1 one pod per node: a second pod on a node outside surge is caught, by the pass check and the state check', async () => {
    const { env, server } = await settledEnv(2, spec({ type: 'RollingUpdate', maxUnavailable: 1, maxSurge: 0 }));
    const pod = [...server.pods.values()][0] as V1Pod;
    await env.checked(KEY, async () => {
      await env.cluster.session().createPod(copyOf(pod, 'second'));
    });
    env.checkState(new Set());
    expect(env.violations.map((v) => v.rule)).toEqual(['1 one pod per node', '1 one pod per node']);
  });

  it('4 convergence: a missing pod and a stale status are reported', async () => {
    const { server, view } = await settledEnv(3, spec({ type: 'OnDelete' }));
    const pod = [...server.pods.values()][0] as V1Pod;
    server.pods.delete(`${NAMESPACE}/${pod.metadata?.name ?? ''}`);
    const problems = convergenceProblems(view());
    expect(problems.some((p) => p.includes('has 0 pods'))).toBe(true);
    expect(problems.some((p) => p.startsWith('status.currentNumberScheduled'))).toBe(true);
  });

  it('1 one pod per node: a list cache that plans on what it has, without waiting for its watch, is caught; the real one waits', async () => {
    const run = async (staleProbes: boolean): Promise<string[]> => {
      const clock = new Clock();
      const server = new MemoryApiServer(() => clock.date(), { bindAfterTicks: 0, readyAfterTicks: 0 });
      server.putNode(buildNode('node-0', { labelled: false, taint: 'none' }));
      const ds = spec({ type: 'RollingUpdate', maxUnavailable: 1, maxSurge: 0 });
      server.applyDaemonSet(buildDaemonSet(0, ds));
      const env = new Env(server, clock, prng(1), 1, 'affinity', {
        containers: 1, restart: 0, network: { eventDelayMs: 0, bookmarkMs: 1, callLatencyMs: 0 }, window: 1000, maxAgeS: 300,
      });
      env.injector.staleProbes = staleProbes;
      // The first pass lists and creates the pod; the template changes before the pod's ADDED event
      // reached the watch (bookmarks follow every change), and the next pass reads through the cache.
      await env.pass(KEY);
      expect(server.pods.size).toBe(1);
      server.applyDaemonSet({ ...buildDaemonSet(0, { ...ds, image: 2 }), metadata: server.daemonSets.get(KEY)?.metadata ?? {} });
      await env.pass(KEY);
      env.checkState(new Set());
      const stats = env.cacheStats;
      env.close();
      // The second pass's two reads came from the cache: at once when sabotaged, after the watch caught up when not.
      for (const kind of ['nodes', 'pods'] as const) expect(stats[kind]).toEqual({ hits: 1, waited: staleProbes ? 0 : 1, lists: 1, waitsRunOut: 0, listedQuiet: 0, resumed: 0, drops: 0, dropped: {} });
      return rules(env);
    };
    expect(await run(true)).toEqual(['1 one pod per node']);
    expect(await run(false)).toEqual([]);
  });

  it('3 replay converges: states that differ are told apart, entry by entry', async () => {
    const { server } = await settledEnv(2, spec({ type: 'OnDelete' }));
    const a = canonicalState(server);
    const other = server.cloneState();
    const pod = [...other.pods.values()][0] as V1Pod;
    other.pods.set(`${NAMESPACE}/${pod.metadata?.name ?? ''}`, { ...pod, metadata: { ...pod.metadata, labels: { ...pod.metadata?.labels, x: 'y' } } });
    expect(diffStates(a, canonicalState(server.cloneState()))).toBe('');
    expect(diffStates(a, canonicalState(other))).toContain('"x":"y"');
  });

  it('3 replay converges: a replay that died between a back-off record and its delete may differ on that node only after the clock jump; other nodes are still compared', async () => {
    // Surge rollout with minReadySeconds: both nodes surge while the old pods are not yet available.
    const clock = new Clock();
    const server = new MemoryApiServer(() => clock.date(), { bindAfterTicks: 0, readyAfterTicks: 2 });
    for (let i = 0; i < 2; i++) server.putNode(buildNode(`node-${i}`, { labelled: false, taint: 'none' }));
    const ds: DsSpec = { strategy: { type: 'RollingUpdate', maxUnavailable: 0, maxSurge: 1 }, minReady: 5, grace: 30, nodeSelector: false, tolerate: false, image: 1 };
    server.applyDaemonSet(buildDaemonSet(0, ds));
    const pass = async (s: MemoryApiServer, c: Clock, dieAfterBackoffRecord = false): Promise<number> => {
      const options = dieAfterBackoffRecord ? { rawFor: (id: number) => scriptedApi(s, id, (call) => (call.op === 'patchDaemonSet' ? 'die' : 'pass')) } : {};
      const reconcile = createReconciler({ cluster: new MemoryKubeCluster(s, options), planOptions: { placement: 'nodeName', failedPodBackoff: PLAN_OPTIONS_BACKOFF }, now: () => c.date() });
      const first = s.writes.length;
      await reconcile(KEY).catch(() => undefined);
      return s.writes.length - first;
    };
    await pass(server, clock);
    for (let i = 0; i < 2; i++) {
      clock.ms += 1000;
      server.tick();
    }
    server.applyDaemonSet({ ...buildDaemonSet(0, { ...ds, image: 2 }), metadata: server.daemonSets.get(KEY)?.metadata ?? {} });
    await pass(server, clock);
    const fresh = [...server.pods.values()].find((p) => p.metadata?.labels?.[POD_TEMPLATE_GENERATION_LABEL] === '2' && p.spec?.nodeName === 'node-0') as V1Pod;
    server.failPod(NAMESPACE, fresh.metadata?.name ?? '');
    // As phase 2 runs it: a clean sequence, and a replay whose first pass dies right after recording the back-off.
    const frozen = new Clock();
    frozen.ms = clock.ms;
    const clean = server.cloneState(() => frozen.date());
    const replay = server.cloneState(() => frozen.date());
    await pass(replay, frozen, true);
    const quiet = async (s: MemoryApiServer): Promise<void> => {
      for (let i = 0; i < 10 && (await pass(s, frozen)) > 0;);
    };
    await quiet(clean);
    await quiet(replay);
    frozen.ms += (PLAN_OPTIONS_BACKOFF.maxSeconds + 2) * 1000;
    await quiet(clean);
    await quiet(replay);
    const lagging = backoffStreaksDiffer(clean, replay);
    expect([...lagging]).toEqual([`${KEY}@node-0`]);
    expect(diffStates(canonicalState(clean), canonicalState(replay))).toContain('ds0@node-0');
    expect(diffStates(canonicalState(clean, lagging), canonicalState(replay, lagging))).toBe('');
    // A difference anywhere else is still told.
    const pod = [...replay.pods.values()].find((p) => p.spec?.nodeName === 'node-1') as V1Pod;
    replay.pods.set(`${NAMESPACE}/${pod.metadata?.name ?? ''}`, { ...pod, metadata: { ...pod.metadata, labels: { ...pod.metadata?.labels, x: 'y' } } });
    expect(diffStates(canonicalState(clean, lagging), canonicalState(replay, lagging))).toContain('"x":"y"');
  });
});
