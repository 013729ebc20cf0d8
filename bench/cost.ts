/**
 * Monthly AWS cost of the deployed stack at 1,000 nodes, 20 DaemonSets and 10,000 cluster events a
 * day, computed from published on-demand prices (us-east-1) and written-down assumptions. Free
 * tiers are shown separately (many accounts have used them up elsewhere).
 *
 *   npx tsx bench/cost.ts [--events-per-day 10000] [--daemonsets 20] [--reconcile-ms 300] [--quick]
 */
import { fileURLToPath } from 'node:url';
import { parseFlags } from './lib/args.js';

/**
 * Prices, us-east-1, on-demand, as published on the AWS pricing pages (Lambda, SQS, Secrets
 * Manager, CloudWatch, X-Ray, KMS, EventBridge Scheduler), as known on 2026-11-28; none of these
 * list prices has changed since at least 2023. Not fetched (no network here): check before quoting.
 */
export const PRICES = {
  source: 'aws.amazon.com/{lambda,sqs,secrets-manager,cloudwatch,xray,kms,eventbridge}/pricing, us-east-1 list prices as known on 2026-11-28',
  lambdaArmGbSecond: 0.0000133334,
  lambdaRequestPerMillion: 0.20,
  sqsFifoPerMillion: 0.50,
  sqsStandardPerMillion: 0.40,
  secretPerMonth: 0.40,
  secretsApiPer10k: 0.05,
  logsIngestPerGb: 0.50,
  logsStoragePerGbMonth: 0.03,
  alarmPerMonth: 0.10,
  customMetricPerMonth: 0.30,
  xrayTracesPerMillion: 5.00,
  kmsKeyPerMonth: 1.00,
  schedulerPerMillion: 1.00,
  functionUrl: 0,
  freeTier: {
    lambdaGbSeconds: 400_000,
    lambdaRequests: 1_000_000,
    sqsRequests: 1_000_000,
    xrayTraces: 100_000,
    alarms: 10,
    customMetrics: 10,
    logsGb: 5,
    schedulerInvocations: 14_000_000,
  },
} as const;

export interface CostInputs {
  readonly nodes: number;
  readonly daemonSets: number;
  readonly eventsPerDay: number;
  /** Share of events that are node events (each fans out to every DaemonSet). */
  readonly nodeEventShare: number;
  readonly resyncMinutes: number;
  readonly webhookMs: number;
  readonly webhookMemoryMb: number;
  /** Average duration of one reconcile at this cluster size (measured by converged-reconcile). */
  readonly reconcileMs: number;
  readonly reconcileMemoryMb: number;
  readonly resyncMs: number;
  readonly resyncMemoryMb: number;
  /** Records per reconcile invocation (FIFO batch ≤ 10; 1 = worst case). */
  readonly recordsPerInvocation: number;
  /** Log bytes per invocation: platform START/END/REPORT + Powertools EMF blob + a few lines. */
  readonly logBytesPerInvocation: number;
  /** Idle long-poll ReceiveMessage calls by the Lambda pollers, per queue and minute. */
  readonly idlePollsPerQueuePerMinute: number;
  readonly queues: number;
  readonly secrets: number;
  readonly alarms: number;
  readonly customMetrics: number;
}

export const DEFAULT_INPUTS: CostInputs = {
  nodes: 1000,
  daemonSets: 20,
  eventsPerDay: 10_000,
  nodeEventShare: 0.1,
  resyncMinutes: 5,
  webhookMs: 40,
  webhookMemoryMb: 256,
  reconcileMs: 300,
  reconcileMemoryMb: 512,
  resyncMs: 150,
  resyncMemoryMb: 256,
  recordsPerInvocation: 1,
  logBytesPerInvocation: 2048,
  // Lambda's SQS pollers long-poll (20 s); a handful of pollers per event source mapping.
  idlePollsPerQueuePerMinute: 15,
  queues: 2,
  // The webhook path token; the kubeconfig secret only exists in "secret" cluster mode.
  secrets: 1,
  // 2 DLQs not empty, queue age, 3 × function errors (infra/constructs/controller-alarms.ts).
  alarms: 6,
  // Powertools metrics: ~19 metric names with the service dimension, + ColdStart per function.
  customMetrics: 22,
};

export interface CostRow {
  readonly item: string;
  readonly quantity: string;
  readonly monthlyUsd: number;
  readonly afterFreeTierUsd: number;
}

export interface CostResult {
  readonly inputs: CostInputs;
  readonly prices: typeof PRICES;
  readonly rows: CostRow[];
  readonly totalUsd: number;
  readonly totalAfterFreeTierUsd: number;
  readonly assumptions: string[];
}

const DAYS = 30;
const round = (x: number): number => Math.round(x * 100) / 100;
const fmt = (x: number): string => Math.round(x).toLocaleString('en-US');

export function computeCost(inputs: CostInputs = DEFAULT_INPUTS): CostResult {
  const p = PRICES;
  const f = p.freeTier;
  const events = inputs.eventsPerDay * DAYS;
  const nodeEvents = events * inputs.nodeEventShare;
  const otherEvents = events - nodeEvents;
  const resyncs = (DAYS * 24 * 60) / inputs.resyncMinutes;
  // Reconcile messages: one per non-node event, one fan-out message per node event which the
  // reconcile function expands into one key per DaemonSet, and one key per DaemonSet per resync.
  const fanoutKeys = nodeEvents * inputs.daemonSets;
  const resyncKeys = resyncs * inputs.daemonSets;
  const reconcileMessages = otherEvents + nodeEvents + fanoutKeys + resyncKeys;
  const reconciles = otherEvents + fanoutKeys + resyncKeys;
  const reconcileInvocations = reconcileMessages / inputs.recordsPerInvocation;

  const gbs = (invocations: number, ms: number, mbytes: number): number => invocations * (ms / 1000) * (mbytes / 1024);
  const webhookGbS = gbs(events, inputs.webhookMs, inputs.webhookMemoryMb);
  const reconcileGbS = reconciles * (inputs.reconcileMs / 1000) * (inputs.reconcileMemoryMb / 1024) + gbs(nodeEvents, 50, inputs.reconcileMemoryMb);
  const resyncGbS = gbs(resyncs, inputs.resyncMs, inputs.resyncMemoryMb);
  const totalGbS = webhookGbS + reconcileGbS + resyncGbS;
  const invocations = events + reconcileInvocations + resyncs;

  // SQS: every message is sent (batched by 10 where the code batches: fan-out and resync), received
  // and deleted (≈ 1 request each per invocation batch), plus idle long polls.
  const sends = otherEvents + nodeEvents + (fanoutKeys + resyncKeys) / 10;
  const receivesDeletes = 2 * reconcileInvocations;
  const idlePolls = inputs.idlePollsPerQueuePerMinute * inputs.queues * 60 * 24 * DAYS;
  const sqsRequests = sends + receivesDeletes + idlePolls;

  const logGb = (invocations * inputs.logBytesPerInvocation) / 1e9;
  const secretsCalls = 3 * 1000; // one read per cold start; ~100 cold starts a day

  const rows: CostRow[] = [];
  const row = (item: string, quantity: string, monthly: number, afterFree: number): void => {
    rows.push({ item, quantity, monthlyUsd: round(monthly), afterFreeTierUsd: round(Math.max(0, afterFree)) });
  };
  row('Lambda compute (arm64)', `${fmt(totalGbS)} GB-s (webhook ${fmt(webhookGbS)}, reconcile ${fmt(reconcileGbS)}, resync ${fmt(resyncGbS)})`,
    totalGbS * p.lambdaArmGbSecond, (totalGbS - f.lambdaGbSeconds) * p.lambdaArmGbSecond);
  row('Lambda requests', `${fmt(invocations)} invocations`, (invocations / 1e6) * p.lambdaRequestPerMillion, ((invocations - f.lambdaRequests) / 1e6) * p.lambdaRequestPerMillion);
  row('Function URL', `${fmt(events)} webhook requests`, 0, 0);
  row('SQS requests (FIFO price for all)', `${fmt(sqsRequests)} (sends ${fmt(sends)}, receive+delete ${fmt(receivesDeletes)}, idle polls ${fmt(idlePolls)})`,
    (sqsRequests / 1e6) * p.sqsFifoPerMillion, ((sqsRequests - f.sqsRequests) / 1e6) * p.sqsFifoPerMillion);
  row('Secrets Manager', `${inputs.secrets} secret(s), ~${fmt(secretsCalls)} GetSecretValue`,
    inputs.secrets * p.secretPerMonth + (secretsCalls / 1e4) * p.secretsApiPer10k, inputs.secrets * p.secretPerMonth + (secretsCalls / 1e4) * p.secretsApiPer10k);
  row('CloudWatch Logs', `${logGb.toFixed(2)} GB ingested, 1-month retention`, logGb * (p.logsIngestPerGb + p.logsStoragePerGbMonth),
    Math.max(0, logGb - f.logsGb) * p.logsIngestPerGb + logGb * p.logsStoragePerGbMonth);
  row('CloudWatch alarms', `${inputs.alarms} standard alarms`, inputs.alarms * p.alarmPerMonth, Math.max(0, inputs.alarms - f.alarms) * p.alarmPerMonth);
  row('CloudWatch custom metrics (Powertools EMF)', `${inputs.customMetrics} metrics`, inputs.customMetrics * p.customMetricPerMonth,
    Math.max(0, inputs.customMetrics - f.customMetrics) * p.customMetricPerMonth);
  row('X-Ray traces (Tracing.ACTIVE)', `${fmt(invocations)} traces (upper bound: every invocation sampled)`,
    (invocations / 1e6) * p.xrayTracesPerMillion, ((invocations - f.xrayTraces) / 1e6) * p.xrayTracesPerMillion);
  row('KMS key (alarm topic)', '1 customer managed key', p.kmsKeyPerMonth, p.kmsKeyPerMonth);
  row('EventBridge Scheduler (resync)', `${fmt(resyncs)} invocations`, (resyncs / 1e6) * p.schedulerPerMillion, ((resyncs - f.schedulerInvocations) / 1e6) * p.schedulerPerMillion);

  const assumptions = [
    `${fmt(inputs.eventsPerDay)} webhook events a day; ${Math.round(inputs.nodeEventShare * 100)} % are node events, each fanned out to all ${inputs.daemonSets} DaemonSets; the rest map to one DaemonSet.`,
    `Resync every ${inputs.resyncMinutes} min enqueues all ${inputs.daemonSets} DaemonSets (${fmt(resyncKeys)} keys/month).`,
    `One reconcile per message (no collapsing in batches: worst case); ${fmt(reconciles)} reconciles/month of ${inputs.reconcileMs} ms at ${inputs.reconcileMemoryMb} MB (the converged-reconcile bench's pass time at ${fmt(inputs.nodes)} nodes).`,
    `Webhook ${inputs.webhookMs} ms at ${inputs.webhookMemoryMb} MB (parse + one SendMessage); resync ${inputs.resyncMs} ms at ${inputs.resyncMemoryMb} MB.`,
    `SQS: FIFO price applied to every request (the delay queue is standard and cheaper); ${inputs.idlePollsPerQueuePerMinute} idle long polls per queue and minute by the Lambda pollers.`,
    `Logs: ${inputs.logBytesPerInvocation} bytes per invocation (START/END/REPORT, one EMF metrics blob, a log line).`,
    'X-Ray: every invocation counted as a recorded trace (the default sampling rule records 1/s + 5 %, so this is an upper bound).',
    'Not included: data transfer (the API server calls go out to the cluster endpoint: in-region traffic to EKS public endpoints is billed as internet egress only when leaving the region), NAT gateways or VPC endpoints if the functions run in a VPC (a NAT gateway alone is ~$33/month + $0.045/GB), the EKS cluster itself.',
  ];
  const totalUsd = round(rows.reduce((s, r) => s + r.monthlyUsd, 0));
  const totalAfterFreeTierUsd = round(rows.reduce((s, r) => s + r.afterFreeTierUsd, 0));
  return { inputs, prices: PRICES, rows, totalUsd, totalAfterFreeTierUsd, assumptions };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const flags = parseFlags();
  const r = computeCost({
    ...DEFAULT_INPUTS,
    eventsPerDay: flags.number('events-per-day', DEFAULT_INPUTS.eventsPerDay),
    daemonSets: flags.number('daemonsets', DEFAULT_INPUTS.daemonSets),
    reconcileMs: flags.number('reconcile-ms', DEFAULT_INPUTS.reconcileMs),
  });
  process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
}
