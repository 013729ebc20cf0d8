/** The shape of bench/results/latest.json: what run-all.ts writes and report.ts renders. */
import type { CostResult } from './cost.js';
import type { ConvergeResult, ConvergeRun } from './converge.js';
import type { ConvergedResult } from './converged-reconcile.js';
import type { BundleResult } from './lambda-bundle.js';
import type { MachineFacts } from './lib/machine.js';
import type { NodeJoinResult } from './node-join.js';
import type { RollingResult } from './rolling-update.js';
import type { JoinCostResult, ResyncResult } from './scale.js';

/** Which part of a run a load average was taken after. */
export type LoadPart = 'converge' | 'convergeNodeName' | 'rollingUpdate' | 'nodeJoin' | 'joinCost' | 'resync';

export interface AllResults {
  readonly machine: MachineFacts;
  readonly mode: 'quick' | 'full';
  readonly durationSeconds: number;
  readonly converge: ConvergeResult | null;
  /** daemonless converging the same DaemonSet with `nodeName` placement on a plane of its own (absent in older results). */
  readonly convergeNodeName?: ConvergeRun | null;
  readonly rollingUpdate: RollingResult | null;
  readonly nodeJoin: NodeJoinResult | null;
  /** Controller requests and bytes per node join at two cluster sizes (absent in older results). */
  readonly joinCost?: JoinCostResult | null;
  /** One resync of converged DaemonSets through the resync and reconcile handlers (absent in older results). */
  readonly resync?: ResyncResult | null;
  readonly convergedReconcile: ConvergedResult | null;
  readonly lambdaBundle: BundleResult | null;
  readonly cost: CostResult;
  readonly errors: Record<string, string>;
  /** The machine's 1-minute load average right after each part (absent in older results). */
  readonly loads?: Partial<Record<LoadPart, number>>;
}
