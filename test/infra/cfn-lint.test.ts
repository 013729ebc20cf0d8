import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../infra/build-app.js';

describe('cfn-lint', () => {
  // Installs cfn-lint into ~/.cache/daemonless/pytools on first use (needs PyPI once), then
  // synthesizes two variants of the stack and lints both templates.
  it('finds no errors in the synthesized templates', () => {
    const result = spawnSync(join(PROJECT_ROOT, 'infra/lint.sh'), [], {
      cwd: PROJECT_ROOT, encoding: 'utf8', timeout: 600_000,
    });
    expect(result.status, `${result.stdout}\n${result.stderr}`).toBe(0);
    expect(result.stderr).toMatch(/cfn-lint 1\.58\.0: no errors/);
  }, 600_000);

  it('fails on a template with errors', () => {
    const dir = mkdtempSync(join(tmpdir(), 'daemonless-lint-'));
    try {
      const file = join(dir, 'broken.template.json');
      writeFileSync(file, JSON.stringify({
        Resources: { Fn: { Type: 'AWS::Lambda::Function', Properties: { Runtime: 'nodejs4.x', Handler: 'index.handler' } } },
      }));
      const result = spawnSync(join(PROJECT_ROOT, 'infra/lint.sh'), [file], { cwd: PROJECT_ROOT, encoding: 'utf8', timeout: 600_000 });
      expect(result.status).toBe(1);
      expect(result.stdout).toMatch(/:E\d{4}:/);
      expect(result.stderr).toMatch(/cfn-lint: errors/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 600_000);
});
