import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { describeCycles, folderCycles, folderEdges, folderOf, projectFiles } from '../../support/folder-graph.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

describe('imports between folders', () => {
  it('form no cycle in the repository', () => {
    const { files, options } = projectFiles(repoRoot);
    const edges = folderEdges(repoRoot, files, options);
    // The graph is real: the shell imports the core, and adapters import the shell's ports.
    expect(edges.some((e) => e.from === 'lib/app' && e.to === 'lib/core')).toBe(true);
    expect(edges.some((e) => e.from === 'lib/adapters' && e.to === 'lib/app')).toBe(true);
    expect(describeCycles(folderCycles(edges))).toEqual([]);
  });

  it('point from lib/app to lib/events and never back', () => {
    const { files, options } = projectFiles(repoRoot);
    const edges = folderEdges(repoRoot, files, options);
    expect(edges.some((e) => e.from === 'lib/app' && e.to === 'lib/events')).toBe(true);
    expect(edges.filter((e) => e.from === 'lib/events' && e.to === 'lib/app')).toEqual([]);
  });

  describe('on a project with a cycle', () => {
    const root = mkdtempSync(join(tmpdir(), 'daemonless-cycle-'));
    afterAll(() => rmSync(root, { recursive: true, force: true }));
    const write = (path: string, text: string) => {
      mkdirSync(dirname(join(root, path)), { recursive: true });
      writeFileSync(join(root, path), text);
    };
    write('tsconfig.json', JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', strict: true }, include: ['lib'] }));
    // lib/app → lib/events through one file, lib/events → lib/app through another: no file imports
    // itself back, but the folders do; and a type-only import counts.
    write('lib/app/shell.ts', "import { key } from '../events/keys.js';\nexport const shell = key;\n");
    write('lib/app/ports.ts', 'export interface Port { readonly name: string }\n');
    write('lib/events/keys.ts', 'export const key = "ns/name";\n');
    write('lib/events/map.ts', "import type { Port } from '../app/ports.js';\nexport const map = (p: Port) => p.name;\n");
    write('lib/core/pure.ts', 'export const pure = 1;\n');
    write('lib/cli/main.ts', "export { pure } from '../core/pure.js';\n");

    it('reports the cycle with one import for each direction', () => {
      const { files, options } = projectFiles(root);
      const cycles = folderCycles(folderEdges(root, files, options));
      expect(cycles.map((c) => c.folders)).toEqual([['lib/app', 'lib/events']]);
      expect(describeCycles(cycles)).toEqual([
        'lib/app ⇄ lib/events: lib/app/shell.ts → lib/events/keys.ts; lib/events/map.ts → lib/app/ports.ts',
      ]);
    });
  });

  it('groups files by lib/<folder>, a file directly in lib/ by itself, anything else by its top folder', () => {
    expect(['lib/app/x.ts', 'lib/adapters/kube/y.ts', 'lib/config.ts', 'test/unit/a.test.ts', 'bench/lib/plane.ts', 'vitest.config.ts'].map(folderOf))
      .toEqual(['lib/app', 'lib/adapters', 'lib/config.ts', 'test', 'bench', 'vitest.config.ts']);
  });
});
