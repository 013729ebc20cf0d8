/**
 * Admission reviews arrive before the API server stores the object, so their keys get a second
 * look a few seconds after the first reconcile; post-persistence events (watch, audit) do not.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_RECHECK_SECONDS, newBatchState, processRecord, type BatchDeps } from '../../../lib/app/process-batch.js';
import type { ReconcileFn } from '../../../lib/app/ports.js';
import { decodeMessage, encodeMessage, toFanoutMessage, toReconcileMessage } from '../../../lib/app/messages.js';
import { mapEvents } from '../../../lib/events/map-event.js';
import type { ObjectEvent } from '../../../lib/events/types.js';
import { silentLogger, noMetrics } from '../../../lib/observability/ports.js';
import { RecordingQueue, report } from './helpers.js';

function deps(queue: RecordingQueue, reconciled: string[]): BatchDeps {
  const reconcile: ReconcileFn = async (key) => {
    reconciled.push(key);
    return report(key);
  };
  return {
    reconcile, queue, emitEvent: async () => undefined, logger: silentLogger, metrics: noMetrics, now: () => 1_700_000_000_000, maxReceives: 5,
    listDaemonSets: async () => ({ items: [
      { key: 'default/a', namespace: 'default', name: 'a', selector: { matchLabels: { app: 'a' } } },
      { key: 'kube-system/b', namespace: 'kube-system', name: 'b', selector: { matchLabels: { app: 'b' } } },
    ] }),
  };
}

const record = (body: string, messageId = 'm1') => ({ messageId, body, receiveCount: 1 });

describe('the second look after admission events', () => {
  it('marks keys and fan-outs mapped from an admission review, and only those', () => {
    const ds: ObjectEvent = {
      source: 'admission', operation: 'CREATE', kind: 'DaemonSet', group: 'apps', namespace: 'default', name: 'a', identity: 'uid-1/CREATE',
      object: { apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'a', namespace: 'default', uid: 'uid-1' } }, oldObject: null,
    } as unknown as ObjectEvent;
    const admission = mapEvents([ds], { managed: 'native', observedAt: 1, recheck: true });
    const watch = mapEvents([ds], { managed: 'native', observedAt: 1 });
    expect(admission.ok && admission.requests.map((r) => r.recheck)).toEqual([true]);
    expect(watch.ok && watch.requests.map((r) => r.recheck)).toEqual([undefined]);
  });

  it('keeps the mark through the queue message codec', () => {
    const m = decodeMessage(encodeMessage(toReconcileMessage({ key: 'default/a', dedupId: 'd', recheck: true })));
    expect(m).toMatchObject({ type: 'reconcile', key: 'default/a', recheck: true });
    const f = decodeMessage(encodeMessage(toFanoutMessage({ scope: 'all', cause: 'node/n1 update', dedupId: 'f', recheck: true })));
    expect(f).toMatchObject({ type: 'fanout', recheck: true });
    expect(() => decodeMessage(JSON.stringify({ v: 1, type: 'reconcile', key: 'default/a', dedupId: 'd', recheck: false }))).toThrow(/recheck/);
  });

  it('reconciles a marked key at once and asks for one more look after the recheck delay', async () => {
    const queue = new RecordingQueue();
    const reconciled: string[] = [];
    await processRecord(record(encodeMessage(toReconcileMessage({ key: 'default/a', dedupId: 'd1', recheck: true }))), deps(queue, reconciled), newBatchState());
    expect(reconciled).toEqual(['default/a']);
    expect(queue.delayed).toHaveLength(1);
    expect(queue.delayed[0]?.delaySeconds).toBe(DEFAULT_RECHECK_SECONDS);
    expect(queue.delayed[0]?.request.key).toBe('default/a');
    // The second look is a plain reconcile: it does not ask for a third.
    expect(queue.delayed[0]?.request.recheck).toBeUndefined();
  });

  it('asks for no second look after an unmarked key', async () => {
    const queue = new RecordingQueue();
    const reconciled: string[] = [];
    await processRecord(record(encodeMessage(toReconcileMessage({ key: 'default/a', dedupId: 'd1' }))), deps(queue, reconciled), newBatchState());
    expect(reconciled).toEqual(['default/a']);
    expect(queue.delayed).toEqual([]);
  });

  it('gives one recheck per key and second: rechecks of many events share a dedup id', async () => {
    const queue = new RecordingQueue();
    const d = deps(queue, []);
    await processRecord(record(encodeMessage(toReconcileMessage({ key: 'default/a', dedupId: 'd1', recheck: true }))), d, newBatchState());
    await processRecord(record(encodeMessage(toReconcileMessage({ key: 'default/a', dedupId: 'd2', recheck: true })), 'm2'), d, newBatchState());
    expect(queue.delayed.map((x) => x.request.dedupId)).toHaveLength(2);
    expect(new Set(queue.delayed.map((x) => x.request.dedupId)).size).toBe(1);
  });

  it('passes the mark on to every key a marked fan-out expands to', async () => {
    const queue = new RecordingQueue();
    await processRecord(record(encodeMessage(toFanoutMessage({ scope: 'all', cause: 'node/n1 update', dedupId: 'f1', recheck: true }))), deps(queue, []), newBatchState());
    expect(queue.requests.map((r) => [r.key, r.recheck])).toEqual([['default/a', true], ['kube-system/b', true]]);
  });
});
