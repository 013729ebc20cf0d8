/**
 * Rollout controls (CTL-*, rollout-controls.md) and status conditions (COND-*) on the real control
 * plane, with daemonless reconciling under the shipped ClusterRole: each control in both modes —
 * a native DaemonSet with `daemonless.io/*` annotations, a `dlds` with spec fields. A watcher reads
 * the pods all along: the held nodes keep their old pods' UIDs for the whole test, the others roll
 * within the budget. `kubectl wait --for=condition=...` reads the conditions daemonless writes.
 */
import { fileURLToPath } from 'node:url';
import type { V1Pod } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { startControllerLoop, type ControllerLoop } from '../support/controller-loop.js';
import { eventually } from '../../lib/local-plane/eventually.js';
import { createReadyNodes, deleteNodes } from '../../lib/local-plane/nodes.js';
import { admin, createNamespace, daemonSetYaml, deleteNamespace, isPodReady, kubectl, livePods, plane, podNode } from './helpers.js';

const GENERATED = fileURLToPath(new URL('../../infra/manifests/generated', import.meta.url));
const OLD = 'nginx:1.7.9';
const NEW = 'nginx:1.9.1';
let cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
  cleanups = [];
});

type Mode = 'native' | 'crd';

/** A namespace, nodes `<id>-n0..` (labels per node) and a controller loop for `<ns>/ds`. */
async function setup(id: string, labels: readonly Record<string, string>[], mode: Mode) {
  if (mode === 'crd') {
    // The shipped ClusterRole of CRD mode replaces the native one for this test.
    await kubectl(['apply', '--server-side', '--force-conflicts', '-f', `${GENERATED}/rbac-crd.yaml`]);
    cleanups.push(async () => void (await kubectl(['apply', '--server-side', '--force-conflicts', '-f', `${GENERATED}/rbac-native.yaml`])));
  }
  const ns = `rc-${id}`;
  const nodes = labels.map((_, i) => `${id}-n${i}`);
  await createNamespace(ns);
  cleanups.push(() => deleteNamespace(ns));
  await createReadyNodes(admin, nodes.map((name, i) => ({ name, labels: { suite: id, ...labels[i] } })));
  cleanups.push(() => deleteNodes(admin, nodes));
  const loop: ControllerLoop = startControllerLoop(plane.controllerKubeconfig, () => [`${ns}/ds`], { managedResource: mode });
  cleanups.push(() => loop.stop());
  return { ns, nodes, loop, selector: { suite: id } };
}

/** The DaemonSet manifest with rollout controls: annotations (native) or fields (dlds). */
function manifest(mode: Mode, o: {
  ns: string; selector: Record<string, string>; image: string; maxUnavailable?: number;
  annotations?: Record<string, string>; rollingUpdate?: Record<string, unknown>; spec?: Record<string, unknown>;
}): string {
  const ds = JSON.parse(daemonSetYaml({
    name: 'ds', namespace: o.ns, nodeSelector: o.selector, image: o.image, strategy: { maxUnavailable: o.maxUnavailable ?? 1 },
    ...(mode === 'crd' ? { apiVersion: 'daemonless.io/v1' } : {}),
  })) as { metadata: Record<string, unknown>; spec: { updateStrategy: { rollingUpdate: Record<string, unknown> } } & Record<string, unknown> };
  if (o.annotations) ds.metadata['annotations'] = o.annotations;
  Object.assign(ds.spec.updateStrategy.rollingUpdate, o.rollingUpdate ?? {});
  Object.assign(ds.spec, o.spec ?? {});
  return JSON.stringify(ds);
}

const resource = (mode: Mode) => (mode === 'crd' ? 'daemonsets.daemonless.io' : 'daemonsets.apps');
const image = (p: V1Pod) => p.spec?.containers[0]?.image;

async function podsByNode(ns: string): Promise<Map<string, V1Pod[]>> {
  const m = new Map<string, V1Pod[]>();
  for (const p of await livePods(ns, 'app=ds')) m.set(podNode(p), [...(m.get(podNode(p)) ?? []), p]);
  return m;
}

/** Waits until every node runs exactly one Ready pod with the image given for it. */
async function waitImages(ns: string, want: Readonly<Record<string, string>>, timeoutMs = 90_000): Promise<Map<string, V1Pod>> {
  return eventually(async () => {
    const byNode = await podsByNode(ns);
    const got = Object.fromEntries(Object.keys(want).map((n) => {
      const pods = byNode.get(n) ?? [];
      return [n, pods.length === 1 && isPodReady(pods[0]!) ? image(pods[0]!) : `${pods.length} pods`];
    }));
    expect(got).toEqual(want);
    return new Map(Object.keys(want).map((n) => [n, byNode.get(n)![0]!]));
  }, { timeoutMs, what: `images ${JSON.stringify(want)}` });
}

/**
 * Watches the pods until stopped: the UIDs ever seen on each `held` node (live, not deleting), and
 * the most `updating` nodes without a Ready pod at one moment.
 */
function watch(ns: string, held: readonly string[], updating: readonly string[]) {
  const seen = new Map<string, Set<string>>(held.map((n) => [n, new Set<string>()]));
  let maxUnavailable = 0;
  let running = true;
  const done = (async () => {
    while (running) {
      const byNode = await podsByNode(ns);
      for (const n of held) for (const p of byNode.get(n) ?? []) if (!p.metadata?.deletionTimestamp) seen.get(n)!.add(p.metadata!.uid!);
      maxUnavailable = Math.max(maxUnavailable, updating.filter((n) => !(byNode.get(n) ?? []).some((p) => isPodReady(p) && !p.metadata?.deletionTimestamp)).length);
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  return {
    async stop() {
      running = false;
      await done;
      return { seen: Object.fromEntries([...seen].map(([n, s]) => [n, [...s]])), maxUnavailable };
    },
  };
}

const uidsOf = (pods: Map<string, V1Pod>, nodes: readonly string[]) => Object.fromEntries(nodes.map((n) => [n, [pods.get(n)!.metadata!.uid!]]));
const sameImage = (nodes: readonly string[], img: string) => Object.fromEntries(nodes.map((n) => [n, img]));

/** Waits until the controller observed the current generation (the pass that saw the change ran). */
async function waitObserved(mode: Mode, ns: string): Promise<void> {
  await eventually(async () => {
    const r = await kubectl(['-n', ns, 'get', resource(mode), 'ds', '-o', 'jsonpath={.metadata.generation} {.status.observedGeneration}']);
    const [generation, observed] = r.stdout.split(' ');
    expect(observed).toBe(generation);
  }, { timeoutMs: 30_000, what: 'observedGeneration caught up' });
}

async function annotate(ns: string, annotations: Record<string, string | null>): Promise<void> {
  await kubectl(['-n', ns, 'annotate', '--overwrite', 'daemonsets.apps/ds', ...Object.entries(annotations).map(([k, v]) => (v === null ? `${k}-` : `${k}=${v}`))]);
}

async function patchRollingUpdate(ns: string, fields: Record<string, unknown>): Promise<void> {
  await kubectl(['-n', ns, 'patch', 'daemonsets.daemonless.io/ds', '--type=merge', '-p', JSON.stringify({ spec: { updateStrategy: { rollingUpdate: fields } } })]);
}

describe('rollout controls on a real cluster', () => {
  it('native, partition annotation: the last N nodes keep their pods; lowering it continues', async () => {
    const { ns, nodes, selector } = await setup('part', [{}, {}, {}, {}], 'native');
    const annotations = { 'daemonless.io/rollout-partition': '2' };
    await kubectl(['apply', '-f', '-'], manifest('native', { ns, selector, image: OLD, annotations }));
    const before = await waitImages(ns, sameImage(nodes, OLD));
    const [a, b, c, d] = nodes as [string, string, string, string];
    const w = watch(ns, [c, d], [a, b]);
    await kubectl(['apply', '-f', '-'], manifest('native', { ns, selector, image: NEW, annotations }));
    await waitImages(ns, { [a]: NEW, [b]: NEW, [c]: OLD, [d]: OLD });
    await waitObserved('native', ns);
    await new Promise((r) => setTimeout(r, 2_000)); // more passes: still held
    const held = await w.stop();
    expect(held.seen).toEqual(uidsOf(before, [c, d]));
    expect(held.maxUnavailable).toBeLessThanOrEqual(1);

    const w2 = watch(ns, [d], [c]);
    await annotate(ns, { 'daemonless.io/rollout-partition': '1' });
    await waitImages(ns, { [a]: NEW, [b]: NEW, [c]: NEW, [d]: OLD });
    expect((await w2.stop()).seen).toEqual(uidsOf(before, [d]));
    await annotate(ns, { 'daemonless.io/rollout-partition': null });
    await waitImages(ns, sameImage(nodes, NEW));
  });

  it('native, node-selector annotation (canary) and pause: only matching nodes roll; paused, nothing rolls but a new node gets the new pod', async () => {
    const { ns, nodes, selector } = await setup('canary', [{ canary: 'true' }, {}, { canary: 'true' }, {}], 'native');
    await kubectl(['apply', '-f', '-'], manifest('native', { ns, selector, image: OLD, annotations: { 'daemonless.io/rollout-node-selector': 'canary=true' } }));
    const before = await waitImages(ns, sameImage(nodes, OLD));
    const [a, b, c, d] = nodes as [string, string, string, string];
    const w = watch(ns, [b, d], [a, c]);
    await kubectl(['apply', '-f', '-'], manifest('native', { ns, selector, image: NEW, annotations: { 'daemonless.io/rollout-node-selector': 'canary=true' } }));
    await waitImages(ns, { [a]: NEW, [b]: OLD, [c]: NEW, [d]: OLD });

    // Pause, then widen the selector: nothing more rolls while paused.
    await annotate(ns, { 'daemonless.io/rollout-paused': 'true', 'daemonless.io/rollout-node-selector': null });
    await new Promise((r) => setTimeout(r, 3_000));
    await waitImages(ns, { [a]: NEW, [b]: OLD, [c]: NEW, [d]: OLD });
    const held = await w.stop();
    expect(held.seen).toEqual(uidsOf(before, [b, d]));
    expect(held.maxUnavailable).toBeLessThanOrEqual(1);
    // Conditions on a native DaemonSet with rollout controls.
    await kubectl(['-n', ns, 'wait', '--for=condition=Progressing=Unknown', 'daemonsets.apps/ds', '--timeout=30s']);

    const joined = 'canary-n9';
    await createReadyNodes(admin, [{ name: joined, labels: selector }]);
    cleanups.push(() => deleteNodes(admin, [joined]));
    await waitImages(ns, { [a]: NEW, [b]: OLD, [c]: NEW, [d]: OLD, [joined]: NEW });

    await annotate(ns, { 'daemonless.io/rollout-paused': 'false' });
    await waitImages(ns, { ...sameImage(nodes, NEW), [joined]: NEW });
  });

  it('dlds fields: selector + partition, Ready with reason Partitioned, pause, resume; kubectl wait reads the conditions', async () => {
    const { ns, nodes, selector } = await setup('dlds', [{ canary: 'true' }, {}, { canary: 'true' }, { canary: 'true' }], 'crd');
    const controls = { selector: { matchLabels: { canary: 'true' } }, partition: 1 };
    await kubectl(['apply', '-f', '-'], manifest('crd', { ns, selector, image: OLD, rollingUpdate: controls }));
    const before = await waitImages(ns, sameImage(nodes, OLD));
    await kubectl(['-n', ns, 'wait', '--for=condition=Ready', 'dlds/ds', '--timeout=60s']);
    const [a, b, c, d] = nodes as [string, string, string, string];
    const w = watch(ns, [b, d], [a, c]);
    await kubectl(['apply', '-f', '-'], manifest('crd', { ns, selector, image: NEW, rollingUpdate: controls }));
    await waitImages(ns, { [a]: NEW, [b]: OLD, [c]: NEW, [d]: OLD });
    await waitObserved('crd', ns);
    await kubectl(['-n', ns, 'wait', '--for=condition=Ready', 'dlds/ds', '--timeout=60s']);
    const ready = await kubectl(['-n', ns, 'get', 'dlds', 'ds', '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].reason} {.status.conditions[?(@.type=="Progressing")].reason} {.status.updatedNumberScheduled}']);
    expect(ready.stdout).toBe('Partitioned Partitioned 2');

    await patchRollingUpdate(ns, { paused: true, partition: 0 });
    await kubectl(['-n', ns, 'wait', '--for=condition=Progressing=Unknown', 'dlds/ds', '--timeout=30s']);
    await new Promise((r) => setTimeout(r, 2_000));
    await waitImages(ns, { [a]: NEW, [b]: OLD, [c]: NEW, [d]: OLD });
    const held = await w.stop();
    expect(held.seen).toEqual(uidsOf(before, [b, d]));
    expect(held.maxUnavailable).toBeLessThanOrEqual(1);

    const w2 = watch(ns, [b], [d]);
    await patchRollingUpdate(ns, { paused: false });
    await waitImages(ns, { [a]: NEW, [b]: OLD, [c]: NEW, [d]: NEW });
    expect((await w2.stop()).seen).toEqual(uidsOf(before, [b]));
    await patchRollingUpdate(ns, { selector: null });
    await waitImages(ns, sameImage(nodes, NEW));
    await kubectl(['-n', ns, 'wait', '--for=condition=Ready', 'dlds/ds', '--timeout=60s']);
    const done = await kubectl(['-n', ns, 'get', 'dlds', 'ds', '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].reason} {.status.conditions[?(@.type=="Reconciling")].status}']);
    expect(done.stdout).toBe('RolloutComplete False');
  });

  it('dlds progressDeadlineSeconds: a rollout that makes no progress becomes Stalled (ProgressDeadlineExceeded) with an event', async () => {
    const { ns, nodes, selector } = await setup('deadline', [{}, {}], 'crd');
    await kubectl(['apply', '-f', '-'], manifest('crd', { ns, selector, image: OLD, spec: { progressDeadlineSeconds: 5 } }));
    await waitImages(ns, sameImage(nodes, OLD));
    // A template no node can run: the new pod never becomes available.
    const stuck = JSON.parse(manifest('crd', { ns, selector, image: NEW, spec: { progressDeadlineSeconds: 5 } })) as { spec: { template: { spec: { containers: { resources?: object }[] } } } };
    stuck.spec.template.spec.containers[0]!.resources = { requests: { cpu: '100000' } };
    await kubectl(['apply', '-f', '-'], JSON.stringify(stuck));
    await kubectl(['-n', ns, 'wait', '--for=condition=Stalled', 'dlds/ds', '--timeout=60s']);
    const r = await kubectl(['-n', ns, 'get', 'dlds', 'ds', '-o', 'jsonpath={.status.conditions[?(@.type=="Stalled")].reason} {.status.conditions[?(@.type=="Progressing")].status}']);
    expect(r.stdout).toBe('ProgressDeadlineExceeded False');
    await eventually(async () => {
      const events = await kubectl(['-n', ns, 'get', 'events', '--field-selector', 'reason=ProgressDeadlineExceeded', '-o', 'name']);
      expect(events.stdout.trim()).not.toBe('');
    }, { timeoutMs: 20_000, what: 'ProgressDeadlineExceeded event' });

    // A fixed template is progress: the stall ends.
    await kubectl(['apply', '-f', '-'], manifest('crd', { ns, selector, image: NEW, spec: { progressDeadlineSeconds: 5 } }));
    await waitImages(ns, sameImage(nodes, NEW));
    await kubectl(['-n', ns, 'wait', '--for=condition=Stalled=False', 'dlds/ds', '--timeout=60s']);
    await kubectl(['-n', ns, 'wait', '--for=condition=Ready', 'dlds/ds', '--timeout=60s']);
  });

  it('dlds whose pod creates are refused: Stalled (ReconcileFailed) with the error, written once, cleared when it works again', async () => {
    const { ns, nodes, selector, loop } = await setup('refused', [{}, {}], 'crd');
    await kubectl(['-n', ns, 'create', 'quota', 'no-pods', '--hard=pods=0']);
    await kubectl(['apply', '-f', '-'], manifest('crd', { ns, selector, image: OLD }));
    await kubectl(['-n', ns, 'wait', '--for=condition=Stalled', 'dlds/ds', '--timeout=60s']);
    const r = await kubectl(['-n', ns, 'get', 'dlds', 'ds', '-o', 'jsonpath={.status.conditions[?(@.type=="Stalled")].reason}|{.status.conditions[?(@.type=="Stalled")].message}|{.status.conditions[?(@.type=="Ready")].status}']);
    const [reason, message, ready] = r.stdout.split('|');
    expect(reason).toBe('ReconcileFailed');
    expect(message).toMatch(/forbidden|exceeded quota/i);
    expect(ready).toBe('False');
    // The same failure pass after pass writes the status no more.
    const seen = loop.reports.length + loop.errors.length;
    await new Promise((res) => setTimeout(res, 3_000));
    const after = await kubectl(['-n', ns, 'get', 'dlds', 'ds', '-o', 'jsonpath={.metadata.resourceVersion}']);
    await new Promise((res) => setTimeout(res, 3_000));
    expect(loop.reports.length + loop.errors.length).toBeGreaterThan(seen);
    expect((await kubectl(['-n', ns, 'get', 'dlds', 'ds', '-o', 'jsonpath={.metadata.resourceVersion}'])).stdout).toBe(after.stdout);

    await kubectl(['-n', ns, 'delete', 'quota', 'no-pods']);
    await waitImages(ns, sameImage(nodes, OLD));
    await kubectl(['-n', ns, 'wait', '--for=condition=Ready', 'dlds/ds', '--timeout=60s']);
    await kubectl(['-n', ns, 'wait', '--for=condition=Stalled=False', 'dlds/ds', '--timeout=30s']);
  });
});
