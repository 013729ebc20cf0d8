/**
 * Normalized object events and what they map to. Every source (AdmissionReview, audit EventList,
 * watch event) is turned into `ObjectEvent`s first; the mapping rules then see one shape only.
 * The keys and reconcile requests they map to are declared here too: the shell (lib/app) and the
 * queue adapters import them from this module.
 */
import type { V1DaemonSet } from '@kubernetes/client-node';
import type { LabelSelector } from '../core/label-selector.js';

/** A DaemonSet key: "namespace/name". Keys are hints; a reconcile always reads live state. */
export type DaemonSetKey = string;

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
  /**
   * A node-scoped pass (IMPL-6): only this node's daemon pods are created or deleted, from a read
   * of that node and the DaemonSet's pods on it; a full pass follows for status.
   */
  readonly node?: string;
  /**
   * With `node`: the DaemonSet's label selector as the fan-out listed it, so that the pass reads the
   * DaemonSet, the node, its pods and revisions at once (the selector is immutable; a pass that
   * finds another one reads again with it).
   */
  readonly labelSelector?: string;
}

export type EventSource = 'admission' | 'audit' | 'watch';
export type Operation = 'create' | 'update' | 'delete';
export type MappedKind = 'DaemonSet' | 'Pod' | 'Node' | 'Other';

export interface OwnerReference {
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
  readonly uid: string;
  readonly controller?: boolean | undefined;
}

export interface Taint {
  readonly key: string;
  readonly value?: string | undefined;
  readonly effect: string;
  /** RFC 3339; set on NoExecute taints by the node lifecycle controller. */
  readonly timeAdded?: string | undefined;
}

/** The few fields of a Kubernetes object the mapping reads. Everything else is dropped at parse time. */
export interface ObjectSummary {
  readonly name: string | undefined;
  readonly namespace: string | undefined;
  readonly uid: string | undefined;
  readonly resourceVersion: string | undefined;
  readonly labels: Readonly<Record<string, string>>;
  readonly ownerReferences: readonly OwnerReference[];
  readonly deletionTimestamp: string | undefined;
  readonly taints: readonly Taint[];
}

export interface ObjectEvent {
  readonly source: EventSource;
  readonly operation: Operation;
  /** API group of the object ('' for core). */
  readonly group: string;
  readonly kind: string;
  readonly subresource: string;
  readonly namespace: string;
  readonly name: string;
  /** The object after the change (null when the source does not carry it, or on delete). */
  readonly object: ObjectSummary | null;
  /** The object before the change, when the source carries it. */
  readonly oldObject: ObjectSummary | null;
  /** Identity of the event (uid, resourceVersion, operation or audit ID): the dedup source. */
  readonly identity: string;
}


/** A node's labels and taints: all its daemon-pod eligibility depends on besides its name. */
export interface NodeFacts {
  readonly labels: Readonly<Record<string, string>>;
  readonly taints: readonly Taint[];
}

/**
 * A request to reconcile a set of DaemonSets that only a DaemonSet list can name. The webhook sends
 * one of these instead of listing on its hot path; the reconcile function expands it.
 * - `all`: every managed DaemonSet (node added, deleted, relabelled or retainted);
 * - `namespace`: every DaemonSet in `namespace` (a pod event that carried no object);
 * - `selector`: every DaemonSet in `namespace` whose non-empty selector matches `labels` (orphan pod);
 * - `node`: a node added, changed or deleted, with its facts before and after (null: not there):
 *   each DaemonSet gets what WATCH-10 says (a node-scoped pass, a full pass, or nothing).
 */
export type FanoutScope =
  | { readonly scope: 'all' }
  | { readonly scope: 'node'; readonly node: string; readonly before: NodeFacts | null; readonly after: NodeFacts | null }
  | { readonly scope: 'namespace'; readonly namespace: string }
  | { readonly scope: 'selector'; readonly namespace: string; readonly labels: Readonly<Record<string, string>> };

export type FanoutRequest = FanoutScope & {
  /** Why (for logs): e.g. "node/node-1 update". */
  readonly cause: string;
  readonly dedupId: string;
  readonly observedAt?: number | undefined;
  /** Pre-persistence event: the expanded keys get a second look (see ReconcileRequest.recheck). */
  readonly recheck?: boolean;
};

/** The result of mapping one or more events. */
export interface MappingResult {
  readonly requests: readonly ReconcileRequest[];
  readonly fanouts: readonly FanoutRequest[];
}

/** A DaemonSet as the fan-out expansion and the resync see it. */
export type { LabelSelector, LabelSelectorRequirement } from '../core/label-selector.js';

export interface DaemonSetSummary {
  readonly key: DaemonSetKey;
  readonly namespace: string;
  readonly name: string;
  readonly selector: LabelSelector | null;
  /** The DaemonSet's scheduling fields only (`schedulingOf`), for WATCH-10; null when unknown. */
  readonly scheduling?: V1DaemonSet | null;
  /** The DaemonSet as listed, for the node-scoped passes of a fan-out (IMPL-5). */
  readonly daemonSet?: V1DaemonSet;
}
