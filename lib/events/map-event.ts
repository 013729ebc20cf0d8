/**
 * Maps normalized object events to the DaemonSets they may affect (architecture.md "The flow",
 * docs/rules.md §16). Pure: no I/O, no clock (observedAt is an input).
 *
 * - DaemonSet (apps/v1, or daemonless.io/v1 when the CRD is managed) → its own key (WATCH-1).
 * - Pod → its controller owner's key when that is a managed DaemonSet (WATCH-2..4); on an update
 *   whose controller changed, the old owner's key too; an orphan pod being created, or updated with
 *   changed labels/owner, → a `selector` fan-out (adoption); an orphan's deletion → nothing.
 *   A pod event without an object (audit at Metadata level) → a `namespace` fan-out.
 * - Node → a `node` fan-out (WATCH-10: each DaemonSet whose eligibility there changed gets a
 *   node-scoped pass) on create and delete, and on update only when labels or taints changed
 *   (WATCH-6, v1.29+) in a way that can matter to some DaemonSet (WATCH-12); `all` when the source
 *   does not carry the node's state before and after.
 *   `nodes/status` writes cannot change either and are ignored.
 * The pod and node rules are the core's (lib/core/triggers.ts); this module adds what only the
 * webhook knows: the managed API group, the source's quirks, and refusing impossible input.
 * - Anything else → nothing.
 *
 * Events are hints: a forged event can cause at most an extra reconcile. Names that the API server
 * could never have produced (invalid DNS names, several controller references, owners without a
 * uid) are refused instead, so that nothing is enqueued for them.
 */
import {
  daemonSetGroup, isDnsLabel, isDnsSubdomain, isLabelValue, isQualifiedName, nodeUpdateMattersToNoDaemonSet, targetsForAddOrDelete, targetsForUpdate,
  type ManagedResource, type SyncTarget, type TriggerOwnerRef,
} from '../core/index.js';
import { dedupId } from './identity.js';
import type { FanoutRequest, FanoutScope, MappingResult, NodeFacts, ObjectEvent, ObjectSummary, ReconcileRequest } from './types.js';

export interface MappingOptions {
  readonly managed: ManagedResource;
  /** When the events were received (ms since epoch). */
  readonly observedAt: number;
  /**
   * The events come from an admission review, i.e. before the API server stores the object: the
   * keys are marked for a second look, since a reconcile that runs at once may not see the change.
   */
  readonly recheck?: boolean;
}

export type MapResult = ({ readonly ok: true } & MappingResult) | { readonly ok: false; readonly reason: string };

/** API group of the managed DaemonSet resource. */
export const MANAGED_GROUP: Readonly<Record<ManagedResource, string>> = { native: daemonSetGroup('native'), crd: daemonSetGroup('crd') };


class Rejected extends Error {}

/** Maps a list of events; refuses the whole list if any event is unusable. */
export function mapEvents(events: readonly ObjectEvent[], options: MappingOptions): MapResult {
  const requests = new Map<string, ReconcileRequest>();
  const fanouts = new Map<string, FanoutRequest>();
  try {
    for (const event of events) {
      const out = mapEvent(event, options);
      for (const r of out.requests) if (!requests.has(r.dedupId)) requests.set(r.dedupId, r);
      for (const f of out.fanouts) if (!fanouts.has(f.dedupId)) fanouts.set(f.dedupId, f);
    }
  } catch (e) {
    if (e instanceof Rejected) return { ok: false, reason: e.message };
    throw e;
  }
  return { ok: true, requests: [...requests.values()], fanouts: [...fanouts.values()] };
}

function mapEvent(event: ObjectEvent, options: MappingOptions): MappingResult {
  const group = MANAGED_GROUP[options.managed];
  if (event.kind === 'DaemonSet' && event.group === group) return mapDaemonSet(event, options);
  if (event.kind === 'Pod' && event.group === '') return mapPod(event, options);
  if (event.kind === 'Node' && event.group === '') return mapNode(event, options);
  return { requests: [], fanouts: [] };
}

const request = (key: string, event: ObjectEvent, options: MappingOptions): ReconcileRequest => ({
  key, dedupId: dedupId(event.identity, key), observedAt: options.observedAt, ...(options.recheck ? { recheck: true } : {}),
});

const fanout = (scope: FanoutScope, cause: string, event: ObjectEvent, options: MappingOptions): FanoutRequest => ({
  ...scope, cause, dedupId: dedupId(event.identity, 'fanout', JSON.stringify(scope)), observedAt: options.observedAt,
  ...(options.recheck ? { recheck: true } : {}),
});

function requireNamespace(event: ObjectEvent): string {
  if (!isDnsLabel(event.namespace)) throw new Rejected(`${event.kind} ${JSON.stringify(event.namespace)}: invalid namespace`);
  return event.namespace;
}

function requireName(event: ObjectEvent): string {
  if (!isDnsSubdomain(event.name)) throw new Rejected(`${event.kind} ${JSON.stringify(event.name)}: invalid name`);
  return event.name;
}

function mapDaemonSet(event: ObjectEvent, options: MappingOptions): MappingResult {
  const key = `${requireNamespace(event)}/${requireName(event)}`;
  return { requests: [request(key, event, options)], fanouts: [] };
}

/** Several controller references are refused (the API server forbids them). */
function requireOneController(o: ObjectSummary): void {
  if (o.ownerReferences.filter((r) => r.controller === true).length > 1) throw new Rejected('object has more than one controller reference');
}

/** The key of a managed DaemonSet controlling the pod, or null (orphan, or owned by something else). */
function ownerKey(ref: TriggerOwnerRef, namespace: string, managedGroup: string): string | null {
  if (ref.kind !== 'DaemonSet' || !ref.apiVersion.startsWith(`${managedGroup}/`)) return null;
  if (!isDnsSubdomain(ref.name)) throw new Rejected(`controller reference names an invalid DaemonSet ${JSON.stringify(ref.name)}`);
  if (ref.uid.length === 0) throw new Rejected('controller reference without a uid');
  return `${namespace}/${ref.name}`;
}

function validatedLabels(labels: Readonly<Record<string, string>>): Readonly<Record<string, string>> {
  for (const [k, v] of Object.entries(labels)) {
    if (!isQualifiedName(k) || !isLabelValue(v)) throw new Rejected(`invalid label ${JSON.stringify(k)}`);
  }
  return labels;
}

/**
 * WATCH-2..4 through the core's rules (lib/core/triggers.ts): the targets of the change, turned
 * into the owner's key (when the owner is a managed DaemonSet) or a `selector` fan-out (every
 * DaemonSet of the namespace whose selector adopts the pod). An update whose previous state the
 * source does not carry is taken as an add; admission objects still carry the old resourceVersion,
 * so the unchanged-resourceVersion check applies to watch events only.
 */
function mapPod(event: ObjectEvent, options: MappingOptions): MappingResult {
  const namespace = requireNamespace(event);
  requireName(event);
  const group = MANAGED_GROUP[options.managed];
  const { object, oldObject } = event;
  const current = object ?? oldObject;
  if (current === null) {
    // Nothing but a reference (audit at Metadata level): any DaemonSet of the namespace may care.
    return { requests: [], fanouts: [fanout({ scope: 'namespace', namespace }, `pod ${namespace}/${event.name} ${event.operation}`, event, options)] };
  }
  requireOneController(current);
  if (oldObject !== null) requireOneController(oldObject);
  let targets: SyncTarget[];
  if (event.operation === 'delete' || object === null) targets = targetsForAddOrDelete('Pod', 'delete', current);
  else if (event.operation === 'create' || oldObject === null) targets = targetsForAddOrDelete('Pod', 'add', object);
  else targets = targetsForUpdate('Pod', event.source === 'watch' ? oldObject : { ...oldObject, resourceVersion: undefined }, object);

  const requests: ReconcileRequest[] = [];
  const fanouts: FanoutRequest[] = [];
  for (const target of targets) {
    if (target.to === 'owner') {
      const key = ownerKey(target.ref, namespace, group);
      if (key !== null) requests.push(request(key, event, options));
    } else {
      fanouts.push(fanout({ scope: 'selector', namespace, labels: validatedLabels(current.labels) },
        `orphan pod ${namespace}/${event.name} ${event.operation}`, event, options));
    }
  }
  return { requests, fanouts };
}

function mapNode(event: ObjectEvent, options: MappingOptions): MappingResult {
  const name = requireName(event);
  const { object, oldObject } = event;
  if (event.operation === 'update') {
    // Status writes cannot change labels or taints (both are reset by the status strategy).
    if (event.subresource === 'status') return { requests: [], fanouts: [] };
    // WATCH-12 (which takes in WATCH-6's unchanged labels and taints).
    if (object !== null && oldObject !== null && nodeUpdateMattersToNoDaemonSet(oldObject, object)) {
      return { requests: [], fanouts: [] };
    }
  } else if (event.subresource !== '') {
    return { requests: [], fanouts: [] };
  }
  const cause = `node ${name} ${event.operation}`;
  // WATCH-10 needs the node before and after the change; a source without them reaches every DaemonSet.
  const before = event.operation === 'create' ? null : event.operation === 'delete' ? oldObject ?? object : oldObject;
  const after = event.operation === 'delete' ? null : object;
  const known = (event.operation === 'create' || before !== null) && (event.operation === 'delete' || after !== null);
  if (!known) return { requests: [], fanouts: [fanout({ scope: 'all' }, cause, event, options)] };
  return { requests: [], fanouts: [fanout({ scope: 'node', node: name, before: before && facts(before), after: after && facts(after) }, cause, event, options)] };
}

/** The labels and taints of a node (validated: they travel in the queue message). */
function facts(o: ObjectSummary): NodeFacts {
  return { labels: validatedLabels(o.labels), taints: o.taints };
}
