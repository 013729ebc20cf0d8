import { KubeConfig } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../lib/config.js';
import type { ControlPlane } from '../../../lib/local-plane/control-plane.js';
import type { LocalRunner } from '../../../lib/runner/local-runner.js';
import { startLocal, type LocalParts } from '../../../lib/runner/start-local.js';
import { StartInterrupted } from '../../../lib/runner/start-sequence.js';
import { silentLogger } from '../../../lib/observability/ports.js';

const config = loadConfig({}, 'local');

/** Parts that record what runs; each `fail*` makes one step throw. */
function fakeParts(log: string[], fail: { manifests?: boolean; nodes?: boolean; runner?: boolean; demo?: boolean } = {}, onPlaneStart?: () => void): LocalParts {
  const plane = {
    name: 'local', workDir: '/tmp/x', binDir: '/tmp/bin', server: 'https://127.0.0.1:1', adminKubeconfig: 'admin', controllerKubeconfig: 'controller', pids: {},
    kubectl: async (args: readonly string[]) => {
      log.push(`kubectl ${args[0]}`);
      if (fail.demo) return { code: 1, stdout: '', stderr: 'the server refused' };
      return { code: 0, stdout: args[0] === 'get' ? '4/4' : '', stderr: '' };
    },
    stop: async () => { log.push('plane stopped'); },
  } satisfies ControlPlane;
  return {
    startControlPlane: async () => {
      log.push('plane started');
      onPlaneStart?.();
      return plane;
    },
    applyProjectManifests: async () => {
      if (fail.manifests) throw new Error('CRDs not established');
      log.push('manifests applied');
    },
    createReadyNodes: async () => {
      if (fail.nodes) throw new Error('nodes not ready');
      log.push('nodes ready');
      return [];
    },
    runLocal: async () => {
      if (fail.runner) throw new Error('listen EADDRINUSE');
      log.push('pipeline started');
      return { webhookUrl: null, stop: async () => { log.push('pipeline stopped'); } } as unknown as LocalRunner;
    },
    loadKubeConfig: (path) => {
      const kc = new KubeConfig();
      kc.loadFromOptions({ clusters: [{ name: 'c', server: 'https://127.0.0.1:1' }], users: [{ name: path }], contexts: [{ name: 'x', cluster: 'c', user: path }], currentContext: 'x' });
      return kc;
    },
  };
}

const run = (parts: LocalParts, kubeconfigPath: string | null = null, signal?: AbortSignal) =>
  startLocal({ config, kubeconfigPath, logger: silentLogger, out: () => {}, progress: () => {}, parts, ...(signal ? { signal } : {}) });

describe('startLocal() (npm start)', () => {
  it.each([
    { step: 'the project manifests', fail: { manifests: true }, message: 'CRDs not established', before: ['plane started'] },
    { step: 'the demo nodes', fail: { nodes: true }, message: 'nodes not ready', before: ['plane started', 'manifests applied'] },
    { step: 'the pipeline', fail: { runner: true }, message: 'EADDRINUSE', before: ['plane started', 'manifests applied', 'nodes ready'] },
  ])('stops the control plane it started when $step fails', async ({ fail, message, before }) => {
    const log: string[] = [];
    await expect(run(fakeParts(log, fail))).rejects.toThrow(message);
    expect(log).toEqual([...before, 'plane stopped']);
  });

  it('stops the pipeline, then the plane, when the demo DaemonSet cannot be applied', async () => {
    const log: string[] = [];
    await expect(run(fakeParts(log, { demo: true }))).rejects.toThrow(/kubectl apply failed: the server refused/);
    expect(log).toEqual(['plane started', 'manifests applied', 'nodes ready', 'pipeline started', 'kubectl apply', 'pipeline stopped', 'plane stopped']);
  });

  it('stops the control plane when interrupted while it starts', async () => {
    const log: string[] = [];
    const abort = new AbortController();
    await expect(run(fakeParts(log, {}, () => abort.abort()), null, abort.signal)).rejects.toBeInstanceOf(StartInterrupted);
    expect(log).toEqual(['plane started', 'plane stopped']);
  });

  it('starts everything in order and stops it newest first', async () => {
    const log: string[] = [];
    const running = await run(fakeParts(log));
    expect(log).toEqual(['plane started', 'manifests applied', 'nodes ready', 'pipeline started', 'kubectl apply', 'kubectl get', 'kubectl get', 'kubectl get']);
    await running.stop();
    expect(log.slice(-2)).toEqual(['pipeline stopped', 'plane stopped']);
  });

  it('starts no control plane when a kubeconfig is configured', async () => {
    const log: string[] = [];
    const running = await run(fakeParts(log), '/home/me/.kube/config');
    await running.stop();
    expect(log).toEqual(['pipeline started', 'pipeline stopped']);
  });
});
