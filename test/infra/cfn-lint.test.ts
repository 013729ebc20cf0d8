import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../infra/build-app.js';

describe('cfn-lint', () => {
  // Installs cfn-lint into ~/.cache/daemonless/pytools on first use (needs PyPI once), then
  // synthesizes two variants of the stack and lints both templates.
  it('finds nothing in the synthesized templates: no errors, no warnings (exit 0)', () => {
    const result = spawnSync(join(PROJECT_ROOT, 'infra/lint.sh'), [], {
      cwd: PROJECT_ROOT, encoding: 'utf8', timeout: 600_000,
    });
    expect(result.status, `${result.stdout}\n${result.stderr}`).toBe(0);
    expect(result.stderr).toMatch(/cfn-lint 1\.58\.0: no findings \(exit 0\)/);
  }, 600_000);

  it('fails on a template with warnings only (W3005: a DependsOn the GetAtt already implies)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'daemonless-lint-'));
    try {
      const file = join(dir, 'warning.template.json');
      writeFileSync(file, JSON.stringify({
        Resources: {
          Role: {
            Type: 'AWS::IAM::Role',
            Properties: {
              AssumeRolePolicyDocument: {
                Version: '2012-10-17',
                Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }],
              },
            },
          },
          Fn: {
            Type: 'AWS::Lambda::Function',
            DependsOn: ['Role'],
            Properties: {
              Runtime: 'nodejs24.x', Handler: 'index.handler', Role: { 'Fn::GetAtt': ['Role', 'Arn'] },
              Code: { ZipFile: 'exports.handler = async () => {};' },
            },
          },
        },
      }));
      const result = spawnSync(join(PROJECT_ROOT, 'infra/lint.sh'), [file], { cwd: PROJECT_ROOT, encoding: 'utf8', timeout: 600_000 });
      expect(result.status).toBe(1);
      expect(result.stdout).toMatch(/:W3005:/);
      expect(result.stdout).not.toMatch(/:E\d{4}:/);
      expect(result.stderr).toMatch(/cfn-lint: warnings or informational findings \(exit 4\)/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
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
