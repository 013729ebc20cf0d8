/**
 * Rolling update: a DaemonSet converged on N nodes (maxUnavailable 10 %, maxSurge 0) gets a new
 * template; time until every node runs a Ready pod of the new revision and no old pod is left,
 * daemonless (local runner) on plane A vs the upstream controller on plane B. Every pod watch event
 * is a sample of the unavailable count (nodes without a Ready, non-terminating daemon pod — as
 * upstream counts it); its maximum must stay within the budget. Done = no pod of the old revision
 * left and ≥ 99 % of the new pods Ready (a simulated node may lapse under CPU pressure).
 *
 *   npx tsx bench/rolling-update.ts [--nodes 1000] [--max-unavailable 10%] [--quick]
 */
import { AppsV1Api, CoreV1Api, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { plan } from '../lib/core/index.js';
import { fileURLToPath } from 'node:url';
import { log, parseFlags, sleep, thin } from './lib/args.js';
import { benchKubeConfig, KCM_BURST, KCM_QPS, plainKubeConfig, TokenBucket } from './lib/kube.js';
import { addNodes, startBenchPlane, type BenchPlane } from './lib/plane.js';
import { CONVERGE_DS } from './converge.js';
import { PodTracker } from './lib/pods.js';
import { createDaemonSet, daemonSet, NAMESPACE, startDaemonless, type Daemonless } from './lib/workload.js';

export interface RollingRun {
  /** null: not complete within the phase's time limit (then see updatedAtEnd). */
  readonly completeMs: number | null;
  /** Pods of the new revision that were Ready when the phase ended. */
  readonly updatedAtEnd: number;
  /** daemonless: messages already waiting in its queue when the update started. */
  readonly queuedAtStart?: number;
  readonly maxUnavailable: number;
  readonly samples: number;
  readonly budget: number;
  readonly budgetExceeded: boolean;
  /** Pods that went unready while not being replaced (node heartbeat lapses under CPU pressure). */
  readonly unreadyFlaps: number;
  /** daemonless: reconcile passes started during the update. */
  readonly reconciles?: number;
  /** Over time (ms since the update): pods of the new revision Ready, and nodes without a Ready pod; thinned to ≤ 300 points (absent in older results). */
  readonly series?: { readonly t: number; readonly updatedReady: number; readonly unavailable: number }[];
}

export interface RollingResult {
  readonly nodes: number;
  readonly maxUnavailable: string;
  readonly daemonless: RollingRun;
  readonly upstream: RollingRun;
  /** A bare client replacing the pods node by node within the same budget (absent in older results). */
  readonly floor?: RollingRun | null;
  /** NaN when a run did not complete within its limit. */
  readonly ratioToUpstream: number;
}

/** maxUnavailable as upstream scales it (percentages round up). */
export function budgetOf(value: string, nodes: number): number {
  return value.endsWith('%') ? Math.ceil((Number(value.slice(0, -1)) / 100) * nodes) : Number(value);
}

/**
 * The measured update of the converged DaemonSet CONVERGE_DS (template env VERSION=v1, the given
 * maxUnavailable) on a plane with `nodes` nodes; `dl` is the running daemonless, null for upstream.
 */
export async function rollingPhase(bp: BenchPlane, nodes: number, maxUnavailable: string, dl: Daemonless | null, limitMs = 600_000,
  drive?: (t: PodTracker, oldHashes: ReadonlySet<string | null>, budget: number, stopped: () => boolean) => Promise<void>): Promise<RollingRun> {
  const admin = plainKubeConfig(bp.plane.adminKubeconfig);
  const t = await PodTracker.start(bp.plane.adminKubeconfig, NAMESPACE, `app=${CONVERGE_DS}`);
  const stopDriving = { stop: false };
  try {
    await t.until(() => t.counts().ready >= Math.ceil(nodes * 0.99) && t.pods.size === nodes, 120_000 + nodes * 600, `${nodes} pods Ready (v1)`);
    await sleep(2000);
    const queuedAtStart = dl?.runner.fifo?.depth().visible;
    const oldHashes = new Set([...t.pods.values()].map((p) => p.hash));
    const flapsBefore = t.unreadyFlaps;

    // Sample the unavailable count on every event.
    const budget = budgetOf(maxUnavailable, nodes);
    let maxSeen = 0;
    let samples = 0;
    let t0 = performance.now();
    const series: { t: number; updatedReady: number; unavailable: number }[] = [];
    const sample = (): void => {
      const available = new Set<string>();
      let updatedReady = 0;
      for (const p of t.pods.values()) {
        if (p.ready && !p.terminating && p.node) available.add(p.node);
        if (p.ready && !p.terminating && !oldHashes.has(p.hash)) updatedReady += 1;
      }
      const unavailable = nodes - available.size;
      samples += 1;
      if (unavailable > maxSeen) maxSeen = unavailable;
      const prev = series[series.length - 1];
      if (prev === undefined || prev.updatedReady !== updatedReady || prev.unavailable !== unavailable) series.push({ t: Math.round(performance.now() - t0), updatedReady, unavailable });
    };
    t.onEvent = sample;

    const apps = admin.makeApiClient(AppsV1Api);
    const startedBefore = dl?.started() ?? 0;
    t0 = performance.now();
    sample();
    await apps.patchNamespacedDaemonSet({
      namespace: NAMESPACE, name: CONVERGE_DS,
      body: { spec: { template: { spec: { containers: [{ name: 'agent', image: 'registry.k8s.io/pause:3.10', env: [{ name: 'VERSION', value: 'v2' }], resources: { requests: { cpu: '1m', memory: '1Mi' } } }] } } } },
    }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    const driving = drive?.(t, oldHashes, budget, () => stopDriving.stop).catch((e: unknown) => log(`rolling-update: the floor client failed: ${e instanceof Error ? e.message : String(e)}`));
    const done = (): boolean => {
      if (t.pods.size !== nodes) return false;
      let ready = 0;
      for (const p of t.pods.values()) {
        if (oldHashes.has(p.hash)) return false;
        if (p.ready && !p.terminating) ready += 1;
      }
      return ready >= Math.ceil(nodes * 0.99);
    };
    let end: number | null = null;
    try {
      end = await t.until(done, limitMs, `rolling update of ${nodes} pods`);
    } catch {
      end = null;
    }
    t.onEvent = null;
    stopDriving.stop = true;
    await driving;
    let updatedAtEnd = 0;
    for (const p of t.pods.values()) if (!oldHashes.has(p.hash) && p.ready && !p.terminating) updatedAtEnd += 1;
    const run = { completeMs: end === null ? null : Math.round(end - t0), updatedAtEnd,
      ...(queuedAtStart === undefined ? {} : { queuedAtStart }), maxUnavailable: maxSeen, samples, budget, budgetExceeded: maxSeen > budget, unreadyFlaps: t.unreadyFlaps - flapsBefore,
      ...(dl === null ? {} : { reconciles: dl.started() - startedBefore }), series: thin(series) };
    log(`rolling-update: ${drive ? 'floor' : dl === null ? 'upstream' : 'daemonless'} ${JSON.stringify({ ...run, series: undefined })}`);
    return run;
  } finally {
    t.stop();
  }
}

/**
 * The floor of a rolling update: on a plane without a DaemonSet controller, a bare client (same
 * client rate limit) replaces each node's pod by the pod daemonless would create for the new
 * template — delete the old pod, create the new one at once — starting a node only while fewer than
 * `budget` nodes wait for their new pod to be Ready. It knows what to do without reading anything but
 * the watch, so no controller can be faster within the same budget.
 */
export async function rollingFloor(bp: BenchPlane, nodes: number, maxUnavailable: string, limitMs: number): Promise<RollingRun> {
  const limiter = new TokenBucket(KCM_QPS, KCM_BURST);
  const kc = benchKubeConfig(bp.plane.controllerKubeconfig, { limiter });
  const core = kc.makeApiClient(CoreV1Api);
  const apps = plainKubeConfig(bp.plane.adminKubeconfig).makeApiClient(AppsV1Api);
  return rollingPhase(bp, nodes, maxUnavailable, null, limitMs, async (t, oldHashes, budget, stopped) => {
    const updated = await apps.readNamespacedDaemonSet({ namespace: NAMESPACE, name: CONVERGE_DS });
    const nodeList = (await bp.core.listNode({})).items;
    const p = plan({ daemonSet: updated, nodes: nodeList, pods: [], revisions: [], complete: true }, new Date(), { placement: 'affinity' });
    const newPods = new Map(p.createPods.map((c) => [c.node, c.pod]));
    const started = new Set<string>();
    const inProgress = (): number => {
      const done = new Set<string>();
      for (const x of t.pods.values()) if (x.node && x.ready && !x.terminating && !oldHashes.has(x.hash)) done.add(x.node);
      let n = 0;
      for (const node of started) if (!done.has(node)) n += 1;
      return n;
    };
    const writes: Promise<unknown>[] = [];
    for (const [node, pod] of newPods) {
      await t.until(() => stopped() || inProgress() < budget, limitMs, 'room in the budget');
      if (stopped()) break;
      started.add(node);
      const old = [...t.pods.values()].filter((x) => x.node === node && oldHashes.has(x.hash) && !x.terminating).map((x) => x.name);
      writes.push((async () => {
        for (const name of old) await core.deleteNamespacedPod({ namespace: NAMESPACE, name, gracePeriodSeconds: 0 });
        await core.createNamespacedPod({ namespace: NAMESPACE, body: pod });
      })());
    }
    await Promise.all(writes);
  });
}

async function runOn(upstream: boolean, nodes: number, maxUnavailable: string): Promise<RollingRun> {
  const bp = await startBenchPlane(upstream ? 'b' : 'a', upstream);
  let dl: Daemonless | null = null;
  try {
    await addNodes(bp, 0, nodes);
    if (!upstream) {
      dl = await startDaemonless(benchKubeConfig(bp.plane.controllerKubeconfig, { limiter: new TokenBucket(KCM_QPS, KCM_BURST) }));
      await dl.runner.idle(30_000);
    }
    await createDaemonSet(plainKubeConfig(bp.plane.adminKubeconfig), daemonSet(CONVERGE_DS, { maxUnavailable, env: 'v1' }));
    return await rollingPhase(bp, nodes, maxUnavailable, dl);
  } finally {
    await dl?.stop();
    await bp.stop();
  }
}

export async function runRollingUpdate(options: { nodes: number; maxUnavailable?: string }): Promise<RollingResult> {
  const mu = options.maxUnavailable ?? '10%';
  const daemonless = await runOn(false, options.nodes, mu);
  const upstream = await runOn(true, options.nodes, mu);
  return rollingResult(options.nodes, mu, daemonless, upstream);
}

export function rollingResult(nodes: number, maxUnavailable: string, daemonless: RollingRun, upstream: RollingRun, floor: RollingRun | null = null): RollingResult {
  const ratio = daemonless.completeMs === null || upstream.completeMs === null ? Number.NaN : Math.round((daemonless.completeMs / upstream.completeMs) * 100) / 100;
  return { nodes, maxUnavailable, daemonless, upstream, floor, ratioToUpstream: ratio };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const flags = parseFlags();
  runRollingUpdate({ nodes: flags.number('nodes', 1000, 40), maxUnavailable: flags.string('max-unavailable', '10%') })
    .then((r) => { process.stdout.write(`${JSON.stringify(r, null, 2)}\n`); process.exit(0); },
      (e: unknown) => { process.stderr.write(`rolling-update failed: ${e instanceof Error ? e.stack : String(e)}\n`); process.exit(1); });
}
