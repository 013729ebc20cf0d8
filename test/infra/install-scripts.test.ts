/**
 * npm runs a dependency's install scripts only when package.json `allowScripts` approves it (npm 12
 * default; npm 11 with --strict-allow-scripts, as .ci/run installs). Two dependencies need theirs:
 * `node` (its preinstall links the Node 24 binary the project runs on) and `esbuild` (its
 * postinstall checks the platform binary the CDK bundling uses). Without approval `npm ci` either
 * fails or leaves neither behind.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../infra/build-app.js';

interface LockEntry { readonly version?: string; readonly hasInstallScript?: boolean; readonly optional?: boolean }

const pkg = JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as {
  allowScripts?: Record<string, boolean>;
  devDependencies: Record<string, string>;
};
const lock = JSON.parse(readFileSync(join(PROJECT_ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> };

/** Name of a lockfile entry (`node_modules/a/node_modules/@s/b` → `@s/b`). */
const nameOf = (path: string): string => path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length);

/** What npm matches an allowScripts key against: `name` (any version) or `name@version`. */
function decision(name: string, version: string | undefined): boolean | undefined {
  const allow = pkg.allowScripts ?? {};
  return allow[`${name}@${version ?? ''}`] ?? allow[name];
}

describe('install scripts (package.json allowScripts)', () => {
  const withScripts = Object.entries(lock.packages)
    .filter(([path, entry]) => path !== '' && entry.hasInstallScript === true)
    .map(([path, entry]) => ({ name: nameOf(path), version: entry.version }));

  it('approves or denies every locked package that has an install script', () => {
    expect(withScripts.length).toBeGreaterThan(0);
    const unreviewed = withScripts.filter((p) => decision(p.name, p.version) === undefined).map((p) => `${p.name}@${p.version ?? '?'}`);
    expect(unreviewed).toEqual([]);
  });

  it('lets the scripts the set-up depends on run: node (Node 24 binary) and esbuild (bundling)', () => {
    for (const name of ['node', 'esbuild']) {
      expect(withScripts.map((p) => p.name)).toContain(name);
      expect(decision(name, lock.packages[`node_modules/${name}`]?.version)).toBe(true);
    }
    expect(pkg.devDependencies.node).toMatch(/^24\.\d+\.\d+$/);
  });

  it('lists no package that is not in the lockfile (stale approvals)', () => {
    const locked = new Set(withScripts.map((p) => p.name));
    const stale = Object.keys(pkg.allowScripts ?? {}).map((k) => k.replace(/(?<=.)@[^@/]+$/, '')).filter((name) => !locked.has(name));
    expect(stale).toEqual([]);
  });
});
