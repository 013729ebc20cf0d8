/**
 * Proves the local control plane is real: simulated nodes become and stay Ready, bound pods run,
 * kubectl talks to it, the garbage collector cascades, and RBAC is enforced for the controller identity.
 */
import { AuthorizationV1Api, CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { runKubectl } from '../../lib/local-plane/control-plane.js';
import { eventually } from '../../lib/local-plane/eventually.js';
import { createReadyNodes, deleteNodes, kubeClient } from '../../lib/local-plane/nodes.js';

const plane = inject('plane');
const admin = kubeClient(plane.adminKubeconfig);
const core = admin.makeApiClient(CoreV1Api);
const nodes = ['harness-n1', 'harness-n2', 'harness-n3'];
const ns = 'harness';

describe('local control plane', () => {
  beforeAll(async () => {
    await core.createNamespace({ body: { metadata: { name: ns } } });
    await createReadyNodes(admin, nodes.map((name) => ({ name })));
  });
  afterAll(async () => {
    await deleteNodes(admin, nodes);
    await core.deleteNamespace({ name: ns });
  });

  it('lists the simulated nodes with kubectl get nodes, all Ready', async () => {
    const r = await runKubectl(plane.binDir, plane.adminKubeconfig, ['get', 'nodes', '--no-headers']);
    expect(r.code).toBe(0);
    for (const n of nodes) expect(r.stdout).toMatch(new RegExp(`^${n}\\s+Ready\\s`, 'm'));
  });

  it('runs a pod bound to a node: Running and Ready with a pod IP', async () => {
    const pod: V1Pod = {
      metadata: { name: 'bound', namespace: ns },
      spec: { nodeName: nodes[0], containers: [{ name: 'c', image: 'nginx:1.7.9' }], terminationGracePeriodSeconds: 0 },
    };
    await core.createNamespacedPod({ namespace: ns, body: pod });
    const running = await eventually(async () => {
      const p = await core.readNamespacedPod({ namespace: ns, name: 'bound' });
      expect(p.status?.phase).toBe('Running');
      expect(p.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
      return p;
    }, { timeoutMs: 30_000, what: 'pod Running/Ready' });
    expect(running.status?.podIP).toMatch(/^10\.244\./);
  });

  it('schedules an unbound pod with kube-scheduler onto a node chosen by required node affinity', async () => {
    const pod: V1Pod = {
      metadata: { name: 'affine', namespace: ns },
      spec: {
        containers: [{ name: 'c', image: 'nginx:1.7.9' }],
        terminationGracePeriodSeconds: 0,
        affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [
          { matchFields: [{ key: 'metadata.name', operator: 'In', values: [nodes[2]!] }] },
        ] } } },
      },
    };
    await core.createNamespacedPod({ namespace: ns, body: pod });
    await eventually(async () => {
      const p = await core.readNamespacedPod({ namespace: ns, name: 'affine' });
      expect(p.spec?.nodeName).toBe(nodes[2]);
      expect(p.status?.phase).toBe('Running');
    }, { timeoutMs: 30_000, what: 'pod scheduled and Running' });
  });

  it('garbage-collects a dependent pod when its owner is deleted', async () => {
    const owner = await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'owner' } } });
    await core.createNamespacedPod({ namespace: ns, body: {
      metadata: { name: 'dependent', namespace: ns, ownerReferences: [
        { apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: owner.metadata!.uid!, controller: true },
      ] },
      spec: { nodeName: nodes[1], containers: [{ name: 'c', image: 'nginx:1.7.9' }], terminationGracePeriodSeconds: 0 },
    } });
    await core.deleteNamespacedConfigMap({ namespace: ns, name: 'owner' });
    await eventually(async () => {
      const pods = await core.listNamespacedPod({ namespace: ns });
      expect(pods.items.map((p) => p.metadata?.name)).not.toContain('dependent');
    }, { timeoutMs: 60_000, what: 'dependent pod collected' });
  });

  it('authenticates the controller identity and limits it to the shipped ClusterRole', async () => {
    const controller = kubeClient(plane.controllerKubeconfig);
    const authz = controller.makeApiClient(AuthorizationV1Api);
    const can = async (verb: string, resource: string, group = '') => (await authz.createSelfSubjectAccessReview({
      body: { spec: { resourceAttributes: { verb, resource, group } } },
    })).status?.allowed;
    expect(await can('create', 'pods')).toBe(true);
    expect(await can('list', 'nodes')).toBe(true);
    expect(await can('update', 'daemonsets/status', 'apps')).toBe(true);
    expect(await can('list', 'secrets')).toBe(false);
    expect(await can('delete', 'nodes')).toBe(false);
    const denied = await runKubectl(plane.binDir, plane.controllerKubeconfig, ['get', 'secrets', '-A']);
    expect(denied.code).not.toBe(0);
    expect(denied.stderr).toMatch(/forbidden/i);
  });

  it('keeps nodes Ready past the node-monitor grace period (leases renewed)', async () => {
    await new Promise((r) => setTimeout(r, 55_000));
    const list = await core.listNode();
    for (const name of nodes) {
      const n = list.items.find((x) => x.metadata?.name === name);
      expect(n?.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
      expect((n?.spec?.taints ?? []).map((t) => t.key)).not.toContain('node.kubernetes.io/unreachable');
    }
  }, 120_000);
});
