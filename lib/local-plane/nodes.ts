/** Simulated nodes on a test plane: created through the API, made Ready by kwok, cleaned of the not-ready taint by node lifecycle. */
import { CoreV1Api, KubeConfig, type V1Node, type V1Taint } from '@kubernetes/client-node';
import { eventually } from './eventually.js';

export function kubeClient(kubeconfigPath: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  return kc;
}

export interface NodeSpec {
  readonly name: string;
  readonly labels?: Record<string, string>;
  readonly taints?: V1Taint[];
  readonly unschedulable?: boolean;
  /** Annotated for kwok to simulate its kubelet (default true; see ControlPlaneOptions.kwokAnnotatedNodesOnly). */
  readonly simulated?: boolean;
}

export function nodeObject(spec: NodeSpec): V1Node {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: spec.name,
      labels: {
        'kubernetes.io/hostname': spec.name,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        'type': 'kwok',
        ...spec.labels,
      },
      annotations: spec.simulated === false ? {} : { 'kwok.x-k8s.io/node': 'fake' },
    },
    spec: { taints: spec.taints, unschedulable: spec.unschedulable },
    status: {
      allocatable: { cpu: '32', memory: '256Gi', pods: '110' },
      capacity: { cpu: '32', memory: '256Gi', pods: '110' },
    },
  };
}

const isReady = (n: V1Node) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
const hasStartupTaint = (n: V1Node) =>
  (n.spec?.taints ?? []).some((t) => t.key === 'node.kubernetes.io/not-ready' || t.key === 'node.kubernetes.io/unreachable');

/** Creates the nodes and waits until each is Ready and free of the not-ready/unreachable taints. */
export async function createReadyNodes(kc: KubeConfig, specs: readonly NodeSpec[], timeoutMs = 90_000): Promise<V1Node[]> {
  const core = kc.makeApiClient(CoreV1Api);
  await Promise.all(specs.map((s) => core.createNode({ body: nodeObject(s) })));
  return waitNodesReady(kc, specs.map((s) => s.name), timeoutMs);
}

export async function waitNodesReady(kc: KubeConfig, names: readonly string[], timeoutMs = 90_000): Promise<V1Node[]> {
  const core = kc.makeApiClient(CoreV1Api);
  return eventually(async () => {
    const nodes = await Promise.all(names.map((name) => core.readNode({ name })));
    const pending = nodes.filter((n) => !isReady(n) || hasStartupTaint(n)).map((n) => n.metadata?.name);
    if (pending.length) throw new Error(`nodes not ready yet: ${pending.join(', ')}`);
    return nodes;
  }, { timeoutMs, intervalMs: 500, what: 'nodes Ready' });
}

export async function deleteNodes(kc: KubeConfig, names: readonly string[]): Promise<void> {
  const core = kc.makeApiClient(CoreV1Api);
  await Promise.all(names.map((name) => core.deleteNode({ name }).catch((e: { code?: number }) => {
    if (e.code !== 404) throw e;
  })));
}
