/**
 * `npm run cluster:up` / `npm run cluster:down`: start or stop a local control plane by hand.
 * `up` prints the admin kubeconfig path; the plane keeps running after the command exits.
 *   npm run cluster:up [-- --upstream]   (--upstream keeps kube-controller-manager's DaemonSet controller on)
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { clusterStateDir, startControlPlane, stopPids } from './control-plane.js';

interface State { readonly workDir: string; readonly adminKubeconfig: string; readonly controllerKubeconfig: string; readonly pids: Record<string, number> }

const stateFile = join(clusterStateDir, 'state.json');
const log = (line: string) => process.stderr.write(`${line}\n`);

async function up(upstream: boolean): Promise<void> {
  if (existsSync(stateFile)) {
    const s = JSON.parse(readFileSync(stateFile, 'utf8')) as State;
    log(`a local control plane is already running (npm run cluster:down stops it)`);
    process.stdout.write(`${s.adminKubeconfig}\n`);
    return;
  }
  const workDir = join(clusterStateDir, 'plane');
  rmSync(workDir, { recursive: true, force: true });
  mkdirSync(workDir, { recursive: true });
  const plane = await startControlPlane({ name: 'local', detached: true, workDir, upstreamDaemonSetController: upstream, log });
  const state: State = { workDir, adminKubeconfig: plane.adminKubeconfig, controllerKubeconfig: plane.controllerKubeconfig, pids: { ...plane.pids } };
  writeFileSync(stateFile, JSON.stringify(state, null, 2));
  log(`kubectl: ${join(plane.binDir, 'kubectl')}`);
  log(`export KUBECONFIG=${plane.adminKubeconfig}`);
  process.stdout.write(`${plane.adminKubeconfig}\n`);
}

async function down(): Promise<void> {
  if (!existsSync(stateFile)) {
    log('no local control plane is running');
    return;
  }
  const s = JSON.parse(readFileSync(stateFile, 'utf8')) as State;
  await stopPids(Object.values(s.pids));
  rmSync(s.workDir, { recursive: true, force: true });
  rmSync(stateFile, { force: true });
  log('local control plane stopped');
}

const [cmd, ...rest] = process.argv.slice(2);
const run = cmd === 'up' ? up(rest.includes('--upstream')) : cmd === 'down' ? down() : Promise.reject(new Error('usage: cluster-cli.ts up [--upstream] | down'));
run.catch((e: unknown) => {
  log(e instanceof Error ? e.message : String(e));
  process.exit(1);
});
