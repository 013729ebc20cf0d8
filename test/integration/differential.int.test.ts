/**
 * Differential agreement with upstream (quality goal "Fidelity"): the same seeded random scenarios
 * run on two identical control planes — A with daemonless reconciling (affinity placement, under the
 * shipped ClusterRole), B with kube-controller-manager's own DaemonSet controller — and must end in
 * the same normalized states: which template revision runs on which node, pod labels, tolerations,
 * owner references and node affinity, the DaemonSet status counters and observedGeneration, and the
 * ControllerRevisions. See test/support/differential-*.ts.
 *
 * Reproduce or explore: DAEMONLESS_DIFF_SEED=<n> DAEMONLESS_DIFF_SCENARIOS=<count> (default 8)
 *   [DAEMONLESS_DIFF_ONLY=s4] [DAEMONLESS_DIFF_VERBOSE=1]
 *   npx vitest run --project integration test/integration/differential.int.test.ts
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startControlPlane, type ControlPlane } from '../../lib/local-plane/control-plane.js';
import { startControllerLoop, type ControllerLoop } from '../support/controller-loop.js';
import { formatDisagreement, side, type Side } from '../support/differential-plane.js';
import { runScenario, type ScenarioResult } from '../support/differential-run.js';
import { describeScenario, generateScenarios } from '../support/differential-scenario.js';
import { applyProjectManifests } from '../../lib/local-plane/manifests.js';

const SEED = Number(process.env.DAEMONLESS_DIFF_SEED ?? 20260501);
const COUNT = Number(process.env.DAEMONLESS_DIFF_SCENARIOS ?? 8);
/** Reproduce one scenario of a seed: DAEMONLESS_DIFF_ONLY=s4 (the others are not generated as tests). */
const ONLY = process.env.DAEMONLESS_DIFF_ONLY?.split(',');
const scenarios = generateScenarios(SEED, COUNT).filter((s) => !ONLY || ONLY.includes(s.id));
const log = (line: string) => process.stderr.write(`${line}\n`);

describe(`differential agreement with the upstream DaemonSet controller (seed ${SEED}, ${COUNT} scenarios)`, () => {
  const planes: ControlPlane[] = [];
  let sides: [Side, Side];
  let loop: ControllerLoop | undefined;
  let keys: readonly string[] = [];
  const results: ScenarioResult[] = [];
  const t0 = Date.now();

  beforeAll(async () => {
    const started = await Promise.allSettled([
      startControlPlane({ name: 'diff-a', upstreamDaemonSetController: false, log }),
      startControlPlane({ name: 'diff-b', upstreamDaemonSetController: true, log }),
    ]);
    for (const r of started) if (r.status === 'fulfilled') planes.push(r.value);
    const failed = started.find((r) => r.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
    const [a, b] = planes as [ControlPlane, ControlPlane];
    await applyProjectManifests(a);
    sides = [side('A', a), side('B', b)];
    loop = startControllerLoop(a.controllerKubeconfig, () => keys, { placement: 'affinity' });
  });

  afterAll(async () => {
    await loop?.stop();
    await Promise.all(planes.map((p) => p.stop({ keepFiles: process.env.DAEMONLESS_KEEP_PLANE === '1' })));
    const checkpoints = results.flatMap((r) => r.checkpoints);
    const agreeing = checkpoints.filter((c) => c.disagreements.length === 0).length;
    const resynced = checkpoints.filter((c) => c.changedByResync.includes('B')).length;
    log([
      `differential (seed ${SEED}): ${results.length}/${COUNT} scenarios, ${checkpoints.length} checkpoints, ` +
        `agreement ${agreeing}/${checkpoints.length} (${checkpoints.length ? ((100 * agreeing) / checkpoints.length).toFixed(1) : '—'} %), ` +
        `${(Date.now() - t0) / 1000} s; upstream needed the resync at ${resynced} checkpoint(s)`,
      ...results.filter((r) => r.checkpoints.some((c) => c.disagreements.length)).map((r) => `  disagreeing: ${r.scenario.id} (${describeScenario(r.scenario)})`),
    ].join('\n'));
  });

  for (const sc of scenarios) {
    it(`${sc.id}: ${describeScenario(sc)}`, async () => {
      const errorsBefore = loop!.errors.length;
      const result = await runScenario(sides, sc, { setKeys: (k) => (keys = k), log, verbose: process.env.DAEMONLESS_DIFF_VERBOSE === '1' });
      results.push(result);
      for (const n of result.notes) log(`[${sc.id}] note: ${n}`);
      const errors = loop!.errors.slice(errorsBefore).map((e) => e.message);
      for (const e of new Set(errors)) log(`[${sc.id}] daemonless reconcile error (${errors.filter((x) => x === e).length}×): ${e}`);
      const report = result.checkpoints
        .filter((c) => c.disagreements.length)
        .map((c) => `seed ${SEED} ${sc.id} at "${c.label}":\n  ${c.disagreements.map(formatDisagreement).join('\n  ')}`);
      expect(report, `daemonless and upstream disagree (seed ${SEED})`).toEqual([]);
      expect(result.checkpoints).toHaveLength(sc.steps.length + 1);
      // Upstream's controller never fails these passes; daemonless, under the shipped ClusterRole, must not
      // either (write conflicts and races with the garbage collector are retried and harmless).
      const failures = errors.filter((m) => !/409|conflict|AlreadyExists|404|NotFound/i.test(m));
      expect([...new Set(failures)], `daemonless reconcile failures in ${sc.id}`).toEqual([]);
    }, 240_000);
  }
});
