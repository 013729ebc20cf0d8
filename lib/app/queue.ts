/**
 * Queue seams of the event pipeline beyond `WorkQueue` (ports.ts): fan-out messages, and the
 * consumer side that the local runner pulls from. Types only.
 */
import type { DaemonSetKey, DaemonSetSummary, FanoutRequest } from '../events/types.js';
import type { WorkQueue } from './ports.js';

/** The webhook's and the reconcile function's view of the queue: keys, fan-outs and delayed keys. */
export interface EventQueue extends WorkQueue {
  enqueueFanouts(requests: readonly FanoutRequest[]): Promise<void>;
}

/** One received message. `receipt` identifies this receive (ack and retry use it). */
export interface Delivery {
  readonly messageId: string;
  readonly receipt: string;
  readonly body: string;
  readonly groupId: string | undefined;
  /** 1 on the first receive. */
  readonly receiveCount: number;
}

/** The pulling side of a FIFO queue: a group with a message in flight delivers nothing more until it is done. */
export interface QueueConsumer {
  /** Up to `max` messages, waiting up to `waitMs` for the first one. */
  receive(max: number, waitMs: number, signal?: AbortSignal): Promise<Delivery[]>;
  /** Done: delete the message. */
  ack(delivery: Delivery): Promise<void>;
  /** Failed: make it visible again after `delayMs` (it keeps blocking its group until then). */
  retryLater(delivery: Delivery, delayMs: number): Promise<void>;
}

/** One page of managed DaemonSets. `continueToken` is absent on the last page. */
export interface DaemonSetPage {
  readonly items: readonly DaemonSetSummary[];
  readonly continueToken?: string | undefined;
}

/**
 * Lists managed DaemonSets one page at a time (a LIST with `limit` and `continue`; in one namespace
 * when `namespace` is given). Implemented by the Kubernetes adapter. Throws TransientError on
 * failures worth retrying.
 */
export type ListDaemonSets = (request: {
  readonly namespace?: string | undefined;
  readonly limit: number;
  readonly continueToken?: string | undefined;
}) => Promise<DaemonSetPage>;

/** A Kubernetes Event about a DaemonSet (involvedObject = the DaemonSet of `key`). */
export interface DaemonSetEvent {
  readonly key: DaemonSetKey;
  readonly type: 'Normal' | 'Warning';
  /** UpperCamelCase, e.g. "ReconcileFailed". */
  readonly reason: string;
  readonly message: string;
  /** The DaemonSet's uid when known; the adapter looks it up otherwise (kubectl describe matches on it). */
  readonly uid?: string;
}

/** Records a Kubernetes Event. Implemented by the Kubernetes adapter; failures are logged, never fatal. */
export type EmitEvent = (event: DaemonSetEvent) => Promise<void>;
