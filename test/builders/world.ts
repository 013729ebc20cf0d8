import type { V1ControllerRevision, V1DaemonSet, V1Node, V1Pod } from '@kubernetes/client-node';
import { plan as planPass, type Plan, type PlanOptions, type Snapshot } from '../../lib/core/index.js';

/** The cluster state a test reconciles against (what an API server would hold). */
export interface World {
  readonly ds: V1DaemonSet;
  readonly nodes: readonly V1Node[];
  readonly pods: readonly V1Pod[];
  readonly revisions: readonly V1ControllerRevision[];
}

/** A world from its parts. */
export function world(ds: V1DaemonSet, nodes: readonly V1Node[], pods: readonly V1Pod[] = [], revisions: readonly V1ControllerRevision[] = []): World {
  return { ds, nodes, pods, revisions };
}

/** Deep-freezes a value (tests pass frozen inputs to prove the core never mutates). */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  }
  return value;
}

/** A deep-frozen snapshot of a world. */
export function snapshotOf(w: World, complete = true): Snapshot {
  return deepFreeze(structuredClone({ daemonSet: w.ds, nodes: w.nodes, pods: w.pods, revisions: w.revisions, complete }));
}

/** How deletes take effect when applying a plan. */
export interface ApplyOptions {
  /** Bound, non-terminal pods linger with a deletionTimestamp instead of vanishing (HARNESS-3). */
  readonly graceful?: boolean;
}

/**
 * Carries out a plan the way the executor and an API server would (ownership, revisions, labels,
 * creates — AlreadyExists skipped —, deletes with UID preconditions, annotations, status).
 * Created pods are Pending and not Ready, created at `now`.
 */
export function applyPlan(w: World, p: Plan, now: Date, options: ApplyOptions = {}): World {
  const ds = structuredClone(w.ds) as V1DaemonSet;
  let pods = structuredClone(w.pods) as V1Pod[];
  let revisions = structuredClone(w.revisions) as V1ControllerRevision[];
  const dsUid = ds.metadata?.uid ?? '';

  for (const change of p.ownership) {
    const list: { metadata?: V1Pod['metadata'] }[] = change.kind === 'Pod' ? pods : revisions;
    const obj = list.find((o) => o.metadata?.name === change.name && o.metadata?.uid === change.uid);
    if (!obj?.metadata) continue;
    if (change.action === 'adopt') {
      const refs = (change.patch['metadata'] as { ownerReferences: NonNullable<V1Pod['metadata']>['ownerReferences'] }).ownerReferences ?? [];
      obj.metadata.ownerReferences = [...(obj.metadata.ownerReferences ?? []), ...refs];
    } else {
      obj.metadata.ownerReferences = (obj.metadata.ownerReferences ?? []).filter((r) => r.uid !== dsUid);
    }
  }
  for (const u of p.revisions.update) {
    const cr = revisions.find((r) => r.metadata?.name === u.name);
    if (!cr) continue;
    if (u.revision !== undefined) cr.revision = u.revision;
    if (u.labels) cr.metadata = { ...cr.metadata, labels: { ...u.labels } };
  }
  if (p.revisions.create) {
    const name = p.revisions.create.metadata?.name ?? '';
    if (!revisions.some((r) => r.metadata?.name === name)) {
      revisions.push({ ...structuredClone(p.revisions.create), metadata: { ...structuredClone(p.revisions.create.metadata), uid: `uid-cr-${name}`, creationTimestamp: now } });
    }
  }
  for (const c of p.podLabelChanges) {
    const pod = pods.find((x) => x.metadata?.name === c.name && x.metadata?.uid === c.uid);
    if (pod) pod.metadata = { ...pod.metadata, labels: { ...(pod.metadata?.labels ?? {}), ...c.labels } };
  }
  for (const c of p.createPods) {
    const name = c.pod.metadata?.name ?? '';
    if (pods.some((x) => x.metadata?.name === name)) continue;
    pods.push({ ...structuredClone(c.pod), metadata: { ...structuredClone(c.pod.metadata), uid: `uid-pod-${name}@${now.toISOString()}`, creationTimestamp: now }, status: { phase: 'Pending' } });
  }
  if (p.deletesAllowed) {
    for (const d of p.deletePods) {
      const pod = pods.find((x) => x.metadata?.name === d.name && x.metadata?.uid === d.uid);
      if (!pod) continue;
      const terminal = pod.status?.phase === 'Failed' || pod.status?.phase === 'Succeeded';
      const lingers = (pod.metadata?.finalizers?.length ?? 0) > 0 || (options.graceful === true && Boolean(pod.spec?.nodeName) && !terminal);
      if (lingers) pod.metadata = { ...pod.metadata, deletionTimestamp: pod.metadata?.deletionTimestamp ?? now };
      else pods = pods.filter((x) => x !== pod);
    }
    const gone = new Set(p.revisions.delete.map((r) => r.uid));
    revisions = revisions.filter((r) => !gone.has(r.metadata?.uid ?? ''));
  }
  if (p.daemonSetAnnotations) {
    const annotations = { ...(ds.metadata?.annotations ?? {}) };
    for (const [k, v] of Object.entries(p.daemonSetAnnotations)) {
      if (v === null) delete annotations[k];
      else annotations[k] = v;
    }
    ds.metadata = { ...ds.metadata, annotations };
  }
  if (p.statusChanged) {
    ds.status = structuredClone({ ...p.status, conditions: p.status.conditions ? [...p.status.conditions] : undefined }) as V1DaemonSet['status'];
    if (ds.status && ds.status.conditions === undefined) delete ds.status.conditions;
  }
  return { ds, nodes: structuredClone(w.nodes) as V1Node[], pods, revisions };
}

/** One reconcile pass: plan on a frozen snapshot, then apply. */
export function sync(w: World, now: Date, options: PlanOptions = {}, apply: ApplyOptions = {}): { plan: Plan; world: World } {
  const p = planPass(snapshotOf(w), now, options);
  return { plan: p, world: applyPlan(w, p, now, apply) };
}

/** "c/d": pod creates / pod deletes of a plan (the catalogue's per-pass counts). */
export function counts(p: Plan): string {
  return `${p.createPods.length}/${p.deletePods.length}`;
}

/** Runs passes until one plans nothing (or `max` passes); returns the final world and the count strings. */
export function converge(w: World, now: Date, options: PlanOptions = {}, max = 20): { world: World; passes: string[] } {
  let current = w;
  const passes: string[] = [];
  for (let i = 0; i < max; i++) {
    const r = sync(current, now, options);
    passes.push(counts(r.plan));
    current = r.world;
    if (r.plan.createPods.length === 0 && r.plan.deletePods.length === 0) break;
  }
  return { world: current, passes };
}

/** Marks pods Ready since `since` (all pods, or those `which` selects). Phase becomes Running. */
export function markReady(w: World, since: Date, which: (p: V1Pod) => boolean = () => true): World {
  return {
    ...w,
    pods: w.pods.map((p) =>
      which(p) && p.metadata?.deletionTimestamp === undefined
        ? { ...p, status: { ...p.status, phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: since }] } }
        : p,
    ),
  };
}

/** Marks pods not Ready. */
export function markNotReady(w: World, which: (p: V1Pod) => boolean): World {
  return { ...w, pods: w.pods.map((p) => (which(p) ? { ...p, status: { ...p.status, conditions: [{ type: 'Ready', status: 'False' }] } } : p)) };
}

/** Sets the phase of the pods `which` selects. */
export function setPhase(w: World, phase: string, which: (p: V1Pod) => boolean): World {
  return { ...w, pods: w.pods.map((p) => (which(p) ? { ...p, status: { ...p.status, phase } } : p)) };
}

/** Replaces the DaemonSet (a user update), keeping its status. */
export function updateDaemonSet(w: World, ds: V1DaemonSet): World {
  return { ...w, ds: { ...ds, status: structuredClone(w.ds.status) } };
}

/** The node a pod is for (nodeName or affinity target). */
export function podNode(p: V1Pod): string {
  if (p.spec?.nodeName) return p.spec.nodeName;
  const term = p.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms?.[0];
  return term?.matchFields?.[0]?.values?.[0] ?? '';
}

/** Pods grouped by node name. */
export function podsByNode(w: World): Map<string, V1Pod[]> {
  const m = new Map<string, V1Pod[]>();
  for (const p of w.pods) {
    const n = podNode(p);
    m.set(n, [...(m.get(n) ?? []), p]);
  }
  return m;
}

/** The seven status counters as the catalogue writes them: desired/current/ready/available/unavailable/updated/misscheduled. */
export function statusLine(p: Plan): string {
  const s = p.status;
  return [s.desiredNumberScheduled, s.currentNumberScheduled, s.numberReady, s.numberAvailable, s.numberUnavailable, s.updatedNumberScheduled, s.numberMisscheduled].join('/');
}
