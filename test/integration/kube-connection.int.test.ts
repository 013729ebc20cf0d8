/**
 * The Kubernetes adapter keeps one connection per KubeConfig (lib/adapters/kube/shared-connection.ts),
 * against the real kube-apiserver: new TLS connections to the API server are counted through
 * undici's `undici:client:connected` diagnostics channel while the adapter makes its calls —
 * concurrent ones included — with client certificates, and with bearer tokens that change between
 * calls as the EKS authenticator's do.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { AppsV1Api, CoreV1Api, CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildKubeConfig } from '../../lib/adapters/credentials/kube-config.js';
import { KubeCluster } from '../../lib/adapters/kube/kube-cluster.js';
import { sharedConnectionStats } from '../../lib/adapters/kube/shared-connection.js';
import { createNamespace, deleteNamespace, kubectl, plane } from './helpers.js';

const NS = 'kube-connection';

/** New connections to the API server opened by undici (any dispatcher) from now on. */
function connectionCounter(): { count: () => number; close: () => void } {
  const api = new URL(plane.server);
  let n = 0;
  const onConnected = (msg: unknown): void => {
    const { connectParams } = msg as { connectParams: { hostname?: string; port?: string | number } };
    if (connectParams.hostname === api.hostname && String(connectParams.port) === api.port) n += 1;
  };
  subscribe('undici:client:connected', onConnected);
  return { count: () => n, close: () => unsubscribe('undici:client:connected', onConnected) };
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
    await deleteNamespace(NS);
  });

  it('client certificates: every call of the adapter, concurrent ones included, on one connection', async () => {
    const kc = controllerConfig();
    const counter = connectionCounter();
    try {
      const cluster = new KubeCluster(kc);
      const reads = await pass(cluster);
      expect(reads).toBe(6);
      expect(counter.count()).toBe(1);
      await pass(cluster);
      expect(counter.count()).toBe(1);
      expect(sharedConnectionStats(kc)).toEqual({ dispatchers: 1 });
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
      expect(sharedConnectionStats(kc)).toBeNull();
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
