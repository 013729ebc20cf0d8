/**
 * IMPL-10: WatchedCollection against a scripted source (a collection with a resourceVersion, LISTs
 * and probes answered when the test says so, watches whose events the test sends) and scripted
 * time (the clock and the wait timers are the test's).
 */
import { describe, expect, it } from 'vitest';
import { decodeWatchLine } from '../../../lib/adapters/kube/list-cache.js';
import {
  MAX_AGE_MS, MAX_RESUMES, QUIET_CHANGES, QUIET_MAX_MS, QUIET_MIN_MS, WAIT_MAX_MS, WAIT_MIN_MS, WAIT_SHARE, WatchedCollection, type CollectionRead, type CollectionSource, type VersionedList, type WatchEvent, type WatchHandlers,
} from '../../../lib/adapters/kube/watched-collection.js';

interface Obj {
  readonly metadata: { readonly name: string; readonly resourceVersion: string };
  readonly value: string;
}

const obj = (name: string, rv: number, value = `${name}@${rv}`): Obj => ({ metadata: { name, resourceVersion: String(rv) }, value });

interface Deferred<T> {
  readonly promise: Promise<T>;
  resolve(v: T): void;
  reject(e: unknown): void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

interface Watch {
  readonly from: string;
  readonly handlers: WatchHandlers<Obj>;
  stopped: boolean;
}

/**
 * The API server as the collection sees it: `items` at `rv`. LISTs answer at once with a snapshot
 * (or wait for `answer()` when `holdLists` is set); probes answer `probeRv` (default: `rv`).
 */
class Source implements CollectionSource<Obj> {
  items = new Map<string, Obj>();
  rv = 10;
  probeRv: string | undefined = undefined;
  holdLists = false;
  lists = 0;
  probes = 0;
  readonly held: { snapshot: VersionedList<Obj>; d: Deferred<VersionedList<Obj>> }[] = [];
  readonly watches: Watch[] = [];
  /** Called as each LIST is sent (to move the clock while it is on its way). */
  onList: () => void = () => undefined;

  list(): Promise<VersionedList<Obj>> {
    this.lists += 1;
    this.onList();
    const snapshot: VersionedList<Obj> = { items: [...this.items.values()], resourceVersion: String(this.rv), complete: true };
    if (!this.holdLists) return Promise.resolve(snapshot);
    const d = deferred<VersionedList<Obj>>();
    this.held.push({ snapshot, d });
    return d.promise;
  }

  /** Answers a LIST held (the oldest by default), with its snapshot (or `as`). */
  answer(as?: Partial<VersionedList<Obj>>, index = 0): void {
    const [h] = this.held.splice(index, 1);
    if (h === undefined) throw new Error('no LIST held');
    h.d.resolve({ ...h.snapshot, ...as });
  }

  probe(): Promise<string | undefined> {
    this.probes += 1;
    return Promise.resolve(this.probeRv ?? String(this.rv));
  }

  watch(fromVersion: string, handlers: WatchHandlers<unknown>) {
    const w: Watch = { from: fromVersion, handlers: handlers as WatchHandlers<Obj>, stopped: false };
    this.watches.push(w);
    return { stop: () => { w.stopped = true; } };
  }

  /** The open watch (the last one started). */
  get watching(): Watch {
    const w = this.watches.at(-1);
    if (w === undefined) throw new Error('no watch');
    return w;
  }

  /** A change on the server (not yet seen by the watch). */
  put(name: string, value?: string): Obj {
    this.rv += 1;
    const o = obj(name, this.rv, value);
    this.items.set(name, o);
    return o;
  }

  send(e: WatchEvent<Obj>): void {
    this.watching.handlers.event(e);
  }
}

/** Wait timers the test fires. */
class Timers {
  readonly pending: { fn: () => void; ms: number; cancelled: boolean }[] = [];
  readonly set = (fn: () => void, ms: number): (() => void) => {
    const t = { fn, ms, cancelled: false };
    this.pending.push(t);
    return () => { t.cancelled = true; };
  };

  get live(): { ms: number }[] {
    return this.pending.filter((t) => !t.cancelled);
  }

  fireAll(): void {
    for (const t of this.pending.splice(0)) if (!t.cancelled) t.fn();
  }
}

/** Lets every promise chain that can move, move (no timers involved). */
const settle = async (): Promise<void> => {
  for (let i = 0; i < 20; i++) await Promise.resolve();
};

/** Two reads of a cold cache with the LISTs held: the first, a change on the server, the second. */
async function coldReadsAcrossAChange(source: Source, c: WatchedCollection<Obj>) {
  source.holdLists = true;
  const a = c.read();
  await settle();
  source.put('c');
  const b = c.read();
  await settle();
  return { a, b };
}

function setup(options: { maxAgeMs?: number } = {}) {
  const source = new Source();
  source.put('a');
  source.put('b');
  const timers = new Timers();
  const clock = { ms: 0 };
  const c = new WatchedCollection<Obj>(source, { now: () => clock.ms, setTimer: timers.set, ...options });
  const names = (items: readonly Obj[]): string[] => items.map((o) => o.value).sort();
  /** A read whose wait for the watch runs out (the collection changed, the watch did not say so). */
  const readRunningOut = async (): Promise<CollectionRead<Obj>> => {
    const pending = c.read();
    await settle();
    timers.fireAll();
    return pending;
  };
  return { source, timers, clock, c, names, readRunningOut };
}

describe('IMPL-10: WatchedCollection', () => {
  it('the first read lists and watches from the list\'s version; a read whose probe is at or below the cache\'s version is one probe, no LIST', async () => {
    const { source, c, names } = setup();
    const first = await c.read();
    expect(first).toMatchObject({ source: 'list', complete: true });
    expect(names(first.items)).toEqual(['a@11', 'b@12']);
    expect(source.probes).toBe(0);
    expect(source.watches.map((w) => w.from)).toEqual(['12']);
    expect(c.resourceVersion).toBe('12');

    const second = await c.read();
    expect(second.source).toBe('cache');
    expect(names(second.items)).toEqual(['a@11', 'b@12']);
    expect(source.probes).toBe(1);
    expect(source.lists).toBe(1);
    // A probe below the cache's version (another API server lagging behind) is a hit too.
    source.probeRv = '11';
    expect((await c.read()).source).toBe('cache');
    expect(c.stats).toEqual({ hits: 2, waited: 0, lists: 1, waitsRunOut: 0, listedQuiet: 0, resumed: 0, drops: 0, dropped: {} });
  });

  it('a read behind the probe\'s version waits, and the event that reaches it answers it from the cache', async () => {
    const { source, timers, c, names } = setup();
    await c.read();
    const changed = source.put('a', 'a-new');
    let done = false;
    const pending = c.read().then((r) => {
      done = true;
      return r;
    });
    await settle();
    expect(done).toBe(false);
    expect(timers.live).toEqual([expect.objectContaining({ ms: WAIT_MIN_MS })]);
    source.send({ type: 'MODIFIED', object: changed });
    const r = await pending;
    expect(r.source).toBe('cache');
    expect(names(r.items)).toEqual(['a-new', 'b@12']);
    expect(timers.live).toEqual([]);
    expect(source.lists).toBe(1);
    expect(c.stats).toMatchObject({ hits: 1, waited: 1, lists: 1, waitsRunOut: 0 });
  });

  it('a bookmark at or past the probe\'s version answers a waiting read; one before it does not', async () => {
    const { source, c } = setup();
    await c.read();
    source.rv = 20;
    let done = false;
    const pending = c.read().then((r) => {
      done = true;
      return r;
    });
    await settle();
    source.send({ type: 'BOOKMARK', resourceVersion: '19' });
    await settle();
    expect(done).toBe(false);
    source.send({ type: 'BOOKMARK', resourceVersion: '20' });
    expect((await pending).source).toBe('cache');
    expect(c.resourceVersion).toBe('20');
  });

  it('a read whose wait runs out lists, and the LIST replaces the cache; the watch goes on from where it was', async () => {
    const { source, c, names, readRunningOut } = setup();
    await c.read();
    const late = source.put('c');
    const r = await readRunningOut();
    expect(r.source).toBe('list');
    expect(names(r.items)).toEqual(['a@11', 'b@12', 'c@13']);
    expect(c.stats).toMatchObject({ hits: 0, lists: 2, waitsRunOut: 1 });
    expect(source.watches.map((w) => [w.from, w.stopped])).toEqual([['12', false]]);
    expect(c.resourceVersion).toBe('13');
    // The event the LIST already holds comes late on the watch: nothing changes.
    source.send({ type: 'MODIFIED', object: late });
    expect(c.resourceVersion).toBe('13');
    const d = source.put('d');
    source.send({ type: 'ADDED', object: d });
    expect(names((await c.read()).items)).toEqual(['a@11', 'b@12', 'c@13', 'd@14']);
  });

  it('after a wait that ran out, reads list at once (no probe, no wait) for QUIET_MIN_MS or until QUIET_CHANGES changes came', async () => {
    const { source, timers, clock, c, readRunningOut } = setup();
    await c.read();
    source.put('c');
    expect((await readRunningOut()).source).toBe('list');
    const probes = source.probes;
    source.put('d');
    const quiet = await c.read();
    expect(quiet).toMatchObject({ source: 'list', probed: false });
    expect(source.probes).toBe(probes);
    expect(timers.live).toEqual([]);
    expect(c.stats).toMatchObject({ waitsRunOut: 1, listedQuiet: 1 });
    // Changes on the watch end the quiet: the next read probes, and its version is reached.
    for (let i = 0; i < QUIET_CHANGES; i++) source.send({ type: 'MODIFIED', object: source.put(`e${i}`) });
    const r = await c.read();
    expect(r).toMatchObject({ source: 'cache', probed: true });
    expect(source.probes).toBe(probes + 1);
    // So does the time: after a wait that runs out again, QUIET_MIN_MS of reads without a probe.
    source.put('f');
    expect((await readRunningOut()).source).toBe('list');
    expect((await c.read()).probed).toBe(false);
    clock.ms += QUIET_MIN_MS + 1;
    source.put('g');
    const later = c.read();
    await settle();
    expect(source.probes).toBe(probes + 3);
    timers.fireAll();
    await later;
  });

  it('a LIST that reaches the version a read waits for ends that wait', async () => {
    const { source, timers, clock, c } = setup();
    await c.read();
    source.put('c');
    const waiting = c.read();
    await settle();
    expect(timers.live).toHaveLength(1);
    // Meanwhile the cache reaches its maximum age: the next read lists, at version 13.
    clock.ms += MAX_AGE_MS + 1;
    expect((await c.read()).source).toBe('list');
    expect((await waiting).source).toBe('cache');
    expect(timers.live).toEqual([]);
    expect(c.stats).toMatchObject({ waitsRunOut: 0, waited: 1 });
  });

  it('the wait is WAIT_SHARE of the time the last LIST took, within WAIT_MIN_MS..WAIT_MAX_MS', async () => {
    const { source, timers, clock, c } = setup();
    let listMs = 300;
    source.onList = () => {
      clock.ms += listMs;
    };
    await c.read();
    /** The next read's wait; its wait runs out, and the LIST it makes then takes `nextListMs`. */
    const nextWait = async (nextListMs: number): Promise<number> => {
      clock.ms += QUIET_MAX_MS;
      // A change the watch brings (so the collection is not quiet), then one it has not brought yet.
      source.send({ type: 'MODIFIED', object: source.put('x') });
      source.put('y');
      const pending = c.read();
      await settle();
      const ms = (timers.live[0] as { ms: number }).ms;
      listMs = nextListMs;
      timers.fireAll();
      expect((await pending).source).toBe('list');
      return ms;
    };
    expect(await nextWait(5_000)).toBe(300 * WAIT_SHARE);
    expect(await nextWait(1)).toBe(WAIT_MAX_MS);
    expect(await nextWait(1)).toBe(WAIT_MIN_MS);
  });

  it('an ERROR event or 410 Gone drops the cache: the next read lists without probing', async () => {
    const reasons = { error: 'watch error 410', gone: 'watch failed: 410' };
    for (const end of ['error', 'gone'] as const) {
      const { source, c } = setup();
      await c.read();
      const w = source.watching;
      if (end === 'gone') w.handlers.end(Object.assign(new Error('watch /api/v1/nodes: HTTP 410'), { code: 410 }));
      else w.handlers.event({ type: 'ERROR', code: 410, message: 'too old resource version: 12 (15)' });
      expect(c.resourceVersion).toBeNull();
      expect(c.stats).toMatchObject({ drops: 1, dropped: { [reasons[end]]: 1 } });
      // Events after the cut change nothing.
      w.handlers.event({ type: 'ADDED', object: obj('z', 99) });
      expect(c.resourceVersion).toBeNull();
      const r = await c.read();
      expect(r.source).toBe('list');
      expect(source.probes).toBe(0);
      expect(source.lists).toBe(2);
    }
  });

  it('a watch that ends or fails is started again from the cache\'s version; one that keeps ending without a change drops the cache', async () => {
    const { source, c, names } = setup();
    await c.read();
    source.watching.handlers.end();
    expect(source.watches.map((w) => w.from)).toEqual(['12', '12']);
    // The new watch brings what changed meanwhile; the cache goes on, no LIST.
    const d = source.put('d');
    source.send({ type: 'ADDED', object: d });
    expect(names((await c.read()).items)).toEqual(['a@11', 'b@12', 'd@13']);
    expect(source.lists).toBe(1);
    // A change resets the count: MAX_RESUMES more ends in a row are resumed, the next one drops.
    for (let i = 0; i < MAX_RESUMES; i++) source.watching.handlers.end(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }));
    expect(source.watches.map((w) => w.from)).toEqual(['12', '12', ...Array.from({ length: MAX_RESUMES }, () => '13')]);
    expect(c.resourceVersion).toBe('13');
    source.watching.handlers.end(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }));
    expect(c.resourceVersion).toBeNull();
    expect(c.stats).toMatchObject({ resumed: 1 + MAX_RESUMES, drops: 1, dropped: { 'watch failed: ECONNRESET': 1 } });
    expect((await c.read()).source).toBe('list');
  });

  it('an event at or older than the cache\'s version is ignored (a duplicate, or a replay from before the list)', async () => {
    const { source, c, names } = setup();
    await c.read();
    source.send({ type: 'MODIFIED', object: obj('a', 12, 'a-stale') });
    source.send({ type: 'DELETED', object: obj('b', 9) });
    expect(c.resourceVersion).toBe('12');
    expect(names((await c.read()).items)).toEqual(['a@11', 'b@12']);
    // A newer event applies; the same event again changes nothing.
    const changed = source.put('a', 'a-new');
    source.send({ type: 'MODIFIED', object: changed });
    source.send({ type: 'DELETED', object: obj('a', 12) });
    source.send({ type: 'MODIFIED', object: changed });
    expect(names((await c.read()).items)).toEqual(['a-new', 'b@12']);
    expect(c.stats).toMatchObject({ hits: 2, lists: 1, drops: 0 });
  });

  it('ADDED, MODIFIED and DELETED events keep the cache; a version that is not a number drops it', async () => {
    const { source, c, names } = setup();
    await c.read();
    source.send({ type: 'ADDED', object: source.put('c') });
    source.items.delete('a');
    source.rv += 1;
    source.send({ type: 'DELETED', object: obj('a', source.rv) });
    expect(names((await c.read()).items)).toEqual(['b@12', 'c@13']);
    source.send({ type: 'MODIFIED', object: { metadata: { name: 'b', resourceVersion: 'abc' }, value: 'b?' } });
    expect(c.resourceVersion).toBeNull();
    expect((await c.read()).source).toBe('list');
  });

  it('a probe whose version is not a number drops the cache and lists', async () => {
    const { source, c } = setup();
    await c.read();
    source.probeRv = 'opaque-1';
    expect((await c.read()).source).toBe('list');
    expect(c.stats).toMatchObject({ drops: 1, lists: 2 });
  });

  it('concurrent reads share a LIST only when it was sent after they began', async () => {
    const { source, timers, c } = setup();
    // Cold: the second read began after the first one's LIST was sent, so it sends its own.
    const { a, b } = await coldReadsAcrossAChange(source, c);
    expect(source.lists).toBe(2);
    source.answer();
    source.answer();
    expect((await a).items).toHaveLength(2);
    expect((await b).items).toHaveLength(3);
    // Warm: two reads wait, their waits run out together; the second shares the first one's LIST,
    // sent after both began.
    source.put('d');
    const x = c.read();
    const y = c.read();
    await settle();
    timers.fireAll();
    await settle();
    expect(source.lists).toBe(3);
    source.answer();
    const [rx, ry] = await Promise.all([x, y]);
    expect(rx.source).toBe('list');
    expect(ry.items).toBe(rx.items);
    expect(ry.items.map((o) => o.metadata.name).sort()).toEqual(['a', 'b', 'c', 'd']);
    expect(source.lists).toBe(3);
    expect(c.stats.lists).toBe(3);
  });

  it('a LIST that finishes after a newer one does not step the cache back; a LIST cut short is not cached', async () => {
    const { source, c } = setup();
    const { a, b } = await coldReadsAcrossAChange(source, c);
    // The newer LIST is answered first.
    source.answer(undefined, 1);
    await b;
    expect(c.resourceVersion).toBe('13');
    source.answer();
    expect((await a).items).toHaveLength(2);
    expect(c.resourceVersion).toBe('13');
    expect(source.watches.filter((w) => !w.stopped).map((w) => w.from)).toEqual(['13']);

    const cold = setup();
    cold.source.holdLists = true;
    const cut = cold.c.read();
    await settle();
    cold.source.answer({ complete: false, items: [] });
    expect(await cut).toMatchObject({ source: 'list', complete: false });
    expect(cold.c.resourceVersion).toBeNull();
    expect(cold.source.watches).toEqual([]);
  });

  it('a cache older than its maximum age is listed anew, without a probe', async () => {
    const { source, clock, c } = setup({ maxAgeMs: 60_000 });
    await c.read();
    clock.ms += 60_000;
    expect((await c.read()).source).toBe('cache');
    clock.ms += 1;
    expect((await c.read()).source).toBe('list');
    expect(source.probes).toBe(1);
    expect(MAX_AGE_MS).toBe(5 * 60_000);
  });

  it('close stops the watch, and later LISTs are not cached', async () => {
    const { source, c } = setup();
    await c.read();
    c.close();
    expect(source.watching.stopped).toBe(true);
    expect((await c.read()).source).toBe('list');
    expect(c.resourceVersion).toBeNull();
    expect(source.watches).toHaveLength(1);
  });
});

describe('IMPL-10: decodeWatchLine', () => {
  it('decodes the API server\'s watch lines', () => {
    const pod = { metadata: { name: 'p', resourceVersion: '7' } };
    for (const type of ['ADDED', 'MODIFIED', 'DELETED'] as const) expect(decodeWatchLine(JSON.stringify({ type, object: pod }))).toEqual({ type, object: pod });
    expect(decodeWatchLine('{"type":"BOOKMARK","object":{"kind":"Pod","metadata":{"resourceVersion":"42"}}}')).toEqual({ type: 'BOOKMARK', resourceVersion: '42' });
    expect(decodeWatchLine('{"type":"BOOKMARK","object":{"metadata":{"resourceVersion":42}}}')).toEqual({ type: 'BOOKMARK', resourceVersion: undefined });
    expect(decodeWatchLine('{"type":"ERROR","object":{"kind":"Status","status":"Failure","message":"too old resource version: 1 (5)","reason":"Expired","code":410}}'))
      .toEqual({ type: 'ERROR', code: 410, message: 'too old resource version: 1 (5)' });
    expect(decodeWatchLine('{"type":"ERROR","object":{}}')).toEqual({ type: 'ERROR', code: 0, message: 'watch error' });
  });

  it('an unreadable line or an unknown type is an ERROR (the watch ends)', () => {
    expect(decodeWatchLine('{"type":"ADDED",')).toMatchObject({ type: 'ERROR', code: 0, message: expect.stringContaining('unreadable watch event') });
    expect(decodeWatchLine('{"type":"SYNC","object":{}}')).toEqual({ type: 'ERROR', code: 0, message: 'unknown watch event type SYNC' });
    expect(decodeWatchLine('{"object":{}}')).toEqual({ type: 'ERROR', code: 0, message: 'unknown watch event type undefined' });
  });
});
