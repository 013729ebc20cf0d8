/**
 * The list cache (IMPL-10) against the real kube-apiserver: its watch, its probe and its answers.
 * Every read through the cache must show what a consistent LIST sent at the same moment shows
 * (the adapter with and without the cache are compared), whether the read was answered from the
 * cache or listed; and a collection that keeps changing is answered from the cache.
 */
import { PatchStrategy, setHeaderOptions, type V1Node, type V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubeClients } from '../../lib/adapters/kube/clients.js';
import { KubeCluster, type KubeClients } from '../../lib/adapters/kube/kube-cluster.js';
import { kubeClient } from '../../lib/local-plane/nodes.js';
import { core, createNamespace, deleteNamespace, plane } from './helpers.js';

const BASE = 'list-cache';
const SELECTOR = 'app=list-cache';

const setMerge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const names = (items: readonly (V1Node | V1Pod)[]): string[] => items.map((o) => o.metadata?.name ?? '').sort();
const labelsOf = (items: readonly V1Node[], name: string): Record<string, string> | undefined => items.find((n) => n.metadata?.name === name)?.metadata?.labels;

/** The real clients, with every watch event handed on `delayMs` late (a slow or far-away watch stream). */
function clientsWithSlowWatch(delayMs: number): KubeClients {
  const clients = kubeClients(kubeClient(plane.controllerKubeconfig));
  const watch = clients.watch;
  if (watch === undefined) throw new Error('the real clients have no watch');
  return {
    ...clients,
    watch: (request, handlers) => watch(request, {
      event: (e) => setTimeout(() => handlers.event(e), delayMs),
      end: (error) => setTimeout(() => handlers.end(error), delayMs),
    }),
  };
}

describe.each([
  { stream: 'as it comes', delayMs: 0 },
  { stream: 'each event 300 ms late', delayMs: 300 },
])('list cache on the real API server, watch events $stream', ({ delayMs }) => {
  const kc = kubeClient(plane.controllerKubeconfig);
  const cached = new KubeCluster(kc, { listCache: true }, delayMs === 0 ? undefined : clientsWithSlowWatch(delayMs));
  const direct = new KubeCluster(kubeClient(plane.controllerKubeconfig));
  const NS = `${BASE}-${delayMs}`;
  const [NODE_A, NODE_B, NODE_C] = ['a', 'b', 'c'].map((i) => `${NS}-node-${i}`) as [string, string, string];
  const NODES = [NODE_A, NODE_B, NODE_C];

  beforeAll(async () => {
    await createNamespace(NS);
  });

  afterAll(async () => {
    cached.close();
    await Promise.all(NODES.map((name) => core.deleteNode({ name }).catch(() => undefined)));
    await deleteNamespace(NS);
  });

  it('shows every node change at once, as a LIST does', async () => {
    const first = await cached.listNodes();
    expect(first.complete).toBe(true);
    expect(names(first.items)).toEqual(names((await direct.listNodes()).items));
    for (const name of NODES) {
      await core.createNode({ body: { metadata: { name, labels: { suite: NS } } } });
      const seen = await cached.listNodes();
      expect(names(seen.items)).toContain(name);
      expect(names(seen.items)).toEqual(names((await direct.listNodes()).items));
    }
    await core.patchNode({ name: NODE_A, body: { metadata: { labels: { step: 'two' } } } }, setMerge);
    expect(labelsOf((await cached.listNodes()).items, NODE_A)).toMatchObject({ step: 'two' });
    await core.deleteNode({ name: NODE_B });
    expect(names((await cached.listNodes()).items)).not.toContain(NODE_B);
    expect(names((await cached.listNodes()).items)).toEqual(names((await direct.listNodes()).items));
  });

  it('shows every pod change of a selector at once, and nothing outside the selector', async () => {
    const pod = (name: string, app: string): V1Pod => ({ metadata: { name, labels: { app } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } });
    expect((await cached.listPods(NS, SELECTOR)).items).toEqual([]);
    await core.createNamespacedPod({ namespace: NS, body: pod('a', 'list-cache') });
    await core.createNamespacedPod({ namespace: NS, body: pod('other', 'not-this') });
    expect(names((await cached.listPods(NS, SELECTOR)).items)).toEqual(['a']);
    await core.createNamespacedPod({ namespace: NS, body: pod('b', 'list-cache') });
    expect(names((await cached.listPods(NS, SELECTOR)).items)).toEqual(['a', 'b']);
    await core.deleteNamespacedPod({ namespace: NS, name: 'a', gracePeriodSeconds: 0 });
    expect(names((await cached.listPods(NS, SELECTOR)).items)).toEqual(['b']);
    // A field selector is never answered from the cache.
    expect((await cached.listPods(NS, SELECTOR, 'spec.nodeName=nowhere')).items).toEqual([]);
  });
});

describe('list cache on the real API server, a collection that keeps changing', () => {
  const cached = new KubeCluster(kubeClient(plane.controllerKubeconfig), { listCache: true });
  const NODE_C = `${BASE}-busy-node`;

  beforeAll(async () => {
    await core.createNode({ body: { metadata: { name: NODE_C, labels: { suite: BASE } } } });
  });

  afterAll(async () => {
    cached.close();
    await core.deleteNode({ name: NODE_C }).catch(() => undefined);
  });

  it('answers from the cache while the collection keeps changing', async () => {
    const before = cached.listCacheStats()?.nodes.hits ?? 0;
    let writing = true;
    let n = 0;
    const writer = (async () => {
      while (writing) {
        n += 1;
        await core.patchNode({ name: NODE_C, body: { metadata: { annotations: { tick: String(n) } } } }, setMerge);
      }
    })();
    let hits = 0;
    try {
      for (let i = 0; i < 100 && hits === 0; i++) {
        // Whatever answers, it is at least as new as the last write that finished before the read.
        const written = n - 1;
        const read = await cached.listNodes();
        const tick = Number(read.items.find((x) => x.metadata?.name === NODE_C)?.metadata?.annotations?.tick ?? '0');
        expect(tick).toBeGreaterThanOrEqual(written);
        hits = (cached.listCacheStats()?.nodes.hits ?? 0) - before;
      }
    } finally {
      writing = false;
      await writer;
    }
    expect(hits).toBeGreaterThan(0);
  });
});
