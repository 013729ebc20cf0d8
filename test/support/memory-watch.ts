/**
 * Watch streams of the in-memory API server as a client receives them: asynchronously and in
 * order, over a network that the fault layer (fault-cluster.ts) may make slow or break. A stream
 * can deliver its events late, break after some events (the server closes it, the connection is
 * reset, an ERROR 410 as the API server sends to a watcher it dropped, or it stalls: nothing more
 * and no end), deliver an event twice or re-send an earlier one, and answer a watch from a
 * version out of the server's window with an HTTP 410 or with an ERROR event. Nothing is delivered
 * on a stream after it broke or after the client stopped it. Events travel as the API server's
 * watch lines and are read back with the adapter's own decodeWatchLine, so cached objects carry
 * what a real watch carries (timestamps as RFC 3339 strings, where a LIST through client-node
 * gives Dates).
 */
import { decodeWatchLine, type WatchRequest } from '../../lib/adapters/kube/list-cache.js';
import type { WatchEvent, WatchHandlers, WatchStream } from '../../lib/adapters/kube/watched-collection.js';
import type { MemoryApiServer, WatchSubscription } from './memory-api-server.js';

/** Where stream events travel: virtual time (see virtual-time.ts) or the microtask queue. */
export interface Network {
  now(): number;
  /** Runs `fn` after `ms`; tasks due at the same time run in the order they were scheduled. Returns a cancel. */
  after(ms: number, fn: () => void): () => void;
}

/** Events as soon as the current promise chains have moved (no delays, no time). */
export const MICROTASKS: Network = {
  now: () => 0,
  after: (_ms, fn) => {
    let cancelled = false;
    queueMicrotask(() => {
      if (!cancelled) fn();
    });
    return () => {
      cancelled = true;
    };
  },
};

/** What happens to one stream. */
export interface StreamFaults {
  /** Delay of each event on its way, in ms (drawn per event; the stream keeps its order). */
  readonly delay: () => number;
  /** Bookmarks: one with the server's version this long after a change of any object (null: none). */
  readonly bookmarkMs: number | null;
  /** After this many events the stream breaks (null: it does not). */
  readonly breakAfter: number | null;
  /** How: the server ends it, the connection is reset, an ERROR 410 then the end, or it stalls (nothing more, no end). */
  readonly breakAs: 'end' | 'fail' | 'gone' | 'stall';
  /** After an event: deliver it again at once, send an earlier event again later, or nothing. */
  readonly duplicate: () => 'again' | 'replay' | null;
  /** A 410 at the start answered as the watch request's HTTP status or as an ERROR event in the stream. */
  readonly goneAs: 'http' | 'event';
  /** The watch request fails (connection refused). */
  readonly refuse: boolean;
  /** How long the watch request takes to reach the server (changes meanwhile may push its version out of the window). */
  readonly startDelayMs: number;
  readonly random: () => number;
  /** Told each fault as it happens (for counts). */
  readonly note?: (kind: string) => void;
}

export const CLEAN_STREAM: StreamFaults = {
  delay: () => 0, bookmarkMs: null, breakAfter: null, breakAs: 'end', duplicate: () => null, goneAs: 'event', refuse: false, startDelayMs: 0, random: () => 0,
};

/** A stream the fault layer can break from outside (an API server restart). */
export interface OpenStream extends WatchStream {
  kill(error: unknown): void;
}

/** A connection-level failure as the transport surfaces it (no HTTP status). */
export function connectionError(message: string, errno: string): Error {
  return new TypeError('fetch failed', { cause: Object.assign(new Error(message), { code: errno }) });
}

const statusCode = (e: unknown): number | undefined => (typeof (e as { code?: unknown } | null)?.code === 'number' ? (e as { code: number }).code : undefined);
const statusMessage = (e: unknown): string => {
  try {
    return (JSON.parse(String((e as { body?: unknown }).body)) as { message?: string }).message ?? String(e);
  } catch {
    return String(e);
  }
};

/** An event as the API server writes it on a watch stream (one JSON line). */
export function watchLine(e: WatchEvent<unknown>): string {
  switch (e.type) {
    case 'BOOKMARK':
      return JSON.stringify({ type: 'BOOKMARK', object: { metadata: { resourceVersion: e.resourceVersion } } });
    case 'ERROR':
      return JSON.stringify({ type: 'ERROR', object: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: e.message, reason: e.code === 410 ? 'Expired' : 'InternalError', code: e.code } });
    default:
      return JSON.stringify({ type: e.type, object: e.object });
  }
}

/** An event through the wire: written as a watch line, read back as the adapter reads it. */
const overTheWire = (e: WatchEvent<unknown>): WatchEvent<unknown> => decodeWatchLine(watchLine(e));

/** Opens a watch on `server` whose events reach `handlers` over `net`, with `faults`. */
export function openWatch(server: MemoryApiServer, request: WatchRequest, handlers: WatchHandlers<unknown>, net: Network, faults: StreamFaults = CLEAN_STREAM): OpenStream {
  /** Stopped by the client or ended: nothing more reaches the handlers. */
  let done = false;
  /** Broken: events still on their way are lost. */
  let broken = false;
  let delivered = 0;
  let lastDue = net.now();
  let bookmarkPending = false;
  let subscription: WatchSubscription | null = null;
  const timers = new Set<() => void>();
  const sent: WatchEvent<unknown>[] = [];
  const note = (kind: string): void => faults.note?.(kind);

  const later = (ms: number, fn: () => void): void => {
    const cancel = net.after(ms, () => {
      timers.delete(cancel);
      if (!done) fn();
    });
    timers.add(cancel);
  };
  const close = (): void => {
    done = true;
    for (const cancel of timers) cancel();
    timers.clear();
    subscription?.stop();
    subscription = null;
  };
  const finish = (error?: unknown): void => {
    if (done) return;
    close();
    handlers.end(error);
  };
  const breakNow = (): void => {
    broken = true;
    subscription?.stop();
    subscription = null;
    switch (faults.breakAs) {
      case 'end':
        note('watch-end');
        finish();
        return;
      case 'fail':
        note('watch-fail');
        finish(connectionError('read ECONNRESET', 'ECONNRESET'));
        return;
      case 'gone':
        note('watch-gone');
        handlers.event(overTheWire({ type: 'ERROR', code: 410, message: 'The resourceVersion for the provided watch is too old.' }));
        finish();
        return;
      case 'stall':
        note('watch-stall');
        return;
    }
  };
  const deliver = (e: WatchEvent<unknown>): void => {
    if (broken) return;
    if (faults.breakAfter !== null && delivered >= faults.breakAfter) {
      breakNow();
      return;
    }
    delivered += 1;
    handlers.event(overTheWire(e));
    if (done || e.type === 'BOOKMARK') return;
    sent.push(e);
    const dup = faults.duplicate();
    if (dup === 'again') {
      note('watch-duplicate');
      handlers.event(overTheWire(e));
    } else if (dup === 'replay') {
      note('watch-replay');
      push(sent[Math.floor(faults.random() * sent.length)] as WatchEvent<unknown>);
    }
  };
  function push(e: WatchEvent<unknown>): void {
    const due = Math.max(lastDue, net.now() + Math.max(0, faults.delay()));
    lastDue = due;
    later(due - net.now(), () => deliver(e));
  }
  const progress = (): void => {
    if (bookmarkPending || broken || faults.bookmarkMs === null) return;
    bookmarkPending = true;
    later(faults.bookmarkMs, () => {
      bookmarkPending = false;
      // Every change up to this version that the watch sees is already on its way ahead of it.
      push({ type: 'BOOKMARK', resourceVersion: server.resourceVersion });
    });
  };

  const stream: OpenStream = {
    stop: close,
    kill: (error) => {
      if (done || broken) return;
      broken = true;
      subscription?.stop();
      subscription = null;
      later(0, () => finish(error));
    },
  };
  const start = (): void => {
    if (broken) return;
    try {
      subscription = server.watch(request, push, progress);
    } catch (e) {
      // The answer to the watch request itself: an error status, or (410) an ERROR event in a stream that then ends.
      if (statusCode(e) === 410) note('watch-410-start');
      if (statusCode(e) === 410 && faults.goneAs === 'event') {
        later(0, () => {
          handlers.event(overTheWire({ type: 'ERROR', code: 410, message: statusMessage(e) }));
          finish();
        });
      } else {
        later(0, () => finish(e));
      }
      return;
    }
    for (const e of subscription.backlog) push(e);
  };
  if (faults.refuse) {
    note('watch-refused');
    later(0, () => finish(connectionError('connect ECONNREFUSED 127.0.0.1:6443', 'ECONNREFUSED')));
  } else if (faults.startDelayMs > 0) {
    later(faults.startDelayMs, start);
  } else {
    start();
  }
  return stream;
}
