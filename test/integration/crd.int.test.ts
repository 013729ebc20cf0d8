/**
 * The dlds resource as a user meets it, with the real kube-apiserver and the real kubectl:
 * validation at `kubectl apply` (CRD-1: the pod template schema generated from this API server's
 * own OpenAPI; CRD-2: CEL rules for what apps/v1 validation checks), `kubectl get dlds -o wide`,
 * and node tooling: `kubectl drain --ignore-daemonsets` with dlds pods and the Cluster Autoscaler
 * annotation (CRD-3).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { V1DaemonSet } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { renderPodTemplateSchemaFile } from '../../lib/manifests/openapi-schema.js';
import { POD_TEMPLATE_SCHEMA_FILE, fetchPodTemplateSchema } from '../../infra/manifests/update-pod-template-schema.js';
import { validateDaemonSet } from '../../lib/core/index.js';
import { DEMO_MANIFEST } from '../../lib/runner/demo/topology.js';
import { startControllerLoop, type ControllerLoop } from '../support/controller-loop.js';
import { eventually } from '../../lib/local-plane/eventually.js';
import { createReadyNodes, deleteNodes } from '../../lib/local-plane/nodes.js';
import { admin, createNamespace, deleteNamespace, isPodReady, kubectl, livePods, plane, podNode } from './helpers.js';

const GENERATED = fileURLToPath(new URL('../../infra/manifests/generated', import.meta.url));
type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** A valid dlds; `edit` changes a copy. */
function dlds(name: string, namespace: string, edit: (o: Obj) => void = () => {}): Obj {
  const o: Obj = {
    apiVersion: 'daemonless.io/v1',
    kind: 'DaemonSet',
    metadata: { name, namespace },
    spec: {
      selector: { matchLabels: { app: name } },
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } },
      template: {
        metadata: { labels: { app: name } },
        spec: { terminationGracePeriodSeconds: 0, containers: [{ name: 'main', image: 'nginx:1.7.9' }] },
      },
    },
  };
  edit(o);
  return o;
}

const apply = (o: Obj) => kubectl(['apply', '-f', '-'], JSON.stringify(o), true);

describe('dlds validation at kubectl apply', () => {
  const ns = 'crd-validation';
  beforeAll(() => createNamespace(ns));
  afterAll(() => deleteNamespace(ns));

  it('CRD-1 the committed pod template schema is the one this API server serves (regenerate: npm run crd:schema)', async () => {
    const served = await fetchPodTemplateSchema(plane.binDir, plane.adminKubeconfig);
    expect(renderPodTemplateSchemaFile(served)).toBe(readFileSync(POD_TEMPLATE_SCHEMA_FILE, 'utf8'));
  });

  it('CRD-1 the CRD is small enough for a client-side kubectl apply (last-applied annotation under 256 KiB)', async () => {
    const r = await kubectl(['apply', '--dry-run=server', '-f', `${GENERATED}/crd.yaml`], undefined, true);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/customresourcedefinition\.apiextensions\.k8s\.io\/daemonsets\.daemonless\.io (configured|unchanged) \(server dry run\)/);
  });

  // [what, edit, field named in the refusal, message, the core's validateDaemonSet refuses it on the same field]
  const invalid: [string, (o: Obj) => void, string, RegExp, boolean][] = [
    ['a selector that does not match the template labels', (o) => { o.spec.template.metadata.labels = { app: 'other' }; },
      'spec.template.metadata.labels', /`selector` does not match template `labels`/, true],
    ['a matchExpressions selector the labels miss', (o) => { o.spec.selector = { matchExpressions: [{ key: 'tier', operator: 'In', values: ['node'] }] }; },
      'spec.template.metadata.labels', /`selector` does not match template `labels`/, true],
    ['an empty selector', (o) => { o.spec.selector = {}; }, 'spec.selector', /empty selector is invalid for daemonset/, true],
    ['containers: "nope"', (o) => { o.spec.template.spec.containers = 'nope'; }, 'spec.template.spec.containers', /must be of type array/, false],
    ['no container', (o) => { o.spec.template.spec.containers = []; }, 'spec.template.spec.containers', /must have at least one container/, true],
    ['a container image that is a number', (o) => { o.spec.template.spec.containers[0].image = 5; }, 'spec.template.spec.containers[0].image', /must be of type string/, false],
    ['a misspelt container field', (o) => { o.spec.template.spec.containers[0].imagePullPolice = 'Always'; }, 'spec.template.spec.containers[0].imagePullPolice', /unknown field/, false],
    ['restartPolicy Never', (o) => { o.spec.template.spec.restartPolicy = 'Never'; }, 'spec.template.spec.restartPolicy', /supported values: "Always"/, true],
    ['activeDeadlineSeconds', (o) => { o.spec.template.spec.activeDeadlineSeconds = 30; }, 'spec.template.spec.activeDeadlineSeconds', /not Supported/, true],
    ['maxUnavailable: "abc"', (o) => { o.spec.updateStrategy.rollingUpdate.maxUnavailable = 'abc'; },
      'spec.updateStrategy.rollingUpdate.maxUnavailable', /percentage/, true],
    ['maxUnavailable: -1', (o) => { o.spec.updateStrategy.rollingUpdate.maxUnavailable = -1; },
      'spec.updateStrategy.rollingUpdate.maxUnavailable', /non-negative integer/, true],
    ['maxSurge: "101%"', (o) => { o.spec.updateStrategy.rollingUpdate = { maxUnavailable: 0, maxSurge: '101%' }; },
      'spec.updateStrategy.rollingUpdate.maxSurge', /must not be greater than 100%/, true],
    ['both budgets 0', (o) => { o.spec.updateStrategy.rollingUpdate = { maxUnavailable: 0, maxSurge: 0 }; },
      'spec.updateStrategy.rollingUpdate.maxUnavailable', /cannot be 0 when maxSurge is 0/, true],
    ['both budgets 0, one as "0%"', (o) => { o.spec.updateStrategy.rollingUpdate = { maxUnavailable: '0%', maxSurge: 0 }; },
      'spec.updateStrategy.rollingUpdate.maxUnavailable', /cannot be 0 when maxSurge is 0/, true],
    ['both budgets non-zero', (o) => { o.spec.updateStrategy.rollingUpdate = { maxUnavailable: 1, maxSurge: '10%' }; },
      'spec.updateStrategy.rollingUpdate.maxSurge', /may not be set when maxUnavailable is non-zero/, true],
    ['an unknown strategy type', (o) => { o.spec.updateStrategy.type = 'Recreate'; }, 'spec.updateStrategy.type', /supported values: "RollingUpdate", "OnDelete"/, true],
    ['a negative partition', (o) => { o.spec.updateStrategy.rollingUpdate.partition = -1; },
      'spec.updateStrategy.rollingUpdate.partition', /should be greater than or equal to 0/, false],
    ['paused: "yes"', (o) => { o.spec.updateStrategy.rollingUpdate.paused = 'yes'; }, 'spec.updateStrategy.rollingUpdate.paused', /must be of type boolean/, false],
    ['progressDeadlineSeconds: 0', (o) => { o.spec.progressDeadlineSeconds = 0; }, 'spec.progressDeadlineSeconds', /should be greater than or equal to 1/, false],
    ['a negative minReadySeconds', (o) => { o.spec.minReadySeconds = -5; }, 'spec.minReadySeconds', /should be greater than or equal to 0/, true],
  ];

  it.each(invalid)('CRD-2 refuses %s, naming the field', async (_what, edit, field, message, core) => {
    const object = dlds('bad', ns, edit);
    const r = await apply(object);
    expect(r.code, r.stdout).not.toBe(0);
    expect(r.stderr).toContain(field);
    expect(r.stderr).toMatch(message);
    // The controller's own check (API-2..4, for objects that never passed an API server) agrees.
    if (core) expect(validateDaemonSet(object as V1DaemonSet).map((p) => p.field)).toContain(field);
    const gone = await kubectl(['-n', ns, 'get', 'dlds', 'bad', '--ignore-not-found', '-o', 'name']);
    expect(gone.stdout.trim()).toBe('');
  });

  it('CRD-2 refuses a changed selector (immutable, as in apps/v1)', async () => {
    expect((await apply(dlds('fixed', ns))).code).toBe(0);
    const r = await apply(dlds('fixed', ns, (o) => {
      o.spec.selector = { matchLabels: { app: 'fixed', tier: 'x' } };
      o.spec.template.metadata.labels = { app: 'fixed', tier: 'x' };
    }));
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/spec\.selector: Invalid value: .*field is immutable/);
    const kept = await kubectl(['-n', ns, 'get', 'dlds', 'fixed', '-o', 'jsonpath={.spec.selector.matchLabels}']);
    expect(JSON.parse(kept.stdout)).toEqual({ app: 'fixed' });
  });

  it('accepts the seed demo\'s nginx-ds as a dlds', async () => {
    const demo = parse(readFileSync(DEMO_MANIFEST, 'utf8')) as Obj;
    const object = { ...demo, apiVersion: 'daemonless.io/v1', metadata: { ...demo.metadata, namespace: ns } };
    const r = await apply(object);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/daemonset\.daemonless\.io\/nginx-ds created/);
  });

  it('accepts what apps/v1 accepts, rollout controls included, and stores the template as written (no defaults)', async () => {
    const object = dlds('liberal', ns, (o) => {
      o.spec.selector = { matchLabels: { app: 'liberal' }, matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['db'] }, { key: 'app', operator: 'Exists' }] };
      o.spec.updateStrategy.rollingUpdate = {
        maxUnavailable: 0, maxSurge: '25%', paused: true, partition: 2, autoPause: true, selector: { matchLabels: { canary: 'true' } },
      };
      o.spec.progressDeadlineSeconds = 600;
      o.spec.template.spec.containers[0] = {
        name: 'main',
        image: 'nginx:1.7.9',
        // A port without protocol (optional list-map key), duplicate env names (apps/v1 only warns),
        // a fractional CPU quantity and an integer memory quantity.
        ports: [{ containerPort: 80 }],
        env: [{ name: 'A', value: '1' }, { name: 'A', value: '2' }],
        resources: { requests: { cpu: 0.5, memory: 1048576 }, limits: { cpu: '1' } },
        readinessProbe: { httpGet: { path: '/', port: 'http' } },
      };
    });
    const r = await apply(object);
    expect(r.code, r.stderr).toBe(0);
    const stored = JSON.parse((await kubectl(['-n', ns, 'get', 'dlds', 'liberal', '-o', 'json'])).stdout) as Obj;
    expect(stored.spec.template).toEqual(object.spec.template);
    expect(stored.spec.updateStrategy.rollingUpdate).toEqual(object.spec.updateStrategy.rollingUpdate);
    // apps/v1 checks the budgets of RollingUpdate only.
    const onDelete = await apply(dlds('on-delete', ns, (o) => { o.spec.updateStrategy = { type: 'OnDelete', rollingUpdate: { maxUnavailable: 0, maxSurge: 0 } }; }));
    expect(onDelete.code, onDelete.stderr).toBe(0);
  });
});

describe('kubectl get dlds -o wide', () => {
  const ns = 'crd-wide';
  beforeAll(() => createNamespace(ns));
  afterAll(() => deleteNamespace(ns));

  it('shows the columns of kubectl get ds -o wide: containers, images and selector', async () => {
    expect((await apply(dlds('agent', ns, (o) => {
      o.spec.template.spec.containers = [{ name: 'main', image: 'nginx:1.7.9' }, { name: 'sidecar', image: 'busybox:1.36' }];
    }))).code).toBe(0);
    const wide = await kubectl(['-n', ns, 'get', 'dlds', 'agent', '-o', 'wide']);
    const [header, row] = wide.stdout.trim().split('\n');
    expect(header!.split(/\s{2,}/)).toEqual(['NAME', 'DESIRED', 'CURRENT', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'NODE SELECTOR', 'AGE', 'CONTAINERS', 'IMAGES', 'SELECTOR']);
    // The API server prints the first match of a column's JSON path: the first container only.
    expect(row!.split(/\s{2,}/).slice(-3)).toEqual(['main', 'nginx:1.7.9', '{"matchLabels":{"app":"agent"}}']);
    const narrow = await kubectl(['-n', ns, 'get', 'dlds', 'agent']);
    expect(narrow.stdout).not.toContain('CONTAINERS');
  });
});

describe('node tooling with dlds pods', () => {
  const ns = 'crd-drain';
  const nodes = ['drain-n0', 'drain-n1'];
  let loop: ControllerLoop;

  beforeAll(async () => {
    // The shipped ClusterRole of CRD mode replaces the native one for these tests.
    await kubectl(['apply', '--server-side', '--force-conflicts', '-f', `${GENERATED}/rbac-crd.yaml`]);
    await createNamespace(ns);
    await createReadyNodes(admin, nodes.map((name) => ({ name, labels: { suite: 'drain' } })));
    loop = startControllerLoop(plane.controllerKubeconfig, () => [`${ns}/agent`], { managedResource: 'crd' });
  });
  afterAll(async () => {
    await loop?.stop();
    await deleteNamespace(ns);
    await deleteNodes(admin, nodes);
    await kubectl(['apply', '--server-side', '--force-conflicts', '-f', `${GENERATED}/rbac-native.yaml`]);
  });

  const readyPods = () => eventually(async () => {
    const ps = (await livePods(ns, 'app=agent')).filter(isPodReady);
    expect(ps.map(podNode).sort()).toEqual(nodes);
    return ps;
  }, { timeoutMs: 60_000, what: 'a ready agent pod on each node' });

  it('CRD-3 dlds pods carry the Cluster Autoscaler daemon-pod annotation', async () => {
    expect((await apply(dlds('agent', ns, (o) => { o.spec.template.spec.nodeSelector = { suite: 'drain' }; }))).code).toBe(0);
    for (const p of await readyPods()) expect(p.metadata?.annotations?.['cluster-autoscaler.kubernetes.io/daemonset-pod']).toBe('true');
  });

  it('kubectl drain --ignore-daemonsets succeeds without --force; this kubectl evicts the dlds pod and daemonless puts it back on the cordoned node', async () => {
    const target = nodes[0]!;
    const before = (await readyPods()).find((p) => podNode(p) === target)!;
    const drained = await kubectl(['drain', target, '--ignore-daemonsets', '--timeout=60s'], undefined, true);
    expect(drained.code, drained.stderr).toBe(0);
    expect(drained.stdout).toMatch(new RegExp(`node/${target} drained`));
    // kubectl checks the controller's apiVersion too (kubernetes#128779): a daemonless.io/v1 owner
    // is not a DaemonSet to it, so the pod is evicted like any controlled pod, not skipped.
    expect(drained.stdout + drained.stderr).toContain(`evicting pod ${ns}/${before.metadata?.name}`);
    expect(drained.stderr).not.toContain('ignoring DaemonSet-managed Pods');
    // Daemon pods tolerate node.kubernetes.io/unschedulable: a new pod runs on the cordoned node.
    const after = await eventually(async () => {
      const p = (await readyPods()).find((x) => podNode(x) === target);
      expect(p?.metadata?.uid).not.toBe(before.metadata?.uid);
      return p!;
    }, { timeoutMs: 60_000, what: 'a new agent pod on the drained node' });
    expect(after.spec?.tolerations).toEqual(expect.arrayContaining([expect.objectContaining({ key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' })]));
    await kubectl(['uncordon', target]);
  });
});
