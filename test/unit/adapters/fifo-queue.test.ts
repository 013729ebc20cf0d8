import { describe, expect, it } from 'vitest';
import { MemoryFifoQueue } from '../../../lib/adapters/memory/fifo-queue.js';
import { createMemoryWorkQueue } from '../../../lib/adapters/memory/memory-work-queue.js';

function make(o: { maxReceives?: number; visibilityTimeoutMs?: number } = {}) {
  const clock = { t: 1_000_000, now() { return this.t; } };
  const q = new MemoryFifoQueue({ clock, visibilityTimeoutMs: o.visibilityTimeoutMs ?? 30_000, maxReceives: o.maxReceives ?? 3 });
  return { q, clock };
}
const send = (q: MemoryFifoQueue, groupId: string, body: string, dedupId = `${groupId}:${body}`, delayMs?: number) =>
  q.send([{ groupId, body, dedupId, ...(delayMs === undefined ? {} : { delayMs }) }])[0]!;

describe('MemoryFifoQueue', () => {
  it('delivers a group in order, one in flight at a time, while other groups proceed', () => {
    const { q } = make();
    send(q, 'a', 'a1'); send(q, 'b', 'b1'); send(q, 'a', 'a2');
    const first = q.tryReceive(10, { maxPerGroup: 1 });
    expect(first.map((d) => d.body)).toEqual(['a1', 'b1']);
    expect(q.tryReceive(10, { maxPerGroup: 1 })).toEqual([]);
    q.delete(first[0]!.receipt);
    expect(q.tryReceive(10, { maxPerGroup: 1 }).map((d) => d.body)).toEqual(['a2']);
  });

  it('returns consecutive messages of one group in a batch like SQS', () => {
    const { q } = make();
    send(q, 'a', 'a1'); send(q, 'a', 'a2'); send(q, 'b', 'b1');
    expect(q.tryReceive(10).map((d) => d.body)).toEqual(['a1', 'a2', 'b1']);
  });

  it('redelivers after the visibility timeout (at-least-once) and rejects stale receipts', () => {
    const { q, clock } = make();
    send(q, 'a', 'a1');
    const [d1] = q.tryReceive(1);
    clock.t += 30_000;
    const [d2] = q.tryReceive(1);
    expect(d2).toMatchObject({ body: 'a1', receiveCount: 2 });
    expect(q.delete(d1!.receipt)).toBe(false);
    expect(q.delete(d2!.receipt)).toBe(true);
    expect(q.depth()).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
  });

  it('drops duplicates within the 5-minute window, even after the first was deleted', () => {
    const { q, clock } = make();
    expect(send(q, 'a', 'x', 'same').duplicate).toBe(false);
    const [d] = q.tryReceive(1);
    q.delete(d!.receipt);
    clock.t += 4 * 60_000;
    expect(send(q, 'a', 'x', 'same').duplicate).toBe(true);
    expect(q.tryReceive(1)).toEqual([]);
    clock.t += 60_000;
    expect(send(q, 'a', 'x', 'same').duplicate).toBe(false);
    expect(q.tryReceive(1)).toHaveLength(1);
  });

  it('moves a message to the DLQ instead of a receive beyond maxReceives, unblocking its group', () => {
    const { q } = make({ maxReceives: 2 });
    send(q, 'a', 'poison'); send(q, 'a', 'next');
    for (let i = 0; i < 2; i += 1) {
      const [d] = q.tryReceive(1, { maxPerGroup: 1 });
      expect(d!.body).toBe('poison');
      q.changeVisibility(d!.receipt, 0);
    }
    expect(q.tryReceive(1, { maxPerGroup: 1 }).map((d) => d.body)).toEqual(['next']);
    expect(q.deadLetters).toEqual([{ messageId: expect.any(String), groupId: 'a', body: 'poison', receiveCount: 2 }]);
  });

  it('delivers delayed messages when due, behind what their group already holds', () => {
    const { q, clock } = make();
    send(q, 'a', 'later', 'd1', 10_000);
    expect(q.tryReceive(10)).toEqual([]);
    expect(q.depth().delayed).toBe(1);
    send(q, 'a', 'now');
    clock.t += 10_000;
    expect(q.tryReceive(10).map((d) => d.body)).toEqual(['now', 'later']);
  });

  it('wakes a waiting receive when a message arrives, and close() ends waits', async () => {
    const q = new MemoryFifoQueue();
    const waiting = q.receive(1, { waitMs: 5_000 });
    setTimeout(() => send(q, 'g', 'hello'), 5);
    expect((await waiting).map((d) => d.body)).toEqual(['hello']);
    const idle = q.receive(1, { waitMs: 5_000 });
    q.close();
    expect(await idle).toEqual([]);
    expect(() => send(q, 'g', 'x')).toThrow('closed');
  });

  it('changeVisibility(0) makes a failed message available again at once', () => {
    const { q } = make();
    send(q, 'a', 'a1');
    const [d] = q.tryReceive(1);
    expect(q.changeVisibility(d!.receipt, 0)).toBe(true);
    expect(q.tryReceive(1)[0]).toMatchObject({ body: 'a1', receiveCount: 2 });
  });
});

describe('MemoryFifoQueue coalescing', () => {
  const c = (q: MemoryFifoQueue, groupId: string, body: string, coalesceKey: string) =>
    q.send([{ groupId, body, dedupId: `${groupId}:${body}`, coalesceKey }])[0]!;

  it('drops an entry whose coalesce key is already waiting in its group, and keeps other keys', () => {
    const { q } = make();
    expect(c(q, 'a', 'a1', 'k').duplicate).toBe(false);
    expect(c(q, 'a', 'a2', 'k').duplicate).toBe(true);
    expect(c(q, 'a', 'a3', 'other').duplicate).toBe(false);
    expect(c(q, 'b', 'b1', 'k').duplicate).toBe(false);
    expect(q.tryReceive(10).map((d) => d.body)).toEqual(['a1', 'a3', 'b1']);
  });

  it('keeps a new entry when the one with its key is already in flight (its reconcile may have read too early)', () => {
    const { q } = make();
    c(q, 'a', 'a1', 'k');
    const [first] = q.tryReceive(1);
    expect(c(q, 'a', 'a2', 'k').duplicate).toBe(false);
    q.delete(first!.receipt);
    expect(q.tryReceive(10).map((d) => d.body)).toEqual(['a2']);
  });
});

describe('createMemoryWorkQueue()', () => {
  it('turns a burst of reconciles of one key into one waiting message; a second look stays separate', async () => {
    const { q } = make();
    const queue = createMemoryWorkQueue(q);
    await queue.enqueue(Array.from({ length: 50 }, (_, i) => ({ key: 'default/a', dedupId: `e${i}` })));
    await queue.enqueue([{ key: 'default/a', dedupId: 'r1', recheck: true }, { key: 'default/a', dedupId: 'r2', recheck: true }]);
    await queue.enqueue([{ key: 'default/b', dedupId: 'b1' }]);
    expect(q.depth().visible).toBe(3);
  });
});
