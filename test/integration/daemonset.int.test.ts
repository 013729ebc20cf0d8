/**
 * DaemonSet behaviour against the real control plane (kube-apiserver, etcd, kube-controller-manager
 * without its DaemonSet controller, kube-scheduler, kwok), with daemonless reconciling under the
 * shipped ClusterRole. Each test has its own namespace, its own nodes and a nodeSelector on them.
 */
import { fileURLToPath } from 'node:url';
import type { V1Pod } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { startControllerLoop, type ControllerLoop } from '../support/controller-loop.js';
import { eventually } from '../../lib/local-plane/eventually.js';
import { createReadyNodes, deleteNodes } from '../../lib/local-plane/nodes.js';
import { admin, core, createNamespace, daemonSetYaml, deleteNamespace, isPodReady, kubectl, livePods, plane, podNode } from './helpers.js';

const GENERATED = fileURLToPath(new URL('../../infra/manifests/generated', import.meta.url));
let cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
  cleanups = [];
});

/** A namespace, `count` labelled nodes and a controller loop for DaemonSet `ds` there. */
async function setup(id: string, count: number, opts: { placement?: 'affinity' | 'nodeName'; managedResource?: 'native' | 'crd' } = {}) {
  const ns = `it-${id}`;
  const nodes = Array.from({ length: count }, (_, i) => `${id}-n${i}`);
  await createNamespace(ns);
  cleanups.push(() => deleteNamespace(ns));
  await createReadyNodes(admin, nodes.map((name) => ({ name, labels: { suite: id } })));
  cleanups.push(() => deleteNodes(admin, nodes));
  const loop: ControllerLoop = startControllerLoop(plane.controllerKubeconfig, () => [`${ns}/ds`], opts);
  cleanups.push(() => loop.stop());
  return { ns, nodes, loop, selector: { suite: id } };
}

async function waitPodsOn(ns: string, expectedNodes: readonly string[], image?: string): Promise<V1Pod[]> {
  return eventually(async () => {
    const pods = (await livePods(ns, 'app=ds')).filter(isPodReady);
    const matching = image ? pods.filter((p) => p.spec?.containers[0]?.image === image) : pods;
    expect(matching.map(podNode).sort()).toEqual([...expectedNodes].sort());
    return matching;
  }, { timeoutMs: 90_000, what: `ready pods on ${expectedNodes.join(',')}${image ? ` with ${image}` : ''}` });
}

/**
 * Watches a rolling update and records the worst moment as upstream counts it: nodes without an
 * available (ready) pod, and nodes with more than one pod.
 */
function watchBudget(ns: string, nodes: readonly string[]) {
  let maxUnavailable = 0;
  let maxPodsOnANode = 0;
  let running = true;
  const done = (async () => {
    while (running) {
      const pods = await livePods(ns, 'app=ds');
      const byNode = new Map<string, V1Pod[]>();
      for (const p of pods) byNode.set(podNode(p), [...(byNode.get(podNode(p)) ?? []), p]);
      const unavailable = nodes.filter((n) => !(byNode.get(n) ?? []).some(isPodReady)).length;
      maxUnavailable = Math.max(maxUnavailable, unavailable);
      maxPodsOnANode = Math.max(maxPodsOnANode, ...[...byNode.values()].map((ps) => ps.length));
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  return {
    async stop() {
      running = false;
      await done;
      return { maxUnavailable, maxPodsOnANode };
    },
  };
}

describe('DaemonSet behaviour on a real cluster', () => {
  it('places a pod on a node that joins, and removes the pod of a node that leaves', async () => {
    const { ns, nodes, selector } = await setup('join', 2);
    await kubectl(['apply', '-f', '-'], daemonSetYaml({ name: 'ds', namespace: ns, nodeSelector: selector }));
    await waitPodsOn(ns, nodes);

    const joined = 'join-n9';
    await createReadyNodes(admin, [{ name: joined, labels: selector }]);
    cleanups.push(() => deleteNodes(admin, [joined]));
    await waitPodsOn(ns, [...nodes, joined]);

    await deleteNodes(admin, [joined]);
    // The pod of a vanished node goes (pod garbage collection or the controller, whichever is first).
    await eventually(async () => {
      const pods = await livePods(ns, 'app=ds');
      expect(pods.map(podNode).sort()).toEqual([...nodes].sort());
    }, { timeoutMs: 120_000, what: 'pod of the removed node gone' });
  });

  it('follows node label and taint changes (NoSchedule keeps running pods, NoExecute evicts)', async () => {
    const { ns, nodes, selector } = await setup('label', 3);
    await kubectl(['apply', '-f', '-'], daemonSetYaml({ name: 'ds', namespace: ns, nodeSelector: { ...selector, role: 'daemon' } }));
    await kubectl(['label', 'node', nodes[0]!, nodes[1]!, 'role=daemon']);
    await waitPodsOn(ns, [nodes[0]!, nodes[1]!]);

    await kubectl(['label', 'node', nodes[2]!, 'role=daemon']);
    await waitPodsOn(ns, nodes);
    await kubectl(['label', 'node', nodes[0]!, 'role-']);
    await waitPodsOn(ns, [nodes[1]!, nodes[2]!]);

    await kubectl(['taint', 'node', nodes[1]!, 'dedicated=x:NoSchedule']);
    await new Promise((r) => setTimeout(r, 1500));
    await waitPodsOn(ns, [nodes[1]!, nodes[2]!]);
    await kubectl(['taint', 'node', nodes[2]!, 'dedicated=x:NoExecute']);
    await waitPodsOn(ns, [nodes[1]!]);
  });

  it.each([
    { name: 'maxUnavailable 1', strategy: { maxUnavailable: 1, maxSurge: 0 }, unavailable: 1, perNode: 1 },
    { name: 'maxUnavailable 50%', strategy: { maxUnavailable: '50%', maxSurge: 0 }, unavailable: 2, perNode: 1 },
    { name: 'maxSurge 1', strategy: { maxUnavailable: 0, maxSurge: 1 }, unavailable: 0, perNode: 2 },
  ])('rolls out a new template with $name to completion without exceeding its budget', async ({ strategy, unavailable, perNode }) => {
    const id = `ru${unavailable}${perNode}`;
    const { ns, nodes, selector } = await setup(id, 4);
    await kubectl(['apply', '-f', '-'], daemonSetYaml({ name: 'ds', namespace: ns, nodeSelector: selector, strategy }));
    await waitPodsOn(ns, nodes);
    await kubectl(['-n', ns, 'rollout', 'status', 'daemonset/ds', '--timeout=60s']);

    const budget = watchBudget(ns, nodes);
    await kubectl(['apply', '-f', '-'], daemonSetYaml({ name: 'ds', namespace: ns, nodeSelector: selector, strategy, image: 'nginx:1.9.1' }));
    const status = await kubectl(['-n', ns, 'rollout', 'status', 'daemonset/ds', '--timeout=90s']);
    expect(status.stdout).toMatch(/successfully rolled out/);
    await waitPodsOn(ns, nodes, 'nginx:1.9.1');
    const worst = await budget.stop();
    expect(worst.maxUnavailable).toBeLessThanOrEqual(unavailable);
    expect(worst.maxPodsOnANode).toBeLessThanOrEqual(perNode);
    expect((await livePods(ns, 'app=ds')).every((p) => p.spec?.containers[0]?.image === 'nginx:1.9.1')).toBe(true);
  });

  it('OnDelete: a template change replaces a pod only when the pod is deleted', async () => {
    const { ns, nodes, selector } = await setup('ondelete', 2);
    await kubectl(['apply', '-f', '-'], daemonSetYaml({ name: 'ds', namespace: ns, nodeSelector: selector, strategy: 'OnDelete' }));
    await waitPodsOn(ns, nodes);
    await kubectl(['apply', '-f', '-'], daemonSetYaml({ name: 'ds', namespace: ns, nodeSelector: selector, strategy: 'OnDelete', image: 'nginx:1.9.1' }));
    await eventually(async () => {
      const r = await kubectl(['-n', ns, 'get', 'ds', 'ds', '-o', 'json']);
      const status = (JSON.parse(r.stdout) as { status: { observedGeneration?: number; updatedNumberScheduled?: number } }).status;
      expect(status.observedGeneration).toBe(2);
      expect(status.updatedNumberScheduled ?? 0).toBe(0);
    }, { timeoutMs: 30_000, what: 'status observed generation 2 with no updated pods' });
    expect((await livePods(ns, 'app=ds')).every((p) => p.spec?.containers[0]?.image === 'nginx:1.7.9')).toBe(true);

    const victim = (await livePods(ns, 'app=ds')).find((p) => podNode(p) === nodes[0])!;
    await core.deleteNamespacedPod({ namespace: ns, name: victim.metadata!.name! });
    await eventually(async () => {
      const pods = (await livePods(ns, 'app=ds')).filter(isPodReady);
      expect(pods.find((p) => podNode(p) === nodes[0])?.spec?.containers[0]?.image).toBe('nginx:1.9.1');
      expect(pods.find((p) => podNode(p) === nodes[1])?.spec?.containers[0]?.image).toBe('nginx:1.7.9');
    }, { timeoutMs: 60_000, what: 'only the deleted pod replaced with the new template' });
  });

  it('keeps history for kubectl rollout history and rolls back with kubectl rollout undo', async () => {
    const { ns, nodes, selector } = await setup('history', 2);
    await kubectl(['apply', '-f', '-'], daemonSetYaml({ name: 'ds', namespace: ns, nodeSelector: selector }));
    await waitPodsOn(ns, nodes);
    await kubectl(['apply', '-f', '-'], daemonSetYaml({ name: 'ds', namespace: ns, nodeSelector: selector, image: 'nginx:1.9.1' }));
    await kubectl(['-n', ns, 'rollout', 'status', 'daemonset/ds', '--timeout=90s']);
    await waitPodsOn(ns, nodes, 'nginx:1.9.1');

    const history = await kubectl(['-n', ns, 'rollout', 'history', 'daemonset/ds']);
    expect(history.stdout).toMatch(/REVISION\s+CHANGE-CAUSE/);
    expect(history.stdout).toMatch(/^1\s/m);
    expect(history.stdout).toMatch(/^2\s/m);
    const rev1 = await kubectl(['-n', ns, 'rollout', 'history', 'daemonset/ds', '--revision=1']);
    expect(rev1.stdout).toContain('nginx:1.7.9');

    const undo = await kubectl(['-n', ns, 'rollout', 'undo', 'daemonset/ds']);
    expect(undo.stdout).toMatch(/rolled back/);
    await kubectl(['-n', ns, 'rollout', 'status', 'daemonset/ds', '--timeout=90s']);
    await waitPodsOn(ns, nodes, 'nginx:1.7.9');
    await eventually(async () => {
      const after = await kubectl(['-n', ns, 'rollout', 'history', 'daemonset/ds']);
      // The rolled-back-to revision is renumbered: revisions 2 and 3 remain.
      expect(after.stdout).toMatch(/^2\s/m);
      expect(after.stdout).toMatch(/^3\s/m);
      expect(after.stdout).not.toMatch(/^1\s/m);
    }, { timeoutMs: 30_000, what: 'history renumbered after undo' });
  });

  it('deleting the DaemonSet deletes its pods and revisions through the garbage collector', async () => {
    const { ns, nodes, selector } = await setup('cascade', 2);
    await kubectl(['apply', '-f', '-'], daemonSetYaml({ name: 'ds', namespace: ns, nodeSelector: selector }));
    await waitPodsOn(ns, nodes);
    await kubectl(['-n', ns, 'delete', 'ds', 'ds']);
    await eventually(async () => {
      expect(await livePods(ns, 'app=ds')).toHaveLength(0);
      const revs = await kubectl(['-n', ns, 'get', 'controllerrevisions', '--no-headers'], undefined, true);
      expect(revs.stdout.trim()).toBe('');
    }, { timeoutMs: 60_000, what: 'pods and revisions collected' });
  });

  it('replaces a failed pod', async () => {
    const { ns, nodes, selector } = await setup('failed', 2);
    await kubectl(['apply', '-f', '-'], daemonSetYaml({ name: 'ds', namespace: ns, nodeSelector: selector }));
    const pods = await waitPodsOn(ns, nodes);
    const victim = pods.find((p) => podNode(p) === nodes[0])!;
    await kubectl(['-n', ns, 'patch', 'pod', victim.metadata!.name!, '--subresource=status', '--type=merge', '-p', '{"status":{"phase":"Failed"}}']);
    await eventually(async () => {
      const now = (await livePods(ns, 'app=ds')).filter(isPodReady);
      const replacement = now.find((p) => podNode(p) === nodes[0]);
      expect(replacement).toBeDefined();
      expect(replacement!.metadata!.uid).not.toBe(victim.metadata!.uid);
    }, { timeoutMs: 60_000, what: 'failed pod replaced by a new Running pod' });
    const events = await kubectl(['-n', ns, 'get', 'events', '--field-selector', 'involvedObject.kind=DaemonSet', '-o', 'jsonpath={.items[*].reason}']);
    expect(events.stdout).toContain('FailedDaemonPod');
  });

  it('binds pods itself in nodeName placement mode', async () => {
    const { ns, nodes, selector } = await setup('nodename', 2, { placement: 'nodeName' });
    await kubectl(['apply', '-f', '-'], daemonSetYaml({ name: 'ds', namespace: ns, nodeSelector: selector }));
    const pods = await waitPodsOn(ns, nodes);
    for (const p of pods) expect(p.spec?.affinity?.nodeAffinity).toBeUndefined();
  });

  it('manages the project\'s own DaemonSet resource (CRD mode) the same way', async () => {
    // The shipped ClusterRole of CRD mode replaces the native one for this test.
    await kubectl(['apply', '--server-side', '--force-conflicts', '-f', `${GENERATED}/rbac-crd.yaml`]);
    cleanups.push(async () => void (await kubectl(['apply', '--server-side', '--force-conflicts', '-f', `${GENERATED}/rbac-native.yaml`])));
    const { ns, nodes, selector } = await setup('crd', 3, { managedResource: 'crd' });
    await kubectl(['apply', '-f', '-'], daemonSetYaml({ name: 'ds', namespace: ns, nodeSelector: selector, apiVersion: 'daemonless.io/v1' }));
    const pods = await waitPodsOn(ns, nodes);
    for (const p of pods) {
      const owner = p.metadata?.ownerReferences?.find((o) => o.controller);
      expect(owner?.apiVersion).toBe('daemonless.io/v1');
      expect(owner?.kind).toBe('DaemonSet');
    }
    await eventually(async () => {
      const r = await kubectl(['-n', ns, 'get', 'daemonsets.daemonless.io', 'ds', '-o', 'jsonpath={.status.desiredNumberScheduled} {.status.numberReady}']);
      expect(r.stdout).toBe('3 3');
    }, { timeoutMs: 30_000, what: 'CRD status written' });
    // The native DaemonSet API knows nothing of it.
    const native = await kubectl(['-n', ns, 'get', 'daemonsets.apps', '--no-headers'], undefined, true);
    expect(native.stdout.trim()).toBe('');
  });
});
