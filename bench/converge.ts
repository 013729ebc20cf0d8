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
import { AppsV1Api, CoreV1Api, type V1DaemonSet, type V1Node } from '@kubernetes/client-node';
import { fileURLToPath } from 'node:url';
import { plan, type PlacementMode } from '../lib/core/index.js';
import { log, mapLimit, parseFlags } from './lib/args.js';
import { benchKubeConfig, KCM_BURST, KCM_QPS, plainKubeConfig, TokenBucket } from './lib/kube.js';
import { addNodes, startBenchPlane, type BenchPlane } from './lib/plane.js';
import { PodTracker } from './lib/pods.js';
import { createDaemonSet, daemonSet, NAMESPACE, startDaemonless } from './lib/workload.js';

export interface ConvergeRun {
  /** DaemonSet (or first create) → all N pods exist, ms. */
  readonly allCreatedMs: number;
  /** DaemonSet (or first create) → all N pods Ready, ms. */
  readonly allReadyMs: number;
  readonly reconciles?: number;
  readonly limiterWaits?: number;
}

export interface ConvergeResult {
  readonly nodes: number;
  readonly placement: PlacementMode;
  readonly floorConcurrency: number;
  readonly daemonless: ConvergeRun;
  readonly upstream: ConvergeRun;
  readonly floor: ConvergeRun;
  readonly ratioToUpstream: number;
  readonly ratioToFloor: number;
  readonly createdRatioToUpstream: number;
  readonly createdRatioToFloor: number;
}

export interface ConvergeOptions {
  readonly nodes: number;
  readonly placement?: PlacementMode;
  readonly floorConcurrency?: number;
}

const DS = 'converge';

async function measure(bp: BenchPlane, nodes: number, start: () => Promise<unknown>): Promise<{ allCreatedMs: number; allReadyMs: number }> {
  const tracker = await PodTracker.start(plainKubeConfig(bp.plane.adminKubeconfig), NAMESPACE, `app=${DS}`);
  try {
    const t0 = performance.now();
    await start();
    const timeout = 120_000 + nodes * 600;
    const created = await tracker.until(() => tracker.pods.size >= nodes, timeout, `${nodes} pods created`);
    const ready = await tracker.until(() => tracker.counts().ready >= nodes, timeout, `${nodes} pods Ready`);
    return { allCreatedMs: Math.round(created - t0), allReadyMs: Math.round(ready - t0) };
  } finally {
    tracker.stop();
  }
}

export async function runConverge(options: ConvergeOptions): Promise<ConvergeResult> {
  const n = options.nodes;
  const placement = options.placement ?? 'affinity';
  const floorConcurrency = options.floorConcurrency ?? 128;

  // A: daemonless.
  let daemonlessRun: ConvergeRun;
  {
    const bp = await startBenchPlane('a', false);
    try {
      await addNodes(bp, 0, n);
      const limiter = new TokenBucket(KCM_QPS, KCM_BURST);
      const dl = await startDaemonless(benchKubeConfig(bp.plane.controllerKubeconfig, { limiter }), { placement });
      try {
        await dl.runner.idle(30_000);
        const before = dl.reports.length;
        const r = await measure(bp, n, () => createDaemonSet(plainKubeConfig(bp.plane.adminKubeconfig), daemonSet(DS)));
        daemonlessRun = { ...r, reconciles: dl.reports.length - before, limiterWaits: limiter.waits };
      } finally {
        await dl.stop();
      }
    } finally {
      await bp.stop();
    }
    log(`converge: daemonless ${JSON.stringify(daemonlessRun)}`);
  }

  // B: upstream.
  let upstreamRun: ConvergeRun;
  {
    const bp = await startBenchPlane('b', true);
    try {
      await addNodes(bp, 0, n);
      upstreamRun = await measure(bp, n, () => createDaemonSet(plainKubeConfig(bp.plane.adminKubeconfig), daemonSet(DS)));
    } finally {
      await bp.stop();
    }
    log(`converge: upstream ${JSON.stringify(upstreamRun)}`);
  }

  // C: the floor.
  let floorRun: ConvergeRun;
  {
    const bp = await startBenchPlane('c', false);
    try {
      await addNodes(bp, 0, n);
      const admin = plainKubeConfig(bp.plane.adminKubeconfig);
      const ds: V1DaemonSet = await createDaemonSet(admin, daemonSet(DS));
      const fresh = await admin.makeApiClient(AppsV1Api).readNamespacedDaemonSet({ namespace: NAMESPACE, name: DS });
      const nodeList: V1Node[] = (await bp.core.listNode({})).items;
      const p = plan({ daemonSet: fresh ?? ds, nodes: nodeList, pods: [], revisions: [], complete: true }, new Date(), { placement });
      const pods = p.createPods.map((c) => c.pod);
      if (pods.length !== n) throw new Error(`the floor plan has ${pods.length} pods, want ${n}`);
      const limiter = new TokenBucket(KCM_QPS, KCM_BURST);
      const core = benchKubeConfig(bp.plane.controllerKubeconfig, { limiter }).makeApiClient(CoreV1Api);
      const r = await measure(bp, n, () => mapLimit(pods, floorConcurrency, (pod) => core.createNamespacedPod({ namespace: NAMESPACE, body: pod })));
      floorRun = { ...r, limiterWaits: limiter.waits };
    } finally {
      await bp.stop();
    }
    log(`converge: floor ${JSON.stringify(floorRun)}`);
  }

  const ratio = (a: number, b: number): number => Math.round((a / b) * 100) / 100;
  return {
    nodes: n,
    placement,
    floorConcurrency,
    daemonless: daemonlessRun,
    upstream: upstreamRun,
    floor: floorRun,
    ratioToUpstream: ratio(daemonlessRun.allReadyMs, upstreamRun.allReadyMs),
    ratioToFloor: ratio(daemonlessRun.allReadyMs, floorRun.allReadyMs),
    createdRatioToUpstream: ratio(daemonlessRun.allCreatedMs, upstreamRun.allCreatedMs),
    createdRatioToFloor: ratio(daemonlessRun.allCreatedMs, floorRun.allCreatedMs),
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const flags = parseFlags();
  const placement = flags.string('placement', 'affinity') as PlacementMode;
  runConverge({ nodes: flags.number('nodes', 1000, 50), placement, floorConcurrency: flags.number('floor-concurrency', 128) })
    .then((r) => { process.stdout.write(`${JSON.stringify(r, null, 2)}\n`); process.exit(0); },
      (e: unknown) => { process.stderr.write(`converge failed: ${e instanceof Error ? e.stack : String(e)}\n`); process.exit(1); });
}
