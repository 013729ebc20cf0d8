/**
 * The `daemonless` command line, with its side effects injected so tests can run it in-process.
 * `main.ts` wires the real process.
 */
import { Command, CommanderError } from 'commander';
import { parseNow, planObjects, planOptionsOf, planSnapshotText, type PlanFlags } from './plan-command.js';
import { hasChanges, renderJson, renderTable, type PlanReport } from './render.js';
import { SnapshotError, type ByteSource, type SnapshotObjects } from './snapshot.js';
import { renderManifests, type ManifestPart, type RenderOptions } from '../manifests/render.js';
import type { RolloutCluster } from '../adapters/kube/rollout-client.js';
import { addRolloutCommands, hoistCommonFlags } from './rollout/rollout-command.js';

/**
 * Reads the live state of the cluster a kubeconfig points at (Nodes, Pods, DaemonSets,
 * ControllerRevisions), read-only. Throws `SnapshotError` for an unusable kubeconfig.
 */
export type ReadLiveSnapshot = (kubeconfigPath: string) => Promise<SnapshotObjects>;

/** A `ReadLiveSnapshot` for builds without a live reader. */
export const liveSnapshotNotSupported: ReadLiveSnapshot = () => Promise.reject(new SnapshotError('--kubeconfig: reading a live cluster is not supported yet'));

/** Everything the CLI touches outside itself. */
export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /**
   * The file's bytes (or text); bytes let `plan` tell binary input from text. A `SnapshotFile`
   * is read piecewise, so a large file is never all in memory; it is closed after the read.
   */
  readonly readFile: (path: string) => Promise<string | Uint8Array | SnapshotFile>;
  readonly readStdin: () => Promise<string | Uint8Array>;
  readonly stdoutIsTty: boolean;
  readonly now: () => Date;
  readonly readLiveSnapshot: ReadLiveSnapshot;
  /** The cluster of `rollout` and `explain` (default: the kubeconfig's, through client-node). */
  readonly connect?: (options: { readonly kubeconfig?: string; readonly context?: string }) => RolloutCluster;
}

/** A file read by position (see `CliIo.readFile`). */
export interface SnapshotFile extends ByteSource {
  close(): void;
}

/**
 * Runs `f` (synchronous, so nothing else runs meanwhile) with `process.env` a plain copy of itself.
 * The yaml library reads `process.env.LOG_TOKENS` for every token it parses, and each read of the
 * real `process.env` is a call into the operating system's environment: a fifth of the time of
 * reading a large YAML snapshot (bench/plan-memory.ts).
 */
function withPlainEnv<T>(f: () => T): T {
  const env = process.env;
  process.env = { ...env };
  try {
    return f();
  } finally {
    process.env = env;
  }
}

interface PlanCliOptions extends PlanFlags {
  readonly file?: string;
  readonly kubeconfig?: string;
  readonly now?: string;
  readonly output?: string;
  readonly exitCode?: boolean;
}

interface ManifestsCliOptions {
  readonly managedResource?: string;
  readonly webhookUrl?: string;
  /** False with `--no-webhook`. */
  readonly webhook: boolean;
  readonly parts?: string;
  readonly controllerUser: readonly string[];
  readonly timeoutSeconds?: string;
}

/**
 * `manifests` flags → render options. The webhook configuration is left out only when asked
 * (`--no-webhook`, or `--parts` without it): without a URL and without that, it is an error.
 */
export function manifestOptionsOf(opts: ManifestsCliOptions): RenderOptions {
  const resource = opts.managedResource;
  if (resource !== 'native' && resource !== 'crd') throw new SnapshotError(`--managed-resource: must be native or crd, got ${resource === undefined ? 'nothing' : `"${resource}"`}`);
  const parts = opts.parts?.split(',').map((p) => p.trim());
  const unknown = parts?.find((p) => p !== 'crd' && p !== 'rbac' && p !== 'webhook');
  if (unknown !== undefined) throw new SnapshotError(`--parts: must be a comma-separated list of crd, rbac, webhook, got "${unknown}"`);
  if (!opts.webhook && opts.webhookUrl !== undefined) throw new SnapshotError('manifests: give --webhook-url or --no-webhook, not both');
  if (!opts.webhook && parts?.includes('webhook')) throw new SnapshotError('manifests: --parts includes webhook, but --no-webhook leaves it out');
  const wantsWebhook = parts === undefined ? opts.webhook : parts.includes('webhook');
  if (wantsWebhook && opts.webhookUrl === undefined) {
    throw new SnapshotError('manifests: give --webhook-url https://…/hook/<token> (the webhook function URL with its secret), or --no-webhook to leave the webhook configuration out');
  }
  const timeout = opts.timeoutSeconds === undefined ? undefined : Number(opts.timeoutSeconds);
  return {
    managedResource: resource,
    ...(opts.webhookUrl === undefined ? {} : { webhookUrl: opts.webhookUrl }),
    parts: (parts ?? ['crd', 'rbac', ...(opts.webhook ? ['webhook'] : [])]) as ManifestPart[],
    ...(opts.controllerUser.length === 0 ? {} : { controllerUsers: opts.controllerUser }),
    ...(timeout === undefined ? {} : { webhookTimeoutSeconds: timeout }),
  };
}

/** Runs the CLI with `argv` (without node and script) and returns the exit status. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  let exitCode = 0;
  const fail = (message: string): void => {
    io.stderr(`daemonless: ${message}\n`);
    exitCode = 2;
  };
  const program = new Command('daemonless')
    .description('A Kubernetes DaemonSet controller that runs as serverless functions')
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: () => undefined, outputError: () => undefined });

  program
    .command('plan')
    .description('Print what one reconcile pass would do for every DaemonSet of a snapshot (never writes)')
    .option('--file <path>', 'snapshot file (YAML or JSON, a List or a stream); - reads standard input')
    .option('--kubeconfig <path>', 'read the live cluster of the kubeconfig current context instead of --file')
    .option('--now <time>', 'the time the pass runs at, RFC 3339 (default: now)')
    .option('--output <format>', 'json or table (default: table on a terminal, json otherwise)')
    .option('--placement <mode>', 'pod placement: affinity or nodeName', 'affinity')
    .option('--defer-rolling-update', 'plan the rolling update only in passes where manage has nothing to do')
    .option('--backoff-initial-seconds <seconds>', 'failed-pod back-off initial delay', '1')
    .option('--backoff-max-seconds <seconds>', 'failed-pod back-off maximum delay', '900')
    .option('--exit-code', 'exit 0 when the plan writes nothing, 1 when it would change something, 2 on error (like kubectl diff)')
    .action(async (opts: PlanCliOptions) => {
      try {
        const output = opts.output ?? (io.stdoutIsTty ? 'table' : 'json');
        if (output !== 'json' && output !== 'table') throw new SnapshotError(`--output: must be json or table, got "${output}"`);
        if ((opts.file === undefined) === (opts.kubeconfig === undefined)) throw new SnapshotError('plan: give exactly one of --file or --kubeconfig');
        const now = parseNow(opts.now, io.now);
        const options = planOptionsOf(opts);
        let report: PlanReport;
        if (opts.kubeconfig !== undefined) {
          report = planObjects(await io.readLiveSnapshot(opts.kubeconfig), now, options);
        } else {
          const file = opts.file as string;
          const source = file === '-' ? 'standard input' : file;
          const cannotRead = (e: unknown): SnapshotError => new SnapshotError(`${source}: cannot read: ${(e as Error).message.split('\n')[0] ?? ''}`);
          let text: string | Uint8Array | SnapshotFile;
          try {
            text = file === '-' ? await io.readStdin() : await io.readFile(file);
          } catch (e) {
            throw cannotRead(e);
          }
          const opened = typeof text === 'string' || text instanceof Uint8Array ? null : text;
          const input = opened === null ? (text as string | Uint8Array) : {
            length: opened.length,
            readInto: (into: Uint8Array, position: number): void => {
              try {
                opened.readInto(into, position);
              } catch (e) {
                throw cannotRead(e);
              }
            },
          };
          try {
            report = withPlainEnv(() => planSnapshotText(input, source, now, options));
          } finally {
            opened?.close();
          }
        }
        io.stdout(output === 'json' ? renderJson(report) : renderTable(report));
        if (opts.exitCode === true && hasChanges(report)) exitCode = 1;
      } catch (e) {
        if (e instanceof SnapshotError) fail(e.message);
        else throw e;
      }
    });

  program
    .command('manifests')
    .description('Print the cluster-side manifests (CRD, RBAC, webhook configuration) as YAML for kubectl apply -f -')
    .option('--managed-resource <kind>', 'which DaemonSets the controller manages: native (apps/v1) or crd (daemonless.io/v1)')
    .option('--webhook-url <url>', 'the webhook function URL with its secret, https://…/hook/<token>')
    .option('--no-webhook', 'leave the webhook configuration out (events then come from elsewhere, e.g. an audit webhook)')
    .option('--parts <list>', 'only these parts, comma-separated: crd, rbac, webhook')
    .option('--controller-user <name>', 'a user bound to the controller ClusterRole besides the group daemonless:controller (repeatable)', (v: string, all: string[]) => [...all, v], [] as string[])
    .option('--timeout-seconds <seconds>', 'admission webhook timeout (default 3)')
    .action((opts: ManifestsCliOptions) => {
      try {
        io.stdout(renderManifests(manifestOptionsOf(opts)));
      } catch (e) {
        // Option errors may span lines (one per problem): print all of them, on one line.
        const [head = '', ...problems] = (e as Error).message.split('\n').map((l) => l.trim().replace(/^- /, '')).filter((l) => l !== '');
        fail(problems.length === 0 ? head : `${head} ${problems.join('; ')}`);
      }
    });

  // The Kubernetes client is large: it is loaded only before a command that talks to a cluster, so
  // that `plan --file` and `manifests` stay small in memory.
  type Connect = (o: { readonly kubeconfig?: string; readonly context?: string }) => RolloutCluster;
  let connectKube: Connect | undefined;
  program.hook('preAction', async (_program, action) => {
    if (io.connect !== undefined || connectKube !== undefined || action.name() === 'plan' || action.name() === 'manifests') return;
    const { KubeRolloutCluster, loadKubeConfig } = await import('../adapters/kube/rollout-client.js');
    connectKube = (o) => new KubeRolloutCluster(loadKubeConfig(o.kubeconfig, o.context));
  });
  addRolloutCommands(program, {
    stdout: io.stdout,
    stderr: io.stderr,
    now: io.now,
    connect: io.connect ?? ((o) => {
      if (connectKube === undefined) throw new Error('the Kubernetes client is not loaded');
      return connectKube(o);
    }),
  }, (code) => (exitCode = code));

  try {
    await program.parseAsync(hoistCommonFlags(argv), { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.exitCode === 0) return 0;
      if (e.code === 'daemonless.usage') return 2;
      fail(e.message.replace(/^error: /, ''));
    } else {
      throw e;
    }
  }
  return exitCode;
}
