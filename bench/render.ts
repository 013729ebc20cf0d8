/**
 * Writes a run's report files into bench/results/: latest.json, latest.md (with the previous runs
 * from history.jsonl) and the SVG charts; run-all appends the run to history.jsonl. Run alone, it
 * renders latest.md and the charts again from the committed latest.json (after a change of the
 * report's layout), without measuring or appending anything:
 *
 *   npx tsx bench/render.ts
 */
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { charts, renderChart } from './charts.js';
import { formatHistoryLine, historyEntry, HISTORY_FILE, parseHistory } from './history.js';
import { renderMarkdown } from './report.js';
import type { AllResults } from './results.js';

export const RESULTS_DIR = join(dirname(fileURLToPath(import.meta.url)), 'results');

export function readHistory(dir = RESULTS_DIR): ReturnType<typeof parseHistory> {
  const file = join(dir, HISTORY_FILE);
  return existsSync(file) ? parseHistory(readFileSync(file, 'utf8')) : [];
}

/** latest.json, latest.md and the charts; with `appendHistory`, the run's line in history.jsonl too. Returns the files written. */
export function writeResults(all: AllResults, options: { appendHistory: boolean; dir?: string }): string[] {
  const dir = options.dir ?? RESULTS_DIR;
  const history = readHistory(dir);
  const files: string[] = [];
  const write = (name: string, text: string): void => {
    writeFileSync(join(dir, name), text);
    files.push(name);
  };
  write('latest.json', `${JSON.stringify(all, null, 2)}\n`);
  write('latest.md', renderMarkdown(all, history));
  for (const c of charts(all)) write(c.file, renderChart(c));
  if (options.appendHistory && !history.some((e) => e.date === all.machine.date)) {
    appendFileSync(join(dir, HISTORY_FILE), formatHistoryLine(historyEntry(all)));
    files.push(HISTORY_FILE);
  }
  return files;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const all = JSON.parse(readFileSync(join(RESULTS_DIR, 'latest.json'), 'utf8')) as AllResults;
  const files = writeResults(all, { appendHistory: false });
  process.stdout.write(`wrote ${files.map((f) => `bench/results/${f}`).join(', ')}\n`);
}
