import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { charts, renderChart } from '../../../bench/charts.js';
import { goalRows } from '../../../bench/goals.js';
import { formatHistoryLine, historyEntry, HISTORY_FILE, parseHistory, previousRun } from '../../../bench/history.js';
import { writeResults } from '../../../bench/render.js';
import { renderMarkdown } from '../../../bench/report.js';
import type { AllResults } from '../../../bench/results.js';

const fixture = (): AllResults => JSON.parse(readFileSync(join(import.meta.dirname, 'fixtures/results.json'), 'utf8')) as AllResults;

/** An earlier full run of the same size: the fixture with other numbers. */
function earlier(): AllResults {
  const r = fixture();
  return {
    ...r,
    machine: { ...r.machine, date: '2026-11-28T02:50:31.437Z', gitCommit: '6c28302' },
    converge: r.converge && { ...r.converge, daemonless: { ...r.converge.daemonless, allCreatedMs: 16_000 } },
    joinCost: null,
    resync: null,
  };
}

/** Well-formed XML: every tag closed in order, attributes quoted; returns the element names in document order. */
function xmlElements(svg: string): string[] {
  const names: string[] = [];
  const stack: string[] = [];
  const text = svg.replace(/<\?xml[^>]*\?>/, '');
  for (const m of text.matchAll(/<(\/?)([a-zA-Z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>/g)) {
    const [, close, name = '', , selfClose] = m;
    if (close) {
      expect(stack.pop(), `</${name}> closes the open element`).toBe(name);
    } else {
      names.push(name);
      if (!selfClose) stack.push(name);
    }
  }
  expect(stack).toEqual([]);
  // No stray markup outside the matched tags.
  expect(text.replace(/<(\/?)([a-zA-Z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>/g, '')).not.toMatch(/[<>]/);
  return names;
}

describe('scale goals', () => {
  it('has one row per goal, in the fixed order, with ratios, loads and verdicts from the results', () => {
    const rows = goalRows(fixture());
    expect(rows.map((g) => g.id)).toEqual(['join-eligible', 'join-create', 'join-requests-1000', 'join-requests-5000', 'join-bytes',
      'converge-created', 'converge-ready-affinity', 'converge-ready-nodename', 'rolling-update', 'resync']);
    const by = Object.fromEntries(rows.map((g) => [g.id, g]));
    expect(by['join-eligible']).toMatchObject({ measured: '20 ms / 200 ms', upstream: '25 ms / 150 ms', ratio: '0.80×', load: '3.4', met: true, cause: '' });
    expect(by['join-requests-1000']).toMatchObject({ measure: expect.stringContaining('1000 nodes'), met: true });
    expect(by['join-requests-1000']?.measured).toBe('3 (1.5 writes) / 10.0 kB; until idle 5 requests');
    expect(by['join-requests-5000']).toMatchObject({ met: false, cause: expect.stringContaining('GET /api/v1/nodes') });
    expect(by['join-bytes']).toMatchObject({ ratio: '1.50×', met: false });
    expect(by['converge-created']).toMatchObject({ ratio: '0.75×', met: true });
    expect(by['converge-ready-nodename']).toMatchObject({ measured: '6500 ms', ratio: '0.65×', load: '3.2', met: true });
    expect(by['rolling-update']).toMatchObject({ ratio: '1.20×', met: false, cause: expect.stringContaining('30 reconciles') });
    expect(by.resync).toMatchObject({ met: false, measured: expect.stringContaining('20 node LISTs (200 pages), 0 writes') });
    // Every missed goal says what was measured about it.
    for (const g of rows.filter((x) => x.met === false)) expect(g.cause, g.id).not.toBe('');
  });

  it('marks goals of parts a run did not have as not measured, and names a failed part', () => {
    const r = { ...earlier(), convergeNodeName: undefined, errors: { scale: 'plane F failed to start' } };
    const by = Object.fromEntries(goalRows(r).map((g) => [g.id, g]));
    expect(by.resync).toMatchObject({ met: null, measured: '—', cause: 'failed: scale: plane F failed to start' });
    expect(by['converge-ready-nodename']).toMatchObject({ met: null, cause: expect.stringContaining('not in this run') });
  });
});

describe('report', () => {
  it('keeps the previous run beside each goal and the runs before in a history table', () => {
    const history = parseHistory(formatHistoryLine(historyEntry(earlier())));
    const md = renderMarkdown(fixture(), history);
    expect(md).toContain('Previous: the full run of 2026-11-28 at commit 6c28302.');
    const created = md.split('\n').find((l) => l.startsWith('| converge one DaemonSet on 100 nodes, all pods created |'));
    expect(created).toContain('| 3000 ms | 4000 ms | 0.75× |');
    expect(created).toContain('16.0 s (4.00×) ❌');
    expect(md).toContain('## History');
    expect(md).toMatch(/\| measure \| this run \(full, abc1234\) \| 2026-11-28 full, 100 nodes \(6c28302\) \|/);
    for (const f of ['node-join.svg', 'converge.svg', 'rolling-update.svg']) expect(md).toContain(`](${f})`);
    expect(md).toContain('## Cost of a node join');
    expect(md).toContain('| 3992 nodes: 200 s, 13694, 0 |');
    expect(md).toContain('## Resync: 20 converged DaemonSets at 5000 nodes');
    expect(md).toContain('| floor (bare client, same budget) | 9000 ms |');
    expect(md).toContain('| daemonless (nodeName, plane of its own) |');
  });

  it('compares with the latest earlier run of the same mode and size only', () => {
    const quick = { ...historyEntry(earlier()), mode: 'quick' as const, date: '2026-12-01T00:00:00.000Z' };
    const other = { ...historyEntry(earlier()), nodes: 40, date: '2026-12-02T00:00:00.000Z' };
    const later = { ...historyEntry(earlier()), date: '2026-12-04T00:00:00.000Z' };
    expect(previousRun([historyEntry(earlier()), quick, other, later], fixture())?.commit).toBe('6c28302');
    expect(previousRun([quick, other], fixture())).toBeUndefined();
  });

  it('rejects a history line that is not an entry, naming the line', () => {
    expect(() => parseHistory(`${formatHistoryLine(historyEntry(earlier()))}\n{"date": 1}\n`)).toThrow(/history\.jsonl:3: not a history entry/);
    expect(() => parseHistory('nope\n')).toThrow(/history\.jsonl:1: not JSON/);
  });
});

describe('charts', () => {
  it('draws valid SVG with a path for every measured series', () => {
    const cs = charts(fixture());
    expect(cs.map((c) => c.file)).toEqual(['node-join.svg', 'converge.svg', 'rolling-update.svg']);
    for (const c of cs) {
      const svg = renderChart(c);
      expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
      expect(xmlElements(svg)).toContain('path');
      for (const p of c.panels) {
        for (const s of p.series) {
          const path = svg.match(new RegExp(`<path class="series" data-series="${s.name.replace(/[()]/g, '\\$&')}" d="([^"]*)"`));
          expect(path?.[1], `${c.file}: ${s.name}`).toMatch(/^M[\d.,-]+(L[\d.,-]+)+$/);
        }
      }
    }
    const join = renderChart(cs[0]!);
    expect(join).toContain('data-series="daemonless, 5000 nodes (24 simulated)"');
    const converge = cs[1]!;
    expect(converge.panels[0]?.series.map((s) => s.name)).toEqual(['daemonless, affinity', 'daemonless, nodeName', 'upstream', 'floor (bare client)']);
    // The Ready panel ends at all pods Ready, 8 s, for daemonless.
    expect(converge.panels[0]?.series[0]?.points.at(-1)).toEqual([8, 100]);
    const rolling = renderChart(cs[2]!);
    expect(rolling).toContain('budget 10');
  });

  it('draws older results from their milestones and says what is missing', () => {
    const r = earlier();
    const old: AllResults = {
      ...r,
      converge: r.converge && { ...r.converge, daemonless: { ...r.converge.daemonless, series: undefined } },
      rollingUpdate: r.rollingUpdate && { ...r.rollingUpdate, daemonless: { ...r.rollingUpdate.daemonless, series: undefined }, upstream: { ...r.rollingUpdate.upstream, series: undefined }, floor: undefined },
      nodeJoin: r.nodeJoin && { ...r.nodeJoin, daemonless: { ...r.nodeJoin.daemonless, samples: undefined } },
    };
    const [join, converge, rolling] = charts(old).map(renderChart);
    expect(join).toContain('data-series="daemonless (p50/p90/p99/max)"');
    expect(converge).toContain('data-series="daemonless, affinity (milestones)"');
    expect(rolling).toContain('no time series in this run');
    for (const svg of [join!, converge!, rolling!]) xmlElements(svg);
  });
});

describe('result files', () => {
  let dir = '';
  afterEach(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });

  it('writes the report and charts, appends the run to the history once, and shows the run before it', () => {
    dir = mkdtempSync(join(tmpdir(), 'bench-results-'));
    writeFileSync(join(dir, HISTORY_FILE), formatHistoryLine(historyEntry(earlier())));
    const files = writeResults(fixture(), { appendHistory: true, dir });
    expect(files).toEqual(['latest.json', 'latest.md', 'node-join.svg', 'converge.svg', 'rolling-update.svg', HISTORY_FILE]);
    expect(writeResults(fixture(), { appendHistory: true, dir })).not.toContain(HISTORY_FILE);
    const history = parseHistory(readFileSync(join(dir, HISTORY_FILE), 'utf8'));
    expect(history.map((e) => e.commit)).toEqual(['6c28302', 'abc1234']);
    expect(readFileSync(join(dir, 'latest.md'), 'utf8')).toContain('16.0 s (4.00×) ❌');
    expect(JSON.parse(readFileSync(join(dir, 'latest.json'), 'utf8'))).toEqual(fixture());
  });
});

describe('node-join breakdown', () => {
  it('takes the node-scoped pass of each DaemonSet on each joined node that created its pod, from the node\'s create', async () => {
    const { nodePassBreakdown } = await import('../../../bench/node-join.js');
    const pass = (key: string, node: string | undefined, startedAt: number, at: number, fields: { created?: number; fullPassNeeded?: boolean } = {}) => ({
      key, missing: false, podsCreated: fields.created ?? 0, podsDeleted: 0, statusWritten: false, reads: 1, writes: 0, requeueAfterSeconds: null,
      startedAt, at, ...(node === undefined ? {} : { node, scope: 'node' as const }), ...(fields.fullPassNeeded ? { fullPassNeeded: true } : {}),
    });
    const created = new Map([['n1', 100], ['n2', 200]]);
    const b = nodePassBreakdown([
      pass('a', 'n1', 50, 60, { created: 1 }), // before the node's create
      pass('a', 'n1', 120, 125), // nothing to do yet
      pass('a', 'n1', 130, 150, { created: 1 }),
      pass('b', 'n1', 140, 170, { created: 1 }),
      pass('b', 'n1', 145, 146, { fullPassNeeded: true }),
      pass('a', 'n1', 300, 310, { created: 1 }), // a later pass of the same work
      pass('a', undefined, 210, 600, { created: 5 }), // a full pass
      pass('a', 'n2', 260, 290, { created: 1 }),
      pass('a', 'n9', 260, 270, { created: 1 }), // not a joined node
    ], created);
    expect(b.waitMs).toMatchObject({ samples: 3, p50Ms: 40, maxMs: 60 });
    expect(b.passMs).toMatchObject({ samples: 3, maxMs: 30 });
    expect(b.fullPassNeeded).toBe(1);
  });
});
