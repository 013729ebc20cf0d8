/**
 * `npm start`: the whole pipeline in one process (webhook server, FIFO queue, reconcile workers,
 * resync timer, watch event source) against the cluster of the current kubeconfig — or, when no
 * kubeconfig is configured, against a local control plane it starts with the tutorial's topology
 * (ydzs-master tainted control-plane:NoSchedule, workers ydzs-node1..4) and the tutorial's
 * nginx-ds.yaml applied. Runs until Ctrl-C, then stops everything it started.
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KubeConfig } from '@kubernetes/client-node';
import { startControlPlane, type ControlPlane } from '../local-plane/control-plane.js';
import { applyProjectManifests } from '../local-plane/manifests.js';
import { createReadyNodes } from '../local-plane/nodes.js';
import { KubeCluster } from '../adapters/kube/kube-cluster.js';
import { emitEventVia, listDaemonSetsVia } from '../app/cluster-ports.js';
import { createReconciler } from '../app/reconcile-key.js';
import { ENV, loadConfig } from '../config.js';
import type { AppLogger, LogFields } from '../observability/ports.js';
import { DEMO_MANIFEST, DEMO_NODES } from './demo/topology.js';
import { runLocal } from './local-runner.js';

const out = (line: string) => process.stdout.write(`${line}\n`);
const progress = (line: string) => process.stderr.write(`» ${line}\n`);

/** Human-readable log lines on stderr, one per event, with the DaemonSet key when there is one. */
function consoleLogger(level: string, keys: LogFields = {}): AppLogger {
  const order = ['DEBUG', 'INFO', 'WARN', 'ERROR'];
  const min = order.indexOf(level);
  const emit = (lvl: string) => (message: string, fields: LogFields = {}) => {
    if (order.indexOf(lvl) < min) return;
    const all = { ...keys, ...fields };
    const extra = Object.entries(all).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join(' ');
    process.stderr.write(`${new Date().toISOString()} ${lvl.padEnd(5)} ${message}${extra ? ` ${extra}` : ''}\n`);
  };
  return { debug: emit('DEBUG'), info: emit('INFO'), warn: emit('WARN'), error: emit('ERROR'), child: (more) => consoleLogger(level, { ...keys, ...more }) };
}

/** The kubeconfig the user has configured, if any (DAEMONLESS_KUBECONFIG, KUBECONFIG, ~/.kube/config). */
function configuredKubeconfig(): string | null {
  const candidates = [process.env[ENV.kubeconfigPath], process.env.KUBECONFIG?.split(':')[0], join(homedir(), '.kube/config')];
  return candidates.find((p): p is string => !!p && existsSync(p)) ?? null;
}

async function main(): Promise<void> {
  const config = loadConfig(process.env, 'local');
  const logger = consoleLogger(config.logLevel);
  let plane: ControlPlane | null = null;
  let kubeconfigPath = configuredKubeconfig();

  if (!kubeconfigPath) {
    progress('no kubeconfig configured: starting a local control plane (the first run builds it from Go modules; that takes several minutes)');
    plane = await startControlPlane({ name: 'local', log: progress });
    await applyProjectManifests(plane);
    progress(`creating the demo nodes: ${DEMO_NODES.map((n) => n.name).join(', ')}`);
    await createReadyNodes(kubeFrom(plane.adminKubeconfig), DEMO_NODES);
    kubeconfigPath = plane.controllerKubeconfig;
  }

  const kc = kubeFrom(kubeconfigPath);
  progress(`reconciling DaemonSets (${config.managedResource}) on ${kc.getCurrentCluster()?.server ?? 'the current cluster'} as ${kc.getCurrentUser()?.name ?? 'the current user'}`);
  const cluster = new KubeCluster(kc, { managedResource: config.managedResource });
  const runner = await runLocal({
    reconcile: createReconciler({ cluster, planOptions: { placement: config.placement } }),
    listDaemonSets: listDaemonSetsVia(cluster),
    emitEvent: emitEventVia(cluster, config.managedResource),
    logger,
    kubeConfig: kc,
  }, {
    managed: config.managedResource,
    webhook: { port: config.webhookPort, secrets: config.webhook.secrets, auth: config.webhook.auth, maxBytes: config.webhook.maxBytes },
    workers: config.workers,
    resyncEverySeconds: config.resyncSeconds,
    watch: true,
    maxReceives: config.maxReceives,
  });
  if (runner.webhookUrl) progress(`webhook listening on ${runner.webhookUrl}`);

  if (plane) {
    const p = plane;
    progress('kubectl apply -f nginx-ds.yaml');
    const applied = await p.kubectl(['apply', '-f', fileURLToPath(DEMO_MANIFEST)]);
    if (applied.code !== 0) throw new Error(`kubectl apply failed: ${applied.stderr}`);
    await waitForDemoPods(p);
    out('$ kubectl get nodes');
    out((await p.kubectl(['get', 'nodes'])).stdout.trimEnd());
    out('$ kubectl get pods -l k8s-app=nginx -o wide');
    out((await p.kubectl(['get', 'pods', '-l', 'k8s-app=nginx', '-o', 'wide'])).stdout.trimEnd());
    progress(`the controller keeps reconciling; try it: KUBECONFIG=${p.adminKubeconfig} ${join(p.binDir, 'kubectl')} get ds`);
  }
  progress('running; Ctrl-C stops everything');

  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  progress('stopping');
  await runner.stop();
  await plane?.stop();
  progress('stopped');
}

function kubeFrom(path: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(path);
  return kc;
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

main().then(() => process.exit(0), (e: unknown) => {
  process.stderr.write(`daemonless: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
