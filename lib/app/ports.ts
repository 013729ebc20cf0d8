/**
 * The seams between the shell and its drivers (Lambda handlers, the local runner, tests).
 * Types only.
 */
import type { DaemonSetKey, ReconcileRequest } from '../events/types.js';

/** What one reconcile of one DaemonSet did. */
export interface ReconcileReport {
  readonly key: DaemonSetKey;
  /** The DaemonSet no longer exists (success, nothing done). */
  readonly missing: boolean;
  readonly podsCreated: number;
  readonly podsDeleted: number;
  readonly statusWritten: boolean;
  /** API reads and writes this pass made. */
  readonly reads: number;
  readonly writes: number;
  /** Look at this DaemonSet again after this many seconds, without any event (null: no need). */
  readonly requeueAfterSeconds: number | null;
}

/** Reconciles one DaemonSet. Throws TransientError (retry) or TerminalError (ack); see errors.ts. */
export type ReconcileFn = (key: DaemonSetKey, signal?: AbortSignal) => Promise<ReconcileReport>;

/** Where reconcile requests go: an SQS FIFO queue, or the local runner's in-process queue. */
export interface WorkQueue {
  enqueue(requests: readonly ReconcileRequest[]): Promise<void>;
  /** Deliver the request after delaySeconds (≤ 900); FIFO queues need the delay path for this. */
  enqueueAfter(request: ReconcileRequest, delaySeconds: number): Promise<void>;
}
