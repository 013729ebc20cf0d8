/**
 * The event pipeline end to end, through real parts only: kube-apiserver calls the project's
 * admission webhook (the shipped ValidatingWebhookConfiguration, over TLS) → DaemonSet keys travel
 * through ElasticMQ (FIFO queue, delay queue, DLQ) → the local runner reconciles them under the
 * controller's identity (the shipped ClusterRole) → pods on simulated nodes. Then the same chain
 * through the Lambda handlers in the shapes AWS invokes them (Function URL, SQS event source mapping
 * with partial batch responses, scheduled resync).
 *
 * The webhook registrations of this file match only its own namespaces and objects (namespace and
 * object labels of this run) and are deleted afterwards, so other test files never see them.
 */
import { randomBytes } from 'node:crypto';
import type { V1DaemonSet, V1Pod } from '@kubernetes/client-node';
import type { Message, SQSClient } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, describe, expect, it, onTestFailed, vi } from 'vitest';
import { decodeMessage, encodeMessage, toFanoutMessage, toReconcileMessage, type DelayedMessage } from '../../lib/app/messages.js';
import { createSqsWorkQueue } from '../../lib/adapters/sqs/sqs-work-queue.js';
import { TransientError } from '../../lib/app/errors.js';
import { fanoutGroupId, messageGroupId } from '../../lib/events/identity.js';
import { METRIC } from '../../lib/observability/ports.js';
import { RecordingLogger, RecordingMetrics, type LogLine } from '../../lib/observability/recording.js';
import { startWebhookServer, type WebhookServer } from '../../lib/runner/webhook-server.js';
import { freePort } from '../../lib/local-plane/control-plane.js';
import { eventually } from '../../lib/local-plane/eventually.js';
import { createReadyNodes, deleteNodes, nodeObject } from '../../lib/local-plane/nodes.js';
import {
  applyObject, deleteWebhookConfiguration, invokeWithMessages, lambdaContext, makeServingCert, queueArn, queueDepth, receiveMessages,
  scopedWebhookConfiguration, sendRaw, sendToStandardQueue, sleep, slowDaemonSetAdmission, startFunctionUrl, startSlowAdmission, startPipelineRunner, SwitchableQueue, toSqsRecord,
  unreachablePodAdmission, untilWebhookCalled, type PipelineRunner, type TlsMaterial,
} from '../support/pipeline.js';
import { createQueues, receiveAll, sqsClient, startSqsServer, type SqsServer } from '../support/sqs-server.js';
import { admin, core, daemonSetYaml, deleteNamespace, isPodReady, kubectl, livePods, plane, podNode } from './helpers.js';

const RUN = randomBytes(3).toString('hex');
/** On this run's namespaces: the webhook registrations select them. */
const RUN_LABEL = 'pipeline.test.daemonless.io/run';
/** On nodes, DaemonSets and pod templates: which registration (runner or Lambda) sees them. */
const ROUTE_LABEL = 'pipeline.test.daemonless.io/route';
/** On nodes: the DaemonSets' nodeSelector, one value per test. */
const SUITE_LABEL = 'pipeline.test.daemonless.io/suite';
/** On namespaces whose pod creates are made to fail. */
const BROKEN_LABEL = 'pipeline.test.daemonless.io/broken-pod-admission';
/** On namespaces where DaemonSet creates are held by a slow admission webhook. */
const SLOW_LABEL = 'pipeline.test.daemonless.io/slow-admission';
const RUNNER_ROUTE = `runner-${RUN}`;
const LAMBDA_ROUTE = `lambda-${RUN}`;
const SECRET = `pipeline-${randomBytes(12).toString('hex')}`;
const RUNNER_HOOK = `daemonless-pipeline-runner-${RUN}`;
const LAMBDA_HOOK = `daemonless-pipeline-lambda-${RUN}`;
const BROKEN_HOOK = `daemonless-pipeline-unreachable-${RUN}`;
const SLOW_HOOK = `daemonless-pipeline-slow-${RUN}`;

let sqs: SqsServer;
let client: SQSClient;
let tls: TlsMaterial;
let hookServer: WebhookServer;
/** The runner-route webhook server (HTTPS, the runner's handleWebhook) forwards to the current test's runner queue. */
const hookQueue = new SwitchableQueue();
const hookMetrics = new RecordingMetrics();
const hookLogger = new RecordingLogger();

let cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
  cleanups = [];
});

/** A server-side dry run of a node create on the given route: the webhook is called, nothing is stored or enqueued. */
const probeNode = (route: string) => () =>
  kubectl(['create', '--dry-run=server', '-o', 'name', '-f', '-'], JSON.stringify(nodeObject({ name: `pl-probe-${RUN}`, labels: { [ROUTE_LABEL]: route } })));

beforeAll(async () => {
  sqs = await startSqsServer();
  client = sqsClient(sqs.endpoint);
  tls = makeServingCert();
  hookServer = await startWebhookServer({
    queue: hookQueue,
    auth: { secrets: [SECRET], mode: 'path', required: true },
    managed: 'native',
    maxBytes: 1024 * 1024,
    logger: hookLogger,
    metrics: hookMetrics,
    now: Date.now,
  }, { tls: { cert: tls.cert, key: tls.key } });
  const registration = scopedWebhookConfiguration({
    name: RUNNER_HOOK, url: `${hookServer.url}/hook/${SECRET}`, caBundle: tls.caBundle,
    namespaceLabels: { [RUN_LABEL]: RUN }, objectLabels: { [ROUTE_LABEL]: RUNNER_ROUTE },
  });
  expect(registration.webhooks).toMatchObject([{ failurePolicy: 'Ignore', clientConfig: { url: `https://127.0.0.1:${hookServer.port}/hook/${SECRET}` } }]);
  await applyObject(kubectl, registration);
  await untilWebhookCalled(probeNode(RUNNER_ROUTE), () => hookMetrics.get(METRIC.webhookRequests));
});

afterAll(async () => {
  for (const name of [RUNNER_HOOK, LAMBDA_HOOK, BROKEN_HOOK, SLOW_HOOK]) await deleteWebhookConfiguration(kubectl, name);
  await hookServer?.close();
  client?.destroy();
  await sqs?.stop();
});

// ---- helpers ----

async function createNamespace(name: string, labels: Record<string, string> = {}): Promise<void> {
  await core.createNamespace({ body: { metadata: { name, labels: { [RUN_LABEL]: RUN, ...labels } } } });
  cleanups.push(async () => {
    // Out of the webhooks' sight first: its teardown is no event for the next test's runner.
    await kubectl(['label', 'namespace', name, `${RUN_LABEL}-`], undefined, true);
    await deleteNamespace(name);
  });
}

async function addNodes(names: readonly string[], labels: Record<string, string>): Promise<void> {
  cleanups.push(() => deleteNodes(admin, names));
  await createReadyNodes(admin, names.map((name) => ({ name, labels })));
}

/** A DaemonSet named `ds` whose object and pod template carry the route label. */
function daemonSet(namespace: string, nodeSelector: Record<string, string>, route: string | null): string {
  const ds = JSON.parse(daemonSetYaml({ name: 'ds', namespace, nodeSelector })) as V1DaemonSet;
  if (route !== null) {
    ds.metadata = { ...ds.metadata, labels: { [ROUTE_LABEL]: route } };
    ds.spec!.template.metadata!.labels = { ...ds.spec!.template.metadata!.labels, [ROUTE_LABEL]: route };
  }
  return JSON.stringify(ds);
}

/** Exactly one Ready pod of `ds` on each of `nodes`, and no other live pod. */
async function readyPodsOn(namespace: string, nodes: readonly string[], timeoutMs = 60_000): Promise<V1Pod[]> {
  return eventually(async () => {
    const pods = await livePods(namespace, 'app=ds');
    expect(pods.map(podNode).sort()).toEqual([...nodes].sort());
    expect(pods.filter(isPodReady)).toHaveLength(nodes.length);
    return pods;
  }, { timeoutMs, what: `one Ready pod on each of ${nodes.join(', ')}` });
}

/** The status the controller writes, fully caught up: `n` desired, scheduled, updated, ready and available. */
async function statusConverged(namespace: string, n: number): Promise<void> {
  await eventually(async () => {
    const ds = (await kubectl(['-n', namespace, 'get', 'ds', 'ds', '-o', 'json'])).stdout;
    const { metadata, status } = JSON.parse(ds) as V1DaemonSet;
    expect(status).toMatchObject({
      desiredNumberScheduled: n, currentNumberScheduled: n, updatedNumberScheduled: n, numberReady: n, numberAvailable: n,
      numberMisscheduled: 0, observedGeneration: metadata?.generation,
    });
  }, { timeoutMs: 60_000, what: `status of ${namespace}/ds at ${n}` });
}

/** Samples the pods of `ds` until stopped; returns the most pods ever seen on one node. */
function podsPerNodeMonitor(namespace: string) {
  let max = 0;
  let running = true;
  const done = (async () => {
    while (running) {
      const perNode = new Map<string, number>();
      for (const p of await livePods(namespace, 'app=ds')) perNode.set(podNode(p), (perNode.get(podNode(p)) ?? 0) + 1);
      max = Math.max(max, ...perNode.values());
      await sleep(50);
    }
  })();
  return { async stop() { running = false; await done; return max; } };
}

const uids = (pods: readonly V1Pod[]) => Object.fromEntries(pods.map((p) => [podNode(p), p.metadata?.uid]));

/** A namespace, nodes with this test's labels, fresh ElasticMQ queues and a runner the webhook forwards to. */
async function scenario(id: string, o: { nodes: number; maxReceives?: number; alsoManages?: readonly string[]; namespaceLabels?: Record<string, string>; diagnose?: boolean }) {
  const ns = `pl-${RUN}-${id}`;
  await createNamespace(ns, o.namespaceLabels);
  const queues = await createQueues(client, { maxReceiveCount: o.maxReceives ?? 5, visibilityTimeout: 30 });
  const p: PipelineRunner = await startPipelineRunner({
    kubeconfig: plane.controllerKubeconfig, client, queueUrl: queues.fifoUrl, delayQueueUrl: queues.delayUrl,
    namespaces: [ns, ...(o.alsoManages ?? [])], ...(o.maxReceives === undefined ? {} : { maxReceives: o.maxReceives }),
  });
  cleanups.push(() => p.stop());
  if (o.diagnose !== false) onTestFailed(() => {
    const notable = (lines: readonly LogLine[]) => lines.slice(-80).map((l) => `${l.level} ${l.message} ${JSON.stringify(l.fields)}`);
    console.error(['webhook server:', ...notable(hookLogger.lines), 'runner:', ...notable(p.logger.lines)].join('\n'));
  });
  hookQueue.target = p.runner.queue;
  cleanups.push(async () => { hookQueue.target = null; });
  // The runner's one resync at start has run (the periodic one is off).
  await eventually(() => expect(p.metrics.counts.has(METRIC.resyncKeys)).toBe(true), { timeoutMs: 10_000 });
  const selector = { [SUITE_LABEL]: `${RUN}-${id}` };
  const nodeLabels = { ...selector, [ROUTE_LABEL]: RUNNER_ROUTE };
  const nodes = Array.from({ length: o.nodes }, (_, i) => `pl-${RUN}-${id}-n${i}`);
  await addNodes(nodes, nodeLabels);
  return { ns, key: `${ns}/ds`, nodes, selector, nodeLabels, queues, p };
}

/** Waits until the FIFO and delay queues are empty and the runner has been quiet for a moment. */
async function settled(p: PipelineRunner, queues: { fifoUrl: string; delayUrl: string }): Promise<void> {
  await eventually(async () => {
    const seen = p.reports.length + p.failures.length;
    expect(await queueDepth(client, queues.fifoUrl) + await queueDepth(client, queues.delayUrl)).toBe(0);
    await sleep(700);
    expect(p.reports.length + p.failures.length).toBe(seen);
    expect(await queueDepth(client, queues.fifoUrl) + await queueDepth(client, queues.delayUrl)).toBe(0);
  }, { timeoutMs: 30_000, what: 'queues drained and the runner quiet' });
}

/**
 * Makes every pod create in `namespace` fail with HTTP 500 (a pod-admission webhook that cannot be
 * reached, failurePolicy Fail), and waits until the apiserver enforces it. Returns the undo.
 */
async function breakPodCreates(namespace: string): Promise<() => Promise<void>> {
  await applyObject(kubectl, unreachablePodAdmission({ name: BROKEN_HOOK, port: await freePort(), caBundle: tls.caBundle, namespaceLabels: { [BROKEN_LABEL]: RUN } }));
  const undo = async () => deleteWebhookConfiguration(kubectl, BROKEN_HOOK);
  cleanups.push(undo);
  const probe = JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'probe', namespace }, spec: { containers: [{ name: 'c', image: 'x' }] } });
  await eventually(async () => {
    const r = await kubectl(['create', '--dry-run=server', '-f', '-'], probe, true);
    expect(r.stderr).toContain('failed calling webhook');
  }, { timeoutMs: 30_000, what: 'pod creates failing' });
  return async () => {
    await undo();
    await eventually(async () => {
      const r = await kubectl(['create', '--dry-run=server', '-f', '-'], probe, true);
      expect(r.code).toBe(0);
    }, { timeoutMs: 30_000, what: 'pod creates working again' });
  };
}

/**
 * The key once more, now that kubectl has returned and the object is stored. A webhook's key can be
 * reconciled before the object it announces is stored; the second look 5 s later covers that (see
 * "a change announced by admission…" below), and this keeps the tests about other things from
 * waiting for it.
 */
async function enqueueStored(p: PipelineRunner, key: string): Promise<void> {
  await p.runner.queue.enqueue([{ key, dedupId: `stored-${key}-${Date.now()}` }]);
}

const reconcileBody = (key: string, dedupId: string, observedAt?: number) =>
  encodeMessage(toReconcileMessage({ key, dedupId, ...(observedAt === undefined ? {} : { observedAt }) }));

// ---- the local runner on ElasticMQ ----

describe('pipeline: kube-apiserver → admission webhook (TLS) → ElasticMQ → local runner → pods', () => {
  it('turns admission requests into pods: a Ready pod on every node, then on a node that joins', async () => {
    const s = await scenario('hook', { nodes: 3 });
    // Nothing existed at the start: from here on only the webhook's keys drive the runner. (Each of
    // them can lose the race shown in "a change announced by admission…" below; a loaded machine
    // makes that more likely.)
    expect(s.p.metrics.get(METRIC.resyncKeys)).toBe(0);
    const keysBefore = hookMetrics.get(METRIC.keysEnqueued);
    const monitor = podsPerNodeMonitor(s.ns);

    await kubectl(['apply', '-f', '-'], daemonSet(s.ns, s.selector, RUNNER_ROUTE));
    const pods = await readyPodsOn(s.ns, s.nodes);
    // Ready pods reach the status only through pods/status admission requests (kwok's updates).
    await statusConverged(s.ns, 3);
    expect(hookMetrics.get(METRIC.keysEnqueued)).toBeGreaterThan(keysBefore);
    expect(s.p.reports.filter((r) => r.key === s.key && r.podsCreated > 0).length).toBeGreaterThan(0);

    // A node joins: its create / taint removal / readiness reach the webhook and fan out to the DaemonSet.
    const fanoutsBefore = hookMetrics.get(METRIC.fanoutsEnqueued);
    const expandedBefore = s.p.metrics.get(METRIC.fanoutExpanded);
    const joined = `pl-${RUN}-hook-n9`;
    await addNodes([joined], s.nodeLabels);
    const after = await readyPodsOn(s.ns, [...s.nodes, joined]);
    await statusConverged(s.ns, 4);
    expect(hookMetrics.get(METRIC.fanoutsEnqueued)).toBeGreaterThan(fanoutsBefore);
    expect(s.p.metrics.get(METRIC.fanoutExpanded)).toBeGreaterThan(expandedBefore);
    const before = uids(pods);
    expect(Object.fromEntries(Object.entries(uids(after)).filter(([node]) => node !== joined))).toEqual(before);

    expect(await monitor.stop()).toBe(1);
    expect(s.p.failures.filter((f) => !(f.error instanceof TransientError))).toEqual([]);
    expect(s.p.metrics.get(METRIC.terminalErrors)).toBe(0);
    expect(await queueDepth(client, s.queues.dlqUrl)).toBe(0);
  });

  it('creates nothing twice when messages are duplicated and replayed', async () => {
    const s = await scenario('dup', { nodes: 3 });
    const group = messageGroupId(s.key);
    const monitor = podsPerNodeMonitor(s.ns);

    // While the pods are being created: 10 copies of the key, each under its own dedup id.
    await kubectl(['apply', '-f', '-'], daemonSet(s.ns, s.selector, RUNNER_ROUTE));
    const createdAt = Date.now();
    const early = Array.from({ length: 10 }, (_, i) => ({ body: reconcileBody(s.key, `early-${RUN}-${i}`, createdAt), groupId: group, dedupId: `early-${RUN}-${i}` }));
    expect(await sendRaw(client, s.queues.fifoUrl, early)).toBe(10);
    const pods = await readyPodsOn(s.ns, s.nodes);
    await statusConverged(s.ns, 3);
    await settled(s.p, s.queues);
    const converged = uids(pods);
    const reportsMark = s.p.reports.length;
    const failuresMark = s.p.failures.length;
    const hookKeysMark = hookMetrics.get(METRIC.keysEnqueued) + hookMetrics.get(METRIC.fanoutsEnqueued);

    // Converged. Replay everything: the early messages verbatim (same dedup ids: SQS drops them),
    // the same bodies under new dedup ids, 15 fresh copies, one message sent 10 times under one
    // dedup id, a fan-out of every DaemonSet, and a due requeue on the delay queue.
    expect(await sendRaw(client, s.queues.fifoUrl, early)).toBe(10);
    expect(await sendRaw(client, s.queues.fifoUrl, early.map((e, i) => ({ ...e, dedupId: `replay-${RUN}-${i}` })))).toBe(10);
    expect(await sendRaw(client, s.queues.fifoUrl, Array.from({ length: 15 }, (_, i) => ({ body: reconcileBody(s.key, `fresh-${RUN}-${i}`, Date.now()), groupId: group, dedupId: `fresh-${RUN}-${i}` })))).toBe(15);
    expect(await sendRaw(client, s.queues.fifoUrl, Array.from({ length: 10 }, () => ({ body: reconcileBody(s.key, `same-${RUN}`), groupId: group, dedupId: `same-${RUN}` })))).toBe(10);
    const fanout = toFanoutMessage({ scope: 'all', cause: 'replayed fan-out', dedupId: `fanout-${RUN}`, observedAt: createdAt });
    expect(await sendRaw(client, s.queues.fifoUrl, [{ body: encodeMessage(fanout), groupId: fanoutGroupId(fanout), dedupId: fanout.dedupId }])).toBe(1);
    const delayed: DelayedMessage = { v: 1, type: 'delayed', dueAt: Date.now(), message: toReconcileMessage({ key: s.key, dedupId: `requeue-${RUN}` }) };
    await sendToStandardQueue(client, s.queues.delayUrl, encodeMessage(delayed));
    const delivered = 10 + 15 + 1 + 1 + 1;

    // Deliveries that arrive in one receive collapse into one reconcile per key, so wait for the
    // queues to drain rather than for a number of reconciles.
    await eventually(() => expect(s.p.reports.slice(reportsMark).filter((r) => r.key === s.key).length).toBeGreaterThan(0), { timeoutMs: 60_000, what: 'reconciles of the replays' });
    await settled(s.p, s.queues);

    const replayed = s.p.reports.slice(reportsMark).filter((r) => r.key === s.key);
    const hookKeys = hookMetrics.get(METRIC.keysEnqueued) + hookMetrics.get(METRIC.fanoutsEnqueued) - hookKeysMark;
    // At most one reconcile per delivery; the deduplicated sends did not come through.
    expect(replayed.length).toBeLessThanOrEqual(delivered + hookKeys);
    // A converged DaemonSet costs no writes, however often it is reconciled.
    expect(replayed.filter((r) => r.writes > 0 || r.podsCreated > 0 || r.podsDeleted > 0 || r.statusWritten)).toEqual([]);
    expect(s.p.failures.slice(failuresMark)).toEqual([]);
    expect(s.p.failures.filter((f) => /AlreadyExists|create pod/.test(f.error.message))).toEqual([]);
    expect(uids(await livePods(s.ns, 'app=ds'))).toEqual(converged);
    expect(await monitor.stop()).toBe(1);
    expect(s.p.metrics.get(METRIC.delayedForwarded)).toBeGreaterThanOrEqual(1);
    expect(await queueDepth(client, s.queues.dlqUrl)).toBe(0);
  });

  it('dead-letters a key whose reconcile keeps failing, while other DaemonSets converge', async () => {
    const poisonNs = `pl-${RUN}-poison`;
    const poisonKey = `${poisonNs}/ds`;
    const s = await scenario('dlq', { nodes: 2, maxReceives: 3, alsoManages: [poisonNs] });
    await createNamespace(poisonNs, { [BROKEN_LABEL]: RUN });
    const repair = await breakPodCreates(poisonNs);

    // Both DaemonSets come in through the webhook; every pod create of the first one fails with 500.
    await kubectl(['apply', '-f', '-'], daemonSet(poisonNs, s.selector, RUNNER_ROUTE));
    await kubectl(['apply', '-f', '-'], daemonSet(s.ns, s.selector, RUNNER_ROUTE));
    await enqueueStored(s.p, poisonKey);
    await enqueueStored(s.p, s.key);
    await readyPodsOn(s.ns, s.nodes);
    await statusConverged(s.ns, 2);

    const dead = await receiveAll(client, s.queues.dlqUrl, { count: 1, timeoutMs: 30_000 });
    expect(dead.map((m) => decodeMessage(m.Body!))).toMatchObject([{ type: 'reconcile', key: poisonKey }]);
    const poisoned = s.p.failures.filter((f) => f.key === poisonKey);
    expect(poisoned.length).toBeGreaterThanOrEqual(3);
    for (const f of poisoned) {
      expect(f.error).toBeInstanceOf(TransientError);
      expect(f.error.message).toMatch(/create pod .*HTTP 500/);
    }
    expect(s.p.failures.filter((f) => f.key !== poisonKey && !(f.error instanceof TransientError))).toEqual([]);
    expect(await livePods(poisonNs, 'app=ds')).toEqual([]);
    // The last attempt leaves a Warning Event on the DaemonSet, with its uid, so that
    // `kubectl describe` lists it.
    const dsUid = (JSON.parse((await kubectl(['-n', poisonNs, 'get', 'ds', 'ds', '-o', 'json'])).stdout) as { metadata: { uid: string } }).metadata.uid;
    await eventually(async () => {
      const events = JSON.parse((await kubectl(['-n', poisonNs, 'get', 'events', '-o', 'json'])).stdout) as { items: { reason?: string; type?: string; involvedObject?: { kind?: string; name?: string } }[] };
      expect(events.items).toContainEqual(expect.objectContaining({ reason: 'ReconcileGivingUp', type: 'Warning', involvedObject: expect.objectContaining({ kind: 'DaemonSet', name: 'ds', uid: dsUid }) }));
    }, { timeoutMs: 10_000, what: 'ReconcileGivingUp event' });
    expect((await kubectl(['-n', poisonNs, 'describe', 'ds', 'ds'])).stdout).toMatch(/Warning\s+ReconcileGivingUp\s/);

    // The key's message group is not blocked: once pods can be created, its next event converges it.
    await repair();
    await kubectl(['-n', poisonNs, 'annotate', 'ds', 'ds', 'pipeline.test.daemonless.io/poke=1']);
    await readyPodsOn(poisonNs, s.nodes);
    await statusConverged(poisonNs, 2);
  });

  it('heals a change whose event was dropped at the next resync, and not before', async () => {
    const s = await scenario('resync', { nodes: 3 });
    const eligible = { ...s.selector, role: 'daemon' };
    const [n0, n1, n2] = s.nodes as [string, string, string];
    await kubectl(['label', 'node', n0, n1, 'role=daemon']);
    await kubectl(['apply', '-f', '-'], daemonSet(s.ns, eligible, RUNNER_ROUTE));
    await enqueueStored(s.p, s.key);
    const pods = await readyPodsOn(s.ns, [n0, n1]);
    await statusConverged(s.ns, 2);
    await settled(s.p, s.queues);

    // The webhook's queue goes away: admission is still allowed, the events are lost.
    hookQueue.target = createSqsWorkQueue({ client, queueUrl: sqs.queueUrl(`missing-${RUN}.fifo`) });
    const lostBefore = hookMetrics.get(METRIC.enqueueFailures);
    const reportsMark = s.p.reports.length;
    const reconcilesBefore = s.p.reports.length + s.p.failures.length;
    await kubectl(['label', 'node', n2, 'role=daemon']);
    const victim = pods.find((p) => podNode(p) === n0)!;
    await kubectl(['-n', s.ns, 'delete', 'pod', victim.metadata!.name!, '--wait=true']);
    await eventually(() => expect(hookMetrics.get(METRIC.enqueueFailures)).toBeGreaterThanOrEqual(lostBefore + 2), { timeoutMs: 10_000 });
    await sleep(3000);
    expect((await livePods(s.ns, 'app=ds')).map(podNode)).toEqual([n1]);
    expect(s.p.reports.length + s.p.failures.length).toBe(reconcilesBefore);

    // Delivery comes back (the lost events stay lost); the resync makes up for them.
    hookQueue.target = s.p.runner.queue;
    expect(await s.p.runner.resync()).toBe(1);
    const healed = await readyPodsOn(s.ns, [n0, n1, n2]);
    // (The pass that created them may still be recording its Events when the pods are Ready.)
    await eventually(() => expect(s.p.reports.slice(reportsMark).filter((r) => r.key === s.key && r.podsCreated > 0).map((r) => r.podsCreated)).toEqual([2]), { timeoutMs: 10_000 });
    expect(uids(healed)[n1]).toBe(uids(pods)[n1]);
    expect(uids(healed)[n0]).not.toBe(victim.metadata?.uid);
    await statusConverged(s.ns, 3);
  });
});

describe('a change announced by admission but stored later is still reconciled (the second look)', () => {
  // kube-apiserver calls validating webhooks before it stores the object, all at once, and stores it
  // when the slowest has answered. Here a second admission webhook (a slow policy engine) holds a
  // DaemonSet create for 3 s: the project's webhook has long enqueued the key, the runner reconciles
  // it and reads no DaemonSet ("missing", a success). Without a second look nothing else would be due
  // for this DaemonSet until the next resync (300 s by default); admission-derived keys are therefore
  // looked at again a few seconds later (DEFAULT_RECHECK_SECONDS), through the delay queue.
  let s: Awaited<ReturnType<typeof scenario>>;
  beforeAll(async () => {
    s = await scenario('race', { nodes: 2, namespaceLabels: { [SLOW_LABEL]: RUN }, diagnose: false });
    const slow = await startSlowAdmission(tls, 3000);
    cleanups.push(() => slow.close());
    await applyObject(kubectl, slowDaemonSetAdmission({ name: SLOW_HOOK, url: slow.url, caBundle: tls.caBundle, namespaceLabels: { [SLOW_LABEL]: RUN } }));
    cleanups.push(() => deleteWebhookConfiguration(kubectl, SLOW_HOOK));
    // A probe the project's webhook does not match (no route label): only the slow one is called.
    await untilWebhookCalled(() => kubectl(['create', '--dry-run=server', '-f', '-'], daemonSet(s.ns, s.selector, null)), () => slow.calls);

    const started = Date.now();
    await kubectl(['apply', '-f', '-'], daemonSet(s.ns, s.selector, RUNNER_ROUTE));
    expect(Date.now() - started).toBeGreaterThanOrEqual(3000);
    // While the create was held, the key came through the queue and its reconcile found nothing.
    expect(s.p.reports.filter((r) => r.key === s.key)).toEqual([expect.objectContaining({ missing: true, writes: 0 })]);
  });

  it('converges the DaemonSet without waiting for the resync', async () => {
    await readyPodsOn(s.ns, s.nodes, 20_000);
  });
});

// ---- the Lambda handlers ----

type UrlHandler = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;
type SqsHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;
type ResyncHandler = (event: { source: string; scheduledTime: string }, context: Context) => Promise<{ keys: number; pages: number }>;

describe('pipeline through the Lambda handlers, in the shapes AWS invokes them', () => {
  it('webhook (Function URL) → FIFO queue → reconcile (SQS event) → pods; partial batch failures; scheduled resync heals a dropped event', async () => {
    const ns = `pl-${RUN}-lambda`;
    const key = `${ns}/ds`;
    const poisonNs = `pl-${RUN}-lpoison`;
    const poisonKey = `${poisonNs}/ds`;
    await createNamespace(ns);
    await createNamespace(poisonNs, { [BROKEN_LABEL]: RUN });
    const queues = await createQueues(client, { maxReceiveCount: 3, visibilityTimeout: 30 });
    const fifoArn = await queueArn(client, queues.fifoUrl);
    const delayArn = await queueArn(client, queues.delayUrl);

    // The functions' own composition roots, configured as the stack configures them.
    vi.stubEnv('DAEMONLESS_QUEUE_URL', queues.fifoUrl);
    vi.stubEnv('DAEMONLESS_DELAY_QUEUE_URL', queues.delayUrl);
    vi.stubEnv('DAEMONLESS_SQS_ENDPOINT', sqs.endpoint);
    vi.stubEnv('DAEMONLESS_WEBHOOK_SECRET', SECRET);
    vi.stubEnv('DAEMONLESS_WEBHOOK_AUTH', 'path');
    vi.stubEnv('DAEMONLESS_CLUSTER_AUTH', 'kubeconfig');
    vi.stubEnv('DAEMONLESS_KUBECONFIG', plane.controllerKubeconfig);
    vi.stubEnv('DAEMONLESS_MAX_RECEIVES', '3');
    vi.stubEnv('DAEMONLESS_LOG_LEVEL', 'WARN');
    vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'true');
    vi.stubEnv('AWS_REGION', 'us-east-1');
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'test');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'test');
    cleanups.push(async () => { vi.unstubAllEnvs(); });
    const webhook = (await import('../../lambdas/webhook.js')).handler as unknown as UrlHandler;
    const reconcile = (await import('../../lambdas/reconcile.js')).handler as unknown as SqsHandler;
    const resync = (await import('../../lambdas/resync.js')).handler as unknown as ResyncHandler;

    const functionUrl = await startFunctionUrl(webhook, tls);
    cleanups.push(() => functionUrl.close());
    await applyObject(kubectl, scopedWebhookConfiguration({
      name: LAMBDA_HOOK, url: `${functionUrl.url}/hook/${SECRET}`, caBundle: tls.caBundle,
      namespaceLabels: { [RUN_LABEL]: RUN }, objectLabels: { [ROUTE_LABEL]: LAMBDA_ROUTE },
    }));
    cleanups.push(() => deleteWebhookConfiguration(kubectl, LAMBDA_HOOK));
    await untilWebhookCalled(probeNode(LAMBDA_ROUTE), () => functionUrl.calls.length);

    const selector = { [SUITE_LABEL]: `${RUN}-lambda` };
    const nodes = [`pl-${RUN}-lambda-n0`, `pl-${RUN}-lambda-n1`];
    // Nodes outside the webhook's sight: no fan-outs, so the function sees this test's keys only.
    await addNodes(nodes, selector);

    // 1. kube-apiserver → Function URL → webhook function: a real AdmissionReview, allowed, key enqueued.
    await kubectl(['apply', '-f', '-'], daemonSet(ns, selector, LAMBDA_ROUTE));
    const review = await eventually(() => {
      const call = functionUrl.calls.find((c) => {
        const body = JSON.parse(c.event.body ?? '{}') as { request?: { kind?: { kind?: string }; operation?: string; namespace?: string } };
        return body.request?.kind?.kind === 'DaemonSet' && body.request.operation === 'CREATE' && body.request.namespace === ns;
      });
      expect(call).toBeDefined();
      return call!;
    }, { timeoutMs: 10_000, what: 'the AdmissionReview of the DaemonSet create' });
    expect(review.event).toMatchObject({ version: '2.0', rawPath: `/hook/${SECRET}`, isBase64Encoded: false, requestContext: { http: { method: 'POST' } } });
    expect(review.event.headers['content-type']).toMatch(/^application\/json/);
    const request = (JSON.parse(review.event.body!) as { apiVersion: string; kind: string; request: { uid: string; userInfo: { username: string } } });
    expect(request).toMatchObject({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview' });
    expect(review.result.statusCode).toBe(200);
    expect(JSON.parse(review.result.body!)).toEqual({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid: request.request.uid, allowed: true } });
    for (const c of functionUrl.calls) expect(JSON.parse(c.result.body!)).toMatchObject({ response: { allowed: true } });

    // 2. The event source mappings: FIFO queue and delay queue → reconcile function, until converged.
    const invocations: { arn: string; response: SQSBatchResponse; records: number }[] = [];
    const pump = async (): Promise<void> => {
      for (const [url, arn] of [[queues.fifoUrl, fifoArn], [queues.delayUrl, delayArn]] as const) {
        const messages = await receiveMessages(client, url, { waitSeconds: 0 });
        if (messages.length === 0) continue;
        const { response } = await invokeWithMessages(client, url, arn, reconcile, messages);
        invocations.push({ arn, response, records: messages.length });
      }
    };
    // A retried invocation (a visibility timeout that ran out during a slow one) runs alongside the
    // first on the same records: both read before either writes, both create the same pods.
    const monitor = podsPerNodeMonitor(ns);
    const firstMessages: Message[] = [];
    await eventually(async () => {
      firstMessages.push(...await receiveMessages(client, queues.fifoUrl, { waitSeconds: 1 }));
      expect(firstMessages.map((m) => decodeMessage(m.Body!))).toContainEqual(expect.objectContaining({ type: 'reconcile', key }));
    }, { timeoutMs: 10_000, what: 'the key in the queue' });
    const redelivered: SQSEvent = {
      Records: firstMessages.map((m) => {
        const r = toSqsRecord(m, fifoArn);
        return { ...r, attributes: { ...r.attributes, ApproximateReceiveCount: '2' } };
      }),
    };
    const [firstInvocation, retriedInvocation] = await Promise.all([
      invokeWithMessages(client, queues.fifoUrl, fifoArn, reconcile, firstMessages),
      reconcile(redelivered, lambdaContext('daemonless-reconcile')),
    ]);
    expect(firstInvocation.response).toEqual({ batchItemFailures: [] });
    expect(retriedInvocation).toEqual({ batchItemFailures: [] });

    const pods = await eventually(async () => {
      await pump();
      const ds = JSON.parse((await kubectl(['-n', ns, 'get', 'ds', 'ds', '-o', 'json'])).stdout) as V1DaemonSet;
      expect(ds.status?.numberReady).toBe(2);
      return readyPodsOn(ns, nodes, 1);
    }, { timeoutMs: 60_000, intervalMs: 300, what: 'pods through the reconcile function' });
    expect(invocations.map((i) => i.response)).toEqual(invocations.map(() => ({ batchItemFailures: [] })));
    expect(await monitor.stop()).toBe(1);

    // 3. Partial batch response: a key whose pod creates fail (500) fails its records, and only those.
    await eventually(async () => {
      await pump();
      expect(await queueDepth(client, queues.fifoUrl) + await queueDepth(client, queues.delayUrl)).toBe(0);
    }, { timeoutMs: 20_000, intervalMs: 500, what: 'queues drained' });
    const repair = await breakPodCreates(poisonNs);
    cleanups.push(repair);
    await kubectl(['apply', '-f', '-'], daemonSet(poisonNs, selector, null));
    await createSqsWorkQueue({ client, queueUrl: queues.fifoUrl }).enqueue([
      { key: poisonKey, dedupId: `p1-${RUN}` }, { key, dedupId: `g1-${RUN}` }, { key: poisonKey, dedupId: `p2-${RUN}` },
    ]);
    const batch = await receiveMessages(client, queues.fifoUrl, { waitSeconds: 2 });
    const byKey = (k: string) => batch.filter((m) => (decodeMessage(m.Body!) as { key: string }).key === k).map((m) => m.MessageId);
    expect(byKey(poisonKey)).toHaveLength(2);
    expect(byKey(key)).toHaveLength(1);
    const partial = await invokeWithMessages(client, queues.fifoUrl, fifoArn, reconcile, batch);
    expect(partial.response).toEqual({ batchItemFailures: byKey(poisonKey).map((id) => ({ itemIdentifier: id })) });
    expect(partial.deleted).toEqual(byKey(key));
    expect(uids(await readyPodsOn(ns, nodes, 1))).toEqual(uids(pods));

    // 4. The webhook registration goes away; a daemon pod is deleted: nothing reaches the queue.
    await deleteWebhookConfiguration(kubectl, LAMBDA_HOOK);
    await eventually(async () => {
      const calls = functionUrl.calls.length;
      await probeNode(LAMBDA_ROUTE)();
      await sleep(500);
      expect(functionUrl.calls.length).toBe(calls);
    }, { timeoutMs: 20_000, what: 'the webhook unregistered' });
    const victim = pods[0]!;
    await kubectl(['-n', ns, 'delete', 'pod', victim.metadata!.name!, '--wait=true']);
    await sleep(1000);
    const lost = await receiveMessages(client, queues.fifoUrl, { waitSeconds: 1, visibilityTimeout: 0 });
    expect(lost.map((m) => decodeMessage(m.Body!))).not.toContainEqual(expect.objectContaining({ key }));

    // 5. The schedule fires (twice for one tick: a retried invocation): one message per DaemonSet.
    const tick = { source: 'daemonless.resync', scheduledTime: new Date().toISOString() };
    const first = await resync(tick, lambdaContext('daemonless-resync'));
    const again = await resync(tick, lambdaContext('daemonless-resync'));
    expect(again.keys).toBeGreaterThanOrEqual(2);
    expect(first.pages).toBeGreaterThanOrEqual(1);
    expect(first.keys).toBeGreaterThanOrEqual(2);
    const enqueued = await receiveAll(client, queues.fifoUrl, { count: first.keys, timeoutMs: 5000 });
    const mine = enqueued.filter((m) => m.Attributes?.MessageGroupId === messageGroupId(key));
    expect(mine).toHaveLength(1);
    const healed = await invokeWithMessages(client, queues.fifoUrl, fifoArn, reconcile, mine);
    expect(healed.response).toEqual({ batchItemFailures: [] });
    const after = await readyPodsOn(ns, nodes);
    expect(after.map((p) => p.metadata?.uid)).not.toContain(victim.metadata?.uid);
  });
});
