import { Duration, Stack } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { loadConfig, type ConfigRole } from '../../lib/config.js';
import { METRIC } from '../../lib/observability/ports.js';
import { PROJECT_ROOT } from '../../infra/build-app.js';
import { DaemonlessController } from '../../infra/constructs/daemonless-controller.js';
import {
  EKS_CONTEXT, FULL_CONTEXT, actionsOf, allStatements, logicalId, synth, type Statement, type TemplateJson,
} from './support.js';

const base = synth();
const full = synth(FULL_CONTEXT);

function ids(json: TemplateJson) {
  return {
    queue: logicalId(json, 'AWS::SQS::Queue', 'ControllerQueuesQueue'),
    dlq: logicalId(json, 'AWS::SQS::Queue', 'ControllerQueuesDeadLetterQueue'),
    delay: logicalId(json, 'AWS::SQS::Queue', 'ControllerQueuesDelayQueue'),
    delayDlq: logicalId(json, 'AWS::SQS::Queue', 'ControllerQueuesDelayDeadLetterQueue'),
    webhook: logicalId(json, 'AWS::Lambda::Function', 'ControllerWebhookFunction'),
    reconcile: logicalId(json, 'AWS::Lambda::Function', 'ControllerReconcileFunction'),
    resync: logicalId(json, 'AWS::Lambda::Function', 'ControllerResyncFunction'),
    webhookRole: logicalId(json, 'AWS::IAM::Role', 'ControllerWebhookRole'),
    reconcileRole: logicalId(json, 'AWS::IAM::Role', 'ControllerReconcileRole'),
    resyncRole: logicalId(json, 'AWS::IAM::Role', 'ControllerResyncRole'),
  };
}

/** Statements of the IAM policies attached to a role. */
function roleStatements(json: TemplateJson, roleId: string): Statement[] {
  return Object.values(json.Resources)
    .filter((r) => r.Type === 'AWS::IAM::Policy')
    .filter((r) => JSON.stringify(r.Properties?.Roles) === JSON.stringify([{ Ref: roleId }]))
    .flatMap((r) => (r.Properties?.PolicyDocument as { Statement: Statement[] }).Statement);
}

/** action → resources, for comparing whole permission sets. */
function permissions(statements: readonly Statement[]): Record<string, unknown[]> {
  const out: Record<string, unknown[]> = {};
  for (const s of statements) {
    expect(s.Effect).toBe('Allow');
    for (const a of actionsOf(s)) (out[a] ??= []).push(...(Array.isArray(s.Resource) ? s.Resource : [s.Resource]));
  }
  return out;
}

/**
 * No Allow statement anywhere (IAM, queue, topic and key policies) has a wildcard action. Deny
 * statements may: the only ones are the "deny everything without TLS" statements of enforceSSL.
 */
function expectNoWildcardGrants(json: TemplateJson): void {
  const statements = allStatements(json);
  expect(statements.length).toBeGreaterThan(10);
  for (const { statement } of statements) {
    if (statement.Effect === 'Deny') {
      expect(statement.Condition).toEqual({ Bool: { 'aws:SecureTransport': 'false' } });
      continue;
    }
    expect(statement.Effect).toBe('Allow');
    for (const action of actionsOf(statement)) expect(action).not.toContain('*');
  }
}

const arn = (id: string) => ({ 'Fn::GetAtt': [id, 'Arn'] });
const ref = (id: string) => ({ Ref: id });

describe('DaemonlessStack (default context: kubeconfig access)', () => {
  const { template, json } = base;
  const id = ids(json);

  it('has the expected resources', () => {
    const counts: Record<string, number> = {
      'AWS::Lambda::Function': 3,
      'AWS::SQS::Queue': 4,
      'AWS::SQS::QueuePolicy': 4,
      'AWS::Lambda::EventSourceMapping': 2,
      'AWS::Lambda::Url': 1,
      // Function URL with auth NONE: lambda:InvokeFunctionUrl and lambda:InvokeFunction (via URL).
      'AWS::Lambda::Permission': 2,
      'AWS::Scheduler::Schedule': 1,
      'AWS::CloudWatch::Alarm': 7,
      'AWS::CloudWatch::Dashboard': 1,
      'AWS::Logs::LogGroup': 3,
      'AWS::SecretsManager::Secret': 2,
      'AWS::IAM::Role': 4,
      'AWS::EKS::AccessEntry': 0,
      'AWS::SNS::Topic': 1,
      'AWS::SNS::Subscription': 0,
      'AWS::EC2::SecurityGroup': 0,
    };
    for (const [type, n] of Object.entries(counts)) template.resourceCountIs(type, n);
  });

  it('makes the reconcile queue FIFO, high-throughput, encrypted, with a FIFO DLQ after 5 receives', () => {
    template.hasResourceProperties('AWS::SQS::Queue', {
      FifoQueue: true,
      ContentBasedDeduplication: false,
      DeduplicationScope: 'messageGroup',
      FifoThroughputLimit: 'perMessageGroupId',
      SqsManagedSseEnabled: true,
      VisibilityTimeout: 360,
      RedrivePolicy: { deadLetterTargetArn: arn(id.dlq), maxReceiveCount: 5 },
    });
    expect(json.Resources[id.dlq]!.Properties).toMatchObject({ FifoQueue: true, SqsManagedSseEnabled: true });
  });

  it('makes the delay queue a standard queue with its own standard DLQ', () => {
    const delay = json.Resources[id.delay]!.Properties!;
    expect(delay.FifoQueue).toBeUndefined();
    expect(delay).toMatchObject({
      SqsManagedSseEnabled: true,
      VisibilityTimeout: 360,
      RedrivePolicy: { deadLetterTargetArn: arn(id.delayDlq), maxReceiveCount: 5 },
    });
    expect(json.Resources[id.delayDlq]!.Properties!.FifoQueue).toBeUndefined();
  });

  it('denies non-TLS access to every queue', () => {
    for (const queue of [id.queue, id.dlq, id.delay, id.delayDlq]) {
      template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [ref(queue)],
        PolicyDocument: {
          Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]),
        },
      });
    }
  });

  it('feeds the reconcile function from both queues with partial batch responses and FIFO-valid batches', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: arn(id.queue),
      FunctionName: ref(id.reconcile),
      BatchSize: 10,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: 5 },
      MaximumBatchingWindowInSeconds: Match.absent(),
    });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: arn(id.delay),
      FunctionName: ref(id.reconcile),
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: 2 },
    });
  });

  it('runs every function on nodejs24.x, arm64, with X-Ray and its own log group kept 30 days', () => {
    for (const fn of [id.webhook, id.reconcile, id.resync]) {
      const props = json.Resources[fn]!.Properties!;
      expect(props).toMatchObject({
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        Handler: 'index.handler',
        TracingConfig: { Mode: 'Active' },
      });
      const logGroup = (props.LoggingConfig as { LogGroup: { Ref: string } }).LogGroup.Ref;
      expect(json.Resources[logGroup]).toMatchObject({ Type: 'AWS::Logs::LogGroup', Properties: { RetentionInDays: 30 } });
    }
  });

  it('limits concurrency: webhook 10, resync 1, reconcile bounded by the event source only', () => {
    expect(json.Resources[id.webhook]!.Properties!.ReservedConcurrentExecutions).toBe(10);
    expect(json.Resources[id.resync]!.Properties!.ReservedConcurrentExecutions).toBe(1);
    expect(json.Resources[id.reconcile]!.Properties!.ReservedConcurrentExecutions).toBeUndefined();
    expect(json.Resources[id.webhook]!.Properties!.Timeout).toBe(5);
    expect(json.Resources[id.reconcile]!.Properties!.Timeout).toBe(60);
  });

  it('exposes the webhook through a Function URL without IAM auth', () => {
    template.hasResourceProperties('AWS::Lambda::Url', { AuthType: 'NONE', TargetFunctionArn: arn(id.webhook) });
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunctionUrl', FunctionUrlAuthType: 'NONE', Principal: '*',
    });
  });

  it('invokes the resync function every 5 minutes through a role limited to that function', () => {
    const roleId = logicalId(json, 'AWS::IAM::Role', 'ControllerResyncScheduleRole');
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'rate(5 minutes)',
      State: 'ENABLED',
      Target: { Arn: arn(id.resync), RoleArn: arn(roleId), RetryPolicy: { MaximumRetryAttempts: 0 } },
    });
    expect(permissions(roleStatements(json, roleId))).toEqual({ 'lambda:InvokeFunction': [arn(id.resync)] });
  });

  it('alarms on dead letters, queue age, terminal reconcile failures and function errors', () => {
    for (const dlq of [id.dlq, id.delayDlq]) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Namespace: 'AWS/SQS',
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [dlq, 'QueueName'] } }],
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
      });
    }
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateAgeOfOldestMessage',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [id.queue, 'QueueName'] } }],
      Threshold: 600,
    });
    for (const fn of [id.webhook, id.reconcile, id.resync]) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: 'Errors',
        Namespace: 'AWS/Lambda',
        Dimensions: [{ Name: 'FunctionName', Value: ref(fn) }],
        Threshold: 1,
      });
    }
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'daemonless/Daemonless',
      MetricName: 'TerminalErrors',
      Dimensions: [{ Name: 'service', Value: 'daemonless' }],
      Statistic: 'Sum',
      Period: 300,
      Threshold: 1,
      EvaluationPeriods: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
    });
  });

  it('counts terminal failures in the namespace the functions publish to (their DAEMONLESS_METRICS_NAMESPACE)', () => {
    const alarm = Object.values(json.Resources).find((r) => r.Type === 'AWS::CloudWatch::Alarm' && r.Properties?.MetricName === METRIC.terminalErrors);
    expect(alarm).toBeDefined();
    for (const fn of [id.webhook, id.reconcile, id.resync]) {
      expect(resolveEnvironment(json, fn).DAEMONLESS_METRICS_NAMESPACE).toBe(alarm!.Properties!.Namespace);
    }
    template.hasOutput('MetricsNamespace', { Value: 'daemonless/Daemonless' });
  });

  it('routes every alarm to the KMS-encrypted alarm topic, which is an output', () => {
    const topic = logicalId(json, 'AWS::SNS::Topic', 'ControllerAlarmsTopic');
    const key = logicalId(json, 'AWS::KMS::Key', 'ControllerAlarmsTopicKey');
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: arn(key) });
    const alarms = Object.values(json.Resources).filter((r) => r.Type === 'AWS::CloudWatch::Alarm');
    expect(alarms).toHaveLength(7);
    for (const alarm of alarms) expect(alarm.Properties!.AlarmActions).toEqual([ref(topic)]);
    template.hasOutput('AlarmTopicArn', { Value: ref(topic) });
  });

  it('has a dashboard of queue depth and age, dead letters, reconciles by outcome, pods, latency and alarms', () => {
    const dashboard = logicalId(json, 'AWS::CloudWatch::Dashboard', 'ControllerDashboard');
    const body = JSON.stringify(json.Resources[dashboard]!.Properties!.DashboardBody);
    for (const queue of [id.queue, id.delay]) {
      expect(body).toContain(`ApproximateNumberOfMessagesVisible\\",\\"QueueName\\",\\"",{\"Fn::GetAtt\":[\"${queue}\",\"QueueName\"]}`);
    }
    expect(body).toContain(`ApproximateAgeOfOldestMessage\\",\\"QueueName\\",\\"",{\"Fn::GetAtt\":[\"${id.queue}\",\"QueueName\"]}`);
    for (const dlq of [id.dlq, id.delayDlq]) expect(body).toContain(`{\"Fn::GetAtt\":[\"${dlq}\",\"QueueName\"]}`);
    for (const name of [METRIC.reconciles, METRIC.reconcileErrors, METRIC.terminalErrors, METRIC.invalidMessages, METRIC.reconcilesCollapsed,
      METRIC.podsCreated, METRIC.podsDeleted, METRIC.reconcileLatency]) {
      expect(body).toContain(`[\\"daemonless/Daemonless\\",\\"${name}\\",\\"service\\",\\"daemonless\\"`);
    }
    expect(body).toMatch(/\\"p99\\"/);
    expect(body).toContain('\\"type\\":\\"alarm\\"');
    for (const fn of [id.webhook, id.reconcile, id.resync]) expect(body).toContain(`{\"Ref\":\"${fn}\"}`);
    template.hasOutput('DashboardName', { Value: ref(dashboard) });
  });

  it('outputs the webhook URL, the queue URLs and the secret ARNs', () => {
    const secret = logicalId(json, 'AWS::SecretsManager::Secret', 'ControllerKubeconfig');
    const token = logicalId(json, 'AWS::SecretsManager::Secret', 'ControllerEndpointPathToken');
    template.hasOutput('WebhookUrl', { Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ControllerWebhookFunctionFunctionUrl'), 'FunctionUrl'] } });
    template.hasOutput('ReconcileQueueUrl', { Value: ref(id.queue) });
    template.hasOutput('DelayQueueUrl', { Value: ref(id.delay) });
    template.hasOutput('DeadLetterQueueUrl', { Value: ref(id.dlq) });
    template.hasOutput('KubeconfigSecretArn', { Value: ref(secret) });
    template.hasOutput('WebhookTokenSecretArn', { Value: ref(token) });
    template.hasOutput('ReconcileRoleArn', { Value: arn(id.reconcileRole) });
    for (const [name, queue] of [['ReconcileQueue', id.queue], ['DelayQueue', id.delay], ['DeadLetterQueue', id.dlq], ['DelayDeadLetterQueue', id.delayDlq]] as const) {
      template.hasOutput(`${name}Url`, { Value: ref(queue) });
      template.hasOutput(`${name}Arn`, { Value: arn(queue) });
    }
    for (const [name, fn] of [['Webhook', id.webhook], ['Reconcile', id.reconcile], ['Resync', id.resync]] as const) {
      template.hasOutput(`${name}FunctionName`, { Value: ref(fn) });
      template.hasOutput(`${name}LogGroupName`, { Value: ref(logicalId(json, 'AWS::Logs::LogGroup', `Controller${name}Logs`)) });
    }
  });

  it('declares no DependsOn that a Ref or GetAtt already implies (cfn-lint W3005)', () => {
    const redundant: string[] = [];
    for (const [rid, r] of Object.entries(json.Resources as Record<string, { DependsOn?: string | string[]; Properties?: unknown }>)) {
      const referenced = new Set<string>();
      const visit = (v: unknown): void => {
        if (Array.isArray(v)) v.forEach(visit);
        else if (v !== null && typeof v === 'object') {
          const o = v as Record<string, unknown>;
          if (typeof o.Ref === 'string') referenced.add(o.Ref);
          if (Array.isArray(o['Fn::GetAtt'])) referenced.add(String(o['Fn::GetAtt'][0]));
          Object.values(o).forEach(visit);
        }
      };
      visit(r.Properties);
      for (const dep of [r.DependsOn ?? []].flat()) if (referenced.has(dep)) redundant.push(`${rid} → ${dep}`);
    }
    expect(redundant).toEqual([]);
    // The ordering that matters stays: each function waits for its role's policy.
    for (const [fn, role] of [[id.webhook, 'ControllerWebhookRoleDefaultPolicy'], [id.reconcile, 'ControllerReconcileRoleDefaultPolicy'], [id.resync, 'ControllerResyncRoleDefaultPolicy']]) {
      expect((json.Resources[fn!] as { DependsOn?: string[] }).DependsOn).toEqual([logicalId(json, 'AWS::IAM::Policy', role!)]);
    }
  });

  it('grants each function exactly what it uses, scoped to ARNs', () => {
    const secret = logicalId(json, 'AWS::SecretsManager::Secret', 'ControllerKubeconfig');
    const token = logicalId(json, 'AWS::SecretsManager::Secret', 'ControllerEndpointPathToken');
    const logs = (fn: string) => [{ 'Fn::GetAtt': [(json.Resources[fn]!.Properties!.LoggingConfig as { LogGroup: { Ref: string } }).LogGroup.Ref, 'Arn'] }];
    const common = (fn: string) => ({
      'logs:CreateLogStream': logs(fn),
      'logs:PutLogEvents': logs(fn),
      'xray:PutTraceSegments': ['*'],
      'xray:PutTelemetryRecords': ['*'],
    });
    const send = (...queues: string[]) => ({
      'sqs:SendMessage': queues.map(arn),
      'sqs:GetQueueAttributes': queues.map(arn),
      'sqs:GetQueueUrl': queues.map(arn),
    });

    expect(permissions(roleStatements(json, id.webhookRole))).toEqual({
      ...common(id.webhook),
      ...send(id.queue),
      'secretsmanager:GetSecretValue': [ref(token)],
      'secretsmanager:DescribeSecret': [ref(token)],
    });
    expect(permissions(roleStatements(json, id.resyncRole))).toEqual({
      ...common(id.resync),
      ...send(id.queue),
      'secretsmanager:GetSecretValue': [ref(secret)],
      'secretsmanager:DescribeSecret': [ref(secret)],
    });
    const both = [arn(id.queue), arn(id.delay)];
    expect(permissions(roleStatements(json, id.reconcileRole))).toEqual({
      ...common(id.reconcile),
      'sqs:ReceiveMessage': both,
      'sqs:ChangeMessageVisibility': both,
      'sqs:DeleteMessage': both,
      'sqs:GetQueueAttributes': [...both, ...both],
      'sqs:GetQueueUrl': [...both, ...both],
      'sqs:SendMessage': both,
      'secretsmanager:GetSecretValue': [ref(secret)],
      'secretsmanager:DescribeSecret': [ref(secret)],
    });
  });

  it('uses no managed policies and no wildcard actions', () => {
    for (const r of Object.values(json.Resources).filter((r) => r.Type === 'AWS::IAM::Role')) {
      expect(r.Properties!.ManagedPolicyArns).toBeUndefined();
    }
    expectNoWildcardGrants(json);
  });

  it('allows Resource "*" only for the X-Ray actions, which support no resource scoping', () => {
    for (const { type, statement } of allStatements(json)) {
      const resources = Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource];
      if (type === 'AWS::IAM::Policy' && resources.includes('*')) {
        expect(actionsOf(statement).sort()).toEqual(['xray:PutTelemetryRecords', 'xray:PutTraceSegments']);
      }
    }
  });
});

/** Replaces the template's Refs with realistic values, as CloudFormation would. */
function resolveEnvironment(json: TemplateJson, fn: string): Record<string, string> {
  const id = ids(json);
  const fake: Record<string, string> = {
    [id.queue]: 'https://sqs.eu-west-1.amazonaws.com/123456789012/Daemonless-Queue.fifo',
    [id.delay]: 'https://sqs.eu-west-1.amazonaws.com/123456789012/Daemonless-DelayQueue',
  };
  const vars = (json.Resources[fn]!.Properties!.Environment as { Variables: Record<string, unknown> }).Variables;
  return Object.fromEntries(Object.entries(vars).map(([k, v]) => {
    if (typeof v === 'string') return [k, v];
    const target = (v as { Ref?: string }).Ref;
    if (target === undefined) throw new Error(`unexpected value of ${k}: ${JSON.stringify(v)}`);
    const type = json.Resources[target]!.Type;
    const value = fake[target] ?? (type === 'AWS::SecretsManager::Secret'
      ? `arn:aws:secretsmanager:eu-west-1:123456789012:secret:${target}-AbCdEf` : undefined);
    if (value === undefined) throw new Error(`no fake value for ${k} = Ref ${target} (${type})`);
    return [k, value];
  }));
}

describe('function environment (the contract with lib/config.ts)', () => {
  const cases: [string, TemplateJson, ConfigRole, string][] = [
    ['kubeconfig', base.json, 'webhook', 'webhook'],
    ['kubeconfig', base.json, 'reconcile', 'reconcile'],
    ['kubeconfig', base.json, 'resync', 'resync'],
    ['eks', full.json, 'reconcile', 'reconcile'],
    ['eks', full.json, 'resync', 'resync'],
  ];
  it.each(cases)('%s: the %s function environment loads as role %s', (_access, json, role, fnName) => {
    const id = ids(json);
    const fn = fnName === 'webhook' ? id.webhook : fnName === 'reconcile' ? id.reconcile : id.resync;
    const env = resolveEnvironment(json, fn);
    const config = loadConfig({ ...env, AWS_REGION: 'eu-west-1' }, role);
    expect(config.queueUrl).toMatch(/\.fifo$/);
    expect(config.managedResource).toBe(json === full.json ? 'crd' : 'native');
    if (role === 'reconcile') {
      expect(config.delayQueueUrl).not.toMatch(/\.fifo$/);
      expect(config.maxReceives).toBe(5);
      expect(config.placement).toBe('affinity');
    }
    if (role === 'webhook') expect(config.webhook.secretArn).toMatch(/^arn:aws:secretsmanager:/);
    if (role !== 'webhook') {
      expect(config.cluster.mode).toBe(json === full.json ? 'eks' : 'secret');
    }
  });

  it('gives the webhook no cluster credentials', () => {
    const env = resolveEnvironment(base.json, ids(base.json).webhook);
    expect(Object.keys(env).filter((k) => /CLUSTER|KUBECONFIG|EKS/.test(k))).toEqual([]);
  });
});

describe('DaemonlessStack (EKS, VPC, alarm topic)', () => {
  const { template, json } = full;
  const id = ids(json);

  it('maps the reconcile and resync roles to their Kubernetes groups with access entries', () => {
    template.resourceCountIs('AWS::EKS::AccessEntry', 2);
    template.hasResourceProperties('AWS::EKS::AccessEntry', {
      ClusterName: EKS_CONTEXT['daemonless:eksClusterName'],
      PrincipalArn: arn(id.reconcileRole),
      KubernetesGroups: ['daemonless:controller'],
      Type: 'STANDARD',
      AccessPolicies: Match.absent(),
    });
    template.hasResourceProperties('AWS::EKS::AccessEntry', {
      PrincipalArn: arn(id.resyncRole),
      KubernetesGroups: ['daemonless:resync'],
    });
  });

  it('creates no kubeconfig secret and grants no secret read to the cluster-facing functions', () => {
    template.resourceCountIs('AWS::SecretsManager::Secret', 1);
    for (const role of [id.reconcileRole, id.resyncRole]) {
      expect(Object.keys(permissions(roleStatements(json, role))).filter((a) => a.startsWith('secretsmanager:'))).toEqual([]);
    }
    expect(json.Outputs?.KubeconfigSecretArn).toBeUndefined();
  });

  it('places the cluster-facing functions in the given subnets and security groups, not the webhook', () => {
    for (const fn of [id.reconcile, id.resync]) {
      expect(json.Resources[fn]!.Properties!.VpcConfig).toEqual({
        SubnetIds: ['subnet-0123456789abcdef0', 'subnet-0123456789abcdef1'],
        SecurityGroupIds: ['sg-0123456789abcdef0'],
      });
    }
    expect(json.Resources[id.webhook]!.Properties!.VpcConfig).toBeUndefined();
    expect(json.Resources[id.reconcileRole]!.Properties!.ManagedPolicyArns).toEqual([
      { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole']] },
    ]);
  });

  it('sends every alarm to a KMS-encrypted topic with the e-mail subscribed', () => {
    const topic = logicalId(json, 'AWS::SNS::Topic', 'ControllerAlarmsTopic');
    const key = logicalId(json, 'AWS::KMS::Key', 'ControllerAlarmsTopicKey');
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: arn(key) });
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@example.com' });
    const alarms = Object.values(json.Resources).filter((r) => r.Type === 'AWS::CloudWatch::Alarm');
    expect(alarms).toHaveLength(7);
    for (const alarm of alarms) expect(alarm.Properties!.AlarmActions).toEqual([ref(topic)]);
  });

  it('reserves the configured reconcile concurrency and still uses no wildcard action', () => {
    expect(json.Resources[id.reconcile]!.Properties!.ReservedConcurrentExecutions).toBe(20);
    expectNoWildcardGrants(json);
  });
});

describe('DaemonlessStack (alarm topic opted out)', () => {
  it('keeps the alarms but gives them no action, and outputs no topic', () => {
    const { template, json } = synth({ 'daemonless:alarmTopic': 'false' });
    template.resourceCountIs('AWS::SNS::Topic', 0);
    template.resourceCountIs('AWS::KMS::Key', 0);
    const alarms = Object.values(json.Resources).filter((r) => r.Type === 'AWS::CloudWatch::Alarm');
    expect(alarms).toHaveLength(7);
    for (const alarm of alarms) expect(alarm.Properties!.AlarmActions).toBeUndefined();
    expect(json.Outputs?.AlarmTopicArn).toBeUndefined();
  });

  it('names the metrics namespace after the stack', () => {
    const { json } = synth({ 'daemonless:stackName': 'DaemonlessProd' });
    const alarm = Object.values(json.Resources).find((r) => r.Type === 'AWS::CloudWatch::Alarm' && r.Properties?.MetricName === METRIC.terminalErrors);
    expect(alarm?.Properties?.Namespace).toBe('daemonless/DaemonlessProd');
    expect(resolveEnvironment(json, ids(json).reconcile).DAEMONLESS_METRICS_NAMESPACE).toBe('daemonless/DaemonlessProd');
  });
});

describe('DaemonlessStack (context knobs)', () => {
  it('derives the visibility timeout, receives, batch size, concurrency and schedule from the context', () => {
    const { template, json } = synth({
      'daemonless:maxReceiveCount': '7',
      'daemonless:reconcileTimeoutSeconds': '30',
      'daemonless:reconcileBatchSize': '4',
      'daemonless:reconcileMaxConcurrency': '3',
      'daemonless:resyncIntervalMinutes': '15',
      'daemonless:webhookReservedConcurrency': 'none',
      'daemonless:managedResource': 'crd',
      'daemonless:placementMode': 'nodeName',
    });
    const id = ids(json);
    expect(json.Resources[id.queue]!.Properties).toMatchObject({
      VisibilityTimeout: 180,
      RedrivePolicy: { maxReceiveCount: 7 },
    });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: arn(id.queue), BatchSize: 4, ScalingConfig: { MaximumConcurrency: 3 },
    });
    template.hasResourceProperties('AWS::Scheduler::Schedule', { ScheduleExpression: 'rate(15 minutes)' });
    expect(json.Resources[id.webhook]!.Properties!.ReservedConcurrentExecutions).toBeUndefined();
    expect(json.Resources[id.reconcile]!.Properties!.Environment).toMatchObject({
      Variables: { DAEMONLESS_MAX_RECEIVES: '7', DAEMONLESS_MANAGED_RESOURCE: 'crd', DAEMONLESS_PLACEMENT: 'nodeName' },
    });
  });
});

describe('DaemonlessController props', () => {
  it('reports every invalid prop at once', () => {
    const stack = new Stack();
    expect(() => new DaemonlessController(stack, 'C', {
      projectRoot: PROJECT_ROOT,
      managedResource: 'native',
      clusterAccess: { kind: 'eks', clusterName: 'c', endpoint: 'https://x', caData: 'eA==' },
      reconcileBatchSize: 11,
      reconcileMaxConcurrency: 1,
      maxReceiveCount: 0,
      reconcileTimeout: Duration.minutes(20),
    })).toThrow(new RegExp([
      'reconcileBatchSize must be 1-10', 'reconcileMaxConcurrency must be 2-1000', 'maxReceiveCount must be 1-1000',
      'reconcileTimeout must be 1-900 s', 'managedResource "native" cannot be used on EKS',
    ].join('[\\s\\S]*')));
  });

  it('refuses a reserved concurrency below the event sources\' maximum', () => {
    expect(() => new DaemonlessController(new Stack(), 'C', {
      projectRoot: PROJECT_ROOT,
      managedResource: 'native',
      clusterAccess: { kind: 'kubeconfig' },
      reconcileMaxConcurrency: 5,
      reconcileReservedConcurrency: 6,
    })).toThrow(/reconcileReservedConcurrency \(6\) must be at least reconcileMaxConcurrency \+ 2/);
  });
});
