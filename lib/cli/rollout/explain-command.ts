/**
 * `daemonless explain <ref>`: reads what a reconcile pass reads, explains it with the core's
 * `explain` (the same pass `plan` runs) and prints it as text or JSON. Never writes.
 */
import type { DaemonSetTarget, RolloutCluster } from '../../adapters/kube/rollout-client.js';
import { budgetText, explain, type Explanation, type NodeExplanation, type PodExplanation } from '../../core/index.js';
import { renderTable, reportOf } from '../render.js';
import type { KindName } from './kubectl-text.js';
import type { RolloutIo } from './rollout-command.js';

export async function explainCommand(t: DaemonSetTarget, kind: KindName, c: RolloutCluster, io: RolloutIo, output: 'json' | undefined): Promise<number> {
  const ds = await c.getDaemonSet(t);
  const snapshot = await c.readSnapshot(t, ds);
  const explanation = explain(snapshot, io.now());
  io.stdout(output === 'json' ? `${JSON.stringify(explanationJson(explanation), null, 2)}\n` : renderExplanation(explanation, kind));
  return 0;
}

/** `-o json`: the explanation with the plan as `daemonless plan` reports it. */
export function explanationJson(e: Explanation): object {
  return { ...e, plan: reportOf(e.plan) };
}

/** The text of one pod: `NAME current (revision 2), not ready: CrashLoopBackOff`. */
export function podText(p: PodExplanation): string {
  const version = `${p.version}${p.revision !== null ? ` (revision ${p.revision})` : ''}`;
  let state = '';
  switch (p.state) {
    case 'available': break;
    case 'ready': state = `, ready, available at ${p.availableAt ?? '?'} (minReadySeconds)`; break;
    case 'not-ready': state = `, not ready: ${p.reason ?? 'unknown'}`; break;
    case 'failed': state = p.backoffUntil ? `, failed (in back-off until ${p.backoffUntil})` : ', failed'; break;
    case 'succeeded': state = ', succeeded'; break;
    case 'terminating': state = ', terminating'; break;
  }
  return `${p.name} ${version}${state}${p.nextPass ? `; next pass: ${p.nextPass}` : ''}`;
}

/** One node's line: should-run (with the first reason it should not) and the state of its pods. */
export function nodeCells(n: NodeExplanation): [string, string, string] {
  const eligibility = n.shouldRun ? 'yes' : `no: ${n.reason ?? ''}${n.shouldContinueRunning ? ' (a running pod may stay)' : ''}`;
  const live = n.pods.filter((p) => p.state !== 'terminating');
  let pods: string;
  if (n.summary === 'missing') pods = `missing${n.create ? '; next pass: create' : ''}`;
  else if (n.summary === 'none') pods = '-';
  else pods = `${n.summary === 'misscheduled' ? 'misscheduled: ' : ''}${n.pods.map(podText).join('; ')}${n.held ? ` (held: ${n.held})` : ''}`;
  if (live.length === 0 && n.pods.length > 0 && n.summary !== 'missing') pods = n.pods.map(podText).join('; ');
  return [n.node, eligibility, pods];
}

export function renderExplanation(e: Explanation, kind: KindName): string {
  const out: string[] = [`${kind.kind}/${e.name} in namespace ${e.namespace}`, ''];
  const rows: string[][] = [['NODE', 'SHOULD RUN', 'PODS'], ...e.nodes.map(nodeCells)];
  const widths = [0, 1].map((i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  if (e.nodes.length > 0) out.push(...rows.map((r) => r.map((cell, i) => (i < 2 ? cell.padEnd((widths[i] ?? 0) + 2) : cell)).join('').trimEnd()));
  else out.push('No nodes were looked at.');
  const r = e.rollout;
  out.push('', `Rollout: ${r.strategy}, revision ${r.currentRevision}: ${r.updated} of ${r.desired} updated, ${r.available} available`);
  if (r.budget) out.push(`  ${r.budget.name} ${budgetText(r.budget)}`);
  if (r.holds.length === 0) out.push('  held by: nothing');
  for (const h of r.holds) out.push(`  held by: ${h}`);
  out.push('', 'Next reconcile pass (as daemonless plan prints it):');
  out.push(...renderTable({ daemonSets: [reportOf(e.plan)] }).trimEnd().split('\n').map((l) => `  ${l}`));
  return `${out.join('\n')}\n`;
}
