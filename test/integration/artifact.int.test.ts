/**
 * The deployed artifact, proven locally: `cdk synth` bundles the three functions; this test runs
 * those bundles (cdk.out asset directories, not the sources) with the environment the synthesized
 * template gives each function, the way Lambda runs them, against the real control plane:
 *
 * - each execution environment is its own Node 24 process with a minimal runtime client speaking the
 *   Lambda Runtime API (test/support/lambda);
 * - the queues are created in ElasticMQ with the template's attributes (FIFO, visibility timeout,
 *   redrive policy), and the template's event source mappings poll them with its batch size, batching
 *   window, maximum concurrency and ReportBatchItemFailures;
 * - the webhook bundle sits behind an HTTPS server that sends Function URL events (payload 2.0), and
 *   the shipped ValidatingWebhookConfiguration points kube-apiserver at it;
 * - the resync bundle is invoked with the schedule's input.
 *
 * What differs from AWS, all through the environment only: the queue URLs are ElasticMQ's and the SQS
 * endpoint is set with AWS_ENDPOINT_URL_SQS; the two Secrets Manager references are replaced by the
 * values they would hold (the webhook token as DAEMONLESS_WEBHOOK_SECRET, the kubeconfig as
 * DAEMONLESS_CLUSTER_AUTH=kubeconfig + DAEMONLESS_KUBECONFIG); credentials are dummies; the code runs
 * on this machine's architecture, not arm64; see test/support/lambda/runtime.ts for the runtime itself.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CreateQueueCommand, GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../infra/build-app.js';
import { buildWebhookConfiguration } from '../../lib/manifests/webhook.js';
import { DEMO_MANIFEST, DEMO_NODES, DEMO_WORKERS } from '../../lib/runner/demo/topology.js';
import { eventually } from '../../lib/local-plane/eventually.js';
import { readCloudAssembly, resolveEnvironment, type CloudAssembly, type SynthFunction } from '../support/lambda/cloud-assembly.js';
import { emfSum, LocalFunction, type InvokeResult } from '../support/lambda/runtime.js';
import { startSqsEventSource, type SqsEventSource } from '../support/lambda/sqs-event-source.js';
import { createReadyNodes, deleteNodes, nodeObject } from '../../lib/local-plane/nodes.js';
import { applyObject, deleteWebhookConfiguration, makeServingCert, queueDepth, startFunctionUrl, untilWebhookCalled, type FunctionUrl } from '../support/pipeline.js';
import { sqsClient, startSqsServer, type SqsServer } from '../support/sqs-server.js';
import { admin, daemonSetYaml, deleteNamespace, isPodReady, kubectl, livePods, plane, podNode } from './helpers.js';

const RUN = randomBytes(3).toString('hex');
const STACK = 'Daemonless';
const REGION = 'us-east-1';
const NODE24 = join(PROJECT_ROOT, 'node_modules/.bin/node');
const TOKEN = randomBytes(36).toString('base64url').replace(/[-_]/g, 'x').slice(0, 48);
const RESTRICTED_NS = `artifact-restricted-${RUN}`;

/** The environment of a machine without AWS access: no credentials, no profile, no telemetry. */
function offlineEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const key of Object.keys(env)) if (key.startsWith('AWS_') || key.startsWith('CDK_')) delete env[key];
  return {
    ...env,
    AWS_CONFIG_FILE: '/nonexistent/aws-config', AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/aws-credentials',
    AWS_EC2_METADATA_DISABLED: 'true', CDK_DISABLE_CLI_TELEMETRY: 'true',
  };
}

let outDir: string;
let assembly: CloudAssembly;
let synthSeconds = 0;
let sqs: SqsServer;
let client: SQSClient;
const queueUrls = new Map<string, string>();
const queueArns = new Map<string, string>();
const functions = new Map<string, LocalFunction>();
const sources: SqsEventSource[] = [];
let url: FunctionUrl;
/** What replaced each Secrets Manager reference: the local alternative, by environment variable. */
const substituted: string[] = [];

const fnByPrefix = (prefix: string): { synth: SynthFunction; local: LocalFunction } => {
  const synth = assembly.functions.find((f) => f.logicalId.startsWith(prefix));
  if (synth === undefined) throw new Error(`no function ${prefix}* in the template`);
  return { synth, local: functions.get(synth.logicalId)! };
};

/** The namespace and dimensions the stack's terminal-failure alarm watches. */
function alarmMetric(): { namespace: string; dimensions: Record<string, string> } {
  const alarm = Object.values(assembly.template.Resources)
    .find((r) => r.Type === 'AWS::CloudWatch::Alarm' && r.Properties?.MetricName === 'TerminalErrors');
  if (alarm === undefined) throw new Error('the template has no TerminalErrors alarm');
  const dims = alarm.Properties!.Dimensions as { Name: string; Value: string }[];
  return { namespace: String(alarm.Properties!.Namespace), dimensions: Object.fromEntries(dims.map((d) => [d.Name, d.Value])) };
}

/** The function's template environment, resolved to the local stand-ins (see the file comment). */
function localEnvironment(fn: SynthFunction): Record<string, string> {
  const env = resolveEnvironment(fn, (logicalId) => {
    const queue = queueUrls.get(logicalId);
    if (queue !== undefined) return queue;
    const type = assembly.template.Resources[logicalId]?.Type;
    return type === 'AWS::SecretsManager::Secret' ? `local-secret:${logicalId}` : undefined;
  });
  for (const [key, value] of Object.entries(env)) {
    if (!value.startsWith('local-secret:')) continue;
    delete env[key];
    if (key === 'DAEMONLESS_WEBHOOK_SECRET_ARN') {
      env.DAEMONLESS_WEBHOOK_SECRET = TOKEN;
    } else if (key === 'DAEMONLESS_KUBECONFIG_SECRET_ARN') {
      expect(env.DAEMONLESS_CLUSTER_AUTH).toBe('secret');
      env.DAEMONLESS_CLUSTER_AUTH = 'kubeconfig';
      env.DAEMONLESS_KUBECONFIG = plane.controllerKubeconfig;
    } else {
      throw new Error(`${fn.logicalId}: no local alternative for the secret in ${key}`);
    }
    substituted.push(`${fn.logicalId}.${key}`);
  }
  env.AWS_ENDPOINT_URL_SQS = sqs.endpoint;
  return env;
}

beforeAll(async () => {
  // 1. The artifact: cdk synth with real bundling, as `npm run synth` does.
  outDir = mkdtempSync(join(tmpdir(), 'daemonless-artifact-'));
  const started = performance.now();
  const synth = spawnSync('npx', ['cdk', 'synth', '--no-notices', '--quiet', '-o', outDir], {
    cwd: PROJECT_ROOT, env: offlineEnv(), encoding: 'utf8', timeout: 280_000,
  });
  synthSeconds = (performance.now() - started) / 1000;
  if (synth.status !== 0) throw new Error(`cdk synth failed (${synth.status}):\n${synth.stdout}\n${synth.stderr}`);
  assembly = readCloudAssembly(outDir, STACK);

  // 2. The queues, with the template's attributes; dead-letter queues first.
  sqs = await startSqsServer();
  client = sqsClient(sqs.endpoint);
  const ordered = [...assembly.queues].sort((a, b) => Number(a.deadLetterQueue !== undefined) - Number(b.deadLetterQueue !== undefined));
  for (const q of ordered) {
    const attributes: Record<string, string> = { ...q.attributes };
    if (q.deadLetterQueue !== undefined) {
      attributes.RedrivePolicy = JSON.stringify({ deadLetterTargetArn: queueArns.get(q.deadLetterQueue.logicalId), maxReceiveCount: q.deadLetterQueue.maxReceiveCount });
    }
    const created = await client.send(new CreateQueueCommand({ QueueName: `${q.logicalId}-${RUN}${q.fifo ? '.fifo' : ''}`, Attributes: attributes }));
    const arn = (await client.send(new GetQueueAttributesCommand({ QueueUrl: created.QueueUrl, AttributeNames: ['QueueArn'] }))).Attributes?.QueueArn;
    queueUrls.set(q.logicalId, created.QueueUrl!);
    queueArns.set(q.logicalId, arn!);
  }

  // 3. The functions, each with its template environment, and their event sources.
  for (const f of assembly.functions) {
    functions.set(f.logicalId, new LocalFunction({
      name: `${STACK}-${f.logicalId}`, codeDir: f.codeDir, handler: f.handler, environment: localEnvironment(f),
      timeoutSeconds: f.timeoutSeconds, memoryMb: f.memoryMb, region: REGION,
    }, { node: NODE24, maxEnvironments: f.reservedConcurrency ?? 1000 }));
  }
  for (const es of assembly.eventSources) {
    sources.push(startSqsEventSource({
      client, queueUrl: queueUrls.get(es.queueLogicalId)!, queueArn: queueArns.get(es.queueLogicalId)!, fn: functions.get(es.functionLogicalId)!,
      batchSize: es.batchSize, batchingWindowSeconds: es.batchingWindowSeconds, maxConcurrency: es.maxConcurrency,
      reportBatchItemFailures: es.reportBatchItemFailures,
    }));
  }

  // 4. The webhook bundle behind a Function URL, registered with the shipped webhook configuration.
  const webhook = fnByPrefix('ControllerWebhookFunction').local;
  const tls = makeServingCert();
  url = await startFunctionUrl(async (event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> => {
    const r = await webhook.invoke(event);
    if (!r.ok) throw new Error(`${r.error.errorType}: ${r.error.errorMessage}`);
    return r.payload as APIGatewayProxyStructuredResultV2;
  }, tls);
  await applyObject(kubectl, buildWebhookConfiguration({ managedResource: 'native', url: `${url.url}/hook/${TOKEN}`, caBundle: tls.caBundle }));
  await untilWebhookCalled(
    () => kubectl(['create', '--dry-run=server', '-o', 'name', '-f', '-'], JSON.stringify(nodeObject({ name: `artifact-probe-${RUN}` }))),
    () => url.calls.length, 60_000);
}, 600_000);

afterAll(async () => {
  await deleteWebhookConfiguration(kubectl, 'daemonless-events');
  await kubectl(['delete', 'ds', 'nginx-ds', '-n', 'default', '--ignore-not-found', '--wait=false'], undefined, true);
  await deleteNamespace(RESTRICTED_NS);
  await deleteNodes(admin, DEMO_NODES.map((n) => n.name)).catch(() => undefined);
  await Promise.all(sources.map((s) => s.stop()));
  await Promise.all([...functions.values()].map((f) => f.stop()));
  await url?.close();
  await sqs?.stop();
  if (outDir !== undefined) rmSync(outDir, { recursive: true, force: true });
});

describe('the synthesized artifact, run as Lambda runs it', () => {
  it('is three bundles on the Node 24 runtime, started from the cdk.out asset directories', () => {
    expect(assembly.functions).toHaveLength(3);
    const node = spawnSync(NODE24, ['--version'], { encoding: 'utf8' }).stdout.trim();
    for (const f of assembly.functions) {
      expect(f.runtime).toBe('nodejs24.x');
      expect(node.startsWith('v24.')).toBe(true);
      expect(f.codeDir.startsWith(outDir)).toBe(true);
      expect(f.handler).toBe('index.handler');
      console.info(`${f.logicalId}: ${(statSync(join(f.codeDir, 'index.mjs')).size / 1024).toFixed(0)} KiB bundle`);
    }
    console.info(`cdk synth with bundling: ${synthSeconds.toFixed(1)} s`);
    // Only the two Secrets Manager references needed a local alternative.
    expect(substituted.sort()).toEqual([
      `${fnByPrefix('ControllerReconcileFunction').synth.logicalId}.DAEMONLESS_KUBECONFIG_SECRET_ARN`,
      `${fnByPrefix('ControllerResyncFunction').synth.logicalId}.DAEMONLESS_KUBECONFIG_SECRET_ARN`,
      `${fnByPrefix('ControllerWebhookFunction').synth.logicalId}.DAEMONLESS_WEBHOOK_SECRET_ARN`,
    ].sort());
    // The FIFO source as the template sets it: batches of 10, no window, report item failures.
    const fifo = assembly.eventSources.find((e) => assembly.queues.find((q) => q.logicalId === e.queueLogicalId)?.fifo);
    expect(fifo).toMatchObject({ batchSize: 10, batchingWindowSeconds: 0, reportBatchItemFailures: true });
  });

  it('converges the seed demo: nginx-ds on five nodes with a tainted master → four pods, one per worker', async () => {
    const started = performance.now();
    await createReadyNodes(admin, DEMO_NODES);
    await kubectl(['apply', '-f', fileURLToPath(DEMO_MANIFEST)]);
    const pods = await eventually(async () => {
      const ps = await livePods('default', 'k8s-app=nginx');
      expect(ps.filter(isPodReady)).toHaveLength(4);
      return ps;
    }, { timeoutMs: 120_000, what: 'four Running nginx pods, created by the bundles' });
    expect(pods.map(podNode).sort()).toEqual([...DEMO_WORKERS]);
    await eventually(async () => {
      const r = await kubectl(['get', 'ds', 'nginx-ds', '--no-headers']);
      expect(r.stdout.trim().split(/\s+/).slice(0, 6)).toEqual(['nginx-ds', '4', '4', '4', '4', '4']);
    }, { timeoutMs: 60_000, what: 'DaemonSet status 4/4/4/4/4' });
    console.info(`seed demo converged through the artifacts in ${((performance.now() - started) / 1000).toFixed(1)} s`);

    // It went the deployed way: cluster events → webhook bundle → queue → reconcile bundle.
    const webhook = fnByPrefix('ControllerWebhookFunction').local;
    const reconcile = fnByPrefix('ControllerReconcileFunction').local;
    expect(url.calls.length).toBeGreaterThan(0);
    const failed = (fn: LocalFunction): InvokeResult[] => fn.invocations.map((i) => i.result).filter((r) => !r.ok);
    expect(failed(webhook)).toEqual([]);
    expect(url.calls.filter((c) => c.result.statusCode !== 200).map((c) => `${c.result.statusCode}: ${c.result.body}`)).toEqual([]);
    expect(failed(reconcile)).toEqual([]);
    expect(reconcile.invocations.length).toBeGreaterThan(0);
    expect(sources.reduce((n, s) => n + s.stats.failedRecords + s.stats.functionErrors, 0)).toBe(0);
    // The metrics the reconcile bundle published are the ones the stack's alarm and dashboard read.
    const { namespace, dimensions } = alarmMetric();
    expect(namespace).toBe(`daemonless/${STACK}`);
    expect(emfSum(reconcile.emf(), namespace, 'PodsCreated', dimensions)).toBe(4);
    expect(emfSum(reconcile.emf(), namespace, 'Reconciles', dimensions)).toBeGreaterThan(0);
    expect(emfSum(webhook.emf(), namespace, 'WebhookRequests', dimensions)).toBeGreaterThan(0);
    for (const q of assembly.queues.filter((x) => x.deadLetterQueue === undefined && assembly.queues.some((y) => y.deadLetterQueue?.logicalId === x.logicalId))) {
      expect(await queueDepth(client, queueUrls.get(q.logicalId)!)).toBe(0);
    }
    console.info(`webhook: ${webhook.invocations.length} invocations, ${webhook.coldStarts} environments; ` +
      `reconcile: ${reconcile.invocations.length} invocations, ${reconcile.coldStarts} environments`);
  });

  it('resyncs with the schedule\'s input: the resync bundle enqueues every DaemonSet', async () => {
    const { local: resync, synth } = fnByPrefix('ControllerResyncFunction');
    const schedule = assembly.schedules.find((s) => s.functionLogicalId === synth.logicalId);
    expect(schedule?.expression).toBe('rate(5 minutes)');
    const input = JSON.parse(schedule!.input.replace('<aws.scheduler.scheduled-time>', new Date().toISOString())) as unknown;
    const r = await resync.invoke(input);
    expect(r.ok, JSON.stringify(r)).toBe(true);
    expect((r as { payload: { keys: number } }).payload.keys).toBeGreaterThanOrEqual(1);
    const { namespace, dimensions } = alarmMetric();
    expect(emfSum(resync.emf(), namespace, 'ResyncKeys', dimensions)).toBeGreaterThanOrEqual(1);
  });

  it('counts a terminal failure (a pod Pod Security rejects) where the stack\'s alarm looks', async () => {
    await kubectl(['create', 'namespace', RESTRICTED_NS]);
    await kubectl(['label', 'namespace', RESTRICTED_NS, 'pod-security.kubernetes.io/enforce=restricted']);
    await kubectl(['apply', '-f', '-'], daemonSetYaml({ name: 'privileged', namespace: RESTRICTED_NS }));
    const reconcile = fnByPrefix('ControllerReconcileFunction').local;
    const { namespace, dimensions } = alarmMetric();
    await eventually(() => expect(emfSum(reconcile.emf(), namespace, 'TerminalErrors', dimensions)).toBeGreaterThanOrEqual(1),
      { timeoutMs: 60_000, what: 'a TerminalErrors metric from the reconcile bundle' });
    const events = await kubectl(['get', 'events', '-n', RESTRICTED_NS, '--field-selector', 'reason=ReconcileFailed', '-o', 'name']);
    expect(events.stdout.trim()).not.toBe('');
  });
});
