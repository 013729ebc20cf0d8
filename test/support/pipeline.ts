/**
 * Pieces for end-to-end tests of the event pipeline on a real kube-apiserver and a real
 * SQS-compatible server (ElasticMQ):
 * - a throwaway CA and a serving certificate for 127.0.0.1 (kube-apiserver calls webhooks over HTTPS
 *   only, and checks the certificate against the registration's caBundle);
 * - the project's ValidatingWebhookConfiguration (infra/manifests), narrowed to one test run's
 *   namespaces and objects, and a way to wait until the apiserver calls it;
 * - a pod-admission webhook that cannot be reached (failurePolicy Fail): pod creates in its
 *   namespaces fail with 500, a persistent transient failure of the real API;
 * - the local runner on SQS with the real reconciler under the controller's identity, recording what
 *   each reconcile returned or threw;
 * - a Lambda Function URL in front of a handler (payload v2 events, as AWS builds them) and an SQS
 *   event source mapping (receive, invoke with an SQSEvent, delete what did not fail).
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DeleteMessageBatchCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageBatchCommand, SendMessageCommand,
  type Message, type SQSClient,
} from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { buildWebhookConfiguration } from '../../lib/manifests/webhook.js';
import type { KubeObject } from '../../lib/manifests/types.js';
import { KubeCluster } from '../../lib/adapters/kube/kube-cluster.js';
import { emitEventVia, listDaemonSetsVia } from '../../lib/app/cluster-ports.js';
import type { ReconcileFn, ReconcileReport } from '../../lib/app/ports.js';
import type { EventQueue, ListDaemonSets } from '../../lib/app/queue.js';
import { createReconciler } from '../../lib/app/reconcile-key.js';
import { RecordingLogger, RecordingMetrics } from '../../lib/observability/recording.js';
import { runLocal, type LocalRunner } from '../../lib/runner/local-runner.js';
import { kubeClient } from '../../lib/local-plane/nodes.js';
import { toSqsRecord } from './sqs-record.js';

// ---- TLS ----

export interface TlsMaterial {
  /** Base64 PEM of the CA, as `clientConfig.caBundle` wants it. */
  readonly caBundle: string;
  readonly cert: string;
  readonly key: string;
}

/** A new CA and a serving certificate for IP 127.0.0.1 / localhost signed by it (openssl, P-256). */
export function makeServingCert(): TlsMaterial {
  const dir = mkdtempSync(join(tmpdir(), 'daemonless-webhook-tls-'));
  try {
    const ossl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
    const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'];
    ossl('req', '-x509', '-new', '-nodes', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=daemonless-webhook-test-ca');
    writeFileSync(join(dir, 'serving.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\n');
    ossl('req', '-new', '-nodes', ...ec, '-keyout', 'tls.key', '-out', 'tls.csr', '-subj', '/CN=daemonless-webhook');
    ossl('x509', '-req', '-in', 'tls.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-out', 'tls.crt', '-extfile', 'serving.ext');
    return {
      caBundle: readFileSync(join(dir, 'ca.crt')).toString('base64'),
      cert: readFileSync(join(dir, 'tls.crt'), 'utf8'),
      key: readFileSync(join(dir, 'tls.key'), 'utf8'),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---- Webhook registrations ----

type Kubectl = (args: readonly string[], input?: string, allowFailure?: boolean) => Promise<{ code: number; stdout: string; stderr: string }>;

/**
 * The project's webhook configuration (buildWebhookConfiguration, as shipped: failurePolicy Ignore,
 * the controller's own writes excluded), under its own name and limited to namespaces with
 * `namespaceLabels` and objects with `objectLabels`, so that it sees one test's objects only.
 * (namespaceSelector does not apply to cluster-scoped objects: nodes are chosen by objectSelector.)
 */
export function scopedWebhookConfiguration(o: {
  name: string; url: string; caBundle: string; namespaceLabels: Record<string, string>; objectLabels: Record<string, string>;
}): KubeObject {
  const shipped = buildWebhookConfiguration({ managedResource: 'native', url: o.url, caBundle: o.caBundle });
  const webhooks = shipped.webhooks as Record<string, unknown>[];
  return {
    ...shipped,
    metadata: { ...shipped.metadata, name: o.name },
    webhooks: webhooks.map((w) => ({ ...w, namespaceSelector: { matchLabels: o.namespaceLabels }, objectSelector: { matchLabels: o.objectLabels } })),
  };
}

/**
 * A pod-admission webhook nobody answers (a closed loopback port) with failurePolicy Fail: every pod
 * create in the matching namespaces fails with HTTP 500 "failed calling webhook".
 */
export function unreachablePodAdmission(o: { name: string; port: number; caBundle: string; namespaceLabels: Record<string, string> }): KubeObject {
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingWebhookConfiguration',
    metadata: { name: o.name },
    webhooks: [{
      name: 'unreachable.pods.test.daemonless.io',
      admissionReviewVersions: ['v1'],
      clientConfig: { url: `https://127.0.0.1:${o.port}/validate`, caBundle: o.caBundle },
      sideEffects: 'None',
      failurePolicy: 'Fail',
      timeoutSeconds: 2,
      rules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['pods'], scope: 'Namespaced' }],
      namespaceSelector: { matchLabels: o.namespaceLabels },
    }],
  };
}

export async function applyObject(kubectl: Kubectl, object: KubeObject): Promise<void> {
  await kubectl(['apply', '-f', '-'], JSON.stringify(object));
}

export async function deleteWebhookConfiguration(kubectl: Kubectl, name: string): Promise<void> {
  await kubectl(['delete', 'validatingwebhookconfiguration', name, '--ignore-not-found', '--wait=false'], undefined, true);
}

/**
 * Waits until kube-apiserver calls a freshly registered webhook (its configuration reaches the
 * admission plugin asynchronously): repeats `probe` (a server-side dry run the webhook matches) until
 * `calls()` grows.
 */
export async function untilWebhookCalled(probe: () => Promise<unknown>, calls: () => number, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const before = calls();
    await probe();
    const settle = Date.now() + 1000;
    while (Date.now() < settle) {
      if (calls() > before) return;
      await sleep(50);
    }
    if (Date.now() > deadline) throw new Error(`the webhook was not called within ${timeoutMs} ms`);
  }
}

// ---- The local runner on SQS, reconciling for real ----

export interface ReconcileFailure { readonly key: string; readonly error: Error }

export interface PipelineRunner {
  readonly runner: LocalRunner;
  /** Every report of a successful reconcile, in order. */
  readonly reports: ReconcileReport[];
  /** Every reconcile that threw, in order. */
  readonly failures: ReconcileFailure[];
  readonly metrics: RecordingMetrics;
  readonly logger: RecordingLogger;
  stop(): Promise<void>;
}

/** Keeps the real list, restricted to some namespaces (a test's share of a cluster other tests use). */
export function inNamespaces(list: ListDaemonSets, namespaces: readonly string[]): ListDaemonSets {
  return async (request) => {
    const page = await list(request);
    return { ...page, items: page.items.filter((ds) => namespaces.includes(ds.namespace)) };
  };
}

/**
 * `runLocal` as `npm start` composes it (KubeCluster, createReconciler, listDaemonSetsVia,
 * emitEventVia) under the given kubeconfig, on the given ElasticMQ queues, without its own webhook
 * server, without the watch source and with the periodic resync off (one resync at start).
 */
export async function startPipelineRunner(o: {
  kubeconfig: string; client: SQSClient; queueUrl: string; delayQueueUrl: string; namespaces: readonly string[];
  maxReceives?: number; retryBaseMs?: number;
}): Promise<PipelineRunner> {
  const cluster = new KubeCluster(kubeClient(o.kubeconfig), { managedResource: 'native', listCache: true });
  const real = createReconciler({ cluster, planOptions: { placement: 'affinity' } });
  const reports: ReconcileReport[] = [];
  const failures: ReconcileFailure[] = [];
  const reconcile: ReconcileFn = async (key, signal) => {
    try {
      const report = await real(key, signal);
      reports.push(report);
      return report;
    } catch (e) {
      failures.push({ key, error: e as Error });
      throw e;
    }
  };
  const metrics = new RecordingMetrics();
  const logger = new RecordingLogger();
  const runner = await runLocal({
    reconcile,
    listDaemonSets: inNamespaces(listDaemonSetsVia(cluster), o.namespaces),
    emitEvent: emitEventVia(cluster, 'native'),
    logger,
    metrics,
  }, {
    managed: 'native',
    webhook: false,
    queue: { kind: 'sqs', client: o.client, queueUrl: o.queueUrl, delayQueueUrl: o.delayQueueUrl },
    workers: 2,
    resyncEverySeconds: null,
    watch: false,
    maxReceives: o.maxReceives ?? 5,
    retryBaseMs: o.retryBaseMs ?? 200,
  });
  return { runner, reports, failures, metrics, logger, stop: async () => { await runner.stop(); cluster.close(); } };
}

/** An EventQueue that forwards to whichever queue is plugged in (the webhook server outlives runners). */
export class SwitchableQueue implements EventQueue {
  target: EventQueue | null = null;
  #to(): EventQueue {
    if (this.target === null) throw new Error('no queue plugged in');
    return this.target;
  }
  enqueue: EventQueue['enqueue'] = (requests) => this.#to().enqueue(requests);
  enqueueFanouts: EventQueue['enqueueFanouts'] = (requests) => this.#to().enqueueFanouts(requests);
  enqueueAfter: EventQueue['enqueueAfter'] = (request, delaySeconds) => this.#to().enqueueAfter(request, delaySeconds);
}

// ---- ElasticMQ helpers ----

export async function queueArn(client: SQSClient, queueUrl: string): Promise<string> {
  const attrs = await client.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }));
  const arn = attrs.Attributes?.QueueArn;
  if (arn === undefined) throw new Error(`no QueueArn for ${queueUrl}`);
  return arn;
}

/** Visible + in flight + delayed messages of a queue. */
export async function queueDepth(client: SQSClient, queueUrl: string): Promise<number> {
  const attrs = await client.send(new GetQueueAttributesCommand({
    QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'],
  }));
  const a = attrs.Attributes ?? {};
  return Number(a.ApproximateNumberOfMessages ?? 0) + Number(a.ApproximateNumberOfMessagesNotVisible ?? 0) + Number(a.ApproximateNumberOfMessagesDelayed ?? 0);
}

/** Raw SendMessageBatch into a FIFO queue, 10 at a time; returns the number of accepted entries. */
export async function sendRaw(client: SQSClient, queueUrl: string, entries: readonly { body: string; groupId: string; dedupId: string }[]): Promise<number> {
  let sent = 0;
  for (let i = 0; i < entries.length; i += 10) {
    const chunk = entries.slice(i, i + 10);
    const out = await client.send(new SendMessageBatchCommand({
      QueueUrl: queueUrl,
      Entries: chunk.map((e, j) => ({ Id: `m${j}`, MessageBody: e.body, MessageGroupId: e.groupId, MessageDeduplicationId: e.dedupId })),
    }));
    if ((out.Failed ?? []).length > 0) throw new Error(`SendMessageBatch failed: ${JSON.stringify(out.Failed)}`);
    sent += (out.Successful ?? []).length;
  }
  return sent;
}

export async function sendToStandardQueue(client: SQSClient, queueUrl: string, body: string): Promise<void> {
  await client.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }));
}

// ---- Lambda shapes ----

export function lambdaContext(functionName: string): Context {
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${functionName}`,
    memoryLimitInMB: '512',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: `2026/01/01/[$LATEST]${randomUUID().replaceAll('-', '')}`,
    getRemainingTimeInMillis: () => 60_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

type UrlHandler = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;

export interface FunctionUrlCall {
  readonly event: APIGatewayProxyEventV2;
  readonly result: APIGatewayProxyStructuredResultV2;
}

export interface FunctionUrl {
  /** `https://127.0.0.1:<port>` */
  readonly url: string;
  readonly calls: FunctionUrlCall[];
  close(): Promise<void>;
}

const TEXT_TYPE = /^(text\/|application\/([a-z0-9.+-]*\+)?(json|xml|javascript)|application\/x-www-form-urlencoded)/i;

/**
 * A Lambda Function URL on 127.0.0.1 over TLS: each request becomes a payload v2 event (lower-case
 * headers, rawPath, requestContext.http, the body as text or base64 as AWS decides by content type)
 * and the handler's structured result becomes the response.
 */
export async function startFunctionUrl(handler: UrlHandler, tls: TlsMaterial, functionName = 'daemonless-webhook'): Promise<FunctionUrl> {
  const calls: FunctionUrlCall[] = [];
  const server = createHttpsServer({ cert: tls.cert, key: tls.key }, (req, res) => {
    void (async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of req as AsyncIterable<Buffer>) chunks.push(chunk);
      const raw = Buffer.concat(chunks);
      const url = new URL(req.url ?? '/', 'https://function-url.invalid');
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers[k.toLowerCase()] = Array.isArray(v) ? v.join(',') : v;
      const text = TEXT_TYPE.test(headers['content-type'] ?? '');
      const now = new Date();
      const event: APIGatewayProxyEventV2 = {
        version: '2.0',
        routeKey: '$default',
        rawPath: url.pathname,
        rawQueryString: url.search.slice(1),
        headers,
        requestContext: {
          accountId: 'anonymous', apiId: 'local', domainName: headers.host ?? '127.0.0.1', domainPrefix: 'local',
          http: { method: req.method ?? 'GET', path: url.pathname, protocol: `HTTP/${req.httpVersion}`, sourceIp: req.socket.remoteAddress ?? '127.0.0.1', userAgent: headers['user-agent'] ?? '' },
          requestId: randomUUID(), routeKey: '$default', stage: '$default', time: now.toUTCString(), timeEpoch: now.getTime(),
        },
        ...(raw.length === 0 ? {} : { body: text ? raw.toString('utf8') : raw.toString('base64') }),
        isBase64Encoded: raw.length > 0 && !text,
      };
      let result: APIGatewayProxyStructuredResultV2;
      try {
        result = await handler(event, lambdaContext(functionName));
      } catch {
        result = { statusCode: 502, body: '{"message":"Internal Server Error"}', headers: { 'content-type': 'application/json' } };
      }
      calls.push({ event, result });
      const body = result.body ?? '';
      res.writeHead(result.statusCode ?? 200, { ...Object.fromEntries(Object.entries(result.headers ?? {}).map(([k, v]) => [k, String(v)])) });
      res.end(result.isBase64Encoded === true ? Buffer.from(body, 'base64') : body);
    })();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `https://127.0.0.1:${port}`,
    calls,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

export { toSqsRecord };

export async function receiveMessages(client: SQSClient, queueUrl: string, o: { max?: number; waitSeconds?: number; visibilityTimeout?: number } = {}): Promise<Message[]> {
  const out = await client.send(new ReceiveMessageCommand({
    QueueUrl: queueUrl, MaxNumberOfMessages: o.max ?? 10, WaitTimeSeconds: o.waitSeconds ?? 1, VisibilityTimeout: o.visibilityTimeout ?? 30,
    MessageSystemAttributeNames: ['All'],
  }));
  return out.Messages ?? [];
}

type SqsHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse | void>;

export interface Invocation {
  readonly event: SQSEvent;
  readonly response: SQSBatchResponse;
  /** Message ids deleted afterwards (every record not in batchItemFailures). */
  readonly deleted: readonly string[];
}

/**
 * One poll of an SQS event source mapping with ReportBatchItemFailures: invokes the function with
 * `messages` as one SQSEvent, then deletes every message not reported as failed (the failed ones
 * come back after their visibility timeout, and go to the DLQ after maxReceiveCount).
 */
export async function invokeWithMessages(client: SQSClient, queueUrl: string, arn: string, handler: SqsHandler, messages: readonly Message[], functionName = 'daemonless-reconcile'): Promise<Invocation> {
  const event: SQSEvent = { Records: messages.map((m) => toSqsRecord(m, arn)) };
  const response = (await handler(event, lambdaContext(functionName))) ?? { batchItemFailures: [] };
  const failed = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
  const done = messages.filter((m) => !failed.has(m.MessageId ?? ''));
  for (let i = 0; i < done.length; i += 10) {
    const chunk = done.slice(i, i + 10);
    await client.send(new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: chunk.map((m, j) => ({ Id: `d${j}`, ReceiptHandle: m.ReceiptHandle })) }));
  }
  return { event, response, deleted: done.map((m) => m.MessageId ?? '') };
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

// ---- A slow admission webhook ----

export interface SlowAdmission {
  readonly url: string;
  /** AdmissionReviews answered so far. */
  readonly calls: number;
  close(): Promise<void>;
}

/**
 * An admission webhook that allows everything after `delayMs`, as a busy policy engine does.
 * kube-apiserver calls validating webhooks in parallel and stores the object only when the slowest
 * has answered, so a registration for it delays persistence while the other webhooks have long
 * answered.
 */
export async function startSlowAdmission(tls: TlsMaterial, delayMs: number): Promise<SlowAdmission> {
  const state = { calls: 0 };
  const server = createHttpsServer({ cert: tls.cert, key: tls.key }, (req, res) => {
    void (async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of req as AsyncIterable<Buffer>) chunks.push(chunk);
      const review = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { apiVersion?: string; request?: { uid?: string } };
      await sleep(delayMs);
      state.calls += 1;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ apiVersion: review.apiVersion ?? 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid: review.request?.uid ?? '', allowed: true } }));
    })();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `https://127.0.0.1:${port}/`,
    get calls() { return state.calls; },
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

/** A registration of a slow admission webhook for DaemonSet creates in namespaces with `namespaceLabels`. */
export function slowDaemonSetAdmission(o: { name: string; url: string; caBundle: string; namespaceLabels: Record<string, string> }): KubeObject {
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingWebhookConfiguration',
    metadata: { name: o.name },
    webhooks: [{
      name: 'slow.daemonsets.test.daemonless.io',
      admissionReviewVersions: ['v1'],
      clientConfig: { url: o.url, caBundle: o.caBundle },
      sideEffects: 'None',
      failurePolicy: 'Ignore',
      timeoutSeconds: 10,
      rules: [{ apiGroups: ['apps'], apiVersions: ['v1'], operations: ['CREATE'], resources: ['daemonsets'], scope: 'Namespaced' }],
      namespaceSelector: { matchLabels: o.namespaceLabels },
    }],
  };
}
