import { describe, expect, it } from 'vitest';
import { computeSignature, exceedsDepth, handleWebhook, type WebhookDeps, type WebhookRequest } from '../../../lib/app/handle-webhook.js';
import { RecordingLogger, RecordingMetrics } from '../../../lib/observability/recording.js';
import { admissionReview, auditEvent, daemonSet, eventList, node, pod, T0 } from '../events/fixtures.js';
import { RecordingQueue } from './helpers.js';

export const SECRET = 's3cr3t-0123456789abcdef';

export function makeDeps(overrides: Partial<WebhookDeps> = {}) {
  const queue = new RecordingQueue();
  const logger = new RecordingLogger();
  const metrics = new RecordingMetrics();
  const deps: WebhookDeps = {
    queue, logger, metrics, managed: 'native', maxBytes: 1024 * 1024, now: () => T0,
    auth: { secrets: [SECRET], mode: 'any', required: true }, admissionEnqueueTimeoutMs: 50, ...overrides,
  };
  return { deps, queue, logger, metrics };
}

export const post = (body: unknown, o: { path?: string; headers?: Record<string, string>; method?: string } = {}): WebhookRequest => ({
  method: o.method ?? 'POST',
  path: o.path ?? `/hook/${SECRET}`,
  headers: { 'content-type': 'application/json', ...o.headers },
  body: typeof body === 'string' || body instanceof Uint8Array ? Buffer.from(body as string) : Buffer.from(JSON.stringify(body)),
});

const parse = (body: string) => JSON.parse(body) as Record<string, unknown>;

describe('handleWebhook()', () => {
  it('answers an AdmissionReview with allowed: true, the uid echoed, and enqueues the owner key', async () => {
    const { deps, queue } = makeDeps();
    const res = await handleWebhook(post(admissionReview({ uid: 'req-1', operation: 'CREATE', object: pod('fluentd-x') })), deps);
    expect(res.statusCode).toBe(200);
    expect(parse(res.body)).toEqual({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid: 'req-1', allowed: true } });
    expect(queue.requests.map((r) => r.key)).toEqual(['logging/fluentd']);
    expect(queue.requests[0]!.observedAt).toBe(T0);
  });

  it.each([
    ['a 300-character uid', 'u'.repeat(300)],
    ['a uid with quotes, slashes, spaces and emoji', 'a/"b\\ c 😀 <d>'],
    ['an empty uid', ''],
  ])('answers an AdmissionReview with %s allowed, that uid echoed, and maps it', async (_name, uid) => {
    const { deps, queue } = makeDeps();
    const res = await handleWebhook(post(admissionReview({ uid, operation: 'CREATE', object: pod('fluentd-x') })), deps);
    expect(res.statusCode).toBe(200);
    expect(parse(res.body)).toEqual({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid, allowed: true } });
    expect(queue.requests.map((r) => r.key)).toEqual(['logging/fluentd']);
  });

  it('accepts and maps a legal Node with thousands of taints (admission, watch and audit)', async () => {
    const taints = Array.from({ length: 5000 }, (_, i) => ({ key: `example.com/t${i}`, value: 'v', effect: 'NoSchedule' }));
    const big = node('node-7', { taints });
    const { deps, queue } = makeDeps();
    const res = await handleWebhook(post(admissionReview({ uid: 'r', operation: 'UPDATE', object: big, oldObject: node('node-7') })), deps);
    expect(parse(res.body)).toMatchObject({ response: { uid: 'r', allowed: true } });
    expect(queue.fanouts).toEqual([expect.objectContaining({ scope: 'node', node: 'node-7', cause: 'node node-7 update' })]);
    expect((queue.fanouts[0] as unknown as { after: { taints: unknown[] } }).after.taints).toHaveLength(5000);
    const watch = await handleWebhook(post({ type: 'MODIFIED', object: big, oldObject: node('node-7') }), deps);
    expect([watch.statusCode, parse(watch.body)]).toEqual([200, { ok: true, keys: 0, fanouts: 1, skipped: 0 }]);
    const audit = await handleWebhook(post(eventList([auditEvent({ auditID: 'a1', verb: 'update', resource: 'nodes', name: 'node-7', responseObject: big })])), deps);
    expect([audit.statusCode, parse(audit.body)]).toEqual([200, { ok: true, keys: 0, fanouts: 1, skipped: 0 }]);
  });

  it('accepts a pod with more than 64 owner references (the API sets no limit)', async () => {
    const { deps, queue } = makeDeps();
    const owners = [
      ...Array.from({ length: 100 }, (_, i) => ({ apiVersion: 'v1', kind: 'ConfigMap', name: `c${i}`, uid: `u${i}` })),
      { apiVersion: 'apps/v1', kind: 'DaemonSet', name: 'fluentd', uid: 'uid-ds-fluentd', controller: true },
    ];
    const p = pod('fluentd-x');
    const res = await handleWebhook(post({ type: 'ADDED', object: { ...p, metadata: { ...p.metadata, ownerReferences: owners } } }), deps);
    expect(res.statusCode).toBe(200);
    expect(queue.requests.map((r) => r.key)).toEqual(['logging/fluentd']);
  });

  it('enqueues nothing for a dry-run admission request', async () => {
    const { deps, queue } = makeDeps();
    const res = await handleWebhook(post(admissionReview({ uid: 'dry', operation: 'CREATE', object: pod('p'), dryRun: true })), deps);
    expect(parse(res.body)).toMatchObject({ response: { uid: 'dry', allowed: true } });
    expect(queue.total).toBe(0);
  });

  it('sends one fan-out message for a node, never a list on the hot path', async () => {
    const { deps, queue } = makeDeps();
    await handleWebhook(post(admissionReview({ operation: 'CREATE', object: node('node-7') })), deps);
    expect(queue.requests).toEqual([]);
    expect(queue.fanouts).toEqual([expect.objectContaining({ scope: 'node', node: 'node-7', before: null, cause: 'node node-7 create' })]);
  });

  it('accepts an audit EventList and reports counts', async () => {
    const { deps, queue } = makeDeps();
    const res = await handleWebhook(post(eventList([
      auditEvent({ auditID: 'a1', verb: 'update', resource: 'daemonsets', apiGroup: 'apps', namespace: 'logging', name: 'fluentd' }),
      auditEvent({ auditID: 'a2', verb: 'get', resource: 'pods', namespace: 'logging', name: 'x' }),
    ])), deps);
    expect(res.statusCode).toBe(200);
    expect(parse(res.body)).toEqual({ ok: true, keys: 1, fanouts: 0, skipped: 1 });
    expect(queue.requests.map((r) => r.key)).toEqual(['logging/fluentd']);
  });

  it('accepts a watch event and an array of watch events', async () => {
    const { deps, queue } = makeDeps();
    expect((await handleWebhook(post({ type: 'ADDED', object: daemonSet('a') }), deps)).statusCode).toBe(200);
    expect((await handleWebhook(post([{ type: 'ADDED', object: daemonSet('b') }, { type: 'BOOKMARK', object: { kind: 'DaemonSet', apiVersion: 'apps/v1', metadata: { resourceVersion: '9' } } }]), deps)).statusCode).toBe(200);
    expect(queue.requests.map((r) => r.key)).toEqual(['logging/a', 'logging/b']);
  });

  it('authenticates by HMAC signature without the path secret', async () => {
    const { deps, queue } = makeDeps();
    const body = JSON.stringify({ type: 'ADDED', object: daemonSet('a') });
    const res = await handleWebhook(post(body, { path: '/hook', headers: { 'x-daemonless-signature': computeSignature(Buffer.from(body), SECRET) } }), deps);
    expect(res.statusCode).toBe(200);
    expect(queue.requests).toHaveLength(1);
  });

  it('honours the auth mode: a path secret is not enough in hmac mode', async () => {
    const { deps, queue } = makeDeps({ auth: { secrets: [SECRET], mode: 'hmac', required: true } });
    expect((await handleWebhook(post({ type: 'ADDED', object: daemonSet('a') }), deps)).statusCode).toBe(401);
    expect(queue.total).toBe(0);
  });

  it('accepts any of several secrets during a rotation', async () => {
    const { deps } = makeDeps({ auth: { secrets: ['new-secret-0123456789', SECRET], mode: 'path', required: true } });
    expect((await handleWebhook(post({ type: 'ADDED', object: daemonSet('a') }), deps)).statusCode).toBe(200);
    expect((await handleWebhook(post({ type: 'ADDED', object: daemonSet('a') }, { path: '/hook/new-secret-0123456789' }), deps)).statusCode).toBe(200);
  });

  it('answers 503 for watch input when enqueueing fails, and still allows admission', async () => {
    const { deps, queue, metrics } = makeDeps();
    queue.failWith = new Error('SQS down');
    const watch = await handleWebhook(post({ type: 'ADDED', object: daemonSet('a') }), deps);
    expect(watch.statusCode).toBe(503);
    expect(watch.headers['retry-after']).toBe('1');
    const admission = await handleWebhook(post(admissionReview({ uid: 'u-9', operation: 'CREATE', object: pod('p') })), deps);
    expect(parse(admission.body)).toMatchObject({ response: { uid: 'u-9', allowed: true } });
    expect(metrics.get('EnqueueFailures')).toBe(2);
  });

  it('answers admission within its deadline even when the queue hangs', async () => {
    const { deps, queue } = makeDeps({ admissionEnqueueTimeoutMs: 20 });
    queue.hang = true;
    const started = Date.now();
    const res = await handleWebhook(post(admissionReview({ uid: 'slow', operation: 'CREATE', object: pod('p') })), deps);
    expect(parse(res.body)).toMatchObject({ response: { uid: 'slow', allowed: true } });
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('logs one line per request and never the path secret', async () => {
    const { deps, logger } = makeDeps();
    await handleWebhook(post({ type: 'ADDED', object: daemonSet('a') }), deps);
    await handleWebhook(post('nope'), deps);
    expect(logger.lines).toHaveLength(2);
    expect(JSON.stringify(logger.lines)).not.toContain(SECRET);
  });
});

describe('exceedsDepth()', () => {
  it('counts brackets outside strings only', () => {
    expect(exceedsDepth('[[[]]]', 3)).toBe(false);
    expect(exceedsDepth('[[[[]]]]', 3)).toBe(true);
    expect(exceedsDepth('{"a":"[[[[[[[[\\"[[["}', 1)).toBe(false);
  });
});
