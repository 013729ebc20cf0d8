/**
 * The tutorial's demo, exactly: five nodes (ydzs-master tainted control-plane:NoSchedule, four
 * workers), `kubectl apply -f nginx-ds.yaml` → four pods, one per worker, Running, as
 * `kubectl get pods -o wide` shows. The controller runs under the shipped ClusterRole only.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_MANIFEST, DEMO_NODES, DEMO_WORKERS } from '../../lib/runner/demo/topology.js';
import { startControllerLoop, type ControllerLoop } from '../support/controller-loop.js';
import { eventually } from '../../lib/local-plane/eventually.js';
import { createReadyNodes, deleteNodes } from '../../lib/local-plane/nodes.js';
import { admin, isPodReady, kubectl, livePods, plane, podNode } from './helpers.js';

describe('the seed demo: nginx-ds on five nodes with a tainted master', () => {
  let loop: ControllerLoop;

  beforeAll(async () => {
    await createReadyNodes(admin, DEMO_NODES);
    loop = startControllerLoop(plane.controllerKubeconfig, () => ['default/nginx-ds']);
  });
  afterAll(async () => {
    await loop?.stop();
    await kubectl(['delete', 'ds', 'nginx-ds', '--ignore-not-found', '--wait=false']);
    await deleteNodes(admin, DEMO_NODES.map((n) => n.name));
  });

  it('creates exactly four pods, one on each worker and none on the master, all Running', async () => {
    await kubectl(['apply', '-f', fileURLToPath(DEMO_MANIFEST)]);
    const pods = await eventually(async () => {
      const ps = await livePods('default', 'k8s-app=nginx');
      expect(ps.filter(isPodReady)).toHaveLength(4);
      return ps;
    }, { timeoutMs: 60_000, what: 'four Running nginx pods' });
    expect(pods.map(podNode).sort()).toEqual([...DEMO_WORKERS]);

    const wide = await kubectl(['get', 'pods', '-l', 'k8s-app=nginx', '-o', 'wide']);
    const rows = wide.stdout.trim().split('\n');
    expect(rows[0]).toMatch(/^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+IP\s+NODE/);
    expect(rows.slice(1)).toHaveLength(4);
    const nodesShown = rows.slice(1).map((r) => {
      expect(r).toMatch(/^nginx-ds-[a-z0-9-]+\s+1\/1\s+Running\s+0\s/);
      return r.split(/\s+/)[6];
    });
    expect(nodesShown.sort()).toEqual([...DEMO_WORKERS]);
    expect(wide.stdout).not.toContain('ydzs-master');
  });

  it('reports the DaemonSet status kubectl shows: 4 desired, current, ready, up-to-date, available', async () => {
    const out = await eventually(async () => {
      const r = await kubectl(['get', 'ds', 'nginx-ds', '--no-headers']);
      expect(r.stdout.trim().split(/\s+/).slice(0, 6)).toEqual(['nginx-ds', '4', '4', '4', '4', '4']);
      return r.stdout;
    }, { timeoutMs: 30_000, what: 'DaemonSet status 4/4/4/4/4' });
    expect(out).toContain('nginx-ds');
    const rollout = await kubectl(['rollout', 'status', 'daemonset/nginx-ds', '--timeout=60s']);
    expect(rollout.stdout).toMatch(/successfully rolled out/);
  });

  it('is converged: further passes write nothing and read four times (a list cache probe more now and then)', async () => {
    const before = loop.reports.length;
    await eventually(() => expect(loop.reports.length).toBeGreaterThan(before + 10), { timeoutMs: 20_000 });
    const recent = loop.reports.slice(-10);
    for (const r of recent) {
      expect(r.writes).toBe(0);
      // The DaemonSet, the revisions, the nodes and the pods; a cached collection that cannot prove
      // itself fresh costs its probe besides the LIST (IMPL-10), at most once per collection.
      expect(r.reads).toBeLessThanOrEqual(6);
    }
    const reads = recent.map((r) => r.reads).sort((a, b) => a - b);
    expect(reads[Math.floor(reads.length / 2)]).toBeLessThanOrEqual(4);
  });

  it('the manifest is the tutorial one', () => {
    const text = readFileSync(DEMO_MANIFEST, 'utf8');
    expect(text).toContain('image: nginx:1.7.9');
    expect(text).toContain('k8s-app: nginx');
  });
});
