/** Raw GETs against the API server (for measuring alternative read shapes byte by byte). */
import { request, type RequestOptions } from 'node:https';
import { gunzipSync } from 'node:zlib';
import type { KubeConfig } from '@kubernetes/client-node';

export interface RawResponse {
  readonly status: number;
  readonly wireBytes: number;
  readonly decodedBytes: number;
  readonly body: Buffer;
}

/**
 * GET `path` with the KubeConfig's credentials. `accept` picks the encoding (JSON by default);
 * gzip is requested, as client-node's fetch does. `maxMs` ends a watch after that long.
 */
export async function rawGet(kc: KubeConfig, path: string, options: { accept?: string; maxMs?: number } = {}): Promise<RawResponse> {
  const server = new URL(kc.getCurrentCluster()?.server ?? '');
  const opts: RequestOptions = {};
  await kc.applyToHTTPSOptions(opts);
  return new Promise((resolve, reject) => {
    const req = request({
      ...opts,
      hostname: server.hostname,
      port: server.port,
      path,
      method: 'GET',
      headers: { ...(opts.headers ?? {}), accept: options.accept ?? 'application/json', 'accept-encoding': 'gzip' },
    }, (res) => {
      const chunks: Buffer[] = [];
      let timer: NodeJS.Timeout | null = null;
      const finish = (): void => {
        if (timer) clearTimeout(timer);
        const wire = Buffer.concat(chunks);
        let body = wire;
        if (res.headers['content-encoding'] === 'gzip') {
          try {
            body = gunzipSync(wire, { finishFlush: 2 });
          } catch {
            body = wire;
          }
        }
        resolve({ status: res.statusCode ?? 0, wireBytes: wire.length, decodedBytes: body.length, body });
      };
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', finish);
      res.on('close', finish);
      if (options.maxMs !== undefined) timer = setTimeout(() => { res.destroy(); }, options.maxMs);
    });
    req.on('error', reject);
    req.end();
  });
}
