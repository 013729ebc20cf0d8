/**
 * `daemonless rollout status|history|undo|restart|pause|resume` and `daemonless explain`
 * (spec rollout-cli.md): kubectl's words and exit codes for native DaemonSets and the project's own.
 * The cluster is reached through `RolloutCluster`; the words come from the pure modules.
 */
import { Command, CommanderError, Option } from 'commander';
import { stringify as toYaml } from 'yaml';
import { formatLabelSelector, revisionMatchesDaemonSet, type V1ControllerRevision, type V1DaemonSet } from '../../core/index.js';
import { KubectlError } from '../../adapters/kube/kubectl-error.js';
import type { DaemonSetTarget, RolloutCluster } from '../../adapters/kube/rollout-client.js';
import {
  RESTARTED_AT_ANNOTATION,
  controlledRevisions,
  daemonSetAtRevision,
  daemonSetStatusView,
  describePodTemplate,
  findRollbackRevision,
  goRfc3339Local,
  historyOutput,
  historyText,
  nameLine,
  revisionNotFound,
  revisionTemplate,
  type KindName,
} from './kubectl-text.js';
import { KIND_NAMES, parseRef } from './ref.js';
import { pauseChange, rolloutHoldLine } from './controls.js';
import { explainCommand } from './explain-command.js';

/** What the rollout commands touch outside themselves. */
export interface RolloutIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly now: () => Date;
  /** Opens the cluster of `--kubeconfig`/`--context` (throws `KubectlError`). */
  readonly connect: (options: { readonly kubeconfig?: string; readonly context?: string }) => RolloutCluster;
}

interface CommonOptions {
  readonly namespace?: string;
  readonly kubeconfig?: string;
  readonly context?: string;
}

/** A command's outcome: its exit status. */
type Exit = number;

/** Go's time.ParseDuration for the values kubectl users write: `0`, `90s`, `1m30s`, `1.5h`, `500ms`. */
export function parseGoDuration(text: string): number | undefined {
  if (text === '0') return 0;
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/gy;
  const unit: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let ms = 0;
  let matched = 0;
  for (const m of text.matchAll(re)) {
    ms += Number(m[1]) * (unit[m[2] as string] as number);
    matched += m[0].length;
  }
  return matched === text.length && text.length > 0 ? ms : undefined;
}

const COMMON_FLAGS = new Set(['-n', '--namespace', '--kubeconfig', '--context']);

/**
 * kubectl takes `-n`, `--kubeconfig` and `--context` anywhere (`kubectl -n ns rollout status ...`):
 * for `rollout` and `explain`, these flags before the command words are moved after them.
 */
export function hoistCommonFlags(argv: readonly string[]): string[] {
  const hoisted: string[] = [];
  let i = 0;
  while (i < argv.length) {
    const arg = argv[i] as string;
    const name = arg.startsWith('--') ? arg.split('=')[0] as string : arg;
    if (!COMMON_FLAGS.has(name)) break;
    const inline = arg.startsWith('--') && arg.includes('=');
    hoisted.push(...argv.slice(i, inline ? i + 1 : i + 2));
    i += inline ? 1 : 2;
  }
  if (hoisted.length === 0 || !['rollout', 'explain'].includes(argv[i] ?? '')) return [...argv];
  return [...argv.slice(i), ...hoisted];
}

function withCommon(cmd: Command): Command {
  return cmd
    .option('-n, --namespace <namespace>', 'namespace (default: the context\'s namespace, else default)')
    .option('--kubeconfig <path>', 'kubeconfig file (default: KUBECONFIG, else ~/.kube/config)')
    .option('--context <name>', 'kubeconfig context');
}

/** Registers the commands on `program`; `setExit` receives each command's exit status. */
export function addRolloutCommands(program: Command, io: RolloutIo, setExit: (code: number) => void): void {
  const run = (fn: (target: DaemonSetTarget, kind: KindName, cluster: RolloutCluster) => Promise<Exit>) =>
    async (first: string, second: string | undefined, opts: CommonOptions, cmd: Command): Promise<void> => {
      const ref = parseRef(first, second);
      if (!ref.ok) {
        if (ref.usage) throw usage(cmd, ref.message);
        io.stderr(`${ref.message}\n`);
        setExit(1);
        return;
      }
      try {
        const cluster = io.connect({ kubeconfig: opts.kubeconfig, context: opts.context });
        const target: DaemonSetTarget = { kind: ref.kind, namespace: opts.namespace ?? cluster.defaultNamespace, name: ref.name };
        setExit(await fn(target, KIND_NAMES[ref.kind], cluster));
      } catch (e) {
        if (!(e instanceof KubectlError)) throw e;
        io.stderr(`${e.message}\n`);
        setExit(1);
      }
    };
  const usage = (cmd: Command, message: string): CommanderError => {
    io.stderr(`error: ${message}\n${cmd.helpInformation().split('\n').find((l) => l.startsWith('Usage:')) ?? ''}\n`);
    return new CommanderError(2, 'daemonless.usage', message);
  };
  const fail = (message: string): Exit => {
    io.stderr(`error: ${message}\n`);
    return 1;
  };

  // Commander's own parse errors (unknown option, missing argument) are usage errors too.
  const usageOnError = (cmd: Command): Command => cmd.exitOverride((err) => {
    if (err.exitCode === 0 || err.code === 'daemonless.usage') throw err;
    throw usage(cmd, err.message.replace(/^error: /, ''));
  });
  const rollout = usageOnError(program.command('rollout')).description('Manage the rollout of a DaemonSet, as kubectl rollout does (native DaemonSets and dlds)');
  const leaf = (name: string, description: string) =>
    usageOnError(withCommon(rollout.command(name).description(description).argument('<ref>', 'ds/NAME, daemonset.apps/NAME, dlds/NAME, daemonset.daemonless.io/NAME, or TYPE').argument('[name]', 'NAME when TYPE is given as its own word')));

  leaf('status', 'Show the status of the rollout (waits until it is done unless --watch=false)')
    .option('-w, --watch [bool]', 'watch the status until the rollout is done (--watch=false prints it once)', 'true')
    .option('--timeout <duration>', 'how long to wait before giving up, e.g. 90s or 5m; 0 waits forever', '0')
    .action(async (first: string, second: string | undefined, opts: CommonOptions & { watch: string | boolean; timeout: string }, cmd: Command) => {
      const watch = String(opts.watch) !== 'false';
      const timeoutMs = parseGoDuration(opts.timeout);
      if (timeoutMs === undefined) throw usage(cmd, `invalid argument "${opts.timeout}" for "--timeout" flag: time: invalid duration "${opts.timeout}"`);
      if (!['true', 'false'].includes(String(opts.watch))) throw usage(cmd, `invalid argument "${String(opts.watch)}" for "-w, --watch" flag: strconv.ParseBool: parsing "${String(opts.watch)}": invalid syntax`);
      await run((t, _k, c) => rolloutStatus(t, c, io, { watch, timeoutMs }))(first, second, opts, cmd);
    });

  leaf('history', 'Show the revisions of the DaemonSet (ControllerRevisions) and their change cause')
    .option('--revision <n>', 'print the pod template of this revision', '0')
    .addOption(new Option('-o, --output <format>', 'print the DaemonSet at each revision as json or yaml').choices(['json', 'yaml']))
    .action(async (first: string, second: string | undefined, opts: CommonOptions & { revision: string; output?: 'json' | 'yaml' }, cmd: Command) => {
      const revision = parseInt64(opts.revision, '--revision', cmd);
      await run(async (t, kind, c) => {
        const ds = await c.getDaemonSet(t);
        const history = controlledRevisions(ds, await c.listRevisions(t.namespace, formatLabelSelector(ds.spec?.selector)));
        if (opts.output) {
          const byRevision = new Map(history.map((h) => [Number(h.revision ?? 0), h] as const));
          const numbers = revision > 0 ? [revision] : [...byRevision.keys()].sort((a, b) => a - b);
          if (revision > 0 && !byRevision.has(revision)) return fail('unable to find the specified revision');
          numbers.forEach((n, i) => {
            const obj = daemonSetAtRevision(ds, byRevision.get(n) as V1ControllerRevision);
            io.stdout(opts.output === 'json' ? `${JSON.stringify(obj, null, 4)}\n` : `${i > 0 ? '---\n' : ''}${toYaml(obj)}`);
          });
          return 0;
        }
        const text = historyText(history, revision, ds);
        if ('error' in text) return fail(text.error);
        io.stdout(historyOutput(kind, t.name, revision, text.text));
        return 0;
      })(first, second, opts, cmd);
    });

  leaf('undo', 'Roll back to the previous revision of the pod template (or --to-revision N)')
    .option('--to-revision <n>', 'the revision to roll back to (default: the previous one)', '0')
    .option('--dry-run <strategy>', 'client: print the template it would restore, write nothing', 'none')
    .action(async (first: string, second: string | undefined, opts: CommonOptions & { toRevision: string; dryRun: string }, cmd: Command) => {
      const toRevision = parseInt64(opts.toRevision, '--to-revision', cmd);
      if (!['none', 'client'].includes(opts.dryRun)) throw usage(cmd, `Invalid dry-run value (${opts.dryRun}). Must be "none" or "client".`);
      await run(async (t, kind, c) => {
        if (toRevision < 0) return fail(revisionNotFound(toRevision));
        const ds = await c.getDaemonSet(t);
        const history = controlledRevisions(ds, await c.listRevisions(t.namespace, formatLabelSelector(ds.spec?.selector)));
        if (toRevision === 0 && history.length <= 1) return fail('no last revision to roll back to');
        const to = findRollbackRevision(toRevision, history);
        if (!to) return fail(revisionNotFound(toRevision));
        if (opts.dryRun === 'client') {
          io.stdout(nameLine(kind, t.name, `will roll back to ${describePodTemplate(revisionTemplate(to))} (dry run)`));
          return 0;
        }
        if (revisionMatchesDaemonSet(to, ds)) {
          io.stdout(nameLine(kind, t.name, `skipped rollback (current template already matches revision ${toRevision})`));
          return 0;
        }
        try {
          if (t.kind === 'native') await c.patchDaemonSet(t, to.data, 'strategic');
          else await c.patchDaemonSet(t, [{ op: 'replace', path: '/spec/template', value: revisionTemplate(to) }], 'json');
        } catch (e) {
          if (!(e instanceof KubectlError)) throw e;
          return fail(`failed restoring revision ${toRevision}: ${e.message.replace(/^(Error from server \([^)]*\): |error: )/, '')}`);
        }
        io.stdout(nameLine(kind, t.name, 'rolled back'));
        return 0;
      })(first, second, opts, cmd);
    });

  leaf('restart', 'Restart every pod of the DaemonSet by a template annotation (rolls like any template change)')
    .action(run(async (t, kind, c) => {
      const body = { spec: { template: { metadata: { annotations: { [RESTARTED_AT_ANNOTATION]: goRfc3339Local(io.now()) } } } } };
      try {
        await c.patchDaemonSet(t, body, t.kind === 'native' ? 'strategic' : 'merge');
      } catch (e) {
        if (!(e instanceof KubectlError)) throw e;
        return fail(`failed to patch: ${e.message.replace(/^(Error from server \([^)]*\): |error: )/, '')}`);
      }
      io.stdout(nameLine(kind, t.name, 'restarted'));
      return 0;
    }));

  for (const paused of [true, false]) {
    leaf(paused ? 'pause' : 'resume', paused
      ? 'Pause the rollout: no old pod is replaced until resume (dlds: spec.updateStrategy.rollingUpdate.paused; native: annotation daemonless.io/rollout-paused)'
      : 'Resume a paused rollout')
      .action(run(async (t, kind, c) => {
        const ds = await c.getDaemonSet(t);
        const change = pauseChange(t.kind, ds, paused);
        if (change === null) {
          io.stdout(nameLine(kind, t.name, paused ? 'already paused' : 'already resumed'));
          return 0;
        }
        try {
          await c.patchDaemonSet(t, change, 'merge');
        } catch (e) {
          if (!(e instanceof KubectlError)) throw e;
          return fail(`failed to patch: ${e.message.replace(/^(Error from server \([^)]*\): |error: )/, '')}`);
        }
        io.stdout(nameLine(kind, t.name, paused ? 'paused' : 'resumed'));
        return 0;
      }));
  }

  usageOnError(withCommon(program.command('explain')
    .description('Why the DaemonSet is where it is: per node, whether a pod should run there and its state; what holds the rollout; what the next pass will do (never writes)')
    .argument('<ref>', 'ds/NAME, dlds/NAME, … or TYPE')
    .argument('[name]', 'NAME when TYPE is given as its own word')))
    .addOption(new Option('-o, --output <format>', 'json for the same as data').choices(['json']))
    .action(async (first: string, second: string | undefined, opts: CommonOptions & { output?: 'json' }, cmd: Command) => {
      await run((t, kind, c) => explainCommand(t, kind, c, io, opts.output))(first, second, opts, cmd);
    });

  function parseInt64(text: string, flag: string, cmd: Command): number {
    if (!/^[+-]?\d+$/.test(text)) throw usage(cmd, `invalid argument "${text}" for "${flag}" flag: strconv.ParseInt: parsing "${text}": invalid syntax`);
    return Number(text);
  }
}

/**
 * `rollout status`: prints the status line of the DaemonSet, then (with watch) one line per change
 * of the object until the rollout is done, as kubectl's list-and-watch does; a watch the server
 * closes is opened again from the last resourceVersion seen.
 */
async function rolloutStatus(t: DaemonSetTarget, c: RolloutCluster, io: RolloutIo, o: { watch: boolean; timeoutMs: number }): Promise<Exit> {
  let ds = await c.getDaemonSet(t);
  // Returns an exit status when the command is finished after this object, else undefined.
  const step = async (obj: V1DaemonSet): Promise<Exit | undefined> => {
    const view = daemonSetStatusView(obj);
    if (view.kind === 'error') {
      io.stderr(`error: ${view.message}\n`);
      return 1;
    }
    if (!view.done) {
      const held = await rolloutHoldLine(t, obj, c, io.now());
      if (held !== undefined) {
        io.stdout(held);
        return 0;
      }
    }
    io.stdout(view.message);
    return view.done || !o.watch ? 0 : undefined;
  };
  const first = await step(ds);
  if (first !== undefined) return first;

  return new Promise<Exit>((resolve) => {
    let finished = false;
    let stop: (() => void) | undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let queue = Promise.resolve();
    const finish = (code: Exit, message?: string) => {
      if (finished) return;
      finished = true;
      if (timer) clearTimeout(timer);
      stop?.();
      if (message) io.stderr(`${message}\n`);
      resolve(code);
    };
    if (o.timeoutMs > 0) timer = setTimeout(() => finish(1, 'error: timed out waiting for the condition'), o.timeoutMs);
    const open = async (): Promise<void> => {
      if (finished) return;
      try {
        stop = await c.watchDaemonSet(t, ds.metadata?.resourceVersion ?? '', (type, obj) => {
          queue = queue.then(async () => {
            if (finished) return;
            if (obj?.metadata?.resourceVersion) ds = type === 'BOOKMARK' ? { ...ds, metadata: { ...ds.metadata, resourceVersion: obj.metadata.resourceVersion } } : obj;
            if (type === 'DELETED') return finish(1, 'error: object has been deleted');
            if (type === 'ERROR') {
              // 410 Gone: the resourceVersion is too old; read the object again and carry on.
              ds = await c.getDaemonSet(t);
              const code = await step(ds);
              if (code !== undefined) finish(code);
              return;
            }
            if (type !== 'ADDED' && type !== 'MODIFIED') return;
            const code = await step(obj);
            if (code !== undefined) finish(code);
          }).catch((e: unknown) => finish(1, e instanceof KubectlError ? e.message : `error: ${(e as Error).message}`));
        }, () => {
          if (!finished) setTimeout(() => void open(), 200);
        });
      } catch (e) {
        finish(1, e instanceof KubectlError ? e.message : `error: ${(e as Error).message}`);
      }
    };
    void open();
  });
}
