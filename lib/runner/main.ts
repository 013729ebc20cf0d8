/**
 * `npm start`: the whole pipeline in one process (webhook server, FIFO queue, reconcile workers,
 * resync timer, watch event source) against the cluster of the current kubeconfig — or, when no
 * kubeconfig is configured, against a local control plane it starts with the tutorial's topology
 * (ydzs-master tainted control-plane:NoSchedule, workers ydzs-node1..4) and the tutorial's
 * nginx-ds.yaml applied. Runs until Ctrl-C, then stops everything it started.
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ENV, loadConfig } from '../config.js';
import type { AppLogger, LogFields } from '../observability/ports.js';
import { startLocal } from './start-local.js';

const out = (line: string) => process.stdout.write(`${line}\n`);
const progress = (line: string) => process.stderr.write(`» ${line}\n`);

/** Human-readable log lines on stderr, one per event, with the DaemonSet key when there is one. */
function consoleLogger(level: string, keys: LogFields = {}): AppLogger {
  const order = ['DEBUG', 'INFO', 'WARN', 'ERROR'];
  const min = order.indexOf(level);
  const emit = (lvl: string) => (message: string, fields: LogFields = {}) => {
    if (order.indexOf(lvl) < min) return;
    const all = { ...keys, ...fields };
    const extra = Object.entries(all).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join(' ');
    process.stderr.write(`${new Date().toISOString()} ${lvl.padEnd(5)} ${message}${extra ? ` ${extra}` : ''}\n`);
  };
  return { debug: emit('DEBUG'), info: emit('INFO'), warn: emit('WARN'), error: emit('ERROR'), child: (more) => consoleLogger(level, { ...keys, ...more }) };
}

/** The kubeconfig the user has configured, if any (DAEMONLESS_KUBECONFIG, KUBECONFIG, ~/.kube/config). */
function configuredKubeconfig(): string | null {
  const candidates = [process.env[ENV.kubeconfigPath], process.env.KUBECONFIG?.split(':')[0], join(homedir(), '.kube/config')];
  return candidates.find((p): p is string => !!p && existsSync(p)) ?? null;
}

async function main(): Promise<void> {
  const config = loadConfig(process.env, 'local');
  // Ctrl-C during start-up aborts it (what started is stopped); afterwards it stops everything.
  const interrupted = new AbortController();
  const waitForSignal = new Promise<void>((resolve) => {
    const stop = () => {
      interrupted.abort();
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  const running = await startLocal({
    config, kubeconfigPath: configuredKubeconfig(), logger: consoleLogger(config.logLevel), out, progress, signal: interrupted.signal,
  });
  progress('running; Ctrl-C stops everything');
  await waitForSignal;
  progress('stopping');
  await running.stop();
  progress('stopped');
}

main().then(() => process.exit(0), (e: unknown) => {
  process.stderr.write(`daemonless: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
