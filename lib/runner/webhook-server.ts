/**
 * The webhook for the local runner: node:http on loopback (or node:https with `tls`: a
 * kube-apiserver calls admission webhooks over HTTPS only), the same handleWebhook as the Lambda
 * function. Bodies are read up to the limit plus one byte (the handler then answers 413, or allows
 * an AdmissionReview), so a huge upload is not buffered.
 */
import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { handleWebhook, type WebhookDeps } from '../app/handle-webhook.js';

export interface WebhookServer {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

export interface WebhookServerOptions {
  readonly host?: string;
  readonly port?: number;
  /** Serve HTTPS with this certificate and key (PEM); the URL then starts with `https://`. */
  readonly tls?: { readonly cert: string | Buffer; readonly key: string | Buffer };
}

export async function startWebhookServer(deps: WebhookDeps, options: WebhookServerOptions = {}): Promise<WebhookServer> {
  const host = options.host ?? '127.0.0.1';
  const listener: RequestListener = (req, res) => {
    serve(req, res, deps).catch((e: unknown) => {
      deps.logger.error('webhook server failed', { error: e instanceof Error ? e.message : String(e) });
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end('{"ok":false,"error":"internal error"}');
    });
  };
  const server: Server | HttpsServer = options.tls === undefined
    ? createServer(listener)
    : createHttpsServer({ cert: options.tls.cert, key: options.tls.key }, listener);
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `${options.tls === undefined ? 'http' : 'https'}://${host}:${port}`,
    port,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

async function serve(req: IncomingMessage, res: ServerResponse, deps: WebhookDeps): Promise<void> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    if (size <= deps.maxBytes) {
      const room = deps.maxBytes + 1 - size;
      chunks.push(chunk.length > room ? chunk.subarray(0, room) : chunk);
    }
    size += chunk.length;
  }
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const headers: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(req.headers)) headers[k] = Array.isArray(v) ? v.join(', ') : v;
  const out = await handleWebhook({ method: req.method ?? 'GET', path: q < 0 ? url : url.slice(0, q), headers, body: Buffer.concat(chunks) }, deps);
  res.writeHead(out.statusCode, out.headers);
  res.end(out.body);
}
