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
 * Every decision comes from a seeded PRNG, so a run is reproducible from its seed.
 */
import { apiException, expired, MemoryApiServer, WRITE_OPS, type CallInfo, type RawApi, type RawOp } from './memory-api-server.js';

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
}

export const NO_FAULTS: FaultRates = { fail: 0, lostResponse: 0, expireContinue: 0, restart: 0, die: 0 };

/** Thrown to the shell once a session's function is dead (as seen by a client: the connection is gone). */
export class FunctionDied extends Error {
  constructor(readonly session: number) {
    super(`function instance of session ${session} is dead`);
    this.name = 'FunctionDied';
  }
}

/**
 * A connection-level failure as client-node surfaces it: undici's fetch rejects with a TypeError
 * "fetch failed" whose cause carries the socket error code; there is no HTTP status.
 */
function connectionError(message: string, errno: string): Error {
  return new TypeError('fetch failed', { cause: Object.assign(new Error(message), { code: errno }) });
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
  readonly sessions = new Map<number, SessionFaults>();
  /** Totals of injected faults by kind over the injector's life. */
  readonly totals: Record<string, number> = {};
  #outage = 0;

  constructor(readonly server: MemoryApiServer, readonly random: () => number) {}

  /** The RawApi of one session (pass to `MemoryClusterOptions.rawFor`). */
  rawFor(session: number): RawApi {
    const state: SessionFaults = { truncated: false, lists: {}, writesReached: 0, dieAfter: null, dead: false, injected: {} };
    if (this.rates.die > 0 && this.random() < this.rates.die) state.dieAfter = Math.floor(this.random() * 6);
    this.sessions.set(session, state);
    const note = (kind: string): void => {
      state.injected[kind] = (state.injected[kind] ?? 0) + 1;
      this.totals[kind] = (this.totals[kind] ?? 0) + 1;
    };
    return {
      call: async <T>(op: RawOp, run: (s: MemoryApiServer) => T, info?: CallInfo): Promise<T> => {
        // Every call crosses an await, as a network call would: concurrent calls interleave.
        await Promise.resolve();
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
          throw connectionError('socket hang up', 'ECONNRESET');
        }
        if (r.fail > 0 && this.random() < r.fail) throw this.#failure(note);
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
        return result;
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
