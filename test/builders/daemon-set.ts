import type {
  IntOrString,
  V1Affinity,
  V1DaemonSet,
  V1DaemonSetStatus,
  V1LabelSelector,
  V1NodeSelectorTerm,
  V1Toleration,
} from '@kubernetes/client-node';
import { TEMPLATE_GENERATION_ANNOTATION } from '../../lib/core/index.js';
import { L1, NAMESPACE } from './labels.js';

/**
 * Fluent, immutable DaemonSet builder. `daemonSet('foo')` is the catalogue's DS-foo: selector and
 * template labels L1, one container foo/bar, terminationGracePeriodSeconds 0, revisionHistoryLimit 2,
 * RollingUpdate maxUnavailable 1 (API defaults), generation 1, template generation 1.
 * Template changes (`image`, `tolerations`, …) through `update()` bump generation and template
 * generation the way the API server does (API-5).
 */
export class DaemonSetBuilder {
  constructor(private readonly obj: V1DaemonSet) {}

  private with(patch: (d: V1DaemonSet) => void): DaemonSetBuilder {
    const copy = structuredClone(this.obj);
    patch(copy);
    return new DaemonSetBuilder(copy);
  }

  private spec(d: V1DaemonSet) {
    return d.spec as NonNullable<V1DaemonSet['spec']>;
  }

  private podSpec(d: V1DaemonSet) {
    const t = this.spec(d).template;
    t.spec ??= { containers: [] };
    return t.spec;
  }

  /** A DaemonSet update as the API server applies it: generation + 1, template generation + 1 when the template changed. */
  update(change: (b: DaemonSetBuilder) => DaemonSetBuilder): DaemonSetBuilder {
    const next = change(this).build();
    const before = JSON.stringify(this.obj.spec?.template);
    const specChanged = JSON.stringify(this.obj.spec) !== JSON.stringify(next.spec);
    const templateChanged = before !== JSON.stringify(next.spec?.template);
    return new DaemonSetBuilder(next).with((d) => {
      d.metadata ??= {};
      if (specChanged) d.metadata.generation = (this.obj.metadata?.generation ?? 1) + 1;
      if (templateChanged) {
        const tg = Number(this.obj.metadata?.annotations?.[TEMPLATE_GENERATION_ANNOTATION] ?? '1');
        d.metadata.annotations = { ...(d.metadata.annotations ?? {}), [TEMPLATE_GENERATION_ANNOTATION]: String(tg + 1) };
      }
    });
  }

  uid(uid: string): DaemonSetBuilder {
    return this.with((d) => {
      d.metadata = { ...d.metadata, uid };
    });
  }

  namespace(ns: string): DaemonSetBuilder {
    return this.with((d) => {
      d.metadata = { ...d.metadata, namespace: ns };
    });
  }

  generation(generation: number): DaemonSetBuilder {
    return this.with((d) => {
      d.metadata = { ...d.metadata, generation };
    });
  }

  annotations(annotations: Readonly<Record<string, string>>): DaemonSetBuilder {
    return this.with((d) => {
      d.metadata = { ...d.metadata, annotations: { ...(d.metadata?.annotations ?? {}), ...annotations } };
    });
  }

  withoutTemplateGeneration(): DaemonSetBuilder {
    return this.with((d) => {
      delete d.metadata?.annotations?.[TEMPLATE_GENERATION_ANNOTATION];
    });
  }

  deleting(at: Date): DaemonSetBuilder {
    return this.with((d) => {
      d.metadata = { ...d.metadata, deletionTimestamp: at, finalizers: ['foregroundDeletion'] };
    });
  }

  selector(selector: V1LabelSelector): DaemonSetBuilder {
    return this.with((d) => {
      this.spec(d).selector = selector;
    });
  }

  templateLabels(labels: Readonly<Record<string, string>>): DaemonSetBuilder {
    return this.with((d) => {
      this.spec(d).template.metadata = { ...this.spec(d).template.metadata, labels: { ...labels } };
    });
  }

  templateFinalizers(finalizers: readonly string[]): DaemonSetBuilder {
    return this.with((d) => {
      this.spec(d).template.metadata = { ...this.spec(d).template.metadata, finalizers: [...finalizers] };
    });
  }

  image(image: string): DaemonSetBuilder {
    return this.with((d) => {
      const c = this.podSpec(d).containers[0];
      if (c) c.image = image;
    });
  }

  env(name: string, value: string): DaemonSetBuilder {
    return this.with((d) => {
      const c = this.podSpec(d).containers[0];
      if (c) c.env = [{ name, value }];
    });
  }

  terminationGracePeriodSeconds(seconds: number): DaemonSetBuilder {
    return this.with((d) => {
      this.podSpec(d).terminationGracePeriodSeconds = seconds;
    });
  }

  nodeSelector(selector: Readonly<Record<string, string>>): DaemonSetBuilder {
    return this.with((d) => {
      this.podSpec(d).nodeSelector = { ...selector };
    });
  }

  requiredAffinity(terms: V1NodeSelectorTerm[]): DaemonSetBuilder {
    return this.with((d) => {
      const aff: V1Affinity = this.podSpec(d).affinity ?? {};
      this.podSpec(d).affinity = { ...aff, nodeAffinity: { ...aff.nodeAffinity, requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: terms } } };
    });
  }

  affinity(affinity: V1Affinity): DaemonSetBuilder {
    return this.with((d) => {
      this.podSpec(d).affinity = structuredClone(affinity);
    });
  }

  tolerations(tolerations: V1Toleration[]): DaemonSetBuilder {
    return this.with((d) => {
      this.podSpec(d).tolerations = structuredClone(tolerations);
    });
  }

  templateNodeName(nodeName: string): DaemonSetBuilder {
    return this.with((d) => {
      this.podSpec(d).nodeName = nodeName;
    });
  }

  hostNetwork(): DaemonSetBuilder {
    return this.with((d) => {
      this.podSpec(d).hostNetwork = true;
    });
  }

  resources(requests: Readonly<Record<string, string>>): DaemonSetBuilder {
    return this.with((d) => {
      const c = this.podSpec(d).containers[0];
      if (c) c.resources = { requests: { ...requests } };
    });
  }

  hostPort(port: number): DaemonSetBuilder {
    return this.with((d) => {
      const c = this.podSpec(d).containers[0];
      if (c) c.ports = [{ containerPort: port, hostPort: port }];
    });
  }

  onDelete(): DaemonSetBuilder {
    return this.with((d) => {
      this.spec(d).updateStrategy = { type: 'OnDelete' };
    });
  }

  /** RU(n): RollingUpdate, maxUnavailable n, maxSurge 0. */
  rollingUpdate(maxUnavailable: IntOrString = 1, maxSurge: IntOrString = 0): DaemonSetBuilder {
    return this.with((d) => {
      this.spec(d).updateStrategy = { type: 'RollingUpdate', rollingUpdate: { maxUnavailable, maxSurge } };
    });
  }

  /** SG(n): RollingUpdate, maxUnavailable 0, maxSurge n. */
  surge(maxSurge: IntOrString): DaemonSetBuilder {
    return this.rollingUpdate(0, maxSurge);
  }

  /** Both strategies: OD or RU(1). */
  strategy(kind: 'OnDelete' | 'RollingUpdate'): DaemonSetBuilder {
    return kind === 'OnDelete' ? this.onDelete() : this.rollingUpdate(1);
  }

  minReadySeconds(seconds: number): DaemonSetBuilder {
    return this.with((d) => {
      this.spec(d).minReadySeconds = seconds;
    });
  }

  revisionHistoryLimit(limit: number): DaemonSetBuilder {
    return this.with((d) => {
      this.spec(d).revisionHistoryLimit = limit;
    });
  }

  status(status: V1DaemonSetStatus): DaemonSetBuilder {
    return this.with((d) => {
      d.status = structuredClone(status);
    });
  }

  build(): V1DaemonSet {
    return structuredClone(this.obj);
  }
}

/** DS-foo of the scenario catalogue (see the class comment). */
export function daemonSet(name = 'foo'): DaemonSetBuilder {
  return new DaemonSetBuilder({
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: {
      name,
      namespace: NAMESPACE,
      uid: `uid-ds-${name}`,
      generation: 1,
      resourceVersion: '1',
      annotations: { [TEMPLATE_GENERATION_ANNOTATION]: '1' },
    },
    spec: {
      selector: { matchLabels: { ...L1 } },
      template: {
        metadata: { labels: { ...L1 } },
        spec: {
          containers: [{ name: 'foo', image: 'foo/bar', imagePullPolicy: 'IfNotPresent', terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'File' }],
          restartPolicy: 'Always',
          dnsPolicy: 'ClusterFirst',
          schedulerName: 'default-scheduler',
          securityContext: {},
          terminationGracePeriodSeconds: 0,
        },
      },
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } },
      revisionHistoryLimit: 2,
    },
    status: { currentNumberScheduled: 0, numberMisscheduled: 0, desiredNumberScheduled: 0, numberReady: 0 },
  });
}
