/**
 * A converged DaemonSet's reconcile: API reads, writes and bytes read per pass, at each cluster size
 * (default 1,000 and 5,000 nodes). The DaemonSet runs on every node; daemonless converges it with
 * the local runner, which is then stopped, and the pass is measured with the same reconciler the
 * Lambda uses (`createReconciler` over `KubeCluster`), on a fresh client ("cold": nothing cached;
 * the current reconciler caches nothing between passes, so warm and cold passes read the same).
 * Bytes are response bodies as received (gzip when the server compressed) and decoded (the JSON
 * parsed), counted through undici's diagnostics channels.
 *
 * It also measures cheaper read shapes byte for byte (prototypes; lib/ is unchanged):
 *  - nodes as protobuf instead of JSON;
 *  - nodes as PartialObjectMetadataList (labels only: not enough for taints — a lower bound);
 *  - a warm cache validated by resourceVersion: a watch from the last list's resourceVersion,
 *    held for `--window` seconds, carries only what changed since (node heartbeats included).
 *
 *   npx tsx bench/converged-reconcile.ts [--sizes 1000,5000] [--window 10] [--quick]
 */
import { fileURLToPath } from 'node:url';
import { AppsV1Api, CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { KubeCluster } from '../lib/adapters/kube/kube-cluster.js';
import { createReconciler } from '../lib/app/reconcile-key.js';
import { log, parseFlags, sleep } from './lib/args.js';
import { ApiTraffic, benchKubeConfig, KCM_BURST, KCM_QPS, mb, plainKubeConfig, TokenBucket, type TrafficTotals } from './lib/kube.js';
import { addNodes, startBenchPlane } from './lib/plane.js';
import { PodTracker } from './lib/pods.js';
import { rawGet } from './lib/raw.js';
import { createDaemonSet, daemonSet, NAMESPACE, startDaemonless } from './lib/workload.js';

export interface ConvergedPass {
  /**
   * `default`: the adapter as the controller builds it (lib/adapters/kube/clients.ts: one HTTP/2
   * connection per KubeConfig); `client-node-fetch`: the same adapter over API objects from
   * `KubeConfig.makeApiClient` (client-node 2.0.1's own transport: a new connection per call).
   */
  readonly client: 'default' | 'client-node-fetch';
  readonly connections: number;
  readonly reads: number;
  readonly writes: number;
  readonly requests: number;
  readonly wireBytes: number;
  readonly decodedBytes: number;
  readonly byRequest: TrafficTotals['byRequest'];
  readonly ms: number;
}

export interface ReadShape {
  readonly wireBytes: number;
  readonly decodedBytes: number;
}

export interface ConvergedSize {
  readonly nodes: number;
  readonly passes: ConvergedPass[];
  /** Average bytes of one node / one pod object in the JSON LISTs. */
  readonly nodeObjectBytes: number;
  readonly podObjectBytes: number;
  readonly alternatives: {
    readonly nodesJson: ReadShape;
    readonly nodesProtobuf: ReadShape;
    readonly nodesMetadataOnly: ReadShape;
    readonly podsJson: ReadShape;
    readonly podsProtobuf: ReadShape;
    /** Watch deltas over the window, from the resourceVersion of a LIST taken at its start. */
    readonly nodesWatchDelta: ReadShape & { readonly events: number; readonly windowSeconds: number };
    readonly podsWatchDelta: ReadShape & { readonly events: number; readonly windowSeconds: number };
  };
}

/**
 * A larger size measured by its reads only: the nodes are created (not awaited Ready: on a 2-core
 * machine kwok cannot heartbeat thousands of nodes, and they flap), the read shapes are measured,
 * and a converged pass is estimated as: the node LIST (the larger of the measured one and N × the
 * Ready node size of the first size) + the pod object size measured at the first size × N pods +
 * the DaemonSet GET and revision LIST measured at the first size.
 */
export interface ReadsAtScale {
  readonly nodes: number;
  readonly nodeObjectBytes: number;
  readonly nodesJson: ReadShape;
  readonly nodesProtobuf: ReadShape;
  readonly nodesMetadataOnly: ReadShape;
  readonly nodesWatchDelta: ReadShape & { readonly events: number; readonly windowSeconds: number };
  /** Estimated bytes of one converged pass (decoded; wire scaled by the measured gzip ratios). */
  readonly estimatedPass: ReadShape;
  /** Reads of a converged pass with 500-item pages: 1 + ⌈N/500⌉ (nodes) + ⌈N/500⌉ (pods) + 1. */
  readonly estimatedReads: number;
}

export interface ConvergedResult {
  readonly sizes: ConvergedSize[];
  readonly atScale: ReadsAtScale[];
  /** Sizes that could not be measured, with the reason. */
  readonly failed: Record<string, string>;
}

const DS = 'steady';

function shape(r: { wireBytes: number; decodedBytes: number }): ReadShape {
  return { wireBytes: r.wireBytes, decodedBytes: r.decodedBytes };
}

async function measureSize(plane: Awaited<ReturnType<typeof startBenchPlane>>, nodes: number, windowSeconds: number): Promise<ConvergedSize> {
  // Converge with the local runner, then stop it.
  const tracker = await PodTracker.start(plane.plane.adminKubeconfig, NAMESPACE, `app=${DS}`);
  const dl = await startDaemonless(benchKubeConfig(plane.plane.controllerKubeconfig, { limiter: new TokenBucket(KCM_QPS, KCM_BURST) }));
  try {
    await tracker.until(() => tracker.counts().ready >= Math.ceil(nodes * 0.99) && tracker.pods.size >= nodes, 300_000 + nodes * 400, `${nodes} pods Ready`);
    await sleep(3000);
  } finally {
    // The runner's queue still holds one message per pod event; they would only repeat the pass.
    log(`converged-reconcile: stopping the runner with ${dl.runner.fifo?.depth().visible ?? 0} messages queued`);
    await dl.stop();
    tracker.stop();
  }
  // Settle: passes of the same reconciler until one writes nothing (status catches up with Ready pods).
  {
    const settle = createReconciler({ cluster: new KubeCluster(plainKubeConfig(plane.plane.controllerKubeconfig), { managedResource: 'native' }), planOptions: { placement: 'affinity' } });
    for (let i = 0; i < 10; i += 1) {
      const r = await settle(`${NAMESPACE}/${DS}`);
      if (r.writes === 0) break;
      await sleep(2000);
    }
  }

  // The measured passes: a fresh client, the Lambda's reconciler.
  const kc = plainKubeConfig(plane.plane.controllerKubeconfig);
  const traffic = new ApiTraffic(plane.plane.server);
  const passes: ConvergedPass[] = [];
  try {
    for (const client of ['default', 'client-node-fetch'] as const) {
      const k = plainKubeConfig(plane.plane.controllerKubeconfig);
      const clients = client === 'default' ? undefined : { core: k.makeApiClient(CoreV1Api), apps: k.makeApiClient(AppsV1Api), custom: k.makeApiClient(CustomObjectsApi) };
      const reconcile = createReconciler({ cluster: new KubeCluster(k, { managedResource: 'native' }, clients), planOptions: { placement: 'affinity' } });
      for (let i = 0; i < 3; i += 1) {
        traffic.reset();
        const t0 = performance.now();
        const report = await reconcile(`${NAMESPACE}/${DS}`);
        const ms = Math.round(performance.now() - t0);
        await sleep(50);
        const tr = traffic.snapshot();
        passes.push({ client, connections: tr.connections, reads: report.reads, writes: report.writes, requests: tr.requests, wireBytes: tr.wireBytes, decodedBytes: tr.decodedBytes, byRequest: tr.byRequest, ms });
      }
    }
  } finally {
    traffic.close();
  }

  // Read shapes.
  const podsPath = `/api/v1/namespaces/${NAMESPACE}/pods?labelSelector=${encodeURIComponent(`app=${DS}`)}`;
  const nodesJson = await rawGet(kc, '/api/v1/nodes');
  const nodesProtobuf = await rawGet(kc, '/api/v1/nodes', { accept: 'application/vnd.kubernetes.protobuf' });
  const nodesMeta = await rawGet(kc, '/api/v1/nodes', { accept: 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1' });
  const podsJson = await rawGet(kc, podsPath);
  const podsProtobuf = await rawGet(kc, podsPath, { accept: 'application/vnd.kubernetes.protobuf' });
  const nodeList = JSON.parse(nodesJson.body.toString('utf8')) as { items: unknown[]; metadata: { resourceVersion: string } };
  const podList = JSON.parse(podsJson.body.toString('utf8')) as { items: unknown[]; metadata: { resourceVersion: string } };
  const watchDelta = async (path: string, rv: string): Promise<ReadShape & { events: number; windowSeconds: number }> => {
    const sep = path.includes('?') ? '&' : '?';
    const r = await rawGet(kc, `${path}${sep}watch=1&allowWatchBookmarks=false&resourceVersion=${rv}&timeoutSeconds=${windowSeconds}`, { maxMs: windowSeconds * 1000 + 2000 });
    const events = r.body.toString('utf8').split('\n').filter((l) => l.trim() !== '').length;
    return { ...shape(r), events, windowSeconds };
  };
  // Both watches cover the same window, starting at the lists' resourceVersions.
  const [nodesWatchDelta, podsWatchDelta] = await Promise.all([
    watchDelta('/api/v1/nodes', nodeList.metadata.resourceVersion),
    watchDelta(podsPath, podList.metadata.resourceVersion),
  ]);
  return {
    nodes,
    passes,
    nodeObjectBytes: Math.round(nodesJson.decodedBytes / Math.max(1, nodeList.items.length)),
    podObjectBytes: Math.round(podsJson.decodedBytes / Math.max(1, podList.items.length)),
    alternatives: {
      nodesJson: shape(nodesJson),
      nodesProtobuf: shape(nodesProtobuf),
      nodesMetadataOnly: shape(nodesMeta),
      podsJson: shape(podsJson),
      podsProtobuf: shape(podsProtobuf),
      nodesWatchDelta,
      podsWatchDelta,
    },
  };
}

async function readsAtScale(bp: Awaited<ReturnType<typeof startBenchPlane>>, n: number, first: ConvergedSize, windowSeconds: number): Promise<ReadsAtScale> {
  const kc = plainKubeConfig(bp.plane.controllerKubeconfig);
  const nodesJson = await rawGet(kc, '/api/v1/nodes');
  const nodesProtobuf = await rawGet(kc, '/api/v1/nodes', { accept: 'application/vnd.kubernetes.protobuf' });
  const nodesMeta = await rawGet(kc, '/api/v1/nodes', { accept: 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1' });
  const list = JSON.parse(nodesJson.body.toString('utf8')) as { items: unknown[]; metadata: { resourceVersion: string } };
  const w = await rawGet(kc, `/api/v1/nodes?watch=1&allowWatchBookmarks=false&resourceVersion=${list.metadata.resourceVersion}&timeoutSeconds=${windowSeconds}`, { maxMs: windowSeconds * 1000 + 2000 });
  const events = w.body.toString('utf8').split('\n').filter((l) => l.trim() !== '').length;
  const pass = first.passes.filter((p) => p.client === 'default').pop();
  const other = (key: string): { decodedBytes: number; wireBytes: number } => pass?.byRequest[key] ?? { decodedBytes: 0, wireBytes: 0 };
  const ds = other('GET /apis/apps/v1/namespaces/{ns}/daemonsets/{name}');
  const revs = other('GET /apis/apps/v1/namespaces/{ns}/controllerrevisions');
  const pods = first.alternatives.podsJson;
  const podsDecoded = first.podObjectBytes * n;
  const podsWire = podsDecoded * (pods.wireBytes / Math.max(1, pods.decodedBytes));
  // Nodes not yet Ready carry less status than Ready ones: take the larger of the measured list and
  // N × the Ready node size measured at the first size.
  const nodesDecoded = Math.max(nodesJson.decodedBytes, first.nodeObjectBytes * n);
  const nodesWire = nodesDecoded * (nodesJson.wireBytes / Math.max(1, nodesJson.decodedBytes));
  return {
    nodes: n,
    nodeObjectBytes: Math.round(nodesJson.decodedBytes / Math.max(1, list.items.length)),
    nodesJson: shape(nodesJson),
    nodesProtobuf: shape(nodesProtobuf),
    nodesMetadataOnly: shape(nodesMeta),
    nodesWatchDelta: { ...shape(w), events, windowSeconds },
    estimatedPass: {
      decodedBytes: Math.round(ds.decodedBytes + revs.decodedBytes + nodesDecoded + podsDecoded),
      wireBytes: Math.round(ds.wireBytes + revs.wireBytes + nodesWire + podsWire),
    },
    estimatedReads: 2 + 2 * Math.ceil(n / 500),
  };
}

export async function runConvergedReconcile(options: { sizes: readonly number[]; windowSeconds?: number }): Promise<ConvergedResult> {
  const sizes = [...options.sizes].sort((a, b) => a - b);
  const bp = await startBenchPlane('a', false);
  const out: ConvergedSize[] = [];
  const atScale: ReadsAtScale[] = [];
  const failed: Record<string, string> = {};
  try {
    let have = 0;
    let created = false;
    for (const n of sizes) {
      try {
        if (out.length > 0) {
          const first = out[0] as ConvergedSize;
          await addNodes(bp, have, n, undefined, { waitReady: false });
          have = n;
          const r = await readsAtScale(bp, n, first, options.windowSeconds ?? 10);
          log(`converged-reconcile: ${n} nodes (reads only): node LIST ${mb(r.nodesJson.decodedBytes)} MB decoded; estimated pass ${mb(r.estimatedPass.decodedBytes)} MB decoded / ${mb(r.estimatedPass.wireBytes)} MB wire`);
          atScale.push(r);
          continue;
        }
        await addNodes(bp, have, n);
        have = n;
        if (!created) {
          await createDaemonSet(plainKubeConfig(bp.plane.adminKubeconfig), daemonSet(DS));
          created = true;
        }
        const r = await measureSize(bp, n, options.windowSeconds ?? 10);
        const last = r.passes[r.passes.length - 1];
        log(`converged-reconcile: ${n} nodes: reads ${last?.reads} writes ${last?.writes} ` +
          `bytes ${mb(last?.wireBytes ?? 0)} MB wire / ${mb(last?.decodedBytes ?? 0)} MB decoded`);
        out.push(r);
      } catch (e) {
        failed[String(n)] = e instanceof Error ? e.message.split('\n')[0] ?? e.message : String(e);
        log(`converged-reconcile: ${n} nodes failed: ${failed[String(n)]}`);
        break;
      }
    }
  } finally {
    await bp.stop();
  }
  return { sizes: out, atScale, failed };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const flags = parseFlags();
  const sizes = flags.string('sizes', flags.quick ? '30,60' : '1000,5000').split(',').map(Number);
  runConvergedReconcile({ sizes, windowSeconds: flags.number('window', 10, 3) })
    .then((r) => { process.stdout.write(`${JSON.stringify(r, null, 2)}\n`); process.exit(0); },
      (e: unknown) => { process.stderr.write(`converged-reconcile failed: ${e instanceof Error ? e.stack : String(e)}\n`); process.exit(1); });
}
