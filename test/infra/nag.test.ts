import { Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { FULL_CONTEXT, synth } from './support.js';

const VPC_POLICY =
  'Annotation::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]';

interface Acknowledgement { readonly id: string; readonly reason: string; readonly path: string }

/** Every acknowledgement recorded with Validations.of(x).acknowledge(), with the construct it is on. */
function acknowledgements(root: IConstruct): Acknowledgement[] {
  return root.node.findAll().flatMap((c) => c.node.metadata
    .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
    .flatMap((m) => Object.entries(m.data as Record<string, string>))
    .map(([id, reason]) => ({ id, reason, path: c.node.path })));
}

describe('cdk-nag AwsSolutions', () => {
  const variants = { default: {}, 'EKS + VPC + alarm topic': FULL_CONTEXT };

  it.each(Object.entries(variants))('%s: no unacknowledged findings', (_name, context) => {
    const { stack } = synth(context);
    const report = new AwsSolutionsChecks().validateScope(stack);
    expect(report.violations.map((v) => v.ruleName)).toEqual([]);
    expect(report.success).toBe(true);
  });

  it('acknowledges only what cannot be fixed, each with a reason', () => {
    const { stack } = synth(FULL_CONTEXT);
    // CloudFormation-Validate acknowledgements come from aws-cdk-lib itself (e.g. imported VPCs).
    const acks = acknowledgements(stack).filter((a) => a.id.includes('AwsSolutions-'));
    const byId = new Map<string, string[]>();
    for (const a of acks) byId.set(a.id, [...(byId.get(a.id) ?? []), a.path]);
    expect([...byId.keys()].sort()).toEqual([
      `${VPC_POLICY}`,
      'Annotation::AwsSolutions-IAM5[Resource::*]',
      'Annotation::AwsSolutions-SMG4',
    ]);
    // One X-Ray acknowledgement per function role, the VPC policy only on the two VPC functions.
    expect(byId.get('Annotation::AwsSolutions-IAM5[Resource::*]')).toEqual([
      'Daemonless/Controller/Webhook/Role', 'Daemonless/Controller/Reconcile/Role', 'Daemonless/Controller/Resync/Role',
    ]);
    expect(byId.get(VPC_POLICY)).toEqual(['Daemonless/Controller/Reconcile/Role', 'Daemonless/Controller/Resync/Role']);
    for (const a of acks) expect(a.reason.length, a.id).toBeGreaterThan(60);
  });
});
