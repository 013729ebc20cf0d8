/**
 * The webhook shell: authenticate, parse, map, enqueue. Returns an HTTP-ish result value and never
 * throws.
 *
 * Answers (documented contract; test/unit/app/webhook-bad-input.test.ts pins each one):
 * - Anything that is (or, when it cannot be parsed, looks like) an AdmissionReview with a string
 *   request uid (any string: it is echoed as a JSON string) gets 200 `{apiVersion, kind: AdmissionReview, response: {uid, allowed: true}}` — always, also
 *   when unauthenticated, malformed, dry-run, too large or when enqueueing fails. Admission must
 *   never block the cluster. Only an authenticated, valid, non-dry-run review enqueues anything.
 * - Other input: 405 wrong method, 413 body over the limit, 415 not JSON content, 400 not UTF-8 /
 *   not JSON / too deeply nested / wrong shape or types, 401 unauthenticated, 422 well-formed but
 *   impossible (invalid names, forged owner references), 503 enqueue failed (the sender retries),
 *   200 `{ok: true, keys, fanouts, skipped}` otherwise.
 *
 * Authentication: the secret as the last path segment (`/hook/<secret>`) and/or an HMAC-SHA256 of
 * the raw body in `x-daemonless-signature: sha256=<hex>`, both compared in constant time. Several
 * secrets may be configured during a rotation. The path (which holds the secret) is never logged.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { WebhookAuthMode } from '../config.js';
import type { ManagedResource } from '../core/index.js';
import { mapEvents } from '../events/map-event.js';
import { parseWebhookBody, peekAdmission } from '../events/parse.js';
import { ADMISSION_API_VERSION } from '../events/schemas.js';
import { METRIC, type AppLogger, type AppMetrics } from '../observability/ports.js';
import type { EventQueue } from './queue.js';

export interface WebhookRequest {
  readonly method: string;
  /** Request path, e.g. `/hook/<secret>`. */
  readonly path: string;
  /** Header names in lower case. */
  readonly headers: Readonly<Record<string, string | undefined>>;
  /** The raw body bytes. */
  readonly body: Uint8Array;
}

export interface WebhookResponse {
  readonly statusCode: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

export interface WebhookAuth {
  /** Accepted secrets (current first). Empty with `required` = nothing is ever authenticated. */
  readonly secrets: readonly string[];
  readonly mode: WebhookAuthMode;
  /** False only for a local runner listening on loopback without a secret. */
  readonly required: boolean;
}

export interface WebhookDeps {
  readonly queue: EventQueue;
  readonly auth: WebhookAuth;
  readonly managed: ManagedResource;
  readonly maxBytes: number;
  readonly logger: AppLogger;
  readonly metrics: AppMetrics;
  readonly now: () => number;
  /** How long an admission answer may wait for the enqueue (default 2000 ms). */
  readonly admissionEnqueueTimeoutMs?: number;
}

export const SIGNATURE_HEADER = 'x-daemonless-signature';
export const MAX_NESTING_DEPTH = 100;
const PREFIX_SCAN = 64 * 1024;
const JSON_TYPE = /^application\/([a-z0-9.+-]*\+)?json\s*(;|$)/i;

const json = (statusCode: number, value: unknown, extra: Record<string, string> = {}): WebhookResponse => ({
  statusCode, headers: { 'content-type': 'application/json', ...extra }, body: JSON.stringify(value),
});

/** The only admission answer there is. */
export const admissionAllowed = (uid: string, apiVersion: string = ADMISSION_API_VERSION): WebhookResponse =>
  json(200, { apiVersion, kind: 'AdmissionReview', response: { uid, allowed: true } });

const refused = (statusCode: number, error: string, extra?: Record<string, string>): WebhookResponse => json(statusCode, { ok: false, error }, extra);

interface Admission { readonly apiVersion: string; readonly uid: string }

export async function handleWebhook(request: WebhookRequest, deps: WebhookDeps): Promise<WebhookResponse> {
  const started = deps.now();
  const state: { admission: Admission | null; source: string } = { admission: null, source: 'unknown' };
  let response: WebhookResponse;
  let outcome: string;
  try {
    ({ response, outcome } = await handle(request, deps, state, started));
  } catch (e) {
    outcome = 'internal error';
    deps.logger.error('webhook failed unexpectedly', { error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) });
    response = state.admission !== null ? admissionAllowed(state.admission.uid, state.admission.apiVersion) : refused(500, 'internal error');
  }
  deps.metrics.count(METRIC.webhookRequests);
  const fields = { source: state.source, status: response.statusCode, outcome, durationMs: deps.now() - started, bytes: request.body.byteLength };
  if (outcome === 'accepted' || outcome === 'dry run') {
    deps.logger.info('webhook request', fields);
  } else {
    deps.metrics.count(METRIC.webhookRejected);
    deps.logger.warn('webhook request not enqueued', fields);
  }
  return response;
}

async function handle(request: WebhookRequest, deps: WebhookDeps, state: { admission: Admission | null; source: string }, started: number): Promise<{ response: WebhookResponse; outcome: string }> {
  // For input that cannot be parsed, an AdmissionReview is recognised by its first bytes
  // (kube-apiserver writes `request.uid` first), so that even then admission is allowed.
  const early = (status: number, reason: string, extra?: Record<string, string>) => {
    const peeked = peekAdmissionPrefix(request.body);
    if (peeked !== null) {
      state.admission = peeked;
      state.source = 'admission';
      return { response: admissionAllowed(peeked.uid, peeked.apiVersion), outcome: reason };
    }
    return { response: refused(status, reason, extra), outcome: reason };
  };

  if (request.method.toUpperCase() !== 'POST') return { response: refused(405, 'method not allowed', { allow: 'POST' }), outcome: 'method not allowed' };
  if (request.body.byteLength > deps.maxBytes) return early(413, `body larger than ${deps.maxBytes} bytes`);
  const contentType = request.headers['content-type'];
  if (contentType !== undefined && contentType !== '' && !JSON_TYPE.test(contentType)) return early(415, 'content-type must be application/json');
  if (request.body.byteLength === 0) return early(400, 'empty body');

  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(request.body);
  } catch {
    return early(400, 'body is not valid UTF-8');
  }
  if (exceedsDepth(text, MAX_NESTING_DEPTH)) return early(400, `JSON nested deeper than ${MAX_NESTING_DEPTH} levels`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return early(400, 'body is not JSON');
  }

  state.admission = peekAdmission(value);
  const answer = (status: number, reason: string) =>
    state.admission !== null ? admissionAllowed(state.admission.uid, state.admission.apiVersion) : refused(status, reason);
  if (state.admission !== null) state.source = 'admission';

  if (!authenticate(request, deps.auth)) return { response: answer(401, 'unauthenticated'), outcome: 'unauthenticated' };

  const parsed = parseWebhookBody(value);
  if (!parsed.ok) return { response: answer(parsed.status, parsed.reason), outcome: parsed.reason };
  const body = parsed.body;
  state.source = body.kind;
  if (body.kind === 'admission' && body.dryRun) return { response: admissionAllowed(body.uid), outcome: 'dry run' };

  const mapped = mapEvents(body.events, { managed: deps.managed, observedAt: started, recheck: body.kind === 'admission' });
  if (!mapped.ok) return { response: answer(422, mapped.reason), outcome: mapped.reason };

  const enqueue = Promise.all([
    mapped.requests.length > 0 ? deps.queue.enqueue(mapped.requests) : Promise.resolve(),
    mapped.fanouts.length > 0 ? deps.queue.enqueueFanouts(mapped.fanouts) : Promise.resolve(),
  ]);
  try {
    if (body.kind === 'admission') await withTimeout(enqueue, deps.admissionEnqueueTimeoutMs ?? 2000);
    else await enqueue;
  } catch (e) {
    enqueue.catch(() => undefined);
    deps.metrics.count(METRIC.enqueueFailures);
    deps.logger.error('enqueue failed', { error: e instanceof Error ? `${e.name}: ${e.message}` : String(e), keys: mapped.requests.length, fanouts: mapped.fanouts.length });
    if (body.kind === 'admission') return { response: admissionAllowed(body.uid), outcome: 'enqueue failed' };
    return { response: refused(503, 'queue unavailable, retry', { 'retry-after': '1' }), outcome: 'enqueue failed' };
  }
  deps.metrics.count(METRIC.keysEnqueued, mapped.requests.length);
  deps.metrics.count(METRIC.fanoutsEnqueued, mapped.fanouts.length);
  if (body.kind === 'admission') return { response: admissionAllowed(body.uid), outcome: 'accepted' };
  return {
    response: json(200, { ok: true, keys: mapped.requests.length, fanouts: mapped.fanouts.length, skipped: body.skipped }),
    outcome: 'accepted',
  };
}

/** Path secret and/or body HMAC, per the configured mode; constant-time comparisons only. */
export function authenticate(request: WebhookRequest, auth: WebhookAuth): boolean {
  if (!auth.required) return true;
  if (auth.secrets.length === 0) return false;
  const byPath = auth.mode !== 'hmac' && pathSecretMatches(request.path, auth.secrets);
  const byHmac = auth.mode !== 'path' && signatureMatches(request.headers[SIGNATURE_HEADER], request.body, auth.secrets);
  return byPath || byHmac;
}

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

function pathSecretMatches(path: string, secrets: readonly string[]): boolean {
  const match = /^\/hook\/([^/?#]{1,512})\/?$/.exec(path);
  if (match === null) return false;
  let provided: string;
  try {
    provided = decodeURIComponent(match[1] ?? '');
  } catch {
    return false;
  }
  const p = digest(provided);
  // Compare against every secret (no early exit) so timing does not reveal which one matched.
  return secrets.reduce((ok, s) => timingSafeEqual(p, digest(s)) || ok, false);
}

/** `sha256=<64 hex>` over the raw body. */
export function computeSignature(body: Uint8Array, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

function signatureMatches(header: string | undefined, body: Uint8Array, secrets: readonly string[]): boolean {
  const match = /^sha256=([0-9a-fA-F]{64})$/.exec(header?.trim() ?? '');
  if (match === null) return false;
  const provided = Buffer.from(match[1] ?? '', 'hex');
  return secrets.reduce((ok, s) => timingSafeEqual(provided, createHmac('sha256', s).update(body).digest()) || ok, false);
}

/** True when brackets nest deeper than `limit` (strings and escapes are skipped). Linear, no recursion. */
export function exceedsDepth(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i += 1;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x7b || c === 0x5b) {
      depth += 1;
      if (depth > limit) return true;
    } else if (c === 0x7d || c === 0x5d) {
      depth -= 1;
    }
  }
  return false;
}

/** `{apiVersion, uid}` from the start of a body that may be truncated, too large or not JSON at all. */
export function peekAdmissionPrefix(body: Uint8Array): Admission | null {
  const prefix = Buffer.from(body.buffer, body.byteOffset, Math.min(body.byteLength, PREFIX_SCAN)).toString('utf8');
  if (!/"kind"\s*:\s*"AdmissionReview"/.test(prefix)) return null;
  const version = /"apiVersion"\s*:\s*"(admission\.k8s\.io\/v1(?:beta1)?)"/.exec(prefix);
  const literal = /"request"\s*:\s*\{\s*"uid"\s*:\s*("(?:[^"\\\u0000-\u001f]|\\.)*")/.exec(prefix);
  if (version === null || literal === null) return null;
  let uid: unknown;
  try {
    uid = JSON.parse(literal[1] ?? '');
  } catch {
    return null;
  }
  return typeof uid === 'string' ? { apiVersion: version[1] ?? ADMISSION_API_VERSION, uid } : null;
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`enqueue took longer than ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
