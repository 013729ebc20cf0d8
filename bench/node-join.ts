/**
 * Node join: with the controller running on a plane with `--base-nodes` nodes and K converged
 * DaemonSets, nodes join one at a time; for each join and each DaemonSet we take
 *   create → pod:   node create request sent → the daemon pod's first watch event, and
 *   eligible → pod: the node's first watch event showing it without a not-ready or unreachable NoSchedule taint
 *                   (before that no daemon pod may be placed, SCHED rules) → that pod event.
 * daemonless is the local runner with the watch source (same client QPS/burst as
 * kube-controller-manager); with `--upstream` the same joins run against the upstream controller on
 * an identical plane afterwards.
 *
 *   npx tsx bench/node-join.ts [--base-nodes 1000] [--daemonsets 3] [--joins 50] [--upstream] [--quick]
 */
import { fileURLToPath } from 'node:url';
import type { V1Node } from '@kubernetes/client-node';
import { nodeObject } from '../lib/local-plane/nodes.js';
import { log, parseFlags, percentile, sleep } from './lib/args.js';
import { ApiTraffic, benchKubeConfig, emptyTotals, isWatch, KCM_BURST, KCM_QPS, plainKubeConfig, TokenBucket, trafficBetween, trafficSum, type TrafficTotals } from './lib/kube.js';
import { addNodes, nodeName, startBenchPlane, type BenchPlane } from './lib/plane.js';
import { ChildWatch, PodTracker } from './lib/pods.js';
import { createDaemonSet, daemonSet, NAMESPACE, startDaemonless, type Daemonless, type PassRecord } from './lib/workload.js';

export interface LatencyStats {
  readonly samples: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

/**
 * The controller's API traffic during the joins (daemonless only; watches and the benchmark's own
 * node creates not counted), per join and DaemonSet: `window` from the node's create until its
 * daemon pods were seen; `total` over the whole join phase until the controller was idle again
 * (window + the passes that followed, e.g. status).
 */
export interface JoinTraffic {
  readonly joins: number;
  readonly daemonSets: number;
  readonly window: TrafficTotals;
  readonly total: TrafficTotals;
}

export interface NodeJoinRun {
  readonly createToPod: LatencyStats;
  readonly eligibleToPod: LatencyStats;
  readonly createToEligible: LatencyStats;
  /** The samples behind the stats, ms (absent in older results). */
  readonly samples?: { readonly createToPod: number[]; readonly eligibleToPod: number[] };
  readonly traffic?: JoinTraffic;
  readonly missing: number;
  /** daemonless: reconcile passes started during the joins (joins × DaemonSets are needed). */
  readonly reconciles?: number;
  /** daemonless: messages already waiting in its queue when the joins started. */
  readonly queuedAtStart?: number;
  /**
   * daemonless: where create → pod goes, per joined node and DaemonSet: from the node's create
   * until the node-scoped pass that made its pod started (the node's events, their delivery, the
   * fan-out, queue waits), and that pass's duration (absent in older results).
   */
  readonly nodePass?: { readonly waitMs: LatencyStats; readonly passMs: LatencyStats; readonly fullPassNeeded: number };
}

export interface NodeJoinResult {
  readonly baseNodes: number;
  readonly daemonSets: number;
  readonly joins: number;
  readonly daemonless: NodeJoinRun;
  readonly upstream: NodeJoinRun | null;
}

export interface NodeJoinOptions {
  readonly baseNodes: number;
  readonly daemonSets: number;
  readonly joins: number;
  readonly upstream?: boolean;
  /** How long one join waits for its pods before counting them missing (default 30 s). */
  /** Pause after a join's pods are there before the next join (default 300 ms). */
  readonly gapMs?: number;
  readonly perJoinTimeoutMs?: number;
  /** Count the controller's requests and bytes per join (daemonless only). */
  readonly countTraffic?: boolean;
  /** Node object of joining node `name` (default: a kwok-simulated node). */
  readonly joiningNode?: (name: string) => ReturnType<typeof nodeObject>;
  /** Index of the first joining node (default baseNodes). */
  readonly firstJoinIndex?: number;
  /** Base nodes a daemon pod runs on (default baseNodes: every base node is Ready). */
  readonly eligibleBaseNodes?: number;
}

export function stats(values: readonly number[]): LatencyStats {
  const s = [...values].sort((a, b) => a - b);
  const r = (x: number): number => Math.round(x);
  return { samples: s.length, p50Ms: r(percentile(s, 50)), p90Ms: r(percentile(s, 90)), p99Ms: r(percentile(s, 99)), maxMs: r(s[s.length - 1] ?? Number.NaN) };
}

/**
 * The joins on a plane with `baseNodes` nodes, where `existing` DaemonSets already run; creates the
 * missing ones (join-k) up to `o.daemonSets` and waits for them first. `dl` null = upstream.
 */
export async function joinPhase(bp: BenchPlane, o: NodeJoinOptions, existing: number, dl: Daemonless | null): Promise<NodeJoinRun> {
  const admin = plainKubeConfig(bp.plane.adminKubeconfig);
  const t = await PodTracker.start(bp.plane.adminKubeconfig, NAMESPACE);
  const stops: (() => void)[] = [];
  try {
    for (let k = existing; k < o.daemonSets; k += 1) await createDaemonSet(admin, daemonSet(`join-${k}`));
    const want = (o.eligibleBaseNodes ?? o.baseNodes) * o.daemonSets;
    await t.until(() => t.counts().ready >= Math.ceil(want * 0.99) && t.pods.size >= want, 120_000 + want * 200, `${want} pods Ready before the joins`);
    await sleep(2000);
    const queuedAtStart = dl?.runner.fifo?.depth().visible;
    log(`[node-join ${dl === null ? 'upstream' : 'daemonless'}] ${o.daemonSets} DaemonSets converged on ${o.baseNodes} nodes; joining ${o.joins} nodes`);

    // Node watch: when each joining node becomes eligible; the joining nodes only (a thousand
    // others' status updates are of no use here).
    const eligibleAt = new Map<string, number>();
    const nodeWatch = new ChildWatch(bp.plane.adminKubeconfig, '/api/v1/nodes', `${JOINING_LABEL}=true`, (_type, o, at) => {
      const name = String(o?.name ?? '');
      if (o && !eligibleAt.has(name) && o.eligible === true) eligibleAt.set(name, at);
    });
    stops.push(() => nodeWatch.stop());
    await nodeWatch.ready();

    const createToPod: number[] = [];
    const eligibleToPod: number[] = [];
    const createToEligible: number[] = [];
    let missing = 0;
    const startedBefore = dl?.started() ?? 0;
    // The benchmark's own node creates go through this process too: not the controller's.
    const traffic = dl !== null && o.countTraffic === true
      ? new ApiTraffic(bp.plane.server, { exclude: (method, path) => isWatch(method, path) || (method === 'POST' && path.startsWith('/api/v1/nodes')) })
      : null;
    if (traffic) stops.push(() => traffic.close());
    let window = emptyTotals();
    const createdAt = new Map<string, number>();
    const first = o.firstJoinIndex ?? o.baseNodes;
    for (let j = 0; j < o.joins; j += 1) {
      const name = nodeName(first + j);
      const podsOf = (): number[] => [...t.pods.values()].filter((p) => p.node === name).map((p) => p.firstSeen);
      // Counting: each join starts when the pods so far are Ready and the controller is idle, so its
      // window holds only what the join caused (not the status passes of the join before).
      if (traffic && dl) {
        await t.until(() => t.counts().ready >= t.pods.size, 15_000, 'every daemon pod Ready').catch((e: unknown) => log(`node-join: before join ${j}: ${String(e)}`));
        await dl.runner.idle(20_000).catch((e: unknown) => log(`node-join: daemonless not idle before join ${j}: ${String(e)}`));
      }
      const before = traffic?.snapshot();
      const t0 = performance.now();
      createdAt.set(name, t0);
      await bp.core.createNode({ body: joining(o.joiningNode?.(name) ?? nodeObject({ name })) });
      try {
        await t.until(() => podsOf().length >= o.daemonSets, o.perJoinTimeoutMs ?? 30_000, `daemon pods on ${name}`);
      } catch {
        missing += o.daemonSets - podsOf().length;
      }
      if (traffic && before) window = trafficSum(window, trafficBetween(before, traffic.snapshot()));
      // The node's eligible event may still be on its way.
      for (let w = 0; w < 20 && !eligibleAt.has(name); w += 1) await sleep(100);
      const el = eligibleAt.get(name);
      if (el !== undefined) createToEligible.push(el - t0);
      for (const seen of podsOf()) {
        createToPod.push(seen - t0);
        if (el !== undefined) eligibleToPod.push(seen - el);
      }
      await sleep(o.gapMs ?? 300);
    }
    let total: TrafficTotals | null = null;
    if (traffic && dl) {
      await dl.runner.idle(60_000).catch((e: unknown) => log(`node-join: daemonless not idle after the joins: ${String(e)}`));
      total = traffic.snapshot();
    }
    const round = (xs: number[]): number[] => xs.map((x) => Math.round(x));
    const nodePass = dl === null ? undefined : nodePassBreakdown(dl.reports, createdAt);
    const run = { createToPod: stats(createToPod), eligibleToPod: stats(eligibleToPod), createToEligible: stats(createToEligible),
      samples: { createToPod: round(createToPod), eligibleToPod: round(eligibleToPod) },
      ...(traffic && total ? { traffic: { joins: o.joins, daemonSets: o.daemonSets, window, total } } : {}),
      missing,
      ...(dl === null ? {} : { reconciles: dl.started() - startedBefore }),
      ...(queuedAtStart === undefined ? {} : { queuedAtStart }), ...(nodePass === undefined ? {} : { nodePass }) };
    log(`node-join: ${dl === null ? 'upstream' : 'daemonless'} ${JSON.stringify({ ...run, samples: undefined, traffic: run.traffic ? { window: run.traffic.window.requests, total: run.traffic.total.requests } : undefined })}`);
    return run;
  } finally {
    for (const stop of stops) stop();
    t.stop();
  }
}

/** The node-scoped pass of each DaemonSet on each joined node that created its pod, measured from the node's create. */
export function nodePassBreakdown(reports: readonly PassRecord[], createdAt: ReadonlyMap<string, number>): NonNullable<NodeJoinRun['nodePass']> {
  const waits: number[] = [];
  const passes: number[] = [];
  const seen = new Set<string>();
  let fullPassNeeded = 0;
  for (const r of reports) {
    const created = r.node === undefined ? undefined : createdAt.get(r.node);
    if (created === undefined || r.startedAt < created) continue;
    if (r.fullPassNeeded === true) fullPassNeeded += 1;
    if (r.podsCreated === 0 || seen.has(`${r.key} ${r.node}`)) continue;
    seen.add(`${r.key} ${r.node}`);
    waits.push(r.startedAt - created);
    passes.push(r.at - r.startedAt);
  }
  return { waitMs: stats(waits), passMs: stats(passes), fullPassNeeded };
}

async function runOn(upstream: boolean, o: NodeJoinOptions): Promise<NodeJoinRun> {
  const bp = await startBenchPlane(upstream ? 'b' : 'a', upstream);
  let dl: Daemonless | null = null;
  try {
    await addNodes(bp, 0, o.baseNodes);
    if (!upstream) {
      dl = await startDaemonless(benchKubeConfig(bp.plane.controllerKubeconfig, { limiter: new TokenBucket(KCM_QPS, KCM_BURST) }));
      await dl.runner.idle(30_000);
    }
    return await joinPhase(bp, o, 0, dl);
  } finally {
    await dl?.stop();
    await bp.stop();
  }
}

export async function runNodeJoin(o: NodeJoinOptions): Promise<NodeJoinResult> {
  const daemonless = await runOn(false, o);
  const upstream = o.upstream ? await runOn(true, o) : null;
  return { baseNodes: o.baseNodes, daemonSets: o.daemonSets, joins: o.joins, daemonless, upstream };
}

/** Marks the nodes that join, for the benchmark's node watch; no DaemonSet of the benchmark selects on it. */
const JOINING_LABEL = 'bench.daemonless.io/joining';
const joining = (node: V1Node): V1Node => ({ ...node, metadata: { ...node.metadata, labels: { ...node.metadata?.labels, [JOINING_LABEL]: 'true' } } });

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const flags = parseFlags();
  runNodeJoin({
    baseNodes: flags.number('base-nodes', 1000, 20),
    daemonSets: flags.number('daemonsets', 3, 2),
    joins: flags.number('joins', 50, 10),
    upstream: flags.bool('upstream'),
    gapMs: flags.number('gap-ms', 300),
  }).then((r) => { process.stdout.write(`${JSON.stringify(r, null, 2)}\n`); process.exit(0); },
    (e: unknown) => { process.stderr.write(`node-join failed: ${e instanceof Error ? e.stack : String(e)}\n`); process.exit(1); });
}
