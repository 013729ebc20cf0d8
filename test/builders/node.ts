import type { V1Node, V1Taint } from '@kubernetes/client-node';

/** Fluent, immutable Node builder: node('node-0').labels({...}).taint({...}).build(). */
export class NodeBuilder {
  constructor(private readonly obj: V1Node) {}

  private with(patch: (n: V1Node) => V1Node): NodeBuilder {
    return new NodeBuilder(patch(structuredClone(this.obj)));
  }

  labels(labels: Readonly<Record<string, string>>): NodeBuilder {
    return this.with((n) => ({ ...n, metadata: { ...n.metadata, labels: { ...(n.metadata?.labels ?? {}), ...labels } } }));
  }

  taint(taint: V1Taint): NodeBuilder {
    return this.with((n) => ({ ...n, spec: { ...n.spec, taints: [...(n.spec?.taints ?? []), taint] } }));
  }

  unschedulable(): NodeBuilder {
    return this.with((n) => ({ ...n, spec: { ...n.spec, unschedulable: true } }));
  }

  condition(type: string, status: 'True' | 'False' | 'Unknown'): NodeBuilder {
    return this.with((n) => ({
      ...n,
      status: { ...n.status, conditions: [...(n.status?.conditions ?? []).filter((c) => c.type !== type), { type, status }] },
    }));
  }

  notReady(): NodeBuilder {
    return this.condition('Ready', 'False');
  }

  allocatable(resources: Readonly<Record<string, string>>): NodeBuilder {
    return this.with((n) => ({ ...n, status: { ...n.status, allocatable: { ...resources } } }));
  }

  build(): V1Node {
    return structuredClone(this.obj);
  }
}

/** A Ready node without labels or taints (the scenario catalogue's N(k) node). */
export function node(name: string): NodeBuilder {
  return new NodeBuilder({
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, uid: `uid-node-${name}` },
    spec: {},
    status: { conditions: [{ type: 'Ready', status: 'True' }] },
  });
}

/** N(k): node-0 … node-(k-1), optionally labelled; like upstream addNodes. */
export function nodes(count: number, labels: Readonly<Record<string, string>> = {}, start = 0): V1Node[] {
  return Array.from({ length: count }, (_, i) => node(`node-${start + i}`).labels(labels).build());
}
