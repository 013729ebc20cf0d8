/** Applies the project's own cluster-side manifests (ClusterRole, binding, CRD) to a test plane. */
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ControlPlane } from './control-plane.js';

const generated = resolve(dirname(fileURLToPath(import.meta.url)), '../../infra/manifests/generated');

/** Every generated manifest except the webhook registration (tests register webhooks themselves). */
export function projectManifestFiles(): string[] {
  if (!existsSync(generated)) throw new Error(`missing ${generated}: the project's generated manifests are required`);
  return readdirSync(generated)
    .filter((f) => f.endsWith('.yaml') && !f.includes('webhook'))
    .sort()
    .map((f) => join(generated, f));
}

export async function applyProjectManifests(plane: ControlPlane): Promise<void> {
  for (const file of projectManifestFiles()) {
    const r = await plane.kubectl(['apply', '--server-side', '-f', file]);
    if (r.code !== 0) throw new Error(`kubectl apply -f ${file} failed: ${r.stderr}`);
  }
  const crd = await plane.kubectl(['wait', '--for=condition=Established', '--timeout=60s', 'crd', '--all']);
  if (crd.code !== 0) throw new Error(`CRDs not established: ${crd.stderr}`);
}
