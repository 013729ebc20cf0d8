/**
 * The seams between the shell and its drivers (Lambda handlers, the local runner, tests).
 * Types only.
 */
import type { V1DaemonSet, V1Node } from '@kubernetes/client-node';
import type { DaemonSetKey, DaemonSetSummary, ReconcileRequest } from '../events/types.js';
import type { ListResult } from './cluster-api.js';

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
  /** `node`: a node-scoped pass (IMPL-6) did the work; absent: a full pass. */
  readonly scope?: 'node';
  /** Bursts of pod writes the pass made (IMPL-7: more than one when it continued after the burst cap). */
  readonly bursts?: number;
  /** A node-scoped pass left the work to a full pass of the key, which the caller enqueues (IMPL-8). */
  readonly fullPassNeeded?: boolean;
}

/**
 * Reads the passes of one batch share. Every record of a batch was sent before the batch was
 * received, so a read made while the batch runs is newer than every event that caused its records.
 */
export interface SharedReads {
  nodes?: Promise<ListResult<V1Node>>;
  /** Every managed DaemonSet, for the batch's cluster-wide fan-outs (IMPL-5). */
  daemonSets?: Promise<readonly DaemonSetSummary[]>;
  /** The nodes the batch's node-scoped passes read, by name: one read per node for all DaemonSets (IMPL-5). */
  nodeByName?: Map<string, Promise<V1Node | null>>;
}

export interface ReconcileOptions {
  readonly signal?: AbortSignal;
  /** Reconcile only this node's daemon pods (IMPL-6); the pass falls back to a full one when it must. */
  readonly node?: string;
  /** With `node`: the DaemonSet's label selector, if known, so the pass reads everything at once. */
  readonly labelSelector?: string;
  /** With `node`: the DaemonSet as the fan-out's shared list read it (IMPL-5); the pass does not read it again. */
  readonly daemonSet?: V1DaemonSet;
  /** Reads shared with the other passes of the same batch. */
  readonly shared?: SharedReads;
  /** Until when (ms since epoch) a full pass may go on after its burst cap (IMPL-7); absent: one burst. */
  readonly continueUntil?: number;
}

/** Reconciles one DaemonSet. Throws TransientError (retry) or TerminalError (ack); see errors.ts. */
export type ReconcileFn = (key: DaemonSetKey, options?: ReconcileOptions) => Promise<ReconcileReport>;

/** Where reconcile requests go: an SQS FIFO queue, or the local runner's in-process queue. */
export interface WorkQueue {
  enqueue(requests: readonly ReconcileRequest[]): Promise<void>;
  /** Deliver the request after delaySeconds (≤ 900); FIFO queues need the delay path for this. */
  enqueueAfter(request: ReconcileRequest, delaySeconds: number): Promise<void>;
}
