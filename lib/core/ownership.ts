/**
 * Claiming pods and ControllerRevisions (§5, OWN-*), mirroring `ControllerRefManager.ClaimObject`.
 */
import type { V1DaemonSet, V1ObjectMeta, V1OwnerReference } from '@kubernetes/client-node';
import { controllerRefOf, isBeingDeleted, labelsOf } from './objects.js';
import type { OwnershipChange } from './types.js';

/** An object that has metadata (Pod, ControllerRevision). */
export interface HasMetadata {
  readonly metadata?: V1ObjectMeta;
}

/** The outcome of claiming a list of objects. */
export interface Claim<T extends HasMetadata> {
  /** Owned and matching, plus orphans to adopt (as they will be once adopted). */
  readonly claimed: readonly T[];
  readonly adopt: readonly T[];
  readonly release: readonly T[];
}

/** The controller ownerReference a DaemonSet puts on what it creates or adopts (POD-2). */
export function controllerRefFor(ds: V1DaemonSet): V1OwnerReference {
  return {
    apiVersion: ds.apiVersion ?? 'apps/v1',
    kind: ds.kind ?? 'DaemonSet',
    name: ds.metadata?.name ?? '',
    uid: ds.metadata?.uid ?? '',
    controller: true,
    blockOwnerDeletion: true,
  };
}

/**
 * Splits objects of the DaemonSet's namespace into claimed, to-adopt and to-release:
 * - controller ref with the DaemonSet's UID and selector match → claimed (OWN-2);
 * - controller ref with its UID, no match → release (OWN-3);
 * - controller ref to anything else → ignored (OWN-4);
 * - orphan, selector match, not being deleted → adopt (OWN-5), also counted as claimed.
 * Objects in other namespaces are ignored. The DaemonSet is assumed not to be deleting (SYNC-4).
 */
export function claimObjects<T extends HasMetadata>(ds: V1DaemonSet, objects: readonly T[], matches: (labels: Readonly<Record<string, string>>) => boolean): Claim<T> {
  const ns = ds.metadata?.namespace ?? '';
  const uid = ds.metadata?.uid ?? '';
  const claimed: T[] = [];
  const adopt: T[] = [];
  const release: T[] = [];
  for (const obj of objects) {
    if ((obj.metadata?.namespace ?? ns) !== ns) continue;
    const ref = controllerRefOf(obj.metadata);
    const match = matches(labelsOf(obj.metadata));
    if (ref) {
      if (ref.uid !== uid) continue;
      if (match) claimed.push(obj);
      else release.push(obj);
      continue;
    }
    if (!match || isBeingDeleted(obj.metadata)) continue;
    adopt.push(obj);
    claimed.push(obj);
  }
  return { claimed, adopt, release };
}

/**
 * An ownership change of `obj`: a strategic merge patch of its ownerReferences that carries the
 * object's UID, so it never lands on a replacement of the same name.
 */
function ownershipChange(kind: OwnershipChange['kind'], action: OwnershipChange['action'], ds: V1DaemonSet, obj: HasMetadata, ownerReferences: readonly object[]): OwnershipChange {
  const uid = obj.metadata?.uid ?? '';
  return {
    kind,
    action,
    name: obj.metadata?.name ?? '',
    namespace: obj.metadata?.namespace ?? ds.metadata?.namespace ?? '',
    uid,
    patch: { metadata: { ownerReferences, uid } },
  };
}

/** The adopt patch: this DaemonSet becomes the controller owner. */
export function adoptChange(kind: OwnershipChange['kind'], ds: V1DaemonSet, obj: HasMetadata): OwnershipChange {
  return ownershipChange(kind, 'adopt', ds, obj, [controllerRefFor(ds)]);
}

/** The release patch: a strategic merge delete of this DaemonSet's owner reference. */
export function releaseChange(kind: OwnershipChange['kind'], ds: V1DaemonSet, obj: HasMetadata): OwnershipChange {
  return ownershipChange(kind, 'release', ds, obj, [{ $patch: 'delete', uid: ds.metadata?.uid ?? '' }]);
}
