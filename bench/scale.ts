/**
 * What one event costs the controller as the cluster grows, measured on a plane where most nodes
 * exist but are not simulated: kwok simulates only the nodes annotated for it, so the others stay
 * NotReady, tainted (no daemon pod belongs on them), and nothing heartbeats them
 * — a 2-core machine cannot simulate 5,000 kubelets — yet every LIST of nodes carries them. A few
 * simulated nodes run the DaemonSets' pods.
 *
 * - Join cost: at each size (default 1,000 then 5,000 nodes) K simulated nodes join one at a time
 *   with D DaemonSets, the local runner idle before each join; per join the controller's requests
 *   and response bytes from the node's create until its D daemon pods exist (node-join.ts counts
 *   them), and until it is idle again.
 * - Resync: R DaemonSets converged at the largest size; the local runner stops; one resync through
 *   the resync handler and the reconcile handler (lambdas/), the reconcile queue's records delivered
 *   in batches of 10 as the SQS event source delivers them: node LISTs, their pages and the writes.
 *
 *   npx tsx bench/scale.ts [--sizes 1000,5000] [--simulated 20] [--joins 8] [--daemonsets 2] [--resync-daemonsets 20] [--quick]
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { CoreV1Api, type V1Node } from '@kubernetes/client-node';
import type { Context, SQSRecord } from 'aws-lambda';
import { fileURLToPath } from 'node:url';
import { createHandler as createReconcileHandler } from '../lambdas/reconcile.js';
import { createHandler as createResyncHandler } from '../lambdas/resync.js';
import type { Observability } from '../lambdas/shared/observability.js';
import { KubeCluster } from '../lib/adapters/kube/kube-cluster.js';
import { MemoryFifoQueue } from '../lib/adapters/memory/fifo-queue.js';
import { createMemoryWorkQueue } from '../lib/adapters/memory/memory-work-queue.js';
import { emitEventVia, listDaemonSetsVia } from '../lib/app/cluster-ports.js';
import { createReconciler } from '../lib/app/reconcile-key.js';
import { RecordingLogger, RecordingMetrics } from '../lib/observability/recording.js';
import { log, parseFlags, sleep } from './lib/args.js';
import { ApiTraffic, benchKubeConfig, isWatch, KCM_BURST, KCM_QPS, mb, plainKubeConfig, TokenBucket, writesOf, type TrafficTotals } from './lib/kube.js';
import { addNodes, nodeName, startBenchPlane, type BenchPlane } from './lib/plane.js';
import { PodTracker } from './lib/pods.js';
import { createDaemonSet, daemonSet, listCacheOn, NAMESPACE, startDaemonless, type Daemonless } from './lib/workload.js';
import { joinPhase, type NodeJoinRun } from './node-join.js';

export interface JoinCostSize {
  /** Nodes in the cluster when the joins started. */
  readonly nodes: number;
  /** Of those, simulated (Ready) nodes, each running the DaemonSets' pods. */
  readonly simulatedNodes: number;
  readonly run: NodeJoinRun;
  /** Adding the nodes nobody simulates before the joins: until node lifecycle marked them and the controller was idle again. */
  readonly growth?: Growth;
}

export interface Growth {
  readonly nodesAdded: number;
  readonly seconds: number;
  /** The most messages waiting in the controller's queue meanwhile, and the reconcile passes started. */
  readonly peakQueued: number;
  readonly reconciles: number;
}

export interface JoinCostResult {
  readonly daemonSets: number;
  readonly joins: number;
  readonly sizes: JoinCostSize[];
}

export interface ResyncResult {
  readonly nodes: number;
  readonly simulatedNodes: number;
  readonly daemonSets: number;
  /** Keys the resync enqueued, and the reconcile handler invocations (≤ 10 records each) they took. */
  readonly keys: number;
  readonly batches: number;
  /** LISTs of nodes (a paged LIST counts once), their pages, and single-node GETs. */
  readonly nodeLists: number;
  readonly nodeListPages: number;
  readonly nodeGets: number;
  /** Requests that are not GETs. */
  readonly writes: number;
  readonly requests: number;
  readonly decodedBytes: number;
  readonly wireBytes: number;
  readonly ms: number;
  readonly byRequest: TrafficTotals['byRequest'];
  /** Records the reconcile handler failed (redelivered by SQS), and messages the passes enqueued (requeues; not processed here). */
  readonly failedRecords: number;
  readonly enqueuedByPasses: number;
}

export interface ScaleOptions {
  readonly sizes: readonly number[];
  /** Simulated (Ready) base nodes (default 20). */
  readonly simulated: number;
  readonly joins: number;
  readonly daemonSets: number;
  /** DaemonSets converged for the resync (default 20; 0 = no resync). */
  readonly resyncDaemonSets: number;
  /** Called when a part is done (run-all notes the machine's load then). */
  readonly done?: (part: 'joinCost' | 'resync') => void;
}

export interface ScaleResult {
  readonly joinCost: JoinCostResult;
  readonly resync: ResyncResult | null;
}

/** Joining nodes get names from this index on, away from the base nodes. */
const JOIN_INDEX = 90_000;

/**
 * Keeps daemon pods off the nodes nobody simulates from their first moment: node lifecycle taints a
 * node that never reported status only after its startup grace period.
 */
const NOT_SIMULATED = { key: 'bench.daemonless.io/not-simulated', effect: 'NoSchedule' } as const;

/**
 * Node lifecycle is done with a node nobody simulates once it set its Ready condition (Unknown) and
 * then, from its own work queue and at 5,000 nodes up to minutes later, the
 * `node.kubernetes.io/unreachable:NoSchedule` taint — a change that can bear on eligibility, so
 * every one reaches the controller as a node event.
 */
const markedByNodeLifecycle = (n: V1Node): boolean => {
  const taints = n.spec?.taints ?? [];
  const tainted = (key: string): boolean => taints.some((t) => t.key === key && t.effect === 'NoSchedule');
  const hasReady = n.status?.conditions?.some((c) => c.type === 'Ready') ?? false;
  return hasReady && (!tainted(NOT_SIMULATED.key) || tainted('node.kubernetes.io/unreachable'));
};

/**
 * Creates non-simulated nodes until the plane has `to` nodes, then waits until node lifecycle has
 * marked every one of them (Ready Unknown after its startup grace period, then the unreachable
 * NoSchedule taint) and the controller has handled those node updates, so the measurement that
 * follows sees a quiet cluster.
 */
async function growTo(bp: BenchPlane, from: number, to: number, dl: Daemonless | null): Promise<Growth | undefined> {
  if (to <= from) return undefined;
  const t0 = Date.now();
  const startedBefore = dl?.started() ?? 0;
  let peakQueued = 0;
  const sampler = setInterval(() => {
    const d = dl?.runner.fifo?.depth();
    if (d) peakQueued = Math.max(peakQueued, d.visible + d.inFlight + d.delayed);
  }, 250);
  await addNodes(bp, from, to, (i) => ({ name: nodeName(i), simulated: false, taints: [NOT_SIMULATED] }), { waitReady: false });
  const core = plainKubeConfig(bp.plane.adminKubeconfig).makeApiClient(CoreV1Api);
  const deadline = Date.now() + 240_000;
  for (;;) {
    let unmarked = 0;
    let cont: string | undefined;
    do {
      const page = await core.listNode({ limit: 1000, _continue: cont });
      unmarked += page.items.filter((n) => !markedByNodeLifecycle(n)).length;
      cont = page.metadata?._continue || undefined;
    } while (cont);
    if (unmarked === 0) break;
    if (Date.now() > deadline) throw new Error(`${unmarked} nodes not marked by node lifecycle after 240 s`);
    await sleep(2000);
  }
  await sleep(3000);
  await dl?.runner.idle(300_000).catch((e: unknown) => log(`scale: daemonless not idle after the nodes were marked: ${String(e)}`));
  clearInterval(sampler);
  const growth = { nodesAdded: to - from, seconds: Math.round((Date.now() - t0) / 1000), peakQueued, reconciles: (dl?.started() ?? 0) - startedBefore };
  log(`[plane ${bp.plane.name}] ${to} nodes (${to - from} not simulated, marked by node lifecycle) in ${growth.seconds} s; peak queue ${peakQueued}, ${growth.reconciles} reconciles`);
  return growth;
}

/** Powertools as the handlers use them, silent (no log lines, no metrics output, no traces). */
function quietObservability(): Observability {
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  const logger = new Logger({ logLevel: 'SILENT' });
  return { logger, metrics: new Metrics({ namespace: 'bench', logger }), tracer: new Tracer({ enabled: false }) };
}

const lambdaContext = (name: string): Context => ({
  callbackWaitsForEmptyEventLoop: true, functionName: name, functionVersion: '$LATEST',
  invokedFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:${name}`, memoryLimitInMB: '512',
  awsRequestId: `bench-${Date.now()}`, logGroupName: `/aws/lambda/${name}`, logStreamName: 'bench',
  getRemainingTimeInMillis: () => 900_000, done: () => undefined, fail: () => undefined, succeed: () => undefined,
});

const FIFO_ARN = 'arn:aws:sqs:us-east-1:123456789012:daemonless-reconcile.fifo';

/** One resync of every DaemonSet on the plane through the two handlers; the plane must be converged and no other controller running. */
export async function measureResync(bp: BenchPlane, daemonSets: number, simulatedNodes: number, nodes: number): Promise<ResyncResult> {
  // A new container, as after a deploy: its list cache (IMPL-10) starts empty.
  const cluster = new KubeCluster(plainKubeConfig(bp.plane.controllerKubeconfig), { managedResource: 'native', listCache: listCacheOn() });
  const fifo = new MemoryFifoQueue();
  const queue = createMemoryWorkQueue(fifo);
  const obs = quietObservability();
  const resync = createResyncHandler({ resync: { listDaemonSets: listDaemonSetsVia(cluster), queue, logger: new RecordingLogger(), metrics: new RecordingMetrics() } }, obs);
  const reconcile = createReconcileHandler({
    batch: {
      reconcile: createReconciler({ cluster, planOptions: { placement: 'affinity' } }),
      queue, listDaemonSets: listDaemonSetsVia(cluster), emitEvent: emitEventVia(cluster, 'native'),
      logger: new RecordingLogger(), metrics: new RecordingMetrics(), now: Date.now, maxReceives: 5,
    },
  }, obs);
  const traffic = new ApiTraffic(bp.plane.server, { exclude: isWatch });
  try {
    const t0 = performance.now();
    const { keys } = await resync({ scheduledTime: new Date().toISOString() }, lambdaContext('daemonless-resync'));
    let batches = 0;
    let failedRecords = 0;
    for (;;) {
      const deliveries = fifo.tryReceive(10);
      if (deliveries.length === 0) break;
      const records: SQSRecord[] = deliveries.map((d) => ({
        messageId: d.messageId, receiptHandle: d.receipt, body: d.body,
        attributes: {
          ApproximateReceiveCount: String(d.receiveCount), SentTimestamp: String(Date.now()), SenderId: 'bench',
          ApproximateFirstReceiveTimestamp: String(Date.now()), ...(d.groupId === undefined ? {} : { MessageGroupId: d.groupId }),
        },
        messageAttributes: {}, md5OfBody: '', eventSource: 'aws:sqs', eventSourceARN: FIFO_ARN, awsRegion: 'us-east-1',
      }));
      const res = await reconcile({ Records: records }, lambdaContext('daemonless-reconcile'));
      batches += 1;
      const failed = new Set(res.batchItemFailures.map((f) => f.itemIdentifier));
      failedRecords += failed.size;
      // A failed record is counted, not retried: the measurement is one resync.
      for (const d of deliveries) fifo.delete(d.receipt);
    }
    const ms = Math.round(performance.now() - t0);
    await sleep(50);
    const t = traffic.snapshot();
    const lists = t.byRequest['GET /api/v1/nodes'];
    const depth = fifo.depth();
    return {
      nodes, simulatedNodes, daemonSets, keys, batches,
      nodeLists: lists?.lists ?? 0, nodeListPages: lists?.count ?? 0, nodeGets: t.byRequest['GET /api/v1/nodes/{name}']?.count ?? 0,
      writes: writesOf(t), requests: t.requests, decodedBytes: t.decodedBytes, wireBytes: t.wireBytes, ms, byRequest: t.byRequest,
      failedRecords, enqueuedByPasses: depth.visible + depth.inFlight + depth.delayed,
    };
  } finally {
    traffic.close();
    fifo.close();
  }
}

export async function runScale(o: ScaleOptions): Promise<ScaleResult> {
  const sizes = [...o.sizes].sort((a, b) => a - b);
  // node lifecycle marks the nodes nobody simulates after its startup grace; 15 s instead of 60 s
  // shortens the wait for that (a simulated node is Ready within a second or two).
  const bp = await startBenchPlane('f', false, { kwokAnnotatedNodesOnly: true, nodeStartupGraceSeconds: 15 });
  let dl: Daemonless | null = null;
  try {
    await addNodes(bp, 0, o.simulated);
    dl = await startDaemonless(benchKubeConfig(bp.plane.controllerKubeconfig, { limiter: new TokenBucket(KCM_QPS, KCM_BURST) }));
    let have = o.simulated;
    let joined = 0;
    const joinSizes: JoinCostSize[] = [];
    for (const n of sizes) {
      const growth = await growTo(bp, have, n - joined, dl);
      have = n - joined;
      const run = await joinPhase(bp, {
        baseNodes: n, eligibleBaseNodes: o.simulated + joined, daemonSets: o.daemonSets, joins: o.joins, perJoinTimeoutMs: 20_000,
        countTraffic: true, firstJoinIndex: JOIN_INDEX + joined,
      }, joinSizes.length === 0 ? 0 : o.daemonSets, dl);
      joinSizes.push({ nodes: n, simulatedNodes: o.simulated + joined, run, ...(growth ? { growth } : {}) });
      joined += o.joins;
      const w = run.traffic?.window;
      if (w) log(`scale: joins at ${n} nodes: ${(w.requests / (o.joins * o.daemonSets)).toFixed(1)} requests, ${mb(w.decodedBytes / (o.joins * o.daemonSets))} MB decoded per join per DaemonSet`);
    }
    const joinCost: JoinCostResult = { daemonSets: o.daemonSets, joins: o.joins, sizes: joinSizes };
    o.done?.('joinCost');
    if (o.resyncDaemonSets <= 0) return { joinCost, resync: null };

    // Resync: the DaemonSets converged on every simulated node, then one resync without the runner.
    const admin = plainKubeConfig(bp.plane.adminKubeconfig);
    const simulated = o.simulated + joined;
    const tracker = await PodTracker.start(bp.plane.adminKubeconfig, NAMESPACE);
    try {
      for (let k = o.daemonSets; k < o.resyncDaemonSets; k += 1) await createDaemonSet(admin, daemonSet(`resync-${k}`));
      const want = o.resyncDaemonSets * simulated;
      await tracker.until(() => tracker.counts().ready >= want, 300_000, `${want} pods Ready before the resync`);
    } finally {
      tracker.stop();
    }
    await dl.runner.idle(120_000).catch((e: unknown) => log(`scale: daemonless not idle before the resync: ${String(e)}`));
    await dl.stop();
    dl = null;
    const resync = await measureResync(bp, o.resyncDaemonSets, simulated, sizes[sizes.length - 1] ?? 0);
    o.done?.('resync');
    log(`scale: resync of ${resync.daemonSets} DaemonSets at ${resync.nodes} nodes: ${resync.nodeLists} node LISTs (${resync.nodeListPages} pages), ${resync.writes} writes, ${resync.requests} requests, ${mb(resync.decodedBytes)} MB decoded, ${resync.ms} ms`);
    return { joinCost, resync };
  } finally {
    await dl?.stop();
    await bp.stop();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const flags = parseFlags();
  runScale({
    sizes: flags.string('sizes', flags.quick ? '100,300' : '1000,5000').split(',').map(Number),
    simulated: flags.number('simulated', 20, 5),
    joins: flags.number('joins', 8, 4),
    daemonSets: flags.number('daemonsets', 2),
    resyncDaemonSets: flags.number('resync-daemonsets', 20),
  }).then((r) => { process.stdout.write(`${JSON.stringify(r, null, 2)}\n`); process.exit(0); },
    (e: unknown) => { process.stderr.write(`scale failed: ${e instanceof Error ? e.stack : String(e)}\n`); process.exit(1); });
}
