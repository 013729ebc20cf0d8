/**
 * Building the pod the controller creates for a node (§4, POD-1..7).
 */
import type { V1Affinity, V1DaemonSet, V1Pod, V1PodSpec } from '@kubernetes/client-node';
import { isDaemonlessResource } from './managed-resource.js';
import { templateGeneration } from './daemon-set.js';
import { shortHash } from './hash.js';
import { CLUSTER_AUTOSCALER_DAEMONSET_POD_ANNOTATION, CONTROLLER_REVISION_HASH_LABEL, NODE_NAME_FIELD, POD_TEMPLATE_GENERATION_LABEL } from './labels.js';
import { deepCopy } from './objects.js';
import { controllerRefFor } from './ownership.js';
import { withDefaultDaemonTolerations } from './tolerations.js';
import type { PlacementMode } from './types.js';

/** Longest generated pod name; like the API server's generateName (58-char base + 5), ≤ 63. */
export const MAX_POD_NAME_LENGTH = 63;
/** Length of the hash suffix of generated pod names. */
export const POD_NAME_HASH_LENGTH = 10;

/**
 * The deterministic name of the daemon pod for (DaemonSet incarnation, node, revision hash,
 * attempt): `<ds name, cut to 52 chars>-<10-char safe hash>`, at most 63 characters and a valid
 * DNS subdomain whenever the DaemonSet name is one. The DaemonSet UID is part of the hash, so a
 * re-created DaemonSet never collides with pods of its predecessor (S-46). `attempt` > 0 is used
 * only when an object of the attempt-0 name still exists (e.g. a terminal pod held by a finalizer,
 * MANAGE-10, or a deleting pod in surge mode): see `choosePodName`. Never parse anything out of a
 * name; labels are the source of truth.
 */
export function daemonPodName(ds: V1DaemonSet, node: string, hash: string, attempt: number): string {
  const base = (ds.metadata?.name ?? 'daemon').slice(0, MAX_POD_NAME_LENGTH - POD_NAME_HASH_LENGTH - 1).replace(/[-.]+$/, '');
  const suffix = shortHash([ds.metadata?.uid ?? '', node, hash, String(attempt)], POD_NAME_HASH_LENGTH);
  return `${base}-${suffix}`;
}

/**
 * The first `daemonPodName` (attempt 0, 1, …) not in `taken`. Deterministic for a given snapshot,
 * so a replayed pass picks the same name and its create returns AlreadyExists.
 */
export function choosePodName(ds: V1DaemonSet, node: string, hash: string, taken: ReadonlySet<string>): string {
  for (let attempt = 0; ; attempt++) {
    const name = daemonPodName(ds, node, hash, attempt);
    if (!taken.has(name)) return name;
  }
}

/**
 * Mirrors `ReplaceDaemonSetPodNodeNameNodeAffinity`: the required node-affinity terms become the
 * single term `matchFields metadata.name In [node]`; preferred terms, pod (anti-)affinity are kept.
 */
export function replaceNodeNameAffinity(affinity: V1Affinity | undefined, node: string): V1Affinity {
  const term = { matchFields: [{ key: NODE_NAME_FIELD, operator: 'In', values: [node] }] };
  const base = affinity ? deepCopy(affinity) : {};
  return {
    ...base,
    nodeAffinity: {
      ...(base.nodeAffinity ?? {}),
      requiredDuringSchedulingIgnoredDuringExecution: {
        ...(base.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? {}),
        nodeSelectorTerms: [term],
      },
    },
  };
}

/**
 * The complete pod manifest for `node` (mirrors `CreatePodTemplate` + `GetPodFromTemplate` +
 * the affinity replacement in `syncNodes`):
 * - name from `choosePodName`, namespace of the DaemonSet, one controller ownerReference (POD-2);
 * - template labels + `controller-revision-hash` + `pod-template-generation` (when the DaemonSet
 *   annotation parses); template annotations and finalizers verbatim (POD-3);
 * - template spec + default daemon tolerations (POD-4);
 * - `affinity` placement: required node affinity replaced by `metadata.name In [node]` and the
 *   template's nodeName copied as is (POD-5); `nodeName` placement: `spec.nodeName = node` and
 *   the template's affinity untouched (POD-7);
 * - a pod of a `dlds` (apiVersion `daemonless.io/*`) also carries the annotation
 *   `cluster-autoscaler.kubernetes.io/daemonset-pod: "true"`, so that Cluster Autoscaler treats it
 *   as a daemon pod whatever its owner's API group (CRD-3). Native DaemonSets' pods are unchanged.
 */
export function buildDaemonPod(ds: V1DaemonSet, node: string, hash: string, placement: PlacementMode, name: string): V1Pod {
  const template = ds.spec?.template;
  const spec: V1PodSpec = deepCopy(template?.spec ?? { containers: [] });
  spec.tolerations = withDefaultDaemonTolerations(spec.tolerations, spec.hostNetwork === true);
  if (placement === 'nodeName') spec.nodeName = node;
  else spec.affinity = replaceNodeNameAffinity(spec.affinity, node);

  const labels: Record<string, string> = { ...(template?.metadata?.labels ?? {}) };
  const generation = templateGeneration(ds);
  if (generation !== undefined) labels[POD_TEMPLATE_GENERATION_LABEL] = generation;
  if (hash !== '') labels[CONTROLLER_REVISION_HASH_LABEL] = hash;

  const annotations = isDaemonlessResource(ds)
    ? { ...(template?.metadata?.annotations ?? {}), [CLUSTER_AUTOSCALER_DAEMONSET_POD_ANNOTATION]: 'true' }
    : template?.metadata?.annotations;
  const finalizers = template?.metadata?.finalizers;
  // The object header (apiVersion, kind, name, namespace, labels) has the shape of buildRevision's;
  // the values differ in every line, so each builder spells its own.
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: ds.metadata?.namespace ?? '',
      labels,
      ...(annotations && Object.keys(annotations).length > 0 ? { annotations: { ...annotations } } : {}),
      ...(finalizers && finalizers.length > 0 ? { finalizers: [...finalizers] } : {}),
      ownerReferences: [controllerRefFor(ds)],
    },
    spec,
  };
}
