/**
 * Integration suite setup: one real control plane (plane A: the upstream DaemonSet controller off)
 * for all integration test files, with the project's own cluster-side manifests (RBAC, CRD) applied,
 * so every test runs the controller under the shipped ClusterRole only.
 * There is no fallback: when the plane cannot be built or started, the suite fails.
 */
import type { TestProject } from 'vitest/node';
import { startControlPlane, type ControlPlane } from '../../lib/local-plane/control-plane.js';
import { applyProjectManifests } from '../../lib/local-plane/manifests.js';

declare module 'vitest' {
  export interface ProvidedContext {
    plane: { server: string; adminKubeconfig: string; controllerKubeconfig: string; binDir: string; workDir: string };
  }
}

let plane: ControlPlane | undefined;

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const log = (line: string) => process.stderr.write(`${line}\n`);
  plane = await startControlPlane({ name: 'a', log });
  await applyProjectManifests(plane);
  project.provide('plane', {
    server: plane.server,
    adminKubeconfig: plane.adminKubeconfig,
    controllerKubeconfig: plane.controllerKubeconfig,
    binDir: plane.binDir,
    workDir: plane.workDir,
  });
  return async () => {
    await plane?.stop({ keepFiles: process.env.DAEMONLESS_KEEP_PLANE === '1' });
  };
}
