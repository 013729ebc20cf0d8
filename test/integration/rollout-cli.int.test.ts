/**
 * `daemonless rollout ...` and `daemonless explain` on the real control plane:
 * (i)  a native DaemonSet under kube-controller-manager's own DaemonSet controller (an upstream
 *      plane): `kubectl rollout status/history/undo` and `daemonless rollout ...` print the same;
 * (ii) a `dlds` under daemonless through the kubectl plugin with the real kubectl binary
 *      (`kubectl daemonless ...` with `bin/` on PATH): apply, status, a new image, history;
 * (iii) `explain` with a tainted node, a nodeSelector miss, a crash-looping pod and a used-up budget.
 */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CoreV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCommand, startControlPlane, type ControlPlane, type KubectlResult } from '../../lib/local-plane/control-plane.js';
import { startControllerLoop, type ControllerLoop } from '../support/controller-loop.js';
import { eventually } from '../../lib/local-plane/eventually.js';
import { createReadyNodes, deleteNodes, kubeClient } from '../../lib/local-plane/nodes.js';
import { admin, createNamespace, daemonSetYaml, deleteNamespace, isPodReady, kubectl, livePods, plane, podNode } from './helpers.js';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const log = (line: string) => process.stderr.write(`${line}\n`);
const GENERATED = join(repo, 'infra/manifests/generated');

const run = (cmd: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<KubectlResult> => runCommand(cmd, args, { env });

/** `daemonless <args>` from the checkout, as `npm run cli` runs it. */
const daemonless = (args: readonly string[]) => run(join(repo, 'node_modules/.bin/tsx'), [join(repo, 'lib/cli/main.ts'), ...args]);

describe('(i) native DaemonSet on the upstream plane: kubectl rollout and daemonless rollout print the same', () => {
  let upstream: ControlPlane;
  const ns = 'it-rollout-native';
  const k = (args: readonly string[], input?: string) => upstream.kubectl(args, input === undefined ? {} : { input });
  const d = (args: readonly string[]) => daemonless([...args, '--kubeconfig', upstream.adminKubeconfig]);
  const same = async (args: readonly string[]) => {
    const [a, b] = await Promise.all([k(args), d(args)]);
    expect({ code: b.code, stdout: b.stdout, stderr: b.stderr }, `daemonless ${args.join(' ')}`).toEqual({ code: a.code, stdout: a.stdout, stderr: a.stderr });
    return a;
  };

  beforeAll(async () => {
    upstream = await startControlPlane({ name: 'rollout-upstream', upstreamDaemonSetController: true, log });
    const kc = kubeClient(upstream.adminKubeconfig);
    await kc.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: ns } } });
    await createReadyNodes(kc, ['up-n0', 'up-n1'].map((name) => ({ name, labels: { suite: 'rollout-native' } })));
  });
  afterAll(async () => {
    await upstream?.stop({ keepFiles: process.env.DAEMONLESS_KEEP_PLANE === '1' });
  });

  it('status, history, history --revision, undo --dry-run, undo and the errors', async () => {
    const apply = async (image: string, cause: string) => {
      const manifest = JSON.parse(daemonSetYaml({ name: 'ds', namespace: ns, nodeSelector: { suite: 'rollout-native' }, image })) as { metadata: { annotations?: Record<string, string> } };
      manifest.metadata.annotations = { 'kubernetes.io/change-cause': cause };
      const r = await k(['apply', '-f', '-'], JSON.stringify(manifest));
      expect(r.code, r.stderr).toBe(0);
    };
    await apply('nginx:1.7.9', 'first');
    expect((await k(['-n', ns, 'rollout', 'status', 'ds/ds', '--timeout=90s'])).stdout).toMatch(/successfully rolled out/);
    const done = await same(['-n', ns, 'rollout', 'status', 'ds/ds']);
    expect(done.stdout).toBe('daemon set "ds" successfully rolled out\n');
    await same(['-n', ns, 'rollout', 'status', 'daemonset.apps/ds', '--watch=false']);

    await apply('nginx:1.9.1', 'second');
    expect((await k(['-n', ns, 'rollout', 'status', 'ds/ds', '--timeout=90s'])).code).toBe(0);
    const history = await same(['-n', ns, 'rollout', 'history', 'ds/ds']);
    expect(history.stdout).toBe('daemonset.apps/ds \nREVISION  CHANGE-CAUSE\n1         first\n2         second\n\n');
    await same(['-n', ns, 'rollout', 'history', 'ds/ds', '--revision', '1']);
    await same(['-n', ns, 'rollout', 'history', 'ds/ds', '--revision', '2']);
    await same(['-n', ns, 'rollout', 'history', 'ds/ds', '--revision', '9']);
    await same(['-n', ns, 'rollout', 'undo', 'ds/ds', '--dry-run=client']);
    await same(['-n', ns, 'rollout', 'undo', 'ds/ds', '--to-revision', '7']);
    await same(['-n', ns, 'rollout', 'status', 'ds/nope']);
    await same(['-n', ns, 'rollout', 'history', 'ds/nope']);

    // undo itself: kubectl rolls back to revision 1, daemonless (run second) then finds it matching.
    const undo = await k(['-n', ns, 'rollout', 'undo', 'ds/ds']);
    expect(undo.stdout).toBe('daemonset.apps/ds rolled back\n');
    expect((await k(['-n', ns, 'rollout', 'status', 'ds/ds', '--timeout=90s'])).code).toBe(0);
    const back = await d(['-n', ns, 'rollout', 'undo', 'ds/ds', '--to-revision', '3']);
    expect(back).toEqual({ code: 0, stdout: 'daemonset.apps/ds skipped rollback (current template already matches revision 3)\n', stderr: '' });
    const skipped = await k(['-n', ns, 'rollout', 'undo', 'ds/ds', '--to-revision', '3']);
    expect(skipped.stdout).toBe(back.stdout);
    // Now daemonless rolls back (to revision 2's template) and kubectl sees the same result.
    expect((await d(['-n', ns, 'rollout', 'undo', 'ds/ds'])).stdout).toBe('daemonset.apps/ds rolled back\n');
    expect((await d(['-n', ns, 'rollout', 'status', 'ds/ds', '--timeout=90s'])).stdout).toMatch(/daemon set "ds" successfully rolled out\n$/);
    const image = await k(['-n', ns, 'get', 'ds', 'ds', '-o', 'jsonpath={.spec.template.spec.containers[0].image}']);
    expect(image.stdout).toBe('nginx:1.9.1');
    await same(['-n', ns, 'rollout', 'history', 'ds/ds']);
    await same(['-n', ns, 'rollout', 'status', 'ds/ds']);

    // OnDelete: the same error and exit status.
    await k(['-n', ns, 'patch', 'ds', 'ds', '--type=merge', '-p', '{"spec":{"updateStrategy":{"type":"OnDelete","rollingUpdate":null}}}']);
    const onDelete = await same(['-n', ns, 'rollout', 'status', 'ds/ds']);
    expect(onDelete.code).toBe(1);
  });
});

describe('(ii) dlds under daemonless through `kubectl daemonless`', () => {
  const ns = 'it-rollout-dlds';
  const nodes = ['dl-n0', 'dl-n1'];
  let loop: ControllerLoop;
  const env = { ...process.env, PATH: `${join(repo, 'bin')}:${join(repo, 'node_modules/.bin')}:${process.env.PATH ?? ''}`, KUBECONFIG: plane.adminKubeconfig };
  const plugin = (args: readonly string[]) => run(join(plane.binDir, 'kubectl'), ['daemonless', ...args], env);
  const apply = (image: string) => kubectl(['apply', '-f', '-'], daemonSetYaml({ name: 'ds', namespace: ns, apiVersion: 'daemonless.io/v1', nodeSelector: { suite: 'rollout-dlds' }, image }));
  const images = async () => (await livePods(ns, 'app=ds')).filter(isPodReady).map((p) => p.spec?.containers[0]?.image).sort();
  const waitImages = (image: string) => eventually(async () => expect(await images()).toEqual(nodes.map(() => image)), { timeoutMs: 90_000, what: `pods running ${image}` });

  beforeAll(async () => {
    // The shipped ClusterRole of CRD mode replaces the native one for this test.
    await kubectl(['apply', '--server-side', '--force-conflicts', '-f', join(GENERATED, 'rbac-crd.yaml')]);
    await createNamespace(ns);
    await createReadyNodes(admin, nodes.map((name) => ({ name, labels: { suite: 'rollout-dlds' } })));
    loop = startControllerLoop(plane.controllerKubeconfig, () => [`${ns}/ds`], { managedResource: 'crd' });
  });
  afterAll(async () => {
    await loop?.stop();
    await deleteNodes(admin, nodes);
    await deleteNamespace(ns);
    await kubectl(['apply', '--server-side', '--force-conflicts', '-f', join(GENERATED, 'rbac-native.yaml')]);
  });

  it('apply → status → new image → status → history shows 2', async () => {
    await apply('nginx:1.7.9');
    const status = await plugin(['rollout', 'status', 'dlds/ds', '-n', ns, '--timeout=90s']);
    expect(status, JSON.stringify(loop.errors.slice(-3).map((e) => e.message))).toMatchObject({ code: 0, stderr: '', stdout: expect.stringMatching(/daemon set "ds" successfully rolled out\n$/) });
    await waitImages('nginx:1.7.9');

    await apply('nginx:1.9.1');
    expect((await plugin(['rollout', 'status', 'daemonset.daemonless.io/ds', '-n', ns, '--timeout=90s'])).code).toBe(0);
    await waitImages('nginx:1.9.1');
    const history = await plugin(['rollout', 'history', 'dlds/ds', '-n', ns]);
    expect(history.stdout).toBe('daemonset.daemonless.io/ds \nREVISION  CHANGE-CAUSE\n1         <none>\n2         <none>\n\n');
  });

  it('undo → image back → restart → pause: a new image does not roll → resume: it does', async () => {
    expect(await plugin(['rollout', 'undo', 'dlds/ds', '-n', ns])).toEqual({ code: 0, stdout: 'daemonset.daemonless.io/ds rolled back\n', stderr: '' });
    await waitImages('nginx:1.7.9');
    expect((await plugin(['rollout', 'status', 'dlds/ds', '-n', ns, '--timeout=90s'])).code).toBe(0);

    const before = (await livePods(ns, 'app=ds')).map((p) => p.metadata?.uid).sort();
    expect(await plugin(['rollout', 'restart', 'dlds/ds', '-n', ns])).toEqual({ code: 0, stdout: 'daemonset.daemonless.io/ds restarted\n', stderr: '' });
    await eventually(async () => {
      const pods = (await livePods(ns, 'app=ds')).filter(isPodReady);
      expect(pods.map(podNode).sort()).toEqual(nodes);
      for (const p of pods) expect(before).not.toContain(p.metadata?.uid);
    }, { timeoutMs: 90_000, what: 'every pod replaced after restart' });

    expect(await plugin(['rollout', 'pause', 'dlds/ds', '-n', ns])).toEqual({ code: 0, stdout: 'daemonset.daemonless.io/ds paused\n', stderr: '' });
    const held = (await livePods(ns, 'app=ds')).map((p) => p.metadata?.uid).sort();
    await apply('nginx:1.9.1');
    const paused = await plugin(['rollout', 'status', 'dlds/ds', '-n', ns, '--timeout=60s']);
    expect(paused.code).toBe(0);
    expect(paused.stdout).toMatch(/rollout paused: 0 out of 2 new pods have been updated/);
    expect((await livePods(ns, 'app=ds')).map((p) => p.metadata?.uid).sort()).toEqual(held);

    expect(await plugin(['rollout', 'resume', 'dlds/ds', '-n', ns])).toEqual({ code: 0, stdout: 'daemonset.daemonless.io/ds resumed\n', stderr: '' });
    await waitImages('nginx:1.9.1');
    expect((await plugin(['rollout', 'status', 'dlds/ds', '-n', ns, '--timeout=90s'])).stdout).toMatch(/daemon set "ds" successfully rolled out\n$/);
  });
});

describe('(iii) explain on the real plane', () => {
  const ns = 'it-explain';
  const nodes = ['ex-n0', 'ex-n1', 'ex-n2', 'ex-n3', 'ex-n4'];

  beforeAll(async () => {
    await createNamespace(ns);
    await createReadyNodes(admin, [
      { name: 'ex-n0', labels: { suite: 'explain', role: 'daemon' }, taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }] },
      { name: 'ex-n1', labels: { suite: 'explain', role: 'other' } },
      { name: 'ex-n2', labels: { suite: 'explain', role: 'daemon' } },
      { name: 'ex-n3', labels: { suite: 'explain', role: 'daemon' } },
      { name: 'ex-n4', labels: { suite: 'explain', role: 'daemon' } },
    ]);
  });
  afterAll(async () => {
    await deleteNodes(admin, nodes);
    await deleteNamespace(ns);
  });

  it('names the taint, the nodeSelector miss, the crash-looping pod and the budget that holds the rollout', async () => {
    const manifest = (image: string) => daemonSetYaml({ name: 'ds', namespace: ns, nodeSelector: { suite: 'explain', role: 'daemon' }, image });
    await kubectl(['apply', '-f', '-'], manifest('nginx:1.7.9'));
    const loop = startControllerLoop(plane.controllerKubeconfig, () => [`${ns}/ds`]);
    try {
      await eventually(async () => expect((await livePods(ns, 'app=ds')).filter(isPodReady).map(podNode).sort()).toEqual(['ex-n2', 'ex-n3', 'ex-n4']), { timeoutMs: 90_000, what: 'v1 pods ready' });
      await eventually(async () => {
        const r = await kubectl(['-n', ns, 'get', 'ds', 'ds', '-o', 'jsonpath={.status.numberAvailable}']);
        expect(r.stdout).toBe('3');
      }, { timeoutMs: 30_000, what: 'status written' });
    } finally {
      await loop.stop();
    }
    // The controller is stopped: a new template and a crash-looping old pod on ex-n2.
    await kubectl(['apply', '-f', '-'], manifest('nginx:1.9.1'));
    const victim = (await livePods(ns, 'app=ds')).find((p) => podNode(p) === 'ex-n2');
    expect(victim).toBeDefined();
    await kubectl(['-n', ns, 'patch', 'pod', victim?.metadata?.name ?? '', '--subresource=status', '--type=merge', '-p', JSON.stringify({
      status: {
        conditions: [{ type: 'Ready', status: 'False', reason: 'ContainersNotReady' }],
        containerStatuses: [{ name: 'main', image: 'nginx:1.7.9', imageID: '', ready: false, restartCount: 5, state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 2m40s restarting failed container' } } }],
      },
    })]);
    await eventually(async () => {
      const pod = (await livePods(ns, 'app=ds')).find((p) => p.metadata?.name === victim?.metadata?.name);
      expect(pod?.status?.containerStatuses?.[0]?.state?.waiting?.reason).toBe('CrashLoopBackOff');
    }, { timeoutMs: 15_000, what: 'crash-looping status stored' });

    const text = await daemonless(['explain', 'ds/ds', '-n', ns, '--kubeconfig', plane.adminKubeconfig]);
    expect(text.stderr).toBe('');
    expect(text.code).toBe(0);
    const line = (node: string) => text.stdout.split('\n').find((l: string) => l.startsWith(`${node} `)) ?? '';
    expect(line('ex-n0')).toMatch(/no: taint dedicated=gpu:NoSchedule not tolerated/);
    expect(line('ex-n1')).toMatch(/no: nodeSelector role=daemon: node has role=other/);
    expect(line('ex-n2')).toMatch(/old \(revision 1\), not ready: CrashLoopBackOff; next pass: delete \(rolling-update\)/);
    expect(line('ex-n3')).toMatch(/old \(revision 1\)$/);
    expect(text.stdout).toMatch(/held by: budget used up: maxUnavailable 1: 1 in use by pod \S+ \(node ex-n2, old pod not available, being replaced\); 2 old pods wait/);
    expect(text.stdout).toContain('Next reconcile pass (as daemonless plan prints it):');

    const json = await daemonless(['explain', 'ds/ds', '-n', ns, '--kubeconfig', plane.adminKubeconfig, '-o', 'json']);
    const e = JSON.parse(json.stdout) as { nodes: Array<{ node: string; reason?: string; summary: string }>; rollout: { budget: { allowed: number; inUse: unknown[] }; holds: string[] }; plan: { delete: Array<{ node: string; reason: string }>; create: unknown[] } };
    expect(e.nodes.map((n) => [n.node, n.summary])).toEqual([['ex-n0', 'none'], ['ex-n1', 'none'], ['ex-n2', 'not-ready'], ['ex-n3', 'old'], ['ex-n4', 'old']]);
    expect(e.rollout.budget.allowed).toBe(1);
    expect(e.rollout.budget.inUse).toHaveLength(1);
    expect(e.plan.delete).toEqual([expect.objectContaining({ node: 'ex-n2', reason: 'rolling-update' })]);
    // explain never writes: the pods are as they were.
    expect((await livePods(ns, 'app=ds')).map((p) => p.spec?.containers[0]?.image)).toEqual(['nginx:1.7.9', 'nginx:1.7.9', 'nginx:1.7.9']);
  });
});
