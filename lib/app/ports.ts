/**
 * The seams between the shell and its drivers (Lambda handlers, the local runner, tests).
 * Types only.
 */

/** A DaemonSet key: "namespace/name". Keys are hints; a reconcile always reads live state. */
export type DaemonSetKey = string;

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

/** A message asking for one DaemonSet to be reconciled. */
export interface ReconcileRequest {
  readonly key: DaemonSetKey;
  /** Deduplication identity of the event that caused it (FIFO MessageDeduplicationId source). */
  readonly dedupId: string;
  /** When the causing event was observed (ms since epoch), for event-to-action latency. */
  readonly observedAt?: number;
  /**
   * The event was seen before the API server stored it (an admission review): after reconciling,
   * look again a few seconds later, when the change is certain to be readable.
   */
  readonly recheck?: boolean;
}

/** Where reconcile requests go: an SQS FIFO queue, or the local runner's in-process queue. */
export interface WorkQueue {
  enqueue(requests: readonly ReconcileRequest[]): Promise<void>;
  /** Deliver the request after delaySeconds (≤ 900); FIFO queues need the delay path for this. */
  enqueueAfter(request: ReconcileRequest, delaySeconds: number): Promise<void>;
}
