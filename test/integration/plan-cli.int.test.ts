/**
 * `daemonless plan --kubeconfig` on the real control plane: it reads the live cluster (read-only)
 * and reports what a reconcile pass would do — creates before the controller ran, nothing after.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startControllerLoop } from '../support/controller-loop.js';
import { eventually } from '../../lib/local-plane/eventually.js';
import { createReadyNodes, deleteNodes } from '../../lib/local-plane/nodes.js';
import { admin, createNamespace, daemonSetYaml, deleteNamespace, isPodReady, kubectl, livePods, plane } from './helpers.js';

const run = promisify(execFile);
const ns = 'it-plan';
const nodes = ['plan-n0', 'plan-n1'];

interface PlanJson { daemonSets: Array<{ namespace: string; name: string; create: Array<{ node: string }>; delete: unknown[]; status: { desiredNumberScheduled: number } }> }

async function planLive(): Promise<PlanJson['daemonSets'][number]> {
  const { stdout } = await run('node_modules/.bin/tsx', ['lib/cli/main.ts', 'plan', '--kubeconfig', plane.adminKubeconfig, '--output', 'json']);
  const entry = (JSON.parse(stdout) as PlanJson).daemonSets.find((d) => d.namespace === ns && d.name === 'ds');
  if (!entry) throw new Error(`no plan entry for ${ns}/ds in ${stdout}`);
  return entry;
}

describe('daemonless plan --kubeconfig', () => {
  beforeAll(async () => {
    await createNamespace(ns);
    await createReadyNodes(admin, nodes.map((name) => ({ name, labels: { suite: 'plan' } })));
    await kubectl(['apply', '-f', '-'], daemonSetYaml({ name: 'ds', namespace: ns, nodeSelector: { suite: 'plan' } }));
  });
  afterAll(async () => {
    await deleteNodes(admin, nodes);
    await deleteNamespace(ns);
  });

  it('reports the creates a pass would make, and writes nothing', async () => {
    const entry = await planLive();
    expect(entry.create.map((c) => c.node).sort()).toEqual(nodes);
    expect(entry.delete).toEqual([]);
    expect(entry.status.desiredNumberScheduled).toBe(2);
    expect(await livePods(ns, 'app=ds')).toHaveLength(0);
  });

  it('reports nothing to do once the controller has converged the DaemonSet', async () => {
    const loop = startControllerLoop(plane.controllerKubeconfig, () => [`${ns}/ds`]);
    try {
      await eventually(async () => expect((await livePods(ns, 'app=ds')).filter(isPodReady)).toHaveLength(2), { timeoutMs: 60_000 });
    } finally {
      await loop.stop();
    }
    const entry = await eventually(async () => {
      const e = await planLive();
      expect(e.create).toEqual([]);
      return e;
    }, { timeoutMs: 30_000 });
    expect(entry.delete).toEqual([]);
  });

  it('fails with exit status 2 and one line for an unusable kubeconfig', async () => {
    const err = await run('node_modules/.bin/tsx', ['lib/cli/main.ts', 'plan', '--kubeconfig', '/nonexistent/kubeconfig']).then(() => null, (e: { code: number; stdout: string; stderr: string }) => e);
    expect(err?.code).toBe(2);
    expect(err?.stdout).toBe('');
    expect(err?.stderr.trim().split('\n')).toHaveLength(1);
  });
});
