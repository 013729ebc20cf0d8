/**
 * A real SQS-compatible server for integration tests: ElasticMQ 1.7.1 (test-harness.md §6.1) on
 * 127.0.0.1 with a free port, started from the jars in
 * `$HOME/.cache/daemonless/elasticmq/1.7.1/lib` (fetched with Maven when missing).
 *
 * Queues from test/harness/elasticmq/elasticmq.conf.template: `daemonless.fifo` (FIFO, DLQ
 * `daemonless-dlq.fifo` after 3 receives, visibility 5 s) and `daemonless-delay` (standard).
 * Tests that need isolation create their own queues with `CreateQueue`.
 *
 * There is no fallback: without Java or the jars this module throws, loudly.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient, type Message } from '@aws-sdk/client-sqs';

export const ELASTICMQ_VERSION = '1.7.1';
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const HARNESS = join(ROOT, 'test/harness/elasticmq');
const CACHE = join(homedir(), '.cache/daemonless');
const LIB = join(CACHE, 'elasticmq', ELASTICMQ_VERSION, 'lib');

export interface SqsServer {
  /** `http://127.0.0.1:<port>` */
  readonly endpoint: string;
  /** Queue URL of a queue defined in the configuration (or created later). */
  queueUrl(name: string): string;
  stop(): Promise<void>;
}

/** An SQS client for the server: loopback endpoint, dummy credentials. */
export function sqsClient(endpoint: string): SQSClient {
  return new SQSClient({ region: 'us-east-1', endpoint, credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 2 });
}

function ensureJava(): void {
  const probe = spawnSync('java', ['-version'], { encoding: 'utf8' });
  if (probe.error !== undefined || probe.status !== 0) {
    throw new Error(`ElasticMQ needs Java (17+) on PATH: \`java -version\` failed (${probe.error?.message ?? probe.stderr}). Install openjdk-17-jre-headless.`);
  }
}

function ensureJars(): void {
  const present = (): boolean => existsSync(LIB) && readdirSync(LIB).some((f) => f.startsWith(`elasticmq-server_2.13-${ELASTICMQ_VERSION}`));
  if (present()) return;
  const args = ['-q', '-B', '-f', join(HARNESS, 'pom.xml'), 'dependency:copy-dependencies', `-DoutputDirectory=${LIB}`, '-DincludeScope=runtime', `-Dmaven.repo.local=${join(CACHE, 'm2')}`];
  const mvn = spawnSync('mvn', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (mvn.error !== undefined || mvn.status !== 0 || !present()) {
    throw new Error(`ElasticMQ ${ELASTICMQ_VERSION} jars are missing from ${LIB} and \`mvn ${args.join(' ')}\` did not fetch them: ${mvn.error?.message ?? ''}${mvn.stdout ?? ''}${mvn.stderr ?? ''}`);
  }
}

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => res(port));
    });
  });
}

async function ready(endpoint: string): Promise<boolean> {
  try {
    const res = await fetch(endpoint, { method: 'POST', headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'AmazonSQS.ListQueues' }, body: '{}', signal: AbortSignal.timeout(2000) });
    return res.ok;
  } catch {
    return false;
  }
}

export async function startSqsServer(options: { startTimeoutMs?: number } = {}): Promise<SqsServer> {
  ensureJava();
  ensureJars();
  const port = await freePort();
  const runDir = join(HARNESS, 'run');
  mkdirSync(runDir, { recursive: true });
  const configFile = join(runDir, `elasticmq-${port}.conf`);
  writeFileSync(configFile, readFileSync(join(HARNESS, 'elasticmq.conf.template'), 'utf8').replaceAll('@PORT@', String(port)));
  const endpoint = `http://127.0.0.1:${port}`;

  const output: string[] = [];
  const child: ChildProcess = spawn('java', ['-Xmx256m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', `-Dconfig.file=${configFile}`, '-cp', `${LIB}/*`, 'org.elasticmq.server.Main'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const keep = (b: Buffer): void => { output.push(b.toString('utf8')); if (output.length > 200) output.shift(); };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let exited: number | null = null;
  const exit = new Promise<void>((r) => child.once('exit', (code) => { exited = code ?? -1; r(); }));

  const stop = async (): Promise<void> => {
    if (exited === null) {
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exit;
      clearTimeout(killer);
    }
    rmSync(configFile, { force: true });
  };

  const deadline = Date.now() + (options.startTimeoutMs ?? 90_000);
  while (!(await ready(endpoint))) {
    if (exited !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`ElasticMQ did not start on ${endpoint} (${exited !== null ? `exited with ${String(exited)}` : 'timeout'}):\n${output.join('')}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return { endpoint, queueUrl: (name) => `${endpoint}/000000000000/${name}`, stop };
}

let seq = 0;

/** A fresh FIFO queue (and its FIFO DLQ) plus a standard delay queue, with unique names. */
export async function createQueues(client: SQSClient, o: { maxReceiveCount?: number; visibilityTimeout?: number } = {}) {
  seq += 1;
  const base = `t${process.pid}-${seq}`;
  const dlq = await client.send(new CreateQueueCommand({ QueueName: `${base}-dlq.fifo`, Attributes: { FifoQueue: 'true' } }));
  const dlqArn = (await client.send(new GetQueueAttributesCommand({ QueueUrl: dlq.QueueUrl, AttributeNames: ['QueueArn'] }))).Attributes?.QueueArn;
  const fifo = await client.send(new CreateQueueCommand({
    QueueName: `${base}.fifo`,
    Attributes: {
      FifoQueue: 'true',
      VisibilityTimeout: String(o.visibilityTimeout ?? 30),
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: o.maxReceiveCount ?? 3 }),
    },
  }));
  const delay = await client.send(new CreateQueueCommand({ QueueName: `${base}-delay`, Attributes: { VisibilityTimeout: '5' } }));
  return { fifoUrl: fifo.QueueUrl!, dlqUrl: dlq.QueueUrl!, delayUrl: delay.QueueUrl! };
}

/** Receives until `count` messages arrived or the time is up (messages are not deleted). */
export async function receiveAll(client: SQSClient, queueUrl: string, o: { count: number; timeoutMs?: number; visibilityTimeout?: number; deleteWith?: (m: Message) => Promise<void> }): Promise<Message[]> {
  const out: Message[] = [];
  const deadline = Date.now() + (o.timeoutMs ?? 10_000);
  while (out.length < o.count && Date.now() < deadline) {
    const res = await client.send(new ReceiveMessageCommand({
      QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, VisibilityTimeout: o.visibilityTimeout ?? 30,
      MessageSystemAttributeNames: ['MessageGroupId', 'MessageDeduplicationId', 'ApproximateReceiveCount'],
    }));
    for (const m of res.Messages ?? []) {
      out.push(m);
      if (o.deleteWith !== undefined) await o.deleteWith(m);
    }
  }
  return out;
}
