/**
 * IMPL-10: the warm collections of one container — every node, and the pods of each DaemonSet
 * (by namespace and label selector) read by full passes — each a WatchedCollection (see there for
 * why a cached read is as fresh as a LIST). Memory is bounded: at most MAX_POD_COLLECTIONS pod
 * collections and about `maxObjects` objects in all (default MAX_CACHED_OBJECTS: some 70 MB of heap,
 * a pod as the API server returns it taking ~3.5 kB once parsed; the reconcile function has 512 MB); the least recently read pod collections
 * are closed first. The node collection is kept whatever its size (every full pass needs it).
 */
import {
  addCollectionStats, emptyCollectionStats, WatchedCollection, type CollectionRead, type CollectionStats, type CollectionSource, type WatchedCollectionOptions, type WatchHandlers, type WatchStream,
} from './watched-collection.js';

/** A watch request: the collection's path (`/api/v1/nodes`, `/api/v1/namespaces/NS/pods`). */
export interface WatchRequest {
  readonly path: string;
  readonly resourceVersion: string;
  readonly labelSelector?: string;
}

/** Opens a watch; events carry the decoded objects of the API server's watch stream. */
export type WatchClient = (request: WatchRequest, handlers: WatchHandlers<unknown>) => WatchStream;

export const MAX_POD_COLLECTIONS = 64;
export const MAX_CACHED_OBJECTS = 20_000;

/** The collections a cache can serve, and how to read each one. */
export interface ListCacheSources<Node, Pod> {
  readonly nodes: () => CollectionSource<Node>;
  readonly pods: (namespace: string, labelSelector: string) => CollectionSource<Pod>;
}

type Meta = { readonly metadata?: { readonly name?: string; readonly namespace?: string; readonly resourceVersion?: string } };

export class ListCache<Node extends Meta, Pod extends Meta> {
  private nodeCollection: WatchedCollection<Node> | null = null;
  private readonly podCollections = new Map<string, WatchedCollection<Pod>>();
  /** The counts of pod collections closed so far. */
  private readonly retired = emptyCollectionStats();

  constructor(
    private readonly sources: ListCacheSources<Node, Pod>,
    private readonly options: WatchedCollectionOptions & { readonly maxObjects?: number } = {},
  ) {}

  nodes(): Promise<CollectionRead<Node>> {
    this.nodeCollection ??= new WatchedCollection(this.sources.nodes(), this.options);
    return this.nodeCollection.read();
  }

  async pods(namespace: string, labelSelector: string): Promise<CollectionRead<Pod>> {
    const key = `${namespace}\u0000${labelSelector}`;
    let c = this.podCollections.get(key);
    if (c === undefined) {
      c = new WatchedCollection(this.sources.pods(namespace, labelSelector), this.options);
    } else {
      this.podCollections.delete(key);
    }
    // Most recently read last: eviction takes from the front.
    this.podCollections.set(key, c);
    const read = await c.read();
    this.evict(c);
    return read;
  }

  /** Closes the least recently read pod collections (never `keep`) while over either bound. */
  private evict(keep: WatchedCollection<Pod>): void {
    const maxObjects = this.options.maxObjects ?? MAX_CACHED_OBJECTS;
    let total = (this.nodeCollection?.size ?? 0) + [...this.podCollections.values()].reduce((n, c) => n + c.size, 0);
    for (const [key, c] of this.podCollections) {
      if (this.podCollections.size <= MAX_POD_COLLECTIONS && total <= maxObjects) break;
      if (c === keep) continue;
      total -= c.size;
      c.close();
      addCollectionStats(this.retired, c.stats);
      this.podCollections.delete(key);
    }
  }

  /** The counts of the node collection, and of the pod collections summed, closed ones included (for logs and benchmarks). */
  stats(): { readonly nodes: CollectionStats; readonly pods: CollectionStats } {
    const pods = emptyCollectionStats();
    for (const c of [this.retired, ...[...this.podCollections.values()].map((x) => x.stats)]) addCollectionStats(pods, c);
    const nodes = emptyCollectionStats();
    if (this.nodeCollection !== null) addCollectionStats(nodes, this.nodeCollection.stats);
    return { nodes, pods };
  }

  close(): void {
    this.nodeCollection?.close();
    this.nodeCollection = null;
    for (const c of this.podCollections.values()) c.close();
    this.podCollections.clear();
  }
}

/** The API server's watch stream lines, as WatchEvents (an unreadable line ends the watch as an ERROR). */
export function decodeWatchLine(text: string): Parameters<WatchHandlers<unknown>['event']>[0] {
  let parsed: { type?: unknown; object?: { code?: unknown; message?: unknown; metadata?: { resourceVersion?: unknown } } };
  try {
    parsed = JSON.parse(text) as typeof parsed;
  } catch {
    return { type: 'ERROR', code: 0, message: `unreadable watch event: ${text.slice(0, 200)}` };
  }
  const object = parsed.object ?? {};
  switch (parsed.type) {
    case 'ADDED':
    case 'MODIFIED':
    case 'DELETED':
      return { type: parsed.type, object };
    case 'BOOKMARK': {
      const rv = object.metadata?.resourceVersion;
      return { type: 'BOOKMARK', resourceVersion: typeof rv === 'string' ? rv : undefined };
    }
    case 'ERROR':
      return { type: 'ERROR', code: typeof object.code === 'number' ? object.code : 0, message: typeof object.message === 'string' ? object.message : 'watch error' };
    default:
      return { type: 'ERROR', code: 0, message: `unknown watch event type ${String(parsed.type)}` };
  }
}
