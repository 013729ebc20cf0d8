/**
 * Converge: one DaemonSet on N simulated nodes, until all N pods exist and are Ready.
 *   A  daemonless (the local runner with the watch source, as `npm start` runs it) on plane A,
 *   B  kube-controller-manager's own DaemonSet controller on plane B (identical plane),
 *   C  the floor: a bare client creating the very pods daemonless would create (same template,
 *      same placement) with the same client rate limit and at most `--floor-concurrency` in flight
 *      (default 128: the largest slow-start batch daemonless issues within its 250-pod burst).
 * All three use QPS 200 / burst 400 (kube-controller-manager's flags on the planes). The planes run
 * one after another (each stopped before the next starts) so they do not compete for the CPUs.
 *
 *   npx tsx bench/converge.ts [--nodes 1000] [--placement affinity|nodeName] [--floor-concurrency 128] [--quick]
 */
import { stats } from './node-join.js';
import { AppsV1Api, CoreV1Api, type V1DaemonSet, type V1Node } from '@kubernetes/client-node';
import { fileURLToPath } from 'node:url';
import { plan, type PlacementMode } from '../lib/core/index.js';
import { log, mapLimit, parseFlags, thin } from './lib/args.js';
import { benchKubeConfig, KCM_BURST, KCM_QPS, plainKubeConfig, TokenBucket } from './lib/kube.js';
import { addNodes, startBenchPlane, type BenchPlane } from './lib/plane.js';
import { PodTracker } from './lib/pods.js';
import { createDaemonSet, daemonSet, NAMESPACE, startDaemonless, type Daemonless } from './lib/workload.js';

export interface ConvergeRun {
  /** DaemonSet (or first create) → all N pods exist, ms (null: not within the run). */
  readonly allCreatedMs: number | null;
  /** DaemonSet (or first create) → all N pods Ready, ms (null: not within the run). */
  readonly allReadyMs: number | null;
  /** Milestones: % of N → ms. */
  readonly createdMs: Record<string, number | null>;
  readonly readyMs: Record<string, number | null>;
  /** Reconcile passes started between the DaemonSet's creation and the end of the measurement. */
  readonly reconciles?: number;
  readonly limiterWaits?: number;
  /** Pods that exist / are Ready over time (ms since the start), thinned to ≤ 300 points (absent in older results). */
  readonly series?: { readonly t: number; readonly created: number; readonly ready: number }[];
}

export interface ConvergeResult {
  readonly nodes: number;
  readonly placement: PlacementMode;
  readonly floorConcurrency: number;
  readonly daemonless: ConvergeRun;
  readonly upstream: ConvergeRun;
  readonly floor: ConvergeRun;
  /** All Ready (or 99 % Ready when a run did not reach 100 %), daemonless / upstream. */
  readonly ratioToUpstream: number;
  readonly ratioToFloor: number;
  /** Which milestone the ratios compare: "100%" or "99%". */
  readonly ratioBasis: string;
  readonly createdRatioToUpstream: number | null;
  readonly createdRatioToFloor: number | null;
}

export interface ConvergeOptions {
  readonly nodes: number;
  readonly placement?: PlacementMode;
  readonly floorConcurrency?: number;
}

/** The DaemonSet the converge phase creates; the rolling-update phase then updates it. */
export const CONVERGE_DS = 'converge';
export const convergeDaemonSet = (): V1DaemonSet => daemonSet(CONVERGE_DS, { maxUnavailable: '10%', env: 'v1' });

const MILESTONES = [50, 90, 99, 100] as const;

/**
 * Times from `start` until the share of the N pods that exist / are Ready reaches each milestone.
 * Ends at 100 % Ready, or when nothing progressed for `stallMs` after 99 % (a simulated node that
 * went NotReady under CPU pressure holds its pod back for both controllers): then 100 % is null.
 */
async function measure(bp: BenchPlane, nodes: number, start: () => Promise<unknown>): Promise<Omit<ConvergeRun, 'reconciles' | 'limiterWaits'>> {
  const tracker = await PodTracker.start(bp.plane.adminKubeconfig, NAMESPACE, `app=${CONVERGE_DS}`);
  const created: Record<string, number | null> = {};
  const ready: Record<string, number | null> = {};
  for (const m of MILESTONES) { created[m] = null; ready[m] = null; }
  let t0 = performance.now();
  let lastProgress = t0;
  let lastReady = 0;
  const series: { t: number; created: number; ready: number }[] = [];
  const check = (): void => {
    const c = tracker.counts();
    const now = performance.now();
    const prev = series[series.length - 1];
    if (prev === undefined || prev.created !== tracker.pods.size || prev.ready !== c.ready) series.push({ t: Math.round(now - t0), created: tracker.pods.size, ready: c.ready });
    if (c.ready > lastReady) { lastReady = c.ready; lastProgress = now; }
    for (const m of MILESTONES) {
      const need = Math.ceil((m / 100) * nodes);
      if (created[m] === null && tracker.pods.size >= need) created[m] = Math.round(now - t0);
      if (ready[m] === null && c.ready >= need) ready[m] = Math.round(now - t0);
    }
  };
  try {
    t0 = performance.now();
    lastProgress = t0;
    series.push({ t: 0, created: tracker.pods.size, ready: tracker.counts().ready });
    tracker.onEvent = check;
    await start();
    const timeout = 120_000 + nodes * 600;
    const stallMs = 60_000;
    await tracker.until(() => {
      check();
      return ready[100] !== null || (ready[99] !== null && performance.now() - lastProgress > stallMs);
    }, timeout, `${nodes} pods Ready`);
    return { allCreatedMs: created[100] ?? null, allReadyMs: ready[100] ?? null, createdMs: created, readyMs: ready, series: thin(series) };
  } finally {
    tracker.onEvent = null;
    tracker.stop();
  }
}

/** daemonless on a plane with `nodes` Ready nodes; the runner keeps running (for later phases). */
export async function convergeDaemonless(bp: BenchPlane, nodes: number, dl: Daemonless): Promise<ConvergeRun> {
  await dl.runner.idle(60_000).catch((e: unknown) => log(`converge: daemonless not idle before the DaemonSet: ${String(e)}`));
  const before = dl.started();
  const firstReport = dl.reports.length;
  const r = await measure(bp, nodes, () => createDaemonSet(plainKubeConfig(bp.plane.adminKubeconfig), convergeDaemonSet()));
  const run = { ...r, reconciles: dl.started() - before };
  log(`converge: daemonless ${JSON.stringify({ ...run, series: undefined })}`);
  const passes = dl.reports.slice(firstReport);
  log(`converge: daemonless passes took ${JSON.stringify(stats(passes.map((p) => p.at - p.startedAt)))}; bursts ${passes.reduce((n, p) => n + (p.bursts ?? 1), 0)}; reads ${passes.reduce((n, p) => n + p.reads, 0)}`);
  // Each pass: start (s after the first), duration, pods created, bursts, reads, status written.
  const first = passes[0]?.startedAt ?? 0;
  log(`converge: daemonless pass timeline ${passes.map((p) => `+${((p.startedAt - first) / 1000).toFixed(1)}s ${Math.round(p.at - p.startedAt)}ms ${p.scope === 'node' ? 'node ' : ''}+${p.podsCreated}${p.bursts === undefined || p.bursts <= 1 ? '' : ` ×${p.bursts}`} r${p.reads}${p.statusWritten ? ' s' : ''}`).join(', ')}`);
  return run;
}

export async function convergeUpstream(bp: BenchPlane, nodes: number): Promise<ConvergeRun> {
  const run = await measure(bp, nodes, () => createDaemonSet(plainKubeConfig(bp.plane.adminKubeconfig), convergeDaemonSet()));
  log(`converge: upstream ${JSON.stringify({ ...run, series: undefined })}`);
  return run;
}

/** The floor on a plane without any DaemonSet controller: the pods daemonless would create, created by a bare client. */
export async function convergeFloor(bp: BenchPlane, nodes: number, placement: PlacementMode, concurrency: number): Promise<ConvergeRun> {
  const admin = plainKubeConfig(bp.plane.adminKubeconfig);
  await createDaemonSet(admin, convergeDaemonSet());
  const fresh = await admin.makeApiClient(AppsV1Api).readNamespacedDaemonSet({ namespace: NAMESPACE, name: CONVERGE_DS });
  const nodeList: V1Node[] = (await bp.core.listNode({})).items;
  const p = plan({ daemonSet: fresh, nodes: nodeList, pods: [], revisions: [], complete: true }, new Date(), { placement });
  const pods = p.createPods.map((c) => c.pod);
  if (pods.length !== nodes) throw new Error(`the floor plan has ${pods.length} pods, want ${nodes}`);
  const limiter = new TokenBucket(KCM_QPS, KCM_BURST);
  const core = benchKubeConfig(bp.plane.controllerKubeconfig, { limiter }).makeApiClient(CoreV1Api);
  const r = await measure(bp, nodes, () => mapLimit(pods, concurrency, (pod) => core.createNamespacedPod({ namespace: NAMESPACE, body: pod })));
  const run = { ...r, limiterWaits: limiter.waits };
  log(`converge: floor ${JSON.stringify({ ...run, series: undefined })}`);
  return run;
}

export function convergeResult(nodes: number, placement: PlacementMode, floorConcurrency: number, daemonless: ConvergeRun, upstream: ConvergeRun, floor: ConvergeRun): ConvergeResult {
  const ratio = (a: number | null | undefined, b: number | null | undefined): number | null =>
    a === null || a === undefined || b === null || b === undefined ? null : Math.round((a / b) * 100) / 100;
  const all = [daemonless, upstream, floor].every((r) => r.allReadyMs !== null);
  const basis = all ? '100' : '99';
  return {
    nodes, placement, floorConcurrency, daemonless, upstream, floor,
    ratioToUpstream: ratio(daemonless.readyMs[basis], upstream.readyMs[basis]) ?? Number.NaN,
    ratioToFloor: ratio(daemonless.readyMs[basis], floor.readyMs[basis]) ?? Number.NaN,
    ratioBasis: `${basis}%`,
    createdRatioToUpstream: ratio(daemonless.createdMs[basis], upstream.createdMs[basis]),
    createdRatioToFloor: ratio(daemonless.createdMs[basis], floor.createdMs[basis]),
  };
}

/** The three planes one after another, each stopped before the next starts. */
export async function runConverge(options: ConvergeOptions): Promise<ConvergeResult> {
  const n = options.nodes;
  const placement = options.placement ?? 'affinity';
  const floorConcurrency = options.floorConcurrency ?? 128;
  const withPlane = async <T>(name: string, upstream: boolean, fn: (bp: BenchPlane) => Promise<T>): Promise<T> => {
    const bp = await startBenchPlane(name, upstream);
    try {
      await addNodes(bp, 0, n);
      return await fn(bp);
    } finally {
      await bp.stop();
    }
  };
  const daemonless = await withPlane('a', false, async (bp) => {
    const dl = await startDaemonless(benchKubeConfig(bp.plane.controllerKubeconfig, { limiter: new TokenBucket(KCM_QPS, KCM_BURST) }), { placement });
    try {
      return await convergeDaemonless(bp, n, dl);
    } finally {
      await dl.stop();
    }
  });
  const upstream = await withPlane('b', true, (bp) => convergeUpstream(bp, n));
  const floor = await withPlane('c', false, (bp) => convergeFloor(bp, n, placement, floorConcurrency));
  return convergeResult(n, placement, floorConcurrency, daemonless, upstream, floor);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const flags = parseFlags();
  const placement = flags.string('placement', 'affinity') as PlacementMode;
  runConverge({ nodes: flags.number('nodes', 1000, 50), placement, floorConcurrency: flags.number('floor-concurrency', 128) })
    .then((r) => { process.stdout.write(`${JSON.stringify(r, null, 2)}\n`); process.exit(0); },
      (e: unknown) => { process.stderr.write(`converge failed: ${e instanceof Error ? e.stack : String(e)}\n`); process.exit(1); });
}
