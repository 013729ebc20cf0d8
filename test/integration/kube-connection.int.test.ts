/**
 * The Kubernetes adapter keeps one connection per KubeConfig (lib/adapters/kube/h2-transport.ts),
 * against the real kube-apiserver: new connections to the API server are counted — the adapter's
 * own (its CONNECT_CHANNEL) and any undici opens (`undici:client:connected`) — while the adapter
 * makes its calls, concurrent ones included, with client certificates (also rotated), and with
 * bearer tokens that change between calls as the EKS authenticator's do.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { AppsV1Api, CoreV1Api, CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildKubeConfig } from '../../lib/adapters/credentials/kube-config.js';
import { KubeCluster } from '../../lib/adapters/kube/kube-cluster.js';
import { kubeClients, transportOf } from '../../lib/adapters/kube/clients.js';
import { CONNECT_CHANNEL, IDLE_MS, KubeTransport } from '../../lib/adapters/kube/h2-transport.js';
import { core, createNamespace, deleteNamespace, kubectl, plane } from './helpers.js';

const NS = 'kube-connection';
const NODE = `${NS}-node`;

/** New connections to the API server from now on: the adapter's, and any undici opens. */
function connectionCounter(): { count: () => number; close: () => void } {
  const api = new URL(plane.server);
  let n = 0;
  const onUndici = (msg: unknown): void => {
    const { connectParams } = msg as { connectParams: { hostname?: string; port?: string | number } };
    if (connectParams.hostname === api.hostname && String(connectParams.port) === api.port) n += 1;
  };
  const onAdapter = (msg: unknown): void => {
    if ((msg as { origin: string }).origin === api.origin) n += 1;
  };
  subscribe('undici:client:connected', onUndici);
  subscribe(CONNECT_CHANNEL, onAdapter);
  return {
    count: () => n,
    close: () => {
      unsubscribe('undici:client:connected', onUndici);
      unsubscribe(CONNECT_CHANNEL, onAdapter);
    },
  };
}

/** The adapter's calls of a converged pass, three of them concurrent, then again on a session. */
async function pass(cluster: KubeCluster): Promise<number> {
  await cluster.getDaemonSet(NS, 'absent');
  await Promise.all([cluster.listNodes(), cluster.listPods(NS, 'app=absent'), cluster.listRevisions(NS, 'app=absent')]);
  const session = cluster.session();
  await Promise.all([session.listDaemonSets(), session.getDaemonSet(NS, 'absent')]);
  return cluster.counters.reads + session.counters.reads;
}

const controllerConfig = (): KubeConfig => {
  const kc = new KubeConfig();
  kc.loadFromFile(plane.controllerKubeconfig);
  return kc;
};

describe('one connection per KubeConfig', () => {
  let tokenA = '';
  let tokenB = '';

  beforeAll(async () => {
    await createNamespace(NS);
    await core.createNode({ body: { metadata: { name: NODE, labels: { suite: NS } } } });
    // Two service accounts: `reader` may read what a pass reads, `nobody` may read nothing.
    await kubectl(['create', 'serviceaccount', 'reader', '-n', NS]);
    await kubectl(['create', 'serviceaccount', 'nobody', '-n', NS]);
    await kubectl(['create', 'clusterrolebinding', `${NS}-reader`, '--clusterrole=view', `--serviceaccount=${NS}:reader`]);
    await kubectl(['create', 'clusterrole', `${NS}-nodes`, '--verb=list', '--resource=nodes']);
    await kubectl(['create', 'clusterrolebinding', `${NS}-nodes`, `--clusterrole=${NS}-nodes`, `--serviceaccount=${NS}:reader`]);
    tokenA = (await kubectl(['create', 'token', 'reader', '-n', NS])).stdout.trim();
    tokenB = (await kubectl(['create', 'token', 'nobody', '-n', NS])).stdout.trim();
  });

  afterAll(async () => {
    await kubectl(['delete', 'clusterrolebinding', `${NS}-reader`, `${NS}-nodes`, '--ignore-not-found'], undefined, true);
    await kubectl(['delete', 'clusterrole', `${NS}-nodes`, '--ignore-not-found'], undefined, true);
    await core.deleteNode({ name: NODE }).catch(() => undefined);
    await deleteNamespace(NS);
  });

  it('client certificates: every call of the adapter, concurrent ones included, on one connection', async () => {
    const kc = controllerConfig();
    const pod = await core.createNamespacedPod({ namespace: NS, body: { metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'nginx' }] } } });
    const counter = connectionCounter();
    try {
      const cluster = new KubeCluster(kc);
      const reads = await pass(cluster);
      expect(reads).toBe(6);
      expect(counter.count()).toBe(1);
      await pass(cluster);
      expect(counter.count()).toBe(1);
      expect(transportOf(kc).connections).toBe(1);
      // The node-scoped reads: one node by name, its pods by field selector.
      const name = NODE;
      expect((await cluster.getNode(name))?.metadata?.labels?.suite).toBe(NS);
      expect(await cluster.getNode('absent')).toBeNull();
      expect((await cluster.listPods(NS, undefined, `spec.nodeName=${name}`)).complete).toBe(true);
      // Deletes send their options as a body: a wrong UID precondition keeps the pod, the right one deletes it.
      expect(await cluster.deletePod(NS, 'p', 'not-its-uid')).toBe('already-done');
      const kept = (await cluster.listPods(NS, undefined, 'metadata.name=p')).items;
      expect(kept.map((p) => [p.metadata?.uid, p.metadata?.deletionTimestamp])).toEqual([[pod.metadata?.uid, undefined]]);
      expect(await cluster.deletePod(NS, 'p', pod.metadata?.uid)).toBe('done');
      expect(await cluster.deleteRevision(NS, 'absent', 'uid-1')).toBe('already-done');
      expect(counter.count()).toBe(1);
      // Another adapter over the same KubeConfig shares the connection.
      await new KubeCluster(kc, { managedResource: 'crd' }).listNodes();
      expect(counter.count()).toBe(1);
    } finally {
      counter.close();
    }
  });

  it('client-node as shipped (API objects built directly) opens a connection per call', async () => {
    const kc = controllerConfig();
    const counter = connectionCounter();
    try {
      const cluster = new KubeCluster(kc, {}, { core: kc.makeApiClient(CoreV1Api), apps: kc.makeApiClient(AppsV1Api), custom: kc.makeApiClient(CustomObjectsApi) });
      const reads = await pass(cluster);
      expect(counter.count()).toBe(reads);
    } finally {
      counter.close();
    }
  });

  it('a connection idle for longer than IDLE_MS is not reused', async () => {
    const kc = controllerConfig();
    let now = 1_000_000;
    const transport = new KubeTransport(kc, () => now);
    const counter = connectionCounter();
    try {
      const cluster = new KubeCluster(kc, {}, kubeClients(kc, transport));
      await cluster.listNodes();
      now += IDLE_MS;
      await cluster.listNodes();
      expect(counter.count()).toBe(1);
      now += IDLE_MS + 1;
      await cluster.listNodes();
      await cluster.listNodes();
      expect(counter.count()).toBe(2);
      expect(transport.connections).toBe(2);
    } finally {
      counter.close();
      transport.close();
    }
  });

  it('a rotated client certificate gets a new connection; the calls go on', async () => {
    const kc = controllerConfig();
    const admin = new KubeConfig();
    admin.loadFromFile(plane.adminKubeconfig);
    const counter = connectionCounter();
    try {
      const cluster = new KubeCluster(kc);
      await cluster.listNodes();
      await cluster.listNodes();
      expect(counter.count()).toBe(1);
      const user = kc.getCurrentUser();
      const next = admin.getCurrentUser();
      expect(user?.certData).toBeDefined();
      expect(next?.certData).not.toBe(user?.certData);
      Object.assign(user ?? {}, { certData: next?.certData, keyData: next?.keyData });
      await Promise.all([cluster.listNodes(), cluster.listDaemonSets()]);
      await cluster.listNodes();
      expect(counter.count()).toBe(2);
    } finally {
      counter.close();
    }
  });

  it('bearer tokens that change between calls (the EKS authenticator) travel on one connection, each applied to its request', async () => {
    const caData = controllerConfig().getCurrentCluster()?.caData ?? '';
    expect(caData).not.toBe('');
    const tokens = [tokenA, tokenB, tokenA];
    let i = 0;
    const kc = await buildKubeConfig({ mode: 'eks', clusterName: 'local', endpoint: plane.server, caData }, {
      eksTokens: { getToken: async () => tokens[Math.min(i++, tokens.length - 1)] ?? '' },
    });
    const counter = connectionCounter();
    try {
      const cluster = new KubeCluster(kc);
      expect((await cluster.listNodes()).complete).toBe(true);
      // The second token's service account may not list nodes: the API server saw that token.
      await expect(cluster.listNodes()).rejects.toThrow(/forbidden/i);
      expect((await cluster.listNodes()).complete).toBe(true);
      expect(i).toBe(3);
      expect(counter.count()).toBe(1);
    } finally {
      counter.close();
    }
  });
});
