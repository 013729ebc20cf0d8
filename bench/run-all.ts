/**
 * All benchmarks in sequence; writes bench/results/latest.md, latest.json and the SVG charts, and
 * appends the run to history.jsonl (render.ts).
 *
 * To keep a full run within minutes, planes are shared between benchmarks (each phase starts from
 * the state the previous one left):
 *   plane A (daemonless):  converge → rolling update of that DaemonSet → node joins (+ K−1 DaemonSets)
 *   plane B (upstream):    converge → rolling update → node joins (with --upstream-joins)
 *   plane C (no DaemonSet controller): the floor of the converge, then of the rolling update
 *   plane E (daemonless, nodeName placement): converge
 *   plane F (daemonless; kwok simulates only a few nodes): cost of a node join at each of --scale-sizes,
 *                          then one resync of 20 converged DaemonSets at the largest (scale.ts)
 *   plane D (daemonless):  converged reconcile at each size
 * then the Lambda bundles and the cost table. Planes run one at a time.
 *
 *   npx tsx bench/run-all.ts [--quick] [--nodes 1000] [--sizes 1000,5000] [--joins 30] [--daemonsets 2] [--upstream-joins] [--rolling-limit-s 420]
 *                            [--scale-sizes 1000,5000] [--scale-joins 8] [--resync-daemonsets 20]
 *                            [--only planes,node-join,scale,converged-reconcile,lambda-bundle,cost]
 * `--only` runs the named parts and keeps the other parts of the existing latest.json (`node-join`
 * alone runs the joins on planes of their own).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { computeCost, DEFAULT_INPUTS } from './cost.js';
import { convergeDaemonless, convergeFloor, convergeResult, convergeUpstream } from './converge.js';
import { runConvergedReconcile } from './converged-reconcile.js';
import { runLambdaBundle } from './lambda-bundle.js';
import { log, parseFlags } from './lib/args.js';
import { benchKubeConfig, KCM_BURST, KCM_QPS, TokenBucket } from './lib/kube.js';
import { machineFacts } from './lib/machine.js';
import { addNodes, startBenchPlane, type BenchPlane } from './lib/plane.js';
import { startDaemonless } from './lib/workload.js';
import { joinPhase, runNodeJoin, type NodeJoinResult, type NodeJoinRun } from './node-join.js';
import { RESULTS_DIR as resultsDir, writeResults } from './render.js';
import type { AllResults, LoadPart } from './results.js';
import { rollingFloor, rollingPhase, rollingResult, type RollingRun } from './rolling-update.js';
import { runScale } from './scale.js';

async function main(): Promise<void> {
  const flags = parseFlags();
  const quick = flags.quick;
  const nodes = flags.number('nodes', 1000, 40);
  const sizes = flags.string('sizes', quick ? '30,60' : '1000,5000').split(',').map(Number);
  const joins = flags.number('joins', 30, 8);
  const rollingLimitMs = flags.number('rolling-limit-s', 420, 120) * 1000;
  const daemonSets = flags.number('daemonsets', 2, 2);
  const upstreamJoins = flags.bool('upstream-joins') || quick;
  const maxUnavailable = '10%';
  const floorConcurrency = flags.number('floor-concurrency', 128);
  const scaleSizes = flags.string('scale-sizes', quick ? '100,300' : '1000,5000').split(',').map(Number);
  const scaleJoins = flags.number('scale-joins', 8, 4);
  const resyncDaemonSets = flags.number('resync-daemonsets', 20);
  const startCommit = machineFacts().gitCommit;
  const only = flags.string('only', '').split(',').filter((x) => x !== '');
  const runs = (part: string): boolean => only.length === 0 || only.includes(part);
  mkdirSync(resultsDir, { recursive: true });
  const previousFile = join(resultsDir, 'latest.json');
  const previous = only.length > 0 && existsSync(previousFile) ? (JSON.parse(readFileSync(previousFile, 'utf8')) as AllResults) : null;
  const started = Date.now();
  const errors: Record<string, string> = {};
  const loads: Partial<Record<LoadPart, number>> = {};
  const loadAfter = (part: LoadPart): void => { loads[part] = Math.round((loadavg()[0] ?? 0) * 100) / 100; };
  const attempt = async <T>(name: string, fn: () => Promise<T>): Promise<T | null> => {
    try {
      return await fn();
    } catch (e) {
      errors[name] = e instanceof Error ? e.message.split('\n')[0] ?? e.message : String(e);
      log(`${name} failed: ${errors[name]}`);
      return null;
    }
  };
  const withPlane = async <T>(name: string, upstream: boolean, n: number, fn: (bp: BenchPlane) => Promise<T>): Promise<T> => {
    const bp = await startBenchPlane(name, upstream);
    try {
      await addNodes(bp, 0, n);
      return await fn(bp);
    } finally {
      await bp.stop();
    }
  };
  const joinOptions = { baseNodes: nodes, daemonSets, joins, perJoinTimeoutMs: 10_000 };

  // Plane A: daemonless.
  const a = !runs('planes') ? null : await attempt('plane A (daemonless)', () => withPlane('a', false, nodes, async (bp) => {
    const dl = await startDaemonless(benchKubeConfig(bp.plane.controllerKubeconfig, { limiter: new TokenBucket(KCM_QPS, KCM_BURST) }));
    try {
      const converge = await convergeDaemonless(bp, nodes, dl);
      loadAfter('converge');
      const rolling = await attempt('rolling-update (daemonless)', () => rollingPhase(bp, nodes, maxUnavailable, dl, rollingLimitMs));
      loadAfter('rollingUpdate');
      const join = await attempt('node-join (daemonless)', () => joinPhase(bp, joinOptions, 1, dl));
      loadAfter('nodeJoin');
      return { converge, rolling, join };
    } finally {
      await dl.stop();
    }
  }));
  // Plane B: upstream.
  const b = !runs('planes') ? null : await attempt('plane B (upstream)', () => withPlane('b', true, nodes, async (bp) => {
    const converge = await convergeUpstream(bp, nodes);
    const rolling = await attempt('rolling-update (upstream)', () => rollingPhase(bp, nodes, maxUnavailable, null, rollingLimitMs));
    const join: NodeJoinRun | null = upstreamJoins ? await attempt('node-join (upstream)', () => joinPhase(bp, joinOptions, 1, null)) : null;
    return { converge, rolling, join };
  }));
  // Plane C: the floor, of the converge and of the rolling update.
  const c = !runs('planes') ? null : await attempt('plane C (floor)', () => withPlane('c', false, nodes, async (bp) => {
    const converge = await convergeFloor(bp, nodes, 'affinity', floorConcurrency);
    const rolling = await attempt('rolling-update (floor)', () => rollingFloor(bp, nodes, maxUnavailable, rollingLimitMs));
    return { converge, rolling };
  }));
  const floor = c?.converge ?? null;
  // Plane E: daemonless converging with nodeName placement (no scheduler binding in the way).
  const convergeNodeName = !runs('planes') ? previous?.convergeNodeName ?? null : await attempt('plane E (daemonless, nodeName)', () => withPlane('e', false, nodes, async (bp) => {
    const dl = await startDaemonless(benchKubeConfig(bp.plane.controllerKubeconfig, { limiter: new TokenBucket(KCM_QPS, KCM_BURST) }), { placement: 'nodeName' });
    try {
      const run = await convergeDaemonless(bp, nodes, dl);
      loadAfter('convergeNodeName');
      return run;
    } finally {
      await dl.stop();
    }
  }));

  const converge = !runs('planes') ? previous?.converge ?? null : a && b && floor ? convergeResult(nodes, 'affinity', floorConcurrency, a.converge, b.converge, floor) : null;
  const rollingUpdate = !runs('planes') ? previous?.rollingUpdate ?? null
    : a?.rolling && b?.rolling ? rollingResult(nodes, maxUnavailable, a.rolling as RollingRun, b.rolling as RollingRun, c?.rolling ?? null) : null;
  const nodeJoin: NodeJoinResult | null = runs('node-join') && only.includes('node-join')
    ? await attempt('node-join', () => runNodeJoin({ baseNodes: nodes, daemonSets, joins, upstream: upstreamJoins, perJoinTimeoutMs: 10_000 }))
    : !runs('planes') ? previous?.nodeJoin ?? null : a?.join ? { baseNodes: nodes, daemonSets, joins, daemonless: a.join, upstream: b?.join ?? null } : null;

  // Plane F: what a node join and a resync cost at two cluster sizes.
  const scale = !runs('scale') ? null : await attempt('scale', async () => {
    return runScale({ sizes: scaleSizes, simulated: quick ? 5 : 20, joins: scaleJoins, daemonSets: 2, resyncDaemonSets, done: loadAfter });
  });
  const joinCost = !runs('scale') ? previous?.joinCost ?? null : scale?.joinCost ?? null;
  const resync = !runs('scale') ? previous?.resync ?? null : scale?.resync ?? null;

  // Partial results, in case a later part dies.
  writeFileSync(join(resultsDir, 'partial.json'), `${JSON.stringify({ converge, convergeNodeName, rollingUpdate, nodeJoin, joinCost, resync, errors }, null, 2)}\n`);

  // Plane D: converged reconcile.
  const convergedReconcile = !runs('converged-reconcile') ? previous?.convergedReconcile ?? null
    : await attempt('converged-reconcile', () => runConvergedReconcile({ sizes, windowSeconds: quick ? 3 : 10 }));

  const lambdaBundle = !runs('lambda-bundle') ? previous?.lambdaBundle ?? null : await attempt('lambda-bundle', () => runLambdaBundle({ runs: quick ? 3 : 7 }));

  // Cost: the measured reconcile time at the size closest to 1,000 nodes.
  const at1000 = convergedReconcile?.sizes.reduce((best, s) => (Math.abs(s.nodes - 1000) < Math.abs(best.nodes - 1000) ? s : best));
  const passMs = at1000 ? Math.max(...at1000.passes.map((p) => p.ms)) : DEFAULT_INPUTS.reconcileMs;
  const cost = computeCost({ ...DEFAULT_INPUTS, reconcileMs: quick ? DEFAULT_INPUTS.reconcileMs : Math.max(100, passMs) });

  const all: AllResults = {
    // The commit whose code ran (HEAD may move while a run takes its minutes).
    machine: { ...machineFacts('v1.35.8'), gitCommit: startCommit },
    mode: quick ? 'quick' : 'full',
    durationSeconds: Math.round((Date.now() - started) / 1000) + (previous?.durationSeconds ?? 0),
    converge, convergeNodeName, rollingUpdate, nodeJoin, joinCost, resync, convergedReconcile, lambdaBundle, cost,
    errors: { ...(previous?.errors ?? {}), ...errors },
    loads: { ...(previous?.loads ?? {}), ...loads },
  };
  // The mode is written into the report; a quick run overwrites the committed full results (git has them).
  const files = writeResults(all, { appendHistory: true });
  log(`wrote ${files.map((f) => `bench/results/${f}`).join(', ')} (${all.durationSeconds} s)`);
}

main().then(() => process.exit(0), (e: unknown) => {
  process.stderr.write(`run-all failed: ${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
