/**
 * The `daemonless` command line, with its side effects injected so tests can run it in-process.
 * `main.ts` wires the real process.
 */
import { Command, CommanderError } from 'commander';
import { parseNow, planObjects, planOptionsOf, planSnapshotText, type PlanFlags } from './plan-command.js';
import { renderJson, renderTable, type PlanReport } from './render.js';
import { SnapshotError, type SnapshotObjects } from './snapshot.js';
import { renderFromArgs } from '../manifests/render.js';
import { KubeRolloutCluster, loadKubeConfig, type RolloutCluster } from '../adapters/kube/rollout-client.js';
import { addRolloutCommands } from './rollout/rollout-command.js';

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
  readonly readFile: (path: string) => Promise<string>;
  readonly readStdin: () => Promise<string>;
  readonly stdoutIsTty: boolean;
  readonly now: () => Date;
  readonly readLiveSnapshot: ReadLiveSnapshot;
  /** The cluster of `rollout` and `explain` (default: the kubeconfig's, through client-node). */
  readonly connect?: (options: { readonly kubeconfig?: string; readonly context?: string }) => RolloutCluster;
}

interface PlanCliOptions extends PlanFlags {
  readonly file?: string;
  readonly kubeconfig?: string;
  readonly now?: string;
  readonly output?: string;
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
          let text: string;
          try {
            text = file === '-' ? await io.readStdin() : await io.readFile(file);
          } catch (e) {
            throw new SnapshotError(`${file === '-' ? 'standard input' : file}: cannot read: ${(e as Error).message.split('\n')[0] ?? ''}`);
          }
          report = planSnapshotText(text, file === '-' ? 'standard input' : file, now, options);
        }
        io.stdout(output === 'json' ? renderJson(report) : renderTable(report));
      } catch (e) {
        if (e instanceof SnapshotError) fail(e.message);
        else throw e;
      }
    });

  program
    .command('manifests')
    .description('Print the cluster-side manifests (CRD, RBAC, webhook configuration) as YAML for kubectl apply -f -')
    .usage('--managed-resource native|crd [--webhook-url https://…/hook/<token>] [--parts crd,rbac,webhook] [--controller-user NAME]…')
    .helpOption(false)
    .allowUnknownOption(true)
    .allowExcessArguments(true)
    .action((_opts: unknown, cmd: Command) => {
      try {
        io.stdout(renderFromArgs(cmd.args));
      } catch (e) {
        fail((e as Error).message.split('\n')[0] ?? String(e));
      }
    });

  addRolloutCommands(program, {
    stdout: io.stdout,
    stderr: io.stderr,
    now: io.now,
    connect: io.connect ?? ((o) => new KubeRolloutCluster(loadKubeConfig(o.kubeconfig, o.context))),
  }, (code) => (exitCode = code));

  try {
    await program.parseAsync([...argv], { from: 'user' });
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
