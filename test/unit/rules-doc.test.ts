/**
 * docs/rules.md is the one place where rule and scenario IDs are defined. This test keeps it and
 * the code honest in both directions: every ID cited under lib/, lambdas/, infra/, test/ or bench/
 * is defined there, every ID defined there is cited somewhere, every definition names the file(s)
 * that implement or test it and those files exist, and every bare `§N` in the code names a
 * section of the document.
 *
 * What counts as an ID: an upper-case prefix, a dash and a number (`PREFIX-12`, optionally one
 * lower-case letter: `PREFIX-9a`). Shorthands cite every ID they cover: `PREFIX-1..3` cites 1, 2
 * and 3; `PREFIX-3/4` cites 3 and 4. Names of standards that look the same (SHA-256, UTF-8, …) are
 * listed in NOT_IDS; a new look-alike fails this test until it is defined or listed there.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const DOC = 'docs/rules.md';
const SCANNED = ['lib', 'lambdas', 'infra', 'test', 'bench'];
const SKIP_DIRS = new Set(['node_modules', 'cdk.out', 'dist', '.out', '.cluster']);
const TEXT_FILE = /\.(ts|mts|cts|js|mjs|cjs|json|ya?ml|md|sh|go|mod|xml|env|template|txt)$/;
/** This file talks about IDs in the abstract; its examples are not citations. */
const SELF = 'test/unit/rules-doc.test.ts';

/** Tokens shaped like IDs that are names of standards or algorithms. */
const NOT_IDS: ReadonlySet<string> = new Set(['SHA-256', 'UTF-8', 'P-256', 'FNV-32a']);

const ID_TOKEN = /(?<![A-Za-z0-9_-])([A-Z]+)-(\d+)([a-z]?)(?![A-Za-z0-9_])((?:(?:\.\.|\/)\d+(?![A-Za-z0-9_-]))*)/g;

/** The IDs a text cites, shorthands expanded, look-alikes dropped. */
function citedIds(text: string): Set<string> {
  const out = new Set<string>();
  for (const m of text.matchAll(ID_TOKEN)) {
    const [, prefix, num, letter, tail] = m as unknown as [string, string, string, string, string];
    const first = `${prefix}-${num}${letter}`;
    if (NOT_IDS.has(first)) continue;
    out.add(first);
    let last = Number(num);
    for (const part of tail.match(/(\.\.|\/)\d+/g) ?? []) {
      const n = Number(part.replace(/^(\.\.|\/)/, ''));
      if (part.startsWith('..')) for (let i = last + 1; i <= n; i++) out.add(`${prefix}-${i}`);
      else out.add(`${prefix}-${n}`);
      last = n;
    }
  }
  return out;
}

/** One definition line of the rules document: `- **ID** text … \`path\` …`. */
interface Definition {
  readonly id: string;
  readonly line: number;
  readonly files: readonly string[];
}

const DEFINITION = /^- \*\*([A-Z]+-\d+[a-z]?)\*\*\s+(.*)$/;
const REPO_PATH = /^(lib|lambdas|infra|test|bench|docs|bin)\/[\w./-]*\w\.\w+$/;

/** The definitions of the rules document, in order (duplicates included, to be reported). */
function definitions(doc: string): Definition[] {
  const out: Definition[] = [];
  doc.split('\n').forEach((text, i) => {
    const m = DEFINITION.exec(text);
    if (!m) return;
    const files = [...(m[2] ?? '').matchAll(/`([^`]+)`/g)].map((f) => f[1] ?? '').filter((f) => REPO_PATH.test(f));
    out.push({ id: m[1] ?? '', line: i + 1, files });
  });
  return out;
}

/** Section numbers of the document's headings (`## §7 …`). */
function sections(doc: string): Set<string> {
  return new Set([...doc.matchAll(/^#{2,4} §(\d+)\b/gm)].map((m) => m[1] ?? ''));
}

/** `§N` references in a text that point at the rules document (bare, or after `rules.md`). */
function sectionRefs(text: string): Set<string> {
  const out = new Set<string>();
  for (const m of text.matchAll(/(\S+\s)?§\s?(\d+)/g)) {
    const before = m[1]?.trim() ?? '';
    if (/\.md$/.test(before) && !/(^|\/)rules\.md$/.test(before)) continue;
    out.add(m[2] ?? '');
  }
  return out;
}

interface Source {
  readonly path: string;
  readonly text: string;
}

/** Everything wrong between the document and the sources; empty when they agree. */
function checkRules(doc: string, sources: readonly Source[], fileExists: (path: string) => boolean): string[] {
  const problems: string[] = [];
  const defs = definitions(doc);
  const defined = new Map<string, Definition>();
  for (const d of defs) {
    if (defined.has(d.id)) problems.push(`${DOC}:${d.line}: ${d.id} is defined twice (first on line ${defined.get(d.id)?.line})`);
    else defined.set(d.id, d);
    if (d.files.length === 0) problems.push(`${DOC}:${d.line}: ${d.id} names no file of the repository in backticks`);
    for (const f of d.files) if (!fileExists(f)) problems.push(`${DOC}:${d.line}: ${d.id} names ${f}, which does not exist`);
  }
  const citedBy = new Map<string, string[]>();
  const docSections = sections(doc);
  for (const s of sources) {
    for (const id of citedIds(s.text)) citedBy.set(id, [...(citedBy.get(id) ?? []), s.path]);
    for (const n of sectionRefs(s.text)) {
      if (!docSections.has(n)) problems.push(`${s.path} cites §${n}, which is not a section of ${DOC}`);
    }
  }
  for (const [id, paths] of [...citedBy].sort(([a], [b]) => a.localeCompare(b))) {
    if (!defined.has(id)) problems.push(`${id} is cited (${paths.slice(0, 3).join(', ')}${paths.length > 3 ? ', …' : ''}) but not defined in ${DOC}`);
  }
  for (const d of defined.values()) {
    if (!citedBy.has(d.id)) problems.push(`${DOC}:${d.line}: ${d.id} is defined but nothing under ${SCANNED.join('/, ')}/ cites it`);
  }
  return problems;
}

function walk(dir: string, out: string[]): void {
  for (const entry of readdirSync(dir)) {
    if (SKIP_DIRS.has(entry)) continue;
    const full = join(dir, entry);
    if (statSync(full).isDirectory()) walk(full, out);
    else if (TEXT_FILE.test(entry)) out.push(full);
  }
}

function repositorySources(): Source[] {
  const files: string[] = [];
  for (const d of SCANNED) if (existsSync(join(ROOT, d))) walk(join(ROOT, d), files);
  return files
    .map((f) => ({ path: relative(ROOT, f).split('\\').join('/'), text: readFileSync(f, 'utf8') }))
    .filter((s) => s.path !== SELF);
}

describe('docs/rules.md', () => {
  it('defines every cited ID, and only cited ones, each with existing files; § references resolve', () => {
    const doc = readFileSync(join(ROOT, DOC), 'utf8');
    const problems = checkRules(doc, repositorySources(), (p) => existsSync(join(ROOT, p)));
    expect(problems).toEqual([]);
    // Sanity: the scan sees the planner's citations at all.
    expect(definitions(doc).length).toBeGreaterThan(100);
  });

  describe('the check itself', () => {
    const doc = [
      '## §7 Manage',
      '- **MANAGE-1** creates. `lib/core/manage.ts`',
      '- **MANAGE-2** continues. `lib/core/manage.ts`',
      '- **S-01** one pod per node. `test/unit/core/scheduling.test.ts`',
    ].join('\n');
    const exists = (p: string): boolean => p.startsWith('lib/core/') || p.startsWith('test/unit/');

    it('passes when citations and definitions agree', () => {
      const sources = [{ path: 'lib/a.ts', text: '// Manage (§7): MANAGE-1/2' }, { path: 'test/b.ts', text: "it('S-01 …')" }];
      expect(checkRules(doc, sources, exists)).toEqual([]);
    });

    it('fails on an ID cited but not defined, including one inside a range', () => {
      const problems = checkRules(doc, [{ path: 'lib/a.ts', text: 'MANAGE-1..3, S-01' }], exists);
      expect(problems).toEqual(['MANAGE-3 is cited (lib/a.ts) but not defined in docs/rules.md']);
    });

    it('fails on an ID defined but cited nowhere', () => {
      const problems = checkRules(doc, [{ path: 'lib/a.ts', text: 'MANAGE-1 MANAGE-2' }], exists);
      expect(problems).toEqual(['docs/rules.md:4: S-01 is defined but nothing under lib/, lambdas/, infra/, test/, bench/ cites it']);
    });

    it('fails on a definition whose file is missing or that names none, and on a duplicate', () => {
      const bad = `${doc}\n- **MANAGE-1** again. \`lib/core/manage.ts\`\n- **MAP-1** somewhere. \`lib/gone.ts\`\n- **MAP-2** nowhere.`;
      const problems = checkRules(bad, [{ path: 'lib/a.ts', text: 'MANAGE-1/2 S-01 MAP-1 MAP-2' }], exists);
      expect(problems).toEqual([
        'docs/rules.md:5: MANAGE-1 is defined twice (first on line 2)',
        'docs/rules.md:6: MAP-1 names lib/gone.ts, which does not exist',
        'docs/rules.md:7: MAP-2 names no file of the repository in backticks',
      ]);
    });

    it('fails on a § reference to a section the document lacks; other documents\' sections are not checked', () => {
      const sources = [{ path: 'lib/a.ts', text: 'MANAGE-1/2 S-01 (§8) (ecosystem.md §6) (docs/rules.md §9)' }];
      expect(checkRules(doc, sources, exists)).toEqual([
        'lib/a.ts cites §8, which is not a section of docs/rules.md',
        'lib/a.ts cites §9, which is not a section of docs/rules.md',
      ]);
    });

    it('reads shorthands and ignores look-alikes', () => {
      expect([...citedIds('FAIL-1..3, RUNS-1/2, REQ-2/REQ-3, SHA-256 UTF-8 FNV-32a HMAC-SHA256 S-09a node-S-1')].sort()).toEqual([
        'FAIL-1', 'FAIL-2', 'FAIL-3', 'REQ-2', 'REQ-3', 'RUNS-1', 'RUNS-2', 'S-09a',
      ]);
    });
  });
});
