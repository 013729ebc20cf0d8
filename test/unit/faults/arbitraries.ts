/** fast-check generators of fault-injection scenarios (see harness.ts for what the steps mean). */
import fc from 'fast-check';
import type { FaultRates } from '../../support/fault-cluster.js';
import type { CacheSpec, DsSpec, NodeSpec, Scenario, Step, Strategy } from './harness.js';

const arbStrategy: fc.Arbitrary<Strategy> = fc.constantFrom<Strategy>(
  { type: 'OnDelete' },
  { type: 'RollingUpdate', maxUnavailable: 1, maxSurge: 0 },
  { type: 'RollingUpdate', maxUnavailable: 2, maxSurge: 0 },
  { type: 'RollingUpdate', maxUnavailable: '50%', maxSurge: 0 },
  { type: 'RollingUpdate', maxUnavailable: 0, maxSurge: 1 },
  { type: 'RollingUpdate', maxUnavailable: 0, maxSurge: 2 },
  { type: 'RollingUpdate', maxUnavailable: 0, maxSurge: '50%' },
  { type: 'RollingUpdate', maxUnavailable: 0, maxSurge: '100%' },
);

const arbNodeSpec: fc.Arbitrary<NodeSpec> = fc.record({
  labelled: fc.boolean(),
  taint: fc.constantFrom<NodeSpec['taint']>('none', 'none', 'none', 'NoSchedule', 'NoExecute'),
});

const arbDsSpec: fc.Arbitrary<DsSpec> = fc.record({
  strategy: arbStrategy,
  minReady: fc.constantFrom(0, 0, 2, 5),
  grace: fc.constantFrom(0, 30),
  nodeSelector: fc.boolean(),
  tolerate: fc.boolean(),
  image: fc.constant(1),
});

const arbStep: fc.Arbitrary<Step> = fc.oneof(
  { weight: 10, arbitrary: fc.record({ kind: fc.constant('deliver' as const), keys: fc.array(fc.nat(5), { minLength: 1, maxLength: 5 }), concurrent: fc.boolean() }) },
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('tick' as const), count: fc.integer({ min: 1, max: 3 }) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('image' as const), ds: fc.nat(5), image: fc.integer({ min: 1, max: 3 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('strategy' as const), ds: fc.nat(5), strategy: arbStrategy }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('minReady' as const), ds: fc.nat(5), seconds: fc.constantFrom(0, 2, 5) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('selector' as const), ds: fc.nat(5), nodeSelector: fc.boolean(), tolerate: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('addNode' as const), spec: arbNodeSpec }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('removeNode' as const), index: fc.nat(9) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('changeNode' as const), index: fc.nat(9), spec: arbNodeSpec }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('podFault' as const), index: fc.nat(30), fault: fc.constantFrom('Failed' as const, 'Succeeded' as const, 'unready' as const) }) },
);

const arbRates: fc.Arbitrary<FaultRates> = fc.record({
  fail: fc.constantFrom(0, 0.02, 0.05, 0.1),
  lostResponse: fc.constantFrom(0, 0.05, 0.15, 0.3),
  expireContinue: fc.constantFrom(0, 0.1, 0.3, 0.6),
  restart: fc.constantFrom(0, 0, 0.01),
  die: fc.constantFrom(0, 0.1, 0.3),
  watchBreak: fc.constantFrom(0, 0.1, 0.3, 0.6),
  watchDuplicate: fc.constantFrom(0, 0.05, 0.2),
  compact: fc.constantFrom(0, 0.05, 0.2),
});

/**
 * The list cache: one container (every pass on the same warm cache) or several; events on time, a
 * little late or later than a read waits (WAIT_MIN_MS is 20); bookmarks soon after every change,
 * late, or none (a read whose collection did not change then waits its wait out and lists); a
 * window of a few changes (watches started after a slow list get 410) or plenty; a maximum age
 * that runs out within a run, or not.
 */
const arbCache: fc.Arbitrary<CacheSpec> = fc.record({
  containers: fc.constantFrom(1, 1, 2, 3),
  restart: fc.constantFrom(0, 0, 0.05, 0.3),
  network: fc.record({
    eventDelayMs: fc.constantFrom(0, 5, 15, 60),
    bookmarkMs: fc.constantFrom<number | null>(null, 1, 5, 50),
    callLatencyMs: fc.constantFrom(0, 0, 3, 30),
  }),
  window: fc.constantFrom(3, 20, 1000),
  maxAgeS: fc.constantFrom(10, 60, 300),
});

export const arbScenario = (delivery: Scenario['delivery']): fc.Arbitrary<Scenario> => fc.record({
  seed: fc.integer({ min: 1, max: 0x7fffffff }),
  nodes: fc.array(arbNodeSpec, { minLength: 1, maxLength: 8 }),
  daemonSets: fc.array(arbDsSpec, { minLength: 1, maxLength: 3 }),
  placement: fc.constantFrom('affinity' as const, 'nodeName' as const),
  pageSize: fc.integer({ min: 1, max: 4 }),
  bindAfterTicks: fc.integer({ min: 0, max: 2 }),
  readyAfterTicks: fc.integer({ min: 0, max: 2 }),
  rates: arbRates,
  delivery: fc.constant(delivery),
  cache: fc.oneof({ weight: 1, arbitrary: fc.constant(null) }, { weight: 9, arbitrary: arbCache }),
  steps: fc.array(arbStep, { minLength: 5, maxLength: 40 }),
});
