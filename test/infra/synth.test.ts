import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../infra/build-app.js';

/** The environment of a machine without AWS access: no credentials, no profile, no telemetry. */
function offlineEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const key of Object.keys(env)) if (key.startsWith('AWS_') || key.startsWith('CDK_')) delete env[key];
  return {
    ...env,
    AWS_CONFIG_FILE: '/nonexistent/aws-config',
    AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/aws-credentials',
    AWS_EC2_METADATA_DISABLED: 'true',
    CDK_DISABLE_CLI_TELEMETRY: 'true',
    ...extra,
  };
}

const outDirs: string[] = [];
afterAll(() => {
  for (const dir of outDirs) rmSync(dir, { recursive: true, force: true });
});

describe('cdk synth (offline, real esbuild bundling)', () => {
  it('synthesizes the app with no AWS credentials and bundles ESM handlers locally', () => {
    const out = mkdtempSync(join(tmpdir(), 'daemonless-synth-'));
    outDirs.push(out);
    const started = performance.now();
    const result = spawnSync('npx', ['cdk', 'synth', '--no-notices', '--quiet', '-o', out], {
      cwd: PROJECT_ROOT, env: offlineEnv(), encoding: 'utf8', timeout: 180_000,
    });
    const seconds = (performance.now() - started) / 1000;
    expect(result.status, `${result.stdout}\n${result.stderr}`).toBe(0);
    expect(result.stderr).not.toMatch(/docker/i);
    console.info(`cdk synth with bundling took ${seconds.toFixed(1)} s`);

    const template = JSON.parse(readFileSync(join(out, 'Daemonless.template.json'), 'utf8')) as {
      Resources: Record<string, { Type: string }>;
    };
    expect(Object.values(template.Resources).filter((r) => r.Type === 'AWS::Lambda::Function')).toHaveLength(3);

    const assets = readdirSync(out).filter((name) => name.startsWith('asset.'));
    expect(assets).toHaveLength(3);
    for (const asset of assets) {
      const files = readdirSync(join(out, asset)).sort();
      expect(files).toEqual(['index.mjs', 'index.mjs.map']);
      const code = readFileSync(join(out, asset, 'index.mjs'), 'utf8');
      expect(code.startsWith("import { createRequire as __daemonlessCreateRequire } from 'node:module';")).toBe(true);
      // Minified, yet errors keep their class names in the logs (esbuild keepNames).
      expect(code).toContain('"TransientError"');
      // client-node's undici transport is left out (ESBUILD_ALIAS): none of undici's HTTP parsers.
      expect(code).not.toContain('llhttp');
      // node:http comes through a CommonJS shim, not an ES module import (whose facade loads Node's undici).
      expect(code).not.toMatch(/from\s*"(node:)?http"/);
      // The source map maps positions; the sources' text is left out (ESBUILD_SOURCES_CONTENT).
      const map = JSON.parse(readFileSync(join(out, asset, 'index.mjs.map'), 'utf8')) as { mappings: string; sourcesContent?: unknown };
      expect(map.mappings.length).toBeGreaterThan(0);
      expect(map.sourcesContent).toBeUndefined();
      // The bundle loads as ESM on this Node (the runtime's major) and exports the handler.
      const loaded = spawnSync(process.execPath, ['--input-type=module', '-e',
        `const m = await import(${JSON.stringify(join(out, asset, 'index.mjs'))}); console.log(typeof m.handler);`], {
        cwd: tmpdir(), env: offlineEnv(), encoding: 'utf8', timeout: 60_000,
      });
      expect(loaded.stdout.trim(), loaded.stderr).toBe('function');
    }
  });

  it('exits non-zero and lists every bad context value at once', () => {
    const out = mkdtempSync(join(tmpdir(), 'daemonless-synth-'));
    outDirs.push(out);
    // The CLI hands the app its context this way; running the app directly keeps the test fast.
    const context = { 'daemonless:maxReceiveCount': '0', 'daemonless:logLevel': 'loud', 'daemonless:resyncIntervalMinutes': 'often' };
    const result = spawnSync('npx', ['tsx', 'infra/app.ts'], {
      cwd: PROJECT_ROOT, env: offlineEnv({ CDK_CONTEXT_JSON: JSON.stringify(context), CDK_OUTDIR: out }), encoding: 'utf8', timeout: 120_000,
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/3 problems/);
    for (const key of Object.keys(context)) expect(result.stderr).toContain(`${key}:`);
  });
});
