/**
 * Malformed and hostile webhook input: every kind gets its documented answer (handle-webhook.ts),
 * nothing is enqueued, and the server keeps serving. The table runs against the handler and
 * against the local runner's HTTP server.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { computeSignature, handleWebhook, type WebhookRequest, type WebhookResponse } from '../../../lib/app/handle-webhook.js';
import { startWebhookServer, type WebhookServer } from '../../../lib/runner/webhook-server.js';
import { admissionReview, auditEvent, daemonSet, eventList, node, pod } from '../events/fixtures.js';
import { makeDeps, post, SECRET } from './handle-webhook.test.js';

type Expect = { status: number; allowedUid?: string; apiVersion?: string };
type Row = { name: string; request: () => WebhookRequest; expect: Expect };

const UID = '0d5c4f3e-1111-2222-3333-444455556666';
const MiB = 1024 * 1024;
const ODD_UID = `ü/"\\ 😀 ${'z'.repeat(300)}`;
const review = (o: Parameters<typeof admissionReview>[0]) => admissionReview({ uid: UID, ...o });
const allowed = (uid = UID, apiVersion = 'admission.k8s.io/v1'): Expect => ({ status: 200, allowedUid: uid, apiVersion });
const withMeta = (obj: Record<string, unknown>, meta: Record<string, unknown>) => ({ ...obj, metadata: { ...(obj.metadata as object), ...meta } });
const deep = (depth: number, leaf: unknown): unknown => { let v = leaf; for (let i = 0; i < depth; i += 1) v = { a: v }; return v; };
const hugeLabels = () => Object.fromEntries(Array.from({ length: 20_000 }, (_, i) => [`k${i}`, 'v'.repeat(50)]));

const rows: Row[] = [
  // Transport and envelope
  { name: 'GET instead of POST', request: () => post({}, { method: 'GET' }), expect: { status: 405 } },
  { name: 'PUT instead of POST', request: () => post({ type: 'ADDED', object: daemonSet('a') }, { method: 'PUT' }), expect: { status: 405 } },
  { name: 'body over 1 MiB', request: () => post({ type: 'ADDED', object: withMeta(pod('p'), { labels: hugeLabels() }) }), expect: { status: 413 } },
  { name: 'AdmissionReview over 1 MiB', request: () => post(review({ operation: 'CREATE', object: withMeta(pod('p'), { annotations: { big: 'x'.repeat(MiB) } }) })), expect: allowed() },
  { name: 'content-type text/html', request: () => post({ type: 'ADDED', object: daemonSet('a') }, { headers: { 'content-type': 'text/html' } }), expect: { status: 415 } },
  { name: 'content-type multipart', request: () => post('--x\r\n', { headers: { 'content-type': 'multipart/form-data; boundary=x' } }), expect: { status: 415 } },
  { name: 'empty body', request: () => post(''), expect: { status: 400 } },
  { name: 'invalid UTF-8', request: () => post(new Uint8Array([0x7b, 0xff, 0xfe, 0x7d])), expect: { status: 400 } },
  { name: 'not JSON', request: () => post('hello, webhook'), expect: { status: 400 } },
  { name: 'truncated watch event', request: () => post(JSON.stringify({ type: 'ADDED', object: daemonSet('a') }).slice(0, 40)), expect: { status: 400 } },
  { name: 'truncated AdmissionReview', request: () => post(JSON.stringify(review({ operation: 'CREATE', object: pod('p') })).slice(0, 300)), expect: allowed() },
  { name: 'JSON null', request: () => post('null'), expect: { status: 400 } },
  { name: 'JSON number', request: () => post('42'), expect: { status: 400 } },
  { name: 'JSON string', request: () => post('"AdmissionReview"'), expect: { status: 400 } },
  { name: 'JSON boolean', request: () => post('true'), expect: { status: 400 } },
  { name: 'empty object', request: () => post({}), expect: { status: 400 } },
  { name: 'empty array', request: () => post([]), expect: { status: 400 } },
  { name: 'byte-order mark before JSON', request: () => post(`\ufeff${JSON.stringify({ type: 'ADDED', object: daemonSet('a') })}`), expect: { status: 400 } },
  { name: '10,000 nested arrays', request: () => post('['.repeat(10_000) + ']'.repeat(10_000)), expect: { status: 400 } },
  { name: 'deeply nested object inside a watch event', request: () => post({ type: 'ADDED', object: { ...daemonSet('a'), spec: deep(500, 1) } }), expect: { status: 400 } },
  { name: 'deeply nested AdmissionReview', request: () => post(review({ operation: 'CREATE', object: { ...pod('p'), spec: deep(500, 1) } })), expect: allowed() },
  { name: 'more than 1,000 watch events', request: () => post(Array.from({ length: 1001 }, () => ({ type: 'ADDED', object: daemonSet('a') }))), expect: { status: 400 } },
  // Authentication
  { name: 'no secret, no signature', request: () => post({ type: 'ADDED', object: daemonSet('a') }, { path: '/hook' }), expect: { status: 401 } },
  { name: 'wrong path secret', request: () => post({ type: 'ADDED', object: daemonSet('a') }, { path: '/hook/wrong-secret-0123456789' }), expect: { status: 401 } },
  { name: 'secret followed by another segment', request: () => post({ type: 'ADDED', object: daemonSet('a') }, { path: `/hook/${SECRET}/x` }), expect: { status: 401 } },
  { name: 'secret with a suffix', request: () => post({ type: 'ADDED', object: daemonSet('a') }, { path: `/hook/${SECRET}x` }), expect: { status: 401 } },
  { name: 'secret prefix only', request: () => post({ type: 'ADDED', object: daemonSet('a') }, { path: `/hook/${SECRET.slice(0, 8)}` }), expect: { status: 401 } },
  { name: 'secret under another route', request: () => post({ type: 'ADDED', object: daemonSet('a') }, { path: `/other/${SECRET}` }), expect: { status: 401 } },
  { name: 'malformed percent-encoding in the path', request: () => post({ type: 'ADDED', object: daemonSet('a') }, { path: '/hook/%ZZ%' }), expect: { status: 401 } },
  { name: 'wrong HMAC signature', request: () => post({ type: 'ADDED', object: daemonSet('a') }, { path: '/hook', headers: { 'x-daemonless-signature': `sha256=${'0'.repeat(64)}` } }), expect: { status: 401 } },
  { name: 'HMAC of another body', request: () => post({ type: 'ADDED', object: daemonSet('a') }, { path: '/hook', headers: { 'x-daemonless-signature': computeSignature(Buffer.from('{}'), SECRET) } }), expect: { status: 401 } },
  { name: 'HMAC with the wrong algorithm', request: () => post({ type: 'ADDED', object: daemonSet('a') }, { path: '/hook', headers: { 'x-daemonless-signature': `sha1=${'a'.repeat(40)}` } }), expect: { status: 401 } },
  { name: 'unauthenticated AdmissionReview', request: () => post(review({ operation: 'CREATE', object: pod('p') }), { path: '/hook' }), expect: allowed() },
  { name: 'unauthenticated audit EventList', request: () => post(eventList([auditEvent({ auditID: 'a', verb: 'create', resource: 'nodes', name: 'n' })]), { path: '/' }), expect: { status: 401 } },
  // Wrong shapes and types
  { name: 'unknown top-level kind', request: () => post({ kind: 'ConfigMap', apiVersion: 'v1', metadata: { name: 'x' } }), expect: { status: 400 } },
  { name: 'EventList of another apiVersion', request: () => post({ ...eventList([]), apiVersion: 'audit.k8s.io/v1beta1' }), expect: { status: 400 } },
  { name: 'EventList items not an array', request: () => post({ ...eventList([]), items: { a: 1 } }), expect: { status: 400 } },
  { name: 'audit event without auditID', request: () => post(eventList([{ ...auditEvent({ auditID: 'x', verb: 'create', resource: 'nodes', name: 'n' }), auditID: undefined }])), expect: { status: 400 } },
  { name: 'audit verb of the wrong type', request: () => post(eventList([{ ...auditEvent({ auditID: 'x', verb: 'create', resource: 'nodes', name: 'n' }), verb: 7 }])), expect: { status: 400 } },
  { name: 'watch event of an unknown type', request: () => post({ type: 'EXPLODED', object: daemonSet('a') }), expect: { status: 400 } },
  { name: 'watch object is a string', request: () => post({ type: 'ADDED', object: 'DaemonSet logging/a' }), expect: { status: 400 } },
  { name: 'watch object without apiVersion', request: () => post({ type: 'ADDED', object: { kind: 'DaemonSet', metadata: { name: 'a', namespace: 'n' } } }), expect: { status: 400 } },
  { name: 'watch object without metadata', request: () => post({ type: 'ADDED', object: { kind: 'DaemonSet', apiVersion: 'apps/v1' } }), expect: { status: 400 } },
  { name: 'label value of the wrong type', request: () => post({ type: 'ADDED', object: withMeta(pod('p'), { labels: { app: 7 } }) }), expect: { status: 400 } },
  { name: 'ownerReferences not an array', request: () => post({ type: 'ADDED', object: withMeta(pod('p'), { ownerReferences: { kind: 'DaemonSet' } }) }), expect: { status: 400 } },
  { name: 'name longer than 253 characters', request: () => post({ type: 'ADDED', object: withMeta(daemonSet('a'), { name: 'a'.repeat(1000) }) }), expect: { status: 400 } },
  { name: 'taints not an array', request: () => post({ type: 'ADDED', object: { ...node('n'), spec: { taints: { key: 'x' } } } }), expect: { status: 400 } },
  { name: 'owner reference name of the wrong type', request: () => post({ type: 'ADDED', object: withMeta(pod('p'), { ownerReferences: [{ apiVersion: 'v1', kind: 'X', name: 7, uid: 'u' }] }) }), expect: { status: 400 } },
  { name: 'AdmissionReview v1beta1', request: () => post({ ...review({ operation: 'CREATE', object: pod('p') }), apiVersion: 'admission.k8s.io/v1beta1' }), expect: allowed(UID, 'admission.k8s.io/v1beta1') },
  { name: 'AdmissionReview without request.kind', request: () => { const r = review({ operation: 'CREATE', object: pod('p') }) as { request: Record<string, unknown> }; delete r.request.kind; return post(r); }, expect: allowed() },
  { name: 'AdmissionReview without uid', request: () => { const r = review({ operation: 'CREATE', object: pod('p') }) as { request: Record<string, unknown> }; delete r.request.uid; return post(r); }, expect: { status: 400 } },
  { name: 'AdmissionReview with an unknown operation', request: () => post({ ...review({ operation: 'CREATE', object: pod('p') }), request: { ...review({ operation: 'CREATE', object: pod('p') }).request, operation: 'PATCH' } }), expect: allowed() },
  { name: 'AdmissionReview whose object is a string', request: () => post({ ...review({ operation: 'CREATE', object: pod('p') }), request: { ...review({ operation: 'CREATE', object: pod('p') }).request, object: 'pod' } }), expect: allowed() },
  // Any string uid is echoed (as a JSON string, so markup in it is inert); unauthenticated here, so nothing is enqueued.
  { name: 'AdmissionReview with a script in the uid', request: () => post(admissionReview({ uid: '<script>alert(1)</script>', operation: 'CREATE', object: pod('p') }), { path: '/hook' }), expect: allowed('<script>alert(1)</script>') },
  { name: 'AdmissionReview with a 129-character uid', request: () => post(admissionReview({ uid: 'u'.repeat(129), operation: 'CREATE', object: pod('p') }), { path: '/hook' }), expect: allowed('u'.repeat(129)) },
  { name: 'AdmissionReview with an empty uid', request: () => post(admissionReview({ uid: '', operation: 'CREATE', object: pod('p') }), { path: '/hook' }), expect: allowed('') },
  { name: 'AdmissionReview with a uid of a number', request: () => post({ ...review({ operation: 'CREATE', object: pod('p') }), request: { ...review({ operation: 'CREATE', object: pod('p') }).request, uid: 7 } }), expect: { status: 400 } },
  { name: 'AdmissionReview over 1 MiB with a long, odd uid', request: () => post(admissionReview({ uid: ODD_UID, operation: 'CREATE', object: withMeta(pod('p'), { annotations: { big: 'x'.repeat(MiB) } }) })), expect: allowed(ODD_UID) },
  { name: 'truncated AdmissionReview with a long, odd uid', request: () => post(JSON.stringify(admissionReview({ uid: ODD_UID, operation: 'CREATE', object: pod('p') })).slice(0, 600)), expect: allowed(ODD_UID) },
  { name: 'AdmissionReview CONNECT', request: () => post(review({ operation: 'CONNECT', object: { kind: 'PodExecOptions', apiVersion: 'v1' }, kind: { group: '', version: 'v1', kind: 'PodExecOptions' }, name: 'p' })), expect: allowed() },
  { name: 'dry-run AdmissionReview', request: () => post(review({ operation: 'CREATE', object: pod('p'), dryRun: true })), expect: allowed() },
  // Well-formed but impossible: forged owners and names
  { name: 'owner name with path traversal', request: () => post({ type: 'ADDED', object: pod('p', { owner: { name: '../../kube-system/x' } }) }), expect: { status: 422 } },
  { name: 'two controller references', request: () => post({ type: 'ADDED', object: withMeta(pod('p'), { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'DaemonSet', name: 'a', uid: 'u1', controller: true }, { apiVersion: 'apps/v1', kind: 'DaemonSet', name: 'b', uid: 'u2', controller: true }] }) }), expect: { status: 422 } },
  { name: 'owner without uid', request: () => post({ type: 'ADDED', object: pod('p', { owner: { name: 'fluentd', uid: '' } }) }), expect: { status: 422 } },
  { name: 'invalid namespace', request: () => post({ type: 'ADDED', object: pod('p', { namespace: 'Kube_System' }) }), expect: { status: 422 } },
  { name: 'pod without namespace', request: () => post({ type: 'ADDED', object: withMeta(pod('p'), { namespace: undefined }) }), expect: { status: 422 } },
  { name: 'DaemonSet with an upper-case name', request: () => post({ type: 'MODIFIED', object: daemonSet('Fluentd') }), expect: { status: 422 } },
  { name: 'node with an invalid name', request: () => post({ type: 'ADDED', object: node('node_1!') }), expect: { status: 422 } },
  { name: 'orphan with an invalid label key', request: () => post({ type: 'ADDED', object: pod('p', { owner: null, labels: { '-bad': 'x' } }) }), expect: { status: 422 } },
  { name: 'orphan with a __proto__ label', request: () => post(`{"type":"ADDED","object":{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","namespace":"n","uid":"u","labels":{"__proto__":"x"}}}}`), expect: { status: 400 } },
  { name: 'forged owner inside an AdmissionReview', request: () => post(review({ operation: 'CREATE', object: pod('p', { owner: { name: 'A/B' } }) })), expect: allowed() },
  { name: 'one forged item in an audit list', request: () => post(eventList([
    auditEvent({ auditID: 'ok', verb: 'update', resource: 'daemonsets', apiGroup: 'apps', namespace: 'logging', name: 'fluentd' }),
    auditEvent({ auditID: 'bad', verb: 'update', resource: 'daemonsets', apiGroup: 'apps', namespace: 'logging', name: 'x/../y' }),
  ])), expect: { status: 422 } },
  // Kinds the mapping does not read: accepted, mapped to nothing
  { name: 'watch event of a ConfigMap', request: () => post({ type: 'ADDED', object: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'n' } } }), expect: { status: 200 } },
  { name: 'watch ERROR event', request: () => post({ type: 'ERROR', object: { kind: 'Status', apiVersion: 'v1', code: 410 } }), expect: { status: 200 } },
  { name: 'AdmissionReview of a Secret', request: () => post(review({ operation: 'CREATE', object: { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's', namespace: 'n' }, data: { k: 'c2VjcmV0' } } })), expect: allowed() },
  { name: 'audit event of a ConfigMap', request: () => post(eventList([auditEvent({ auditID: 'c', verb: 'update', resource: 'configmaps', namespace: 'n', name: 'c' })])), expect: { status: 200 } },
  { name: 'pod owned by an unmanaged group', request: () => post({ type: 'ADDED', object: pod('p', { owner: { apiVersion: 'evil.io/v1', name: 'fluentd' } }) }), expect: { status: 200 } },
];

type Send = (request: WebhookRequest) => Promise<WebhookResponse>;

describe.each([
  ['handleWebhook()', 'direct'],
  ['the local HTTP server', 'http'],
] as const)('bad input through %s', (_label, transport) => {
  const ctx = makeDeps();
  let server: WebhookServer | null = null;
  let send: Send;

  beforeAll(async () => {
    if (transport === 'direct') {
      send = (r) => handleWebhook(r, ctx.deps);
      return;
    }
    server = await startWebhookServer(ctx.deps);
    send = async (r) => {
      const res = await fetch(server!.url + r.path, { method: r.method, headers: r.headers as Record<string, string>, ...(r.method === 'GET' ? {} : { body: r.body as Uint8Array<ArrayBuffer> }) });
      const headers: Record<string, string> = {};
      res.headers.forEach((v, k) => { headers[k] = v; });
      return { statusCode: res.status, headers, body: await res.text() };
    };
  });
  afterAll(async () => { await server?.close(); });

  it(`covers at least 50 kinds (${rows.length})`, () => {
    expect(rows.length).toBeGreaterThanOrEqual(50);
    expect(new Set(rows.map((r) => r.name)).size).toBe(rows.length);
  });

  it.each(rows.map((r) => [r.name, r] as const))('%s', async (_name, row) => {
    const before = ctx.queue.total;
    const res = await send(row.request());
    expect(res.statusCode).toBe(row.expect.status);
    const body = JSON.parse(res.body) as Record<string, unknown>;
    if (row.expect.allowedUid !== undefined) {
      expect(body).toEqual({ apiVersion: row.expect.apiVersion, kind: 'AdmissionReview', response: { uid: row.expect.allowedUid, allowed: true } });
    } else if (row.expect.status !== 200) {
      expect(body).toMatchObject({ ok: false, error: expect.any(String) });
    }
    expect(ctx.queue.total).toBe(before);
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });

  it('keeps serving: a valid request after all of them is enqueued', async () => {
    const res = await send(post({ type: 'ADDED', object: daemonSet('after') }));
    expect(res.statusCode).toBe(200);
    expect(ctx.queue.requests.map((r) => r.key)).toEqual(['logging/after']);
    expect(ctx.logger.lines.filter((l) => l.level === 'error')).toEqual([]);
  });
});
