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
}

/** The whole JSON output. */
export interface PlanReport {
  readonly daemonSets: readonly DaemonSetReport[];
}

/** Builds the report entry of one plan (create sorted by node, delete sorted by name). */
export function reportOf(plan: Plan): DaemonSetReport {
  const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
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
  };
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
