import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const eslint = new ESLint({ cwd: repoRoot });

/** The restricted-import errors ESLint reports for `source` as if it were the file at `path`. */
async function importErrors(path: string, source: string): Promise<string[]> {
  const [result] = await eslint.lintText(source, { filePath: join(repoRoot, path) });
  return (result?.messages ?? []).filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

describe('the lint rules on layer boundaries', () => {
  it.each([
    { path: 'lib/app/violation.ts', from: '../adapters/kube/kube-cluster.js', says: /lib\/app must not import adapters/ },
    { path: 'lib/app/violation.ts', from: '../runner/local-runner.js', says: /lib\/app must not import adapters or drivers/ },
    { path: 'lib/app/violation.ts', from: '../cli/cli.js', says: /lib\/app must not import adapters or drivers/ },
    { path: 'lib/app/violation.ts', from: '../local-plane/control-plane.js', says: /lib\/app must not import adapters or drivers/ },
    { path: 'lib/app/violation.ts', from: '../../lambdas/shared/deps.js', says: /lib\/ never imports/ },
    { path: 'lib/app/violation.ts', from: '../../infra/config.js', says: /lib\/ never imports/ },
    { path: 'lib/app/violation.ts', from: '@aws-sdk/client-sqs', says: /I\/O libraries/ },
    { path: 'lib/events/violation.ts', from: '../app/ports.js', says: /lib\/events sits below lib\/app/ },
    { path: 'lib/core/violation.ts', from: '../app/errors.js', says: /lib\/core is the bottom layer/ },
    { path: 'lib/core/violation.ts', from: 'node:fs', says: /lib\/core is pure/ },
    { path: 'lib/runner/violation.ts', from: '../../test/support/pipeline.js', says: /lib\/ never imports/ },
    { path: 'lib/cli/violation.ts', from: '../../infra/manifests/generate.js', says: /lib\/ never imports/ },
    { path: 'lib/local-plane/violation.ts', from: '../../bench/lib/plane.js', says: /lib\/ never imports/ },
    { path: 'lib/config.ts', from: '../test/support/pipeline.js', says: /lib\/ never imports/ },
  ])('$path importing $from is an error', async ({ path, from, says }) => {
    const errors = await importErrors(path, `import * as m from '${from}';\nexport const x = m;\n`);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(says);
  });

  it('catches type-only imports and re-exports too', async () => {
    expect(await importErrors('lib/app/violation.ts', "import type { KubeCluster } from '../adapters/kube/kube-cluster.js';\nexport type K = KubeCluster;\n")).toHaveLength(1);
    expect(await importErrors('lib/events/violation.ts', "export type { ReconcileFn } from '../app/ports.js';\n")).toHaveLength(1);
  });

  it.each([
    { path: 'lib/app/allowed.ts', from: '../core/index.js' },
    { path: 'lib/app/allowed.ts', from: '../events/types.js' },
    { path: 'lib/app/allowed.ts', from: '../observability/ports.js' },
    { path: 'lib/adapters/kube/allowed.ts', from: '../../app/cluster-api.js' },
    { path: 'lib/runner/allowed.ts', from: '../adapters/kube/kube-cluster.js' },
    { path: 'lib/runner/allowed.ts', from: '../local-plane/control-plane.js' },
    { path: 'infra/allowed.ts', from: '../lib/manifests/render.js' },
    { path: 'test/unit/allowed.test.ts', from: '../../lib/adapters/kube/kube-cluster.js' },
  ])('$path importing $from is allowed', async ({ path, from }) => {
    expect(await importErrors(path, `import * as m from '${from}';\nexport const x = m;\n`)).toEqual([]);
  });
});
