import type { V1DaemonSet, V1Pod } from '@kubernetes/client-node';
import { CONTROLLER_REVISION_HASH_LABEL, POD_TEMPLATE_GENERATION_LABEL } from '../../lib/core/index.js';
import { T0 } from './clock.js';
import { hashOf } from './revision.js';

/**
 * Fluent, immutable Pod builder:
 * daemonPod(ds, 'p0').onNode('node-0').ready(at(10)).build().
 * Defaults: the catalogue's "owned pod": controller ownerRef → ds, labels = template labels +
 * the hash the planner gives ds's current template, phase Running, not Ready, created at T0.
 */
export class PodBuilder {
  constructor(private readonly obj: V1Pod) {}

  private with(patch: (p: V1Pod) => void): PodBuilder {
    const copy = structuredClone(this.obj);
    patch(copy);
    return new PodBuilder(copy);
  }

  /** Bound to the node (`spec.nodeName`). */
  onNode(node: string): PodBuilder {
    return this.with((p) => {
      p.spec = { ...p.spec, containers: p.spec?.containers ?? [], nodeName: node };
    });
  }

  /** Unbound, targeting the node through required node affinity (affinity placement). */
  targeting(node: string): PodBuilder {
    return this.with((p) => {
      p.spec = {
        ...p.spec,
        containers: p.spec?.containers ?? [],
        affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: [node] }] }] } } },
      };
    });
  }

  /** Replaces the labels, keeping the hash label if the pod has one (use `old()` to drop it). */
  labels(labels: Readonly<Record<string, string>>): PodBuilder {
    return this.with((p) => {
      const hash = p.metadata?.labels?.[CONTROLLER_REVISION_HASH_LABEL];
      p.metadata = { ...p.metadata, labels: { ...labels, ...(hash !== undefined ? { [CONTROLLER_REVISION_HASH_LABEL]: hash } : {}) } };
    });
  }

  label(key: string, value: string): PodBuilder {
    return this.with((p) => {
      p.metadata = { ...p.metadata, labels: { ...(p.metadata?.labels ?? {}), [key]: value } };
    });
  }

  hash(hash: string): PodBuilder {
    return this.label(CONTROLLER_REVISION_HASH_LABEL, hash);
  }

  /** An "old pod": no hash label and no template-generation label. */
  old(): PodBuilder {
    return this.with((p) => {
      delete p.metadata?.labels?.[CONTROLLER_REVISION_HASH_LABEL];
      delete p.metadata?.labels?.[POD_TEMPLATE_GENERATION_LABEL];
    });
  }

  created(at: Date): PodBuilder {
    return this.with((p) => {
      p.metadata = { ...p.metadata, creationTimestamp: at };
    });
  }

  ready(since: Date = T0): PodBuilder {
    return this.with((p) => {
      p.status = { ...p.status, phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: since }] };
    });
  }

  notReady(): PodBuilder {
    return this.with((p) => {
      p.status = { ...p.status, conditions: [{ type: 'Ready', status: 'False' }] };
    });
  }

  phase(phase: 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Unknown'): PodBuilder {
    return this.with((p) => {
      p.status = { ...p.status, phase };
    });
  }

  deleting(at: Date = T0): PodBuilder {
    return this.with((p) => {
      p.metadata = { ...p.metadata, deletionTimestamp: at, deletionGracePeriodSeconds: 30 };
    });
  }

  finalizers(finalizers: readonly string[]): PodBuilder {
    return this.with((p) => {
      p.metadata = { ...p.metadata, finalizers: [...finalizers] };
    });
  }

  orphan(): PodBuilder {
    return this.with((p) => {
      delete p.metadata?.ownerReferences;
    });
  }

  ownedBy(ds: V1DaemonSet): PodBuilder {
    return this.with((p) => {
      p.metadata = {
        ...p.metadata,
        ownerReferences: [{ apiVersion: 'apps/v1', kind: 'DaemonSet', name: ds.metadata?.name ?? '', uid: ds.metadata?.uid ?? '', controller: true, blockOwnerDeletion: true }],
      };
    });
  }

  namespace(ns: string): PodBuilder {
    return this.with((p) => {
      p.metadata = { ...p.metadata, namespace: ns };
    });
  }

  hostPort(port: number): PodBuilder {
    return this.with((p) => {
      p.spec = { ...p.spec, containers: [{ name: 'c', image: 'x', ports: [{ containerPort: port, hostPort: port }] }] };
    });
  }

  build(): V1Pod {
    return structuredClone(this.obj);
  }
}

/** An owned daemon pod of `ds` named `name` (see the class comment). */
export function daemonPod(ds: V1DaemonSet, name: string): PodBuilder {
  return new PodBuilder({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: ds.metadata?.namespace ?? '',
      uid: `uid-pod-${name}`,
      creationTimestamp: T0,
      labels: { ...(ds.spec?.template?.metadata?.labels ?? {}), [CONTROLLER_REVISION_HASH_LABEL]: hashOf(ds) },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'DaemonSet', name: ds.metadata?.name ?? '', uid: ds.metadata?.uid ?? '', controller: true, blockOwnerDeletion: true }],
    },
    spec: { containers: [{ name: 'foo', image: 'foo/bar' }] },
    status: { phase: 'Running' },
  });
}

/** A pod that belongs to no DaemonSet. */
export function plainPod(name: string, namespace: string): PodBuilder {
  return new PodBuilder({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, uid: `uid-pod-${name}`, creationTimestamp: T0 },
    spec: { containers: [{ name: 'c', image: 'x' }] },
    status: { phase: 'Running' },
  });
}
