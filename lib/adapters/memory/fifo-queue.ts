/**
 * An in-process queue with SQS FIFO semantics, for the local runner and tests:
 * - message groups: within a group, messages are delivered in send order, and nothing behind an
 *   in-flight message is delivered until it is deleted or becomes visible again;
 * - at-least-once delivery with a visibility timeout (an unacknowledged message comes back);
 * - deduplication: a MessageDeduplicationId seen in the last 5 minutes is accepted but not
 *   delivered, even after the first message was deleted;
 * - a dead-letter list: a receive that would exceed `maxReceives` moves the message there instead;
 * - delayed delivery (the delay-queue path of `enqueueAfter`): a delayed message joins its group
 *   (and is checked for duplicates) when it becomes due, like the forwarder of the delay queue;
 * - coalescing, beyond SQS: an entry with a `coalesceKey` is dropped when its group already holds a
 *   message with the same key that nobody has received yet (the waiting one will do the same work
 *   later, which is what a level-triggered key needs; like client-go's work queue).
 * The clock is injectable; waits use real timers.
 */
import type { Delivery, QueueConsumer } from '../../app/queue.js';

export interface Clock {
  now(): number;
}

export interface FifoQueueOptions {
  readonly clock?: Clock;
  readonly visibilityTimeoutMs?: number;
  /** Receives after which the next receive moves the message to the DLQ (SQS maxReceiveCount). */
  readonly maxReceives?: number;
  readonly dedupWindowMs?: number;
}

export interface SendEntry {
  readonly groupId: string;
  readonly dedupId: string;
  readonly body: string;
  /** Deliver no earlier than this many ms from now. */
  readonly delayMs?: number;
  /** Drop this entry if a not-yet-received message of its group has the same coalesce key. */
  readonly coalesceKey?: string;
}

export interface DeadLetter {
  readonly messageId: string;
  readonly groupId: string;
  readonly body: string;
  readonly receiveCount: number;
}

interface Message {
  readonly messageId: string;
  readonly groupId: string;
  readonly dedupId: string;
  readonly body: string;
  receiveCount: number;
  receipt: string | null;
  invisibleUntil: number;
  readonly coalesceKey?: string;
}

export const DEDUP_WINDOW_MS = 5 * 60 * 1000;

export class MemoryFifoQueue {
  readonly #clock: Clock;
  readonly #visibilityTimeoutMs: number;
  readonly #maxReceives: number;
  readonly #dedupWindowMs: number;
  /** Groups in creation order; each holds its messages in send order. */
  readonly #groups = new Map<string, Message[]>();
  readonly #delayed: { entry: SendEntry; dueAt: number; messageId: string }[] = [];
  readonly #dedup = new Map<string, number>();
  readonly #byReceipt = new Map<string, Message>();
  readonly #dlq: DeadLetter[] = [];
  #waiters = new Set<() => void>();
  #seq = 0;
  #closed = false;

  constructor(options: FifoQueueOptions = {}) {
    this.#clock = options.clock ?? { now: () => Date.now() };
    this.#visibilityTimeoutMs = options.visibilityTimeoutMs ?? 30_000;
    this.#maxReceives = options.maxReceives ?? 5;
    this.#dedupWindowMs = options.dedupWindowMs ?? DEDUP_WINDOW_MS;
  }

  /** Sends messages; returns, per entry, its message id and whether it was dropped as a duplicate. */
  send(entries: readonly SendEntry[]): { messageId: string; duplicate: boolean }[] {
    if (this.#closed) throw new Error('queue is closed');
    const now = this.#clock.now();
    this.#promote(now);
    const out = entries.map((entry) => {
      const messageId = this.#nextId('m');
      if ((entry.delayMs ?? 0) > 0) {
        this.#delayed.push({ entry, dueAt: now + (entry.delayMs ?? 0), messageId });
        return { messageId, duplicate: false };
      }
      return { messageId, duplicate: !this.#append(entry, messageId, now) };
    });
    this.#wake();
    return out;
  }

  /** Receives without waiting. */
  tryReceive(max: number, options: { visibilityTimeoutMs?: number; maxPerGroup?: number } = {}): Delivery[] {
    const now = this.#clock.now();
    this.#promote(now);
    const vt = options.visibilityTimeoutMs ?? this.#visibilityTimeoutMs;
    const perGroup = options.maxPerGroup ?? 10;
    const heads = [...this.#groups.entries()]
      .filter(([, msgs]) => msgs.length > 0 && !this.#inFlight(msgs, now))
      .sort(([, a], [, b]) => a[0]!.messageId.localeCompare(b[0]!.messageId));
    const out: Delivery[] = [];
    for (const [groupId, msgs] of heads) {
      let taken = 0;
      while (out.length < max && taken < perGroup && msgs.length > 0) {
        const m = msgs[taken];
        if (m === undefined) break;
        if (m.receiveCount >= this.#maxReceives) {
          msgs.splice(taken, 1);
          if (m.receipt !== null) this.#byReceipt.delete(m.receipt);
          this.#dlq.push({ messageId: m.messageId, groupId, body: m.body, receiveCount: m.receiveCount });
          continue;
        }
        m.receiveCount += 1;
        if (m.receipt !== null) this.#byReceipt.delete(m.receipt);
        m.receipt = this.#nextId('r');
        m.invisibleUntil = now + vt;
        this.#byReceipt.set(m.receipt, m);
        out.push({ messageId: m.messageId, receipt: m.receipt, body: m.body, groupId, receiveCount: m.receiveCount });
        taken += 1;
      }
      if (msgs.length === 0) this.#groups.delete(groupId);
      if (out.length >= max) break;
    }
    return out;
  }

  /** Receives, waiting up to `waitMs` for at least one message (long polling). */
  async receive(max: number, options: { waitMs?: number; signal?: AbortSignal; visibilityTimeoutMs?: number; maxPerGroup?: number } = {}): Promise<Delivery[]> {
    const deadline = Date.now() + (options.waitMs ?? 0);
    for (;;) {
      const got = this.tryReceive(max, options);
      const remaining = deadline - Date.now();
      if (got.length > 0 || remaining <= 0 || this.#closed || options.signal?.aborted === true) return got;
      const next = this.#nextChange();
      await this.#wait(Math.max(1, Math.min(remaining, next === null ? remaining : next - this.#clock.now())), options.signal);
    }
  }

  /** Deletes the message received with `receipt`; false when the receipt is stale or unknown. */
  delete(receipt: string): boolean {
    const m = this.#byReceipt.get(receipt);
    if (m === undefined) return false;
    this.#byReceipt.delete(receipt);
    const msgs = this.#groups.get(m.groupId);
    const index = msgs?.indexOf(m) ?? -1;
    if (msgs !== undefined && index >= 0) {
      msgs.splice(index, 1);
      if (msgs.length === 0) this.#groups.delete(m.groupId);
    }
    this.#wake();
    return true;
  }

  /** Makes an in-flight message visible again after `timeoutMs` (0 = now). */
  changeVisibility(receipt: string, timeoutMs: number): boolean {
    const m = this.#byReceipt.get(receipt);
    if (m === undefined) return false;
    m.invisibleUntil = this.#clock.now() + timeoutMs;
    this.#wake();
    return true;
  }

  /** Messages moved to the dead-letter list, oldest first. */
  get deadLetters(): readonly DeadLetter[] {
    return this.#dlq;
  }

  /** Counts of visible, in-flight and delayed messages. */
  depth(): { visible: number; inFlight: number; delayed: number } {
    const now = this.#clock.now();
    this.#promote(now);
    let visible = 0;
    let inFlight = 0;
    for (const msgs of this.#groups.values()) {
      for (const m of msgs) {
        if (m.invisibleUntil > now) inFlight += 1;
        else visible += 1;
      }
    }
    return { visible, inFlight, delayed: this.#delayed.length };
  }

  /** Wakes every waiting receive; later sends fail. */
  close(): void {
    this.#closed = true;
    this.#wake();
  }

  /** The consumer view used by the local runner's workers. */
  consumer(options: { visibilityTimeoutMs?: number } = {}): QueueConsumer {
    return {
      receive: async (max, waitMs, signal) => this.receive(max, { waitMs, ...(signal === undefined ? {} : { signal }), ...options }),
      ack: async (d) => { this.delete(d.receipt); },
      retryLater: async (d, delayMs) => { this.changeVisibility(d.receipt, delayMs); },
    };
  }

  #nextId(prefix: string): string {
    this.#seq += 1;
    return `${prefix}${this.#seq.toString().padStart(12, '0')}`;
  }

  #append(entry: SendEntry, messageId: string, now: number): boolean {
    for (const [id, expires] of this.#dedup) if (expires <= now) this.#dedup.delete(id);
    if (this.#dedup.has(entry.dedupId)) return false;
    this.#dedup.set(entry.dedupId, now + this.#dedupWindowMs);
    const msgs = this.#groups.get(entry.groupId) ?? [];
    if (entry.coalesceKey !== undefined && msgs.some((m) => m.receipt === null && m.coalesceKey === entry.coalesceKey)) return false;
    msgs.push({
      messageId, groupId: entry.groupId, dedupId: entry.dedupId, body: entry.body, receiveCount: 0, receipt: null, invisibleUntil: 0,
      ...(entry.coalesceKey === undefined ? {} : { coalesceKey: entry.coalesceKey }),
    });
    this.#groups.set(entry.groupId, msgs);
    return true;
  }

  #promote(now: number): void {
    if (this.#delayed.length === 0) return;
    const due = this.#delayed.filter((d) => d.dueAt <= now).sort((a, b) => a.dueAt - b.dueAt);
    if (due.length === 0) return;
    for (const d of due) {
      this.#delayed.splice(this.#delayed.indexOf(d), 1);
      this.#append(d.entry, d.messageId, now);
    }
  }

  #inFlight(msgs: readonly Message[], now: number): boolean {
    return msgs.some((m) => m.receipt !== null && m.invisibleUntil > now);
  }

  /** The next time something becomes visible or due, or null. */
  #nextChange(): number | null {
    const now = this.#clock.now();
    let next: number | null = null;
    for (const d of this.#delayed) next = next === null ? d.dueAt : Math.min(next, d.dueAt);
    for (const msgs of this.#groups.values()) {
      for (const m of msgs) if (m.invisibleUntil > now) next = next === null ? m.invisibleUntil : Math.min(next, m.invisibleUntil);
    }
    return next;
  }

  #wait(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.#waiters.delete(done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#waiters.add(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = new Set();
    for (const w of waiters) w();
  }
}
