/**
 * Which revision a pod belongs to (HIST-14).
 */
import type { V1Pod } from '@kubernetes/client-node';
import { CONTROLLER_REVISION_HASH_LABEL, POD_TEMPLATE_GENERATION_LABEL } from './labels.js';
import { labelsOf } from './objects.js';

/**
 * Mirrors `util.IsPodUpdated`: the pod's hash label equals the (non-empty) current hash, or its
 * `pod-template-generation` label equals the DaemonSet's template generation.
 */
export function isPodUpdated(pod: V1Pod, hash: string, templateGeneration: string | undefined): boolean {
  const labels = labelsOf(pod.metadata);
  const hashMatches = hash !== '' && labels[CONTROLLER_REVISION_HASH_LABEL] === hash;
  const generationMatches = templateGeneration !== undefined && labels[POD_TEMPLATE_GENERATION_LABEL] === templateGeneration;
  return hashMatches || generationMatches;
}
