import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { startWatchSource, type WatchSource } from '../../../lib/runner/watch-source.js';
import { RecordingLogger } from '../../../lib/observability/recording.js';
import { RecordingQueue } from '../app/helpers.js';
import { daemonSet, node, pod } from '../events/fixtures.js';

/** A fake API server: the first watch of each path streams `events` and ends; later ones stay open. */
async function fakeApiServer(streams: Record<string, unknown[]>) {
  const requests: { path: string; query: URLSearchParams }[] = [];
  const open: ServerResponse[] = [];
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const first = !requests.some((r) => r.path === url.pathname);
    requests.push({ path: url.pathname, query: url.searchParams });
    res.writeHead(200, { 'content-type': 'application/json' });
    if (!first) {
      res.flushHeaders();
      open.push(res);
      return;
    }
    for (const e of streams[url.pathname] ?? []) res.write(`${JSON.stringify(e)}\n`);
    res.end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, skipTLSVerify: true }],
    users: [{ name: 'u', token: 't' }], contexts: [{ name: 'x', cluster: 'c', user: 'u' }], currentContext: 'x',
  });
  return {
    kc, requests,
    close: () => new Promise<void>((r) => { for (const res of open) res.destroy(); server.close(() => r()); server.closeAllConnections(); }),
  };
}

let source: WatchSource | null = null;
let api: Awaited<ReturnType<typeof fakeApiServer>> | null = null;
afterEach(async () => { await source?.stop(); await api?.close(); source = null; api = null; });

async function until(check: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('startWatchSource()', () => {
  it('maps watch events like the webhook, filters node heartbeats, and resumes from the last resourceVersion', async () => {
    api = await fakeApiServer({
      '/api/v1/nodes': [
        { type: 'ADDED', object: node('node-1', { rv: '10' }) },
        { type: 'MODIFIED', object: node('node-1', { rv: '11', extra: { allocatable: { cpu: '3' } } }) },
        { type: 'MODIFIED', object: node('node-1', { rv: '12', labels: { disk: 'ssd' } }) },
        { type: 'BOOKMARK', object: { kind: 'Node', apiVersion: 'v1', metadata: { resourceVersion: '15' } } },
      ],
      '/api/v1/pods': [{ type: 'ADDED', object: pod('fluentd-1', { rv: '20' }) }],
      '/apis/apps/v1/daemonsets': [{ type: 'MODIFIED', object: daemonSet('fluentd', { rv: '30' }) }],
    });
    const queue = new RecordingQueue();
    source = startWatchSource({ kubeConfig: api.kc, queue, managed: 'native', logger: new RecordingLogger(), now: () => 7 });
    await until(() => api!.requests.length >= 6);
    expect(queue.fanouts.map((f) => f.cause)).toEqual(['node node-1 create', 'node node-1 update']);
    expect(queue.requests.map((r) => r.key).sort()).toEqual(['logging/fluentd', 'logging/fluentd']);
    const resumed = (path: string) => api!.requests.filter((r) => r.path === path)[1]?.query.get('resourceVersion');
    expect(resumed('/api/v1/nodes')).toBe('15');
    expect(resumed('/api/v1/pods')).toBe('20');
    expect(resumed('/apis/apps/v1/daemonsets')).toBe('30');
    expect(api.requests[0]!.query.get('allowWatchBookmarks')).toBe('true');
  });

  it('watches the CRD group when the CRD is managed', async () => {
    api = await fakeApiServer({ '/apis/daemonless.io/v1/daemonsets': [{ type: 'ADDED', object: daemonSet('agent', { apiVersion: 'daemonless.io/v1' }) }] });
    const queue = new RecordingQueue();
    source = startWatchSource({ kubeConfig: api.kc, queue, managed: 'crd', logger: new RecordingLogger() });
    await until(() => queue.requests.length === 1);
    expect(queue.requests[0]!.key).toBe('logging/agent');
  });
});
