/**
 * One keep-alive connection per KubeConfig.
 *
 * client-node 2.0.1 builds a new undici Agent for every API call (`applySecurityAuthentication` →
 * `createDispatcher`), so every call pays a new TCP connection and TLS handshake, and nothing is
 * ever reused. `shareConnection` makes a KubeConfig hand out one Agent for as long as the TLS
 * material it is built from stays the same (server, proxy, CA, client certificate and key, TLS
 * server name, verification); undici keeps its connection alive — HTTP/2 with kube-apiserver, so
 * every call of a container, concurrent ones included, travels on one connection.
 *
 * Authentication is unchanged: credentials sent as headers (bearer tokens, the EKS tokens that
 * lib/adapters/credentials refreshes, basic auth) are still applied to each request; client
 * certificates are part of the TLS material, so a rotated one (an exec plugin's) gets a new Agent,
 * and the previous Agent is closed once its requests have finished.
 */
import { createHash } from 'node:crypto';
import type { Cluster, KubeConfig } from '@kubernetes/client-node';

/** What client-node passes to `createDispatcher` (a subset of https.AgentOptions). */
type AgentOptions = Readonly<Record<string, unknown>>;

/** An undici Dispatcher, as far as this module uses it (undici is client-node's dependency, not ours). */
interface Dispatcher {
  close(): Promise<void>;
}

/** client-node's private dispatcher factory (a method of KubeConfig in 2.0.1). */
interface DispatcherFactory {
  createDispatcher(cluster: Cluster | null, agentOptions: AgentOptions): Dispatcher | undefined;
}

/** The Agent a KubeConfig currently shares, and how many it has built (for tests and benchmarks). */
export interface SharedConnectionStats {
  readonly dispatchers: number;
}

const shared = new WeakMap<KubeConfig, { stats: { dispatchers: number } }>();

function keyOf(cluster: Cluster | null, options: AgentOptions): string {
  const hash = createHash('sha256');
  const part = (name: string, value: unknown): void => {
    if (value === undefined) return;
    hash.update(`${name}\0`);
    if (Buffer.isBuffer(value) || value instanceof Uint8Array) hash.update(value);
    else if (Array.isArray(value)) value.forEach((v, i) => part(`${name}[${i}]`, v));
    else hash.update(String(value));
    hash.update('\0');
  };
  part('server', cluster?.server);
  part('proxy', cluster?.proxyUrl);
  part('skipTLSVerify', cluster?.skipTLSVerify);
  for (const name of Object.keys(options).sort()) part(name, options[name]);
  return hash.digest('hex');
}

/**
 * Makes `kc` reuse one dispatcher (see above). Idempotent; returns `kc`. Throws when the installed
 * client-node no longer builds its dispatcher where 2.0.1 does, rather than silently opening a
 * connection per call again.
 */
export function shareConnection(kc: KubeConfig): KubeConfig {
  if (shared.has(kc)) return kc;
  const factory = kc as unknown as DispatcherFactory;
  if (typeof factory.createDispatcher !== 'function') {
    throw new Error('@kubernetes/client-node: KubeConfig.createDispatcher is gone; lib/adapters/kube/shared-connection.ts must follow the new version');
  }
  const build = factory.createDispatcher.bind(kc);
  const stats = { dispatchers: 0 };
  let current: { key: string; dispatcher: Dispatcher | undefined } | null = null;
  factory.createDispatcher = (cluster, agentOptions) => {
    const key = keyOf(cluster, agentOptions);
    if (current !== null && current.key === key) return current.dispatcher;
    const previous = current?.dispatcher;
    current = { key, dispatcher: build(cluster, agentOptions) };
    stats.dispatchers += 1;
    // Requests already on the previous Agent finish; close() waits for them.
    if (previous !== undefined) void previous.close().catch(() => undefined);
    return current.dispatcher;
  };
  shared.set(kc, { stats });
  return kc;
}

/** How many dispatchers a shared KubeConfig has built; null when it is not shared. */
export function sharedConnectionStats(kc: KubeConfig): SharedConnectionStats | null {
  const s = shared.get(kc);
  return s === undefined ? null : { dispatchers: s.stats.dispatchers };
}
