/**
 * Deploy-time configuration: CDK context (cdk.json "context" or `cdk deploy -c daemonless:key=value`)
 * read into one typed, validated StackConfig. Every problem is reported at once, in one error.
 *
 * Values given with `-c` arrive as strings, values from cdk.json as JSON; both are accepted.
 */
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { DELAY_FORWARD_MAX_CONCURRENCY } from './constructs/defaults.js';
import type { ManagedResource } from '../lib/core/index.js';

export type { ManagedResource };

/** Every context key this app reads starts with this prefix; unknown keys with it are errors. */
export const CONTEXT_PREFIX = 'daemonless:';

/** How daemon pods are pinned to their node (see docs/rules.md §19). */
export type PlacementMode = 'affinity' | 'nodeName';
export type LogLevel = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';

export interface VpcPlacementConfig {
  readonly vpcId: string;
  readonly subnetIds: readonly string[];
  /** Empty: the stack creates one security group per function. */
  readonly securityGroupIds: readonly string[];
}

export interface EksConfig {
  readonly clusterName: string;
  /** API server endpoint, `aws eks describe-cluster --query cluster.endpoint`. */
  readonly endpoint: string;
  /** Base64 PEM CA bundle, `aws eks describe-cluster --query cluster.certificateAuthority.data`. */
  readonly caData: string;
}

export interface StackConfig {
  readonly stackName: string;
  readonly managedResource: ManagedResource;
  readonly placementMode: PlacementMode;
  /**
   * EKS: IAM authentication through access entries (all three set). Absent: a kubeconfig stored in
   * Secrets Manager.
   */
  readonly eks: EksConfig | undefined;
  readonly maxReceiveCount: number;
  readonly reconcileTimeoutSeconds: number;
  readonly reconcileMemoryMb: number;
  readonly reconcileBatchSize: number;
  readonly reconcileMaxConcurrency: number;
  /** undefined: no reservation. */
  readonly reconcileReservedConcurrency: number | undefined;
  readonly webhookReservedConcurrency: number | undefined;
  readonly resyncReservedConcurrency: number | undefined;
  readonly resyncIntervalMinutes: number;
  readonly logRetentionDays: RetentionDays;
  readonly logLevel: LogLevel;
  readonly queueAgeAlarmSeconds: number;
  readonly alarmTopic: boolean;
  readonly alarmEmail: string | undefined;
  readonly vpc: VpcPlacementConfig | undefined;
}

/** Thrown by parseStackConfig; `problems` holds one line per bad or conflicting value. */
export class ConfigError extends Error {
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super(`Invalid daemonless configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n` +
      problems.map((p) => `  - ${p}`).join('\n'));
    this.name = 'ConfigError';
    this.problems = problems;
  }
}


export const KNOWN_KEYS = [
  'stackName', 'managedResource', 'placementMode', 'eksClusterName', 'eksEndpoint', 'eksCaData', 'maxReceiveCount',
  'reconcileTimeoutSeconds', 'reconcileMemoryMb', 'reconcileBatchSize', 'reconcileMaxConcurrency',
  'reconcileReservedConcurrency', 'webhookReservedConcurrency', 'resyncReservedConcurrency',
  'resyncIntervalMinutes', 'logRetentionDays', 'logLevel', 'queueAgeAlarmSeconds', 'alarmTopic',
  'alarmEmail', 'vpcId', 'subnetIds', 'securityGroupIds',
] as const;
type Key = (typeof KNOWN_KEYS)[number];

/** RetentionDays is a numeric enum; its values are the retention periods CloudWatch Logs accepts. */
const RETENTION_VALUES: readonly number[] = Object.values(RetentionDays).filter((v): v is number => typeof v === 'number');

/** Reads the daemonless keys out of a CDK context record (app.node.getAllContext()). */
export function parseStackConfig(context: Readonly<Record<string, unknown>>): StackConfig {
  const problems: string[] = [];
  const raw = new Map<Key, unknown>();
  for (const [fullKey, value] of Object.entries(context)) {
    if (!fullKey.startsWith(CONTEXT_PREFIX)) continue;
    const key = fullKey.slice(CONTEXT_PREFIX.length);
    if ((KNOWN_KEYS as readonly string[]).includes(key)) raw.set(key as Key, value);
    else problems.push(`${fullKey}: unknown key (known: ${KNOWN_KEYS.join(', ')})`);
  }
  const r = new Reader(raw, problems);

  const eksClusterName = r.string('eksClusterName', /^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$/,
    'an EKS cluster name (1-100 letters, digits, "-" or "_", starting with a letter or digit)');
  const managedResource = r.oneOf('managedResource', ['native', 'crd'] as const, eksClusterName === undefined ? 'native' : 'crd');
  if (eksClusterName !== undefined && managedResource === 'native') {
    problems.push(`${CONTEXT_PREFIX}managedResource: "native" cannot be used with an EKS cluster: EKS runs the built-in ` +
      'DaemonSet controller, which cannot be turned off and would fight this one; use "crd"');
  }
  const reconcileMaxConcurrency = r.int('reconcileMaxConcurrency', 2, 1000, 5);
  const reconcileReservedConcurrency = r.optionalInt('reconcileReservedConcurrency', 1, 10_000, undefined);
  if (reconcileReservedConcurrency !== undefined &&
      reconcileReservedConcurrency < reconcileMaxConcurrency + DELAY_FORWARD_MAX_CONCURRENCY) {
    problems.push(`${CONTEXT_PREFIX}reconcileReservedConcurrency: ${reconcileReservedConcurrency} is below ` +
      `reconcileMaxConcurrency + ${DELAY_FORWARD_MAX_CONCURRENCY} (${reconcileMaxConcurrency + DELAY_FORWARD_MAX_CONCURRENCY}); ` +
      'throttled SQS batches count as receives and end up in the dead-letter queue');
  }
  const eksEndpoint = r.string('eksEndpoint', /^https:\/\/[A-Za-z0-9.-]+(:\d+)?\/?$/, 'an https:// API server endpoint');
  const eksCaData = r.string('eksCaData', /^[A-Za-z0-9+/]+={0,2}$/, 'base64 CA data');
  const eksValues = [eksClusterName, eksEndpoint, eksCaData];
  if (eksValues.some((v) => v !== undefined) && eksValues.some((v) => v === undefined)) {
    for (const key of ['eksClusterName', 'eksEndpoint', 'eksCaData'] as const) {
      if (!raw.has(key)) problems.push(`${CONTEXT_PREFIX}${key}: required when any of eksClusterName, eksEndpoint, eksCaData is set`);
    }
  }
  const alarmEmail = r.string('alarmEmail', /^[^@\s]+@[^@\s]+\.[^@\s]+$/, 'an e-mail address');

  const vpcId = r.string('vpcId', /^vpc-[0-9a-f]{8,17}$/, 'a VPC id (vpc-…)');
  const subnetIds = r.list('subnetIds', /^subnet-[0-9a-f]{8,17}$/, 'subnet ids (subnet-…)');
  const securityGroupIds = r.list('securityGroupIds', /^sg-[0-9a-f]{8,17}$/, 'security group ids (sg-…)');
  if (vpcId !== undefined && subnetIds.length === 0) {
    problems.push(`${CONTEXT_PREFIX}subnetIds: required when ${CONTEXT_PREFIX}vpcId is set`);
  }
  if (vpcId === undefined && (subnetIds.length > 0 || securityGroupIds.length > 0)) {
    problems.push(`${CONTEXT_PREFIX}vpcId: required when subnetIds or securityGroupIds are set`);
  }

  const config: StackConfig = {
    stackName: r.string('stackName', /^[A-Za-z][A-Za-z0-9-]{0,127}$/, 'a CloudFormation stack name') ?? 'Daemonless',
    managedResource,
    placementMode: r.oneOf('placementMode', ['affinity', 'nodeName'] as const, 'affinity'),
    eks: eksClusterName !== undefined && eksEndpoint !== undefined && eksCaData !== undefined
      ? { clusterName: eksClusterName, endpoint: eksEndpoint, caData: eksCaData }
      : undefined,
    maxReceiveCount: r.int('maxReceiveCount', 1, 1000, 5),
    reconcileTimeoutSeconds: r.int('reconcileTimeoutSeconds', 10, 900, 60),
    reconcileMemoryMb: r.int('reconcileMemoryMb', 128, 10_240, 512),
    reconcileBatchSize: r.int('reconcileBatchSize', 1, 10, 10),
    reconcileMaxConcurrency,
    reconcileReservedConcurrency,
    webhookReservedConcurrency: r.optionalInt('webhookReservedConcurrency', 1, 10_000, 10),
    resyncReservedConcurrency: r.optionalInt('resyncReservedConcurrency', 1, 10_000, 1),
    resyncIntervalMinutes: r.int('resyncIntervalMinutes', 1, 1440, 5),
    logRetentionDays: r.intIn('logRetentionDays', RETENTION_VALUES, RetentionDays.ONE_MONTH) as RetentionDays,
    logLevel: r.oneOf('logLevel', ['DEBUG', 'INFO', 'WARN', 'ERROR'] as const, 'INFO'),
    queueAgeAlarmSeconds: r.int('queueAgeAlarmSeconds', 60, 1_209_600, 600),
    alarmTopic: r.bool('alarmTopic', true) || alarmEmail !== undefined,
    alarmEmail,
    vpc: vpcId === undefined ? undefined : { vpcId, subnetIds, securityGroupIds },
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/** Small typed readers; each records a problem and returns the default instead of throwing. */
class Reader {
  constructor(private readonly raw: ReadonlyMap<Key, unknown>, private readonly problems: string[]) {}

  private bad(key: Key, value: unknown, expected: string): void {
    this.problems.push(`${CONTEXT_PREFIX}${key}: ${JSON.stringify(value)} is not ${expected}`);
  }

  string(key: Key, pattern: RegExp, expected: string): string | undefined {
    const value = this.raw.get(key);
    if (value === undefined) return undefined;
    if (typeof value !== 'string' || !pattern.test(value)) {
      this.bad(key, value, expected);
      return undefined;
    }
    return value;
  }

  oneOf<const T extends string>(key: Key, allowed: readonly T[], fallback: T): T {
    const value = this.raw.get(key);
    if (value === undefined) return fallback;
    if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T;
    this.bad(key, value, `one of ${allowed.join(', ')}`);
    return fallback;
  }

  private toInt(value: unknown): number | undefined {
    const n = typeof value === 'number' ? value : typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value) : NaN;
    return Number.isSafeInteger(n) ? n : undefined;
  }

  int(key: Key, min: number, max: number, fallback: number): number {
    const value = this.raw.get(key);
    if (value === undefined) return fallback;
    const n = this.toInt(value);
    if (n === undefined || n < min || n > max) {
      this.bad(key, value, `an integer from ${min} to ${max}`);
      return fallback;
    }
    return n;
  }

  /** Like int, but "none" (or null) means "no value". */
  optionalInt(key: Key, min: number, max: number, fallback: number | undefined): number | undefined {
    const value = this.raw.get(key);
    if (value === undefined) return fallback;
    if (value === null || value === 'none') return undefined;
    const n = this.toInt(value);
    if (n === undefined || n < min || n > max) {
      this.bad(key, value, `an integer from ${min} to ${max}, or "none"`);
      return fallback;
    }
    return n;
  }

  intIn(key: Key, allowed: readonly number[], fallback: number): number {
    const value = this.raw.get(key);
    if (value === undefined) return fallback;
    const n = this.toInt(value);
    if (n === undefined || !allowed.includes(n)) {
      this.bad(key, value, `one of ${allowed.join(', ')}`);
      return fallback;
    }
    return n;
  }

  bool(key: Key, fallback: boolean): boolean {
    const value = this.raw.get(key);
    if (value === undefined) return fallback;
    if (value === true || value === 'true') return true;
    if (value === false || value === 'false') return false;
    this.bad(key, value, 'true or false');
    return fallback;
  }

  /** A JSON array of strings, or a comma-separated string. */
  list(key: Key, itemPattern: RegExp, expected: string): string[] {
    const value = this.raw.get(key);
    if (value === undefined) return [];
    const items = Array.isArray(value) ? value
      : typeof value === 'string' ? value.split(',').map((s) => s.trim()).filter((s) => s !== '')
        : undefined;
    if (items === undefined || items.some((i) => typeof i !== 'string' || !itemPattern.test(i))) {
      this.bad(key, value, `a list of ${expected}`);
      return [];
    }
    return items as string[];
  }
}
