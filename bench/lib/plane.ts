/**
 * Planes for the benchmarks: the test harness's real control plane (lib/local-plane/control-plane.ts)
 * with the project's manifests applied and N simulated nodes, created with bounded concurrency and
 * awaited through LISTs (not per-node GETs).
 */
import { CoreV1Api, type V1Node } from '@kubernetes/client-node';
import { startControlPlane, type ControlPlane } from '../../lib/local-plane/control-plane.js';
import { applyProjectManifests } from '../../lib/local-plane/manifests.js';
import { nodeObject, type NodeSpec } from '../../lib/local-plane/nodes.js';
import { log, mapLimit, sleep } from './args.js';
import { plainKubeConfig } from './kube.js';

export interface BenchPlane {
  readonly plane: ControlPlane;
  readonly core: CoreV1Api;
  stop(): Promise<void>;
}

export async function startBenchPlane(name: string, upstreamDaemonSetController: boolean, options: { kwokAnnotatedNodesOnly?: boolean; nodeStartupGraceSeconds?: number } = {}): Promise<BenchPlane> {
  const plane = await startControlPlane({ name, upstreamDaemonSetController, log, ...options });
  try {
    await applyProjectManifests(plane);
    const r = await plane.kubectl(['create', 'namespace', 'bench']);
    if (r.code !== 0) throw new Error(`create namespace: ${r.stderr}`);
  } catch (e) {
    await plane.stop();
    throw e;
  }
  const core = plainKubeConfig(plane.adminKubeconfig).makeApiClient(CoreV1Api);
  return { plane, core, stop: () => plane.stop() };
}

export const nodeName = (i: number): string => `kwok-node-${String(i).padStart(5, '0')}`;

const isReady = (n: V1Node): boolean => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
const hasStartupTaint = (n: V1Node): boolean =>
  (n.spec?.taints ?? []).some((t) => t.key === 'node.kubernetes.io/not-ready' || t.key === 'node.kubernetes.io/unreachable');

/** Creates nodes `from`..`to-1` (32 creates in flight) and waits until all nodes of the plane are Ready and untainted. */
export async function addNodes(bp: BenchPlane, from: number, to: number, specOf: (i: number) => NodeSpec = (i) => ({ name: nodeName(i) }), options: { waitReady?: boolean } = {}): Promise<void> {
  const t0 = Date.now();
  const indexes = Array.from({ length: to - from }, (_, k) => from + k);
  await mapLimit(indexes, 32, async (i) => {
    try {
      await bp.core.createNode({ body: nodeObject(specOf(i)) });
    } catch (e) {
      if ((e as { code?: number }).code !== 409) throw e;
    }
  });
  if (options.waitReady === false) {
    log(`[plane ${bp.plane.name}] ${to} nodes created (${to - from} in ${((Date.now() - t0) / 1000).toFixed(1)} s; not waiting for Ready)`);
    return;
  }
  await waitNodesReady(bp, to, 120_000 + (to - from) * 100);
  log(`[plane ${bp.plane.name}] ${to} nodes Ready (${to - from} created in ${((Date.now() - t0) / 1000).toFixed(1)} s)`);
}

export async function waitNodesReady(bp: BenchPlane, expected: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let ready = 0;
    let total = 0;
    let cont: string | undefined;
    do {
      const page = await bp.core.listNode({ limit: 1000, _continue: cont, resourceVersion: cont ? undefined : '0' });
      for (const n of page.items) {
        total += 1;
        if (isReady(n) && !hasStartupTaint(n)) ready += 1;
      }
      cont = page.metadata?._continue || undefined;
    } while (cont);
    if (ready >= expected) return;
    if (Date.now() > deadline) throw new Error(`only ${ready}/${expected} nodes Ready (of ${total}) after ${timeoutMs} ms`);
    await sleep(1000);
  }
}
