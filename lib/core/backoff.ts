/**
 * Failed-pod back-off without controller memory (FAIL-1..3, IMPL-4).
 *
 * Choice: upstream keeps an in-memory `flowcontrol.Backoff` keyed by
 * `<ds uid>/<observedGeneration>/<node>`. daemonless has no memory between passes, so the same
 * record lives in an annotation on the DaemonSet itself (`FAILED_POD_BACKOFF_ANNOTATION`):
 * `{"generation":<metadata.generation>,"nodes":{"<node>":{"count":<n>,"last":"<time>"}}}`.
 * - A pass that deletes a failed pod on a node advances that node's entry (count + 1, last = now;
 *   count restarts at 1 when the entry is older than 2 × max) and the plan carries the new
 *   annotation value for the shell to merge-patch onto the DaemonSet with the deletes.
 * - A failed pod is "in back-off" when its node's entry exists, is at most 2 × max old, and
 *   `now − last < min(initial × 2^(count−1), max)`. It is then kept, and the plan asks to be
 *   requeued when the back-off ends (the remaining time, rounded up — upstream requeues after the
 *   full current delay).
 * - The record is bound to `metadata.generation`: a new DaemonSet generation resets the back-off,
 *   as upstream's observedGeneration-keyed entries do. Entries older than 2 × max are dropped
 *   whenever the record is rewritten; a converged DaemonSet never has it rewritten.
 * The record survives stale reads conservatively: at worst a delete happens one step early.
 */
import type { V1DaemonSet } from '@kubernetes/client-node';
import { FAILED_POD_BACKOFF_ANNOTATION } from './labels.js';
import { toMillis } from './time.js';
import type { BackoffOptions } from './types.js';

/** One node's back-off entry. */
export interface BackoffEntry {
  /** Failed pods deleted in the current streak. */
  readonly count: number;
  /** When the last one was deleted (ms since epoch). */
  readonly lastMs: number;
}

/** Back-off entries by node name (only those of the DaemonSet's current generation). */
export type BackoffRecord = ReadonlyMap<string, BackoffEntry>;

/** Reads the record from the DaemonSet; an absent, malformed or other-generation record is empty. */
export function readBackoffRecord(ds: V1DaemonSet): BackoffRecord {
  const raw = ds.metadata?.annotations?.[FAILED_POD_BACKOFF_ANNOTATION];
  const out = new Map<string, BackoffEntry>();
  if (raw === undefined) return out;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return out;
  }
  if (typeof parsed !== 'object' || parsed === null) return out;
  const rec = parsed as { generation?: unknown; nodes?: unknown };
  if (rec.generation !== (ds.metadata?.generation ?? 0)) return out;
  if (typeof rec.nodes !== 'object' || rec.nodes === null) return out;
  for (const [node, value] of Object.entries(rec.nodes as Record<string, unknown>)) {
    if (typeof value !== 'object' || value === null) continue;
    const v = value as { count?: unknown; last?: unknown };
    const lastMs = typeof v.last === 'string' ? toMillis(v.last) : undefined;
    if (typeof v.count !== 'number' || !Number.isInteger(v.count) || v.count < 1 || lastMs === undefined) continue;
    out.set(node, { count: v.count, lastMs });
  }
  return out;
}

/** The delay of an entry: initial × 2^(count−1), capped at max (seconds). */
export function backoffDelaySeconds(count: number, opts: BackoffOptions): number {
  const exp = Math.min(Math.max(count - 1, 0), 60);
  return Math.min(opts.initialSeconds * 2 ** exp, opts.maxSeconds);
}

function expired(entry: BackoffEntry, nowMs: number, opts: BackoffOptions): boolean {
  return nowMs - entry.lastMs > 2 * opts.maxSeconds * 1000;
}

/**
 * Mirrors `Backoff.IsInBackOffSinceUpdate`: returns the remaining back-off in seconds (> 0) when the
 * node is in back-off at `now`, else undefined.
 */
export function backoffRemainingSeconds(entry: BackoffEntry | undefined, now: Date, opts: BackoffOptions): number | undefined {
  if (entry === undefined) return undefined;
  const nowMs = now.getTime();
  if (expired(entry, nowMs, opts)) return undefined;
  const remainingMs = backoffDelaySeconds(entry.count, opts) * 1000 - (nowMs - entry.lastMs);
  return remainingMs > 0 ? remainingMs / 1000 : undefined;
}

/** Mirrors `Backoff.Next`: the entry after one more failed-pod deletion at `now`. */
export function nextBackoffEntry(entry: BackoffEntry | undefined, now: Date, opts: BackoffOptions): BackoffEntry {
  const nowMs = now.getTime();
  if (entry === undefined || expired(entry, nowMs, opts)) return { count: 1, lastMs: nowMs };
  return { count: Math.min(entry.count + 1, 64), lastMs: nowMs };
}

/**
 * The annotation value for a record: current-generation entries not expired at `now`, sorted by
 * node name, timestamps with millisecond precision.
 */
export function serializeBackoffRecord(ds: V1DaemonSet, record: BackoffRecord, now: Date, opts: BackoffOptions): string {
  const nodes: Record<string, { count: number; last: string }> = {};
  for (const node of [...record.keys()].sort()) {
    const entry = record.get(node) as BackoffEntry;
    if (expired(entry, now.getTime(), opts)) continue;
    nodes[node] = { count: entry.count, last: new Date(entry.lastMs).toISOString() };
  }
  return JSON.stringify({ generation: ds.metadata?.generation ?? 0, nodes });
}
