import { describe, expect, it } from 'vitest';
import { createHandler, scheduledAt } from '../../../lambdas/resync.js';
import type { ListDaemonSets } from '../../../lib/app/queue.js';
import { RecordingLogger, RecordingMetrics } from '../../../lib/observability/recording.js';
import { RecordingQueue } from '../app/helpers.js';
import { context, quietObservability } from './support.js';

const summaries = (ns: string, n: number, from = 0) =>
  Array.from({ length: n }, (_, i) => ({ key: `${ns}/ds-${from + i}`, namespace: ns, name: `ds-${from + i}`, selector: null }));

describe('resync handler', () => {
  it('pages through every DaemonSet and enqueues each key with a per-tick dedup id', async () => {
    const queue = new RecordingQueue();
    const seen: (string | undefined)[] = [];
    const listDaemonSets: ListDaemonSets = async ({ continueToken }) => {
      seen.push(continueToken);
      if (continueToken === undefined) return { items: summaries('a', 3), continueToken: 't1' };
      if (continueToken === 't1') return { items: summaries('b', 2), continueToken: 't2' };
      return { items: summaries('c', 1) };
    };
    const handler = createHandler({ resync: { listDaemonSets, queue, logger: new RecordingLogger(), metrics: new RecordingMetrics() } }, quietObservability());

    const first = await handler({ scheduledTime: '2026-11-28T12:00:00Z' }, context);
    expect(first).toEqual({ keys: 6, pages: 3 });
    expect(seen).toEqual([undefined, 't1', 't2']);
    expect(queue.requests.map((r) => r.key)).toEqual(['a/ds-0', 'a/ds-1', 'a/ds-2', 'b/ds-0', 'b/ds-1', 'c/ds-0']);
    expect(queue.requests.every((r) => r.observedAt === Date.parse('2026-11-28T12:00:00Z'))).toBe(true);

    await handler({ scheduledTime: '2026-11-28T12:00:00Z' }, context);
    await handler({ scheduledTime: '2026-11-28T12:05:00Z' }, context);
    const ids = queue.requests.map((r) => r.dedupId);
    expect(ids.slice(6, 12)).toEqual(ids.slice(0, 6));
    expect(new Set([...ids.slice(0, 6), ...ids.slice(12)]).size).toBe(12);
  });

  it('fails (and is retried by the scheduler) when a page token repeats', async () => {
    const queue = new RecordingQueue();
    const listDaemonSets: ListDaemonSets = async () => ({ items: summaries('a', 1), continueToken: 'same' });
    const handler = createHandler({ resync: { listDaemonSets, queue, logger: new RecordingLogger(), metrics: new RecordingMetrics() } }, quietObservability());
    await expect(handler({ time: '2026-11-28T12:00:00Z' }, context)).rejects.toThrow('same continue token');
  });

  it('takes the tick from scheduledTime or time, else the clock', () => {
    expect(scheduledAt({ scheduledTime: '2026-11-28T12:00:00Z' })).toBe(Date.UTC(2026, 10, 28, 12));
    expect(scheduledAt({ time: '2026-11-28T12:05:00Z' })).toBe(Date.UTC(2026, 10, 28, 12, 5));
    expect(scheduledAt({}, () => 42)).toBe(42);
  });
});
