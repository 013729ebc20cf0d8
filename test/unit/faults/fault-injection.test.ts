/**
 * Fault injection (quality-goals.md "Reliability and security"): randomized runs of the real
 * reconcile shell against the in-memory API server with injected API failures, lost responses,
 * lists cut short, functions dying between two writes, and duplicated, reordered and replayed
 * messages (direct and through processRecord + the in-process FIFO queue). After every step and
 * every pass the invariants of architecture.md are checked (see harness.ts); fast-check shrinks a
 * failing run and prints its seed.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { arbScenario } from './arbitraries.js';
import { describeFailure, runScenario, type Scenario } from './harness.js';

/** Faults injected and passes made over a property's runs (so the runs cannot quietly go fault-free). */
function tally() {
  const faults: Record<string, number> = {};
  const totals = { runs: 0, passes: 0, failedPasses: 0, dlq: 0 };
  const holds = async (s: Scenario): Promise<void> => {
    const r = await runScenario(s);
    totals.runs += 1;
    totals.passes += r.stats.passes;
    totals.failedPasses += r.stats.failedPasses;
    totals.dlq += r.stats.dlq;
    for (const [k, n] of Object.entries(r.stats.faults)) faults[k] = (faults[k] ?? 0) + n;
    if (r.violations.length > 0) throw new Error(describeFailure(s, r));
  };
  return { faults, totals, holds };
}

/** About 15 s of CPU for both properties; the margin is for a machine shared with other test runs. */
const TIMEOUT = 600_000;

const FAULT_KINDS = ['429', '500', '503', '504', 'timeout', 'dropped', 'restart', 'lost-response', 'expired-continue', 'died'];

describe('fault injection: invariants under API faults, dying functions and replayed messages', () => {
  it('direct deliveries (duplicated, reordered, concurrent across keys, failed ones redelivered)', async () => {
    const t = tally();
    await fc.assert(fc.asyncProperty(arbScenario('direct'), t.holds), { numRuns: 700, seed: 20240501 });
    expect(t.totals.runs).toBe(700);
    for (const kind of FAULT_KINDS) expect(t.faults[kind] ?? 0, `fault kind ${kind}`).toBeGreaterThan(10);
    expect(t.totals.failedPasses).toBeGreaterThan(t.totals.runs);
  }, TIMEOUT);

  it('deliveries through processRecord and the in-process FIFO queue (dedup, replays, requeues, DLQ)', async () => {
    const t = tally();
    await fc.assert(fc.asyncProperty(arbScenario('queue'), t.holds), { numRuns: 300, seed: 20240502 });
    expect(t.totals.runs).toBe(300);
    for (const kind of FAULT_KINDS) expect(t.faults[kind] ?? 0, `fault kind ${kind}`).toBeGreaterThan(5);
    expect(t.totals.failedPasses).toBeGreaterThan(t.totals.runs);
  }, TIMEOUT);
});
