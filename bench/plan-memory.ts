/**
 * Peak memory of `daemonless plan --file` on a large snapshot, as the installed command runs it
 * (`node bin/daemonless.js`, a process of its own). The snapshot looks like what
 * `kubectl get nodes,pods,daemonsets,controllerrevisions -A -o yaml|json` prints for a cluster of
 * a few thousand nodes with four DaemonSets (kubectl's key order and indentation, managedFields,
 * node images), generated up to the requested size.
 *
 *   npx tsx bench/plan-memory.ts [--mb 50] [--format yaml|json|both] [--root <checkout>] [--out bench/results/plan-memory.json]
 *
 * `--root` measures the command of another checkout (for a before/after comparison).
 *
 * Prints, per format: input bytes, peak RSS of the process (getrusage maxRSS), the peak RSS of the
 * same command on a one-node snapshot (the runtime's own share), the ratios to the input size, and
 * the wall-clock and CPU seconds of the run.
 * Run it under the plane lock (it is a benchmark: it needs the machine's memory and CPU for itself).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { parseFlags } from './lib/args.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const DAEMONSETS = ['fluent-bit', 'node-exporter', 'kube-proxy', 'csi-node'];
const NS = 'kube-system';
const HASH = (ds: string) => `${ds.length}7f9c6d`;
const TIME = '2026-11-01T10:00:00Z';

const template = (ds: string) => ({
  metadata: { labels: { 'app.kubernetes.io/name': ds } },
  spec: {
    containers: [{ name: ds, image: `registry.example.com/${ds}:1.2.3`, resources: { requests: { cpu: '50m', memory: '64Mi' } } }],
    tolerations: [{ operator: 'Exists' }],
  },
});

function daemonSet(ds: string, nodes: number) {
  return {
    apiVersion: 'apps/v1', kind: 'DaemonSet',
    metadata: { name: ds, namespace: NS, uid: `uid-${ds}`, generation: 1, creationTimestamp: TIME, resourceVersion: '1000', annotations: { 'deprecated.daemonset.template.generation': '1' } },
    spec: { selector: { matchLabels: { 'app.kubernetes.io/name': ds } }, template: template(ds), updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } }, revisionHistoryLimit: 10 },
    status: { currentNumberScheduled: nodes, desiredNumberScheduled: nodes, numberAvailable: nodes, numberMisscheduled: 0, numberReady: nodes, updatedNumberScheduled: nodes, observedGeneration: 1 },
  };
}

function revision(ds: string) {
  const t = template(ds);
  return {
    apiVersion: 'apps/v1', kind: 'ControllerRevision', revision: 1,
    metadata: {
      name: `${ds}-${HASH(ds)}`, namespace: NS, uid: `uid-cr-${ds}`, creationTimestamp: TIME,
      labels: { 'app.kubernetes.io/name': ds, 'controller-revision-hash': HASH(ds) },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'DaemonSet', name: ds, uid: `uid-${ds}`, controller: true, blockOwnerDeletion: true }],
    },
    data: { spec: { template: { ...t, $patch: 'replace', metadata: { creationTimestamp: null, ...t.metadata } } } },
  };
}

function node(i: number) {
  const name = `ip-10-0-${Math.floor(i / 250)}-${i % 250}.eu-west-1.compute.internal`;
  return {
    apiVersion: 'v1', kind: 'Node',
    metadata: {
      name, uid: `uid-node-${i}`, resourceVersion: String(5000 + i), creationTimestamp: TIME,
      labels: { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64', 'node.kubernetes.io/instance-type': 'm6i.large', 'topology.kubernetes.io/zone': 'eu-west-1a' },
      annotations: { 'node.alpha.kubernetes.io/ttl': '0', 'volumes.kubernetes.io/controller-managed-attach-detach': 'true' },
      managedFields: [{ apiVersion: 'v1', fieldsType: 'FieldsV1', manager: 'kubelet', operation: 'Update', time: TIME, fieldsV1: { 'f:metadata': { 'f:labels': { '.': {}, 'f:kubernetes.io/hostname': {}, 'f:kubernetes.io/os': {} } }, 'f:status': { 'f:conditions': { 'k:{"type":"Ready"}': { '.': {}, 'f:status': {} } } } } }],
    },
    spec: { providerID: `aws:///eu-west-1a/i-0${i.toString(16).padStart(16, '0')}` },
    status: {
      allocatable: { cpu: '1930m', memory: '7291536Ki', pods: '29' },
      capacity: { cpu: '2', memory: '7934608Ki', pods: '29' },
      conditions: ['MemoryPressure', 'DiskPressure', 'PIDPressure'].map((type) => ({ type, status: 'False', lastHeartbeatTime: TIME, lastTransitionTime: TIME, reason: `KubeletHas${type === 'PIDPressure' ? 'Sufficient' : 'No'}${type}`, message: 'kubelet is fine' }))
        .concat([{ type: 'Ready', status: 'True', lastHeartbeatTime: TIME, lastTransitionTime: TIME, reason: 'KubeletReady', message: 'kubelet is posting ready status' }]),
      images: Array.from({ length: 8 }, (_, k) => ({ names: [`registry.example.com/image-${k}@sha256:${'ab'.repeat(32)}`, `registry.example.com/image-${k}:v1.${k}`], sizeBytes: 10_000_000 + k })),
      nodeInfo: { kubeletVersion: 'v1.33.0', containerRuntimeVersion: 'containerd://2.0.0', osImage: 'Amazon Linux 2023', architecture: 'amd64', operatingSystem: 'linux' },
    },
  };
}

function pod(ds: string, nodeName: string, i: number) {
  const name = `${ds}-${i.toString(36).padStart(5, 'x')}`;
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: {
      name, namespace: NS, uid: `uid-pod-${ds}-${i}`, resourceVersion: String(9000 + i), creationTimestamp: TIME, generateName: `${ds}-`,
      labels: { 'app.kubernetes.io/name': ds, 'controller-revision-hash': HASH(ds), 'pod-template-generation': '1' },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'DaemonSet', name: ds, uid: `uid-${ds}`, controller: true, blockOwnerDeletion: true }],
      managedFields: [
        { apiVersion: 'v1', fieldsType: 'FieldsV1', manager: 'kube-controller-manager', operation: 'Update', time: TIME, fieldsV1: { 'f:metadata': { 'f:generateName': {}, 'f:labels': { '.': {}, 'f:app.kubernetes.io/name': {}, 'f:controller-revision-hash': {} }, 'f:ownerReferences': { '.': {}, [`k:{"uid":"uid-${ds}"}`]: {} } }, 'f:spec': { 'f:affinity': { '.': {}, 'f:nodeAffinity': { '.': {}, 'f:requiredDuringSchedulingIgnoredDuringExecution': {} } }, [`f:containers`]: { [`k:{"name":"${ds}"}`]: { '.': {}, 'f:image': {}, 'f:name': {}, 'f:resources': { '.': {}, 'f:requests': {} } } } } } },
        { apiVersion: 'v1', fieldsType: 'FieldsV1', manager: 'kubelet', operation: 'Update', subresource: 'status', time: TIME, fieldsV1: { 'f:status': { 'f:conditions': { 'k:{"type":"Ready"}': { '.': {}, 'f:lastProbeTime': {}, 'f:lastTransitionTime': {}, 'f:status': {}, 'f:type': {} } }, 'f:containerStatuses': {}, 'f:hostIP': {}, 'f:phase': {}, 'f:podIP': {}, 'f:startTime': {} } } },
      ],
    },
    spec: {
      affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: [nodeName] }] }] } } },
      ...template(ds).spec,
      nodeName,
      serviceAccountName: ds,
      volumes: [{ name: 'kube-api-access', projected: { defaultMode: 420, sources: [{ serviceAccountToken: { expirationSeconds: 3607, path: 'token' } }] } }],
    },
    status: {
      phase: 'Running', hostIP: '10.0.0.1', podIP: `10.1.${i % 250}.${i % 199}`, startTime: TIME, qosClass: 'Burstable',
      conditions: ['Initialized', 'Ready', 'ContainersReady', 'PodScheduled'].map((type) => ({ type, status: 'True', lastProbeTime: null, lastTransitionTime: TIME })),
      containerStatuses: [{ name: ds, ready: true, started: true, restartCount: 0, image: `registry.example.com/${ds}:1.2.3`, imageID: `registry.example.com/${ds}@sha256:${'cd'.repeat(32)}`, containerID: `containerd://${'ef'.repeat(32)}`, state: { running: { startedAt: TIME } } }],
    },
  };
}

/** The items of a cluster of `nodes` nodes. */
function* items(nodes: number): Generator<unknown> {
  for (const ds of DAEMONSETS) yield daemonSet(ds, nodes);
  for (const ds of DAEMONSETS) yield revision(ds);
  for (let i = 0; i < nodes; i++) {
    const n = node(i);
    yield n;
    for (const ds of DAEMONSETS) yield pod(ds, n.metadata.name, i);
  }
}

/** kubectl's `-o yaml` List: `apiVersion`, `items` (block sequence at column 0), `kind`, `metadata`. */
function yamlList(nodes: number): string {
  const parts: string[] = ['apiVersion: v1\nitems:\n'];
  for (const item of items(nodes)) {
    const text = stringify(item, { lineWidth: 0 });
    parts.push(text.replace(/\n(?=.)/g, '\n  ').replace(/^/, '- '));
  }
  parts.push('kind: List\nmetadata:\n  resourceVersion: ""\n');
  return parts.join('');
}

/** kubectl's `-o json` List (4-space indentation). */
function jsonList(nodes: number): string {
  return `${JSON.stringify({ apiVersion: 'v1', items: [...items(nodes)], kind: 'List', metadata: { resourceVersion: '' } }, null, 4)}\n`;
}

function sized(format: 'yaml' | 'json', bytes: number): string {
  const render = format === 'yaml' ? yamlList : jsonList;
  const perNode = Buffer.byteLength(render(20)) / 20;
  let nodes = Math.max(1, Math.round(bytes / perNode));
  let text = render(nodes);
  nodes = Math.max(1, Math.round((nodes * bytes) / Buffer.byteLength(text)));
  text = render(nodes);
  return text;
}

const RSS_HOOK = `data:text/javascript,${encodeURIComponent("import { writeSync } from 'node:fs'; process.on('exit', () => { const u = process.resourceUsage(); writeSync(2, `\\nmaxrss-kib=${u.maxRSS} cpu-us=${u.userCPUTime + u.systemCPUTime}\\n`); });")}`;

interface Run { readonly exitCode: number | null; readonly maxRssBytes: number; readonly cpuSeconds: number; readonly stdoutBytes: number; readonly stderrTail: string; readonly seconds: number }

function planProcess(root: string, file: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(process.execPath, ['--import', RSS_HOOK, join(root, 'bin/daemonless.js'), 'plan', '--file', file, '--output', 'json', '--now', '2026-11-02T00:00:00Z'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdoutBytes = 0;
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => { stdoutBytes += b.length; });
    child.stderr.on('data', (b: Buffer) => { stderr += b.toString('utf8'); });
    child.on('error', reject);
    child.on('close', (exitCode) => {
      const m = /maxrss-kib=(\d+) cpu-us=(\d+)/.exec(stderr);
      resolve({ exitCode, maxRssBytes: m ? Number(m[1]) * 1024 : NaN, cpuSeconds: m ? Number(m[2]) / 1e6 : NaN, stdoutBytes, stderrTail: stderr.replace(/maxrss-kib=\d+ cpu-us=\d+/, '').trim().split('\n').slice(-3).join(' | '), seconds: Number(process.hrtime.bigint() - started) / 1e9 });
    });
  });
}

export interface PlanMemoryResult {
  readonly format: 'yaml' | 'json';
  readonly inputBytes: number;
  readonly exitCode: number | null;
  readonly peakRssBytes: number;
  readonly baselineRssBytes: number;
  readonly peakRssPerInputByte: number;
  readonly aboveBaselinePerInputByte: number;
  readonly seconds: number;
  /** CPU time of the process (user + system): steadier than `seconds` on a shared machine. */
  readonly cpuSeconds: number;
}

export async function runPlanMemory(mb: number, formats: readonly ('yaml' | 'json')[], root: string = ROOT): Promise<PlanMemoryResult[]> {
  const dir = mkdtempSync(join(tmpdir(), 'daemonless-plan-memory-'));
  const results: PlanMemoryResult[] = [];
  try {
    for (const format of formats) {
      const small = join(dir, `small.${format}`);
      writeFileSync(small, format === 'yaml' ? yamlList(1) : jsonList(1));
      const baseline = await planProcess(root, small);
      const file = join(dir, `big.${format}`);
      const text = sized(format, mb * 1e6);
      writeFileSync(file, text);
      const inputBytes = Buffer.byteLength(text);
      const run = await planProcess(root, file);
      if (run.exitCode !== 0) console.error(`plan of the ${format} snapshot exited ${run.exitCode}: ${run.stderrTail}`);
      results.push({
        format, inputBytes, exitCode: run.exitCode, peakRssBytes: run.maxRssBytes, baselineRssBytes: baseline.maxRssBytes,
        peakRssPerInputByte: Number((run.maxRssBytes / inputBytes).toFixed(2)),
        aboveBaselinePerInputByte: Number(((run.maxRssBytes - baseline.maxRssBytes) / inputBytes).toFixed(2)),
        seconds: Number(run.seconds.toFixed(1)),
        cpuSeconds: Number(run.cpuSeconds.toFixed(1)),
      });
      rmSync(file);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return results;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const flags = parseFlags();
  const format = flags.string('format', 'both');
  const results = await runPlanMemory(flags.number('mb', 50), format === 'both' ? ['yaml', 'json'] : [format as 'yaml' | 'json'], flags.string('root', ROOT));
  const mib = (b: number) => `${(b / 1048576).toFixed(0)} MiB`;
  for (const r of results) {
    console.log(`${r.format}: input ${(r.inputBytes / 1e6).toFixed(1)} MB, exit ${r.exitCode}, peak RSS ${mib(r.peakRssBytes)} = ${r.peakRssPerInputByte}× the input `
      + `(runtime alone ${mib(r.baselineRssBytes)}; above it ${r.aboveBaselinePerInputByte}×), ${r.seconds} s (${r.cpuSeconds} s of CPU)`);
  }
  const out = flags.string('out', '');
  if (out !== '') {
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
  }
}
