import tseslint from 'typescript-eslint';

// Dependencies point one way (docs: shared architecture, "Dependencies point one way"):
//   lambdas/, lib/runner, lib/cli → lib/app (the shell, which declares its ports) → lib/events → lib/core (pure);
//   lib/adapters implement the app's ports and are wired in by the drivers;
//   nothing in lib/ imports test/, bench/, infra/ or lambdas/.
// Imports are relative, so each rule matches the import string of a file at a known depth; the
// folder-level cycle check (test/unit/layers/import-cycles.test.ts) resolves real paths.

/** lib/** must not reach out of lib. */
const LIB_STAYS_IN_LIB = {
  regex: '^(\\.\\./)+(test|bench|infra|lambdas)(/|$)',
  message: 'lib/ never imports test/, bench/, infra/ or lambdas/: they depend on lib, not the other way round.',
};
/** I/O libraries: only adapters, drivers and the observability shell use them. */
const IO_PACKAGES = {
  group: ['@aws-sdk/*', '@smithy/*', '@middy/*', '@aws-lambda-powertools/*', 'aws-cdk-lib', 'aws-cdk-lib/*', 'constructs'],
  message: 'I/O libraries belong in lib/adapters or the drivers; declare a port in lib/app instead.',
};
const CLIENT_NODE_TYPES_ONLY = {
  group: ['@kubernetes/client-node'], allowTypeImports: true,
  message: 'Only types from client-node here; API calls belong in lib/adapters/kube.',
};
/** The shell: it declares ports; adapters implement them; drivers wire them. */
const APP_BELOW_DRIVERS = {
  regex: '^\\.\\./(adapters|runner|cli|local-plane|manifests|observability/powertools)(/|\\.js$|$)',
  message: 'lib/app must not import adapters or drivers (runner, cli, local plane): declare a port in lib/app and let the driver wire the adapter in.',
};
const EVENTS_BELOW_APP = {
  regex: '^\\.\\./(app|adapters|runner|cli|local-plane|manifests|observability/powertools)(/|\\.js$|$)',
  message: 'lib/events sits below lib/app: it may import lib/core and lib/config only.',
};

export default tseslint.config(
  { ignores: ['node_modules/**', 'cdk.out/**', 'dist/**', '.test-report.json'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-syntax': [
        'error',
        { selector: "CallExpression[callee.property.name='only'][callee.object.name=/^(it|test|describe)$/]", message: 'Focused tests hide the rest.' },
        { selector: "CallExpression[callee.property.name=/^(skip|todo)$/][callee.object.name=/^(it|test|describe)$/]", message: 'Skipped tests prove nothing.' },
      ],
    },
  },
  {
    files: ['lib/**/*.ts'],
    ignores: ['lib/core/**', 'lib/app/**', 'lib/events/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [LIB_STAYS_IN_LIB] }],
    },
  },
  {
    files: ['lib/app/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [LIB_STAYS_IN_LIB, APP_BELOW_DRIVERS, IO_PACKAGES, CLIENT_NODE_TYPES_ONLY] }],
    },
  },
  {
    files: ['lib/events/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [LIB_STAYS_IN_LIB, EVENTS_BELOW_APP, IO_PACKAGES, CLIENT_NODE_TYPES_ONLY] }],
    },
  },
  {
    // The pure core: no I/O, no clock, no randomness, no environment, nothing outside lib/core.
    files: ['lib/core/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { group: ['node:*', '!node:crypto'], message: 'lib/core is pure: no Node I/O modules.' },
          { ...CLIENT_NODE_TYPES_ONLY, message: 'lib/core may only import types from client-node.' },
          { ...IO_PACKAGES, message: 'lib/core is pure.' },
          { regex: '^\\.\\./', message: 'lib/core is the bottom layer: it imports nothing outside lib/core.' },
        ],
      }],
      'no-restricted-globals': ['error', 'process', 'setTimeout', 'setInterval', 'fetch', 'console'],
      'no-restricted-properties': ['error',
        { object: 'Date', property: 'now', message: 'Time is an input of the core.' },
        { object: 'Math', property: 'random', message: 'The core is deterministic.' },
      ],
    },
  },
);
