/**
 * The two sides of the differential test: applying a scenario's operations to a control plane,
 * observing a normalized end state, waiting until a plane is quiescent, and comparing two states.
 *
 * Normalization (test-harness.md §5): pod names, UIDs, timestamps and revision-hash values differ
 * legitimately between the planes, so a pod's revision is named by the ControllerRevision that
 * carries its `controller-revision-hash` (`r<revision>:<image>`), never by the hash itself; owner
 * references are compared without UIDs (but must point at the live DaemonSet's UID); pods are keyed
 * by their target node.
 */
import { AppsV1Api, CoreV1Api, PatchStrategy, setHeaderOptions, type KubeConfig, type V1ControllerRevision, type V1DaemonSet, type V1Pod, type V1Taint } from '@kubernetes/client-node';
import type { ControlPlane } from '../../lib/local-plane/control-plane.js';
import { createReadyNodes, deleteNodes, kubeClient, type NodeSpec } from '../../lib/local-plane/nodes.js';
import type { DaemonSetDef, NodeDef, Scenario, Step, StrategyDef, TaintDef } from './differential-scenario.js';

export interface Side {
  /** "A" (daemonless) or "B" (upstream). */
  readonly label: string;
  readonly plane: ControlPlane;
  readonly kc: KubeConfig;
  readonly core: CoreV1Api;
  readonly apps: AppsV1Api;
}

export function side(label: string, plane: ControlPlane): Side {
  const kc = kubeClient(plane.adminKubeconfig);
  return { label, plane, kc, core: kc.makeApiClient(CoreV1Api), apps: kc.makeApiClient(AppsV1Api) };
}

const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

async function kubectl(s: Side, args: readonly string[], input?: string): Promise<string> {
  const r = await s.plane.kubectl(args, input === undefined ? {} : { input });
  if (r.code !== 0) throw new Error(`[plane ${s.label}] kubectl ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}

// ---------------------------------------------------------------------------------------------
// Operations

const toTaint = (t: TaintDef): V1Taint => ({ key: t.key, value: t.value, effect: t.effect });
const nodeSpec = (n: NodeDef): NodeSpec => ({ name: n.name, labels: { ...n.labels }, taints: n.taints.map(toTaint) });

function strategyObject(s: StrategyDef): object {
  return s.type === 'OnDelete'
    ? { type: 'OnDelete' }
    : { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: s.maxUnavailable, maxSurge: s.maxSurge } };
}

/** The DaemonSet manifest of a definition (the same bytes go to both planes). */
export function daemonSetManifest(namespace: string, d: DaemonSetDef): string {
  const affinity = d.affinityTerms
    ? { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: d.affinityTerms.map((t) => ({ matchExpressions: t })) } } }
    : undefined;
  return JSON.stringify({
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name: d.name, namespace },
    spec: {
      selector: { matchLabels: { app: d.name } },
      updateStrategy: strategyObject(d.strategy),
      minReadySeconds: 0,
      revisionHistoryLimit: 10,
      template: {
        metadata: { labels: { app: d.name } },
        spec: {
          nodeSelector: d.nodeSelector,
          affinity,
          tolerations: d.tolerations.length ? d.tolerations : undefined,
          terminationGracePeriodSeconds: 0,
          containers: [{ name: 'main', image: d.image }],
        },
      },
    },
  });
}

/** Creates the scenario's namespace and nodes (Ready, free of the startup taint) on one plane. */
export async function createScenarioCluster(s: Side, sc: Scenario): Promise<void> {
  await s.core.createNamespace({ body: { metadata: { name: sc.namespace } } });
  await createReadyNodes(s.kc, sc.nodes.map(nodeSpec));
}

export async function applyDaemonSet(s: Side, namespace: string, d: DaemonSetDef): Promise<void> {
  await kubectl(s, ['apply', '-f', '-'], daemonSetManifest(namespace, d));
}

/** The target node of a daemon pod: spec.nodeName, else the matchFields metadata.name In [x] term (MAP-2). */
export function targetNode(p: V1Pod): string | undefined {
  if (p.spec?.nodeName) return p.spec.nodeName;
  for (const term of p.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? []) {
    for (const f of term.matchFields ?? []) {
      if (f.key === 'metadata.name' && f.operator === 'In' && f.values?.length === 1) return f.values[0];
    }
  }
  return undefined;
}

const created = (p: { metadata?: { creationTimestamp?: Date | string } }) => new Date(p.metadata?.creationTimestamp ?? 0).getTime();

/** A step with its plane-independent target resolved (the node of a failPod step). */
export type ResolvedStep = Exclude<Step, { kind: 'failPod' }> | (Extract<Step, { kind: 'failPod' }> & { readonly node?: string });

/** Per target node, the oldest live (not deleting, not terminal) pod of a DaemonSet. */
export async function livePodsOn(s: Side, namespace: string, ds: string): Promise<Map<string, string>> {
  const pods = (await s.core.listNamespacedPod({ namespace, labelSelector: `app=${ds}` })).items
    .filter((p) => !p.metadata?.deletionTimestamp && p.status?.phase !== 'Failed' && p.status?.phase !== 'Succeeded')
    .sort((a, b) => created(a) - created(b) || (a.metadata!.name! < b.metadata!.name! ? -1 : 1));
  const out = new Map<string, string>();
  for (const p of pods) {
    const node = targetNode(p);
    if (node && !out.has(node)) out.set(node, p.metadata!.name!);
  }
  return out;
}

/**
 * Applies one step to one plane. `daemonSets` is the scenario's current definitions (updated in
 * place by the caller before applying to both planes). Returns a note when the step was a no-op here.
 */
export async function applyStep(s: Side, sc: Scenario, step: ResolvedStep, daemonSets: ReadonlyMap<string, DaemonSetDef>): Promise<string | undefined> {
  const ns = sc.namespace;
  switch (step.kind) {
    case 'setImage':
    case 'setStrategy':
      await applyDaemonSet(s, ns, daemonSets.get(step.ds)!);
      return undefined;
    case 'label':
      await kubectl(s, ['label', 'node', step.node, step.value === null ? `${step.key}-` : `${step.key}=${step.value}`, '--overwrite']);
      return undefined;
    case 'taint': {
      const t = `${step.taint.key}=${step.taint.value}:${step.taint.effect}`;
      await kubectl(s, ['taint', 'node', step.node, step.op === 'add' ? t : `${t}-`]);
      return undefined;
    }
    case 'addNode':
      await createReadyNodes(s.kc, [nodeSpec(step.node)]);
      return undefined;
    case 'cordon':
      await kubectl(s, [step.unschedulable ? 'cordon' : 'uncordon', step.node]);
      return undefined;
    case 'removeNode': {
      await deleteNodes(s.kc, [step.node]);
      // Pod GC force-deletes pods bound to a vanished node after a 40 s quarantine; do its job at once,
      // on both planes alike, so the comparison does not wait for it. Unbound pods stay (MANAGE-8).
      const pods = await s.core.listNamespacedPod({ namespace: ns, fieldSelector: `spec.nodeName=${step.node}` });
      await Promise.all(pods.items.map((p) => s.core.deleteNamespacedPod({ namespace: ns, name: p.metadata!.name!, gracePeriodSeconds: 0 }).catch(() => undefined)));
      return undefined;
    }
    case 'failPod': {
      if (!step.node) return 'no node runs a live pod of this DaemonSet on both planes';
      const victim = (await livePodsOn(s, ns, step.ds)).get(step.node);
      if (!victim) return `no running ${step.ds} pod on ${step.node}`;
      await kubectl(s, ['-n', ns, 'patch', 'pod', victim, '--subresource=status', '--type=merge', '-p',
        JSON.stringify({ status: { phase: 'Failed', reason: 'DifferentialTest', message: 'failed on purpose by the differential test' } })]);
      return undefined;
    }
    case 'deleteDs':
      await kubectl(s, ['-n', ns, 'delete', 'daemonset', step.ds, '--wait=false']);
      return undefined;
  }
}

/**
 * Touches every live DaemonSet of the scenario with an annotation (metadata only: no new generation,
 * no new revision). Upstream syncs a DaemonSet on every update (WATCH-1), as it does on its periodic
 * informer resync (WATCH-9); this makes upstream recompute what its minimal trigger set (WATCH-8)
 * may leave stale, e.g. the status after a node gains an untolerated NoSchedule taint.
 */
export async function resync(s: Side, sc: Scenario, names: readonly string[], round: number): Promise<void> {
  const body = { metadata: { annotations: { 'differential.daemonless/resync': String(round) } } };
  await Promise.all(names.map((name) => s.apps.patchNamespacedDaemonSet({ namespace: sc.namespace, name, body }, mergePatch).catch((e: { code?: number }) => {
    if (e.code !== 404) throw e;
  })));
}

export async function cleanupScenario(s: Side, sc: Scenario, nodeNames: readonly string[]): Promise<void> {
  await s.core.deleteNamespace({ name: sc.namespace }).catch(() => undefined);
  await deleteNodes(s.kc, nodeNames).catch(() => undefined);
}

// ---------------------------------------------------------------------------------------------
// Observation and normalization

export interface PodState {
  /** The revision class: `r<revision>:<image>` of the CR carrying the pod's hash, or why there is none. */
  readonly revision: string;
  readonly image: string;
  readonly podTemplateGeneration: string | null;
  readonly labels: string;
  readonly phase: string;
  readonly ready: boolean;
  readonly deleting: boolean;
  readonly bound: boolean;
  readonly tolerations: readonly string[];
  readonly owner: string;
  readonly requiredAffinity: string;
}

export interface DaemonSetState {
  readonly exists: boolean;
  readonly generation?: number;
  readonly templateGeneration?: string;
  readonly observedGeneration?: number;
  readonly status?: Readonly<Record<string, number>>;
  /** ControllerRevisions selected by the DaemonSet: revision number and image, by revision. */
  readonly revisions: readonly string[];
  /** Daemon pods per target node (only nodes that exist); each node's pods in a canonical order. */
  readonly pods: Readonly<Record<string, readonly PodState[]>>;
  /** Pods without a determinable target node. */
  readonly untargetedPods: number;
  /** Pods targeting nodes that no longer exist (left to pod GC; not compared). */
  readonly strayPods: number;
}

export interface PlaneState {
  readonly nodes: readonly string[];
  readonly daemonSets: Readonly<Record<string, DaemonSetState>>;
}

export const STATUS_FIELDS = [
  'desiredNumberScheduled', 'currentNumberScheduled', 'numberMisscheduled', 'numberReady',
  'updatedNumberScheduled', 'numberAvailable', 'numberUnavailable',
] as const;

const isReady = (p: V1Pod) => (p.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
const revImage = (cr: V1ControllerRevision): string => {
  const data = cr.data as { spec?: { template?: { spec?: { containers?: { image?: string }[] } } } } | undefined;
  return data?.spec?.template?.spec?.containers?.[0]?.image ?? '?';
};

function normalizePod(p: V1Pod, ds: V1DaemonSet | undefined, revByHash: ReadonlyMap<string, string>): PodState {
  const labels = { ...(p.metadata?.labels ?? {}) };
  const hash = labels['controller-revision-hash'];
  const gen = labels['pod-template-generation'] ?? null;
  delete labels['controller-revision-hash'];
  delete labels['pod-template-generation'];
  const owners = (p.metadata?.ownerReferences ?? []).map((o) =>
    `${o.apiVersion}/${o.kind}/${o.name} controller=${o.controller ?? false} blockOwnerDeletion=${o.blockOwnerDeletion ?? false}` +
    (ds?.metadata?.uid && o.uid === ds.metadata.uid ? ' (live uid)' : ' (other uid)'));
  const required = p.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  return {
    revision: hash === undefined ? 'no hash label' : revByHash.get(hash) ?? 'hash of no revision',
    image: p.spec?.containers?.[0]?.image ?? '?',
    podTemplateGeneration: gen,
    labels: JSON.stringify(Object.entries(labels).sort()),
    phase: p.status?.phase ?? 'none',
    ready: isReady(p),
    deleting: Boolean(p.metadata?.deletionTimestamp),
    bound: Boolean(p.spec?.nodeName),
    tolerations: (p.spec?.tolerations ?? []).map((t) => JSON.stringify([t.key ?? '', t.operator ?? '', t.value ?? '', t.effect ?? '', t.tolerationSeconds ?? null])).sort(),
    owner: owners.sort().join('; '),
    requiredAffinity: JSON.stringify(required ?? null),
  };
}

const podOrder = (a: PodState, b: PodState) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : JSON.stringify(a) > JSON.stringify(b) ? 1 : 0);

/** Reads and normalizes the scenario's state on one plane. */
export async function observe(s: Side, sc: Scenario, dsNames: readonly string[]): Promise<PlaneState> {
  const ns = sc.namespace;
  const scopeSelector = Object.entries(sc.scopeLabel).map(([k, v]) => `${k}=${v}`).join(',');
  const [nodeList, podList, crList] = await Promise.all([
    s.core.listNode({ labelSelector: scopeSelector }),
    s.core.listNamespacedPod({ namespace: ns }),
    s.apps.listNamespacedControllerRevision({ namespace: ns }),
  ]);
  const nodes = nodeList.items.map((n) => n.metadata!.name!).sort();
  const nodeSet = new Set(nodes);
  const daemonSets: Record<string, DaemonSetState> = {};
  for (const name of dsNames) {
    const ds = await s.apps.readNamespacedDaemonSet({ namespace: ns, name }).catch((e: { code?: number }) => {
      if (e.code === 404) return undefined;
      throw e;
    });
    const crs = crList.items.filter((cr) => cr.metadata?.labels?.app === name);
    const revByHash = new Map<string, string>();
    for (const cr of crs) {
      const hash = cr.metadata?.labels?.['controller-revision-hash'];
      if (hash) revByHash.set(hash, `r${cr.revision}:${revImage(cr)}`);
    }
    const pods: Record<string, PodState[]> = {};
    let untargetedPods = 0;
    let strayPods = 0;
    for (const p of podList.items.filter((q) => q.metadata?.labels?.app === name)) {
      // Terminal pods that are being deleted are invisible to the controller (MAP-1).
      if (p.metadata?.deletionTimestamp && (p.status?.phase === 'Failed' || p.status?.phase === 'Succeeded')) continue;
      const node = targetNode(p);
      if (node === undefined) untargetedPods++;
      else if (!nodeSet.has(node)) strayPods++;
      else (pods[node] ??= []).push(normalizePod(p, ds, revByHash));
    }
    for (const list of Object.values(pods)) list.sort(podOrder);
    const status = ds?.status as Record<string, number | undefined> | undefined;
    daemonSets[name] = {
      exists: ds !== undefined,
      generation: ds?.metadata?.generation,
      templateGeneration: ds?.metadata?.annotations?.['deprecated.daemonset.template.generation'],
      observedGeneration: ds?.status?.observedGeneration,
      status: ds ? Object.fromEntries(STATUS_FIELDS.map((f) => [f, status?.[f] ?? 0])) : undefined,
      revisions: crs.map((cr) => `r${cr.revision}:${revImage(cr)}`).sort(),
      pods,
      untargetedPods,
      strayPods,
    };
  }
  return { nodes, daemonSets };
}

/**
 * A state in which nothing should move any more: every live DaemonSet has observed its generation,
 * every desired node runs one Ready, available pod, rollouts are complete; deleted DaemonSets have
 * left no pods or revisions behind. (OnDelete rollouts and NoSchedule-misscheduled pods legitimately
 * stay; such states are only accepted after a longer quiet period.)
 */
export function isClean(st: PlaneState): boolean {
  return Object.values(st.daemonSets).every((d) => {
    const pods = Object.values(d.pods).flat();
    if (!d.exists) return pods.length === 0 && d.revisions.length === 0 && d.untargetedPods === 0;
    const s = d.status!;
    return d.observedGeneration === d.generation &&
      pods.every((p) => p.ready && !p.deleting && p.phase === 'Running' && p.bound) &&
      Object.values(d.pods).every((l) => l.length === 1) && d.untargetedPods === 0 &&
      s.desiredNumberScheduled === s.currentNumberScheduled && s.desiredNumberScheduled === s.numberAvailable &&
      s.desiredNumberScheduled === s.updatedNumberScheduled && s.numberMisscheduled === 0;
  });
}

// ---------------------------------------------------------------------------------------------
// Comparison

export interface Disagreement {
  readonly path: string;
  readonly a: unknown;
  readonly b: unknown;
}

/** Every difference between the two normalized states (stray pods are not compared: pod GC timing). */
export function compareStates(a: PlaneState, b: PlaneState): Disagreement[] {
  const out: Disagreement[] = [];
  const eq = (x: unknown, y: unknown) => JSON.stringify(x) === JSON.stringify(y);
  if (!eq(a.nodes, b.nodes)) out.push({ path: 'nodes', a: a.nodes, b: b.nodes });
  for (const name of new Set([...Object.keys(a.daemonSets), ...Object.keys(b.daemonSets)])) {
    const da = a.daemonSets[name];
    const db = b.daemonSets[name];
    if (!da || !db) {
      out.push({ path: name, a: da, b: db });
      continue;
    }
    for (const f of ['exists', 'generation', 'templateGeneration', 'observedGeneration', 'untargetedPods'] as const) {
      if (!eq(da[f], db[f])) out.push({ path: `${name}.${f}`, a: da[f], b: db[f] });
    }
    for (const f of STATUS_FIELDS) {
      if (!eq(da.status?.[f], db.status?.[f])) out.push({ path: `${name}.status.${f}`, a: da.status?.[f], b: db.status?.[f] });
    }
    if (!eq(da.revisions, db.revisions)) out.push({ path: `${name}.controllerRevisions`, a: da.revisions, b: db.revisions });
    for (const node of [...new Set([...Object.keys(da.pods), ...Object.keys(db.pods)])].sort()) {
      const pa = da.pods[node] ?? [];
      const pb = db.pods[node] ?? [];
      if (eq(pa, pb)) continue;
      if (pa.length !== pb.length) {
        out.push({ path: `${name}.pods[${node}]`, a: pa.map(podSummary), b: pb.map(podSummary) });
        continue;
      }
      pa.forEach((p, i) => {
        const q = pb[i]!;
        for (const k of Object.keys(p) as (keyof PodState)[]) {
          if (!eq(p[k], q[k])) out.push({ path: `${name}.pods[${node}][${i}].${k}`, a: p[k], b: q[k] });
        }
      });
    }
  }
  return out;
}

export const podSummary = (p: PodState): string =>
  `${p.revision} image=${p.image} gen=${p.podTemplateGeneration} ${p.phase}${p.ready ? '/Ready' : ''}${p.deleting ? '/deleting' : ''}${p.bound ? '' : '/unbound'}`;

export function formatDisagreement(d: Disagreement): string {
  return `${d.path}: A(daemonless)=${JSON.stringify(d.a)} B(upstream)=${JSON.stringify(d.b)}`;
}

/** A compact picture of one plane's state, for failure reports. */
export function formatState(st: PlaneState): string {
  return Object.entries(st.daemonSets).map(([name, d]) => {
    if (!d.exists) return `${name}: deleted, ${Object.values(d.pods).flat().length} pods, ${d.revisions.length} revisions`;
    const status = STATUS_FIELDS.map((f) => `${f.replace(/Number|number/g, '')}=${d.status?.[f]}`).join(' ');
    const pods = Object.entries(d.pods).map(([n, ps]) => `${n}:[${ps.map(podSummary).join(', ')}]`).join(' ');
    return `${name}: gen=${d.generation} observed=${d.observedGeneration} ${status} revisions=[${d.revisions.join(', ')}] ${pods}`;
  }).join('\n    ');
}
