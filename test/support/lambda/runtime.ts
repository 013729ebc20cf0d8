/**
 * Lambda functions run locally the way the service runs them: each execution environment is its own
 * Node process (test/support/lambda/bootstrap.mjs, a minimal runtime client) that loads the bundle
 * once and takes one invocation at a time over the Lambda Runtime API, which this module serves on a
 * loopback port per environment. Environments start on demand (a cold start when every one is busy)
 * up to `maxEnvironments`, are reused while warm, and are killed when an invocation exceeds the
 * function's timeout, as Lambda does.
 *
 * What differs from AWS: no memory limit is enforced (AWS sizes CPU and memory by MemorySize), no init
 * time limit (the timeout counts from the invocation, as on AWS; AWS also caps init at 10 s), no
 * freeze between invocations, the environment variables Lambda sets are set by hand, and the X-Ray
 * trace header always says "not sampled" (nothing is sent to a daemon).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';

const BOOTSTRAP = fileURLToPath(new URL('./bootstrap.mjs', import.meta.url));

export interface FunctionSpec {
  /** The function name (AWS_LAMBDA_FUNCTION_NAME). */
  readonly name: string;
  /** The unzipped code (LAMBDA_TASK_ROOT): a cdk.out asset directory. */
  readonly codeDir: string;
  /** `module.export`, e.g. `index.handler`. */
  readonly handler: string;
  /** The function's environment variables, as the template gives them (resolved). */
  readonly environment: Readonly<Record<string, string>>;
  readonly timeoutSeconds: number;
  readonly memoryMb: number;
  readonly region: string;
}

export type InvokeResult =
  | { readonly ok: true; readonly payload: unknown; readonly coldStart: boolean; readonly ms: number }
  | { readonly ok: false; readonly error: { errorType: string; errorMessage: string }; readonly coldStart: boolean; readonly ms: number };

export interface LogLine { readonly fn: string; readonly env: number; readonly stream: 'stdout' | 'stderr'; readonly line: string }

interface Pending {
  readonly id: string;
  readonly event: unknown;
  /** Set when the runtime client takes the invocation: the timeout counts from there, not from init. */
  deadline: number;
  /** Starts the timeout clock. */
  readonly start: () => void;
  readonly resolve: (r: { ok: true; payload: unknown } | { ok: false; error: { errorType: string; errorMessage: string } }) => void;
}

/** One execution environment: a runtime API server and the process that polls it. */
class ExecutionEnvironment {
  private server!: Server;
  private child!: ChildProcess;
  private waiting: ServerResponse | null = null;
  private current: Pending | null = null;
  private queued: Pending | null = null;
  private initError: string | null = null;
  private exited = false;
  busy = false;
  dead = false;

  constructor(private readonly spec: FunctionSpec, readonly index: number, private readonly node: string, private readonly onLog: (l: LogLine) => void) {}

  async start(): Promise<void> {
    this.server = createServer((req, res) => { void this.route(req, res); });
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => resolve());
    });
    const { port } = this.server.address() as AddressInfo;
    const s = this.spec;
    const stream = `${new Date().toISOString().slice(0, 10).replaceAll('-', '/')}/[$LATEST]${randomBytes(16).toString('hex')}`;
    this.child = spawn(this.node, [...(s.environment.NODE_OPTIONS ?? '').split(/\s+/).filter(Boolean), BOOTSTRAP], {
      cwd: s.codeDir,
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        LANG: 'en_US.UTF-8',
        TZ: ':UTC',
        ...s.environment,
        NODE_OPTIONS: '', // given on the command line above, so that it applies to this process only
        AWS_LAMBDA_RUNTIME_API: `127.0.0.1:${port}`,
        LAMBDA_TASK_ROOT: s.codeDir,
        LAMBDA_RUNTIME_DIR: s.codeDir,
        _HANDLER: s.handler,
        AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x',
        AWS_LAMBDA_FUNCTION_NAME: s.name,
        AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(s.memoryMb),
        AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${s.name}`,
        AWS_LAMBDA_LOG_STREAM_NAME: stream,
        AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
        AWS_REGION: s.region,
        AWS_DEFAULT_REGION: s.region,
        // The execution role's credentials; the local SQS server accepts any.
        AWS_ACCESS_KEY_ID: 'ASIALOCALTEST',
        AWS_SECRET_ACCESS_KEY: 'local-test-secret',
        AWS_SESSION_TOKEN: 'local-test-session',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    for (const name of ['stdout', 'stderr'] as const) {
      let rest = '';
      this.child[name]?.on('data', (b: Buffer) => {
        const lines = (rest + b.toString('utf8')).split('\n');
        rest = lines.pop() ?? '';
        for (const line of lines) this.onLog({ fn: s.name, env: this.index, stream: name, line });
      });
    }
    this.child.once('exit', (code, signal) => {
      this.exited = true;
      this.dead = true;
      const pending = this.current ?? this.queued;
      this.current = null;
      this.queued = null;
      pending?.resolve({ ok: false, error: { errorType: 'Runtime.ExitError', errorMessage: this.initError ?? `RequestId: ${pending.id} Error: Runtime exited with ${code ?? signal}` } });
    });
  }

  /** Runs one invocation in this (idle) environment. */
  invoke(event: unknown): Promise<{ ok: true; payload: unknown } | { ok: false; error: { errorType: string; errorMessage: string } }> {
    this.busy = true;
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const done: Pending['resolve'] = (r) => {
        clearTimeout(timer);
        this.busy = false;
        resolve(r);
      };
      const pending: Pending = {
        id: randomUUID(), event, deadline: 0, resolve: done,
        start: () => {
          pending.deadline = Date.now() + this.spec.timeoutSeconds * 1000;
          timer = setTimeout(() => {
            // Lambda stops an environment whose invocation runs past the timeout.
            this.dead = true;
            this.current = null;
            this.child.kill('SIGKILL');
            done({ ok: false, error: { errorType: 'Sandbox.Timedout', errorMessage: `Task timed out after ${this.spec.timeoutSeconds.toFixed(2)} seconds` } });
          }, this.spec.timeoutSeconds * 1000);
        },
      };
      if (this.waiting !== null) this.deliver(pending, this.waiting);
      else this.queued = pending;
    });
  }

  private deliver(p: Pending, res: ServerResponse): void {
    this.waiting = null;
    this.current = p;
    p.start();
    const root = randomBytes(12).toString('hex');
    res.writeHead(200, {
      'content-type': 'application/json',
      'lambda-runtime-aws-request-id': p.id,
      'lambda-runtime-deadline-ms': String(p.deadline),
      'lambda-runtime-invoked-function-arn': `arn:aws:lambda:${this.spec.region}:000000000000:function:${this.spec.name}`,
      'lambda-runtime-trace-id': `Root=1-${Math.floor(Date.now() / 1000).toString(16)}-${root};Parent=${randomBytes(8).toString('hex')};Sampled=0;Lineage=1:${randomBytes(4).toString('hex')}:0`,
    });
    res.end(JSON.stringify(p.event));
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req as AsyncIterable<Buffer>) chunks.push(c);
    const body = Buffer.concat(chunks).toString('utf8');
    const path = req.url ?? '';
    if (req.method === 'GET' && path === '/2018-06-01/runtime/invocation/next') {
      if (this.queued !== null) {
        const p = this.queued;
        this.queued = null;
        this.deliver(p, res);
      } else {
        this.waiting = res;
      }
      return;
    }
    const m = /^\/2018-06-01\/runtime\/invocation\/([^/]+)\/(response|error)$/.exec(path);
    if (req.method === 'POST' && m !== null) {
      const p = this.current;
      res.writeHead(202).end('{"status":"OK"}');
      if (p === null || p.id !== m[1]) return;
      this.current = null;
      if (m[2] === 'response') p.resolve({ ok: true, payload: body === '' ? null : JSON.parse(body) });
      else p.resolve({ ok: false, error: JSON.parse(body) as { errorType: string; errorMessage: string } });
      return;
    }
    if (req.method === 'POST' && path === '/2018-06-01/runtime/init/error') {
      this.initError = body;
      res.writeHead(202).end('{"status":"OK"}');
      return;
    }
    res.writeHead(404).end();
  }

  async stop(): Promise<void> {
    this.dead = true;
    if (!this.exited) {
      const exit = new Promise<void>((r) => this.child.once('exit', () => r()));
      this.child.kill('SIGTERM');
      const killer = setTimeout(() => this.child.kill('SIGKILL'), 3000);
      await exit;
      clearTimeout(killer);
    }
    this.waiting?.destroy();
    await new Promise<void>((r) => {
      this.server.close(() => r());
      this.server.closeAllConnections();
    });
  }
}

/** A function: a pool of execution environments of one bundle and one environment. */
export class LocalFunction {
  private readonly environments: ExecutionEnvironment[] = [];
  private created = 0;
  private readonly waiters: Array<() => void> = [];
  readonly invocations: { readonly event: unknown; readonly result: InvokeResult }[] = [];
  readonly logs: LogLine[] = [];

  constructor(
    readonly spec: FunctionSpec,
    private readonly o: { readonly node: string; readonly maxEnvironments: number; readonly onLog?: (l: LogLine) => void },
  ) {}

  /** Environments started so far (cold starts). */
  get coldStarts(): number { return this.created; }

  async invoke(event: unknown): Promise<InvokeResult> {
    const started = Date.now();
    let env = this.environments.find((e) => !e.busy && !e.dead);
    let coldStart = false;
    while (env === undefined) {
      if (this.environments.filter((e) => !e.dead).length < this.o.maxEnvironments) {
        coldStart = true;
        this.created += 1;
        env = new ExecutionEnvironment(this.spec, this.created, this.o.node, (l) => { this.logs.push(l); this.o.onLog?.(l); });
        env.busy = true;
        this.environments.push(env);
        await env.start();
      } else {
        await new Promise<void>((r) => this.waiters.push(r));
        env = this.environments.find((e) => !e.busy && !e.dead);
      }
    }
    env.busy = true;
    const r = await env.invoke(event);
    if (env.dead) this.environments.splice(this.environments.indexOf(env), 1);
    this.waiters.shift()?.();
    const result: InvokeResult = r.ok ? { ...r, coldStart, ms: Date.now() - started } : { ...r, coldStart, ms: Date.now() - started };
    this.invocations.push({ event, result });
    return result;
  }

  /** The CloudWatch EMF documents the function printed (Powertools Metrics). */
  emf(): EmfDocument[] {
    return this.logs.flatMap((l) => {
      if (!l.line.startsWith('{') || !l.line.includes('"_aws"')) return [];
      try {
        return [JSON.parse(l.line) as EmfDocument];
      } catch {
        return [];
      }
    });
  }

  async stop(): Promise<void> {
    await Promise.all(this.environments.splice(0).map((e) => e.stop()));
  }
}

export interface EmfDocument {
  readonly _aws: { readonly CloudWatchMetrics: readonly { Namespace: string; Dimensions: string[][]; Metrics: { Name: string; Unit?: string }[] }[] };
  readonly [key: string]: unknown;
}

/** Sum of one metric over EMF documents, for the given namespace and exact dimension values. */
export function emfSum(docs: readonly EmfDocument[], namespace: string, metric: string, dimensions: Readonly<Record<string, string>>): number {
  let sum = 0;
  for (const d of docs) {
    for (const directive of d._aws.CloudWatchMetrics) {
      if (directive.Namespace !== namespace || !directive.Metrics.some((m) => m.Name === metric)) continue;
      const keys = Object.keys(dimensions).sort().join(',');
      if (!directive.Dimensions.some((set) => [...set].sort().join(',') === keys && set.every((k) => d[k] === dimensions[k]))) continue;
      const v = d[metric];
      sum += Array.isArray(v) ? v.reduce((a: number, b) => a + Number(b), 0) : Number(v ?? 0);
    }
  }
  return sum;
}
