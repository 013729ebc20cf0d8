/**
 * The import graph between the repository's folders, and its cycles. TypeScript parses and resolves
 * the imports (type-only imports and re-exports included, `.js` specifiers mapped to `.ts` files as
 * the compiler maps them); this module only groups files into folders and finds the strongly
 * connected components.
 *
 * A file's folder: `lib/<name>` for everything under lib/ (a file directly in lib/ is its own
 * folder, e.g. `lib/config.ts`), otherwise the top-level folder (`test`, `bench`, `infra`, ...).
 */
import { readFileSync } from 'node:fs';
import { dirname, relative, sep } from 'node:path';
import ts from 'typescript';

/** One import from a file in `from` of a file in `to`. */
export interface FolderEdge {
  readonly from: string;
  readonly to: string;
  readonly fromFile: string;
  readonly toFile: string;
}

export function folderOf(relativePath: string): string {
  const parts = relativePath.split('/');
  if (parts[0] === 'lib' && parts.length >= 2) return `lib/${parts[1]}`;
  return parts.length === 1 ? relativePath : (parts[0] ?? relativePath);
}

/** The TypeScript files of the project at `root` (its tsconfig.json) and the compiler options. */
export function projectFiles(root: string): { files: string[]; options: ts.CompilerOptions } {
  const configPath = `${root}/tsconfig.json`;
  const read = ts.readConfigFile(configPath, (p) => readFileSync(p, 'utf8'));
  if (read.error) throw new Error(ts.flattenDiagnosticMessageText(read.error.messageText, '\n'));
  const parsed = ts.parseJsonConfigFileContent(read.config, ts.sys, dirname(configPath));
  return { files: parsed.fileNames.filter((f) => !f.endsWith('.d.ts')), options: parsed.options };
}

/** Every import between two different folders, one edge per (file, imported file). */
export function folderEdges(root: string, files: readonly string[], options: ts.CompilerOptions): FolderEdge[] {
  const rel = (f: string) => relative(root, f).split(sep).join('/');
  const edges: FolderEdge[] = [];
  for (const file of files) {
    const fromFile = rel(file);
    if (fromFile.startsWith('..') || fromFile.includes('node_modules/')) continue;
    const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    for (const imported of importedFiles) {
      const resolved = ts.resolveModuleName(imported.fileName, file, options, ts.sys).resolvedModule;
      if (!resolved || resolved.isExternalLibraryImport) continue;
      const toFile = rel(resolved.resolvedFileName);
      if (toFile.startsWith('..') || toFile.includes('node_modules/')) continue;
      const from = folderOf(fromFile);
      const to = folderOf(toFile);
      if (from !== to) edges.push({ from, to, fromFile, toFile });
    }
  }
  return edges;
}

/**
 * Groups of folders that import each other, directly or through others (Tarjan's strongly
 * connected components of size > 1), each with the edges inside it.
 */
export function folderCycles(edges: readonly FolderEdge[]): { folders: string[]; edges: FolderEdge[] }[] {
  const next = new Map<string, Set<string>>();
  for (const e of edges) {
    if (!next.has(e.from)) next.set(e.from, new Set());
    if (!next.has(e.to)) next.set(e.to, new Set());
    next.get(e.from)!.add(e.to);
  }
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    onStack.add(v);
    for (const w of [...next.get(v)!].sort()) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1) components.push(component.sort());
    }
  };
  for (const v of [...next.keys()].sort()) if (!index.has(v)) visit(v);
  return components.map((folders) => ({
    folders,
    edges: edges.filter((e) => folders.includes(e.from) && folders.includes(e.to)),
  }));
}

/** One line per cycle, naming one import for each direction, for a failure message. */
export function describeCycles(cycles: ReturnType<typeof folderCycles>): string[] {
  return cycles.map((c) => {
    const seen = new Map<string, FolderEdge>();
    for (const e of c.edges) if (!seen.has(`${e.from}>${e.to}`)) seen.set(`${e.from}>${e.to}`, e);
    return `${c.folders.join(' ⇄ ')}: ${[...seen.values()].map((e) => `${e.fromFile} → ${e.toFile}`).join('; ')}`;
  });
}
