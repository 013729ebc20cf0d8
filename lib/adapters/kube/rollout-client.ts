/**
 * The API calls of `daemonless rollout` and `explain`, over @kubernetes/client-node, on raw JSON
 * objects (native `apps/v1` DaemonSets and the project's `daemonless.io/v1` DaemonSets alike, through
 * their REST paths). It translates only; API failures become `KubectlError`s carrying the line
 * kubectl prints for them.
 */
import { KubectlError } from './kubectl-error.js';
import { CustomObjectsApi, KubeConfig, PatchStrategy, Watch, setHeaderOptions } from '@kubernetes/client-node';
import { CRD_GROUP, CRD_PLURAL, CRD_VERSION, type ManagedResource, type Snapshot, type V1ControllerRevision, type V1DaemonSet } from '../../core/index.js';
import { readSnapshotOf } from '../../app/read-snapshot.js';
import { KubeCluster } from './kube-cluster.js';
import { statusCode } from './kube-errors.js';

/** Which DaemonSet resource a command talks about. */
export type DaemonSetKind = ManagedResource;

/** An object reference of a rollout command. */
export interface DaemonSetTarget {
  readonly kind: DaemonSetKind;
  readonly namespace: string;
  readonly name: string;
}

export { KubectlError };

/** How a patch body is to be read by the API server. */
export type RolloutPatchType = 'strategic' | 'merge' | 'json';

/** A watch event on the DaemonSet. */
export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

/** Everything the rollout commands do against a cluster. */
export interface RolloutCluster {
  /** The namespace of the kubeconfig context (else `default`). */
  readonly defaultNamespace: string;
  getDaemonSet(target: DaemonSetTarget): Promise<V1DaemonSet>;
  /** ControllerRevisions of the namespace matching a label selector. */
  listRevisions(namespace: string, labelSelector: string): Promise<V1ControllerRevision[]>;
  patchDaemonSet(target: DaemonSetTarget, body: unknown, type: RolloutPatchType): Promise<V1DaemonSet>;
  /**
   * Watches the one DaemonSet from a resourceVersion; `onEvent` gets every event, `onEnd` the end of
   * the stream (the server closes watches now and then; the caller watches again). Returns a stop function.
   */
  watchDaemonSet(target: DaemonSetTarget, resourceVersion: string, onEvent: (type: WatchEventType, ds: V1DaemonSet) => void, onEnd: (err?: unknown) => void): Promise<() => void>;
  /** What a reconcile pass of the DaemonSet reads (nodes, its pods and revisions). */
  readSnapshot(target: DaemonSetTarget, ds: V1DaemonSet): Promise<Snapshot>;
}

const API = {
  native: { group: 'apps', version: 'v1', plural: 'daemonsets', resource: 'daemonsets.apps' },
  crd: { group: CRD_GROUP, version: CRD_VERSION, plural: CRD_PLURAL, resource: `${CRD_PLURAL}.${CRD_GROUP}` },
} as const;

const CONTENT_TYPE: Record<RolloutPatchType, string> = {
  strategic: PatchStrategy.StrategicMergePatch,
  merge: PatchStrategy.MergePatch,
  json: PatchStrategy.JsonPatch,
};

/**
 * Loads a kubeconfig the way kubectl does: `--kubeconfig`, else `KUBECONFIG`, else `~/.kube/config`;
 * `--context` selects a context. Throws `KubectlError` with kubectl's words.
 */
export function loadKubeConfig(path: string | undefined, context: string | undefined): KubeConfig {
  const kc = new KubeConfig();
  try {
    if (path !== undefined) kc.loadFromFile(path);
    else kc.loadFromDefault();
  } catch (e) {
    throw new KubectlError(`error: ${path ?? 'kubeconfig'}: ${(e as Error).message.split('\n')[0]}`);
  }
  if (context !== undefined) {
    if (!kc.getContextObject(context)) throw new KubectlError(`error: context "${context}" does not exist`);
    kc.setCurrentContext(context);
  }
  if (!kc.getCurrentCluster()) {
    throw new KubectlError('error: no configuration has been provided, try setting KUBECONFIG or --kubeconfig');
  }
  return kc;
}

/** kubectl's line for an API failure: `Error from server (Reason): message`, else `error: ...`. */
export function kubectlErrorLine(e: unknown): string {
  const body = (e as { body?: unknown })?.body;
  let parsed: unknown = body;
  if (typeof body === 'string') {
    try {
      parsed = JSON.parse(body);
    } catch {
      parsed = undefined;
    }
  }
  const status = parsed as { kind?: string; reason?: string; message?: string } | undefined;
  if (status?.kind === 'Status' && status.message) return `Error from server${status.reason ? ` (${status.reason})` : ''}: ${status.message}`;
  const code = statusCode(e);
  if (code) return `error: the server responded with HTTP ${code}`;
  return `error: ${(e as Error)?.message ?? String(e)}`;
}

export class KubeRolloutCluster implements RolloutCluster {
  readonly defaultNamespace: string;
  private readonly custom: CustomObjectsApi;

  constructor(private readonly kc: KubeConfig) {
    this.custom = kc.makeApiClient(CustomObjectsApi);
    this.defaultNamespace = kc.getContextObject(kc.getCurrentContext())?.namespace || 'default';
  }

  private async call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      throw new KubectlError(kubectlErrorLine(e));
    }
  }

  getDaemonSet(t: DaemonSetTarget): Promise<V1DaemonSet> {
    const a = API[t.kind];
    return this.call(async () => (await this.custom.getNamespacedCustomObject({ group: a.group, version: a.version, plural: a.plural, namespace: t.namespace, name: t.name })) as V1DaemonSet);
  }

  listRevisions(namespace: string, labelSelector: string): Promise<V1ControllerRevision[]> {
    return this.call(async () => {
      const list = (await this.custom.listNamespacedCustomObject({ group: 'apps', version: 'v1', plural: 'controllerrevisions', namespace, labelSelector })) as { items: V1ControllerRevision[] };
      return list.items;
    });
  }

  patchDaemonSet(t: DaemonSetTarget, body: unknown, type: RolloutPatchType): Promise<V1DaemonSet> {
    const a = API[t.kind];
    return this.call(async () => (await this.custom.patchNamespacedCustomObject(
      { group: a.group, version: a.version, plural: a.plural, namespace: t.namespace, name: t.name, body: body as object },
      setHeaderOptions('Content-Type', CONTENT_TYPE[type]),
    )) as V1DaemonSet);
  }

  async watchDaemonSet(t: DaemonSetTarget, resourceVersion: string, onEvent: (type: WatchEventType, ds: V1DaemonSet) => void, onEnd: (err?: unknown) => void): Promise<() => void> {
    const a = API[t.kind];
    const path = `/apis/${a.group}/${a.version}/namespaces/${encodeURIComponent(t.namespace)}/${a.plural}`;
    const controller = await new Watch(this.kc).watch(
      path,
      { fieldSelector: `metadata.name=${t.name}`, resourceVersion, allowWatchBookmarks: true },
      (type, obj) => onEvent(type as WatchEventType, obj as V1DaemonSet),
      (err) => onEnd(err ?? undefined),
    );
    return () => controller.abort();
  }

  async readSnapshot(t: DaemonSetTarget, ds: V1DaemonSet): Promise<Snapshot> {
    try {
      return await readSnapshotOf(new KubeCluster(this.kc, { managedResource: t.kind }), ds);
    } catch (e) {
      const cause = (e as { cause?: unknown }).cause;
      throw new KubectlError(cause ? kubectlErrorLine(cause) : `error: ${(e as Error).message}`);
    }
  }
}
