/**
 * Fault-injection harness: the real reconcile shell (`createReconciler`) and the real Kubernetes
 * adapter (`KubeCluster`, over client-node shaped API objects) against the in-memory API server,
 * through the fault layer, driven by a scenario of user changes, node churn, pod failures, kubelet
 * ticks and message deliveries (direct, or through `processRecord` and the in-process FIFO
 * queue). The architecture's invariants are checked after every step and every pass; violations
 * are collected (never thrown) so the checks themselves can be tested against sabotaged passes.
 *
 * With a list cache (`Scenario.cache`), passes run on one of a few "containers" (KubeCluster
 * instances, each with a list cache of its own fed by the server's watches), picked per pass, as
 * a DaemonSet's messages land on whichever warm Lambda instance takes them; a container may be
 * replaced by a new one (a cold start: its cache is gone) between its passes. The caches' watches
 * and probes go through the fault layer too (late events, broken or stalled streams, 410s,
 * duplicated events, failed probes and lists), on a virtual network clock (virtual-time.ts).
 *
 * The checks are written independently of the core: eligibility, availability, budgets and status
 * are recomputed here from the scenario's restricted vocabulary (one optional nodeSelector
 * `role=daemon`, one optional taint key `k`, one optional toleration of it).
 */
import type { IntOrString, V1DaemonSet, V1Node, V1Pod } from '@kubernetes/client-node';
import { createMemoryWorkQueue } from '../../../lib/adapters/memory/memory-work-queue.js';
import { MemoryFifoQueue } from '../../../lib/adapters/memory/fifo-queue.js';
import { TransientError } from '../../../lib/app/errors.js';
import type { ReconcileFn, ReconcileOptions } from '../../../lib/app/ports.js';
import { newBatchState, processRecord, type BatchDeps } from '../../../lib/app/process-batch.js';
import { createReconciler } from '../../../lib/app/reconcile-key.js';
import {
  CONTROLLER_REVISION_HASH_LABEL, FAILED_POD_BACKOFF_ANNOTATION, POD_TEMPLATE_GENERATION_LABEL, TEMPLATE_GENERATION_ANNOTATION, type PlanOptions,
} from '../../../lib/core/index.js';
import { noMetrics, silentLogger } from '../../../lib/observability/ports.js';
import { addCollectionStats, emptyCollectionStats, type CollectionStats } from '../../../lib/adapters/kube/watched-collection.js';
import { FaultInjector, NO_FAULTS, prng, type FaultRates, type NetworkShape } from '../../support/fault-cluster.js';
import { MemoryApiServer, type ServerWrite } from '../../support/memory-api-server.js';
import { MemoryKubeCluster } from '../../support/memory-clients.js';
import { VirtualScheduler } from '../../support/virtual-time.js';
import { T0 } from '../../builders/clock.js';
import { daemonSet } from '../../builders/daemon-set.js';
import { node as nodeBuilder } from '../../builders/node.js';

export const NAMESPACE = 'test';

// ---------------------------------------------------------------------------------------------
// Scenario

export type Strategy =
  | { readonly type: 'OnDelete' }
  | { readonly type: 'RollingUpdate'; readonly maxUnavailable: IntOrString; readonly maxSurge: IntOrString };

export interface DsSpec {
  readonly strategy: Strategy;
  readonly minReady: number;
  /** terminationGracePeriodSeconds: 0 (pods vanish at once) or 30 (they linger one tick). */
  readonly grace: number;
  readonly nodeSelector: boolean;
  readonly tolerate: boolean;
  readonly image: number;
}

export interface NodeSpec {
  readonly labelled: boolean;
  readonly taint: 'none' | 'NoSchedule' | 'NoExecute';
}

export type Step =
  | { readonly kind: 'deliver'; readonly keys: readonly number[]; readonly concurrent: boolean }
  | { readonly kind: 'tick'; readonly count: number }
  | { readonly kind: 'image'; readonly ds: number; readonly image: number }
  | { readonly kind: 'strategy'; readonly ds: number; readonly strategy: Strategy }
  | { readonly kind: 'minReady'; readonly ds: number; readonly seconds: number }
  | { readonly kind: 'selector'; readonly ds: number; readonly nodeSelector: boolean; readonly tolerate: boolean }
  | { readonly kind: 'addNode'; readonly spec: NodeSpec }
  | { readonly kind: 'removeNode'; readonly index: number }
  | { readonly kind: 'changeNode'; readonly index: number; readonly spec: NodeSpec }
  | { readonly kind: 'podFault'; readonly index: number; readonly fault: 'Failed' | 'Succeeded' | 'unready' };

/** The list cache of a run: the containers passes run on and the network between them and the API server. */
export interface CacheSpec {
  /** Containers (each a KubeCluster with a list cache of its own); each pass runs on one picked at random. */
  readonly containers: number;
  /** Per pass: the picked container, when idle, is replaced by a new one (its cache is gone). */
  readonly restart: number;
  readonly network: NetworkShape;
  /** Changes the API server keeps for watches (a watch from an older version is 410 Expired). */
  readonly window: number;
  /** The caches' maximum age, in seconds of the scenario's clock. */
  readonly maxAgeS: number;
}

export interface Scenario {
  readonly seed: number;
  readonly nodes: readonly NodeSpec[];
  readonly daemonSets: readonly DsSpec[];
  readonly placement: 'affinity' | 'nodeName';
  readonly pageSize: number;
  readonly bindAfterTicks: number;
  readonly readyAfterTicks: number;
  readonly rates: FaultRates;
  readonly delivery: 'direct' | 'queue';
  /** null: no list cache (every pass lists). */
  readonly cache: CacheSpec | null;
  readonly steps: readonly Step[];
}

export interface Violation {
  /** Invariant number of architecture.md ("1", "2", "3", "4", "7") and a short name. */
  readonly rule: string;
  /** Step index (-1: settle / replay phases). */
  readonly step: number;
  readonly detail: string;
}

export const PLAN_OPTIONS_BACKOFF = { initialSeconds: 1, maxSeconds: 8 };

const dsName = (i: number): string => `ds${i}`;
export const dsKey = (i: number): string => `${NAMESPACE}/${dsName(i)}`;

// ---------------------------------------------------------------------------------------------
// Building objects

export function buildDaemonSet(i: number, spec: DsSpec): V1DaemonSet {
  const name = dsName(i);
  let b = daemonSet(name).selector({ matchLabels: { app: name } }).templateLabels({ app: name }).image(`img:v${spec.image}`).minReadySeconds(spec.minReady)
    .terminationGracePeriodSeconds(spec.grace).revisionHistoryLimit(2);
  b = spec.strategy.type === 'OnDelete' ? b.onDelete() : b.rollingUpdate(spec.strategy.maxUnavailable, spec.strategy.maxSurge);
  if (spec.nodeSelector) b = b.nodeSelector({ role: 'daemon' });
  if (spec.tolerate) b = b.tolerations([{ key: 'k', operator: 'Exists' }]);
  return b.build();
}

export function buildNode(name: string, spec: NodeSpec): V1Node {
  let b = nodeBuilder(name);
  if (spec.labelled) b = b.labels({ role: 'daemon' });
  if (spec.taint !== 'none') b = b.taint({ key: 'k', value: 'v', effect: spec.taint });
  return b.build();
}

// ---------------------------------------------------------------------------------------------
// Independent views of the state

interface PodInfo {
  readonly name: string;
  readonly uid: string;
  readonly node: string;
  readonly updated: boolean;
  readonly hash: string | undefined;
  readonly deleting: boolean;
  readonly terminal: boolean;
  readonly ready: boolean;
  readonly available: boolean;
  readonly phase: string;
}

export interface DsView {
  readonly ds: V1DaemonSet;
  readonly strategy: 'OnDelete' | 'RollingUpdate';
  readonly surge: boolean;
  readonly nodes: ReadonlySet<string>;
  /** Existing nodes where the DaemonSet should run (shouldRun). */
  readonly eligible: ReadonlySet<string>;
  /** Existing nodes where existing pods may continue (shouldContinueRunning). */
  readonly mayContinue: ReadonlySet<string>;
  readonly byNode: ReadonlyMap<string, readonly PodInfo[]>;
  readonly currentHash: string | undefined;
}

function podTarget(p: V1Pod): string {
  return p.spec?.nodeName || (p.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms?.[0]?.matchFields?.[0]?.values?.[0] ?? '');
}

function eligibility(ds: V1DaemonSet, n: V1Node): { shouldRun: boolean; mayContinue: boolean } {
  const selector = ds.spec?.template.spec?.nodeSelector?.['role'];
  if (selector !== undefined && n.metadata?.labels?.['role'] !== selector) return { shouldRun: false, mayContinue: false };
  const tolerated = (ds.spec?.template.spec?.tolerations ?? []).some((t) => t.key === 'k');
  const taint = (n.spec?.taints ?? []).find((t) => t.key === 'k');
  if (!taint || tolerated) return { shouldRun: true, mayContinue: true };
  return { shouldRun: false, mayContinue: taint.effect === 'NoSchedule' };
}

const toMs = (t: Date | string | undefined): number | undefined => (t === undefined ? undefined : new Date(t).getTime());

function budgetValue(v: IntOrString | undefined, desired: number): number {
  if (v === undefined) return 0;
  if (typeof v === 'number') return v;
  return Math.ceil((Number.parseInt(v, 10) * desired) / 100);
}

/** maxUnavailable / maxSurge as upstream resolves them against the desired node count (ROLL-3). */
export function budgets(ds: V1DaemonSet, desired: number): { maxUnavailable: number; maxSurge: number } {
  const ru = ds.spec?.updateStrategy?.rollingUpdate;
  let maxUnavailable = budgetValue(ru?.maxUnavailable ?? 1, desired);
  const maxSurge = budgetValue(ru?.maxSurge ?? 0, desired);
  if (desired > 0 && maxUnavailable === 0 && maxSurge === 0) maxUnavailable = 1;
  return { maxUnavailable, maxSurge };
}

export function viewOf(server: MemoryApiServer, key: string, now: Date): DsView | null {
  const ds = server.daemonSets.get(key);
  if (!ds) return null;
  const uid = ds.metadata?.uid;
  const minReady = ds.spec?.minReadySeconds ?? 0;
  const owned = <T extends { metadata?: V1Pod['metadata'] }>(o: T): boolean => (o.metadata?.ownerReferences ?? []).some((r) => r.controller === true && r.uid === uid);
  let currentHash: string | undefined;
  let best = -1;
  for (const r of server.revisions.values()) {
    if (!owned(r) || r.revision <= best) continue;
    best = r.revision;
    currentHash = r.metadata?.labels?.[CONTROLLER_REVISION_HASH_LABEL];
  }
  const tg = ds.metadata?.annotations?.[TEMPLATE_GENERATION_ANNOTATION];
  const byNode = new Map<string, PodInfo[]>();
  for (const p of server.pods.values()) {
    if (!owned(p)) continue;
    const node = podTarget(p);
    const ready = p.status?.conditions?.find((c) => c.type === 'Ready');
    const isReady = ready?.status === 'True';
    const since = toMs(ready?.lastTransitionTime);
    const deleting = p.metadata?.deletionTimestamp !== undefined && p.metadata.deletionTimestamp !== null;
    const hash = p.metadata?.labels?.[CONTROLLER_REVISION_HASH_LABEL];
    const info: PodInfo = {
      name: p.metadata?.name ?? '',
      uid: p.metadata?.uid ?? '',
      node,
      hash,
      updated: (currentHash !== undefined && hash === currentHash) || (tg !== undefined && p.metadata?.labels?.[POD_TEMPLATE_GENERATION_LABEL] === tg),
      deleting,
      terminal: p.status?.phase === 'Failed' || p.status?.phase === 'Succeeded',
      ready: isReady,
      available: isReady && !deleting && (minReady === 0 || (since !== undefined && since + minReady * 1000 <= now.getTime())),
      phase: p.status?.phase ?? '',
    };
    byNode.set(node, [...(byNode.get(node) ?? []), info]);
  }
  const nodes = new Set<string>();
  const eligible = new Set<string>();
  const mayContinue = new Set<string>();
  for (const n of server.nodes.values()) {
    const name = n.metadata?.name ?? '';
    nodes.add(name);
    const e = eligibility(ds, n);
    if (e.shouldRun) eligible.add(name);
    if (e.mayContinue) mayContinue.add(name);
  }
  const strategy = ds.spec?.updateStrategy?.type === 'OnDelete' ? 'OnDelete' : 'RollingUpdate';
  const surge = strategy === 'RollingUpdate' && budgetValue(ds.spec?.updateStrategy?.rollingUpdate?.maxSurge ?? 0, 1) > 0;
  return { ds, strategy, surge, nodes, eligible, mayContinue, byNode, currentHash };
}

/**
 * Pods that run or will run: not deleting, not Failed/Succeeded. (In surge mode a terminal pod is
 * replaced in the same pass that deletes it, FAIL-5, so a replacement can briefly sit next to it.)
 */
const live = (pods: readonly PodInfo[] | undefined): PodInfo[] => (pods ?? []).filter((p) => !p.deleting && !p.terminal);

/** Eligible nodes without a live available pod (upstream's "unavailable"). */
function unavailableNodes(v: DsView): Set<string> {
  return new Set([...v.eligible].filter((n) => !live(v.byNode.get(n)).some((p) => p.available)));
}

/** Nodes where an available old pod has an unavailable new pod next to it (surge spending). */
function surgingNodes(v: DsView, isNew: (p: PodInfo) => boolean): Set<string> {
  const out = new Set<string>();
  for (const [n, pods] of v.byNode) {
    const l = live(pods);
    if (l.some((p) => !isNew(p) && p.available) && l.some((p) => isNew(p) && !p.available)) out.add(n);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Invariant checks

/** Invariant 1 on a state: at most one pod per node outside surge; surge: ≤ 2 live, ≤ 1 of them updated. */
export function checkPodsPerNode(v: DsView, surgeAllowed: boolean): string[] {
  const out: string[] = [];
  for (const [n, pods] of v.byNode) {
    const l = live(pods);
    if (!surgeAllowed) {
      if (pods.length > 1) out.push(`node ${n} has ${pods.length} pods outside a surge rollout: ${pods.map((p) => `${p.name}(${p.hash}${p.deleting ? ',deleting' : ''})`).join(' ')}`);
    } else if (l.length > 2 || l.filter((p) => p.hash !== undefined && p.hash === v.currentHash).length > 1) {
      out.push(`node ${n} has ${l.length} live pods during a surge rollout: ${l.map((p) => `${p.name}(${p.hash})`).join(' ')}`);
    }
  }
  return out;
}

/** Transition checks of one pass (invariants 1, 2 and 7), from the states before and after it. */
export function checkPass(before: DsView, after: DsView, writes: readonly ServerWrite[], truncated: boolean): Violation[] {
  const out: Violation[] = [];
  const v = (rule: string, detail: string): void => {
    out.push({ rule, step: 0, detail });
  };
  const deletes = writes.filter((w) => w.op === 'deletePod' || w.op === 'deleteRevision');
  if (truncated && deletes.length > 0) v('2 nothing deleted on a partial read', `a pass whose list was cut short deleted ${deletes.map((d) => `${d.kind} ${d.name}`).join(', ')}`);

  const createdNames = new Set(writes.filter((w) => w.op === 'createPod').map((w) => w.name));
  const createdNodes = new Set<string>();
  for (const [n, pods] of after.byNode) if (pods.some((p) => createdNames.has(p.name))) createdNodes.add(n);
  const isNew = (p: PodInfo): boolean => after.currentHash !== undefined && p.hash === after.currentHash;
  for (const n of createdNodes) {
    const pods = after.byNode.get(n) ?? [];
    const l = live(pods);
    if (!before.surge && pods.length > 1) v('1 one pod per node', `non-surge pass created a pod on ${n}, which now has ${pods.map((p) => `${p.name}(${p.hash}${p.deleting ? ',deleting' : ''})`).join(' ')}`);
    if (before.surge && (l.length > 2 || (l.length === 2 && l.filter(isNew).length !== 1))) {
      v('1 one pod per node', `surge pass created a pod on ${n}, which now has live ${l.map((p) => `${p.name}(${p.hash})`).join(' ')}`);
    }
  }

  if (before.strategy === 'RollingUpdate') {
    const { maxUnavailable, maxSurge } = budgets(before.ds, before.eligible.size);
    const ub = unavailableNodes(before);
    const ua = unavailableNodes({ ...after, eligible: before.eligible });
    const newly = [...ua].filter((n) => !ub.has(n));
    if (newly.length > 0 && ua.size > maxUnavailable) {
      v('7 maxUnavailable', `pass made ${newly.join(',')} unavailable; ${ua.size} of ${before.eligible.size} eligible nodes unavailable > maxUnavailable ${maxUnavailable}`);
    }
    if (before.surge) {
      const spentOn = [...createdNodes].filter((n) => {
        const l = live(before.byNode.get(n));
        return l.some((p) => !isNew(p) && p.available) && !l.some(isNew);
      });
      const sa = surgingNodes(after, isNew);
      if (spentOn.length > 0 && sa.size > maxSurge) {
        v('7 maxSurge', `pass surged on ${spentOn.join(',')}; ${sa.size} nodes have an unavailable new pod next to an available old one > maxSurge ${maxSurge}`);
      }
    }
  }
  return out;
}

/** Invariant 4: fully converged (independent recomputation), or the reasons it is not. */
export function convergenceProblems(v: DsView): string[] {
  const out: string[] = [];
  const ds = v.ds;
  for (const n of v.eligible) {
    const pods = v.byNode.get(n) ?? [];
    if (pods.length !== 1) {
      out.push(`eligible node ${n} has ${pods.length} pods`);
      continue;
    }
    const p = pods[0] as PodInfo;
    if (!p.available || p.deleting || p.phase !== 'Running') out.push(`pod ${p.name} on ${n} is not running and available`);
    if (v.strategy === 'RollingUpdate' && !p.updated) out.push(`pod ${p.name} on ${n} is not updated (hash ${p.hash}, current ${v.currentHash})`);
  }
  // With no eligible node, percentage budgets resolve to 0/0 and no rolling update runs (ROLL-3):
  // pods left on NoSchedule-only nodes then keep their version.
  const budget = budgets(ds, v.eligible.size);
  const rolls = v.strategy === 'RollingUpdate' && budget.maxUnavailable + budget.maxSurge > 0;
  for (const [n, pods] of v.byNode) {
    if (v.eligible.has(n)) continue;
    if (!v.mayContinue.has(n)) {
      out.push(`node ${n} (${v.nodes.has(n) ? 'not eligible' : 'gone'}) still has ${pods.map((p) => p.name).join(',')}`);
    } else if (pods.length > 1 || pods.some((p) => p.deleting || p.terminal) || (rolls && pods.some((p) => !p.updated))) {
      out.push(`NoSchedule node ${n} has ${pods.map((p) => `${p.name}(${p.hash},${p.phase})`).join(',')}`);
    }
  }
  const desired = v.eligible.size;
  const scheduled = [...v.eligible].filter((n) => (v.byNode.get(n) ?? []).length > 0);
  const oldest = (n: string): PodInfo | undefined => (v.byNode.get(n) ?? [])[0];
  const expected = {
    desiredNumberScheduled: desired,
    currentNumberScheduled: scheduled.length,
    numberMisscheduled: [...v.nodes].filter((n) => !v.eligible.has(n) && (v.byNode.get(n) ?? []).length > 0).length,
    numberReady: scheduled.filter((n) => oldest(n)?.ready).length,
    numberAvailable: scheduled.filter((n) => oldest(n)?.available).length,
    numberUnavailable: desired - scheduled.filter((n) => oldest(n)?.available).length,
    updatedNumberScheduled: scheduled.filter((n) => oldest(n)?.updated).length,
    observedGeneration: ds.metadata?.generation,
  };
  const status = ds.status as Record<string, unknown> | undefined;
  for (const [k, want] of Object.entries(expected)) {
    const got = (status?.[k] as number | undefined) ?? 0;
    if (got !== want) out.push(`status.${k} = ${got}, want ${want}`);
  }
  return out;
}

/**
 * The failed-pod back-off record reduced to what must not depend on message order: which nodes
 * have an entry (counts and times legitimately differ with the number of passes that saw a pod fail).
 */
function backoffNodes(annotations: Record<string, string> | undefined): Record<string, string> | undefined {
  const raw = annotations?.[FAILED_POD_BACKOFF_ANNOTATION];
  if (raw === undefined) return annotations;
  const nodes = Object.keys((JSON.parse(raw) as { nodes?: Record<string, unknown> }).nodes ?? {}).sort();
  return { ...annotations, [FAILED_POD_BACKOFF_ANNOTATION]: `nodes: ${nodes.join(',')}` };
}

/** Each DaemonSet's back-off counts by node (`ns/name@node` → count). */
function backoffCounts(server: MemoryApiServer): Map<string, number> {
  const out = new Map<string, number>();
  for (const [key, d] of server.daemonSets) {
    const raw = d.metadata?.annotations?.[FAILED_POD_BACKOFF_ANNOTATION];
    if (raw === undefined) continue;
    for (const [node, e] of Object.entries((JSON.parse(raw) as { nodes?: Record<string, { count?: number }> }).nodes ?? {})) out.set(`${key}@${node}`, e.count ?? 0);
  }
  return out;
}

/**
 * Nodes (`ns/name@node`) whose failed-pod back-off streak is longer in one state than in the
 * other. A pass that recorded the back-off of a failed pod and died before deleting it leaves its
 * retries a back-off window behind on that node (FAIL-3 keeps the pod for the window the record
 * claims; its delete then counts as a second failure): they act on that node only after the clock
 * jump that lets back-offs run out, when pods' availability (minReadySeconds) and with it the
 * surge budget can differ from what the clean passes saw, so the replacement on that node can
 * come or not. Those nodes' pods are not compared; everything else is.
 */
export function backoffStreaksDiffer(a: MemoryApiServer, b: MemoryApiServer): Set<string> {
  const ca = backoffCounts(a);
  const cb = backoffCounts(b);
  return new Set([...ca.keys()].filter((k) => cb.has(k) && cb.get(k) !== ca.get(k)));
}

/** A canonical form of everything the controller writes (for "same state" comparisons), without the pods of `skipNodes` (`ns/name@node`). */
export function canonicalState(server: MemoryApiServer, skipNodes: ReadonlySet<string> = new Set()): string {
  const ds = [...server.daemonSets.values()].map((d) => ({
    name: d.metadata?.name, generation: d.metadata?.generation, annotations: backoffNodes(d.metadata?.annotations), status: d.status,
  }));
  // Pods by what they are, not by name: a replacement made while its predecessor still exists
  // takes the next attempt name (choosePodName), so names depend on timing; labels do not.
  const skipped = (p: V1Pod): boolean => (p.metadata?.ownerReferences ?? []).some((r) => skipNodes.has(`${p.metadata?.namespace ?? ''}/${r.name}@${podTarget(p)}`));
  const pods = [...server.pods.values()].filter((p) => !skipped(p)).map((p) => ({
    node: podTarget(p), labels: p.metadata?.labels, owners: p.metadata?.ownerReferences?.map((r) => r.name),
    phase: p.status?.phase, deleting: Boolean(p.metadata?.deletionTimestamp),
  })).map((p) => ({ name: `${p.owners?.join(',')}@${p.node}#${JSON.stringify(p)}`, ...p })).sort((a, b) => (a.name < b.name ? -1 : 1));
  const revisions = [...server.revisions.values()].map((r) => ({ name: r.metadata?.name, revision: r.revision, labels: r.metadata?.labels, owners: r.metadata?.ownerReferences?.map((o) => o.name) }))
    .sort((a, b) => ((a.name ?? '') < (b.name ?? '') ? -1 : 1));
  return JSON.stringify({ ds, pods, revisions });
}

/** The entries that differ between two canonical states (by kind and name). */
export function diffStates(a: string, b: string): string {
  const pa = JSON.parse(a) as Record<string, { name?: string }[]>;
  const pb = JSON.parse(b) as Record<string, { name?: string }[]>;
  const out: string[] = [];
  for (const kind of Object.keys(pa)) {
    const ma = new Map((pa[kind] ?? []).map((o) => [o.name, JSON.stringify(o)]));
    const mb = new Map((pb[kind] ?? []).map((o) => [o.name, JSON.stringify(o)]));
    for (const name of new Set([...ma.keys(), ...mb.keys()])) {
      if (ma.get(name) !== mb.get(name)) out.push(`${kind} ${name}:\n    a: ${ma.get(name) ?? '(none)'}\n    b: ${mb.get(name) ?? '(none)'}`);
    }
  }
  return out.join('\n  ');
}

// ---------------------------------------------------------------------------------------------
// The environment: server, fault layer, reconciler

/** The list caches' counts: the node collections', and the pod collections' summed. */
export interface CacheCounts {
  readonly nodes: CollectionStats;
  readonly pods: CollectionStats;
}

export const noCacheCounts = (): CacheCounts => ({ nodes: emptyCollectionStats(), pods: emptyCollectionStats() });

/** Adds `add` to `total`. */
export function addCacheCounts(total: CacheCounts, add: CacheCounts | null): void {
  if (add === null) return;
  for (const kind of ['nodes', 'pods'] as const) addCollectionStats(total[kind], add[kind]);
}

export class Clock {
  ms = T0.getTime();
  date(): Date {
    return new Date(this.ms);
  }
}

/** A reconcile pass's outcome as the harness sees it. */
export interface PassResult {
  readonly ok: boolean;
  readonly writes: number;
  readonly error?: unknown;
}

/** A warm instance of the controller: an adapter (with its list cache, if any) and a reconciler over it. */
interface Container {
  readonly cluster: MemoryKubeCluster;
  readonly reconcile: ReconcileFn;
  /** Passes running on it. */
  running: number;
}


export class Env {
  readonly violations: Violation[] = [];
  readonly injector: FaultInjector;
  readonly reconcile: ReconcileFn;
  /** Virtual time of the containers' network (watch events, the caches' calls and waits). */
  readonly scheduler = new VirtualScheduler();
  /** Session id of the pass being started (set synchronously by `session()`). */
  #lastSession: number | null = null;
  readonly #containers: Container[] = [];
  readonly #newContainer: () => Container;
  readonly #cacheRandom: () => number;
  /** Counts of caches of containers already replaced. */
  readonly #retiredStats: CacheCounts = noCacheCounts();
  step = -1;
  passes = 0;
  failedPasses = 0;
  /** Containers replaced by new ones (cold starts after the first). */
  restarts = 0;

  constructor(readonly server: MemoryApiServer, readonly clock: Clock, readonly random: () => number, pageSize: number, placement: 'affinity' | 'nodeName',
    readonly cache: CacheSpec | null = null) {
    const scheduler = this.scheduler;
    this.injector = new FaultInjector(server, random, cache === null ? null : scheduler);
    const injector = this.injector;
    // Container picks and restarts draw from a stream of their own.
    this.#cacheRandom = cache === null ? () => 0 : prng(Math.floor(random() * 0x100000000));
    if (cache !== null) {
      injector.network = cache.network;
      server.watchWindow = cache.window;
    }
    const planOptions: PlanOptions = { placement, failedPodBackoff: PLAN_OPTIONS_BACKOFF };
    this.#newContainer = () => {
      const cluster = new MemoryKubeCluster(server, {
        pageSize,
        rawFor: (id) => injector.rawFor(id),
        onSession: (id) => {
          this.#lastSession = id;
        },
        ...(cache === null ? {} : {
          listCache: true,
          listCacheOptions: { now: () => clock.ms + scheduler.now, setTimer: scheduler.setTimer, maxAgeMs: cache.maxAgeS * 1000 },
          containerRaw: (id: number) => injector.containerRaw(id),
          onRead: (id: number, op: Parameters<FaultInjector['noteRead']>[1], complete: boolean) => injector.noteRead(id, op, complete),
        }),
      });
      return { cluster, reconcile: createReconciler({ cluster, planOptions, now: () => clock.date() }), running: 0 };
    };
    for (let i = 0; i < (cache?.containers ?? 1); i++) this.#containers.push(this.#newContainer());
    this.reconcile = async (key, signal) => {
      const c = this.#pick();
      c.running += 1;
      try {
        return await this.checked(key, () => c.reconcile(key, signal));
      } finally {
        c.running -= 1;
      }
    };
  }

  /** The first container's adapter. */
  get cluster(): MemoryKubeCluster {
    return (this.#containers[0] as Container).cluster;
  }

  /** The list caches' counts, over every container this environment ran. */
  get cacheStats(): CacheCounts {
    const total = noCacheCounts();
    addCacheCounts(total, this.#retiredStats);
    for (const c of this.#containers) addCacheCounts(total, c.cluster.listCacheStats());
    return total;
  }

  /** Stops every container's watches and the network. */
  close(): void {
    for (const c of this.#containers) this.#retire(c);
    this.scheduler.close();
  }

  /** The container of the next pass (replaced first by a new one, sometimes, when it is idle). */
  #pick(): Container {
    const cache = this.cache;
    if (cache === null) return this.#containers[0] as Container;
    const i = Math.floor(this.#cacheRandom() * this.#containers.length);
    let c = this.#containers[i] as Container;
    if (cache.restart > 0 && c.running === 0 && this.#cacheRandom() < cache.restart) {
      this.#retire(c);
      c = this.#newContainer();
      this.#containers[i] = c;
      this.restarts += 1;
    }
    return c;
  }

  #retire(c: Container): void {
    addCacheCounts(this.#retiredStats, c.cluster.listCacheStats());
    c.cluster.close();
  }

  #violation(rule: string, detail: string): void {
    this.violations.push({ rule, step: this.step, detail });
  }

  /** Runs one pass (`run` must open exactly one session synchronously) with the transition checks. */
  async checked<T>(key: string, run: () => Promise<T>): Promise<T> {
    const now = this.clock.date();
    const before = viewOf(this.server, key, now);
    const firstWrite = this.server.writes.length;
    this.#lastSession = null;
    const pending = run();
    const session = this.#lastSession;
    this.passes += 1;
    try {
      return await pending;
    } catch (e) {
      this.failedPasses += 1;
      if (!(e instanceof TransientError)) this.#violation('shell', `pass for ${key} failed with a non-transient error: ${String(e)}`);
      throw e;
    } finally {
      const after = viewOf(this.server, key, now);
      const writes = this.server.writes.slice(firstWrite).filter((w) => w.session === session);
      const truncated = session !== null && (this.injector.sessions.get(session)?.truncated ?? false);
      if (before && after) for (const x of checkPass(before, after, writes, truncated)) this.#violation(x.rule, `${key}: ${x.detail}`);
    }
  }

  /** One pass; failures are expected under faults and only reported. */
  async pass(key: string, options?: ReconcileOptions): Promise<PassResult> {
    const first = this.server.writes.length;
    try {
      await this.reconcile(key, options);
      return { ok: true, writes: this.server.writes.length - first };
    } catch (error) {
      return { ok: false, writes: this.server.writes.length - first, error };
    }
  }

  /** Invariant 1 on the current state, for every DaemonSet. */
  checkState(residue: Set<string>): void {
    const now = this.clock.date();
    for (const key of this.server.daemonSets.keys()) {
      const v = viewOf(this.server, key, now);
      if (!v) continue;
      const strict = checkPodsPerNode(v, v.surge);
      if (strict.length === 0 && !v.surge) residue.delete(key);
      // Leftovers of a surge rollout the user turned off are allowed while they are being pruned.
      const problems = residue.has(key) ? checkPodsPerNode(v, true) : strict;
      for (const p of problems) this.#violation('1 one pod per node', `${key}: ${p}`);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Running a scenario

export interface RunStats {
  passes: number;
  failedPasses: number;
  settleRounds: number;
  faults: Record<string, number>;
  dlq: number;
  /** The list caches' reads (phase 1 and 3; null: no cache) and the containers replaced. */
  cache: CacheCounts | null;
  restarts: number;
}

export interface RunResult {
  readonly violations: readonly Violation[];
  readonly stats: RunStats;
}

function shuffle<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j] as T, items[i] as T];
  }
  return items;
}

function newServer(clock: Clock, s: Scenario): MemoryApiServer {
  return new MemoryApiServer(() => clock.date(), { bindAfterTicks: s.bindAfterTicks, readyAfterTicks: s.readyAfterTicks });
}

/** Reconciles every key until a round makes no write (frozen world); returns false if it never quiets. */
async function quiet(env: Env, keys: readonly string[], maxRounds = 30): Promise<boolean> {
  for (let r = 0; r < maxRounds; r++) {
    let writes = 0;
    let ok = true;
    for (const k of keys) {
      const r = await env.pass(k);
      writes += r.writes;
      ok &&= r.ok;
    }
    if (ok && writes === 0) return true;
  }
  return false;
}

export async function runScenario(s: Scenario, trace?: (line: string) => void): Promise<RunResult> {
  const random = prng(s.seed);
  const clock = new Clock();
  const server = newServer(clock, s);
  const env = new Env(server, clock, random, s.pageSize, s.placement, s.cache);
  const keys = s.daemonSets.map((_, i) => dsKey(i));
  const specs = [...s.daemonSets];
  const residue = new Set<string>();
  let nodeSeq = 0;
  for (const spec of s.nodes) server.putNode(buildNode(`node-${nodeSeq++}`, spec));
  specs.forEach((spec, i) => server.applyDaemonSet(buildDaemonSet(i, spec)));

  // Queue delivery: the in-process FIFO queue and processRecord, as the reconcile Lambda runs them.
  const fifo = new MemoryFifoQueue({ clock: { now: () => clock.ms }, maxReceives: 5, visibilityTimeoutMs: 30_000 });
  const queue = createMemoryWorkQueue(fifo);
  const deps: BatchDeps = {
    reconcile: env.reconcile,
    queue,
    listDaemonSets: async () => ({ items: [] }),
    emitEvent: async () => undefined,
    logger: silentLogger,
    metrics: noMetrics,
    now: () => clock.ms,
    maxReceives: 5,
  };
  const sentDedup: string[] = [];
  let pending: string[] = [];

  const deliverDirect = async (list: string[], concurrent: boolean): Promise<void> => {
    const failed: string[] = [];
    if (concurrent) {
      // Different keys in parallel, each key's messages in order (FIFO groups); beside them, a
      // node-scoped pass of each key (IMPL-8: its own group, so it may overlap the key's full
      // passes), on a node picked without the scenario's random source (so seeds keep their scenarios).
      const byKey = new Map<string, number>();
      for (const k of list) byKey.set(k, (byKey.get(k) ?? 0) + 1);
      const nodes = [...server.nodes.keys()].sort();
      await Promise.all([...byKey].flatMap(([k, n], i) => {
        const node = nodes[(env.step + i) % Math.max(1, nodes.length)];
        return [
          (async () => { for (let j = 0; j < n; j++) if (!(await env.pass(k)).ok) failed.push(k); })(),
          ...(node === undefined ? [] : [env.pass(k, { node })]),
        ];
      }));
    } else {
      for (const k of list) if (!(await env.pass(k)).ok) failed.push(k);
    }
    // A failed message comes back later (redelivery), possibly more than once.
    pending = [...pending, ...failed, ...failed.filter(() => random() < 0.3)];
  };

  const deliverQueue = async (list: string[]): Promise<void> => {
    const requests = list.map((key) => {
      const replay = sentDedup.length > 0 && random() < 0.2;
      const dedupId = replay ? (sentDedup[Math.floor(random() * sentDedup.length)] as string) : `m${sentDedup.length}-${Math.floor(random() * 1e9)}`;
      if (!replay) sentDedup.push(dedupId);
      return { key, dedupId };
    });
    await queue.enqueue(requests);
    for (let round = 0; round < 3; round++) {
      const batch = fifo.tryReceive(10, { maxPerGroup: 10 });
      if (batch.length === 0) break;
      const state = newBatchState();
      const failedGroups = new Set<string | undefined>();
      for (const d of batch) {
        if (failedGroups.has(d.groupId)) {
          fifo.changeVisibility(d.receipt, 0);
          continue;
        }
        try {
          await processRecord({ messageId: d.messageId, body: d.body, receiveCount: d.receiveCount }, deps, state);
          fifo.delete(d.receipt);
        } catch {
          failedGroups.add(d.groupId);
          fifo.changeVisibility(d.receipt, 0);
        }
      }
    }
  };

  const step = async (st: Step): Promise<void> => {
    switch (st.kind) {
      case 'deliver': {
        const list = [...st.keys.map((i) => keys[i % keys.length] as string), ...pending];
        pending = [];
        shuffle(list, random);
        if (s.delivery === 'queue') await deliverQueue(list);
        else await deliverDirect(list, st.concurrent);
        break;
      }
      case 'tick':
        for (let i = 0; i < st.count; i++) {
          clock.ms += 1000;
          server.tick();
        }
        break;
      case 'image':
      case 'strategy':
      case 'minReady':
      case 'selector': {
        const i = st.ds % specs.length;
        const old = specs[i] as DsSpec;
        const next: DsSpec = st.kind === 'image' ? { ...old, image: st.image }
          : st.kind === 'strategy' ? { ...old, strategy: st.strategy }
            : st.kind === 'minReady' ? { ...old, minReady: st.seconds }
              : { ...old, nodeSelector: st.nodeSelector, tolerate: st.tolerate };
        specs[i] = next;
        const current = server.daemonSets.get(dsKey(i));
        const wasSurge = current ? viewOf(server, dsKey(i), clock.date())?.surge === true : false;
        const built = buildDaemonSet(i, next);
        server.applyDaemonSet({ ...built, metadata: current?.metadata ?? {} });
        if (wasSurge) residue.add(dsKey(i));
        break;
      }
      case 'addNode':
        server.putNode(buildNode(`node-${nodeSeq++}`, st.spec));
        break;
      case 'removeNode': {
        const names = [...server.nodes.keys()].sort();
        if (names.length > 1) server.removeNode(names[st.index % names.length] as string);
        break;
      }
      case 'changeNode': {
        const names = [...server.nodes.keys()].sort();
        const name = names[st.index % names.length];
        if (name !== undefined) server.putNode(buildNode(name, st.spec));
        break;
      }
      case 'podFault': {
        const pods = [...server.pods.values()].filter((p) => !p.metadata?.deletionTimestamp).map((p) => p.metadata?.name ?? '').sort();
        const name = pods[st.index % Math.max(1, pods.length)];
        if (name === undefined) break;
        if (st.fault === 'unready') server.unreadyPod(NAMESPACE, name);
        else server.failPod(NAMESPACE, name, st.fault);
        break;
      }
    }
  };

  // Phase 1: the scenario, under faults, checking after every step.
  env.injector.rates = s.rates;
  for (let i = 0; i < s.steps.length; i++) {
    env.step = i;
    const firstWrite = server.writes.length;
    await step(s.steps[i] as Step);
    if (trace) {
      trace(`step ${i} ${JSON.stringify(s.steps[i])} t=${(clock.ms - T0.getTime()) / 1000}`);
      for (const w of server.writes.slice(firstWrite)) if (w.op !== 'createEvent') trace(`   s${w.session} ${w.op} ${w.name}`);
      for (const p of server.pods.values()) trace(`   pod ${p.metadata?.name} ${p.metadata?.ownerReferences?.[0]?.name} node=${podTarget(p)} bound=${Boolean(p.spec?.nodeName)} hash=${p.metadata?.labels?.[CONTROLLER_REVISION_HASH_LABEL]} ${p.status?.phase} ready=${p.status?.conditions?.[0]?.status} ${p.metadata?.deletionTimestamp ? 'DELETING' : ''}`);
      for (const d of server.daemonSets.values()) trace(`   ds ${d.metadata?.name} ${JSON.stringify(d.spec?.updateStrategy)} tg=${d.metadata?.annotations?.[TEMPLATE_GENERATION_ANNOTATION]}`);
    }
    env.checkState(residue);
  }

  // Phase 2 (invariant 3): from this state, a random replay under faults and a clean pass sequence
  // converge to the same state on a frozen world.
  env.step = -1;
  {
    const frozen = new Clock();
    frozen.ms = clock.ms;
    const clean = new Env(server.cloneState(() => frozen.date()), frozen, prng(s.seed ^ 0x5bd1e995), s.pageSize, s.placement, s.cache);
    const replay = new Env(server.cloneState(() => frozen.date()), frozen, prng(s.seed ^ 0x1b873593), s.pageSize, s.placement, s.cache);
    replay.injector.rates = s.rates;
    const sequence = shuffle([...keys, ...keys.filter(() => random() < 0.7), ...keys.filter(() => random() < 0.5)], random);
    for (const k of sequence) await replay.pass(k);
    replay.injector.rates = NO_FAULTS;
    if (trace) {
      trace(`replay sequence ${sequence.join(' ')}`);
      for (const w of replay.server.writes) trace(`   replay s${w.session} ${w.op} ${w.name}`);
    }
    // Quiet now, and again once every failed-pod back-off has run out (time passes, pods do not).
    let cleanQuiet = await quiet(clean, [...keys].sort());
    let replayQuiet = await quiet(replay, keys);
    frozen.ms += (PLAN_OPTIONS_BACKOFF.maxSeconds + 2) * 1000;
    cleanQuiet &&= await quiet(clean, [...keys].sort());
    replayQuiet &&= await quiet(replay, keys);
    if (!cleanQuiet || !replayQuiet) env.violations.push({ rule: '3 replay converges', step: -1, detail: 'passes on a frozen world never stop writing' });
    const lagging = backoffStreaksDiffer(clean.server, replay.server);
    const a = canonicalState(clean.server, lagging);
    const b = canonicalState(replay.server, lagging);
    if (a !== b) env.violations.push({ rule: '3 replay converges', step: -1, detail: `replayed messages under faults end in another state than clean passes (a: clean, b: replay):\n  ${diffStates(a, b)}` });
    for (const x of [...clean.violations, ...replay.violations]) env.violations.push({ ...x, detail: `(replay phase) ${x.detail}` });
    clean.close();
    replay.close();
  }

  // Phase 3 (invariant 4): faults stop; the world settles; every DaemonSet converges.
  env.injector.rates = NO_FAULTS;
  let rounds = 0;
  let settled = false;
  for (; rounds < 400 && !settled; rounds++) {
    let writes = 0;
    let ok = true;
    for (const k of keys) {
      const r = await env.pass(k);
      writes += r.writes;
      ok &&= r.ok;
    }
    const now = clock.date();
    settled = ok && writes === 0 && keys.every((k) => {
      const v = viewOf(server, k, now);
      return v !== null && convergenceProblems(v).length === 0;
    });
    if (!settled) {
      clock.ms += 1000;
      server.tick();
      env.checkState(residue);
    }
  }
  if (!settled) {
    const now = clock.date();
    const why = keys.map((k) => `${k}: ${convergenceProblems(viewOf(server, k, now) as DsView).join('; ')}`).join(' | ');
    env.violations.push({ rule: '4 convergence', step: -1, detail: `not converged after ${rounds} rounds without faults: ${why}` });
  } else {
    // A converged DaemonSet costs zero writes; replaying any messages, in any order, under
    // faults, changes nothing (invariants 3 and 4).
    const before = canonicalState(server);
    const firstWrite = server.writes.length;
    for (const k of keys) {
      const r = await env.pass(k);
      if (!r.ok || r.writes > 0) env.violations.push({ rule: '4 zero writes when converged', step: -1, detail: `${k}: ok=${r.ok} writes=${r.writes} ${r.error ? String(r.error) : ''}` });
    }
    env.injector.rates = s.rates;
    const sequence = shuffle([...keys, ...keys, ...keys.filter(() => random() < 0.5), `${NAMESPACE}/missing`], random);
    for (const k of sequence) await env.pass(k);
    env.injector.rates = NO_FAULTS;
    const extra = server.writes.slice(firstWrite);
    if (extra.length > 0) env.violations.push({ rule: '3 replay converges', step: -1, detail: `replays on a converged world wrote: ${extra.map((w) => `${w.op} ${w.name}`).join(', ')}` });
    const after = canonicalState(server);
    if (after !== before) env.violations.push({ rule: '3 replay converges', step: -1, detail: 'replays on a converged world changed the state' });
  }

  env.close();
  return {
    violations: env.violations,
    stats: {
      passes: env.passes, failedPasses: env.failedPasses, settleRounds: rounds, faults: { ...env.injector.totals }, dlq: fifo.deadLetters.length,
      cache: s.cache === null ? null : env.cacheStats, restarts: env.restarts,
    },
  };
}

/** A one-line summary of a failed run (seed first, so it can be replayed). */
export function describeFailure(s: Scenario, r: RunResult): string {
  const first = r.violations.slice(0, 5).map((v) => `  [rule ${v.rule}] step ${v.step}: ${v.detail}`).join('\n');
  return `seed ${s.seed}: ${r.violations.length} violation(s)\n${first}\nscenario: ${JSON.stringify(s)}`;
}
