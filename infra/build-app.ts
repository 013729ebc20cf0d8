import { fileURLToPath } from 'node:url';
import { type App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { parseStackConfig } from './config.js';
import { DaemonlessStack } from './controller-stack.js';

/** The repository root: package.json, package-lock.json and lambdas/ live here. */
export const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url)).replace(/\/$/, '');

/**
 * Reads the daemonless:* context of `app` into a StackConfig (throws ConfigError listing every bad
 * value), adds the cdk-nag AwsSolutions checks and the stack. Tests call it with their own App.
 */
export function buildApp(app: App): DaemonlessStack {
  const config = parseStackConfig(app.node.getAllContext());
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return new DaemonlessStack(app, config.stackName, {
    config,
    projectRoot: PROJECT_ROOT,
    description: 'daemonless: serverless Kubernetes DaemonSet controller',
  });
}
