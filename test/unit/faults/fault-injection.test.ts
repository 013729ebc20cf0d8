/**
 * Fault injection (quality-goals.md "Reliability and security"): randomized runs of the real
 * reconcile shell against the in-memory API server with injected API failures, lost responses,
 * lists cut short, functions dying between two writes, and duplicated, reordered and replayed
 * messages (direct and through processRecord + the in-process FIFO queue). Most runs read through
 * the list cache (IMPL-10) of one or more containers, restarted now and then, whose watches are
 * late, break, stall, are answered 410 or repeat events. After every step and every pass the
 * invariants of architecture.md are checked (see harness.ts); fast-check shrinks a failing run and
 * prints its seed.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { arbScenario } from './arbitraries.js';
import { addCacheCounts, describeFailure, noCacheCounts, runScenario, type Scenario } from './harness.js';

/** Faults injected, passes made and cached reads over a property's runs (so the runs cannot quietly go fault-free or cache-free). */
function tally() {
  const faults: Record<string, number> = {};
  const totals = { runs: 0, cachedRuns: 0, passes: 0, failedPasses: 0, dlq: 0, restarts: 0 };
  const cache = noCacheCounts();
  const holds = async (s: Scenario): Promise<void> => {
    const r = await runScenario(s);
    totals.runs += 1;
    totals.passes += r.stats.passes;
    totals.failedPasses += r.stats.failedPasses;
    totals.dlq += r.stats.dlq;
    totals.restarts += r.stats.restarts;
    if (r.stats.cache !== null) {
      totals.cachedRuns += 1;
      addCacheCounts(cache, r.stats.cache);
    }
    for (const [k, n] of Object.entries(r.stats.faults)) faults[k] = (faults[k] ?? 0) + n;
    if (r.violations.length > 0) throw new Error(describeFailure(s, r));
  };
  return { faults, totals, cache, holds };
}

/** The list cache was read both ways, waited, ran out of waiting, dropped, and containers restarted. */
function expectCacheUsed(t: ReturnType<typeof tally>, least: number): void {
  expect(t.totals.cachedRuns).toBeGreaterThan(t.totals.runs * 0.8);
  for (const kind of ['nodes', 'pods'] as const) {
    for (const k of ['hits', 'waited', 'lists', 'waitsRunOut', 'drops'] as const) expect(t.cache[kind][k], `${kind} cache ${k}`).toBeGreaterThan(least / 10);
    expect(t.cache[kind].hits + t.cache[kind].lists, `${kind} cache reads`).toBeGreaterThan(least * 10);
  }
  expect(t.totals.restarts).toBeGreaterThan(least);
  for (const kind of WATCH_FAULT_KINDS) expect(t.faults[kind] ?? 0, `fault kind ${kind}`).toBeGreaterThan(least / 10);
  // The caches' own probes and lists failed too (429 … expired continue tokens).
  for (const kind of ['429', '503', 'dropped', 'restart', 'expired-continue']) expect(t.faults[`cache-${kind}`] ?? 0, `fault kind cache-${kind}`).toBeGreaterThan(least / 10);
}

/** About 15 s of CPU for both properties; the margin is for a machine shared with other test runs. */
const TIMEOUT = 600_000;

const FAULT_KINDS = ['429', '500', '503', '504', 'timeout', 'dropped', 'restart', 'lost-response', 'expired-continue', 'died'];
const WATCH_FAULT_KINDS = ['watch-end', 'watch-fail', 'watch-gone', 'watch-stall', 'watch-duplicate', 'watch-replay', 'watch-refused', 'watch-410-start', 'compact'];

describe('fault injection: invariants under API faults, dying functions and replayed messages', () => {
  it('direct deliveries (duplicated, reordered, concurrent across keys, failed ones redelivered)', async () => {
    const t = tally();
    await fc.assert(fc.asyncProperty(arbScenario('direct'), t.holds), { numRuns: 700, seed: 20240501 });
    expect(t.totals.runs).toBe(700);
    for (const kind of FAULT_KINDS) expect(t.faults[kind] ?? 0, `fault kind ${kind}`).toBeGreaterThan(10);
    expect(t.totals.failedPasses).toBeGreaterThan(t.totals.runs);
    expectCacheUsed(t, 100);
  }, TIMEOUT);

  it('deliveries through processRecord and the in-process FIFO queue (dedup, replays, requeues, DLQ)', async () => {
    const t = tally();
    await fc.assert(fc.asyncProperty(arbScenario('queue'), t.holds), { numRuns: 300, seed: 20240502 });
    expect(t.totals.runs).toBe(300);
    for (const kind of FAULT_KINDS) expect(t.faults[kind] ?? 0, `fault kind ${kind}`).toBeGreaterThan(5);
    expect(t.totals.failedPasses).toBeGreaterThan(t.totals.runs);
    expectCacheUsed(t, 50);
  }, TIMEOUT);
});
