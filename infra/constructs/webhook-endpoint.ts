import { Validations } from 'aws-cdk-lib';
import { FunctionUrlAuthType, InvokeMode, type FunctionUrl } from 'aws-cdk-lib/aws-lambda';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { WEBHOOK_TOKEN_LENGTH } from './defaults.js';

export interface WebhookEndpointProps {
  /** The webhook function; it receives DAEMONLESS_WEBHOOK_SECRET_ARN. */
  readonly function: NodejsFunction;
}

/**
 * The HTTPS entry for cluster events: a Lambda Function URL with auth type NONE.
 *
 * Why a Function URL and not an API Gateway HTTP API: kube-apiserver can neither sign requests with
 * SigV4 nor (on EKS) present client credentials to a webhook, so the authorizer options of an HTTP API
 * would go unused; both present a public certificate the apiserver trusts without a caBundle. The
 * Function URL has fewer moving parts and no per-request charge of its own. Authentication is a long
 * random token in the URL path (webhook URLs may carry no query string and no user info), generated
 * into Secrets Manager and compared by the function; since every event is only a hint that makes the
 * reconciler read live state, a leaked token can at most cause extra reconciles. Throttling is the
 * function's reserved concurrency: excess calls get HTTP 429, which the apiserver treats as a webhook
 * failure and ignores (failurePolicy: Ignore); the periodic resync covers the lost hint.
 */
export class WebhookEndpoint extends Construct {
  readonly functionUrl: FunctionUrl;
  /** The path token; the full webhook URL is `${url}hook/<token>`. */
  readonly tokenSecret: Secret;

  constructor(scope: Construct, id: string, props: WebhookEndpointProps) {
    super(scope, id);

    this.tokenSecret = new Secret(this, 'PathToken', {
      description: 'daemonless: secret path segment of the webhook URL (https://<function-url>/hook/<token>)',
      generateSecretString: { passwordLength: WEBHOOK_TOKEN_LENGTH, excludePunctuation: true, includeSpace: false },
    });
    Validations.of(this.tokenSecret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason: 'The token is part of the webhook URL registered in the cluster (ValidatingWebhookConfiguration); ' +
        'rotating it is a coordinated change of that object, done by re-deploying, not by a rotation function.',
    });
    this.tokenSecret.grantRead(props.function);
    props.function.addEnvironment('DAEMONLESS_WEBHOOK_SECRET_ARN', this.tokenSecret.secretArn);

    this.functionUrl = props.function.addFunctionUrl({
      authType: FunctionUrlAuthType.NONE,
      invokeMode: InvokeMode.BUFFERED,
    });
  }
}
