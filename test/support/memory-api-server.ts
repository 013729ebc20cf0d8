/**
 * An in-memory Kubernetes API server for the calls the controller makes. Tests reach it through
 * client-node shaped API objects (memory-clients.ts) handed to the real `KubeCluster`, so every
 * answer goes through the adapter's own error translation; a fault layer (fault-cluster.ts) can
 * sit between those objects and this server.
 *
 * Server semantics (what the real API server does for these calls):
 * - objects get uid, resourceVersion (one global counter), generation (DaemonSets) and a
 *   creationTimestamp with whole-second precision;
 * - lists filter by a `labelSelector` string (parsed with the project's label-selector module; a
 *   string it refuses is 400 BadRequest), page with `limit`/`continue`, and serve every page from
 *   the snapshot taken by the first one (consistent lists); an unknown or expired continue token is
 *   410 Expired;
 * - create of an existing name is 409 AlreadyExists; a create in a namespace being deleted is
 *   403 Forbidden with the cause NamespaceTerminating (the NamespaceLifecycle admission plugin);
 *   delete/patch of a missing object is 404; a delete whose `preconditions.uid` differs, a patch
 *   whose `metadata.uid` differs, and a status replace with a stale resourceVersion are 409 Conflict;
 * - strategic merge patches merge `metadata.ownerReferences` by uid (`$patch: delete` removes) and
 *   refuse a second controller reference (422 Invalid); merge patches follow RFC 7386;
 * - deleting a bound, non-terminal pod with a grace period sets deletionTimestamp; the simulated
 *   kubelet removes it later. Unbound and terminal pods go at once.
 * Errors are thrown as client-node throws them for a non-2xx answer: an `ApiException` with the
 * HTTP status as `code` and the API server's `Status` object, as JSON text, as `body`.
 *
 * Watches (nodes, and pods of a namespace by label selector): every create, change and delete of a
 * node or pod is logged with its resourceVersion; the last `watchWindow` changes are kept. A watch
 * from resourceVersion X gets every logged change after X that it can see, in order, then the live
 * ones, as ADDED/MODIFIED/DELETED events (an object that stops matching the label selector is a
 * DELETED event, one that starts matching an ADDED one, as the API server's watch cache sends
 * them). A watch from a version older than the kept window is 410 Expired ("too old resource
 * version"). `watch` is synchronous (a backlog, then a callback per change); memory-watch.ts
 * delivers the events to clients asynchronously, with the fault layer's delays and cuts.
 *
 * The simulated scheduler and kubelet (`tick`) bind pods, start them and make them Ready after a
 * configurable number of ticks, and remove deleting pods once their grace period has passed.
 */
import type {
  CoreV1Event,
  V1ControllerRevision,
  V1DaemonSet,
  V1DaemonSetStatus,
  V1Node,
  V1ObjectMeta,
  V1OwnerReference,
  V1Pod,
} from '@kubernetes/client-node';
import { ApiException } from '@kubernetes/client-node';
import type { WatchClient, WatchRequest } from '../../lib/adapters/kube/list-cache.js';
import type { WatchEvent } from '../../lib/adapters/kube/watched-collection.js';
import type { PatchKind } from '../../lib/app/cluster-api.js';
import { compileSelector, parseSelectorString, TEMPLATE_GENERATION_ANNOTATION } from '../../lib/core/index.js';
import { MICROTASKS, openWatch } from './memory-watch.js';

// ---------------------------------------------------------------------------------------------
// Errors as client-node surfaces them

/** What the API server puts in a Status' `details`. */
export interface StatusDetails {
  readonly name?: string;
  readonly group?: string;
  readonly kind?: string;
  readonly causes?: readonly { readonly reason?: string; readonly message?: string; readonly field?: string }[];
}

/**
 * The error client-node throws for a non-2xx answer: `ApiException` with the status code and the
 * response text, a `Status` object as the API server writes it.
 */
export function apiException(code: number, reason: string, message: string, details?: StatusDetails): ApiException<string> {
  const status = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, ...(details ? { details } : {}), code };
  return new ApiException(code, 'Unknown API Status Code!', JSON.stringify(status), { 'content-type': 'application/json' });
}

interface Resource {
  readonly resource: string;
  readonly group: string;
}
const PODS: Resource = { resource: 'pods', group: '' };
const NODES: Resource = { resource: 'nodes', group: '' };
const DAEMONSETS: Resource = { resource: 'daemonsets', group: 'apps' };
const REVISIONS: Resource = { resource: 'controllerrevisions', group: 'apps' };
const EVENTS: Resource = { resource: 'events', group: '' };

/** `resource` as the API server names it in messages: `pods`, `daemonsets.apps`. */
const resourceName = (r: Resource): string => (r.group === '' ? r.resource : `${r.resource}.${r.group}`);
const detailsOf = (r: Resource, name: string): StatusDetails => ({ name, ...(r.group === '' ? {} : { group: r.group }), kind: r.resource });

const notFound = (r: Resource, name: string) => apiException(404, 'NotFound', `${resourceName(r)} "${name}" not found`, detailsOf(r, name));
const alreadyExists = (r: Resource, name: string) => apiException(409, 'AlreadyExists', `${resourceName(r)} "${name}" already exists`, detailsOf(r, name));
const uidConflict = (r: Resource, name: string, want: string, got: string | undefined) =>
  apiException(409, 'Conflict', `Precondition failed: UID in precondition: ${want}, UID in object meta: ${got ?? ''}`, detailsOf(r, name));
const staleConflict = (r: Resource, name: string) => apiException(409, 'Conflict',
  `Operation cannot be fulfilled on ${resourceName(r)} "${name}": the object has been modified; please apply your changes to the latest version and try again`, detailsOf(r, name));
const invalid = (kind: string, name: string, field: string, detail: string) =>
  apiException(422, 'Invalid', `${kind} "${name}" is invalid: ${field}: ${detail}`, { name, kind, causes: [{ reason: 'FieldValueInvalid', message: detail, field }] });
/** 410 on a continue token the server no longer holds. */
export const expired = () => apiException(410, 'Expired',
  'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.');
/** A watch from a resourceVersion older than the kept window. */
export const tooOld = (from: number, oldest: number) => apiException(410, 'Expired', `too old resource version: ${from} (${oldest})`);
const namespaceTerminating = (r: Resource, namespace: string, name: string) =>
  apiException(403, 'Forbidden', `${resourceName(r)} "${name}" is forbidden: unable to create new content in namespace ${namespace} because it is being terminated`, {
    ...detailsOf(r, name), causes: [{ reason: 'NamespaceTerminating', message: `namespace ${namespace} is being terminated`, field: 'metadata.namespace' }],
  });

// ---------------------------------------------------------------------------------------------
// Label selectors

/** The predicate of a `labelSelector` query parameter; a string the API server would refuse is 400 BadRequest. */
/** The pod field selector `spec.nodeName=<name>`; anything else is refused as the API server refuses unknown fields. */
function fieldPredicate(selector: string | undefined): (o: object) => boolean {
  if (selector === undefined || selector === '') return () => true;
  const m = /^spec\.nodeName=(.*)$/.exec(selector);
  if (!m) throw apiException(400, 'BadRequest', `"${selector}" is not a known field selector: only "spec.nodeName=<name>"`);
  const want = m[1] ?? '';
  return (o) => ((o as { spec?: { nodeName?: string } }).spec?.nodeName ?? '') === want;
}

function selectorPredicate(selector: string | undefined): (labels: Readonly<Record<string, string>>) => boolean {
  const parsed = parseSelectorString(selector ?? '');
  if (!parsed.ok) throw apiException(400, 'BadRequest', `unable to parse requirement: ${parsed.error}`);
  const compiled = compileSelector(parsed.selector);
  if (!compiled.ok) throw apiException(400, 'BadRequest', compiled.error);
  return compiled.matches;
}

// ---------------------------------------------------------------------------------------------
// Patches

/** RFC 7386 JSON merge patch. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return structuredClone(patch);
  const out: Record<string, unknown> = target !== null && typeof target === 'object' && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [k, v] of Object.entries(patch as Record<string, unknown>)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

/**
 * The strategic merge patch subset the controller sends: a merge patch, except that
 * `metadata.ownerReferences` merges by `uid` (entries with `$patch: delete` remove) and
 * `metadata.uid` is a precondition, not a change.
 */
function strategicPatchMetadata(meta: V1ObjectMeta, patch: Record<string, unknown>): V1ObjectMeta {
  const patchMeta = (patch['metadata'] ?? {}) as Record<string, unknown>;
  const { ownerReferences, uid: _uid, ...rest } = patchMeta;
  let next = mergePatch(meta, rest) as V1ObjectMeta;
  if (Array.isArray(ownerReferences)) {
    const refs = [...(meta.ownerReferences ?? [])];
    for (const entry of ownerReferences as (V1OwnerReference & { $patch?: string })[]) {
      const index = refs.findIndex((r) => r.uid === entry.uid);
      if (entry.$patch === 'delete') {
        if (index >= 0) refs.splice(index, 1);
      } else if (index >= 0) {
        refs[index] = { ...refs[index], ...entry } as V1OwnerReference;
      } else {
        refs.push(structuredClone(entry));
      }
    }
    next = { ...next, ownerReferences: refs };
    if (refs.length === 0) delete next.ownerReferences;
  }
  return next;
}

// ---------------------------------------------------------------------------------------------
// The raw API (what the fault layer intercepts)

/** One page of a list. */
export interface Page<T> {
  readonly items: T[];
  readonly metadata: { _continue?: string; resourceVersion: string };
}

export interface ListOptions {
  readonly labelSelector?: string | undefined;
  /** Only `spec.nodeName=<name>` (the one field selector the adapter sends) is supported. */
  readonly fieldSelector?: string | undefined;
  readonly limit?: number | undefined;
  readonly _continue?: string | undefined;
}

/** Which calls write (the fault layer counts them for "the function dies after the k-th write"). */
export type RawOp =
  | 'readDaemonSet' | 'listDaemonSets' | 'replaceDaemonSetStatus' | 'patchDaemonSet'
  | 'listNodes' | 'readNode' | 'listPods' | 'createPod' | 'deletePod' | 'patchPod'
  | 'listRevisions' | 'createRevision' | 'readRevision' | 'patchRevision' | 'deleteRevision'
  | 'createEvent';

export const WRITE_OPS: ReadonlySet<RawOp> = new Set<RawOp>([
  'replaceDaemonSetStatus', 'patchDaemonSet', 'createPod', 'deletePod', 'patchPod', 'createRevision', 'patchRevision', 'deleteRevision', 'createEvent',
]);

/** How the client objects reach the server (the fault layer implements this too). */
export interface RawApi {
  call<T>(op: RawOp, run: (server: MemoryApiServer) => T, info?: CallInfo): Promise<T>;
  /** Opens a watch (clients without it have no `watch`). */
  watch?: WatchClient;
}

/** What the fault layer may want to know about a call. */
export interface CallInfo {
  /** A list request carrying a continue token. */
  readonly continued?: boolean;
  /** A list request's `limit`. */
  readonly limit?: number;
}

// ---------------------------------------------------------------------------------------------
// The server

export interface KubeletOptions {
  /** Ticks from creation until an unbound pod is bound (affinity placement). */
  readonly bindAfterTicks: number;
  /** Ticks from binding until the pod is Running and Ready. */
  readonly readyAfterTicks: number;
}

/** A write that reached the server, for invariant checks. */
export interface ServerWrite {
  readonly op: RawOp;
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  /** The session that made it (null: the test itself, the kubelet or the user). */
  readonly session: number | null;
  /** For pod deletes: the pod as it was just before. */
  readonly before?: V1Pod;
}

/** A recorded Event (what `kubectl describe` would show). */
export interface RecordedEvent {
  readonly namespace: string;
  readonly involved: string;
  readonly type: string;
  readonly reason: string;
  readonly message: string;
}

/** A change of a node or pod, as the server keeps it for watches. */
export interface LoggedChange {
  readonly rv: number;
  readonly kind: 'nodes' | 'pods';
  /** The object after the change; a deleted object as it was, with the delete's resourceVersion. */
  readonly object: V1Node | V1Pod;
  /** The object before the change (null: created). */
  readonly prev: V1Node | V1Pod | null;
  readonly deleted: boolean;
}

/** What one watch sees of the server's changes. */
interface Watcher {
  readonly see: (change: LoggedChange) => WatchEvent<unknown> | null;
  readonly onEvent: (e: WatchEvent<unknown>) => void;
  readonly onProgress: (() => void) | undefined;
}

/** A watch opened on the server: the logged events after its version, then live ones through the callback. */
export interface WatchSubscription {
  readonly backlog: readonly WatchEvent<unknown>[];
  stop(): void;
}

/** Continue tokens held at most (the oldest is forgotten first: a 410 Expired for its list). */
const MAX_CONTINUE_TOKENS = 1000;

interface PodSim {
  createdTick: number;
  boundTick: number | null;
  deletedTick: number | null;
}

const key = (namespace: string, name: string): string => `${namespace}/${name}`;
const clone = <T>(v: T): T => structuredClone(v);

/** The state of an API server plus a simulated scheduler and kubelet. Synchronous; wrap with `RawApi`. */
export class MemoryApiServer {
  readonly daemonSets = new Map<string, V1DaemonSet>();
  readonly nodes = new Map<string, V1Node>();
  readonly pods = new Map<string, V1Pod>();
  readonly revisions = new Map<string, V1ControllerRevision>();
  readonly events: RecordedEvent[] = [];
  /** Namespaces being deleted (status.phase Terminating): creates in them are refused. */
  readonly terminating = new Set<string>();
  /** Every write that reached the server, in order. */
  readonly writes: ServerWrite[] = [];
  /** The session whose calls are being served (set by the RawApi around each call). */
  currentSession: number | null = null;
  #rv = 1;
  #uid = 0;
  #tick = 0;
  #lists = new Map<string, { items: unknown[]; rv: string }>();
  #listSeq = 0;
  readonly #sim = new Map<string, PodSim>();
  /** Changes kept for watches (every change with a resourceVersion above #logFloor). */
  #changes: LoggedChange[] = [];
  #logFloor = 1;
  readonly #watchers = new Set<Watcher>();
  /** How many changes are kept for watches (a watch from before them is 410 Expired). */
  watchWindow = 1000;

  constructor(readonly now: () => Date, readonly kubelet: KubeletOptions = { bindAfterTicks: 1, readyAfterTicks: 1 }) {}

  get tickCount(): number {
    return this.#tick;
  }

  /** The current resourceVersion (of the last change of any object). */
  get resourceVersion(): string {
    return String(this.#rv);
  }

  #nextRv(): string {
    this.#rv += 1;
    for (const w of this.#watchers) w.onProgress?.();
    return String(this.#rv);
  }

  #stamp(): Date {
    return new Date(Math.floor(this.now().getTime() / 1000) * 1000);
  }

  #newMeta(meta: V1ObjectMeta | undefined, kind: string): V1ObjectMeta {
    this.#uid += 1;
    return { ...clone(meta ?? {}), uid: `${kind.toLowerCase()}-uid-${this.#uid}`, resourceVersion: this.#nextRv(), creationTimestamp: this.#stamp() };
  }

  /** NamespaceLifecycle admission: no new content in a namespace that is being deleted. */
  #admitCreate(r: Resource, namespace: string, name: string): void {
    if (this.terminating.has(namespace)) throw namespaceTerminating(r, namespace, name);
  }

  #record(w: Omit<ServerWrite, 'session'>): void {
    this.writes.push({ ...w, session: this.currentSession });
  }

  /** Pages a filtered, name-sorted list; later pages come from the first page's snapshot. */
  #page<T extends { metadata?: V1ObjectMeta }>(all: () => T[], opts: ListOptions): Page<T> {
    let items: T[];
    let rv: string;
    if (opts._continue) {
      const held = this.#lists.get(opts._continue);
      if (!held) throw expired();
      this.#lists.delete(opts._continue);
      items = held.items as T[];
      rv = held.rv;
    } else {
      const matches = selectorPredicate(opts.labelSelector);
      const fields = fieldPredicate(opts.fieldSelector);
      // Stored objects are never mutated (every change replaces them), so holding them is a snapshot.
      items = all().filter((o) => matches(o.metadata?.labels ?? {}) && fields(o)).sort((a, b) => (key(a.metadata?.namespace ?? '', a.metadata?.name ?? '') < key(b.metadata?.namespace ?? '', b.metadata?.name ?? '') ? -1 : 1));
      rv = String(this.#rv);
    }
    const limit = opts.limit && opts.limit > 0 ? opts.limit : items.length;
    const page = items.slice(0, limit).map(clone);
    const rest = items.slice(limit);
    if (rest.length === 0) return { items: page, metadata: { resourceVersion: rv } };
    this.#listSeq += 1;
    const token = `c${this.#listSeq}`;
    this.#lists.set(token, { items: rest, rv });
    if (this.#lists.size > MAX_CONTINUE_TOKENS) this.#lists.delete(this.#lists.keys().next().value as string);
    return { items: page, metadata: { _continue: token, resourceVersion: rv } };
  }

  // ---- DaemonSets (API calls) ----

  readDaemonSet(namespace: string, name: string): V1DaemonSet {
    const ds = this.daemonSets.get(key(namespace, name));
    if (!ds) throw notFound(DAEMONSETS, name);
    return clone(ds);
  }

  listDaemonSets(opts: ListOptions): Page<V1DaemonSet> {
    return this.#page(() => [...this.daemonSets.values()], opts);
  }

  replaceDaemonSetStatus(namespace: string, name: string, body: V1DaemonSet): V1DaemonSet {
    const ds = this.daemonSets.get(key(namespace, name));
    if (!ds) throw notFound(DAEMONSETS, name);
    if (body.metadata?.uid && body.metadata.uid !== ds.metadata?.uid) throw uidConflict(DAEMONSETS, name, body.metadata.uid, ds.metadata?.uid);
    if (body.metadata?.resourceVersion && body.metadata.resourceVersion !== ds.metadata?.resourceVersion) throw staleConflict(DAEMONSETS, name);
    const status = clone(body.status ?? {}) as V1DaemonSetStatus;
    for (const [k, v] of Object.entries(status)) if (typeof v === 'number' && v < 0) throw invalid('DaemonSet', name, `status.${k}`, 'must be greater than or equal to 0');
    if ((status.collisionCount ?? 0) < (ds.status?.collisionCount ?? 0)) throw invalid('DaemonSet', name, 'status.collisionCount', 'cannot be decremented');
    const next: V1DaemonSet = { ...ds, status, metadata: { ...ds.metadata, resourceVersion: this.#nextRv() } };
    this.daemonSets.set(key(namespace, name), next);
    this.#record({ op: 'replaceDaemonSetStatus', kind: 'DaemonSet', namespace, name });
    return clone(next);
  }

  patchDaemonSet(namespace: string, name: string, body: Record<string, unknown>): V1DaemonSet {
    const ds = this.daemonSets.get(key(namespace, name));
    if (!ds) throw notFound(DAEMONSETS, name);
    const patched = mergePatch(ds, body) as V1DaemonSet;
    patched.metadata = { ...patched.metadata, resourceVersion: this.#nextRv() };
    if (JSON.stringify(patched.spec) !== JSON.stringify(ds.spec)) patched.metadata.generation = (ds.metadata?.generation ?? 1) + 1;
    this.daemonSets.set(key(namespace, name), patched);
    this.#record({ op: 'patchDaemonSet', kind: 'DaemonSet', namespace, name });
    return clone(patched);
  }

  // ---- Nodes ----

  listNodes(opts: ListOptions): Page<V1Node> {
    return this.#page(() => [...this.nodes.values()], opts);
  }

  readNode(name: string): V1Node {
    const node = this.nodes.get(name);
    if (!node) throw notFound(NODES, name);
    return clone(node);
  }

  // ---- Pods ----

  listPods(namespace: string, opts: ListOptions): Page<V1Pod> {
    return this.#page(() => [...this.pods.values()].filter((p) => p.metadata?.namespace === namespace), opts);
  }

  createPod(namespace: string, body: V1Pod): V1Pod {
    const name = body.metadata?.name ?? '';
    if (!name) throw invalid('Pod', name, 'metadata.name', 'Required value');
    this.#admitCreate(PODS, namespace, name);
    if (this.pods.has(key(namespace, name))) throw alreadyExists(PODS, name);
    const controllers = (body.metadata?.ownerReferences ?? []).filter((r) => r.controller === true);
    if (controllers.length > 1) throw invalid('Pod', name, 'metadata.ownerReferences', 'Only one reference can have Controller set to true');
    const pod: V1Pod = { ...clone(body), metadata: { ...this.#newMeta(body.metadata, 'Pod'), namespace }, status: { phase: 'Pending' } };
    this.#setPod(key(namespace, name), pod);
    this.#sim.set(key(namespace, name), { createdTick: this.#tick, boundTick: pod.spec?.nodeName ? this.#tick : null, deletedTick: null });
    this.#record({ op: 'createPod', kind: 'Pod', namespace, name });
    return clone(pod);
  }

  deletePod(namespace: string, name: string, preconditionUid: string | undefined): V1Pod {
    const k = key(namespace, name);
    const pod = this.pods.get(k);
    if (!pod) throw notFound(PODS, name);
    if (preconditionUid && preconditionUid !== pod.metadata?.uid) throw uidConflict(PODS, name, preconditionUid, pod.metadata?.uid);
    const before = clone(pod);
    const terminal = pod.status?.phase === 'Failed' || pod.status?.phase === 'Succeeded';
    const grace = pod.spec?.terminationGracePeriodSeconds ?? 30;
    if (pod.metadata?.deletionTimestamp) return clone(pod);
    this.#record({ op: 'deletePod', kind: 'Pod', namespace, name, before });
    if (!pod.spec?.nodeName || terminal || grace === 0) {
      this.#removePod(k);
      return before;
    }
    const next: V1Pod = { ...pod, metadata: { ...pod.metadata, deletionTimestamp: this.#stamp(), deletionGracePeriodSeconds: grace, resourceVersion: this.#nextRv() } };
    this.#setPod(k, next);
    const sim = this.#sim.get(k);
    if (sim) sim.deletedTick = this.#tick;
    return clone(next);
  }

  patchPod(namespace: string, name: string, body: Record<string, unknown>, strategy: PatchKind): V1Pod {
    const k = key(namespace, name);
    const pod = this.pods.get(k);
    if (!pod) throw notFound(PODS, name);
    const next = this.#patchObject(pod, body, strategy, PODS, 'Pod');
    this.#setPod(k, next);
    this.#record({ op: 'patchPod', kind: 'Pod', namespace, name });
    return clone(next);
  }

  #patchObject<T extends { metadata?: V1ObjectMeta }>(obj: T, body: Record<string, unknown>, strategy: PatchKind, resource: Resource, kind: string): T {
    const uid = (body['metadata'] as { uid?: string } | undefined)?.uid;
    if (uid !== undefined && uid !== obj.metadata?.uid) throw uidConflict(resource, obj.metadata?.name ?? '', uid, obj.metadata?.uid);
    let next: T;
    if (strategy === 'strategic') {
      const { metadata: _m, ...rest } = body;
      next = mergePatch(obj, rest) as T;
      next.metadata = strategicPatchMetadata(obj.metadata ?? {}, body);
    } else {
      next = mergePatch(obj, body) as T;
    }
    // Immutable identity fields.
    next.metadata = { ...next.metadata, name: obj.metadata?.name, namespace: obj.metadata?.namespace, uid: obj.metadata?.uid, creationTimestamp: obj.metadata?.creationTimestamp, resourceVersion: this.#nextRv() };
    const controllers = (next.metadata.ownerReferences ?? []).filter((r) => r.controller === true);
    if (controllers.length > 1) throw invalid(kind, obj.metadata?.name ?? '', 'metadata.ownerReferences', 'Only one reference can have Controller set to true');
    return next;
  }

  // ---- ControllerRevisions ----

  listRevisions(namespace: string, opts: ListOptions): Page<V1ControllerRevision> {
    return this.#page(() => [...this.revisions.values()].filter((r) => r.metadata?.namespace === namespace), opts);
  }

  createRevision(namespace: string, body: V1ControllerRevision): V1ControllerRevision {
    const name = body.metadata?.name ?? '';
    this.#admitCreate(REVISIONS, namespace, name);
    if (this.revisions.has(key(namespace, name))) throw alreadyExists(REVISIONS, name);
    const rev: V1ControllerRevision = { ...clone(body), metadata: { ...this.#newMeta(body.metadata, 'ControllerRevision'), namespace } };
    this.revisions.set(key(namespace, name), rev);
    this.#record({ op: 'createRevision', kind: 'ControllerRevision', namespace, name });
    return clone(rev);
  }

  readRevision(namespace: string, name: string): V1ControllerRevision {
    const rev = this.revisions.get(key(namespace, name));
    if (!rev) throw notFound(REVISIONS, name);
    return clone(rev);
  }

  patchRevision(namespace: string, name: string, body: Record<string, unknown>, strategy: PatchKind): V1ControllerRevision {
    const rev = this.revisions.get(key(namespace, name));
    if (!rev) throw notFound(REVISIONS, name);
    const next = this.#patchObject(rev, body, strategy, REVISIONS, 'ControllerRevision');
    this.revisions.set(key(namespace, name), next);
    this.#record({ op: 'patchRevision', kind: 'ControllerRevision', namespace, name });
    return clone(next);
  }

  deleteRevision(namespace: string, name: string, preconditionUid: string | undefined): void {
    const rev = this.revisions.get(key(namespace, name));
    if (!rev) throw notFound(REVISIONS, name);
    if (preconditionUid && preconditionUid !== rev.metadata?.uid) throw uidConflict(REVISIONS, name, preconditionUid, rev.metadata?.uid);
    this.revisions.delete(key(namespace, name));
    this.#record({ op: 'deleteRevision', kind: 'ControllerRevision', namespace, name });
  }

  // ---- Events ----

  createEvent(namespace: string, body: CoreV1Event): CoreV1Event {
    this.#admitCreate(EVENTS, namespace, body.metadata?.name ?? body.metadata?.generateName ?? '');
    this.events.push({ namespace, involved: body.involvedObject.name ?? '', type: body.type ?? '', reason: body.reason ?? '', message: body.message ?? '' });
    this.#record({ op: 'createEvent', kind: 'Event', namespace, name: body.involvedObject.name ?? '' });
    return body;
  }

  // ---- Watches ----

  /**
   * A watch of `request.path` (`/api/v1/nodes`, `/api/v1/namespaces/NS/pods`) from
   * `request.resourceVersion`: the logged changes after it that the watch sees (the backlog), then
   * `onEvent` for each later one, synchronously as it happens; `onProgress` after every new
   * resourceVersion (of any object: what a bookmark may report). 410 Expired when the version is
   * older than the kept window, 404 for another path, 400 for a bad selector or version.
   */
  watch(request: WatchRequest, onEvent: (e: WatchEvent<unknown>) => void, onProgress?: () => void): WatchSubscription {
    const see = watchFilter(request);
    if (!/^[0-9]{1,30}$/.test(request.resourceVersion)) throw apiException(400, 'BadRequest', `invalid resourceVersion "${request.resourceVersion}"`);
    const from = Number(request.resourceVersion);
    if (from < this.#logFloor) throw tooOld(from, this.#logFloor + 1);
    const backlog = this.#changes.filter((c) => c.rv > from).map(see).filter((e): e is WatchEvent<unknown> => e !== null);
    const watcher: Watcher = { see, onEvent, onProgress };
    this.#watchers.add(watcher);
    return { backlog, stop: () => this.#watchers.delete(watcher) };
  }

  /** Open watches. */
  get watchCount(): number {
    return this.#watchers.size;
  }

  /** Forgets every logged change (as an etcd compaction would): a watch from before now is 410 Expired. */
  compact(): void {
    this.#changes = [];
    this.#logFloor = this.#rv;
  }

  /** Logs a change of a node or pod (`next` null: deleted) and hands it to the open watches. */
  #log(kind: LoggedChange['kind'], next: V1Node | V1Pod | null, prev: V1Node | V1Pod | null): void {
    let object = next;
    if (object === null) {
      const gone = prev as V1Node | V1Pod;
      object = { ...gone, metadata: { ...gone.metadata, resourceVersion: this.#nextRv() } };
    }
    const change: LoggedChange = { rv: Number(object.metadata?.resourceVersion), kind, object, prev, deleted: next === null };
    this.#changes.push(change);
    while (this.#changes.length > Math.max(0, this.watchWindow)) this.#logFloor = (this.#changes.shift() as LoggedChange).rv;
    for (const w of [...this.#watchers]) {
      const e = w.see(change);
      if (e !== null) w.onEvent(e);
    }
  }

  // ---- What users, nodes and the test do (not API calls of the controller) ----

  /** Creates or updates a DaemonSet as a user would (apiserver bookkeeping of API-5). Keeps status. */
  applyDaemonSet(ds: V1DaemonSet): V1DaemonSet {
    const ns = ds.metadata?.namespace ?? 'default';
    const name = ds.metadata?.name ?? '';
    const existing = this.daemonSets.get(key(ns, name));
    if (!existing) {
      const created: V1DaemonSet = {
        ...clone(ds),
        metadata: { ...this.#newMeta(ds.metadata, 'DaemonSet'), namespace: ns, generation: 1, annotations: { ...(ds.metadata?.annotations ?? {}), [TEMPLATE_GENERATION_ANNOTATION]: '1' } },
        status: { currentNumberScheduled: 0, numberMisscheduled: 0, desiredNumberScheduled: 0, numberReady: 0 },
      };
      this.daemonSets.set(key(ns, name), created);
      return clone(created);
    }
    const specChanged = JSON.stringify(existing.spec) !== JSON.stringify(ds.spec);
    const templateChanged = JSON.stringify(existing.spec?.template) !== JSON.stringify(ds.spec?.template);
    const tg = Number(existing.metadata?.annotations?.[TEMPLATE_GENERATION_ANNOTATION] ?? '1');
    const updated: V1DaemonSet = {
      ...existing,
      spec: clone(ds.spec),
      metadata: {
        ...existing.metadata,
        generation: (existing.metadata?.generation ?? 1) + (specChanged ? 1 : 0),
        annotations: { ...(existing.metadata?.annotations ?? {}), [TEMPLATE_GENERATION_ANNOTATION]: String(templateChanged ? tg + 1 : tg) },
        resourceVersion: this.#nextRv(),
      },
    };
    this.daemonSets.set(key(ns, name), updated);
    return clone(updated);
  }

  /** Creates or replaces a node. */
  putNode(node: V1Node): void {
    const name = node.metadata?.name ?? '';
    const existing = this.nodes.get(name);
    const meta = existing ? { ...clone(node.metadata), uid: existing.metadata?.uid, creationTimestamp: existing.metadata?.creationTimestamp, resourceVersion: this.#nextRv() } : this.#newMeta(node.metadata, 'Node');
    const next: V1Node = { ...clone(node), metadata: meta };
    this.nodes.set(name, next);
    this.#log('nodes', next, existing ?? null);
  }

  /** Removes a node; pods bound to it are garbage-collected (PodGC) at the next tick. */
  removeNode(name: string): void {
    const node = this.nodes.get(name);
    if (!node) return;
    this.nodes.delete(name);
    this.#log('nodes', null, node);
  }

  /** Makes a pod fail (phase Failed, not Ready), as a crashing container with restartPolicy Never would. */
  failPod(namespace: string, name: string, phase: 'Failed' | 'Succeeded' = 'Failed'): void {
    const pod = this.pods.get(key(namespace, name));
    if (!pod) return;
    this.#setPod(key(namespace, name), {
      ...pod,
      status: { ...pod.status, phase, conditions: [{ type: 'Ready', status: 'False', lastTransitionTime: this.#stamp() }] },
      metadata: { ...pod.metadata, resourceVersion: this.#nextRv() },
    });
  }

  /** Makes a pod not Ready (a failing readiness probe); the kubelet makes it Ready again later. */
  unreadyPod(namespace: string, name: string): void {
    const pod = this.pods.get(key(namespace, name));
    const sim = this.#sim.get(key(namespace, name));
    if (!pod || !sim || pod.status?.phase !== 'Running') return;
    this.#setPod(key(namespace, name), {
      ...pod,
      status: { ...pod.status, conditions: [{ type: 'Ready', status: 'False', lastTransitionTime: this.#stamp() }] },
      metadata: { ...pod.metadata, resourceVersion: this.#nextRv() },
    });
    sim.boundTick = this.#tick;
  }

  #removePod(k: string): void {
    const pod = this.pods.get(k);
    this.pods.delete(k);
    this.#sim.delete(k);
    if (pod) this.#log('pods', null, pod);
  }

  /** Stores a new version of a pod (created or changed) and logs the change. */
  #setPod(k: string, pod: V1Pod): void {
    const prev = this.pods.get(k) ?? null;
    this.pods.set(k, pod);
    this.#log('pods', pod, prev);
  }

  /**
   * One step of the scheduler, kubelet and pod garbage collector:
   * - pods bound to a node that no longer exists are removed (PodGC);
   * - deleting pods are removed once their grace period (in ticks of one second) has passed;
   * - unbound pods whose target node exists are bound after `bindAfterTicks`;
   * - bound Pending pods become Running and Ready `readyAfterTicks` after binding (Ready
   *   transition stamped now); pods made unready become Ready again after the same delay.
   */
  tick(): void {
    this.#tick += 1;
    for (const [k, pod] of [...this.pods]) {
      const sim = this.#sim.get(k) ?? { createdTick: this.#tick, boundTick: null, deletedTick: null };
      this.#sim.set(k, sim);
      const nodeName = pod.spec?.nodeName;
      if (nodeName && !this.nodes.has(nodeName)) {
        this.#removePod(k);
        continue;
      }
      if (pod.metadata?.deletionTimestamp) {
        const grace = Math.max(1, Math.ceil((pod.metadata.deletionGracePeriodSeconds ?? 0) / 30));
        if (sim.deletedTick === null || this.#tick - sim.deletedTick >= grace) this.#removePod(k);
        continue;
      }
      const phase = pod.status?.phase;
      if (phase === 'Failed' || phase === 'Succeeded') continue;
      if (!nodeName) {
        const target = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms?.[0]?.matchFields?.[0]?.values?.[0];
        if (target && this.nodes.has(target) && this.#tick - sim.createdTick >= this.kubelet.bindAfterTicks) {
          this.#setPod(k, { ...pod, spec: { ...pod.spec, containers: pod.spec?.containers ?? [], nodeName: target }, metadata: { ...pod.metadata, resourceVersion: this.#nextRv() } });
          sim.boundTick = this.#tick;
        }
        continue;
      }
      const ready = pod.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
      if (!ready && this.#tick - (sim.boundTick ?? sim.createdTick) >= this.kubelet.readyAfterTicks) {
        this.#setPod(k, {
          ...pod,
          status: { ...pod.status, phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: this.#stamp() }] },
          metadata: { ...pod.metadata, resourceVersion: this.#nextRv() },
        });
      }
    }
  }

  /** A deep copy of the whole state (for replays from the same point). */
  cloneState(now: () => Date = this.now): MemoryApiServer {
    const copy = new MemoryApiServer(now, this.kubelet);
    for (const [k, v] of this.daemonSets) copy.daemonSets.set(k, clone(v));
    for (const [k, v] of this.nodes) copy.nodes.set(k, clone(v));
    for (const [k, v] of this.pods) copy.pods.set(k, clone(v));
    for (const [k, v] of this.revisions) copy.revisions.set(k, clone(v));
    for (const ns of this.terminating) copy.terminating.add(ns);
    copy.#rv = this.#rv;
    copy.#logFloor = this.#rv;
    copy.watchWindow = this.watchWindow;
    copy.#uid = this.#uid;
    copy.#tick = this.#tick;
    for (const [k, v] of this.#sim) copy.#sim.set(k, { ...v });
    return copy;
  }
}

/**
 * What a watch of `request` sees of a change, as the API server's watch cache tells it: ADDED,
 * MODIFIED or DELETED by whether the object was and is in the watched set (an object leaving the
 * label selector is DELETED, with its last content matching and the change's resourceVersion).
 */
function watchFilter(request: WatchRequest): (change: LoggedChange) => WatchEvent<unknown> | null {
  let kind: LoggedChange['kind'];
  let namespace: string | undefined;
  const pods = /^\/api\/v1\/namespaces\/([^/]+)\/pods$/.exec(request.path);
  if (request.path === '/api/v1/nodes') kind = 'nodes';
  else if (pods) {
    kind = 'pods';
    namespace = decodeURIComponent(pods[1] ?? '');
  } else {
    throw apiException(404, 'NotFound', 'the server could not find the requested resource');
  }
  const matches = selectorPredicate(request.labelSelector);
  const inside = (o: V1Node | V1Pod | null): boolean =>
    o !== null && (namespace === undefined || o.metadata?.namespace === namespace) && matches(o.metadata?.labels ?? {});
  return (c) => {
    if (c.kind !== kind) return null;
    const was = inside(c.prev);
    // Stored objects are never changed in place, and the wire (memory-watch.ts) copies what it sends.
    if (c.deleted) return was ? { type: 'DELETED', object: c.object } : null;
    const is = inside(c.object);
    if (is) return { type: was ? 'MODIFIED' : 'ADDED', object: c.object };
    if (!was) return null;
    const left = c.prev as V1Node | V1Pod;
    return { type: 'DELETED', object: { ...left, metadata: { ...left.metadata, resourceVersion: String(c.rv) } } };
  };
}

/** A RawApi that serves every call of one session straight from the server (no faults; watch events on the microtask queue). */
export function directApi(server: MemoryApiServer, session: number | null): RawApi {
  return {
    watch: (request, handlers) => openWatch(server, request, handlers, MICROTASKS),
    async call<T>(_op: RawOp, run: (s: MemoryApiServer) => T): Promise<T> {
      const previous = server.currentSession;
      server.currentSession = session;
      try {
        return run(server);
      } finally {
        server.currentSession = previous;
      }
    },
  };
}
