/** Renders the results of run-all as markdown: machine facts, goal vs measured, then each benchmark in detail. */
import type { AllResults } from './results.js';
import { PRICES } from './cost.js';

const ms = (x: number | null | undefined): string => (x === null || x === undefined || Number.isNaN(x) ? '—' : x >= 10_000 ? `${(x / 1000).toFixed(1)} s` : `${Math.round(x)} ms`);
const mbs = (b: number): string => `${(b / 1e6).toFixed(2)} MB`;
const kb = (b: number): string => `${(b / 1e3).toFixed(0)} kB`;
const verdict = (ok: boolean | null): string => (ok === null ? 'n/a' : ok ? '✅ met' : '❌ missed');
const usd = (x: number): string => `$${x.toFixed(2)}`;

export function renderMarkdown(r: AllResults): string {
  const out: string[] = [];
  const m = r.machine;
  out.push(`# daemonless benchmarks — ${r.mode} run`, '');
  out.push(`${m.date} · commit ${m.gitCommit} · ${r.durationSeconds} s`, '');
  out.push('| machine | |', '| --- | --- |');
  out.push(`| CPU | ${m.cpu}, ${m.cores} cores |`, `| memory | ${m.memoryGiB} GiB |`, `| OS | ${m.os} |`, `| Node | ${m.node} |`,
    `| Kubernetes (planes) | ${m.kubernetes}, kwok simulated nodes |`, `| load average at the end (1/5/15 min) | ${m.loadAverage.join(' / ')} |`);
  out.push('', 'The machine is shared: other test suites ran control planes and Go builds at the same time, so absolute times are noisy; the planes of one comparison ran one after another in the same run.', '');

  // Goal vs measured.
  out.push('## Goals vs measured', '', '| measure | goal | measured | |', '| --- | --- | --- | --- |');
  const c = r.converge;
  if (c) {
    out.push(`| converge ${c.nodes} nodes, daemonless / upstream (${c.ratioBasis} Ready) | ≤ 0.5× | ${c.ratioToUpstream}× (${ms(c.daemonless.readyMs[c.ratioBasis.replace('%', '')])} vs ${ms(c.upstream.readyMs[c.ratioBasis.replace('%', '')])}) | ${verdict(c.ratioToUpstream <= 0.5)} |`);
    out.push(`| converge ${c.nodes} nodes, daemonless / floor (${c.ratioBasis} Ready) | ≤ 1.2× | ${c.ratioToFloor}× (floor ${ms(c.floor.readyMs[c.ratioBasis.replace('%', '')])}) | ${verdict(c.ratioToFloor <= 1.2)} |`);
  } else {
    out.push(`| converge | ≤ 0.5× upstream, ≤ 1.2× floor | failed: ${Object.entries(r.errors).filter(([k]) => k.startsWith('plane')).map(([k, v]) => `${k}: ${v}`).join('; ')} | ❌ |`);
  }
  const j = r.nodeJoin;
  if (j) {
    const d = j.daemonless;
    out.push(`| node join → daemon pod exists, p50 / p99 (create → pod) | ≤ 200 ms / ≤ 1 s | ${ms(d.createToPod.p50Ms)} / ${ms(d.createToPod.p99Ms)} | ${verdict(d.createToPod.p50Ms <= 200 && d.createToPod.p99Ms <= 1000)} |`);
    out.push(`| node join, from the node becoming eligible (Ready, untainted) → pod, p50 / p99 | (controller's share) | ${ms(d.eligibleToPod.p50Ms)} / ${ms(d.eligibleToPod.p99Ms)} | ${verdict(d.eligibleToPod.p50Ms <= 200 && d.eligibleToPod.p99Ms <= 1000)} |`);
  }
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
  if (ru) {
    out.push(`| rolling update ${ru.nodes} nodes, maxUnavailable ${ru.maxUnavailable}: daemonless / upstream time | ≤ 1× | ${Number.isNaN(ru.ratioToUpstream) ? `daemonless ${ru.daemonless.completeMs === null ? `not done in the limit (${ru.daemonless.updatedAtEnd}/${ru.nodes} updated)` : ms(ru.daemonless.completeMs)}` : `${ru.ratioToUpstream}×`} (${ms(ru.daemonless.completeMs)} vs ${ms(ru.upstream.completeMs)}) | ${verdict(!Number.isNaN(ru.ratioToUpstream) && ru.ratioToUpstream <= 1)} |`);
    out.push(`| rolling update: max unavailable seen (budget ${ru.daemonless.budget}) | never > budget | daemonless ${ru.daemonless.maxUnavailable}, upstream ${ru.upstream.maxUnavailable} | ${verdict(!ru.daemonless.budgetExceeded)} |`);
  }
  const lb = r.lambdaBundle;
  if (lb) {
    for (const x of lb.measures.filter((y) => y.variant === 'stack')) {
      out.push(`| ${x.handler} bundle / cold init | ≤ 1 MB / ≤ 250 ms | ${mbs(x.bytes)} / ${ms(x.initMs)} | ${verdict(x.bytes <= 1e6 && x.initMs <= 250)} |`);
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
    for (const [name, run] of [['daemonless', c.daemonless], ['upstream', c.upstream], ['floor', c.floor]] as const) {
      out.push(`| ${name} | ${ms(run.createdMs['50'])} | ${ms(run.createdMs['100'])} | ${ms(run.readyMs['50'])} | ${ms(run.readyMs['90'])} | ${ms(run.readyMs['99'])} | ${ms(run.readyMs['100'])} | ${run.reconciles ?? ''} |`);
    }
    out.push('', `Ratios (${c.ratioBasis}): Ready ${c.ratioToUpstream}× upstream, ${c.ratioToFloor}× floor; all created ${c.createdRatioToUpstream ?? '—'}× upstream, ${c.createdRatioToFloor ?? '—'}× floor.`, '');
  }
  if (ru) {
    out.push(`## Rolling update: ${ru.nodes} nodes, maxUnavailable ${ru.maxUnavailable} (budget ${ru.daemonless.budget})`, '',
      '| | time to complete | new pods Ready at the end | max unavailable | samples | unready flaps (not caused by the update) | reconciles | messages queued at start |', '| --- | --- | --- | --- | --- | --- | --- | --- |',
      `| daemonless | ${ru.daemonless.completeMs === null ? 'not within the limit' : ms(ru.daemonless.completeMs)} | ${ru.daemonless.updatedAtEnd} | ${ru.daemonless.maxUnavailable} | ${ru.daemonless.samples} | ${ru.daemonless.unreadyFlaps} | ${ru.daemonless.reconciles ?? ''} | ${ru.daemonless.queuedAtStart ?? ''} |`,
      `| upstream | ${ru.upstream.completeMs === null ? 'not within the limit' : ms(ru.upstream.completeMs)} | ${ru.upstream.updatedAtEnd} | ${ru.upstream.maxUnavailable} | ${ru.upstream.samples} | ${ru.upstream.unreadyFlaps} | | |`, '');
  }
  if (j) {
    out.push(`## Node join: ${j.joins} joins into ${j.baseNodes} nodes with ${j.daemonSets} DaemonSets`, '',
      '| | create → pod p50 | p90 | p99 | max | eligible → pod p50 | p99 | create → eligible p50 | missing pods | reconciles | messages queued at start |', '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
    for (const [name, run] of [['daemonless', j.daemonless], ['upstream', j.upstream]] as const) {
      if (!run) continue;
      out.push(`| ${name} | ${ms(run.createToPod.p50Ms)} | ${ms(run.createToPod.p90Ms)} | ${ms(run.createToPod.p99Ms)} | ${ms(run.createToPod.maxMs)} | ${ms(run.eligibleToPod.p50Ms)} | ${ms(run.eligibleToPod.p99Ms)} | ${ms(run.createToEligible.p50Ms)} | ${run.missing} | ${run.reconciles ?? ''} | ${run.queuedAtStart ?? ''} |`);
    }
    out.push('', 'A new node carries the `node.kubernetes.io/not-ready:NoSchedule` taint until it is Ready and node lifecycle removes it; no daemon pod may be placed before (daemon pods do not tolerate it), so create → pod includes that time for any controller.', '');
  }
  if (cr) {
    out.push('## Converged reconcile', '', 'Client `default` = client-node as the controller uses it; `shared-dispatcher` = prototype reusing one undici dispatcher (client-node 2.0.1 opens a new connection per call).', '',
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
  return out.join('\n');
}
