/**
 * The cluster port: every Kubernetes call the reconcile shell makes. The Kubernetes adapter
 * (lib/adapters/kube) implements it over the real API; tests implement it in memory. Types only.
 *
 * Failures are the shell's error classes (errors.ts): TransientError (retry) or TerminalError,
 * with ConflictError and InvalidObjectError for the two API answers the shell acts on.
 */
import type { V1ControllerRevision, V1DaemonSet, V1DaemonSetStatus, V1Node, V1Pod } from '@kubernetes/client-node';

/** API traffic of one reconcile pass (or of an adapter's whole life). */
export interface ApiCounters {
  reads: number;
  writes: number;
}

/** A list that may have been cut short (a continue token expired mid-way). */
export interface ListResult<T> {
  readonly items: T[];
  readonly complete: boolean;
}

/** An event recorded on a DaemonSet (or on one of its pods). */
export interface ClusterEvent {
  readonly type: 'Normal' | 'Warning';
  readonly reason: string;
  readonly message: string;
}

/**
 * What happened to a write that the controller treats idempotently: `done` (this call made the
 * change) or `already-done` (AlreadyExists on a create, NotFound or a UID precondition failure
 * on a delete: the state this pass wanted holds without this call).
 */
export type WriteOutcome = 'done' | 'already-done';

/** The patch formats the controller uses. */
export type PatchKind = 'strategic' | 'merge';

/** The object a recorded event is about. */
export interface InvolvedObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  readonly uid?: string;
}

export interface ClusterApi {
  readonly counters: ApiCounters;
  /** A view with counters of its own (one per reconcile pass). */
  session(): ClusterApi;
  getDaemonSet(namespace: string, name: string): Promise<V1DaemonSet | null>;
  listDaemonSets(): Promise<ListResult<V1DaemonSet>>;
  replaceDaemonSetStatus(ds: V1DaemonSet, status: V1DaemonSetStatus): Promise<V1DaemonSet>;
  patchDaemonSetMetadata(namespace: string, name: string, metadata: object): Promise<void>;
  listNodes(): Promise<ListResult<V1Node>>;
  /** The node, or null when it does not exist. */
  getNode(name: string): Promise<V1Node | null>;
  /** Pods of a namespace, filtered by a label selector and a field selector (e.g. `spec.nodeName=n1`). */
  listPods(namespace: string, labelSelector?: string, fieldSelector?: string): Promise<ListResult<V1Pod>>;
  createPod(pod: V1Pod): Promise<WriteOutcome>;
  deletePod(namespace: string, name: string, uid: string | undefined): Promise<WriteOutcome>;
  patchPod(namespace: string, name: string, body: object, strategy: PatchKind): Promise<WriteOutcome>;
  listRevisions(namespace: string, labelSelector?: string): Promise<ListResult<V1ControllerRevision>>;
  createRevision(rev: V1ControllerRevision): Promise<{ outcome: WriteOutcome; existing?: V1ControllerRevision }>;
  patchRevision(namespace: string, name: string, body: object, strategy: PatchKind): Promise<WriteOutcome>;
  deleteRevision(namespace: string, name: string, uid: string | undefined): Promise<WriteOutcome>;
  /** Best-effort: false when the event could not be recorded. */
  recordEvent(involved: InvolvedObject, event: ClusterEvent, now: Date): Promise<boolean>;
}
