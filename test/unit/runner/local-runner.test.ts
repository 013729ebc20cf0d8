import { createServer, type AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { TransientError } from '../../../lib/app/errors.js';
import type { ReconcileFn } from '../../../lib/app/ports.js';
import type { ListDaemonSets } from '../../../lib/app/queue.js';
import { runLocal, type LocalRunner } from '../../../lib/runner/local-runner.js';
import { RecordingMetrics } from '../../../lib/observability/recording.js';
import { report } from '../app/helpers.js';
import { node, pod } from '../events/fixtures.js';

const listDaemonSets: ListDaemonSets = async () => ({
  items: [
    { key: 'logging/fluentd', namespace: 'logging', name: 'fluentd', selector: { matchLabels: { app: 'fluentd' } } },
    { key: 'monitoring/node-exporter', namespace: 'monitoring', name: 'node-exporter', selector: { matchLabels: { app: 'node-exporter' } } },
  ],
});

const handles = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout' || r === 'TCPServerWrap' || r === 'TCPSocketWrap').length;

let runner: LocalRunner | null = null;
afterEach(async () => { await runner?.stop(); runner = null; });

async function start(reconcile: ReconcileFn, extra: Partial<Parameters<typeof runLocal>[1]> = {}) {
  runner = await runLocal({ reconcile, listDaemonSets }, { managed: 'native', workers: 4, resyncEverySeconds: null, retryBaseMs: 5, maxReceives: 3, ...extra });
  await runner.idle();
  return runner;
}

const postJson = (url: string, body: unknown) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

describe('runLocal()', () => {
  it('resyncs at start, then turns webhook events into reconciles (fan-out included)', async () => {
    const calls: string[] = [];
    const r = await start(async (key) => { calls.push(key); return report(key); });
    expect(calls.sort()).toEqual(['logging/fluentd', 'monitoring/node-exporter']);
    calls.length = 0;

    const res = await postJson(`${r.webhookUrl}/hook/anything`, { type: 'ADDED', object: node('node-42') });
    expect(res.status).toBe(200);
    await r.idle();
    expect(calls.sort()).toEqual(['logging/fluentd', 'monitoring/node-exporter']);

    calls.length = 0;
    await postJson(`${r.webhookUrl}/hook/x`, { type: 'ADDED', object: pod('fluentd-q') });
    await r.idle();
    expect(calls).toEqual(['logging/fluentd']);
  });

  it('accepts webhook bodies up to the Function URL limit (6 MiB) by default', async () => {
    const r = await start(async (key) => report(key));
    const p = pod('fluentd-q');
    const big = { type: 'ADDED', object: { ...p, metadata: { ...p.metadata, annotations: { big: 'x'.repeat(5 * 1024 * 1024) } } } };
    expect((await postJson(`${r.webhookUrl}/hook/x`, big)).status).toBe(200);
    const tooBig = { type: 'ADDED', object: { ...p, metadata: { ...p.metadata, annotations: { big: 'x'.repeat(6 * 1024 * 1024) } } } };
    expect((await postJson(`${r.webhookUrl}/hook/x`, tooBig)).status).toBe(413);
  });

  it('requires the secret when one is configured', async () => {
    const r = await start(async (key) => report(key), { webhook: { secrets: ['local-secret-0123456789'] } });
    expect((await postJson(`${r.webhookUrl}/hook/wrong`, { type: 'ADDED', object: node('n') })).status).toBe(401);
    expect((await postJson(`${r.webhookUrl}/hook/local-secret-0123456789`, { type: 'ADDED', object: node('n') })).status).toBe(200);
  });

  it('never runs two reconciles of one key at once, while different keys run in parallel', async () => {
    const inFlight = new Map<string, number>();
    let maxPerKey = 0;
    let maxTotal = 0;
    let total = 0;
    const r = await start(async (key) => {
      const n = (inFlight.get(key) ?? 0) + 1;
      inFlight.set(key, n);
      total += 1;
      maxPerKey = Math.max(maxPerKey, n);
      maxTotal = Math.max(maxTotal, total);
      await new Promise((res) => setTimeout(res, 5));
      inFlight.set(key, n - 1);
      total -= 1;
      return report(key);
    });
    await r.queue.enqueue(Array.from({ length: 40 }, (_, i) => ({ key: `ns/ds-${i % 4}`, dedupId: `e${i}` })));
    await r.idle();
    expect(maxPerKey).toBe(1);
    expect(maxTotal).toBeGreaterThan(1);
  });

  it('retries transient failures with backoff and dead-letters a key after maxReceives', async () => {
    const attempts = new Map<string, number>();
    const metrics = new RecordingMetrics();
    runner = await runLocal({
      reconcile: async (key) => {
        const n = (attempts.get(key) ?? 0) + 1;
        attempts.set(key, n);
        if (key === 'ns/poison' || (key === 'ns/flaky' && n === 1)) throw new TransientError('apiserver 503');
        return report(key);
      },
      listDaemonSets: async () => ({ items: [] }),
      metrics,
    }, { managed: 'native', workers: 2, resyncEverySeconds: null, retryBaseMs: 5, maxReceives: 3 });
    await runner.queue.enqueue([{ key: 'ns/flaky', dedupId: 'f' }, { key: 'ns/poison', dedupId: 'p' }]);
    await runner.idle(10_000);
    expect(attempts.get('ns/flaky')).toBe(2);
    expect(attempts.get('ns/poison')).toBe(3);
    expect(runner.fifo!.deadLetters.map((d) => JSON.parse(d.body).key)).toEqual(['ns/poison']);
    expect(metrics.get('ReconcileErrors')).toBe(4);
  });

  it('looks again after requeueAfterSeconds through delayed delivery', async () => {
    const times: number[] = [];
    const r = await start(async (key) => {
      times.push(Date.now());
      return report(key, { requeueAfterSeconds: times.length === 1 ? 0.2 : null });
    }, { });
    times.length = 0;
    await r.queue.enqueue([{ key: 'ns/slow', dedupId: 's' }]);
    await r.idle();
    expect(times).toHaveLength(2);
    expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(150);
  });

  it('stop() leaves no timer, socket or loop behind', async () => {
    const before = handles();
    const r = await runLocal({ reconcile: async (key) => report(key), listDaemonSets }, { managed: 'native', workers: 3, resyncEverySeconds: 60 });
    expect(handles()).toBeGreaterThan(before);
    await r.stop();
    await new Promise((res) => setTimeout(res, 20));
    expect(handles()).toBeLessThanOrEqual(before);
    await expect(fetch(`${r.webhookUrl}/hook/x`, { method: 'POST', body: '{}' })).rejects.toThrow();
  });

  it('leaves nothing running when a part fails to start (the webhook port is taken)', async () => {
    const taken = createServer();
    await new Promise<void>((res) => taken.listen(0, '127.0.0.1', res));
    const port = (taken.address() as AddressInfo).port;
    try {
      const before = handles();
      let lists = 0;
      const counting: ListDaemonSets = async (request) => { lists += 1; return listDaemonSets(request); };
      await expect(runLocal({ reconcile: async (key) => report(key), listDaemonSets: counting }, { managed: 'native', workers: 3, resyncEverySeconds: 0.01, webhook: { port } }))
        .rejects.toThrow(/EADDRINUSE/);
      await new Promise((res) => setTimeout(res, 50));
      const after = lists;
      await new Promise((res) => setTimeout(res, 50));
      // The workers and the resync timer started before the webhook server: both are stopped.
      expect(lists).toBe(after);
      expect(handles()).toBeLessThanOrEqual(before);
    } finally {
      await new Promise((res) => taken.close(res));
    }
  });

  it('leaves nothing running when the watch source cannot start', async () => {
    const before = handles();
    await expect(runLocal({ reconcile: async (key) => report(key), listDaemonSets }, { managed: 'native', workers: 2, resyncEverySeconds: 60, watch: true }))
      .rejects.toThrow('the watch source needs deps.kubeConfig');
    await new Promise((res) => setTimeout(res, 20));
    expect(handles()).toBeLessThanOrEqual(before);
  });
});
