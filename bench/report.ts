/**
 * Renders the results of run-all as markdown: machine facts, the scale goals (with the previous
 * run's numbers and the charts), other goals, then each benchmark in detail and the run history.
 */
import { PRICES } from './cost.js';
import { goalRows, ms, topRequests } from './goals.js';
import { earlierRuns, previousRun, type HistoryEntry } from './history.js';
import type { AllResults } from './results.js';

/** The charts charts.ts draws, beside latest.md. */
export const CHART_FILES = { nodeJoin: 'node-join.svg', converge: 'converge.svg', rolling: 'rolling-update.svg' } as const;
const mbs = (b: number): string => `${(b / 1e6).toFixed(2)} MB`;
const kb = (b: number): string => `${(b / 1e3).toFixed(0)} kB`;
const verdict = (ok: boolean | null): string => (ok === null ? 'n/a' : ok ? '✅ met' : '❌ missed');
const usd = (x: number): string => `$${x.toFixed(2)}`;

export function renderMarkdown(r: AllResults, history: readonly HistoryEntry[] = []): string {
  const out: string[] = [];
  const m = r.machine;
  out.push(`# daemonless benchmarks — ${r.mode} run`, '');
  out.push(`${m.date} · commit ${m.gitCommit} · ${r.durationSeconds} s`, '');
  out.push('| machine | |', '| --- | --- |');
  out.push(`| CPU | ${m.cpu}, ${m.cores} cores |`, `| memory | ${m.memoryGiB} GiB |`, `| OS | ${m.os} |`, `| Node | ${m.node} |`,
    `| Kubernetes (planes) | ${m.kubernetes}, kwok simulated nodes |`, `| load average at the end (1/5/15 min) | ${m.loadAverage.join(' / ')} |`);
  out.push('', 'The machine is shared: other test suites ran control planes and Go builds at the same time, so absolute times are noisy; the planes of one comparison ran one after another in the same run.', '');

  // The scale goals, with the previous run beside them.
  const prev = previousRun(history, r);
  out.push('## Scale goals', '',
    `Measured side by side with upstream in this run. Charts: [node join latency](${CHART_FILES.nodeJoin}) · [converge](${CHART_FILES.converge}) · [rolling update](${CHART_FILES.rolling}). ` +
    (prev ? `Previous: the ${prev.mode} run of ${prev.date.slice(0, 10)} at commit ${prev.commit}.` : 'No earlier run of this mode and size in the history.'), '',
    '| measure | goal | daemonless | upstream | ratio | load (1 min) | | previous run | cause of a miss / note |', '| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const g of goalRows(r)) {
    const p = prev?.goals[g.id];
    const before = p ? `${p.measured}${p.ratio ? ` (${p.ratio})` : ''} ${p.met === null ? '' : p.met ? '✅' : '❌'}`.trim() : '—';
    out.push(`| ${g.measure} | ${g.goal} | ${g.measured} | ${g.upstream} | ${g.ratio} | ${g.load} | ${verdict(g.met)} | ${before} | ${g.cause} |`);
  }
  out.push('', `![node join latency](${CHART_FILES.nodeJoin})`, '', `![converge](${CHART_FILES.converge})`, '', `![rolling update](${CHART_FILES.rolling})`, '');

  out.push('## Other goals', '', '| measure | goal | measured | |', '| --- | --- | --- | --- |');
  const c = r.converge;
  if (c) {
    out.push(`| converge ${c.nodes} nodes, daemonless / bare-client floor (${c.ratioBasis} Ready) | ≤ 1.2× | ${c.ratioToFloor}× (floor ${ms(c.floor.readyMs[c.ratioBasis.replace('%', '')])}) | ${verdict(c.ratioToFloor <= 1.2)} |`);
  }
  const j = r.nodeJoin;
  const cr = r.convergedReconcile;
  if (cr) {
    for (const s of cr.sizes) {
      const best = s.passes.filter((x) => x.client === 'default').reduce((a, b) => (b.writes < a.writes ? b : a));
      out.push(`| converged reconcile at ${s.nodes} nodes: writes / reads | 0 / ≤ 4 | ${best.writes} / ${best.reads} | ${verdict(best.writes === 0 && best.reads <= 4)} |`);
    }
    for (const a of cr.atScale ?? []) {
      out.push(`| converged reconcile at ${a.nodes} nodes: reads (500-item pages) | ≤ 4 | ${a.estimatedReads} (computed) | ${verdict(a.estimatedReads <= 4)} |`);
      out.push(`| API bytes read per reconcile at ${a.nodes} nodes (decoded JSON / on the wire, gzip) | ≤ 2 MB | ${mbs(a.estimatedPass.decodedBytes)} / ${mbs(a.estimatedPass.wireBytes)} (node LIST measured, pods scaled from the ${cr.sizes[0]?.nodes ?? ''}-node run) | ${verdict(a.estimatedPass.decodedBytes <= 2e6)} |`);
    }
    const big = (cr.atScale ?? []).length > 0 ? undefined : cr.sizes[cr.sizes.length - 1];
    if (big) {
      const p = big.passes.filter((x) => x.client === 'default').pop();
      if (p) out.push(`| API bytes read per reconcile at ${big.nodes} nodes (decoded JSON / on the wire, gzip) | ≤ 2 MB | ${mbs(p.decodedBytes)} / ${mbs(p.wireBytes)} | ${verdict(p.decodedBytes <= 2e6)} |`);
    }
  }
  const ru = r.rollingUpdate;
  const lb = r.lambdaBundle;
  if (lb) {
    for (const x of lb.measures.filter((y) => y.variant === 'stack')) {
      const [maxBytes, maxMs] = x.handler === 'webhook' ? [1e6, 250] : [1.5e6, 200];
      out.push(`| ${x.handler} bundle / cold init p50 | ≤ ${maxBytes / 1e6} MB / ≤ ${maxMs} ms | ${mbs(x.bytes)} / ${ms(x.initMs)} | ${verdict(x.bytes <= maxBytes && x.initMs <= maxMs)} |`);
    }
  }
  out.push(`| monthly AWS cost, 1,000 nodes, 20 DaemonSets, 10,000 events/day | written down, small | ${usd(r.cost.totalUsd)} list (${usd(r.cost.totalAfterFreeTierUsd)} after free tiers) | ✅ |`);
  out.push('');

  if (Object.keys(r.errors).length > 0) {
    out.push('## Failures', '');
    for (const [k, v] of Object.entries(r.errors)) out.push(`- **${k}**: ${v}`);
    out.push('');
  }

  if (c) {
    out.push(`## Converge: one DaemonSet on ${c.nodes} nodes`, '',
      `Client limits: QPS 200 / burst 400 for all three (kube-controller-manager's flags on the planes). Placement: ${c.placement}. Floor: the same pods, created by a bare client with ≤ ${c.floorConcurrency} in flight.`, '',
      '| | 50 % created | 100 % created | 50 % Ready | 90 % Ready | 99 % Ready | 100 % Ready | reconciles |', '| --- | --- | --- | --- | --- | --- | --- | --- |');
    const nodeNameRun = r.convergeNodeName ?? null;
    for (const [name, run] of [[`daemonless (${c.placement})`, c.daemonless], ...(nodeNameRun ? [['daemonless (nodeName, plane of its own)', nodeNameRun] as const] : []), ['upstream', c.upstream], ['floor', c.floor]] as const) {
      out.push(`| ${name} | ${ms(run.createdMs['50'])} | ${ms(run.createdMs['100'])} | ${ms(run.readyMs['50'])} | ${ms(run.readyMs['90'])} | ${ms(run.readyMs['99'])} | ${ms(run.readyMs['100'])} | ${run.reconciles ?? ''} |`);
    }
    out.push('', `Ratios (${c.ratioBasis}): Ready ${c.ratioToUpstream}× upstream, ${c.ratioToFloor}× floor; all created ${c.createdRatioToUpstream ?? '—'}× upstream, ${c.createdRatioToFloor ?? '—'}× floor.`, '');
  }
  if (ru) {
    out.push(`## Rolling update: ${ru.nodes} nodes, maxUnavailable ${ru.maxUnavailable} (budget ${ru.daemonless.budget})`, '',
      '| | time to complete | new pods Ready at the end | max unavailable | samples | unready flaps (not caused by the update) | reconciles | messages queued at start |', '| --- | --- | --- | --- | --- | --- | --- | --- |',
      `| daemonless | ${ru.daemonless.completeMs === null ? 'not within the limit' : ms(ru.daemonless.completeMs)} | ${ru.daemonless.updatedAtEnd} | ${ru.daemonless.maxUnavailable} | ${ru.daemonless.samples} | ${ru.daemonless.unreadyFlaps} | ${ru.daemonless.reconciles ?? ''} | ${ru.daemonless.queuedAtStart ?? ''} |`,
      `| upstream | ${ru.upstream.completeMs === null ? 'not within the limit' : ms(ru.upstream.completeMs)} | ${ru.upstream.updatedAtEnd} | ${ru.upstream.maxUnavailable} | ${ru.upstream.samples} | ${ru.upstream.unreadyFlaps} | | |`);
    const f = ru.floor;
    if (f) out.push(`| floor (bare client, same budget) | ${f.completeMs === null ? 'not within the limit' : ms(f.completeMs)} | ${f.updatedAtEnd} | ${f.maxUnavailable} | ${f.samples} | ${f.unreadyFlaps} | | |`);
    out.push('');
  }
  if (j) {
    out.push(`## Node join: ${j.joins} joins into ${j.baseNodes} nodes with ${j.daemonSets} DaemonSets`, '',
      '| | create → pod p50 | p90 | p99 | max | eligible → pod p50 | p99 | create → eligible p50 | missing pods | reconciles | messages queued at start |', '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
    for (const [name, run] of [['daemonless', j.daemonless], ['upstream', j.upstream]] as const) {
      if (!run) continue;
      out.push(`| ${name} | ${ms(run.createToPod.p50Ms)} | ${ms(run.createToPod.p90Ms)} | ${ms(run.createToPod.p99Ms)} | ${ms(run.createToPod.maxMs)} | ${ms(run.eligibleToPod.p50Ms)} | ${ms(run.eligibleToPod.p99Ms)} | ${ms(run.createToEligible.p50Ms)} | ${run.missing} | ${run.reconciles ?? ''} | ${run.queuedAtStart ?? ''} |`);
    }
    out.push('', 'A new node carries the `node.kubernetes.io/not-ready:NoSchedule` taint (the API server adds it) until node lifecycle removes it — here as soon as it sees the node, which has no Ready condition yet (kwok reports Ready a second or two later); no daemon pod may be placed before (daemon pods do not tolerate it), so create → pod includes that time for any controller. Eligible: the first watch event without that taint.', '');
  }
  const jc = r.joinCost;
  if (jc) {
    out.push(`## Cost of a node join: ${jc.joins} joins with ${jc.daemonSets} DaemonSets at each size`, '',
      'On a plane where kwok simulates only a few nodes: the others exist, NotReady and tainted (no daemon pod belongs on them, nothing heartbeats them), and every LIST of nodes carries them. ' +
      'The controller is idle before each join; its requests and response bytes (decoded JSON) are counted from the node\'s create until its daemon pods exist (the window), and until it is idle again (total). Watches (the local runner\'s event source) are not counted.', '',
      '| nodes (simulated) | requests per join per DaemonSet: window / total | bytes: window / total | eligible → pod p50 / p99 | create → pod p50 | missing pods | where the window\'s bytes go (per join per DaemonSet) | adding the nodes before: time, peak queued messages, reconciles |',
      '| --- | --- | --- | --- | --- | --- | --- | --- |');
    for (const s of jc.sizes) {
      const t = s.run.traffic;
      const n = t ? t.joins * t.daemonSets : 1;
      out.push(`| ${s.nodes} (${s.simulatedNodes}) | ${t ? `${+(t.window.requests / n).toFixed(1)} / ${+(t.total.requests / n).toFixed(1)}` : '—'} | ${t ? `${mbs(t.window.decodedBytes / n)} / ${mbs(t.total.decodedBytes / n)}` : '—'} | ${ms(s.run.eligibleToPod.p50Ms)} / ${ms(s.run.eligibleToPod.p99Ms)} | ${ms(s.run.createToPod.p50Ms)} | ${s.run.missing} | ${t ? topRequests(t.window, n, 5) : ''} | ${s.growth ? `${s.growth.nodesAdded} nodes: ${s.growth.seconds} s, ${s.growth.peakQueued}, ${s.growth.reconciles}` : ''} |`);
    }
    out.push('');
  }
  const rs = r.resync;
  if (rs) {
    out.push(`## Resync: ${rs.daemonSets} converged DaemonSets at ${rs.nodes} nodes (${rs.simulatedNodes} simulated)`, '',
      'One resync through the resync handler and the reconcile handler, the queue\'s records delivered in batches of 10 as the SQS event source delivers them; the local runner stopped first.', '',
      '| keys | batches | node LISTs (pages) | node GETs | writes | requests | bytes decoded / wire | time | failed records | messages the passes enqueued |', '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
      `| ${rs.keys} | ${rs.batches} | ${rs.nodeLists} (${rs.nodeListPages}) | ${rs.nodeGets} | ${rs.writes} | ${rs.requests} | ${mbs(rs.decodedBytes)} / ${mbs(rs.wireBytes)} | ${ms(rs.ms)} | ${rs.failedRecords} | ${rs.enqueuedByPasses} |`, '',
      '| request | count | lists | decoded | wire |', '| --- | --- | --- | --- | --- |');
    for (const [k, v] of Object.entries(rs.byRequest).sort((x, y) => y[1].decodedBytes - x[1].decodedBytes)) out.push(`| \`${k}\` | ${v.count} | ${v.lists ?? ''} | ${mbs(v.decodedBytes)} | ${mbs(v.wireBytes)} |`);
    out.push('');
  }
  if (cr) {
    out.push('## Converged reconcile', '', 'Client `default` = the adapter as the controller builds it (one HTTP/2 connection per KubeConfig); `client-node-fetch` = the same adapter over `KubeConfig.makeApiClient` API objects (client-node 2.0.1 opens a new connection per call).', '',
      '| nodes | client | pass | reads | writes | requests | new connections | bytes decoded | bytes on the wire | time |', '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
    for (const s of cr.sizes) {
      s.passes.forEach((p, i) => out.push(`| ${s.nodes} | ${p.client} | ${(i % 3) + 1} | ${p.reads} | ${p.writes} | ${p.requests} | ${p.connections} | ${mbs(p.decodedBytes)} | ${mbs(p.wireBytes)} | ${ms(p.ms)} |`));
    }
    for (const [n, why] of Object.entries(cr.failed ?? {})) out.push('', `${n} nodes: not measured: ${why}`);
    if ((cr.atScale ?? []).length > 0) {
      out.push('', 'Larger clusters, reads only (nodes created, not awaited Ready: kwok cannot heartbeat thousands of nodes on this machine):', '',
        '| nodes | node object | node LIST JSON | protobuf | metadata-only | node watch delta | estimated converged pass | reads |', '| --- | --- | --- | --- | --- | --- | --- | --- |');
      const pair = (x: { decodedBytes: number; wireBytes: number }): string => `${mbs(x.decodedBytes)} / ${mbs(x.wireBytes)}`;
      for (const a of cr.atScale ?? []) {
        out.push(`| ${a.nodes} | ${kb(a.nodeObjectBytes)} | ${pair(a.nodesJson)} | ${pair(a.nodesProtobuf)} | ${pair(a.nodesMetadataOnly)} | ${pair(a.nodesWatchDelta)} (${a.nodesWatchDelta.events} events / ${a.nodesWatchDelta.windowSeconds} s) | ${pair(a.estimatedPass)} | ${a.estimatedReads} |`);
      }
    }
    out.push('', 'Where the bytes go (last pass):', '', '| nodes | request | count | decoded | wire |', '| --- | --- | --- | --- | --- |');
    for (const s of cr.sizes) {
      const p = s.passes.filter((x) => x.client === 'default').pop();
      if (!p) continue;
      for (const [k, v] of Object.entries(p.byRequest).sort((x, y) => y[1].decodedBytes - x[1].decodedBytes)) out.push(`| ${s.nodes} | \`${k}\` | ${v.count} | ${mbs(v.decodedBytes)} | ${mbs(v.wireBytes)} |`);
    }
    out.push('', 'Cheaper read shapes, measured on the same plane (decoded / wire):', '',
      '| nodes | node object | pod object | nodes JSON | nodes protobuf | nodes metadata-only | pods JSON | pods protobuf | node watch delta | pod watch delta |',
      '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
    for (const s of cr.sizes) {
      const a = s.alternatives;
      const pair = (x: { decodedBytes: number; wireBytes: number }): string => `${mbs(x.decodedBytes)} / ${mbs(x.wireBytes)}`;
      out.push(`| ${s.nodes} | ${kb(s.nodeObjectBytes)} | ${kb(s.podObjectBytes)} | ${pair(a.nodesJson)} | ${pair(a.nodesProtobuf)} | ${pair(a.nodesMetadataOnly)} | ${pair(a.podsJson)} | ${pair(a.podsProtobuf)} | ${pair(a.nodesWatchDelta)} (${a.nodesWatchDelta.events} events / ${a.nodesWatchDelta.windowSeconds} s) | ${pair(a.podsWatchDelta)} (${a.podsWatchDelta.events} events / ${a.podsWatchDelta.windowSeconds} s) |`);
    }
    out.push('');
  }
  if (lb) {
    out.push('## Lambda bundles', '', `Cold init = import of the bundle + the first invocation (builds the composition root from dummy env; no network), in a fresh Node ${m.node} process, median of ${lb.runs}; a bare Node start with an empty module takes ${ms(lb.nodeBaselineMs)} on top and is not counted.`, '',
      '| variant | handler | bundle | source map | load | first invoke | cold init (p50) | p90 | first invoke outcome |', '| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
    for (const x of lb.measures) out.push(`| ${x.variant} | ${x.handler} | ${mbs(x.bytes)} | ${mbs(x.sourceMapBytes)} | ${ms(x.loadMs)} | ${ms(x.firstInvokeMs)} | ${ms(x.initMs)} | ${ms(x.initP90Ms)} | ${x.outcome} |`);
    if (lb.packages) {
      out.push('', 'Each heavy dependency bundled alone with the stack\'s options (`import * as m from …`), load time in a fresh process:', '', '| package | bundle | load |', '| --- | --- | --- |');
      for (const p of lb.packages) out.push(`| ${p.name} | ${mbs(p.bytes)} | ${ms(p.loadMs)} |`);
    }
    out.push('', 'Largest contributors (stack variant, bytes in the minified bundle):', '', '| handler | packages |', '| --- | --- |');
    for (const x of lb.measures.filter((y) => y.variant === 'stack')) out.push(`| ${x.handler} | ${x.topPackages.slice(0, 8).map((p) => `${p.name} ${kb(p.bytes)}`).join(', ')} |`);
    out.push('');
  }
  out.push('## Monthly cost', '', `Prices: ${PRICES.source}.`, '', '| item | quantity | list price | after free tiers |', '| --- | --- | --- | --- |');
  for (const row of r.cost.rows) out.push(`| ${row.item} | ${row.quantity} | ${usd(row.monthlyUsd)} | ${usd(row.afterFreeTierUsd)} |`);
  out.push(`| **total** | | **${usd(r.cost.totalUsd)}** | **${usd(r.cost.totalAfterFreeTierUsd)}** |`, '', 'Assumptions:', '');
  for (const a of r.cost.assumptions) out.push(`- ${a}`);
  out.push('');

  const runs = [...earlierRuns(history, r).slice(-5)];
  if (runs.length > 0) {
    out.push('## History', '', `The scale goals in this run and the ${runs.length} before it (bench/results/history.jsonl; newest first).`, '',
      `| measure | this run (${r.mode}, ${r.machine.gitCommit}) | ${[...runs].reverse().map((e) => `${e.date.slice(0, 10)} ${e.mode}, ${e.nodes} nodes (${e.commit})`).join(' | ')} |`,
      `| --- | --- | ${runs.map(() => '---').join(' | ')} |`);
    const cell = (g: { measured: string; ratio: string; met: boolean | null } | undefined): string =>
      (g ? `${g.measured}${g.ratio ? ` (${g.ratio})` : ''}${g.met === null ? '' : g.met ? ' ✅' : ' ❌'}` : '—');
    for (const g of goalRows(r)) out.push(`| ${g.measure} | ${cell(g)} | ${[...runs].reverse().map((e) => cell(e.goals[g.id])).join(' | ')} |`);
    out.push('');
  }
  return out.join('\n');
}
