/** Realistic webhook payloads with deterministic names, uids and resourceVersions. */
export const T0 = Date.UTC(2026, 10, 28, 12, 0, 0);

export function node(name: string, o: { labels?: Record<string, string>; taints?: { key: string; value?: string; effect: string; timeAdded?: string }[]; rv?: string; extra?: Record<string, unknown> } = {}) {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      uid: `uid-node-${name}`,
      resourceVersion: o.rv ?? '100',
      labels: { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux', ...o.labels },
      managedFields: [{ manager: 'kubelet', operation: 'Update', fieldsType: 'FieldsV1', fieldsV1: { 'f:metadata': { 'f:labels': { '.': {} } } } }],
    },
    spec: { podCIDR: '10.0.1.0/24', ...(o.taints === undefined ? {} : { taints: o.taints }) },
    status: { conditions: [{ type: 'Ready', status: 'True' }], allocatable: { cpu: '4', memory: '16Gi' }, ...o.extra },
  };
}

export function pod(name: string, o: { namespace?: string; owner?: { kind?: string; name: string; apiVersion?: string; uid?: string; controller?: boolean } | null; labels?: Record<string, string>; rv?: string; deleting?: boolean; nodeName?: string } = {}) {
  const owner = o.owner === undefined ? { name: 'fluentd' } : o.owner;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: o.namespace ?? 'logging',
      uid: `uid-pod-${name}`,
      resourceVersion: o.rv ?? '200',
      labels: o.labels ?? { app: 'fluentd', 'controller-revision-hash': '6b7f8c9d4' },
      ...(owner === null ? {} : {
        ownerReferences: [{
          apiVersion: owner.apiVersion ?? 'apps/v1', kind: owner.kind ?? 'DaemonSet', name: owner.name,
          uid: owner.uid ?? `uid-ds-${owner.name}`, controller: owner.controller ?? true, blockOwnerDeletion: true,
        }],
      }),
      ...(o.deleting === true ? { deletionTimestamp: '2026-11-28T12:00:00Z', deletionGracePeriodSeconds: 30 } : {}),
    },
    spec: {
      nodeName: o.nodeName ?? 'node-1',
      containers: [{ name: 'fluentd', image: 'fluent/fluentd:v1.17', env: [{ name: 'TOKEN', value: 'not-for-logs' }] }],
      tolerations: [{ key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' }],
    },
    status: { phase: 'Running' },
  };
}

export function daemonSet(name: string, o: { namespace?: string; apiVersion?: string; rv?: string } = {}) {
  return {
    apiVersion: o.apiVersion ?? 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name, namespace: o.namespace ?? 'logging', uid: `uid-ds-${name}`, resourceVersion: o.rv ?? '300', generation: 2 },
    spec: {
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name, image: `${name}:1` }] } },
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1 } },
    },
  };
}

type Op = 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';

export function admissionReview(o: {
  uid?: string; operation: Op; object?: unknown; oldObject?: unknown; dryRun?: boolean; subResource?: string;
  kind?: { group: string; version: string; kind: string }; resource?: string; name?: string; namespace?: string;
}) {
  const obj = (o.object ?? o.oldObject) as { kind?: string; apiVersion?: string; metadata?: { name?: string; namespace?: string } } | undefined;
  const apiVersion = obj?.apiVersion ?? 'v1';
  const group = apiVersion.includes('/') ? apiVersion.split('/')[0]! : '';
  const kind = o.kind ?? { group, version: apiVersion.split('/').pop()!, kind: obj?.kind ?? 'Pod' };
  const resource = o.resource ?? `${kind.kind.toLowerCase()}s`;
  return {
    kind: 'AdmissionReview',
    apiVersion: 'admission.k8s.io/v1',
    request: {
      uid: o.uid ?? '705ab4f5-6393-11e8-b7cc-42010a800002',
      kind,
      resource: { group: kind.group, version: kind.version, resource },
      ...(o.subResource === undefined ? {} : { subResource: o.subResource }),
      requestKind: kind,
      requestResource: { group: kind.group, version: kind.version, resource },
      name: o.name ?? obj?.metadata?.name ?? '',
      ...(kind.kind === 'Node' ? {} : { namespace: o.namespace ?? obj?.metadata?.namespace ?? 'logging' }),
      operation: o.operation,
      userInfo: { username: 'system:serviceaccount:kube-system:daemon-set-controller', uid: 'u-1', groups: ['system:serviceaccounts'] },
      object: o.operation === 'DELETE' ? null : o.object ?? null,
      oldObject: o.oldObject ?? null,
      dryRun: o.dryRun ?? false,
      options: { apiVersion: 'meta.k8s.io/v1', kind: o.operation === 'CREATE' ? 'CreateOptions' : o.operation === 'UPDATE' ? 'UpdateOptions' : 'DeleteOptions' },
    },
  };
}

export function auditEvent(o: { auditID: string; verb: string; resource: string; namespace?: string; name?: string; apiGroup?: string; stage?: string; code?: number; responseObject?: unknown; requestObject?: unknown; subresource?: string }) {
  return {
    level: o.responseObject === undefined ? 'Metadata' : 'RequestResponse',
    auditID: o.auditID,
    stage: o.stage ?? 'ResponseComplete',
    requestURI: `/api/v1/${o.resource}`,
    verb: o.verb,
    user: { username: 'system:node:node-1', groups: ['system:nodes'] },
    sourceIPs: ['10.0.0.1'],
    objectRef: {
      resource: o.resource,
      ...(o.namespace === undefined ? {} : { namespace: o.namespace }),
      ...(o.name === undefined ? {} : { name: o.name }),
      ...(o.apiGroup === undefined ? {} : { apiGroup: o.apiGroup }),
      apiVersion: 'v1',
      ...(o.subresource === undefined ? {} : { subresource: o.subresource }),
    },
    responseStatus: { metadata: {}, code: o.code ?? 200 },
    ...(o.responseObject === undefined ? {} : { responseObject: o.responseObject }),
    ...(o.requestObject === undefined ? {} : { requestObject: o.requestObject }),
    requestReceivedTimestamp: '2026-11-28T12:00:00.000000Z',
    stageTimestamp: '2026-11-28T12:00:00.010000Z',
    annotations: { 'authorization.k8s.io/decision': 'allow' },
  };
}

export const eventList = (items: unknown[]) => ({ kind: 'EventList', apiVersion: 'audit.k8s.io/v1', metadata: {}, items });
