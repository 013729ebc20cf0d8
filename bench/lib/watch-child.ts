/**
 * A watcher in its own process, so that a busy controller in the benchmark's process cannot delay
 * (or, through the API server closing unresponsive watchers, stall) the measurement. LISTs, then
 * WATCHes `path` (relisting after an expired resourceVersion) and prints one JSON line per event:
 * `{ t: <epoch ms>, type, o: <compact object> }`.
 *
 *   tsx bench/lib/watch-child.ts <kubeconfig> <path> [labelSelector]
 */
import { KubeConfig, Watch, type V1Node, type V1Pod } from '@kubernetes/client-node';
import { targetNode } from './pod-fields.js';

const [kubeconfig, path, labelSelector] = process.argv.slice(2);
if (!kubeconfig || !path) throw new Error('usage: watch-child <kubeconfig> <path> [labelSelector]');
const kc = new KubeConfig();
kc.loadFromFile(kubeconfig);
const now = (): number => performance.timeOrigin + performance.now();
const isNodes = path.endsWith('/nodes');

function compact(obj: V1Pod | V1Node): unknown {
  if (isNodes) {
    const n = obj as V1Node;
    // Eligible for a daemon pod without tolerations of its own: no NoSchedule taint of node lifecycle
    // (daemon pods tolerate its NoExecute ones, POD-4). Not "Ready": a node created through the API
    // without a Ready condition (kwok's) loses the not-ready taint the API server gave it as soon as
    // node lifecycle sees it, seconds before it reports Ready.
    const tainted = (n.spec?.taints ?? []).some((t) => t.effect === 'NoSchedule' && (t.key === 'node.kubernetes.io/not-ready' || t.key === 'node.kubernetes.io/unreachable'));
    return { name: n.metadata?.name, eligible: !tainted };
  }
  const p = obj as V1Pod;
  return {
    name: p.metadata?.name,
    node: targetNode(p),
    hash: p.metadata?.labels?.['controller-revision-hash'] ?? null,
    ready: p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false,
    terminating: !!p.metadata?.deletionTimestamp,
  };
}

// Only changes of the compact fields are printed: node heartbeats would otherwise flood the pipe and
// make a busy parent read them late.
const last = new Map<string, string>();
const emit = (type: string, obj: V1Pod | V1Node, t = now()): void => {
  const o = compact(obj);
  const key = String((o as { name?: unknown }).name ?? '');
  const text = JSON.stringify(o);
  if (type === 'DELETED') last.delete(key);
  else if (last.get(key) === text) return;
  else last.set(key, text);
  process.stdout.write(`${JSON.stringify({ t, type, o })}\n`);
};

async function list(): Promise<string | undefined> {
  const q = labelSelector ? `?labelSelector=${encodeURIComponent(labelSelector)}` : '';
  const server = kc.getCurrentCluster()?.server ?? '';
  const opts: { headers?: Record<string, string> } & Record<string, unknown> = {};
  await kc.applyToHTTPSOptions(opts);
  const { request } = await import('node:https');
  const url = new URL(`${path}${q}`, server);
  const body = await new Promise<string>((resolve, reject) => {
    const req = request({ ...opts, hostname: url.hostname, port: url.port, path: `${url.pathname}${url.search}`, method: 'GET' }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    });
    req.on('error', reject);
    req.end();
  });
  const parsed = JSON.parse(body) as { items: (V1Pod | V1Node)[]; metadata?: { resourceVersion?: string } };
  const t = now();
  for (const item of parsed.items) emit('SYNC', item, t);
  process.stdout.write(`${JSON.stringify({ t, type: 'LISTED', names: parsed.items.map((i) => i.metadata?.name) })}\n`);
  return parsed.metadata?.resourceVersion;
}

let rv = await list();
const watch = new Watch(kc);
for (;;) {
  await new Promise<void>((resolve) => {
    watch.watch(path, { allowWatchBookmarks: true, ...(labelSelector ? { labelSelector } : {}), ...(rv ? { resourceVersion: rv } : {}) },
      (type: string, obj: V1Pod | V1Node) => {
        if (type === 'ERROR') { rv = undefined; return; }
        const v = obj?.metadata?.resourceVersion;
        if (v) rv = v;
        if (type !== 'BOOKMARK') emit(type, obj);
      },
      () => resolve())
      .catch(() => resolve());
  });
  if (rv === undefined) rv = await list();
  await new Promise((r) => setTimeout(r, 50));
}
