/** Command-line flags of the benchmark scripts: `--name value` / `--name=value`, and boolean `--flag`. */
export interface Flags {
  readonly quick: boolean;
  number(name: string, fallback: number, quickFallback?: number): number;
  string(name: string, fallback: string): string;
  bool(name: string): boolean;
}

export function parseFlags(argv: readonly string[] = process.argv.slice(2)): Flags {
  const values = new Map<string, string>();
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i] ?? '';
    if (!arg.startsWith('--')) continue;
    const eq = arg.indexOf('=');
    if (eq > 0) {
      values.set(arg.slice(2, eq), arg.slice(eq + 1));
    } else {
      const next = argv[i + 1];
      if (next !== undefined && !next.startsWith('--')) {
        values.set(arg.slice(2), next);
        i += 1;
      } else {
        values.set(arg.slice(2), 'true');
      }
    }
  }
  const quick = values.get('quick') === 'true';
  return {
    quick,
    number(name, fallback, quickFallback) {
      const raw = values.get(name);
      if (raw === undefined) return quick && quickFallback !== undefined ? quickFallback : fallback;
      const n = Number(raw);
      if (!Number.isFinite(n)) throw new Error(`--${name}: not a number: ${raw}`);
      return n;
    },
    string(name, fallback) {
      return values.get(name) ?? fallback;
    },
    bool(name) {
      return values.get(name) === 'true';
    },
  };
}

export const log = (line: string): void => {
  process.stderr.write(`${new Date().toISOString().slice(11, 23)} ${line}\n`);
};

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Runs `fn` over `items` with at most `limit` calls in flight. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next;
      next += 1;
      out[i] = await fn(items[i] as T, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length) - 1;
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))] as number;
}

/** At most `max` points of a time series: every k-th point, and always the last. */
export function thin<T>(points: readonly T[], max = 300): T[] {
  if (points.length <= max) return [...points];
  const step = Math.ceil(points.length / max);
  const out = points.filter((_, i) => i % step === 0);
  const last = points[points.length - 1] as T;
  if (out[out.length - 1] !== last) out.push(last);
  return out;
}
