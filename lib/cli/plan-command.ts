/**
 * The pure part of `daemonless plan`: snapshot text + time + options → report.
 */
import { plan, type PlacementMode, type PlanOptions } from '../core/index.js';
import { reportOf, type PlanReport } from './render.js';
import { parseSnapshot, printable, snapshotsOf, SnapshotError, type ByteSource, type SnapshotObjects } from './snapshot.js';

/** Controller options accepted as flags (same defaults as the controller). */
export interface PlanFlags {
  readonly placement?: string;
  readonly deferRollingUpdate?: boolean;
  readonly backoffInitialSeconds?: string;
  readonly backoffMaxSeconds?: string;
}

/** Turns flags into core options; throws `SnapshotError` (exit 2) for bad values. */
export function planOptionsOf(flags: PlanFlags): PlanOptions {
  const placement = flags.placement ?? 'affinity';
  if (placement !== 'affinity' && placement !== 'nodeName') throw new SnapshotError(`--placement: must be affinity or nodeName, got "${placement}"`);
  const seconds = (flag: string, value: string | undefined, fallback: number): number => {
    if (value === undefined) return fallback;
    const n = Number(value);
    if (!Number.isFinite(n) || n <= 0) throw new SnapshotError(`${flag}: must be a positive number of seconds, got "${value}"`);
    return n;
  };
  return {
    placement: placement as PlacementMode,
    deferRollingUpdate: flags.deferRollingUpdate === true,
    failedPodBackoff: {
      initialSeconds: seconds('--backoff-initial-seconds', flags.backoffInitialSeconds, 1),
      maxSeconds: seconds('--backoff-max-seconds', flags.backoffMaxSeconds, 900),
    },
  };
}

/** Parses `--now` (RFC 3339); throws `SnapshotError` when unparsable. */
export function parseNow(value: string | undefined, fallback: () => Date): Date {
  if (value === undefined) return fallback();
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i.test(value) || Number.isNaN(Date.parse(value))) {
    throw new SnapshotError(`--now: not an RFC 3339 time: "${value}"`);
  }
  return new Date(Date.parse(value));
}

/** One pass per DaemonSet of the objects, sorted by namespace then name. */
export function planObjects(objects: SnapshotObjects, now: Date, options: PlanOptions): PlanReport {
  return {
    daemonSets: snapshotsOf(objects).map((s) => {
      try {
        return reportOf(plan(s, now, options));
      } catch (e) {
        // Input the checks let through but the pass cannot handle is still unusable input.
        const m = s.daemonSet.metadata;
        throw new SnapshotError(`DaemonSet ${printable(m?.namespace ?? '')}/${printable(m?.name ?? '')}: cannot be planned: ${printable((e as Error).message.split('\n')[0] ?? '')}`);
      }
    }),
  };
}

/** Text in, report out (throws `SnapshotError` for unusable input). */
export function planSnapshotText(text: string | Uint8Array | ByteSource, source: string, now: Date, options: PlanOptions): PlanReport {
  return planObjects(parseSnapshot(text, source), now, options);
}
