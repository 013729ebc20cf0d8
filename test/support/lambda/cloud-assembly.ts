/**
 * What a `cdk synth` output directory says about the functions, queues, event source mappings and the
 * schedule: read from the template and the asset directories, the way CloudFormation and Lambda would
 * use them. Intrinsic functions are resolved against local stand-ins by the caller.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

type Intrinsic = string | { Ref: string } | { 'Fn::GetAtt': [string, string] } | Record<string, unknown>;

interface Resource { readonly Type: string; readonly Properties?: Record<string, unknown>; readonly Metadata?: Record<string, unknown> }
export interface Template { readonly Resources: Record<string, Resource>; readonly Outputs?: Record<string, { Value: unknown }> }

export interface SynthFunction {
  readonly logicalId: string;
  readonly codeDir: string;
  readonly handler: string;
  readonly runtime: string;
  readonly architectures: readonly string[];
  readonly timeoutSeconds: number;
  readonly memoryMb: number;
  readonly reservedConcurrency: number | undefined;
  /** Environment variables as the template gives them (values may be intrinsics). */
  readonly environment: Readonly<Record<string, Intrinsic>>;
}

export interface SynthQueue {
  readonly logicalId: string;
  readonly fifo: boolean;
  /** Queue attributes in SQS's CreateQueue form (strings), RedrivePolicy with the DLQ's logical id. */
  readonly attributes: Readonly<Record<string, string>>;
  readonly deadLetterQueue: { readonly logicalId: string; readonly maxReceiveCount: number } | undefined;
}

export interface SynthEventSource {
  readonly functionLogicalId: string;
  readonly queueLogicalId: string;
  readonly batchSize: number;
  readonly batchingWindowSeconds: number;
  readonly maxConcurrency: number;
  readonly reportBatchItemFailures: boolean;
}

export interface SynthSchedule {
  readonly functionLogicalId: string;
  readonly expression: string;
  /** The target input, with `<aws.scheduler.*>` placeholders. */
  readonly input: string;
}

export interface CloudAssembly {
  readonly template: Template;
  readonly functions: readonly SynthFunction[];
  readonly queues: readonly SynthQueue[];
  readonly eventSources: readonly SynthEventSource[];
  readonly schedules: readonly SynthSchedule[];
}

const refOf = (v: unknown): string | undefined => {
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if (typeof o.Ref === 'string') return o.Ref;
    if (Array.isArray(o['Fn::GetAtt'])) return String(o['Fn::GetAtt'][0]);
  }
  return undefined;
};

export function readCloudAssembly(outDir: string, stackName: string): CloudAssembly {
  const template = JSON.parse(readFileSync(join(outDir, `${stackName}.template.json`), 'utf8')) as Template;
  const entries = Object.entries(template.Resources);
  const functions = entries.filter(([, r]) => r.Type === 'AWS::Lambda::Function').map(([logicalId, r]): SynthFunction => {
    const p = r.Properties ?? {};
    const asset = r.Metadata?.['aws:asset:path'];
    if (typeof asset !== 'string') throw new Error(`${logicalId}: no aws:asset:path metadata (synthesized without bundling?)`);
    const codeDir = join(outDir, asset);
    if (!existsSync(join(codeDir, 'index.mjs'))) throw new Error(`${logicalId}: ${codeDir} has no index.mjs`);
    return {
      logicalId, codeDir,
      handler: String(p.Handler), runtime: String(p.Runtime), architectures: (p.Architectures as string[] | undefined) ?? ['x86_64'],
      timeoutSeconds: Number(p.Timeout ?? 3), memoryMb: Number(p.MemorySize ?? 128),
      reservedConcurrency: p.ReservedConcurrentExecutions === undefined ? undefined : Number(p.ReservedConcurrentExecutions),
      environment: ((p.Environment as { Variables?: Record<string, Intrinsic> } | undefined)?.Variables) ?? {},
    };
  });
  const queues = entries.filter(([, r]) => r.Type === 'AWS::SQS::Queue').map(([logicalId, r]): SynthQueue => {
    const p = r.Properties ?? {};
    const attributes: Record<string, string> = {};
    for (const key of ['FifoQueue', 'ContentBasedDeduplication', 'VisibilityTimeout', 'MessageRetentionPeriod', 'DelaySeconds', 'ReceiveMessageWaitTimeSeconds']) {
      if (p[key] !== undefined) attributes[key] = String(p[key]);
    }
    const redrive = p.RedrivePolicy as { deadLetterTargetArn?: unknown; maxReceiveCount?: unknown } | undefined;
    const dlq = redrive === undefined ? undefined : refOf(redrive.deadLetterTargetArn);
    return {
      logicalId, fifo: p.FifoQueue === true, attributes,
      deadLetterQueue: dlq === undefined ? undefined : { logicalId: dlq, maxReceiveCount: Number(redrive?.maxReceiveCount) },
    };
  });
  const eventSources = entries.filter(([, r]) => r.Type === 'AWS::Lambda::EventSourceMapping').map(([, r]): SynthEventSource => {
    const p = r.Properties ?? {};
    const fn = refOf(p.FunctionName);
    const queue = refOf(p.EventSourceArn);
    if (fn === undefined || queue === undefined) throw new Error(`event source mapping without function or queue: ${JSON.stringify(p)}`);
    return {
      functionLogicalId: fn, queueLogicalId: queue,
      batchSize: Number(p.BatchSize ?? 10),
      batchingWindowSeconds: Number(p.MaximumBatchingWindowInSeconds ?? 0),
      maxConcurrency: Number((p.ScalingConfig as { MaximumConcurrency?: number } | undefined)?.MaximumConcurrency ?? 1000),
      reportBatchItemFailures: ((p.FunctionResponseTypes as string[] | undefined) ?? []).includes('ReportBatchItemFailures'),
    };
  });
  const schedules = entries.filter(([, r]) => r.Type === 'AWS::Scheduler::Schedule').map(([, r]): SynthSchedule => {
    const p = r.Properties ?? {};
    const target = p.Target as { Arn: unknown; Input?: string };
    const fn = refOf(target.Arn);
    if (fn === undefined) throw new Error('schedule without a function target');
    return { functionLogicalId: fn, expression: String(p.ScheduleExpression), input: target.Input ?? '{}' };
  });
  return { template, functions, queues, eventSources, schedules };
}

/**
 * A function's environment with every intrinsic resolved by `resolve` (logical id → value); an
 * intrinsic `resolve` does not know is an error, so a new reference in the template cannot go unseen.
 */
export function resolveEnvironment(fn: SynthFunction, resolve: (logicalId: string, variable: string) => string | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(fn.environment).map(([k, v]) => {
    if (typeof v === 'string') return [k, v];
    const target = refOf(v);
    const value = target === undefined ? undefined : resolve(target, k);
    if (value === undefined) throw new Error(`${fn.logicalId}: no local value for ${k} = ${JSON.stringify(v)}`);
    return [k, value];
  }));
}
