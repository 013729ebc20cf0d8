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
import { AppsV1Api, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { fileURLToPath } from 'node:url';
import { log, parseFlags, sleep } from './lib/args.js';
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
}

export interface RollingResult {
  readonly nodes: number;
  readonly maxUnavailable: string;
  readonly daemonless: RollingRun;
  readonly upstream: RollingRun;
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
export async function rollingPhase(bp: BenchPlane, nodes: number, maxUnavailable: string, dl: Daemonless | null, limitMs = 600_000): Promise<RollingRun> {
  const admin = plainKubeConfig(bp.plane.adminKubeconfig);
  const t = await PodTracker.start(bp.plane.adminKubeconfig, NAMESPACE, `app=${CONVERGE_DS}`);
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
    t.onEvent = () => {
      const available = new Set<string>();
      for (const p of t.pods.values()) if (p.ready && !p.terminating && p.node) available.add(p.node);
      const unavailable = nodes - available.size;
      samples += 1;
      if (unavailable > maxSeen) maxSeen = unavailable;
    };

    const apps = admin.makeApiClient(AppsV1Api);
    const startedBefore = dl?.started() ?? 0;
    const t0 = performance.now();
    await apps.patchNamespacedDaemonSet({
      namespace: NAMESPACE, name: CONVERGE_DS,
      body: { spec: { template: { spec: { containers: [{ name: 'agent', image: 'registry.k8s.io/pause:3.10', env: [{ name: 'VERSION', value: 'v2' }], resources: { requests: { cpu: '1m', memory: '1Mi' } } }] } } } },
    }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
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
    let updatedAtEnd = 0;
    for (const p of t.pods.values()) if (!oldHashes.has(p.hash) && p.ready && !p.terminating) updatedAtEnd += 1;
    const run = { completeMs: end === null ? null : Math.round(end - t0), updatedAtEnd,
      ...(queuedAtStart === undefined ? {} : { queuedAtStart }), maxUnavailable: maxSeen, samples, budget, budgetExceeded: maxSeen > budget, unreadyFlaps: t.unreadyFlaps - flapsBefore,
      ...(dl === null ? {} : { reconciles: dl.started() - startedBefore }) };
    log(`rolling-update: ${dl === null ? 'upstream' : 'daemonless'} ${JSON.stringify(run)}`);
    return run;
  } finally {
    t.stop();
  }
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

export function rollingResult(nodes: number, maxUnavailable: string, daemonless: RollingRun, upstream: RollingRun): RollingResult {
  const ratio = daemonless.completeMs === null || upstream.completeMs === null ? Number.NaN : Math.round((daemonless.completeMs / upstream.completeMs) * 100) / 100;
  return { nodes, maxUnavailable, daemonless, upstream, ratioToUpstream: ratio };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const flags = parseFlags();
  runRollingUpdate({ nodes: flags.number('nodes', 1000, 40), maxUnavailable: flags.string('max-unavailable', '10%') })
    .then((r) => { process.stdout.write(`${JSON.stringify(r, null, 2)}\n`); process.exit(0); },
      (e: unknown) => { process.stderr.write(`rolling-update failed: ${e instanceof Error ? e.stack : String(e)}\n`); process.exit(1); });
}
