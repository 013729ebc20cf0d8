/**
 * IMPL-10: a collection (every node; the pods of one DaemonSet) kept in a warm container between
 * passes, and handed to a pass only when it provably holds state at least as new as a consistent
 * read made after the pass asked for it — the same guarantee as listing it again.
 *
 * - First read (or after the cache was dropped): a consistent, paged LIST. Its resourceVersion L
 *   starts a watch from L (with bookmarks); the watch's events keep the cache up to date.
 * - Every later read: a consistent LIST with `limit=1` (one object, served from the API server's
 *   watch cache) gives the current resourceVersion R, at or after every write that completed before
 *   the read. Watch events arrive in resourceVersion order, so once the cache's version (the list's,
 *   then the last event's or bookmark's) is at or past R, every change up to R is in the cache. The
 *   read waits for that; a collection that did not change sends nothing to prove it, so the wait is
 *   bounded by a quarter of the time the last full LIST took (WAIT_SHARE, within WAIT_MIN_MS..
 *   WAIT_MAX_MS) and then the read lists the whole collection instead: at worst about 1.25 times the
 *   time of a LIST, usually one small request (a changing collection, as during a rollout, sends
 *   events every few milliseconds).
 *   After a wait that ran out, reads list at once (no probe, no wait) for a while (5 s, doubling while
 *   waits keep running out, up to 60 s) or until the watch brought 20 changes: a quiet collection
 *   costs what it cost without the cache, plus one probe now and then. A LIST that reaches a waiting read's
 *   version ends its wait too; the watch open goes on from its own place (what it sends up to the
 *   LIST's version is already in the cache).
 * - A watch that ends or fails is started again from the cache's version (as a reflector does: the
 *   API server sends every change after it), up to MAX_RESUMES times without a change in between.
 *   (The API server closes a watcher that does not read fast enough, as a process busy planning
 *   for thousands of nodes may not.) An ERROR event or 410 Gone (the version fell out of the API
 *   server's window), a version that is not a decimal number (resourceVersions are opaque to
 *   clients; every API server backed by etcd uses its revision) or a cache older than MAX_AGE_MS:
 *   the cache is dropped and the next read lists.
 * - Concurrent reads share a LIST only when it was sent after they began.
 *
 * Objects handed out are the cached ones: callers must not change them (the planner does not).
 */

/** A consistent list with the resourceVersion of its snapshot. */
export interface VersionedList<T> {
  readonly items: readonly T[];
  readonly resourceVersion: string | undefined;
  /** False when the list was cut short (an expired continue token): never cached. */
  readonly complete: boolean;
}

export type WatchEvent<T> =
  | { readonly type: 'ADDED' | 'MODIFIED' | 'DELETED'; readonly object: T }
  | { readonly type: 'BOOKMARK'; readonly resourceVersion: string | undefined }
  | { readonly type: 'ERROR'; readonly code: number; readonly message: string };

export interface WatchHandlers<T> {
  event(e: WatchEvent<T>): void;
  /** The stream ended: `error` when it failed (an HTTP 410 answer included), none when the server closed it. */
  end(error?: unknown): void;
}

export interface WatchStream {
  stop(): void;
}

/** Where a collection comes from: the API calls the cache makes. */
export interface CollectionSource<T> {
  /** A consistent full LIST. */
  list(): Promise<VersionedList<T>>;
  /** The resourceVersion of a consistent LIST with limit=1. */
  probe(): Promise<string | undefined>;
  /** A watch of the collection from `fromVersion`, with bookmarks. */
  watch(fromVersion: string, handlers: WatchHandlers<T>): WatchStream;
}

export interface CollectionRead<T> {
  readonly items: T[];
  readonly complete: boolean;
  /** `cache`: one probe; `list`: a full LIST. */
  readonly source: 'cache' | 'list';
  /** Whether the read sent a probe (a LIST with limit=1) besides. */
  readonly probed: boolean;
}

export interface CollectionStats {
  /** Reads answered from the cache (after a wait: `waited` of them). */
  hits: number;
  waited: number;
  /** Full LISTs, how many of them came after a wait that ran out, and how many without a wait (quiet). */
  lists: number;
  waitsRunOut: number;
  listedQuiet: number;
  /** Watches started again from the cache's version after they ended. */
  resumed: number;
  /** Caches dropped (watch ended or failed, 410, unparseable version, closed). */
  drops: number;
  /** Why, by reason. */
  dropped: Record<string, number>;
}

export interface WatchedCollectionOptions {
  readonly now?: () => number;
  readonly maxAgeMs?: number;
  /** Runs `fn` after `ms` (the wait for the watch); returns a cancel. Default: setTimeout. */
  readonly setTimer?: (fn: () => void, ms: number) => () => void;
}

interface Named {
  readonly metadata?: { readonly name?: string; readonly namespace?: string; readonly resourceVersion?: string };
}

/** Counts of no reads. */
export const emptyCollectionStats = (): CollectionStats => ({ hits: 0, waited: 0, lists: 0, waitsRunOut: 0, listedQuiet: 0, resumed: 0, drops: 0, dropped: {} });

/** Adds `more` to `total`. */
export function addCollectionStats(total: CollectionStats, more: CollectionStats): void {
  total.hits += more.hits;
  total.waited += more.waited;
  total.lists += more.lists;
  total.waitsRunOut += more.waitsRunOut;
  total.listedQuiet += more.listedQuiet;
  total.resumed += more.resumed;
  total.drops += more.drops;
  for (const [k, n] of Object.entries(more.dropped)) total.dropped[k] = (total.dropped[k] ?? 0) + n;
}

/** Quiet time after a wait that ran out (doubling while they run out in a row), and the changes that end it sooner. */
export const QUIET_MIN_MS = 5_000;
export const QUIET_MAX_MS = 60_000;
export const QUIET_CHANGES = 20;
/** A watch that ended is started again from the cache's version this many times without a change in between. */
export const MAX_RESUMES = 3;
/** A cache is listed anew after this long, whatever its watch says. */
export const MAX_AGE_MS = 5 * 60_000;
/** The wait for the watch to catch up: this share of the last LIST's duration, within the bounds. */
export const WAIT_SHARE = 0.25;
export const WAIT_MIN_MS = 10;
export const WAIT_MAX_MS = 250;

/** A resourceVersion as a number; null when it is not a decimal integer. */
export function parseVersion(rv: string | undefined): bigint | null {
  return rv !== undefined && /^[0-9]{1,30}$/.test(rv) ? BigInt(rv) : null;
}

function setTimer(fn: () => void, ms: number): () => void {
  const timer = setTimeout(fn, ms);
  return () => clearTimeout(timer);
}

/** A failure's code (its own, or its cause's: a connection error), else its class name. */
function errorCode(e: unknown): string {
  const own = (e as { code?: unknown } | undefined)?.code;
  const cause = (e as { cause?: { code?: unknown } } | undefined)?.cause?.code;
  return String(own ?? cause ?? (e instanceof Error ? e.name : 'error'));
}

const keyOf = (o: Named): string => `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;

interface Waiter {
  readonly target: bigint;
  readonly done: (caughtUp: boolean) => void;
}

export class WatchedCollection<T extends Named> {
  readonly stats: CollectionStats = emptyCollectionStats();
  private items = new Map<string, T>();
  /** The resourceVersion the cache holds the collection at; null: no cache. */
  private version: bigint | null = null;
  private listedAt = 0;
  private stream: WatchStream | null = null;
  private readonly waiters = new Set<Waiter>();
  /** A LIST in flight and the tick it was sent at (reads that began before it cannot use it). */
  private relisting: { readonly sentAt: number; readonly result: Promise<CollectionRead<T>> } | null = null;
  private tick = 0;
  private lastListMs = WAIT_MIN_MS / WAIT_SHARE;
  /** Watches started again from the cache's version since the last change they brought. */
  private resumes = 0;
  /**
   * After a wait that ran out the collection counts as quiet, and reads list at once (no probe, no
   * wait), until `quietUntil` or until QUIET_CHANGES changes came; each run-out in a row doubles the
   * quiet time (QUIET_MIN_MS..QUIET_MAX_MS), a read answered from the cache resets it.
   */
  private quietUntil = 0;
  private quietMs = QUIET_MIN_MS;
  private changesSinceQuiet = 0;
  private closed = false;
  private readonly now: () => number;
  private readonly maxAgeMs: number;
  private readonly setTimer: (fn: () => void, ms: number) => () => void;

  constructor(private readonly source: CollectionSource<T>, options: WatchedCollectionOptions = {}) {
    this.now = options.now ?? Date.now;
    this.maxAgeMs = options.maxAgeMs ?? MAX_AGE_MS;
    this.setTimer = options.setTimer ?? setTimer;
  }

  /** The collection, at least as new as a consistent read sent now. */
  async read(): Promise<CollectionRead<T>> {
    const began = ++this.tick;
    if (this.version === null || this.stream === null || this.now() - this.listedAt > this.maxAgeMs) return this.list(began);
    if (this.now() < this.quietUntil && this.changesSinceQuiet < QUIET_CHANGES) {
      // Waiting would most likely run out again.
      this.stats.listedQuiet += 1;
      return this.list(began);
    }
    const target = parseVersion(await this.source.probe());
    if (target === null) {
      this.drop('unparseable probe version');
      return { ...await this.list(began), probed: true };
    }
    if (this.version !== null && this.version >= target) return this.hit(false);
    if (await this.caughtUp(target)) return this.hit(true);
    this.stats.waitsRunOut += 1;
    this.quietUntil = this.now() + this.quietMs;
    this.quietMs = Math.min(QUIET_MAX_MS, this.quietMs * 2);
    this.changesSinceQuiet = 0;
    return { ...await this.list(began), probed: true };
  }

  /** Stops the watch and forgets the cache. */
  close(): void {
    this.closed = true;
    this.drop('closed');
  }

  /** Objects held (0 without a cache). */
  get size(): number {
    return this.items.size;
  }

  /** The cache's version, for tests and diagnostics. */
  get resourceVersion(): string | null {
    return this.version === null ? null : this.version.toString();
  }

  private hit(waited: boolean): CollectionRead<T> {
    this.stats.hits += 1;
    if (waited) this.stats.waited += 1;
    this.quietMs = QUIET_MIN_MS;
    return { items: [...this.items.values()], complete: true, source: 'cache', probed: true };
  }

  private caughtUp(target: bigint): Promise<boolean> {
    const budget = Math.min(WAIT_MAX_MS, Math.max(WAIT_MIN_MS, Math.round(this.lastListMs * WAIT_SHARE)));
    return new Promise<boolean>((resolve) => {
      const waiter: Waiter = {
        target,
        done: (ok) => {
          cancel();
          this.waiters.delete(waiter);
          resolve(ok);
        },
      };
      const cancel = this.setTimer(() => waiter.done(false), budget);
      this.waiters.add(waiter);
    });
  }

  private list(began: number): Promise<CollectionRead<T>> {
    const inFlight = this.relisting;
    if (inFlight !== null && inFlight.sentAt > began) return inFlight.result;
    const sentAt = ++this.tick;
    const result = this.listNow();
    const entry = { sentAt, result };
    this.relisting = entry;
    const clear = (): void => {
      if (this.relisting === entry) this.relisting = null;
    };
    result.then(clear, clear);
    return result;
  }

  private async listNow(): Promise<CollectionRead<T>> {
    const started = this.now();
    const listed = await this.source.list();
    this.stats.lists += 1;
    this.lastListMs = this.now() - started;
    const version = parseVersion(listed.resourceVersion);
    if (!this.closed && listed.complete && version !== null && (this.version === null || version >= this.version)) {
      // Only a LIST at least as new as the cache may replace it (an older one finishing later would
      // step it back). A watch already open goes on: what it still sends up to the LIST's version is
      // ignored as already in the cache, what comes after is applied.
      this.items = new Map(listed.items.map((o) => [keyOf(o), o]));
      this.version = version;
      this.listedAt = this.now();
      if (this.stream === null) this.startStream(version);
      this.wake(version);
    }
    return { items: [...listed.items], complete: listed.complete, source: 'list', probed: false };
  }

  private startStream(from: bigint): void {
    let stream: WatchStream | null = null;
    let ended = false;
    const current = (): boolean => !ended && this.stream === stream;
    stream = this.source.watch(from.toString(), {
      event: (e) => {
        if (current()) this.apply(e);
      },
      end: (error) => {
        if (!current()) return;
        ended = true;
        this.stream = null;
        if (this.version === null) return;
        // 410 Gone: the version fell out of the API server's window; only a LIST can go on.
        if (errorCode(error) === '410') {
          this.drop('watch failed: 410');
          return;
        }
        // Ended by the server (its timeout, or a watcher it closed for not reading fast enough while
        // the process planned) or by the connection: watch again from the version the cache holds;
        // the API server sends every change after it, or 410. A stream that keeps ending without
        // bringing anything drops the cache.
        if (this.resumes >= MAX_RESUMES) {
          this.drop(error === undefined ? 'watch ended' : `watch failed: ${errorCode(error)}`);
          return;
        }
        this.resumes += 1;
        this.stats.resumed += 1;
        this.startStream(this.version);
      },
    });
    // A source that ended the watch synchronously has already dropped the cache.
    if (!ended) this.stream = stream;
  }

  private apply(e: WatchEvent<T>): void {
    if (this.version === null) return;
    if (e.type === 'ERROR') {
      this.drop(`watch error ${e.code}`);
      return;
    }
    const version = parseVersion(e.type === 'BOOKMARK' ? e.resourceVersion : e.object.metadata?.resourceVersion);
    if (version === null) {
      this.drop('unparseable event version');
      return;
    }
    // Already in the cache (the list's snapshot or an earlier event).
    if (version <= this.version) return;
    if (e.type === 'DELETED') this.items.delete(keyOf(e.object));
    else if (e.type !== 'BOOKMARK') this.items.set(keyOf(e.object), e.object);
    this.version = version;
    if (e.type !== 'BOOKMARK') this.changesSinceQuiet += 1;
    this.resumes = 0;
    this.wake(version);
  }

  /** Reads waiting for `version` or an older one go on from the cache. */
  private wake(version: bigint): void {
    for (const w of [...this.waiters]) if (w.target <= version) w.done(true);
  }

  private stopStream(): void {
    const s = this.stream;
    this.stream = null;
    s?.stop();
  }

  private drop(reason: string): void {
    if (this.version !== null) {
      this.stats.drops += 1;
      this.stats.dropped[reason] = (this.stats.dropped[reason] ?? 0) + 1;
    }
    this.stopStream();
    this.version = null;
    this.resumes = 0;
    this.items = new Map();
    for (const w of [...this.waiters]) w.done(false);
  }
}
