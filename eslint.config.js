import tseslint from 'typescript-eslint';

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
    // The pure core: no I/O, no clock, no randomness, no environment.
    files: ['lib/core/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { group: ['node:*', '!node:crypto'], message: 'lib/core is pure: no Node I/O modules.' },
          { group: ['@kubernetes/client-node'], allowTypeImports: true, message: 'lib/core may only import types from client-node.' },
          { group: ['@aws-sdk/*', '@middy/*', '@aws-lambda-powertools/*', '../adapters/*', '../app/*', '../runner/*'], message: 'lib/core is pure.' },
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
