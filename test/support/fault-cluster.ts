/**
 * A fault layer between the client-node API objects that the real `KubeCluster` calls
 * (memory-clients.ts) and `MemoryApiServer`: what it throws, the adapter sees as it would see the
 * API server's answer or a failed connection. Per call it can:
 * - fail before the server sees the call: 429 TooManyRequests, 500 InternalError, 503
 *   ServiceUnavailable, 504 Timeout, a client-side timeout or a dropped connection (no HTTP code),
 *   or an API server restart (every call refused for a while);
 * - let a write reach the server and lose the response (the caller sees a dropped connection or a
 *   504 although the write happened);
 * - expire a list's continue token (410 Expired: the client ends the list as incomplete);
 * - kill the function: after a session's k-th write reached the server, every later call of that
 *   session fails without reaching it (nothing after the k-th write happens).
 * The list cache of a container (`containerRaw`) reads through the same faults (its probes and
 * lists never die with a pass), its calls take virtual time (`network.callLatencyMs`), and its
 * watches (memory-watch.ts) deliver events late (`network.eventDelayMs`), with or without
 * bookmarks, and per stream may break after a few events (server end, connection reset, ERROR 410,
 * stall), deliver events twice or re-send earlier ones, be refused, or be answered 410 when they
 * start from a version out of the server's window; an API server restart breaks every open watch.
 * Every decision comes from a seeded PRNG, so a run is reproducible from its seed.
 */
import type { WatchHandlers, WatchStream } from '../../lib/adapters/kube/watched-collection.js';
import type { WatchRequest } from '../../lib/adapters/kube/list-cache.js';
import { apiException, expired, MemoryApiServer, WRITE_OPS, type CallInfo, type RawApi, type RawOp } from './memory-api-server.js';
import { connectionError, MICROTASKS, openWatch, type Network, type OpenStream, type StreamFaults } from './memory-watch.js';
import type { VirtualScheduler } from './virtual-time.js';

/** mulberry32: a small, fast, seedable PRNG. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Rates of each fault kind, per call (0 … 1). */
export interface FaultRates {
  /** A call fails before reaching the server (429/500/503/504/timeout/dropped connection). */
  readonly fail: number;
  /** A write reaches the server, its response is lost. */
  readonly lostResponse: number;
  /** A continue request finds its token expired. */
  readonly expireContinue: number;
  /** The API server restarts: this and the next few calls are refused. */
  readonly restart: number;
  /** A session (one reconcile pass) is killed after a random number of writes. */
  readonly die: number;
  /** A watch stream breaks after a few events (ends, connection reset, ERROR 410, or stalls). */
  readonly watchBreak: number;
  /** A watch event is delivered twice, or an earlier one is sent again after it. */
  readonly watchDuplicate: number;
  /** Before a call of a list cache: the API server forgets the changes it kept for watches (a watch from before is 410). */
  readonly compact: number;
}

export const NO_FAULTS: FaultRates = { fail: 0, lostResponse: 0, expireContinue: 0, restart: 0, die: 0, watchBreak: 0, watchDuplicate: 0, compact: 0 };

/** The network between the API server and a container's list cache (not faults: they stay when faults stop). */
export interface NetworkShape {
  /** Each watch event arrives up to this many ms (virtual time) after the change. */
  readonly eventDelayMs: number;
  /** Watches get a bookmark this long after a change of any object (null: no bookmarks). */
  readonly bookmarkMs: number | null;
  /** Each of the cache's requests (watches too) takes up to this many ms to reach the server, and again to come back. */
  readonly callLatencyMs: number;
}

export const INSTANT_NETWORK: NetworkShape = { eventDelayMs: 0, bookmarkMs: null, callLatencyMs: 0 };

/** Thrown to the shell once a session's function is dead (as seen by a client: the connection is gone). */
export class FunctionDied extends Error {
  constructor(readonly session: number) {
    super(`function instance of session ${session} is dead`);
    this.name = 'FunctionDied';
  }
}

/** What the layer did to one session. */
export interface SessionFaults {
  /**
   * A list made through this client was cut short (an injected 410 on a continue token) and not listed
   * again to its end afterwards: the pass planned on a partial read.
   */
  truncated: boolean;
  /** Per list operation: whether its last listing reached the end. */
  lists: Partial<Record<RawOp, boolean>>;
  /** Writes made through this client that reached the server. */
  writesReached: number;
  /** The session dies after this many writes reached the server (null: it lives). */
  dieAfter: number | null;
  dead: boolean;
  /** Faults injected into calls made through this client, by kind. */
  injected: Record<string, number>;
}

export class FaultInjector {
  rates: FaultRates = NO_FAULTS;
  network: NetworkShape = INSTANT_NETWORK;
  /**
   * Sabotage, for the checks' own tests: a container's probes (its lists with limit 1) answer
   * resourceVersion 1, so its list cache never waits for its watch and plans on what it has.
   */
  staleProbes = false;
  readonly sessions = new Map<number, SessionFaults>();
  /** Totals of injected faults by kind over the injector's life. */
  readonly totals: Record<string, number> = {};
  #outage = 0;
  readonly #streams = new Set<OpenStream>();

  /** `scheduler`: the virtual time of containers' calls and watches (without it, watch events come on the microtask queue). */
  constructor(readonly server: MemoryApiServer, readonly random: () => number, readonly scheduler: VirtualScheduler | null = null) {}

  /** The RawApi of one session (pass to `MemoryClusterOptions.rawFor`). */
  rawFor(session: number): RawApi {
    return this.#raw(session, false);
  }

  /** The RawApi of a container's own calls: its list cache's probes, lists and watches (`MemoryClusterOptions.containerRaw`). */
  containerRaw(session: number): RawApi {
    return { ...this.#raw(session, true), watch: (request, handlers) => this.#watch(request, handlers) };
  }

  /** A list a session read reached its end or not (through a container's cache, which reads for many sessions). */
  noteRead(session: number, op: RawOp, complete: boolean): void {
    const state = this.sessions.get(session);
    if (state === undefined) return;
    state.lists[op] = complete;
    state.truncated = Object.values(state.lists).includes(false);
  }

  #note(kind: string): void {
    this.totals[kind] = (this.totals[kind] ?? 0) + 1;
  }

  #raw(session: number, container: boolean): RawApi {
    const state: SessionFaults = { truncated: false, lists: {}, writesReached: 0, dieAfter: null, dead: false, injected: {} };
    if (!container && this.rates.die > 0 && this.random() < this.rates.die) state.dieAfter = Math.floor(this.random() * 6);
    this.sessions.set(session, state);
    // A container's faults (its cache's probes and lists) are counted apart: `cache-503`, ….
    const note = (kind: string): void => {
      state.injected[kind] = (state.injected[kind] ?? 0) + 1;
      this.#note(container ? `cache-${kind}` : kind);
    };
    const latency = async (): Promise<void> => {
      const ms = this.network.callLatencyMs;
      const scheduler = this.scheduler;
      if (!container || ms <= 0 || scheduler === null) return;
      await new Promise<void>((resolve) => scheduler.after(Math.floor(this.random() * (ms + 1)), resolve));
    };
    return {
      call: async <T>(op: RawOp, run: (s: MemoryApiServer) => T, info?: CallInfo): Promise<T> => {
        // Every call crosses an await, as a network call would: concurrent calls interleave.
        await Promise.resolve();
        await latency();
        if (state.dead) throw new FunctionDied(session);
        const write = WRITE_OPS.has(op);
        const r = this.rates;
        if (this.#outage > 0 && r.restart > 0) {
          this.#outage -= 1;
          note('restart');
          throw connectionError('connect ECONNREFUSED 127.0.0.1:6443', 'ECONNREFUSED');
        }
        if (r.restart > 0 && this.random() < r.restart) {
          this.#outage = 1 + Math.floor(this.random() * 4);
          note('restart');
          for (const s of [...this.#streams]) s.kill(connectionError('socket hang up', 'ECONNRESET'));
          throw connectionError('socket hang up', 'ECONNRESET');
        }
        if (r.fail > 0 && this.random() < r.fail) throw this.#failure(note);
        if (container && r.compact > 0 && this.random() < r.compact) {
          this.#note('compact');
          this.server.compact();
        }
        const continued = info?.continued === true;
        if (continued && r.expireContinue > 0 && this.random() < r.expireContinue) {
          note('expired-continue');
          state.lists[op] = false;
          state.truncated = true;
          throw expired();
        }
        const previous = this.server.currentSession;
        this.server.currentSession = session;
        let result: T;
        try {
          result = run(this.server);
        } finally {
          this.server.currentSession = previous;
        }
        if (container && this.staleProbes && info?.limit === 1 && !continued) (result as { metadata: { resourceVersion?: string } }).metadata.resourceVersion = '1';
        if (op.startsWith('list') && !(result as { metadata?: { _continue?: string } }).metadata?._continue) {
          state.lists[op] = true;
          state.truncated = Object.values(state.lists).includes(false);
        }
        if (write) {
          state.writesReached += 1;
          if (state.dieAfter !== null && state.writesReached >= state.dieAfter) {
            state.dead = true;
            note('died');
            throw new FunctionDied(session);
          }
          if (r.lostResponse > 0 && this.random() < r.lostResponse) {
            note('lost-response');
            throw this.random() < 0.5 ? connectionError('read ECONNRESET', 'ECONNRESET') : apiException(504, 'Timeout', 'Timeout: request did not complete within the allotted timeout');
          }
        }
        await latency();
        return result;
      },
    };
  }

  #watch(request: WatchRequest, handlers: WatchHandlers<unknown>): WatchStream {
    const r = this.rates;
    const random = this.random;
    const scheduler = this.scheduler;
    const net: Network = scheduler === null ? MICROTASKS : { now: () => scheduler.now, after: (ms, fn) => scheduler.after(ms, fn) };
    const breaks = r.watchBreak > 0 && random() < r.watchBreak;
    const faults: StreamFaults = {
      delay: () => (this.network.eventDelayMs > 0 ? Math.floor(random() * (this.network.eventDelayMs + 1)) : 0),
      bookmarkMs: this.network.bookmarkMs,
      breakAfter: breaks ? Math.floor(random() * 6) : null,
      breakAs: breaks ? (['end', 'fail', 'gone', 'stall'] as const)[Math.floor(random() * 4)] ?? 'end' : 'end',
      duplicate: () => (r.watchDuplicate > 0 && random() < r.watchDuplicate ? (random() < 0.5 ? 'again' : 'replay') : null),
      goneAs: random() < 0.5 ? 'http' : 'event',
      refuse: (r.restart > 0 && this.#outage > 0) || (r.fail > 0 && random() < r.fail),
      startDelayMs: this.network.callLatencyMs > 0 ? Math.floor(random() * (this.network.callLatencyMs + 1)) : 0,
      random,
      note: (kind) => this.#note(kind),
    };
    const streams = this.#streams;
    const stream: OpenStream = openWatch(this.server, request, {
      event: (e) => handlers.event(e),
      end: (error) => {
        streams.delete(stream);
        handlers.end(error);
      },
    }, net, faults);
    streams.add(stream);
    return {
      stop: () => {
        streams.delete(stream);
        stream.stop();
      },
    };
  }

  #failure(note: (kind: string) => void): Error {
    const k = Math.floor(this.random() * 6);
    switch (k) {
      case 0: note('429'); return apiException(429, 'TooManyRequests', 'Too many requests, please try again later.');
      case 1: note('500'); return apiException(500, 'InternalError', 'Internal error occurred: etcdserver: request timed out');
      case 2: note('503'); return apiException(503, 'ServiceUnavailable', 'The server is currently unable to handle the request');
      case 3: note('504'); return apiException(504, 'Timeout', 'Timeout: request did not complete within the allotted timeout');
      case 4: note('timeout'); return connectionError('Headers Timeout Error', 'UND_ERR_HEADERS_TIMEOUT');
      default: note('dropped'); return connectionError('socket hang up', 'ECONNRESET');
    }
  }
}

/** One call as a fault script sees it (indexes count from 0 within the session). */
export interface ScriptedCall {
  readonly op: RawOp;
  readonly continued: boolean;
  readonly index: number;
  /** Index among the session's writes (−1 for reads). */
  readonly writeIndex: number;
}

/**
 * What happens to a call: `pass`; `fail` (503 before the server sees it); `expire` (410 on a
 * continue request); `lose` (the write happens, the response is lost); `die` (the write happens,
 * then the function is dead: this and every later call of the session fail).
 */
export type ScriptedFault = 'pass' | 'fail' | 'expire' | 'lose' | 'die';

/** A RawApi with deterministic faults, for named regression cases. */
export function scriptedApi(server: MemoryApiServer, session: number, script: (call: ScriptedCall) => ScriptedFault): RawApi {
  let index = 0;
  let writeIndex = 0;
  let dead = false;
  return {
    call: async <T>(op: RawOp, run: (s: MemoryApiServer) => T, info?: CallInfo): Promise<T> => {
      await Promise.resolve();
      if (dead) throw new FunctionDied(session);
      const write = WRITE_OPS.has(op);
      const fault = script({ op, continued: info?.continued === true, index: index++, writeIndex: write ? writeIndex++ : -1 });
      if (fault === 'fail') throw apiException(503, 'ServiceUnavailable', 'The server is currently unable to handle the request');
      if (fault === 'expire' && info?.continued === true) throw expired();
      const previous = server.currentSession;
      server.currentSession = session;
      let result: T;
      try {
        result = run(server);
      } finally {
        server.currentSession = previous;
      }
      if (write && fault === 'die') {
        dead = true;
        throw new FunctionDied(session);
      }
      if (write && fault === 'lose') throw connectionError('read ECONNRESET', 'ECONNRESET');
      return result;
    },
  };
}
