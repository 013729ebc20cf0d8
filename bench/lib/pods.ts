/**
 * Watches the pods of one namespace (LIST, then WATCH from its resourceVersion) and keeps, per pod,
 * when it was first seen, when it became Ready, its target node and revision hash. Timestamps are
 * local `performance.now()` values of the moment the event arrived.
 */
import { CoreV1Api, Watch, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { sleep } from './args.js';

export interface TrackedPod {
  readonly name: string;
  node: string | null;
  hash: string | null;
  ready: boolean;
  terminating: boolean;
  firstSeen: number;
  readyAt: number | null;
  deleted: boolean;
}

export function targetNode(pod: V1Pod): string | null {
  if (pod.spec?.nodeName) return pod.spec.nodeName;
  const terms = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? [];
  for (const t of terms) {
    for (const f of t.matchFields ?? []) if (f.key === 'metadata.name' && f.values?.[0]) return f.values[0];
  }
  return null;
}

const podReady = (p: V1Pod): boolean => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

export class PodTracker {
  readonly pods = new Map<string, TrackedPod>();
  private controller: AbortController | null = null;
  private stopped = false;
  private listeners = new Set<() => void>();
  /** Ready → not Ready transitions of pods that were not being deleted (a simulated node under CPU pressure). */
  unreadyFlaps = 0;
  /** Called on every event, after the tracker updated (for samplers). */
  onEvent: ((type: string, pod: TrackedPod) => void) | null = null;

  private constructor(private readonly kc: KubeConfig, readonly namespace: string, readonly labelSelector: string | undefined) {}

  static async start(kc: KubeConfig, namespace: string, labelSelector?: string): Promise<PodTracker> {
    const t = new PodTracker(kc, namespace, labelSelector);
    await t.listAndWatch();
    return t;
  }

  private apply(type: string, pod: V1Pod, at: number): void {
    const name = pod.metadata?.name ?? '';
    let p = this.pods.get(name);
    if (type === 'DELETED') {
      if (p) {
        p.deleted = true;
        this.pods.delete(name);
      }
    } else {
      if (!p) {
        p = { name, node: null, hash: null, ready: false, terminating: false, firstSeen: at, readyAt: null, deleted: false };
        this.pods.set(name, p);
      }
      p.node = targetNode(pod);
      p.hash = pod.metadata?.labels?.['controller-revision-hash'] ?? null;
      p.terminating = !!pod.metadata?.deletionTimestamp;
      const ready = podReady(pod);
      if (ready && p.readyAt === null) p.readyAt = at;
      if (p.ready && !ready && !p.terminating) this.unreadyFlaps += 1;
      p.ready = ready;
    }
    if (p) this.onEvent?.(type, p);
    for (const l of this.listeners) l();
  }

  private async listAndWatch(): Promise<void> {
    const core = this.kc.makeApiClient(CoreV1Api);
    const list = await core.listNamespacedPod({ namespace: this.namespace, labelSelector: this.labelSelector });
    const now = performance.now();
    for (const pod of list.items) this.apply('ADDED', pod, now);
    let rv = list.metadata?.resourceVersion;
    const watch = new Watch(this.kc);
    const loop = async (): Promise<void> => {
      while (!this.stopped) {
        await new Promise<void>((resolve) => {
          watch.watch(`/api/v1/namespaces/${this.namespace}/pods`,
            { allowWatchBookmarks: true, ...(this.labelSelector ? { labelSelector: this.labelSelector } : {}), ...(rv ? { resourceVersion: rv } : {}) },
            (type: string, obj: V1Pod) => {
              const v = obj?.metadata?.resourceVersion;
              if (type === 'ERROR') { rv = undefined; return; }
              if (v) rv = v;
              if (type === 'BOOKMARK') return;
              this.apply(type, obj, performance.now());
            },
            () => resolve())
            .then((c) => { this.controller = c; if (this.stopped) c.abort(); })
            .catch(() => resolve());
        });
        if (this.stopped) return;
        if (rv === undefined) {
          // Expired: relist.
          const again = await core.listNamespacedPod({ namespace: this.namespace, labelSelector: this.labelSelector });
          const at = performance.now();
          const seen = new Set<string>();
          for (const pod of again.items) { this.apply('MODIFIED', pod, at); seen.add(pod.metadata?.name ?? ''); }
          for (const name of [...this.pods.keys()]) if (!seen.has(name)) this.apply('DELETED', { metadata: { name } }, at);
          rv = again.metadata?.resourceVersion;
        }
        await sleep(50);
      }
    };
    void loop();
  }

  /** Resolves when `predicate` holds (checked on every event and every 500 ms), or rejects after timeoutMs. */
  until(predicate: () => boolean, timeoutMs: number, what: string): Promise<number> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (predicate()) {
          done();
          resolve(performance.now());
        }
      };
      const timer = setInterval(check, 500);
      const deadline = setTimeout(() => {
        done();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      const done = (): void => {
        clearInterval(timer);
        clearTimeout(deadline);
        this.listeners.delete(check);
      };
      this.listeners.add(check);
      check();
    });
  }

  counts(): { total: number; ready: number; terminating: number } {
    let ready = 0;
    let terminating = 0;
    for (const p of this.pods.values()) {
      if (p.ready && !p.terminating) ready += 1;
      if (p.terminating) terminating += 1;
    }
    return { total: this.pods.size, ready, terminating };
  }

  stop(): void {
    this.stopped = true;
    this.controller?.abort();
  }
}
