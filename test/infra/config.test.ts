import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { describe, expect, it } from 'vitest';
import { ConfigError, parseStackConfig } from '../../infra/config.js';

function problemsOf(context: Record<string, unknown>): readonly string[] {
  try {
    parseStackConfig(context);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('parseStackConfig()', () => {
  it('has defaults for everything', () => {
    expect(parseStackConfig({})).toEqual({
      stackName: 'Daemonless',
      managedResource: 'native',
      placementMode: 'affinity',
      eks: undefined,
      maxReceiveCount: 5,
      reconcileTimeoutSeconds: 60,
      reconcileMemoryMb: 512,
      reconcileBatchSize: 10,
      reconcileMaxConcurrency: 5,
      reconcileReservedConcurrency: undefined,
      webhookReservedConcurrency: 10,
      resyncReservedConcurrency: 1,
      resyncIntervalMinutes: 5,
      logRetentionDays: RetentionDays.ONE_MONTH,
      logLevel: 'INFO',
      queueAgeAlarmSeconds: 600,
      alarmTopic: true,
      alarmEmail: undefined,
      vpc: undefined,
    });
  });

  it('ignores context keys of other tools', () => {
    expect(parseStackConfig({ '@aws-cdk/core:newStyleStackSynthesis': true, 'aws:cdk:bundling-stacks': [] }).stackName)
      .toBe('Daemonless');
  });

  it('accepts strings (cdk -c) and JSON values (cdk.json) alike', () => {
    const fromCli = parseStackConfig({
      'daemonless:maxReceiveCount': '8', 'daemonless:alarmTopic': 'false',
      'daemonless:subnetIds': 'subnet-0123456789abcdef0, subnet-0123456789abcdef1', 'daemonless:vpcId': 'vpc-0123456789abcdef0',
      'daemonless:webhookReservedConcurrency': 'none', 'daemonless:logRetentionDays': '14',
    });
    const fromJson = parseStackConfig({
      'daemonless:maxReceiveCount': 8, 'daemonless:alarmTopic': false,
      'daemonless:subnetIds': ['subnet-0123456789abcdef0', 'subnet-0123456789abcdef1'], 'daemonless:vpcId': 'vpc-0123456789abcdef0',
      'daemonless:webhookReservedConcurrency': null, 'daemonless:logRetentionDays': 14,
    });
    expect(fromCli).toEqual(fromJson);
    expect(fromCli).toMatchObject({
      maxReceiveCount: 8, alarmTopic: false, webhookReservedConcurrency: undefined, logRetentionDays: RetentionDays.TWO_WEEKS,
      vpc: { vpcId: 'vpc-0123456789abcdef0', subnetIds: ['subnet-0123456789abcdef0', 'subnet-0123456789abcdef1'], securityGroupIds: [] },
    });
  });

  it('defaults to the CRD on EKS and builds the EKS settings', () => {
    const config = parseStackConfig({
      'daemonless:eksClusterName': 'prod',
      'daemonless:eksEndpoint': 'https://ABC.gr7.eu-west-1.eks.amazonaws.com',
      'daemonless:eksCaData': 'TFMwdA==',
    });
    expect(config.managedResource).toBe('crd');
    expect(config.eks).toEqual({ clusterName: 'prod', endpoint: 'https://ABC.gr7.eu-west-1.eks.amazonaws.com', caData: 'TFMwdA==' });
  });

  it('an alarm e-mail implies the alarm topic, even when the topic is turned off', () => {
    expect(parseStackConfig({ 'daemonless:alarmEmail': 'ops@example.com' }).alarmTopic).toBe(true);
    expect(parseStackConfig({ 'daemonless:alarmEmail': 'ops@example.com', 'daemonless:alarmTopic': 'false' }).alarmTopic).toBe(true);
    expect(parseStackConfig({ 'daemonless:alarmTopic': 'false' }).alarmTopic).toBe(false);
  });

  it('reports every bad value at once, one line each, naming the key', () => {
    const problems = problemsOf({
      'daemonless:maxReceiveCount': '0',
      'daemonless:reconcileTimeoutSeconds': 'sixty',
      'daemonless:reconcileBatchSize': 11,
      'daemonless:reconcileMaxConcurrency': '1',
      'daemonless:managedResource': 'apps',
      'daemonless:placementMode': 'nodename',
      'daemonless:logRetentionDays': 10,
      'daemonless:logLevel': 'verbose',
      'daemonless:alarmTopic': 'yes',
      'daemonless:alarmEmail': 'not-an-address',
      'daemonless:resyncIntervalMinutes': '1.5',
      'daemonless:stackName': '1-bad name',
      'daemonless:maxRecieveCount': 3,
    });
    const keys = ['maxReceiveCount', 'reconcileTimeoutSeconds', 'reconcileBatchSize', 'reconcileMaxConcurrency',
      'managedResource', 'placementMode', 'logRetentionDays', 'logLevel', 'alarmTopic', 'alarmEmail',
      'resyncIntervalMinutes', 'stackName', 'maxRecieveCount'];
    expect(problems).toHaveLength(keys.length);
    for (const key of keys) expect(problems.filter((p) => p.startsWith(`daemonless:${key}:`))).toHaveLength(1);
    expect(problems.find((p) => p.startsWith('daemonless:maxRecieveCount:'))).toMatch(/unknown key/);
    expect(problems.find((p) => p.startsWith('daemonless:reconcileBatchSize:'))).toMatch(/from 1 to 10/);
  });

  it('puts all problems into the error message', () => {
    expect(() => parseStackConfig({ 'daemonless:maxReceiveCount': 0, 'daemonless:logLevel': 'x' }))
      .toThrow(/2 problems[\s\S]*maxReceiveCount[\s\S]*logLevel/);
  });

  it('reports conflicting and incomplete settings', () => {
    const problems = problemsOf({
      'daemonless:eksClusterName': 'prod',
      'daemonless:managedResource': 'native',
      'daemonless:subnetIds': 'subnet-0123456789abcdef0',
      'daemonless:reconcileMaxConcurrency': 10,
      'daemonless:reconcileReservedConcurrency': 11,
    });
    expect(problems).toEqual([
      expect.stringMatching(/^daemonless:managedResource: "native" cannot be used with an EKS cluster/),
      expect.stringMatching(/^daemonless:reconcileReservedConcurrency: 11 is below reconcileMaxConcurrency \+ 2 \(12\)/),
      expect.stringMatching(/^daemonless:eksEndpoint: required/),
      expect.stringMatching(/^daemonless:eksCaData: required/),
      expect.stringMatching(/^daemonless:vpcId: required when subnetIds or securityGroupIds are set/),
    ]);
  });

  it('requires subnets with a VPC and validates resource ids', () => {
    expect(problemsOf({ 'daemonless:vpcId': 'vpc-0123456789abcdef0' }))
      .toEqual([expect.stringMatching(/^daemonless:subnetIds: required when daemonless:vpcId is set/)]);
    expect(problemsOf({ 'daemonless:vpcId': 'vpc-1', 'daemonless:subnetIds': 'subnet-0123456789abcdef0,sg-0123456789abcdef0' }))
      .toEqual([
        expect.stringMatching(/^daemonless:vpcId: "vpc-1" is not a VPC id/),
        expect.stringMatching(/^daemonless:subnetIds: .* is not a list of subnet ids/),
      ]);
  });
});
