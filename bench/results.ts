/** The shape of bench/results/latest.json: what run-all.ts writes and report.ts renders. */
import type { CostResult } from './cost.js';
import type { ConvergeResult } from './converge.js';
import type { ConvergedResult } from './converged-reconcile.js';
import type { BundleResult } from './lambda-bundle.js';
import type { MachineFacts } from './lib/machine.js';
import type { NodeJoinResult } from './node-join.js';
import type { RollingResult } from './rolling-update.js';

export interface AllResults {
  readonly machine: MachineFacts;
  readonly mode: 'quick' | 'full';
  readonly durationSeconds: number;
  readonly converge: ConvergeResult | null;
  readonly rollingUpdate: RollingResult | null;
  readonly nodeJoin: NodeJoinResult | null;
  readonly convergedReconcile: ConvergedResult | null;
  readonly lambdaBundle: BundleResult | null;
  readonly cost: CostResult;
  readonly errors: Record<string, string>;
}
