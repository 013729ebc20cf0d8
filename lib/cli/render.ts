/**
 * The `daemonless plan` report (spec/plan-cli.md "Output") and its json/table renderings. Pure.
 */
import type { DaemonSetStatus, Plan } from '../core/index.js';

/** One DaemonSet's entry of the JSON output. Fields beyond the contract are additions. */
export interface DaemonSetReport {
  readonly namespace: string;
  readonly name: string;
  readonly create: readonly { readonly node: string; readonly name: string }[];
  readonly delete: readonly { readonly name: string; readonly node: string; readonly reason: string }[];
  readonly status: DaemonSetStatus;
  readonly requeueAfterSeconds: number | null;
  /** Additions: which path the pass took, whether status would be written, events, errors. */
  readonly outcome: Plan['outcome'];
  readonly statusChanged: boolean;
  readonly events: Plan['events'];
  readonly errors: Plan['errors'];
  /** Addition, present only when rollout controls are set: what they hold (`RolloutReport`). */
  readonly rollout?: Plan['rollout'];
  /** Additions: the ControllerRevision writes of the pass, and the current revision after it. */
  readonly revision: RevisionReport;
  /** Additions: ownerReference patches (adopt an orphan, release a pod or revision that no longer matches). */
  readonly ownership: readonly { readonly kind: 'Pod' | 'ControllerRevision'; readonly action: 'adopt' | 'release'; readonly name: string }[];
  /** Additions: pod label patches (pods relabelled to the kept revision's hash), sorted by pod. */
  readonly labels: readonly { readonly pod: string; readonly labels: Readonly<Record<string, string>> }[];
  /** Additions: annotations merged onto the DaemonSet (null value = removed), or null for none. */
  readonly annotations: Readonly<Record<string, string | null>> | null;
}

/** The ControllerRevision part of a DaemonSet's report entry. */
export interface RevisionReport {
  /** The current revision after the pass: its name, `controller-revision-hash` and number. */
  readonly current: { readonly name: string; readonly hash: string; readonly revision: number };
  /** The revision the pass creates (the current one, when none matches the template), or null. */
  readonly create: { readonly name: string; readonly revision: number } | null;
  /** Existing revisions the pass patches: a new number (rollback) and/or the hash label back-filled. */
  readonly update: readonly { readonly name: string; readonly revision?: number; readonly labels?: Readonly<Record<string, string>> }[];
  /** Revisions the pass deletes: `duplicate` or `history-limit`. */
  readonly delete: readonly { readonly name: string; readonly reason: string }[];
}

/** The whole JSON output. */
export interface PlanReport {
  readonly daemonSets: readonly DaemonSetReport[];
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Builds the report entry of one plan (create sorted by node, delete sorted by name). */
export function reportOf(plan: Plan): DaemonSetReport {
  return {
    namespace: plan.namespace,
    name: plan.name,
    create: plan.createPods.map((c) => ({ node: c.node, name: c.pod.metadata?.name ?? '' })).sort((a, b) => cmp(a.node, b.node)),
    delete: plan.deletePods.map((d) => ({ name: d.name, node: d.node, reason: d.reason })).sort((a, b) => cmp(a.name, b.name)),
    status: plan.status,
    requeueAfterSeconds: plan.requeueAfterSeconds,
    outcome: plan.outcome,
    statusChanged: plan.statusChanged,
    events: plan.events,
    errors: plan.errors,
    ...(plan.rollout ? { rollout: plan.rollout } : {}),
    revision: {
      current: { name: plan.revisions.currentName, hash: plan.revisions.currentHash, revision: plan.revisions.currentRevision },
      create: plan.revisions.create === null ? null : { name: plan.revisions.create.metadata?.name ?? '', revision: plan.revisions.create.revision },
      update: plan.revisions.update.map((u) => ({ name: u.name, ...(u.revision === undefined ? {} : { revision: u.revision }), ...(u.labels === undefined ? {} : { labels: u.labels }) })),
      delete: plan.revisions.delete.map((d) => ({ name: d.name, reason: d.reason })),
    },
    ownership: plan.ownership.map((o) => ({ kind: o.kind, action: o.action, name: o.name })),
    labels: plan.podLabelChanges.map((l) => ({ pod: l.name, labels: l.labels })).sort((a, b) => cmp(a.pod, b.pod)),
    annotations: plan.daemonSetAnnotations,
  };
}

/**
 * True when a pass would write anything: pods, status, revisions, owner references, labels or
 * annotations (`plan --exit-code` exits 1 then). Events alone are not changes.
 */
export function hasChanges(report: PlanReport): boolean {
  return report.daemonSets.some((d) => d.create.length > 0 || d.delete.length > 0 || d.statusChanged || d.revision.create !== null
    || d.revision.update.length > 0 || d.revision.delete.length > 0 || d.ownership.length > 0 || d.labels.length > 0 || d.annotations !== null);
}

/** `--output json`: one JSON object, pretty-printed, newline-terminated. */
export function renderJson(report: PlanReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}

/** `--output table`: a per-DaemonSet, per-node human-readable view. */
export function renderTable(report: PlanReport): string {
  if (report.daemonSets.length === 0) return 'No DaemonSets in the snapshot.\n';
  const out: string[] = [];
  for (const ds of report.daemonSets) {
    const s = ds.status;
    out.push(`DaemonSet ${ds.namespace}/${ds.name}${ds.outcome === 'synced' ? '' : ` (${ds.outcome})`}`);
    out.push(
      `  desired=${s.desiredNumberScheduled} current=${s.currentNumberScheduled} ready=${s.numberReady} available=${s.numberAvailable} ` +
        `unavailable=${s.numberUnavailable} updated=${s.updatedNumberScheduled} misscheduled=${s.numberMisscheduled} ` +
        `observedGeneration=${s.observedGeneration}${ds.statusChanged ? ' (status would be written)' : ''}`,
    );
    const rows: string[][] = [
      ...ds.create.map((c) => [c.node, 'create', c.name, '']),
      ...ds.delete.map((d) => [d.node || '-', 'delete', d.name, d.reason]),
    ].sort((a, b) => ((a[0] ?? '') < (b[0] ?? '') ? -1 : (a[0] ?? '') > (b[0] ?? '') ? 1 : 0));
    if (rows.length === 0) out.push('  no pod changes');
    else out.push(...table([['NODE', 'ACTION', 'POD', 'REASON'], ...rows]).map((l) => `  ${l}`));
    const r = ds.revision;
    if (r.create !== null) out.push(`  revision: create ${r.create.name} (revision ${r.create.revision})`);
    for (const u of r.update) out.push(`  revision: update ${u.name}${u.revision === undefined ? '' : ` to revision ${u.revision}`}${u.labels === undefined ? '' : ' (hash label)'}`);
    for (const d of r.delete) out.push(`  revision: delete ${d.name} (${d.reason})`);
    for (const o of ds.ownership) out.push(`  ${o.action} ${o.kind} ${o.name}`);
    for (const l of ds.labels) out.push(`  relabel pod ${l.pod}`);
    if (ds.annotations !== null) out.push(`  annotate DaemonSet: ${Object.keys(ds.annotations).join(', ')}`);
    for (const e of ds.events) out.push(`  event ${e.type} ${e.reason}: ${e.message}`);
    for (const e of ds.errors) out.push(`  error: ${e}`);
    if (ds.rollout) out.push(...rolloutLines(ds.rollout));
    if (ds.requeueAfterSeconds !== null) out.push(`  look again in ${ds.requeueAfterSeconds}s`);
    out.push('');
  }
  return `${out.join('\n')}`;
}

function table(rows: string[][]): string[] {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows.map((r) => r.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  ').trimEnd());
}

/** The rollout controls of a plan, for the table: what is set, what rolls, what is held and why. */
function rolloutLines(r: NonNullable<Plan['rollout']>): string[] {
  const c = r.controls;
  const set = [
    r.autoPaused ? 'paused (auto-pause: progress deadline exceeded)' : r.paused ? 'paused' : '',
    c.partition > 0 ? `partition ${c.partition}` : '',
    c.selector ? `node selector ${JSON.stringify(c.selector)}` : '',
    c.progressDeadlineSeconds !== null ? `progress deadline ${c.progressDeadlineSeconds}s${r.progressDeadlineExceeded ? ' (exceeded)' : ''}` : '',
  ].filter((x) => x !== '');
  const out = [`  rollout controls: ${set.length > 0 ? set.join(', ') : 'none in force'}`];
  for (const p of r.problems) out.push(`  invalid rollout control ${p.field}: ${p.message}`);
  if (r.budgets) out.push(`  updating ${r.updating.length} node(s): maxUnavailable ${r.budgets.maxUnavailable}, maxSurge ${r.budgets.maxSurge}`);
  for (const h of r.held) out.push(`  held ${h.node} (${h.reason}): ${h.pod}${h.revisionHash ? ` at revision ${h.revisionHash}` : ''}`);
  return out;
}
