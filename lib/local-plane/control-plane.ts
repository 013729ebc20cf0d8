/**
 * A real local Kubernetes control plane for `npm start`, the tests and the benchmarks:
 * etcd, kube-apiserver, kube-controller-manager (with or without its DaemonSet controller),
 * kube-scheduler and kwok (simulated kubelets), all built from their Go modules by
 * lib/local-plane/build/ensure-bins.sh and bound to 127.0.0.1 on free ports.
 *
 * Plane "A" runs kube-controller-manager with `--controllers=*,-daemonset`: garbage collection,
 * namespaces, node lifecycle and pod GC are real, and the DaemonSet controller is daemonless.
 * Plane "B" (`upstreamDaemonSetController: true`) is identical but keeps the upstream controller on,
 * for side-by-side comparisons.
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { CONTROLLER_GROUP } from '../manifests/names.js';

const execFileAsync = promisify(execFile);
const buildDir = join(dirname(fileURLToPath(import.meta.url)), 'build');

/** The Kubernetes user the controller runs as, in the group the shipped ClusterRole is bound to. */
export const CONTROLLER_USER = 'daemonless-controller';

export interface ControlPlaneOptions {
  /** Short name used in log and directory names (default "a"). */
  readonly name?: string;
  /** Keep kube-controller-manager's own DaemonSet controller on (the comparison plane). */
  readonly upstreamDaemonSetController?: boolean;
  /** Run kube-scheduler (default true). Without it only nodeName placement binds pods. */
  readonly scheduler?: boolean;
  /** Run kwok to simulate kubelets (default true). */
  readonly kwok?: boolean;
  /**
   * kwok simulates only the nodes annotated `kwok.x-k8s.io/node: fake` (nodeObject's default); other
   * nodes stay as created, never Ready (default false: kwok simulates every node).
   */
  readonly kwokAnnotatedNodesOnly?: boolean;
  /** node lifecycle's grace for a node that never reported status (kube-controller-manager's default: 60 s). */
  readonly nodeStartupGraceSeconds?: number;
  /** Start processes detached, so they outlive this process (used by `npm run cluster:up`). */
  readonly detached?: boolean;
  /** Directory for data, PKI, kubeconfigs and logs (default: a new temporary directory). */
  readonly workDir?: string;
  /** Progress lines (default: none). */
  readonly log?: (line: string) => void;
}

export interface ControlPlane {
  readonly name: string;
  readonly workDir: string;
  readonly binDir: string;
  /** https://127.0.0.1:<port> */
  readonly server: string;
  /** Kubeconfig of a `system:masters` user. */
  readonly adminKubeconfig: string;
  /** Kubeconfig of the controller's own identity (user daemonless-controller, group daemonless:controller). */
  readonly controllerKubeconfig: string;
  /** PIDs of the running components, by component name. */
  readonly pids: Readonly<Record<string, number>>;
  /** Runs the real kubectl against this plane as admin (or with the given kubeconfig). */
  kubectl(args: readonly string[], options?: { kubeconfig?: string; input?: string }): Promise<KubectlResult>;
  /** Stops every component and removes the work directory (unless keepFiles). */
  stop(options?: { keepFiles?: boolean }): Promise<void>;
}

export interface KubectlResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Builds (or finds in the cache) the control-plane binaries and returns their directory.
 * A cold build takes minutes; progress goes to `log`.
 */
export async function ensureBinaries(log: (line: string) => void = () => {}): Promise<string> {
  const script = join(buildDir, 'ensure-bins.sh');
  return new Promise((resolvePromise, reject) => {
    const child = spawn(script, [], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      for (const line of d.toString().split('\n')) if (line.trim()) log(line);
    });
    child.on('error', reject);
    // 'close', not 'exit': only then has stdout been read to its end.
    child.on('close', (code) => {
      const dir = out.trim().split('\n').pop() ?? '';
      if (code === 0 && dir && existsSync(join(dir, '.complete'))) resolvePromise(dir);
      else reject(new Error(`lib/local-plane/build/ensure-bins.sh failed with exit code ${code}; the control plane cannot start`));
    });
  });
}

/** A free TCP port on 127.0.0.1 (the OS picks it; a small race is accepted). */
export async function freePort(): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolvePromise(port));
    });
  });
}

interface Pki {
  readonly dir: string;
  readonly caCrt: string;
}

/** The certificate recipe of the local plane: one CA, an apiserver serving cert, client certs, an SA key. */
function makePki(dir: string): Pki {
  mkdirSync(dir, { recursive: true });
  const ossl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'];
  ossl('req', '-x509', '-new', '-nodes', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '3650', '-subj', '/CN=daemonless-local-ca');
  writeFileSync(join(dir, 'serving.ext'),
    'subjectAltName=IP:127.0.0.1,DNS:localhost,IP:10.0.0.1,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc\n' +
    'extendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\n');
  writeFileSync(join(dir, 'client.ext'), 'extendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature\n');
  const cert = (name: string, subj: string, ext: string) => {
    ossl('req', '-new', '-nodes', ...ec, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subj);
    ossl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '3650',
      '-out', `${name}.crt`, '-extfile', ext);
  };
  cert('apiserver', '/CN=kube-apiserver', 'serving.ext');
  cert('admin', '/O=system:masters/CN=kubernetes-admin', 'client.ext');
  cert('controller', `/O=${CONTROLLER_GROUP}/CN=${CONTROLLER_USER}`, 'client.ext');
  ossl('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'sa.key');
  ossl('ec', '-in', 'sa.key', '-pubout', '-out', 'sa.pub');
  return { dir, caCrt: join(dir, 'ca.crt') };
}

function kubeconfig(server: string, pki: Pki, user: string, certName: string): string {
  const b64 = (f: string) => readFileSync(join(pki.dir, f)).toString('base64');
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: local',
    '  cluster:',
    `    server: ${server}`,
    `    certificate-authority-data: ${b64('ca.crt')}`,
    'users:',
    `- name: ${user}`,
    '  user:',
    `    client-certificate-data: ${b64(`${certName}.crt`)}`,
    `    client-key-data: ${b64(`${certName}.key`)}`,
    'contexts:',
    '- name: local',
    '  context:',
    '    cluster: local',
    `    user: ${user}`,
    '    namespace: default',
    'current-context: local',
    '',
  ].join('\n');
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** GET a path on the apiserver with the admin client certificate; resolves with the HTTP status (0 on error). */
function getStatus(server: string, path: string, pki: Pki, selfSigned = false): Promise<number> {
  return new Promise((resolvePromise) => {
    const url = new URL(path, server);
    const req = request(
      {
        hostname: url.hostname, port: url.port, path: url.pathname, method: 'GET',
        ca: readFileSync(pki.caCrt), cert: readFileSync(join(pki.dir, 'admin.crt')), key: readFileSync(join(pki.dir, 'admin.key')),
        timeout: 2000,
        // kube-controller-manager and kube-scheduler serve /healthz with a self-signed certificate.
        rejectUnauthorized: !selfSigned,
      },
      (res) => {
        res.resume();
        resolvePromise(res.statusCode ?? 0);
      },
    );
    req.on('error', () => resolvePromise(0));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

/** GET a plain-HTTP health URL; resolves with the HTTP status (0 on error). */
async function httpStatus(url: string): Promise<number> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
    await res.arrayBuffer();
    return res.status;
  } catch {
    return 0;
  }
}

/** Polls `probe` until it returns true, failing with the component's log tail after timeoutMs. */
async function waitFor(what: string, probe: () => Promise<boolean>, timeoutMs: number, logFile?: string, proc?: ChildProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc && proc.exitCode !== null) break;
    if (await probe()) return;
    await sleep(200);
  }
  const tail = logFile && existsSync(logFile) ? readFileSync(logFile, 'utf8').split('\n').slice(-25).join('\n') : '';
  const exited = proc && proc.exitCode !== null ? ` (process exited with code ${proc.exitCode})` : '';
  throw new Error(`${what} did not become ready within ${timeoutMs} ms${exited}\n${tail}`);
}

/**
 * Starts a complete control plane. Order: etcd → kube-apiserver (/readyz) → kube-controller-manager
 * and kube-scheduler (/healthz) → kwok. Fails loudly (with the failing component's log tail) when a
 * binary is missing or a component does not come up.
 */
export async function startControlPlane(options: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const name = options.name ?? 'a';
  const log = options.log ?? (() => {});
  const t0 = Date.now();
  const binDir = await ensureBinaries(log);
  const workDir = options.workDir ?? mkdtempSync(join(tmpdir(), `daemonless-plane-${name}-`));
  mkdirSync(workDir, { recursive: true });
  const logsDir = join(workDir, 'logs');
  mkdirSync(logsDir, { recursive: true });
  const pki = makePki(join(workDir, 'pki'));

  const [etcdClient, etcdPeer, apiPort, kcmPort, schedPort] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort()]);
  const server = `https://127.0.0.1:${apiPort}`;
  const adminKubeconfig = join(workDir, 'admin.kubeconfig');
  const controllerKubeconfig = join(workDir, 'controller.kubeconfig');
  writeFileSync(adminKubeconfig, kubeconfig(server, pki, 'admin', 'admin'));
  writeFileSync(controllerKubeconfig, kubeconfig(server, pki, CONTROLLER_USER, 'controller'));

  const procs = new Map<string, ChildProcess>();
  const pids: Record<string, number> = {};
  const launch = (component: string, bin: string, args: string[]): { proc: ChildProcess; logFile: string } => {
    const logFile = join(logsDir, `${component}.log`);
    const fd = openSync(logFile, 'a');
    const proc = spawn(join(binDir, bin), args, { stdio: ['ignore', fd, fd], detached: true });
    closeSync(fd);
    if (options.detached) proc.unref();
    procs.set(component, proc);
    if (proc.pid) pids[component] = proc.pid;
    return { proc, logFile };
  };

  const plane: ControlPlane = {
    name, workDir, binDir, server, adminKubeconfig, controllerKubeconfig, pids,
    async kubectl(args, opts = {}) {
      return runKubectl(binDir, opts.kubeconfig ?? adminKubeconfig, args, opts.input);
    },
    async stop(stopOptions = {}) {
      await stopPids(Object.values(pids));
      if (!stopOptions.keepFiles && !options.workDir) rmSync(workDir, { recursive: true, force: true });
    },
  };

  try {
    log(`[plane ${name}] starting etcd`);
    const etcd = launch('etcd', 'etcd', [
      `--name=${name}`, `--data-dir=${join(workDir, 'etcd')}`,
      `--listen-client-urls=http://127.0.0.1:${etcdClient}`, `--advertise-client-urls=http://127.0.0.1:${etcdClient}`,
      `--listen-peer-urls=http://127.0.0.1:${etcdPeer}`, `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeer}`,
      `--initial-cluster=${name}=http://127.0.0.1:${etcdPeer}`, '--initial-cluster-state=new',
      '--unsafe-no-fsync=true', '--quota-backend-bytes=2147483648', '--log-level=warn',
    ]);
    await waitFor('etcd', async () => (await httpStatus(`http://127.0.0.1:${etcdClient}/health`)) === 200, 30_000, etcd.logFile, etcd.proc);

    log(`[plane ${name}] starting kube-apiserver`);
    const api = launch('kube-apiserver', 'kube-apiserver', [
      `--etcd-servers=http://127.0.0.1:${etcdClient}`,
      '--bind-address=127.0.0.1', '--advertise-address=127.0.0.1', `--secure-port=${apiPort}`,
      `--cert-dir=${join(workDir, 'apiserver')}`,
      `--tls-cert-file=${join(pki.dir, 'apiserver.crt')}`, `--tls-private-key-file=${join(pki.dir, 'apiserver.key')}`,
      `--client-ca-file=${pki.caCrt}`,
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      `--service-account-key-file=${join(pki.dir, 'sa.pub')}`, `--service-account-signing-key-file=${join(pki.dir, 'sa.key')}`,
      '--service-cluster-ip-range=10.0.0.0/24',
      '--authorization-mode=Node,RBAC', '--allow-privileged=true',
      '--disable-admission-plugins=ServiceAccount',
      '--endpoint-reconciler-type=none', '--profiling=false', '--v=1',
    ]);
    await waitFor('kube-apiserver', async () => (await getStatus(server, '/readyz', pki)) === 200, 90_000, api.logFile, api.proc);

    log(`[plane ${name}] starting kube-controller-manager${options.upstreamDaemonSetController ? ' (with the upstream DaemonSet controller)' : ''}`);
    const controllers = options.upstreamDaemonSetController ? '*' : '*,-daemonset';
    const kcm = launch('kube-controller-manager', 'kube-controller-manager', [
      `--kubeconfig=${adminKubeconfig}`,
      `--authentication-kubeconfig=${adminKubeconfig}`, `--authorization-kubeconfig=${adminKubeconfig}`,
      '--bind-address=127.0.0.1', `--secure-port=${kcmPort}`, '--leader-elect=false',
      `--controllers=${controllers}`,
      `--service-account-private-key-file=${join(pki.dir, 'sa.key')}`, `--root-ca-file=${pki.caCrt}`,
      '--use-service-account-credentials=false',
      '--kube-api-qps=200', '--kube-api-burst=400', '--concurrent-daemonset-syncs=2',
      '--node-monitor-period=2s', '--v=1',
      ...(options.nodeStartupGraceSeconds === undefined ? [] : [`--node-startup-grace-period=${options.nodeStartupGraceSeconds}s`]),
    ]);
    const waits: Promise<void>[] = [
      waitFor('kube-controller-manager', async () => (await getStatus(`https://127.0.0.1:${kcmPort}`, '/healthz', pki, true)) === 200, 60_000, kcm.logFile, kcm.proc),
    ];
    if (options.scheduler !== false) {
      log(`[plane ${name}] starting kube-scheduler`);
      const sched = launch('kube-scheduler', 'kube-scheduler', [
        `--kubeconfig=${adminKubeconfig}`,
        `--authentication-kubeconfig=${adminKubeconfig}`, `--authorization-kubeconfig=${adminKubeconfig}`,
        '--bind-address=127.0.0.1', `--secure-port=${schedPort}`, '--leader-elect=false', '--v=1',
      ]);
      waits.push(waitFor('kube-scheduler', async () => (await getStatus(`https://127.0.0.1:${schedPort}`, '/healthz', pki, true)) === 200, 60_000, sched.logFile, sched.proc));
    }
    await Promise.all(waits);

    if (options.kwok !== false) {
      log(`[plane ${name}] starting kwok (simulated kubelets)`);
      const kwok = launch('kwok', 'kwok', [
        `--kubeconfig=${adminKubeconfig}`,
        options.kwokAnnotatedNodesOnly === true ? '--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake' : '--manage-all-nodes=true',
        '--node-lease-duration-seconds=40', '--cidr=10.244.0.0/16', '--node-ip=10.0.1.1',
      ]);
      await sleep(300);
      if (kwok.proc.exitCode !== null) {
        throw new Error(`kwok exited with code ${kwok.proc.exitCode}\n${readFileSync(kwok.logFile, 'utf8').slice(-2000)}`);
      }
    }
    log(`[plane ${name}] ready in ${((Date.now() - t0) / 1000).toFixed(1)} s: ${server}`);
    return plane;
  } catch (e) {
    await plane.stop({ keepFiles: true });
    throw new Error(`control plane ${name} failed to start (logs in ${logsDir}): ${(e as Error).message}`, { cause: e });
  }
}

/** Stops processes (and their process groups): SIGTERM, then SIGKILL after 5 s. */
export async function stopPids(pidList: readonly number[]): Promise<void> {
  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  const signal = (pid: number, sig: NodeJS.Signals) => {
    try {
      process.kill(-pid, sig);
    } catch {
      try {
        process.kill(pid, sig);
      } catch {
        /* already gone */
      }
    }
  };
  // kwok and the controllers first, etcd last, so nothing logs connection errors needlessly.
  const ordered = [...pidList].reverse();
  for (const pid of ordered) signal(pid, 'SIGTERM');
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline && ordered.some(alive)) await sleep(100);
  for (const pid of ordered) if (alive(pid)) signal(pid, 'SIGKILL');
}

/** Runs a command to its end (streams closed), feeding `input` on stdin; never rejects on a non-zero exit. */
export function runCommand(cmd: string, args: readonly string[], options: { env?: NodeJS.ProcessEnv; input?: string } = {}): Promise<KubectlResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, args, { env: options.env ?? process.env, stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code: code ?? 1, stdout, stderr }));
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}

/** Runs the real kubectl binary. */
export async function runKubectl(binDir: string, kubeconfigPath: string, args: readonly string[], input?: string): Promise<KubectlResult> {
  if (input !== undefined) return runCommand(join(binDir, 'kubectl'), ['--kubeconfig', kubeconfigPath, ...args], { input });
  try {
    const { stdout, stderr } = await execFileAsync(join(binDir, 'kubectl'), ['--kubeconfig', kubeconfigPath, ...args], { maxBuffer: 64 << 20 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof err.code === 'number' ? err.code : 1, stdout: err.stdout ?? '', stderr: err.stderr ?? String(e) };
  }
}

/** Where `npm run cluster:up` keeps its state. */
export const clusterStateDir = join(homedir(), '.cache/daemonless/cluster');
