import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { createHandler } from '../../../lambdas/webhook.js';
import { RecordingLogger, RecordingMetrics } from '../../../lib/observability/recording.js';
import { RecordingQueue } from '../app/helpers.js';
import { admissionReview, daemonSet, pod } from '../events/fixtures.js';
import { context, quietObservability } from './support.js';

const SECRET = 'lambda-secret-0123456789';

const urlEvent = (body: unknown, o: { path?: string; base64?: boolean; method?: string } = {}): APIGatewayProxyEventV2 => {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  return {
    version: '2.0', routeKey: '$default', rawPath: o.path ?? `/hook/${SECRET}`, rawQueryString: '',
    headers: { 'Content-Type': 'application/json', host: 'abc.lambda-url.eu-west-1.on.aws' },
    requestContext: {
      accountId: 'anonymous', apiId: 'abc', domainName: 'abc.lambda-url.eu-west-1.on.aws', domainPrefix: 'abc',
      http: { method: o.method ?? 'POST', path: o.path ?? `/hook/${SECRET}`, protocol: 'HTTP/1.1', sourceIp: '10.0.0.1', userAgent: 'kube-apiserver-admission' },
      requestId: 'r', routeKey: '$default', stage: '$default', time: '28/Nov/2026:12:00:00 +0000', timeEpoch: 0,
    },
    body: o.base64 === true ? Buffer.from(text).toString('base64') : text,
    isBase64Encoded: o.base64 === true,
  };
};

function setup() {
  const queue = new RecordingQueue();
  const handler = createHandler({
    webhook: { queue, logger: new RecordingLogger(), metrics: new RecordingMetrics(), managed: 'native', maxBytes: 1024 * 1024, now: () => 0, auth: { secrets: [SECRET], mode: 'any', required: true } },
  }, quietObservability());
  return { handler, queue };
}

describe('webhook handler (Function URL)', () => {
  it('answers an AdmissionReview and enqueues the key', async () => {
    const { handler, queue } = setup();
    const res = await handler(urlEvent(admissionReview({ uid: 'u-1', operation: 'CREATE', object: pod('p') })), context);
    expect(res.statusCode).toBe(200);
    expect(JSON.parse(res.body ?? '')).toMatchObject({ response: { uid: 'u-1', allowed: true } });
    expect(queue.requests.map((r) => r.key)).toEqual(['logging/fluentd']);
  });

  it('decodes base64 bodies and normalizes header names', async () => {
    const { handler, queue } = setup();
    const res = await handler(urlEvent({ type: 'ADDED', object: daemonSet('a') }, { base64: true }), context);
    expect(res.statusCode).toBe(200);
    expect(queue.requests).toHaveLength(1);
  });

  it('still allows admission when its dependencies cannot be built, and 503s other input', async () => {
    const handler = createHandler(async () => { throw new Error('DAEMONLESS_QUEUE_URL missing'); }, quietObservability());
    const admission = await handler(urlEvent(admissionReview({ uid: 'u-2', operation: 'CREATE', object: pod('p') })), context);
    expect(JSON.parse(admission.body ?? '')).toEqual({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid: 'u-2', allowed: true } });
    const watch = await handler(urlEvent({ type: 'ADDED', object: daemonSet('a') }), context);
    expect(watch.statusCode).toBe(503);
  });
});
