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
