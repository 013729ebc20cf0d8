import { describe, expect, it, vi } from 'vitest';
import { createHandler } from '../../../lambdas/reconcile.js';
import { TerminalError, TransientError } from '../../../lib/app/errors.js';
import type { BatchDeps } from '../../../lib/app/process-batch.js';
import type { ReconcileFn } from '../../../lib/app/ports.js';
import type { DaemonSetPage, ListDaemonSets } from '../../../lib/app/queue.js';
import { RecordingLogger, RecordingMetrics } from '../../../lib/observability/recording.js';
import { RecordingQueue, report } from '../app/helpers.js';
import { context, DELAY_ARN, quietObservability, reconcileMsg, sqsEvent, sqsRecord } from './support.js';

const NOW = Date.UTC(2026, 10, 28, 12, 0, 0);

function setup(reconcile: ReconcileFn, extra: Partial<BatchDeps> = {}) {
  const queue = new RecordingQueue();
  const logger = new RecordingLogger();
  const metrics = new RecordingMetrics();
  const emitted: Parameters<BatchDeps['emitEvent']>[0][] = [];
  const deps: BatchDeps = {
    reconcile, queue, logger, metrics, now: () => NOW, maxReceives: 5,
    listDaemonSets: async () => ({ items: [] }),
    emitEvent: async (e) => { emitted.push(e); },
    ...extra,
  };
  const handler = createHandler({ batch: deps }, quietObservability());
  return { handler, queue, logger, metrics, emitted };
}

const ids = (res: unknown) => (res as { batchItemFailures: { itemIdentifier: string }[] }).batchItemFailures.map((f) => f.itemIdentifier);

describe('reconcile handler', () => {
  it('reports exactly the failed record of three (other groups continue)', async () => {
    const reconcile = vi.fn<ReconcileFn>(async (key) => {
      if (key === 'ns/b') throw new TransientError('429 Too Many Requests');
      return report(key);
    });
    const { handler } = setup(reconcile);
    const res = await handler(sqsEvent([sqsRecord('1', reconcileMsg('ns/a')), sqsRecord('2', reconcileMsg('ns/b')), sqsRecord('3', reconcileMsg('ns/c'))]), context);
    expect(ids(res)).toEqual(['2']);
    expect(reconcile.mock.calls.map((c) => c[0])).toEqual(['ns/a', 'ns/b', 'ns/c']);
  });

  it('fails the rest of a failed group in order, without running it (FIFO short-circuit per group)', async () => {
    const reconcile = vi.fn<ReconcileFn>(async (key) => {
      if (key === 'ns/b') throw new TransientError('503');
      return report(key);
    });
    const { handler } = setup(reconcile);
    const res = await handler(sqsEvent([
      sqsRecord('1', reconcileMsg('ns/b', 'x1')),
      sqsRecord('2', reconcileMsg('ns/a')),
      sqsRecord('3', reconcileMsg('ns/b', 'x2')),
      sqsRecord('4', reconcileMsg('ns/c')),
    ]), context);
    expect(ids(res)).toEqual(['1', '3']);
    expect(reconcile.mock.calls.map((c) => c[0])).toEqual(['ns/b', 'ns/a', 'ns/c']);
  });

  it('treats unclassified errors as transient (retried, then the DLQ)', async () => {
    const { handler } = setup(async () => { throw new Error('socket hang up'); });
    expect(ids(await handler(sqsEvent([sqsRecord('1', reconcileMsg('ns/a'))]), context))).toEqual(['1']);
  });

  it('returns every record when all fail, instead of throwing', async () => {
    const { handler } = setup(async () => { throw new TransientError('down'); });
    const res = await handler(sqsEvent([sqsRecord('1', reconcileMsg('ns/a')), sqsRecord('2', reconcileMsg('ns/b'))]), context);
    expect(ids(res)).toEqual(['1', '2']);
  });

  it('acks a terminal failure and records a Warning Event on the DaemonSet', async () => {
    const { handler, emitted, metrics } = setup(async () => { throw new TerminalError('spec.selector does not match template labels'); });
    const res = await handler(sqsEvent([sqsRecord('1', reconcileMsg('ns/a'))]), context);
    expect(ids(res)).toEqual([]);
    expect(emitted).toEqual([{ key: 'ns/a', type: 'Warning', reason: 'ReconcileFailed', message: 'TerminalError: spec.selector does not match template labels' }]);
    expect(metrics.get('TerminalErrors')).toBe(1);
  });

  it('acks a record collapsed into a reconcile that failed terminally, like that reconcile (one Event)', async () => {
    const reconcile = vi.fn<ReconcileFn>(async (key) => {
      if (key === 'ns/a') throw new TerminalError('pods "x" is forbidden: violates PodSecurity');
      return report(key);
    });
    const { handler, emitted, metrics } = setup(reconcile);
    const res = await handler(sqsEvent([
      sqsRecord('1', reconcileMsg('ns/a', 'e1')), sqsRecord('2', reconcileMsg('ns/a', 'e2')), sqsRecord('3', reconcileMsg('ns/b')),
    ]), context);
    expect(ids(res)).toEqual([]);
    expect(reconcile.mock.calls.map((c) => c[0])).toEqual(['ns/a', 'ns/b']);
    expect(emitted.map((e) => [e.key, e.reason])).toEqual([['ns/a', 'ReconcileFailed']]);
    expect(metrics.get('TerminalErrors')).toBe(1);
  });

  it('fails a record collapsed into a reconcile that failed transiently (both are redelivered)', async () => {
    const reconcile = vi.fn<ReconcileFn>(async () => { throw new TransientError('503'); });
    const { handler } = setup(reconcile);
    const res = await handler(sqsEvent([sqsRecord('1', reconcileMsg('ns/a', 'e1')), sqsRecord('2', reconcileMsg('ns/a', 'e2'))]), context);
    expect(ids(res)).toEqual(['1', '2']);
  });

  it('puts the DaemonSet uid a failed reconcile knows on its Warning Events', async () => {
    const failed = setup(async () => { throw new TerminalError('forbidden', { daemonSetUid: 'uid-1' }); });
    await failed.handler(sqsEvent([sqsRecord('1', reconcileMsg('ns/a'))]), context);
    expect(failed.emitted).toEqual([expect.objectContaining({ key: 'ns/a', reason: 'ReconcileFailed', uid: 'uid-1' })]);
    const givingUp = setup(async () => { throw new TransientError('500', { daemonSetUid: 'uid-2' }); });
    await givingUp.handler(sqsEvent([sqsRecord('1', reconcileMsg('ns/a'), { receiveCount: 5 })]), context);
    expect(givingUp.emitted).toEqual([expect.objectContaining({ reason: 'ReconcileGivingUp', uid: 'uid-2' })]);
  });

  it('acks messages it cannot read', async () => {
    const reconcile = vi.fn<ReconcileFn>(async (key) => report(key));
    const { handler, metrics } = setup(reconcile);
    const res = await handler(sqsEvent([
      sqsRecord('1', 'not json'),
      sqsRecord('2', JSON.stringify({ v: 2, type: 'reconcile', key: 'ns/a', dedupId: 'x' })),
      sqsRecord('3', JSON.stringify({ v: 1, type: 'reconcile', key: '../etc/passwd', dedupId: 'x' })),
      sqsRecord('4', reconcileMsg('ns/ok')),
    ]), context);
    expect(ids(res)).toEqual([]);
    expect(reconcile.mock.calls.map((c) => c[0])).toEqual(['ns/ok']);
    expect(metrics.get('InvalidMessages')).toBe(3);
  });

  it('collapses records for the same key into one reconcile', async () => {
    const reconcile = vi.fn<ReconcileFn>(async (key) => report(key, { podsCreated: 2 }));
    const { handler, metrics } = setup(reconcile);
    const res = await handler(sqsEvent([
      sqsRecord('1', reconcileMsg('ns/a', 'e1')), sqsRecord('2', reconcileMsg('ns/a', 'e2')), sqsRecord('3', reconcileMsg('ns/b')), sqsRecord('4', reconcileMsg('ns/a', 'e3')),
    ]), context);
    expect(ids(res)).toEqual([]);
    expect(reconcile.mock.calls.map((c) => c[0])).toEqual(['ns/a', 'ns/b']);
    expect(metrics.get('ReconcilesCollapsed')).toBe(2);
    expect(metrics.get('PodsCreated')).toBe(4);
  });

  it('requeues through the delay path when the reconcile asks to look again', async () => {
    const { handler, queue, metrics } = setup(async (key) => report(key, { requeueAfterSeconds: 11 }));
    await handler(sqsEvent([sqsRecord('1', reconcileMsg('ns/a'))]), context);
    expect(queue.delayed).toEqual([{ request: { key: 'ns/a', dedupId: expect.stringMatching(/^[0-9a-f]{64}$/) }, delaySeconds: 11 }]);
    expect(metrics.get('Requeues')).toBe(1);
  });

  it('fails the record when the requeue cannot be sent (the retry reconciles and requeues again)', async () => {
    const { handler, queue } = setup(async (key) => report(key, { requeueAfterSeconds: 5 }));
    queue.failWith = new TransientError('SQS throttled');
    expect(ids(await handler(sqsEvent([sqsRecord('1', reconcileMsg('ns/a'))]), context))).toEqual(['1']);
  });

  it('emits a Warning Event on the last attempt before the DLQ', async () => {
    const { handler, emitted } = setup(async () => { throw new TransientError('500'); });
    await handler(sqsEvent([sqsRecord('1', reconcileMsg('ns/a'), { receiveCount: 5 })]), context);
    expect(emitted.map((e) => e.reason)).toEqual(['ReconcileGivingUp']);
  });

  it('measures event-to-action latency from observedAt when the reconcile acted', async () => {
    const { handler, metrics } = setup(async (key) => report(key, { podsCreated: 1 }));
    await handler(sqsEvent([sqsRecord('1', reconcileMsg('ns/a', 'd', NOW - 1500))]), context);
    expect(metrics.timings.get('EventToActionLatency')).toEqual([1500]);
  });

  it('puts the DaemonSet key on every log line of a record', async () => {
    const { handler, logger } = setup(async (key) => report(key));
    await handler(sqsEvent([sqsRecord('1', reconcileMsg('ns/a')), sqsRecord('2', reconcileMsg('ns/b'))]), context);
    const reconciled = logger.lines.filter((l) => l.message === 'reconciled');
    expect(reconciled.map((l) => l.fields.daemonSetKey)).toEqual(['ns/a', 'ns/b']);
  });

  it('expands a fan-out by listing DaemonSets page by page', async () => {
    const pages: Record<string, DaemonSetPage> = {
      start: { items: [{ key: 'a/x', namespace: 'a', name: 'x', selector: { matchLabels: { app: 'x' } } }], continueToken: 'p2' },
      p2: { items: [{ key: 'b/y', namespace: 'b', name: 'y', selector: null }], continueToken: 'p3' },
      p3: { items: [{ key: 'a/z', namespace: 'a', name: 'z', selector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['x', 'z'] }] } }] },
    };
    const calls: Parameters<ListDaemonSets>[0][] = [];
    const listDaemonSets: ListDaemonSets = async (req) => { calls.push(req); return pages[req.continueToken ?? 'start']!; };
    const reconcile = vi.fn<ReconcileFn>(async (key) => report(key));
    const { handler, queue } = setup(reconcile, { listDaemonSets, pageSize: 1 });

    const res = await handler(sqsEvent([
      sqsRecord('1', { v: 1, type: 'fanout', scope: 'all', cause: 'node node-1 create', dedupId: 'f1', observedAt: NOW - 10 }, { groupId: 'fanout:all' }),
      sqsRecord('2', { v: 1, type: 'fanout', scope: 'selector', namespace: 'a', labels: { app: 'x' }, cause: 'orphan', dedupId: 'f2' }, { groupId: 'fanout:selector:a' }),
    ]), context);

    expect(ids(res)).toEqual([]);
    expect(reconcile).not.toHaveBeenCalled();
    expect(queue.requests.slice(0, 3).map((r) => [r.key, r.observedAt])).toEqual([['a/x', NOW - 10], ['b/y', NOW - 10], ['a/z', NOW - 10]]);
    expect(queue.requests.slice(3).map((r) => r.key)).toEqual(['a/x', 'a/z']);
    expect(new Set(queue.requests.map((r) => r.dedupId)).size).toBe(5);
    expect(calls.slice(0, 3)).toEqual([{ limit: 1, continueToken: undefined }, { limit: 1, continueToken: 'p2' }, { limit: 1, continueToken: 'p3' }]);
    expect(calls[3]).toEqual({ namespace: 'a', limit: 1, continueToken: undefined });
  });

  it('retries a fan-out whose list fails', async () => {
    const { handler } = setup(async (key) => report(key), { listDaemonSets: async () => { throw new TransientError('apiserver 503'); } });
    const res = await handler(sqsEvent([sqsRecord('1', { v: 1, type: 'fanout', scope: 'all', cause: 'c', dedupId: 'f' }, { groupId: 'fanout:all' })]), context);
    expect(ids(res)).toEqual(['1']);
  });

  it('forwards due delay-queue records (standard queue, processed in parallel)', async () => {
    const forwarded: string[] = [];
    const { handler } = setup(async (key) => report(key), {
      forwardDelayed: async (m) => { forwarded.push(m.message.key); return m.dueAt <= NOW ? 'forwarded' : 'redelayed'; },
    });
    const delayed = (key: string, dueAt: number) => ({ v: 1 as const, type: 'delayed' as const, dueAt, message: { v: 1 as const, type: 'reconcile' as const, key, dedupId: `r-${key}` } });
    const res = await handler(sqsEvent([sqsRecord('1', delayed('ns/a', NOW - 1), { arn: DELAY_ARN }), sqsRecord('2', delayed('ns/b', NOW + 3_600_000), { arn: DELAY_ARN })]), context);
    expect(ids(res)).toEqual([]);
    expect(forwarded.sort()).toEqual(['ns/a', 'ns/b']);
  });
});
