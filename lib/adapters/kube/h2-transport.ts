/**
 * The HTTP library of the controller's client-node API objects: one HTTP/2 connection per
 * KubeConfig, kept alive between calls, built on Node's own `node:http2` (client-node's default,
 * undici's fetch, opens a new connection per call in 2.0.1 and is most of a Lambda bundle's size;
 * infra/constructs/defaults.ts leaves it out of the bundles).
 *
 * - Credentials: every request asks the KubeConfig (`applyToHTTPSOptions`), so header credentials
 *   (bearer tokens, the refreshed EKS tokens of lib/adapters/credentials, basic auth) are applied
 *   per request; the TLS material (CA, client certificate and key, server name, verification)
 *   picks the connection, and a change of it (a rotated client certificate) opens a new one while
 *   the previous one finishes its requests and closes.
 * - A connection idle for longer than IDLE_MS is not reused (a frozen Lambda container's connection
 *   may be gone); a request that fails on a reused connection before any answer is sent again once
 *   on a new connection (the controller's writes are idempotent: deterministic names, UID
 *   preconditions, resourceVersion on status writes).
 * - Responses are asked for gzip (as undici's fetch does), and decoded here.
 * - A cluster behind a proxy, or an `http:` server, goes over HTTP/1.1 through client-node's
 *   own agents for that cluster (`applyToHTTPSOptions` picks them).
 * - Each request and each new connection is published on diagnostics channels (REQUEST_CHANNEL,
 *   CONNECT_CHANNEL) for the benchmarks' traffic counts; publishing costs nothing without subscribers.
 */
import { createHash } from 'node:crypto';
import { channel } from 'node:diagnostics_channel';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { connect, constants, type ClientHttp2Session, type IncomingHttpHeaders as H2Headers } from 'node:http2';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import { promisify } from 'node:util';
import { brotliDecompress, gunzip, inflate } from 'node:zlib';
import type { KubeConfig } from '@kubernetes/client-node/dist/config.js';
import { ResponseContext, SelfDecodingBody, wrapHttpLibrary, type HttpLibrary, type RequestContext } from '@kubernetes/client-node/dist/gen/http/http.js';

export const REQUEST_CHANNEL = 'daemonless:kube:request';
export const CONNECT_CHANNEL = 'daemonless:kube:connect';

/** What REQUEST_CHANNEL carries, once a response body has been read. */
export interface RequestMessage {
  readonly origin: string;
  readonly method: string;
  readonly path: string;
  readonly status: number;
  /** Body bytes as received, and after content decoding. */
  readonly wireBytes: number;
  readonly decodedBytes: number;
  /** Bytes that arrived on an open watch stream (published as they come; the watch itself was published once, when answered). */
  readonly streamed?: true;
}

/** A connection not used for this long is closed rather than reused. */
export const IDLE_MS = 30_000;
/** Flow-control windows: a LIST of thousands of nodes streams without waiting for window updates. */
const STREAM_WINDOW = 4 * 1024 * 1024;
const SESSION_WINDOW = 16 * 1024 * 1024;

const requestChannel = channel(REQUEST_CHANNEL);
const connectChannel = channel(CONNECT_CHANNEL);

const decoders: Record<string, (b: Buffer) => Promise<Buffer>> = {
  gzip: promisify(gunzip),
  deflate: promisify(inflate),
  br: promisify(brotliDecompress),
};

/** Headers that HTTP/2 forbids (connection-specific) or that the session sets itself. */
const NOT_H2 = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'host']);

interface Connection {
  readonly key: string;
  readonly session: ClientHttp2Session;
  active: number;
  lastUsed: number;
  used: boolean;
}

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: Buffer;
  readonly wireBytes: number;
}

/** A request that failed before any answer, on a connection that had served requests before. */
class StaleConnectionError extends Error {
  constructor(override readonly cause: unknown) {
    super(`connection lost before an answer: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = 'StaleConnectionError';
  }
}

/** Error codes of a connection that went away under a request (not of the request itself). */
const CONNECTION_LOST = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ERR_HTTP2_GOAWAY_SESSION', 'ERR_HTTP2_INVALID_SESSION', 'ERR_HTTP2_SESSION_ERROR', 'ERR_HTTP2_STREAM_CANCEL', 'ERR_HTTP2_SOCKET_UNBOUND']);

function connectionLost(session: ClientHttp2Session, e: unknown): boolean {
  const code = (e as { code?: unknown })?.code;
  return session.destroyed || session.closed || (typeof code === 'string' && CONNECTION_LOST.has(code)) || (e instanceof StreamResetError && e.rstCode === constants.NGHTTP2_REFUSED_STREAM);
}

/** A stream reset by the peer without an error event (e.g. REFUSED_STREAM after a GOAWAY). */
class StreamResetError extends Error {
  constructor(readonly rstCode: number) {
    super(`HTTP/2 stream reset (code ${rstCode})`);
    this.name = 'StreamResetError';
  }
}

function tlsKey(origin: string, o: RequestOptions): string {
  const hash = createHash('sha256');
  for (const [name, value] of Object.entries({ origin, ca: o.ca, cert: o.cert, key: o.key, pfx: o.pfx, passphrase: o.passphrase, rejectUnauthorized: o.rejectUnauthorized, servername: o.servername })) {
    if (value === undefined) continue;
    hash.update(`${name}\0`);
    for (const v of Array.isArray(value) ? value : [value]) hash.update(Buffer.isBuffer(v) ? v : String(v));
    hash.update('\0');
  }
  return hash.digest('hex');
}

function lowerCased(h: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase(), v]));
}

function flatHeaders(h: IncomingHttpHeaders | H2Headers): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) {
    if (k.startsWith(':') || v === undefined) continue;
    out[k] = Array.isArray(v) ? v.join(', ') : String(v);
  }
  return out;
}

/** The HTTP library of one KubeConfig. */
export class KubeTransport {
  private current: Connection | null = null;
  /** Connections opened so far (HTTP/2 sessions; HTTP/1.1 ones are counted by their agents). */
  connections = 0;

  constructor(private readonly kc: KubeConfig, private readonly now: () => number = Date.now) {}

  /** For client-node's `createConfiguration({ httpApi })`. */
  httpLibrary(): HttpLibrary {
    return wrapHttpLibrary({ send: (ctx) => this.send(ctx) });
  }

  /** Closes the connection (requests in flight finish first). */
  close(): void {
    this.current?.session.close();
    this.current = null;
  }

  async send(ctx: RequestContext): Promise<ResponseContext> {
    const url = new URL(ctx.getUrl());
    const { options, headers } = await this.credentials({ 'accept-encoding': 'gzip', ...lowerCased(ctx.getHeaders()) });
    const body = ctx.getBody();
    if (body !== undefined && typeof body !== 'string') throw new Error('KubeTransport sends string bodies only (client-node serializes JSON)');
    const method = ctx.getHttpMethod().toString();
    const signal = ctx.getSignal();

    const viaProxy = Boolean(this.kc.getCurrentCluster()?.proxyUrl) || url.protocol === 'http:';
    let answer: Answer;
    if (viaProxy) {
      answer = await this.http1(url, method, headers, body, options, signal);
    } else {
      try {
        answer = await this.http2(url, method, headers, body, options, signal);
      } catch (e) {
        if (!(e instanceof StaleConnectionError)) throw e;
        answer = await this.http2(url, method, headers, body, options, signal);
      }
    }
    const encoding = (answer.headers['content-encoding'] ?? 'identity').toLowerCase();
    const decode = decoders[encoding];
    const decoded = decode === undefined ? answer.body : await decode(answer.body);
    if (requestChannel.hasSubscribers) {
      requestChannel.publish({ origin: url.origin, method, path: url.pathname + url.search, status: answer.status, wireBytes: answer.wireBytes, decodedBytes: decoded.length } satisfies RequestMessage);
    }
    return new ResponseContext(answer.status, answer.headers, new SelfDecodingBody(Promise.resolve(decoded)));
  }

  /**
   * A streaming GET (a watch): `line` gets each newline-terminated line of the body as it arrives,
   * `end` once when the stream ends (no error: the server closed it) or fails (an HTTP status other
   * than 200 is an error with that `code`). The stream does not keep the process alive. It is
   * published on REQUEST_CHANNEL once answered, and each chunk of its body as it arrives (`streamed`).
   */
  async stream(path: string, line: (text: string) => void, end: (error?: unknown) => void): Promise<{ stop(): void }> {
    const server = this.kc.getCurrentCluster()?.server;
    if (server === undefined) throw new Error('No active cluster!');
    const url = new URL(server.replace(/\/+$/, '') + path);
    const { options, headers } = await this.credentials({ accept: 'application/json', 'user-agent': 'daemonless (kubernetes-client-javascript)' });
    const abort = new AbortController();
    let status = 0;
    let pending = '';
    let finished = false;
    const publish = (wireBytes: number, streamed: boolean): void => {
      if (!requestChannel.hasSubscribers) return;
      requestChannel.publish({ origin: url.origin, method: 'WATCH', path: url.pathname + url.search, status, wireBytes, decodedBytes: wireBytes, ...(streamed ? { streamed: true as const } : {}) } satisfies RequestMessage);
    };
    const finish = (error?: unknown): void => {
      if (finished) return;
      finished = true;
      end(error);
    };
    const data = (chunk: Buffer): void => {
      publish(chunk.length, true);
      pending += chunk.toString('utf8');
      let nl = pending.indexOf('\n');
      while (nl >= 0 && !finished) {
        const text = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        if (text.trim() !== '') line(text);
        nl = pending.indexOf('\n');
      }
    };
    const answered = (code: number): boolean => {
      status = code;
      publish(0, false);
      if (code === 200) return true;
      finish(Object.assign(new Error(`watch ${url.pathname}: HTTP ${code}`), { code }));
      abort.abort();
      return false;
    };
    const viaProxy = Boolean(this.kc.getCurrentCluster()?.proxyUrl) || url.protocol === 'http:';
    if (viaProxy) {
      const request = url.protocol === 'http:' ? httpRequest : httpsRequest;
      const req = request(url, { ...options, method: 'GET', headers, signal: abort.signal }, (res) => {
        if (!answered(res.statusCode ?? 0)) return;
        res.on('data', data);
        res.on('end', () => finish());
        res.on('error', finish);
      });
      req.on('error', (e) => finish(abort.signal.aborted ? undefined : e));
      req.on('socket', (socket) => socket.unref());
      req.end();
    } else {
      const conn = this.connection(url.origin, options);
      conn.used = true;
      const h2headers: Record<string, string> = { ':method': 'GET', ':path': url.pathname + url.search };
      for (const [k, v] of Object.entries(headers)) if (!NOT_H2.has(k)) h2headers[k] = v;
      // Not counted as active: an open watch alone lets a CLI exit and a Lambda freeze.
      const s = conn.session.request(h2headers, { endStream: true, signal: abort.signal });
      s.on('response', (h) => answered(Number(h[':status'] ?? 0)));
      s.on('data', data);
      s.on('end', () => finish());
      s.on('error', (e) => finish(abort.signal.aborted ? undefined : e));
      s.on('close', () => finish(s.rstCode !== undefined && s.rstCode !== constants.NGHTTP2_NO_ERROR && !abort.signal.aborted ? new StreamResetError(s.rstCode) : undefined));
    }
    return {
      stop: () => {
        if (finished) return;
        finished = true;
        abort.abort();
      },
    };
  }

  /**
   * The KubeConfig's TLS options and credential headers for one request (asked per request: tokens
   * are refreshed), over the request's own headers.
   */
  private async credentials(own: Record<string, string>): Promise<{ options: RequestOptions; headers: Record<string, string> }> {
    const options: RequestOptions = {};
    await this.kc.applyToHTTPSOptions(options);
    const headers = { ...own };
    for (const [k, v] of Object.entries(options.headers ?? {})) if (v !== undefined) headers[k.toLowerCase()] = String(v);
    if (typeof options.auth === 'string') headers.authorization = `Basic ${Buffer.from(options.auth).toString('base64')}`;
    return { options, headers };
  }

  private connection(origin: string, options: RequestOptions): Connection {
    const key = tlsKey(origin, options);
    const c = this.current;
    if (c !== null && c.key === key && !c.session.closed && !c.session.destroyed && this.now() - c.lastUsed <= IDLE_MS) return c;
    // A changed TLS material, a closed or an idle connection: a new one; the old one ends gracefully.
    if (c !== null) {
      this.current = null;
      c.session.close(); // streams in flight finish first
    }
    const session = connect(origin, {
      ca: options.ca, cert: options.cert, key: options.key, pfx: options.pfx, passphrase: options.passphrase,
      ...(options.rejectUnauthorized === undefined ? {} : { rejectUnauthorized: options.rejectUnauthorized }),
      ...(options.servername === undefined ? {} : { servername: options.servername }),
      settings: { initialWindowSize: STREAM_WINDOW },
    });
    session.once('connect', () => session.setLocalWindowSize(SESSION_WINDOW));
    const conn: Connection = { key, session, active: 0, lastUsed: this.now(), used: false };
    const forget = (): void => {
      if (this.current === conn) this.current = null;
    };
    session.on('error', forget);
    session.on('goaway', forget);
    session.on('close', forget);
    // Only requests in flight keep the process alive (a CLI exits, a Lambda freezes).
    session.unref();
    this.current = conn;
    this.connections += 1;
    if (connectChannel.hasSubscribers) connectChannel.publish({ origin });
    return conn;
  }

  private http2(url: URL, method: string, headers: Record<string, string>, body: string | undefined, options: RequestOptions, signal: AbortSignal | undefined): Promise<Answer> {
    const conn = this.connection(url.origin, options);
    const reused = conn.used;
    conn.used = true;
    conn.active += 1;
    conn.lastUsed = this.now();
    if (conn.active === 1) conn.session.ref();
    const h2headers: Record<string, string> = { ':method': method, ':path': url.pathname + url.search };
    for (const [k, v] of Object.entries(headers)) if (!NOT_H2.has(k)) h2headers[k] = v;
    return new Promise<Answer>((resolve, reject) => {
      let answered = false;
      let settled = false;
      const done = (): void => {
        settled = true;
        conn.active -= 1;
        conn.lastUsed = this.now();
        if (conn.active === 0 && !conn.session.destroyed) conn.session.unref();
      };
      const fail = (e: unknown): void => {
        if (settled) return;
        done();
        reject(reused && !answered && connectionLost(conn.session, e) ? new StaleConnectionError(e) : e);
      };
      let stream: ReturnType<ClientHttp2Session['request']>;
      try {
        // Node ends the request side of GET, HEAD and DELETE at once unless told; a DELETE carries its options as a body.
        stream = conn.session.request(h2headers, { endStream: body === undefined, ...(signal === undefined ? {} : { signal }) });
      } catch (e) {
        fail(e);
        return;
      }
      const chunks: Buffer[] = [];
      let status = 0;
      let responseHeaders: Record<string, string> = {};
      stream.on('response', (h) => {
        answered = true;
        status = Number(h[':status'] ?? 0);
        responseHeaders = flatHeaders(h);
      });
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        if (settled) return;
        const bodyBytes = Buffer.concat(chunks);
        done();
        resolve({ status, headers: responseHeaders, body: bodyBytes, wireBytes: bodyBytes.length });
      });
      stream.on('error', fail);
      stream.on('close', () => {
        // A stream closed by a reset (e.g. REFUSED_STREAM after a GOAWAY) without an error event.
        if (!stream.readableEnded && stream.rstCode !== undefined && stream.rstCode !== constants.NGHTTP2_NO_ERROR) {
          fail(new StreamResetError(stream.rstCode));
        }
      });
      if (body !== undefined) stream.end(body);
    });
  }

  private http1(url: URL, method: string, headers: Record<string, string>, body: string | undefined, options: RequestOptions, signal: AbortSignal | undefined): Promise<Answer> {
    const request = url.protocol === 'http:' ? httpRequest : httpsRequest;
    return new Promise<Answer>((resolve, reject) => {
      const req = request(url, { ...options, method, headers, ...(signal === undefined ? {} : { signal }) }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const b = Buffer.concat(chunks);
          resolve({ status: res.statusCode ?? 0, headers: flatHeaders(res.headers), body: b, wireBytes: b.length });
        });
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(body);
    });
  }
}
