/**
 * Applies the project's own cluster-side manifests (the CRD and both ClusterRoles with their
 * bindings) to a local plane, rendered by the same builders as infra/manifests/generated/. The
 * webhook registration is left out: whoever runs a webhook registers it.
 */
import { buildDaemonSetCrd } from '../manifests/crd.js';
import { buildRbac } from '../manifests/rbac.js';
import { renderObjects } from '../manifests/render.js';
import type { ControlPlane } from './control-plane.js';

/** What is applied, in order (the generated files' names: crd.yaml, rbac-crd.yaml, rbac-native.yaml). */
export function projectManifests(): { readonly name: string; readonly yaml: string }[] {
  return [
    { name: 'crd.yaml', yaml: renderObjects([buildDaemonSetCrd()]) },
    { name: 'rbac-crd.yaml', yaml: renderObjects(buildRbac({ managedResource: 'crd' })) },
    { name: 'rbac-native.yaml', yaml: renderObjects(buildRbac({ managedResource: 'native' })) },
  ];
}

export async function applyProjectManifests(plane: ControlPlane): Promise<void> {
  for (const { name, yaml } of projectManifests()) {
    const r = await plane.kubectl(['apply', '--server-side', '-f', '-'], { input: yaml });
    if (r.code !== 0) throw new Error(`kubectl apply of ${name} failed: ${r.stderr}`);
  }
  const crd = await plane.kubectl(['wait', '--for=condition=Established', '--timeout=60s', 'crd', '--all']);
  if (crd.code !== 0) throw new Error(`CRDs not established: ${crd.stderr}`);
}
