/** Logger and metrics that keep what they receive: for tests and for the local runner's counters. */
import type { AppLogger, AppMetrics, LogFields, MetricName } from './ports.js';

export interface LogLine {
  readonly level: 'debug' | 'info' | 'warn' | 'error';
  readonly message: string;
  readonly fields: LogFields;
}

export class RecordingLogger implements AppLogger {
  constructor(readonly lines: LogLine[] = [], private readonly keys: LogFields = {}, private readonly sink?: (line: LogLine) => void) {}
  debug(message: string, fields?: LogFields): void { this.#add('debug', message, fields); }
  info(message: string, fields?: LogFields): void { this.#add('info', message, fields); }
  warn(message: string, fields?: LogFields): void { this.#add('warn', message, fields); }
  error(message: string, fields?: LogFields): void { this.#add('error', message, fields); }
  child(keys: LogFields): AppLogger { return new RecordingLogger(this.lines, { ...this.keys, ...keys }, this.sink); }
  #add(level: LogLine['level'], message: string, fields?: LogFields): void {
    const line = { level, message, fields: { ...this.keys, ...fields } };
    this.lines.push(line);
    this.sink?.(line);
  }
}

export class RecordingMetrics implements AppMetrics {
  readonly counts = new Map<MetricName, number>();
  readonly timings = new Map<MetricName, number[]>();
  count(name: MetricName, value = 1): void { this.counts.set(name, (this.counts.get(name) ?? 0) + value); }
  timing(name: MetricName, ms: number): void { this.timings.set(name, [...(this.timings.get(name) ?? []), ms]); }
  get(name: MetricName): number { return this.counts.get(name) ?? 0; }
}
