import { Duration, Validations } from 'aws-cdk-lib';
import type { ISecurityGroup, IVpc, SubnetSelection } from 'aws-cdk-lib/aws-ec2';
import { ManagedPolicy, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { type CfnFunction, Tracing } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat, SourceMapMode } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { ARCHITECTURE, ESBUILD_ALIAS, ESBUILD_SOURCES_CONTENT, ESBUILD_TARGET, ESM_REQUIRE_BANNER, RUNTIME } from './defaults.js';

export interface ControllerFunctionProps {
  /** Absolute path of the handler module (TypeScript). */
  readonly entry: string;
  /** Directory holding package.json and package-lock.json. */
  readonly projectRoot: string;
  readonly description: string;
  readonly timeout: Duration;
  readonly memorySize: number;
  /** Environment variables, in addition to the Powertools ones the caller passes here too. */
  readonly environment: Readonly<Record<string, string>>;
  /** @default - no reservation */
  readonly reservedConcurrentExecutions?: number;
  readonly logRetention: RetentionDays;
  /** @default - not in a VPC */
  readonly vpc?: IVpc;
  /** @default - the VPC's private subnets */
  readonly vpcSubnets?: SubnetSelection;
  /** @default - a new security group */
  readonly securityGroups?: ISecurityGroup[];
}

/**
 * One controller function: NodejsFunction bundled locally by esbuild (ESM, minified, source maps),
 * nodejs24.x on arm64, X-Ray active, its own log group with retention, and its own role that starts
 * with nothing but permission to write to that log group.
 */
export class ControllerFunction extends Construct {
  readonly function: NodejsFunction;
  readonly role: Role;
  readonly logGroup: LogGroup;

  constructor(scope: Construct, id: string, props: ControllerFunctionProps) {
    super(scope, id);

    this.logGroup = new LogGroup(this, 'Logs', { retention: props.logRetention });

    // An explicit role instead of the default one, which carries the AWSLambdaBasicExecutionRole
    // managed policy (logs:* on every log group); this one may write to its own log group only.
    this.role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role: ${props.description}`,
    });
    this.logGroup.grantWrite(this.role);
    if (props.vpc !== undefined) {
      // ENI management for VPC functions; ec2:Describe* actions have no resource-level permissions.
      this.role.addManagedPolicy(ManagedPolicy.fromAwsManagedPolicyName('service-role/AWSLambdaVPCAccessExecutionRole'));
      Validations.of(this.role).acknowledge({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]',
        reason: 'A function in a VPC needs to create, describe and delete its network interfaces; the AWS managed ' +
          'policy grants exactly those EC2 actions, which do not support resource-level scoping.',
      });
    }

    this.function = new NodejsFunction(this, 'Function', {
      entry: props.entry,
      handler: 'handler',
      projectRoot: props.projectRoot,
      depsLockFilePath: `${props.projectRoot}/package-lock.json`,
      runtime: RUNTIME,
      architecture: ARCHITECTURE,
      description: props.description,
      timeout: props.timeout,
      memorySize: props.memorySize,
      role: this.role,
      logGroup: this.logGroup,
      tracing: Tracing.ACTIVE,
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      // Source maps are only used when Node is told to.
      environment: { NODE_OPTIONS: '--enable-source-maps', ...props.environment },
      vpc: props.vpc,
      vpcSubnets: props.vpcSubnets,
      securityGroups: props.securityGroups,
      bundling: {
        format: OutputFormat.ESM,
        target: ESBUILD_TARGET,
        banner: ESM_REQUIRE_BANNER,
        mainFields: ['module', 'main'],
        minify: true,
        // Errors in the logs keep their class names (ApiException, TransientError), not minified ones.
        keepNames: true,
        sourceMap: true,
        sourceMapMode: SourceMapMode.DEFAULT,
        sourcesContent: ESBUILD_SOURCES_CONTENT,
        // client-node's undici transport left out (defaults.ts).
        esbuildArgs: { '--alias': Object.entries(ESBUILD_ALIAS).map(([from, to]) => `${from}=${to}`) },
        // Pin the SDK the code was tested with instead of the runtime's.
        bundleAwsSDK: true,
        forceDockerBundling: false,
      },
    });

    // Lambda's Function construct makes the function resource depend on everything under its role
    // (the role and its default policy). The role is already referenced (GetAtt Role.Arn), so its
    // DependsOn entry only repeats that (cfn-lint W3005). Keep the ordering that matters: the
    // function waits for the role's policy, so grants are in place before the first invocation.
    const cfnFunction = this.function.node.defaultChild as CfnFunction;
    const defaultPolicy = this.role.node.tryFindChild('DefaultPolicy');
    if (defaultPolicy === undefined) throw new Error(`${this.node.path}: the role has no default policy to depend on`);
    cfnFunction.node.removeDependency(this.role);
    cfnFunction.node.addDependency(defaultPolicy);

    // Tracing.ACTIVE adds xray:PutTraceSegments/PutTelemetryRecords on "*".
    Validations.of(this.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'X-Ray tracing (Tracing.ACTIVE): xray:PutTraceSegments and xray:PutTelemetryRecords support no ' +
        'resource-level permissions, so AWS requires Resource "*". Every other statement is scoped to ARNs.',
    });
  }
}
