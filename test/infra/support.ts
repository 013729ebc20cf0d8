import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { buildApp } from '../../infra/build-app.js';
import type { DaemonlessStack } from '../../infra/controller-stack.js';

export interface Synthesized {
  readonly stack: DaemonlessStack;
  readonly template: Template;
  readonly json: TemplateJson;
}

export interface TemplateJson {
  readonly Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }>;
  readonly Outputs?: Record<string, { Value: unknown }>;
}

/**
 * The app's stack for the given daemonless:* context, without esbuild bundling (the synth test
 * bundles once for real). Template.fromStack runs the cdk-nag plugin and throws on any finding.
 */
export function synth(context: Record<string, unknown> = {}): Synthesized {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [], ...context } });
  const stack = buildApp(app);
  const template = Template.fromStack(stack);
  return { stack, template, json: template.toJSON() as TemplateJson };
}

export const EKS_CONTEXT = {
  'daemonless:eksClusterName': 'prod',
  'daemonless:eksEndpoint': 'https://ABCDEF.gr7.eu-west-1.eks.amazonaws.com',
  'daemonless:eksCaData': 'TFMwdExTMUNSVWRKVGc9PQ==',
} as const;

export const FULL_CONTEXT = {
  ...EKS_CONTEXT,
  'daemonless:vpcId': 'vpc-0123456789abcdef0',
  'daemonless:subnetIds': 'subnet-0123456789abcdef0,subnet-0123456789abcdef1',
  'daemonless:securityGroupIds': ['sg-0123456789abcdef0'],
  'daemonless:alarmEmail': 'ops@example.com',
  'daemonless:reconcileReservedConcurrency': '20',
} as const;

/** Logical id of the only resource of `type` whose id starts with `prefix`. */
export function logicalId(json: TemplateJson, type: string, prefix: string): string {
  const ids = Object.entries(json.Resources).filter(([id, r]) => r.Type === type && id.startsWith(prefix)).map(([id]) => id);
  if (ids.length !== 1) throw new Error(`expected one ${type} ${prefix}*, found ${ids.join(', ') || 'none'}`);
  return ids[0]!;
}

export interface Statement {
  Effect: string;
  Action: string | string[];
  Resource?: unknown;
  Principal?: unknown;
  Condition?: unknown;
}

/** Every policy statement in the template: IAM policies, role inline policies, resource policies, key policies. */
export function allStatements(json: TemplateJson): { resource: string; type: string; statement: Statement }[] {
  const found: { resource: string; type: string; statement: Statement }[] = [];
  const visit = (resource: string, type: string, value: unknown): void => {
    if (Array.isArray(value)) {
      value.forEach((v) => visit(resource, type, v));
    } else if (value !== null && typeof value === 'object') {
      const obj = value as Record<string, unknown>;
      if (Array.isArray(obj.Statement)) {
        for (const s of obj.Statement as Statement[]) found.push({ resource, type, statement: s });
      }
      for (const v of Object.values(obj)) visit(resource, type, v);
    }
  };
  for (const [id, r] of Object.entries(json.Resources)) visit(id, r.Type, r.Properties);
  return found;
}

export function actionsOf(s: Statement): string[] {
  return Array.isArray(s.Action) ? s.Action : [s.Action];
}
