import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts', 'test/infra/**/*.test.ts'],
          // A hang guard, not a speed check: CDK synth and the fault runs share two cores with the control plane in CI.
          testTimeout: 300_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.int.test.ts'],
          globalSetup: ['test/support/global-setup.ts'],
          testTimeout: 180_000,
          hookTimeout: 300_000,
          // One shared control plane and SQS server; files run one at a time.
          fileParallelism: false,
        },
      },
    ],
    reporters: ['default', 'json'],
    outputFile: { json: process.env.DAEMONLESS_TEST_REPORT ?? '.test-report.json' },
  },
});
