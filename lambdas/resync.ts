/**
 * Resync function, invoked by the schedule (EventBridge Scheduler input
 * `{source: 'daemonless.resync', scheduledTime}`, or a classic ScheduledEvent with `time`).
 * Enqueues every managed DaemonSet; see resyncAll (lib/app/resync-all.ts).
 */
import { resyncAll } from '../lib/app/resync-all.js';
import { resyncDeps } from './shared/cluster-deps.js';
import { resolveDeps, type DepsSource, type ResyncHandlerDeps } from './shared/deps.js';
import { observability, observedHandler, type Observability } from './shared/observability.js';

export interface ResyncEvent {
  readonly scheduledTime?: string;
  readonly time?: string;
}

/** The schedule tick this invocation stands for (ms since epoch); the dedup ids derive from it. */
export function scheduledAt(event: ResyncEvent | null | undefined, now: () => number = Date.now): number {
  const parsed = Date.parse(event?.scheduledTime ?? event?.time ?? '');
  return Number.isFinite(parsed) ? parsed : now();
}

export function createHandler(deps: DepsSource<ResyncHandlerDeps>, obs: Observability = observability()) {
  return observedHandler<ResyncEvent, { keys: number; pages: number }>(obs)
    .handler(async (event) => {
      const { resync } = await resolveDeps(deps);
      return resyncAll(resync, { scheduledAt: scheduledAt(event) });
    });
}

export const handler = createHandler(resyncDeps);
