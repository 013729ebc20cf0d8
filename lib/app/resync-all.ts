/**
 * Resync: enqueue every managed DaemonSet, page by page, so a lost event costs at most one resync
 * period. The dedup id includes the schedule time: a retried invocation of the same schedule tick
 * is deduplicated by SQS, the next tick is not.
 */
import { dedupId } from '../events/identity.js';
import { METRIC, type AppLogger, type AppMetrics } from '../observability/ports.js';
import { daemonSetPages } from './list-daemonsets.js';
import type { EventQueue, ListDaemonSets } from './queue.js';

export interface ResyncDeps {
  readonly listDaemonSets: ListDaemonSets;
  readonly queue: Pick<EventQueue, 'enqueue'>;
  readonly logger: AppLogger;
  readonly metrics: AppMetrics;
}

export async function resyncAll(deps: ResyncDeps, options: { scheduledAt: number; pageSize?: number }): Promise<{ keys: number; pages: number }> {
  let keys = 0;
  let pages = 0;
  for await (const page of daemonSetPages(deps.listDaemonSets, options.pageSize === undefined ? {} : { pageSize: options.pageSize })) {
    pages += 1;
    if (page.items.length === 0) continue;
    await deps.queue.enqueue(page.items.map((ds) => ({
      key: ds.key, dedupId: dedupId('resync', options.scheduledAt, ds.key), observedAt: options.scheduledAt,
    })));
    keys += page.items.length;
  }
  deps.metrics.count(METRIC.resyncKeys, keys);
  deps.logger.info('resync enqueued every DaemonSet', { keys, pages, scheduledAt: new Date(options.scheduledAt).toISOString() });
  return { keys, pages };
}
