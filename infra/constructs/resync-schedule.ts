import { Stack, type Duration } from 'aws-cdk-lib';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { ContextAttribute, Schedule, ScheduleExpression, ScheduleTargetInput } from 'aws-cdk-lib/aws-scheduler';
import { Construct } from 'constructs';

export interface ResyncScheduleProps {
  readonly function: IFunction;
  readonly interval: Duration;
}

/**
 * EventBridge Scheduler invoking the resync function every `interval`; a lost event costs at most one
 * interval. No retries: a missed run is replaced by the next one.
 *
 * The target is wired by hand instead of with aws-scheduler-targets' LambdaInvoke, whose grant also
 * allows every qualified version (`<function-arn>:*`); this role may invoke the unqualified ARN only.
 */
export class ResyncSchedule extends Construct {
  readonly schedule: Schedule;
  readonly role: Role;

  constructor(scope: Construct, id: string, props: ResyncScheduleProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.role = new Role(this, 'Role', {
      description: 'daemonless: lets EventBridge Scheduler invoke the resync function',
      assumedBy: new ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
    });
    this.role.addToPrincipalPolicy(new PolicyStatement({
      actions: ['lambda:InvokeFunction'],
      resources: [props.function.functionArn],
    }));
    const role = this.role;
    this.schedule = new Schedule(this, 'Schedule', {
      description: 'daemonless: enqueue every DaemonSet for reconcile',
      schedule: ScheduleExpression.rate(props.interval),
      target: {
        bind: () => ({
          arn: props.function.functionArn,
          role,
          input: ScheduleTargetInput.fromObject({ source: 'daemonless.resync', scheduledTime: ContextAttribute.scheduledTime }),
          retryPolicy: { maximumRetryAttempts: 0 },
        }),
      },
    });
  }
}
