/**
 * bench/results/history.jsonl: one line per benchmark run (append-only), with the scale goals as the
 * report rendered them, so every report shows the previous run's numbers beside its own and a
 * table of the runs before it.
 */
import { goalRows, type GoalId } from './goals.js';
import type { AllResults } from './results.js';

export const HISTORY_FILE = 'history.jsonl';

export interface HistoryGoal {
  readonly measured: string;
  readonly upstream: string;
  readonly ratio: string;
  readonly met: boolean | null;
}

export interface HistoryEntry {
  readonly date: string;
  readonly commit: string;
  readonly mode: 'quick' | 'full';
  /** Simulated nodes of the timed races. */
  readonly nodes: number;
  readonly durationSeconds: number;
  readonly loadAverage: readonly number[];
  readonly goals: Partial<Record<GoalId, HistoryGoal>>;
}

export function historyEntry(r: AllResults): HistoryEntry {
  const goals: Partial<Record<GoalId, HistoryGoal>> = {};
  for (const g of goalRows(r)) goals[g.id] = { measured: g.measured, upstream: g.upstream, ratio: g.ratio, met: g.met };
  return {
    date: r.machine.date, commit: r.machine.gitCommit, mode: r.mode, nodes: r.nodeJoin?.baseNodes ?? r.converge?.nodes ?? 0,
    durationSeconds: r.durationSeconds, loadAverage: r.machine.loadAverage, goals,
  };
}

/** Parses the file's lines (blank lines skipped); a line that is not an entry is an error naming it. */
export function parseHistory(text: string): HistoryEntry[] {
  const out: HistoryEntry[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    let e: unknown;
    try {
      e = JSON.parse(line);
    } catch (err) {
      throw new Error(`${HISTORY_FILE}:${i + 1}: not JSON: ${err instanceof Error ? err.message : String(err)}`);
    }
    const x = e as Partial<HistoryEntry>;
    if (typeof x.date !== 'string' || typeof x.commit !== 'string' || (x.mode !== 'quick' && x.mode !== 'full') || typeof x.goals !== 'object' || x.goals === null) {
      throw new Error(`${HISTORY_FILE}:${i + 1}: not a history entry (want date, commit, mode, goals)`);
    }
    out.push(x as HistoryEntry);
  });
  return out;
}

export const formatHistoryLine = (e: HistoryEntry): string => `${JSON.stringify(e)}\n`;

/** The runs before this one (older dates), oldest first. */
export const earlierRuns = (history: readonly HistoryEntry[], r: AllResults): HistoryEntry[] =>
  history.filter((e) => e.date < r.machine.date).sort((a, b) => a.date.localeCompare(b.date));

/** The run to compare with: the latest earlier run of the same mode and size. */
export function previousRun(history: readonly HistoryEntry[], r: AllResults): HistoryEntry | undefined {
  const nodes = r.nodeJoin?.baseNodes ?? r.converge?.nodes ?? 0;
  return earlierRuns(history, r).filter((e) => e.mode === r.mode && e.nodes === nodes).pop();
}
