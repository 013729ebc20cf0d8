/**
 * An event source for the local runner: client-node `Watch` on nodes, pods and the managed
 * DaemonSets, fed through the same parsing and mapping as the webhook.
 *
 * - Each watch resumes from the last resourceVersion it saw (bookmarks included); a 410 Gone, or an
 *   ERROR event, restarts it from scratch (the initial ADDED events replay the current state,
 *   which only causes extra reconciles). Errors restart it after a capped backoff.
 * - The watch protocol carries no previous object, so the source remembers the labels, taints,
 *   owners and resourceVersion it last saw per node and pod, and hands them on as `oldObject`:
 *   that is what lets the mapping drop irrelevant node updates (WATCH-6).
 */
import { Watch, type KubeConfig } from '@kubernetes/client-node';
import { daemonSetApiVersion, type ManagedResource } from '../core/index.js';
import { mapEvents } from '../events/map-event.js';
import { parseWebhookBody } from '../events/parse.js';
import type { EventQueue } from '../app/queue.js';
import type { AppLogger } from '../observability/ports.js';

export interface WatchSource {
  stop(): Promise<void>;
}

export interface WatchSourceOptions {
  readonly kubeConfig: KubeConfig;
  readonly queue: EventQueue;
  readonly managed: ManagedResource;
  readonly logger: AppLogger;
  readonly now?: () => number;
  readonly maxBackoffMs?: number;
}

interface Remembered {
  readonly apiVersion: unknown;
  readonly kind: unknown;
  readonly metadata: Record<string, unknown>;
  readonly spec?: { taints?: unknown };
}

type Obj = { apiVersion?: unknown; kind?: unknown; metadata?: Record<string, unknown>; spec?: { taints?: unknown } } & Record<string, unknown>;

/** The part of an object the mapping compares (labels, taints, owners, resourceVersion). */
function remember(o: Obj): Remembered {
  const m = o.metadata ?? {};
  return {
    apiVersion: o.apiVersion,
    kind: o.kind,
    metadata: { name: m.name, namespace: m.namespace, uid: m.uid, resourceVersion: m.resourceVersion, labels: m.labels, ownerReferences: m.ownerReferences },
    ...(o.spec?.taints === undefined ? {} : { spec: { taints: o.spec.taints } }),
  };
}

export function startWatchSource(options: WatchSourceOptions): WatchSource {
  const watch = new Watch(options.kubeConfig);
  const now = options.now ?? Date.now;
  const maxBackoff = options.maxBackoffMs ?? 30_000;
  const dsPath = `/apis/${daemonSetApiVersion(options.managed)}/daemonsets`;
  const paths = [{ path: '/api/v1/nodes', kind: 'Node' }, { path: '/api/v1/pods', kind: 'Pod' }, { path: dsPath, kind: 'DaemonSet' }];
  let stopped = false;
  const aborts = new Set<AbortController>();
  const sleepers = new Set<() => void>();
  const loops: Promise<void>[] = [];

  const handle = async (phase: string, obj: Obj, cache: Map<string, Remembered>): Promise<void> => {
    const m = obj.metadata ?? {};
    const id = `${String(m.namespace ?? '')}/${String(m.name ?? '')}`;
    const old = cache.get(id);
    if (phase === 'DELETED') cache.delete(id);
    else cache.set(id, remember(obj));
    const parsed = parseWebhookBody({ type: phase, object: obj, ...(phase === 'MODIFIED' && old !== undefined ? { oldObject: old } : {}) });
    if (!parsed.ok) {
      options.logger.warn('watch event not understood', { reason: parsed.reason });
      return;
    }
    const mapped = mapEvents(parsed.body.events, { managed: options.managed, observedAt: now() });
    if (!mapped.ok) {
      options.logger.warn('watch event refused', { reason: mapped.reason });
      return;
    }
    if (mapped.requests.length > 0) await options.queue.enqueue(mapped.requests);
    if (mapped.fanouts.length > 0) await options.queue.enqueueFanouts(mapped.fanouts);
  };

  const run = async (path: string, kind: string): Promise<void> => {
    const cache = new Map<string, Remembered>();
    let resourceVersion: string | undefined;
    let failures = 0;
    while (!stopped) {
      const ended = await new Promise<unknown>((resolve) => {
        let chain = Promise.resolve();
        watch.watch(path, { allowWatchBookmarks: true, ...(resourceVersion === undefined ? {} : { resourceVersion }) },
          (phase, obj: Obj) => {
            const rv = obj?.metadata?.resourceVersion;
            if (phase === 'ERROR') {
              // A Status object: typically 410 Gone (resourceVersion too old) — start over.
              resourceVersion = undefined;
              return;
            }
            if (typeof rv === 'string') resourceVersion = rv;
            if (phase === 'BOOKMARK') return;
            failures = 0;
            chain = chain.then(() => handle(phase, obj, cache)).catch((e: unknown) => {
              options.logger.warn('watch event could not be enqueued', { kind, error: e instanceof Error ? e.message : String(e) });
            });
          },
          (err) => { void chain.then(() => resolve(err)); })
          .then((controller) => {
            if (stopped) controller.abort();
            else aborts.add(controller);
            controller.signal.addEventListener('abort', () => aborts.delete(controller), { once: true });
          })
          .catch((err: unknown) => resolve(err ?? new Error('watch failed to start')));
      });
      if (stopped) return;
      // client-node ends a watch that saw no data for 30 s with a TimeoutError: just watch again.
      const quiet = ended instanceof Error && ended.name === 'TimeoutError';
      if (ended !== null && ended !== undefined && !quiet) {
        failures += 1;
        const status = (ended as { statusCode?: number; code?: number }).statusCode ?? (ended as { code?: number }).code;
        if (status === 410) resourceVersion = undefined;
        options.logger.warn('watch ended; restarting', { kind, error: ended instanceof Error ? ended.message : String(ended), failures });
        const delay = Math.min(maxBackoff, 250 * 2 ** Math.min(failures, 10));
        await new Promise<void>((r) => {
          const wake = (): void => { clearTimeout(t); sleepers.delete(wake); r(); };
          const t = setTimeout(wake, delay);
          sleepers.add(wake);
        });
      }
    }
  };

  for (const { path, kind } of paths) loops.push(run(path, kind));

  return {
    async stop() {
      stopped = true;
      for (const wake of [...sleepers]) wake();
      for (const a of aborts) a.abort();
      await Promise.race([Promise.allSettled(loops), new Promise((r) => setTimeout(r, 2000).unref())]);
    },
  };
}
