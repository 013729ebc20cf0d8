/**
 * An in-memory Kubernetes API server for the calls the reconcile shell makes, and a `ClusterApi`
 * client over it that mirrors `KubeCluster` exactly (same counters, paging, error translation and
 * idempotent outcomes). Tests drive the real shell (`createReconciler`) against it, optionally
 * through a fault layer (test/support/fault-cluster.ts) that sits between the client and the server.
 *
 * Server semantics (what the real API server does for these calls):
 * - objects get uid, resourceVersion (one global counter), generation (DaemonSets) and a
 *   creationTimestamp with whole-second precision;
 * - lists filter by a label selector string (the format of `formatLabelSelector`), page with
 *   `limit`/`continue`, and serve every page from the snapshot taken by the first one (consistent
 *   lists); an unknown or expired continue token is 410 Expired;
 * - create of an existing name is 409 AlreadyExists; delete/patch of a missing object is 404;
 *   a delete whose `preconditions.uid` differs, a patch whose `metadata.uid` differs, and a status
 *   replace with a stale resourceVersion are 409 Conflict;
 * - strategic merge patches merge `metadata.ownerReferences` by uid (`$patch: delete` removes) and
 *   refuse a second controller reference (422 Invalid); merge patches follow RFC 7386;
 * - deleting a bound, non-terminal pod with a grace period sets deletionTimestamp; the simulated
 *   kubelet removes it later. Unbound and terminal pods go at once.
 * Errors are thrown as client-node's ApiException carries them: an Error with a numeric `code` and
 * a JSON `body` holding `{kind: 'Status', reason, code, message}`.
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
import type { ApiCounters, ClusterApi, ClusterEvent, ListResult, PatchKind, WriteOutcome } from '../../lib/app/cluster-api.js';
import { isAlreadyExists, isConflict, isGone, isNotFound, toClusterError } from '../../lib/adapters/kube/kube-errors.js';
import { TEMPLATE_GENERATION_ANNOTATION } from '../../lib/core/index.js';

// ---------------------------------------------------------------------------------------------
// Errors as client-node surfaces them

/** An ApiException-like error: numeric `code`, JSON `body` with a Kubernetes Status. */
export class FakeApiException extends Error {
  readonly body: string;
  constructor(readonly code: number, reason: string, message: string) {
    super(`HTTP-Code: ${code} Message: ${message}`);
    this.name = 'ApiException';
    this.body = JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code, reason, message });
  }
}

const notFound = (kind: string, name: string) => new FakeApiException(404, 'NotFound', `${kind} "${name}" not found`);
const alreadyExists = (kind: string, name: string) => new FakeApiException(409, 'AlreadyExists', `${kind} "${name}" already exists`);
const conflict = (message: string) => new FakeApiException(409, 'Conflict', message);
const invalid = (message: string) => new FakeApiException(422, 'Invalid', message);
const expired = () => new FakeApiException(410, 'Expired', 'The provided continue parameter is too old to display a consistent list result.');

// ---------------------------------------------------------------------------------------------
// Label selectors (the string form `formatLabelSelector` renders)

type Requirement = (labels: Readonly<Record<string, string>>) => boolean;

/** Parses `k=v`, `k!=v`, `k in (a,b)`, `k notin (a,b)`, `k`, `!k`, comma-separated. */
export function parseLabelSelector(selector: string | undefined): Requirement {
  if (selector === undefined || selector.trim() === '') return () => true;
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of selector) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(current.trim());
      current = '';
    } else {
      current += ch;
    }
  }
  parts.push(current.trim());
  const reqs: Requirement[] = parts.map((part) => {
    let m = /^(\S+)\s+(in|notin)\s+\((.*)\)$/.exec(part);
    if (m) {
      const key = m[1] ?? '';
      const values = new Set((m[3] ?? '').split(',').map((v) => v.trim()).filter((v) => v !== ''));
      return m[2] === 'in' ? (l) => l[key] !== undefined && values.has(l[key]) : (l) => l[key] === undefined || !values.has(l[key]);
    }
    m = /^([^!=\s]+)\s*(==|=|!=)\s*(\S*)$/.exec(part);
    if (m) {
      const key = m[1] ?? '';
      const value = m[3] ?? '';
      return m[2] === '!=' ? (l) => l[key] !== value : (l) => l[key] === value;
    }
    if (part.startsWith('!')) {
      const key = part.slice(1).trim();
      return (l) => l[key] === undefined;
    }
    if (/^\S+$/.test(part)) return (l) => l[part] !== undefined;
    throw new FakeApiException(400, 'BadRequest', `unable to parse requirement: ${part}`);
  });
  return (labels) => reqs.every((r) => r(labels));
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
  readonly limit?: number | undefined;
  readonly _continue?: string | undefined;
}

/** Which calls write (the fault layer counts them for "the function dies after the k-th write"). */
export type RawOp =
  | 'readDaemonSet' | 'listDaemonSets' | 'replaceDaemonSetStatus' | 'patchDaemonSet'
  | 'listNodes' | 'listPods' | 'createPod' | 'deletePod' | 'patchPod'
  | 'listRevisions' | 'createRevision' | 'readRevision' | 'patchRevision' | 'deleteRevision'
  | 'createEvent';

export const WRITE_OPS: ReadonlySet<RawOp> = new Set<RawOp>([
  'replaceDaemonSetStatus', 'patchDaemonSet', 'createPod', 'deletePod', 'patchPod', 'createRevision', 'patchRevision', 'deleteRevision', 'createEvent',
]);

/** The REST calls of the API server that `MemoryCluster` makes (client-node's, simplified). */
export interface RawApi {
  call<T>(op: RawOp, run: (server: MemoryApiServer) => T, info?: CallInfo): Promise<T>;
}

/** What the fault layer may want to know about a call. */
export interface CallInfo {
  /** A list request carrying a continue token. */
  readonly continued?: boolean;
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

  constructor(readonly now: () => Date, readonly kubelet: KubeletOptions = { bindAfterTicks: 1, readyAfterTicks: 1 }) {}

  get tickCount(): number {
    return this.#tick;
  }

  #nextRv(): string {
    this.#rv += 1;
    return String(this.#rv);
  }

  #stamp(): Date {
    return new Date(Math.floor(this.now().getTime() / 1000) * 1000);
  }

  #newMeta(meta: V1ObjectMeta | undefined, kind: string): V1ObjectMeta {
    this.#uid += 1;
    return { ...clone(meta ?? {}), uid: `${kind.toLowerCase()}-uid-${this.#uid}`, resourceVersion: this.#nextRv(), creationTimestamp: this.#stamp() };
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
      const matches = parseLabelSelector(opts.labelSelector);
      // Stored objects are never mutated (every change replaces them), so holding them is a snapshot.
      items = all().filter((o) => matches(o.metadata?.labels ?? {})).sort((a, b) => (key(a.metadata?.namespace ?? '', a.metadata?.name ?? '') < key(b.metadata?.namespace ?? '', b.metadata?.name ?? '') ? -1 : 1));
      rv = String(this.#rv);
    }
    const limit = opts.limit && opts.limit > 0 ? opts.limit : items.length;
    const page = items.slice(0, limit).map(clone);
    const rest = items.slice(limit);
    if (rest.length === 0) return { items: page, metadata: { resourceVersion: rv } };
    this.#listSeq += 1;
    const token = `c${this.#listSeq}`;
    this.#lists.set(token, { items: rest, rv });
    return { items: page, metadata: { _continue: token, resourceVersion: rv } };
  }

  // ---- DaemonSets (API calls) ----

  readDaemonSet(namespace: string, name: string): V1DaemonSet {
    const ds = this.daemonSets.get(key(namespace, name));
    if (!ds) throw notFound('daemonsets.apps', name);
    return clone(ds);
  }

  listDaemonSets(opts: ListOptions): Page<V1DaemonSet> {
    return this.#page(() => [...this.daemonSets.values()], opts);
  }

  replaceDaemonSetStatus(namespace: string, name: string, body: V1DaemonSet): V1DaemonSet {
    const ds = this.daemonSets.get(key(namespace, name));
    if (!ds) throw notFound('daemonsets.apps', name);
    if (body.metadata?.uid && body.metadata.uid !== ds.metadata?.uid) throw conflict(`Precondition failed: UID in precondition: ${body.metadata.uid}, UID in object meta: ${ds.metadata?.uid}`);
    if (body.metadata?.resourceVersion && body.metadata.resourceVersion !== ds.metadata?.resourceVersion) {
      throw conflict(`Operation cannot be fulfilled on daemonsets.apps "${name}": the object has been modified; please apply your changes to the latest version and try again`);
    }
    const status = clone(body.status ?? {}) as V1DaemonSetStatus;
    for (const [k, v] of Object.entries(status)) if (typeof v === 'number' && v < 0) throw invalid(`status.${k}: must be greater than or equal to 0`);
    if ((status.collisionCount ?? 0) < (ds.status?.collisionCount ?? 0)) throw invalid('status.collisionCount: cannot be decremented');
    const next: V1DaemonSet = { ...ds, status, metadata: { ...ds.metadata, resourceVersion: this.#nextRv() } };
    this.daemonSets.set(key(namespace, name), next);
    this.#record({ op: 'replaceDaemonSetStatus', kind: 'DaemonSet', namespace, name });
    return clone(next);
  }

  patchDaemonSet(namespace: string, name: string, body: Record<string, unknown>): V1DaemonSet {
    const ds = this.daemonSets.get(key(namespace, name));
    if (!ds) throw notFound('daemonsets.apps', name);
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

  // ---- Pods ----

  listPods(namespace: string, opts: ListOptions): Page<V1Pod> {
    return this.#page(() => [...this.pods.values()].filter((p) => p.metadata?.namespace === namespace), opts);
  }

  createPod(namespace: string, body: V1Pod): V1Pod {
    const name = body.metadata?.name ?? '';
    if (!name) throw invalid('metadata.name: Required value');
    if (this.pods.has(key(namespace, name))) throw alreadyExists('pods', name);
    const controllers = (body.metadata?.ownerReferences ?? []).filter((r) => r.controller === true);
    if (controllers.length > 1) throw invalid('metadata.ownerReferences: Only one reference can have Controller set to true');
    const pod: V1Pod = { ...clone(body), metadata: { ...this.#newMeta(body.metadata, 'Pod'), namespace }, status: { phase: 'Pending' } };
    this.pods.set(key(namespace, name), pod);
    this.#sim.set(key(namespace, name), { createdTick: this.#tick, boundTick: pod.spec?.nodeName ? this.#tick : null, deletedTick: null });
    this.#record({ op: 'createPod', kind: 'Pod', namespace, name });
    return clone(pod);
  }

  deletePod(namespace: string, name: string, preconditionUid: string | undefined): V1Pod {
    const k = key(namespace, name);
    const pod = this.pods.get(k);
    if (!pod) throw notFound('pods', name);
    if (preconditionUid && preconditionUid !== pod.metadata?.uid) {
      throw conflict(`Precondition failed: UID in precondition: ${preconditionUid}, UID in object meta: ${pod.metadata?.uid}`);
    }
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
    this.pods.set(k, next);
    const sim = this.#sim.get(k);
    if (sim) sim.deletedTick = this.#tick;
    return clone(next);
  }

  patchPod(namespace: string, name: string, body: Record<string, unknown>, strategy: PatchKind): V1Pod {
    const k = key(namespace, name);
    const pod = this.pods.get(k);
    if (!pod) throw notFound('pods', name);
    const next = this.#patchObject(pod, body, strategy, 'pods');
    this.pods.set(k, next);
    this.#record({ op: 'patchPod', kind: 'Pod', namespace, name });
    return clone(next);
  }

  #patchObject<T extends { metadata?: V1ObjectMeta }>(obj: T, body: Record<string, unknown>, strategy: PatchKind, resource: string): T {
    const uid = (body['metadata'] as { uid?: string } | undefined)?.uid;
    if (uid !== undefined && uid !== obj.metadata?.uid) {
      throw conflict(`Precondition failed: UID in precondition: ${uid}, UID in object meta: ${obj.metadata?.uid}`);
    }
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
    if (controllers.length > 1) throw invalid(`${resource} "${obj.metadata?.name}": metadata.ownerReferences: Only one reference can have Controller set to true`);
    return next;
  }

  // ---- ControllerRevisions ----

  listRevisions(namespace: string, opts: ListOptions): Page<V1ControllerRevision> {
    return this.#page(() => [...this.revisions.values()].filter((r) => r.metadata?.namespace === namespace), opts);
  }

  createRevision(namespace: string, body: V1ControllerRevision): V1ControllerRevision {
    const name = body.metadata?.name ?? '';
    if (this.revisions.has(key(namespace, name))) throw alreadyExists('controllerrevisions.apps', name);
    const rev: V1ControllerRevision = { ...clone(body), metadata: { ...this.#newMeta(body.metadata, 'ControllerRevision'), namespace } };
    this.revisions.set(key(namespace, name), rev);
    this.#record({ op: 'createRevision', kind: 'ControllerRevision', namespace, name });
    return clone(rev);
  }

  readRevision(namespace: string, name: string): V1ControllerRevision {
    const rev = this.revisions.get(key(namespace, name));
    if (!rev) throw notFound('controllerrevisions.apps', name);
    return clone(rev);
  }

  patchRevision(namespace: string, name: string, body: Record<string, unknown>, strategy: PatchKind): V1ControllerRevision {
    const rev = this.revisions.get(key(namespace, name));
    if (!rev) throw notFound('controllerrevisions.apps', name);
    const next = this.#patchObject(rev, body, strategy, 'controllerrevisions.apps');
    this.revisions.set(key(namespace, name), next);
    this.#record({ op: 'patchRevision', kind: 'ControllerRevision', namespace, name });
    return clone(next);
  }

  deleteRevision(namespace: string, name: string, preconditionUid: string | undefined): void {
    const rev = this.revisions.get(key(namespace, name));
    if (!rev) throw notFound('controllerrevisions.apps', name);
    if (preconditionUid && preconditionUid !== rev.metadata?.uid) {
      throw conflict(`Precondition failed: UID in precondition: ${preconditionUid}, UID in object meta: ${rev.metadata?.uid}`);
    }
    this.revisions.delete(key(namespace, name));
    this.#record({ op: 'deleteRevision', kind: 'ControllerRevision', namespace, name });
  }

  // ---- Events ----

  createEvent(namespace: string, body: CoreV1Event): CoreV1Event {
    this.events.push({ namespace, involved: body.involvedObject.name ?? '', type: body.type ?? '', reason: body.reason ?? '', message: body.message ?? '' });
    this.#record({ op: 'createEvent', kind: 'Event', namespace, name: body.involvedObject.name ?? '' });
    return body;
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
    this.nodes.set(name, { ...clone(node), metadata: meta });
  }

  /** Removes a node; pods bound to it are garbage-collected (PodGC) at the next tick. */
  removeNode(name: string): void {
    this.nodes.delete(name);
  }

  /** Makes a pod fail (phase Failed, not Ready), as a crashing container with restartPolicy Never would. */
  failPod(namespace: string, name: string, phase: 'Failed' | 'Succeeded' = 'Failed'): void {
    const pod = this.pods.get(key(namespace, name));
    if (!pod) return;
    this.pods.set(key(namespace, name), {
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
    this.pods.set(key(namespace, name), {
      ...pod,
      status: { ...pod.status, conditions: [{ type: 'Ready', status: 'False', lastTransitionTime: this.#stamp() }] },
      metadata: { ...pod.metadata, resourceVersion: this.#nextRv() },
    });
    sim.boundTick = this.#tick;
  }

  #removePod(k: string): void {
    this.pods.delete(k);
    this.#sim.delete(k);
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
          this.pods.set(k, { ...pod, spec: { ...pod.spec, containers: pod.spec?.containers ?? [], nodeName: target }, metadata: { ...pod.metadata, resourceVersion: this.#nextRv() } });
          sim.boundTick = this.#tick;
        }
        continue;
      }
      const ready = pod.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
      if (!ready && this.#tick - (sim.boundTick ?? sim.createdTick) >= this.kubelet.readyAfterTicks) {
        this.pods.set(k, {
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
    copy.#rv = this.#rv;
    copy.#uid = this.#uid;
    copy.#tick = this.#tick;
    for (const [k, v] of this.#sim) copy.#sim.set(k, { ...v });
    return copy;
  }
}

/** A RawApi that serves every call straight from the server (no faults), tagging the session. */
export function directApi(server: MemoryApiServer): RawApi & { session: number | null } {
  return {
    session: null,
    async call<T>(_op: RawOp, run: (s: MemoryApiServer) => T): Promise<T> {
      const previous = server.currentSession;
      server.currentSession = this.session;
      try {
        return run(server);
      } finally {
        server.currentSession = previous;
      }
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The client: KubeCluster's contract over a RawApi

export interface MemoryClusterOptions {
  /** Page size for LISTs (KubeCluster: 500); small values exercise continue tokens. */
  readonly pageSize?: number;
  /** Builds the RawApi of a new session (the fault layer hooks in here). */
  readonly rawFor?: (session: number) => RawApi;
}

let sessionSeq = 0;

/**
 * `ClusterApi` over the in-memory server, mirroring `KubeCluster` call for call: reads and writes
 * counted the same way, lists paged with a 410 on a continue token ending the list incomplete,
 * AlreadyExists/NotFound (and a UID-precondition conflict on delete) as 'already-done', every other
 * failure through `toClusterError` (TransientError / TerminalError).
 */
export class MemoryCluster implements ClusterApi {
  readonly counters: ApiCounters = { reads: 0, writes: 0 };
  readonly sessionId: number;
  private readonly raw: RawApi;
  private readonly pageSize: number;

  constructor(readonly server: MemoryApiServer, readonly options: MemoryClusterOptions = {}, sessionId?: number) {
    this.sessionId = sessionId ?? (sessionSeq += 1);
    this.pageSize = options.pageSize ?? 500;
    if (options.rawFor) {
      this.raw = options.rawFor(this.sessionId);
    } else {
      const api = directApi(server);
      api.session = this.sessionId;
      this.raw = api;
    }
  }

  session(): MemoryCluster {
    return new MemoryCluster(this.server, this.options);
  }

  private async read<T>(what: string, op: RawOp, run: (s: MemoryApiServer) => T): Promise<T> {
    this.counters.reads++;
    try {
      return await this.raw.call(op, run);
    } catch (e) {
      throw toClusterError(e, what);
    }
  }

  private async write<T>(what: string, op: RawOp, run: (s: MemoryApiServer) => T): Promise<T> {
    this.counters.writes++;
    try {
      return await this.raw.call(op, run);
    } catch (e) {
      throw toClusterError(e, what);
    }
  }

  private async listAll<T>(what: string, op: RawOp, page: (s: MemoryApiServer, opts: ListOptions) => Page<T>, labelSelector?: string): Promise<ListResult<T>> {
    const items: T[] = [];
    let cont: string | undefined;
    do {
      this.counters.reads++;
      let res: Page<T>;
      const opts: ListOptions = { labelSelector, limit: this.pageSize, _continue: cont };
      try {
        res = await this.raw.call(op, (s) => page(s, opts), { continued: cont !== undefined });
      } catch (e) {
        if (cont && isGone(e)) return { items, complete: false };
        throw toClusterError(e, what);
      }
      items.push(...res.items);
      cont = res.metadata._continue || undefined;
    } while (cont);
    return { items, complete: true };
  }

  async getDaemonSet(namespace: string, name: string): Promise<V1DaemonSet | null> {
    this.counters.reads++;
    try {
      return await this.raw.call('readDaemonSet', (s) => s.readDaemonSet(namespace, name));
    } catch (e) {
      if (isNotFound(e)) return null;
      throw toClusterError(e, `get daemonset ${namespace}/${name}`);
    }
  }

  async listDaemonSets(): Promise<ListResult<V1DaemonSet>> {
    return this.listAll('list daemonsets', 'listDaemonSets', (s, o) => s.listDaemonSets(o));
  }

  async replaceDaemonSetStatus(ds: V1DaemonSet, status: V1DaemonSetStatus): Promise<V1DaemonSet> {
    const namespace = ds.metadata?.namespace ?? 'default';
    const name = ds.metadata?.name ?? '';
    const body = { ...clone(ds), status: clone(status) };
    return this.write(`update status of daemonset ${namespace}/${name}`, 'replaceDaemonSetStatus', (s) => s.replaceDaemonSetStatus(namespace, name, body));
  }

  async listNodes(): Promise<ListResult<V1Node>> {
    return this.listAll('list nodes', 'listNodes', (s, o) => s.listNodes(o));
  }

  async listPods(namespace: string, labelSelector?: string): Promise<ListResult<V1Pod>> {
    return this.listAll(`list pods in ${namespace}`, 'listPods', (s, o) => s.listPods(namespace, o), labelSelector);
  }

  async createPod(pod: V1Pod): Promise<WriteOutcome> {
    const namespace = pod.metadata?.namespace ?? 'default';
    this.counters.writes++;
    try {
      const body = clone(pod);
      await this.raw.call('createPod', (s) => s.createPod(namespace, body));
      return 'done';
    } catch (e) {
      if (isAlreadyExists(e)) return 'already-done';
      throw toClusterError(e, `create pod ${namespace}/${pod.metadata?.name}`);
    }
  }

  async deletePod(namespace: string, name: string, uid: string | undefined): Promise<WriteOutcome> {
    this.counters.writes++;
    try {
      await this.raw.call('deletePod', (s) => s.deletePod(namespace, name, uid));
      return 'done';
    } catch (e) {
      if (isNotFound(e) || (uid && isConflict(e))) return 'already-done';
      throw toClusterError(e, `delete pod ${namespace}/${name}`);
    }
  }

  async patchPod(namespace: string, name: string, body: object, strategy: PatchKind): Promise<WriteOutcome> {
    this.counters.writes++;
    try {
      const copy = clone(body) as Record<string, unknown>;
      await this.raw.call('patchPod', (s) => s.patchPod(namespace, name, copy, strategy));
      return 'done';
    } catch (e) {
      if (isNotFound(e)) return 'already-done';
      throw toClusterError(e, `patch pod ${namespace}/${name}`);
    }
  }

  async patchDaemonSetMetadata(namespace: string, name: string, metadata: object): Promise<void> {
    const body = { metadata: clone(metadata) };
    await this.write(`patch daemonset ${namespace}/${name}`, 'patchDaemonSet', (s) => s.patchDaemonSet(namespace, name, body));
  }

  async listRevisions(namespace: string, labelSelector?: string): Promise<ListResult<V1ControllerRevision>> {
    return this.listAll(`list controllerrevisions in ${namespace}`, 'listRevisions', (s, o) => s.listRevisions(namespace, o), labelSelector);
  }

  async createRevision(rev: V1ControllerRevision): Promise<{ outcome: WriteOutcome; existing?: V1ControllerRevision }> {
    const namespace = rev.metadata?.namespace ?? 'default';
    const name = rev.metadata?.name ?? '';
    this.counters.writes++;
    try {
      const body = clone(rev);
      await this.raw.call('createRevision', (s) => s.createRevision(namespace, body));
      return { outcome: 'done' };
    } catch (e) {
      if (!isAlreadyExists(e)) throw toClusterError(e, `create controllerrevision ${namespace}/${name}`);
      const existing = await this.read(`get controllerrevision ${namespace}/${name}`, 'readRevision', (s) => s.readRevision(namespace, name));
      return { outcome: 'already-done', existing };
    }
  }

  async patchRevision(namespace: string, name: string, body: object, strategy: PatchKind): Promise<WriteOutcome> {
    this.counters.writes++;
    try {
      const copy = clone(body) as Record<string, unknown>;
      await this.raw.call('patchRevision', (s) => s.patchRevision(namespace, name, copy, strategy));
      return 'done';
    } catch (e) {
      if (isNotFound(e)) return 'already-done';
      throw toClusterError(e, `patch controllerrevision ${namespace}/${name}`);
    }
  }

  async deleteRevision(namespace: string, name: string, uid: string | undefined): Promise<WriteOutcome> {
    this.counters.writes++;
    try {
      await this.raw.call('deleteRevision', (s) => s.deleteRevision(namespace, name, uid));
      return 'done';
    } catch (e) {
      if (isNotFound(e) || (uid && isConflict(e))) return 'already-done';
      throw toClusterError(e, `delete controllerrevision ${namespace}/${name}`);
    }
  }

  async recordEvent(involved: { apiVersion: string; kind: string; namespace: string; name: string; uid?: string }, event: ClusterEvent, now: Date): Promise<boolean> {
    this.counters.writes++;
    try {
      const body: CoreV1Event = {
        metadata: { generateName: `${involved.name}.`, namespace: involved.namespace },
        involvedObject: { apiVersion: involved.apiVersion, kind: involved.kind, namespace: involved.namespace, name: involved.name, uid: involved.uid },
        type: event.type,
        reason: event.reason,
        message: event.message,
        firstTimestamp: now,
        lastTimestamp: now,
        count: 1,
      };
      await this.raw.call('createEvent', (s) => s.createEvent(involved.namespace, body));
      return true;
    } catch {
      return false;
    }
  }
}
