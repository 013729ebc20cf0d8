/** CDK app entry (cdk.json "app"). Configuration: daemonless:* context keys, see infra/config.ts. */
import { App } from 'aws-cdk-lib';
import { buildApp } from './build-app.js';
import { ConfigError } from './config.js';

const app = new App();
try {
  buildApp(app);
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  console.error(err.message);
  process.exit(1);
}
app.synth();
