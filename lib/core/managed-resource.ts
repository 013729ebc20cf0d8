/**
 * Which DaemonSets the controller manages, and where they live in the API: native apps/v1
 * DaemonSets, or the project's own resource (same spec and status) in its own API group.
 */
import type { V1DaemonSet } from '@kubernetes/client-node';

/** `native`: apps/v1 DaemonSets; `crd`: daemonsets.daemonless.io/v1. */
export type ManagedResource = 'native' | 'crd';

/** API group, version and plural of the project's own DaemonSet resource. */
export const CRD_GROUP = 'daemonless.io';
export const CRD_VERSION = 'v1';
export const CRD_PLURAL = 'daemonsets';

/** The API group whose DaemonSets the controller manages. */
export function daemonSetGroup(resource: ManagedResource): string {
  return resource === 'native' ? 'apps' : CRD_GROUP;
}

/** The `apiVersion` of a managed DaemonSet. */
export function daemonSetApiVersion(resource: ManagedResource): string {
  return resource === 'native' ? 'apps/v1' : `${CRD_GROUP}/${CRD_VERSION}`;
}

/** A DaemonSet of the project's own resource (apiVersion `daemonless.io/*`), not a native one? */
export function isDaemonlessResource(ds: V1DaemonSet): boolean {
  return (ds.apiVersion ?? '').startsWith(`${CRD_GROUP}/`);
}
