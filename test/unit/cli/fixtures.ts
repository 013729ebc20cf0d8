import { plan } from '../../../lib/core/index.js';

/** Snapshot texts shared by the CLI tests (raw API YAML/JSON, timestamps as strings). */
export const VALID_YAML = `apiVersion: v1
kind: List
items:
- apiVersion: apps/v1
  kind: DaemonSet
  metadata: {name: nginx-ds, namespace: default, uid: u1, generation: 2, annotations: {deprecated.daemonset.template.generation: "1"}}
  spec:
    selector: {matchLabels: {k8s-app: nginx}}
    template:
      metadata: {labels: {k8s-app: nginx}}
      spec:
        containers: [{name: nginx, image: "nginx:1.7.9"}]
  status: {currentNumberScheduled: 0, desiredNumberScheduled: 0, numberMisscheduled: 0, numberReady: 0, observedGeneration: 1, conditions: [{type: Custom, status: "True"}]}
- {apiVersion: v1, kind: Node, metadata: {name: master}, spec: {taints: [{key: node-role.kubernetes.io/master, effect: NoExecute}]}}
- {apiVersion: v1, kind: Node, metadata: {name: node-1}}
- {apiVersion: v1, kind: Node, metadata: {name: node-2}}
- {apiVersion: v1, kind: ConfigMap, metadata: {name: ignored, namespace: default}}
- apiVersion: v1
  kind: Pod
  metadata:
    name: nginx-ds-old
    namespace: default
    uid: p1
    creationTimestamp: "2024-01-01T00:00:00Z"
    labels: {k8s-app: nginx}
    ownerReferences: [{apiVersion: apps/v1, kind: DaemonSet, name: nginx-ds, uid: u1, controller: true}]
  spec: {nodeName: master, containers: [{name: c, image: x}]}
  status: {phase: Running, conditions: [{type: Ready, status: "True", lastTransitionTime: "2024-01-01T00:00:00Z"}]}
`;

export const DELETING_DS_JSON = JSON.stringify({
  apiVersion: 'apps/v1',
  kind: 'DaemonSet',
  metadata: { name: 'gone', namespace: 'kube-system', uid: 'u2', generation: 1, deletionTimestamp: '2024-01-01T00:00:00Z' },
  spec: { selector: { matchLabels: { a: 'b' } }, template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'c', image: 'x' }] } } },
});

export const NODE_JSON = JSON.stringify({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-1' } });

export const EMPTY_SELECTOR_YAML = `apiVersion: apps/v1
kind: DaemonSet
metadata: {name: bad, namespace: default}
spec:
  selector: {}
  template:
    metadata: {labels: {a: b}}
    spec: {containers: [{name: c, image: x}]}
`;

export const BOTH_BUDGETS_YAML = `apiVersion: apps/v1
kind: DaemonSet
metadata: {name: both, namespace: default}
spec:
  selector: {matchLabels: {a: b}}
  updateStrategy: {type: RollingUpdate, rollingUpdate: {maxUnavailable: 1, maxSurge: 1}}
  template:
    metadata: {labels: {a: b}}
    spec: {containers: [{name: c, image: x}]}
`;

export const NO_METADATA_YAML = `apiVersion: v1
kind: Node
spec: {}
`;

export const NOT_YAML = 'kind: [\n';

/** A "billion laughs" document: nine levels of nine aliases each. */
export const ALIAS_BOMB_YAML = [
  'apiVersion: v1',
  'kind: List',
  'metadata:',
  '  a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]',
  ...Array.from({ length: 8 }, (_, i) => `  a${i + 1}: &a${i + 1} [${Array.from({ length: 9 }, () => `*a${i}`).join(', ')}]`),
  'items:',
  '- {apiVersion: v1, kind: Node, metadata: {name: n, labels: {x: y}}, spec: {bomb: *a8}}',
  '',
].join('\n');

export const NODE_WITHOUT_NAME_YAML = `apiVersion: v1
kind: List
items:
- {apiVersion: v1, kind: Node, metadata: {labels: {a: b}}}
`;

export const LABELS_STRING_YAML = `apiVersion: v1
kind: Pod
metadata: {name: p, namespace: default, labels: "str"}
spec: {nodeName: n}
`;

export const TAINTS_NOT_A_LIST_YAML = `apiVersion: v1
kind: Node
metadata: {name: n1}
spec: {taints: "notalist"}
`;

export const REVISION_NOT_JSON_YAML = `apiVersion: apps/v1
kind: ControllerRevision
metadata: {name: r1, namespace: default}
revision: 1
data: "{not json"
`;

const CONVERGE_AT = new Date('2024-05-01T00:00:00Z');
const DS = {
  apiVersion: 'apps/v1', kind: 'DaemonSet',
  metadata: { name: 'agent', namespace: 'default', uid: 'ds-uid', generation: 1 },
  spec: { selector: { matchLabels: { app: 'agent' } }, template: { metadata: { labels: { app: 'agent' } }, spec: { containers: [{ name: 'c', image: 'agent:1' }] } } },
};
const NODE = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-1' }, status: { conditions: [{ type: 'Ready', status: 'True' }] } };

/**
 * A snapshot the controller has converged: its own plan's revision and pod, the pod running and
 * ready, the status the pass computed. `extra` objects are added to the List.
 */
export function convergedSnapshot(extra: readonly object[] = []): string {
  const first = plan({ daemonSet: DS, nodes: [NODE], pods: [], revisions: [], complete: true }, CONVERGE_AT);
  const created = first.createPods[0]?.pod;
  const rev = first.revisions.create;
  if (!created || !rev) throw new Error('the first pass should create a pod and a revision');
  const revision = { ...rev, metadata: { ...rev.metadata, uid: 'rev-uid', creationTimestamp: new Date('2024-04-01T00:00:00Z') } };
  const pod = {
    ...created,
    metadata: { ...created.metadata, uid: 'pod-uid', creationTimestamp: new Date('2024-04-01T00:00:00Z') },
    spec: { ...created.spec, containers: created.spec?.containers ?? [], nodeName: 'node-1' },
    status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: new Date('2024-04-01T00:00:00Z') }] },
  };
  const second = plan({ daemonSet: DS, nodes: [NODE], pods: [pod], revisions: [revision], complete: true }, CONVERGE_AT);
  return JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [{ ...DS, status: second.status }, NODE, pod, revision, ...extra] });
}

/** An orphan pod the DaemonSet's selector matches (the pass adopts it). */
export const ORPHAN_POD = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'stray', namespace: 'default', uid: 'stray-uid', labels: { app: 'agent' } }, spec: { nodeName: 'node-9', containers: [{ name: 'c', image: 'x' }] }, status: { phase: 'Running' } };
