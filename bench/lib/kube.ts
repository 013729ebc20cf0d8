/**
 * Client-side helpers of the benchmarks:
 * - `benchKubeConfig`: a KubeConfig whose API calls pass a token bucket with the same QPS/burst as
 *   the planes' kube-controller-manager (`--kube-api-qps=200 --kube-api-burst=400`), so daemonless,
 *   the floor client and the upstream controller are held to the same client rate limit;
 * - `ApiTraffic`: counts requests, new connections and response body bytes (on the wire and
 *   decoded) to one API server: the controller's adapter (lib/adapters/kube/h2-transport.ts) through
 *   its diagnostics channels, and any undici request (client-node's own transport: watches, the
 *   floor client) through undici's (no change to the clients).
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { gunzipSync, inflateSync, brotliDecompressSync } from 'node:zlib';
import { KubeConfig } from '@kubernetes/client-node';
import { CONNECT_CHANNEL, REQUEST_CHANNEL, type RequestMessage } from '../../lib/adapters/kube/h2-transport.js';

/** The planes' kube-controller-manager client limits (lib/local-plane/control-plane.ts). */
export const KCM_QPS = 200;
export const KCM_BURST = 400;

/** client-go's flowcontrol token bucket: `burst` tokens, refilled at `qps` per second; callers wait in FIFO order. */
export class TokenBucket {
  private tokens: number;
  private last = performance.now();
  private tail: Promise<void> = Promise.resolve();
  waits = 0;
  waitedMs = 0;

  constructor(readonly qps: number, readonly burst: number) {
    this.tokens = burst;
  }

  take(): Promise<void> {
    const turn = this.tail.then(async () => {
      const now = performance.now();
      this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.qps);
      this.last = now;
      if (this.tokens >= 1) {
        this.tokens -= 1;
        return;
      }
      const waitMs = ((1 - this.tokens) / this.qps) * 1000;
      this.waits += 1;
      this.waitedMs += waitMs;
      await new Promise((r) => setTimeout(r, waitMs));
      this.tokens = 0;
      this.last = performance.now();
    });
    this.tail = turn;
    return turn;
  }
}

export interface BenchKubeConfigOptions {
  /** Token bucket for every API call (watches included); null = unlimited. */
  readonly limiter?: TokenBucket | null;
}

/**
 * A KubeConfig loaded from a file whose API calls wait for the limiter first. Each request asks
 * the KubeConfig for its credentials exactly once: client-node's own transport through
 * `applySecurityAuthentication`, the controller's adapter through `applyToHTTPSOptions`.
 */
export function benchKubeConfig(path: string, options: BenchKubeConfigOptions = {}): KubeConfig {
  const limiter = options.limiter ?? null;
  class LimitedKubeConfig extends KubeConfig {
    override async applySecurityAuthentication(context: Parameters<KubeConfig['applySecurityAuthentication']>[0]): Promise<void> {
      if (limiter !== null) await limiter.take();
      return super.applySecurityAuthentication(context);
    }

    override async applyToHTTPSOptions(opts: Parameters<KubeConfig['applyToHTTPSOptions']>[0]): Promise<void> {
      if (limiter !== null) await limiter.take();
      return super.applyToHTTPSOptions(opts);
    }
  }
  const kc = new LimitedKubeConfig();
  kc.loadFromFile(path);
  return kc;
}

export function plainKubeConfig(path: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(path);
  return kc;
}

interface UndiciRequest { readonly origin?: unknown; readonly method?: string; readonly path?: string }

export interface TrafficTotals {
  requests: number;
  /** New TCP+TLS connections opened. */
  connections: number;
  /** Response body bytes as received (compressed when the server compressed). */
  wireBytes: number;
  /** Response body bytes after content decoding (the JSON the client parses). */
  decodedBytes: number;
  /** Requests by "METHOD /path-without-query"; `lists` counts the GETs without a `continue` token (a paged LIST counts once). */
  byRequest: Record<string, TrafficRow>;
}

export interface TrafficRow { count: number; lists?: number; wireBytes: number; decodedBytes: number }

export const emptyTotals = (): TrafficTotals => ({ requests: 0, connections: 0, wireBytes: 0, decodedBytes: 0, byRequest: {} });

/**
 * A watch of the local runner's event source (a deployed controller has none: the webhook gets the
 * events). The list cache's watches (method WATCH, IMPL-10) are the controller's own cost and count.
 */
export const isWatch = (method: string, path: string): boolean => method !== 'WATCH' && /[?&]watch=(true|1)(&|$)/.test(path);

/** What happened between two snapshots of the same counter (b taken after a). */
export function trafficBetween(a: TrafficTotals, b: TrafficTotals): TrafficTotals {
  const byRequest: Record<string, TrafficRow> = {};
  for (const [k, row] of Object.entries(b.byRequest)) {
    const before = a.byRequest[k] ?? { count: 0, lists: 0, wireBytes: 0, decodedBytes: 0 };
    const d = { count: row.count - before.count, lists: (row.lists ?? 0) - (before.lists ?? 0), wireBytes: row.wireBytes - before.wireBytes, decodedBytes: row.decodedBytes - before.decodedBytes };
    if (d.count > 0) byRequest[k] = d;
  }
  return { requests: b.requests - a.requests, connections: b.connections - a.connections, wireBytes: b.wireBytes - a.wireBytes, decodedBytes: b.decodedBytes - a.decodedBytes, byRequest };
}

/** a + b. */
export function trafficSum(a: TrafficTotals, b: TrafficTotals): TrafficTotals {
  const byRequest: Record<string, TrafficRow> = JSON.parse(JSON.stringify(a.byRequest)) as Record<string, TrafficRow>;
  for (const [k, r] of Object.entries(b.byRequest)) {
    const row = (byRequest[k] ??= { count: 0, lists: 0, wireBytes: 0, decodedBytes: 0 });
    row.count += r.count;
    row.lists = (row.lists ?? 0) + (r.lists ?? 0);
    row.wireBytes += r.wireBytes;
    row.decodedBytes += r.decodedBytes;
  }
  return { requests: a.requests + b.requests, connections: a.connections + b.connections, wireBytes: a.wireBytes + b.wireBytes, decodedBytes: a.decodedBytes + b.decodedBytes, byRequest };
}

/** Requests that are not GETs (creates, updates, patches, deletes). */
export const writesOf = (t: TrafficTotals): number => Object.entries(t.byRequest).filter(([k]) => !k.startsWith('GET ') && !k.startsWith('WATCH ')).reduce((n, [, r]) => n + r.count, 0);

/**
 * Counts the response traffic of undici requests to `origin` (e.g. https://127.0.0.1:6443).
 * Watches are counted as they stream; call `reset()` / `snapshot()` around the measured span.
 */
export class ApiTraffic {
  private totals = emptyTotals();
  private readonly pending = new Map<object, { key: string; firstPage: boolean; encoding: string; chunks: Buffer[] }>();
  private readonly onHeaders: (msg: unknown) => void;
  private readonly onChunk: (msg: unknown) => void;
  private readonly onTrailers: (msg: unknown) => void;
  private readonly onConnected: (msg: unknown) => void;
  private readonly onAdapterRequest: (msg: unknown) => void;
  private readonly onAdapterConnect: (msg: unknown) => void;

  /** `exclude(method, pathWithQuery)`: requests not to count (e.g. watches, or the benchmark's own calls). */
  constructor(readonly origin: string, options: { exclude?: (method: string, path: string) => boolean } = {}) {
    const host = new URL(origin).host;
    const exclude = options.exclude ?? (() => false);
    const mine = (r: UndiciRequest): boolean => {
      const o = r.origin;
      const sameHost = typeof o === 'string' ? new URL(o).host === host : o instanceof URL ? o.host === host : false;
      return sameHost && !exclude(r.method ?? 'GET', r.path ?? '');
    };
    this.onHeaders = (msg) => {
      const { request, response } = msg as { request: UndiciRequest; response: { headers: (Buffer | string)[] | Record<string, string | string[]> } };
      if (!mine(request)) return;
      let encoding = 'identity';
      const h = response.headers;
      if (Array.isArray(h)) {
        // HTTP/1.1: a flat [name, value, …] list.
        for (let i = 0; i + 1 < h.length; i += 2) {
          if (String(h[i]).toLowerCase() === 'content-encoding') encoding = String(h[i + 1]).toLowerCase();
        }
      } else {
        // HTTP/2 (undici negotiates h2 with kube-apiserver): an object.
        for (const [k, v] of Object.entries(h)) if (k.toLowerCase() === 'content-encoding') encoding = String(v).toLowerCase();
      }
      const [path = '', query = ''] = (request.path ?? '').split('?');
      const firstPage = (request.method ?? 'GET') === 'GET' && !/(^|&)continue=/.test(query);
      this.pending.set(request, { key: `${request.method ?? 'GET'} ${normalizePath(path)}`, firstPage, encoding, chunks: [] });
    };
    this.onChunk = (msg) => {
      const { request, chunk } = msg as { request: object; chunk: Buffer };
      const p = this.pending.get(request);
      if (p === undefined) return;
      this.totals.wireBytes += chunk.length;
      p.chunks.push(Buffer.from(chunk));
    };
    this.onTrailers = (msg) => {
      const { request } = msg as { request: object };
      const p = this.pending.get(request);
      if (p === undefined) return;
      this.pending.delete(request);
      const wire = Buffer.concat(p.chunks);
      let decoded = wire.length;
      try {
        if (p.encoding === 'gzip') decoded = gunzipSync(wire).length;
        else if (p.encoding === 'deflate') decoded = inflateSync(wire).length;
        else if (p.encoding === 'br') decoded = brotliDecompressSync(wire).length;
      } catch {
        /* a cut-off stream: count the wire bytes */
      }
      this.totals.requests += 1;
      this.totals.decodedBytes += decoded;
      const row = (this.totals.byRequest[p.key] ??= { count: 0, lists: 0, wireBytes: 0, decodedBytes: 0 });
      row.count += 1;
      if (p.firstPage) row.lists = (row.lists ?? 0) + 1;
      row.wireBytes += wire.length;
      row.decodedBytes += decoded;
    };
    this.onConnected = (msg) => {
      const { connectParams } = msg as { connectParams: { host?: string; hostname?: string; port?: string | number } };
      const h = `${connectParams.hostname ?? ''}:${connectParams.port ?? ''}`;
      if (h === host || connectParams.host === host) this.totals.connections += 1;
    };
    this.onAdapterRequest = (msg) => {
      const m = msg as RequestMessage;
      if (new URL(m.origin).host !== host || exclude(m.method, m.path)) return;
      const [path = '', query = ''] = m.path.split('?');
      // The list cache's probes (LIST limit=1) apart from the LISTs they save.
      const probe = m.method === 'GET' && /(^|&)limit=1(&|$)/.test(query) ? ' (limit=1)' : '';
      const key = `${m.method} ${normalizePath(path)}${probe}`;
      if (m.streamed === true) {
        // Bytes of an open watch: counted where its request was.
        this.totals.wireBytes += m.wireBytes;
        this.totals.decodedBytes += m.decodedBytes;
        const row = (this.totals.byRequest[key] ??= { count: 0, lists: 0, wireBytes: 0, decodedBytes: 0 });
        row.wireBytes += m.wireBytes;
        row.decodedBytes += m.decodedBytes;
        return;
      }
      this.totals.requests += 1;
      this.totals.wireBytes += m.wireBytes;
      this.totals.decodedBytes += m.decodedBytes;
      const row = (this.totals.byRequest[key] ??= { count: 0, lists: 0, wireBytes: 0, decodedBytes: 0 });
      row.count += 1;
      if (m.method === 'GET' && probe === '' && !/(^|&)continue=/.test(query)) row.lists = (row.lists ?? 0) + 1;
      row.wireBytes += m.wireBytes;
      row.decodedBytes += m.decodedBytes;
    };
    this.onAdapterConnect = (msg) => {
      if (new URL((msg as { origin: string }).origin).host === host) this.totals.connections += 1;
    };
    subscribe(REQUEST_CHANNEL, this.onAdapterRequest);
    subscribe(CONNECT_CHANNEL, this.onAdapterConnect);
    subscribe('undici:client:connected', this.onConnected);
    subscribe('undici:request:headers', this.onHeaders);
    subscribe('undici:request:bodyChunkReceived', this.onChunk);
    subscribe('undici:request:trailers', this.onTrailers);
  }

  reset(): void {
    this.totals = emptyTotals();
  }

  snapshot(): TrafficTotals {
    return JSON.parse(JSON.stringify(this.totals)) as TrafficTotals;
  }

  close(): void {
    unsubscribe(REQUEST_CHANNEL, this.onAdapterRequest);
    unsubscribe(CONNECT_CHANNEL, this.onAdapterConnect);
    unsubscribe('undici:client:connected', this.onConnected);
    unsubscribe('undici:request:headers', this.onHeaders);
    unsubscribe('undici:request:bodyChunkReceived', this.onChunk);
    unsubscribe('undici:request:trailers', this.onTrailers);
  }
}

/** "/api/v1/namespaces/bench/pods/x" → "/api/v1/namespaces/{ns}/pods/{name}" (for grouping). */
function normalizePath(path: string): string {
  const parts = path.split('/');
  for (let i = 0; i < parts.length; i += 1) {
    if (parts[i - 1] === 'namespaces') parts[i] = '{ns}';
  }
  const kinds = new Set(['pods', 'nodes', 'daemonsets', 'controllerrevisions', 'events']);
  for (let i = 0; i < parts.length - 1; i += 1) {
    if (kinds.has(parts[i] ?? '') && parts[i + 1] !== '') parts[i + 1] = '{name}';
  }
  return parts.join('/');
}

export const mb = (bytes: number): number => Math.round((bytes / 1e6) * 100) / 100;
