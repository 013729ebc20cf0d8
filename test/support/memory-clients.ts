/**
 * client-node API objects (the `CoreV1Api`, `AppsV1Api` and `CustomObjectsApi` calls `KubeCluster`
 * makes) over the in-memory API server, and the real `KubeCluster` over them. Nothing here
 * translates errors or decides outcomes: the server throws what client-node throws for the API
 * server's answer (`ApiException` with the status code and the Status body), and the adapter's own
 * code turns that into outcomes and the shell's error classes, as it does in production.
 *
 * Each reconcile pass (`session()`) gets client objects of its own over `rawFor(session)`, so that a
 * fault layer can tell the passes apart (which pass wrote what, which pass died). The methods hand
 * back the transport's promise itself (no extra async step), so concurrent calls reach the fault
 * layer in the order the adapter makes them.
 *
 * With `listCache: true` the adapter (a "container", as one warm Lambda instance) keeps a list
 * cache of its own, fed by the server's watches, which every session of it shares; the cache's
 * probes, lists and watches go through `containerRaw` (the container's connection), not through a
 * pass's. Another MemoryKubeCluster over the same server is another container with another cache.
 */
import {
  HttpMethod,
  KubeConfig,
  RequestContext,
  type ConfigurationOptions,
  type V1Node,
  type V1Pod,
  type V1Status,
} from '@kubernetes/client-node';
import type { ListResult, PatchKind } from '../../lib/app/cluster-api.js';
import { EventSpamFilter } from '../../lib/adapters/kube/event-spam-filter.js';
import {
  KubeCluster, type AppsClient, type CoreClient, type CustomClient, type KubeClients, type KubeClusterOptions, type KubeClusterShared,
} from '../../lib/adapters/kube/kube-cluster.js';
import { CRD_GROUP, CRD_PLURAL, CRD_VERSION } from '../../lib/core/managed-resource.js';
import { apiException, directApi, type ListOptions, type MemoryApiServer, type RawApi, type RawOp } from './memory-api-server.js';

const clone = <T>(v: T): T => structuredClone(v);

/** What a successful DELETE of a ControllerRevision answers. */
const SUCCESS: V1Status = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success' };

/**
 * The patch format a call asks for: client-node sends it as the Content-Type header, which
 * `setHeaderOptions` sets from the request's middleware (synchronously, in `pre`). Anything else is
 * refused as the API server refuses it.
 */
function patchFormat(options: ConfigurationOptions | undefined, strategicAllowed: boolean): PatchKind {
  const request = new RequestContext('https://memory.invalid', HttpMethod.PATCH);
  for (const m of options?.middleware ?? []) void m.pre(request);
  const type = request.getHeaders()['Content-Type'];
  if (type === 'application/merge-patch+json') return 'merge';
  if (type === 'application/strategic-merge-patch+json' && strategicAllowed) return 'strategic';
  throw apiException(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml${strategicAllowed ? ', application/strategic-merge-patch+json' : ''}`);
}

const listOptions = (p: { labelSelector?: string; fieldSelector?: string; limit?: number; _continue?: string }): ListOptions =>
  ({ labelSelector: p.labelSelector, fieldSelector: p.fieldSelector, limit: p.limit, _continue: p._continue });
const continued = (p: { _continue?: string; limit?: number }) => ({ continued: p._continue !== undefined && p._continue !== '', ...(p.limit === undefined ? {} : { limit: p.limit }) });

/** Only the CRD's own resource exists among the custom objects. */
function requireCrd(p: { group: string; version: string; plural: string }): void {
  if (p.group !== CRD_GROUP || p.version !== CRD_VERSION || p.plural !== CRD_PLURAL) {
    throw apiException(404, 'NotFound', 'the server could not find the requested resource');
  }
}

/** client-node shaped API objects whose every call reaches `server` through `raw`. */
export function memoryClients(raw: RawApi): KubeClients {
  const core: CoreClient = {
    listNode: (p = {}) => raw.call('listNodes', (s) => s.listNodes(listOptions(p)), continued(p)),
    readNode: (p) => raw.call('readNode', (s) => s.readNode(p.name)),
    listNamespacedPod: (p) => raw.call('listPods', (s) => s.listPods(p.namespace, listOptions(p)), continued(p)),
    createNamespacedPod: (p) => {
      const body = clone(p.body);
      return raw.call('createPod', (s) => s.createPod(p.namespace, body));
    },
    deleteNamespacedPod: (p) => raw.call('deletePod', (s) => s.deletePod(p.namespace, p.name, p.body?.preconditions?.uid)),
    patchNamespacedPod: (p, options) => {
      const body = clone(p.body) as Record<string, unknown>;
      const format = patchFormat(options, true);
      return raw.call('patchPod', (s) => s.patchPod(p.namespace, p.name, body, format));
    },
    createNamespacedEvent: (p) => {
      const body = clone(p.body);
      return raw.call('createEvent', (s) => s.createEvent(p.namespace, body));
    },
  };
  const apps: AppsClient = {
    readNamespacedDaemonSet: (p) => raw.call('readDaemonSet', (s) => s.readDaemonSet(p.namespace, p.name)),
    listDaemonSetForAllNamespaces: (p = {}) => raw.call('listDaemonSets', (s) => s.listDaemonSets(listOptions(p)), continued(p)),
    replaceNamespacedDaemonSetStatus: (p) => {
      const body = clone(p.body);
      return raw.call('replaceDaemonSetStatus', (s) => s.replaceDaemonSetStatus(p.namespace, p.name, body));
    },
    patchNamespacedDaemonSet: (p, options) => {
      const body = clone(p.body) as Record<string, unknown>;
      if ((patchFormat(options, true)) !== 'merge') throw new Error('memory API server: DaemonSets are only merge-patched');
      return raw.call('patchDaemonSet', (s) => s.patchDaemonSet(p.namespace, p.name, body));
    },
    listNamespacedControllerRevision: (p) => raw.call('listRevisions', (s) => s.listRevisions(p.namespace, listOptions(p)), continued(p)),
    createNamespacedControllerRevision: (p) => {
      const body = clone(p.body);
      return raw.call('createRevision', (s) => s.createRevision(p.namespace, body));
    },
    readNamespacedControllerRevision: (p) => raw.call('readRevision', (s) => s.readRevision(p.namespace, p.name)),
    patchNamespacedControllerRevision: (p, options) => {
      const body = clone(p.body) as Record<string, unknown>;
      const format = patchFormat(options, true);
      return raw.call('patchRevision', (s) => s.patchRevision(p.namespace, p.name, body, format));
    },
    deleteNamespacedControllerRevision: (p) => raw.call('deleteRevision', (s) => {
      s.deleteRevision(p.namespace, p.name, p.body?.preconditions?.uid);
      return SUCCESS;
    }),
  };
  // The CRD's objects live in the server's DaemonSet store (the CRD has the same schema).
  const custom: CustomClient = {
    getNamespacedCustomObject: (p) => {
      requireCrd(p);
      return raw.call('readDaemonSet', (s) => s.readDaemonSet(p.namespace, p.name));
    },
    listClusterCustomObject: (p) => {
      requireCrd(p);
      return raw.call('listDaemonSets', (s) => s.listDaemonSets(listOptions(p)), continued(p));
    },
    replaceNamespacedCustomObjectStatus: (p) => {
      requireCrd(p);
      const body = clone(p.body) as Parameters<MemoryApiServer['replaceDaemonSetStatus']>[2];
      return raw.call('replaceDaemonSetStatus', (s) => s.replaceDaemonSetStatus(p.namespace, p.name, body));
    },
    patchNamespacedCustomObject: (p, options) => {
      requireCrd(p);
      const body = clone(p.body) as Record<string, unknown>;
      // Custom resources take no strategic merge patches.
      patchFormat(options, false);
      return raw.call('patchDaemonSet', (s) => s.patchDaemonSet(p.namespace, p.name, body));
    },
  };
  const watch = raw.watch;
  return { core, apps, custom, ...(watch === undefined ? {} : { watch: (request, handlers) => watch(request, handlers) }) };
}

export interface MemoryKubeClusterOptions extends KubeClusterOptions {
  /** Builds the RawApi of a new session (the fault layer hooks in here); default: straight to the server. */
  readonly rawFor?: (session: number) => RawApi;
  /** Builds the RawApi of the container itself (its list cache's calls and watches); default: `rawFor`. */
  readonly containerRaw?: (session: number) => RawApi;
  /** Told the id of every session opened (synchronously, before its first call). */
  readonly onSession?: (session: number) => void;
  /** Told whether each node or pod list a session got (listed, or from the cache) was whole. */
  readonly onRead?: (session: number, op: RawOp, complete: boolean) => void;
}

let sessionSeq = 0;

/** The real adapter over the in-memory server; every `session()` has client objects of its own, and shares the list cache. */
export class MemoryKubeCluster extends KubeCluster {
  readonly sessionId: number;

  constructor(readonly server: MemoryApiServer, readonly options: MemoryKubeClusterOptions = {}, sessionId: number = (sessionSeq += 1), shared?: KubeClusterShared) {
    const raw = shared === undefined && options.containerRaw ? options.containerRaw(sessionId) : options.rawFor ? options.rawFor(sessionId) : directApi(server, sessionId);
    super(new KubeConfig(), options, memoryClients(raw), shared);
    this.sessionId = sessionId;
  }

  override session(): MemoryKubeCluster {
    // Each pass has a spam filter of its own here (the fault runs count recorded Events as writes).
    const next = new MemoryKubeCluster(this.server, this.options, undefined, { eventFilter: this.options.eventFilter ?? new EventSpamFilter(), cache: this.shared.cache });
    this.options.onSession?.(next.sessionId);
    return next;
  }

  override async listNodes(): Promise<ListResult<V1Node>> {
    const r = await super.listNodes();
    this.options.onRead?.(this.sessionId, 'listNodes', r.complete);
    return r;
  }

  override async listPods(namespace: string, labelSelector?: string, fieldSelector?: string): Promise<ListResult<V1Pod>> {
    const r = await super.listPods(namespace, labelSelector, fieldSelector);
    this.options.onRead?.(this.sessionId, 'listPods', r.complete);
    return r;
  }
}
