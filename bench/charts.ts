/**
 * SVG charts of a run's results, written beside latest.md: node-join latency distributions, pods
 * over time while converging, and the rolling update — daemonless, upstream and the floor on one
 * chart each. Scales, ticks and paths come from d3-scale and d3-shape; this module only lays them out.
 * Results without time series (older runs) are drawn from their milestones where they have them.
 */
import { scaleLinear, scaleLog } from 'd3-scale';
import { curveLinear, curveStepAfter, line } from 'd3-shape';
import type { ConvergeRun } from './converge.js';
import type { LatencyStats, NodeJoinRun } from './node-join.js';
import type { AllResults } from './results.js';

export interface Series {
  readonly name: string;
  readonly color: string;
  readonly dashed?: boolean;
  /** Drawn as steps (counts and empirical distributions); milestones and quantiles are joined by straight lines. */
  readonly step?: boolean;
  readonly points: readonly (readonly [number, number])[];
}

export interface Panel {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly xLog?: boolean;
  readonly series: readonly Series[];
  /** Horizontal reference lines (e.g. the rolling update's budget). */
  readonly rules?: readonly { readonly y: number; readonly label: string }[];
  /** Shown instead of the plot when no series has points. */
  readonly empty?: string;
}

export interface Chart {
  /** File name beside latest.md. */
  readonly file: string;
  readonly title: string;
  readonly panels: readonly Panel[];
}

const COLORS = { daemonless: '#1f77b4', nodeName: '#17becf', upstream: '#ff7f0e', floor: '#555555', larger: '#2ca02c' } as const;
const W = 760;
const PANEL_H = 300;
const M = { top: 62, right: 24, bottom: 46, left: 64 };

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const num = (x: number): string => String(Math.round(x * 10) / 10);

function renderPanel(p: Panel, top: number): string {
  const out: string[] = [];
  const x0 = M.left;
  const x1 = W - M.right;
  const y0 = top + M.top;
  const y1 = top + PANEL_H - M.bottom;
  out.push(`<text x="${x0}" y="${top + 22}" font-size="14" font-weight="bold">${esc(p.title)}</text>`);
  const pts = p.series.flatMap((s) => s.points);
  if (pts.length === 0) {
    out.push(`<rect x="${x0}" y="${y0}" width="${x1 - x0}" height="${y1 - y0}" fill="none" stroke="#ccc"/>`,
      `<text x="${(x0 + x1) / 2}" y="${(y0 + y1) / 2}" text-anchor="middle" font-size="13" fill="#666">${esc(p.empty ?? 'not measured in this run')}</text>`);
    return out.join('\n');
  }
  const xs = pts.map((q) => q[0]);
  const ys = [...pts.map((q) => q[1]), ...(p.rules ?? []).map((r) => r.y)];
  const xMax = Math.max(...xs);
  const x = p.xLog
    ? scaleLog().domain([Math.max(1, Math.min(...xs.filter((v) => v > 0))), Math.max(2, xMax)]).range([x0, x1]).nice().clamp(true)
    : scaleLinear().domain([0, Math.max(1, xMax)]).range([x0, x1]).nice();
  const y = scaleLinear().domain([0, Math.max(1, ...ys)]).range([y1, y0]).nice();
  // Grid and axes.
  for (const t of y.ticks(5)) {
    out.push(`<line x1="${x0}" x2="${x1}" y1="${num(y(t))}" y2="${num(y(t))}" stroke="#e5e5e5"/>`,
      `<text x="${x0 - 6}" y="${num(y(t) + 4)}" text-anchor="end" font-size="11">${esc(y.tickFormat(5)(t))}</text>`);
  }
  const xTicks = p.xLog ? x.ticks(6).filter((t) => [1, 2, 5].includes(Number(String(t)[0]))) : x.ticks(8);
  for (const t of xTicks) {
    out.push(`<line x1="${num(x(t))}" x2="${num(x(t))}" y1="${y1}" y2="${y1 + 4}" stroke="#333"/>`,
      `<text x="${num(x(t))}" y="${y1 + 17}" text-anchor="middle" font-size="11">${esc(x.tickFormat(p.xLog ? 6 : 8, p.xLog ? '~s' : undefined)(t))}</text>`);
  }
  out.push(`<line x1="${x0}" x2="${x1}" y1="${y1}" y2="${y1}" stroke="#333"/>`, `<line x1="${x0}" x2="${x0}" y1="${y0}" y2="${y1}" stroke="#333"/>`,
    `<text x="${(x0 + x1) / 2}" y="${y1 + 36}" text-anchor="middle" font-size="12">${esc(p.xLabel)}</text>`,
    `<text transform="translate(${x0 - 48},${(y0 + y1) / 2}) rotate(-90)" text-anchor="middle" font-size="12">${esc(p.yLabel)}</text>`);
  for (const r of p.rules ?? []) {
    out.push(`<line x1="${x0}" x2="${x1}" y1="${num(y(r.y))}" y2="${num(y(r.y))}" stroke="#d62728" stroke-dasharray="2 3"/>`,
      `<text x="${x1 - 4}" y="${num(y(r.y) - 4)}" text-anchor="end" font-size="11" fill="#d62728">${esc(r.label)}</text>`);
  }
  for (const s of p.series) {
    if (s.points.length === 0) continue;
    const path = line<readonly [number, number]>().curve(s.step ? curveStepAfter : curveLinear).x((q) => x(Math.max(q[0], p.xLog ? 1 : q[0]))).y((q) => y(q[1]));
    out.push(`<path class="series" data-series="${esc(s.name)}" d="${path(s.points) ?? ''}" fill="none" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`);
  }
  return [...out, legend(p.series, x0, top + 40)].join('\n');
}

/** One row of legend entries under the panel's title (wrapping when it is full). */
function legend(series: readonly Series[], left: number, top: number): string {
  const out: string[] = [];
  let lx = left;
  let ly = top;
  for (const s of series) {
    const label = s.points.length === 0 ? `${s.name} (not measured)` : s.name;
    const width = 34 + label.length * 6.2;
    if (lx + width > W - M.right && lx > left) { lx = left; ly += 15; }
    out.push(`<line x1="${num(lx)}" x2="${num(lx + 24)}" y1="${ly}" y2="${ly}" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`,
      `<text x="${num(lx + 28)}" y="${ly + 4}" font-size="11">${esc(label)}</text>`);
    lx += width + 12;
  }
  return out.join('\n');
}

export function renderChart(c: Chart): string {
  const h = 30 + c.panels.length * PANEL_H;
  const body = c.panels.map((p, i) => renderPanel(p, 30 + i * PANEL_H)).join('\n');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${h}" viewBox="0 0 ${W} ${h}" font-family="sans-serif">
<title>${esc(c.title)}</title>
<rect width="100%" height="100%" fill="white"/>
<text x="${M.left}" y="20" font-size="16" font-weight="bold">${esc(c.title)}</text>
${body}
</svg>
`;
}

/** An empirical CDF: (value, share of samples ≤ value); from the stats' quantiles when the samples were not kept. */
export function cdf(samples: readonly number[] | undefined, s: LatencyStats | undefined): [number, number][] {
  if (samples && samples.length > 0) {
    const sorted = [...samples].sort((a, b) => a - b);
    return sorted.map((v, i) => [Math.max(1, v), (i + 1) / sorted.length]);
  }
  if (!s || s.samples === 0) return [];
  return [[Math.max(1, s.p50Ms), 0.5], [Math.max(1, s.p90Ms), 0.9], [Math.max(1, s.p99Ms), 0.99], [Math.max(1, s.maxMs), 1]];
}

/** Pods over time of a converge run: its series, or its milestones (older results). */
export function convergePoints(run: ConvergeRun | null | undefined, nodes: number, which: 'created' | 'ready'): [number, number][] {
  if (!run) return [];
  if (run.series && run.series.length > 0) return run.series.map((p) => [p.t / 1000, which === 'created' ? p.created : p.ready]);
  const ms = which === 'created' ? run.createdMs : run.readyMs;
  const pts: [number, number][] = [[0, 0]];
  for (const m of ['50', '90', '99', '100']) {
    const t = ms[m];
    if (t !== null && t !== undefined) pts.push([t / 1000, Math.ceil((Number(m) / 100) * nodes)]);
  }
  return pts.length > 1 ? pts : [];
}

const milestoneNote = (run: ConvergeRun | null | undefined): string => (run && !(run.series && run.series.length > 0) ? ' (milestones)' : '');

export function charts(r: AllResults): Chart[] {
  const j = r.nodeJoin;
  const joinSeries = (pick: (x: NodeJoinRun) => [readonly number[] | undefined, LatencyStats]): Series[] => {
    const out: Series[] = [];
    for (const [name, run, color] of [['daemonless', j?.daemonless, COLORS.daemonless], ['upstream', j?.upstream, COLORS.upstream]] as const) {
      const [samples, stats] = run ? pick(run) : [undefined, undefined];
      out.push({ name: `${name}${run && !samples ? ' (p50/p90/p99/max)' : ''}`, color, step: samples !== undefined, points: run ? cdf(samples, stats) : [] });
    }
    const sizes = r.joinCost?.sizes ?? [];
    const large = sizes.length > 1 ? sizes[sizes.length - 1] : undefined;
    if (large) {
      const [samples, stats] = pick(large.run);
      out.push({ name: `daemonless, ${large.nodes} nodes (${large.simulatedNodes} simulated)`, color: COLORS.larger, dashed: true, step: samples !== undefined, points: cdf(samples, stats) });
    }
    return out;
  };
  const nodes = j?.baseNodes ?? 0;
  const joinChart: Chart = {
    file: 'node-join.svg',
    title: `Node join latency, ${j ? `${j.joins} joins into ${nodes} nodes, ${j.daemonSets} DaemonSets` : 'not measured'}`,
    panels: [
      { title: 'node eligible (Ready, untainted) → daemon pod', xLabel: 'ms (log scale)', yLabel: 'share of pods', xLog: true,
        series: joinSeries((x) => [x.samples?.eligibleToPod, x.eligibleToPod]) },
      { title: 'node create → daemon pod', xLabel: 'ms (log scale)', yLabel: 'share of pods', xLog: true,
        series: joinSeries((x) => [x.samples?.createToPod, x.createToPod]) },
    ],
  };

  const c = r.converge;
  const cn = c?.nodes ?? 0;
  const nn = r.convergeNodeName ?? null;
  const hasSeries = (run: ConvergeRun | null | undefined): boolean => (run?.series?.length ?? 0) > 0;
  const convergeSeries = (which: 'created' | 'ready'): Series[] => [
    { name: `daemonless, affinity${milestoneNote(c?.daemonless)}`, color: COLORS.daemonless, step: hasSeries(c?.daemonless), points: convergePoints(c?.daemonless, cn, which) },
    { name: `daemonless, nodeName${milestoneNote(nn)}`, color: COLORS.nodeName, step: hasSeries(nn), points: convergePoints(nn, cn, which) },
    { name: `upstream${milestoneNote(c?.upstream)}`, color: COLORS.upstream, step: hasSeries(c?.upstream), points: convergePoints(c?.upstream, cn, which) },
    { name: `floor (bare client)${milestoneNote(c?.floor)}`, color: COLORS.floor, dashed: true, step: hasSeries(c?.floor), points: convergePoints(c?.floor, cn, which) },
  ];
  const convergeChart: Chart = {
    file: 'converge.svg',
    title: `Converge one DaemonSet on ${cn} nodes`,
    panels: [
      { title: 'pods Ready', xLabel: 's since the DaemonSet was created', yLabel: 'pods', series: convergeSeries('ready') },
      { title: 'pods created', xLabel: 's since the DaemonSet was created', yLabel: 'pods', series: convergeSeries('created') },
    ],
  };

  const ru = r.rollingUpdate;
  const rollingPoints = (run: { series?: readonly { t: number; updatedReady: number; unavailable: number }[] } | null | undefined, which: 'updatedReady' | 'unavailable'): [number, number][] =>
    (run?.series ?? []).map((p) => [p.t / 1000, p[which]]);
  const rollingSeries = (which: 'updatedReady' | 'unavailable'): Series[] => [
    { name: 'daemonless', color: COLORS.daemonless, step: true, points: rollingPoints(ru?.daemonless, which) },
    { name: 'upstream', color: COLORS.upstream, step: true, points: rollingPoints(ru?.upstream, which) },
    { name: 'floor (bare client)', color: COLORS.floor, dashed: true, step: true, points: rollingPoints(ru?.floor, which) },
  ];
  const rollingChart: Chart = {
    file: 'rolling-update.svg',
    title: `Rolling update, ${ru?.nodes ?? 0} nodes, maxUnavailable ${ru?.maxUnavailable ?? '—'}`,
    panels: [
      { title: 'pods of the new revision Ready', xLabel: 's since the template changed', yLabel: 'pods', series: rollingSeries('updatedReady'),
        empty: ru ? 'no time series in this run (recorded from the next run on)' : 'not measured in this run' },
      { title: 'nodes without a Ready daemon pod', xLabel: 's since the template changed', yLabel: 'nodes', series: rollingSeries('unavailable'),
        rules: ru ? [{ y: ru.daemonless.budget, label: `budget ${ru.daemonless.budget}` }] : [],
        empty: ru ? 'no time series in this run (recorded from the next run on)' : 'not measured in this run' },
    ],
  };
  return [joinChart, convergeChart, rollingChart];
}
