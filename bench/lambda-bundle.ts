/**
 * Lambda bundles: each handler bundled with esbuild exactly as the CDK stack bundles it
 * (infra/constructs/controller-function.ts + defaults.ts: ESM, node24, minified with class names
 * kept, a source map without the sources' text, createRequire banner, mainFields module,main, the
 * AWS SDK bundled, the aliases of ESBUILD_ALIAS: undici left out, node:http through a CommonJS
 * shim), its size, what dominates it
 * (metafile), and its cold init: a fresh Node process that imports the bundle and makes the first
 * invocation — which builds the composition root from `process.env` (dummy EKS values, no
 * network: nothing is sent for an empty SQS batch, an unauthenticated webhook request, and the
 * resync's API call goes to a closed loopback port).
 *
 * Prototypes (measured, not applied; infra/ is unchanged): the AWS SDK external (the runtime's),
 * and no source map.
 *
 *   npx tsx bench/lambda-bundle.ts [--runs 7] [--quick]
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type BuildOptions, type Metafile } from 'esbuild';
import { ESBUILD_ALIAS, ESBUILD_SOURCES_CONTENT, ESBUILD_TARGET, ESM_REQUIRE_BANNER } from '../infra/constructs/defaults.js';
import { parseFlags, percentile } from './lib/args.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** Inside the repository (under node_modules, which lint and git ignore), so that externals resolve. */
const outRoot = join(root, 'node_modules/.cache/daemonless-bench');

export const HANDLERS = ['webhook', 'reconcile', 'resync'] as const;
export type HandlerName = (typeof HANDLERS)[number];

export interface Variant {
  readonly name: string;
  readonly description: string;
  readonly options: Partial<BuildOptions>;
}

/** The CDK stack's options (bundling props of ControllerFunction → esbuild flags of aws-lambda-nodejs). */
export const STACK_OPTIONS: BuildOptions = {
  bundle: true,
  platform: 'node',
  target: ESBUILD_TARGET,
  format: 'esm',
  minify: true,
  keepNames: true,
  sourcemap: true,
  sourcesContent: ESBUILD_SOURCES_CONTENT,
  banner: { js: ESM_REQUIRE_BANNER },
  mainFields: ['module', 'main'],
  alias: { ...ESBUILD_ALIAS },
  external: [],
  logLevel: 'warning',
};

export const VARIANTS: readonly Variant[] = [
  { name: 'stack', description: 'as the CDK stack bundles (SDK bundled, minified, source map)', options: {} },
  { name: 'sdk-external', description: '`@aws-sdk/*` external (bundleAwsSDK: false; the nodejs24.x runtime ships SDK v3)', options: { external: ['@aws-sdk/*'] } },
  { name: 'no-sourcemap', description: 'as the stack, without the source map file', options: { sourcemap: false } },
];

/** The heaviest dependencies, measured one by one (with the stack's options: undici is aliased away, see ESBUILD_ALIAS). */
export const PACKAGES = ['@kubernetes/client-node', 'zod', '@aws-sdk/client-sqs', '@aws-sdk/client-secrets-manager', '@aws-lambda-powertools/tracer', '@aws-lambda-powertools/logger', '@middy/core'] as const;

export interface BundleMeasure {
  readonly handler: HandlerName;
  readonly variant: string;
  readonly bytes: number;
  readonly sourceMapBytes: number;
  /** Median of `runs` fresh processes. */
  readonly loadMs: number;
  readonly firstInvokeMs: number;
  readonly initMs: number;
  readonly initP90Ms: number;
  /** How the first invocation ended (an error is expected where it reaches for the network). */
  readonly outcome: string;
  /** Largest contributors to the output (bytes in the minified bundle), by package. */
  readonly topPackages: { readonly name: string; readonly bytes: number }[];
}

/** One dependency bundled alone with the stack's options: its size and load time (what it adds to a cold start). */
export interface PackageCost {
  readonly name: string;
  readonly bytes: number;
  readonly loadMs: number;
}

export interface BundleResult {
  readonly nodeBaselineMs: number;
  readonly packages: PackageCost[];
  readonly runs: number;
  readonly measures: BundleMeasure[];
}

function packageOf(input: string): string {
  const i = input.lastIndexOf('node_modules/');
  if (i < 0) return input.startsWith('lib/') || input.startsWith('lambdas/') ? '(project: lib/, lambdas/)' : input;
  const rest = input.slice(i + 'node_modules/'.length).split('/');
  return rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1]}` : (rest[0] ?? input);
}

function topPackages(meta: Metafile, limit = 10): { name: string; bytes: number }[] {
  const byPkg = new Map<string, number>();
  for (const out of Object.values(meta.outputs)) {
    for (const [input, info] of Object.entries(out.inputs)) byPkg.set(packageOf(input), (byPkg.get(packageOf(input)) ?? 0) + info.bytesInOutput);
  }
  return [...byPkg.entries()].sort((a, b) => b[1] - a[1]).slice(0, limit).map(([name, bytes]) => ({ name, bytes }));
}

const PROBE = `
const t0 = performance.now();
const m = await import(process.argv[2]);
const t1 = performance.now();
const name = process.argv[3];
const context = { functionName: 'daemonless-' + name, functionVersion: '$LATEST', invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:daemonless-' + name,
  memoryLimitInMB: '512', awsRequestId: 'bench', logGroupName: '/aws/lambda/x', logStreamName: 'x', callbackWaitsForEmptyEventLoop: true,
  getRemainingTimeInMillis: () => 60000, done() {}, fail() {}, succeed() {} };
const events = {
  webhook: { version: '2.0', routeKey: '$default', rawPath: '/hook/nope', rawQueryString: '', headers: { 'content-type': 'application/json' },
    requestContext: { http: { method: 'POST', path: '/hook/nope', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'bench' }, requestId: 'r', routeKey: '$default', stage: '$default', time: '', timeEpoch: 0, accountId: '1', apiId: 'a', domainName: 'd', domainPrefix: 'd' },
    body: '{}', isBase64Encoded: false },
  reconcile: { Records: [] },
  resync: { source: 'daemonless.resync', scheduledTime: new Date().toISOString() },
};
let outcome = 'ok';
try { await m.handler(events[name], context); } catch (e) { outcome = String(e && e.name || e); }
const t2 = performance.now();
console.error(JSON.stringify({ probe: { start: t0, load: t1 - t0, invoke: t2 - t1, outcome } }));
process.exit(0);
`;

const DUMMY_ENV: Record<string, string> = {
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE',
  AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
  AWS_SESSION_TOKEN: 'dummy',
  AWS_LAMBDA_FUNCTION_NAME: 'daemonless-bench',
  POWERTOOLS_SERVICE_NAME: 'daemonless',
  POWERTOOLS_METRICS_NAMESPACE: 'daemonless',
  POWERTOOLS_TRACE_DISABLED: 'true',
  NODE_OPTIONS: '--enable-source-maps',
  DAEMONLESS_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/daemonless.fifo',
  DAEMONLESS_DELAY_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/daemonless-delay',
  DAEMONLESS_WEBHOOK_SECRET: 'bench-webhook-secret-0123456789abcdef',
  DAEMONLESS_CLUSTER_AUTH: 'eks',
  DAEMONLESS_EKS_CLUSTER_NAME: 'bench',
  DAEMONLESS_EKS_ENDPOINT: 'https://127.0.0.1:1',
  DAEMONLESS_EKS_CA_DATA: Buffer.from('dummy-ca').toString('base64'),
  DAEMONLESS_REGION: 'us-east-1',
};

function nodeBinary(): string {
  return join(root, 'node_modules/.bin/node');
}

/** Runs the probe in a fresh process; its result line is on stderr (Powertools logs go to stdout). */
function probe(bundle: string, handler: string, env: Record<string, string>): { load: number; invoke: number; start: number; outcome: string } {
  const res = spawnSync(nodeBinary(), [join(outRoot, 'probe.mjs'), bundle, handler], {
    env: { PATH: process.env.PATH ?? '', ...env }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000,
  });
  const line = (res.stderr ?? '').split('\n').find((l) => l.startsWith('{"probe"'));
  if (line === undefined) throw new Error(`probe of ${bundle} failed (exit ${res.status}): ${res.stderr}`);
  return (JSON.parse(line) as { probe: { load: number; invoke: number; start: number; outcome: string } }).probe;
}

export async function runLambdaBundle(options: { runs: number; variants?: readonly string[] }): Promise<BundleResult> {
  rmSync(outRoot, { recursive: true, force: true });
  mkdirSync(outRoot, { recursive: true });
  writeFileSync(join(outRoot, 'probe.mjs'), PROBE);
  writeFileSync(join(outRoot, 'empty.mjs'), 'export const handler = async () => undefined;\n');

  // Baseline: Node startup with an empty handler module.
  const base: number[] = [];
  for (let i = 0; i < options.runs; i += 1) {
    const t0 = performance.now();
    probe(join(outRoot, 'empty.mjs'), 'reconcile', DUMMY_ENV);
    base.push(performance.now() - t0);
  }
  const nodeBaselineMs = Math.round(percentile([...base].sort((a, b) => a - b), 50));

  const measures: BundleMeasure[] = [];
  const variants = VARIANTS.filter((v) => options.variants === undefined || options.variants.includes(v.name));
  for (const variant of variants) {
    for (const handler of HANDLERS) {
      const outfile = join(outRoot, variant.name, handler, 'index.mjs');
      const result = await build({ ...STACK_OPTIONS, ...variant.options, entryPoints: [join(root, `lambdas/${handler}.ts`)], outfile, metafile: true });
      const bytes = statSync(outfile).size;
      let sourceMapBytes = 0;
      try {
        sourceMapBytes = statSync(`${outfile}.map`).size;
      } catch {
        /* no source map */
      }
      const loads: number[] = [];
      const invokes: number[] = [];
      const inits: number[] = [];
      let outcome = '';
      for (let i = 0; i < options.runs; i += 1) {
        const p = probe(outfile, handler, DUMMY_ENV);
        loads.push(p.load);
        invokes.push(p.invoke);
        inits.push(p.load + p.invoke);
        outcome = p.outcome;
      }
      const med = (xs: number[]): number => Math.round(percentile([...xs].sort((a, b) => a - b), 50));
      measures.push({
        handler, variant: variant.name, bytes, sourceMapBytes,
        loadMs: med(loads), firstInvokeMs: med(invokes), initMs: med(inits),
        initP90Ms: Math.round(percentile([...inits].sort((a, b) => a - b), 90)),
        outcome,
        topPackages: topPackages(result.metafile),
      });
    }
  }
  const packages: PackageCost[] = [];
  for (const name of PACKAGES) {
    const dir = join(outRoot, 'packages', name.replace(/[@/]/g, '_'));
    mkdirSync(dir, { recursive: true });
    const entry = join(dir, 'entry.mjs');
    writeFileSync(entry, `import * as m from '${name}';\nexport const handler = async () => Object.keys(m).length;\n`);
    const outfile = join(dir, 'index.mjs');
    await build({ ...STACK_OPTIONS, entryPoints: [entry], outfile, absWorkingDir: root, nodePaths: [join(root, 'node_modules')] });
    const loads: number[] = [];
    for (let i = 0; i < options.runs; i += 1) loads.push(probe(outfile, 'reconcile', DUMMY_ENV).load);
    packages.push({ name, bytes: statSync(outfile).size, loadMs: Math.round(percentile([...loads].sort((a, b) => a - b), 50)) });
  }
  return { nodeBaselineMs, packages, runs: options.runs, measures };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const flags = parseFlags();
  runLambdaBundle({ runs: flags.number('runs', 7, 3) })
    .then((r) => { process.stdout.write(`${JSON.stringify(r, null, 2)}\n`); process.exit(0); },
      (e: unknown) => { process.stderr.write(`lambda-bundle failed: ${e instanceof Error ? e.stack : String(e)}\n`); process.exit(1); });
}
