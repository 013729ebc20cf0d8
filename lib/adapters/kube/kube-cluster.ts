/**
 * The Kubernetes adapter: every API call the controller makes, through @kubernetes/client-node.
 * It implements the shell's cluster port (lib/app/cluster-api.ts): it only translates (typed calls
 * in, typed errors out) and counts what it does; it decides nothing.
 *
 * Reads are consistent LISTs/GETs (no resourceVersion): the planner's rolling-update budget must
 * never be computed from a view older than the controller's own last writes (spec IMPL-1). Since
 * Kubernetes 1.31 the API server serves consistent lists from its watch cache, so this is cheap.
 */
import type {
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  V1ControllerRevision,
  V1DaemonSet,
  V1DaemonSetStatus,
  V1Node,
  V1Pod,
} from '@kubernetes/client-node';
// Deep paths: a Lambda bundle carries only what the adapter uses of client-node (clients.ts).
import { setHeaderOptions } from '@kubernetes/client-node/dist/middleware.js';
import { PatchStrategy } from '@kubernetes/client-node/dist/patch.js';
import type { ApiCounters, ClusterApi, ClusterEvent, InvolvedObject, ListResult, PatchKind, WriteOutcome } from '../../app/cluster-api.js';
import { CRD_GROUP, CRD_PLURAL, CRD_VERSION, type ManagedResource } from '../../core/managed-resource.js';
import { isAlreadyExists, isConflict, isGone, isNamespaceTerminating, isNotFound, toClusterError } from './kube-errors.js';
import { kubeClients } from './clients.js';
import { EventSpamFilter } from './event-spam-filter.js';
import { ListCache, type WatchClient } from './list-cache.js';
import type { CollectionRead, VersionedList, WatchedCollectionOptions } from './watched-collection.js';

export interface KubeClusterOptions {
  readonly managedResource?: ManagedResource;
  /** Page size for LISTs (default 500). */
  readonly pageSize?: number;
  /** `source.component` of recorded events. */
  readonly component?: string;
  /** EVENT-1: the spam filter of recorded events (default: one of its own; sessions share their parent's). */
  readonly eventFilter?: EventSpamFilter;
  /**
   * IMPL-10: keep every node and each DaemonSet's pods warm between passes (watched, and read only
   * when provably as fresh as a LIST). Needs clients with `watch`; sessions share their parent's.
   */
  readonly listCache?: boolean;
  /** The list cache's clock, timers and maximum age (default: the process's). */
  readonly listCacheOptions?: WatchedCollectionOptions;
}

/** What a session shares with the adapter it came from. */
export interface KubeClusterShared {
  readonly eventFilter: EventSpamFilter;
  readonly cache: ListCache<V1Node, V1Pod> | null;
}

const PAGE = 500;

/** One page of a LIST. */
type Pager<T> = (cont: string | undefined, limit: number) => Promise<{ items: T[]; metadata?: { _continue?: string; resourceVersion?: string } }>;

const patchOptions = (kind: PatchKind) =>
  setHeaderOptions('Content-Type', kind === 'strategic' ? PatchStrategy.StrategicMergePatch : PatchStrategy.MergePatch);

/**
 * The client-node API calls the adapter makes, and nothing else: real API objects fit, and so do
 * the in-memory ones of the fault-injection tests, which must then answer each of these calls.
 */
export type CoreClient = Pick<CoreV1Api, 'listNode' | 'readNode' | 'listNamespacedPod' | 'createNamespacedPod' | 'deleteNamespacedPod' | 'patchNamespacedPod' | 'createNamespacedEvent'>;
export type AppsClient = Pick<AppsV1Api,
  | 'readNamespacedDaemonSet' | 'listDaemonSetForAllNamespaces' | 'replaceNamespacedDaemonSetStatus' | 'patchNamespacedDaemonSet'
  | 'listNamespacedControllerRevision' | 'createNamespacedControllerRevision' | 'readNamespacedControllerRevision'
  | 'patchNamespacedControllerRevision' | 'deleteNamespacedControllerRevision'>;
export type CustomClient = Pick<CustomObjectsApi, 'getNamespacedCustomObject' | 'listClusterCustomObject' | 'replaceNamespacedCustomObjectStatus' | 'patchNamespacedCustomObject'>;
export interface KubeClients {
  readonly core: CoreClient;
  readonly apps: AppsClient;
  readonly custom: CustomClient;
  /** Watches (for the list cache); without it the adapter lists every time. */
  readonly watch?: WatchClient;
}

export class KubeCluster implements ClusterApi {
  readonly counters: ApiCounters = { reads: 0, writes: 0 };
  readonly managedResource: ManagedResource;
  private readonly core: CoreClient;
  private readonly apps: AppsClient;
  private readonly custom: CustomClient;
  private readonly pageSize: number;
  private readonly component: string;
  private readonly eventFilter: EventSpamFilter;
  private readonly clients: KubeClients;
  private readonly cache: ListCache<V1Node, V1Pod> | null;

  constructor(readonly kubeConfig: KubeConfig, options: KubeClusterOptions = {}, clients?: KubeClients, shared?: KubeClusterShared) {
    this.managedResource = options.managedResource ?? 'native';
    this.pageSize = options.pageSize ?? PAGE;
    this.component = options.component ?? 'daemonless';
    this.eventFilter = shared?.eventFilter ?? options.eventFilter ?? new EventSpamFilter();
    // Built here: one keep-alive connection per KubeConfig, client-node's generic object API (clients.ts).
    const built = clients ?? kubeClients(kubeConfig);
    this.clients = built;
    this.core = built.core;
    this.apps = built.apps;
    this.custom = built.custom;
    this.cache = shared !== undefined ? shared.cache : options.listCache === true && built.watch !== undefined ? this.newCache(built.watch, options.listCacheOptions) : null;
  }

  /** A view sharing the same clients, spam filter and list cache, with counters of its own (one per reconcile pass). */
  session(): KubeCluster {
    return new KubeCluster(this.kubeConfig, { managedResource: this.managedResource, pageSize: this.pageSize, component: this.component }, this.clients, this.shared);
  }

  /** What sessions of this adapter share with it (for adapters that build their sessions themselves). */
  protected get shared(): KubeClusterShared {
    return { eventFilter: this.eventFilter, cache: this.cache };
  }

  /** The list cache's counts (null without one). */
  listCacheStats(): ReturnType<ListCache<V1Node, V1Pod>['stats']> | null {
    return this.cache?.stats() ?? null;
  }

  /** Stops the list cache's watches (the connection itself does not keep a process alive). */
  close(): void {
    this.cache?.close();
  }

  private newCache(watch: WatchClient, cacheOptions: WatchedCollectionOptions | undefined): ListCache<V1Node, V1Pod> {
    // The cache's own requests are counted where a pass reads through it (cachedRead), not here.
    const versioned = <T>(what: string, page: Pager<T>): Promise<VersionedList<T>> => this.listAll(what, page, { reads: 0, writes: 0 });
    const probe = async (what: string, call: () => Promise<{ metadata?: { resourceVersion?: string } }>): Promise<string | undefined> => {
      try {
        return (await call()).metadata?.resourceVersion;
      } catch (e) {
        throw toClusterError(e, what);
      }
    };
    return new ListCache<V1Node, V1Pod>({
      nodes: () => ({
        list: () => versioned('list nodes', (cont, limit) => this.core.listNode({ limit, _continue: cont })),
        probe: () => probe('list nodes', () => this.core.listNode({ limit: 1 })),
        watch: (resourceVersion, handlers) => watch({ path: '/api/v1/nodes', resourceVersion }, handlers as never),
      }),
      pods: (namespace, labelSelector) => ({
        list: () => versioned(`list pods in ${namespace}`, (cont, limit) => this.core.listNamespacedPod({ namespace, labelSelector, limit, _continue: cont })),
        probe: () => probe(`list pods in ${namespace}`, () => this.core.listNamespacedPod({ namespace, labelSelector, limit: 1 })),
        watch: (resourceVersion, handlers) => watch({ path: `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods`, resourceVersion, labelSelector }, handlers as never),
      }),
    }, cacheOptions);
  }

  /** A read through the list cache, counted as the requests it made (a probe, a LIST's pages, or both). */
  private async cachedRead<T>(read: () => Promise<CollectionRead<T>>): Promise<ListResult<T>> {
    const r = await read();
    this.counters.reads += (r.probed ? 1 : 0) + (r.source === 'list' ? Math.max(1, Math.ceil(r.items.length / this.pageSize)) : 0);
    return { items: r.items, complete: r.complete };
  }

  // read and write differ only in the counter they raise: two small helpers rather than one with a flag.
  private async read<T>(what: string, call: () => Promise<T>): Promise<T> {
    this.counters.reads++;
    try {
      return await call();
    } catch (e) {
      throw toClusterError(e, what);
    }
  }

  private async write<T>(what: string, call: () => Promise<T>): Promise<T> {
    this.counters.writes++;
    try {
      return await call();
    } catch (e) {
      throw toClusterError(e, what);
    }
  }

  /** A write whose failure `gone(e)` means the object is already as the pass wants it: 'already-done'. */
  private async idempotentWrite(what: string, call: () => Promise<unknown>, gone: (e: unknown) => boolean): Promise<WriteOutcome> {
    this.counters.writes++;
    try {
      await call();
      return 'done';
    } catch (e) {
      if (gone(e)) return 'already-done';
      throw toClusterError(e, what);
    }
  }

  /** Pages through a LIST; a 410 on a continue token ends the list early and marks it incomplete. */
  private async listAll<T>(what: string, page: Pager<T>, counters: ApiCounters = this.counters): Promise<ListResult<T> & VersionedList<T>> {
    const items: T[] = [];
    let cont: string | undefined;
    let resourceVersion: string | undefined;
    do {
      counters.reads++;
      let res: Awaited<ReturnType<Pager<T>>>;
      try {
        res = await page(cont, this.pageSize);
      } catch (e) {
        if (cont && isGone(e)) return { items, resourceVersion, complete: false };
        throw toClusterError(e, what);
      }
      // Every page of a paged LIST comes from the first page's snapshot.
      resourceVersion ??= res.metadata?.resourceVersion;
      items.push(...res.items);
      cont = res.metadata?._continue || undefined;
    } while (cont);
    return { items, resourceVersion, complete: true };
  }

  // ---- DaemonSets ----

  /** The DaemonSet, or null when it does not exist. */
  async getDaemonSet(namespace: string, name: string): Promise<V1DaemonSet | null> {
    this.counters.reads++;
    try {
      if (this.managedResource === 'crd') {
        return (await this.custom.getNamespacedCustomObject({ group: CRD_GROUP, version: CRD_VERSION, namespace, plural: CRD_PLURAL, name })) as V1DaemonSet;
      }
      return await this.apps.readNamespacedDaemonSet({ namespace, name });
    } catch (e) {
      if (isNotFound(e)) return null;
      throw toClusterError(e, `get daemonset ${namespace}/${name}`);
    }
  }

  /** Every managed DaemonSet in the cluster (paginated). */
  async listDaemonSets(): Promise<ListResult<V1DaemonSet>> {
    if (this.managedResource === 'crd') {
      return this.listAll('list daemonsets', async (cont, limit) =>
        (await this.custom.listClusterCustomObject({ group: CRD_GROUP, version: CRD_VERSION, plural: CRD_PLURAL, limit, _continue: cont })) as { items: V1DaemonSet[]; metadata?: { _continue?: string } });
    }
    return this.listAll('list daemonsets', (cont, limit) => this.apps.listDaemonSetForAllNamespaces({ limit, _continue: cont }));
  }

  /** Writes status through the status subresource; the body carries the read resourceVersion (409 → transient). */
  async replaceDaemonSetStatus(ds: V1DaemonSet, status: V1DaemonSetStatus): Promise<V1DaemonSet> {
    const namespace = ds.metadata?.namespace ?? 'default';
    const name = ds.metadata?.name ?? '';
    const body = { ...ds, status };
    return this.write(`update status of daemonset ${namespace}/${name}`, async () => {
      if (this.managedResource === 'crd') {
        return (await this.custom.replaceNamespacedCustomObjectStatus({ group: CRD_GROUP, version: CRD_VERSION, namespace, plural: CRD_PLURAL, name, body })) as V1DaemonSet;
      }
      return this.apps.replaceNamespacedDaemonSetStatus({ namespace, name, body });
    });
  }

  // ---- Nodes ----

  async listNodes(): Promise<ListResult<V1Node>> {
    if (this.cache !== null) return this.cachedRead(() => this.cache!.nodes());
    return this.listAll('list nodes', (cont, limit) => this.core.listNode({ limit, _continue: cont }));
  }

  /** The node, or null when it does not exist. */
  async getNode(name: string): Promise<V1Node | null> {
    this.counters.reads++;
    try {
      return await this.core.readNode({ name });
    } catch (e) {
      if (isNotFound(e)) return null;
      throw toClusterError(e, `get node ${name}`);
    }
  }

  // ---- Pods ----

  /** Pods in a namespace, optionally filtered by label and field selector strings. */
  async listPods(namespace: string, labelSelector?: string, fieldSelector?: string): Promise<ListResult<V1Pod>> {
    if (this.cache !== null && fieldSelector === undefined && labelSelector !== undefined && labelSelector !== '') {
      return this.cachedRead(() => this.cache!.pods(namespace, labelSelector));
    }
    return this.listAll(`list pods in ${namespace}`, (cont, limit) => this.core.listNamespacedPod({ namespace, labelSelector, fieldSelector, limit, _continue: cont }));
  }

  /** Creates a pod; AlreadyExists counts as done (deterministic names make creates idempotent). */
  async createPod(pod: V1Pod): Promise<WriteOutcome> {
    const namespace = pod.metadata?.namespace ?? 'default';
    return this.idempotentWrite(`create pod ${namespace}/${pod.metadata?.name}`, () => this.core.createNamespacedPod({ namespace, body: pod }),
      (e) => isAlreadyExists(e) || isNamespaceTerminating(e));
  }

  /**
   * Deletes a pod with a UID precondition. NotFound, and a precondition failure (the name now
   * belongs to another pod), count as done: the pod this pass decided about is gone.
   */
  async deletePod(namespace: string, name: string, uid: string | undefined): Promise<WriteOutcome> {
    return this.idempotentWrite(`delete pod ${namespace}/${name}`,
      () => this.core.deleteNamespacedPod({ namespace, name, body: { preconditions: uid ? { uid } : undefined, propagationPolicy: 'Background' } }),
      (e) => isNotFound(e) || Boolean(uid && isConflict(e)));
  }

  /**
   * Patches a pod: `strategic` for ownership changes (the body carries `metadata.uid`, which the API
   * server checks, so a patch never lands on a replacement object of the same name), `merge` for labels.
   */
  async patchPod(namespace: string, name: string, body: object, strategy: PatchKind): Promise<WriteOutcome> {
    return this.idempotentWrite(`patch pod ${namespace}/${name}`, () => this.core.patchNamespacedPod({ namespace, name, body }, patchOptions(strategy)), isNotFound);
  }

  /** Merge-patches the DaemonSet's metadata (annotations); works for native and CRD objects. */
  async patchDaemonSetMetadata(namespace: string, name: string, metadata: object): Promise<void> {
    await this.write(`patch daemonset ${namespace}/${name}`, async () => {
      const body = { metadata };
      if (this.managedResource === 'crd') {
        await this.custom.patchNamespacedCustomObject({ group: CRD_GROUP, version: CRD_VERSION, namespace, plural: CRD_PLURAL, name, body }, patchOptions('merge'));
      } else {
        await this.apps.patchNamespacedDaemonSet({ namespace, name, body }, patchOptions('merge'));
      }
    });
  }

  // ---- ControllerRevisions ----

  async listRevisions(namespace: string, labelSelector?: string): Promise<ListResult<V1ControllerRevision>> {
    return this.listAll(`list controllerrevisions in ${namespace}`, (cont, limit) => this.apps.listNamespacedControllerRevision({ namespace, labelSelector, limit, _continue: cont }));
  }

  /** Creates a revision. Returns the existing object on AlreadyExists, so the caller can compare contents (hash collision). */
  async createRevision(rev: V1ControllerRevision): Promise<{ outcome: WriteOutcome; existing?: V1ControllerRevision }> {
    const namespace = rev.metadata?.namespace ?? 'default';
    const name = rev.metadata?.name ?? '';
    this.counters.writes++;
    try {
      await this.apps.createNamespacedControllerRevision({ namespace, body: rev });
      return { outcome: 'done' };
    } catch (e) {
      if (isNamespaceTerminating(e)) return { outcome: 'already-done' };
      if (!isAlreadyExists(e)) throw toClusterError(e, `create controllerrevision ${namespace}/${name}`);
      const existing = await this.read(`get controllerrevision ${namespace}/${name}`, () => this.apps.readNamespacedControllerRevision({ namespace, name }));
      return { outcome: 'already-done', existing };
    }
  }

  /** Patches a revision: `merge` for a revision bump or label back-fill, `strategic` for ownership. */
  async patchRevision(namespace: string, name: string, body: object, strategy: PatchKind): Promise<WriteOutcome> {
    return this.idempotentWrite(`patch controllerrevision ${namespace}/${name}`,
      () => this.apps.patchNamespacedControllerRevision({ namespace, name, body }, patchOptions(strategy)), isNotFound);
  }

  async deleteRevision(namespace: string, name: string, uid: string | undefined): Promise<WriteOutcome> {
    return this.idempotentWrite(`delete controllerrevision ${namespace}/${name}`,
      () => this.apps.deleteNamespacedControllerRevision({ namespace, name, body: { preconditions: uid ? { uid } : undefined } }),
      (e) => isNotFound(e) || Boolean(uid && isConflict(e)));
  }

  // ---- Events ----

  /**
   * Records a core/v1 Event about an object (so `kubectl describe ds` shows it). Failures are
   * swallowed: an event is best-effort, as upstream's recorder is; and, as there, an event over the
   * spam filter's budget for its object is dropped (EVENT-1): false, nothing sent.
   */
  async recordEvent(involved: InvolvedObject, event: ClusterEvent, now: Date): Promise<boolean> {
    if (!this.eventFilter.allow(this.component, involved, now.getTime())) return false;
    this.counters.writes++;
    try {
      await this.core.createNamespacedEvent({
        namespace: involved.namespace,
        body: {
          metadata: { generateName: `${involved.name}.`, namespace: involved.namespace },
          involvedObject: { apiVersion: involved.apiVersion, kind: involved.kind, namespace: involved.namespace, name: involved.name, uid: involved.uid },
          type: event.type,
          reason: event.reason,
          message: event.message,
          source: { component: this.component },
          reportingComponent: this.component,
          reportingInstance: this.component,
          firstTimestamp: now,
          lastTimestamp: now,
          count: 1,
        },
      });
      return true;
    } catch {
      return false;
    }
  }
}
