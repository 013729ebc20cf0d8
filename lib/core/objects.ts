/**
 * Small, pure accessors over Kubernetes objects whose client-node types make every field optional.
 */
import type { V1ObjectMeta, V1OwnerReference } from '@kubernetes/client-node';

/** The object's labels, or an empty record. */
export function labelsOf(meta: V1ObjectMeta | undefined): Readonly<Record<string, string>> {
  return meta?.labels ?? {};
}

/** The controller ownerReference (`controller: true`), mirrors `metav1.GetControllerOf`. */
export function controllerRefOf(meta: V1ObjectMeta | undefined): V1OwnerReference | undefined {
  return meta?.ownerReferences?.find((ref) => ref.controller === true);
}

/** True when `metadata.deletionTimestamp` is set. */
export function isBeingDeleted(meta: { readonly deletionTimestamp?: unknown } | undefined): boolean {
  const ts: unknown = meta?.deletionTimestamp;
  return ts !== undefined && ts !== null && ts !== '';
}

/** A deep, unfrozen, plain copy (Dates stay Dates). Used so outputs never alias inputs. */
export function deepCopy<T>(value: T): T {
  return structuredClone(value);
}
