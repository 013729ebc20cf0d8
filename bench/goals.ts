/**
 * The scale goals, each computed from a run's results: what was measured, the ratio to upstream
 * where there is one, the machine's load when it was measured, met or missed, and for a missed (or
 * unmeasured) goal the measured facts that point at the cause. Pure: report.ts renders the rows,
 * history.ts keeps them run after run.
 */
import type { ConvergeRun } from './converge.js';
import { writesOf, type TrafficTotals } from './lib/kube.js';
import type { NodeJoinRun } from './node-join.js';
import type { AllResults, LoadPart } from './results.js';

export type GoalId =
  | 'join-eligible' | 'join-create' | 'join-requests-1000' | 'join-requests-5000' | 'join-bytes'
  | 'converge-created' | 'converge-ready-affinity' | 'converge-ready-nodename' | 'rolling-update' | 'resync';

export interface GoalRow {
  readonly id: GoalId;
  readonly measure: string;
  readonly goal: string;
  /** daemonless's value, rendered ('—' when not measured). */
  readonly measured: string;
  /** Upstream's value where the goal compares with it. */
  readonly upstream: string;
  /** daemonless / upstream, e.g. "1.11×" (or the goal's own ratio). */
  readonly ratio: string;
  /** 1-minute load average after the part that measured it. */
  readonly load: string;
  /** null: not measured in this run. */
  readonly met: boolean | null;
  /** For a missed goal, the measured facts that point at the cause; for an unmeasured one, why. */
  readonly cause: string;
}

export const ms = (x: number | null | undefined): string =>
  (x === null || x === undefined || Number.isNaN(x) ? '—' : x >= 10_000 ? `${(x / 1000).toFixed(1)} s` : `${Math.round(x)} ms`);
const kb = (b: number): string => (b >= 1e6 ? `${(b / 1e6).toFixed(2)} MB` : `${(b / 1e3).toFixed(1)} kB`);
const times = (x: number | null): string => (x === null || !Number.isFinite(x) ? '—' : `${x.toFixed(2)}×`);
const ratioOf = (a: number | null | undefined, b: number | null | undefined): number | null =>
  (a === null || a === undefined || b === null || b === undefined || b === 0 ? null : a / b);

/** The largest contributors of a traffic window, e.g. "GET /api/v1/nodes 2 (10 pages, 3.78 MB)". */
export function topRequests(t: TrafficTotals, per = 1, n = 3): string {
  return Object.entries(t.byRequest).sort((a, b) => b[1].decodedBytes - a[1].decodedBytes || b[1].count - a[1].count).slice(0, n)
    .map(([k, r]) => `${k} ×${+(r.count / per).toFixed(1)}${r.lists !== undefined && r.lists !== r.count && k.startsWith('GET') ? ` (${+(r.lists / per).toFixed(1)} lists)` : ''} ${kb(r.decodedBytes / per)}`).join(', ');
}

function loadOf(r: AllResults, part: LoadPart): string {
  const l = r.loads?.[part];
  return l === undefined ? `${r.machine.loadAverage[0] ?? '—'} (end of run)` : String(l);
}

const notMeasured = (r: AllResults, what: string, errorKeys: readonly string[]): string => {
  const errors = Object.entries(r.errors).filter(([k]) => errorKeys.some((e) => k.startsWith(e)));
  return errors.length > 0 ? `failed: ${errors.map(([k, v]) => `${k}: ${v}`).join('; ')}` : `not in this run's results (${what})`;
};

const joinFacts = (d: NodeJoinRun, u: NodeJoinRun | null): string =>
  `create → eligible p50 ${ms(d.createToEligible.p50Ms)}${u ? ` (upstream ${ms(u.createToEligible.p50Ms)})` : ''}; ${d.reconciles ?? '?'} reconciles for the joins; ${d.queuedAtStart ?? '?'} messages queued when they started` +
  (d.nodePass ? `; node create → the node-scoped pass that made its pod started p50 ${ms(d.nodePass.waitMs.p50Ms)} / p99 ${ms(d.nodePass.waitMs.p99Ms)} (node events, fan-out, queue), the pass took p50 ${ms(d.nodePass.passMs.p50Ms)} / p99 ${ms(d.nodePass.passMs.p99Ms)}${d.nodePass.fullPassNeeded > 0 ? `; ${d.nodePass.fullPassNeeded} node-scoped passes left their node to a full pass` : ''}` : '');

const convergeFacts = (d: ConvergeRun, floor: ConvergeRun | null): string =>
  `${d.reconciles ?? '?'} reconciles; 50 % created at ${ms(d.createdMs['50'])}${floor ? `; the bare-client floor: all created ${ms(floor.allCreatedMs)}, all Ready ${ms(floor.allReadyMs)}` : ''}`;

/** The scale goals of a run, in a fixed order (one row per goal, measured or not). */
export function goalRows(r: AllResults): GoalRow[] {
  const rows: GoalRow[] = [];
  const j = r.nodeJoin;
  const nodes = j?.baseNodes ?? r.converge?.nodes ?? 1000;
  // Node join latency.
  {
    const d = j?.daemonless;
    const u = j?.upstream ?? null;
    const measure = `node join at ${nodes} nodes, eligible → pod p50 / p99`;
    const goal = '≤ upstream p50, p99 ≤ 250 ms';
    if (!d) rows.push({ id: 'join-eligible', measure, goal, measured: '—', upstream: '', ratio: '', load: '', met: null, cause: notMeasured(r, 'node-join', ['node-join', 'plane A']) });
    else {
      // A pod cannot come before its node became eligible: a negative time means the benchmark's node watch was late.
      const watchLate = d.eligibleToPod.p50Ms < 0 || (u !== null && u.eligibleToPod.p50Ms < 0);
      const met = u && !watchLate ? d.eligibleToPod.p50Ms <= u.eligibleToPod.p50Ms && d.eligibleToPod.p99Ms <= 250 : null;
      const cause = watchLate ? 'not measured: negative times, the benchmark\'s node watch saw the nodes become eligible late'
        : met === false ? joinFacts(d, u) : met === null ? 'no upstream joins in this run (--upstream-joins)' : '';
      rows.push({ id: 'join-eligible', measure, goal, measured: `${ms(d.eligibleToPod.p50Ms)} / ${ms(d.eligibleToPod.p99Ms)}`,
        upstream: u ? `${ms(u.eligibleToPod.p50Ms)} / ${ms(u.eligibleToPod.p99Ms)}` : 'not run', ratio: times(ratioOf(d.eligibleToPod.p50Ms, u?.eligibleToPod.p50Ms)),
        load: loadOf(r, 'nodeJoin'), met, cause });
    }
    const measure2 = `node join at ${nodes} nodes, create → pod p50`;
    if (!d) rows.push({ id: 'join-create', measure: measure2, goal: '≤ 1.0× upstream', measured: '—', upstream: '', ratio: '', load: '', met: null, cause: notMeasured(r, 'node-join', ['node-join', 'plane A']) });
    else {
      const ratio = ratioOf(d.createToPod.p50Ms, u?.createToPod.p50Ms);
      const met = ratio === null ? null : ratio <= 1.0;
      rows.push({ id: 'join-create', measure: measure2, goal: '≤ 1.0× upstream', measured: ms(d.createToPod.p50Ms), upstream: u ? ms(u.createToPod.p50Ms) : 'not run',
        ratio: times(ratio), load: loadOf(r, 'nodeJoin'), met, cause: met === false ? joinFacts(d, u) : met === null ? 'no upstream joins in this run (--upstream-joins)' : '' });
    }
  }
  // Requests and bytes per join per DaemonSet at the two sizes.
  {
    const jc = r.joinCost;
    const sizes = jc?.sizes ?? [];
    const per = (s: (typeof sizes)[number]): { requests: number; writes: number; bytes: number; total: number; t: TrafficTotals; n: number } | null => {
      const t = s.run.traffic;
      if (!t) return null;
      const n = t.joins * t.daemonSets;
      return { requests: t.window.requests / n, writes: writesOf(t.window) / n, bytes: t.window.decodedBytes / n, total: t.total.requests / n, t: t.window, n };
    };
    const small = sizes[0];
    const large = sizes.length > 1 ? sizes[sizes.length - 1] : undefined;
    for (const [id, s, label] of [['join-requests-1000', small, 'smaller'], ['join-requests-5000', large, 'larger']] as const) {
      const p = s ? per(s) : null;
      const measure = `API requests / bytes per node join per DaemonSet, ${s ? `${s.nodes} nodes` : `${label} cluster`} (node create → its pods)`;
      if (!s || !p) rows.push({ id, measure, goal: '≤ 4 requests', measured: '—', upstream: '', ratio: '', load: '', met: null, cause: notMeasured(r, 'bench/scale.ts', ['scale']) });
      else {
        const met = p.requests <= 4;
        rows.push({ id, measure, goal: '≤ 4 requests', measured: `${+p.requests.toFixed(1)} (${+p.writes.toFixed(1)} write${p.writes === 1 ? '' : 's'}) / ${kb(p.bytes)}; until idle ${+p.total.toFixed(1)} requests`, upstream: '', ratio: '',
          load: loadOf(r, 'joinCost'), met, cause: met ? '' : `most bytes: ${topRequests(p.t, p.n)}` });
      }
    }
    const ps = small ? per(small) : null;
    const pl = large ? per(large) : null;
    const measure = `bytes per node join per DaemonSet, ${large?.nodes ?? 'larger'} vs ${small?.nodes ?? 'smaller'} nodes`;
    if (!ps || !pl || !small || !large) rows.push({ id: 'join-bytes', measure, goal: 'within ± 20 %', measured: '—', upstream: '', ratio: '', load: '', met: null, cause: notMeasured(r, 'bench/scale.ts', ['scale']) });
    else {
      const ratio = pl.bytes / Math.max(1, ps.bytes);
      const met = ratio >= 0.8 && ratio <= 1.2;
      rows.push({ id: 'join-bytes', measure, goal: 'within ± 20 %', measured: `${kb(pl.bytes)} vs ${kb(ps.bytes)}`, upstream: '', ratio: times(ratio), load: loadOf(r, 'joinCost'), met,
        cause: met ? '' : `most bytes at ${large.nodes}: ${topRequests(pl.t, pl.n)}` });
    }
  }
  // Converge.
  {
    const c = r.converge;
    const why = notMeasured(r, 'planes', ['plane']);
    const created = `converge one DaemonSet on ${c?.nodes ?? nodes} nodes, all pods created`;
    if (!c) rows.push({ id: 'converge-created', measure: created, goal: '≤ 1.0× upstream', measured: '—', upstream: '', ratio: '', load: '', met: null, cause: why });
    else {
      const ratio = ratioOf(c.daemonless.allCreatedMs, c.upstream.allCreatedMs);
      const met = ratio === null ? null : ratio <= 1.0;
      rows.push({ id: 'converge-created', measure: created, goal: '≤ 1.0× upstream', measured: ms(c.daemonless.allCreatedMs), upstream: ms(c.upstream.allCreatedMs), ratio: times(ratio),
        load: loadOf(r, 'converge'), met, cause: met === false ? convergeFacts(c.daemonless, c.floor) : met === null ? 'a run did not create every pod' : '' });
    }
    const basis = c?.ratioBasis.replace('%', '') ?? '100';
    const ready = `converge, all Ready (${c?.ratioBasis ?? '100%'}), affinity placement`;
    if (!c) rows.push({ id: 'converge-ready-affinity', measure: ready, goal: '≤ 1.0× upstream', measured: '—', upstream: '', ratio: '', load: '', met: null, cause: why });
    else {
      const ratio = ratioOf(c.daemonless.readyMs[basis], c.upstream.readyMs[basis]);
      const met = ratio === null ? null : ratio <= 1.0;
      rows.push({ id: 'converge-ready-affinity', measure: ready, goal: '≤ 1.0× upstream', measured: ms(c.daemonless.readyMs[basis]), upstream: ms(c.upstream.readyMs[basis]), ratio: times(ratio),
        load: loadOf(r, 'converge'), met, cause: met === false ? convergeFacts(c.daemonless, c.floor) : '' });
    }
    const nn = r.convergeNodeName ?? null;
    const nodeName = `converge, all Ready (${c?.ratioBasis ?? '100%'}), \`nodeName\` placement`;
    if (!c || !nn) rows.push({ id: 'converge-ready-nodename', measure: nodeName, goal: '≤ 0.7× upstream', measured: '—', upstream: '', ratio: '', load: '', met: null, cause: notMeasured(r, 'plane E: converge with nodeName placement', ['plane E', 'plane']) });
    else {
      const ratio = ratioOf(nn.readyMs[basis], c.upstream.readyMs[basis]);
      const met = ratio === null ? null : ratio <= 0.7;
      rows.push({ id: 'converge-ready-nodename', measure: nodeName, goal: '≤ 0.7× upstream', measured: ms(nn.readyMs[basis]), upstream: ms(c.upstream.readyMs[basis]), ratio: times(ratio),
        load: loadOf(r, 'convergeNodeName'), met, cause: met === false ? `${convergeFacts(nn, c.floor)}; all created ${ms(nn.allCreatedMs)}` : '' });
    }
  }
  // Rolling update.
  {
    const ru = r.rollingUpdate;
    const measure = `rolling update, ${ru?.nodes ?? nodes} nodes, maxUnavailable ${ru?.maxUnavailable ?? '10%'}`;
    const goal = '≤ 1.0× upstream, budget never exceeded';
    if (!ru) rows.push({ id: 'rolling-update', measure, goal, measured: '—', upstream: '', ratio: '', load: '', met: null, cause: notMeasured(r, 'planes', ['rolling', 'plane']) });
    else {
      const d = ru.daemonless;
      const ratio = Number.isNaN(ru.ratioToUpstream) ? null : ru.ratioToUpstream;
      const met = !d.budgetExceeded && ratio !== null && ratio <= 1.0;
      const facts = [
        d.completeMs === null ? `not complete within the limit (${d.updatedAtEnd}/${ru.nodes} updated)` : '',
        d.budgetExceeded ? `max unavailable ${d.maxUnavailable} > budget ${d.budget}` : '',
        `${d.reconciles ?? '?'} reconciles; ${d.queuedAtStart ?? '?'} messages queued at the start; max unavailable ${d.maxUnavailable} of ${d.budget}`,
      ].filter((x) => x !== '').join('; ');
      rows.push({ id: 'rolling-update', measure, goal, measured: `${d.completeMs === null ? 'not done' : ms(d.completeMs)}, max unavailable ${d.maxUnavailable}/${d.budget}`,
        upstream: `${ms(ru.upstream.completeMs)}, max unavailable ${ru.upstream.maxUnavailable}`, ratio: times(ratio), load: loadOf(r, 'rollingUpdate'), met, cause: met ? '' : facts });
    }
  }
  // Resync.
  {
    const s = r.resync ?? null;
    const measure = `resync of ${s?.daemonSets ?? 20} converged DaemonSets at ${s?.nodes ?? 5000} nodes`;
    const goal = '≤ 2 node LISTs, 0 writes';
    if (!s) rows.push({ id: 'resync', measure, goal, measured: '—', upstream: '', ratio: '', load: '', met: null, cause: notMeasured(r, 'bench/scale.ts', ['scale']) });
    else {
      const met = s.nodeLists <= 2 && s.writes === 0 && s.failedRecords === 0;
      const writes = Object.entries(s.byRequest).filter(([k]) => !k.startsWith('GET ')).map(([k, v]) => `${k} ×${v.count}`).join(', ');
      rows.push({ id: 'resync', measure, goal, measured: `${s.nodeLists} node LISTs (${s.nodeListPages} pages), ${s.writes} writes; ${s.requests} requests, ${kb(s.decodedBytes)}, ${ms(s.ms)}`,
        upstream: '', ratio: '', load: loadOf(r, 'resync'), met,
        cause: met ? '' : [`${s.keys} keys in ${s.batches} batches`, s.failedRecords > 0 ? `${s.failedRecords} records failed` : '', writes ? `writes: ${writes}` : '', `most bytes: ${topRequests({ requests: s.requests, connections: 0, wireBytes: s.wireBytes, decodedBytes: s.decodedBytes, byRequest: s.byRequest })}`].filter((x) => x !== '').join('; ') });
    }
  }
  return rows;
}
