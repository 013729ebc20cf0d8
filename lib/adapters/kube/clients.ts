/**
 * The client-node API objects KubeCluster calls, built for a Lambda bundle.
 *
 * client-node's generated group APIs (CoreV1Api, AppsV1Api) carry every endpoint of their group —
 * CoreV1Api alone is 0.38 MB minified, and esbuild cannot drop unused class methods — so the
 * adapter's calls on native objects go through client-node's generic `KubernetesObjectApi`
 * instead (paths from the object's apiVersion/kind/namespace/name; requests, authentication,
 * (de)serialization and ApiException from client-node), with the same call shapes as the
 * generated methods (CoreClient, AppsClient), so KubeCluster and the in-memory clients of the tests
 * are unchanged. Bodies are serialized as the generated methods serialize them: typed for creates
 * and replaces, as given for patches (strategic-merge directives such as `$patch` survive), typed
 * V1DeleteOptions for deletes. The CRD's calls keep client-node's CustomObjectsApi (small).
 *
 * Every import is a deep path into client-node, so that a bundle carries only these modules.
 */
import type { KubeConfig } from '@kubernetes/client-node/dist/config.js';
import { createConfiguration, type Configuration } from '@kubernetes/client-node/dist/gen/configuration.js';
import { HttpMethod, RequestContext, type HttpMethod as HttpMethodType } from '@kubernetes/client-node/dist/gen/http/http.js';
import type { V1APIResourceList } from '@kubernetes/client-node/dist/gen/models/V1APIResourceList.js';
import { ServerConfiguration } from '@kubernetes/client-node/dist/gen/servers.js';
import { ObjectCustomObjectsApi } from '@kubernetes/client-node/dist/gen/types/ObjectParamAPI.js';
import { setHeaderMiddleware } from '@kubernetes/client-node/dist/middleware.js';
import { KubernetesObjectApi } from '@kubernetes/client-node/dist/object.js';
import { ObjectSerializer } from '@kubernetes/client-node/dist/serializer.js';
import type { AppsClient, CoreClient, KubeClients } from './kube-cluster.js';
import { KubeTransport } from './h2-transport.js';
import { decodeWatchLine, type WatchClient } from './list-cache.js';

/** The resources the adapter touches (so no discovery request is needed to find their paths). */
const RESOURCES: Record<string, V1APIResourceList> = {
  v1: {
    groupVersion: 'v1',
    resources: [
      { name: 'pods', kind: 'Pod', namespaced: true, singularName: 'pod', verbs: [] },
      { name: 'nodes', kind: 'Node', namespaced: false, singularName: 'node', verbs: [] },
      { name: 'events', kind: 'Event', namespaced: true, singularName: 'event', verbs: [] },
    ],
  },
  'apps/v1': {
    groupVersion: 'apps/v1',
    resources: [
      { name: 'daemonsets', kind: 'DaemonSet', namespaced: true, singularName: 'daemonset', verbs: [] },
      { name: 'controllerrevisions', kind: 'ControllerRevision', namespaced: true, singularName: 'controllerrevision', verbs: [] },
    ],
  },
};

type Action = 'create' | 'delete' | 'patch' | 'read' | 'list' | 'replace';

interface Call {
  readonly method: HttpMethodType;
  readonly apiVersion: string;
  readonly kind: string;
  readonly namespace?: string;
  readonly name?: string;
  readonly action: Action;
  readonly subresource?: string;
  readonly query?: Readonly<Record<string, string | number | undefined>>;
  readonly body?: unknown;
  /** client-node model name to serialize the body as; none: sent as given. */
  readonly bodyType?: string;
  readonly contentType?: string;
  /** Model to deserialize the answer as; default: from the answer's apiVersion/kind. */
  readonly responseType?: string;
}

/** KubernetesObjectApi with the adapter's resources known, and one call for every shape of request. */
class ObjectClient extends KubernetesObjectApi {
  constructor(configuration: Configuration) {
    super(configuration);
    for (const [gv, list] of Object.entries(RESOURCES)) this.apiVersionResourceCache[gv] = list;
  }

  async call<T>(c: Call): Promise<T> {
    const base = await this.specUriPath({ apiVersion: c.apiVersion, kind: c.kind, metadata: { namespace: c.namespace, name: c.name } }, c.action);
    const ctx = this.configuration.baseServer.makeRequestContext(c.subresource === undefined ? base : `${base}/${c.subresource}`, c.method);
    ctx.setHeaderParam('Accept', 'application/json, */*;q=0.8');
    for (const [k, v] of Object.entries(c.query ?? {})) if (v !== undefined && v !== '') ctx.setQueryParam(k, String(v));
    if (c.body !== undefined) {
      ctx.setHeaderParam('Content-Type', c.contentType ?? 'application/json');
      ctx.setBody(JSON.stringify(c.bodyType === undefined ? c.body : ObjectSerializer.serialize(c.body, c.bodyType)));
    }
    return this.requestPromise(ctx, c.responseType) as Promise<T>;
  }
}

/** The Content-Type a call's options set (KubeCluster passes `setHeaderOptions('Content-Type', …)` for patches). */
function contentTypeOf(options: { middleware?: { pre(ctx: RequestContext): unknown }[] } | undefined): string {
  const probe = new RequestContext('https://content-type.invalid', HttpMethod.PATCH);
  for (const m of options?.middleware ?? []) void m.pre(probe);
  return probe.getHeaders()['Content-Type'] ?? 'application/merge-patch+json';
}

const list = (p: { limit?: number; _continue?: string; labelSelector?: string; fieldSelector?: string }) =>
  ({ limit: p.limit, continue: p._continue, labelSelector: p.labelSelector, fieldSelector: p.fieldSelector });

const typed = <T extends object>(apiVersion: string, kind: string, body: T): T => ({ ...body, apiVersion, kind });

const transports = new WeakMap<KubeConfig, KubeTransport>();

/** The transport (one keep-alive connection) of a KubeConfig, shared by every client built from it. */
export function transportOf(kc: KubeConfig): KubeTransport {
  let t = transports.get(kc);
  if (t === undefined) {
    t = new KubeTransport(kc);
    transports.set(kc, t);
  }
  return t;
}

/**
 * The clients of one KubeConfig, over its one HTTP/2 connection (h2-transport.ts). Authentication
 * is the transport's: it asks the KubeConfig for each request.
 */
export function kubeClients(kc: KubeConfig, transport: KubeTransport = transportOf(kc)): KubeClients {
  const cluster = kc.getCurrentCluster();
  if (cluster === null) throw new Error('No active cluster!');
  const configuration = createConfiguration({
    baseServer: new ServerConfiguration<Record<string, string>>(cluster.server, {}),
    httpApi: transport.httpLibrary(),
    authMethods: { default: { getName: () => 'kubeconfig (per request, by the transport)', applySecurityAuthentication: async () => undefined } },
    middleware: [setHeaderMiddleware('User-Agent', 'daemonless (kubernetes-client-javascript)')],
  });
  const api = new ObjectClient(configuration);
  const GET = HttpMethod.GET;
  const core: CoreClient = {
    listNode: (p = {}) => api.call({ method: GET, apiVersion: 'v1', kind: 'Node', action: 'list', query: list(p) }),
    readNode: (p) => api.call({ method: GET, apiVersion: 'v1', kind: 'Node', name: p.name, action: 'read' }),
    listNamespacedPod: (p) => api.call({ method: GET, apiVersion: 'v1', kind: 'Pod', namespace: p.namespace, action: 'list', query: list(p) }),
    createNamespacedPod: (p) => api.call({ method: HttpMethod.POST, apiVersion: 'v1', kind: 'Pod', namespace: p.namespace, action: 'create', body: typed('v1', 'Pod', p.body), bodyType: 'V1Pod' }),
    deleteNamespacedPod: (p) => api.call({ method: HttpMethod.DELETE, apiVersion: 'v1', kind: 'Pod', namespace: p.namespace, name: p.name, action: 'delete', body: p.body, bodyType: 'V1DeleteOptions', responseType: 'V1Pod' }),
    patchNamespacedPod: (p, options) => api.call({ method: HttpMethod.PATCH, apiVersion: 'v1', kind: 'Pod', namespace: p.namespace, name: p.name, action: 'patch', body: p.body, contentType: contentTypeOf(options) }),
    createNamespacedEvent: (p) => api.call({ method: HttpMethod.POST, apiVersion: 'v1', kind: 'Event', namespace: p.namespace, action: 'create', body: typed('v1', 'Event', p.body), bodyType: 'CoreV1Event', responseType: 'CoreV1Event' }),
  };
  const apps: AppsClient = {
    readNamespacedDaemonSet: (p) => api.call({ method: GET, apiVersion: 'apps/v1', kind: 'DaemonSet', namespace: p.namespace, name: p.name, action: 'read' }),
    listDaemonSetForAllNamespaces: (p = {}) => api.call({ method: GET, apiVersion: 'apps/v1', kind: 'DaemonSet', action: 'list', query: list(p) }),
    replaceNamespacedDaemonSetStatus: (p) => api.call({ method: HttpMethod.PUT, apiVersion: 'apps/v1', kind: 'DaemonSet', namespace: p.namespace, name: p.name, action: 'replace', subresource: 'status', body: typed('apps/v1', 'DaemonSet', p.body), bodyType: 'V1DaemonSet' }),
    patchNamespacedDaemonSet: (p, options) => api.call({ method: HttpMethod.PATCH, apiVersion: 'apps/v1', kind: 'DaemonSet', namespace: p.namespace, name: p.name, action: 'patch', body: p.body, contentType: contentTypeOf(options) }),
    listNamespacedControllerRevision: (p) => api.call({ method: GET, apiVersion: 'apps/v1', kind: 'ControllerRevision', namespace: p.namespace, action: 'list', query: list(p) }),
    createNamespacedControllerRevision: (p) => api.call({ method: HttpMethod.POST, apiVersion: 'apps/v1', kind: 'ControllerRevision', namespace: p.namespace, action: 'create', body: typed('apps/v1', 'ControllerRevision', p.body), bodyType: 'V1ControllerRevision' }),
    readNamespacedControllerRevision: (p) => api.call({ method: GET, apiVersion: 'apps/v1', kind: 'ControllerRevision', namespace: p.namespace, name: p.name, action: 'read' }),
    patchNamespacedControllerRevision: (p, options) => api.call({ method: HttpMethod.PATCH, apiVersion: 'apps/v1', kind: 'ControllerRevision', namespace: p.namespace, name: p.name, action: 'patch', body: p.body, contentType: contentTypeOf(options) }),
    deleteNamespacedControllerRevision: (p) => api.call({ method: HttpMethod.DELETE, apiVersion: 'apps/v1', kind: 'ControllerRevision', namespace: p.namespace, name: p.name, action: 'delete', body: p.body, bodyType: 'V1DeleteOptions', responseType: 'V1Status' }),
  };
  return { core, apps, custom: new ObjectCustomObjectsApi(configuration), watch: watchClient(transport) };
}

/** How long the API server keeps a watch open; a cache is listed anew before (MAX_AGE_MS). */
const WATCH_TIMEOUT_SECONDS = 600;

/** Watches over the transport's connection (IMPL-10). */
export function watchClient(transport: KubeTransport): WatchClient {
  return (request, handlers) => {
    const query = new URLSearchParams({ watch: '1', resourceVersion: request.resourceVersion, allowWatchBookmarks: 'true', timeoutSeconds: String(WATCH_TIMEOUT_SECONDS) });
    if (request.labelSelector !== undefined && request.labelSelector !== '') query.set('labelSelector', request.labelSelector);
    let stopped = false;
    let open: { stop(): void } | null = null;
    transport.stream(`${request.path}?${query.toString()}`, (line) => handlers.event(decodeWatchLine(line)), (e) => handlers.end(e)).then(
      (s) => {
        if (stopped) s.stop();
        else open = s;
      },
      (e: unknown) => handlers.end(e),
    );
    return {
      stop: () => {
        stopped = true;
        open?.stop();
      },
    };
  };
}
