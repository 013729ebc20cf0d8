/**
 * What `npm start` starts, in order, as one start sequence: the local control plane (when no
 * kubeconfig is configured) with the project's manifests and the demo nodes, then the pipeline,
 * then the demo DaemonSet. A step that fails, or Ctrl-C during start-up, stops what already
 * started — the control plane included — before the error is reported.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KubeConfig } from '@kubernetes/client-node';
import { KubeCluster } from '../adapters/kube/kube-cluster.js';
import { emitEventVia, listDaemonSetsVia } from '../app/cluster-ports.js';
import { createReconciler } from '../app/reconcile-key.js';
import type { Config } from '../config.js';
import { startControlPlane, type ControlPlane } from '../local-plane/control-plane.js';
import { applyProjectManifests } from '../local-plane/manifests.js';
import { createReadyNodes } from '../local-plane/nodes.js';
import type { AppLogger } from '../observability/ports.js';
import { DEMO_MANIFEST, DEMO_NODES } from './demo/topology.js';
import { runLocal } from './local-runner.js';
import { StartSequence } from './start-sequence.js';

/** The parts the sequence starts; tests replace them. */
export interface LocalParts {
  readonly startControlPlane: typeof startControlPlane;
  readonly applyProjectManifests: typeof applyProjectManifests;
  readonly createReadyNodes: typeof createReadyNodes;
  readonly runLocal: typeof runLocal;
  readonly loadKubeConfig: (path: string) => KubeConfig;
}

export const REAL_PARTS: LocalParts = {
  startControlPlane,
  applyProjectManifests,
  createReadyNodes,
  runLocal,
  loadKubeConfig: (path) => {
    const kc = new KubeConfig();
    kc.loadFromFile(path);
    return kc;
  },
};

export interface StartLocalOptions {
  readonly config: Config;
  /** The configured kubeconfig; null = start a local control plane. */
  readonly kubeconfigPath: string | null;
  readonly logger: AppLogger;
  /** Program output (what kubectl shows of the demo). */
  readonly out: (line: string) => void;
  /** Progress lines. */
  readonly progress: (line: string) => void;
  /** Aborted on Ctrl-C: start-up stops what it started and throws StartInterrupted. */
  readonly signal?: AbortSignal;
  readonly parts?: LocalParts;
}

/** Starts everything; resolves with the handle that stops it all, newest first. */
export async function startLocal(options: StartLocalOptions): Promise<{ stop(): Promise<void> }> {
  const { config, progress, parts = REAL_PARTS } = options;
  const sequence = new StartSequence(options.signal, (what, e) => progress(`stopping ${what} failed: ${e instanceof Error ? e.message : String(e)}`));
  let plane: ControlPlane | null = null;
  let kubeconfigPath = options.kubeconfigPath;

  if (kubeconfigPath === null) {
    progress('no kubeconfig configured: starting a local control plane (the first run builds it from Go modules; that takes several minutes)');
    const started = await sequence.start('the local control plane', () => parts.startControlPlane({ name: 'local', log: progress }), (p) => p.stop());
    plane = started;
    await sequence.step('the project manifests', () => parts.applyProjectManifests(started));
    progress(`creating the demo nodes: ${DEMO_NODES.map((n) => n.name).join(', ')}`);
    await sequence.step('the demo nodes', () => parts.createReadyNodes(parts.loadKubeConfig(started.adminKubeconfig), DEMO_NODES));
    kubeconfigPath = started.controllerKubeconfig;
  }

  const kc = parts.loadKubeConfig(kubeconfigPath);
  progress(`reconciling DaemonSets (${config.managedResource}) on ${kc.getCurrentCluster()?.server ?? 'the current cluster'} as ${kc.getCurrentUser()?.name ?? 'the current user'}`);
  const cluster = await sequence.start('the Kubernetes adapter', () => new KubeCluster(kc, { managedResource: config.managedResource, listCache: config.listCache }), (c) => c.close());
  const runner = await sequence.start('the pipeline', () => parts.runLocal({
    reconcile: createReconciler({ cluster, planOptions: { placement: config.placement } }),
    listDaemonSets: listDaemonSetsVia(cluster),
    emitEvent: emitEventVia(cluster, config.managedResource),
    logger: options.logger,
    kubeConfig: kc,
  }, {
    managed: config.managedResource,
    webhook: { port: config.webhookPort, secrets: config.webhook.secrets, auth: config.webhook.auth, maxBytes: config.webhook.maxBytes },
    workers: config.workers,
    resyncEverySeconds: config.resyncSeconds,
    watch: true,
    maxReceives: config.maxReceives,
  }), (r) => r.stop());
  if (runner.webhookUrl) progress(`webhook listening on ${runner.webhookUrl}`);

  if (plane !== null) {
    const p = plane;
    await sequence.step('the demo DaemonSet', () => showDemo(p, options.out, progress));
  }
  return sequence;
}

async function showDemo(plane: ControlPlane, out: (line: string) => void, progress: (line: string) => void): Promise<void> {
  progress('kubectl apply -f nginx-ds.yaml');
  const applied = await plane.kubectl(['apply', '-f', fileURLToPath(DEMO_MANIFEST)]);
  if (applied.code !== 0) throw new Error(`kubectl apply failed: ${applied.stderr}`);
  await waitForDemoPods(plane);
  out('$ kubectl get nodes');
  out((await plane.kubectl(['get', 'nodes'])).stdout.trimEnd());
  out('$ kubectl get pods -l k8s-app=nginx -o wide');
  out((await plane.kubectl(['get', 'pods', '-l', 'k8s-app=nginx', '-o', 'wide'])).stdout.trimEnd());
  progress(`the controller keeps reconciling; try it: KUBECONFIG=${plane.adminKubeconfig} ${join(plane.binDir, 'kubectl')} get ds`);
}

async function waitForDemoPods(plane: ControlPlane): Promise<void> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const r = await plane.kubectl(['get', 'ds', 'nginx-ds', '-o', 'jsonpath={.status.numberReady}/{.status.desiredNumberScheduled}']);
    const [ready, desired] = r.stdout.split('/');
    if (desired && desired !== '0' && ready === desired) return;
    if (Date.now() > deadline) throw new Error(`nginx-ds did not become ready: ${r.stdout || r.stderr}`);
    await new Promise((res) => setTimeout(res, 250));
  }
}
