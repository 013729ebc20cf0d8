/**
 * Tracks the pods of one namespace through a watcher in its own process (lib/watch-child.ts) and
 * keeps, per pod, when it was first seen, when it became Ready, its target node and revision hash.
 * Times are `performance.now()` values of this process, converted from the child's epoch times.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export { targetNode } from './pod-fields.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export interface TrackedPod {
  readonly name: string;
  node: string | null;
  hash: string | null;
  ready: boolean;
  terminating: boolean;
  firstSeen: number;
  readyAt: number | null;
  deleted: boolean;
}

interface Line { t: number; type: string; o?: Record<string, unknown>; names?: string[] }

/** A watcher child process; `onLine` gets each event with its time on this process's performance clock. */
export class ChildWatch {
  private readonly child: ChildProcess;
  private firstList: Promise<void>;

  constructor(kubeconfig: string, path: string, labelSelector: string | undefined, onLine: (type: string, o: Record<string, unknown> | undefined, at: number, names?: string[]) => void) {
    this.child = spawn(join(root, 'node_modules/.bin/tsx'), [join(root, 'bench/lib/watch-child.ts'), kubeconfig, path, ...(labelSelector ? [labelSelector] : [])], { stdio: ['ignore', 'pipe', 'inherit'] });
    let listed: () => void = () => undefined;
    this.firstList = new Promise((r) => { listed = r; });
    const rl = createInterface({ input: this.child.stdout as NodeJS.ReadableStream });
    rl.on('line', (text) => {
      let line: Line;
      try {
        line = JSON.parse(text) as Line;
      } catch {
        return;
      }
      const at = line.t - performance.timeOrigin;
      onLine(line.type, line.o, at, line.names);
      if (line.type === 'LISTED') listed();
    });
  }

  ready(timeoutMs = 30_000): Promise<void> {
    return Promise.race([this.firstList, new Promise<void>((_, rej) => setTimeout(() => rej(new Error('watcher did not list in time')), timeoutMs).unref())]);
  }

  stop(): void {
    this.child.kill('SIGTERM');
  }
}

export class PodTracker {
  readonly pods = new Map<string, TrackedPod>();
  private watch: ChildWatch | null = null;
  private listeners = new Set<() => void>();
  /** Ready → not Ready transitions of pods that were not being deleted (a simulated node under CPU pressure). */
  unreadyFlaps = 0;
  /** Called on every event, after the tracker updated (for samplers). */
  onEvent: ((type: string, pod: TrackedPod) => void) | null = null;

  private constructor(readonly namespace: string) {}

  static async start(kubeconfig: string, namespace: string, labelSelector?: string): Promise<PodTracker> {
    const t = new PodTracker(namespace);
    t.watch = new ChildWatch(kubeconfig, `/api/v1/namespaces/${namespace}/pods`, labelSelector, (type, o, at, names) => t.apply(type, o, at, names));
    await t.watch.ready();
    return t;
  }

  private apply(type: string, o: Record<string, unknown> | undefined, at: number, names?: string[]): void {
    if (type === 'LISTED') {
      const keep = new Set(names ?? []);
      for (const name of [...this.pods.keys()]) if (!keep.has(name)) this.apply('DELETED', { name }, at);
      return;
    }
    if (o === undefined) return;
    const name = String(o.name ?? '');
    let p = this.pods.get(name);
    if (type === 'DELETED') {
      if (p) {
        p.deleted = true;
        this.pods.delete(name);
      }
    } else {
      if (!p) {
        p = { name, node: null, hash: null, ready: false, terminating: false, firstSeen: at, readyAt: null, deleted: false };
        this.pods.set(name, p);
      }
      p.node = (o.node as string | null) ?? null;
      p.hash = (o.hash as string | null) ?? null;
      p.terminating = o.terminating === true;
      const ready = o.ready === true;
      if (ready && p.readyAt === null) p.readyAt = at;
      if (p.ready && !ready && !p.terminating) this.unreadyFlaps += 1;
      p.ready = ready;
    }
    if (p) this.onEvent?.(type, p);
    for (const l of this.listeners) l();
  }

  /** Resolves when `predicate` holds (checked on every event and every 500 ms), or rejects after timeoutMs. */
  until(predicate: () => boolean, timeoutMs: number, what: string): Promise<number> {
    return new Promise((resolvePromise, reject) => {
      const check = (): void => {
        if (predicate()) {
          done();
          resolvePromise(performance.now());
        }
      };
      const timer = setInterval(check, 500);
      const deadline = setTimeout(() => {
        done();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      const done = (): void => {
        clearInterval(timer);
        clearTimeout(deadline);
        this.listeners.delete(check);
      };
      this.listeners.add(check);
      check();
    });
  }

  counts(): { total: number; ready: number; terminating: number } {
    let ready = 0;
    let terminating = 0;
    for (const p of this.pods.values()) {
      if (p.ready && !p.terminating) ready += 1;
      if (p.terminating) terminating += 1;
    }
    return { total: this.pods.size, ready, terminating };
  }

  stop(): void {
    this.watch?.stop();
  }
}
